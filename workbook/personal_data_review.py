"""Personal-data warnings on a project: which are open, dismissing one, and where they are.

:mod:`workbook.personal_data` finds text that looks like a child's personal data. Here a
project's findings are weighed against the warnings people have dismissed: a dismissal
says "this text of this field is not personal data (or may stay), because ...". It is
kept in the answers file (``personal_data.dismissed.<key>``: the field's path, the
SHA-256 of its text then, the findings it covers as kind and position, the reason, who
and when), saved through the store, so the history records it like any change. Never the
matched text.

A dismissal holds only while the field's text is the same: once the text changes, it is
scanned afresh and every finding in it is open again. A finding is *open* when no
dismissal of that field, for that same text, covers it.

The export and the transparency record (:func:`require_no_open_findings`) refuse while a
project has open findings. Errors and logs name the field, the kind and the position,
never the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError
from workbook.personal_data import (
    KINDS,
    FieldFinding,
    Finding,
    _checked_case_patterns,
    scan_text,
    text_fields,
    text_fingerprint,
)
from workbook.roles import Action, Actor, as_actor

DISMISSED = "personal_data.dismissed"
"""Where dismissals are kept in the answers file: ``personal_data.dismissed.<key>``."""

SCAN_HINT = "`workbook scan {project}` lists them"


def case_patterns_for(workspace: Path | str | None) -> tuple[str, ...]:
    """The workspace's local case-reference patterns (``settings.yaml``,
    ``case_reference_patterns``); none without a workspace. A bad pattern raises
    :class:`~workbook.settings.SettingsError` naming the file and the setting."""
    if workspace is None:
        return ()
    from workbook.settings import load_settings

    return load_settings(workspace).case_reference_patterns


def dismissal_key(path: str, fingerprint: str, findings: Iterable[Finding | FieldFinding]) -> str:
    """The short key of a dismissal: a hash of the field, its text's fingerprint and the
    findings it covers (so dismissing one finding, then another, of the same text keeps
    both, each with its reason)."""
    spans = sorted((f.start, f.end, f.kind) for f in findings)
    text = "\0".join([path, fingerprint, *(f"{s}:{e}:{k}" for s, e, k in spans)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- which are open


@dataclass(frozen=True)
class ProjectFindings:
    """A project's findings, split into those still open and those dismissed."""

    open: tuple[FieldFinding, ...]
    dismissed: tuple[FieldFinding, ...]
    fingerprints: dict[str, str] = field(repr=False)
    """The fingerprint of each scanned field's text (path -> SHA-256), for a dismissal."""

    @property
    def open_paths(self) -> list[str]:
        """The fields with open findings, each once, in the order they were scanned."""
        return list(dict.fromkeys(f.path for f in self.open))


def project_findings(
    workbook: Any, case_patterns: Sequence[str] = (), *, paths: Iterable[str] | None = None
) -> ProjectFindings:
    """Every finding in the project's free-text fields (only ``paths`` and the fields under
    them, when given: ``answers.q1`` is all of question 1's), split into open and
    dismissed. A field's text is scanned once for each fingerprint (and set
    of case patterns) in this process, so scanning again after a save looks only at the
    fields that changed."""
    patterns = _checked_case_patterns(case_patterns)
    data = workbook if isinstance(workbook, dict) else workbook.to_data()
    wanted = tuple(paths) if paths is not None else None
    covered = _dismissed_spans(data)
    open_, dismissed = [], []
    fingerprints: dict[str, str] = {}
    for path, text in text_fields(data):
        if wanted is not None and not any(path == w or path.startswith(f"{w}.") for w in wanted):
            continue
        fingerprint = text_fingerprint(text)
        fingerprints[path] = fingerprint
        done = covered.get((path, fingerprint), frozenset())
        for f in _scan(text, fingerprint, patterns):
            found = FieldFinding(path, f.kind, f.start, f.end)
            (dismissed if (f.kind, f.start, f.end) in done else open_).append(found)
    return ProjectFindings(tuple(open_), tuple(dismissed), fingerprints)


def open_findings(
    workbook: Any, case_patterns: Sequence[str] = (), *, paths: Iterable[str] | None = None
) -> list[FieldFinding]:
    """The project's findings that nobody has dismissed for the text as it is now, field
    by field (see :data:`workbook.personal_data.TEXT_FIELDS`), each in order of position.
    ``paths`` limits the scan to those fields and the fields under them (after a save,
    the fields saved; ``answers.q1`` for all of question 1's)."""
    return list(project_findings(workbook, case_patterns, paths=paths).open)


def _dismissed_spans(data: dict[str, Any]) -> dict[tuple[str, str], frozenset[tuple]]:
    """(path, fingerprint) -> the (kind, start, end) of each finding dismissed there."""
    out: dict[tuple[str, str], set[tuple]] = {}
    section = (data.get("personal_data") or {}).get("dismissed") or {}
    for record in section.values():
        spans = out.setdefault((record["path"], record["fingerprint"]), set())
        spans.update((f["kind"], f["start"], f["end"]) for f in record["findings"])
    return {k: frozenset(v) for k, v in out.items()}


_scanned: dict[tuple[str, tuple[str, ...]], tuple[Finding, ...]] = {}
_MAX_SCANNED = 32_768
"""Fields scanned in this process, by (fingerprint, case patterns): a hash and a few
positions per field, never the text. Emptied when full."""


def _scan(text: str, fingerprint: str, patterns: tuple[str, ...]) -> tuple[Finding, ...]:
    key = (fingerprint, patterns)
    found = _scanned.get(key)
    if found is None:
        found = tuple(scan_text(text, patterns))
        if len(_scanned) >= _MAX_SCANNED:
            _scanned.clear()
        _scanned[key] = found
    return found


# --------------------------------------------------------------------------- where


def field_location(path: str, workbook: Any = None, bank: Any = None) -> str:
    """A plain-language name for a free-text field (``Question 1: your answer``), made of
    the question bank's and the packaged content's words and the field's position, never
    of text people typed (a risk's title, a comment). ``workbook`` lets a comment be
    named by what it is on, and a risk by its number in the register."""
    from workbook.bank import load_bank

    bank = bank or load_bank()
    parts = path.split(".")
    try:
        return _location(parts, workbook, bank) or bank.field_label(path)
    except (KeyError, IndexError, StopIteration, ValueError, AttributeError):
        return bank.field_label(path)


def risk_number(risk_id: str, workbook: Any) -> str | None:
    """``R2``: the risk's number as the register, the app and the documents show it
    (highest remaining risk first), or None."""
    register = getattr(workbook, "risks", None)
    if register is None:
        return None
    from workbook.risks import risk_rows

    ids = [row.id for row in risk_rows(register)]
    return f"R{ids.index(risk_id) + 1}" if risk_id in ids else None


def _location(parts: list[str], workbook: Any, bank: Any) -> str | None:
    head = parts[0]
    if head == "answers" and len(parts) >= 3:
        q = f"Question {bank.question(parts[1]).number}"
        if parts[2] == "informed_by":
            return f"{q}: note on whose views informed it"
        if parts[2] in ("evidence", "further_work") and len(parts) == 5:
            what = "evidence" if parts[2] == "evidence" else "further-work action"
            return f"{q}: {what} {int(parts[3]) + 1}, {parts[4].replace('_', ' ')}"
        return None  # the bank's own label
    if head == "phases" and len(parts) == 5 and parts[2] == "checklist":
        phase = bank.phase(parts[1])
        item = next(i for i in phase.checklist if i.id == parts[3])
        return f"{phase.title} checklist: note on \u201c{item.text}\u201d"
    if head == "review" and parts[1] == "threads":
        thread = workbook.review.threads.get(parts[2]) if workbook is not None else None
        on = ""
        if thread is not None:
            from workbook.review import target_label

            # A risk is named by the register, not by its title (typed text).
            target = thread.target
            on = " on " + ("a risk" if target.startswith("risk.") else target_label(target, bank))
        if len(parts) == 6 and parts[3] == "replies":
            return f"Reply to a comment{on}"
        return f"Comment{on}"
    if head == "review" and parts[1] == "signoffs":
        return f"Sign-off of the {bank.phase(parts[2]).title}: conditions"
    if head == "risks" and parts[1] == "items":
        number = (risk_number(parts[2], workbook) if workbook is not None else None) or "a risk"
        rest = ", ".join(p.replace("_", " ") for p in parts[3:] if not p.isdigit())
        if len(parts) == 6:  # a mitigation
            rest = f"mitigation {int(parts[4]) + 1}"
        return f"Risk register: {number}, {rest}"
    if head == "risks" and parts[1] == "considered":
        from workbook.risk_content import load_risk_content

        name = load_risk_content().category(parts[2]).name
        return f"Risk register: why {name} was found not relevant"
    if head == "transparency":
        from workbook.atrs_content import load_atrs

        name = next(f.name for f in load_atrs().fields if f.id == parts[2])
        if parts[-1] == "reason":
            return f"Transparency record: {name}, reason it is withheld"
        return f"Transparency record: {name}, public wording"
    if head == "personal_data":
        return "A dismissed personal-data warning: its reason"
    return None


def location(finding: FieldFinding, workbook: Any = None, bank: Any = None) -> str:
    """Where a finding is, in words: ``Question 1: your answer, characters 31–43``
    (counted from 1, as a person counts)."""
    where = field_location(finding.path, workbook, bank)
    return f"{where}, characters {finding.start + 1}\u2013{finding.end}"


def kinds_text(findings: Iterable[FieldFinding | Finding]) -> str:
    """``looks like a date of birth, an NHS number and a UK postcode`` (each kind once, in
    the order found)."""
    names = [KINDS[k] for k in dict.fromkeys(f.kind for f in findings)]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"looks like {listed}"


def field_lines(findings: Sequence[FieldFinding], workbook: Any = None) -> list[str]:
    """One line per field with open findings: its path, where that is in words, and what
    it looks like. No text from the field."""
    by_path: dict[str, list[FieldFinding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    return [
        f"{path} ({field_location(path, workbook)}): {kinds_text(found)}"
        for path, found in by_path.items()
    ]


# --------------------------------------------------------------------------- refusing


class PersonalDataFound(WorkbookError):
    """A project has personal-data warnings nobody has dismissed. The message has one line
    per field, never the text."""

    def __init__(
        self,
        project_id: str,
        findings: Sequence[FieldFinding],
        *,
        refused: str,
        way_out: str = "",
        workbook: Any = None,
        **kw: Any,
    ) -> None:
        self.findings = list(findings)
        self.project_id = project_id
        lines = field_lines(self.findings, workbook)
        n, fields = len(self.findings), len(lines)
        super().__init__(
            f"{refused}: {n} thing{'s' if n != 1 else ''} in {project_id} "
            f"look{'s' if n == 1 else ''} like personal data, in "
            f"{'this field' if fields == 1 else f'these {fields} fields'}:\n"
            + "\n".join(f"  {line}" for line in lines)
            + "\nChange the text, or dismiss the warnings with a reason (`workbook dismiss "
            f"{project_id} FIELD --reason TEXT`){way_out}.",
            **kw,
        )


def require_no_open_findings(
    workbook: Any,
    case_patterns: Sequence[str] = (),
    *,
    refused: str,
    way_out: str = "",
    path: Path | str | None = None,
) -> None:
    """Raise :class:`PersonalDataFound` if the project has open findings. ``refused`` says
    what is refused (``not exported``), ``way_out`` how else to go on (``, or pass
    --allow-personal-data``)."""
    found = open_findings(workbook, case_patterns)
    if found:
        raise PersonalDataFound(
            workbook.project.id,
            found,
            refused=refused,
            way_out=way_out,
            workbook=workbook,
            path=path,
        )


# --------------------------------------------------------------------------- dismissing

_UNSET: Any = object()


def dismiss(
    store: Any,
    project_id: str,
    path: str,
    reason: str,
    *,
    user: str | Actor,
    findings: Sequence[FieldFinding | Finding] | None = None,
    fingerprint: str | None = None,
    case_patterns: Sequence[str] | Any = _UNSET,
) -> Any:
    """Dismiss the open personal-data warnings of field ``path`` (all of them, or only
    ``findings``), because of ``reason``: saved through the store, so the history records
    who, when, in what role and why. Returns the saved workbook.

    ``fingerprint`` is that of the text the person was shown (see
    :attr:`ProjectFindings.fingerprints`): if the text has changed since, nothing is saved
    and the error says to look again. ``case_patterns`` default to the workspace's.

    Refused: an empty reason, a reason that itself looks like personal data, a field with
    no open warnings, a finding that is not open there; with roles on, anyone but an
    author who is a member of the project.
    """
    from workbook.model import MAX_SHORT_TEXT
    from workbook.review import SAVE_RULES
    from workbook.store import Change

    actor = as_actor(user)
    role = actor.require(Action.edit)
    current = store.open(project_id)
    actor.require_member(project_id, current.project.members)
    answers = store.answers_path(project_id)
    hint = SCAN_HINT.format(project=project_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise WorkbookError(
            "give the reason these warnings may stay (for example: a made-up example, or "
            "the council's switchboard number)",
            path=answers,
            field="reason",
        )
    if len(reason) > MAX_SHORT_TEXT:
        raise WorkbookError(
            f"the reason is longer than {MAX_SHORT_TEXT:,} characters; keep it short",
            path=answers,
            field="reason",
        )
    if case_patterns is _UNSET:
        case_patterns = case_patterns_for(store.root)
    patterns = _checked_case_patterns(case_patterns)
    in_reason = scan_text(reason, patterns)
    if in_reason:
        raise WorkbookError(
            f"the reason itself {kinds_text(in_reason)}; write it without personal data",
            path=answers,
            field="reason",
        )
    state = project_findings(current, patterns, paths=[path])
    where = field_location(path, current)
    if path not in state.fingerprints:
        raise WorkbookError(
            f"no text to check in {where}: name a field with warnings ({hint})",
            path=answers,
            field=path,
        )
    now_fingerprint = state.fingerprints[path]
    if fingerprint is not None and fingerprint != now_fingerprint:
        raise WorkbookError(
            f"{where} has changed since its warnings were shown; look at it again",
            path=answers,
            field=path,
        )
    open_here = [f for f in state.open if f.path == path]
    if not open_here:
        done = any(f.path == path for f in state.dismissed)
        already = "its warnings are dismissed already" if done else "it has none"
        raise WorkbookError(
            f"no personal-data warnings to dismiss in {where}: {already} ({hint})",
            path=answers,
            field=path,
        )
    if findings is not None:
        spans = {(f.kind, f.start, f.end) for f in open_here}
        chosen = [FieldFinding(path, f.kind, f.start, f.end) for f in findings]
        stray = [f for f in chosen if (f.kind, f.start, f.end) not in spans]
        if stray or not chosen:
            what = location(stray[0], current) if stray else "nothing was chosen"
            raise WorkbookError(
                f"not an open warning of {where}: {what} ({hint})", path=answers, field=path
            )
        open_here = list(dict.fromkeys(chosen))
    key = dismissal_key(path, now_fingerprint, open_here)
    record = {
        "path": path,
        "fingerprint": now_fingerprint,
        "findings": [{"kind": f.kind, "start": f.start, "end": f.end} for f in open_here],
        "reason": reason,
        "by": actor.name,
        "at": datetime.now(timezone.utc).isoformat(),
    }
    return store.apply(
        project_id,
        [Change(f"{DISMISSED}.{key}", None, record)],
        user=actor.name,
        base_revision=current.revision,
        rules=SAVE_RULES,
        role=role if actor.enforced else "",
    )


def dismissal_text(record: dict[str, Any], workbook: Any = None) -> str:
    """A history line for a dismissal: ``Dismissed 3 personal-data warnings on Question 1:
    your answer (looks like ...): <reason>``."""
    findings = [Finding(**f) for f in record.get("findings", [])]
    n = len(findings)
    return (
        f"Dismissed {n} personal-data warning{'s' if n != 1 else ''} on "
        f"{field_location(str(record.get('path', '')), workbook)} ({kinds_text(findings)}): "
        f"{record.get('reason', '')}"
    )
