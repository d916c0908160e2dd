"""The `workbook` command, run for real through subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def run(*args: str, workspace: Path, entry: str = "module", check_ok: bool = True):
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "NO_COLOR": "1"}
    env.pop("JUPYTERHUB_USER", None)
    cmd = [sys.executable, "-m", "workbook"] if entry == "module" else [str(BIN / "workbook")]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=60)
    if check_ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("entry", ["module", "script"])
def test_help_lists_every_command(tmp_path, entry):
    out = run("--help", workspace=tmp_path, entry=entry).stdout
    for command in ("new", "list", "status", "validate", "demo", "schema"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command


def test_new_list_status_validate(tmp_path):
    out = run("new", "Early Help Predictor", "--authority", "Hartmoor", workspace=tmp_path).stdout
    assert "early-help-predictor" in out
    listing = run("list", workspace=tmp_path).stdout
    assert re.search(r"early-help-predictor\s+Early Help Predictor\s+Hartmoor\s+1\s+0/13", listing)
    status = run("status", "early-help-predictor", workspace=tmp_path).stdout
    assert "Explore phase" in status
    assert "0/4" in status
    assert "0/6" in status
    ok = run("validate", "early-help-predictor", workspace=tmp_path).stdout
    assert ok.startswith("OK:")


def test_status_of_the_demo_shows_progress(tmp_path):
    run("demo", workspace=tmp_path)
    out = run("status", "demo", workspace=tmp_path).stdout
    explore = next(line for line in out.splitlines() if line.startswith("Explore phase "))
    assert explore.split()[2:4] == ["3/4", "4/4"]
    assert "Further work needed" in out
    again = run("demo", workspace=tmp_path).stdout
    assert "already exists" in again


def test_validate_a_good_and_a_bad_file(tmp_path):
    run("demo", workspace=tmp_path)
    good = tmp_path / "demo" / "workbook.json"
    assert run("validate", str(good), workspace=tmp_path).returncode == 0
    data = json.loads(good.read_text())
    data["answers"]["q2"]["status"] = "nearly"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = run("validate", str(bad), workspace=tmp_path, check_ok=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert str(bad) in line
    assert "answers.q2.status" in line
    assert "nearly" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("status", "../../etc"), "not a valid project id"),
        (("status", "missing"), "no project 'missing'"),
        (("validate", "/nonexistent/file.json"), "not a valid project id"),
        (("new", "", "--authority", "LA"), "tool_name"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, words):
    proc = run(*args, workspace=tmp_path, check_ok=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error:")
    assert words in line


def test_schema_check_passes_on_the_committed_schema(tmp_path):
    assert "up to date" in run("schema", "--check", workspace=tmp_path).stdout


def test_every_command_is_documented_in_the_readme():
    from workbook.cli import cli

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"workbook {name}" not in readme]
    assert not missing, f"README does not document: {missing}"


def test_import_stays_light():
    heavy = ("papermill", "nbconvert", "matplotlib", "ipywidgets", "jsonschema")
    code = f"import sys, workbook.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_kernel_start_up_path_stays_light():
    """What a Voilà kernel imports before the page appears: no Jupyter server, no
    jsonschema format checkers (rfc3987), no export machinery."""
    heavy = (
        "jsonschema",
        "rfc3987_syntax",
        "rfc3987",
        "jupyter_server",
        "voila",
        "papermill",
        "nbconvert",
        "matplotlib",
    )
    code = (
        "import sys; from widgets import phase_page; from widgets.voila_request import "
        f"request_params; request_params(); print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
