"""How long a phase page takes to show its widgets in a real browser, against a trivial page.

Run from the repository root:

    .venv/bin/python bench/voila_render.py            # 5 samples of each page (after 1 warm-up)
    .venv/bin/python bench/voila_render.py --profile  # also: where the phase page's time goes
    .venv/bin/python bench/voila_render.py --sessions 5 --sessions-only   # 5 at once only

It serves the app with ``workbook serve`` (so with the repository's ``voila.json``: the
``ethics`` template, preheated kernels, pool size 1) over a temporary workspace holding the
demo project, and a temporary copy of ``notebooks/`` to which ``bench/trivial/trivial.ipynb``
(a title, a parameters cell and one button) is added. Both pages therefore come from the
same server, with the same settings, in the same run. Only the notebooks Voilà preheats
(``preheat_denylist`` in voila.json leaves ``report.ipynb`` out) are waited for.

Each sample opens a fresh browser context and times ``page.goto(url)`` until the page's
widgets are visible: for the phase page (``01-explore.ipynb``) the first question
(``.ew-question``) and the save indicator (``.ew-save``); for the trivial page its button.
The pages alternate. After every sample the tab is closed the way a user closes it, and the
script waits until Voilà has refilled its pool of preheated kernels and every process
(server, kernels, browser) is idle, so each sample is served by a fully preheated kernel.

It prints median, min and max for each page, the ratio phase/trivial and "TARGET MET" or
"TARGET MISSED" (target: ratio <= 1.5). The exit code is 0 either way (1 only if the
benchmark itself could not run).

Every browser session carries the ``ew_user`` name cookie (as ``tests.servers.as_user`` sets
it), so the page shows its questions rather than asking for a name.

Then, on the same server, the sessions case (``--sessions N``, default 10; 0 skips it): the
Explore page opened by one session alone (``--samples`` times after a warm-up) and by N
sessions at the same moment (one async Playwright, one browser, a context and a different
name cookie per session, all ``page.goto()`` calls started together). For each session it
times question 1 and the save status becoming visible, finds the page's kernel and whether
it came from the preheated pool (the server log's "Using pre-heated kernel"), and prints
the server log's kernel events with the time each line appeared. Target: the slowest of
the N within 3x the median session alone, and every session rendered within
``--session-timeout`` (240 s); otherwise "TARGET MISSED". ``--http`` adds the same
visits as plain HTTP requests (the server's share, without browsers on the same cores), and
``--voila-setting CLASS.TRAIT=JSON`` tries a Voilà setting for one run (an experiment; the
output says so) without editing voila.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.servers import CHROMIUM, CHROMIUM_ARGS, Server, as_user, stop_server  # noqa: E402
from tests.servers import start_server as _start_server  # noqa: E402
from workbook.demo import create_demo  # noqa: E402
from workbook.store import Store  # noqa: E402

TARGET_RATIO = 1.5
TRIVIAL_SOURCE = Path(__file__).resolve().parent / "trivial" / "trivial.ipynb"
PROJECT = "demo"
USER = "bench"
BUTTON = ".jupyter-button, .widget-button"


@dataclass(frozen=True)
class Target:
    name: str
    notebook: str
    selectors: tuple[str, ...]


PHASE = Target("phase (01-explore)", "01-explore.ipynb", (".ew-question", ".ew-save"))
TRIVIAL = Target("trivial (1 button)", "trivial.ipynb", (BUTTON,))


# ---------------------------------------------------------------------------- the server


def start_server(workspace: Path, notebooks: Path, log: Path) -> Server:
    """`workbook serve --notebooks DIR` on a free port, started as the tests start it."""
    return _start_server(workspace, log, ("--notebooks", str(notebooks)))


# ----------------------------------------------------------- waiting for preheated kernels

POOL_FILLED = re.compile(r"Kernel pool of (\S+) is filled")
USED_PREHEATED = re.compile(r"Using pre-heated kernel: \S+ for (\S+)")
SHUTDOWN_403 = re.compile(r"403 POST /voila/api/shutdown/\S+ \(\S+\) [\d.]+ms")


def log_counts(log: Path, pattern: re.Pattern) -> Counter:
    return Counter(m.group(1) for m in pattern.finditer(log.read_text(errors="replace")))


def preheated_notebooks(names: list[str]) -> list[str]:
    """The notebooks Voilà keeps a preheated kernel for: all but those matching
    ``VoilaKernelManager.preheat_denylist`` in voila.json (matched as Voilà matches them:
    the pattern is a substring of the name, or a regular expression matching its start)."""
    settings = json.loads((REPO / "voila.json").read_text())
    if not settings.get("VoilaConfiguration", {}).get("preheat_kernel", False):
        return []
    deny = settings.get("VoilaKernelManager", {}).get("preheat_denylist", [])
    return [n for n in names if not any(d in n or re.match(d, n) for d in deny)]


def _processes(server: Server) -> list:
    """The server, its kernels, and this script's children (Playwright and Chromium)."""
    import psutil

    out = []
    for root in (psutil.Process(server.process.pid), psutil.Process()):
        try:
            out += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return out


def _cpu_seconds(procs) -> dict[int, float]:
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except Exception:  # the process ended
            pass
    return out


def wait_until_preheated(
    server: Server, notebooks: list[str], *, timeout: float = 180, window: float = 0.5
) -> float:
    """Wait until every notebook's pool is full again (Voilà logs "Kernel pool of X is filled"
    once per refill) and the server, its kernels and the browser have been idle for two
    windows in a row, i.e. the preheated kernels have finished running their notebooks (the
    app's pages up to `wait_for_request()`). Returns the seconds waited."""
    start = time.monotonic()
    used = log_counts(server.log, USED_PREHEATED)
    need = {nb: used[nb] + 1 for nb in notebooks}
    idle_windows = 0
    while time.monotonic() - start < timeout:
        filled = log_counts(server.log, POOL_FILLED)
        if any(filled[nb] < n for nb, n in need.items()):
            idle_windows = 0
            time.sleep(0.2)
            continue
        procs = _processes(server)
        before = _cpu_seconds(procs)
        time.sleep(window)
        after = _cpu_seconds(procs)
        busy = max((after[pid] - t for pid, t in before.items() if pid in after), default=0.0)
        idle_windows = idle_windows + 1 if busy < 0.05 * window else 0
        if idle_windows >= 2:
            return time.monotonic() - start
    raise RuntimeError(f"the kernel pools were not refilled within {timeout:.0f} s")


# ------------------------------------------------------------------------- the browser

VISIBLE_PROBE = """
(selectors) => {
  // Record (in the page's own clock) when every selector first matches a visible element.
  const visible = (sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const tick = () => {
    if (window.__benchVisibleAt) return;
    if (selectors.every(visible)) { window.__benchVisibleAt = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  tick();
}
"""


@dataclass
class Sample:
    seconds: float  # page.goto() start -> all selectors visible (Python's clock)
    html_done: float  # navigation start -> last byte of the HTML (browser's clock)
    dom_ready: float  # -> DOMContentLoaded
    visible: float  # -> widgets visible (browser's clock)
    origin: float = 0.0  # navigation start, seconds since the epoch
    ws_frames: int = 0  # websocket frames received before the widgets were visible
    ws_bytes: int = 0
    views: int = 0  # rendered widget views in the page
    preheated: bool = True
    cpu: dict = field(default_factory=dict)  # CPU seconds used during the sample, by process
    extra: dict = field(default_factory=dict)


def _snapshot(server: Server) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each of our processes, with its role."""
    out = {}
    for p in _processes(server):
        try:
            cmd = " ".join(p.cmdline())
            t = p.cpu_times()
        except Exception:  # the process ended
            continue
        if p.pid == server.process.pid:
            role = "voila server"
        elif "ipykernel" in cmd:
            role = "kernel"
        elif p.pid == os.getpid():
            role = "this script"
        else:
            role = "browser+playwright"
        out[p.pid] = (role, t.user + t.system)
    return out


def _system_busy() -> float:
    import psutil

    t = psutil.cpu_times()
    return t.user + t.system + sum(getattr(t, k, 0.0) for k in ("nice", "irq", "softirq"))


def _cpu_by_role(before: dict, after: dict, busy: float) -> dict[str, float]:
    """CPU seconds used during a sample, by role; "other processes" is the rest of the
    machine (anything else running at the same time makes the timings noisy)."""
    out: Counter = Counter()
    for pid, (role, t) in after.items():
        if role == "kernel":
            role = "serving kernel" if pid in before else "refill kernel"
        out[role] += t - before.get(pid, (role, 0.0))[1]
    out["other processes"] = max(busy - sum(out.values()), 0.0)
    return dict(out)


def measure(browser, server: Server, target: Target, timeout_s: float) -> Sample:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    as_user(page, server, USER)  # the name cookie; without it a page asks for a name
    selectors = list(target.selectors)
    page.add_init_script(
        f"window.addEventListener('DOMContentLoaded', () => ({VISIBLE_PROBE})"
        f"({json.dumps(selectors)}));"
    )
    frames = {"n": 0, "bytes": 0, "open": True}

    def on_ws(ws) -> None:
        def on_frame(payload) -> None:
            if frames["open"]:
                frames["n"] += 1
                frames["bytes"] += len(payload)

        ws.on("framereceived", on_frame)

    page.on("websocket", on_ws)
    used_before = log_counts(server.log, USED_PREHEATED)[target.notebook]
    url = server.url(target.notebook, project=PROJECT)
    cpu_before, busy_before = _snapshot(server), _system_busy()
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        for sel in selectors:
            page.locator(sel).first.wait_for(state="visible", timeout=timeout_s * 1000)
        seconds = time.perf_counter() - t0
        frames["open"] = False
        cpu_after, busy_after = _snapshot(server), _system_busy()
        page.wait_for_function("window.__benchVisibleAt !== undefined", timeout=10_000)
        timing = page.evaluate(
            """() => {
              const n = performance.getEntriesByType('navigation')[0];
              return {origin: performance.timeOrigin,
                      html_done: n.responseEnd, dom_ready: n.domContentLoadedEventEnd,
                      visible: window.__benchVisibleAt,
                      views: document.querySelectorAll('.jupyter-widgets').length};
            }"""
        )
    finally:
        # Close the tab as a user would (Voilà's beforeunload handler asks for the kernel to
        # be shut down).
        try:
            page.close(run_before_unload=True)
            time.sleep(0.3)
        finally:
            context.close()
    used_after = log_counts(server.log, USED_PREHEATED)[target.notebook]
    return Sample(
        seconds=seconds,
        html_done=timing["html_done"] / 1000,
        dom_ready=timing["dom_ready"] / 1000,
        visible=timing["visible"] / 1000,
        origin=timing["origin"] / 1000,
        ws_frames=frames["n"],
        ws_bytes=frames["bytes"],
        views=timing["views"],
        preheated=used_after > used_before,
        cpu=_cpu_by_role(cpu_before, cpu_after, busy_after - busy_before),
    )


def run_pages(
    browser,
    server: Server,
    targets: list[Target],
    *,
    samples: int,
    warmup: int,
    timeout_s: float,
    verbose: bool = True,
) -> tuple[dict[str, list[Sample]], list[float]]:
    """Alternate the pages (and which goes first in each round); drop the warm-up rounds."""
    results: dict[str, list[Sample]] = {t.name: [] for t in targets}
    waits: list[float] = []
    for i in range(warmup + samples):
        order = targets if i % 2 == 0 else list(reversed(targets))
        for target in order:
            s = measure(browser, server, target, timeout_s)
            waits.append(wait_until_preheated(server, [target.notebook]))
            if verbose:
                tag = "warm-up" if i < warmup else f"sample {i - warmup + 1}"
                print(
                    f"  {tag:<9} {target.name:<19} {s.seconds:6.2f} s  (browser clock: html done"
                    f" {s.html_done:5.2f} s, visible {s.visible:5.2f} s; {s.ws_frames} ws frames"
                    f" / {s.ws_bytes / 1024:.0f} KiB; {s.views} views; preheated kernel: "
                    f"{'yes' if s.preheated else 'NO'})",
                    flush=True,
                )
            if i >= warmup:
                results[target.name].append(s)
    return results, waits


def med(xs) -> float:
    return statistics.median(list(xs))


# --------------------------------------------------------------------- extra profiling

CONSTRUCT = r"""
import json, sys, time
t0 = time.perf_counter()
import ipywidgets as w
from ipywidgets.widgets.widget import _instances
t1 = time.perf_counter()
from workbook.store import Store
from workbook.session import EditSession
from widgets import PhaseWorkbook
t2 = time.perf_counter()
store = Store(sys.argv[1])
out = {"import_ipywidgets": t1 - t0, "import_app": t2 - t1, "pages": {}}

def reachable(widget):
    seen = set()
    def walk(x):
        if isinstance(x, w.Widget) and x.model_id not in seen:
            seen.add(x.model_id)
            for name in x.keys:
                v = getattr(x, name)
                for item in (v if isinstance(v, (list, tuple)) else [v]):
                    walk(item)
    walk(widget)
    return len(seen)

from collections import Counter
for phase in ("explore", "develop", "implement", "explore"):
    before = set(_instances)
    t = time.perf_counter()
    page = PhaseWorkbook(EditSession(store, "demo", user="bench"), phase)
    took = time.perf_counter() - t
    new = [_instances[k] for k in set(_instances) - before]
    kinds = Counter(type(x).__name__ for x in new)
    key = phase if phase not in out["pages"] else phase + " (again, warm)"
    out["pages"][key] = {
        "seconds": took, "models": len(new), "reachable": reachable(page),
        "kinds": dict(kinds.most_common()),
        "parts": {"checklist": reachable(page.checklist),
                  **{q.question.id: reachable(q) for q in page.questions}},
    }
print(json.dumps(out))
"""


def profile_plain_python(workspace: Path) -> dict:
    """Time PhaseWorkbook construction in a plain Python process (no kernel, no comms)."""
    proc = subprocess.run(
        [sys.executable, "-c", CONSTRUCT, str(workspace)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def profile_kernel(workspace: Path, notebooks: Path) -> dict:
    """Run the explore page's code in a real ipykernel (as Voilà does) and count what the
    kernel sends: comm_open (one per widget model) and comm_msg (state updates)."""
    from jupyter_client.manager import start_new_kernel

    env = {
        **os.environ,
        "WORKBOOK_WORKSPACE": str(workspace),
        "QUERY_STRING": f"project={PROJECT}",
        "HTTP_COOKIE": f"ew_user={USER}",
    }
    for key in ("VOILA_KERNEL_ID", "VOILA_PREHEAT", "JUPYTERHUB_USER"):
        env.pop(key, None)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(notebooks), env=env)
    result: dict = {}
    try:

        def run(code: str) -> tuple[float, Counter, Counter, int]:
            kinds: Counter = Counter()
            updated: Counter = Counter()
            size = 0

            def hook(msg) -> None:
                nonlocal size
                kind = msg["msg_type"]
                kinds[kind] += 1
                if kind in ("comm_open", "comm_msg"):
                    size += len(json.dumps(msg["content"], default=str))
                if kind == "comm_msg":
                    updated.update(msg["content"]["data"].get("state", {}).keys())

            t = time.perf_counter()
            reply = kc.execute_interactive(code, output_hook=hook, timeout=120)
            took = time.perf_counter() - t
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel error: {reply['content']}")
            return took, kinds, updated, size

        result["import_seconds"] = run("from widgets import phase_page")[0]
        took, kinds, updated, size = run('page = phase_page("explore", project="demo"); page')
        result.update(build_seconds=took, messages=dict(kinds), updated=dict(updated), bytes=size)
        took, kinds, _, _ = run('import ipywidgets as w; b = w.Button(description="Hello"); b')
        result.update(trivial_seconds=took, trivial_messages=dict(kinds))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return result


AFTER_REQUEST = (
    "import ipywidgets as w\n"
    "from ipywidgets.widgets.widget_string import TextStyle\n"
    "from widgets.voila_request import request_params\n\n"
    "request_params()  # like the app's pages: wait for the visit\n"
)
SYNTHETIC = {
    # name: (source of the last cell, what it shows)
    "s-before.ipynb": (
        'import ipywidgets as w\nw.Button(description="Hello")',
        "1 button built while preheating (= the trivial page)",
    ),
    "s-after.ipynb": (
        AFTER_REQUEST + 'w.Button(description="Hello")',
        "1 button built after the request, like the app's pages",
    ),
    "s-after-171.ipynb": (
        AFTER_REQUEST + 'w.VBox([w.Button(description="Hello")] + '
        '[w.Textarea(description=f"Note {i}") for i in range(56)])',
        "57 controls, ~171 models, built after the request",
    ),
    "s-after-513.ipynb": (
        AFTER_REQUEST + 'w.VBox([w.Button(description="Hello")] + '
        '[w.Textarea(description=f"Note {i}") for i in range(170)])',
        "171 controls, ~513 models (like 01-explore), after the request",
    ),
    "s-shared-175.ipynb": (
        AFTER_REQUEST + "L, S = w.Layout(), TextStyle()\n"
        'w.VBox([w.Button(description="Hello")] + [w.Textarea('
        'description=f"Note {i}", layout=L, style=S) for i in range(170)])',
        "the same 171 controls sharing one Layout and one style: ~175 models",
    ),
}


TIMED = "t-explore-timed.ipynb"
TIMED_CELL = """import json as _json, os as _os, time as _time
from widgets import phase_page
from widgets.voila_request import wait_for_request

wait_for_request()
_seen = _time.time()
_os.environ["VOILA_PREHEAT"] = "False"  # phase_page() must not wait a second time
_page = phase_page("explore", project=project, workspace=workspace)
with open({log!r}, "a") as _f:
    _f.write(_json.dumps({{"seen": _seen, "built": _time.time()}}) + "\\n")
_page"""


def profile_synthetic(workspace: Path, tmp: Path, browser, samples: int, timeout_s: float):
    """Serve synthetic one-cell pages (same server settings) to see what widget count and
    building after the request cost, and a copy of 01-explore that logs when the kernel
    saw the request and finished building the page."""
    notebooks = tmp / "synthetic"
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "00-start.ipynb", notebooks)
    base = json.loads(TRIVIAL_SOURCE.read_text())
    targets = []
    for name, (source, _) in SYNTHETIC.items():
        nb = json.loads(json.dumps(base))
        nb["cells"][-1]["source"] = source
        (notebooks / name).write_text(json.dumps(nb, indent=1))
        targets.append(Target(name, name, (BUTTON,)))
    times = tmp / "timed.jsonl"
    nb = json.loads((REPO / "notebooks" / PHASE.notebook).read_text())
    nb["cells"][-1]["source"] = TIMED_CELL.format(log=str(times))
    (notebooks / TIMED).write_text(json.dumps(nb, indent=1))
    targets.append(Target(TIMED, TIMED, PHASE.selectors))
    server = start_server(workspace, notebooks, tmp / "voila-synthetic.log")
    try:
        wait_until_preheated(
            server, preheated_notebooks(sorted(p.name for p in notebooks.glob("*.ipynb")))
        )
        results, _ = run_pages(
            browser, server, targets, samples=samples, warmup=1, timeout_s=timeout_s, verbose=False
        )
    finally:
        stop_server(server)
    marks = [json.loads(line) for line in times.read_text().splitlines()]
    for sample in results[TIMED]:  # the first mark after the sample's navigation started
        mark = min((m for m in marks if m["seen"] >= sample.origin - 0.5), key=lambda m: m["seen"])
        sample.extra = {k: mark[k] - sample.origin for k in ("seen", "built")}
    return results


# --------------------------------------------------------------------------------- main


def print_table(results: dict[str, list[Sample]]) -> None:
    print(
        f"  {'page':<20} {'median':>8} {'min':>8} {'max':>8}   "
        f"{'html done':>9} {'DOM ready':>9} {'visible':>8}"
    )
    for name, samples in results.items():
        xs = [s.seconds for s in samples]
        print(
            f"  {name:<20} {med(xs):7.2f}s {min(xs):7.2f}s {max(xs):7.2f}s   "
            f"{med(s.html_done for s in samples):8.2f}s "
            f"{med(s.dom_ready for s in samples):8.2f}s "
            f"{med(s.visible for s in samples):7.2f}s"
        )


def print_profile(results, workspace: Path, notebooks: Path, tmp: Path, browser, args) -> None:
    ph, tr = results[PHASE.name], results[TRIVIAL.name]
    print()
    print("Profile")
    print("  1. In the browser (medians, browser clock; phase vs trivial):")
    print(
        f"     navigation -> HTML complete (Voilà runs the cells after the request): "
        f"{med(s.html_done for s in ph):.2f} s vs {med(s.html_done for s in tr):.2f} s"
    )
    print(
        f"     HTML complete -> widgets visible (load the JS, fetch widget state, render): "
        f"{med(s.visible - s.html_done for s in ph):.2f} s vs "
        f"{med(s.visible - s.html_done for s in tr):.2f} s"
    )
    print(
        f"     websocket before visible: {med(s.ws_frames for s in ph):.0f} frames, "
        f"{med(s.ws_bytes for s in ph) / 1024:.0f} KiB vs {med(s.ws_frames for s in tr):.0f}"
        f" frames, {med(s.ws_bytes for s in tr) / 1024:.0f} KiB; widget views "
        f"{med(s.views for s in ph):.0f} vs {med(s.views for s in tr):.0f}"
    )
    roles = sorted({r for s in ph + tr for r in s.cpu})
    print("     CPU seconds used from navigation to visible, by process (medians):")
    for role in roles:
        print(
            f"       {role:<20} {med(s.cpu.get(role, 0.0) for s in ph):5.2f} s vs "
            f"{med(s.cpu.get(role, 0.0) for s in tr):5.2f} s"
        )

    plain = profile_plain_python(workspace)
    print(
        f"  2. Plain Python, no kernel: import ipywidgets {plain['import_ipywidgets']:.2f} s, "
        f"the app {plain['import_app']:.2f} s"
    )
    for phase, info in plain["pages"].items():
        top = ", ".join(f"{k} {v}" for k, v in list(info["kinds"].items())[:6])
        print(
            f"     PhaseWorkbook({phase}): {info['seconds']:.3f} s, {info['models']} models "
            f"created, {info['reachable']} reachable from the page ({top}, ...)"
        )
        if phase == "explore":
            parts = ", ".join(f"{k} {v}" for k, v in info["parts"].items())
            print(f"       models per part: {parts}")

    kern = profile_kernel(workspace, notebooks)
    msgs = kern["messages"]
    print(
        f"  3. In an ipykernel: `from widgets import phase_page` {kern['import_seconds']:.2f} s "
        "(paid while preheating)"
    )
    print(
        f"     phase_page('explore') {kern['build_seconds']:.2f} s (paid after the request): "
        f"{msgs.get('comm_open', 0)} comm_open + {msgs.get('comm_msg', 0)} comm_msg messages, "
        f"{kern['bytes'] / 1024:.0f} KiB"
    )
    print(
        "     comm_msg updates by trait: "
        + ", ".join(f"{k} {v}" for k, v in Counter(kern["updated"]).most_common())
    )
    print(
        f"     the trivial button: {kern['trivial_seconds']:.3f} s, "
        f"{kern['trivial_messages'].get('comm_open', 0)} comm_open messages"
    )

    if not args.no_synthetic:
        print(
            f"  4. Synthetic pages on a second server with the same settings "
            f"({args.samples} samples each):"
        )
        synth = profile_synthetic(workspace, tmp, browser, args.samples, args.timeout)
        print(
            f"     {'page':<21} {'goto->visible':>13} {'html done':>9} {'visible':>8} "
            f"{'websocket':>9}  (medians; html done and visible on the browser's clock)"
        )
        for name, samples in synth.items():
            what = SYNTHETIC[name][1] if name in SYNTHETIC else "copy of 01-explore, timed"
            print(
                f"     {name:<21} {med(s.seconds for s in samples):12.2f}s "
                f"{med(s.html_done for s in samples):8.2f}s "
                f"{med(s.visible for s in samples):7.2f}s "
                f"{med(s.ws_bytes for s in samples) / 1024:6.0f} KiB  {what}"
            )
        timed = synth[TIMED]
        print(
            f"     Timeline of the timed copy of 01-explore (medians, from navigation start): "
            f"the kernel sees the request at {med(s.extra['seen'] for s in timed):.2f} s, "
            f"has built the page at {med(s.extra['built'] for s in timed):.2f} s; "
            f"the HTML is complete at {med(s.html_done for s in timed):.2f} s, "
            f"DOM ready {med(s.dom_ready for s in timed):.2f} s, "
            f"widgets visible {med(s.visible for s in timed):.2f} s"
        )
        print(
            f"       i.e. building in the kernel "
            f"{med(s.extra['built'] - s.extra['seen'] for s in timed):.2f} s, then Voilà "
            f"receiving its messages and finishing the page "
            f"{med(s.html_done - s.extra['built'] for s in timed):.2f} s, then the browser "
            f"{med(s.visible - s.html_done for s in timed):.2f} s"
        )


# ------------------------------------------------------------ many sessions at once

SESSION_TARGET = 3.0  # N sessions at once: the slowest within 3x one session alone
SESSION_TIMEOUT_S = 240.0
KERNEL_STARTED = re.compile(r"Kernel started: (\S+)")
PREHEATED_ID = re.compile(r"Using pre-heated kernel: (\S+) for")
CONFIG_KERNEL_ID = """() => {
  const el = document.getElementById('jupyter-config-data');
  try { return el ? (JSON.parse(el.textContent).kernelId || '') : ''; } catch (e) { return ''; }
}"""
NAV_TIMING = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n ? {first_byte: n.responseStart / 1000, html_done: n.responseEnd / 1000} : {};
}"""


class LogWatcher:
    """Reads the server's log as it grows and notes when each line appeared (this script's
    monotonic clock, polled every 50 ms): Voilà's log lines carry no time of their own."""

    def __init__(self, log: Path) -> None:
        import threading

        self.log = log
        self.lines: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.log.open("r", errors="replace") as fh:
            partial = ""
            while not self._stop.is_set():
                chunk = fh.read()
                if chunk:
                    now = time.monotonic()
                    *done, partial = (partial + chunk).split("\n")
                    self.lines += [(now, line) for line in done]
                else:
                    time.sleep(0.05)

    def since(self, start: float) -> list[tuple[float, str]]:
        return [(t - start, line) for t, line in list(self.lines) if t >= start]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@dataclass
class Visit:
    """One browser session of a round: seconds from its page.goto() (all started together)."""

    index: int
    user: str
    question: float | None = None  # question 1 visible
    save: float | None = None  # the save status visible
    first_byte: float | None = None  # browser clock, from its navigation start
    html_done: float | None = None
    kernel_id: str = ""
    preheated: bool = False
    kernel_started: float | None = None  # "Kernel started" in the log, from the round start
    problem: str = ""  # why it did not render, and what the page showed instead

    @property
    def rendered(self) -> bool:
        return self.question is not None and self.save is not None

    @property
    def seconds(self) -> float:
        return max(self.question or 0.0, self.save or 0.0)


@dataclass
class Round:
    visits: list[Visit]
    wall: float  # from the first goto until the last session rendered or gave up
    cpu: dict[str, float]
    log: list[tuple[float, str]]  # (seconds since the round started, line)


async def _visit(page, visit: Visit, url: str, start: float, timeout_s: float) -> None:
    deadline = start + timeout_s

    async def seen(selector: str) -> float:
        remaining = max(deadline - time.monotonic(), 0.001)
        await page.locator(selector).first.wait_for(state="visible", timeout=remaining * 1000)
        return time.monotonic() - start

    try:
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        got = await asyncio.gather(seen(".ew-question"), seen(".ew-save"), return_exceptions=True)
        visit.question, visit.save = (x if isinstance(x, float) else None for x in got)
        missing = [
            what
            for what, x in zip(("question 1", "save status"), got, strict=True)
            if not isinstance(x, float)
        ]
        if missing:
            visit.problem = f"no {' and no '.join(missing)} within {timeout_s:.0f} s"
    except Exception as exc:  # the page did not even arrive
        visit.problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    try:
        visit.kernel_id = await asyncio.wait_for(page.evaluate(CONFIG_KERNEL_ID), 10)
        nav = await asyncio.wait_for(page.evaluate(NAV_TIMING), 10)
        visit.first_byte, visit.html_done = nav.get("first_byte"), nav.get("html_done")
        if not visit.rendered:
            text = await asyncio.wait_for(page.evaluate("() => document.body.innerText"), 10)
            visit.problem += f"; the page showed: {' '.join(text.split())[:160]!r}"
    except Exception:  # the page is gone or hung; what we have will do
        pass


async def _round(browser, server: Server, watcher: LogWatcher, n: int, timeout_s: float) -> Round:
    """N sessions (a browser context each, with its own name cookie) open the Explore page
    at the same moment; then every tab is closed as a user closes it."""
    from urllib.parse import quote

    contexts, pages, visits = [], [], []
    for i in range(n):
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        user = f"{USER} {i + 1}"
        await context.add_cookies(
            [{"name": "ew_user", "value": quote(user), "url": server.base_url}]
        )
        contexts.append(context)
        pages.append(await context.new_page())
        visits.append(Visit(i + 1, user))
    url = server.url(PHASE.notebook, project=PROJECT)
    cpu_before, busy_before = _snapshot(server), _system_busy()
    start = time.monotonic()
    await asyncio.gather(
        *(_visit(p, v, url, start, timeout_s) for p, v in zip(pages, visits, strict=True))
    )
    wall = time.monotonic() - start
    cpu_after, busy_after = _snapshot(server), _system_busy()
    await asyncio.gather(*(p.close(run_before_unload=True) for p in pages), return_exceptions=True)
    await asyncio.sleep(0.5)
    await asyncio.gather(*(c.close() for c in contexts), return_exceptions=True)

    log = watcher.since(start)
    used = set(PREHEATED_ID.findall(server.log.read_text(errors="replace")))
    started = {}
    for t, line in log:
        m = KERNEL_STARTED.search(line)
        if m:
            started[m.group(1)] = t
    for v in visits:
        v.preheated = bool(v.kernel_id) and v.kernel_id in used
        v.kernel_started = started.get(v.kernel_id)
    cpu: Counter = Counter()
    for pid, (role, t) in cpu_after.items():
        if role == "kernel":
            role = "kernels (pool)" if pid in cpu_before else "kernels started in the round"
        cpu[role] += t - cpu_before.get(pid, (role, 0.0))[1]
    cpu["other processes"] = max(busy_after - busy_before - sum(cpu.values()), 0.0)
    return Round(visits, wall, dict(cpu), log)


async def _sessions(
    server: Server, watcher: LogWatcher, plan: list[int], args
) -> tuple[list[Round], str]:
    from playwright.async_api import async_playwright

    rounds = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for n in plan:
                await asyncio.to_thread(wait_until_preheated, server, [PHASE.notebook], timeout=300)
                rounds.append(await _round(browser, server, watcher, n, args.session_timeout))
        finally:
            await browser.close()
    try:  # the server recovers: a pool kernel ready and everything idle again
        waited = await asyncio.to_thread(
            wait_until_preheated, server, [PHASE.notebook], timeout=300
        )
        after = f"after the last round the pool was ready and idle again in {waited:.1f} s"
    except RuntimeError as exc:
        after = f"after the last round: {exc}"
    return rounds, after


def run_sessions(server: Server, watcher: LogWatcher, n: int, args) -> None:
    """One session alone (`--samples` times, after one warm-up) against N at once."""
    plan = [1] * (1 + args.samples) + [n]
    print()
    print(
        f"Many sessions at once: the Explore page opened by one session alone "
        f"({args.samples} times after 1 warm-up), then by {n} sessions at the same moment "
        f"(one browser, a context and a name cookie each; each waits up to "
        f"{args.session_timeout:.0f} s)",
        flush=True,
    )
    try:
        rounds, after = asyncio.run(_sessions(server, watcher, plan, args))
    except RuntimeError as exc:  # the pool never came back before a round
        print(f"  could not finish: {exc}")
        print("TARGET MISSED", flush=True)
        return
    singles = [r.visits[0] for r in rounds[1:-1]]
    many = rounds[-1]
    for i, v in enumerate(singles, 1):
        print(
            f"  alone {i}: question 1 {v.question or float('nan'):5.2f} s, save status "
            f"{v.save or float('nan'):5.2f} s; preheated kernel: {'yes' if v.preheated else 'NO'}"
            + (f"  NOT RENDERED: {v.problem}" if not v.rendered else ""),
            flush=True,
        )
    print(f"  {n} at once (seconds from the common start; log times as the lines appeared):")
    print(
        f"    {'session':>7} {'question 1':>10} {'save':>7} {'1st byte':>8} {'html done':>9}"
        f"  kernel"
    )
    for v in sorted(many.visits, key=lambda v: (not v.rendered, v.seconds)):

        def num(x: float | None, width: int) -> str:
            return f"{x:{width - 1}.2f}s" if x is not None else f"{'-':>{width}}"

        if v.preheated:
            kernel = "preheated" + (
                f" (a refill started at +{v.kernel_started:.2f} s)"
                if v.kernel_started is not None
                else " (ready before the start)"
            )
        elif v.kernel_id:
            kernel = "started for the visit" + (
                f" at +{v.kernel_started:.2f} s" if v.kernel_started is not None else ""
            )
        else:
            kernel = "unknown (no kernel id in the page)"
        print(
            f"    {v.index:>7} {num(v.question, 10)} {num(v.save, 7)} {num(v.first_byte, 8)} "
            f"{num(v.html_done, 9)}  {kernel}"
        )
        if not v.rendered:
            print(f"            NOT RENDERED: {v.problem}")
    starts = [t for t, line in many.log if KERNEL_STARTED.search(line)]
    filled = [t for t, line in many.log if POOL_FILLED.search(line)]
    handed = [t for t, line in many.log if PREHEATED_ID.search(line)]
    noted = [
        (t, line)
        for t, line in many.log
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line)
        and "is not trusted" not in line  # Voilà says so for every page it renders
    ]
    print(
        f"    server log: {len(starts)} kernels started during the round"
        + (f", from +{min(starts):.2f} s to +{max(starts):.2f} s" if starts else "")
        + (
            f"; Explore's pool filled at {', '.join(f'+{t:.1f} s' for t in filled)}"
            if filled
            else ""
        )
        + (
            f"; preheated kernels handed out at {', '.join(f'+{t:.1f} s' for t in handed)}"
            if handed
            else ""
        )
    )
    for t, line in noted[:8]:
        print(f"    log +{t:6.2f} s: {line.strip()[:150]}")
    if len(noted) > 8:
        print(f"    ... and {len(noted) - 8} more warning/error lines")
    if not noted:
        print("    no warnings or errors in the server log during the round")
    print(f"    {after}")
    cores = os.cpu_count() or 1
    print(
        f"    CPU seconds used in the round ({many.wall:.1f} s of wall time, {cores} cores: "
        f"{many.wall * cores:.0f} CPU-seconds available): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(many.cpu.items(), key=lambda kv: -kv[1]))
    )

    done_single = [v.seconds for v in singles if v.rendered]
    done_many = [v.seconds for v in many.visits if v.rendered]
    all_rendered = len(done_single) == len(singles) and len(done_many) == n
    print()
    print(
        f"  {'':<12} {'median':>8} {'max':>8}   rendered   preheated kernel  "
        f"(time until question 1 and the save status are visible)"
    )
    for label, visits, done in (
        ("1 alone", singles, done_single),
        (f"{n} at once", many.visits, done_many),
    ):
        shown = f"{med(done):7.2f}s {max(done):7.2f}s" if done else f"{'-':>8} {'-':>8}"
        print(
            f"  {label:<12} {shown}   {len(done):>2} of {len(visits):<4} "
            f"{sum(v.preheated for v in visits):>2} of {len(visits)}"
        )
    html_single = [v.html_done for v in singles if v.html_done is not None]
    html_many = [v.html_done for v in many.visits if v.html_done is not None]
    if html_single and html_many:
        print(
            f"  Voilà had sent the whole page (html done, browser clock): alone median "
            f"{med(html_single):.2f} s; {n} at once median {med(html_many):.2f} s, max "
            f"{max(html_many):.2f} s. After that the browser loads the JavaScript, fetches the "
            "widgets' state over the websocket and draws them."
        )
    if done_single and done_many:
        ratio = max(done_many) / med(done_single)
        print(
            f"Ratio max({n} at once)/one alone (median): {ratio:.2f}  (target <= "
            f"{SESSION_TARGET:g}, and every session renders"
            + ("" if all_rendered else "; NOT every session did")
            + ")"
        )
    else:
        ratio = float("inf")
        print("Ratio: not available, no session rendered")
    met = all_rendered and ratio <= SESSION_TARGET
    print("TARGET MET" if met else "TARGET MISSED", flush=True)


WIDGET_OUTPUT = "application/vnd.jupyter.widget-view+json"


def _fetch_page(server: Server, user: str, timeout_s: float) -> tuple[float, bool, str]:
    """GET the Explore page without a browser: (seconds until its last byte, whether it
    holds the page's widget output, a problem if any)."""
    from urllib.parse import quote

    path = f"/voila/render/{PHASE.notebook}?project={PROJECT}"
    t0 = time.monotonic()
    try:
        status, body = server.get(
            path, timeout=timeout_s, headers={"Cookie": f"ew_user={quote(user)}"}
        )
    except OSError as exc:
        return time.monotonic() - t0, False, f"{type(exc).__name__}: {exc}"
    took = time.monotonic() - t0
    if status != 200:
        return took, False, f"HTTP {status}"
    has = WIDGET_OUTPUT in body
    return took, has, "" if has else "the page came without its widget output"


def run_http_only(server: Server, n: int, args) -> None:
    """The server's side alone: the same visits as plain HTTP requests (no browser, so no
    JavaScript, no widget state fetched and nothing drawn): one alone, then N at once. Their
    kernels are left idle (no tab closes them); the server is stopped afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    singles = []
    for i in range(args.samples):
        wait_until_preheated(server, [PHASE.notebook], timeout=300)
        singles.append(_fetch_page(server, f"{USER} http {i + 1}", args.session_timeout))
    wait_until_preheated(server, [PHASE.notebook], timeout=300)
    with ThreadPoolExecutor(n) as pool:
        many = list(
            pool.map(
                lambda i: _fetch_page(server, f"{USER} http {i + 1}", args.session_timeout),
                range(n),
            )
        )
    print(
        f"  Without a browser ({args.samples} plain HTTP requests one at a time, then {n} at "
        "once; time until Voilà has sent the whole page, for information):"
    )
    for label, got in (("1 alone", singles), (f"{n} at once", many)):
        xs = [t for t, _, _ in got]
        ok = sum(1 for _, has, _ in got if has)
        problems = Counter(p for _, _, p in got if p)
        print(
            f"  {label:<12} {med(xs):7.2f}s {max(xs):7.2f}s   {ok:>2} of {len(got):<4} with "
            "the widget output"
            + ("; " + ", ".join(f"{k} ({v})" for k, v in problems.items()) if problems else "")
        )


def parse_voila_settings(items: list[str]) -> dict:
    """``["VoilaExecutor.iopub_timeout=60"]`` as Voilà config; a setting the repository's
    voila.json already makes is refused (that file is loaded last and would win)."""
    shipped = json.loads((REPO / "voila.json").read_text())
    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        section, dot, trait = key.strip().partition(".")
        if not sep or not dot or not section or not trait:
            raise ValueError(f"--voila-setting {item!r}: expected CLASS.TRAIT=VALUE")
        if trait in shipped.get(section, {}):
            raise ValueError(
                f"--voila-setting {item!r}: voila.json already sets {section}.{trait}, "
                "and it would win; try the change in voila.json itself"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(section, {})[trait] = value
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=5, help="samples per page (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="warm-up samples per page, discarded")
    ap.add_argument("--timeout", type=float, default=120, help="seconds allowed per page load")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also break the phase page's time down (browser, kernel, messages)",
    )
    ap.add_argument(
        "--no-synthetic",
        action="store_true",
        help="with --profile: skip the synthetic pages (saves a minute or two)",
    )
    ap.add_argument(
        "--sessions",
        type=int,
        default=10,
        metavar="N",
        help="then open the Explore page in one session alone and in N sessions at the same "
        "moment (default 10; 0 skips this)",
    )
    ap.add_argument(
        "--sessions-only",
        action="store_true",
        help="skip the phase-vs-trivial comparison, run only the sessions case",
    )
    ap.add_argument(
        "--session-timeout",
        type=float,
        default=SESSION_TIMEOUT_S,
        help=f"seconds a session may take before it counts as not rendered "
        f"(default {SESSION_TIMEOUT_S:.0f})",
    )
    ap.add_argument(
        "--http",
        action="store_true",
        help="after the sessions case, the same visits as plain HTTP requests (no browser): "
        "how long the server alone takes to send the page",
    )
    ap.add_argument(
        "--voila-setting",
        action="append",
        default=[],
        metavar="CLASS.TRAIT=JSON",
        help="an experiment: a Voilà setting added for this run only (in a voila.json on "
        "JUPYTER_CONFIG_PATH), e.g. VoilaExecutor.iopub_timeout=60; repeatable. Settings "
        "that the repository's voila.json already makes win over these, so they are refused",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = ap.parse_args(argv)
    try:
        extra_settings = parse_voila_settings(args.voila_setting)
    except ValueError as exc:
        ap.error(str(exc))
    if args.sessions_only and args.sessions < 1:
        ap.error("--sessions-only needs --sessions N with N >= 1")
    if args.sessions_only and args.profile:
        ap.error("--profile needs the phase-vs-trivial comparison; drop --sessions-only")

    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM} (set WORKBOOK_CHROMIUM)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-voila-"))
    server = None
    watcher = None
    try:
        if extra_settings:
            config = tmp / "config"
            config.mkdir()
            (config / "voila.json").write_text(json.dumps(extra_settings, indent=1))
            os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
                p for p in (str(config), os.environ.get("JUPYTER_CONFIG_PATH", "")) if p
            )
            print(
                "EXPERIMENT: Voilà settings added for this run, not in voila.json: "
                + ", ".join(args.voila_setting),
                flush=True,
            )
        workspace = tmp / "workspace"
        create_demo(Store(workspace), project_id=PROJECT, user=USER)
        notebooks = tmp / "notebooks"
        shutil.copytree(
            REPO / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        shutil.copy(TRIVIAL_SOURCE, notebooks / TRIVIAL.notebook)
        all_notebooks = sorted(p.name for p in notebooks.glob("*.ipynb"))
        preheated = preheated_notebooks(all_notebooks)

        print(
            f"Serving {', '.join(all_notebooks)} with `workbook serve --notebooks` "
            f"(settings: {REPO / 'voila.json'})",
            flush=True,
        )
        t = time.monotonic()
        server = start_server(workspace, notebooks, tmp / "voila.log")
        watcher = LogWatcher(server.log)
        print(
            f"  server answered after {time.monotonic() - t:.1f} s; {os.cpu_count()} CPUs, "
            f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        waited = wait_until_preheated(server, preheated)
        print(
            f"  kernel pools of {', '.join(preheated)} filled and idle after a further "
            f"{waited:.1f} s",
            flush=True,
        )

        if args.sessions_only:
            run_sessions(server, watcher, args.sessions, args)
            print(f"Kernels still running at the end: {_leftover_kernels(server)}")
            if args.http:
                run_http_only(server, args.sessions, args)
            return 0
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                results, waits = run_pages(
                    browser,
                    server,
                    [PHASE, TRIVIAL],
                    samples=args.samples,
                    warmup=args.warmup,
                    timeout_s=args.timeout,
                )
                leftover = _leftover_kernels(server)

                print()
                print(
                    f"Time from page.goto() to the widgets visible; {args.samples} samples per"
                    f" page after {args.warmup} warm-up; a fresh browser context each time:"
                )
                print_table(results)
                print(
                    "  (the last three columns are medians on the browser's clock, from "
                    "navigation start; 'html done': Voilà has run the cells and sent the page)"
                )
                ph = med(s.seconds for s in results[PHASE.name])
                tr = med(s.seconds for s in results[TRIVIAL.name])
                ratio = ph / tr
                browser_ratio = med(s.visible for s in results[PHASE.name]) / med(
                    s.visible for s in results[TRIVIAL.name]
                )
                all_pre = all(s.preheated for ss in results.values() for s in ss)
                pre = "yes, for every sample" if all_pre else "NO, not for every sample"
                print(
                    f"Preheated kernels: {pre}"
                    f" (voila.json: preheat_kernel, pool size 1; after each sample the script "
                    f"waited a median {med(waits):.1f} s for the pool to refill)"
                )
                print(f"Kernels still running at the end: {leftover}")
                other = med(
                    s.cpu.get("other processes", 0.0) for ss in results.values() for s in ss
                )
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                print(
                    f"Machine: {os.cpu_count()} CPUs, load average now {load}; other processes "
                    f"used a median {other:.2f} CPU-seconds per sample"
                    + (
                        "  (WARNING: the machine was busy; expect noisy timings)"
                        if other > 0.25 * (os.cpu_count() or 1)
                        else ""
                    )
                )
                print(
                    f"Ratio phase/trivial (medians): {ratio:.2f}  (target <= {TARGET_RATIO}; "
                    f"on the browser's clock {browser_ratio:.2f})"
                )
                print("TARGET MET" if ratio <= TARGET_RATIO else "TARGET MISSED", flush=True)
            finally:
                browser.close()

        if args.sessions >= 1:
            run_sessions(server, watcher, args.sessions, args)
            print(f"Kernels still running at the end: {_leftover_kernels(server)}")
            if args.http:
                run_http_only(server, args.sessions, args)
        stop_server(server)
        server = None

        if args.profile:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                try:
                    print_profile(results, workspace, notebooks, tmp, browser, args)
                finally:
                    browser.close()
        return 0
    finally:
        if watcher is not None:
            watcher.stop()
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"(kept {tmp}; Voilà's log is {tmp / 'voila.log'})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _leftover_kernels(server: Server) -> str:
    """How many kernels are alive (the pool's and those of closed tabs), and their memory."""
    import psutil

    kernels = []
    for p in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                kernels.append(p.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    refused = len(SHUTDOWN_403.findall(server.log.read_text(errors="replace")))
    text = f"{len(kernels)}, {sum(kernels) / 2**20:.0f} MiB in all"
    if refused:
        text += (
            f"; Voilà refused {refused} tab-close shutdown requests with 403 ('_xsrf' "
            "argument missing), so closed tabs keep their kernels until culled"
        )
    return text


if __name__ == "__main__":
    sys.exit(main())
