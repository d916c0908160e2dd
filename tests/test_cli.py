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
from tests.signing import approve_anyway

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
    for command in (
        "new",
        "list",
        "status",
        "validate",
        "demo",
        "schema",
        "history",
        "restore",
        "actions",
    ):
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


# --------------------------------------------------------------------------- review commands


def _reviewed_demo(workspace: Path) -> None:
    """The demo, with a resolved challenge, an Explore sign-off, then an edit to question 1."""
    from workbook import review
    from workbook.store import Change, Store

    run("demo", workspace=workspace)
    store = Store(workspace)
    _, tid = review.add_comment(
        store, "demo", target="q3", kind="challenge", text="Where is the DPIA?", user="sam"
    )
    review.set_resolved(store, "demo", tid, True, user="sam")
    approve_anyway(
        store, "demo", "explore", decision="approved", reviewer="Sam Patel", role="Chair",
        user="sam",
    )  # fmt: skip
    wb = store.open("demo")
    old = wb.answer("q1").response
    new = old.replace("supervised classification", "gradient-boosted")
    store.apply(
        "demo", [Change("answers.q1.response", old, new)], user="priya", base_revision=wb.revision
    )


def test_status_shows_sign_offs_open_challenges_and_overdue_actions(tmp_path):
    from workbook import review
    from workbook.store import Store

    _reviewed_demo(tmp_path)
    review.add_comment(
        Store(tmp_path), "demo", target="q7", kind="challenge", text="Is it fair?", user="sam"
    )
    out = run("status", "demo", workspace=tmp_path).stdout
    review_part = out.split("Oversight review", 1)[1]
    assert "Explore phase: Out of date: changed since revision 4" in review_part
    assert "Develop phase: Not signed off yet; 1 open challenge\n" in review_part
    assert "Implement phase: Not signed off yet\n" in review_part


def test_history_lists_every_revision_with_who_and_labels(tmp_path):
    _reviewed_demo(tmp_path)
    out = run("history", "demo", workspace=tmp_path).stdout
    assert re.search(r"^Revision 1 .* \S+$", out, re.M)
    assert "Challenge on Question 3: Where is the DPIA?" in out
    assert "Resolved a thread on Question 3" in out
    assert (
        "Sign-off of the Explore phase: Approved with 1 question incomplete by Sam Patel (Chair), "
        "revision 4" in out
    )
    assert re.search(r"^Revision 6 .* priya$", out, re.M)
    assert "[-supervised classification-]{+gradient-boosted+}" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal
    explore = run("history", "demo", "--phase", "explore", workspace=tmp_path).stdout
    assert "Question 5" not in explore
    assert "Question 1: your answer" in explore


def test_history_since_signoff_shows_the_word_diff(tmp_path):
    _reviewed_demo(tmp_path)
    out = run("history", "demo", "--since-signoff", "explore", workspace=tmp_path).stdout
    assert "Out of date: changed since revision 4" in out
    assert "Question 1: your answer" in out
    assert "by priya" in out
    assert "[-supervised classification-]{+gradient-boosted+}" in out
    data = json.loads(run("history", "demo", "--since", "4", "--json", workspace=tmp_path).stdout)
    (change,) = data["changes"]
    assert change["path"] == "answers.q1.response"
    assert change["users"] == ["priya"]
    assert "{+gradient-boosted+}" in change["diff"]
    log = json.loads(run("history", "demo", "--json", workspace=tmp_path).stdout)
    assert [e["revision"] for e in log][-1] == 6
    assert log[-1]["label"] == "Question 1: your answer"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--since-signoff", "explore", "--since", "2"), "cannot be used together"),
        (("--since-signoff", "develop"), "never been signed off"),
        (("--since-signoff", "planning"), "unknown phase 'planning'"),
        (("--since", "99"), "revision 99 does not exist"),
    ],
)
def test_history_errors_are_one_line(tmp_path, args, words):
    _reviewed_demo(tmp_path)
    proc = run("history", "demo", *args, workspace=tmp_path, check_ok=False)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error:")
    assert words in line


def test_restore_shows_the_change_and_saves_a_new_revision(tmp_path):
    _reviewed_demo(tmp_path)
    # without --yes it asks; answering no changes nothing
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(tmp_path), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "workbook", "restore", "demo", "q1.response", "--revision", "4"],
        input="n\n", capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert "[-gradient-boosted-]{+supervised classification+}" in proc.stdout
    assert "Nothing changed." in proc.stdout
    out = run("restore", "demo", "answers.q1.response", "--revision", "4", "--yes",
              "--user", "kim", workspace=tmp_path).stdout  # fmt: skip
    assert "saved as revision 7" in out
    from workbook.store import Store

    store = Store(tmp_path)
    assert "supervised classification" in store.open("demo").answer("q1").response
    last = store.history("demo")[-1]
    assert (last["revision"], last["user"], last["path"]) == (7, "kim", "answers.q1.response")
    again = run("restore", "demo", "q1.response", "--revision", "4", "--yes", workspace=tmp_path)
    assert "nothing to restore" in again.stdout
    proc = run("restore", "demo", "q1.nothing", "--revision", "2", "--yes", workspace=tmp_path,
               check_ok=False)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: unknown field")


def test_actions_table_overdue_and_csv(tmp_path):
    import csv

    run("demo", workspace=tmp_path)
    out = run("actions", "demo", workspace=tmp_path).stdout
    assert re.search(r"^Q4\s+explore\s+Finish the DPIA .*2026-10-30\s+open\s+OVERDUE", out, re.M)
    assert "3 actions" in out
    overdue = run("actions", "demo", "--overdue", workspace=tmp_path).stdout
    assert "Finish the DPIA" in overdue
    assert "Write a purpose" not in overdue
    text = run("actions", "demo", "--csv", "-", workspace=tmp_path).stdout
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["question"] for r in rows] == ["Q4", "Q4", "Q7"]
    target = tmp_path / "plan.csv"
    assert "Wrote 3 actions" in run("actions", "demo", "--csv", str(target),
                                     workspace=tmp_path).stdout  # fmt: skip
    with target.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.DictReader(fh)) == rows
