"""Check the options of ``workbook serve`` and build the command that serves the app.

The server is Voilà with the app's own front door (``workbook/voila_app.py``): it answers
only to its own address, always needs a token, and redirects ``/`` to the start page. The
Voilà settings live in ``voila.json`` at the top of the repository (Voilà reads it from the
folder it starts in). The template lives in ``share/jupyter/voila/templates/ethics`` and is
found through ``JUPYTER_PATH``. The workspace is passed to every kernel as an absolute
``WORKBOOK_WORKSPACE``, because Voilà starts kernels in the notebooks' folder.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from workbook.errors import WorkbookError
from workbook.store import WORKSPACE_ENV, resolve_workspace

REPO = Path(__file__).resolve().parent.parent
SETTINGS_ENV = "WORKBOOK_SERVE"
START_PAGE = "voila/render/00-start.ipynb"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]/\s]+)(?::(\d{1,5}))?")


def split_host(value: str) -> tuple[str, int | None] | None:
    """``'name:port'``, ``'name'`` or ``'[v6]:port'`` as (lower-case name without brackets,
    port or None); None if it is not a host at all."""
    match = _HOST.fullmatch(value.strip())
    if not match:
        return None
    name, port = match.group(1).lower(), match.group(2)
    if name.startswith("["):
        name = name[1:-1]
    return name, int(port) if port else None


@dataclass(frozen=True)
class Origins:
    """The ``Host`` values (name, port) this server answers to. ``None`` as the port stands
    for a Host header without one (a reverse proxy on the default port, or port 80)."""

    allowed: frozenset[tuple[str, int | None]]

    @classmethod
    def build(cls, port: int, bind: str, extra: Iterable[str] = ()) -> Origins:
        names = set(LOOPBACK_NAMES)
        # The address it was told to listen on is the operator's own (and the kernels
        # use it to reach the server); a wildcard is not a name.
        if bind and not _is_wildcard(bind):
            names.add(bind.strip("[]").lower())
        allowed: set[tuple[str, int | None]] = {(n, port) for n in names}
        if port == 80:
            allowed |= {(n, None) for n in names}
        for entry in extra:
            parsed = split_host(entry)
            if parsed is None:
                raise ValueError(entry)
            name, entry_port = parsed
            if entry_port is None:
                allowed |= {(name, port), (name, None)}
            else:
                allowed.add((name, entry_port))
        return cls(frozenset(allowed))

    def host_ok(self, host: str | None) -> bool:
        parsed = split_host(host) if host else None
        return parsed in self.allowed

    def origin_ok(self, origin: str | None) -> bool:
        if origin is None:  # not sent by browsers on plain navigations; scripts
            return True
        try:
            parts = urlsplit(origin.strip())
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # includes Origin: null
        return (parts.hostname.lower(), port) in self.allowed


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _netloc(name: str, port: int | None) -> str:
    shown = f"[{name}]" if ":" in name else name
    return f"{shown}:{port}" if port else shown


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_NOT_USER_HEADERS = {
    "host",
    "cookie",
    "authorization",
    "origin",
    "referer",
    "user-agent",
    "connection",
    "content-type",
    "content-length",
    "x-workbook-identity",
    "x-xsrftoken",
    "upgrade",
}


def check_user_header(name: str) -> None:
    """Refuse a header name that is not one, or that browsers or the app set themselves."""
    if not _TOKEN_CHARS.fullmatch(name or ""):
        raise WorkbookError(
            f"--trust-user-header {name!r} is not a header name; give the name your proxy "
            "sets, e.g. X-Forwarded-User"
        )
    if name.lower() in _NOT_USER_HEADERS or name.lower().startswith("sec-"):
        raise WorkbookError(
            f"--trust-user-header {name!r} is a header browsers or this app set themselves; "
            "give the header your authenticating proxy sets, e.g. X-Forwarded-User"
        )


def voila_command(
    *,
    workspace: Path | str | None,
    port: int,
    host: str = "127.0.0.1",
    token: str | None = None,
    project: str = "demo",
    notebooks: Path | None = None,
    allow_hosts: Iterable[str] = (),
    trust_user_header: str | None = None,
    hub_service: bool = False,
) -> tuple[list[str], dict[str, str], Path, str]:
    """(argv, environment, working folder, start URL) for serving the app.

    Without ``token`` one is generated. Listening on anything but loopback needs the
    operator's own ``token`` and at least one ``allow_hosts`` name. ``trust_user_header``
    names the header an authenticating reverse proxy sets to the signed-in user: only then
    is it believed (see :mod:`workbook.server_identity`). ``hub_service``: run as a
    JupyterHub managed service (see :func:`hub_service_settings`), where the hub's login
    replaces the token and the address and path come from the hub."""
    if hub_service:
        if token is not None:
            raise WorkbookError(
                "--hub-service takes no --token (and WORKBOOK_TOKEN must not be set): people "
                "log in through JupyterHub"
            )
        if trust_user_header is not None:
            raise WorkbookError(
                "--hub-service and --trust-user-header cannot be combined: the hub's login "
                "names each person"
            )
        host, port, base_url, public = hub_service_settings(os.environ)
        allow_hosts = [*allow_hosts, *public]
        if not allow_hosts:
            raise WorkbookError(
                "--hub-service needs the hub's public address, as people's browsers show it: "
                "pass --allow-host NAME[:PORT] (e.g. workbook.example.gov.uk) or set the hub's "
                "public_url (requests to any other name are refused)"
            )
    notebooks = (notebooks or REPO / "notebooks").resolve()
    config_dir = REPO
    template_root = REPO / "share" / "jupyter"
    if not (notebooks / "00-start.ipynb").is_file() or not (config_dir / "voila.json").is_file():
        raise WorkbookError(
            f"cannot find the app's notebooks and voila.json under {REPO}; run `workbook serve` "
            "from a clone installed with `pip install -e .`"
        )
    allow_hosts = list(allow_hosts)
    for entry in allow_hosts:
        if split_host(entry) is None:
            raise WorkbookError(
                f"--allow-host {entry!r} is not a host name; give a name or address as the "
                "browser's address bar shows it, e.g. workbook.example.gov.uk or 10.0.0.5:8866"
            )
    loopback = is_loopback(host)
    if not loopback and not token and not hub_service:
        raise WorkbookError(
            f"refusing to listen on {host!r} without authentication: anyone who can reach it "
            "could read and change the answers. Pass --token (or set WORKBOOK_TOKEN), or use "
            "--host 127.0.0.1"
        )
    if token is not None and len(token) < 16:
        raise WorkbookError(
            "the token must be at least 16 characters; try: " + secrets.token_hex(16)
        )
    if not loopback and not allow_hosts:
        raise WorkbookError(
            f"listening on {host!r} needs the names people will use to reach it: pass "
            "--allow-host NAME for each (requests to any other name are refused)"
        )
    if trust_user_header is not None:
        check_user_header(trust_user_header)
    root = resolve_workspace(workspace)
    env = dict(os.environ)
    env.pop("WORKBOOK_TOKEN", None)
    env[WORKSPACE_ENV] = str(root)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(template_root), os.environ.get("JUPYTER_PATH", "")) if p
    )
    # Voilà's preheated kernels fetch their page's request from the server at VOILA_APP_IP
    # (default 127.0.0.1), which a server on one other address (::1 included) lacks.
    # Tornado binds IPv6 sockets IPv6-only, so "::" does not take 127.0.0.1 either.
    if host not in ("", "0.0.0.0", "localhost", "127.0.0.1"):
        bare = "::1" if host.strip("[]") == "::" else host.strip("[]")
        env["VOILA_APP_IP"] = f"[{bare}]" if ":" in bare else bare
    if loopback:
        shown = _netloc(host.strip("[]"), port)
    else:
        name, entry_port = split_host(allow_hosts[0])  # type: ignore[misc]
        shown = _netloc(name, entry_port or port)
    if hub_service:
        token = None
        url = f"{base_url}{START_PAGE}?project={quote(project, safe='')} (through the hub)"
    else:
        token = token or secrets.token_hex(24)
        url = (
            f"http://{shown}/{START_PAGE}?project={quote(project, safe='')}"
            f"&token={quote(token, safe='')}"
        )
    env[SETTINGS_ENV] = json.dumps(
        {
            "port": port,
            "host": host,
            "token": token,
            "allow_hosts": allow_hosts,
            "url": url,
            "trust_user_header": trust_user_header,
            "hub_service": hub_service,
        }
    )
    argv = [
        sys.executable,
        "-m",
        "workbook.voila_app",
        str(notebooks),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
    ]
    if hub_service:
        argv.append(f"--Voila.base_url={base_url}")
    return argv, env, config_dir, url


_HUB_SERVICE_ENV = (
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
)


def hub_service_settings(environ: Mapping[str, str]) -> tuple[str, int, str, list[str]]:
    """(host, port, base URL, public host names) of a JupyterHub managed service, from the
    environment the hub gives it. The service listens on loopback only: people reach it
    through the hub's proxy, at the hub's address."""
    missing = [name for name in _HUB_SERVICE_ENV if not environ.get(name)]
    if missing:
        raise WorkbookError(
            f"--hub-service: {', '.join(missing)} not set; JupyterHub sets them when it starts "
            "this command as a managed service (see deploy/jupyterhub/jupyterhub_config.py, "
            "WORKBOOK_HUB_MODE=service)"
        )
    service_url = environ["JUPYTERHUB_SERVICE_URL"]
    try:
        parts = urlsplit(service_url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port = "", None
    if parts.scheme != "http" or not port or not is_loopback(host):
        raise WorkbookError(
            f"--hub-service: JUPYTERHUB_SERVICE_URL {service_url!r} must be http:// on a "
            'loopback address with a port, e.g. http://127.0.0.1:8870 (the service\'s "url" '
            "in the hub's configuration)"
        )
    base_url = environ["JUPYTERHUB_SERVICE_PREFIX"]
    if not base_url.startswith("/") or not base_url.endswith("/"):
        raise WorkbookError(
            f"--hub-service: JUPYTERHUB_SERVICE_PREFIX {base_url!r} must start and end with /"
        )
    public = []
    public_url = environ.get("JUPYTERHUB_PUBLIC_URL", "")
    if public_url:
        try:
            netloc = urlsplit(public_url).netloc
        except ValueError:
            netloc = ""
        if netloc and split_host(netloc) is not None:
            public.append(netloc)
    return host, port, base_url, public
