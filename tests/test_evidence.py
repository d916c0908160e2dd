"""Evidence notebooks: attaching, the checks that refuse unsafe ones, the sign-off
fingerprint, and re-running them (issue 16, items 2 and 4)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from workbook import review
from workbook.cli import cli
from workbook.demo import create_demo
from workbook.errors import UnsafeProjectId, WorkbookError
from workbook.evidence import EvidenceError, check_notebook, outputs_of
from workbook.export.evidence import run_evidence
from workbook.store import Store

REPO = Path(__file__).resolve().parents[1]
STARTER = REPO / "notebooks" / "evidence"


def notebook(*cells: str, params: str = 'project = "demo"\nworkspace = None', title="Check"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\nWhat this checks."),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        *[nbformat.v4.new_code_cell(c) for c in cells],
    ]
    return nbformat.writes(nb).encode()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ws")
    create_demo(s, project_id="demo", user="ann")
    return s


def invoke(store, *args):
    result = CliRunner().invoke(cli, ["--workspace", str(store.root), *args])
    return result


# --------------------------------------------------------------------------- attaching


def test_attach_copies_the_notebook_and_its_data_and_records_who(store, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "priya")
    result = invoke(
        store,
        "evidence",
        "add",
        "demo",
        "q7",
        str(STARTER / "error-rates-by-group.ipynb"),
        "--data",
        str(STARTER / "data" / "referrals.csv"),
    )
    assert result.exit_code == 0, result.output
    folder = store.project_dir("demo") / "evidence" / "q7"
    assert (folder / "error-rates-by-group.ipynb").read_bytes() == (
        STARTER / "error-rates-by-group.ipynb"
    ).read_bytes()
    assert (folder / "data" / "referrals.csv").is_file()
    hashes = store.open("demo").evidence_hashes
    assert set(hashes["q7"]) == {"error-rates-by-group.ipynb", "data/referrals.csv"}
    lines = [e for e in store.history("demo") if e["outcome"] == "evidence"]
    assert [e["user"] for e in lines] == ["priya", "priya"]
    assert lines[0]["path"] == "evidence.q7.error-rates-by-group.ipynb"
    shown = invoke(store, "history", "demo", "--limit", "2").output
    assert "Question 7: evidence error-rates-by-group.ipynb added" in shown
    listed = invoke(store, "evidence", "list", "demo").output
    assert "q7  error-rates-by-group.ipynb" in listed
    assert "not run yet" in listed


def test_a_kept_name_is_made_safe_and_bad_names_are_refused(store, tmp_path):
    source = tmp_path / "My Bias Tests.ipynb"
    source.write_bytes(notebook("print(1)"))
    result = invoke(store, "evidence", "add", "demo", "7", str(source))
    assert result.exit_code == 0, result.output
    assert "my-bias-tests.ipynb" in store.open("demo").evidence_hashes["q7"]
    for qid, name in [
        ("q7", "../x.ipynb"),
        ("q7", "a/b.ipynb"),
        ("../q7", "x.ipynb"),
        ("q7", ".hidden.ipynb"),
        ("q7", "x.py"),
    ]:
        with pytest.raises(UnsafeProjectId):
            store.add_evidence("demo", qid, name, b"{}", user="ann")
    bad_q = invoke(store, "evidence", "add", "demo", "q99", str(source))
    assert bad_q.exit_code == 1
    assert "not a question" in bad_q.output


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ('project = __import__("os").getcwd()', "parameter 'project' is code"),
        ("import os", "may only assign plain values"),
        ('data_path = "../../other/secret.csv"', "leads outside"),
        ('data_path = "/etc/passwd"', "leads outside"),
        ("x = (1, {2: 3})", "not a plain value"),
    ],
)
def test_unsafe_parameters_are_refused_naming_file_and_parameter(store, tmp_path, params, expected):
    source = tmp_path / "bad.ipynb"
    source.write_bytes(notebook("print(1)", params=params))
    result = invoke(store, "evidence", "add", "demo", "q7", str(source))
    assert result.exit_code == 1
    assert expected in result.output
    assert str(source) in result.output
    assert "Traceback" not in result.output
    assert not (store.project_dir("demo") / "evidence").exists()


def test_a_notebook_without_a_parameters_cell_or_not_a_notebook_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)")]
    with pytest.raises(EvidenceError, match="exactly one cell tagged 'parameters'"):
        check_notebook(nbformat.writes(nb).encode(), "x.ipynb")
    with pytest.raises(EvidenceError, match="x.ipynb: not a readable notebook"):
        check_notebook(b"not json", "x.ipynb")
    r_nb = nbformat.v4.new_notebook()
    r_nb.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    with pytest.raises(EvidenceError, match="evidence notebooks run in Python"):
        check_notebook(nbformat.writes(r_nb).encode(), "x.ipynb")


def test_a_data_path_through_a_symlink_out_of_the_folder_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a\n1\n")
    store.add_evidence("demo", "q7", "a.ipynb", notebook("print(1)"), user="ann")
    folder = store.evidence_folder("demo", "q7")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "linked").symlink_to(outside)
    raw = notebook("print(1)", params='data_path = "data/linked/secret.csv"')
    with pytest.raises(EvidenceError, match="symbolic link out of"):
        check_notebook(raw, "a.ipynb", folder=folder)


# --------------------------------------------------------------------------- sign-off


def _approve_develop(store):
    wb = store.open("demo")
    review.sign_off(
        store,
        "demo",
        "develop",
        decision="approved",
        reviewer="Sam",
        user="sam",
        confirm_incomplete=review.incomplete_questions(wb, "develop"),
    )


def test_changing_the_analysis_puts_the_signoff_out_of_date(store):
    _approve_develop(store)
    assert review.signoff_state(store.open("demo"), "develop").status == "current"
    first = notebook("print(1)")  # (each call makes new cell ids)
    store.add_evidence("demo", "q7", "bias.ipynb", first, user="ann")
    assert review.signoff_state(store.open("demo"), "develop").status == "out_of_date"
    assert review.signoff_state(store.open("demo"), "explore").status != "out_of_date"

    _approve_develop(store)
    assert review.signoff_state(store.open("demo"), "develop").status == "current"
    # Edited in JupyterLab: the file itself changes, not through the store.
    path = store.evidence_folder("demo", "q7") / "bias.ipynb"
    path.write_bytes(notebook("print(2)"))
    assert review.signoff_state(store.open("demo"), "develop").status == "out_of_date"
    path.write_bytes(first)
    assert review.signoff_state(store.open("demo"), "develop").status == "current"
    # Its data counts too.
    store.add_evidence("demo", "q7", "bias.ipynb", first, {"numbers.csv": b"a\n1\n"}, user="ann")
    assert review.signoff_state(store.open("demo"), "develop").status == "out_of_date"
    # The portfolio reads the same way.
    from workbook.portfolio import portfolio_rows

    row = next(r for r in portfolio_rows(store) if r.project_id == "demo")
    assert row.phase("develop").signoff == "out_of_date"


def test_a_symlinked_notebook_is_not_evidence_and_is_reported(store, tmp_path):
    outside = tmp_path / "elsewhere.ipynb"
    outside.write_bytes(notebook("print('outside')"))
    folder = store.project_dir("demo") / "evidence" / "q7"
    folder.mkdir(parents=True)
    (folder / "linked.ipynb").symlink_to(outside)
    assert store.open("demo").evidence_hashes == {}
    problems = store.evidence_problems("demo")
    assert problems
    assert problems[0]["name"] == "linked.ipynb"
    assert "symbolic link" in problems[0]["reason"]
    runs = run_evidence(store, "demo", ran_by="ann")
    assert runs["q7"][0]["status"] == "refused"
    assert "symbolic link" in runs["q7"][0]["reason"]
    # A link in place of the evidence folder itself: nothing is followed or written there.
    os.rename(folder, tmp_path / "moved")
    (store.project_dir("demo") / "evidence").rmdir()
    (store.project_dir("demo") / "evidence").symlink_to(
        tmp_path / "moved", target_is_directory=True
    )
    with pytest.raises(UnsafeProjectId):
        store.add_evidence("demo", "q7", "x.ipynb", notebook("print(1)"), user="ann")
    assert not (tmp_path / "moved" / "x.ipynb").exists()


# --------------------------------------------------------------------------- running


def test_runs_report_each_notebook_and_a_failure_does_not_stop_the_others(store):
    store.add_evidence(
        "demo",
        "q7",
        "works.ipynb",
        notebook(
            "import os\nprint('project', project, 'in', os.path.basename(os.getcwd()))",
            "import pandas as pd\npd.DataFrame({'group': ['a', 'b'], 'rate': [0.1, 0.25]})",
            "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nplt.show()",
        ),
        user="ann",
    )
    store.add_evidence(
        "demo",
        "q7",
        "breaks.ipynb",
        notebook("print('before')", "raise ValueError('child A, DOB 03/04/2015')"),
        user="ann",
    )
    store.add_evidence(
        "demo", "q10", "slow.ipynb", notebook("import time\ntime.sleep(30)"), user="ann"
    )
    runs = run_evidence(store, "demo", ran_by="priya", timeout=3)
    by_name = {r["name"]: r for found in runs.values() for r in found}
    works, breaks, slow = by_name["works.ipynb"], by_name["breaks.ipynb"], by_name["slow.ipynb"]
    assert works["status"] == "passed"
    assert works["error"] is None
    assert works["ran_by"] == "priya"
    assert works["kernel"].startswith("python3 (Python 3.")
    assert works["sha256"] == store.open("demo").evidence_hashes["q7"]["works.ipynb"]
    kinds = [i["kind"] for i in works["items"]]
    assert "table" in kinds
    assert "image" in kinds
    texts = " ".join(i.get("text", "") for i in works["items"])
    assert "project demo in q7" in texts  # the parameter was given; it ran in its folder
    table = next(i for i in works["items"] if i["kind"] == "table")
    assert table["rows"] == [["0", "a", "0.10"], ["1", "b", "0.25"]]
    image = next(i for i in works["items"] if i["kind"] == "image")
    assert base64.b64decode(image["data"]).startswith(b"\x89PNG")
    assert image["alt"]

    assert breaks["status"] == "failed"
    assert breaks["error"] == "ValueError"
    assert {"kind": "error", "name": "ValueError"} in breaks["items"]
    assert "DOB" not in json.dumps(breaks)  # the message (which can hold anything) is not kept
    assert slow["status"] == "failed"
    assert slow["error"] == "TimeoutError"

    kept = store.read_evidence_run("demo", "q7", "breaks.ipynb")
    assert kept["status"] == "failed"
    assert kept["ran_by"] == "priya"
    listed = invoke(store, "evidence", "list", "demo").output
    assert "failed (ValueError)" in listed


def test_outputs_keep_no_markup_no_stderr_and_only_real_images():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x", metadata={})
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="/home/ann/secret path warning"),
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": "<table><tr><th>a</th></tr><tr><td><script>alert(1)</script>"
                "<img src=https://example.org/x.png onerror=alert(2)>ok</td></tr></table>",
                "text/plain": "fallback",
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(b"<svg onload=alert(1)>").decode()},
        ),
        nbformat.v4.new_output(
            "display_data", data={"image/svg+xml": "<svg onload=alert(1)/>", "text/plain": "fig"}
        ),
        nbformat.v4.new_output(
            "error", ename="KeyError", evalue="'child A'", traceback=["/home/ann/x.py line 1"]
        ),
    ]
    inject = nbformat.v4.new_code_cell(
        "workspace = '/home/ann/ws'", metadata={"tags": ["injected-parameters"]}
    )
    nb.cells = [inject, cell]
    items = outputs_of(nb, with_code=True)
    dumped = json.dumps(items)
    assert "/home/ann" not in dumped
    assert "child A" not in dumped
    assert "<script" not in dumped
    assert "onerror" not in dumped
    assert "onload" not in dumped
    table = next(i for i in items if i["kind"] == "table")
    assert table["header"] == [["a"]]
    assert table["rows"] == [["ok"]]
    assert not [i for i in items if i["kind"] == "image"]  # not a PNG, and SVG is not kept
    assert {"kind": "error", "name": "KeyError"} in items


def test_errors_from_the_store_name_the_file(store):
    with pytest.raises(WorkbookError, match="no evidence 'missing.ipynb'"):
        store.read_evidence("demo", "q7", "missing.ipynb")
