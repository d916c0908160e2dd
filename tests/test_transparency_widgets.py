"""The transparency page (07-transparency.ipynb) driven headless: set values and click,
then check what reached the disk, what the next draft says and what the page shows.

The draft itself (fields, provenance, problems) is tested in the ATRS core's own tests;
these check the page shows it truly, that a field's public wording is saved only with its
button and survives a new draft, a new page and a reload, that a stale form is a conflict
naming who saved first, that a viewer or reviewer can change nothing, and that user text
is escaped.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import ipywidgets as w
import pytest

from widgets.project import StartPage
from widgets.transparency import FieldForm, FieldItem, TransparencyPage
from workbook.atrs import build_draft
from workbook.bank import load_bank
from workbook.members import set_members
from workbook.roles import Actor, Role
from workbook.session import EditSession
from workbook.store import Store

PID = "demo"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
BANK = load_bank()


def person(name: str, *roles: Role) -> Actor:
    """Someone the server vouches for, with roles from roles.yaml (roles enforced)."""
    return Actor(name=name, roles=frozenset(roles), source="hub", enforced=True)


ALICE = person("alice", Role.author)
BOB = person("bob", Role.author)
VAL = person("val", Role.viewer)
RHEA = person("rhea", Role.reviewer)


@pytest.fixture
def store(demo_store: Store) -> Store:
    """The demo project, with the people above as its members."""
    set_members(demo_store, PID, ["alice", "bob", "val", "rhea"], user="setup")
    return demo_store


# ---- helpers


def walk(widget: w.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget: w.Widget) -> str:
    return "\n".join(x.value for x in walk(widget) if isinstance(x, w.HTML))


def buttons(widget: w.Widget) -> dict[str, w.Button]:
    return {b.description: b for b in walk(widget) if isinstance(b, w.Button)}


def snapshot(store: Store) -> tuple[bytes, bytes]:
    """The answers file and its history, byte for byte."""
    return store.answers_path(PID).read_bytes(), store.history_path(PID).read_bytes()


def on_disk(store: Store) -> dict[str, Any]:
    return json.loads(store.answers_path(PID).read_text(encoding="utf-8"))


def public(store: Store, field_id: str) -> dict[str, Any] | None:
    return on_disk(store).get("transparency", {}).get("fields", {}).get(field_id)


def open_form(page: TransparencyPage, field_id: str) -> FieldForm:
    item = page.item(field_id)
    item.toggle()
    assert item.form is not None
    assert item.is_open
    return item.form


def draft_field(store: Store, field_id: str) -> dict[str, Any]:
    draft = build_draft(Store(store.root), PID)  # a fresh store: as after a restart
    return next(f for s in draft["sheets"] for f in s["fields"] if f["id"] == field_id)


# ---- what the page shows


def test_the_demo_page_shows_the_completeness_report_the_draft_and_the_framework(store):
    page = TransparencyPage(store, PID, ALICE)
    draft = build_draft(store, PID)
    s = draft["summary"]
    assert 0 < s["required_filled"] < s["required"]  # the demo leaves fields to fill
    report = page.report.value
    assert (
        f"<strong>Required fields filled: {s['required_filled']} of {s['required']}.</strong>"
        in report
    )
    assert f"{s['problems']} problems to look at." in report
    # every problem in words, with a link to its field here and to the question to improve
    assert draft["problems"], "the demo's draft has problems to show"
    items = re.findall(r"<li>(.*?)</li>", report.split('id="completeness"', 1)[1])
    assert len(items) == len(draft["problems"])
    for p, item in zip(draft["problems"], items, strict=True):
        assert f'<a href="#field-{p["field"]}">{p["ref"]} {html.escape(p["name"])}</a>' in item
        assert html.escape(p["message"]) in item
        if p["question"]:
            q = BANK.question(p["question"])
            page_name = {"explore": "01-explore", "develop": "02-develop"}.get(
                q.phase, "03-implement"
            )
            assert f'href="{page_name}.ipynb?project=demo#question-{q.number}"' in item, item
    missing = next(p for p in draft["problems"] if p["field"] == "region")
    assert missing["kind"] == "missing"
    assert "To improve it: no workbook answer covers it: write it here, under the field." in (
        report
    )

    # the draft: a heading per sheet, a field heading with reference and required flag,
    # its text, origin and sources
    shown = html_of(page)
    for sheet in draft["sheets"]:
        assert f'<h2 class="ew-h2 ew-phase-title" id="sheet-{sheet["id"]}"' in shown
        for f in sheet["fields"]:
            required = "Required" if f["required"] else "Optional"
            heading = f'id="field-{f["id"]}" tabindex="-1"><span class="ew-q-num">{f["ref"]} '
            assert heading + f"· {required}</span> {html.escape(f['name'])}</h3>" in shown
    description = page.item("description").summary.value
    assert (
        "<strong>Drafted from the workbook</strong> · <strong>rewrite for a public reader"
        in description
    )
    assert "<strong>Early Help Family Support Indicator</strong>" in description  # markdown
    assert "Drafted from the project details and question 1." in description
    q1 = next(p for p in page.field("description")["provenance"] if p["source"] == "answer.q1")
    assert (
        f"Question 1: your answer; last changed in revision {q1['revision']} by "
        f"{q1['changed_by']}" in description
    )
    assert "question marked &#x27;Complete&#x27;; Explore phase: not signed off" in description
    region = page.item("region").summary.value
    assert '<p class="ew-missing">Required, and still empty.</p>' in region
    assert "Empty: no workbook answer covers it; the team writes it here." in region
    # every field can be edited: one button each, the form opened on demand
    labels = buttons(page)
    assert sum(b.startswith("Edit public wording for ") for b in labels) == s["fields"] == 61
    assert not [x for x in walk(page) if isinstance(x, w.Textarea)]

    # the Data Ethics Framework: each action and principle, its questions, their status
    fw = page.framework.value
    for heading in (
        "Action 1: Define and understand public benefit and user need",
        "Action 3: Comply with the law",
        "Principle: Transparency",
        "Principle: Fairness",
    ):
        assert f">{heading}</h3>" in fw
    law = fw.split(">Action 3: Comply with the law</h3>", 1)[1].split("<h3", 1)[0]
    assert "Gaps: questions 4, 7 and 8, not complete yet." in law
    assert (
        '<a href="01-explore.ipynb?project=demo#question-4">Question 4</a>: <strong>Further '
        "work needed</strong> (not complete: risk categories not considered yet: "
        "Environmental sustainability)" in law
    )
    # the header: the page in the nav, and the way here from the start page
    assert 'href="07-transparency.ipynb?project=demo" aria-current="page"' in shown
    assert "Editing as <strong>alice</strong> (author)." in shown
    start = StartPage(store, user=ALICE, project_id=PID)
    assert 'href="07-transparency.ipynb?project=demo">Transparency record</a>' in html_of(start)


# ---- the team's public wording


def test_public_wording_is_saved_with_its_button_and_used_by_every_later_draft(store):
    page = TransparencyPage(store, PID, ALICE)
    drafted = page.field("description")["value"]
    item = page.item("description")
    assert item.edit_button is not None
    assert item.edit_button.description == "Edit public wording for Description"
    form = open_form(page, "description")
    assert item.edit_button.description == "Close the form for Description"
    assert form.text.description == "Public wording for Description"
    assert form.text.value == drafted  # the draft, to rewrite
    assert form.withheld.description == "Withhold Description"
    assert form.reason.description == "Reason Description is withheld"
    assert form.save_button.description == "Save public wording for Description"
    before = snapshot(store)

    wording = "The council uses a tool to offer some families **early help**."
    form.text.value = wording
    assert snapshot(store) == before  # nothing saved until the button
    form.save_button.click()

    assert "Saved the public wording for Description, revision " in form.message.value
    assert 'role="status"' in form.message.value
    record = public(store, "description")
    assert record is not None
    assert (record["text"], record["withheld"], record["updated_by"]) == (wording, False, "alice")
    last = store.history(PID)[-1]
    assert (last["user"], last["path"], last["role"]) == (
        "alice",
        "transparency.fields.description",
        "author",
    )
    # the next draft uses it, and so does the page now
    field = draft_field(store, "description")
    assert (field["origin"], field["status"], field["value"]) == ("public", "written", wording)
    shown = item.summary.value
    assert "Written for the public" in shown
    assert "some families <strong>early help</strong>." in shown
    assert "The team&#x27;s wording for the public, saved by alice on " in shown
    assert f"(revision {last['revision']})" in shown
    assert "Written for the public: 1." in page.report.value

    # a new page, over a store opened afresh (a reload), shows it and fills the form with it
    again = TransparencyPage(Store(store.root), PID, ALICE)
    assert "some families <strong>early help</strong>." in again.item("description").summary.value
    assert open_form(again, "description").text.value == wording

    # the same again: nothing new is saved
    saved = snapshot(store)
    form.save_button.click()
    assert "No change to save: Description is as saved." in form.message.value
    assert snapshot(store) == saved

    # empty the box and save: the field goes back to the draft made from the workbook
    form.text.value = ""
    form.save_button.click()
    assert "Saved: Description goes back to the draft made from the workbook" in (
        form.message.value
    )
    field = draft_field(store, "description")
    assert (field["origin"], field["value"]) == ("drafted", drafted)
    assert "Drafted from the project details and question 1." in item.summary.value


def test_a_field_withheld_needs_its_reason_and_then_shows_only_the_reason(store):
    page = TransparencyPage(store, PID, ALICE)
    form = open_form(page, "model_performance")
    before = snapshot(store)
    form.withheld.value = True
    form.save_button.click()
    assert 'role="alert"' in form.message.value
    assert (
        "Not saved: Reason Model performance is withheld: give the reason the field is "
        "withheld" in form.message.value
    )
    assert snapshot(store) == before
    assert form.withheld.value is True  # what was chosen stays

    form.reason.value = "Exempt: prejudice to the prevention of fraud (FOI s.31)"
    form.save_button.click()
    assert "Saved: Model performance is withheld (Exempt: prejudice" in form.message.value
    record = public(store, "model_performance")
    assert record is not None
    assert record["withheld"] is True
    field = draft_field(store, "model_performance")
    assert (field["status"], field["reason"]) == (
        "withheld",
        "Exempt: prejudice to the prevention of fraud (FOI s.31)",
    )
    shown = page.item("model_performance").summary.value
    assert "<strong>Withheld:</strong> Exempt: prejudice to the prevention of fraud" in shown
    assert "Withheld: 1." in page.report.value


def test_a_stale_form_is_a_conflict_naming_who_saved_first(store):
    page_a = TransparencyPage(store, PID, ALICE)
    page_b = TransparencyPage(store, PID, BOB)
    form_a = open_form(page_a, "region")
    form_b = open_form(page_b, "region")

    form_a.text.value = "England: the North West"
    form_a.save_button.click()
    assert "Saved the public wording for Region" in form_a.message.value
    saved = snapshot(store)

    form_b.text.value = "North West England"
    form_b.save_button.click()
    assert "Not saved: someone else changed the public wording for Region" in (form_b.message.value)
    assert 'role="alert"' in form_b.message.value
    assert public(store, "region")["text"] == "England: the North West"
    assert store.answers_path(PID).read_bytes() == saved[0]
    box = html_of(form_b.conflict)
    assert "<strong>alice saved this first (" in box
    assert "England: the North West" in box
    choices = buttons(form_b.conflict)
    assert set(choices) == {"Keep mine for Region", "Take theirs for Region"}

    # Keep mine: bob's wording is saved over alice's
    choices["Keep mine for Region"].click()
    assert "Saved the public wording for Region" in form_b.message.value
    assert public(store, "region")["text"] == "North West England"
    assert store.history(PID)[-1]["user"] == "bob"
    assert form_b.conflict.children == ()

    # alice's form is stale now: she takes bob's
    form_a.text.value = "The North West"
    form_a.save_button.click()
    assert "<strong>bob saved this first (" in html_of(form_a.conflict)
    buttons(form_a.conflict)["Take theirs for Region"].click()
    assert form_a.text.value == "North West England"
    assert "Showing what was saved for Region." in form_a.message.value
    assert "<p>North West England</p>" in page_a.item("region").summary.value
    assert public(store, "region")["text"] == "North West England"
    # ... and from there her next edit saves
    form_a.text.value = "North West England (Greater Manchester)"
    form_a.save_button.click()
    assert "Saved the public wording for Region" in form_a.message.value
    assert public(store, "region")["updated_by"] == "alice"


@pytest.mark.parametrize("who", [VAL, RHEA], ids=["viewer", "reviewer"])
def test_a_viewer_or_reviewer_reads_only_and_a_crafted_save_is_refused(store, who):
    page = TransparencyPage(store, PID, who)
    shown = html_of(page)
    assert "only an author can change the public wording, so the draft is shown read-only" in (
        shown
    )
    assert buttons(page) == {}
    assert all(isinstance(i, FieldItem) and i.edit_button is None for i in page.items.values())
    page.item("region").toggle()  # no form to open
    assert page.item("region").form is None
    before = snapshot(store)

    form = FieldForm(page, "region")  # a save the page does not offer: the core refuses it
    form.text.value = "North West"
    form.save_button.click()
    assert 'role="alert"' in form.message.value
    assert "Not saved: " in form.message.value
    assert "author" in form.message.value
    assert snapshot(store) == before


def test_user_text_is_escaped(store):
    session = EditSession(store, PID, user="alice")
    session.set("answers.q1.response", f"Flags families. {XSS} **bold**")
    assert session.save()
    page = TransparencyPage(store, PID, ALICE)
    form = open_form(page, "region")
    form.text.value = f"North West {XSS}"
    form.reason.value = XSS
    form.save_button.click()
    assert "Saved the public wording for Region" in form.message.value
    shown = html_of(page)
    assert XSS not in shown
    assert "<script" not in shown
    assert "<img" not in shown
    description = page.item("description").summary.value
    assert "Flags families. &lt;script&gt;alert(1)&lt;/script&gt;&lt;img" in description
    assert "<strong>bold</strong>" in description  # markdown is still rendered
    assert "<p>North West &lt;script&gt;" in page.item("region").summary.value

    # a withheld reason, and the conflict box that shows it to someone else, are escaped
    other = open_form(TransparencyPage(store, PID, BOB), "region")
    form.withheld.value = True
    form.save_button.click()
    assert "Saved: Region is withheld" in form.message.value
    assert XSS not in form.message.value
    assert "<strong>Withheld:</strong> &lt;script&gt;" in page.item("region").summary.value
    other.text.value = "mine"
    other.save_button.click()
    box = html_of(other.conflict)
    assert "withheld: &lt;script&gt;alert(1)" in box
    assert "<script" not in box


def test_the_page_entry_point_builds_the_page_for_the_signed_in_person(store, monkeypatch):
    from widgets import transparency_page

    (store.root / "roles.yaml").write_text("users:\n  alice: [author]\n")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("WORKBOOK_IDENTITY", raising=False)
    page = transparency_page(project=PID, workspace=store.root)
    found = [x for x in walk(page) if isinstance(x, TransparencyPage)]
    assert len(found) == 1, html_of(page)[:500]
    assert found[0].can_edit
    assert "Project not found" not in html_of(page)
    missing = transparency_page(project="no-such-project", workspace=store.root)
    assert "Project not found" in html_of(missing)


def test_an_empty_project_gives_a_page_that_says_what_is_missing(store):
    store.create("Blank Tool", "Test Council", project_id="blank", user="setup")
    page = TransparencyPage(store, "blank", Actor(name="Ann Example"))  # roles off
    draft = build_draft(store, "blank")
    s = draft["summary"]
    missing = [p for p in draft["problems"] if p["kind"] == "missing"]
    assert len(missing) == s["required"] - s["required_filled"] > 0
    assert f"Required fields still empty ({len(missing)})" in page.report.value
    phase = page.item("phase").summary.value
    assert "Required, and still empty." in phase
    assert (
        "Empty: nothing for it yet in the Explore phase sign-off, the Develop phase sign-off "
        "and the Implement phase sign-off." in phase
    )
    assert "Editing as <strong>Ann Example</strong>. Each field" in html_of(page)
    assert "Gaps: questions 1, 2" in page.framework.value
