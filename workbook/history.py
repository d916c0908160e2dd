"""Reading ``history.jsonl``: from the end, tolerant of damage, without reading it all.

The history is an append-only file, one JSON object per line, oldest first. Every
question the app asks of it is about the *recent* end: the last person to change a field
(a conflicting save), the changes since a sign-off, the values before revision N (a
restore), the latest page of the log. So the file is read **backwards**, in 64 KiB blocks
from its end, and the reader stops as soon as the caller has what it needs. The cost is
linear in the lines read, not in the length of the history: a conflict check reads only
the lines written since the saver's base revision, a restore only those after the
revision restored. No index or snapshot is kept, so there is nothing that can go stale
and nothing to repair; the answers file itself is the snapshot everything is rebuilt from.

Damage never stops a reader. A line that is not UTF-8 (or was cut inside a multi-byte
character), is not JSON, or is JSON of the wrong shape is skipped and reported once, as
``<file>: line N: <what is wrong>; the line was skipped``. Its line number is counted only
when a bad line is met (newline bytes are counted from the previous bad line, or the
start), so the common case never pays for it. Past ``MAX_REPORTED`` bad lines in one file
the rest are skipped with one summary line, so a file of garbage cannot flood the output.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from workbook.model import MAX_REVISION

BLOCK_BYTES = 64 * 1024
MAX_REPORTED = 20
"""Bad lines reported one by one per history file; any more are summed up in one line."""
OUTCOMES = frozenset({"created", "saved", "conflict", "evidence"})
"""``evidence``: an evidence notebook or data file added, changed or removed (its path is
``evidence.<question>.<file>``; old and new are SHA-256 hashes). It changes no field."""
LANDED = frozenset({"created", "saved"})
MAX_META_CHARS = 1_000
_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def is_revision(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_REVISION


def problem_with(entry: Any) -> str | None:
    """Why a parsed history line cannot be used, or None when it is well formed."""
    if not isinstance(entry, dict):
        return f"expected a JSON object, found {type(entry).__name__}"
    outcome = entry.get("outcome")
    if outcome not in OUTCOMES:
        return "no known 'outcome' (created, saved, conflict or evidence)"
    if not is_revision(entry.get("revision")):
        return "'revision' is not a whole number between 0 and 1,000,000,000"
    if "base_revision" in entry and not is_revision(entry["base_revision"]):
        return "'base_revision' is not a whole number between 0 and 1,000,000,000"
    user = entry.get("user")
    if not isinstance(user, str) or len(user) > MAX_META_CHARS:
        return "'user' is not a short text"
    time = entry.get("time")
    if not isinstance(time, str) or len(time) > 64:
        return "'time' is not a date and time"
    try:
        datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return "'time' is not a date and time"
    path = entry.get("path")
    if not isinstance(path, str) or len(path) > MAX_META_CHARS:
        return "'path' is not a field path"
    if outcome != "created" and not (_PATH.fullmatch(path) and "." in path):
        return "'path' is not a field path"
    return None


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(entry, None)`` for a good line, ``(None, reason)`` for a bad one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (bad byte at column {exc.start + 1}; a line cut short?)"
    try:
        entry = json.loads(text)
    except RecursionError:
        return None, "JSON nested far too deeply"
    except ValueError as exc:
        where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return None, f"not valid JSON{where} (a line cut short or edited by hand?)"
    reason = problem_with(entry)
    return (None, reason) if reason else (entry, None)


def lines_backward(fd: int, size: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` pairs from the last line of the first ``size`` bytes to the first.

    Blank lines are left out. Reads ``BLOCK_BYTES`` at a time with ``pread``.
    """
    pos = size
    tail = b""
    while pos > 0:
        n = min(BLOCK_BYTES, pos)
        pos -= n
        buf = os.pread(fd, n, pos) + tail
        pieces = buf.split(b"\n")
        end = pos + len(buf)
        for piece in reversed(pieces[1:]):
            start = end - len(piece)
            if piece.strip():
                yield start, piece
            end = start - 1
        tail = pieces[0]
    if tail.strip():
        yield 0, tail


def count_newlines(fd: int, start: int, end: int) -> int:
    """Newline bytes in ``[start, end)`` of the file."""
    count = 0
    pos = start
    while pos < end:
        chunk = os.pread(fd, min(1024 * 1024, end - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count


def line_number(fd: int, offset: int) -> int:
    """The 1-based number of the line starting at byte ``offset`` (counts newline bytes)."""
    return count_newlines(fd, 0, offset) + 1


class LineNumbers:
    """Line numbers for byte offsets of one file, counted from the last one asked for.

    A backward reader meets bad lines at falling offsets, so each count covers only the
    gap since the previous one: all the numbers together cost one pass over the file.
    """

    def __init__(self) -> None:
        self.mark: tuple[int, int] = (0, 1)  # (offset, line number)

    def __call__(self, fd: int, offset: int) -> int:
        known, line = self.mark
        if offset >= known:
            line += count_newlines(fd, known, offset)
        else:
            line -= count_newlines(fd, offset, known)
        self.mark = (offset, line)
        return line


class Consistency:
    """Drops, reading backwards, the lines of saves that never landed.

    A save writes its history lines, then replaces the answers file. Killed in between,
    it leaves lines for a revision the file never reached (dropped: revision above the
    file's) or that a later save reused (dropped: a later line of a landed change has the
    same or a lower revision and another timestamp). The rule is the one a forward reader
    applies -- a landed line survives unless a later landed line has a revision at or
    below its own with a different (revision, time) -- evaluated from the end.
    """

    def __init__(self, on_disk: int | None) -> None:
        self.on_disk = on_disk
        self.min_rev: int | None = None
        self.min_keys: set[tuple[int, str]] = set()

    def keep(self, entry: dict[str, Any]) -> bool:
        if entry["outcome"] not in LANDED:
            return True
        rev = entry["revision"]
        key = (rev, entry["time"])
        if self.min_rev is None or rev < self.min_rev:
            survives = True
        elif rev == self.min_rev:
            survives = self.min_keys == {key}
        else:
            survives = False
        if self.min_rev is None or rev < self.min_rev:
            self.min_rev, self.min_keys = rev, {key}
        elif rev == self.min_rev:
            self.min_keys.add(key)
        return survives and (self.on_disk is None or rev <= self.on_disk)
