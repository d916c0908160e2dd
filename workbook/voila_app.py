"""The Voilà server that ``workbook serve`` starts: Voilà 0.5 with the app's own front door.

``workbook serve`` checks its options and then replaces itself with::

    python -m workbook.voila_app NOTEBOOKS --port=N --Voila.ip=HOST --no-browser

passing what must not appear on a command line (the token, which other users of the
machine could read with ``ps``) in the ``WORKBOOK_SERVE`` environment variable, as JSON.
That variable is removed before any kernel starts.

What this adds to Voilà (see "Security settings" in the README for the reasons):

- The port is bound before anything else. If it is taken, the server stops with one line
  naming it (Voilà would quietly move to another port, so the printed address would open
  whatever program holds the first one). The address is printed only once the port is ours.
- Every request (page, API, static file, websocket) whose ``Host`` is not one of this
  server's own names with its port, or whose ``Origin`` (when sent) is not, gets 403. This
  stops DNS rebinding: Voilà hard-codes ``allow_remote_access=True``, so Jupyter's own
  Host check is off, and a page from another site could otherwise drive the app.
- A token is always required. A tokenised address sets the login cookie and is then
  redirected to the same address without the token, so the token does not stay in the
  address bar, in the history or in links that get copied.
- ``/`` and ``/voila/tree`` redirect to the start page; Voilà's file list (which loads a
  stylesheet from a CDN) and its contents API are not served.
- A page's response sets the ``_xsrf`` cookie, so the request Voilà's page sends when its
  tab closes (``POST /voila/api/shutdown/<kernel>`` with that cookie's value) passes the
  XSRF check and the tab's kernel is shut down at once instead of idling until culled.
- ``GET /api/kernels`` lists the running kernels (read-only, token or cookie required).
- The websocket a preheated kernel reads its page's request from is moved under a secret
  prefix that only the kernels know (see ``initialize``).

As a JupyterHub managed service (``workbook serve --hub-service``, one server for a whole
team): the hub's login (OAuth, ``jupyterhub.singleuser.extension.JupyterHubIdentityProvider``)
replaces the token; the service lives under ``JUPYTERHUB_SERVICE_PREFIX``; every page request
carries the hub user who opened it, signed for the page's kernel
(:mod:`workbook.voila_identity`); and each page's kernel belongs to the person whose page
started it: its websocket, its API and its shutdown answer nobody else (403), and
``/api/kernels`` lists only one's own. Without that, anyone logged in could list the kernels
and send widget messages to someone else's page, acting in that person's name and role.
The hub's API token is read once and removed from the environment before any kernel starts.
"""

from __future__ import annotations

import contextvars
import errno
import inspect
import json
import os
import secrets
import socket
import sys
from urllib.parse import parse_qsl, urlencode

import tornado.httpserver
import tornado.ioloop
import tornado.web
from jupyter_client.jsonutil import json_default
from jupyter_server.auth.decorator import authorized
from jupyter_server.services.kernels.handlers import KernelHandler, MainKernelHandler
from jupyter_server.utils import url_path_join
from tornado.routing import Matcher, Rule
from traitlets import Any, Dict, TraitError, default
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from workbook.serve import SETTINGS_ENV, START_PAGE, Origins, is_loopback
from workbook.server_identity import KEY_ENV, MODE_ENV, Vouched, clean
from workbook.voila_identity import install


def bind(port: int, host: str) -> list[socket.socket]:
    """The listening sockets, or one line on stderr and exit 1 if the port is not free."""
    from tornado.netutil import bind_sockets

    try:
        return bind_sockets(port, host or None)
    except OSError as exc:
        where = f"{host}:{port}" if host else f"port {port}"
        if exc.errno == errno.EADDRINUSE:
            reason = f"port {port} is already in use by another program"
            advice = "stop that program or choose another port with --port (make app PORT=...)"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            reason = f"no permission to listen on port {port}"
            advice = "choose a port above 1023 with --port"
        elif exc.errno == errno.EADDRNOTAVAIL:
            reason = f"{host!r} is not an address of this machine"
            advice = "use --host 127.0.0.1"
        else:
            reason = exc.strerror or str(exc)
            advice = "choose another --host or --port"
        print(f"Error: cannot serve on {where}: {reason}; {advice}", file=sys.stderr)
        raise SystemExit(1) from None


# ---------------------------------------------------------------------------------------
# handlers


class _Foreign(Matcher):
    """Matches every request that does not come to one of this server's own names."""

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def match(self, request):  # type: ignore[no-untyped-def]
        headers = request.headers
        if self.origins.host_ok(headers.get("Host")) and self.origins.origin_ok(
            headers.get("Origin")
        ):
            return None
        return {}


class _Refused(tornado.web.RequestHandler):
    """403 for any method, websocket upgrades included, before anything else runs."""

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403 Forbidden: this server answers only to its own address.\n")


class _StartRedirect(tornado.web.RedirectHandler):
    """``/`` and ``/voila/tree``: to the start page, keeping the query (a ``?token=``)."""


_SIGN_IN = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Access token needed: Data Ethics Workbook</title>
<style>
body { font-family: Arial, sans-serif; color: #0b0c0c; background: #fff;
       max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
code { background: #f3f2f1; padding: 0 .2em; overflow-wrap: anywhere; }
</style>
</head>
<body>
<main>
<h1>Access token needed</h1>
<p>This address needs the workbook's access token. Open the address that
<code>workbook serve</code> printed when it started (it ends in <code>token=</code>
and a long code). This browser then stays signed in until the server stops.</p>
<p>If the server was restarted, it printed a new address: use that one.</p>
</main>
</body>
</html>
"""


class _SignIn(tornado.web.RequestHandler):
    """Where Jupyter sends a browser without the token or the login cookie."""

    def get(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_SIGN_IN)


_page_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "workbook_page_owner", default=None
)
"""While a page request runs (hub service, trusted proxy): the name of the person who asked
for it, so that the kernel it is given is recorded as theirs."""


class _Page(TornadoVoilaHandler):
    """Voilà's page handler, plus: only notebooks at the top of the folder are pages; a
    tokenised address is answered with a redirect to the same address without the token
    (the login cookie is already set on that response), and the page's response sets the
    ``_xsrf`` cookie for Voilà's tab-close request."""

    @tornado.web.authenticated
    async def get(self, path=None):  # type: ignore[no-untyped-def]
        if path and "/" in path.strip("/"):
            # Only the app's own pages, at the top of notebooks/: a notebook in a sub-folder
            # (the evidence starters, notebooks/evidence/) is analysis code, which a
            # browser must never run.
            raise tornado.web.HTTPError(404)
        if self.settings.get("workbook_kernel_owners") is not None:
            _page_owner.set(_requester(self))
        if "token" in self.request.query_arguments:
            query = [
                (k, v)
                for k, v in parse_qsl(self.request.query, keep_blank_values=True)
                if k != "token"
            ]
            self.redirect(self.request.path + (f"?{urlencode(query)}" if query else ""))
            return
        self.xsrf_token  # noqa: B018  (reading it sets the cookie)
        await super().get(path)


def _proxy_user(handler: tornado.web.RequestHandler, header: str) -> Vouched | None:
    name = clean(handler.request.headers.get(header))
    return Vouched(name, "proxy") if name else None


def _requester(handler: tornado.web.RequestHandler) -> str:
    """Who is asking: the trusted proxy's user header behind a proxy (everyone there shares
    the server's token), else the logged-in user (the hub service); "" if nobody is named
    (such a page refuses to edit, and its kernel answers only others named by nobody)."""
    header = handler.settings.get("workbook_user_header")
    if header:
        return clean(handler.request.headers.get(header))
    user = handler.current_user
    return user.username if user is not None else ""


def _kernel_owner(handler: tornado.web.RequestHandler, kernel_id: str) -> bool:
    """Whether the person asking may use ``kernel_id`` (always, unless kernels have
    owners: the hub service, and behind a trusted proxy)."""
    owners = handler.settings.get("workbook_kernel_owners")
    if owners is None:
        return True
    return bool(kernel_id) and kernel_id in owners and owners[kernel_id] == _requester(handler)


class _OwnKernel:
    """Mixin for the handlers of one kernel (its websocket, its REST model, Voilà's
    tab-close shutdown): 403 unless the kernel is the logged-in person's own."""

    async def prepare(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = super().prepare(*args, **kwargs)  # type: ignore[misc]
        if inspect.isawaitable(result):
            await result
        if self._finished:  # type: ignore[attr-defined]
            return
        kernel_id = self.path_kwargs.get("kernel_id") or (  # type: ignore[attr-defined]
            self.path_args[0] if self.path_args else ""  # type: ignore[attr-defined]
        )
        if not _kernel_owner(self, kernel_id):  # type: ignore[arg-type]
            raise tornado.web.HTTPError(403)


class _OwnKernelSocket(_OwnKernel, VoilaKernelWebsocketHandler):
    pass


class _OwnKernelModel(_OwnKernel, KernelHandler):
    pass


class _OwnKernelShutdown(_OwnKernel, VoilaShutdownKernelHandler):
    pass


_OWN = {
    VoilaKernelWebsocketHandler: _OwnKernelSocket,
    KernelHandler: _OwnKernelModel,
    VoilaShutdownKernelHandler: _OwnKernelShutdown,
}


class _KernelList(MainKernelHandler):
    """``GET /api/kernels``: the running kernels. Starting one (POST) is not offered."""

    async def post(self) -> None:
        raise tornado.web.HTTPError(405)

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """As jupyter_server's, except that a kernel still starting (no ``last_activity``
        yet, which made the whole list fail with a 500) is listed as "starting"."""
        km = self.kernel_manager
        kernels = []
        for kernel_id in list(km.list_kernel_ids()):
            if not _kernel_owner(self, kernel_id):
                continue
            try:
                kernels.append(km.kernel_model(kernel_id))
            except KeyError:  # shut down meanwhile
                continue
            except TraitError:
                kernels.append({"id": kernel_id, "execution_state": "starting"})
        self.finish(json.dumps(kernels, default=json_default))


def _hub_identity() -> type:
    """JupyterHub's identity provider, with the OAuth client the app read at start (the
    hub's API token is no longer in the environment then). JupyterHub is imported only
    here: ``workbook serve`` without ``--hub-service`` does not need it."""
    from jupyterhub.singleuser.extension import JupyterHubIdentityProvider

    class HubIdentity(JupyterHubIdentityProvider):
        @default("hub_auth")
        def _default_hub_auth(self):  # type: ignore[no-untyped-def]
            return self.parent.hub_auth

    return HubIdentity


# ---------------------------------------------------------------------------------------
# the application


class WorkbookVoila(Voila):
    """Voilà with the front door described at the top of this module."""

    sockets = Any(None, help="Listening sockets, bound before Voilà starts.")
    workbook_settings = Dict(help="From `workbook serve`: token, allow_hosts, url.")

    hub_auth = Any(None, help="Hub service: the hub's OAuth client, read from the environment.")

    def initialize(self, argv=None):  # type: ignore[no-untyped-def]
        super().initialize(argv)
        settings = self.workbook_settings
        self.hub_service = bool(settings.get("hub_service"))
        self.token = settings["token"]
        self.origins = Origins.build(self.port, self.ip, settings.get("allow_hosts", ()))
        self.kernel_owners: dict[str, str] | None = None
        if self.hub_service:
            self._init_hub_service()
        header = settings.get("trust_user_header")
        if header:
            # Behind an authenticating proxy: its user header is the login. Every page
            # request is stamped for its kernel (workbook.voila_identity).
            install("proxy", lambda handler: _proxy_user(handler, header))
            # Everyone behind the proxy shares the token: each page's kernel answers only
            # the person whose page it is (the proxy sends its header on every request).
            self.kernel_owners = {}
        # The login cookie is not sent with requests other sites' pages make.
        self.config.IdentityProvider.cookie_options = {"samesite": "Lax"}
        # A preheated kernel fetches its page's request (query string, headers) over an
        # unauthenticated websocket, /voila/query/<kernel id>. Kernel ids are on every
        # kernel's command line, which other local users can read, so whoever connected
        # first could take that request (and the browser's cookies in it). The websocket
        # lives under a secret prefix instead, which only kernels are told: they inherit
        # it from this process's environment, as Voilà's VOILA_WS_BASE_URL.
        self.query_base = (
            url_path_join(self.server_url or self.base_url, secrets.token_hex(16)) + "/"
        )
        os.environ["VOILA_WS_BASE_URL"] = self.query_base

    def _init_hub_service(self) -> None:
        """Log in through the hub (OAuth) instead of the token; stamp every page with the
        hub user; give each page's kernel an owner."""
        from jupyterhub.services.auth import HubOAuth

        from workbook.hub_extension import _who

        self.token = None
        self.auto_token = True  # Voilà then passes no token to the identity provider
        self.identity_provider_class = _hub_identity()
        self.hub_auth = HubOAuth(parent=self)
        # Read everything the client needs from the environment now (traitlets defaults
        # are lazy), then take the hub's API token out of it: the page kernels inherit
        # this process's environment and must not hold it.
        for name in (
            "api_token",
            "api_url",
            "base_url",
            "hub_prefix",
            "hub_host",
            "login_url",
            "oauth_client_id",
            "oauth_redirect_uri",
            "access_scopes",
            "cookie_name",
            "cookie_path",
        ):
            getattr(self.hub_auth, name)
        for name in ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"):
            os.environ.pop(name, None)
        install("hub", _who)
        self.kernel_owners = {}

    def _record_owners(self) -> None:
        """Record, for each page's kernel, the person whose page request it was given to."""
        km = self.kernel_manager
        owners = self.kernel_owners
        rendered, start = km.get_rendered_notebook, km.start_kernel

        async def get_rendered_notebook(*args, **kwargs):  # type: ignore[no-untyped-def]
            task, cache, kernel_id = await rendered(*args, **kwargs)
            _own(kernel_id)
            return task, cache, kernel_id

        async def start_kernel(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = start(*args, **kwargs)
            kernel_id = await result if inspect.isawaitable(result) else result
            _own(kernel_id)
            return kernel_id

        def _own(kernel_id: str) -> None:
            owner = _page_owner.get()
            if owner is not None:
                for gone in set(owners) - set(km.list_kernel_ids()):
                    owners.pop(gone, None)
                owners[kernel_id] = owner

        km.get_rendered_notebook = get_rendered_notebook
        km.start_kernel = start_kernel

    def init_settings(self) -> dict:
        settings = super().init_settings()  # creates the kernel manager
        if self.kernel_owners is not None:
            self._record_owners()
        # Voilà turns Jupyter's Host check off; on loopback it goes back on (the Host check
        # above is the one that counts, this is a second line). Behind the hub's proxy the
        # Host is the hub's public name, which Jupyter's own check would refuse.
        settings["allow_remote_access"] = not is_loopback(self.ip) or self.hub_service
        settings["xsrf_cookie_kwargs"] = {"path": self.base_url, "samesite": "Strict"}
        settings["workbook_kernel_owners"] = self.kernel_owners
        settings["workbook_user_header"] = self.workbook_settings.get("trust_user_header")
        return settings

    def init_handlers(self) -> list:
        provider = self.identity_provider
        own = [(url_path_join(self.base_url, h[0]), *h[1:]) for h in provider.get_handlers()]
        dropped = (
            TornadoVoilaTreeHandler,
            VoilaContentsHandler,
            provider.login_handler_class,
            provider.logout_handler_class,
            *(h[1] for h in own),
        )
        kept = []
        for spec in super().init_handlers():
            if spec[1] in dropped:
                continue
            if spec[1] is TornadoVoilaHandler:
                spec = (spec[0], _Page, *spec[2:])
            if self.kernel_owners is not None and spec[1] in _OWN:
                spec = (spec[0], _OWN[spec[1]], *spec[2:])
            if spec[1] is RequestInfoSocketHandler:
                spec = (self.query_base + "voila/" + spec[0].split("/voila/", 1)[1], *spec[1:])
            kept.append(spec)
        start = url_path_join(self.base_url, START_PAGE)
        # Token: a page explaining the token. Hub service: the hub's OAuth callback and
        # logout, under the service's prefix (Voilà adds them at the server's root).
        login = own if self.hub_service else [(url_path_join(self.server_url, "/login"), _SignIn)]
        return [
            Rule(_Foreign(self.origins), _Refused),
            (self.server_url, _StartRedirect, {"url": start, "permanent": False}),
            (
                url_path_join(self.server_url, r"/voila/tree/?"),
                _StartRedirect,
                {"url": start, "permanent": False},
            ),
            *login,
            (url_path_join(self.server_url, "/api/kernels"), _KernelList),
            *kept,
        ]

    def listen(self) -> None:
        server = tornado.httpserver.HTTPServer(self.app)
        server.add_sockets(self.sockets)
        where = f"{self.ip}:{self.port}"
        if self.hub_service:
            print(
                f"Serving the workbook on {where} as a JupyterHub service; people open "
                f"{self.workbook_settings['url']}",
                flush=True,
            )
        else:
            print(
                f"Serving the workbook on {where}. Open this address in your browser:\n\n"
                f"    {self.workbook_settings['url']}\n",
                flush=True,
            )
        print("Press Ctrl+C to stop.", file=sys.stderr, flush=True)
        self.ioloop = tornado.ioloop.IOLoop.current()
        try:
            self.ioloop.start()
        except KeyboardInterrupt:
            self.log.info("Stopping...")
        finally:
            self.stop()


def main(argv: list[str] | None = None) -> None:
    raw = os.environ.pop(SETTINGS_ENV, None)
    os.environ.pop("WORKBOOK_TOKEN", None)  # kernels inherit the server's environment
    if raw is None:
        print(
            f"Error: {__name__} is started by `workbook serve` ({SETTINGS_ENV} is not set)",
            file=sys.stderr,
        )
        raise SystemExit(1)
    settings = json.loads(raw)
    # Only a server that vouches for its users sets these (workbook.voila_identity).
    os.environ.pop(MODE_ENV, None)
    os.environ.pop(KEY_ENV, None)
    sockets = bind(settings["port"], settings["host"])
    WorkbookVoila.launch_instance(argv=argv, sockets=sockets, workbook_settings=settings)


if __name__ == "__main__":
    main()
