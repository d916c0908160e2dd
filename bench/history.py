"""History speed: the same questions asked of a 1,000-line and a 20,000-line history.

For each size it times (the best of several runs, the two sizes taking turns, in this
process, so Python's start-up is not counted):

- ``workbook history PROJECT``                     (the latest changes, the default)
- ``workbook history PROJECT --since-signoff explore``
- ``workbook restore PROJECT q1.response --revision R --yes`` (R 2 to 18 saves back)
- a save that meets a conflict (``Store.apply`` from a stale revision)
- the review page's data: ``changes_since_signoff`` for every phase and the latest page of
  ``history_entries`` (``limit=51``)
- for information: the whole log (``history_entries`` without a limit), which grows with
  the history (the review page's history list asks for it while it shows a total count)

and prints each pair, its ratio and ``TARGET MET`` / ``TARGET MISSED``. Targets: a ratio of
at most 2 for 20 times the history, a conflicting save under 50 ms, the review data under
1.5 s at 20,000 lines.

    .venv/bin/python bench/history.py        # about ten seconds
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from workbook import review
from workbook.bank import PHASE_IDS, load_bank
from workbook.cli import cli
from workbook.errors import ConflictError
from workbook.model import Workbook
from workbook.store import ANSWERS_FILE, HISTORY_FILE, Change, Store, writes

SIZES = (1_000, 20_000)
RECENT = 30
"""Saves made through the real API at the end: a sign-off, then edits."""
RUNS = 7
PROJECT = "bench"


def build(root: Path, lines: int) -> tuple[Store, int]:
    """A project whose history has ``lines`` lines; returns the store and the signed revision.

    The older lines are written directly (consistent with the answers file: each line's
    old value is the field's previous value); the last ``RECENT`` go through the store.
    """
    store = Store(root)
    store.create("Bench tool", "Bench LA", project_id=PROJECT, user="bench")
    bank = load_bank()
    fields = [f"answers.{q.id}.response" for q in bank.questions]
    fields += [f"phases.{p.id}.note" for p in bank.phases]
    data = store.open(PROJECT).to_data()
    values = {f: "" for f in fields}
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    synthetic = lines - 1 - RECENT
    out = []
    for i in range(synthetic):
        rev = i + 2
        path = fields[i % len(fields)]
        new = f"Revision {rev}: a paragraph of answer text that changes a little. " * 3
        out.append(
            json.dumps(
                {
                    "time": (start + timedelta(minutes=i)).isoformat(),
                    "user": f"person-{i % 7}",
                    "revision": rev,
                    "path": path,
                    "old": values[path],
                    "new": new,
                    "outcome": "saved",
                    "base_revision": rev - 1,
                },
                ensure_ascii=False,
            )
        )
        values[path] = new
    folder = store.project_dir(PROJECT)
    with (folder / HISTORY_FILE).open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in out))
    for path, value in values.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    data["revision"] = synthetic + 1
    (folder / ANSWERS_FILE).write_text(writes(Workbook.model_validate(data)), encoding="utf-8")

    wb = review.sign_off(
        store, PROJECT, "explore", decision="not_approved", reviewer="Sam", user="sam"
    )
    signed = wb.review.signoffs.explore.revision
    for i in range(RECENT - 1):
        wb = store.open(PROJECT)
        path = fields[i % 4]  # the Explore questions
        old = review.value_at(store, PROJECT, path, wb.revision)
        store.apply(
            PROJECT, [Change(path, old, f"Recent edit {i}")], user="priya",
            base_revision=wb.revision,
        )  # fmt: skip
    count = (folder / HISTORY_FILE).read_bytes().count(b"\n")
    assert abs(count - lines) <= 1, count
    return store, signed


def operations(root: Path, store: Store) -> dict[str, Callable[[], object]]:
    """The timed operations on the project in ``root``."""
    runner = CliRunner()
    ws = ["--workspace", str(root)]

    def cli_run(*args: str, expect: str = "") -> None:
        result = runner.invoke(cli, [*ws, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert expect in result.output, result.output

    def conflicting_save() -> None:
        wb = Store(root).open(PROJECT)
        who = None
        try:
            Store(root).apply(
                PROJECT, [Change("answers.q1.response", "what I saw", "mine")], user="kim",
                base_revision=wb.revision - 5,
            )  # fmt: skip
        except ConflictError as exc:
            who = exc.conflicts[0].their_user
        if who is None:
            raise AssertionError("expected a conflict naming who changed the field")

    def review_data() -> None:
        s = Store(root)
        wb = s.open(PROJECT)
        for phase in PHASE_IDS:
            review.changes_since_signoff(s, wb, phase)
        review.history_entries(s, PROJECT, limit=51)
        review.history_entries(s, PROJECT, limit=51, include_review=False, phase_id="explore")

    current = store.open(PROJECT).revision
    # Q1 changed every fourth recent save: each run restores a different old value, so
    # every run really saves a new revision.
    targets = iter(range(current - 2, 0, -4))

    def restore() -> None:
        cli_run(
            "restore", PROJECT, "q1.response", "--revision", str(next(targets)), "--yes",
            expect="saved as revision",
        )  # fmt: skip

    return {
        "workbook history": lambda: cli_run("history", PROJECT),
        "history --since-signoff": lambda: cli_run(
            "history", PROJECT, "--since-signoff", "explore"
        ),
        "restore (a few saves back)": restore,
        "conflicting save": conflicting_save,
        "review page data": review_data,
        "whole log (info)": lambda: review.history_entries(Store(root), PROJECT),
    }


def measure(ops: dict[int, dict[str, Callable[[], object]]]) -> dict[int, dict[str, float]]:
    """Best of ``RUNS`` for each operation, the sizes taking turns (so a busy moment on the
    machine hits both alike)."""
    best: dict[int, dict[str, float]] = {size: {} for size in ops}
    names = next(iter(ops.values()))
    for name in names:
        for _ in range(RUNS):
            for size, table in ops.items():
                t0 = time.perf_counter()
                table[name]()
                took = time.perf_counter() - t0
                best[size][name] = min(best[size].get(name, took), took)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ops = {}
        for lines in SIZES:
            root = Path(tmp) / f"ws-{lines}"
            store, _ = build(root, lines)
            ops[lines] = operations(root, store)
        results = measure(ops)
    small, big = SIZES
    ok_all = True
    print(f"History lines: {small:,} and {big:,} ({big // small}x)\n")
    print(f"{'operation':<26} {small:>9,} {big:>9,}   ratio   target")
    for name in results[small]:
        a, b = results[small][name], results[big][name]
        ratio = b / a if a else float("inf")
        info = name.endswith("(info)")
        ok = ratio <= 2
        extra = ""
        if name == "conflicting save":
            ok = ok and b < 0.050
            extra = ", < 50 ms"
        if name == "review page data":
            ok = ok and b < 1.5
            extra = ", < 1.5 s"
        verdict = "info only" if info else ("TARGET MET" if ok else "TARGET MISSED")
        if not info:
            ok_all = ok_all and ok
        print(
            f"{name:<26} {a * 1000:>7.1f}ms {b * 1000:>7.1f}ms  {ratio:5.2f}x  "
            f"ratio <= 2{extra}: {verdict}"
        )
    print()
    print("ALL TARGETS MET" if ok_all else "TARGET MISSED (see above)")


if __name__ == "__main__":
    main()
