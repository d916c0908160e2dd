"""The risk register in the app, driven headless: fill in the forms, click, then check what
reached the answers file and what the heat map, coverage and list show."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from widgets import PhaseWorkbook
from widgets.risks import LinkedRisks, RiskRegisterView
from workbook import review
from workbook.members import set_members
from workbook.roles import Actor, Role
from workbook.session import EditSession

XSS = '<img src=x onerror="alert(1)">'


pytestmark = pytest.mark.usefixtures("no_running_loop")


def _register(store, user="ann") -> RiskRegisterView:
    page = PhaseWorkbook(EditSession(store, "demo", user=user), "explore")
    assert page.risk_register is not None
    return page.risk_register


def _disk(store) -> dict:
    return json.loads(store.answers_path("demo").read_text("utf-8"))


def _cell(view: RiskRegisterView, likelihood: int, impact: int) -> str:
    found = re.search(
        rf'<td class="[^"]*" data-cell="{likelihood}-{impact}">(.*?)</td>', view.heat_map.value
    )
    assert found, f"no heat map cell {likelihood}-{impact}"
    return found.group(1)


def test_the_register_sits_under_question_4s_answer_and_shows_the_demo(demo_store):
    page = PhaseWorkbook(EditSession(demo_store, "demo", user="ann"), "explore")
    q4 = page.question("q4")
    children = list(q4.children)
    assert children.index(page.risk_register) == children.index(q4.progress) + 1
    view = page.risk_register
    assert view is not None
    assert "Not yet considered: Environmental sustainability" in view.coverage.value
    assert view.coverage.value.count("1 risk<") == 6
    assert list(view.consider_forms) == ["environment"]
    area = view.consider_forms["environment"][0]
    assert area.description == "Why Environmental sustainability does not apply to this tool"
    assert len(view.list_box.children) == 6
    # numbered as in the exports: highest remaining risk first (privacy, 12 after mitigation)
    assert view.numbers == {
        "r-demo02": "R1",
        "r-demo01": "R2",
        "r-demo03": "R3",
        "r-demo04": "R4",
        "r-demo05": "R5",
        "r-demo06": "R6",
    }
    assert [item.risk_id for item in view.list_box.children] == list(view.numbers)
    # R2 (fairness) is 4 x 4 before and 3 x 3 after; its cells say so, with the band in words
    assert "Before: R2" in _cell(view, 4, 4)
    assert "High (16)" in _cell(view, 4, 4)
    assert "After: R2" in _cell(view, 3, 3)
    assert "<caption>" in view.heat_map.value
    assert view.heat_map.value.count('<th scope="col">') == 5
    assert view.heat_map.value.count('<th scope="row">') == 5
    assert "review by 15 Nov 2026" in view.item("R2").summary.value
    assert "R2</span> The indicator flags" in view.item("R2").summary.value
    # no register on the other phase pages
    develop = PhaseWorkbook(EditSession(demo_store, "demo", user="ann"), "develop")
    assert develop.risk_register is None


def test_a_risk_added_through_the_form_reaches_disk_heat_map_coverage_and_list(demo_store):
    view = _register(demo_store)
    before = _disk(demo_store)["revision"]
    view.add_button.click()
    form = view.add_form
    assert form is not None
    labels = [
        form.title.description,
        form.description.description,
        form.category.description,
        form.cause.description,
        form.likelihood_before.description,
        form.impact_before.description,
        form.mitigations[0][0].description,
        form.likelihood_after.description,
        form.impact_after.description,
        form.status.description,
        form.review_by.description,
        form.note.description,
    ]
    assert labels == [
        "Title",
        "Description",
        "Category",
        "Cause",
        "Likelihood before",
        "Impact before",
        "Mitigation 1",
        "Likelihood after",
        "Impact after",
        "Status",
        "Next review date",
        "Note",
    ]
    assert [label for label, _ in form.category.options][1:] == [
        "Privacy",
        "Safety",
        "Displacement, skills and work",
        "Transparency",
        "Fairness, equality, diversity and accessibility",
        "Environmental sustainability",
        "Social value and societal impact",
    ]
    assert ("3 Possible", 3) in form.likelihood_before.options
    actions = dict(form.mitigations[0][1].options)
    action = (
        "Question 4: Write a purpose and limits statement and have it agreed by the Data Ethics "
        "Panel"
    )
    assert actions[action] == "q4#0"

    form.title.value = "  Weekly retraining uses more energy than the service needs  "
    form.description.value = "The model is retrained every week on the full history."
    form.category.value = "environment"
    form.affected["public"].value = True
    form.affected["authority"].value = True
    form.cause.value = "A retraining schedule copied from a much larger service."
    form.likelihood_before.value = 3
    form.impact_before.value = 2
    form.mitigations[0][0].value = "Retrain monthly, and only when the data has drifted."
    form.mitigations[0][1].value = "q4#0"
    form.add_mitigation.click()
    form.mitigations[1][0].value = "Ask the host for its energy figures."
    form.likelihood_after.value = 2
    form.impact_after.value = 2
    form.owner.value = "Data science lead"
    form.status.value = "mitigated"
    form.review_by.value = dt.date(2027, 4, 30)
    form.note.value = "Agreed at the May board."
    form.save_button.click()

    assert "Saved as R7" in form.message.value
    assert "It is in the list and the heat map." in form.message.value
    assert 'role="status"' in form.message.value
    data = _disk(demo_store)
    assert data["revision"] == before + 1
    (rid, saved) = list(data["risks"]["items"].items())[-1]
    assert saved == {
        **saved,
        "title": "Weekly retraining uses more energy than the service needs",
        "description": "The model is retrained every week on the full history.",
        "category": "environment",
        "affected": ["authority", "public"],
        "cause": "A retraining schedule copied from a much larger service.",
        "before": {"likelihood": 3, "impact": 2},
        "mitigations": [
            {
                "text": "Retrain monthly, and only when the data has drifted.",
                "action": {"question": "q4", "index": 0},
            },
            {"text": "Ask the host for its energy figures.", "action": None},
        ],
        "after": {"likelihood": 2, "impact": 2},
        "owner": "Data science lead",
        "status": "mitigated",
        "review_by": "2027-04-30",
        "note": "Agreed at the May board.",
        "created_by": "ann",
    }
    # the view shows it: heat map cells, coverage, list; the add form is blank again
    assert "Before: R7" in _cell(view, 3, 2)
    assert "Medium (6)" in _cell(view, 3, 2)
    assert "After: R7" in _cell(view, 2, 2)
    assert "R7" not in _cell(view, 3, 3)
    assert "Not yet considered" not in view.coverage.value
    assert "<strong>Environmental sustainability</strong>: 1 risk" in view.coverage.value
    assert view.consider_forms == {}
    assert len(view.list_box.children) == 7
    card = view.item("R7").summary.value
    assert "Weekly retraining uses more energy" in card
    assert "before mitigation 6 Medium \u2192 after 4 Low" in card
    assert "Data science lead" in card
    assert "Mitigated" in card
    assert "review by 30 Apr 2027" in card
    assert "further work: question 4, action 1" in card
    assert form.title.value == ""
    assert form.category.value == ""
    assert view.items[rid] is view.item("R7")
    # the page's editing session is on the new revision: an answer typed now saves cleanly
    page_session = view.ctx.session
    assert page_session is not None
    assert page_session.workbook.revision == data["revision"]


def test_editing_a_risk_changes_only_what_was_changed_and_renumbers_it(demo_store):
    view = _register(demo_store)
    item = view.items["r-demo01"]  # fairness, R2: 9 remaining
    item.edit_button.click()
    form = item.form
    assert form is not None
    assert item.edit_button.description == "Close the form for R2"
    assert form.title.description == "R2: title"
    assert form.likelihood_after.description == "R2: likelihood after"
    assert form.save_button.description == "Save R2"
    assert form.likelihood_before.value == 4
    assert form.mitigations[0][1].value == "q7#0"  # the demo's link is shown
    form.likelihood_after.value = 2
    form.impact_after.value = 2
    form.save_button.click()
    saved = _disk(demo_store)["risks"]["items"]["r-demo01"]
    assert saved["after"] == {"likelihood": 2, "impact": 2}
    assert saved["questions"] == ["q4", "q7"]  # not on the form: kept
    assert saved["mitigations"][0]["action"] == {"question": "q7", "index": 0}
    # 4 remaining is now the lowest: it is R6, at the end of the list, and its form says so
    assert view.numbers["r-demo01"] == "R6"
    assert view.list_box.children[-1] is item
    assert "Saved R6." in form.message.value
    assert form.title.description == "R6: title"
    assert form.mitigations[0][0].description == "R6: mitigation 1"
    assert form.save_button.description == "Save R6"
    assert item.edit_button.description == "Close the form for R6"
    assert "After: R6" in _cell(view, 2, 2)
    assert "R6" not in _cell(view, 3, 3)
    assert "after 4 Low" in item.summary.value
    item.edit_button.click()  # folds the form away
    assert form.layout.display == "none"
    assert item.edit_button.description == "Edit R6"


@pytest.mark.parametrize(
    ("fill", "said"),
    [
        ({"title": ""}, "give the risk a title"),
        ({"category": ""}, "choose the digital ethics category"),
        (
            {"likelihood_before": 3},
            "rate both \u201cLikelihood before\u201d and \u201cImpact before\u201d",
        ),
        ({"title": "x" * 1001}, "Title:"),
    ],
    ids=["no title", "no category", "half a rating", "title too long"],
)
def test_a_form_the_store_would_refuse_says_why_and_keeps_what_was_typed(demo_store, fill, said):
    view = _register(demo_store)
    revision = _disk(demo_store)["revision"]
    view.add_button.click()
    form = view.add_form
    assert form is not None
    form.title.value = "A risk"
    form.category.value = "privacy"
    form.cause.value = "Typed and kept"
    for name, value in fill.items():
        getattr(form, name).value = value
    form.save_button.click()
    assert said in form.message.value
    assert form.message.value.startswith('<p class="ew-error" role="alert">Not saved: ')
    assert "Traceback" not in form.message.value
    assert _disk(demo_store)["revision"] == revision
    assert form.cause.value == "Typed and kept"
    assert len(view.list_box.children) == 6


def test_a_category_recorded_as_not_relevant_needs_a_sentence(demo_store):
    view = _register(demo_store)
    revision = _disk(demo_store)["revision"]
    area, button, message, _box, _intro = view.consider_forms["environment"]
    area.value = "Not relevant"
    button.click()
    assert "in a sentence" in message.value
    assert 'role="alert"' in message.value
    assert _disk(demo_store)["revision"] == revision
    assert area.value == "Not relevant"
    assert "Not yet considered: Environmental sustainability" in view.coverage.value

    reason = "The model runs weekly on an existing council server; its energy use is tiny."
    area.value = reason
    button.click()
    considered = _disk(demo_store)["risks"]["considered"]["environment"]
    assert considered["reason"] == reason
    assert considered["by"] == "ann"
    assert "Not yet considered" not in view.coverage.value
    assert "considered, not relevant: \u201cThe model runs weekly" in view.coverage.value
    assert view.consider_forms == {}
    assert "Saved: Environmental sustainability recorded" in view.coverage_message.value


def test_someone_elses_edit_is_not_overwritten_unseen(demo_store):
    mine = _register(demo_store, user="ann")
    theirs = _register(demo_store, user="bob")
    mine.item("R3").edit_button.click()
    theirs.item("R3").edit_button.click()
    their_form = theirs.item("R3").form
    assert their_form is not None
    their_form.owner.value = "Director of Children's Services"
    their_form.save_button.click()
    my_form = mine.item("R3").form
    assert my_form is not None
    my_form.owner.value = "Ann's team"
    my_form.save_button.click()
    assert "someone else changed R3" in my_form.message.value
    assert _disk(demo_store)["risks"]["items"]["r-demo03"]["owner"] == (
        "Director of Children's Services"
    )
    assert my_form.owner.value == "Ann's team"
    assert my_form.reload_button.layout.display == "flex"
    my_form.reload_button.click()
    assert my_form.owner.value == "Director of Children's Services"
    my_form.note.value = "Checked with Bob."
    my_form.save_button.click()
    assert "Saved R3." in my_form.message.value
    saved = _disk(demo_store)["risks"]["items"]["r-demo03"]
    assert (saved["owner"], saved["note"]) == (
        "Director of Children's Services",
        "Checked with Bob.",
    )


def test_user_text_is_escaped(demo_store):
    view = _register(demo_store)
    view.add_button.click()
    form = view.add_form
    assert form is not None
    form.title.value = XSS
    form.category.value = "safety"
    form.note.value = XSS
    form.save_button.click()
    assert "rate it to place it in the heat map" in form.message.value  # it is unrated
    card = view.item("R7").summary.value
    assert "<img" not in card
    assert "&lt;img src=x" in card
    assert "<img" not in form.message.value


def test_a_viewer_sees_the_register_read_only_and_the_core_refuses_an_edit(demo_store):
    set_members(demo_store, "demo", ["val", "ann"], user="setup")
    viewer = Actor(name="val", roles=frozenset({Role.viewer}), source="hub", enforced=True)
    view = _register(demo_store, user=viewer)
    assert view.read_only
    assert "Only an author can change the risk register" in view.heading.value
    assert view.add_button.disabled
    assert view.item("R1").edit_button.disabled
    assert all(form[0].disabled and form[1].disabled for form in view.consider_forms.values())
    revision = _disk(demo_store)["revision"]
    # a save the page did not offer (a message crafted in the browser) is refused in words
    view.toggle_add()
    form = view.add_form
    assert form is not None
    form.title.value = "Forced"
    form.category.value = "privacy"
    form.save()
    assert "Not saved: val may not edit answers: that needs the author role" in form.message.value
    area, _button, message, _box, _intro = view.consider_forms["environment"]
    area.value = "A long enough reason why this does not apply here."
    view.consider("environment")
    assert "may not edit answers" in message.value
    assert _disk(demo_store)["revision"] == revision

    author = Actor(name="ann", roles=frozenset({Role.author}), source="hub", enforced=True)
    view = _register(demo_store, user=author)
    assert not view.read_only
    assert not view.add_button.disabled
    view.add_button.click()
    form = view.add_form
    assert form is not None
    form.title.value = "Allowed"
    form.category.value = "privacy"
    form.save_button.click()
    assert "Saved as R7" in form.message.value
    history = demo_store.history("demo")[-1]
    assert (history["user"], history.get("role")) == ("ann", "author")


def test_a_challenge_on_a_risk_shows_under_it_where_the_sign_off_banner_links(demo_store):
    review.add_comment(
        demo_store,
        "demo",
        target="risk.r-demo05",
        kind="challenge",
        text="Who trains the hub staff, and when?",
        user="Rev",
    )
    page = PhaseWorkbook(EditSession(demo_store, "demo", user="ann"), "explore")
    assert page.risk_register is not None
    threads = page.risk_register.items["r-demo05"].threads
    heading = threads.children[0].value
    assert 'id="comments-risk-r-demo05"' in heading
    assert "1 open challenge" in heading
    assert 'href="#comments-risk-r-demo05"' in page.banner.value


def test_questions_a_risk_links_to_list_it_with_a_link_to_the_register(demo_store):
    page = PhaseWorkbook(EditSession(demo_store, "demo", user="ann"), "develop")
    shown = {}
    for qw in page.questions:
        linked = [c for c in qw.children if isinstance(c, LinkedRisks)]
        if linked:
            children = list(qw.children)
            assert children.index(linked[0]) == children.index(qw.progress) + 1
            shown[qw.question.id] = linked[0].value
    assert sorted(shown) == ["q10", "q7", "q8"]
    assert "Risks linked to this question" in shown["q7"]
    assert "<strong>R2</strong> The indicator flags social housing tenants" in shown["q7"]
    assert "remaining risk Medium (9)" in shown["q7"]
    assert "<strong>R1</strong> Families can be re-identified" in shown["q8"]
    assert "<strong>R6</strong> A contact from the council" in shown["q10"]
    assert 'href="01-explore.ipynb?project=demo#risk-register"' in shown["q7"]
