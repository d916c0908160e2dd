"""The Voilà request's query string, read the way ``voila.utils.wait_for_request`` does.

Why not call Voilà's helper: ``import voila.utils`` imports the whole Jupyter server
(``voila/__init__`` loads the server extension) and jsonschema's format checkers, about 4 s,
into every kernel. This does the same small job with the ``websockets`` client Voilà
itself uses. The protocol: a preheated kernel runs the notebook until it needs the request,
then connects to ``<server>/voila/query/<kernel id>`` and receives one JSON message
holding the request's environment variables (``QUERY_STRING`` among them).
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, quote

from widgets.identity import COOKIE, name_from_cookie

CONNECT_TIMEOUT_S = 120
"""How long a preheated kernel waits to reach the server for its page's request. A busy
machine (ten people opening pages at once on two cores) can take far longer than a few
seconds; giving up would leave the page showing only its heading."""


def wait_for_request() -> None:
    """In a preheated Voilà kernel, block until the page is requested; else return at once."""
    if os.getenv("VOILA_PREHEAT", "False") == "False":
        return
    from websockets.sync.client import connect

    protocol = os.getenv("VOILA_WS_PROTOCOL", "ws")
    host = os.getenv("VOILA_APP_IP", "127.0.0.1")
    port = os.getenv("VOILA_APP_PORT", "8866")
    base = os.getenv("VOILA_WS_BASE_URL", os.getenv("VOILA_SERVER_URL", "/"))
    kernel_id = os.getenv("VOILA_KERNEL_ID", "")
    url = f"{protocol}://{host}:{port}{base}voila/query/{kernel_id}"
    with connect(url, open_timeout=CONNECT_TIMEOUT_S, max_size=2**20) as ws:
        info = json.loads(ws.recv())
    for key, value in info.items():
        if isinstance(key, str) and isinstance(value, str):
            os.environ[key] = value


def request_params() -> dict[str, str]:
    """The page's query parameters in Voilà; empty in JupyterLab, nbval or papermill."""
    if os.environ.get("VOILA_KERNEL_ID"):
        wait_for_request()
        _keep_only_our_cookie()
    query = os.environ.get("QUERY_STRING", "")
    return {k: v[0] for k, v in parse_qs(query, max_num_fields=20).items()}


def _keep_only_our_cookie() -> None:
    """Voilà passes the request's whole ``Cookie`` header (``http_header_envs``); the kernel
    needs only the name cookie, so the server's own cookies (its login token among them)
    are not left in the kernel's environment."""
    header = os.environ.pop("HTTP_COOKIE", None)
    name = name_from_cookie(header)
    if name:
        os.environ["HTTP_COOKIE"] = f"{COOKIE}={quote(name)}"
