"""The notebooks: clean, tiny, tagged for papermill, and they really render their phase."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO
from workbook.bank import load_bank
from workbook.demo import create_demo
from workbook.store import Store

NOTEBOOKS = REPO / "notebooks"
APP_PAGES = [
    "00-start",
    "01-explore",
    "02-develop",
    "03-implement",
    "04-review",
    "05-portfolio",
    "06-maturity",
    "07-transparency",
]
CHOSEN_BY = {"05-portfolio": None, "06-maturity": "authority"}
"""What the address chooses on each page (its parameter besides ``workspace``): a project,
unless named here."""
PHASE_OF = {"01-explore": "explore", "02-develop": "develop", "03-implement": "implement"}
BANK = load_bank()


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", APP_PAGES)
def test_notebook_is_committed_clean_and_tiny(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    lines = [ln for c in code for ln in c.source.splitlines() if ln.strip()]
    assert len(lines) <= 5, lines
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    chosen = CHOSEN_BY.get(name, "project")
    params = {ln.split("=")[0].strip() for ln in tagged[0].source.splitlines() if "=" in ln}
    assert params == {"workspace", *([chosen] if chosen else [])}


@pytest.mark.parametrize("name", list(PHASE_OF))
def test_phase_notebook_title_matches_the_bank(name):
    phase = BANK.phase(PHASE_OF[name])
    first, last = phase.questions[0].number, phase.questions[-1].number
    title = _read(name).cells[0].source.splitlines()[0]
    assert title.startswith(f"# {phase.title} (questions {first} to {last})")
    assert f'phase_page("{phase.id}"' in "".join(c.source for c in _read(name).cells)


@pytest.fixture(scope="module")
def notebook_workspace(tmp_path_factory):
    """A workspace with the demo project, for executing the notebooks as a hub user would in
    JupyterLab (``JUPYTERHUB_USER``): with a roles.yaml and the user a member of the demo."""
    from workbook.members import set_members

    workspace = tmp_path_factory.mktemp("nb") / "workspace"
    store = Store(workspace)
    create_demo(store, project_id="demo", user="setup")
    set_members(store, "demo", ["notebook-test"], user="setup")
    (workspace / "roles.yaml").write_text("users:\n  notebook-test: [author, reviewer]\n")
    return workspace


def _widget_texts(nb: nbformat.NotebookNode) -> str:
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return json.dumps(state.get("state", {}), ensure_ascii=False)


@pytest.mark.parametrize("name", list(PHASE_OF))
def test_executed_phase_notebook_renders_every_question(name, notebook_workspace, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(notebook_workspace))
    monkeypatch.setenv("JUPYTERHUB_USER", "notebook-test")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    nb = _read(name)
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = _widget_texts(nb)
    assert "Project not found" not in texts
    phase = BANK.phase(PHASE_OF[name])
    for q in phase.questions:
        assert f'id=\\"question-{q.number}\\"' in texts, q.id
        assert f"Your answer to question {q.number}" in texts
        for prompt, _ in q.iter_prompts():
            assert json.dumps(prompt.text, ensure_ascii=False)[1:-1] in texts, f"{q.id}.{prompt.id}"
    others = [q for q in BANK.questions if q.phase != phase.id]
    assert not [q.id for q in others if f'Your answer to question {q.number}"' in texts]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def test_executed_start_notebook_lists_the_demo(notebook_workspace, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(notebook_workspace))
    monkeypatch.setenv("JUPYTERHUB_USER", "notebook-test")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    nb = _read("00-start")
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = _widget_texts(nb)
    assert "Early Help Family Support Indicator" in texts
    assert "01-explore.ipynb?project=demo" in texts


def test_executed_review_notebook_shows_every_question_with_comments(
    notebook_workspace, monkeypatch
):
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(notebook_workspace))
    monkeypatch.setenv("JUPYTERHUB_USER", "notebook-test")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    nb = _read("04-review")
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = _widget_texts(nb)
    assert "Project not found" not in texts
    for q in BANK.questions:
        assert f'id=\\"question-{q.number}\\"' in texts, q.id
        assert f"Add a comment on question {q.number}" in texts, q.id
    for phase in BANK.phases:
        assert f"Record sign-off of the {phase.title}" in texts
    assert "Download the action plan (CSV)" in texts
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def test_executed_maturity_notebook_shows_the_authority(tmp_path, monkeypatch):
    """06-maturity.ipynb run as papermill runs it: the parameters cell, then the injected
    values (an authority's id and a workspace), in a kernel of its own."""
    import papermill

    from workbook.demo import create_demo_maturity
    from workbook.store import AssessmentStore

    workspace = tmp_path / "workspace"
    create_demo_maturity(AssessmentStore(workspace), user="setup")
    (workspace / "roles.yaml").write_text("users:\n  notebook-test: [reviewer]\n")
    monkeypatch.setenv("JUPYTERHUB_USER", "notebook-test")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("WORKBOOK_WORKSPACE", raising=False)
    out = tmp_path / "06-maturity.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "06-maturity.ipynb"),
        str(out),
        parameters={
            "authority": "hartmoor-county-council-fictional",
            "workspace": str(workspace),
        },
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = nbformat.read(out, as_version=4)
    texts = _widget_texts(nb)
    assert "Hartmoor County Council (fictional)" in texts
    assert "Record agreed level for Strategy" in texts  # the page itself, for a reviewer
    assert "Self-assessment not found" not in texts
    assert "Traceback" not in texts
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def test_nbval_runs_every_notebook(notebook_workspace):
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(notebook_workspace)}
    env.pop("QUERY_STRING", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-q",
            "-W",
            "ignore::DeprecationWarning",
            # The starter evidence notebooks run with papermill, on their own data and
            # parameters, in tests/test_evidence_notebooks.py.
            "--ignore",
            str(NOTEBOOKS / "evidence"),
            str(NOTEBOOKS),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert set(APP_PAGES) < set(names)  # the app pages and the report, at least
    cells = sum(len([c for c in _read(n).cells if c.cell_type == "code"]) for n in names)
    assert f"{cells} passed" in proc.stdout, proc.stdout  # every code cell of every notebook
