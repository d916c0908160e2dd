"""Fixtures that run the real app: `workbook serve` (Voilà) and headless Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbook.demo import create_demo
from workbook.export.pdf import CHROMIUM_ARGS as PDF_CHROMIUM_ARGS
from workbook.store import Store

REPO = Path(__file__).resolve().parent.parent

CHROMIUM = Path(os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = PDF_CHROMIUM_ARGS  # the flags the PDF export uses: offline, no sandbox
SCREENSHOTS = REPO / "outputs" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    workspace: Path
    store: Store
    process: subprocess.Popen
    log: Path
    token: str = ""
    printed_url: str = ""  # the address `workbook serve` printed

    def url(self, page: str, **query: str) -> str:
        """A page's address with the access token, as a browser would first open it: the
        server sets its login cookie and redirects to the same address without the token,
        so the context's later pages (links, reloads) go by the cookie."""
        from urllib.parse import urlencode

        query = {**query, "token": self.token} if self.token else query
        return f"{self.base_url}/voila/render/{page}" + (f"?{urlencode(query)}" if query else "")

    def get(
        self, path: str, timeout: float = 60, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """GET with the token in an Authorization header (so not in the address)."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        request = urllib.request.Request(self.base_url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def kernels(self) -> list[dict]:
        """The server's running kernels (GET /api/kernels)."""
        import json

        status, body = self.get("/api/kernels", timeout=30)
        assert status == 200, (status, body[:200])
        return json.loads(body)


PRINTED_URL = re.compile(r"^\s+(http://\S+[?&]token=([0-9A-Za-z_-]+))\s*$", re.M)


def start_server(workspace: Path, log: Path, extra_args: tuple[str, ...] = ()) -> Server:
    """`workbook serve` on a free port. Ready once it has printed its address and that
    address's token opens the kernel list."""
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("JUPYTERHUB_USER", None)
    env.pop("WORKBOOK_TOKEN", None)
    with log.open("w") as fh:  # the child keeps its own copy of the handle
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbook",
                "--workspace",
                str(workspace),
                "serve",
                "--port",
                str(port),
                *extra_args,
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", workspace, Store(workspace), proc, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"workbook serve exited early:\n{log.read_text()}")
        if not server.token:
            printed = PRINTED_URL.search(log.read_text(errors="replace"))
            if printed:
                server.printed_url, server.token = printed.group(1), printed.group(2)
        if server.token:
            try:
                status, _ = server.get("/api/kernels", timeout=5)
                if status == 200:
                    return server
            except OSError:
                pass
        time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"workbook serve did not answer within 120 s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def voila_server(tmp_path_factory) -> Iterator[Server]:
    """`workbook serve` on a free port, over a workspace with the demo project ('demo')
    and an empty one ('blank')."""
    root = tmp_path_factory.mktemp("served")
    workspace = root / "workspace"
    store = Store(workspace)
    create_demo(store, project_id="demo", user="setup")
    store.create("Blank Tool", "Test Council", project_id="blank", user="setup")
    server = start_server(workspace, root / "voila.log")
    yield server
    stop_server(server)


def require_chromium() -> Path:
    """The browser path. Missing: a failure in CI, and locally unless explicitly skipped."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = (
        f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` "
        "(`make test` does), or set WORKBOOK_CHROMIUM to its path"
    )
    if os.environ.get("CI") or not os.environ.get("WORKBOOK_SKIP_BROWSER"):
        pytest.fail(message)
    pytest.skip(message + " (skipped because WORKBOOK_SKIP_BROWSER is set)")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Debian Chromium driven by Playwright.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, which would change how later modules' code behaves (an
    edit session debounces its saves when it finds a running loop)."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(path), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def as_user(page, server: Server, name: str) -> None:
    """Sign ``page``'s browser context in as ``name`` the way the app does: the session
    cookie the page script writes after the name prompt (never a name in the address)."""
    from urllib.parse import quote

    page.context.add_cookies([{"name": "ew_user", "value": quote(name), "url": server.base_url}])


def serve_until_exit(
    tmp_path: Path, *args: str, port: int | None = None, env_token: str | None = None
) -> tuple[int, str, str, int]:
    """Run `workbook serve` where it is expected to refuse and exit: (exit code, stdout,
    stderr, port). Fails the test if it starts serving instead (killed after 60 s)."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WORKBOOK_TOKEN", None)
    if env_token is not None:
        env["WORKBOOK_TOKEN"] = env_token
    port = port or free_port()
    argv = [sys.executable, "-m", "workbook", "--workspace", str(tmp_path / "ws"), "serve"]
    proc = subprocess.Popen(
        [*argv, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"`workbook serve {' '.join(args)}` kept running:\n{out}{err}")
    return proc.returncode, out, err, port
