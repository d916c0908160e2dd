"""The demo project: a fictional council's early help tool, partly worked through.

The answers are data (``content/demo.yaml``), written for this project; they are not
quoted from the DfE workbook. They go through the ordinary save path, so the demo has a
real history, and a test checks the file validates.
"""

from __future__ import annotations

from importlib import resources
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
