"""How a team fares on one JupyterHub: N users log in and open the Explore page at once.

Run from the repository root:

    .venv/bin/python bench/hub_users.py                 # N = 1 (3 times), 5, 10, 20
    .venv/bin/python bench/hub_users.py --users 1 5     # only these
    .venv/bin/python bench/hub_users.py --keep          # keep the hubs' folders and logs
    .venv/bin/python bench/hub_users.py --mode service  # one shared server (a hub service)
    .venv/bin/python bench/hub_users.py --client ws     # no browser: HTTP and the websocket

Each round starts a fresh JupyterHub exactly as the tests do (``tests/hubs.py``, which runs
``deploy/jupyterhub/try_hub.py`` with ``deploy/jupyterhub/jupyterhub_config.py``) on free
loopback ports, with N extra users in the authors group who are members of the demo
project. Then, all at the same moment, each user

1. logs in at the HTTP level: GET /hub/login for the form's ``_xsrf``, POST the form with
   the name and password (``requests``), which makes the hub start the user's server;
2. opens ``/user/<name>/voila/render/01-explore.ipynb?project=demo`` in headless Chromium
   (one browser, a context per user holding the cookies of step 1). The hub's spawn page
   waits for the server and sends the browser on; Voilà runs the page in a new kernel.

Question 1 is drawn by the widgets in the browser (its heading is an ipywidgets HTML
widget: the HTML Voilà sends holds only a placeholder for it), so the time a user waits is
taken in Chromium: from the start of step 1 until the heading "Question 1" is visible.
It is also split in two: until the browser reached the user's server (login and server
start) and from there until question 1 (the page). Chromium runs on the same machine and
takes part of its CPU; the split shows where the time goes.

``--client ws`` does what the browser asks of the server without drawing anything, so that
the machine's cores go to the hub, the servers and the kernels alone (as on a real service,
where each person's browser runs on their own computer). After the same login, each user
GETs the page with ``requests``, following the hub's redirects (in user mode it asks again
every 0.2 s while the hub's spawn page waits for the server, as that page's script does),
and reads the whole streamed HTML: Voilà runs the notebook while it streams. It takes the
page's kernel id from the HTML, opens ``/api/kernels/<id>/channels`` with the login's
cookies and ``_xsrf`` (``tests/widget_messages.py``'s ``KernelSocket``), sends
``comm_info_request`` and then ``request_state`` for every widget at once, as the page's
widget manager does. Question 1 is there when the state of the HTML widget holding its
heading (``widgets/question.py``: ``<span class="ew-q-num">Question 1</span>``) has come.
It prints, per round, when the page was reached, when the whole HTML was received, and when
every widget's state was. The default stays ``--client chromium`` so that figures remain
comparable with earlier runs.

Then, with every page open, the memory of each user's server and its kernels is read from
``/proc/<pid>/smaps_rollup``: PSS (each shared page divided among the processes sharing
it; what the target uses), USS (private to the user's processes) and RSS (counting shared
pages in full for each process).

``--mode user`` (the default) measures a server for each user (above). ``--mode service``
measures one shared ``workbook serve --hub-service`` for everyone, started by the hub as a
managed service (``WORKBOOK_HUB_MODE=service``): step 1 is the same login without starting a
server, step 2 opens ``/services/workbook/voila/render/01-explore.ipynb?project=demo``, where
the service sends the browser through the hub's OAuth login and then serves the page, in a
kernel forked from its preloaded zygote. The browser's time "at the server" is when it
reaches the service's page address. Memory per user is then the whole service (its server
process, the zygote, the pool of preheated kernels and every page's kernel) divided by N,
and the time a 50-person team would need is the service at N = 20 plus 30 more pages at the
cost each page added between the smallest and the largest N.

It prints, for each N, the median and worst time, the ratio to N = 1 (median of the N = 1
rounds), every page rendered or not, memory per user, and the memory a team of 50 would
need; then "TARGET MET" or "TARGET MISSED". Targets: with 20 users the worst time is at
most 3 times N = 1's; every page rendered; at most 120 MiB (PSS) per user (service mode: at
the largest N, since the service's own cost is shared by everyone). The exit code is 0
either way (1 only if the benchmark itself could not run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.hubs import Hub, start_hub, stop_hub  # noqa: E402
from tests.servers import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TARGET_RATIO = 3.0
TARGET_MIB = 120.0
TEAM = 50
PAGE = "01-explore.ipynb"
PROJECT = "demo"
MIB = 2**20


@dataclass
class Visit:
    user: str
    login: float = 0.0  # step 1 done (seconds from the common start)
    at_server: float = 0.0  # the browser reached /user/<name>/...
    question: float = 0.0  # question 1 visible (--client ws: its heading's state received)
    html: float = 0.0  # --client ws: the whole streamed page received
    states: float = 0.0  # --client ws: every widget's state received
    error: str = ""

    @property
    def rendered(self) -> bool:
        return not self.error and self.question > 0


@dataclass
class Memory:
    pss: float = 0.0
    uss: float = 0.0
    rss: float = 0.0
    kernels: int = 0


@dataclass
class Round:
    n: int
    visits: list[Visit]
    memory: dict[str, Memory] = field(default_factory=dict)
    hub_memory: Memory = field(default_factory=Memory)
    service: Memory | None = None  # service mode: the shared server and all its processes
    cpu: dict[str, float] = field(default_factory=dict)  # CPU-seconds used, by group

    def times(self, attr: str = "question") -> list[float]:
        return [getattr(v, attr) for v in self.visits if v.rendered]


# ------------------------------------------------------------------------------- logging in


def http_login(hub: Hub, user: str):
    """A requests session logged in as ``user`` through the hub's login form (and, with a
    server each, the user's server started)."""
    import requests

    session = requests.Session()
    form = session.get(hub.url("/hub/login"), timeout=60)
    form.raise_for_status()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
    if not xsrf:
        raise RuntimeError("the hub's login form has no _xsrf field")
    done = session.post(
        hub.url("/hub/login"),
        data={"username": user, "password": hub.password, "_xsrf": xsrf.group(1)},
        allow_redirects=False,
        timeout=60,
    )
    if done.status_code != 302:
        raise RuntimeError(f"login as {user} answered {done.status_code}")
    if hub.mode == "service":  # sent on to the shared server: nothing to start
        return session
    # The hub sends a new login to /hub/spawn, which starts the user's server and answers
    # with a redirect to its spawn page: the browser goes on from there.
    spawn = session.get(
        urljoin(hub.url("/hub/login"), done.headers["Location"]), allow_redirects=False, timeout=60
    )
    if spawn.status_code != 302:
        raise RuntimeError(f"starting {user}'s server answered {spawn.status_code}")
    return session


def browser_cookies(session, hub: Hub) -> list[dict]:
    return [
        {
            "name": c.name,
            "value": c.value,
            "domain": "127.0.0.1",
            "path": c.path or "/",
            "httpOnly": bool(c.has_nonstandard_attr("HttpOnly")),
            "secure": False,
            "sameSite": "Lax",
        }
        for c in session.cookies
    ]


async def visit(browser, hub: Hub, user: str, start: float, timeout_s: float) -> Visit:
    v = Visit(user)
    context = None
    try:
        session = await asyncio.to_thread(http_login, hub, user)
        v.login = time.perf_counter() - start
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_cookies(browser_cookies(session, hub))
        page = await context.new_page()
        if hub.mode == "service":
            url, at = hub.service_url(PAGE, project=PROJECT), "/services/workbook/voila/render/"
        else:
            url = hub.user_url(user, PAGE, project=PROJECT)
            at = f"/user/{user}/voila/render/"
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        await page.wait_for_url(
            re.compile(rf"^{re.escape(hub.url(at))}"),
            wait_until="commit",
            timeout=timeout_s * 1000,
        )
        v.at_server = time.perf_counter() - start
        heading = page.get_by_role("heading", name=re.compile(r"^Question 1\b"))
        await heading.wait_for(state="visible", timeout=timeout_s * 1000)
        v.question = time.perf_counter() - start
    except Exception as exc:  # reported per user; the others go on
        v.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        if context is not None:
            await context.close()
        return v
    v.context = context  # type: ignore[attr-defined]  (closed after the memory is read)
    return v


# ------------------------------------------------------------- the browser's part, undrawn

Q1_HEADING = re.compile(r'class="ew-q-num">Question 1</span>')  # widgets/question.py's title
KERNEL_ID = re.compile(r"kernel-?[iI]d[\"']?\s*[:=]\s*[\"']([0-9a-f-]{36})")


def decode_frame(raw: bytes | str) -> dict:
    """A kernel message from the server's websocket: text, or the binary framing Jupyter
    Server uses for a message with buffers (count, offsets, JSON, buffers)."""
    import json
    import struct

    if isinstance(raw, str):
        return json.loads(raw)
    (nbufs,) = struct.unpack("!I", raw[:4])
    offsets = struct.unpack("!" + "I" * nbufs, raw[4 : 4 + 4 * nbufs])
    end = offsets[1] if nbufs > 1 else len(raw)
    return json.loads(raw[offsets[0] : end].decode())


def cookies_for(session, url: str) -> dict[str, str]:
    """The session's cookies a browser would send to ``url`` (the most specific path wins
    when two share a name, as the hub's and the server's ``_xsrf`` do)."""
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    out: dict[str, str] = {}
    for c in sorted(session.cookies, key=lambda c: len(c.path or "/")):
        if path.startswith(c.path or "/"):
            out[c.name] = c.value
    return out


def ws_visit(hub: Hub, user: str, start: float, timeout_s: float) -> Visit:
    """What the browser does on the server's side, without drawing: log in, read the whole
    streamed page (Voilà runs the notebook while it streams), open the page's kernel
    websocket with the login's cookies and ask for every widget's state, as the page's
    widget manager does. Question 1 is there when its heading's state has come."""
    from tests.widget_messages import KernelSocket

    v = Visit(user)
    deadline = time.monotonic() + timeout_s
    try:
        session = http_login(hub, user)
        v.login = time.perf_counter() - start
        if hub.mode == "service":
            url, base = hub.service_url(PAGE, project=PROJECT), hub.url("/services/workbook/")
        else:
            url, base = hub.user_url(user, PAGE, project=PROJECT), hub.url(f"/user/{user}/")
        at = base + "voila/render/"
        while True:  # the hub's spawn page waits for the server: the browser's script does too
            page = session.get(url, stream=True, timeout=timeout_s)
            if page.url.startswith(at) and page.status_code == 200:
                break
            page.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"still at {page.url.split('?')[0]} ({page.status_code})")
            time.sleep(0.2)
        v.at_server = time.perf_counter() - start
        text = page.content.decode("utf-8", "replace")
        v.html = time.perf_counter() - start
        found = KERNEL_ID.search(text)
        if not found:
            raise RuntimeError("no kernel id in the page")
        cookies = cookies_for(session, base + "api/kernels/")
        sock = KernelSocket(
            base, found.group(1), cookies, {"X-XSRFToken": cookies.get("_xsrf", "")}
        )
        v.socket = sock  # type: ignore[attr-defined]  (closed after the memory is read)
        ask = sock.send("shell", "comm_info_request", {"target_name": "jupyter.widget"})
        pending: set[str] = set()
        asked = False
        while not asked or pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} widget states not received")
            msg = decode_frame(sock.ws.recv(timeout=left))
            content = msg.get("content", {})
            if (
                msg.get("msg_type") == "comm_info_reply"
                and msg["parent_header"].get("msg_id") == ask
            ):
                comms = list(content.get("comms", {}))  # in the order they were made
                pending = set(comms)
                for comm_id in comms:  # all at once, as the widget manager does
                    sock.send(
                        "shell",
                        "comm_msg",
                        {"comm_id": comm_id, "data": {"method": "request_state"}},
                    )
                asked = True
            elif msg.get("msg_type") == "comm_msg" and content.get("comm_id") in pending:
                data = content.get("data", {})
                if data.get("method") != "update":
                    continue
                pending.discard(content["comm_id"])
                value = data.get("state", {}).get("value")
                if not v.question and isinstance(value, str) and Q1_HEADING.search(value):
                    v.question = time.perf_counter() - start
        v.states = time.perf_counter() - start
        if not v.question:
            raise RuntimeError("no widget on the page holds the Question 1 heading")
    except Exception as exc:  # reported per user; the others go on
        v.error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"
        v.question = 0.0
    return v


# ---------------------------------------------------------------------------------- memory


def smaps(pid: int) -> Memory:
    """PSS, USS and RSS of one process, in bytes, from /proc/<pid>/smaps_rollup."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return Memory(
        pss=fields.get("Pss", 0),
        uss=fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
        rss=fields.get("Rss", 0),
    )


def add(a: Memory, b: Memory) -> Memory:
    return Memory(a.pss + b.pss, a.uss + b.uss, a.rss + b.rss, a.kernels + b.kernels)


def measure_memory(hub: Hub) -> tuple[dict[str, Memory], Memory, Memory | None]:
    """Per user: their server and every process under it (the page's kernel). The hub's
    own processes (hub, proxy, idle culler). In service mode, the shared server and every
    process under it (zygote, preheated and page kernels) instead of the users'."""
    import psutil

    root = psutil.Process(hub.process.pid)
    users: dict[str, Memory] = {}
    own = Memory()
    service = None
    for child in root.children(recursive=False):  # the hub (try_hub.py runs it)
        own = add(own, smaps(child.pid))
        for p in child.children(recursive=False):
            cmd = " ".join(p.cmdline())
            if "workbook.voila_app" in cmd:
                service = smaps(p.pid)
                for k in p.children(recursive=True):
                    service = add(service, smaps(k.pid))
                    service.kernels += 1  # every process under it but the zygote
                service.kernels = max(0, service.kernels - 1)
                continue
            if "jupyterhub-singleuser" not in cmd:
                own = add(own, smaps(p.pid))
                continue
            name = p.environ().get("JUPYTERHUB_USER", f"pid {p.pid}")
            total = smaps(p.pid)
            for k in p.children(recursive=True):
                total = add(total, smaps(k.pid))
                if "ipykernel" in " ".join(k.cmdline()):
                    total.kernels += 1
            users[name] = total
    return users, own, service


def cpu_snapshot(hub: Hub) -> dict[int, tuple[str, float]]:
    """pid -> (group, CPU-seconds so far) for every process of the hub and of Chromium:
    "hub" (hub, proxy, idle culler), "servers" (the users' servers or the shared service,
    with their kernels), "browser" (Chromium)."""
    import psutil

    out: dict[int, tuple[str, float]] = {}

    def put(p, group: str) -> None:
        try:
            t = p.cpu_times()
            out[p.pid] = (group, t.user + t.system)
        except psutil.Error:
            pass

    root = psutil.Process(hub.process.pid)
    for child in root.children(recursive=False):
        put(child, "hub")
        for p in child.children(recursive=False):
            try:
                cmd = " ".join(p.cmdline())
            except psutil.Error:
                continue
            mine = "workbook.voila_app" in cmd or "jupyterhub-singleuser" in cmd
            put(p, "servers" if mine else "hub")
            for k in p.children(recursive=True):
                put(k, "servers" if mine else "hub")
    me = psutil.Process()
    for p in me.children(recursive=True):
        try:
            if "chrom" in p.name().lower() or "chrom" in " ".join(p.cmdline()[:1]).lower():
                put(p, "browser")
        except psutil.Error:
            pass
    return out


def cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]):
    """CPU-seconds used between the snapshots, by group (processes that ended in between
    are not counted)."""
    used: dict[str, float] = {}
    for pid, (group, t) in after.items():
        used[group] = used.get(group, 0.0) + t - before.get(pid, (group, 0.0))[1]
    return used


# ----------------------------------------------------------------------------------- rounds


async def run_round(
    n: int, root: Path, timeout_s: float, mode: str = "user", client: str = "chromium"
) -> Round:
    from concurrent.futures import ThreadPoolExecutor

    # A thread for every user, so that all N log in at once (asyncio's default pool has
    # only cpu_count + 4 threads: 6 on 2 cores).
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=n + 4))
    users = [f"u{n:02d}-{i + 1:02d}" for i in range(n)]
    t = time.monotonic()
    hub = start_hub(root, more_authors=tuple(users), mode=mode)
    print(f"  N={n}: hub answered after {time.monotonic() - t:.1f} s", flush=True)
    try:
        if client == "ws":
            before = cpu_snapshot(hub)
            start = time.perf_counter()
            visits = await asyncio.gather(
                *(asyncio.to_thread(ws_visit, hub, u, start, timeout_s) for u in users)
            )
            cpu = cpu_used(before, cpu_snapshot(hub))
            hub.note_processes()
            memory, own, service = measure_memory(hub)
            for v in visits:
                sock = getattr(v, "socket", None)
                if sock is not None:
                    sock.close()
        else:
            visits, cpu, memory, own, service = await chromium_round(hub, users, timeout_s)
    finally:
        stop_hub(hub)
    if mode == "service" and service is None:
        raise RuntimeError("the workbook service's process was not found under the hub")
    return Round(n, list(visits), memory, own, service, cpu)


async def chromium_round(hub: Hub, users: list[str], timeout_s: float):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            before = cpu_snapshot(hub)
            start = time.perf_counter()
            visits = await asyncio.gather(
                *(visit(browser, hub, u, start, timeout_s) for u in users)
            )
            cpu = cpu_used(before, cpu_snapshot(hub))
            hub.note_processes()
            memory, own, service = measure_memory(hub)
            for v in visits:
                ctx = getattr(v, "context", None)
                if ctx is not None:
                    await ctx.close()
        finally:
            await browser.close()
    return visits, cpu, memory, own, service


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def describe(r: Round) -> str:
    q, s = r.times("question"), r.times("at_server")
    page = [v.question - v.at_server for v in r.visits if v.rendered]
    ok = sum(v.rendered for v in r.visits)
    nan = float("nan")
    cpu = ", ".join(f"{g} {r.cpu.get(g, 0.0):.0f}" for g in ("servers", "hub", "browser"))
    html = r.times("html")
    if any(html):  # --client ws
        return (
            f"N={r.n:<3} question 1's state: median {med(q):6.1f} s, worst "
            f"{max(q, default=nan):6.1f} s  (reached the server: median {med(s):5.1f} s; whole "
            f"page received: median {med(html):5.1f} s, worst {max(html, default=nan):5.1f} s; "
            f"every widget's state: worst {max(r.times('states'), default=nan):5.1f} s)  "
            f"rendered {ok} of {r.n}; CPU-seconds: {cpu}"
        )
    return (
        f"N={r.n:<3} question 1: median {med(q):6.1f} s, worst {max(q, default=nan):6.1f} s"
        f"  (reached the server: median {med(s):5.1f} s; page: median {med(page):5.1f} s, worst "
        f"{max(page, default=nan):5.1f} s)  rendered {ok} of {r.n}; CPU-seconds: {cpu}"
    )


def per_user(r: Round) -> tuple[float, float, float]:
    if r.service is not None:  # the shared server, shared by the round's users
        return r.service.pss / r.n / MIB, r.service.uss / r.n / MIB, r.service.rss / r.n / MIB
    mems = list(r.memory.values())
    return (
        med([m.pss / MIB for m in mems]),
        med([m.uss / MIB for m in mems]),
        med([m.rss / MIB for m in mems]),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--users",
        type=int,
        nargs="+",
        default=[1, 5, 10, 20],
        metavar="N",
        help="how many users at once, one round each (default: 1 5 10 20)",
    )
    ap.add_argument("--single-rounds", type=int, default=3, help="rounds of N = 1 (default 3)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per user")
    ap.add_argument("--keep", action="store_true", help="keep the hubs' folders and logs")
    ap.add_argument(
        "--mode",
        choices=("user", "service"),
        default="user",
        help="user: a server each (default); service: one shared server, a hub service",
    )
    ap.add_argument(
        "--client",
        choices=("chromium", "ws"),
        default="chromium",
        help="chromium: headless Chromium draws each page (default); ws: HTTP and the kernel's "
        "websocket only, what the browser asks of the server without drawing",
    )
    args = ap.parse_args(argv)
    if args.client == "chromium" and not CHROMIUM.exists():
        print(f"Error: Chromium not found at {CHROMIUM} (set WORKBOOK_CHROMIUM)", file=sys.stderr)
        return 1
    if any(n < 1 or n > 99 for n in args.users):
        print("Error: --users: each N must be from 1 to 99", file=sys.stderr)
        return 1

    def stop(signum, _frame):  # SIGTERM: stop the running hub (the finally blocks) and go
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    print(
        f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())};"
        f" a fresh JupyterHub per round (folders in {tmp})",
        flush=True,
    )
    rounds: list[Round] = []
    try:
        for n in args.users:
            for i in range(args.single_rounds if n == 1 else 1):
                r = asyncio.run(
                    run_round(n, tmp / f"n{n:02d}-{i + 1}", args.timeout, args.mode, args.client)
                )
                rounds.append(r)
                print("  " + describe(r), flush=True)
                for v in r.visits:
                    if v.error:
                        print(f"    {v.user}: NOT RENDERED: {v.error}", flush=True)
    except Exception as exc:
        print(f"Error: the benchmark could not run: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    service = args.mode == "service"
    seen = (
        "question 1's heading is in the widget states the page's kernel sent (no browser: "
        "HTTP and the kernel's websocket)"
        if args.client == "ws"
        else "question 1 is visible in Chromium"
    )
    print(
        f"Time from logging in (all users at the same moment) until {seen}; "
        + (
            "one shared server (a hub service), started with a fresh hub each round:"
            if service
            else "a fresh hub each round, so every user's server starts from cold:"
        )
    )
    singles = [t for r in rounds if r.n == 1 for t in r.times()]
    base = med(singles)
    print(
        f"  {'N':>3}  {'median':>8}  {'worst':>8}  {'worst/N=1':>9}  rendered  "
        f"{'PSS/user':>9}  {'USS/user':>9}  {'RSS/user':>9}  kernels"
    )
    by_n: dict[int, list[Round]] = {}
    for r in rounds:
        by_n.setdefault(r.n, []).append(r)
    for n, rs in by_n.items():
        q = [t for r in rs for t in r.times()]
        ok = sum(v.rendered for r in rs for v in r.visits)
        total = sum(r.n for r in rs)
        pss, uss, rss = (med([per_user(r)[i] for r in rs]) for i in range(3))
        kernels = sorted(
            {r.service.kernels for r in rs if r.service}
            | {m.kernels for r in rs for m in r.memory.values()}
        )
        worst = max(q, default=float("nan"))
        print(
            f"  {n:>3}  {med(q):7.1f}s  {worst:7.1f}s  {worst / base:8.2f}x  {ok:>3} of {total:<3}"
            f" {pss:7.0f} MiB {uss:7.0f} MiB {rss:7.0f} MiB  {kernels}"
        )
    biggest = max(rounds, key=lambda r: r.n)
    own = biggest.hub_memory.pss / MIB
    if service:
        print(
            "  (per user: the whole shared server, with its zygote and every kernel, preheated "
            "ones included, divided by N, one Explore page open each; kernels: how many; N = 1 "
            "is the median of its rounds)"
        )
        smallest = min(rounds, key=lambda r: r.n)
        whole = biggest.service.pss / MIB  # type: ignore[union-attr]
        extra = (
            (whole - smallest.service.pss / MIB) / (biggest.n - smallest.n)  # type: ignore[union-attr]
            if biggest.n > smallest.n
            else float("nan")
        )
        team = own + whole + (TEAM - biggest.n) * extra
        print(
            f"Hub, proxy and idle culler: {own:.0f} MiB PSS; the shared server with {biggest.n} "
            f"pages open: {whole:.0f} MiB; each page added about {extra:.0f} MiB (N = "
            f"{smallest.n} to {biggest.n}). A team of {TEAM} with a page open each: about "
            f"{team:.0f} MiB ({team / TEAM:.0f} MiB each), plus the operating system and headroom."
        )
    else:
        print(
            "  (per user: the median over users of their server plus its kernels, one Explore "
            "page open; N = 1 is the median of its rounds)"
        )
        pss_user = per_user(biggest)[0]
        print(
            f"Hub, proxy and idle culler: {own:.0f} MiB PSS. A team of {TEAM} with a page open "
            f"each: about {own + TEAM * pss_user:.0f} MiB ({TEAM} x {pss_user:.0f} MiB + "
            f"{own:.0f} MiB), plus the operating system and headroom."
        )

    checks = []
    if 20 in by_n:
        worst20 = max((t for r in by_n[20] for t in r.times()), default=float("inf"))
        checks.append(
            (
                f"20 users: worst {worst20:.1f} s <= {TARGET_RATIO:g} x {base:.1f} s",
                worst20 <= TARGET_RATIO * base,
            )
        )
    else:
        print("(no N = 20 round: the time target is not checked)")
    every = all(v.rendered for r in rounds for v in r.visits)
    checks.append(("every page rendered", every))
    if service:
        worst_pss = per_user(biggest)[0]
        text = f"with {biggest.n} users: {worst_pss:.0f} MiB PSS each, shared server included"
    else:
        worst_pss = max((m.pss / MIB for r in rounds for m in r.memory.values()), default=0.0)
        text = f"largest {worst_pss:.0f}"
    checks.append(
        (f"memory per user at most {TARGET_MIB:g} MiB PSS ({text})", worst_pss <= TARGET_MIB)
    )
    for text, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'}  {text}")
    print("TARGET MET" if all(ok for _, ok in checks) else "TARGET MISSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
