"""One person's editing session on one project: pending edits, saving and conflicts.

The widgets are views over a session. They call :meth:`EditSession.set` when the user
changes a field and :meth:`EditSession.request_save` to save soon; they subscribe with
:meth:`EditSession.subscribe` to learn when a field's shown value changes (someone else's
edit arrived) or the save state changes.

Conflict detection compares against what the user was *shown*, not just the revision they
opened: when a save brings in someone else's edit to a field, the session updates the
field's shown value and tells the view, so a later edit to that field is checked against
what the user actually saw. No edit is silently dropped or silently overwrites another.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbook.errors import Conflict, ConflictError, WorkbookError
from workbook.model import Workbook, WorkbookBase
from workbook.review import SAVE_RULES
from workbook.roles import Action, Actor, as_actor
from workbook.store import Change, Store, diff, get_path
from workbook.store import set_path as _set

SAVE_DELAY_S = 0.8
"""Debounce: a burst of keystrokes becomes one save this long after the last one."""


@dataclass(frozen=True)
class SaveState:
    """What the save indicator shows."""

    kind: str  # "saved" | "pending" | "saving" | "conflict" | "incomplete" | "error"
    message: str
    saved_at: datetime | None = None


Listener = Callable[[str, Any], None]
"""Called as ``listener(path, value)`` when a shown value changes, and
``listener("", SaveState)`` when the save state changes."""


class EditSession:
    """Edits to one project by one user, saved through :class:`Store`."""

    def __init__(self, store: Store, project_id: str, *, user: str | Actor) -> None:
        self.store = store
        self.project_id = project_id
        self.actor = as_actor(user)
        # who is editing, with their roles (a plain name: roles are off)
        self.user = self.actor.name
        self.workbook: WorkbookBase = store.open(project_id)
        self.actor.require_member(project_id, getattr(self.workbook.project, "members", ()))
        self._shown: dict[str, Any] = self.workbook.to_data()
        self.pending: dict[str, Any] = {}
        self.conflicts: dict[str, Conflict] = {}
        self.incomplete: dict[str, list[list[str]]] = {}
        """Per list field, the rows on screen that cannot be saved yet (their field labels)."""
        self.state = SaveState("saved", "All changes saved")
        self._listeners: list[Listener] = []
        self._timer: asyncio.TimerHandle | None = None

    # ---- reading

    def value(self, path: str) -> Any:
        """The value the user sees for ``path``: their pending edit, else the shown value."""
        if path in self.pending:
            return self.pending[path]
        return copy.deepcopy(get_path(self._shown, path))

    def current(self) -> WorkbookBase:
        """The workbook as the user sees it, pending edits included (for progress)."""
        if not self.pending:
            return self.workbook
        data = copy.deepcopy(self._shown)
        for path, value in self.pending.items():
            _set(data, path, value)
        try:
            return Workbook.model_validate(data)
        except ValueError:
            return self.workbook

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, path: str, value: Any) -> None:
        for listener in list(self._listeners):
            listener(path, value)

    def _set_state(self, kind: str, message: str, saved_at: datetime | None = None) -> None:
        self.state = SaveState(kind, message, saved_at or self.state.saved_at)
        self._emit("", self.state)

    # ---- editing

    def set(self, path: str, value: Any) -> None:
        """Record the user's edit of ``path`` (a JSON-ready value). Does not save."""
        get_path(self._shown, path)  # KeyError for a path the model does not have
        if value == get_path(self._shown, path):
            self.pending.pop(path, None)
        else:
            self.pending[path] = copy.deepcopy(value)
        if path not in self.conflicts:
            self._set_state("pending", "Unsaved changes…")

    def set_incomplete(self, path: str, rows: list[list[str]]) -> None:
        """Rows of the list ``path`` that are on screen but cannot be saved until a required
        field is filled in (each given by its fields' labels). The state then says "Not saved"."""
        if rows:
            self.incomplete[path] = [list(r) for r in rows]
        else:
            self.incomplete.pop(path, None)

    def incomplete_rows(self) -> list[list[str]]:
        return [row for rows in self.incomplete.values() for row in rows]

    def request_save(self, delay: float = SAVE_DELAY_S) -> None:
        """Save ``delay`` seconds after the last request (debounced), off the keystroke path.

        With no running event loop (a plain script or a test), saves at once.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.save()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(delay, self.save)

    def flush(self) -> bool:
        """Save now instead of after the debounce (the page is about to close)."""
        if self._timer is not None:
            self._timer.cancel()
        return self.save()

    def save(self) -> bool:
        """Save the pending edits now. Returns True when nothing is left unsaved."""
        self._timer = None
        changes = [
            Change(path, get_path(self._shown, path), value)
            for path, value in self.pending.items()
            if path not in self.conflicts
        ]
        if not changes:
            return self._finish()
        self._set_state("saving", "Saving…")
        try:
            role = self.actor.require(Action.edit) if self.actor.enforced else ""
            try:
                saved = self.store.apply(
                    self.project_id,
                    changes,
                    user=self.user,
                    base_revision=self.workbook.revision,
                    rules=SAVE_RULES,
                    role=role,
                )
            except ConflictError as exc:
                for conflict in exc.conflicts:
                    self.conflicts[conflict.field] = conflict
                clear = [c for c in changes if c.path not in self.conflicts]
                saved = (
                    self.store.apply(
                        self.project_id,
                        clear,
                        user=self.user,
                        base_revision=self.workbook.revision,
                        rules=SAVE_RULES,
                        role=role,
                    )
                    if clear
                    else self.store.open(self.project_id)
                )
                changes = clear
        except WorkbookError as exc:
            self._set_state("error", f"Not saved: {exc.message}")
            return False
        for change in changes:
            self._shown_set(change.path, change.new)
            self.pending.pop(change.path, None)
        self._adopt(saved)
        return self._finish(landed=True)

    def _finish(self, *, landed: bool = False) -> bool:
        """Set the state after a save (``landed``: something was written just now)."""
        if self.conflicts:
            n = len(self.conflicts)
            self._set_state(
                "conflict",
                f"{n} field{'s' if n > 1 else ''} changed by someone else: choose which to keep",
            )
            return False
        if self.pending:
            self._set_state("pending", "Unsaved changes…")
            return False
        if self.incomplete:
            n = len(self.incomplete_rows())
            self._set_state(
                "incomplete",
                f"Not saved: {n} incomplete row{'s' if n != 1 else ''}",
                datetime.now().astimezone() if landed else None,  # when a save last landed
            )
            return False
        self._set_state("saved", "Saved", datetime.now().astimezone())
        return True

    def _shown_set(self, path: str, value: Any) -> None:
        _set(self._shown, path, copy.deepcopy(value))

    def _adopt(self, saved: WorkbookBase) -> None:
        """Take ``saved`` as the new base; show others' edits to fields the user is not editing."""
        self.workbook = saved
        fresh = saved.to_data()
        for change in diff(self._shown, fresh):
            if change.path in self.pending or change.path in self.conflicts:
                continue
            self._shown_set(change.path, change.new)
            self._emit(change.path, copy.deepcopy(change.new))
        # keep the store-maintained stamps current too
        for qid, answer in fresh["answers"].items():
            self._shown["answers"][qid]["updated_at"] = answer["updated_at"]
            self._shown["answers"][qid]["updated_by"] = answer["updated_by"]
        self._shown["revision"] = fresh["revision"]

    def refresh(self) -> None:
        """Re-read the project and show others' edits (fields being edited are kept)."""
        try:
            self._adopt(self.store.open(self.project_id))
        except WorkbookError as exc:
            self._set_state("error", f"Could not reload: {exc.message}")

    # ---- conflicts

    def keep_mine(self, path: str) -> bool:
        """Resolve a conflict by saving the user's value over the other person's."""
        conflict = self.conflicts.pop(path)
        self._shown_set(path, conflict.theirs)  # the user has now seen theirs
        self.pending[path] = conflict.yours
        return self.save()

    def take_theirs(self, path: str) -> bool:
        """Resolve a conflict by dropping the user's value and showing the other person's."""
        conflict = self.conflicts.pop(path)
        self.pending.pop(path, None)
        self._shown_set(path, conflict.theirs)
        self._emit(path, copy.deepcopy(conflict.theirs))
        return self.save()
