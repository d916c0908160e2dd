"""The starter evidence notebooks (notebooks/evidence/): committed clean, and they run with
papermill on the shipped (invented) data, showing tables and figures."""

from __future__ import annotations

import csv
import subprocess
import sys

import nbformat
import papermill
import pytest

from tests.conftest import REPO

EVIDENCE = REPO / "notebooks" / "evidence"
DATA = EVIDENCE / "data" / "referrals.csv"
NOTEBOOKS = ["error-rates-by-group", "data-quality"]


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(EVIDENCE / f"{name}.ipynb", as_version=4)


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean_with_a_parameters_cell(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = {ln.split("=")[0].strip() for ln in tagged[0].source.splitlines() if "=" in ln}
    assert {"project", "workspace", "data_path", "group"} <= params
    assert 'data_path = "data/referrals.csv"' in tagged[0].source
    assert "what it does not show" in "".join(
        c.source for c in nb.cells if c.cell_type == "markdown"
    )


def test_shipped_data_is_what_the_script_makes_and_says_it_is_invented(tmp_path):
    script = (EVIDENCE / "data" / "make_referrals.py").read_text(encoding="utf-8")
    assert "INVENTED" in script.split('"""')[1]
    assert "invented" in (EVIDENCE / "README.md").read_text(encoding="utf-8").lower()
    copy = tmp_path / "make_referrals.py"
    copy.write_text(script, encoding="utf-8")
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True, timeout=60)
    assert (tmp_path / "referrals.csv").read_bytes() == DATA.read_bytes()
    rows = _rows()
    assert 1900 <= len(rows) <= 2100
    assert {r["ethnicity_group"] for r in rows} >= {"White", "Not recorded"}
    assert any(r["deprivation_decile"] == "" for r in rows)  # something for Q5 to find
    assert all(r["referral_id"].startswith("SYN-") for r in rows)


def _run(name: str, tmp_path, **parameters) -> nbformat.NotebookNode:
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(
        str(EVIDENCE / f"{name}.ipynb"),
        str(out),
        parameters={"project": "demo", "workspace": None, **parameters},
        cwd=str(EVIDENCE),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=120,
    )
    return nbformat.read(out, as_version=4)


def _outputs(nb: nbformat.NotebookNode) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _tables(nb: nbformat.NotebookNode) -> list[str]:
    return [
        o.data["text/html"]
        for o in _outputs(nb)
        if "text/html" in o.get("data", {}) and "<table" in o.data["text/html"]
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_shipped_data_and_shows_tables_and_a_figure(name, tmp_path):
    before = sorted(p.name for p in EVIDENCE.rglob("*"))
    nb = _run(name, tmp_path, data_path="data/referrals.csv", group="ethnicity_group")
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert _tables(nb), "no table shown"
    assert [o for o in outputs if "image/png" in o.get("data", {})], "no figure shown"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert sorted(p.name for p in EVIDENCE.rglob("*")) == before  # wrote nothing beside it


def test_error_rate_table_names_every_group_and_the_fairlearn_metrics(tmp_path):
    nb = _run("error-rates-by-group", tmp_path, threshold=0.5)
    groups = {r["ethnicity_group"] for r in _rows() if r["needed_statutory_support"]}
    assert len(groups) == 6
    by_group = _tables(nb)[0]
    for metric in ("selection rate", "false positive rate", "false negative rate", "precision"):
        assert metric in by_group
    for group in groups:
        assert f"<th>{group}</th>" in by_group, group
    gaps = _tables(nb)[1]
    assert "<th>difference</th>" in gaps
    assert "<th>ratio</th>" in gaps


def test_a_missing_column_is_a_one_line_error_naming_the_file(tmp_path):
    data = tmp_path / "thin.csv"
    data.write_text("referral_id,ethnicity_group\nSYN-1,White\n", encoding="utf-8")
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        _run("error-rates-by-group", tmp_path, data_path=str(data))
    assert raised.value.ename == "KeyError"
    assert "thin.csv" in raised.value.evalue
    assert "model_score" in raised.value.evalue
