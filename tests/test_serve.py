"""`workbook serve` as a server people can trust: the port it prints is the one it serves,
`/` leads to the start page, only its own origin gets answers (DNS rebinding and other
sites' pages are refused, page and websocket alike), nothing works without the token, and a
closed tab's kernel is shut down."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest

from tests.servers import Server, free_port, serve_until_exit

START = "/voila/render/00-start.ipynb"
CONFIG_DATA = re.compile(
    r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S
)
LOAD_TIMEOUT_MS = 90_000


def _port(server: Server) -> int:
    port = urlsplit(server.base_url).port
    assert port
    return port


def _request(
    server: Server,
    path: str,
    *,
    host: str | None = None,
    origin: str | None = None,
    token: bool = True,
    method: str = "GET",
) -> tuple[int, dict[str, str], str]:
    """One request over a plain socket to 127.0.0.1, with the Host and Origin given
    (what a browser sends when a rebound name points at this machine)."""
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{_port(server)}" if host is None else host)
        if origin:
            conn.putheader("Origin", origin)
        if token:
            conn.putheader("Authorization", f"token {server.token}")
        conn.endheaders()
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, headers, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _kernel_id(html: str) -> str:
    import json

    match = CONFIG_DATA.search(html)
    assert match, "the page has no jupyter-config-data"
    return json.loads(match.group(1))["kernelId"]


def _ws_status(port: int, uri_host: str, path: str, origin: str | None) -> int:
    """Open a websocket to 127.0.0.1:port whose handshake names ``uri_host`` as Host and
    ``origin`` as Origin; 101 if accepted, else the HTTP status of the refusal."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def attempt() -> int:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            async with connect(f"ws://{uri_host}{path}", sock=sock, origin=origin) as ws:
                await ws.close()
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright may own this thread's loop
        return pool.submit(lambda: asyncio.run(attempt())).result(timeout=120)


# ---------------------------------------------------------------------------------------
# the port


def test_busy_port_is_refused_with_one_line_naming_it(tmp_path):
    port = free_port()
    with socket.socket() as holder:  # another program on the port
        holder.bind(("127.0.0.1", port))
        holder.listen()
        code, out, err, _ = serve_until_exit(tmp_path, port=port)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error:"), err
    assert f"port {port} is already in use" in lines[0]
    assert "Traceback" not in out + err
    assert "http://" not in out  # no address printed: it would open the other program


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--host", "0.0.0.0", "--token", "0123456789abcdef0123"], "--allow-host"),
        (["--allow-host", "bad host/name"], "--allow-host 'bad host/name'"),
    ],
    ids=["other-bind-without-allow-host", "malformed-allow-host"],
)
def test_serve_refuses_a_bind_without_its_allowed_hosts(tmp_path, args, mentions):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WORKBOOK_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "--workspace", str(tmp_path / "ws"), "serve"]
        + ["--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error:"), done.stderr
    assert mentions in lines[0]
    assert "Serving" not in done.stdout


@pytest.mark.parametrize(
    ("host", "kernels_reach"),
    [
        ("127.0.0.1", None),
        ("localhost", None),
        ("0.0.0.0", None),
        ("::1", "[::1]"),
        ("::", "[::1]"),
        ("10.1.2.3", "10.1.2.3"),
    ],
)
def test_token_stays_off_the_command_line_and_kernels_can_reach_the_server(
    tmp_path, monkeypatch, host, kernels_reach
):
    from workbook.serve import SETTINGS_ENV, voila_command

    token = "0123456789abcdef0123"
    monkeypatch.setenv("WORKBOOK_TOKEN", token)  # as `--token` reads it
    argv, env, _, url = voila_command(
        workspace=tmp_path / "ws", port=8999, host=host, token=token, allow_hosts=["wb.test"]
    )
    assert token not in " ".join(argv)  # other users of the machine can read argv (ps)
    assert token in env[SETTINGS_ENV]
    assert "WORKBOOK_TOKEN" not in env
    assert env.get("VOILA_APP_IP") == kernels_reach  # where preheated kernels connect
    assert url.endswith(f"token={token}")


# ---------------------------------------------------------------------------------------
# the address, the root and the token


def test_printed_address_is_this_server_with_a_token(voila_server):
    printed = urlsplit(voila_server.printed_url)
    assert f"{printed.scheme}://{printed.netloc}" == voila_server.base_url
    assert printed.path == START
    assert re.fullmatch(r"project=demo&token=[0-9a-f]{48}", printed.query), printed.query


@pytest.mark.parametrize("path", ["/", "/voila/tree", "/voila/tree/"])
def test_root_and_file_list_redirect_to_the_start_page(voila_server, path):
    status, headers, _ = _request(voila_server, path, token=False)
    assert status == 302, status
    assert headers["location"] == START
    # ... keeping a token, so the printed root address also signs the browser in
    status, headers, _ = _request(voila_server, f"{path}?token=abc", token=False)
    assert (status, headers["location"]) == (302, f"{START}?token=abc")


def test_without_the_token_nothing_is_served(voila_server):
    page = f"{START}?project=demo"
    status, headers, body = _request(voila_server, page, token=False)
    assert status == 302, status
    assert headers["location"].startswith("/login?"), headers
    status, _, body = _request(voila_server, f"{page}&token={'0' * 48}", token=False)
    assert status == 302, status  # a wrong token is no token
    status, _, body = _request(voila_server, "/login", token=False)
    assert status == 403
    assert '<html lang="en">' in body
    assert "Access token needed" in body
    assert not re.search(r"\b(src|href)=", body)  # loads nothing, from here or elsewhere
    status, _, _ = _request(voila_server, "/api/kernels", token=False)
    assert status == 403
    # The control: with the token the same requests are answered.
    status, _, body = _request(voila_server, "/api/kernels")
    assert status == 200
    assert body.startswith("[")

    status, _, html = _request(voila_server, page)
    assert status == 200
    channels = f"/api/kernels/{_kernel_id(html)}/channels"
    own = f"http://127.0.0.1:{_port(voila_server)}"
    assert _ws_status(_port(voila_server), own[7:], channels, own) == 403
    assert (
        _ws_status(_port(voila_server), own[7:], f"{channels}?token={voila_server.token}", own)
        == 101
    )


def test_tokenised_address_sets_a_cookie_and_drops_the_token(voila_server):
    page = f"{START}?project=demo"
    status, headers, _ = _request(voila_server, f"{page}&token={voila_server.token}", token=False)
    assert status == 302
    assert headers["location"] == page  # the token does not stay in the address bar
    cookie = headers["set-cookie"]
    assert re.match(rf"username-127-0-0-1-{_port(voila_server)}=", cookie)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# ---------------------------------------------------------------------------------------
# only this server's own origin


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("evil.example:{port}", "http://evil.example:{port}"),  # DNS rebinding
        ("evil.example:{port}", None),
        ("127.0.0.1:{port}", "http://evil.example"),  # another site's page
        ("127.0.0.1:{port}", "null"),
        ("localhost:1", None),  # the right name on another port
        ("127.0.0.2:{port}", None),
        ("", None),
    ],
    ids=[
        "rebinding",
        "foreign-host",
        "foreign-origin",
        "null-origin",
        "wrong-port",
        "other-loopback",
        "empty-host",
    ],
)
@pytest.mark.parametrize(
    "path",
    [f"{START}?project=demo", "/", "/api/kernels", "/voila/static/voila.js", "/nope"],
    ids=["page", "root", "api", "static", "missing"],
)
def test_requests_for_another_origin_are_refused_even_with_the_token(
    voila_server, host, origin, path
):
    port = _port(voila_server)
    status, _, body = _request(
        voila_server,
        path,
        host=host.format(port=port),
        origin=origin.format(port=port) if origin else None,
    )
    assert status == 403, (status, body[:200])
    assert "jupyter-config-data" not in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_own_names_are_answered(voila_server, host):
    port = _port(voila_server)
    name = host.format(port=port)
    status, _, body = _request(voila_server, "/api/kernels", host=name, origin=f"http://{name}")
    assert status == 200, body[:200]


def test_rebound_websocket_is_refused(voila_server):
    status, _, html = _request(voila_server, f"{START}?project=demo")
    assert status == 200
    path = f"/api/kernels/{_kernel_id(html)}/channels?token={voila_server.token}"
    port = _port(voila_server)
    evil = f"evil.example:{port}"
    assert _ws_status(port, evil, path, f"http://{evil}") == 403
    assert _ws_status(port, f"127.0.0.1:{port}", path, f"http://{evil}") == 403
    # The control: the same websocket from the app's own origin is accepted.
    own = f"127.0.0.1:{port}"
    assert _ws_status(port, own, path, f"http://{own}") == 101


def test_kernels_request_channel_is_not_at_its_public_address(voila_server):
    """Voilà hands a preheated kernel its page's request (cookies included) over a
    websocket named after the kernel id, which any local user can read from `ps`. At
    Voilà's address it is not there; the kernels use a secret one (pages still render)."""
    port = _port(voila_server)
    for kernel in voila_server.kernels():
        status = _ws_status(port, f"127.0.0.1:{port}", f"/voila/query/{kernel['id']}", None)
        assert status == 404, kernel
    status, _, html = _request(voila_server, f"{START}?project=demo")
    assert status == 200
    assert "jupyter-config-data" in html


# ---------------------------------------------------------------------------------------
# in the browser


def _own_requests_only(server: Server, requested: list[str]) -> None:
    own = urlsplit(server.base_url).netloc
    elsewhere = [
        u
        for u in requested
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own
    ]
    assert elsewhere == []


def test_printed_address_opens_the_app_and_links_work_by_cookie(voila_server, browser):
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        response = page.goto(voila_server.printed_url, timeout=LOAD_TIMEOUT_MS)
        assert response is not None
        assert response.status == 200
        assert "token" not in page.url
        assert page.evaluate("document.documentElement.lang") == "en"
        page.wait_for_selector(".jupyter-widgets", timeout=LOAD_TIMEOUT_MS)
        # Another page, addressed without the token: the cookie from the first visit.
        second = (
            voila_server.base_url
            + "/voila/render/01-explore.ipynb?"
            + urlencode({"project": "demo"})
        )
        response = page.goto(second, timeout=LOAD_TIMEOUT_MS)
        assert response is not None
        assert response.status == 200
        page.wait_for_selector(".jupyter-widgets", timeout=LOAD_TIMEOUT_MS)
        _own_requests_only(voila_server, requested)
    finally:
        ctx.close()

    fresh = browser.new_context()  # no cookie, no token: the sign-in notice, not the app
    try:
        page = fresh.new_page()
        response = page.goto(second, timeout=LOAD_TIMEOUT_MS)
        assert response is not None
        assert response.status == 403
        assert "Access token needed" in page.inner_text("main")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.query_selector(".jupyter-widgets") is None
    finally:
        fresh.close()


def _wait_for(check, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(0.5)


def _ids(server: Server) -> set[str]:
    return {k["id"] for k in server.kernels()}


def test_closing_a_tab_shuts_its_kernel_down(voila_server, browser):
    before = _ids(voila_server)
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(voila_server.url("00-start.ipynb", project="demo"), timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector(".jupyter-widgets", timeout=LOAD_TIMEOUT_MS)
        kernel = page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
        )
        assert kernel in _ids(voila_server)
        # The page took a preheated kernel; wait until the pool has started its successor,
        # so that the count below changes only by what closing the tab does.
        _wait_for(lambda: _ids(voila_server) - before - {kernel}, "the kernel pool refilled", 120)
        open_count = len(voila_server.kernels())
        assert "_xsrf" in {c["name"] for c in ctx.cookies()}

        page.close(run_before_unload=True)  # as a person closing the tab

        _wait_for(
            lambda: kernel not in _ids(voila_server),
            "the closed tab's kernel was not shut down",
            30,
        )
        assert len(voila_server.kernels()) <= open_count - 1
    finally:
        ctx.close()
    log = voila_server.log.read_text(errors="replace")
    assert f"403 POST /voila/api/shutdown/{kernel}" not in log
