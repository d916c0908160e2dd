"""A workspace of many varied projects, for the portfolio dashboard's tests and screenshots.

Everything goes through the ordinary save path (``Store.save`` and ``workbook.review``), so
the files are real. What is known by construction (which sign-offs were made out of date
on purpose) is returned alongside; everything else the tests read back from the files.

Run as a script to fill a workspace for a look in the browser::

    .venv/bin/python -m tests.portfolio_data /tmp/portfolio-workspace 30
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from workbook.bank import load_bank
from workbook.model import SCHEMA_VERSION, Workbook
from workbook.review import add_comment, incomplete_questions, set_resolved, sign_off
from workbook.store import ANSWERS_FILE, Store

BANK = load_bank()
AUTHORITIES = [
    "Northshire County Council",
    "Riverside Borough Council",
    "City of Eastport",
    "Westvale District Council",
    "Southmoor Council",
]
TOOLS = [
    "Early Help Family Support Indicator",
    "Missing Episodes Risk Flag",
    "Placement Stability Predictor",
    "Contact Triage Assistant",
    "Care Leaver Outreach Prioritiser",
    "Referral Demand Forecast",
    "Edge of Care Dashboard",
    "School Absence Early Warning",
    "Domestic Abuse Notification Matcher",
    "Foster Carer Matching Aid",
]
CHECKLIST_CHOICES = [None, "done", "partly", "not_yet", "not_applicable"]
STATUSES = ["not_started", "in_progress", "complete", "further_work_needed"]
XSS_TOOL = '<img src=x onerror="alert(1)">Risk & <b>Need</b> Tool'
CORRUPT_ID = "broken-project"


@dataclass
class Made:
    """What the generator did that the files alone do not say."""

    stale: dict[str, set[str]] = field(default_factory=dict)  # project -> phases made stale
    signed: dict[str, set[str]] = field(default_factory=dict)  # project -> phases signed


def _fill(rng: random.Random, data: dict, today: date, intensity: float) -> None:
    for phase in BANK.phases:
        for item in phase.checklist_ids:
            if rng.random() < intensity:
                entry = data["phases"][phase.id]["checklist"][item]
                entry["status"] = rng.choice(CHECKLIST_CHOICES[1:])
                entry["note"] = rng.choice(["", "Checked with the data protection officer."])
    for q in BANK.questions:
        if rng.random() > intensity:
            continue
        answer = data["answers"][q.id]
        answer["status"] = rng.choice(STATUSES)
        if rng.random() < 0.8:
            answer["response"] = f"Our answer to question {q.number}, drafted by the team."
        for pid in q.prompt_ids:
            if rng.random() < 0.4:
                answer["prompts"][pid] = "Considered at the project board."
        for n in range(rng.choice([0, 0, 1, 2, 3])):
            due = rng.choice([None, today + timedelta(days=rng.randint(-60, 60))])
            if due == today:
                due = today + timedelta(days=1)
            answer["further_work"].append(
                {
                    "action": f"Action {n + 1} for question {q.number}",
                    "owner": rng.choice(["", "Data lead", "Practice lead"]),
                    "due": due.isoformat() if due else None,
                    "status": rng.choice(["open", "open", "done"]),
                }
            )


CATEGORIES = [
    "privacy",
    "safety",
    "displacement",
    "transparency",
    "fairness",
    "environment",
    "social_value",
]
REASONS = [
    "Not relevant.",
    "The tool runs weekly on an existing council server, so its energy use is negligible.",
]


def _fill_register(rng: random.Random, data: dict, today: date, intensity: float) -> None:
    """Some risks (rated or not, some closed, review dates either side of today) and some
    categories considered, with a real reason or a one-word one that does not count."""
    items = data["risks"]["items"]
    for n in range(rng.choice([0, 0, 1, 2, 4]) if intensity else 0):
        rated_after = rng.random() < 0.6
        review_by = rng.choice([None, today + timedelta(days=rng.randint(-30, 30))])
        items[f"r-p{n:04d}"] = {
            "title": f"Risk {n + 1}: flagged families are treated differently",
            "category": rng.choice(CATEGORIES),
            "before": {"likelihood": rng.randint(1, 5), "impact": rng.randint(1, 5)},
            "after": {"likelihood": rng.randint(1, 5), "impact": rng.randint(1, 5)}
            if rated_after
            else {"likelihood": None, "impact": None},
            "status": rng.choice(["open", "open", "mitigated", "accepted", "closed"]),
            "review_by": review_by.isoformat() if review_by else None,
            "created_at": "2026-01-05T09:00:00+00:00",
        }
    for category in CATEGORIES:
        if rng.random() < 0.4 * intensity:
            data["risks"]["considered"][category] = {
                "reason": rng.choice(REASONS),
                "at": "2026-01-05T09:00:00+00:00",
            }


def make_project(
    store: Store,
    i: int,
    rng: random.Random,
    made: Made,
    today: date,
    *,
    tool_name: str | None = None,
) -> str:
    pid = f"project-{i:02d}"
    base = store.create(
        tool_name or f"{TOOLS[i % len(TOOLS)]} {i // len(TOOLS) + 1}",
        AUTHORITIES[rng.randrange(len(AUTHORITIES))],
        project_id=pid,
        owner="Head of Service",
        user="setup",
    )
    data = base.to_data()
    done = i % 10 == 5  # every tenth project is finished and fully signed off
    intensity = 1.0 if done else rng.choice([0.0, 0.3, 0.6, 0.9, 1.0, 1.0])
    _fill(rng, data, today, intensity)
    _fill_register(rng, data, today, intensity)
    if done or (intensity == 1.0 and rng.random() < 0.5):  # a finished project
        for q in BANK.questions:
            data["answers"][q.id]["status"] = "complete"
        for phase in BANK.phases:
            for item in phase.checklist_ids:
                data["phases"][phase.id]["checklist"][item]["status"] = "done"
        for category in CATEGORIES:  # question 4 is complete only with every category covered
            data["risks"]["considered"][category] = {
                "reason": REASONS[1],
                "at": "2026-01-05T09:00:00+00:00",
            }
    store.save(Workbook.model_validate(data), base=base, user="author")

    # Sign off some phases (before any challenge, so approvals are allowed).
    for phase in BANK.phases:
        if done or rng.random() < 0.45:
            choices = ["approved", "approved", "approved_with_conditions", "not_approved"]
            decision = rng.choice(choices[:3] if done else choices)
            sign_off(
                store,
                pid,
                phase.id,
                decision=decision,
                reviewer="Sam Patel",
                role="Chair",
                conditions="Review the model again after six months."
                if decision == "approved_with_conditions"
                else "",
                user="Sam Patel",
                confirm_incomplete=incomplete_questions(store.open(pid), phase.id),
            )
            made.signed.setdefault(pid, set()).add(phase.id)

    # Comment threads: challenges, questions and suggestions, some resolved.
    targets = [q.id for q in BANK.questions] + [
        f"{p.id}.checklist.{item}" for p in BANK.phases for item in p.checklist_ids
    ]
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4])):
        _, tid = add_comment(
            store,
            pid,
            target=rng.choice(targets),
            kind=rng.choice(["challenge", "challenge", "question", "suggestion"]),
            text="Please explain how families were involved in this decision.",
            user="Reviewer",
            role="Oversight group",
        )
        if done or rng.random() < 0.4:
            set_resolved(store, pid, tid, True, user="Reviewer", reviewer=True)

    # Make some sign-offs out of date: edit the phase after it was signed.
    for phase_id in sorted(made.signed.get(pid, ())):
        if not done and rng.random() < 0.4:
            q = BANK.phase(phase_id).questions[0]
            current = store.open(pid)
            data = current.to_data()
            data["answers"][q.id]["response"] += " Updated after the review."
            store.save(Workbook.model_validate(data), base=current, user="author")
            made.stale.setdefault(pid, set()).add(phase_id)
    return pid


def make_portfolio(root: Path, count: int = 30, *, seed: int = 20260, corrupt: bool = True) -> Made:
    """``count`` varied projects in workspace ``root`` (project-00 ...), the second one
    named with HTML in it, plus one corrupt project file."""
    store = Store(root)
    rng = random.Random(seed)
    today = date.today()
    made = Made()
    for i in range(count):
        make_project(store, i, rng, made, today, tool_name=XSS_TOOL if i == 1 else None)
    if corrupt:
        folder = root / CORRUPT_ID
        folder.mkdir(parents=True)
        text = f'{{"schema_version": {SCHEMA_VERSION}, "project": {{'  # cut off mid-file
        (folder / ANSWERS_FILE).write_text(text, encoding="utf-8")
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    make_portfolio(target, n)
    print(f"{n} projects and a corrupt one in {target}")
