"""The maturity assessment's store: merges and conflicts between respondents, first in one
process from stale bases, then under real processes (released together by a barrier), and a
process killed with SIGKILL in the middle of saving.

As in ``test_store_processes.py``, children are forked; each reports through a queue or an
exit code, and an exception in a child fails the test with its traceback in stderr.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import workbook.store as store_module
from workbook import maturity as mat
from workbook.assessment import ASSESSMENT_FILE, respondent_key
from workbook.errors import ConflictError
from workbook.store import AssessmentStore, read_assessment

AID = "northshire-council"
CHILD_TIMEOUT_S = 60.0
"""Upper bound for any wait on a child; only reached if something hangs."""


@pytest.fixture
def astore(tmp_path: Path) -> AssessmentStore:
    """Northshire Council's assessment, round 1 open, nothing rated (revision 1)."""
    store = AssessmentStore(tmp_path / "workspace")
    mat.start_assessment(store, "Northshire Council", user="rhea")
    return store


def _path(store: AssessmentStore) -> Path:
    return store.base / AID / ASSESSMENT_FILE


def _ratings(store: AssessmentStore, component: str) -> dict[str, int]:
    comp = store.open(AID).rounds["1"].components[component]
    return {r.respondent: r.level for r in comp.ratings.values()}


# --------------------------------------------------------------------------- one process


def test_two_respondents_rating_from_the_same_base_both_survive(astore):
    base = astore.open(AID)
    mat.rate(astore, AID, "strategy", level=1, rationale="r", user="ann", base=base)
    mat.rate(astore, AID, "strategy", level=3, rationale="r", user="bob", base=base)
    mat.rate(astore, AID, "governance", level=2, rationale="r", user="cat", base=base)
    assert _ratings(astore, "strategy") == {"ann": 1, "bob": 3}
    assert _ratings(astore, "governance") == {"cat": 2}
    assert astore.open(AID).revision == 4


def test_two_people_agreeing_the_same_component_from_the_same_base_conflict(astore):
    base = astore.open(AID)
    mat.agree(astore, AID, "strategy", level=2, target_level=3, rationale="ours", user="rhea",
              base=base)  # fmt: skip
    raw = _path(astore).read_bytes()
    with pytest.raises(ConflictError) as caught:
        mat.agree(astore, AID, "strategy", level=1, target_level=4, rationale="mine",
                  user="sol", base=base)  # fmt: skip
    err = caught.value
    # The choice the app offers: theirs (who, what) or yours.
    first = err.conflicts[0]
    assert first.field == "rounds.1.components.strategy.agreed"
    assert (first.their_user, first.their_revision) == ("rhea", 2)
    assert first.theirs["level"] == 2
    assert first.yours["level"] == 1
    assert first.base is None
    assert "by rhea in revision 2" in str(err)
    assert str(_path(astore)) in str(err)
    assert _path(astore).read_bytes() == raw, "a conflict writes nothing"
    conflicts = [e for e in astore.history(AID) if e["outcome"] == "conflict"]
    assert {e["user"] for e in conflicts} == {"sol"}

    # Different components from that same base merge, each with its own action.
    mat.agree(astore, AID, "people", level=1, target_level=2, rationale="r", user="sol",
              base=base)  # fmt: skip
    a = astore.open(AID)
    assert a.rounds["1"].components["strategy"].agreed.assessed_by == "rhea"
    assert a.rounds["1"].components["people"].agreed.assessed_by == "sol"
    assert sorted(a.rounds["1"].actions) == ["people", "strategy"]


def test_the_same_respondent_saving_from_two_stale_bases_is_a_conflict(astore):
    tab_one = astore.open(AID)
    tab_two = astore.open(AID)
    mat.rate(astore, AID, "strategy", level=2, rationale="from tab one", user="ann", base=tab_one)
    with pytest.raises(ConflictError) as caught:
        mat.rate(astore, AID, "strategy", level=4, rationale="from tab two", user="ann",
                 base=tab_two)  # fmt: skip
    (conflict,) = caught.value.conflicts
    assert conflict.field == f"rounds.1.components.strategy.ratings.{respondent_key('ann')}"
    assert conflict.their_user == "ann"
    assert _ratings(astore, "strategy") == {"ann": 2}
    # Once reloaded, the same person changes their own rating without a conflict.
    mat.rate(astore, AID, "strategy", level=4, rationale="reloaded", user="ann")
    assert _ratings(astore, "strategy") == {"ann": 4}


# --------------------------------------------------------------------------- processes


@pytest.fixture
def mp() -> Any:
    """Fork while the parent has one thread (as in test_store_processes.py)."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")  # pragma: no cover


def _finish(procs: list[Any], timeout: float = CHILD_TIMEOUT_S) -> None:
    """Join every child; kill (by pid, only ours) any still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        hung = [proc.name for proc in procs if proc.is_alive()]
        assert not hung, f"children still running after {timeout:.0f} s: {hung}"
        failed = {proc.name: proc.exitcode for proc in procs if proc.exitcode != 0}
        assert not failed, f"children failed (exit codes; tracebacks in captured stderr): {failed}"
    finally:
        for proc in procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
                proc.join(5)
            if not proc.is_alive():
                proc.close()


def _open_wait_save(root: Path, user: str, step: tuple, barrier: Any, results: Any) -> None:
    """Child: open, wait until every child has opened, then rate or agree from that base."""
    store = AssessmentStore(root)
    base = store.open(AID)
    barrier.wait(CHILD_TIMEOUT_S)
    kind, component, level = step
    try:
        if kind == "rate":
            saved = mat.rate(store, AID, component, level=level, rationale=f"{user}'s view",
                             user=user, base=base)  # fmt: skip
        else:
            saved = mat.agree(store, AID, component, level=level, target_level=level + 1,
                              rationale=f"{user}'s record", user=user, base=base)  # fmt: skip
    except ConflictError as exc:
        fields = [(c.field, c.their_user) for c in exc.conflicts]
        results.put((user, "conflict", base.revision, fields, str(exc)))
    else:
        results.put((user, "saved", base.revision, saved.revision, ""))


def _race(store: AssessmentStore, mp: Any, steps: dict[str, tuple]) -> dict[str, list]:
    barrier = mp.Barrier(len(steps))
    results = mp.Queue()
    procs = [
        mp.Process(
            target=_open_wait_save,
            args=(store.root, user, step, barrier, results),
            name=user,
            daemon=True,
        )  # fmt: skip
        for user, step in steps.items()
    ]
    for proc in procs:
        proc.start()
    try:
        reports = [results.get(timeout=CHILD_TIMEOUT_S) for _ in procs]
    finally:
        _finish(procs)
    results.close()
    results.join_thread()
    return {user: rest for user, *rest in reports}


ROUNDS = 3


@pytest.mark.slow
def test_concurrent_respondents_in_separate_processes_all_survive(astore, mp):
    for n in range(ROUNDS):
        start = astore.open(AID).revision
        levels = {"ann": n % 6, "bob": (n + 2) % 6, "cat": (n + 4) % 6}
        steps = {
            "ann": ("rate", "strategy", levels["ann"]),  # different components...
            "bob": ("rate", "governance", levels["bob"]),
            "cat": ("rate", "strategy", levels["cat"]),  # ... and the same one as ann
        }
        reports = _race(astore, mp, steps)
        assert {user: r[:2] for user, r in reports.items()} == {
            user: ["saved", start] for user in steps}  # fmt: skip
        assert sorted(r[2] for r in reports.values()) == [start + 1, start + 2, start + 3]
        a = read_assessment(_path(astore))
        assert a.revision == start + 3
        assert _ratings(astore, "strategy") == {"ann": levels["ann"], "cat": levels["cat"]}
        assert _ratings(astore, "governance") == {"bob": levels["bob"]}
        lines = [e for e in astore.history(AID) if e.get("base_revision") == start]
        assert sorted((e["user"], e["outcome"]) for e in lines) == [
            ("ann", "saved"), ("bob", "saved"), ("cat", "saved")]  # fmt: skip


@pytest.mark.slow
def test_concurrent_agreed_records_of_one_component_one_wins_one_is_told_who(astore, mp):
    field = "rounds.1.components.targets.agreed"
    for n in range(ROUNDS):
        start = astore.open(AID).revision
        reports = _race(astore, mp, {"rhea": ("agree", "targets", 1 + n % 2),
                                     "sol": ("agree", "targets", 3 + n % 2)})  # fmt: skip
        assert sorted(r[0] for r in reports.values()) == ["conflict", "saved"], reports
        winner = next(user for user, r in reports.items() if r[0] == "saved")
        loser = "sol" if winner == "rhea" else "rhea"
        assert reports[winner][:3] == ["saved", start, start + 1]
        assert reports[loser][:2] == ["conflict", start]
        assert (field, winner) in reports[loser][2]
        assert f"by {winner} in revision {start + 1}" in reports[loser][3]
        a = read_assessment(_path(astore))
        assert a.revision == start + 1, "the conflicting save must write nothing"
        assert a.rounds["1"].components["targets"].agreed.assessed_by == winner


# --------------------------------------------------------------------------- crash

CRASH_ROUNDS = 40
CRASH_SEED_ENV = "WORKBOOK_CRASH_SEED"


def _rationale_for(revision: int) -> str:
    return f"saved as revision {revision}"


def _rate_next(store: AssessmentStore) -> Any:
    """One save (of ann's rating, from whichever process) whose rationale names the
    revision it will be saved as."""
    cur = store.open(AID)
    return mat.rate(store, AID, "strategy", level=1 + cur.revision % 5, user="ann",
                    rationale=_rationale_for(cur.revision + 1), base=cur)  # fmt: skip


def _save_forever(root: Path, started: Any) -> None:
    """Child: save in a tight loop until killed. What the first save loads once per
    process (the model content, pydantic's validators, the date helpers) is loaded before
    it says it has started, so a kill a few milliseconds later lands inside a save."""
    from workbook.assessment import Assessment
    from workbook.export.dates import day

    store = AssessmentStore(root)
    current = store.open(AID)
    Assessment.model_validate(current.to_data())
    store_module.writes(current)
    store.history(AID)
    day("2027-01-01")
    started.set()
    while True:
        _rate_next(store)


def _assert_consistent(store: AssessmentStore, context: str) -> Any:
    a = read_assessment(_path(store))  # raises InvalidProjectFile if the kill tore the file
    ratings = a.rounds["1"].components["strategy"].ratings
    if a.revision > 1:
        (rating,) = ratings.values()
        assert rating.rationale == _rationale_for(a.revision), context
    return a


@pytest.mark.slow
def test_sigkill_during_saves_leaves_the_last_good_file_and_a_consistent_history(
    astore, mp, monkeypatch
):
    seed = int(os.environ.get(CRASH_SEED_ENV, random.randrange(2**32)))
    print(f"crash test seed: {seed} (rerun with {CRASH_SEED_ENV}={seed})")
    rng = random.Random(seed)
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 5.0)
    path = _path(astore)
    revision = 1
    saved_by_children = 0
    for n in range(CRASH_ROUNDS):
        delay = rng.uniform(0.002, 0.04)
        context = f"seed {seed}, round {n}, kill {delay * 1000:.1f} ms after start"
        started = mp.Event()
        child = mp.Process(target=_save_forever, args=(astore.root, started), daemon=True)
        child.start()
        try:
            assert started.wait(CHILD_TIMEOUT_S), f"child never started saving; {context}"
            time.sleep(delay)
            os.kill(child.pid, signal.SIGKILL)
            child.join(CHILD_TIMEOUT_S)
            assert child.exitcode == -signal.SIGKILL, f"child exit {child.exitcode}; {context}"
        finally:
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)
                child.join(5)
            child.close()

        a = _assert_consistent(astore, context)
        assert astore.open(AID) == a, context
        assert a.revision >= revision, f"revision went backwards; {context}"
        saved_by_children += a.revision - revision
        history = astore.history(AID)
        saved = [e for e in history if e["outcome"] == "saved"]
        assert [e["revision"] for e in saved] == list(range(2, a.revision + 1)), context
        if saved:
            assert saved[-1]["new"]["rationale"] == _rationale_for(a.revision), context

        after = _rate_next(astore)  # the dead child's lock was released
        assert after.revision == a.revision + 1, context
        revision = _assert_consistent(astore, context).revision
        leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], f"stale temporary files; {context}"

    assert saved_by_children > 0, f"no child ever completed a save (seed {seed})"
    print(f"{saved_by_children} saves by children over {CRASH_ROUNDS} kills")
