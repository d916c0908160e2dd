"""Evidence notebooks end to end: attached, exported, and their re-run figures and tables in
the HTML, PDF and Word documents (issue 16)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import nbformat
import pytest
from click.testing import CliRunner

from workbook.cli import cli
from workbook.demo import STARTER_NOTEBOOKS, create_demo
from workbook.export import export_projects
from workbook.store import Store


def _broken() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A check that breaks"),
        nbformat.v4.new_code_cell('project = "demo"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('before')\n1 / 0"),
    ]
    return nbformat.writes(nb).encode()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is needed (poppler-utils)")
        pytest.skip(f"{name} not installed")
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence-export")
    store = Store(root / "ws")
    create_demo(store, project_id="demo", user="ann")
    data = {"referrals.csv": (STARTER_NOTEBOOKS / "data" / "referrals.csv").read_bytes()}
    raw = (STARTER_NOTEBOOKS / "error-rates-by-group.ipynb").read_bytes()
    store.add_evidence("demo", "q7", "error-rates-by-group.ipynb", raw, data, user="ann")
    store.add_evidence("demo", "q7", "broken.ipynb", _broken(), user="ann")
    result = export_projects(
        ["demo"], workspace=store.root, formats="html,pdf,docx,md", out=root / "out",
        jobs=1, progress=False, ran_by="priya",
    )  # fmt: skip
    assert result.projects[0].ok, result.projects[0].error
    files = {p.suffix[1:]: p for p in result.projects[0].files}
    return store, result.projects[0], files


def _q7(html: str) -> str:
    start = html.index('data-question-id="q7"')
    return html[start : html.index("</section>", html.index("Analysis", start))]


def test_the_runs_are_reported_and_a_failure_does_not_stop_the_export(exported):
    _, project, files = exported
    statuses = {r["name"]: (r["status"], r["error"]) for r in project.evidence}
    assert statuses == {
        "error-rates-by-group.ipynb": ("passed", None),
        "broken.ipynb": ("failed", "ZeroDivisionError"),
    }
    assert set(files) >= {"html", "pdf", "docx", "md"}


def test_html_shows_the_figures_and_tables_under_question_7(exported):
    store, _, files = exported
    html = files["html"].read_text(encoding="utf-8")
    q7 = html[html.index('data-question-id="q7"') : html.index('data-question-id="q8"')]
    assert q7.count('src="data:image/png;base64,') >= 2  # error rates and calibration
    assert "false positive rate" in q7
    assert "<table" in q7
    assert "ZeroDivisionError" in q7
    digest = store.open("demo").evidence_hashes["q7"]["error-rates-by-group.ipynb"]
    assert digest[:12] in q7
    assert "priya" in q7 or "Priya" in q7
    assert "MetricFrame(" not in q7  # no code without --with-code
    assert "<script" not in html.lower()
    other = html[html.index('data-question-id="q6"') : html.index('data-question-id="q7"')]
    assert "data:image" not in other


def test_pdf_has_the_table_text_and_the_figures(exported):
    _, _, files = exported
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(files["pdf"]), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "false positive rate" in text
    assert "ZeroDivisionError" in text
    listed = subprocess.run(
        [_tool("pdfimages"), "-list", str(files["pdf"])], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(listed) >= 2


def test_word_has_the_pictures_and_a_table(exported):
    import docx

    _, _, files = exported
    document = docx.Document(str(files["docx"]))
    assert len(document.inline_shapes) >= 2
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert "false positive rate" in cells
    body = "\n".join(p.text for p in document.paragraphs)
    assert "ZeroDivisionError" in body
    with zipfile.ZipFile(files["docx"]) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) >= 2


def test_with_code_shows_the_code_and_no_evidence_shows_none(exported, tmp_path):
    store, _, _ = exported
    runner = CliRunner()
    args = ["--workspace", str(store.root), "export", "demo", "--to", "html"]
    with_code = runner.invoke(cli, [*args, "--out", str(tmp_path / "a"), "--with-code"])
    assert with_code.exit_code == 0, with_code.output
    assert "evidence q7 broken.ipynb: FAILED (ZeroDivisionError)" in with_code.output
    html = next((tmp_path / "a").glob("*.html")).read_text(encoding="utf-8")
    assert "MetricFrame(" in html
    none = runner.invoke(cli, [*args, "--out", str(tmp_path / "b"), "--no-evidence"])
    assert none.exit_code == 0, none.output
    html = next((tmp_path / "b").glob("*.html")).read_text(encoding="utf-8")
    assert "data:image/png" not in html
