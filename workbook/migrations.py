"""Upgrades answers files written by older versions of the file format.

``MIGRATIONS[n]`` turns a version-``n`` dict into a version-``n + 1`` dict. ``migrate`` runs
the chain on every load, before validation, and never writes: the upgraded file reaches
disk only on the next save.

History of the format:

1. The first format: project, phases (checklists) and answers.
2. Adds ``review``: reviewers' comment threads and a sign-off per phase. Everything in a
   version-1 file is kept as it was.
3. Adds ``project.members`` (who may open the project once roles are on; a version-2 file
   starts with none) and ``role`` on comment replies (the role the person replied in; ""
   when not known, its default, so replies need no change).
4. Adds ``project.marking``: the protective marking on the project's documents ("" = the
   workspace's setting, else OFFICIAL). A version-3 file starts with "".
5. Adds ``risks``: the risk register (its scale, risks, and categories considered and found
   not relevant). A version-4 file starts with an empty register on the default 5x5 scale.
6. Adds ``transparency``: the team's public wording for the transparency record (ATRS). A
   version-5 file starts with none.
7. Adds ``personal_data``: personal-data warnings dismissed, each with its reason. A
   version-6 file starts with none dismissed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbook.errors import InvalidProjectFile, SchemaVersionError
from workbook.model import SCHEMA_VERSION

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no review section: start with no comments and no sign-offs."""
    if "review" in data:
        raise InvalidProjectFile(
            "a schema_version 1 file cannot have a 'review' section (it was added in version "
            "2); set schema_version to 2 if the file was written by a newer version",
            field="review",
        )
    data["review"] = {"threads": {}, "signoffs": {}}
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 had no member list: start with none (only admins, once roles are on)."""
    project = data.get("project")
    if not isinstance(project, dict):
        return data  # validation names the problem
    if "members" in project:
        raise InvalidProjectFile(
            "a schema_version 2 file cannot have 'project.members' (it was added in version "
            "3); set schema_version to 3 if the file was written by a newer version",
            field="project.members",
        )
    data["project"] = {**project, "members": []}
    return data


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 had no protective marking: use the workspace's ("")."""
    project = data.get("project")
    if not isinstance(project, dict):
        return data  # validation names the problem
    if "marking" in project:
        raise InvalidProjectFile(
            "a schema_version 3 file cannot have 'project.marking' (it was added in version "
            "4); set schema_version to 4 if the file was written by a newer version",
            field="project.marking",
        )
    data["project"] = {**project, "marking": ""}
    return data


def _v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 had no risk register: start with an empty one on the default scale."""
    if "risks" in data:
        raise InvalidProjectFile(
            "a schema_version 4 file cannot have a 'risks' section (it was added in version "
            "5); set schema_version to 5 if the file was written by a newer version",
            field="risks",
        )
    from workbook.model import Register

    return {**data, "risks": Register().model_dump(mode="json")}


def _adds_section(old: int, key: str, empty: dict[str, Any], what: str) -> Migration:
    """The migration from version ``old``, which had no ``key`` section (``what``): it
    starts empty; a file of that version that has one is refused, naming it."""

    def migrate(data: dict[str, Any]) -> dict[str, Any]:
        if key in data:
            raise InvalidProjectFile(
                f"a schema_version {old} file cannot have a {key!r} section (it was added in "
                f"version {old + 1}); set schema_version to {old + 1} if the file was written "
                "by a newer version",
                field=key,
            )
        return {**data, key: json.loads(json.dumps(empty))}

    migrate.__doc__ = f"Version {old} had no {what}: start with none."
    return migrate


_v5_to_v6 = _adds_section(5, "transparency", {"fields": {}}, "public wording (transparency)")
_v6_to_v7 = _adds_section(6, "personal_data", {"dismissed": {}}, "dismissed personal-data warnings")


MIGRATIONS: dict[int, Migration] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
}
FIRST_VERSION = 1


def migrate(
    data: dict[str, Any], *, source: Path | str | None = None, target: int = SCHEMA_VERSION
) -> dict[str, Any]:
    """Bring ``data`` up to ``target``; refuse files from a newer version."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidProjectFile(
            f"schema_version must be a whole number (got {version!r}); this version writes "
            f"{SCHEMA_VERSION}",
            path=source,
            field="schema_version",
        )
    if version > target:
        raise SchemaVersionError(
            f"this file was written by a newer ethics-workbook (schema_version {version}); "
            f"this version reads up to {target}. Upgrade ethics-workbook to open it",
            path=source,
            field="schema_version",
        )
    if version < FIRST_VERSION:
        raise InvalidProjectFile(
            f"schema_version {version} never existed; the first is {FIRST_VERSION}",
            path=source,
            field="schema_version",
        )
    while version < target:
        step = MIGRATIONS.get(version)
        if step is None:
            raise InvalidProjectFile(
                f"no migration from schema_version {version} to {version + 1}",
                path=source,
                field="schema_version",
            )
        try:
            data = step(dict(data))
        except InvalidProjectFile as exc:
            raise InvalidProjectFile(exc.message, path=source, field=exc.field) from None
        version += 1
        data["schema_version"] = version
    return data
