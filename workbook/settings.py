"""Workspace settings: ``settings.yaml`` in the workspace folder, written by an operator.

    marking: OFFICIAL-SENSITIVE   # the protective marking on every exported document
    case_reference_patterns:      # local case references the personal-data check finds
      - 'LCS-\\d{6}'

Every key is optional. A file that is not valid raises :class:`SettingsError` naming the file
and the field. A project's own marking (``project.marking``) overrides the workspace's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workbook.errors import WorkbookError

SETTINGS_FILE = "settings.yaml"
MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
DEFAULT_MARKING = "OFFICIAL"
MAX_SETTINGS_FILE = 64 * 1024


class SettingsError(WorkbookError):
    """The workspace's settings.yaml cannot be used."""


@dataclass(frozen=True)
class Settings:
    marking: str = DEFAULT_MARKING
    case_reference_patterns: tuple[str, ...] = ()
    """Regular expressions for the authority's case references, which the personal-data
    check (:mod:`workbook.personal_data`) reports as "a local case reference"."""


def read_workspace_yaml(path: Path, *, max_bytes: int, error: type[WorkbookError]) -> Any | None:
    """A small YAML file an operator keeps in the workspace (settings.yaml, roles.yaml):
    its data, ``{}`` when empty, None when there is no such file. Read without following a
    symbolic link and no more than ``max_bytes``; a problem raises ``error`` naming the
    file (and the line, for YAML that does not parse)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror}", path=path) from None
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise error(f"the file is larger than {max_bytes:,} bytes", path=path)
    try:
        return yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise error(f"not valid YAML{line}", path=path) from None


def load_settings(workspace: str | Path) -> Settings:
    """The workspace's settings; the defaults when it has no ``settings.yaml``."""
    path = Path(workspace) / SETTINGS_FILE
    data = read_workspace_yaml(path, max_bytes=MAX_SETTINGS_FILE, error=SettingsError)
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise SettingsError("expected keys such as 'marking:'", path=path)
    from workbook.personal_data import CASE_PATTERNS_SETTING, check_case_patterns

    known = {"marking", CASE_PATTERNS_SETTING}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise SettingsError(
            f"unknown setting {', '.join(unknown)} (settings are {', '.join(sorted(known))})",
            path=path,
            field=unknown[0],
        )
    marking = data.get("marking", DEFAULT_MARKING)
    if marking not in MARKINGS:
        raise SettingsError(f"must be one of {', '.join(MARKINGS)}", path=path, field="marking")
    patterns = check_case_patterns(data.get(CASE_PATTERNS_SETTING), source=path)
    return Settings(marking=marking, case_reference_patterns=patterns)


def marking_for(project_marking: str, workspace: str | Path | None) -> str:
    """The marking a project's documents carry: its own, else the workspace's, else
    OFFICIAL."""
    if project_marking:
        return project_marking
    return load_settings(workspace).marking if workspace is not None else DEFAULT_MARKING


def set_marking(store: Any, project_id: str, marking: str, *, user: Any) -> Any:
    """Set a project's own marking ("" = the workspace's) in its answers file, through the
    store (``user`` is a name or an :class:`~workbook.roles.Actor`; an admin's job once
    roles are on). Returns the saved workbook."""
    from workbook.review import SAVE_RULES
    from workbook.roles import Action, as_actor
    from workbook.store import Change

    if marking not in ("", *MARKINGS):
        raise WorkbookError(
            f"marking must be one of {', '.join(MARKINGS)} (or empty for the workspace's)",
            field="marking",
        )
    actor = as_actor(user)
    role = actor.require(Action.assign)
    current = store.open(project_id)
    old = current.project.marking
    if old == marking:
        return current
    return store.apply(
        project_id,
        [Change("project.marking", old, marking)],
        user=actor.name,
        base_revision=current.revision,
        rules=SAVE_RULES,
        role=role if actor.enforced else "",
    )
