"""A real JupyterHub for tests, started the way `make hub` starts it.

``deploy/jupyterhub/try_hub.py`` (what `make hub` runs) with the repository's
``deploy/jupyterhub/jupyterhub_config.py``: configurable-http-proxy from ``.hub``
(`make test` installs it), the users alice (authors), bob (reviewers), carol (viewers) and
dana (admins) with one shared password, every user's server a real jupyterhub-singleuser
with Voilà and ``workbook.hub_extension``. Here on free loopback ports, with a temporary
state folder and a temporary workspace holding the demo project ('demo').

Stopping it stops the hub, which stops the proxy, the idle culler and every user's server
(and their kernels); the fixture then checks that none of the processes it saw is left and
that no process still has this hub's workspace in its environment, and fails if one is.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import REPO, free_port
from workbook.store import Store

LAUNCHER = REPO / "deploy" / "jupyterhub" / "try_hub.py"
PROXY = Path(
    os.environ.get("WORKBOOK_HUB_PROXY")
    or REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
)
READY = "JupyterHub is ready at "
START_TIMEOUT_S = 150
STOP_TIMEOUT_S = 30


@dataclass
class Hub:
    base_url: str
    password: str
    state: Path
    workspace: Path
    store: Store
    process: subprocess.Popen  # try_hub.py, which runs jupyterhub as its child
    output: Path  # try_hub.py's own output
    mode: str = "user"  # "user": a server each; "service": one shared workbook service
    seen: dict[int, str] = field(default_factory=dict)  # pid -> command line, every process seen

    @property
    def log(self) -> Path:
        """JupyterHub's log, with the proxy's and the users' servers' output in it."""
        return self.state / "jupyterhub.log"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def user_url(self, user: str, page: str, **query: str) -> str:
        """A Voilà page on ``user``'s server, e.g. ``user_url("alice", "01-explore.ipynb",
        project="demo")``."""
        from urllib.parse import urlencode

        tail = f"?{urlencode(query)}" if query else ""
        return self.url(f"/user/{user}/voila/render/{page}{tail}")

    def service_url(self, page: str, **query: str) -> str:
        """A Voilà page on the shared workbook service (``mode="service"``)."""
        from urllib.parse import urlencode

        tail = f"?{urlencode(query)}" if query else ""
        return self.url(f"/services/workbook/voila/render/{page}{tail}")

    def note_processes(self) -> None:
        """Remember the hub's processes (proxy, culler, users' servers, kernels) so that
        stopping can check every one of them has gone."""
        import psutil

        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                self.seen[p.pid] = " ".join(p.cmdline())[:200]
            except psutil.Error:
                pass


def require_hub() -> None:
    """JupyterHub and configurable-http-proxy, or: a failure under CI, a skip otherwise."""
    missing = []
    if shutil.which("jupyterhub", path=str(Path(sys.executable).parent)) is None:
        missing.append(
            f"jupyterhub (not in {Path(sys.executable).parent}; pip install -e '.[test]')"
        )
    if not os.access(PROXY, os.X_OK):
        missing.append(
            f"configurable-http-proxy (not at {PROXY}; `make test` or `make hub` installs it "
            "with npm install --prefix .hub configurable-http-proxy@4)"
        )
    if missing:
        message = "the JupyterHub tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def start_hub(root: Path, more_authors: tuple[str, ...] = (), mode: str = "user") -> Hub:
    """A hub on free loopback ports with its state and workspace under ``root``. Ready once
    try_hub.py has printed its ready line (it prints it when /hub/health answers, and in
    service mode the shared server too). ``more_authors``: more users in the authors group
    and the demo project (benchmarks). ``mode``: "user" (a server each) or "service" (one
    shared workbook server, a hub service)."""
    require_hub()
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    state = root / "hub-state"
    workspace = root / "workspace"
    output = root / "try_hub.out"
    password = secrets.token_urlsafe(12)
    env = {**os.environ, "WORKBOOK_HUB_PASSWORD": password, "WORKBOOK_HUB_PROXY": str(PROXY)}
    for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER", "WORKBOOK_WORKSPACE"):
        env.pop(name, None)
    argv = [
        sys.executable,
        str(LAUNCHER),
        f"--port={port}",
        f"--state={state}",
        f"--workspace={workspace}",
        f"--hub-api-port={free_port()}",
        f"--proxy-api-port={free_port()}",
        f"--more-authors={','.join(more_authors)}",
        f"--mode={mode}",
        f"--service-port={free_port()}",
    ]
    with output.open("w") as fh:
        proc = subprocess.Popen(
            argv, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    hub = Hub(
        f"http://127.0.0.1:{port}",
        password,
        state,
        workspace,
        Store(workspace),
        proc,
        output,
        mode,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = output.read_text(errors="replace")
        if READY in text:
            hub.note_processes()
            return hub
        if proc.poll() is not None:
            raise RuntimeError(f"try_hub.py exited early ({proc.returncode}):\n{text}")
        time.sleep(0.3)
    stop_hub(hub, check=False)
    raise RuntimeError(f"the hub did not start within {START_TIMEOUT_S} s:\n{_logs(hub)}")


def _logs(hub: Hub) -> str:
    out = hub.output.read_text(errors="replace") if hub.output.exists() else ""
    log = hub.log.read_text(errors="replace") if hub.log.exists() else ""
    return out + "\n--- jupyterhub.log (last 60 lines) ---\n" + "\n".join(log.splitlines()[-60:])


def _strays(hub: Hub) -> dict[int, str]:
    """Processes this hub started that are still running: those seen while it ran, and any
    with its workspace or state folder in their environment."""
    import psutil

    marks = {f"WORKBOOK_WORKSPACE={hub.workspace}", f"WORKBOOK_HUB_STATE={hub.state}"}
    left = {}
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        if p.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            ours = p.pid in hub.seen and " ".join(p.cmdline())[:200] == hub.seen[p.pid]
            if not ours:
                env = p.environ()
                ours = any(f"{k}={env.get(k)}" in marks for k in env if k.startswith("WORKBOOK"))
        except psutil.Error:
            continue
        if ours:
            left[p.pid] = " ".join(p.info["cmdline"] or [])[:200]
    return left


def _kill_group_members(pgid: int, *, started_before: float) -> None:
    """SIGKILL what is left in the hub's process group, but only processes that existed
    before it was stopped. Once the hub has exited and been reaped, its pid (the group's
    id) may be given to a new process: with pid_max at 32768 a test run wraps around, and
    Chromium, which Playwright starts as the leader of its own group, could get it; a plain
    killpg would then close the browser of the next test."""
    import psutil

    for p in psutil.process_iter(["pid", "create_time"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["create_time"] < started_before:
                p.kill()
        except (OSError, psutil.Error):
            continue


def stop_hub(hub: Hub, *, check: bool = True) -> None:
    """SIGTERM to try_hub.py, which passes it to the hub: the hub stops the proxy and every
    user's server. Then nothing it started may be left (killed and reported if it is)."""
    stopping = time.time()
    hub.note_processes()
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 15
    strays = _strays(hub)
    while strays and time.monotonic() < deadline:
        time.sleep(0.5)
        strays = _strays(hub)
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _kill_group_members(hub.process.pid, started_before=stopping)
    if check and strays:
        listed = "\n".join(f"  {pid}: {cmd}" for pid, cmd in strays.items())
        raise AssertionError(f"processes left running after the hub stopped:\n{listed}")


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Hub]:
    """A real JupyterHub (see the module's docstring), shared by one test module."""
    started = start_hub(tmp_path_factory.mktemp("hub"))
    yield started
    stop_hub(started)


def login(page, hub: Hub, user: str) -> None:
    """Log ``page``'s browser context in as ``user`` through the hub's login form. The hub
    then starts the user's server (if it is not running) and sends the browser to it; in
    service mode, to the shared server's start page (through its OAuth login)."""
    page.goto(hub.url("/hub/login"))
    page.get_by_label("Username:").fill(user)
    page.get_by_label("Password:").fill(hub.password)
    page.get_by_role("button", name="Sign in").click()
    # The login form posts, the hub redirects to its spawn page, then to the user's server.
    landing = "/services/workbook/voila/" if hub.mode == "service" else f"/user/{user}/"
    page.wait_for_url(re.compile(rf"^{re.escape(hub.url(landing))}"), timeout=120_000)
    hub.note_processes()
