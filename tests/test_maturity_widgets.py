"""The maturity page widgets driven headless (06-maturity.ipynb): set values and click, then
check what reached the disk and what every view shows.

With no event loop running in the test thread, a rating saves as soon as it is chosen (in
the browser it waits for a pause in typing). The core itself is tested in test_maturity.py.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import ipywidgets as w
import pytest

from widgets import PhaseWorkbook
from widgets.maturity import ComponentSection, MaturityIndex, MaturityPage, PlanItem
from widgets.portfolio import PortfolioDashboard
from widgets.project import StartPage
from workbook import maturity as mat
from workbook.assessment import respondent_key
from workbook.demo import create_demo_maturity
from workbook.export.dates import day
from workbook.roles import Actor, Role, RoleRequired
from workbook.session import EditSession
from workbook.store import AssessmentStore

NAME = "Northshire Council"
AID = "northshire-council"
DEMO_NAME = "Hartmoor County Council (fictional)"
DEMO_AID = "hartmoor-county-council-fictional"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def person(name: str, *roles: Role) -> Actor:
    """Someone the server vouches for, with roles from roles.yaml (roles enforced)."""
    return Actor(name=name, roles=frozenset(roles), source="hub", enforced=True)


RHEA = person("rhea", Role.reviewer)
SAM = person("sam", Role.reviewer)
ALICE = person("alice", Role.author)
BOB = person("bob", Role.author)
VAL = person("val", Role.viewer)
CHAIR = person("priya.shah", Role.reviewer)


pytestmark = pytest.mark.usefixtures("no_running_loop")


@pytest.fixture
def astore(demo_store) -> AssessmentStore:
    """The workspace of the demo project (id 'demo', for evidence), with Northshire
    Council's assessment started: round 1 open, nothing rated."""
    store = AssessmentStore(demo_store.root)
    mat.start_assessment(store, NAME, user="setup")
    return store


@pytest.fixture
def demo_astore(demo_store) -> AssessmentStore:
    """The demo project and the demo authority's assessment (round 1 closed, 2 open)."""
    store = AssessmentStore(demo_store.root)
    create_demo_maturity(store, user="setup")
    return store


# ---- helpers


def walk(widget: w.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget: w.Widget) -> str:
    """Every HTML widget's value under ``widget``, joined."""
    return "\n".join(x.value for x in walk(widget) if isinstance(x, w.HTML))


def buttons(widget: w.Widget) -> dict[str, w.Button]:
    return {b.description: b for b in walk(widget) if isinstance(b, w.Button)}


def section(page: MaturityPage, cid: str) -> ComponentSection:
    return next(s for s in page.sections if s.component.id == cid)


def on_disk(store: AssessmentStore, aid: str = AID) -> dict[str, Any]:
    return json.loads(store.document_path(aid).read_text(encoding="utf-8"))


def snapshot(store: AssessmentStore, aid: str = AID) -> tuple[bytes, bytes]:
    """The assessment file and its history, byte for byte."""
    return store.document_path(aid).read_bytes(), store.history_path(aid).read_bytes()


def component(data: dict[str, Any], cid: str, n: int = 1) -> dict[str, Any]:
    return data["rounds"][str(n)]["components"][cid]


def row(overview: str, name: str) -> str:
    """The cells of ``name``'s row in the overview table."""
    found = re.search(rf">{re.escape(name)}</a></th>(.*?)</tr>", overview)
    assert found, overview
    return found.group(1)


def radar_desc(overview: str) -> str:
    found = re.search(r"<desc[^>]*>(.*?)</desc>", overview, re.S)
    assert found, overview
    return found.group(1)


def agree(sec: ComponentSection, level: int, target: int, rationale: str, **more: Any) -> None:
    sec.agreed_level.value = level
    sec.target_level.value = target
    sec.agreed_rationale.value = rationale
    for name, value in more.items():
        getattr(sec, name).value = value
    sec.agree_button.click()


# ---- a respondent's own rating


@pytest.mark.parametrize("who", [ALICE, "Ann Example"], ids=["author-roles-on", "name-roles-off"])
def test_a_rating_saves_once_it_has_its_rationale_and_shows_everywhere(astore, who):
    actor = who if isinstance(who, Actor) else Actor(name=who)  # roles off: a typed name
    page = MaturityPage(astore, AID, actor)
    sec = section(page, "strategy")
    assert "not rated yet" in row(page.overview.value, "Strategy")
    before = snapshot(astore)

    sec.level.value = 2
    assert "Not saved yet: give your rationale for 2 Defining" in sec.message.value
    assert 'role="alert"' in sec.message.value
    assert snapshot(astore) == before  # nothing on disk
    assert "not rated yet" in row(page.overview.value, "Strategy")

    sec.rationale.value = "A draft strategy names ethics."
    assert "Your rating is saved." in sec.message.value
    rating = component(on_disk(astore), "strategy")["ratings"][respondent_key(actor.name)]
    assert (rating["respondent"], rating["level"]) == (actor.name, 2)
    assert rating["rationale"] == "A draft strategy names ethics."
    last = astore.history(AID)[-1]
    assert (last["user"], last["outcome"]) == (actor.name, "saved")
    assert last["path"] == f"rounds.1.components.strategy.ratings.{respondent_key(actor.name)}"
    if actor.enforced:
        assert last["role"] == "author"
    else:
        assert "role" not in last  # roles off: no role is claimed

    cells = row(page.overview.value, "Strategy")
    assert "not rated yet" not in cells
    assert "not agreed; median of 1 rating: 2" in cells
    assert "Strategy 2" in radar_desc(page.overview.value)
    assert f"Ratings (1): {actor.name}: 2 Defining." in sec.spread.value
    # A second page opened now shows the saved rating as this person's own.
    again = section(MaturityPage(astore, AID, actor), "strategy")
    assert (again.level.value, again.rationale.value) == (2, "A draft strategy names ethics.")


def test_evidence_lines_save_and_a_bad_line_is_named_and_kept(astore):
    sec = section(MaturityPage(astore, AID, ALICE), "governance")
    sec.level.value = 3
    sec.rationale.value = "The panel meets monthly."
    sec.evidence.value = "https://example.org/panel Terms of reference\ndemo q7 bias testing"
    assert "Your rating is saved." in sec.message.value
    rating = component(on_disk(astore), "governance")["ratings"][respondent_key("alice")]
    assert rating["evidence"] == [
        {"label": "Terms of reference", "url": "https://example.org/panel", "project": "",
         "target": ""},
        {"label": "bias testing", "url": "", "project": "demo", "target": "q7"},
    ]  # fmt: skip
    before = snapshot(astore)

    sec.evidence.value = "no-such-project q7 label"
    assert "Not saved: line 1: " in sec.message.value
    assert "no-such-project" in sec.message.value
    assert "nor a project in this workbook" in sec.message.value
    assert 'role="alert"' in sec.message.value
    assert sec.evidence.value == "no-such-project q7 label"  # what was typed stays
    assert snapshot(astore) == before


# ---- the agreed level, the target and the plan (a reviewer)


def test_a_reviewer_records_the_agreed_level_and_keeps_its_action(astore):
    page = MaturityPage(astore, AID, RHEA)
    sec = section(page, "strategy")
    before = snapshot(astore)
    sec.agreed_level.value = 1
    sec.target_level.value = 3
    sec.target_date.value = date(2027, 6, 30)
    sec.agreed_rationale.value = "Ethics is only mentioned in the data strategy."
    assert snapshot(astore) == before  # a decision: nothing saved until the button
    assert sec.agree_button.description == "Record agreed level for Strategy"
    sec.agree_button.click()

    assert "Agreed level recorded" in sec.agree_message.value
    assert (
        "Agreed: <strong>1 Initiating</strong>, target 3 Testing by 30 Jun 2027 "
        "(recorded by rhea on " in sec.agreed_summary.value
    )
    agreed = component(on_disk(astore), "strategy")["agreed"]
    assert (agreed["level"], agreed["target_level"], agreed["target_date"]) == (1, 3, "2027-06-30")
    assert agreed["assessed_by"] == "rhea"
    assert astore.history(AID)[-1]["role"] == "reviewer"
    cells = row(page.overview.value, "Strategy")
    assert "1 Initiating" in cells
    assert "3 Testing" in cells
    assert '<td data-label="Gap">2</td>' in cells
    assert "Strategy: move from 1 Initiating to 3 Testing" in page.plan.value
    assert "No owner yet" in page.plan.value
    (item,) = page.plan_items.children
    assert isinstance(item, PlanItem)
    assert item.component == "strategy"

    item.owner.value = "Director of Children's Services"
    item.due.value = date(2027, 5, 1)
    # The reviewer rates a component meanwhile: the item being filled in stays as it is.
    sec.level.value = 2
    sec.rationale.value = "My own view."
    assert "Your rating is saved." in sec.message.value
    assert page.plan_items.children == (item,)
    assert item.owner.value == "Director of Children's Services"
    assert item.button.description == "Save the action for Strategy"
    item.button.click()
    assert "Action saved." in item.message.value
    action = on_disk(astore)["rounds"]["1"]["actions"]["strategy"]
    assert (action["owner"], action["due"]) == ("Director of Children's Services", "2027-05-01")
    assert "Director of Children&#x27;s Services" in page.plan.value
    assert "1 May 2027" in page.plan.value

    # Both levels are needed.
    gov = section(page, "governance")
    gov.agree_button.click()
    assert "Not recorded: choose the agreed current level and the target level." in (
        gov.agree_message.value
    )
    # A target below the current level needs a note saying why.
    before = snapshot(astore)
    agree(gov, 3, 2, "The panel reviews every tool.")
    assert 'role="alert"' in gov.agree_message.value
    assert "is below the current level (3 Testing): add a note saying why" in (
        gov.agree_message.value
    )
    assert snapshot(astore) == before
    gov.target_note.value = "The panel will stop reviewing tools already in use."
    gov.agree_button.click()
    assert "Agreed level recorded" in gov.agree_message.value
    agreed = component(on_disk(astore), "governance")["agreed"]
    assert (agreed["level"], agreed["target_level"]) == (3, 2)
    assert agreed["target_note"] == "The panel will stop reviewing tools already in use."
    assert "Why the target is lower: The panel will stop" in gov.agreed_summary.value
    assert "governance" not in on_disk(astore)["rounds"]["1"]["actions"]  # no gap, no action


# ---- two people at once


def _two_reviewers(astore):
    first, second = MaturityPage(astore, AID, RHEA), MaturityPage(astore, AID, SAM)
    agree(section(first, "strategy"), 1, 3, "Rhea's view.", target_date=date(2027, 6, 30),
          agreed_evidence="https://example.org/strategy The strategy")  # fmt: skip
    assert "Agreed level recorded" in section(first, "strategy").agree_message.value
    theirs = section(second, "strategy")
    agree(theirs, 2, 2, "Sam's view.")
    assert "Not saved: someone else changed this since you opened the page." in (
        theirs.agree_message.value
    )
    box = html_of(theirs.conflict)
    assert "rhea saved this first" in box
    assert "agreed 1 Initiating, target 3 Testing" in box
    return theirs, buttons(theirs.conflict)


def test_the_second_reviewer_may_keep_theirs_over_the_first(astore):
    theirs, choice = _two_reviewers(astore)
    assert component(on_disk(astore), "strategy")["agreed"]["assessed_by"] == "rhea"
    choice["Keep mine"].click()
    agreed = component(on_disk(astore), "strategy")["agreed"]
    assert (agreed["assessed_by"], agreed["level"], agreed["target_level"]) == ("sam", 2, 2)
    assert agreed["rationale"] == "Sam's view."
    assert "Agreed level recorded" in theirs.agree_message.value
    assert theirs.conflict.children == ()
    assert "recorded by sam" in theirs.agreed_summary.value


def test_the_second_reviewer_may_take_the_first_ones_values(astore):
    theirs, choice = _two_reviewers(astore)
    choice["Take theirs"].click()
    assert (theirs.agreed_level.value, theirs.target_level.value) == (1, 3)
    assert theirs.target_date.value == date(2027, 6, 30)
    assert theirs.agreed_rationale.value == "Rhea's view."
    assert theirs.agreed_evidence.value == "https://example.org/strategy The strategy"
    assert "Showing what was recorded." in theirs.agree_message.value
    assert theirs.conflict.children == ()
    assert "recorded by rhea" in theirs.agreed_summary.value
    agreed = component(on_disk(astore), "strategy")["agreed"]
    assert (agreed["assessed_by"], agreed["rationale"]) == ("rhea", "Rhea's view.")
    assert "Sam's view." not in astore.document_path(AID).read_text(encoding="utf-8")
    assert not [e for e in astore.history(AID) if e["user"] == "sam" and e["outcome"] == "saved"]
    # Recording again now saves over what they were shown, without a conflict.
    agree(theirs, 1, 3, "Rhea's view, and Sam agrees.")
    assert "Agreed level recorded" in theirs.agree_message.value
    assert component(on_disk(astore), "strategy")["agreed"]["assessed_by"] == "sam"


def test_two_respondents_rating_different_components_both_land(astore):
    mine, yours = MaturityPage(astore, AID, ALICE), MaturityPage(astore, AID, BOB)
    a, b = section(mine, "strategy"), section(yours, "people")
    a.level.value, b.level.value = 2, 1
    a.rationale.value, b.rationale.value = "Alice's reason.", "Bob's reason."
    assert "Your rating is saved." in a.message.value
    assert "Your rating is saved." in b.message.value
    data = on_disk(astore)
    assert component(data, "strategy")["ratings"][respondent_key("alice")]["level"] == 2
    assert component(data, "people")["ratings"][respondent_key("bob")]["level"] == 1


def test_one_person_in_two_windows_gets_the_choice_and_taking_theirs_saves_nothing(astore):
    one, two = MaturityPage(astore, AID, ALICE), MaturityPage(astore, AID, ALICE)
    first, second = section(one, "strategy"), section(two, "strategy")
    first.level.value = 3
    first.evidence.value = "https://example.org/a"
    first.rationale.value = "From the first window."
    second.level.value = 1
    second.rationale.value = "From the second window."
    assert "Not saved: someone else changed this" in second.message.value
    box = html_of(second.conflict)
    assert "You (in another window or on another device) saved this first" in box
    assert "3 Testing: From the first window." in box
    before = snapshot(astore)
    buttons(second.conflict)["Take theirs"].click()
    assert snapshot(astore) == before  # showing theirs is not a new save
    assert (second.level.value, second.rationale.value) == (3, "From the first window.")
    assert second.evidence.value == "https://example.org/a"
    assert "Showing what was saved." in second.message.value


# ---- roles


def test_an_author_has_no_agree_form_and_a_crafted_call_is_refused(astore):
    page = MaturityPage(astore, AID, ALICE)
    assert not [d for d in buttons(page) if d.startswith(("Record agreed", "Close round"))]
    assert not any(hasattr(s, "agree_button") for s in page.sections)
    before = snapshot(astore)
    sec = section(page, "strategy")
    assert sec.record_agreed() is False
    assert "Not recorded: alice may not record agreed maturity levels" in sec.message.value
    assert "that needs the reviewer role" in sec.message.value
    with pytest.raises(RoleRequired, match="needs the reviewer role"):
        mat.agree(astore, AID, "strategy", level=1, target_level=2, rationale="r", user=ALICE)
    assert snapshot(astore) == before


def test_a_viewer_reads_only_and_a_crafted_rating_is_refused(astore):
    page = MaturityPage(astore, AID, VAL)
    assert "Your role lets you read this assessment" in html_of(page)
    for sec in page.sections:
        assert sec.level.disabled
        assert sec.rationale.disabled
        assert sec.evidence.disabled
        assert not hasattr(sec, "agree_button")
    before = snapshot(astore)
    sec = section(page, "strategy")
    sec.level.value = 2  # as a message crafted in the browser would
    sec.rationale.value = "crafted"
    assert snapshot(astore) == before  # nothing listens to a viewer's controls
    assert sec.save_rating() is False
    assert "Not saved: val may not rate the authority&#x27;s maturity" in sec.message.value
    assert "that needs the author or reviewer role" in sec.message.value
    assert sec.record_agreed() is False
    assert "that needs the reviewer role" in sec.message.value
    assert snapshot(astore) == before


# ---- rounds


def test_closed_round_is_read_only_and_closing_then_starting_a_round_carries_levels(
    demo_astore,
):
    page = MaturityPage(demo_astore, DEMO_AID, CHAIR)
    assert page.number == 2
    assert page.editable
    closed_at = on_disk(demo_astore, DEMO_AID)["rounds"]["1"]["closed"]["at"]

    page.round_picker.value = 1
    assert (page.number, page.editable) == (1, False)
    shown = html_of(page)
    assert "Round 1 is closed: it is shown as it was agreed and cannot be changed." in shown
    assert f"Round 1: closed on {day(closed_at)} by priya.shah." in shown
    for sec in page.sections:
        assert sec.level.disabled
        assert sec.rationale.disabled
        assert sec.evidence.disabled
        assert not hasattr(sec, "agree_button")
    assert not [d for d in buttons(page) if d.startswith(("Close round", "Start round"))]
    before = snapshot(demo_astore, DEMO_AID)
    sec = section(page, "strategy")
    assert sec.record_agreed() is False
    assert "Not recorded: round 1 is closed and cannot be changed." in sec.message.value
    sec.level.value = 5
    sec.rationale.value = "crafted"
    assert sec.save_rating() is False
    assert "a closed round cannot be changed" in sec.message.value
    assert snapshot(demo_astore, DEMO_AID) == before

    page.round_picker.value = 2  # back to the open round: the page's own buttons act on it
    assert (page.number, page.editable) == (2, True)
    assert "Record agreed level for Strategy" in buttons(page)
    buttons(page)["Close round 2"].click()
    assert "Round 2 is closed." in page.round_message.value
    assert on_disk(demo_astore, DEMO_AID)["rounds"]["2"]["closed"]["by"] == "priya.shah"
    assert "Close round 2" not in buttons(page)
    buttons(page)["Start round 3"].click()
    assert "Round 3 has started." in page.round_message.value
    assert page.number == 3
    assert page.editable
    data = on_disk(demo_astore, DEMO_AID)
    carried = component(data, "governance", 3)["agreed"]
    assert (carried["level"], carried["target_level"], carried["carried_from"]) == (3, 4, 2)
    assert component(data, "governance", 3)["ratings"] == {}  # everyone rates afresh
    assert "carried over from round 2" in section(page, "governance").agreed_summary.value
    assert section(page, "governance").level.value is None
    assert [n for _, n in page.round_picker.options] == [1, 2, 3]


def test_a_round_cannot_close_until_every_component_is_agreed(astore):
    page = MaturityPage(astore, AID, RHEA)
    model = page.model
    for sec in page.sections[:-1]:
        agree(sec, 1, 1, "Agreed at the workshop.")
    last = page.sections[-1].component
    buttons(page)["Close round 1"].click()
    assert f"Not closed: round 1 cannot close yet: no agreed level for {last.name}." in (
        page.round_message.value
    )
    assert on_disk(astore)["rounds"]["1"]["closed"] is None
    agree(section(page, last.id), 0, 2, "")
    page.close_note.value = "Agreed at the board."
    buttons(page)["Close round 1"].click()
    assert "Round 1 is closed." in page.round_message.value
    assert on_disk(astore)["rounds"]["1"]["closed"]["note"] == "Agreed at the board."
    buttons(page)["Start round 2"].click()
    assert page.number == 2
    assert "carried over from round 1" in section(page, last.id).agreed_summary.value
    assert len(model.components) == len(page.sections)


# ---- the list of authorities


def test_a_reviewer_starts_an_assessment_from_the_list_and_an_author_cannot(demo_store):
    store = AssessmentStore(demo_store.root)
    index = MaturityIndex(store, RHEA)
    assert "No authority has started a self-assessment yet." in index.listing.value
    index.name.value = "Northshire Council"
    index.button.click()
    link = "06-maturity.ipynb?authority=northshire-council"
    assert f'<a href="{link}">Open the self-assessment of Northshire Council</a>' in (
        index.message.value
    )
    assert f'<a href="{link}">Northshire Council</a>: round 1 open, none closed yet' in (
        index.listing.value
    )
    assert store.open(AID).authority.name == NAME
    index.button.click()  # the same authority again: refused, named
    assert "Not started: " in index.message.value
    assert 'role="alert"' in index.message.value

    viewer = MaturityIndex(store, ALICE)
    assert index.name in list(walk(index))
    assert viewer.name not in list(walk(viewer))
    assert "Start its maturity self-assessment" not in buttons(viewer)
    assert "Northshire Council" in viewer.listing.value
    viewer.name.value = "Southshire Council"
    assert viewer.start() is False
    assert "that needs the reviewer role" in viewer.message.value
    assert [e.id for e in store.list()] == [AID]


# ---- where other pages show the assessment


def test_start_page_portfolio_and_explore_checklist_show_the_demo_authority(
    demo_store, demo_astore
):
    store = demo_store
    data = on_disk(demo_astore, DEMO_AID)
    closed = day(data["rounds"]["1"]["closed"]["at"])
    link = f"06-maturity.ipynb?authority={DEMO_AID}"
    line = f"round 1 closed {closed}; round 2 open; 7 gaps, 7 open actions"

    start = StartPage(store, user="tester", project_id="demo")
    assert "Digital ethics maturity" in start.maturity.value
    assert f'<a href="{link}">{DEMO_NAME}</a>: {line}' in start.maturity.value

    store.create("Placement Finder", NAME, project_id="other", user="setup")
    dash = PortfolioDashboard(store, today=date(2027, 1, 1))
    table = dash.maturity.value
    assert f'<a href="{link}">{DEMO_NAME}</a></th>' in table
    assert f"<td>Round 1, closed {closed}; round 2 open</td>" in table
    assert "<td>levels 0 to 2</td><td>7</td><td>7</td><td>3</td>" in table  # gaps, actions
    dash.authority.value = NAME
    assert DEMO_NAME not in dash.maturity.value
    assert "No authority here has a maturity self-assessment yet" in dash.maturity.value
    dash.authority.value = DEMO_NAME
    assert f'<a href="{link}">{DEMO_NAME}</a></th>' in dash.maturity.value

    explore = PhaseWorkbook(EditSession(store, "demo", user="t"), "explore")
    (hint,) = [x for x in walk(explore) if "ew-maturity-link" in x._dom_classes]
    assert (
        f"{DEMO_NAME}'s digital ethics maturity self-assessment: round 1 closed {closed}"
        in hint.value
    )
    assert f'<a href="{link}">Open the self-assessment</a>' in hint.value
    other = PhaseWorkbook(EditSession(store, "other", user="t"), "explore")
    (hint,) = [x for x in walk(other) if "ew-maturity-link" in x._dom_classes]
    assert f"No digital ethics maturity self-assessment for {NAME} in this workbook yet." in (
        hint.value
    )


# ---- user text is escaped


def test_user_text_is_escaped_in_every_view(demo_store):
    store = AssessmentStore(demo_store.root)
    index = MaturityIndex(store, RHEA)
    index.name.value = f"Hartmoor {XSS}"
    assert index.start()
    (entry,) = store.list()
    aid = entry.id
    demo_store.create("Tool", f"Hartmoor {XSS}", project_id="xss", user="setup")
    rater = Actor(name="<img src=x onerror=alert(3)>")  # roles off: any typed name
    page = MaturityPage(store, aid, rater)
    other = section(MaturityPage(store, aid, RHEA), "strategy")  # opened before the agreeing
    sec = section(page, "strategy")
    sec.level.value = 2
    sec.rationale.value = f"Why: {XSS}"
    sec.evidence.value = f"https://example.org/x {XSS}"
    assert "Your rating is saved." in sec.message.value
    agree(sec, 1, 3, f"Agreed: {XSS}", agreed_evidence=f"xss q7 {XSS}")
    assert "Agreed level recorded" in sec.agree_message.value
    (item,) = page.plan_items.children
    item.owner.value = XSS
    item.button.click()
    agree(other, 2, 2, f"Other: {XSS}")
    assert other.conflict.children
    views = {
        "page": html_of(page),
        "conflict": html_of(other.conflict),
        "fresh page": html_of(MaturityPage(store, aid, rater)),
        "index": html_of(index),
        "start page": StartPage(demo_store, user="t", project_id="xss").maturity.value,
        "portfolio": PortfolioDashboard(demo_store).maturity.value,
        "checklist": html_of(PhaseWorkbook(EditSession(demo_store, "xss", user="t"), "explore")),
    }
    for where, text in views.items():
        assert "<script" not in text, where
        assert "<img" not in text, where
        if where != "conflict":  # the authority's name, at least
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, where
    assert "&lt;img src=x onerror=alert(3)&gt; saved this first" in views["conflict"]
    assert "Agreed: &lt;script&gt;alert(1)" in views["page"]  # the agreed rationale
    assert "question 7</a>: &lt;script&gt;alert(1)" in views["page"]  # an evidence label
