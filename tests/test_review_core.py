"""workbook.review through a real store: comments, sign-off, history, restore, diffs, actions."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.signing import approve_anyway
from workbook import review
from workbook.errors import WorkbookError
from workbook.review import SignOffRefused
from workbook.store import Change, Store


@pytest.fixture
def project(store: Store) -> str:
    """A blank project 'p' (revision 1)."""
    store.create("Review Tool", "Test Council", project_id="p", user="author")
    return "p"


def edit(store: Store, pid: str, path: str, new, *, user: str = "author"):
    """Change one field from its current value, as the app does."""
    from workbook.store import get_path

    wb = store.open(pid)
    old = get_path(wb.to_data(), path)
    return store.apply(pid, [Change(path, old, new)], user=user, base_revision=wb.revision)


def saved_paths(store: Store, pid: str) -> list[tuple[int, str, str]]:
    return [
        (e["revision"], e["path"], e["user"]) for e in store.history(pid) if e["outcome"] == "saved"
    ]


# --------------------------------------------------------------------------- threads


def test_comment_reply_resolve_reopen_are_revisions_in_the_history(store, project):
    wb, tid = review.add_comment(
        store, project, target="q2", kind="question", text="  Who was asked?  ", user="rev",
        role="Panel chair",
    )  # fmt: skip
    assert wb.revision == 2
    th = wb.review.threads[tid]
    assert (th.text, th.author, th.role, th.kind.value) == (
        "Who was asked?",
        "rev",
        "Panel chair",
        "question",
    )
    wb, rid = review.reply(store, project, tid, text="Two parent groups.", user="author")
    assert wb.revision == 3
    assert wb.review.threads[tid].replies[rid].text == "Two parent groups."
    wb = review.set_resolved(store, project, tid, True, user="rev")
    th = wb.review.threads[tid]
    assert (wb.revision, th.resolved, th.resolved_by) == (4, True, "rev")
    assert th.resolved_at is not None
    wb = review.set_resolved(store, project, tid, False, user="author")
    th = wb.review.threads[tid]
    assert (wb.revision, th.resolved, th.resolved_by, th.resolved_at) == (5, False, None, None)
    # resolving what is already resolved (or reopening what is open) is not a revision
    assert review.set_resolved(store, project, tid, False, user="x").revision == 5

    lines = saved_paths(store, project)
    assert (2, f"review.threads.{tid}", "rev") in lines
    assert (3, f"review.threads.{tid}.replies.{rid}", "author") in lines
    assert (4, f"review.threads.{tid}.resolved", "rev") in lines
    assert (5, f"review.threads.{tid}.resolved", "author") in lines
    views = review.threads(store.open(project))
    assert [(v.id, v.target, v.phase_id, v.target_label) for v in views] == [
        (tid, "q2", "explore", "Question 2")
    ]


def test_comment_on_a_checklist_item_and_filters(store, project):
    _, t1 = review.add_comment(
        store, project, target="develop.checklist.baseline", kind="suggestion", text="s",
        user="rev",
    )  # fmt: skip
    _, t2 = review.add_comment(store, project, target="q12", kind="challenge", text="c", user="r")
    wb = store.open(project)
    (v,) = review.threads(wb, target="develop.checklist.baseline")
    assert v.phase_id == "develop"
    assert v.target_label.startswith("Develop phase checklist:")
    assert [v.id for v in review.threads(wb, phase_id="implement")] == [t2]
    assert [v.id for v in review.open_challenges(wb)] == [t2]
    assert review.open_challenges(wb, "develop") == []


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"target": "q2", "kind": "question", "text": "   "}, "write the comment"),
        ({"target": "q99", "kind": "question", "text": "x"}, "review.threads"),
        ({"target": "q2", "kind": "rant", "text": "x"}, "rant"),
    ],
)
def test_bad_comments_are_refused_and_nothing_is_saved(store, project, kwargs, words):
    with pytest.raises((WorkbookError, ValueError), match=words):
        review.add_comment(store, project, user="rev", **kwargs)
    assert store.open(project).revision == 1


def test_reply_to_a_missing_thread_names_it(store, project):
    with pytest.raises(WorkbookError, match="no comment thread 't-nope'"):
        review.reply(store, project, "t-nope", text="hi", user="a")


def test_two_sessions_commenting_from_the_same_stale_revision_both_survive(store, project):
    base = store.open(project).revision
    _, t1 = review.add_comment(
        store, project, target="q1", kind="question", text="first", user="a", base_revision=base
    )
    _, t2 = review.add_comment(
        store, project, target="q1", kind="challenge", text="second", user="b", base_revision=base
    )
    wb = store.open(project)
    assert {t1, t2} == set(wb.review.threads)
    assert wb.revision == base + 2
    # replies at once to the same thread, each from its own stale view, also both survive
    wb1, r1 = review.reply(store, project, t1, text="one", user="a")
    wb2, r2 = review.reply(store, project, t1, text="two", user="b")
    assert set(store.open(project).review.threads[t1].replies) == {r1, r2}


# --------------------------------------------------------------------------- sign-off


def test_sign_off_is_refused_while_a_challenge_is_open_and_names_it(store, project):
    _, tid = review.add_comment(
        store, project, target="q3", kind="challenge", text="Where is the DPIA?", user="rev"
    )
    review.add_comment(store, project, target="q12", kind="challenge", text="other", user="rev")
    with pytest.raises(SignOffRefused) as info:
        approve_anyway(store, project, "explore", decision="approved", reviewer="Sam", user="s")
    assert [b[0] for b in info.value.blockers] == [tid]  # q12 is Implement, not Explore
    assert "Question 3" in str(info.value)
    assert "Where is the DPIA?" in str(info.value)
    assert store.open(project).review.signoffs.explore is None
    with pytest.raises(SignOffRefused):
        approve_anyway(
            store, project, "explore", decision="approved_with_conditions", reviewer="Sam",
            conditions="Do X", user="s",
        )  # fmt: skip
    # "not approved" can always be recorded
    wb = approve_anyway(
        store, project, "explore", decision="not_approved", reviewer="Sam", user="s"
    )
    assert wb.review.signoffs.explore.decision.value == "not_approved"
    # other phases are not blocked by Explore's challenge
    wb = approve_anyway(store, project, "develop", decision="approved", reviewer="Sam", user="s")
    assert review.signoff_state(wb, "develop").status == "current"
    # resolving the challenge lets the approval through
    review.set_resolved(store, project, tid, True, user="Sam", reviewer=True)
    wb = approve_anyway(store, project, "explore", decision="approved", reviewer="Sam", user="s")
    assert review.signoff_state(wb, "explore").status == "current"


def test_a_challenge_added_between_reading_and_signing_still_blocks(store, project):
    """The check runs again in Store.apply, under the lock, on the merged data."""
    import workbook.review as mod

    seen = store.open(project)
    record = {
        "decision": "approved",
        "reviewer": "Sam",
        "role": "",
        "signed_at": "2026-11-01T10:00:00Z",
        "conditions": "",
        "revision": seen.revision,
        "fingerprint": mod.phase_fingerprint(seen, "explore"),
    }
    _, tid = review.add_comment(
        store, project, target="explore.checklist.data_maturity", kind="challenge",
        text="Scored by whom?", user="other",
    )  # fmt: skip
    with pytest.raises(SignOffRefused) as info:
        store.apply(
            project,
            [Change("review.signoffs.explore", None, record)],
            user="sam",
            base_revision=seen.revision,
            rules=review.SAVE_RULES,
        )
    assert info.value.blockers[0][0] == tid
    assert "Scored by whom?" in str(info.value)
    assert info.value.path == store.answers_path(project)
    assert store.open(project).review.signoffs.explore is None


def test_sign_off_checks_challenges_at_save_time_even_if_added_after_its_own_read(
    store, project, monkeypatch
):
    """sign_off() reads, then another session posts a challenge, then sign_off saves."""
    real_apply = store.apply
    calls = []

    def racing_apply(pid, changes, **kw):
        if not calls and changes[0].path.startswith("review.signoffs."):
            calls.append(1)
            review.add_comment(store, pid, target="q1", kind="challenge", text="Late", user="o")
        return real_apply(pid, changes, **kw)

    monkeypatch.setattr(store, "apply", racing_apply)
    with pytest.raises(SignOffRefused, match="Late"):
        approve_anyway(store, project, "explore", decision="approved", reviewer="S", user="s")
    assert store.open(project).review.signoffs.explore is None


def test_approved_with_conditions_needs_the_conditions(store, project):
    with pytest.raises(WorkbookError, match="conditions"):
        approve_anyway(
            store, project, "explore", decision="approved_with_conditions", reviewer="Sam",
            conditions="   ", user="s",
        )  # fmt: skip
    with pytest.raises(WorkbookError, match="reviewer"):
        approve_anyway(store, project, "explore", decision="approved", reviewer=" ", user="s")
    wb = approve_anyway(
        store, project, "explore", decision="approved_with_conditions", reviewer="Sam",
        role="Chair", conditions="Publish the DPIA", user="s",
    )  # fmt: skip
    state = review.signoff_state(wb, "explore")
    assert state.record.conditions == "Publish the DPIA"
    assert state.summary.startswith(
        "Approved with conditions (4 questions incomplete) by Sam (Chair), "
    )
    assert state.summary.endswith(f"revision {wb.revision - 1}")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("answers.q1.response", "Changed."),
        ("answers.q2.prompts.engagement", "A note."),
        ("answers.q3.status", "complete"),
        ("answers.q4.evidence", [{"reference": "DPIA", "description": ""}]),
        ("answers.q4.further_work", [{"action": "Do it", "due": None, "status": "open"}]),
        ("answers.q1.informed_by.end_users", True),
        ("phases.explore.checklist.data_maturity.status", "done"),
        ("phases.explore.checklist.data_maturity.note", "n"),
        ("phases.explore.note", "Phase note"),
    ],
)  # fmt: skip
def test_any_edit_of_the_phase_makes_its_sign_off_out_of_date(store, project, path, value):
    wb = approve_anyway(store, project, "explore", decision="approved", reviewer="Sam", user="s")
    signed = wb.review.signoffs.explore.revision
    assert review.signoff_state(wb, "explore").status == "current"
    wb = edit(store, project, path, value)
    state = review.signoff_state(wb, "explore")
    assert state.status == "out_of_date"
    assert state.summary.startswith(f"Out of date: changed since revision {signed}. Was: Approved")


def test_edits_elsewhere_and_comments_leave_the_sign_off_current(store, project):
    approve_anyway(store, project, "explore", decision="approved", reviewer="Sam", user="s")
    edit(store, project, "answers.q5.response", "Develop answer")
    edit(store, project, "phases.develop.checklist.baseline.status", "done")
    edit(store, project, "project.owner", "New owner")
    _, tid = review.add_comment(store, project, target="q1", kind="question", text="?", user="r")
    review.reply(store, project, tid, text="!", user="a")
    review.set_resolved(store, project, tid, True, user="r", reviewer=True)
    wb = approve_anyway(store, project, "develop", decision="approved", reviewer="S", user="s")
    assert review.signoff_state(wb, "explore").status == "current"
    assert review.signoff_state(wb, "implement").status == "none"
    assert review.signoff_state(wb, "implement").summary == "Not signed off yet"
    # and an edit that is undone makes it current again (same content as signed)
    edit(store, project, "answers.q1.response", "temp")
    wb = edit(store, project, "answers.q1.response", "")
    assert review.signoff_state(wb, "explore").status == "current"


def test_signing_an_older_revision_that_has_changed_since_is_out_of_date_at_once(store, project):
    edit(store, project, "answers.q1.response", "v1")
    read = store.open(project).revision
    edit(store, project, "answers.q1.response", "v2")
    wb = approve_anyway(
        store, project, "explore", decision="approved", reviewer="S", user="s", revision=read
    )
    assert wb.review.signoffs.explore.revision == read
    assert review.signoff_state(wb, "explore").status == "out_of_date"
    assert [c.new for c in review.changes_since_signoff(store, wb, "explore")] == ["v2"]


# --------------------------------------------------------------------------- history


def test_history_entries_filter_by_revision_and_phase(store, project):
    edit(store, project, "answers.q1.response", "a")  # r2
    edit(store, project, "answers.q5.response", "b")  # r3
    review.add_comment(store, project, target="q1", kind="question", text="?", user="r")  # r4
    assert [e["revision"] for e in review.history_entries(store, project, since=2)] == [3, 4]
    explore = review.history_entries(store, project, phase_id="explore")
    assert [e["path"] for e in explore] == ["answers.q1.response"]
    no_review = review.history_entries(store, project, include_review=False)
    assert not [e for e in no_review if e["path"].startswith("review.")]


def test_value_at_and_workbook_at_rebuild_old_revisions(store, project):
    edit(store, project, "answers.q1.response", "one")  # r2
    ev1 = [{"reference": "Doc A", "description": ""}]
    edit(store, project, "answers.q1.evidence", ev1)  # r3
    fw1 = [{"action": "Act", "owner": "Kim", "due": "2026-01-01", "status": "open"}]
    edit(store, project, "answers.q1.further_work", fw1)  # r4
    edit(store, project, "answers.q1.response", "two")  # r5
    ev2 = [*ev1, {"reference": "Doc B", "description": "more"}]
    edit(store, project, "answers.q1.evidence", ev2)  # r6
    _, tid = review.add_comment(store, project, target="q1", kind="question", text="?", user="r")
    edit(store, project, "answers.q1.further_work", [])  # r8
    edit(store, project, "answers.q1.informed_by.end_users", True)  # r9

    expected = {
        1: ("", [], [], False),
        2: ("one", [], [], False),
        3: ("one", ev1, [], False),
        4: ("one", ev1, fw1, False),
        5: ("two", ev1, fw1, False),
        6: ("two", ev2, fw1, False),
        7: ("two", ev2, fw1, False),
        8: ("two", ev2, [], False),
        9: ("two", ev2, [], True),
    }
    for rev, (resp, ev, fw, users) in expected.items():
        assert review.value_at(store, project, "answers.q1.response", rev) == resp, rev
        assert review.value_at(store, project, "answers.q1.evidence", rev) == ev, rev
        assert review.value_at(store, project, "answers.q1.further_work", rev) == fw, rev
        assert review.value_at(store, project, "answers.q1.informed_by.end_users", rev) is users
        informed = review.value_at(store, project, "answers.q1.informed_by", rev)
        assert informed["end_users"] is users
        wb = review.workbook_at(store, project, rev)
        assert wb.revision == rev
        a = wb.answer("q1")
        assert a.response == resp
        assert [e.model_dump(mode="json") for e in a.evidence] == ev
        assert [x.model_dump(mode="json") for x in a.further_work] == fw
        assert a.informed_by.end_users is users
        assert (tid in wb.review.threads) is (rev >= 7)
    with pytest.raises(WorkbookError, match="revision 10 does not exist"):
        review.value_at(store, project, "answers.q1.response", 10)
    with pytest.raises(WorkbookError, match="revision 0 does not exist"):
        review.workbook_at(store, project, 0)
    with pytest.raises(WorkbookError, match="unknown field"):
        review.value_at(store, project, "answers.q1.nope", 2)


def test_workbook_at_before_a_reply_and_a_resolution(store, project):
    _, tid = review.add_comment(store, project, target="q1", kind="challenge", text="c", user="r")
    review.reply(store, project, tid, text="answer", user="a")
    review.set_resolved(store, project, tid, True, user="r", reviewer=True)
    approve_anyway(store, project, "explore", decision="approved", reviewer="S", user="s")
    at2 = review.workbook_at(store, project, 2)
    assert at2.review.threads[tid].replies == {}
    assert at2.review.threads[tid].resolved is False
    assert at2.review.signoffs.explore is None
    assert review.workbook_at(store, project, 4).review.threads[tid].resolved is True


def test_restore_puts_the_old_value_back_as_a_new_revision(store, project):
    edit(store, project, "answers.q1.response", "original answer", user="kim")  # r2
    edit(store, project, "answers.q1.response", "vandalised", user="lee")  # r3
    wb = review.restore(store, project, "answers.q1.response", 2, user="kim")
    assert wb.revision == 4
    assert wb.answer("q1").response == "original answer"
    last = store.history(project)[-1]
    assert (last["revision"], last["path"], last["old"], last["new"], last["user"]) == (
        4, "answers.q1.response", "vandalised", "original answer", "kim"
    )  # fmt: skip
    # restoring to the value it already has is not a revision
    assert review.restore(store, project, "answers.q1.response", 2, user="kim").revision == 4
    # a list field
    edit(store, project, "answers.q1.evidence", [{"reference": "A", "description": ""}])  # r5
    edit(store, project, "answers.q1.evidence", [])  # r6
    wb = review.restore(store, project, "answers.q1.evidence", 5, user="kim")
    assert [e.reference for e in wb.answer("q1").evidence] == ["A"]
    with pytest.raises(WorkbookError, match="only answers and checklist"):
        review.restore(store, project, "review.signoffs.explore", 2, user="kim")
    with pytest.raises(WorkbookError, match="unknown field"):
        review.restore(store, project, "answers.q1.nope", 2, user="kim")


def test_restoring_a_whole_group_records_each_field(store, project):
    """Restoring ``informed_by`` (a group of fields) changes the fields one by one, so
    the history and "changes since" keep one line per field."""
    edit(store, project, "answers.q1.informed_by.end_users", True)  # r2
    edit(store, project, "answers.q1.informed_by.note", "Parents' forum")  # r3
    wb = review.restore(store, project, "answers.q1.informed_by", 1, user="kim")
    assert wb.answer("q1").informed_by.end_users is False
    assert wb.answer("q1").informed_by.note == ""
    paths = {e["path"] for e in store.history(project) if e["revision"] == wb.revision}
    assert paths == {"answers.q1.informed_by.end_users", "answers.q1.informed_by.note"}
    assert review.changes_since(store, project, 1) == []


def test_changes_since_groups_per_field_and_drops_reverted_changes(store, project):
    edit(store, project, "answers.q1.response", "first", user="kim")  # r2
    edit(store, project, "answers.q1.response", "second", user="lee")  # r3
    edit(store, project, "answers.q1.response", "third", user="kim")  # r4
    edit(store, project, "answers.q2.response", "temporary", user="kim")  # r5
    edit(store, project, "answers.q2.response", "", user="kim")  # r6: back as it was
    edit(store, project, "phases.explore.checklist.data_maturity.status", "done")  # r7
    edit(store, project, "answers.q6.response", "develop")  # r8
    edit(store, project, "project.owner", "someone")  # r9
    review.add_comment(store, project, target="q1", kind="question", text="?", user="r")

    changes = review.changes_since(store, project, 2)
    assert [c.path for c in changes] == [
        "phases.explore.checklist.data_maturity.status",
        "answers.q1.response",
        "answers.q6.response",
    ]
    q1 = changes[1]
    assert (q1.old, q1.new, q1.users, q1.revisions) == ("first", "third", ("lee", "kim"), (3, 4))
    assert q1.label == "Question 1: your answer"
    assert q1.is_text
    assert not changes[0].is_text
    only_explore = review.changes_since(store, project, 2, phase_id="explore")
    assert [c.path for c in only_explore] == [c.path for c in changes[:2]]
    assert review.changes_since(store, project, 9) == []


def test_changes_since_signoff_is_none_for_a_phase_never_signed(store, project):
    wb = store.open(project)
    assert review.changes_since_signoff(store, wb, "explore") is None
    wb = approve_anyway(store, project, "explore", decision="approved", reviewer="S", user="s")
    assert review.changes_since_signoff(store, wb, "explore") == []
    edit(store, project, "answers.q1.response", "new words")
    wb = store.open(project)
    (change,) = review.changes_since_signoff(store, wb, "explore")
    assert (change.old, change.new) == ("", "new words")


# --------------------------------------------------------------------------- word diff


def test_word_diff_marks_changed_words():
    ops = review.word_diff("The cat sat on the mat.", "The dog sat on the mat!")
    assert ("delete", "cat") in ops
    assert ("insert", "dog") in ops
    assert review.word_diff_text("a b c", "a x c") == "a [-b-]{+x+} c"
    html = review.word_diff_html("keep <b>old</b>", "keep <b>new</b>\nline")
    assert '<del class="wb-del" title="removed">old</del>' in html
    assert '<ins class="wb-ins" title="added">new</ins>' in html
    assert "&lt;b&gt;" in html
    assert "<br>" in html
    assert review.word_diff(None, "x") == [("insert", "x")]
    assert review.word_diff("x", None) == [("delete", "x")]
    assert review.word_diff(None, None) == []


@given(st.text(max_size=200), st.text(max_size=200))
def test_word_diff_round_trips(old, new):
    ops = review.word_diff(old, new)
    assert "".join(t for op, t in ops if op in {"equal", "insert"}) == new
    assert "".join(t for op, t in ops if op in {"equal", "delete"}) == old
    assert all(t for _, t in ops)  # no empty runs


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        ("answers.q1.status", "further_work_needed", "Further work needed"),
        ("phases.explore.checklist.data_maturity.status", "partly", "Partly done"),
        ("answers.q1.response", "", "(empty)"),
        ("answers.q1.evidence", [{"reference": "A", "description": "b"}], "A (b)"),
        (
            "answers.q1.further_work",
            [{"action": "Do", "owner": "Kim", "due": "2026-01-02", "status": "open"}],
            "Do [open, Kim, due 2026-01-02]",
        ),
        ("answers.q1.informed_by.end_users", True, "yes"),
        (
            "answers.q1.informed_by",
            {"end_users": True, "experts_by_experience": False, "affected_stakeholders": False,
             "external_experts": True, "note": "n"},
            "End users, External experts; note: n",
        ),
    ],
)  # fmt: skip
def test_format_value(path, value, shown):
    assert review.format_value(path, value) == shown


# --------------------------------------------------------------------------- actions


def test_action_plan_overdue_and_csv_without_formula_injection(store, project):
    edit(
        store, project, "answers.q4.further_work",
        [
            {"action": "=HYPERLINK(\"http://evil\")", "owner": "@owner", "due": "2026-01-01",
             "status": "open"},
            {"action": "Done already", "owner": "", "due": "2026-01-01", "status": "done"},
        ],
    )  # fmt: skip
    edit(
        store, project, "answers.q1.further_work",
        [{"action": "+1, \"quoted\"\nsecond line", "owner": "-Kim", "due": None, "status": "open"}],
    )  # fmt: skip
    wb = store.open(project)
    rows = review.action_plan(wb, today=date(2026, 6, 1))
    assert [(r.question_number, r.index, r.overdue) for r in rows] == [
        (1, 0, False), (4, 0, True), (4, 1, False)
    ]  # fmt: skip
    assert [r.action for r in review.overdue_actions(wb, today=date(2026, 6, 1))] == [
        '=HYPERLINK("http://evil")'
    ]
    text = review.action_plan_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == list(review.CSV_COLUMNS)
    assert parsed[1] == ["Q1", "explore", '\'+1, "quoted"\nsecond line', "'-Kim", "", "open", "no"]
    assert parsed[2] == [
        "Q4", "explore", "'=HYPERLINK(\"http://evil\")", "'@owner", "2026-01-01", "open", "yes"
    ]  # fmt: skip
    assert parsed[3][2:] == ["Done already", "", "2026-01-01", "done", "no"]
    for row in parsed[1:]:
        assert not [cell for cell in row if cell[:1] in {"=", "+", "-", "@"}]


def test_word_diff_shows_neighbouring_changed_words_as_one_change():
    assert (
        review.word_diff_text("get support earlier and", "get help sooner and")
        == "get [-support earlier-]{+help sooner+} and"
    )
    # a paragraph break between changes keeps them apart
    assert review.word_diff_text("a\n\nb", "x\n\ny") == "[-a-]{+x+}\n\n[-b-]{+y+}"


# ---- oversight safeguards: confirmed incomplete approvals, who resolves a challenge


def test_approving_an_incomplete_phase_needs_the_count_confirmed_and_records_it(store, project):
    with pytest.raises(review.IncompleteApproval) as refused:
        review.sign_off(store, project, "explore", decision="approved", reviewer="S", user="s")
    assert (refused.value.incomplete, refused.value.total) == (4, 4)
    assert "4 of the 4 questions in the Explore phase are not complete" in str(refused.value)
    assert store.open(project).review.signoffs.explore is None
    with pytest.raises(review.IncompleteApproval):  # a stale or wrong count is no confirmation
        review.sign_off(
            store, project, "explore", decision="approved", reviewer="S", user="s",
            confirm_incomplete=3,
        )  # fmt: skip
    edit(store, project, "answers.q1.status", "complete")
    wb = review.sign_off(
        store, project, "explore", decision="approved", reviewer="S", user="s",
        confirm_incomplete=3,
    )  # fmt: skip
    record = wb.review.signoffs.explore
    assert record.incomplete_questions == 3
    state = review.signoff_state(wb, "explore")
    assert state.decision_label == "Approved with 3 questions incomplete"
    assert state.summary.startswith("Approved with 3 questions incomplete by S,")
    # "not approved" never needs it, and records the count too
    wb = review.sign_off(store, project, "develop", decision="not_approved", reviewer="S", user="s")
    assert wb.review.signoffs.develop.incomplete_questions == 6
    assert review.signoff_state(wb, "develop").decision_label == "Not approved"


def test_a_complete_phase_is_approved_without_a_confirmation(store, project):
    for q in ("q11", "q12", "q13"):
        edit(store, project, f"answers.{q}.status", "complete")
    wb = review.sign_off(store, project, "implement", decision="approved", reviewer="S", user="s")
    assert wb.review.signoffs.implement.incomplete_questions == 0
    assert review.signoff_state(wb, "implement").decision_label == "Approved"


def test_the_same_decision_is_not_recorded_twice(store, project):
    wb = review.sign_off(store, project, "explore", decision="not_approved", reviewer="S", user="s")
    with pytest.raises(WorkbookError, match="already recorded"):
        review.sign_off(store, project, "explore", decision="not_approved", reviewer="S", user="s")
    assert store.open(project).revision == wb.revision
    # a different decision, or the same one after the phase changed, is a new sign-off
    edit(store, project, "answers.q2.response", "More.")
    again = review.sign_off(
        store, project, "explore", decision="not_approved", reviewer="S", user="s"
    )
    assert again.revision == wb.revision + 2


def test_a_challenge_is_resolved_by_a_reviewer_its_author_or_with_a_reason(store, project):
    def challenge() -> str:
        _, tid = review.add_comment(
            store, project, target="q7", kind="challenge", text="Show the tests.", user="Rev"
        )
        return tid

    tid = challenge()
    with pytest.raises(review.ResolveRefused, match="write in the reply box why"):
        review.set_resolved(store, project, tid, True, user="Ann")
    assert not store.open(project).review.threads[tid].resolved
    wb = review.set_resolved(store, project, tid, True, user="Ann", reason="Tests in appendix B.")
    th = wb.review.threads[tid]
    assert (th.resolved, th.resolved_by) == (True, "Ann")
    assert [r.text for r in th.replies.values()] == ["Tests in appendix B."]
    assert [r.author for r in th.replies.values()] == ["Ann"]
    assert saved_paths(store, project)[-1][0] == wb.revision  # reply and resolve: one revision
    assert len({line[0] for line in saved_paths(store, project) if line[0] == wb.revision}) == 1

    tid = challenge()
    assert review.set_resolved(store, project, tid, True, user="Rev").review.threads[tid].resolved
    tid = challenge()
    wb = review.set_resolved(store, project, tid, True, user="Chair", reviewer=True)
    assert wb.review.threads[tid].resolved_by == "Chair"
    # other kinds of comment do not hold up approval: anyone may resolve them
    _, tid = review.add_comment(
        store, project, target="q7", kind="suggestion", text="Add a chart.", user="Rev"
    )
    assert review.set_resolved(store, project, tid, True, user="Ann").review.threads[tid].resolved
