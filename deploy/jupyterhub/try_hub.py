"""Start a real JupyterHub on this machine for trying ethics-workbook as a team: `make hub`.

    .venv/bin/python deploy/jupyterhub/try_hub.py [--port 8000] [--state .hub]

It runs JupyterHub with ``deploy/jupyterhub/jupyterhub_config.py`` in its trying-out mode
(``WORKBOOK_HUB_TRY=1``): the users alice (group authors), bob (reviewers), carol (viewers)
and dana (admins) log in with one shared password. ``--mode user`` (the default): a server for
each user; ``--mode service`` (``make hub HUB_MODE=service``): one shared server for
everyone, a JupyterHub service at ``/services/workbook/``. Every server runs as the
unix user who started the hub (SimpleLocalProcessSpawner and an unnamed service account: no
separation between users, so only for trying). Everything it keeps is under the state
folder (default ``.hub``): the hub's database and cookie secret, the password, the users'
home folders, the log
(``jupyterhub.log``) and the shared workspace (``workspace``, with the demo project and a
``roles.yaml`` copied from ``deploy/jupyterhub/roles.yaml`` when it has none).

The address and the password are printed once the hub answers. Ctrl+C (or SIGTERM) stops
the hub, which stops the proxy and every user's server. The tests start it the same way
(``tests/hubs.py``) on free ports with their own state folder.
"""

from __future__ import annotations

import argparse
import errno
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIG = HERE / "jupyterhub_config.py"
ROLES = HERE / "roles.yaml"
PROXY = REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
USERS = (
    ("alice", "authors", "author"),
    ("bob", "reviewers", "reviewer"),
    ("carol", "viewers", "viewer"),
    ("dana", "admins", "admin"),
)
MEMBERS = ("alice", "bob")
PROJECT = "demo"
READY_LINE = "JupyterHub is ready at "


def fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(1)


def check_port(port: int, what: str, option: str) -> None:
    """One line and exit 1 if ``port`` on loopback is taken."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(
                    f"cannot start the hub: port {port} ({what}) is already in use by another "
                    f"program; stop that program or choose another port with {option}"
                )
            fail(f"cannot start the hub on port {port} ({what}): {exc.strerror or exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password_for(state: Path, given: str | None) -> str:
    """The shared password: given, or the one kept in ``state/password``, or a new one."""
    if given:
        if len(given) < 8:
            fail("WORKBOOK_HUB_PASSWORD must be at least 8 characters")
        return given
    path = state / "password"
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if len(kept) >= 8:
            return kept
    new = secrets.token_urlsafe(9)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new + "\n")
    return new


def workbook(workspace: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace)}
    done = subprocess.run(
        [sys.executable, "-m", "workbook", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if check and done.returncode != 0:
        fail(f"`workbook {' '.join(args)}` failed: {(done.stderr or done.stdout).strip()}")
    return done


def prepare_workspace(workspace: Path, more_members: list[str]) -> list[str]:
    """The demo project, roles.yaml and (when the command exists) the project's members.
    Returns what it did, in words."""
    notes = []
    workspace.mkdir(parents=True, exist_ok=True)
    notes.append(workbook(workspace, "demo", "--id", PROJECT).stdout.strip())
    roles = workspace / "roles.yaml"
    if not roles.exists():
        shutil.copyfile(ROLES, roles)
        notes.append(f"Copied {ROLES.relative_to(REPO)} to {roles}")
    if workbook(workspace, "members", "--help", check=False).returncode == 0:
        adds = [a for name in (*MEMBERS, *more_members) for a in ("--add", name)]
        workbook(workspace, "members", PROJECT, *adds)
        notes.append(f"Project {PROJECT!r} members include {' and '.join(MEMBERS)}")
        if more_members:
            notes.append(f"... and {len(more_members)} more authors")
    return notes


def wait_until_ready(proc: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            fail(f"JupyterHub stopped while starting (log: {log}):\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/health", timeout=5) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    proc.terminate()
    fail(f"JupyterHub did not answer within {timeout:.0f} s (log: {log})")


def wait_for_service(proc: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    """Until the shared server answers (with anything: it sends strangers to the login)."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/services/workbook/"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            fail(f"JupyterHub stopped while its workbook service started (log: {log}):\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    proc.terminate()
    fail(f"the workbook service did not answer within {timeout:.0f} s (log: {log})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8000, help="where to log in (default 8000)")
    ap.add_argument("--state", type=Path, default=REPO / ".hub", help="state folder")
    ap.add_argument("--workspace", type=Path, help="shared workspace (default STATE/workspace)")
    ap.add_argument("--hub-api-port", type=int, help="hub's internal API (default: a free one)")
    ap.add_argument("--proxy-api-port", type=int, help="proxy's API (default: a free one)")
    ap.add_argument("--cull-seconds", type=int, default=3600, help="idle servers stop after")
    ap.add_argument(
        "--mode",
        choices=("service", "user"),
        default="user",
        help="user: a server each (default); service: one shared server for everyone",
    )
    ap.add_argument("--service-port", type=int, help="the shared server's (default: a free one)")
    ap.add_argument(
        "--more-authors",
        default="",
        metavar="NAMES",
        help="more users in the authors group and the demo project, comma-separated",
    )
    args = ap.parse_args(argv)
    more = [n.strip() for n in args.more_authors.split(",") if n.strip()]
    for name in more:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,31}", name):
            fail(f"--more-authors: {name!r} is not a user name (a-z, 0-9 and -)")

    proxy = Path(os.environ.get("WORKBOOK_HUB_PROXY") or PROXY)
    if not os.access(proxy, os.X_OK):
        fail(
            f"configurable-http-proxy not found at {proxy}; install it with `make hub` (which "
            "runs npm install --prefix .hub configurable-http-proxy@4)"
        )
    check_port(args.port, "the hub", "HUB_PORT=... (make hub) or --port")
    hub_api = args.hub_api_port or free_port()
    proxy_api = args.proxy_api_port or free_port()
    check_port(hub_api, "the hub's API", "--hub-api-port")
    check_port(proxy_api, "the proxy's API", "--proxy-api-port")
    service_port = args.service_port or free_port()
    if args.mode == "service":
        check_port(service_port, "the shared workbook server", "--service-port")

    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)  # the database, cookie secret and password are in it
    workspace = (args.workspace or state / "workspace").resolve()
    password = password_for(state, os.environ.get("WORKBOOK_HUB_PASSWORD"))
    for note in prepare_workspace(workspace, more):
        print(note, flush=True)

    env = {
        **os.environ,
        "WORKBOOK_HUB_TRY": "1",
        "WORKBOOK_HUB_PASSWORD": password,
        "WORKBOOK_HUB_REPO": str(REPO),
        "WORKBOOK_HUB_STATE": str(state),
        "WORKBOOK_HUB_WORKSPACE": str(workspace),
        "WORKBOOK_HUB_IP": "127.0.0.1",
        "WORKBOOK_HUB_PORT": str(args.port),
        "WORKBOOK_HUB_API_PORT": str(hub_api),
        "WORKBOOK_HUB_PROXY_API_PORT": str(proxy_api),
        "WORKBOOK_HUB_PROXY": str(proxy),
        "WORKBOOK_HUB_CULL_SECONDS": str(args.cull_seconds),
        "WORKBOOK_HUB_TRY_AUTHORS": ",".join(more),
        "WORKBOOK_HUB_MODE": args.mode,
        "WORKBOOK_HUB_SERVICE_PORT": str(service_port),
    }
    env.pop("WORKBOOK_HUB_PUBLIC_URL", None)
    env.pop("WORKBOOK_HUB_SERVICE_USER", None)
    env.pop("JUPYTERHUB_API_TOKEN", None)
    log = state / "jupyterhub.log"
    print(f"Starting JupyterHub (log: {log}) ...", flush=True)
    with log.open("a") as fh:
        hub = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=state,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def stop(signum, _frame) -> None:
        # Ctrl+C reaches the hub too (same process group); SIGTERM sent to this script alone
        # is passed on. Either way the hub stops the proxy and the users' servers.
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wait_until_ready(hub, args.port, log, timeout=120)
    if args.mode == "service":
        wait_for_service(hub, service_port, log, timeout=120)
    users = ", ".join(f"{name} ({role}, group {group})" for name, group, role in USERS)
    print(
        f"\n{READY_LINE}http://127.0.0.1:{args.port}/hub/login\n"
        f"  Log in as {users}\n"
        f"  with the password: {password}\n"
        f"  (kept in {state / 'password'}). Everyone lands on the start page; the demo "
        f"project is {PROJECT!r}.\n"
        + (
            "  One shared server for everyone (a hub service at /services/workbook/); it runs "
            f"as you ({pwd.getpwuid(os.getuid()).pw_name}).\n"
            if args.mode == "service"
            else f"  Every user's server runs as you ({pwd.getpwuid(os.getuid()).pw_name}): fine "
            "for trying, no separation between users, never for a team (see 'Deploy for a "
            "team' in the README).\n"
        )
        + f"  Shared workspace: {workspace}\n"
        "  Ctrl+C stops the hub and every user's server.",
        flush=True,
    )
    while True:
        try:
            return hub.wait()
        except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
            continue


if __name__ == "__main__":
    sys.exit(main())
