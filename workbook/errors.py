"""Exceptions raised by the workbook core.

Every error carries enough context to say *where* the problem is (the file, the field
and, where it applies, the question) and its message says what to do about it. The CLI
and the widgets show ``str(error)``; they never show a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class WorkbookError(Exception):
    """Base class for every error the workbook core raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        field: str | None = None,
        question_id: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.field = field
        self.question_id = question_id
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.field:
            where.append(self.field)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class BankError(WorkbookError):
    """The question bank (YAML) is malformed. A packaging bug, not a user error."""


class ContentError(BankError):
    """Other packaged content (YAML), such as the digital ethics categories, is malformed.

    A packaging bug, not a user error; a ``BankError`` so one handler catches both.
    """


class InvalidProjectFile(WorkbookError):
    """An answers file cannot be read: corrupt JSON, wrong types, unknown ids, too big."""


class SchemaVersionError(InvalidProjectFile):
    """An answers file was written by a newer version of ethics-workbook."""


class ProjectNotFound(WorkbookError):
    """No project with that id in the workspace."""


class ProjectExists(WorkbookError):
    """A project with that id already exists."""


class UnsafeProjectId(WorkbookError):
    """A project id that is not a safe slug or would resolve outside the workspace."""


class ProjectBusy(WorkbookError):
    """Another process held the project's lock for too long."""


@dataclass(frozen=True)
class Conflict:
    """One field that someone else changed since the caller loaded the project."""

    field: str
    yours: Any
    theirs: Any
    base: Any
    their_user: str | None = None
    their_revision: int | None = None
    their_time: str | None = None


class ConflictError(WorkbookError):
    """A save based on a stale revision changed a field that someone else changed too.

    Nothing was written. ``conflicts`` lists each clashing field with both values, so the
    caller can let the user keep theirs or take the other.
    """

    def __init__(self, conflicts: list[Conflict], *, path: Path | str | None = None) -> None:
        self.conflicts = conflicts
        first = conflicts[0]
        who = f" by {first.their_user}" if first.their_user else ""
        rev = f" in revision {first.their_revision}" if first.their_revision else ""
        more = f" (and {len(conflicts) - 1} more field(s))" if len(conflicts) > 1 else ""
        super().__init__(
            f"this field was changed{who}{rev} after you opened it{more}; "
            "nothing was saved. Reload to see their value, then keep yours or take theirs.",
            path=path,
            field=first.field,
        )
