"""Storage: the only module that reads or writes answers files.

A workspace is a folder of projects::

    <workspace>/<project-id>/workbook.json    the answers (validated, versioned)
    <workspace>/<project-id>/history.jsonl    append-only log of every change
    <workspace>/<project-id>/.lock            held while saving

Saves are atomic (temporary file, fsync, ``os.replace``) and run under a file lock. Every
save says which revision it started from. Changes to fields nobody else touched since then
are merged; a change to a field someone else changed raises :class:`ConflictError` and
writes nothing, so no edit is silently lost.

Only regular files are used: every workspace file (``workbook.json``, ``history.jsonl``,
``.lock``) is opened without following a symbolic link and refused, with one line naming
it, if it is a FIFO, device, folder or socket (:func:`open_regular`), so a hostile file
can neither hang a reader nor make a save write outside the workspace. The lock is an
``flock`` on the ``.lock`` file opened that way.

The history is read from its end (:mod:`workbook.history`): a conflict check reads only
the lines since the saver's base revision, so its cost does not grow with the history.
Damaged lines are skipped and reported once with their line number.

The store knows no business rules: :meth:`Store.apply` runs the ``rules`` its caller
passes (``workbook.review.SAVE_RULES`` for the sign-off rule), so nothing here imports
the review or widget code.

String-level functions (:func:`reads`, :func:`writes`) sit under the file-level ones, as
in nbformat.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbook.assessment import (
    ASSESSMENT_FILE,
    ASSESSMENT_SCHEMA_VERSION,
    AUTHORITIES_FOLDER,
    MODELS_FOLDER,
    Assessment,
    describe_assessment_error,
    new_assessment,
)
from workbook.errors import (
    Conflict,
    ConflictError,
    InvalidProjectFile,
    ProjectBusy,
    ProjectExists,
    ProjectNotFound,
    SchemaVersionError,
    UnsafeProjectId,
    WorkbookError,
)
from workbook.history import MAX_REPORTED, Consistency, LineNumbers, lines_backward, parse_line
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
EVIDENCE_FOLDER = "evidence"
"""``<project>/evidence/<question id>/<name>.ipynb``: evidence notebooks; beside each
question's notebooks, ``data/`` (their data files) and ``.runs/`` (their last runs)."""
EVIDENCE_DATA = "data"
EVIDENCE_RUNS = ".runs"
EVIDENCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}\.ipynb")
EVIDENCE_DATA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}(?:\.[A-Za-z0-9]{1,10}){0,2}")
EVIDENCE_QUESTION = re.compile(r"q[0-9]{1,2}")
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
"""An evidence notebook or data file bigger than this is refused."""
WORKSPACE_ENV = "WORKBOOK_WORKSPACE"
DEFAULT_WORKSPACE = "workspace"

# Fields the store maintains itself; they never count as a user's change.
_META_KEYS = frozenset({"updated_at", "updated_by"})

Rule = Callable[[dict[str, Any], list[str]], None]
"""A check run by :meth:`Store.apply` under the lock on the merged data, with the paths
changed; it raises :class:`WorkbookError` to refuse the save. The store knows no rules of
its own: callers pass them (``workbook.review.SAVE_RULES`` holds the sign-off rule)."""

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())  # a library: the app decides where warnings go


# --------------------------------------------------------------------------- files

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(path: Path | str, mode: int) -> InvalidProjectFile:
    return InvalidProjectFile(
        f"is {_kind(mode)}, not a regular file; refusing to open it. Replace it with the "
        "real file (or remove it)",
        path=path,
    )


def open_regular(
    path: Path | str,
    flags: int = os.O_RDONLY,
    *,
    follow_symlinks: bool = False,
    dir_fd: int | None = None,
) -> int:
    """Open ``path`` as a file descriptor, refusing anything but a regular file.

    Symbolic links are not followed (unless ``follow_symlinks``), and a FIFO, device,
    folder or socket is refused before anything is read from it: it is checked with
    ``lstat`` before the open, the open itself is non-blocking (a FIFO cannot hang it)
    and the opened file is checked again with ``fstat``. With ``os.O_CREAT`` in
    ``flags`` a missing file is created. Raises :class:`WorkbookError` with one line.

    With ``dir_fd`` (an open project folder), the file is ``path.name`` in that folder:
    the folder cannot be swapped for a link between the check and the open.
    """
    name: Path | str = path if dir_fd is None else Path(path).name
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise ProjectNotFound("file not found", path=path) from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    else:
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
    extra = _NONBLOCK | _CLOEXEC | (0 if follow_symlinks else _NOFOLLOW)
    try:
        fd = os.open(name, flags | extra, 0o666, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_regular(path, stat.S_IFLNK) from None
        if exc.errno == errno.EISDIR:
            raise _not_regular(path, stat.S_IFDIR) from None
        raise _os_error(path, exc) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise _not_regular(path, st.st_mode)
    return fd


def _os_error(path: Path | str, exc: OSError) -> WorkbookError:
    if isinstance(exc, PermissionError):
        return InvalidProjectFile("permission denied", path=path)
    if exc.errno == errno.ENOTDIR:
        return InvalidProjectFile("a part of this path is a file, not a folder", path=path)
    return WorkbookError(f"could not open it: {exc.strerror or exc}", path=path)


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
    data = _json_object(text, source)
    data = migrate(data, source=source)
    return validate_data(data, source)


def _json_object(text: str | bytes, source: Path | str | None) -> dict[str, Any]:
    """The JSON object in ``text``: size, encoding, syntax, duplicate keys and NaN checked."""
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
    return data


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


def _too_big(
    size: int, source: Path | str | None, limit: int = MAX_FILE_BYTES, what: str = "an answers file"
) -> InvalidProjectFile:
    return InvalidProjectFile(
        f"file is {size:,} bytes; {what} is at most {limit:,} bytes "
        f"({limit // 1_048_576} MB). It was not read",
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


def read_file(
    path: Path | str, *, follow_symlinks: bool = True, dir_fd: int | None = None
) -> WorkbookBase:
    """Read and validate an answers file anywhere on disk (read-only).

    Only a regular file is read (a FIFO or device is refused, never waited on). The store
    passes ``follow_symlinks=False`` and its project folder's ``dir_fd``.
    """
    path = Path(path)
    return reads(_read_bytes(path, follow_symlinks, dir_fd), source=path)


def _read_bytes(
    path: Path, follow_symlinks: bool, dir_fd: int | None, limit: int = MAX_FILE_BYTES
) -> bytes:
    """A workspace file's bytes: a regular file only, and no bigger than the limit."""
    fd = open_regular(path, follow_symlinks=follow_symlinks, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        if size > limit:
            raise _too_big(
                size,
                path,
                limit,
                "a workspace file" if limit != MAX_FILE_BYTES else "an answers file",
            )
        try:
            return fh.read(limit + 1)
        except OSError as exc:
            raise _os_error(path, exc) from None


def _open_subfolder(dir_fd: int, name: str, *, create: bool = False) -> int:
    """The folder ``name`` in the open folder ``dir_fd`` (made first if ``create``), opened
    without following a symbolic link: FileNotFoundError if missing, OSError ELOOP or
    ENOTDIR if it is a link or a file."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=dir_fd)
    return os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)


def _atomic_write(dir_fd: int, path: Path, text: str | bytes) -> None:
    """Replace ``path`` (a file in the open folder ``dir_fd``) with ``text``, atomically:
    a new temporary file in the same folder, fsync, rename over, fsync the folder."""
    import secrets

    tmp = f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd
    )
    try:
        os.fchmod(fd, _file_mode(dir_fd, path.name))
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def _remove_stale_temps(dir_fd: int, file_name: str = ANSWERS_FILE) -> None:
    """Delete temporary files left by a save that was killed. Call only under the lock."""
    prefix = f".{file_name}."
    for name in os.listdir(dir_fd):
        if name.startswith(prefix) and name.endswith(".tmp"):
            with contextlib.suppress(OSError):  # gone already, or not a file we made
                os.unlink(name, dir_fd=dir_fd)


def _file_mode(dir_fd: int, name: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual umask default."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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


class _Folders:
    """Documents kept one per folder in a workspace, with the same guarantees for each kind:
    a folder opened without following links, an ``flock``, atomic replaces, field-level
    merges with conflicts, and an append-only history read from its end.

    A subclass names its kind: the file, the id pattern, where its folders live
    (``subfolder``: ``None`` for folders directly in the workspace) and how a file is read.
    """

    noun = "document"
    file_name = ANSWERS_FILE
    id_pattern = PROJECT_ID_PATTERN
    id_example = "'early-help-predictor'"
    subfolder: str | None = None
    list_hint = ""
    id_field = "project"

    def __init__(
        self, root: Path | str | None = None, *, on_problem: Callable[[str], None] | None = None
    ) -> None:
        self.root = resolve_workspace(root)
        self.on_problem = on_problem
        self.problems: list[str] = []
        self._reported: set[tuple[str, int, int]] = set()
        self._line_numbers: dict[tuple[str, int, int], LineNumbers] = {}
        self._overflowed: set[tuple[str, int]] = set()

    # ---- what a subclass provides

    def _read(self, path: Path, dir_fd: int) -> Any:
        raise NotImplementedError

    def _validate_saved(self, data: dict[str, Any], path: Path) -> Any:
        raise NotImplementedError

    def _stamp(self, data: dict[str, Any], applied: list[Change], user: str, stamp: str) -> None:
        """Set the fields the store maintains itself on a save (none by default)."""

    # ---- paths

    @property
    def base(self) -> Path:
        """The folder holding this kind's document folders."""
        return self.root / self.subfolder if self.subfolder else self.root

    def document_dir(self, doc_id: str) -> Path:
        """The folder of ``doc_id``; refuses anything that could leave the workspace."""
        if not isinstance(doc_id, str) or not re.fullmatch(self.id_pattern, doc_id):
            raise UnsafeProjectId(
                f"{doc_id!r} is not a valid {self.noun} id: use lower-case letters, digits and "
                f"single hyphens (e.g. {self.id_example})",
                field=self.id_field,
            )
        folder = self.base / doc_id
        root = self.root.resolve()
        for path in (self.base, folder) if self.subfolder else (folder,):
            if path.is_symlink() or not path.resolve().is_relative_to(root):
                raise UnsafeProjectId(
                    f"{self.noun} {doc_id!r} points outside the workspace (a symbolic link?); "
                    "refusing to use it",
                    path=path,
                )
        return folder

    def document_path(self, doc_id: str) -> Path:
        path = self.document_dir(doc_id) / self.file_name
        if path.is_symlink() or not path.resolve().is_relative_to(self.root.resolve()):
            raise UnsafeProjectId(
                f"the {self.noun} file is a symbolic link; refusing to follow it", path=path
            )
        return path

    def history_path(self, doc_id: str) -> Path:
        return self.document_dir(doc_id) / HISTORY_FILE

    def _not_found(self, doc_id: str, path: Path) -> ProjectNotFound:
        hint = f"; {self.list_hint}" if self.list_hint else ""
        return ProjectNotFound(
            f"no {self.noun} {doc_id!r} in workspace {self.root}{hint}", path=path
        )

    @contextlib.contextmanager
    def _folder(self, doc_id: str, *, create: bool = False) -> Iterator[int]:
        """The document's folder, open as a descriptor (``create``: made if missing).

        Each folder on the way is opened by name from its parent without following a
        symbolic link, and files are then opened relative to it: nothing can redirect a read
        or a write outside the workspace, even by swapping a folder for a link mid-save.
        """
        folder = self.document_dir(doc_id)  # a safe id, and a clear error for a link
        try:
            fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        except FileNotFoundError:
            raise ProjectNotFound(
                f"no workspace folder {self.root}; create a project first", path=self.root
            ) from None
        except OSError as exc:
            raise _os_error(self.root, exc) from None
        parts = [self.subfolder, doc_id] if self.subfolder else [doc_id]
        try:
            for part in parts:
                try:
                    child = _open_subfolder(fd, part, create=create)
                except FileNotFoundError:
                    raise self._not_found(doc_id, folder) from None
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafeProjectId(
                            f"{self.noun} {doc_id!r} is not a folder (a symbolic link or a "
                            "file?); refusing to use it",
                            path=folder,
                        ) from None
                    raise _os_error(folder, exc) from None
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _locked(self, doc_id: str) -> Iterator[None]:
        """An exclusive ``flock`` on ``.lock`` (opened without following a symbolic link)."""
        path = self.document_dir(doc_id) / LOCK_FILE
        with self._folder(doc_id) as folder:
            fd = open_regular(path, os.O_RDWR | os.O_CREAT, dir_fd=folder)
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            pause = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ProjectBusy(
                            f"{self.noun} {doc_id!r} stayed locked by another save for "
                            f"{LOCK_TIMEOUT_S:.0f} s; try again",
                            path=self.document_dir(doc_id),
                        ) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def exists(self, doc_id: str) -> bool:
        return self.document_path(doc_id).is_file()

    def open(self, doc_id: str) -> Any:
        path = self.document_path(doc_id)
        if not os.path.lexists(path):
            raise self._not_found(doc_id, path)
        with self._folder(doc_id) as folder:
            return self._read(path, folder)

    def _write_new(self, doc_id: str, saved: Any, entry: dict[str, Any]) -> None:
        """Under the lock: the history line, then the file (a new document's first save)."""
        self._append_history(doc_id, [entry])
        with self._folder(doc_id) as folder_fd:
            _remove_stale_temps(folder_fd, self.file_name)
            _atomic_write(folder_fd, self.document_path(doc_id), writes(saved))

    def apply(
        self,
        doc_id: str,
        changes: list[Change],
        *,
        user: str,
        base_revision: int,
        rules: Sequence[Rule] = (),
        role: str = "",
    ) -> Any:
        """Apply field changes under the lock. The core of :meth:`save`.

        ``role`` is the role the user acted in (author, reviewer...), kept in each history
        line when given.

        Each of ``rules`` is called with the merged data and the changed paths before
        anything is written; a :class:`WorkbookError` it raises refuses the save.
        """
        path = self.document_path(doc_id)
        with self._locked(doc_id):
            current = self.open(doc_id)
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
                conflicts = self._who_changed(doc_id, conflicts, base_revision, current)
                self._append_history(
                    doc_id,
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
                            role=role,
                        )
                        for c in conflicts
                    ],
                )
                raise ConflictError(conflicts, path=path)
            if not applied:
                return current
            revision = current.revision + 1
            data["revision"] = revision
            self._stamp(data, applied, user, now.isoformat())
            saved = self._validate_saved(data, path)
            for rule in rules:
                try:
                    rule(data, [c.path for c in applied])
                except WorkbookError as exc:
                    exc.path = path
                    raise
            text = _encoded_within_limit(saved, path)
            # History first: a crash before the replace leaves lines for a revision that
            # never landed, which history() recognises and drops. The other order could
            # lose the record of a change that did land.
            self._append_history(
                doc_id,
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
                        role=role,
                    )
                    for c in applied
                ],
            )
            with self._folder(doc_id) as folder:
                _remove_stale_temps(folder, self.file_name)
                _atomic_write(folder, path, text)
            return saved

    # ---- history

    def history(self, doc_id: str) -> list[dict[str, Any]]:
        """The whole change history, oldest first, consistent with the answers file.

        Reads the whole file: prefer :meth:`iter_history`, which reads from the end and
        lets the caller stop. Skipped: damaged lines (each reported once, see
        :attr:`problems`), and the lines of a save that was killed after writing its
        history but before replacing the file (a later save reused its revision number,
        or the file never reached that revision).
        """
        entries = list(self.iter_history(doc_id))
        entries.reverse()
        return entries

    def iter_history(self, doc_id: str, *, on_disk: int | None = None) -> Iterator[dict[str, Any]]:
        """History entries newest first, read from the end of the file as they are needed.

        ``on_disk`` is the answers file's revision when the caller has it (else it is
        read). Landed changes ("created", "saved") come in non-increasing revision order,
        so a caller looking for changes after revision N can stop at the first one at or
        below N.
        """
        for _, entry in self.iter_history_lines(doc_id, on_disk=on_disk):
            yield entry

    def iter_history_lines(
        self, doc_id: str, *, on_disk: int | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Like :meth:`iter_history`, with each entry's byte offset in the file (for
        :meth:`report_history_problem`)."""
        path = self.history_path(doc_id)
        if not os.path.lexists(path):
            return
        if on_disk is None:
            try:
                on_disk = self.open(doc_id).revision
            except WorkbookError:
                on_disk = None
        with self._folder(doc_id) as folder:
            fd = open_regular(path, dir_fd=folder)
        try:
            size = os.fstat(fd).st_size
            keep = Consistency(on_disk)
            for offset, raw in lines_backward(fd, size):
                entry, reason = parse_line(raw)
                if entry is None:
                    self._report(path, fd, offset, reason or "unreadable")
                    continue
                if keep.keep(entry):
                    yield offset, entry
        finally:
            os.close(fd)

    def report_history_problem(self, doc_id: str, offset: int, reason: str) -> None:
        """Report (once) that the history line at byte ``offset`` could not be used."""
        path = self.history_path(doc_id)
        try:
            with self._folder(doc_id) as folder:
                fd = open_regular(path, dir_fd=folder)
        except WorkbookError:
            return
        try:
            self._report(path, fd, offset, reason)
        finally:
            os.close(fd)

    def _report(self, path: Path, fd: int, offset: int, reason: str) -> None:
        st = os.fstat(fd)
        key = (str(path), st.st_ino, offset)
        if key in self._reported:
            return
        file_key = (str(path), st.st_ino)
        if sum(1 for k in self._reported if k[:2] == file_key) >= MAX_REPORTED:
            if file_key in self._overflowed:
                return
            self._overflowed.add(file_key)
            message = (
                f"{path}: more than {MAX_REPORTED} damaged lines; the others are skipped too, "
                "without being listed"
            )
        else:
            self._reported.add(key)
            numbers = self._line_numbers.setdefault(
                (str(path), st.st_ino, st.st_mtime_ns), LineNumbers()
            )
            line = numbers(fd, offset)
            message = f"{path}: line {line}: {reason}; the line was skipped"
        self.problems.append(message)
        if self.on_problem is not None:
            self.on_problem(message)
        else:
            log.warning("%s", message)

    def _who_changed(
        self,
        doc_id: str,
        conflicts: list[Conflict],
        base_revision: int,
        current: Any,
    ) -> list[Conflict]:
        """Who last changed each conflicting field: reads back only to ``base_revision``."""
        wanted = {c.field for c in conflicts}
        last: dict[str, dict[str, Any]] = {}
        for entry in self.iter_history(doc_id, on_disk=current.revision):
            if entry["outcome"] not in {"saved", "created"}:
                continue
            if entry["revision"] <= base_revision:
                break
            if entry["path"] in wanted and entry["path"] not in last:
                last[entry["path"]] = entry
                if len(last) == len(wanted):
                    break
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

    def _append_history(self, doc_id: str, entries: list[dict[str, Any]]) -> None:
        path = self.history_path(doc_id)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        with self._folder(doc_id) as folder:
            fd = open_regular(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, dir_fd=folder)
        try:
            # A crash can leave a half-written last line; start ours on a fresh line.
            size = os.fstat(fd).st_size
            if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
                text = "\n" + text
            data = text.encode("utf-8")
            while data:
                written = os.write(fd, data)
                data = data[written:]
            os.fsync(fd)
        finally:
            os.close(fd)


class Store(_Folders):
    """The projects in one workspace folder.

    Every workspace file is opened with :func:`open_regular`: never through a symbolic
    link, never a FIFO or device. Damaged history lines are skipped; each is reported once
    per store, to ``on_problem`` (default: the ``workbook.store`` logger) and kept in
    :attr:`problems`, as one line naming the file and the line number.
    """

    noun = "project"
    file_name = ANSWERS_FILE
    list_hint = "run `workbook list` to see the projects there"

    def _read(self, path: Path, dir_fd: int) -> WorkbookBase:
        workbook = read_file(path, follow_symlinks=False, dir_fd=dir_fd)
        workbook._evidence = _evidence_hashes(path.parent, dir_fd)
        return workbook

    def _validate_saved(self, data: dict[str, Any], path: Path) -> WorkbookBase:
        workbook = _validate_change(data, path)
        with self._folder(path.parent.name) as folder:
            workbook._evidence = _evidence_hashes(path.parent, folder)
        return workbook

    def _stamp(self, data: dict[str, Any], applied: list[Change], user: str, stamp: str) -> None:
        for qid in {c.path.split(".")[1] for c in applied if c.path.startswith("answers.")}:
            data["answers"][qid]["updated_at"] = stamp
            data["answers"][qid]["updated_by"] = user

    def project_dir(self, project_id: str) -> Path:
        """The folder of ``project_id``; refuses anything that could leave the workspace."""
        return self.document_dir(project_id)

    def answers_path(self, project_id: str) -> Path:
        return self.document_path(project_id)

    def open(self, project_id: str) -> WorkbookBase:
        return super().open(project_id)  # type: ignore[no-any-return]

    # ---- create, open, list

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
        role: str = "",
        members: Sequence[str] = (),
    ) -> WorkbookBase:
        """Create a project (revision 1). The id is made from ``tool_name`` unless given.

        ``role`` is the role its creator acted in (kept in the history line); ``members``
        the people who may open it once roles are on."""
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
                **({"members": list(members)} if members else {}),
            )
            with self._folder(candidate, create=True):
                pass
            with self._locked(candidate):
                # Under the lock, so two creates cannot both win; a folder left without an
                # answers file by a crash mid-create is reused.
                if os.path.lexists(folder / ANSWERS_FILE):
                    if project_id is not None:
                        raise ProjectExists(
                            f"a project called {project_id!r} already exists; pick another id",
                            path=folder,
                        )
                    continue
                saved = draft.model_copy(update={"revision": 1})
                self._write_new(
                    candidate,
                    saved,
                    _entry(
                        user,
                        1,
                        "",
                        None,
                        saved.project.model_dump(mode="json"),
                        "created",
                        role=role,
                    ),
                )
            return saved
        raise ProjectExists("could not find a free project id", path=self.root)  # pragma: no cover

    def list(self) -> list[ProjectEntry]:
        """Every project folder in the workspace, sorted by id, each opened or with its error."""
        if not self.root.is_dir():
            return []
        entries = []
        try:
            children = sorted(self.root.iterdir())
        except OSError as exc:
            raise _os_error(self.root, exc) from None
        for child in children:
            if child.name.startswith(".") or not os.path.lexists(child / ANSWERS_FILE):
                continue
            try:
                entries.append(ProjectEntry(child.name, self.open(child.name)))
            except WorkbookError as exc:
                entries.append(ProjectEntry(child.name, None, exc))
        return entries

    # ---- save

    def save(
        self,
        workbook: WorkbookBase,
        *,
        base: WorkbookBase,
        user: str,
        rules: Sequence[Rule] = (),
        role: str = "",
    ) -> WorkbookBase:
        """Save ``workbook``, edited from ``base`` (the version the caller opened).

        Returns the saved workbook with its new revision. Fields changed by someone else
        since ``base`` are kept; a field both of you changed raises :class:`ConflictError`.
        """
        if workbook.project.id != base.project.id:
            raise WorkbookError("cannot save one project's edits onto another project")
        changes = diff(base.to_data(), workbook.to_data())
        return self.apply(
            base.project.id,
            changes,
            user=user,
            base_revision=base.revision,
            rules=rules,
            role=role,
        )

    # ---- evidence notebooks (the checks of their content are in workbook.evidence)

    def evidence_folder(self, project_id: str, question_id: str) -> Path:
        """``<project>/evidence/<question id>``: an evidence notebook runs in this folder."""
        _evidence_names(question_id)
        return self.project_dir(project_id) / EVIDENCE_FOLDER / question_id

    def evidence(self, project_id: str) -> dict[str, list[EvidenceFile]]:
        """The project's evidence notebooks, by question id, each sorted by name."""
        out: dict[str, list[EvidenceFile]] = {}
        with self._folder(project_id) as folder:
            for qid, files in _evidence_hashes(self.project_dir(project_id), folder).items():
                for name, digest in sorted(files.items()):
                    if "/" not in name:
                        out.setdefault(qid, []).append(
                            EvidenceFile(qid, name, digest, self.evidence_folder(project_id, qid))
                        )
        return out

    def evidence_hashes(self, project_id: str) -> dict[str, dict[str, str]]:
        """SHA-256 of every evidence file (notebooks and ``data/``), by question id."""
        with self._folder(project_id) as folder:
            return _evidence_hashes(self.project_dir(project_id), folder)

    def evidence_problems(self, project_id: str) -> list[dict[str, str]]:
        """What under ``evidence/`` is not used, and why: a symbolic link (which could lead
        out of the project), a file of another kind, or a name the store would not write.
        Each: ``{"question", "name", "reason"}``."""
        out: list[dict[str, str]] = []
        base = self.project_dir(project_id) / EVIDENCE_FOLDER
        if base.is_symlink():
            return [{"question": "", "name": EVIDENCE_FOLDER, "reason": _LINK_REASON}]
        if not base.is_dir():
            return out
        for qdir in sorted(base.iterdir()):
            if qdir.is_symlink() or not qdir.is_dir():
                out.append(
                    {
                        "question": qdir.name,
                        "name": "",
                        "reason": _LINK_REASON if qdir.is_symlink() else "not a question's folder",
                    }
                )
                continue
            for entry in sorted(qdir.iterdir()):
                if entry.name in (EVIDENCE_DATA, EVIDENCE_RUNS) or entry.name.startswith("."):
                    if entry.is_symlink():
                        out.append(
                            {"question": qdir.name, "name": entry.name, "reason": _LINK_REASON}
                        )
                    continue
                if entry.is_symlink():
                    reason = _LINK_REASON
                elif not entry.name.endswith(".ipynb"):
                    continue  # files the notebook wrote as it ran: not evidence, not harm
                elif not entry.is_file():
                    reason = "not a regular file"
                elif not EVIDENCE_NAME.fullmatch(entry.name):
                    reason = (
                        "its name is not one the workbook uses (lower-case letters, "
                        "digits, - and _); attach it again with `workbook evidence add`"
                    )
                else:
                    continue
                out.append({"question": qdir.name, "name": entry.name, "reason": reason})
        return out

    def read_evidence(self, project_id: str, question_id: str, name: str) -> bytes:
        """The bytes of an evidence notebook (``name``) or data file (``data/<file>``)."""
        parts = _evidence_names(question_id, name)
        path = self.evidence_folder(project_id, question_id) / name
        missing = ProjectNotFound(
            f"no evidence {name!r} for {question_id} in project {project_id!r}; "
            f"`workbook evidence list {project_id}` lists what there is",
            path=path,
        )
        try:
            with self._evidence_folder(project_id, parts[:-1]) as folder:
                return _read_bytes(Path(parts[-1]), False, folder, MAX_EVIDENCE_BYTES)
        except ProjectNotFound:
            raise missing from None
        except InvalidProjectFile:
            if not os.path.lexists(path):
                raise missing from None
            raise

    def add_evidence(
        self,
        project_id: str,
        question_id: str,
        name: str,
        notebook: bytes,
        data: dict[str, bytes] | None = None,
        *,
        user: str,
        role: str = "",
    ) -> EvidenceFile:
        """Save an evidence notebook (and its data files) for a question, replacing one of
        the same name; each file added or changed gets a history line naming ``user``."""
        _evidence_names(question_id, name)
        files = {name: notebook}
        for data_name, content in (data or {}).items():
            _evidence_names(question_id, f"{EVIDENCE_DATA}/{data_name}")
            files[f"{EVIDENCE_DATA}/{data_name}"] = content
        for file_name, content in files.items():
            if len(content) > MAX_EVIDENCE_BYTES:
                raise _too_big(len(content), file_name, MAX_EVIDENCE_BYTES, "an evidence file")
        import hashlib

        with self._locked(project_id):
            current = self.open(project_id)
            old = (current.evidence_hashes or {}).get(question_id, {})
            entries = []
            now = datetime.now(timezone.utc)
            for file_name, content in files.items():
                digest = hashlib.sha256(content).hexdigest()
                if old.get(file_name) == digest:
                    continue
                entries.append(
                    _entry(
                        user,
                        current.revision,
                        f"{EVIDENCE_FOLDER}.{question_id}.{file_name.replace('/', '.')}",
                        old.get(file_name),
                        digest,
                        "evidence",
                        time=now,
                        role=role,
                    )
                )
            if entries:
                self._append_history(project_id, entries)
            for file_name, content in files.items():
                parts = _evidence_names(question_id, file_name)
                with self._evidence_folder(project_id, parts[:-1], create=True) as folder:
                    _atomic_write(folder, Path(parts[-1]), content)
        return EvidenceFile(
            question_id,
            name,
            hashlib.sha256(notebook).hexdigest(),
            self.evidence_folder(project_id, question_id),
        )

    def remove_evidence(
        self, project_id: str, question_id: str, name: str, *, user: str, role: str = ""
    ) -> None:
        """Remove an evidence notebook and its last run (its data files stay)."""
        parts = _evidence_names(question_id, name)
        with self._locked(project_id):
            current = self.open(project_id)
            old = (current.evidence_hashes or {}).get(question_id, {}).get(name)
            if old is None:
                raise ProjectNotFound(
                    f"no evidence {name!r} for {question_id} in project {project_id!r}",
                    path=self.evidence_folder(project_id, question_id) / name,
                )
            self._append_history(
                project_id,
                [
                    _entry(
                        user,
                        current.revision,
                        f"{EVIDENCE_FOLDER}.{question_id}.{name}",
                        old,
                        None,
                        "evidence",
                        role=role,
                    )
                ],
            )
            with self._evidence_folder(project_id, parts[:-1]) as folder:
                os.unlink(parts[-1], dir_fd=folder)
                os.fsync(folder)
            with contextlib.suppress(ProjectNotFound, UnsafeProjectId, FileNotFoundError):
                with self._evidence_folder(project_id, [*parts[:-1], EVIDENCE_RUNS]) as runs:
                    os.unlink(f"{name}.json", dir_fd=runs)

    def save_evidence_run(
        self, project_id: str, question_id: str, name: str, record: dict[str, Any]
    ) -> None:
        """Keep an evidence notebook's last run (provenance and outputs, JSON)."""
        parts = _evidence_names(question_id, name)
        text = json.dumps(record, ensure_ascii=False, sort_keys=True)
        with self._locked(project_id):
            with self._evidence_folder(
                project_id, [*parts[:-1], EVIDENCE_RUNS], create=True
            ) as folder:
                _atomic_write(folder, Path(f"{name}.json"), text)

    def read_evidence_run(
        self, project_id: str, question_id: str, name: str
    ) -> dict[str, Any] | None:
        """An evidence notebook's last run, or None if it has not run (or it is unreadable)."""
        parts = _evidence_names(question_id, name)
        try:
            with self._evidence_folder(project_id, [*parts[:-1], EVIDENCE_RUNS]) as folder:
                raw = _read_bytes(Path(f"{name}.json"), False, folder)
        except (ProjectNotFound, FileNotFoundError):
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    @contextlib.contextmanager
    def _evidence_folder(
        self, project_id: str, parts: Sequence[str], *, create: bool = False
    ) -> Iterator[int]:
        """A folder under the project's ``evidence/``, each step opened without following
        a symbolic link (so nothing can redirect a write outside the project)."""
        where = self.project_dir(project_id)
        with self._folder(project_id) as project:
            fd = os.dup(project)
            try:
                for part in [EVIDENCE_FOLDER, *parts]:
                    where = where / part
                    try:
                        child = _open_subfolder(fd, part, create=create)
                    except FileNotFoundError:
                        raise ProjectNotFound(f"no folder {where}", path=where) from None
                    except OSError as exc:
                        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                            raise UnsafeProjectId(
                                "an evidence folder is a symbolic link or a file; refusing "
                                "to use it",
                                path=where,
                            ) from None
                        raise _os_error(where, exc) from None
                    os.close(fd)
                    fd = child
                yield fd
            finally:
                os.close(fd)


_LINK_REASON = (
    "a symbolic link, refused: evidence must be files inside the project folder; it was not run"
)


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence notebook: its question, file name, SHA-256 and folder."""

    question_id: str
    name: str
    sha256: str
    folder: Path


def _evidence_names(question_id: str, name: str | None = None) -> list[str]:
    """The folder parts under ``evidence/`` and the file name; refuses anything else."""
    if not isinstance(question_id, str) or not EVIDENCE_QUESTION.fullmatch(question_id):
        raise UnsafeProjectId(f"{question_id!r} is not a question id (q1 to q13)", field="question")
    if name is None:
        return [question_id]
    if name.startswith(f"{EVIDENCE_DATA}/"):
        data_name = name[len(EVIDENCE_DATA) + 1 :]
        if not EVIDENCE_DATA_NAME.fullmatch(data_name):
            raise UnsafeProjectId(
                f"{data_name!r} is not a usable data file name: letters, digits, - and _, "
                "then an extension (e.g. referrals.csv)",
                field="data",
            )
        return [question_id, EVIDENCE_DATA, data_name]
    if not EVIDENCE_NAME.fullmatch(name):
        raise UnsafeProjectId(
            f"{name!r} is not a usable evidence notebook name: lower-case letters, digits, "
            "- and _, ending .ipynb (e.g. error-rates-by-group.ipynb)",
            field="notebook",
        )
    return [question_id, name]


def _evidence_hashes(project: Path, dir_fd: int) -> dict[str, dict[str, str]]:
    """SHA-256 of the regular files in ``evidence/<q>/`` and ``evidence/<q>/data/``.

    Nothing is followed: a symbolic link, or any other kind of file, is left out, as is a
    file whose name the store would not have written."""
    import hashlib

    out: dict[str, dict[str, str]] = {}
    try:
        top = _open_subfolder(dir_fd, EVIDENCE_FOLDER)
    except (FileNotFoundError, NotADirectoryError):
        return out
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return out
        raise _os_error(project / EVIDENCE_FOLDER, exc) from None

    def files(fd: int, prefix: str, pattern: re.Pattern[str]) -> Iterator[tuple[str, str]]:
        for entry in sorted(os.listdir(fd)):
            if not pattern.fullmatch(entry):
                continue
            try:
                raw = _read_bytes(Path(entry), False, fd, MAX_EVIDENCE_BYTES)
            except WorkbookError:
                continue  # a link, a FIFO, a folder or too big: not evidence
            yield prefix + entry, hashlib.sha256(raw).hexdigest()

    def sub(fd: int, name: str) -> int | None:
        try:
            return _open_subfolder(fd, name)
        except OSError:
            return None

    try:
        for qid in sorted(os.listdir(top)):
            if not EVIDENCE_QUESTION.fullmatch(qid):
                continue
            qfd = sub(top, qid)
            if qfd is None:
                continue
            try:
                found = dict(files(qfd, "", EVIDENCE_NAME))
                if found:
                    dfd = sub(qfd, EVIDENCE_DATA)
                    if dfd is not None:
                        try:
                            found.update(files(dfd, f"{EVIDENCE_DATA}/", EVIDENCE_DATA_NAME))
                        finally:
                            os.close(dfd)
                    out[qid] = found
            finally:
                os.close(qfd)
    finally:
        os.close(top)
    return out


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
    role: str = "",
) -> dict[str, Any]:
    entry = {
        "time": (time or datetime.now(timezone.utc)).isoformat(),
        "user": user,
        **({"role": role} if role else {}),
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


# --------------------------------------------------------------------------- maturity


def read_assessment(
    path: Path | str,
    *,
    follow_symlinks: bool = True,
    dir_fd: int | None = None,
    model_dirs: Sequence[Path] = (),
) -> Assessment:
    """Read and validate a maturity assessment file (read-only); errors name file and field.
    ``model_dirs``: folders with a workspace's own maturity models."""
    path = Path(path)
    data = _json_object(_read_bytes(path, follow_symlinks, dir_fd), path)
    version = data.get("schema_version")
    if version != ASSESSMENT_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"schema_version {version!r} is not one this version of the workbook reads "
            f"({ASSESSMENT_SCHEMA_VERSION}); upgrade ethics-workbook to open it",
            path=path,
            field="schema_version",
        )
    return _assessment(data, path, prefix="", model_dirs=model_dirs)


def _assessment(
    data: dict[str, Any], path: Path, *, prefix: str, model_dirs: Sequence[Path] = ()
) -> Assessment:
    try:
        return Assessment.model_validate(data, context={"model_dirs": tuple(model_dirs)})
    except ValidationError as exc:
        field, message = describe_assessment_error(exc)
        error = InvalidProjectFile if not prefix else WorkbookError
        raise error(f"{prefix}{message}", path=path, field=field) from None
    except RecursionError:
        raise InvalidProjectFile("nested far too deeply", path=path) from None


def _leaf_paths(change: Change) -> list[str]:
    """The dotted paths of the fields ``change`` alters (itself when it is not one mapping
    replacing another). Its ``old`` is what is on disk whenever the change is applied."""
    if isinstance(change.old, dict) and isinstance(change.new, dict):
        inner: list[Change] = []
        _diff_into(inner, change.path, change.old, change.new)
        return [c.path for c in inner] or [change.path]
    return [change.path]


@dataclass(frozen=True)
class AssessmentEntry:
    """A row of :meth:`AssessmentStore.list`: the assessment, or why it could not be read."""

    id: str
    assessment: Assessment | None
    error: WorkbookError | None = None


class AssessmentStore(_Folders):
    """The local authorities' maturity assessments in one workspace (``_maturity/<id>/``).

    Saved as projects are: locked, atomic, revisioned, merged field by field (two people
    rating different components both land; the same field from a stale base is a
    conflict), with a history. The rules of rounds live in ``workbook.maturity``.
    """

    noun = "maturity assessment"
    file_name = ASSESSMENT_FILE
    subfolder = AUTHORITIES_FOLDER
    id_example = "'northshire-council'"
    id_field = "authority"
    list_hint = "run `workbook maturity --list` to see the authorities there"

    @property
    def model_dirs(self) -> tuple[Path, ...]:
        """The workspace's own maturity models (``maturity-models/*.yaml``), if it has any."""
        folder = self.root / MODELS_FOLDER
        return (folder,) if folder.is_dir() and not folder.is_symlink() else ()

    def _read(self, path: Path, dir_fd: int) -> Assessment:
        return read_assessment(
            path, follow_symlinks=False, dir_fd=dir_fd, model_dirs=self.model_dirs
        )

    def _validate_saved(self, data: dict[str, Any], path: Path) -> Assessment:
        return _assessment(data, path, prefix="not saved: ", model_dirs=self.model_dirs)

    def open(self, authority_id: str) -> Assessment:
        return super().open(authority_id)  # type: ignore[no-any-return]

    def apply(
        self, doc_id: str, changes: list[Change], *, rules: Sequence[Rule] = (), **kw: Any
    ) -> Assessment:
        """As :meth:`_Folders.apply`, but the rules see every field a change touches: a
        change replacing a whole mapping (``rounds.1``, ``rounds``) is shown to them as the
        fields in it that differ, so replacing a closed round wholesale cannot step round
        the rule that freezes it."""
        leaves = {c.path: _leaf_paths(c) for c in changes}

        def seeing_leaves(rule: Rule) -> Rule:
            def check(data: dict[str, Any], paths: list[str]) -> None:
                rule(data, [leaf for p in paths for leaf in leaves.get(p, [p])])

            return check

        wrapped = [seeing_leaves(rule) for rule in rules]
        return super().apply(doc_id, changes, rules=wrapped, **kw)  # type: ignore[no-any-return]

    def create(
        self, name: str, *, user: str, authority_id: str | None = None, role: str = "", **kw: Any
    ) -> Assessment:
        """Start the assessment of authority ``name`` (round 1 open, revision 1).

        The id is made from the name unless given; an assessment for that id already there
        is an error (nothing is overwritten)."""
        from slugify import slugify

        if authority_id is None:
            authority_id = slugify(name, max_length=60, word_boundary=True)
            if not authority_id:
                raise WorkbookError(
                    f"{name!r} has no letters or digits to make an id from; give the id",
                    field="authority",
                )
        self.document_dir(authority_id)  # refuses an id that would leave the workspace
        try:
            draft = new_assessment(
                authority_id=authority_id,
                name=name,
                created_by=user,
                model_dirs=self.model_dirs,
                **kw,
            )
        except ValidationError as exc:
            field, message = describe_assessment_error(exc)
            raise WorkbookError(message, field=field) from None
        self.root.mkdir(parents=True, exist_ok=True)
        with self._folder(authority_id, create=True):
            pass
        with self._locked(authority_id):
            if os.path.lexists(self.document_path(authority_id)):
                raise ProjectExists(
                    f"{name!r} already has a maturity assessment ({authority_id!r}); open it "
                    "instead of starting another",
                    path=self.document_dir(authority_id),
                )
            saved = draft.model_copy(update={"revision": 1})
            self._write_new(
                authority_id,
                saved,
                _entry(user, 1, "", None, saved.authority.model_dump(mode="json"), "created",
                       role=role),
            )  # fmt: skip
        return saved

    def list(self) -> list[AssessmentEntry]:
        """Every authority's assessment, sorted by id, each opened or with its error."""
        if not self.base.is_dir() or self.base.is_symlink():
            return []
        entries = []
        try:
            children = sorted(self.base.iterdir())
        except OSError as exc:
            raise _os_error(self.base, exc) from None
        for child in children:
            if child.name.startswith(".") or not os.path.lexists(child / ASSESSMENT_FILE):
                continue
            try:
                entries.append(AssessmentEntry(child.name, self.open(child.name)))
            except WorkbookError as exc:
                entries.append(AssessmentEntry(child.name, None, exc))
        return entries
