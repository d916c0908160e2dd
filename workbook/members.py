"""Projects and their members: creating a project and changing who may open it.

Only an admin does either once roles are on (:mod:`workbook.roles`); a command-line user
(a plain name: roles off) is whoever has the workspace's files. Both go through the store,
so they are revisions with history lines like any other change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from workbook.errors import WorkbookError
from workbook.model import MAX_MEMBERS, WorkbookBase
from workbook.review import SAVE_RULES
from workbook.roles import Action, Actor, as_actor
from workbook.server_identity import clean
from workbook.store import Change, Store


def parse_members(text: str) -> list[str]:
    """Login names from a text box: one per line or separated by commas."""
    return clean_members(part for part in re.split(r"[,\n]", text or ""))


def clean_members(names: Iterable[str]) -> list[str]:
    """Cleaned, non-empty, without repeats, in the order given."""
    seen: dict[str, None] = {}
    for name in names:
        name = clean(name)
        if name:
            seen.setdefault(name, None)
    if len(seen) > MAX_MEMBERS:
        raise WorkbookError(
            f"a project can have at most {MAX_MEMBERS} members", field="project.members"
        )
    return list(seen)


def create_project(
    store: Store,
    user: str | Actor,
    tool_name: str,
    local_authority: str,
    *,
    members: Iterable[str] = (),
    **details: Any,
) -> WorkbookBase:
    """Create a project (an admin's job once roles are on). ``details``: ``project_id``,
    ``owner``, ``oversight_group``, ``description`` as for :meth:`Store.create`."""
    actor = as_actor(user)
    role = actor.require(Action.create_project)
    return store.create(
        tool_name,
        local_authority,
        user=actor.name,
        role=role if actor.enforced else "",
        members=clean_members(members),
        **details,
    )


def set_members(
    store: Store, project_id: str, members: Iterable[str], *, user: str | Actor
) -> WorkbookBase:
    """Make ``members`` the project's members (an admin's job once roles are on)."""
    actor = as_actor(user)
    role = actor.require(Action.assign)
    new = clean_members(members)
    current = store.open(project_id)
    old = list(current.project.members)
    if old == new:
        return current
    return store.apply(
        project_id,
        [Change("project.members", old, new)],
        user=actor.name,
        base_revision=current.revision,
        rules=SAVE_RULES,
        role=role if actor.enforced else "",
    )
