"""Widgets driven headless: set values in Python, then check the JSON on disk."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json

import pytest

from widgets import PhaseWorkbook, StartPage, phase_page, start_page
from widgets.project import UserNamePrompt
from workbook.bank import load_bank
from workbook.members import set_members
from workbook.session import EditSession

BANK = load_bank()


@pytest.fixture
def blank_store(store):
    """A workspace with one empty project, id 'p'."""
    store.create("Early Help Predictor", "Hartmoor", project_id="p", user="setup")
    return store


pytestmark = pytest.mark.usefixtures("no_running_loop")


def _page(store, phase_id, user="ann"):
    return PhaseWorkbook(EditSession(store, "p", user=user), phase_id)


def _disk(store):
    return json.loads(store.answers_path("p").read_text())


@pytest.mark.parametrize("phase", BANK.phases, ids=lambda p: p.id)
def test_every_field_of_every_question_reaches_disk(blank_store, phase):
    page = _page(blank_store, phase.id)
    for n, item in enumerate(phase.checklist):
        page.checklist.status[item.id].value = ["done", "partly", "not_yet", "not_applicable"][
            n % 4
        ]
        page.checklist.note[item.id].value = f"note on {item.id}"
    for q in phase.questions:
        qw = page.question(q.id)
        qw.response.value = f"Answer to {q.id} with **markdown**"
        qw.status.value = "further_work_needed"
        for pid, area in qw.prompt_notes.items():
            area.value = f"{q.id}/{pid}"
        for box in qw.informed_by.values():
            box.value = True
        qw.informed_note.value = "Parents' panel, June"
        row = qw.evidence.add_row()
        row["reference"].value = f"DPIA section {q.number}"
        row["description"].value = "Risk table"
        action = qw.actions.add_row()
        action["action"].value = f"Follow up {q.id}"
        action["owner"].value = "Priya"
        action["due"].value = dt.date(2027, 3, q.number)
        action["status"].value = "done"

    data = _disk(blank_store)
    for n, item in enumerate(phase.checklist):
        entry = data["phases"][phase.id]["checklist"][item.id]
        assert entry == {
            "status": ["done", "partly", "not_yet", "not_applicable"][n % 4],
            "note": f"note on {item.id}",
        }
    for q in phase.questions:
        answer = data["answers"][q.id]
        assert answer["response"] == f"Answer to {q.id} with **markdown**"
        assert answer["status"] == "further_work_needed"
        assert answer["prompts"] == {pid: f"{q.id}/{pid}" for pid in q.prompt_ids}
        assert answer["informed_by"] == {
            "end_users": True,
            "experts_by_experience": True,
            "affected_stakeholders": True,
            "external_experts": True,
            "note": "Parents' panel, June",
        }
        assert answer["evidence"] == [
            {"reference": f"DPIA section {q.number}", "description": "Risk table"}
        ]
        assert answer["further_work"] == [
            {
                "action": f"Follow up {q.id}",
                "owner": "Priya",
                "due": f"2027-03-{q.number:02d}",
                "status": "done",
            }
        ]
        assert answer["updated_by"] == "ann"
    # other phases untouched
    others = [q for q in BANK.questions if q.phase != phase.id]
    assert all(data["answers"][q.id]["response"] == "" for q in others)


def test_every_prompt_has_a_labelled_note_field(blank_store):
    for phase in BANK.phases:
        page = _page(blank_store, phase.id)
        for q in phase.questions:
            qw = page.question(q.id)
            assert list(qw.prompt_notes) == list(q.prompt_ids)
            for pid, area in qw.prompt_notes.items():
                assert area.description == q.prompt(pid).text
            assert qw.response.description == f"Your answer to question {q.number}"


def test_the_first_words_of_an_answer_set_the_status_to_in_progress(blank_store):
    page = _page(blank_store, "explore")
    q1 = page.question("q1")
    q1.response.value = "We are drafting this"
    assert q1.status.value == "in_progress"
    assert _disk(blank_store)["answers"]["q1"]["status"] == "in_progress"
    q1.status.value = "complete"
    q1.response.value = "We are drafting this, and more"
    assert _disk(blank_store)["answers"]["q1"]["status"] == "complete"  # only from not started


def test_progress_updates_as_questions_are_completed(blank_store):
    page = _page(blank_store, "implement")
    assert page.progress.figures.complete == 0
    assert "0 of 3 questions complete" in page.progress.value
    page.question("q11").response.value = "Told the public"
    assert page.progress.figures.answered == 1
    for q in ("q11", "q12", "q13"):
        page.question(q).status.value = "complete"
    for item in page.checklist.status.values():
        item.value = "done"
    assert page.progress.figures.complete == 3
    assert page.progress.figures.fraction == 1.0
    assert "3 of 3 questions complete" in page.progress.value
    q12 = page.question("q12")
    q12.prompt_notes["better_outcomes"].value = "Evaluation report"
    assert "notes on 1 of 4 prompts" in q12.progress.value


def test_save_indicator_says_saved_with_the_time(blank_store):
    page = _page(blank_store, "explore")
    page.question("q1").response.value = "x"
    assert page.save_indicator.kind == "saved"
    assert "Saved " in page.save_indicator.text


def test_edits_to_different_questions_in_two_tabs_both_survive(blank_store):
    tab_a, tab_b = _page(blank_store, "explore", "ann"), _page(blank_store, "explore", "bob")
    tab_a.question("q1").response.value = "from ann"
    tab_b.question("q2").response.value = "from bob"
    data = _disk(blank_store)
    assert data["answers"]["q1"]["response"] == "from ann"
    assert data["answers"]["q2"]["response"] == "from bob"
    # Bob's save brought Ann's edit into Bob's page.
    assert tab_b.question("q1").response.value == "from ann"


def test_a_conflict_is_shown_and_keep_mine_saves_mine(blank_store):
    tab_a, tab_b = _page(blank_store, "explore", "ann"), _page(blank_store, "explore", "bob")
    tab_a.question("q3").response.value = "ann's answer"
    tab_b.question("q3").response.value = "bob's answer"
    assert _disk(blank_store)["answers"]["q3"]["response"] == "ann's answer"
    assert tab_b.save_indicator.kind == "conflict"
    panel = tab_b.conflicts
    assert panel.layout.display == "flex"
    shown = " ".join(getattr(c, "value", "") for c in panel.children[1].children)
    assert "ann&#x27;s answer" in shown  # escaped: user text is never raw HTML
    assert "bob&#x27;s answer" in shown
    assert "Saved by ann" in shown
    keep = panel.children[1].children[1].children[0]
    assert keep.description == "Keep mine"
    keep.click()
    assert _disk(blank_store)["answers"]["q3"]["response"] == "bob's answer"
    assert tab_b.save_indicator.kind == "saved"
    assert panel.layout.display == "none"


def test_take_theirs_shows_their_value_and_drops_mine(blank_store):
    tab_a, tab_b = _page(blank_store, "explore", "ann"), _page(blank_store, "explore", "bob")
    tab_a.question("q3").response.value = "ann's answer"
    tab_b.question("q3").response.value = "bob's answer"
    tab_b.question("q4").response.value = "bob on q4 still saves"
    take = tab_b.conflicts.children[1].children[1].children[1]
    assert take.description == "Take theirs"
    take.click()
    data = _disk(blank_store)
    assert data["answers"]["q3"]["response"] == "ann's answer"
    assert data["answers"]["q4"]["response"] == "bob on q4 still saves"
    assert tab_b.question("q3").response.value == "ann's answer"
    assert not tab_b.session.conflicts


def test_a_field_updated_from_someone_else_is_checked_against_what_was_shown(blank_store):
    tab_a, tab_b = _page(blank_store, "explore", "ann"), _page(blank_store, "explore", "bob")
    tab_a.question("q1").response.value = "ann v1"
    tab_b.question("q2").response.value = "bob"  # brings "ann v1" into bob's q1
    tab_b.question("q1").response.value = "ann v1, edited by bob"
    assert _disk(blank_store)["answers"]["q1"]["response"] == "ann v1, edited by bob"
    assert not tab_b.session.conflicts


def test_debounced_save_waits_for_typing_to_stop(blank_store):
    async def scenario():
        page = _page(blank_store, "explore")
        area = page.question("q1").response
        for text in ("H", "He", "Hel", "Hello"):
            area.value = text
        assert _disk(blank_store)["answers"]["q1"]["response"] == ""  # not on the keystroke
        assert page.save_indicator.kind == "pending"
        await asyncio.sleep(1.5)
        return page

    # A thread of its own, so the test does not depend on whether the main thread already
    # has an event loop running.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        page = pool.submit(asyncio.run, scenario()).result()
    assert _disk(blank_store)["answers"]["q1"]["response"] == "Hello"
    assert page.save_indicator.kind == "saved"
    saves = [h for h in blank_store.history("p") if h["path"] == "answers.q1.response"]
    assert len(saves) == 1  # one save for the burst of keystrokes


def test_removing_an_evidence_row_saves_the_shorter_list(blank_store):
    page = _page(blank_store, "develop")
    editor = page.question("q5").evidence
    assert editor.children == (editor.empty_note, editor.add_button)  # empty, but can add
    for ref in ("A", "B"):
        editor.add_row()["reference"].value = ref
    editor.remove_row(0)
    assert _disk(blank_store)["answers"]["q5"]["evidence"] == [
        {"reference": "B", "description": ""}
    ]


def test_an_invalid_edit_shows_an_error_and_keeps_the_file(blank_store):
    page = _page(blank_store, "explore")
    before = blank_store.answers_path("p").read_bytes()
    page.question("q1").response.value = "x" * 100_001
    assert page.save_indicator.kind == "error"
    assert "100000" in page.save_indicator.text
    assert blank_store.answers_path("p").read_bytes() == before


def test_user_text_is_escaped_in_the_page(store):
    store.create("<script>alert(1)</script>", "<b>LA</b>", project_id="p", user="x")
    page = PhaseWorkbook(EditSession(store, "p", user="<img src=x onerror=alert(1)>"), "explore")
    header = page.children[0].value
    assert "<script>" not in header
    assert "&lt;script&gt;" in header
    assert "<img" not in header
    assert "&lt;img" in header


# ---- pages, as the notebooks call them


def test_phase_page_takes_the_name_from_the_session_cookie_not_the_address(
    blank_store, monkeypatch
):
    monkeypatch.setenv("QUERY_STRING", "project=p&user=Mallory")
    monkeypatch.setenv("HTTP_COOKIE", "_xsrf=abc; ew_user=Sam%20Patel; other=1")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    page = phase_page("develop", project="ignored", workspace=blank_store.root)
    (workbook_page,) = page.children  # its page status sits in its own status bar
    assert isinstance(workbook_page, PhaseWorkbook)
    assert workbook_page.session.user == "Sam Patel"
    assert "Mallory" not in workbook_page.children[0].value
    assert "user=" not in workbook_page.children[0].value  # links carry no name
    assert 'href="#change-name">Not Sam Patel? Change the name' in workbook_page.children[0].value


def test_phase_page_asks_for_a_name_once(blank_store, monkeypatch):
    # a name in the address (an old or forwarded link) is never taken as who is editing
    monkeypatch.setenv("QUERY_STRING", "project=p&user=Mallory")
    monkeypatch.delenv("HTTP_COOKIE", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    page = phase_page("explore", workspace=blank_store.root)
    status, prompt = page.children
    assert isinstance(prompt, UserNamePrompt)
    assert prompt.name.value == ""
    assert "Early Help Predictor (Hartmoor)" in prompt.children[0].value
    prompt.go.click()
    assert "Enter your name" in prompt.message.value
    prompt.name.value = "  Sam\x00 Patel  "
    prompt.go.click()
    (workbook_page,) = page.children
    assert workbook_page.session.user == "Sam Patel"
    assert workbook_page.save_indicator is status
    assert status.user_cookie == "Sam Patel"  # the page script keeps it for this browser session
    workbook_page.question("q1").response.value = "hello"
    assert _disk(blank_store)["answers"]["q1"]["updated_by"] == "Sam Patel"


def _hub_jupyterlab(monkeypatch, store, roles: str | None) -> None:
    """JupyterLab on a hub user's own server: JUPYTERHUB_USER, no Voilà request."""
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.setenv("QUERY_STRING", "project=p&user=someone-else")
    monkeypatch.setenv("HTTP_COOKIE", "ew_user=someone-else")
    if roles is not None:
        (store.root / "roles.yaml").write_text(roles)


def test_jupyterhub_user_wins(blank_store, monkeypatch):
    _hub_jupyterlab(monkeypatch, blank_store, "users:\n  hub-user: [author]\n")
    set_members(blank_store, "p", ["hub-user"], user="admin")
    page = phase_page("explore", workspace=blank_store.root)
    assert page.children[0].session.user == "hub-user"
    header = page.children[0].children[0].value
    assert "Change the name" not in header  # a login's name
    assert "Editing as <strong>hub-user</strong> (author)" in header
    page.children[0].question("q1").response.value = "hello"
    last = blank_store.history("p")[-1]
    assert (last["user"], last["role"]) == ("hub-user", "author")


def test_a_hub_user_without_a_role_or_membership_gets_a_clear_page(blank_store, monkeypatch):
    _hub_jupyterlab(monkeypatch, blank_store, None)  # a team server with no roles.yaml
    page = phase_page("explore", workspace=blank_store.root)
    text = page.children[1].value
    assert "You have no role in this workbook yet" in text
    assert "hub-user may not read this project" in text
    assert "Traceback" not in text
    (blank_store.root / "roles.yaml").write_text("users:\n  hub-user: [author]\n")
    page = phase_page("explore", workspace=blank_store.root)
    assert "You are not a member of this project" in page.children[1].value
    (blank_store.root / "roles.yaml").write_text("users: [hub-user]\n")
    page = phase_page("explore", workspace=blank_store.root)
    assert "list of roles cannot be read" in page.value
    assert "roles.yaml: users: &#x27;users&#x27; must map names to lists of roles" in page.value


def test_a_viewer_sees_the_phase_read_only(blank_store, monkeypatch):
    _hub_jupyterlab(monkeypatch, blank_store, "users:\n  hub-user: [viewer]\n")
    set_members(blank_store, "p", ["hub-user"], user="admin")
    page = phase_page("explore", workspace=blank_store.root).children[0]
    assert "Reading as <strong>hub-user</strong> (viewer)" in page.children[0].value
    q1 = page.question("q1")
    assert q1.response.disabled
    q1.response.value = "a crafted change"  # as a widget message from the browser would
    page.session.flush()
    assert blank_store.open("p").answers.q1.response == ""
    assert "may not edit answers" in page.session.state.message


@pytest.mark.parametrize(
    "query", ["project=nope", "project=..%2F..%2Fetc", "project=%3Cscript%3E", "project="]
)
def test_unknown_or_unsafe_project_gets_a_friendly_message(blank_store, monkeypatch, query):
    monkeypatch.setenv("QUERY_STRING", query + "&user=x")
    page = phase_page("explore", project=None, workspace=blank_store.root)
    assert "Project not found" in page.value
    assert "<script>" not in page.value
    assert "Traceback" not in page.value


def test_a_corrupt_project_gets_a_message_not_a_traceback(blank_store, monkeypatch):
    blank_store.answers_path("p").write_text("{ nope")
    monkeypatch.setenv("QUERY_STRING", "project=p&user=x")
    page = phase_page("explore", workspace=blank_store.root)
    assert "cannot be opened" in page.value
    assert "not valid JSON" in page.value
    assert blank_store.answers_path("p").read_text() == "{ nope"


def test_start_page_lists_projects_and_creates_one(blank_store, monkeypatch):
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("HTTP_COOKIE", "ew_user=Ann")
    page = start_page(workspace=blank_store.root).children[1]
    assert isinstance(page, StartPage)
    assert [v for _, v in page.picker.options] == ["p"]
    assert '"01-explore.ipynb?project=p"' in page.phases.value
    page.create_button.click()
    assert "enter the name of the tool" in page.create_message.value
    page.tool_name.value = "Placement Forecast"
    page.authority.value = "Hartmoor"
    page.create_button.click()
    assert page.picker.value == "placement-forecast"
    assert blank_store.open("placement-forecast").project.created_by == "Ann"


def test_a_hostile_name_cookie_is_cleaned_and_escaped(blank_store, monkeypatch):
    from urllib.parse import quote

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("QUERY_STRING", "project=p")
    name = '<img src=x onerror="alert(1)">\x1b[31m\u202e'
    monkeypatch.setenv("HTTP_COOKIE", f"ew_user={quote(name)}")
    (workbook_page,) = phase_page("explore", workspace=blank_store.root).children
    header = workbook_page.children[0].value
    assert "<img" not in header
    shown = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;[31m"
    assert f"Editing as <strong>{shown}</strong>" in header
    assert "\x1b" not in workbook_page.session.user


def test_a_row_missing_its_required_field_says_so_and_is_not_claimed_saved(blank_store):
    page = _page(blank_store, "explore")
    page.question("q2").response.value = "Saved first."
    first_save = page.save_indicator.saved_at
    actions = page.question("q1").actions
    row = actions.add_row()
    row["owner"].value = "Data lead"
    assert page.save_indicator.kind == "incomplete"
    assert page.save_indicator.text == "Not saved: 1 incomplete row"
    assert page.save_indicator.saved_at == first_save  # the last save that really landed
    assert page.save_indicator.unsaved_labels == [
        "Question 1, action 1: action",
        "Question 1, action 1: owner",
        "Question 1, action 1: due date",
        "Question 1, action 1: status",
    ]
    assert "fill in \u201cAction\u201d to save action 1" in actions._notes[0].value
    assert _disk(blank_store)["answers"]["q1"]["further_work"] == []
    row["action"].value = "Ask the DPO"
    assert page.save_indicator.kind == "saved"
    assert actions._notes[0].value == ""
    (saved,) = _disk(blank_store)["answers"]["q1"]["further_work"]
    assert (saved["action"], saved["owner"]) == ("Ask the DPO", "Data lead")
