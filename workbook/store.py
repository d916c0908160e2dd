"""Storage: the only module that reads or writes answers files.

A workspace is a folder of projects::

    <workspace>/<project-id>/workbook.json    the answers (validated, versioned)
    <workspace>/<project-id>/history.jsonl    append-only log of every change
    <workspace>/<project-id>/.lock            held while saving

Saves are atomic (temporary file, fsync, ``os.replace``) and run under a file lock. Every
save says which revision it started from. Changes to fields nobody else touched since then
are merged; a change to a field someone else changed raises :class:`ConflictError` and
writes nothing, so no edit is silently lost.

String-level functions (:func:`reads`, :func:`writes`) sit under the file-level ones, as
in nbformat.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import ValidationError

from workbook.errors import (
    Conflict,
    ConflictError,
    InvalidProjectFile,
    ProjectBusy,
    ProjectExists,
    ProjectNotFound,
    UnsafeProjectId,
    WorkbookError,
)
from workbook.migrations import migrate
from workbook.model import (
    PROJECT_ID_PATTERN,
    Workbook,
    WorkbookBase,
    describe_validation_error,
    new_workbook,
)

ANSWERS_FILE = "workbook.json"
HISTORY_FILE = "history.jsonl"
LOCK_FILE = ".lock"
MAX_FILE_BYTES = 16 * 1024 * 1024
"""An answers file bigger than this is refused before it is parsed."""
LOCK_TIMEOUT_S = 15.0
WORKSPACE_ENV = "WORKBOOK_WORKSPACE"
DEFAULT_WORKSPACE = "workspace"

# Fields the store maintains itself; they never count as a user's change.
_META_KEYS = frozenset({"updated_at", "updated_by"})


# --------------------------------------------------------------------------- strings


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """A parsed JSON object that had a key more than once."""

    duplicates: list[str]


class _NonFinite:
    def __init__(self, token: str) -> None:
        self.token = token


def _parse_json(text: str, source: Path | str | None) -> Any:
    flagged = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal flagged
        obj: dict[str, Any] = {}
        dupes = []
        for key, value in pairs:
            if key in obj:
                dupes.append(key)
            obj[key] = value
        if dupes:
            flagged = True
            marked = _DuplicateKeys(obj)
            marked.duplicates = dupes
            return marked
        return obj

    def constant_hook(token: str) -> _NonFinite:
        nonlocal flagged
        flagged = True
        return _NonFinite(token)

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=constant_hook)
    except json.JSONDecodeError as exc:
        raise InvalidProjectFile(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. The file may "
            "be truncated or hand-edited; restore it from a backup or fix it by hand",
            path=source,
        ) from None
    except RecursionError:
        raise InvalidProjectFile(
            "JSON is nested far too deeply to be an answers file", path=source
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python allows
        raise InvalidProjectFile(f"not a valid answers file: {exc}", path=source) from None
    if flagged:
        _reject_marked(data, source)
    return data


def _reject_marked(data: Any, source: Path | str | None) -> None:
    """Find the first duplicate key or NaN/Infinity and say where it is."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _NonFinite):
            raise InvalidProjectFile(
                f"{value.token} is not allowed; JSON answers hold text, dates and whole numbers",
                path=source,
                field=path or "(top level)",
            )
        if isinstance(value, dict):
            if isinstance(value, _DuplicateKeys):
                raise InvalidProjectFile(
                    f"key {value.duplicates[0]!r} appears more than once; keep one and delete "
                    "the others",
                    path=source,
                    field=path or "(top level)",
                )
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))


def reads(text: str | bytes, *, source: Path | str | None = None) -> WorkbookBase:
    """Parse, migrate and validate an answers file's text.

    Raises :class:`InvalidProjectFile` (or :class:`SchemaVersionError`) naming ``source``,
    the field and the problem.
    """
    if len(text) > MAX_FILE_BYTES:  # characters or bytes: either way, too big
        raise _too_big(len(text), source)
    if isinstance(text, str):
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise _too_big(size, source)
    else:
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidProjectFile(
                f"not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
                path=source,
            ) from None
    data = _parse_json(text, source)
    if not isinstance(data, dict):
        raise InvalidProjectFile(
            f"expected a JSON object at the top level, found {type(data).__name__}", path=source
        )
    data = migrate(data, source=source)
    return validate_data(data, source)


def validate_data(data: dict[str, Any], source: Path | str | None) -> WorkbookBase:
    try:
        return Workbook.model_validate(data)
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        qid = field.split(".")[1] if field.startswith("answers.") else None
        raise InvalidProjectFile(message, path=source, field=field, question_id=qid) from None
    except RecursionError:
        raise InvalidProjectFile("nested far too deeply", path=source) from None


def writes(workbook: WorkbookBase) -> str:
    """The text of an answers file: UTF-8 JSON, two-space indent, trailing newline."""
    return workbook.model_dump_json(indent=2) + "\n"


def _too_big(size: int, source: Path | str | None) -> InvalidProjectFile:
    return InvalidProjectFile(
        f"file is {size:,} bytes; an answers file is at most {MAX_FILE_BYTES:,} bytes "
        f"({MAX_FILE_BYTES // 1_048_576} MB). It was not read",
        path=source,
    )


def _encoded_within_limit(workbook: WorkbookBase, path: Path) -> str:
    """The file text for ``workbook``, refusing a save that could not be read back."""
    text = writes(workbook)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise WorkbookError(
            f"not saved: the answers would take {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte "
            "limit for a project. Shorten the longest answers, or keep long material in "
            "documents and list them as evidence",
            path=path,
        )
    return text


def read_file(path: Path | str) -> WorkbookBase:
    """Read and validate an answers file anywhere on disk (read-only)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise _too_big(size, path)
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ProjectNotFound("file not found", path=path) from None
    except IsADirectoryError:
        raise InvalidProjectFile("is a folder, not an answers file", path=path) from None
    except PermissionError:
        raise InvalidProjectFile("permission denied", path=path) from None
    return reads(raw, source=path)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _remove_stale_temps(folder: Path) -> None:
    """Delete temporary files left by a save that was killed. Call only under the lock."""
    for stale in folder.glob(f".{ANSWERS_FILE}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual umask default."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One field's change: ``path`` is dotted (``answers.q1.response``)."""

    path: str
    old: Any
    new: Any


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Field-level changes from ``old`` to ``new`` (JSON dicts). Lists count as one field."""
    changes: list[Change] = []
    _diff_into(changes, "", old, new)
    return changes


def _diff_into(out: list[Change], prefix: str, old: Any, new: Any) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if prefix == "" and key == "revision":
                continue
            if key in _META_KEYS and prefix.startswith("answers."):
                continue
            _diff_into(out, f"{prefix}.{key}" if prefix else key, old.get(key), new.get(key))
    elif old != new:
        out.append(Change(prefix, old, new))


def get_path(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(path)
        node = node[key]
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value


# --------------------------------------------------------------------------- workspace


def resolve_workspace(path: Path | str | None = None) -> Path:
    """``path`` if given, else ``$WORKBOOK_WORKSPACE``, else ``./workspace``."""
    chosen = path or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
    return Path(chosen).expanduser().absolute()


@dataclass(frozen=True)
class ProjectEntry:
    """A row of :meth:`Store.list`: the project, or why it could not be read."""

    id: str
    workbook: WorkbookBase | None
    error: WorkbookError | None = None


class Store:
    """The projects in one workspace folder."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = resolve_workspace(root)

    # ---- paths

    def project_dir(self, project_id: str) -> Path:
        """The folder of ``project_id``; refuses anything that could leave the workspace."""
        if not isinstance(project_id, str) or not re.fullmatch(PROJECT_ID_PATTERN, project_id):
            raise UnsafeProjectId(
                f"{project_id!r} is not a valid project id: use lower-case letters, digits and "
                "single hyphens (e.g. 'early-help-predictor')",
                field="project",
            )
        folder = self.root / project_id
        root = self.root.resolve()
        if folder.is_symlink() or not folder.resolve().is_relative_to(root):
            raise UnsafeProjectId(
                f"project {project_id!r} points outside the workspace (a symbolic link?); "
                "refusing to use it",
                path=folder,
            )
        return folder

    def answers_path(self, project_id: str) -> Path:
        path = self.project_dir(project_id) / ANSWERS_FILE
        if path.is_symlink() or not path.resolve().is_relative_to(self.root.resolve()):
            raise UnsafeProjectId(
                "the answers file is a symbolic link; refusing to follow it", path=path
            )
        return path

    def history_path(self, project_id: str) -> Path:
        return self.project_dir(project_id) / HISTORY_FILE

    @contextlib.contextmanager
    def _locked(self, project_id: str) -> Iterator[None]:
        lock = FileLock(self.project_dir(project_id) / LOCK_FILE, timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                yield
        except Timeout:
            raise ProjectBusy(
                f"project {project_id!r} stayed locked by another save for {LOCK_TIMEOUT_S:.0f} "
                "s; try again",
                path=self.project_dir(project_id),
            ) from None

    # ---- create, open, list

    def exists(self, project_id: str) -> bool:
        return self.answers_path(project_id).is_file()

    def create(
        self,
        tool_name: str,
        local_authority: str,
        *,
        user: str,
        project_id: str | None = None,
        owner: str = "",
        oversight_group: str = "",
        description: str = "",
    ) -> WorkbookBase:
        """Create a project (revision 1). The id is made from ``tool_name`` unless given."""
        candidates = [project_id] if project_id is not None else _id_candidates(tool_name)
        self.root.mkdir(parents=True, exist_ok=True)
        for candidate in candidates:
            folder = self.project_dir(candidate)
            draft = _validated_new(
                project_id=candidate,
                tool_name=tool_name,
                local_authority=local_authority,
                created_by=user,
                owner=owner,
                oversight_group=oversight_group,
                description=description,
            )
            folder.mkdir(exist_ok=True)
            with self._locked(candidate):
                # Under the lock, so two creates cannot both win; a folder left without an
                # answers file by a crash mid-create is reused.
                if (folder / ANSWERS_FILE).exists():
                    if project_id is not None:
                        raise ProjectExists(
                            f"a project called {project_id!r} already exists; pick another id",
                            path=folder,
                        )
                    continue
                saved = draft.model_copy(update={"revision": 1})
                self._append_history(
                    candidate,
                    [_entry(user, 1, "", None, saved.project.model_dump(mode="json"), "created")],
                )
                _remove_stale_temps(folder)
                _atomic_write(folder / ANSWERS_FILE, writes(saved))
            return saved
        raise ProjectExists("could not find a free project id", path=self.root)  # pragma: no cover

    def open(self, project_id: str) -> WorkbookBase:
        path = self.answers_path(project_id)
        if not path.exists():
            raise ProjectNotFound(
                f"no project {project_id!r} in workspace {self.root}; run `workbook list` to see "
                "the projects there",
                path=path,
            )
        return read_file(path)

    def list(self) -> list[ProjectEntry]:
        """Every project folder in the workspace, sorted by id, each opened or with its error."""
        if not self.root.is_dir():
            return []
        entries = []
        for child in sorted(self.root.iterdir()):
            if child.name.startswith(".") or not (child / ANSWERS_FILE).exists():
                continue
            try:
                entries.append(ProjectEntry(child.name, self.open(child.name)))
            except WorkbookError as exc:
                entries.append(ProjectEntry(child.name, None, exc))
        return entries

    # ---- save

    def save(self, workbook: WorkbookBase, *, base: WorkbookBase, user: str) -> WorkbookBase:
        """Save ``workbook``, edited from ``base`` (the version the caller opened).

        Returns the saved workbook with its new revision. Fields changed by someone else
        since ``base`` are kept; a field both of you changed raises :class:`ConflictError`.
        """
        if workbook.project.id != base.project.id:
            raise WorkbookError("cannot save one project's edits onto another project")
        changes = diff(base.to_data(), workbook.to_data())
        return self.apply(base.project.id, changes, user=user, base_revision=base.revision)

    def apply(
        self, project_id: str, changes: list[Change], *, user: str, base_revision: int
    ) -> WorkbookBase:
        """Apply field changes under the lock. The core of :meth:`save`."""
        path = self.answers_path(project_id)
        with self._locked(project_id):
            current = self.open(project_id)
            if not changes:
                return current
            data = current.to_data()
            conflicts: list[Conflict] = []
            applied: list[Change] = []
            for change in changes:
                try:
                    on_disk = get_path(data, change.path)
                except KeyError:
                    # A new entry in a mapping (a comment thread, a reply) is missing until
                    # added; anything else unknown is refused by validation below.
                    parent, _, _ = change.path.rpartition(".")
                    try:
                        if not parent or not isinstance(get_path(data, parent), dict):
                            raise KeyError(parent)
                    except KeyError:
                        raise WorkbookError(
                            f"unknown field {change.path!r}", path=path, field=change.path
                        ) from None
                    on_disk = None
                if on_disk == change.new:
                    continue  # someone already made the same change
                if on_disk != change.old:
                    conflicts.append(Conflict(change.path, change.new, on_disk, change.old))
                    continue
                set_path(data, change.path, change.new)
                applied.append(change)
            now = datetime.now(timezone.utc)
            if conflicts:
                conflicts = self._who_changed(project_id, conflicts)
                self._append_history(
                    project_id,
                    [
                        _entry(
                            user,
                            current.revision,
                            c.field,
                            c.theirs,
                            c.yours,
                            "conflict",
                            base_revision=base_revision,
                            time=now,
                        )
                        for c in conflicts
                    ],
                )
                raise ConflictError(conflicts, path=path)
            if not applied:
                return current
            revision = current.revision + 1
            data["revision"] = revision
            stamp = now.isoformat()
            for qid in {c.path.split(".")[1] for c in applied if c.path.startswith("answers.")}:
                data["answers"][qid]["updated_at"] = stamp
                data["answers"][qid]["updated_by"] = user
            saved = _validate_change(data, path)
            if any(c.path.startswith("review.signoffs.") for c in applied):
                from workbook.review import check_signoff_rules

                try:
                    check_signoff_rules(data, [c.path for c in applied])
                except WorkbookError as exc:
                    exc.path = path
                    raise
            text = _encoded_within_limit(saved, path)
            # History first: a crash before the replace leaves lines for a revision that
            # never landed, which history() recognises and drops. The other order could
            # lose the record of a change that did land.
            self._append_history(
                project_id,
                [
                    _entry(
                        user,
                        revision,
                        c.path,
                        c.old,
                        c.new,
                        "saved",
                        base_revision=base_revision,
                        time=now,
                    )
                    for c in applied
                ],
            )
            _remove_stale_temps(path.parent)
            _atomic_write(path, text)
            return saved

    # ---- history

    def history(self, project_id: str) -> list[dict[str, Any]]:
        """The change history, oldest first, consistent with the answers file.

        Skipped: a line cut short by a crash, and the lines of a save that was killed after
        writing its history but before replacing the file (a later save reused its
        revision number, or the file never reached that revision).
        """
        path = self.history_path(project_id)
        if not path.exists():
            return []
        entries: list[dict[str, Any]] = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict):
                    continue
                if entry.get("outcome") in {"saved", "created"}:
                    key = (entry.get("revision"), entry.get("time"))
                    entries = [
                        e
                        for e in entries
                        if e.get("outcome") not in {"saved", "created"}
                        or not isinstance(e.get("revision"), int)
                        or not isinstance(key[0], int)
                        or e["revision"] < key[0]
                        or (e["revision"], e.get("time")) == key
                    ]
                entries.append(entry)
        try:
            on_disk = self.open(project_id).revision
        except WorkbookError:
            return entries
        return [
            e
            for e in entries
            if e.get("outcome") not in {"saved", "created"}
            or not isinstance(e.get("revision"), int)
            or e["revision"] <= on_disk
        ]

    def _who_changed(self, project_id: str, conflicts: list[Conflict]) -> list[Conflict]:
        last: dict[str, dict[str, Any]] = {}
        for entry in self.history(project_id):
            if entry.get("outcome") == "saved":
                last[entry.get("path", "")] = entry
        out = []
        for c in conflicts:
            entry = last.get(c.field, {})
            out.append(
                Conflict(
                    c.field,
                    c.yours,
                    c.theirs,
                    c.base,
                    their_user=entry.get("user"),
                    their_revision=entry.get("revision"),
                    their_time=entry.get("time"),
                )
            )
        return out

    def _append_history(self, project_id: str, entries: list[dict[str, Any]]) -> None:
        path = self.history_path(project_id)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        with path.open("a+b") as fh:
            # A crash can leave a half-written last line; start ours on a fresh line.
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    text = "\n" + text
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())


def _entry(
    user: str,
    revision: int,
    path: str,
    old: Any,
    new: Any,
    outcome: str,
    *,
    base_revision: int | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    entry = {
        "time": (time or datetime.now(timezone.utc)).isoformat(),
        "user": user,
        "revision": revision,
        "path": path,
        "old": old,
        "new": new,
        "outcome": outcome,
    }
    if base_revision is not None:
        entry["base_revision"] = base_revision
    return entry


def _validate_change(data: dict[str, Any], path: Path) -> WorkbookBase:
    try:
        return Workbook.model_validate(data)
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        raise WorkbookError(f"not saved: {message}", path=path, field=field) from None


def _validated_new(**kwargs: Any) -> WorkbookBase:
    try:
        return new_workbook(**kwargs)
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        raise WorkbookError(message, field=field.replace("project.", "", 1) or None) from None


def _id_candidates(tool_name: str) -> Iterator[str]:
    from slugify import slugify  # only needed when creating

    stem = slugify(tool_name, max_length=48, word_boundary=True) or "project"
    yield stem
    for n in range(2, 10_000):
        yield f"{stem}-{n}"
