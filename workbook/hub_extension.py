"""A Jupyter server extension for a user's server under JupyterHub.

Enable it (``jpserver_extensions: {"workbook.hub_extension": true}``, as
``deploy/jupyter/jupyter_server_config.json`` does) and:

- every Voilà page request carries the hub user who is looking at it, signed for the
  page's kernel (:mod:`workbook.voila_identity`);
- no page asks another host for MathJax (the pages have no mathematics);
- on a server started with ``WORKBOOK_HUB_VOILA_ONLY=1`` (everyone without JupyterLab,
  see ``deploy/jupyterhub/jupyterhub_config.py``), the server does what Voilà needs and
  nothing more: the page's kernels take widget messages only (no code can be run in them,
  as in ``workbook serve``), and the REST API refuses to start kernels or sessions and to
  write files. Without that, anyone logged in could run code in their own server's
  kernels, and so write the workspace's files or read the key that signs identities.

Why the request and not ``JUPYTERHUB_USER``: that variable names the server's owner. When
the owner shares the server (JupyterHub's sharing, or an app gallery such as jhub-apps),
the person at the page is someone else, and their changes must carry their own name. The
request's login is checked by the single-user server against the hub before Voilà runs, so
its user is the one who logged in. This works with Voilà's server-extension pages (which
start a kernel per request, with the request's headers in its environment); it costs no
call to the hub beyond the login check the server makes anyway.
"""

from __future__ import annotations

import os
import re
from typing import Any

from tornado.routing import Matcher, Rule
from tornado.web import RequestHandler

from workbook.server_identity import Vouched, hub_user

VOILA_ONLY_ENV = "WORKBOOK_HUB_VOILA_ONLY"
WIDGET_MESSAGES = [
    "comm_open",
    "comm_close",
    "comm_msg",
    "comm_info_request",
    "kernel_info_request",
    "shutdown_request",
]
"""What a Voilà-only server's kernels accept from browsers: what Voilà itself allows."""

_REFUSED_WRITES = re.compile(r".*/api/(contents|sessions|config|kernels/?$|kernels\?)")


def _who(handler: Any) -> Vouched | None:
    user = handler.current_user
    model = getattr(user, "hub_user", None)  # jupyterhub.singleuser's JupyterHubUser
    return hub_user(model) if isinstance(model, dict) else None


class _WritesThroughTheApi(Matcher):
    """A request that would start a kernel or session, or write a file or setting."""

    def match(self, request: Any) -> dict | None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        return {} if _REFUSED_WRITES.match(request.path) else None


class _Refused(RequestHandler):
    def prepare(self) -> None:
        self.set_status(403)
        self.finish({"message": "This server offers the workbook's pages only."})


def voila_only(serverapp: Any) -> None:
    """Restrict the server to what Voilà's pages need (see the module's docstring)."""
    serverapp.kernel_manager.allowed_message_types = list(WIDGET_MESSAGES)
    serverapp.web_app.wildcard_router.rules.insert(0, Rule(_WritesThroughTheApi(), _Refused))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "workbook.hub_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from workbook.voila_identity import install

    install("hub", _who)
    settings = serverapp.web_app.settings
    settings["mathjax_url"] = None
    settings["mathjax_config"] = None
    if os.environ.get(VOILA_ONLY_ENV) == "1":
        voila_only(serverapp)
        serverapp.log.info("ethics-workbook: Voilà pages only (widget messages, no writes)")
    serverapp.log.info("ethics-workbook: Voilà pages carry the hub user who opened them")
