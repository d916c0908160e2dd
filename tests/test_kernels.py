"""Kernels forked from the zygote: each one a new process, nothing shared, a fallback that works."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import workbook.export.kernel as export_module
import workbook.kernels as kernels
from workbook.demo import create_demo
from workbook.export import execute_report, export_projects
from workbook.store import Store

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="kernels are forked from a zygote on Linux only"
)

# Reports what earlier runs left behind, then leaves some of its own: in a preloaded module,
# the environment, the module table and the notebook's globals.
PROBE = """\
import os, sys
import workbook.export.report as report
seen = [getattr(report, "LEAK", None), os.environ.get("WORKBOOK_LEAK"),
        "leak_module" in sys.modules, globals().get("SEEN")]
report.LEAK = project
os.environ["WORKBOOK_LEAK"] = project
sys.modules["leak_module"] = report
SEEN = project
print(os.getpid(), os.getppid(), repr(seen))
"""
NOTHING_SEEN = [None, None, False, None]


def _notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project = "x"\nworkspace = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture
def fresh_zygote(monkeypatch):
    """No zygote yet in this process, forking allowed; any zygote started is stopped after."""
    monkeypatch.delenv(kernels.ENV_SWITCH, raising=False)
    kernels.shutdown_shared_zygote()
    yield
    kernels.shutdown_shared_zygote()


@pytest.fixture
def probe(tmp_path, monkeypatch, fresh_zygote):
    """Run the probe notebook for a project; returns (pid, parent pid, what it saw)."""
    monkeypatch.setattr(export_module, "REPORT_NOTEBOOK", _notebook(tmp_path / "p.ipynb", PROBE))

    def run(project: str) -> tuple[int, int, list]:
        nb = execute_report(project, str(tmp_path))
        pid, ppid, seen = nb.cells[-1].outputs[0]["text"].split(maxsplit=2)
        return int(pid), int(ppid), ast.literal_eval(seen)

    return run


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_each_project_gets_a_new_process_forked_from_the_zygote(probe):
    runs = [probe(project) for project in ("first", "second", "third")]
    zygote = kernels.shared_zygote()
    assert zygote is not None
    assert zygote.alive
    pids = [pid for pid, _, _ in runs]
    assert len(set(pids)) == 3
    assert zygote.pid not in pids
    assert all(ppid == zygote.pid for _, ppid, _ in runs)  # forked, not started normally
    for _, _, seen in runs:
        assert seen == NOTHING_SEEN  # nothing from the run before, even in the report module
    assert _wait_until(lambda: not _children(zygote.pid))  # every kernel has exited


def test_disabled_forking_starts_kernels_normally(probe, monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    (pid1, ppid1, seen1), (pid2, ppid2, seen2) = probe("first"), probe("second")
    assert ppid1 == ppid2 == os.getpid()  # children of this process: the usual launch
    assert pid1 != pid2
    assert seen1 == seen2 == NOTHING_SEEN
    assert kernels.shared_zygote() is None


def test_falls_back_when_the_zygote_cannot_start(probe, monkeypatch):
    monkeypatch.setattr(kernels, "ZYGOTE_COMMAND", (sys.executable, "-c", "raise SystemExit(3)"))
    (pid1, ppid1, seen1), (pid2, ppid2, seen2) = probe("first"), probe("second")
    assert ppid1 == ppid2 == os.getpid()
    assert pid1 != pid2
    assert seen1 == seen2 == NOTHING_SEEN
    assert kernels.shared_zygote() is None  # given up on for this process


def test_falls_back_when_the_zygote_dies(probe):
    _, ppid, _ = probe("first")
    zygote = kernels.shared_zygote()
    assert zygote is not None
    assert ppid == zygote.pid
    os.kill(zygote.pid, signal.SIGKILL)
    _wait_until(lambda: not zygote.alive)
    pid, ppid, seen = probe("second")
    assert ppid == os.getpid()
    assert seen == NOTHING_SEEN


@pytest.mark.slow
def test_a_kernel_that_runs_too_long_is_stopped_and_the_zygote_carries_on(
    tmp_path, monkeypatch, probe
):
    _, ppid, _ = probe("warm-up")
    zygote = kernels.shared_zygote()
    assert zygote is not None
    assert ppid == zygote.pid
    hang = _notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(120)")
    monkeypatch.setattr(export_module, "REPORT_NOTEBOOK", hang)
    monkeypatch.setattr(export_module, "KERNEL_TIMEOUT_S", 2)
    with pytest.raises(Exception, match="(?i)timed? ?out"):
        execute_report("hang", str(tmp_path))
    assert _wait_until(lambda: not _children(zygote.pid))  # the stuck kernel is gone
    monkeypatch.setattr(export_module, "REPORT_NOTEBOOK", tmp_path / "p.ipynb")
    _, ppid, seen = probe("after")
    assert ppid == zygote.pid
    assert seen == NOTHING_SEEN


def test_the_zygote_exits_with_its_parent():
    code = (
        "import os, sys\n"
        "from workbook.kernels import Zygote\n"
        "z = Zygote.start()\n"
        "print(z.pid, flush=True)\n"
        "os._exit(0)\n"  # no clean-up at all: as if killed
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    zygote = int(out.stdout.split()[0])
    assert _wait_until(lambda: not Path(f"/proc/{zygote}").exists(), timeout=60)


def test_only_the_standard_kernel_command_is_forked():
    exe = sys.executable
    assert kernels._ipykernel_args([exe, "-m", "ipykernel_launcher", "-f", "c.json"]) == [
        "-f",
        "c.json",
    ]
    assert kernels._ipykernel_args(["/other/python", "-m", "ipykernel_launcher", "-f", "c"]) is None
    assert kernels._ipykernel_args([exe, "-m", "other_kernel", "-f", "c.json"]) is None
    assert kernels._plain_launch({"cwd": "/tmp", "env": {}, "stdout": None})
    assert not kernels._plain_launch({"cwd": "/tmp", "stdout": subprocess.PIPE})
    assert not kernels._plain_launch({"independent": True})


@pytest.mark.slow
def test_reports_are_the_same_from_forked_and_normal_kernels(tmp_path, monkeypatch, fresh_zygote):
    store = Store(tmp_path / "workspace")
    create_demo(store, project_id="demo", user="setup")

    def export(folder: str) -> dict[str, str]:
        out = tmp_path / folder
        result = export_projects(
            ["demo"], workspace=store.root, formats="html,md", out=out, jobs=1, progress=False
        )
        assert not result.failed, result.failed[0].error
        # papermill gives its injected cell a random id; nothing else may differ
        return {
            p.suffix: re.sub(r"cell-id=[0-9a-f-]+", "cell-id=X", p.read_text(encoding="utf-8"))
            for p in out.iterdir()
        }

    forked = export("forked")
    assert kernels.shared_zygote() is not None
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    normal = export("normal")
    assert forked == normal


WIDGET_TARGETS = """\
import os
targets = sorted(get_ipython().kernel.comm_manager.targets)
print(os.getppid(), repr(targets))
"""


def test_a_forked_kernel_registers_the_widget_comm_targets(tmp_path, monkeypatch, fresh_zygote):
    """The zygote imports ipywidgets before there is a kernel; a forked kernel must still
    answer "jupyter.widget.control", or a page fetches every widget's state one by one."""
    monkeypatch.setattr(
        export_module, "REPORT_NOTEBOOK", _notebook(tmp_path / "t.ipynb", WIDGET_TARGETS)
    )
    nb = execute_report("x", str(tmp_path))
    ppid, targets = nb.cells[-1].outputs[0]["text"].split(maxsplit=1)
    zygote = kernels.shared_zygote()
    assert zygote is not None
    assert int(ppid) == zygote.pid  # the kernel was forked
    assert {"jupyter.widget", "jupyter.widget.control"} <= set(ast.literal_eval(targets))
