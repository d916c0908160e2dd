"""Upgrades answers files written by older versions of the file format.

``MIGRATIONS[n]`` turns a version-``n`` dict into a version-``n + 1`` dict. ``migrate`` runs
the chain on every load, before validation, and never writes: the upgraded file reaches
disk only on the next save. Version 1 is the first format, so the chain is empty for now.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbook.errors import InvalidProjectFile, SchemaVersionError
from workbook.model import SCHEMA_VERSION

Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
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
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data
