"""The demo project: a fictional council's early help tool, partly worked through.

The answers are data (``content/demo.yaml``), written for this project; they are not
quoted from the DfE workbook. They go through the ordinary save path, so the demo has a
real history, and a test checks the file validates.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from workbook.model import WorkbookBase
from workbook.store import Store, validate_data

DEMO_FILE = "demo.yaml"


def demo_data() -> dict[str, Any]:
    text = (resources.files("workbook") / "content" / DEMO_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def create_demo(store: Store, *, project_id: str = "demo", user: str) -> WorkbookBase:
    """Create the demo project in ``store`` and fill in its answers."""
    data = demo_data()
    project = data["project"]
    base = store.create(
        project["tool_name"],
        project["local_authority"],
        project_id=project_id,
        owner=project.get("owner", ""),
        oversight_group=project.get("oversight_group", ""),
        description=project.get("description", ""),
        user=user,
    )
    filled = base.to_data()
    _merge(filled, {"phases": data["phases"], "answers": data["answers"]})
    _add_register(filled, data.get("risks") or {}, user)
    edited = validate_data(filled, f"workbook/content/{DEMO_FILE}")
    return store.save(edited, base=base, user=user)


STARTER_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "evidence"
"""The starter evidence notebooks and their invented data, in the project's repository."""
DEMO_EVIDENCE = {
    "q5": ("data-quality.ipynb",),
    "q7": ("error-rates-by-group.ipynb",),
    "q10": ("error-rates-by-group.ipynb",),
}
"""Which starter notebooks the demo attaches to which question."""


def attach_demo_evidence(store: Store, project_id: str, *, user: str) -> list[str]:
    """Attach the starter notebooks (with their data) to the demo's questions 5, 7 and 10.

    Returns what was attached, as ``q7/name.ipynb``; nothing when the starter notebooks
    are not there (an installed package without the repository's ``notebooks/``)."""
    data_file = STARTER_NOTEBOOKS / "data" / "referrals.csv"
    if not data_file.is_file():
        return []
    data = {data_file.name: data_file.read_bytes()}
    done = []
    for qid, names in DEMO_EVIDENCE.items():
        for name in names:
            raw = (STARTER_NOTEBOOKS / name).read_bytes()
            store.add_evidence(project_id, qid, name, raw, data, user=user)
            done.append(f"{qid}/{name}")
    return done


def _add_register(filled: dict[str, Any], register: dict[str, Any], user: str) -> None:
    """The demo's risks, with ids and the time they were added."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).isoformat()
    filled["risks"]["items"] = {
        f"r-demo{i:02d}": {**risk, "created_at": now, "created_by": user}
        for i, risk in enumerate(register.get("items", []), 1)
    }
    filled["risks"]["considered"] = {
        category: {"reason": reason, "by": user, "at": now}
        for category, reason in register.get("considered", {}).items()
    }


DEMO_MATURITY_FILE = "demo-maturity.yaml"


def create_demo_maturity(store: Any, *, user: str) -> Any:
    """The demo authority's maturity self-assessment (``content/demo-maturity.yaml``): two
    rounds rated by three respondents, the first closed. Every step goes through
    :mod:`workbook.maturity`, so the history is real and the rules of rounds apply.
    ``store`` is an :class:`~workbook.store.AssessmentStore`; ``user`` starts it."""
    from datetime import date

    from workbook import maturity as mat

    text = (resources.files("workbook") / "content" / DEMO_MATURITY_FILE).read_text("utf-8")
    data = yaml.safe_load(text)
    a = mat.start_assessment(store, data["authority"], user=user)
    aid = a.authority.id
    model = a.maturity_model()
    chair = data["chair"]
    for number, rnd in enumerate(data["rounds"], start=1):
        if number > 1:
            a = mat.start_round(store, aid, user=chair)
        for cid, levels in rnd["ratings"].items():
            for who, level, reason in zip(data["respondents"], levels, rnd["reasons"], strict=True):
                a = mat.rate(
                    store,
                    aid,
                    cid,
                    level=level,
                    rationale=f"{reason} {model.level_label(level)}." if level else "",
                    user=who,
                )
        for cid, agreed in rnd["agreed"].items():
            due = agreed["date"]
            a = mat.agree(
                store,
                aid,
                cid,
                level=agreed["level"],
                target_level=agreed["target"],
                target_date=due if isinstance(due, date) else date.fromisoformat(due),
                rationale=agreed["rationale"],
                user=chair,
            )
        for cid, action in rnd.get("owners", {}).items():
            a = mat.set_action(
                store, aid, cid, user=chair, text=action["text"], owner=action["owner"]
            )
        if rnd.get("close", True):
            a = mat.close_round(store, aid, user=chair, note="Agreed at the annual review.")
    return a
