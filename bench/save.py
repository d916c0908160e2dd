"""Save speed: a complete workbook, with a short and a long history.

Target (DESIGN.md): a save takes under 20 ms for a complete workbook, however long its
history is. This prints the median save time for a fresh project and for the same project
after 20,000 history lines, and their ratio (about 1 means history length does not matter).

    .venv/bin/python bench/save.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from workbook.bank import load_bank
from workbook.model import Workbook
from workbook.store import Store

SAMPLES = 40


def complete_workbook(base):
    data = base.to_data()
    for q in load_bank().questions:
        answer = data["answers"][q.id]
        answer["response"] = ("A full answer paragraph. " * 40).strip()
        answer["status"] = "complete"
        answer["prompts"] = {pid: "A considered note on this prompt. " * 5 for pid in q.prompt_ids}
        answer["evidence"] = [{"reference": f"Doc {i}", "description": "x" * 80} for i in range(5)]
        answer["further_work"] = [
            {"action": f"Action {i}", "owner": "Team", "due": "2027-01-01", "status": "open"}
            for i in range(3)
        ]
    return Workbook.model_validate(data)


def time_saves(store: Store, project: str) -> list[float]:
    times = []
    for i in range(SAMPLES):
        cur = store.open(project)
        new = cur.model_copy(deep=True)
        new.answers.q1.response = f"Edit number {i}: " + cur.answers.q1.response[:500]
        start = time.perf_counter()
        store.save(new, base=cur, user="bench")
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        base = store.create("Bench", "LA", project_id="bench", user="bench")
        store.save(complete_workbook(base), base=base, user="bench")
        short = time_saves(store, "bench")
        line = json.dumps(
            {
                "time": "2026-01-01T00:00:00+00:00",
                "user": "x",
                "revision": 1,
                "path": "answers.q1.response",
                "old": "a" * 200,
                "new": "b" * 200,
                "outcome": "saved",
            }
        )
        with store.history_path("bench").open("a") as fh:
            fh.write((line + "\n") * 20_000)
            fh.flush()
            os.fsync(fh.fileno())  # real history grows a line at a time; don't time this flush
        long = time_saves(store, "bench")
    s, l_ = statistics.median(short), statistics.median(long)
    print(f"save, complete workbook, short history : median {s * 1000:6.2f} ms")
    print(f"save, complete workbook, 20k-line history: median {l_ * 1000:6.2f} ms")
    print(f"ratio long/short history: {l_ / s:.2f} (target: about 1; each save under 20 ms)")
    print("TARGET MET" if l_ < 0.020 and s < 0.020 else "TARGET MISSED")


if __name__ == "__main__":
    main()
