"""The app as served: `workbook serve` (Voilà) answered over HTTP, the kernel websocket and
in headless Chromium. Pages must show no code and no traceback, load nothing from other
hosts, treat the query string as untrusted, refuse to run code sent to the kernel and
serve neither the notebooks nor the answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest

from tests.conftest import REPO
from tests.servers import Server, serve_until_exit, start_server, stop_server

PAGES = {
    "00-start.ipynb": ("Data Ethics Workbook: start", "StartPage("),
    "01-explore.ipynb": ("Explore phase (questions 1 to 4)", "PhaseWorkbook("),
    "02-develop.ipynb": ("Develop phase (questions 5 to 10)", "PhaseWorkbook("),
    "03-implement.ipynb": ("Implement phase (questions 11 to 13)", "PhaseWorkbook("),
    "04-review.ipynb": ("Oversight review", "ReviewPage("),
    "07-transparency.ipynb": ("Transparency record", "TransparencyPage("),
}
QUERY = {"project": "demo"}
NAMED = {"Cookie": "ew_user=Tester"}  # the browser session's name, as the page script keeps it
SOURCE_SNIPPETS = (
    "from widgets import",
    "phase_page(",
    "start_page(",
    "review_page(",
    "transparency_page(",
    "workspace = None",
    'project = "demo"',
    "in Voilà, ?project=",
)
# Python exceptions by name, the traceback header, and Voilà's "error in a cell" notice.
# Case-sensitive: the page's own JavaScript has names like `makeMermaidError`, which start
# with a lower-case letter and so do not match.
PYTHON_ERRORS = re.compile(
    r"Traceback|\b[A-Z]\w*(?:Error|Exception)\b|ProjectNotFound|UnsafeProjectId"
    r"|error when executing cell"
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL_OUTPUT = re.compile(
    r'<script type="application/vnd\.voila\.cell-output\+json">(.*?)</script>', re.S
)
CONFIG_DATA = re.compile(
    r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S
)
CELL_FAILED = "[data-mime-type*='stderr'], [data-mime-type*='error']"
FRIENDLY = "There is no project with that name in this workbook."
V1 = "v1.kernel.websocket.jupyter.org"


# ---------------------------------------------------------------------------------------
# helpers


def _errors(text: str) -> list[str]:
    return PYTHON_ERRORS.findall(text)


def _cell_outputs(html: str) -> list[dict]:
    return [json.loads(block) for block in CELL_OUTPUT.findall(html)]


def _kernel_id(html: str) -> str:
    match = CONFIG_DATA.search(html)
    assert match, "the page has no jupyter-config-data"
    kernel_id = json.loads(match.group(1))["kernelId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", kernel_id), kernel_id
    return kernel_id


class _Resources(HTMLParser):
    """Every URL the page would fetch on load: scripts, stylesheets, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag not in ("script", "link", "img", "iframe", "embed", "object", "source", "video"):
            return
        for name in ("src", "href", "data", "poster", "srcset"):
            if a.get(name):
                self.urls.append((tag, a[name]))


def _raw_get(server: Server, path: str, follow: int = 3) -> tuple[int, str, list[str]]:
    """GET ``path`` exactly as written (no normalising of ``..``), following same-host
    redirects. Returns (final status, body, [each Location])."""
    port = urlsplit(server.base_url).port
    hops: list[str] = []
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", path, headers={"Authorization": f"token {server.token}"})
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            status, location = resp.status, resp.getheader("Location")
        finally:
            conn.close()
        if status in (301, 302, 303, 307, 308) and location and follow:
            target = urlsplit(urljoin(server.base_url + "/", location))
            assert target.hostname in (None, "127.0.0.1"), location
            hops.append(location)
            path = target.path + (f"?{target.query}" if target.query else "")
            follow -= 1
            continue
        return status, body, hops


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def rendered(voila_server):
    """Each page's HTML, fetched once (every fetch uses up one preheated kernel)."""
    cache: dict[str, tuple[int, str]] = {}

    def get(page: str) -> tuple[int, str]:
        if page not in cache:
            cache[page] = voila_server.get(
                f"/voila/render/{page}?{urlencode(QUERY)}", headers=NAMED
            )
        return cache[page]

    return get


@contextmanager
def _browser_page(browser, server: Server, url: str, wait_for: str):
    """Open ``url`` in a fresh context; yields (page, status, dialogs seen, URLs requested)."""
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    requested: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: requested.append(request.url))
    try:
        response = page.goto(url, wait_until="load", timeout=90_000)
        assert response is not None
        # The widget, or Voilà's notice of a failed cell (so a failure shows at once).
        page.wait_for_selector(f"{wait_for}, {CELL_FAILED}", timeout=90_000)
        page.wait_for_timeout(500)  # let any injected onerror/script handlers run
        yield page, response.status, dialogs, requested
    finally:
        context.close()


def _only_this_server(server: Server, requested: list[str]) -> None:
    own = urlsplit(server.base_url).netloc
    elsewhere = [
        u
        for u in requested
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own
    ]
    assert not elsewhere, elsewhere


# ---------------------------------------------------------------------------------------
# 1. every page renders its widgets, without code, tracebacks or third-party resources


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_its_title_and_widgets(rendered, page):
    status, html = rendered(page)
    assert status == 200
    title, widget = PAGES[page]
    assert f">{title}<" in html
    outputs = _cell_outputs(html)
    views = [o["data"] for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 1, outputs
    assert re.fullmatch(r"[0-9a-f]{32}", views[0][WIDGET_VIEW]["model_id"])
    # The widget is the page itself (for project 'demo'), not the "not found" message.
    assert widget in views[0]["text/plain"], views[0]["text/plain"]
    assert "Project not found" not in html
    assert "Something went wrong" not in html
    assert "cannot be opened" not in html


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_source_code(rendered, page):
    _, html = rendered(page)
    for snippet in SOURCE_SNIPPETS:
        assert snippet not in html, snippet
    # No highlighted code and no editor: code cells are output only.
    assert not re.search(r'class="[^"]*\b(highlight|jp-InputArea-editor|jp-InputPrompt)\b', html)
    code_cells = re.findall(r'<div [^>]*class="[^"]*\bjp-CodeCell\b[^"]*"', html)
    assert len(code_cells) == 2
    assert all("jp-mod-noInput" in cell for cell in code_cells), code_cells


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_traceback(rendered, page):
    _, html = rendered(page)
    assert _errors(html) == []
    outputs = _cell_outputs(html)
    assert outputs
    assert all(o["output_type"] in ("execute_result", "display_data") for o in outputs), outputs


@pytest.mark.parametrize("page", PAGES)
def test_page_is_english_and_loads_nothing_from_other_hosts(rendered, voila_server, page):
    _, html = rendered(page)
    parser = _Resources()
    parser.feed(html)
    assert parser.html_lang == "en"
    assert parser.urls, "expected the page's own scripts and stylesheets"
    own = urlsplit(voila_server.base_url).netloc
    for tag, url in parser.urls:
        parts = urlsplit(url)
        assert parts.scheme in ("", "data", "http"), (tag, url)
        assert parts.netloc in ("", own), (tag, url)
    for marker in ("cdn.jsdelivr", "fontawesome", "fortawesome", "font-awesome", "unpkg.com"):
        assert marker not in html.lower(), marker
    # The template's mermaid loader imports from a CDN only when a diagram is on the page.
    assert not re.search(r'class="[^"]*\bjp-Mermaid\b', html)
    assert "/voila/templates/ethics/static/ethics.css" in html


def test_template_and_theme_cannot_be_overridden_from_the_address(voila_server):
    status, html = voila_server.get(
        "/voila/render/01-explore.ipynb?" + urlencode({**QUERY, "template": "lab", "theme": "dark"})
    )
    assert status == 200
    assert "/voila/templates/ethics/static/ethics.css" in html
    assert "/voila/templates/lab/" not in html
    assert "fontawesome" not in html.lower()
    assert 'data-jp-theme-light="true"' in html


# ---------------------------------------------------------------------------------------
# 2. unknown, unsafe and hostile project ids: a friendly message, never an error page

BAD_PROJECTS = {
    "unknown": "nope",
    "traversal": "../../etc",
    "absolute": "/etc/passwd",
    "script": "<script>window.__pwned = 1; alert('x')</script>",
}


@pytest.mark.parametrize("project", BAD_PROJECTS.values(), ids=BAD_PROJECTS.keys())
def test_bad_project_shows_a_friendly_message(voila_server, browser, project):
    before = _snapshot(voila_server.workspace)
    url = voila_server.url("01-explore.ipynb", project=project)
    with _browser_page(browser, voila_server, url, ".ew-message") as (page, status, dialogs, req):
        assert status == 200
        message = page.inner_text(".ew-message")
        assert "Project not found" in message
        assert FRIENDLY in message
        assert page.get_attribute(".ew-message", "role") == "alert"
        link = page.get_attribute(".ew-message a", "href")
        assert link.startswith("00-start.ipynb?"), link
        body = page.inner_text("body")
        assert "Explore phase (questions 1 to 4)" in body
        assert _errors(body) == []
        assert page.query_selector(CELL_FAILED) is None
        assert project not in body  # the id is not echoed, so it can't inject anything
        assert dialogs == []
        assert page.evaluate("window.__pwned") is None
        assert (
            page.evaluate(
                "[...document.scripts].filter(s => s.textContent.includes('__pwned')).length"
            )
            == 0
        )
        _only_this_server(voila_server, req)
    assert _snapshot(voila_server.workspace) == before


def test_bad_project_over_plain_http_is_a_200_page_with_the_message(voila_server):
    payload = "<img src=x onerror=alert(1)>"
    status, html = voila_server.get(
        "/voila/render/02-develop.ipynb?" + urlencode({"project": payload, "user": "Tester"})
    )
    assert status == 200
    assert payload not in html
    assert "onerror=alert" not in html
    assert _errors(html) == []
    (view,) = [o["data"] for o in _cell_outputs(html) if WIDGET_VIEW in o.get("data", {})]
    assert "Project not found" in view["text/plain"]


# ---------------------------------------------------------------------------------------
# 3. security against the running server

IMG = "<img src=x onerror=\"window.__pwned=1;alert('img')\">"
SCRIPT = "<script>window.__pwned=2;alert('script')</script>"
HOSTILE = {
    "start-page": (  # the address's name is ignored: the page asks for one
        "00-start.ipynb",
        {"project": IMG, "user": SCRIPT},
        ".ew-name-prompt",
        "Who is editing?",
    ),
    "phase-unknown-project": (
        "03-implement.ipynb",
        {"project": IMG, "user": SCRIPT},
        ".ew-message",
        "Project not found",
    ),
    "phase-hostile-user": (  # a name in the address is never used, so it asks instead
        "01-explore.ipynb",
        {"project": "demo", "user": IMG},
        ".ew-name-prompt",
        "Who is editing?",
    ),
}


@pytest.mark.parametrize(("page_name", "query", "wait_for", "shown"), HOSTILE.values(), ids=HOSTILE)
def test_query_is_untrusted_input(voila_server, browser, page_name, query, wait_for, shown):
    ws = voila_server.workspace
    before, before_names = _snapshot(ws), sorted(os.listdir(ws.parent))
    url = voila_server.url(page_name, **query)
    with _browser_page(browser, voila_server, url, wait_for) as (page, status, dialogs, req):
        assert status == 200
        text = page.inner_text("body")
        assert shown in text  # any echo of the payload is text, not markup
        assert _errors(text) == []
        assert page.query_selector(CELL_FAILED) is None
        assert page.query_selector("img[src=x]") is None
        assert page.query_selector("img[src='x']") is None
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        _only_this_server(voila_server, req)
    assert _snapshot(ws) == before
    assert sorted(os.listdir(ws.parent)) == before_names


def _message(msg_type: str, content: dict, session: str, channel: str = "shell") -> dict:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": session,
            "username": "attacker",
            "version": "5.3",
            "date": dt.datetime.now(dt.timezone.utc).isoformat(),
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


def _encode(msg: dict, protocol: str) -> str | bytes:
    """A message as a Jupyter client sends it: JSON text, or the v1 binary framing."""
    if protocol == "json":
        return json.dumps(msg)
    parts = [
        json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")
    ]
    channel = msg["channel"].encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(channel))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + channel + b"".join(parts)


def _decode(raw: str | bytes, protocol: str) -> dict:
    if protocol == "json":
        return json.loads(raw)
    n = int.from_bytes(raw[:8], "little")
    offsets = [int.from_bytes(raw[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(n)]
    parts = [raw[offsets[i] : offsets[i + 1]] for i in range(n - 1)] + [raw[offsets[-1] :]]
    channel = parts[0].decode()
    header, parent = json.loads(parts[1]), json.loads(parts[2])
    return {"channel": channel, "header": header, "parent_header": parent}


def _run(coro_fn, *args):
    """Run an async client in its own thread: Playwright's sync API (the `browser` fixture)
    keeps an event loop running in the test's thread, so asyncio.run cannot be used there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result(timeout=120)


async def _converse(url: str, protocol: str, messages: list[dict], until: str) -> list[dict]:
    """Send ``messages``; read until a reply of type ``until`` (or 60 s), then 3 s more."""
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(url, subprotocols=[V1] if protocol == "v1" else None)
    try:
        if protocol == "v1":
            assert ws.selected_subprotocol == V1
        for msg in messages:
            await ws.write_message(_encode(msg, protocol), binary=protocol == "v1")
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        received: list[dict] = []
        while (left := end - loop.time()) > 0:
            try:
                raw = await asyncio.wait_for(ws.read_message(), left)
            except asyncio.TimeoutError:
                break
            if raw is None:
                break
            msg = _decode(raw, protocol)
            received.append(msg)
            if msg["header"]["msg_type"] == until and end - loop.time() > 3:
                end = loop.time() + 3
        return received
    finally:
        await _close(ws)


async def _close(ws) -> None:
    """Close the websocket and wait for the server's answer, so the socket is closed before
    the event loop ends (else Python warns about an unclosed socket later on)."""
    ws.close()
    try:
        while await asyncio.wait_for(ws.read_message(), 10) is not None:
            pass
    except asyncio.TimeoutError:
        pass


@pytest.mark.parametrize(
    ("protocol", "channel"),
    [("json", "shell"), ("v1", "shell"), ("json", "control")],
    ids=["json-shell", "v1-shell", "json-control"],
)
def test_kernel_ignores_execute_request(voila_server, tmp_path, protocol, channel):
    status, html = voila_server.get(f"/voila/render/01-explore.ipynb?{urlencode(QUERY)}")
    assert status == 200
    kernel_id = _kernel_id(html)
    marker = tmp_path / "pwned"
    session = uuid.uuid4().hex
    execute = _message(
        "execute_request",
        {
            "code": f"open({str(marker)!r}, 'w').write('pwned')",
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        session,
        channel,
    )
    # The control: the kernel answers kernel_info_request over the same connection, so
    # the channel works and only running code is refused. The kernel handles a channel's
    # messages in order, so an execute_reply would come before the kernel_info_reply.
    info = _message("kernel_info_request", {}, session, channel)
    port = urlsplit(voila_server.base_url).port
    url = (
        f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels"
        f"?session_id={session}&token={voila_server.token}"
    )
    received = _run(_converse, url, protocol, [execute, info], "kernel_info_reply")

    types = [(m["header"]["msg_type"], m["parent_header"].get("msg_type")) for m in received]
    replies = [m for m in received if m["header"]["msg_type"] == "kernel_info_reply"]
    assert replies, types
    assert replies[0]["parent_header"]["msg_id"] == info["header"]["msg_id"]
    assert not [t for t in types if "execute" in t[0] or t[1] == "execute_request"], types
    assert not marker.exists()


def test_kernel_websocket_answers_widget_messages(voila_server):
    """comm_info_request is allowed: the page's widgets can talk to the kernel."""
    status, html = voila_server.get(f"/voila/render/00-start.ipynb?{urlencode(QUERY)}")
    assert status == 200
    session = uuid.uuid4().hex
    ask = _message("comm_info_request", {"target_name": "jupyter.widget"}, session)
    port = urlsplit(voila_server.base_url).port
    url = (
        f"ws://127.0.0.1:{port}/api/kernels/{_kernel_id(html)}/channels"
        f"?session_id={session}&token={voila_server.token}"
    )
    received = _run(_converse, url, "json", [ask], "comm_info_reply")
    (reply,) = [m for m in received if m["header"]["msg_type"] == "comm_info_reply"]
    assert reply["content"]["status"] == "ok"
    assert len(reply["content"]["comms"]) > 10  # the start page's widget models


SECRETS = re.compile(
    r'"nbformat"\s*:|"schema_version"|"answers"\s*:|VoilaConfiguration|allowed_message_types'
    r"|root:x:0:0|from widgets import"
)


def _source_paths(server: Server) -> list[str]:
    answers = server.store.answers_path("demo")
    rel = os.path.relpath(answers, REPO / "notebooks")
    rel_enc = rel.replace("..", "%2e%2e")
    return [
        "/voila/files/01-explore.ipynb",
        "/voila/files/notebooks/01-explore.ipynb",
        "/voila/files/./01-explore.ipynb",
        "/voila/files/%30%31-explore.ipynb",
        "/files/01-explore.ipynb",
        "/files/notebooks/01-explore.ipynb",
        "/api/contents/01-explore.ipynb",
        "/api/contents/01-explore.ipynb?content=1",
        "/notebooks/01-explore.ipynb",
        "/voila/render/../voila.json",
        "/voila/render/%2e%2e/voila.json",
        "/voila/render/..%2fvoila.json",
        "/voila/render/01-explore.ipynb/../../voila.json",
        "/voila/files/../voila.json",
        "/voila/files/%2e%2e/voila.json",
        "/voila/files/%2e%2e%2fvoila.json",
        "/voila/files/" + str(answers),
        "/voila/files/" + quote(str(answers), safe=""),
        "/voila/files/" + rel,
        "/voila/files/" + rel_enc,
        "/voila/files/" + rel.replace("/", "%2f"),
        "/voila/files/../workspace/demo/workbook.json",
        "/voila/render/" + rel,
        "/voila/render/" + str(answers),
        "/voila/api/contents/" + rel,
        "/voila/api/contents/../voila.json",
        "/voila/tree/" + rel,
        "/static/../voila.json",
        "/static/..%2fvoila.json",
        "/voila/static/../voila.json",
        "/voila/static/../../voila.json",
        "/voila/static/%2e%2e/%2e%2e/voila.json",
        "/voila/static/..%2f..%2f..%2fvoila.json",
        "/voila/labextensions/../../voila.json",
        "/voila/labextensions/..%2f..%2f..%2f..%2fvoila.json",
        "/voila/api/themes/..%2f..%2fvoila.json",
        "/voila/templates/../voila.json",
        "/voila/templates/ethics/../../../voila.json",
        "/voila/templates/ethics/static/../../../../../voila.json",
        "/voila/templates/ethics/static/..%2f..%2fconf.json",
        "/voila/templates/ethics/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/voila/templates/..%2f..%2f..%2f..%2f..%2f..%2fetc/static/passwd",
    ]


def test_notebooks_and_answers_are_not_served(voila_server):
    answers = voila_server.store.answers_path("demo")
    assert SECRETS.search(answers.read_text())  # the markers would catch a leak
    assert SECRETS.search((REPO / "notebooks" / "01-explore.ipynb").read_text())
    assert SECRETS.search((REPO / "voila.json").read_text())
    problems = []
    for path in _source_paths(voila_server):
        status, body, hops = _raw_get(voila_server, path)
        # Voilà 0.5's template static handler answers 500 (not 403/404) to paths that are
        # not <template>/static/<file>; the body is Tornado's plain error page.
        allowed = {403, 404, 500} if path.startswith("/voila/templates/") else {403, 404}
        if status not in allowed or SECRETS.search(body) or _errors(body):
            problems.append((path, hops, status, body[:200]))
    assert problems == []


def test_notebooks_in_sub_folders_are_not_pages(voila_server):
    """The evidence starters (notebooks/evidence/) are analysis code: Voilà must not run
    them for a browser. Only the app's own pages, at the top of notebooks/, are served."""
    assert (REPO / "notebooks" / "evidence" / "error-rates-by-group.ipynb").is_file()
    for path in (
        "/voila/render/evidence/error-rates-by-group.ipynb",
        "/voila/render/evidence/data-quality.ipynb",
        "/voila/render/evidence//data-quality.ipynb",
    ):
        status, body, _ = _raw_get(voila_server, path, follow=0)
        assert status == 404, path
        assert "fairlearn" not in body, path
    # Nor does it run them in kernels kept warm for pages (Voilà's pool would, at start).
    deadline = time.monotonic() + 60
    while "Kernel pool of 01-explore.ipynb is filled" not in voila_server.log.read_text():
        assert time.monotonic() < deadline, "the page kernels' pool was never filled"
        time.sleep(0.5)
    log = voila_server.log.read_text()
    assert "Kernel pool of 02-develop.ipynb" in log
    assert "Kernel pool of evidence/" not in log


def test_file_list_and_contents_api_are_not_served(voila_server):
    """Voilà's file list and its contents API are not part of the app: `/voila/tree` goes to
    the start page and the contents API is not there (nothing lists the notebooks)."""
    for path in ("/voila/api/contents/01-explore.ipynb?content=1", "/voila/api/contents"):
        status, body, _ = _raw_get(voila_server, path, follow=0)
        assert status == 404, path
        assert not SECRETS.search(body), path
        assert "01-explore" not in body


REFUSED = {
    "any-address-no-token": (["--host", "0.0.0.0"], None, "token"),
    "lan-address-no-token": (["--host", "192.168.1.10"], None, "token"),
    "empty-host-no-token": (["--host", ""], None, "token"),
    "any-address-short-token": (["--host", "0.0.0.0", "--token", "short"], None, "16 characters"),
    "loopback-short-token": (["--token", "0123456789abcde"], None, "16 characters"),
    "short-token-from-env": (["--host", "0.0.0.0"], "tooshort", "16 characters"),
}


@pytest.mark.parametrize(("args", "env_token", "mentions"), REFUSED.values(), ids=REFUSED)
def test_serve_refuses_unsafe_settings(tmp_path, args, env_token, mentions):
    code, out, err, port = serve_until_exit(tmp_path, *args, env_token=env_token)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error:"), err
    assert "token" in lines[0]
    assert mentions in lines[0]
    assert "Traceback" not in out + err
    assert "Serving" not in out
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()


def test_serve_with_a_token_requires_it(tmp_path):
    from workbook.demo import create_demo
    from workbook.store import Store

    workspace = tmp_path / "ws"
    create_demo(Store(workspace), project_id="demo", user="setup")
    token = uuid.uuid4().hex
    server = start_server(
        workspace,
        tmp_path / "voila.log",
        ("--host", "0.0.0.0", "--token", token, "--allow-host", "workbook.test"),
    )
    try:
        port = urlsplit(server.base_url).port
        page = f"/voila/render/00-start.ipynb?{urlencode(QUERY)}"

        def raw(path: str, headers: dict | None = None) -> tuple[int, str | None, str]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path, headers=headers or {})
                resp = conn.getresponse()
                return (
                    resp.status,
                    resp.getheader("Location"),
                    resp.read().decode("utf-8", "replace"),
                )
            finally:
                conn.close()

        for path in (page, page + "&token=" + "0" * 32, "/api/kernels"):
            status, location, body = raw(path)
            assert status in (302, 403), (path, status)
            if status == 302:
                assert location.startswith("/login?"), location
            assert WIDGET_VIEW not in body
            assert "jupyter-config-data" not in body

        # The tokenised address sets the login cookie and drops the token from the address.
        status, location, _ = raw(page + "&token=" + token)
        assert (status, location) == (302, page)
        status, _, html = raw(page, {"Authorization": f"token {token}"})
        assert status == 200
        assert any(WIDGET_VIEW in o.get("data", {}) for o in _cell_outputs(html))
        kernel_id = _kernel_id(html)

        async def connect(suffix: str) -> int:
            from tornado.httpclient import HTTPClientError
            from tornado.websocket import websocket_connect

            url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels{suffix}"
            try:
                ws = await websocket_connect(url)
            except HTTPClientError as exc:
                return exc.code
            await _close(ws)
            return 101

        assert _run(connect, "") == 403
        assert _run(connect, f"?token={token}") == 101

        # Bound to every address, it answers to the --allow-host name and refuses others.
        for host, expected in (("workbook.test", 200), ("evil.example", 403)):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.putrequest("GET", "/api/kernels", skip_host=True)
                conn.putheader("Host", f"{host}:{port}")
                conn.putheader("Authorization", f"token {token}")
                conn.endheaders()
                assert conn.getresponse().status == expected, host
            finally:
                conn.close()
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    "content",
    [
        {"comm_id": "x1", "target_name": "jupyter.widget", "data": {"state": "not a dict"}},
        {"comm_id": "x2", "target_name": "jupyter.widget", "data": {"state": {"_model_name": 7}}},
        {"comm_id": "x3", "target_name": "no.such.target", "data": {}},
        {"comm_id": 5, "target_name": ["jupyter.widget"], "data": None},
        {"target_name": "jupyter.widget"},
    ],
    ids=["state-not-a-dict", "bad-model-name", "unknown-target", "wrong-types", "no-comm-id"],
)
def test_a_malformed_comm_open_gets_no_traceback_or_paths(voila_server, content):
    """Whatever a client sends, the kernel answers with no Python traceback and no file
    paths of the server (the kernel's log goes to its own stderr, not to the page)."""
    status, html = voila_server.get(f"/voila/render/00-start.ipynb?{urlencode(QUERY)}")
    assert status == 200
    kernel_id = _kernel_id(html)
    session = uuid.uuid4().hex
    messages = [
        _message("comm_open", content, session),
        _message("kernel_info_request", {}, session),  # the control: the kernel still answers
    ]
    port = urlsplit(voila_server.base_url).port
    url = (
        f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels"
        f"?session_id={session}&token={voila_server.token}"
    )
    received = _run(_converse, url, "json", messages, "kernel_info_reply")
    assert any(m["header"]["msg_type"] == "kernel_info_reply" for m in received)
    text = json.dumps([m.get("content") for m in received])
    assert "Traceback" not in text, text[:2000]
    assert "site-packages" not in text, text[:2000]
    assert str(REPO) not in text, text[:2000]
