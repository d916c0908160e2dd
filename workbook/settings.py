"""Workspace settings: ``settings.yaml`` in the workspace folder, written by an operator.

    marking: OFFICIAL-SENSITIVE   # the protective marking on every exported document

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


def load_settings(workspace: str | Path) -> Settings:
    """The workspace's settings; the defaults when it has no ``settings.yaml``."""
    path = Path(workspace) / SETTINGS_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SettingsError(f"cannot read the file: {exc.strerror}", path=path) from None
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(MAX_SETTINGS_FILE + 1)
    if len(raw) > MAX_SETTINGS_FILE:
        raise SettingsError("the file is larger than 64 KB", path=path)
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"not valid YAML: {str(exc).splitlines()[0]}", path=path) from None
    if not isinstance(data, dict):
        raise SettingsError("expected keys such as 'marking:'", path=path)
    unknown = sorted(str(k) for k in data if k not in {"marking"})
    if unknown:
        raise SettingsError(f"unknown setting {', '.join(unknown)}", path=path, field=unknown[0])
    marking = data.get("marking", DEFAULT_MARKING)
    if marking not in MARKINGS:
        raise SettingsError(f"must be one of {', '.join(MARKINGS)}", path=path, field="marking")
    return Settings(marking=marking)


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
