"""The store under real OS processes: crashes, concurrent saves and contention.

Every test here forks child processes (``multiprocessing`` with the "fork" context, so
children start in a few milliseconds). Functions that run in a child live at module level
and report back through exit codes, ``Event``\\s and ``Queue``\\s; an exception in a child
prints its traceback (captured by pytest) and gives a non-zero exit code, which the
parent asserts on.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import workbook.store as store_module
from workbook.errors import ConflictError
from workbook.model import EvidenceRef
from workbook.store import ANSWERS_FILE, Store, read_file

pytestmark = pytest.mark.slow

PROJECT = "p"
CHILD_TIMEOUT_S = 60.0
"""Upper bound for any wait on a child; only reached if something hangs."""


@pytest.fixture
def mp() -> Any:
    """A multiprocessing context whose children start fast.

    "fork" is only safe (and, from Python 3.12, only warning-free) while the parent has a
    single thread; fall back to "forkserver" otherwise.
    """
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")  # pragma: no cover


@pytest.fixture
def project_store(tmp_path: Path) -> Store:
    """A workspace in ``tmp_path`` holding project ``p`` at revision 1 (all answers blank)."""
    s = Store(tmp_path)
    s.create("Tool name", "Some Council", user="ann", project_id=PROJECT)
    return s


def _answers_path(store: Store) -> Path:
    return store.root / PROJECT / ANSWERS_FILE


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


# --------------------------------------------------------------------------- 1. crash

CRASH_ROUNDS = 50
CRASH_SEED_ENV = "WORKBOOK_CRASH_SEED"


def _response_for(revision: int) -> str:
    return f"saved as revision {revision}"


def _save_next_revision(store: Store, user: str) -> Any:
    """One save that writes into q1.response the revision it will be saved as."""
    cur = store.open(PROJECT)
    new = cur.model_copy(deep=True)
    new.answers.q1.response = _response_for(cur.revision + 1)
    return store.save(new, base=cur, user=user)


def _save_forever(root: Path, started: Any) -> None:
    """Child: save in a tight loop until killed. What a first save loads once per process
    (the question bank, the risk content) is loaded before the child says it has started,
    so that a kill a few milliseconds later can land inside a save."""
    from workbook.bank import load_bank
    from workbook.risk_content import load_risk_content

    load_bank()
    load_risk_content()
    store = Store(root)
    started.set()
    while True:
        _save_next_revision(store, "crasher")


def _assert_consistent(path: Path, context: str) -> Any:
    """The file on disk is valid and is one of the revisions that were saved."""
    wb = read_file(path)  # raises InvalidProjectFile if the kill left a torn file
    if wb.revision == 1:
        assert wb.answers.q1.response == "", context
    else:
        assert wb.answers.q1.response == _response_for(wb.revision), context
    return wb


def test_sigkill_during_saves_leaves_a_valid_file_and_a_free_lock(
    project_store: Store, mp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get(CRASH_SEED_ENV, random.randrange(2**32)))
    print(f"crash test seed: {seed} (rerun with {CRASH_SEED_ENV}={seed})")
    rng = random.Random(seed)
    # A lock the kernel failed to release would otherwise cost LOCK_TIMEOUT_S (15 s) to show.
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 5.0)
    path = _answers_path(project_store)
    revision = 1
    saved_by_children = 0
    for round_no in range(CRASH_ROUNDS):
        delay = rng.uniform(0.002, 0.05)
        context = f"seed {seed}, round {round_no}, kill {delay * 1000:.1f} ms after start"
        started = mp.Event()
        child = mp.Process(target=_save_forever, args=(project_store.root, started), daemon=True)
        child.start()
        try:
            assert started.wait(CHILD_TIMEOUT_S), f"child never started saving; {context}"
            time.sleep(delay)
            os.kill(child.pid, signal.SIGKILL)
            child.join(CHILD_TIMEOUT_S)
            # Anything else means the child died on its own, e.g. from an exception in save.
            assert child.exitcode == -signal.SIGKILL, f"child exit {child.exitcode}; {context}"
        finally:
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)
                child.join(5)
            child.close()

        wb = _assert_consistent(path, context)
        assert wb.revision >= revision, f"revision went backwards; {context}"
        saved_by_children += wb.revision - revision

        history = project_store.history(PROJECT)
        saved = [e["revision"] for e in history if e.get("outcome") == "saved"]
        assert saved == sorted(set(saved)), f"history revisions not increasing; {context}"
        # History is written before the file is replaced, and history() drops the lines of
        # a save killed in between: every revision on disk is recorded, exactly once, with
        # the value the file holds.
        assert saved == list(range(2, wb.revision + 1)), f"history gaps; {context}"
        if saved:
            last = [e for e in history if e.get("outcome") == "saved"][-1]
            assert last["new"] == wb.answers.q1.response, context

        # The kernel released the dead child's flock: the next save goes through, and it
        # clears any temporary file the killed save left behind.
        after = _save_next_revision(project_store, "parent")
        assert after.revision == wb.revision + 1, context
        revision = _assert_consistent(path, context).revision
        assert revision == after.revision, context
        leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], f"stale temporary files; {context}"

    # Not vacuous: the children did save, so kills landed among real saves.
    assert saved_by_children > 0, f"no child ever completed a save (seed {seed})"
    print(f"{saved_by_children} saves by children over {CRASH_ROUNDS} kills")


# --------------------------------------------------------------------------- 2. concurrency

CONCURRENCY_ROUNDS = 5


def _open_wait_save(
    root: Path, user: str, question: str, value: str, barrier: Any, results: Any
) -> None:
    """Child: open, wait until the other child has opened too, edit one response, save."""
    store = Store(root)
    cur = store.open(PROJECT)
    barrier.wait(CHILD_TIMEOUT_S)
    new = cur.model_copy(deep=True)
    getattr(new.answers, question).response = value
    try:
        saved = store.save(new, base=cur, user=user)
    except ConflictError as exc:
        conflicts = [(c.field, c.yours, c.theirs, c.base, c.their_user) for c in exc.conflicts]
        results.put((user, "conflict", cur.revision, conflicts))
    else:
        results.put((user, "saved", cur.revision, saved.revision))


def _race(store: Store, mp: Any, edits: dict[str, tuple[str, str]]) -> dict[str, tuple]:
    """Run one child per user, released together; return each user's report."""
    barrier = mp.Barrier(len(edits))
    results = mp.Queue()
    procs = [
        mp.Process(
            target=_open_wait_save,
            args=(store.root, user, question, value, barrier, results),
            name=user,
            daemon=True,
        )
        for user, (question, value) in edits.items()
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


def test_concurrent_saves_to_different_fields_both_survive(project_store: Store, mp: Any) -> None:
    for round_no in range(CONCURRENCY_ROUNDS):
        start = project_store.open(PROJECT).revision
        ann_text = f"ann's answer to q1, round {round_no}"
        bob_text = f"bob's answer to q2, round {round_no}"
        reports = _race(project_store, mp, {"ann": ("q1", ann_text), "bob": ("q2", bob_text)})

        assert reports["ann"][:2] == ["saved", start], reports
        assert reports["bob"][:2] == ["saved", start], reports
        assert sorted([reports["ann"][2], reports["bob"][2]]) == [start + 1, start + 2]

        on_disk = read_file(_answers_path(project_store))
        assert on_disk.revision == start + 2
        assert on_disk.answers.q1.response == ann_text
        assert on_disk.answers.q2.response == bob_text
        assert on_disk.answers.q1.updated_by == "ann"
        assert on_disk.answers.q2.updated_by == "bob"

        lines = [e for e in project_store.history(PROJECT) if e.get("base_revision") == start]
        assert sorted((e["user"], e["path"], e["new"], e["outcome"]) for e in lines) == [
            ("ann", "answers.q1.response", ann_text, "saved"),
            ("bob", "answers.q2.response", bob_text, "saved"),
        ]


def test_concurrent_saves_to_the_same_field_one_wins_one_conflicts(
    project_store: Store, mp: Any
) -> None:
    field = "answers.q3.response"
    winners = Counter()
    for round_no in range(CONCURRENCY_ROUNDS):
        before = project_store.open(PROJECT)
        start, base_text = before.revision, before.answers.q3.response
        texts = {user: f"{user}'s answer to q3, round {round_no}" for user in ("ann", "bob")}
        reports = _race(project_store, mp, {user: ("q3", text) for user, text in texts.items()})

        outcomes = sorted(report[0] for report in reports.values())
        assert outcomes == ["conflict", "saved"], reports
        winner = next(user for user, report in reports.items() if report[0] == "saved")
        loser = "bob" if winner == "ann" else "ann"
        winners[winner] += 1
        assert reports[winner] == ["saved", start, start + 1]
        assert reports[loser][:2] == ["conflict", start]
        # (field, yours, theirs, base, their_user) as the loser's ConflictError told it.
        assert reports[loser][2] == [(field, texts[loser], texts[winner], base_text, winner)]

        on_disk = read_file(_answers_path(project_store))
        assert on_disk.revision == start + 1, "the conflicting save must write nothing"
        assert on_disk.answers.q3.response == texts[winner]
        assert on_disk.answers.q3.updated_by == winner

        lines = [
            e
            for e in project_store.history(PROJECT)
            if e.get("base_revision") == start and e.get("path") == field
        ]
        assert len(lines) == 2, lines
        saved = next(e for e in lines if e["outcome"] == "saved")
        conflict = next(e for e in lines if e["outcome"] == "conflict")
        keys = ("user", "old", "new", "revision")
        assert [saved[k] for k in keys] == [winner, base_text, texts[winner], start + 1]
        # A conflict line records the loser's value as "new" and the winner's as "old".
        assert [conflict[k] for k in keys] == [loser, texts[winner], texts[loser], start + 1]
    print(f"winners over {CONCURRENCY_ROUNDS} rounds: {dict(winners)}")


# --------------------------------------------------------------------------- 3. contention

WRITERS = ("q1", "q2", "q3", "q4")
UPDATES_PER_WRITER = 200
PAUSE_S = 0.001
"""Slept between reading and writing in both variants, so the naive one loses updates reliably."""


def _naive_read(path: Path) -> dict[str, Any]:
    """Read the answers file as a naive script would.

    The naive writers replace the file atomically, so a read sees one whole version; the
    retry is only a guard, and takes the first complete JSON value if ever needed.
    """
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while True:
        text = path.read_text(encoding="utf-8")
        try:
            data, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0)
            continue
        return data


def _naive_appender(path: Path, question: str, barrier: Any) -> None:
    """Child: read-modify-write WITHOUT the store or its lock."""
    barrier.wait(CHILD_TIMEOUT_S)
    for i in range(UPDATES_PER_WRITER):
        data = _naive_read(path)
        evidence = data["answers"][question]["evidence"]
        evidence.append({"reference": f"{question} item {i}", "description": ""})
        time.sleep(PAUSE_S)
        # Replace the file atomically, but without any lock: every reader sees one whole
        # version, so what this shows is lost updates, not torn files.
        tmp = path.with_name(f".{path.name}.{question}.tmp")
        tmp.write_bytes(json.dumps(data, indent=2).encode("utf-8"))
        os.replace(tmp, path)


def _store_appender(root: Path, question: str, barrier: Any) -> None:
    """Child: the same workload through the store (open, copy, append, save with base)."""
    store = Store(root)
    barrier.wait(CHILD_TIMEOUT_S)
    for i in range(UPDATES_PER_WRITER):
        cur = store.open(PROJECT)
        new = cur.model_copy(deep=True)
        answer = getattr(new.answers, question)
        answer.evidence = [*answer.evidence, EvidenceRef(reference=f"{question} item {i}")]
        time.sleep(PAUSE_S)
        store.save(new, base=cur, user=f"writer-{question}")


def _run_writers(mp: Any, target: Any, first_arg: Path) -> None:
    barrier = mp.Barrier(len(WRITERS))
    procs = [
        mp.Process(target=target, args=(first_arg, q, barrier), name=q, daemon=True)
        for q in WRITERS
    ]
    for proc in procs:
        proc.start()
    _finish(procs, timeout=120.0)


def _expected_refs(question: str) -> list[str]:
    return [f"{question} item {i}" for i in range(UPDATES_PER_WRITER)]


def test_naive_read_modify_write_loses_updates(project_store: Store, mp: Any) -> None:
    path = _answers_path(project_store)
    _run_writers(mp, _naive_appender, path)

    data = _naive_read(path)
    kept = {q: [e["reference"] for e in data["answers"][q]["evidence"]] for q in WRITERS}
    for q in WRITERS:
        # Whatever survived is this writer's own items, in order (no cross-talk) ...
        assert kept[q] == [r for r in _expected_refs(q) if r in kept[q]], q
    total = sum(len(set(refs)) for refs in kept.values())  # distinct updates that survived
    print(
        f"naive read-modify-write kept {total} of {len(WRITERS) * UPDATES_PER_WRITER}: "
        f"{ {q: len(refs) for q, refs in kept.items()} }"
    )
    # ... but without the lock, writers overwrite each other's updates.
    assert total < len(WRITERS) * UPDATES_PER_WRITER


def test_store_keeps_every_update_under_contention(project_store: Store, mp: Any) -> None:
    _run_writers(mp, _store_appender, project_store.root)

    on_disk = read_file(_answers_path(project_store))
    for q in WRITERS:
        refs = [e.reference for e in getattr(on_disk.answers, q).evidence]
        assert refs == _expected_refs(q), f"{q}: kept {len(refs)} of {UPDATES_PER_WRITER}"
    total_updates = len(WRITERS) * UPDATES_PER_WRITER
    assert on_disk.revision == 1 + total_updates

    history = project_store.history(PROJECT)
    outcomes = Counter(e["outcome"] for e in history)
    assert outcomes == {"created": 1, "saved": total_updates}, outcomes
    saved = [e for e in history if e["outcome"] == "saved"]
    assert [e["revision"] for e in saved] == list(range(2, 2 + total_updates))
    per_writer = Counter((e["user"], e["path"]) for e in saved)
    assert per_writer == {
        (f"writer-{q}", f"answers.{q}.evidence"): UPDATES_PER_WRITER for q in WRITERS
    }
