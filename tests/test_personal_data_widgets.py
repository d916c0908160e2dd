"""Personal-data warnings in the app (issue 17), driven headless: set a field's value as
the browser would, let the binder save (at once: no event loop here), and look at the
warning under the field, the dismiss form, the answers file and the history."""

from __future__ import annotations

import re

import pytest

from widgets import PhaseWorkbook, phase_page
from widgets import personal_data as pdw
from widgets.personal_data import DISMISSED, FieldWarning
from workbook.bank import load_bank
from workbook.members import set_members
from workbook.session import EditSession
from workbook.store import Store

BANK = load_bank()
EXAMPLE = "e.g. child A, DOB 03/04/2015, NHS 999 000 0018, postcode SW1A 1AA"
SECRETS = ("03/04/2015", "999 000 0018", "9990000018", "999", "0018", "SW1A 1AA", "SW1A")
Q1 = "answers.q1.response"
REASON = "A made-up example from our training pack"


@pytest.fixture
def blank_store(store):
    store.create("Early Help Predictor", "Hartmoor", project_id="p", user="setup")
    return store


pytestmark = pytest.mark.usefixtures("no_running_loop")


def _page(store: Store, phase_id: str = "explore", user: str = "ann") -> PhaseWorkbook:
    page = PhaseWorkbook(EditSession(store, "p", user=user), phase_id)
    page.personal_data.wait()  # the warnings the page opens with (in a kernel: by themselves)
    return page


def _warning(page: PhaseWorkbook, path: str) -> FieldWarning:
    assert path in page.personal_data.warnings, f"no warning under {path}"
    return page.personal_data.warnings[path]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _no_secrets(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html, f"{secret!r} shown in {html!r}"


def test_a_pasted_example_warns_under_the_answer_naming_three_kinds_never_the_text(blank_store):
    page = _page(blank_store)
    q1 = page.question("q1")
    assert page.personal_data.warnings == {}
    q1.response.value = EXAMPLE
    assert page.session.state.kind == "saved"
    warning = _warning(page, Q1)
    # right below the answer box, inside the question
    children = list(q1.children)
    assert children[children.index(q1.response) + 1] is warning
    html = warning.text.value
    assert 'role="alert"' in html  # a live region: read out when it appears
    assert _text(html) == (
        "Warning: Question 1, your answer: looks like a date of birth (characters 19–28), an "
        "NHS number (characters 35–46) and a UK postcode (characters 58–65). Children’s "
        "personal data must not be in the workbook: edit it out, or dismiss this warning with "
        "a reason."
    )
    _no_secrets(html)
    assert warning.opener is not None
    assert warning.opener.description == "Dismiss this warning"
    assert warning.form is None  # the form opens with the button

    # edit it away and save: the warning goes, and its widgets are closed
    q1.response.value = "An example with no personal data in it."
    assert Q1 not in page.personal_data.warnings
    assert warning not in q1.children
    assert warning.comm is None


def test_dismissing_with_a_reason_records_it_and_the_warning_does_not_come_back(blank_store):
    page = _page(blank_store)
    q1 = page.question("q1")
    q1.response.value = EXAMPLE
    warning = _warning(page, Q1)
    warning.opener.click()
    assert warning.reason is not None
    assert warning.submit is not None
    assert warning.reason.description == "Why this is not personal data (question 1, your answer)"
    assert warning.submit.description == "Dismiss warning"
    assert warning.opener not in warning.children

    # no reason: one line, nothing recorded
    revision = blank_store.open("p").revision
    warning.submit.click()
    assert _text(warning.message.value).startswith("Not dismissed: give the reason")
    assert "\n" not in warning.message.value
    assert "Traceback" not in warning.message.value
    assert blank_store.open("p").revision == revision

    warning.reason.value = REASON
    warning.submit.click()
    assert _text(warning.text.value) == DISMISSED
    assert 'role="status"' in warning.text.value
    assert warning.form is None
    assert warning.opener not in warning.children

    last = blank_store.history("p")[-1]
    assert last["path"].startswith("personal_data.dismissed.")
    assert last["user"] == "ann"
    record = last["new"]
    assert (record["path"], record["reason"], record["by"]) == (Q1, REASON, "ann")
    assert sorted(f["kind"] for f in record["findings"]) == [
        "date_of_birth",
        "nhs_number",
        "postcode",
    ]
    _no_secrets(str(last))
    # the page's session has read the dismissal: saving another field keeps it
    page.question("q2").response.value = "Another answer"
    assert blank_store.open("p").personal_data.dismissed
    assert _text(_warning(page, Q1).text.value) == DISMISSED

    # the page opened again: no warning for that same text
    again = _page(blank_store)
    assert again.personal_data.warnings == {}

    # a changed text is checked afresh
    again.question("q1").response.value = EXAMPLE.replace("SW1A 1AA", "SW1A 2AA")
    warning = _warning(again, Q1)
    assert "looks like a date of birth" in warning.text.value
    assert warning.opener is not None


def test_a_page_opens_with_the_warnings_already_there(blank_store):
    first = _page(blank_store)
    first.question("q2").response.value = f"Tried on one family: {EXAMPLE}"
    note = BANK.phase("explore").checklist[0]
    first.checklist.note[note.id].value = "Spoke to Jo on 07911 123456"

    page = _page(blank_store)
    q2 = page.question("q2")
    warning = _warning(page, "answers.q2.response")
    assert list(q2.children).index(warning) == list(q2.children).index(q2.response) + 1
    assert 'role="alert"' not in warning.text.value  # part of the page, not news
    assert "Question 2, your answer: looks like a date of birth" in _text(warning.text.value)
    path = f"phases.explore.checklist.{note.id}.note"
    note_warning = _warning(page, path)
    assert _text(note_warning.text.value).startswith(
        f"Warning: Explore phase checklist, note on “{note.text}”: looks like a UK phone number "
        "(characters 16–27)."
    )
    _no_secrets(warning.text.value)
    assert "07911" not in note_warning.text.value
    assert "123456" not in note_warning.text.value


@pytest.mark.parametrize(
    ("where", "path", "name"),
    [
        ("prompt", "answers.q1.prompts.analytics_type", "Question 1, note on “{prompt}”"),
        ("informed", "answers.q1.informed_by.note", "Question 1, note on whose views informed it"),
        ("checklist", "phases.explore.checklist.{item}.note", "Explore phase checklist, note on"),
        ("evidence", "answers.q1.evidence", "Question 1, evidence item 1, what it shows"),
    ],
)
def test_every_kind_of_text_field_warns_just_below_itself(blank_store, where, path, name):
    page = _page(blank_store)
    q1 = page.question("q1")
    item = BANK.phase("explore").checklist[0]
    path = path.format(item=item.id)
    text = "Written about the child whose NHS number is 943 476 5870"
    if where == "prompt":
        control = q1.prompt_notes["analytics_type"]
        name = name.format(prompt=BANK.question("q1").prompt("analytics_type").text)
    elif where == "informed":
        control = q1.informed_note
    elif where == "checklist":
        control = page.checklist.note[item.id]
    else:
        control = q1.evidence
        row = q1.evidence.add_row()
        row["reference"].value = "DPIA section 3"
        row["description"].value = text
    if where != "evidence":
        control.value = text
    warning = _warning(page, path)
    box = next(b for b in _boxes(page) if warning in getattr(b, "children", ()))
    assert list(box.children).index(warning) == list(box.children).index(control) + 1
    said = _text(warning.text.value)
    assert said.startswith(f"Warning: {name}")
    assert "looks like an NHS number (characters 45–56)" in said
    assert "943" not in said
    assert "5870" not in said

    warning.opener.click()
    warning.reason.value = REASON
    warning.submit.click()
    assert _text(warning.text.value) == DISMISSED
    saved = blank_store.open("p").personal_data.dismissed
    assert [d.path for d in saved.values()] == [
        "answers.q1.evidence.0.description" if where == "evidence" else path
    ]


def _boxes(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _boxes(child)


def test_only_the_fields_a_save_changed_are_scanned(blank_store, monkeypatch):
    page = _page(blank_store)
    asked: list[list[str]] = []
    real = pdw.project_findings

    def spy(workbook, patterns=(), *, paths=None):
        asked.append(list(paths))
        return real(workbook, patterns, paths=paths)

    monkeypatch.setattr(pdw, "project_findings", spy)
    page.question("q1").response.value = "Our answer, with 2024 figures"
    assert asked == [[Q1]]
    page.question("q1").status.value = "complete"  # not text: nothing to scan
    assert asked == [[Q1]]


def test_dismissing_text_someone_changed_since_is_refused_in_one_line(blank_store):
    page = _page(blank_store)
    page.question("q1").response.value = EXAMPLE
    warning = _warning(page, Q1)
    warning.opener.click()
    warning.reason.value = REASON
    # meanwhile, in another tab, the answer is changed (still with the NHS number in it)
    other = EditSession(blank_store, "p", user="bea")
    other.set(Q1, EXAMPLE + " and more")
    other.save()
    warning.submit.click()
    message = _text(warning.message.value)
    assert message == (
        "Not dismissed: Question 1: your answer has changed since its warnings were shown; "
        "look at it again"
    )
    assert not blank_store.open("p").personal_data.dismissed


def test_a_reason_that_itself_looks_like_personal_data_is_refused(blank_store):
    page = _page(blank_store)
    page.question("q1").response.value = EXAMPLE
    warning = _warning(page, Q1)
    warning.opener.click()
    warning.reason.value = "Checked with the family at SW1A 1AA"
    warning.submit.click()
    assert _text(warning.message.value) == (
        "Not dismissed: the reason itself looks like a UK postcode; write it without personal data"
    )
    assert "SW1A" not in warning.message.value
    assert not blank_store.open("p").personal_data.dismissed


def test_cancel_closes_the_form_and_brings_back_the_button(blank_store):
    page = _page(blank_store)
    page.question("q1").response.value = EXAMPLE
    warning = _warning(page, Q1)
    warning.opener.click()
    form = warning.form
    warning.cancel.click()
    assert warning.form is None
    assert form.comm is None
    assert list(warning.children) == [warning.text, warning.opener]


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_a_reader_sees_the_warning_but_no_dismiss_form(blank_store, monkeypatch, role):
    session = EditSession(blank_store, "p", user="setup")
    session.set(Q1, EXAMPLE)
    assert session.save()
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.setenv("QUERY_STRING", "project=p")
    (blank_store.root / "roles.yaml").write_text(f"users:\n  hub-user: [{role}]\n")
    set_members(blank_store, "p", ["hub-user"], user="admin")
    page = phase_page("explore", workspace=blank_store.root).children[0]
    page.personal_data.wait()
    warning = _warning(page, Q1)
    assert warning.opener is None
    assert list(warning.children) == [warning.text]
    assert _text(warning.text.value).endswith(
        "Children’s personal data must not be in the workbook: an author can edit it out, or "
        "dismiss this warning with a reason."
    )


def test_a_list_whose_second_field_changed_since_says_what_was_dismissed(blank_store):
    page = _page(blank_store)
    q1 = page.question("q1")
    row = q1.evidence.add_row()
    row["reference"].value = "Case file of NHS 943 476 5870"
    row["description"].value = "Seen at SW1A 1AA"
    warning = _warning(page, "answers.q1.evidence")
    said = _text(warning.text.value)
    assert "Question 1, evidence item 1, link or document: looks like an NHS number" in said
    assert "Question 1, evidence item 1, what it shows: looks like a UK postcode" in said
    warning.opener.click()
    warning.reason.value = REASON
    other = EditSession(blank_store, "p", user="bea")  # another tab changes the description
    other.set(
        "answers.q1.evidence",
        [{"reference": "Case file of NHS 943 476 5870", "description": "Seen at SW1A 2AA"}],
    )
    assert other.save()
    warning.submit.click()
    (saved,) = blank_store.open("p").personal_data.dismissed.values()
    assert saved.path == "answers.q1.evidence.0.reference"
    warning = _warning(page, "answers.q1.evidence")  # shown afresh: what is left, and why
    said = _text(warning.text.value)
    assert "link or document" not in said
    assert "what it shows: looks like a UK postcode" in said
    assert said.endswith(
        "Not dismissed: Question 1: evidence 1, description has changed since its warnings "
        "were shown; look at it again (the warnings of 1 other field here were dismissed)"
    )
