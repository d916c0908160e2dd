"""Issue 10: a damaged history.jsonl never stops the history, a restore, a conflicting save
or the review data, and each bad line is named once by its line number.

Also: the readers that should not read the whole history (a conflict check, a restore to
a recent revision, the changes since a sign-off) do not reach a bad line at its start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbook import review
from workbook.demo import create_demo
from workbook.errors import ConflictError
from workbook.store import Change, Store

GOOD = {
    "time": "2026-11-01T10:00:00+00:00",
    "user": "mallory",
    "revision": 3,
    "path": "answers.q2.response",
    "old": "a",
    "new": "b",
    "outcome": "saved",
}

BAD_LINES: dict[str, bytes] = {
    "revision as text": json.dumps({**GOOD, "revision": "3"}).encode(),
    "revision true": json.dumps({**GOOD, "revision": True}).encode(),
    "revision huge": json.dumps({**GOOD, "revision": 10**30}).encode(),
    "garbage": b"this is not json {",
    "not utf-8": b'{"time": "\xff\xfe\xfa", "user": "x"}',
    "json array": b"[1, 2, 3]",
    "json null": b"null",
    "missing fields": b'{"outcome": "saved"}',
    "bad time": json.dumps({**GOOD, "time": "yesterday"}).encode(),
    "path a number": json.dumps({**GOOD, "path": 7}).encode(),
    "path a section": json.dumps({**GOOD, "path": "answers"}).encode(),
    "user an object": json.dumps({**GOOD, "user": {"name": "x"}}).encode(),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "torn multi-byte": json.dumps({**GOOD, "new": "caf\u00e9 au lait"}, ensure_ascii=False)
    .encode()[: len(b'{"time": "2026-11-01T10:00:00+00:00", "user": "mallory", "revision": 3, '
                    b'"path": "answers.q2.response", "old": "a", "new": "caf') + 1],
}  # fmt: skip


def reviewed_demo(store: Store) -> int:
    """The demo with a resolved challenge, an Explore sign-off, then priya's edit to Q1.

    Returns the revision signed off."""
    create_demo(store, project_id="demo", user="tester")
    _, tid = review.add_comment(
        store, "demo", target="q3", kind="challenge", text="Where is the DPIA?", user="sam"
    )
    review.set_resolved(store, "demo", tid, True, user="sam")
    wb = review.sign_off(
        store, "demo", "explore", decision="not_approved", reviewer="Sam Patel", user="sam"
    )
    signed = wb.review.signoffs.explore.revision
    old = wb.answer("q1").response
    store.apply(
        "demo",
        [Change("answers.q1.response", old, old.replace("supervised", "boosted"))],
        user="priya",
        base_revision=wb.revision,
    )
    return signed


def append_raw(store: Store, raw: bytes, *, newline: bool = True) -> int:
    """Append ``raw`` as the last line; returns its line number."""
    path = store.history_path("demo")
    data = path.read_bytes()
    number = data.count(b"\n") + 1
    path.write_bytes(data + raw + (b"\n" if newline else b""))
    return number


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Store, int]:
    store = Store(tmp_path / "ws")
    return store, reviewed_demo(store)


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_every_reader_skips_a_bad_line_and_names_it(demo, kind):
    store, signed = demo
    number = append_raw(store, BAD_LINES[kind], newline=kind != "torn multi-byte")
    where = f"history.jsonl: line {number}: "

    def reported() -> list[str]:
        return [p for p in store.problems if where in p]

    # the log, and the review page's data
    entries = store.history("demo")
    assert entries[-1]["user"] == "priya"
    assert all(e["user"] != "mallory" for e in entries)
    assert len(reported()) == 1, store.problems
    assert "skipped" in reported()[0]
    listing = review.history_entries(store, "demo", limit=5)
    assert listing[-1]["user"] == "priya"
    (change,) = review.changes_since_signoff(store, store.open("demo"), "explore")
    assert change.users == ("priya",)
    assert len(reported()) == 1  # reported once, however often it is read

    # a conflicting save still names who changed the field
    fresh = Store(store.root)
    wb = fresh.open("demo")
    with pytest.raises(ConflictError) as info:
        fresh.apply(
            "demo",
            [Change("answers.q1.response", "what I saw", "mine")],
            user="kim",
            base_revision=signed,
        )
    assert info.value.conflicts[0].their_user == "priya"
    assert [p for p in fresh.problems if where in p]

    # restore works and says nothing wrong about the good lines
    restored = review.restore(fresh, "demo", "answers.q1.response", signed, user="kim")
    assert "supervised" in restored.answer("q1").response
    assert restored.revision == wb.revision + 1


def test_the_cli_works_with_every_kind_of_bad_line_and_names_each(demo):
    store, signed = demo
    numbers = [
        append_raw(store, raw) for kind, raw in BAD_LINES.items() if kind != "torn multi-byte"
    ]
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(store.root), "NO_COLOR": "1"}
    for args in (
        ("history", "demo"),
        ("history", "demo", "--since-signoff", "explore"),
        ("restore", "demo", "q1.response", "--revision", str(signed), "--yes"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "workbook", *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        for n in numbers:
            assert f"history.jsonl: line {n}: " in proc.stderr, (args, n, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == len(numbers)  # once each
    latest = subprocess.run(
        [sys.executable, "-m", "workbook", "history", "demo", "--limit", "1"],
        capture_output=True, text=True, env=env, timeout=60,
    ).stdout  # fmt: skip
    assert "Showing the latest 1 changes" in latest
    assert latest.count("Revision ") == 1


def test_a_save_after_a_torn_last_line_starts_a_new_line(demo):
    store, _ = demo
    torn = BAD_LINES["torn multi-byte"]
    number = append_raw(store, torn, newline=False)
    wb = store.open("demo")
    store.apply(
        "demo",
        [Change("answers.q2.response", wb.answer("q2").response, "after the tear")],
        user="kim",
        base_revision=wb.revision,
    )
    lines = store.history_path("demo").read_bytes().split(b"\n")
    assert lines[number - 1] == torn
    assert json.loads(lines[number])["new"] == "after the tear"
    assert store.history("demo")[-1]["new"] == "after the tear"
    assert any(f"line {number}: not UTF-8" in p for p in store.problems)


def test_an_old_value_that_no_longer_fits_is_skipped_by_a_restore(demo):
    store, signed = demo
    wb = store.open("demo")
    # A hand-edited line in the range a restore reads: right shape, wrong value type.
    number = append_raw(
        store,
        json.dumps(
            {**GOOD, "revision": wb.revision, "path": "answers.q5.status", "old": 42,
             "new": wb.answer("q5").status.value, "user": "priya",
             "time": "2026-11-02T10:00:00+00:00"}
        ).encode(),
    )  # fmt: skip
    # It claims to be part of the current revision, which another save already used: the
    # reader drops it as the line of a save that never landed. Make it land instead:
    path = store.history_path("demo")
    lines = path.read_bytes().splitlines()
    last_good = json.loads(lines[number - 2])
    entry = json.loads(lines[number - 1])
    entry["time"] = last_good["time"]
    lines[number - 1] = json.dumps(entry).encode()
    path.write_bytes(b"\n".join(lines) + b"\n")
    then = review.workbook_at(store, "demo", signed)
    assert then.answer("q5").status == wb.answer("q5").status
    assert any(f"line {number}: " in p and "not valid" in p for p in store.problems)


def test_recent_questions_do_not_read_the_whole_history(demo):
    """A bad first line is not met by readers that only need the recent end."""
    store, signed = demo
    path = store.history_path("demo")
    path.write_bytes(b"garbage at the start\n" + path.read_bytes())
    fresh = Store(store.root)
    wb = fresh.open("demo")
    with pytest.raises(ConflictError):
        fresh.apply(
            "demo",
            [Change("answers.q1.response", "stale", "mine")],
            user="kim",
            base_revision=wb.revision - 1,
        )
    review.changes_since_signoff(fresh, wb, "explore")
    review.workbook_at(fresh, "demo", signed)
    review.history_entries(fresh, "demo", limit=3)
    assert fresh.problems == []
    fresh.history("demo")  # the whole log does read it
    assert [p for p in fresh.problems if "line 1: not valid JSON" in p]


def test_the_log_reads_backwards_in_blocks_with_the_same_result(tmp_path, monkeypatch):
    """Lines longer than a block and lines across block edges come back whole."""
    import workbook.history as history

    store = Store(tmp_path)
    store.create("T", "L", user="u", project_id="p")
    wb = store.open("p")
    for i in range(30):
        text = f"answer {i} " + "x" * (i * 97)
        store.apply(
            "p",
            [Change("answers.q1.response", wb.answer("q1").response, text)],
            user=f"u{i}",
            base_revision=wb.revision,
        )
        wb = store.open("p")
    expected = [json.loads(line) for line in store.history_path("p").read_text().splitlines()]
    monkeypatch.setattr(history, "BLOCK_BYTES", 64)
    assert store.history("p") == expected
    assert store.problems == []


def test_values_without_their_fields_shape_are_shown_not_crashed_on(demo):
    """A hand-edited line of the right shape whose values do not fit the field."""
    store, _ = demo
    path = store.history_path("demo")
    last = json.loads(path.read_bytes().splitlines()[-1])
    odd = [
        {**last, "path": "answers.q1.evidence", "old": [1, 2], "new": "x"},
        {**last, "path": "answers.q1.further_work", "old": [{"no": 1}], "new": 5},
        {**last, "path": "review.signoffs.explore", "old": None, "new": {"decision": "??"}},
        {**last, "path": "review.threads.t-zz", "old": None, "new": {"kind": 3}},
    ]
    append_raw(store, b"\n".join(json.dumps(e).encode() for e in odd))
    assert review.format_value("answers.q1.evidence", [1, 2]) == "[1, 2]"
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(store.root), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "workbook", "history", "demo"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "answers.q1.evidence" in proc.stdout or "Question 1: evidence" in proc.stdout


def test_a_history_full_of_garbage_is_summed_up_not_listed_line_by_line(demo):
    from workbook.history import MAX_REPORTED

    store, _ = demo
    path = store.history_path("demo")
    good = path.read_bytes()
    first_bad = good.count(b"\n") + 1
    path.write_bytes(good + b"".join(b"garbage %d\n" % i for i in range(5_000)))
    assert store.history("demo")[-1]["user"] == "priya"
    assert len(store.problems) == MAX_REPORTED + 1
    last = first_bad + 4_999
    # newest first: the last lines are the ones listed, each with its own number
    for i, message in enumerate(store.problems[:MAX_REPORTED]):
        assert f"history.jsonl: line {last - i}: not valid JSON" in message
    assert "more than 20 damaged lines" in store.problems[-1]
    store.history("demo")
    assert len(store.problems) == MAX_REPORTED + 1  # once, not again


def _forward_reference(entries: list[dict], on_disk: int) -> list[dict]:
    """The rule the forward reader applied before issue 10, kept as the reference."""
    kept: list[dict] = []
    for entry in entries:
        if entry["outcome"] in {"saved", "created"}:
            key = (entry["revision"], entry["time"])
            kept = [
                e
                for e in kept
                if e["outcome"] not in {"saved", "created"}
                or e["revision"] < key[0]
                or (e["revision"], e["time"]) == key
            ]
        kept.append(entry)
    return [e for e in kept if e["outcome"] == "conflict" or e["revision"] <= on_disk]


def test_reading_backwards_drops_exactly_the_saves_that_never_landed():
    """Random logs with killed saves (reused revisions): same lines as the forward rule."""
    import random

    from workbook.history import Consistency

    rng = random.Random(10)
    for _ in range(300):
        entries, rev = [], 1
        for i in range(rng.randint(1, 25)):
            outcome = rng.choice(["saved", "saved", "saved", "conflict"])
            if outcome == "saved" and rng.random() < 0.3:
                rev = max(1, rev - rng.randint(0, 2))  # a save that reused a killed one's number
            for j in range(rng.randint(1, 3)):
                entries.append({"outcome": outcome, "revision": rev, "time": f"t{i}", "n": (i, j)})
            if outcome == "saved":
                rev += 1
        on_disk = rng.randint(1, rev)
        keep = Consistency(on_disk)
        backwards = [e for e in reversed(entries) if keep.keep(e)]
        assert list(reversed(backwards)) == _forward_reference(entries, on_disk)


@pytest.mark.parametrize("kind", ["garbage", "not utf-8", "torn multi-byte"])
def test_the_review_page_opens_and_names_a_damaged_line(demo, kind):
    from widgets.review import ReviewPage

    store, _ = demo
    number = append_raw(store, BAD_LINES[kind], newline=kind != "torn multi-byte")
    page = ReviewPage(Store(store.root), "demo", "Sam")
    summary = page.history.summary.value
    assert 'role="alert"' in summary
    assert f"demo/history.jsonl: line {number}: " in summary
    assert str(store.root) not in summary  # named within the workspace, not by a full path
    assert "Something went wrong" not in summary
    assert page.history.entries[0]["user"] == "priya"  # the good lines are all there
