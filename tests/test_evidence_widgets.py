"""Evidence notebooks on the phase pages (widgets/evidence.py), headless.

Read-only everywhere: a question with an evidence notebook shows its last run (title,
provenance in words, tables, figures) as safe HTML. In Voilà nothing on the page can attach
or run a notebook, whatever the browser sends; in JupyterLab an author can attach one from
a path and run it again now.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

import ipywidgets as w
import pytest
from bs4 import BeautifulSoup

from tests.conftest import REPO
from widgets import PhaseWorkbook, phase_page
from widgets.evidence import EvidenceView
from workbook.export.dates import moment
from workbook.members import set_members
from workbook.roles import Actor, Role
from workbook.session import EditSession

STARTER = REPO / "notebooks" / "evidence"
NOTEBOOK = STARTER / "error-rates-by-group.ipynb"
DATA = STARTER / "data" / "referrals.csv"
NAME = "error-rates-by-group.ipynb"
# a real 1x1 PNG
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)
RAN_AT = "2026-12-01T11:29:00.096848+00:00"


@pytest.fixture
def project(store):
    """Project 'p' with the starter bias notebook (and its data) attached to question 7."""
    store.create("Early Help Predictor", "Hartmoor", project_id="p", user="setup")
    store.add_evidence(
        "p", "q7", NAME, NOTEBOOK.read_bytes(), {"referrals.csv": DATA.read_bytes()},
        user="setup",
    )  # fmt: skip
    return store


@pytest.fixture
def voila(monkeypatch):
    """A Voilà page's kernel (Voilà sets VOILA_KERNEL_ID; a Jupyter session name too)."""
    monkeypatch.setenv("JPY_SESSION_NAME", "02-develop.ipynb")
    monkeypatch.setenv("VOILA_KERNEL_ID", "k-1")


@pytest.fixture
def lab(monkeypatch):
    """A notebook's kernel in JupyterLab."""
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/notebooks/02-develop.ipynb")
    monkeypatch.delenv("VOILA_KERNEL_ID", raising=False)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)


def _sha(store, qid="q7", name=NAME) -> str:
    return hashlib.sha256(store.read_evidence("p", qid, name)).hexdigest()


def _record(store, **changes):
    record = {
        "question": "q7",
        "name": NAME,
        "title": "Error rates and calibration by group",
        "sha256": _sha(store),
        "ran_at": RAN_AT,
        "ran_by": "Priya Shah",
        "kernel": "python3 (Python 3.11.7)",
        "status": "passed",
        "error": None,
        "reason": "",
        "duration_s": 5.42,
        "with_code": False,
        "items": [
            {"kind": "markdown", "text": "## Error rates by group\n\nComputed with *fairlearn*."},
            {"kind": "text", "text": "1502 of 2000 referrals have a known outcome.\n"},
            {
                "kind": "table",
                "caption": "",
                "header": [["", "false positive rate"], ["ethnicity_group", ""]],
                "rows": [["Asian or Asian British", "0.184"], ["White", "0.256"]],
                "more": 0,
            },
            {"kind": "image", "mime": "image/png", "data": PNG, "alt": "Figure 1: Gaps"},
        ],
    }
    record.update(changes)
    store.save_evidence_run("p", "q7", NAME, record)
    return record


def _page(store, user: str | Actor = "ann", phase="develop") -> PhaseWorkbook:
    return PhaseWorkbook(EditSession(store, "p", user=user), phase)


def _words(html: str) -> str:
    text = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
    return re.sub(r" ([.,:;)])", r"\1", text)  # "passed ." (after a tag) -> "passed."


def _tree(widget) -> list:
    out = [widget]
    for child in getattr(widget, "children", ()):
        out += _tree(child)
    return out


# ---- read-only view


def test_a_question_with_evidence_shows_its_last_run(project, voila):
    record = _record(project)
    page = _page(project)
    view = page.question("q7").analyses
    assert view is not None
    html = view.blocks[NAME].value
    assert (
        '<h4 class="ew-h4" id="analysis-q7-error-rates-by-group">Analysis: Error rates and '
        "calibration by group</h4>" in html
    )
    words = _words(html)
    short = record["sha256"][:12]
    assert f"Notebook {NAME} (SHA-256 {short})." in words
    assert moment(RAN_AT).startswith("1 Dec 2026, ")
    assert (
        f"Last run {moment(RAN_AT)} by Priya Shah, 5.4 s, python3 (Python 3.11.7), passed." in words
    )
    assert "changed since" not in words
    # outputs: markdown (headings under the analysis's h4), text, a real table, the figure
    assert "<h5>Error rates by group</h5>" in html
    assert "<em>fairlearn</em>" in html
    assert '<pre class="ew-ev-text">1502 of 2000 referrals have a known outcome.</pre>' in html
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table")
    assert [th.get_text() for th in table.thead.find_all("th")] == [
        "ethnicity_group",
        "false positive rate",
    ]  # pandas' index-name row went into the empty corner
    assert all(th["scope"] == "col" for th in table.thead.find_all("th"))
    assert table.tbody.find("th", scope="row").get_text() == "Asian or Asian British"
    assert "<td>0.256</td>" in html
    wrap = table.parent
    assert (wrap["class"], wrap["role"], wrap["tabindex"]) == (["ew-table-wrap"], "region", "0")
    assert wrap["aria-label"] == "Question 7, Error rates and calibration by group: table 1"
    # The same notebook under another question: its tables' regions have other names
    # (axe's landmark-unique: the demo has this notebook under questions 7 and 10).
    from dataclasses import replace

    from widgets.evidence import notebook_html

    (file,) = project.evidence("p")["q7"]
    other = notebook_html(record, replace(file, question_id="q10"))
    other_wrap = BeautifulSoup(other, "html.parser").find("div", role="region")
    assert other_wrap["aria-label"] == "Question 10, Error rates and calibration by group: table 1"
    assert f'<img src="data:image/png;base64,{PNG}" alt="Figure 1: Gaps">' in html
    # a question without evidence notebooks gets nothing at all in Voilà
    assert page.question("q5").analyses is None
    assert page.question("q8").analyses is None


def test_failed_refused_and_never_run_are_said_in_words(project, voila):
    _record(project, status="failed", error="ZeroDivisionError", items=[
        {"kind": "text", "text": "before"}, {"kind": "error", "name": "ZeroDivisionError"},
    ])  # fmt: skip
    words = _words(_page(project).question("q7").analyses.blocks[NAME].value)
    assert "python3 (Python 3.11.7), failed: ZeroDivisionError." in words
    assert "The notebook stopped here with an error: ZeroDivisionError." in words

    reason = f"p/evidence/q7/{NAME}: parameter 'project' is code, not a plain value"
    _record(project, status="refused", error="EvidenceError", reason=reason, items=[])
    words = _words(_page(project).question("q7").analyses.blocks[NAME].value)
    assert f"refused: {reason}." in words

    project.remove_evidence("p", "q7", NAME, user="setup")  # its run goes with it
    project.add_evidence("p", "q7", NAME, NOTEBOOK.read_bytes(), user="setup")
    html = _page(project).question("q7").analyses.blocks[NAME].value
    words = _words(html)
    assert "Analysis: Error rates and calibration by group" in words  # the notebook's title
    assert "Not run yet: it runs again each time the workbook is exported." in words
    assert f"(SHA-256 {_sha(project)[:12]})" in words
    assert "<img" not in html


def test_a_notebook_changed_after_its_run_says_so(project, voila):
    _record(project)
    changed = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    changed["cells"][0]["source"] = "# Error rates by group, threshold 0.4\n"
    project.add_evidence("p", "q7", NAME, json.dumps(changed).encode(), user="ann")
    words = _words(_page(project).question("q7").analyses.blocks[NAME].value)
    assert (
        "The notebook has changed since this run (it is now SHA-256 "
        f"{_sha(project)[:12]}): the outputs below are from the earlier version." in words
    )
    assert "Analysis: Error rates and calibration by group" in words  # the run's title


def test_hostile_content_in_a_run_record_is_neutralised(project, voila):
    svg = base64.b64encode(b"<svg onload=alert(1)><script>alert(2)</script></svg>").decode()
    not_png = base64.b64encode(b"<script>alert(3)</script>").decode()
    _record(
        project,
        title="<script>alert('title')</script>",
        ran_by="<b onmouseover=alert(4)>x</b>",
        kernel='"><script>alert(5)</script>',
        ran_at="not a date<script>",
        duration_s="<script>",
        status="failed",
        error="<script>alert(6)</script>",
        items=[
            {"kind": "markdown", "text": "<script>alert(7)</script>\n\n[x](javascript:alert(8))"
             " <img src=https://evil.example/t.png onerror=alert(9)>"},
            {"kind": "table", "caption": "<i onclick=alert(10)>c</i>",
             "header": [["<script>h</script>"]], "rows": [["<img src=x onerror=alert(11)>"]]},
            {"kind": "image", "mime": "image/svg+xml", "data": svg, "alt": "svg"},
            {"kind": "image", "mime": "image/png", "data": not_png, "alt": "fake png"},
            {"kind": "image", "mime": "image/png", "data": PNG + '" onerror="alert(12)',
             "alt": "x"},
            {"kind": "image", "mime": "image/png", "data": PNG,
             "alt": '"><script>alert(13)</script>'},
            {"kind": "text", "text": "</pre><script>alert(14)</script>"},
            {"kind": "error", "name": "<script>alert(15)</script>"},
            {"kind": "html", "html": "<script>alert(16)</script>"},
            "<script>alert(17)</script>",
        ],
    )  # fmt: skip
    html = _page(project).question("q7").analyses.blocks[NAME].value
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["script", "svg", "iframe", "object", "embed", "style"])
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        for attr in ("href", "src"):
            assert "javascript" not in str(tag.get(attr, "")).lower(), tag
    images = soup.find_all("img")
    assert [img["src"] for img in images] == [f"data:image/png;base64,{PNG}"]
    assert images[0]["alt"] == '"><script>alert(13)</script>'  # as text, in the attribute
    assert "evil.example" not in " ".join(str(t.get("src", "")) for t in soup.find_all(True))
    words = _words(html)
    assert "Analysis: <script>alert('title')</script>" in words  # shown, as text
    assert "<img src=x onerror=alert(11)>" in words
    assert "failed: Error." in words  # an error name that is not a name is not shown


# ---- Voilà: nothing attaches or runs


def _calls(monkeypatch) -> list[str]:
    """Record every call that could attach or run an evidence notebook."""
    import workbook.export.evidence as runner
    from workbook.store import Store

    calls: list[str] = []

    def spy(name):
        def call(*_a, **_k):
            calls.append(name)
            raise AssertionError(f"{name} was called")

        return call

    monkeypatch.setattr(runner, "run_one", spy("run_one"))
    monkeypatch.setattr(runner, "run_evidence", spy("run_evidence"))
    monkeypatch.setattr(Store, "add_evidence", spy("add_evidence"))
    monkeypatch.setattr(Store, "remove_evidence", spy("remove_evidence"))
    return calls


def _send_everything(widgets, path: str) -> None:
    """What a browser could send each widget: enable it, type a notebook's path into it,
    submit it and click it (the kernel handles each message as it would from the page)."""

    def msg(data):
        return {"content": {"data": data}, "buffers": []}

    for widget in widgets:
        state = {}
        if "disabled" in widget.keys:
            state["disabled"] = False
        if isinstance(getattr(widget, "value", None), str):
            state["value"] = path
        if state:
            widget._handle_msg(msg({"method": "update", "state": state, "buffer_paths": []}))
    for widget in widgets:
        for event in ("submit", "click"):
            widget._handle_msg(msg({"method": "custom", "content": {"event": event}}))


def test_in_voila_nothing_on_the_page_can_attach_or_run_a_notebook(
    project, voila, monkeypatch, tmp_path
):
    from ipywidgets.widgets.widget import _instances

    _record(project)
    calls = _calls(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / NAME).write_bytes(NOTEBOOK.read_bytes())
    monkeypatch.setenv("QUERY_STRING", "project=p")
    monkeypatch.setenv("HTTP_COOKIE", "ew_user=Sam%20Patel")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    before = set(_instances)
    page = phase_page("develop", workspace=project.root)
    (workbook_page,) = page.children
    assert isinstance(workbook_page, PhaseWorkbook)
    view = workbook_page.question("q7").analyses
    assert view is not None
    assert view.form is None
    assert not view.run_buttons
    assert all(type(x) in (EvidenceView, w.VBox, w.HTML) for x in _tree(view))
    every = [_instances[k] for k in set(_instances) - before if k in _instances]
    labels = " | ".join(str(getattr(x, "description", "")) for x in every)
    assert "Attach" not in labels, labels
    assert "Run" not in labels, labels

    _send_everything(every, NAME)
    more = [_instances[k] for k in set(_instances) - before if k in _instances]
    _send_everything(more, str(tmp_path / NAME))  # and whatever the first round made
    assert calls == []
    assert project.evidence_hashes("p")["q7"][NAME] == _sha(project)
    assert list(project.evidence("p")) == ["q7"]
    assert project.read_evidence_run("p", "q7", NAME)["ran_at"] == RAN_AT


def test_the_same_messages_in_lab_do_reach_attach_and_run(project, lab, monkeypatch, tmp_path):
    """The check above can fail: in JupyterLab, for an author, the same messages attach and
    run (so the Voilà page is safe because it has no such control, not by chance)."""
    from ipywidgets.widgets.widget import _instances

    _record(project)
    calls = _calls(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / NAME).write_bytes(NOTEBOOK.read_bytes())
    before = set(_instances)
    _page(project, user="Priya Shah")
    _send_everything([_instances[k] for k in set(_instances) - before if k in _instances], NAME)
    assert {"add_evidence", "run_one"} <= set(calls)


# ---- JupyterLab: attach and run, as the person at the page


def test_in_lab_an_author_attaches_a_notebook_from_a_path(project, lab, monkeypatch, tmp_path):
    notebooks = tmp_path / "notebooks"
    (notebooks / "evidence" / "data").mkdir(parents=True)
    (notebooks / "evidence" / "Bias Checks.ipynb").write_bytes(NOTEBOOK.read_bytes())
    (notebooks / "evidence" / "data" / "referrals.csv").write_bytes(DATA.read_bytes())
    monkeypatch.chdir(notebooks)  # JupyterLab's kernel runs in the notebook's folder
    page = _page(project, user="Priya Shah")
    q8 = page.question("q8")  # no evidence yet: in Lab, the form to attach some
    view = q8.analyses
    assert view is not None
    assert not view.blocks
    assert view.path.description == "Question 8: the notebook to attach (its path)"
    assert view.data.description.startswith("Question 8: data files it reads")
    assert view.attach_button.description == "Attach a notebook to question 8"
    assert "Attach a notebook to question 8</h4>" in view.form.children[0].value

    view.attach()
    assert "Question 8: give the path of the notebook to attach" in view.note.value
    view.path.value = "evidence/missing.ipynb"
    view.attach()
    assert "ew-error" in view.note.value
    assert "evidence/missing.ipynb: no such file" in view.note.value

    view.path.value = "evidence/Bias Checks.ipynb"
    view.attach()  # without its data: attached, with a note that data_path names none
    words = _words(view.note.value)
    assert words.startswith("Attached bias-checks.ipynb to question 8. It has not run yet")
    assert "data_path (data/referrals.csv) names a data file that is not attached" in words
    assert view.path.value == ""

    view.path.value = str(notebooks / "evidence" / "Bias Checks.ipynb")  # absolute
    view.data.value = " evidence/data/referrals.csv , "
    view.attach_button.click()
    words = _words(view.note.value)
    assert words.startswith(
        "Attached bias-checks.ipynb to question 8 with data/referrals.csv, in place of the "
        "earlier copy. It has not run yet"
    )
    assert "not attached" not in words
    assert project.evidence_hashes("p")["q8"] == {
        "bias-checks.ipynb": hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest(),
        "data/referrals.csv": hashlib.sha256(DATA.read_bytes()).hexdigest(),
    }
    entries = [e for e in project.history("p") if e.get("outcome") == "evidence"]
    mine = [e for e in entries if e["path"].startswith("evidence.q8.")]
    assert {e["path"] for e in mine} == {"evidence.q8.bias-checks.ipynb",
                                        "evidence.q8.data.referrals.csv"}  # fmt: skip
    assert all(e["user"] == "Priya Shah" for e in mine)
    assert project.history("p")[-1]["user"] == "Priya Shah"
    # the view shows it at once, not run yet, with a button to run it
    words = _words(view.blocks["bias-checks.ipynb"].value)
    assert "Analysis: Error rates and calibration by group" in words
    assert "Not run yet" in words
    assert view.run_buttons["bias-checks.ipynb"].description == (
        "Run now: question 8, bias-checks.ipynb"
    )


def test_in_lab_a_parameter_that_is_code_is_refused(project, lab, monkeypatch, tmp_path):
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    cell["source"] = 'project = __import__("os").getcwd()\ndata_path = "data/referrals.csv"\n'
    (tmp_path / "sneaky.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    view = _page(project, user="Priya Shah").question("q10").analyses
    before = project.history("p")
    view.path.value = "sneaky.ipynb"
    view.attach()
    note = view.note.value
    assert 'class="ew-error"' in note
    assert "sneaky.ipynb: parameter &#x27;project&#x27; is code, not a plain value" in note
    assert "refused" in note
    assert "Traceback" not in note
    assert "\n" not in _words(note)
    assert "q10" not in project.evidence_hashes("p")
    assert project.history("p") == before
    assert view.path.value == "sneaky.ipynb"  # kept, to be corrected


def test_in_lab_run_again_now_runs_the_notebook_and_shows_the_new_run(project, lab):
    _record(project, ran_at="2020-01-02T03:04:05+00:00", items=[])
    page = _page(project, user="Priya Shah")
    view = page.question("q7").analyses
    button = view.run_buttons[NAME]
    assert button.description == f"Run again now: question 7, {NAME}"
    button.click()  # a real run: papermill, a fresh kernel, the shipped data (a few seconds)
    record = project.read_evidence_run("p", "q7", NAME)
    assert record["ran_at"] > "2026"
    assert (record["ran_by"], record["status"]) == ("Priya Shah", "passed")
    assert record["sha256"] == _sha(project)
    assert view.run_note.value.startswith('<p class="ew-done" role="status">Ran ')
    html = view.blocks[NAME].value
    words = _words(html)
    assert f"Last run {moment(record['ran_at'])} by Priya Shah" in words
    assert "Asian or Asian British" in words
    assert "<table" in html
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/]{1000,}={0,2}" alt="Fig', html)
    assert view.run_buttons[NAME] is not button
    assert button.comm is None


def test_in_lab_a_viewer_gets_the_evidence_without_controls(project, lab):
    _record(project)
    set_members(project, "p", ["Val"], user="admin")
    viewer = Actor(name="Val", roles=frozenset({Role.viewer}), source="hub", enforced=True)
    page = _page(project, user=viewer)
    view = page.question("q7").analyses
    assert view.form is None
    assert not view.run_buttons
    assert "Analysis: Error rates" in view.blocks[NAME].value
    assert page.question("q8").analyses is None
    view.run_again(NAME)  # as a crafted call would: refused, nothing runs
    view.attach()
    assert project.read_evidence_run("p", "q7", NAME)["ran_at"] == RAN_AT


def test_in_lab_a_notebook_edited_on_disk_to_take_code_is_refused_when_run(project, lab):
    """The check is made again on each run, on the bytes that would run."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    cell["source"] = 'project = __import__("os").getcwd()\n'
    (project.evidence_folder("p", "q7") / NAME).write_text(json.dumps(nb), encoding="utf-8")
    view = _page(project, user="Priya Shah").question("q7").analyses
    view.run_buttons[NAME].click()
    note = _words(view.run_note.value)
    assert note.startswith(f"{NAME} was not run: ")
    assert "parameter 'project' is code, not a plain value" in note
    record = project.read_evidence_run("p", "q7", NAME)
    assert (record["status"], record["items"]) == ("refused", [])
    words = _words(view.blocks[NAME].value)
    assert "refused: " in words
    assert "parameter 'project' is code" in words
