"""Personal-data warnings on the pages that save text with forms of their own (issue 17):
the risk register under question 4 and the transparency page, driven headless. Fill in a
form, press its button, then look at the warning in the entry, the dismiss form, the
answers file and the history."""

from __future__ import annotations

import re

import pytest

from widgets import PhaseWorkbook
from widgets import personal_data as pdw
from widgets.personal_data import DISMISSED, FieldWarning
from widgets.risks import RiskRegisterView
from widgets.transparency import TransparencyPage
from workbook.members import set_members
from workbook.roles import Actor, Role
from workbook.session import EditSession
from workbook.store import Store

PID = "demo"
CAUSE = "Child B, NHS 999 000 0018"
REASON = "A made-up example from our training pack"
ALICE = Actor(name="alice", roles=frozenset({Role.author}), source="hub", enforced=True)
VAL = Actor(name="val", roles=frozenset({Role.viewer}), source="hub", enforced=True)


pytestmark = pytest.mark.usefixtures("no_running_loop")


def _register(store: Store, user: str = "ann") -> RiskRegisterView:
    page = PhaseWorkbook(EditSession(store, PID, user=user), "explore")
    view = page.risk_register
    assert view is not None
    assert view.personal_data is not None
    view.personal_data.wait()  # the warnings it opens with (in a kernel: by themselves)
    return view


def _transparency(store: Store, actor: Actor = ALICE) -> TransparencyPage:
    page = TransparencyPage(store, PID, actor)
    page.personal_data.wait()
    return page


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _no_digits_of_the_number(html: str) -> None:
    for secret in ("999 000 0018", "9990000018", "999", "0018", "Child B"):
        assert secret not in html, f"{secret!r} shown in {html!r}"


def _save_cause(view: RiskRegisterView, number: str, cause: str) -> str:
    item = view.item(number)
    if not item.is_open:
        item.toggle()
    assert item.form is not None
    item.form.cause.value = cause
    item.form.save_button.click()
    return _text(item.form.message.value)


def test_a_risk_saved_with_an_nhs_number_warns_in_its_entry_never_the_digits(demo_store):
    view = _register(demo_store)
    assert view.personal_data.warnings == {}  # the demo has none
    assert _save_cause(view, "R3", CAUSE) == "Saved R3."
    item = view.item("R3")
    warning = item.warning
    assert isinstance(warning, FieldWarning)
    assert view.personal_data.warnings == {f"risks.items.{item.risk_id}": warning}
    # in the risk's own entry, just below its form (above the oversight group's comments)
    assert list(item.children) == [
        item.summary,
        item.edit_button,
        item.form,
        warning,
        item.threads,
    ]
    html = warning.text.value
    assert 'role="alert"' in html
    assert _text(html) == (
        "Warning: Risk register, R3, cause: looks like an NHS number (characters 14–25). "
        "Children’s personal data must not be in the workbook: edit it out, or dismiss this "
        "warning with a reason."
    )
    _no_digits_of_the_number(html)
    assert warning.opener is not None
    assert warning.opener.tooltip == "Dismiss the personal-data warning on Risk register, R3"

    # folding the form away keeps the warning in the entry; so does the list being redrawn
    item.toggle()
    view.refresh()
    assert warning in item.children
    assert item in view.list_box.children

    # edited away and saved: the warning goes, its widgets closed
    assert _save_cause(view, "R3", "Staff shortages in the team") == "Saved R3."
    assert item.warning is None
    assert warning not in item.children
    assert warning.comm is None
    assert view.personal_data.warnings == {}


def test_a_risk_added_with_personal_data_says_so_and_warns_in_the_new_entry(demo_store):
    view = _register(demo_store)
    view.add_button.click()
    form = view.add_form
    form.title.value = "Cases copied into the model"
    form.category.value = "privacy"
    form.note.value = "Found when the social worker emailed jo.bloggs@example.org"
    form.save_button.click()
    said = _text(form.message.value)
    assert said.startswith("Saved as R7: Cases copied into the model.")
    assert said.endswith(
        "Some of its text looks like personal data: see the warning on R7 in the list."
    )
    item = view.item("R7")
    assert item.warning is not None
    assert _text(item.warning.text.value).startswith(
        "Warning: Risk register, R7, note: looks like an email address"
    )
    assert "jo.bloggs" not in item.warning.text.value

    # a rating puts it first: the warning says R1, as the list does
    item.toggle()
    item.form.likelihood_before.value = 5
    item.form.impact_before.value = 5
    item.form.save_button.click()
    assert view.numbers[item.risk_id] == "R1"
    assert _text(item.warning.text.value).startswith("Warning: Risk register, R1, note:")
    assert item.warning.opener.tooltip.endswith("Risk register, R1")


def test_dismissing_a_risks_warning_records_it_and_it_stays_gone(demo_store):
    view = _register(demo_store)
    _save_cause(view, "R3", CAUSE)
    item = view.item("R3")
    rid = item.risk_id
    warning = item.warning
    warning.opener.click()
    assert warning.reason.description == "Why this is not personal data (Risk register, R3)"
    warning.submit.click()  # no reason: one line, nothing recorded
    assert _text(warning.message.value).startswith("Not dismissed: give the reason")
    assert not demo_store.open(PID).personal_data.dismissed

    warning.reason.value = REASON
    warning.submit.click()
    assert _text(warning.text.value) == DISMISSED
    assert warning.form is None
    last = demo_store.history(PID)[-1]
    assert last["path"].startswith("personal_data.dismissed.")
    assert last["user"] == "ann"
    record = last["new"]
    assert (record["path"], record["reason"], record["by"]) == (
        f"risks.items.{rid}.cause",
        REASON,
        "ann",
    )
    assert [f["kind"] for f in record["findings"]] == ["nhs_number"]
    _no_digits_of_the_number(str(record))

    # the register rebuilt (a save elsewhere on it): still dismissed, not asked again
    view.refresh()
    area = view.consider_forms["environment"][0]
    area.value = "The model runs weekly on an existing council server; its energy use is tiny."
    view.consider_forms["environment"][1].click()
    assert item.warning is warning
    assert _text(warning.text.value) == DISMISSED
    # the page opened again: nothing for that same text
    again = _register(demo_store)
    assert again.personal_data.warnings == {}
    assert again.item("R3").warning is None
    assert warning not in again.item("R3").children


def test_the_register_opens_with_the_warnings_already_there(demo_store):
    first = _register(demo_store)
    _save_cause(first, "R2", CAUSE)
    view = _register(demo_store)
    item = view.item("R2")
    assert item.warning is not None
    assert list(item.children) == [item.summary, item.edit_button, item.warning, item.threads]
    assert 'role="alert"' not in item.warning.text.value  # part of the page, not news
    assert _text(item.warning.text.value).startswith(
        "Warning: Risk register, R2, cause: looks like an NHS number"
    )


def test_a_reason_for_a_category_keeps_its_form_while_it_looks_like_personal_data(demo_store):
    view = _register(demo_store)
    area, button, message, box, _intro = view.consider_forms["environment"]
    area.value = "Not relevant: the server team on 020 7946 0991 say energy use is tiny."
    button.click()
    assert "Saved: Environmental sustainability recorded" in message.value
    # covered now, but the form stays, so the reason can be edited; the warning below it
    assert view.consider_forms["environment"][3] is box
    warning = view.consider_warnings["environment"]
    assert list(box.children)[-1] is warning
    assert _text(warning.text.value).startswith(
        "Warning: Risk register, why Environmental sustainability was found not relevant: "
        "looks like a UK phone number"
    )
    assert "7946" not in warning.text.value
    assert view.coverage_message.value == ""

    area.value = "Not relevant: the server team say the model's energy use is tiny."
    button.click()
    assert view.consider_forms == {}
    assert view.consider_warnings == {}
    assert warning.comm is None
    assert "Saved: Environmental sustainability recorded" in view.coverage_message.value


def test_only_the_risk_saved_is_scanned(demo_store, monkeypatch):
    view = _register(demo_store)
    asked: list[list[str]] = []
    real = pdw.project_findings

    def spy(workbook, patterns=(), *, paths=None):
        asked.append(list(paths))
        return real(workbook, patterns, paths=paths)

    monkeypatch.setattr(pdw, "project_findings", spy)
    rid = view.item("R3").risk_id
    _save_cause(view, "R3", "Staff shortages in the team")
    assert asked == [[f"risks.items.{rid}"]]


def test_public_wording_with_a_postcode_warns_below_the_field(store_with_members):
    page = _transparency(store_with_members)
    assert page.personal_data.warnings == {}
    item = page.item("description")
    item.toggle()
    form = item.form
    form.text.value = "Families can write to the team at Hartmoor House, SW1A 1AA."
    form.save_button.click()
    assert _text(form.message.value).startswith("Saved the public wording for")
    warning = item.warning
    assert isinstance(warning, FieldWarning)
    assert list(item.children) == [item.summary, item.edit_button, form, warning]
    html = warning.text.value
    assert 'role="alert"' in html
    said = _text(html)
    assert said.startswith(f"Warning: Transparency record, {item.name}, public wording: ")
    assert "looks like a UK postcode (characters 51–58)" in said
    assert "SW1A" not in html

    warning.opener.click()
    warning.reason.value = "The council's own public address"
    warning.submit.click()
    assert _text(warning.text.value) == DISMISSED
    record = store_with_members.history(PID)[-1]["new"]
    assert record["path"] == "transparency.fields.description.text"
    assert record["by"] == "alice"
    assert _transparency(store_with_members).personal_data.warnings == {}


def test_a_withheld_reason_warns_too_and_the_page_opens_with_it(store_with_members):
    page = _transparency(store_with_members)
    item = page.item("description")
    item.toggle()
    item.form.withheld.value = True
    item.form.reason.value = "Asked by Jo on 07911 123456"
    item.form.save_button.click()
    assert _text(item.form.message.value).startswith("Saved: Description is withheld")
    assert item.warning is not None
    assert "reason it is withheld: looks like a UK phone number" in _text(item.warning.text.value)

    again = _transparency(store_with_members)
    opened = again.item("description")
    assert opened.warning is not None
    assert list(opened.children) == [opened.summary, opened.edit_button, opened.warning]
    assert 'role="alert"' not in opened.warning.text.value
    assert "07911" not in opened.warning.text.value


def test_a_viewer_sees_the_warnings_but_no_dismiss_form(store_with_members):
    view = _register(store_with_members)
    _save_cause(view, "R3", CAUSE)
    page = _transparency(store_with_members)
    item = page.item("description")
    item.toggle()
    item.form.text.value = "Write to us at SW1A 1AA."
    item.form.save_button.click()

    reader = _transparency(store_with_members, VAL)
    warning = reader.item("description").warning
    assert warning is not None
    assert warning.opener is None
    assert list(warning.children) == [warning.text]
    assert _text(warning.text.value).endswith(
        "an author can edit it out, or dismiss this warning with a reason."
    )
    session = EditSession(store_with_members, PID, user=VAL)
    register = PhaseWorkbook(session, "explore").risk_register
    register.personal_data.wait()
    risk = register.item("R3").warning
    assert risk is not None
    assert risk.opener is None
    assert list(risk.children) == [risk.text]


@pytest.fixture
def store_with_members(demo_store: Store) -> Store:
    set_members(demo_store, PID, ["alice", "val", "ann"], user="setup")
    return demo_store
