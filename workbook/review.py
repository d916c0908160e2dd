"""Oversight review: comment threads, per-phase sign-off, change history and the action plan.

The data lives in the answers file (``review.threads`` and ``review.signoffs``) and every
change goes through :meth:`workbook.store.Store.apply`, so comments, resolutions and
sign-offs are revisions with history lines like any answer.

A sign-off records the revision the reviewer read and a fingerprint of the phase's content
(answers and checklist) at that revision. The sign-off is *out of date* as soon as the
phase's content no longer matches the fingerprint: the app and the exports then say
"changed since revision N".

Pure functions take a workbook (or its JSON data); the few that change a project take a
:class:`~workbook.store.Store` and return the saved workbook.
"""

from __future__ import annotations

import copy
import csv
import difflib
import hashlib
import html
import io
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal

from workbook.bank import Bank, load_bank
from workbook.errors import WorkbookError
from workbook.model import (
    CHECKLIST_STATUS_LABELS,
    QUESTION_STATUS_LABELS,
    ChecklistStatus,
    CommentKind,
    Decision,
    QuestionStatus,
    SignOff,
    WorkbookBase,
)
from workbook.progress import phase_progress
from workbook.roles import Action, Actor, as_actor
from workbook.store import Change, Store, get_path

# --------------------------------------------------------------------------- errors


class SignOffRefused(WorkbookError):
    """A phase cannot be approved while it has unresolved challenges."""

    def __init__(self, phase_id: str, blockers: list[tuple[str, str]], **kw: Any) -> None:
        self.phase_id = phase_id
        self.blockers = blockers  # (thread id, "Question 7: <text>")
        listed = "; ".join(label for _, label in blockers[:5])
        more = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
        super().__init__(
            f"the {phase_id} phase cannot be signed off while {len(blockers)} challenge"
            f"{' is' if len(blockers) == 1 else 's are'} unresolved: {listed}{more}. "
            "Resolve them first (or record 'not approved')",
            field=f"review.signoffs.{phase_id}",
            **kw,
        )


class IncompleteApproval(WorkbookError):
    """Approving a phase whose questions are not all complete needs an explicit confirmation
    naming how many are incomplete (``sign_off(..., confirm_incomplete=N)``)."""

    def __init__(self, phase_title: str, incomplete: int, total: int, **kw: Any) -> None:
        self.incomplete = incomplete
        self.total = total
        super().__init__(
            f"{incomplete} of the {total} questions in the {phase_title} "
            f"{'is' if incomplete == 1 else 'are'} not complete: confirm that you approve it "
            "anyway, and the sign-off will say so",
            field="confirm_incomplete",
            **kw,
        )


class ResolveRefused(WorkbookError):
    """A challenge is resolved by a reviewer or by whoever raised it; anyone else gives a
    reason, kept as a reply."""


# --------------------------------------------------------------------------- targets


def target_phase(target: str, bank: Bank | None = None) -> str:
    """The phase a comment target belongs to (``q7`` -> ``develop``)."""
    bank = bank or load_bank()
    if target.startswith("risk."):
        return "explore"  # the register belongs to question 4
    if "." in target:
        return target.split(".", 1)[0]
    return bank.question(target).phase


def target_label(
    target: str, bank: Bank | None = None, workbook: WorkbookBase | None = None
) -> str:
    """``Question 7``, ``Explore checklist: <item text>`` or ``Risk: <title>``."""
    bank = bank or load_bank()
    if target.startswith("risk."):
        register = getattr(workbook, "risks", None)
        risk = register.items.get(target[5:]) if register is not None else None
        return f"Risk: {risk.title}" if risk is not None else "Risk register"
    if "." in target:
        phase_id, _, item_id = target.split(".", 2)
        return bank.field_label(f"phases.{phase_id}.checklist.{item_id}")
    return f"Question {bank.question(target).number}"


def phase_paths(phase_id: str, bank: Bank | None = None) -> tuple[str, ...]:
    """Dotted prefixes of the fields that make up a phase's content."""
    bank = bank or load_bank()
    phase = bank.phase(phase_id)
    return (f"phases.{phase_id}", *(f"answers.{q.id}" for q in phase.questions))


def path_phase(path: str, bank: Bank | None = None) -> str | None:
    """The phase a field path belongs to, or None (project details, review data)."""
    bank = bank or load_bank()
    parts = path.split(".")
    if parts[0] == "phases" and len(parts) > 1:
        return parts[1]
    if parts[0] in ("answers", "evidence") and len(parts) > 1:
        try:
            return bank.question(parts[1]).phase
        except KeyError:
            return None
    return None


# --------------------------------------------------------------------------- threads


@dataclass(frozen=True)
class ThreadView:
    """A thread with its id and where it points, ready to show."""

    id: str
    target: str
    target_label: str
    phase_id: str
    thread: Any  # the generated Thread model

    @property
    def open_challenge(self) -> bool:
        return self.thread.kind is CommentKind.challenge and not self.thread.resolved


def threads(
    workbook: WorkbookBase,
    *,
    target: str | None = None,
    phase_id: str | None = None,
    bank: Bank | None = None,
) -> list[ThreadView]:
    """Threads, oldest first, optionally only those on ``target`` or in ``phase_id``."""
    bank = bank or load_bank()
    out = []
    for tid, th in workbook.review.threads.items():  # type: ignore[attr-defined]
        if target is not None and th.target != target:
            continue
        ph = target_phase(th.target, bank)
        if phase_id is not None and ph != phase_id:
            continue
        label = target_label(th.target, bank, workbook)
        out.append(ThreadView(tid, th.target, label, ph, th))
    out.sort(key=lambda v: (v.thread.created_at, v.id))
    return out


def open_challenges(
    workbook: WorkbookBase, phase_id: str | None = None, bank: Bank | None = None
) -> list[ThreadView]:
    return [v for v in threads(workbook, phase_id=phase_id, bank=bank) if v.open_challenge]


def _blockers(data: dict[str, Any], phase_id: str, bank: Bank) -> list[tuple[str, str]]:
    out = []
    for tid, th in sorted(data["review"]["threads"].items(), key=lambda kv: kv[1]["created_at"]):
        if th["kind"] != CommentKind.challenge.value or th["resolved"]:
            continue
        if target_phase(th["target"], bank) != phase_id:
            continue
        text = " ".join(th["text"].split())
        text = text if len(text) <= 80 else text[:77] + "..."
        where = target_label(th["target"], bank)
        if th["target"].startswith("risk."):
            risk = (data.get("risks") or {}).get("items", {}).get(th["target"][5:])
            where = f"Risk: {risk['title']}" if risk else where
        out.append((tid, f"{where}: \u201c{text}\u201d"))
    return out


def check_signoff_rules(data: dict[str, Any], changed_paths: Iterable[str]) -> None:
    """Refuse an approving sign-off of a phase that has unresolved challenges.

    Called by the store under its lock on the merged data, so a challenge added at the
    same moment by someone else is taken into account.
    """
    bank = load_bank()
    phases = {p.split(".")[2] for p in changed_paths if p.startswith("review.signoffs.")}
    for phase_id in sorted(phases):
        record = data["review"]["signoffs"].get(phase_id)
        if not record or record.get("decision") == Decision.not_approved.value:
            continue
        blockers = _blockers(data, phase_id, bank)
        if blockers:
            raise SignOffRefused(phase_id, blockers)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def add_comment(
    store: Store,
    project_id: str,
    *,
    target: str,
    kind: CommentKind | str,
    text: str,
    user: str | Actor,
    role: str = "",
    base_revision: int | None = None,
) -> tuple[WorkbookBase, str]:
    """Start a thread on ``target``. Returns the saved workbook and the thread's id.

    With roles on, ``user`` is an :class:`~workbook.roles.Actor` who must be a reviewer
    and a member of the project; the thread records the role they acted in."""
    user, role, _current = _acting(store, project_id, user, Action.comment, role)
    text = text.strip()
    if not text:
        raise WorkbookError("write the comment before posting it", field="text")
    kind = CommentKind(kind)
    tid = new_id("t")
    thread = {
        "target": target,
        "kind": kind.value,
        "author": user,
        "role": role,
        "created_at": _now(),
        "text": text,
        "resolved": False,
        "resolved_by": None,
        "resolved_at": None,
        "replies": {},
    }
    saved = _apply(
        store,
        project_id,
        [Change(f"review.threads.{tid}", None, thread)],
        user,
        base_revision,
        role=role,
    )
    return saved, tid


def reply(
    store: Store, project_id: str, thread_id: str, *, text: str, user: str | Actor
) -> tuple[WorkbookBase, str]:
    """Add a reply to a thread. Returns the saved workbook and the reply's id."""
    user, role, current = _acting(store, project_id, user, Action.reply)
    text = text.strip()
    if not text:
        raise WorkbookError("write the reply before posting it", field="text")
    _thread(current, thread_id)
    rid = new_id("r")
    entry = {"author": user, "created_at": _now(), "text": text, **_role_field(role)}
    saved = _apply(
        store,
        project_id,
        [Change(f"review.threads.{thread_id}.replies.{rid}", None, entry)],
        user,
        None,
        role=role,
    )
    return saved, rid


def set_resolved(
    store: Store,
    project_id: str,
    thread_id: str,
    resolved: bool,
    *,
    user: str | Actor,
    reviewer: bool = False,
    reason: str = "",
) -> WorkbookBase:
    """Mark a thread resolved (or reopen it).

    A challenge holds up approval, so it is resolved only by a reviewer (``reviewer=True``:
    someone acting as reviewer on the review page), by whoever raised it, or by an author
    who gives a ``reason``: the reason is saved as a reply in the same revision. With roles
    on, only a reviewer (an :class:`~workbook.roles.Actor`) resolves or reopens.
    """
    actor = as_actor(user)
    user, role, current = _acting(store, project_id, actor, Action.resolve)
    reviewer = reviewer or actor.enforced
    th = _thread(current, thread_id)
    if th.resolved == resolved:
        return current
    reason = reason.strip()
    if (
        resolved
        and th.kind is CommentKind.challenge
        and not reviewer
        and th.author != user
        and not reason
    ):
        raise ResolveRefused(
            f"only a reviewer or {th.author}, who raised it, can mark this challenge resolved "
            "on its own; write in the reply box why it is resolved, then mark it resolved",
            field="reason",
        )
    base = f"review.threads.{thread_id}"
    changes = []
    if resolved and reason:
        entry = {"author": user, "created_at": _now(), "text": reason, **_role_field(role)}
        changes.append(Change(f"{base}.replies.{new_id('r')}", None, entry))
    changes += [
        Change(f"{base}.resolved", th.resolved, resolved),
        Change(f"{base}.resolved_by", th.resolved_by, user if resolved else None),
        Change(
            f"{base}.resolved_at",
            th.resolved_at.isoformat().replace("+00:00", "Z") if th.resolved_at else None,
            _now() if resolved else None,
        ),
    ]
    return _apply(store, project_id, changes, user, current.revision, role=role)


def _acting(
    store: Store, project_id: str, user: str | Actor, action: Action, given_role: str = ""
) -> tuple[str, str, WorkbookBase]:
    """(name, role acted in, current workbook) for ``user`` taking ``action`` on the
    project; raises :class:`~workbook.roles.RoleRequired` or
    :class:`~workbook.roles.NotAMember` when roles are on and do not allow it. With roles
    off, the role is the one the caller gave (a reviewer's own description)."""
    actor = as_actor(user)
    role = actor.require(action)
    current = store.open(project_id)
    actor.require_member(project_id, getattr(current.project, "members", ()))
    return actor.name, (role if actor.enforced else given_role), current


def _role_field(role: str) -> dict[str, str]:
    return {"role": role} if role else {}


def _thread(workbook: WorkbookBase, thread_id: str) -> Any:
    try:
        return workbook.review.threads[thread_id]  # type: ignore[attr-defined]
    except KeyError:
        raise WorkbookError(
            f"no comment thread {thread_id!r} in project {workbook.project.id!r}",
            field=f"review.threads.{thread_id}",
        ) from None


# --------------------------------------------------------------------------- sign-off


def phase_fingerprint(
    data: dict[str, Any] | WorkbookBase,
    phase_id: str,
    evidence: dict[str, dict[str, str]] | None = None,
) -> str:
    """SHA-256 of a phase's content: its checklist, note and answers (not who/when), for
    Explore the risk register once it has anything in it, and the SHA-256 of each evidence
    notebook and data file attached to the phase's questions (``evidence``; by default
    those the store found when it read the workbook), once there are any."""
    if isinstance(data, WorkbookBase):
        if evidence is None:
            evidence = data.evidence_hashes
        data = data.to_data()
    bank = load_bank()
    content = {
        "phase": data["phases"][phase_id],
        "answers": {
            q.id: {k: v for k, v in data["answers"][q.id].items() if k not in _STAMPS}
            for q in bank.phase(phase_id).questions
        },
    }
    register = data.get("risks") or {}
    if phase_id == "explore" and (register.get("items") or register.get("considered")):
        # Question 4's risk register is part of what the Explore phase's reviewer signs.
        # Left out while empty, so sign-offs made before the register existed stay current.
        content["risks"] = {
            "items": register.get("items", {}),
            "considered": {k: v.get("reason") for k, v in register.get("considered", {}).items()},
        }
    attached = {
        q.id: (evidence or {})[q.id]
        for q in bank.phase(phase_id).questions
        if (evidence or {}).get(q.id)
    }
    if attached:
        # Left out while there is none, so sign-offs made before it stay current; adding,
        # changing or removing an analysis or its data makes the sign-off out of date.
        content["evidence"] = attached
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_STAMPS = frozenset({"updated_at", "updated_by"})


def decision_words(decision: Decision | str, incomplete: int | None = None) -> str:
    """``Approved``; for an approval of an incomplete phase ``Approved with 2 questions
    incomplete`` (or ``Approved with conditions (2 questions incomplete)``)."""
    decision = Decision(decision)
    if not decision.approves or not incomplete:
        return decision.label
    what = f"{incomplete} question{'s' if incomplete != 1 else ''} incomplete"
    if decision is Decision.approved_with_conditions:
        return f"{decision.label} ({what})"
    return f"{decision.label} with {what}"


@dataclass(frozen=True)
class SignOffState:
    """Where a phase's sign-off stands now."""

    phase_id: str
    status: Literal["none", "current", "out_of_date"]
    record: SignOff | None

    @property
    def decision_label(self) -> str:
        """``Approved``, or ``Approved with 2 questions incomplete`` when it was."""
        if self.record is None:
            return "Not signed off"
        return decision_words(self.record.decision, self.record.incomplete_questions)

    @property
    def summary(self) -> str:
        """One line, e.g. ``Approved by Sam Patel (Chair), 3 Nov 2026, revision 12``."""
        if self.record is None:
            return "Not signed off yet"
        r = self.record
        role = f" ({r.role})" if r.role else ""
        line = f"{self.decision_label} by {r.reviewer}{role}, {format_date(r.signed_at)}, "
        line += f"revision {r.revision}"
        if self.status == "out_of_date":
            line = f"Out of date: changed since revision {r.revision}. Was: {line}"
        return line


def signoff_state(workbook: WorkbookBase, phase_id: str) -> SignOffState:
    record = getattr(workbook.review.signoffs, phase_id)  # type: ignore[attr-defined]
    if record is None:
        return SignOffState(phase_id, "none", None)
    fresh = phase_fingerprint(workbook, phase_id) == record.fingerprint
    return SignOffState(phase_id, "current" if fresh else "out_of_date", record)


def incomplete_questions(workbook: WorkbookBase, phase_id: str) -> int:
    """How many of the phase's questions are not marked complete."""
    figures = phase_progress(workbook, load_bank().phase(phase_id))
    return figures.questions_total - figures.complete


def sign_off(
    store: Store,
    project_id: str,
    phase_id: str,
    *,
    decision: Decision | str,
    reviewer: str,
    role: str = "",
    conditions: str = "",
    user: str | Actor,
    revision: int | None = None,
    confirm_incomplete: int | None = None,
) -> WorkbookBase:
    """Record a reviewer's decision on ``phase_id`` for the revision they read.

    ``revision`` is the revision the reviewer was shown (default: the current one). If the
    phase changed after it, the new sign-off is saved but already shows as out of date.
    Raises :class:`SignOffRefused` for an approval while challenges are unresolved,
    :class:`IncompleteApproval` for an approval of a phase with incomplete questions unless
    ``confirm_incomplete`` is that number (the sign-off records it), and
    :class:`WorkbookError` when the same decision on the same reading is already recorded.
    With roles on, ``user`` is an :class:`~workbook.roles.Actor` holding the reviewer role,
    a member of the project, and the sign-off is recorded under their own name and role
    (``reviewer`` and ``role`` are ignored).
    """
    actor = as_actor(user)
    user, acted_role, current = _acting(store, project_id, actor, Action.sign_off, role)
    if actor.enforced:
        reviewer, role = actor.name, acted_role
    decision = Decision(decision)
    if not reviewer.strip():
        raise WorkbookError("give the reviewer's name", field="reviewer")
    read = current if revision is None else _at_revision(store, project_id, current, revision)
    bank = load_bank()
    blockers = _blockers(current.to_data(), phase_id, bank)
    if decision.approves and blockers:
        raise SignOffRefused(phase_id, blockers)
    incomplete = incomplete_questions(read, phase_id)
    fingerprint = phase_fingerprint(read, phase_id)
    record = {
        "decision": decision.value,
        "reviewer": reviewer.strip(),
        "role": role.strip(),
        "signed_at": _now(),
        "conditions": conditions.strip(),
        "revision": read.revision,
        "fingerprint": fingerprint,
        "incomplete_questions": incomplete,
    }
    try:
        SignOff.model_validate(record)
    except ValueError as exc:
        msg = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)  # type: ignore[attr-defined]
        raise WorkbookError(msg.removeprefix("Value error, "), field="conditions") from None
    if decision.approves and incomplete and confirm_incomplete != incomplete:
        total = len(bank.phase(phase_id).questions)
        raise IncompleteApproval(bank.phase(phase_id).title, incomplete, total)
    old = getattr(current.review.signoffs, phase_id)  # type: ignore[attr-defined]
    if (
        old is not None
        and old.decision is decision
        and old.reviewer == record["reviewer"]
        and old.fingerprint == fingerprint
        and old.conditions == record["conditions"]
        and old.role == record["role"]
    ):
        raise WorkbookError(
            f"this decision is already recorded ({old.decision.label} by {old.reviewer}, "
            f"revision {old.revision}); nothing was changed",
            field=f"review.signoffs.{phase_id}",
        )
    old_data = old.model_dump(mode="json") if old is not None else None
    return _apply(
        store,
        project_id,
        [Change(f"review.signoffs.{phase_id}", old_data, record)],
        user,
        current.revision,
        role=acted_role,
    )


def _at_revision(store: Store, project_id: str, current: WorkbookBase, revision: int) -> Any:
    if revision == current.revision:
        return current
    read = workbook_at(store, project_id, revision)
    # The history keeps no copy of evidence notebooks: the reader saw today's.
    read._evidence = current.evidence_hashes
    return read


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class FieldChange:
    """How one field changed over a range of revisions."""

    path: str
    label: str
    old: Any
    new: Any
    users: tuple[str, ...]
    revisions: tuple[int, ...]
    time: str

    @property
    def is_text(self) -> bool:
        return (
            isinstance(self.old, str | None)
            and isinstance(self.new, str | None)
            and (_is_text_path(self.path))
        )


def _is_text_path(path: str) -> bool:
    last = path.rsplit(".", 1)[-1]
    parts = path.split(".")
    return last in {"response", "note", "description"} or (
        len(parts) == 4 and parts[0] == "answers" and parts[2] == "prompts"
    )


def saved_entries(store: Store, project_id: str) -> list[dict[str, Any]]:
    """History lines of changes that landed ("created" and "saved"), oldest first.

    Reads the whole history; the functions below read from its end and stop early.
    """
    out = list(_landed_backward(store, project_id))
    out.reverse()
    return out


def _landed_backward(
    store: Store, project_id: str, *, on_disk: int | None = None
) -> Iterator[dict[str, Any]]:
    """Landed changes newest first, in non-increasing revision order (see
    :meth:`Store.iter_history`)."""
    for e in store.iter_history(project_id, on_disk=on_disk):
        if e["outcome"] in {"saved", "created"}:
            yield e


def history_entries(
    store: Store,
    project_id: str,
    *,
    since: int | None = None,
    phase_id: str | None = None,
    include_review: bool = True,
    limit: int | None = None,
    evidence: bool = False,
) -> list[dict[str, Any]]:
    """Saved changes after revision ``since`` (all if None), optionally in one phase,
    oldest first. With ``limit``, only the newest ``limit`` of them. With ``evidence``,
    evidence notebooks added, changed or removed too (they change no field).

    The history is read from its end and only as far as needed: back to ``since``, or
    until ``limit`` entries are found.
    """
    bank = load_bank()
    out: list[dict[str, Any]] = []
    outcomes = {"saved", "created", "evidence"} if evidence else {"saved", "created"}
    landed = (e for e in store.iter_history(project_id) if e["outcome"] in outcomes)
    for e in landed:
        if since is not None and e["revision"] <= since:
            break
        path = e["path"]
        if not include_review and path.startswith("review."):
            continue
        if phase_id is not None and path_phase(path, bank) != phase_id:
            continue
        out.append(e)
        if limit is not None and len(out) >= limit:
            break
    out.reverse()
    return out


def changes_since(
    store: Store, project_id: str, revision: int, *, phase_id: str | None = None
) -> list[FieldChange]:
    """Each field of the answers/checklists changed after ``revision``: first old, last new.

    Fields changed and then changed back are left out. Review data (comments,
    sign-offs) is not included: it is not part of what is signed.
    """
    bank = load_bank()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for e in history_entries(
        store, project_id, since=revision, phase_id=phase_id, include_review=False
    ):
        if e["outcome"] != "saved" or e.get("path", "").startswith("project"):
            continue
        grouped.setdefault(e["path"], []).append(e)
    out = []
    order = {p: i for i, p in enumerate(_field_order(bank))}
    for path, entries in grouped.items():
        old, new = entries[0].get("old"), entries[-1].get("new")
        if old == new:
            continue
        out.append(
            FieldChange(
                path=path,
                label=bank.field_label(path),
                old=old,
                new=new,
                users=tuple(dict.fromkeys(e.get("user", "") for e in entries)),
                revisions=tuple(e["revision"] for e in entries),
                time=entries[-1].get("time", ""),
            )
        )
    out.sort(key=lambda c: (order.get(_prefix(c.path), len(order)), c.path))
    return out


def changes_since_signoff(
    store: Store, workbook: WorkbookBase, phase_id: str
) -> list[FieldChange] | None:
    """Changes to a phase since its sign-off, or None when it has never been signed off."""
    record = getattr(workbook.review.signoffs, phase_id)  # type: ignore[attr-defined]
    if record is None:
        return None
    return changes_since(store, workbook.project.id, record.revision, phase_id=phase_id)


def _prefix(path: str) -> str:
    parts = path.split(".")
    return ".".join(parts[:2]) if parts[0] == "answers" else ".".join(parts[:4])


def _field_order(bank: Bank) -> list[str]:
    out = []
    for p in bank.phases:
        out += [f"phases.{p.id}.checklist.{i}" for i in p.checklist_ids]
        out += [f"answers.{q.id}" for q in p.questions]
    return out


def value_at(store: Store, project_id: str, path: str, revision: int) -> Any:
    """The value ``path`` had at ``revision`` (after that revision's save).

    None for an entry (a comment thread, a reply) that did not exist yet.
    """
    then = workbook_at(store, project_id, revision).to_data()
    try:
        return get_path(then, path)
    except KeyError:
        if path.startswith("review.threads."):
            return None
        raise WorkbookError(f"unknown field {path!r}", field=path) from None


def _check_revision(current: WorkbookBase, revision: int) -> None:
    if revision < 1 or revision > current.revision:
        raise WorkbookError(
            f"revision {revision} does not exist; project {current.project.id!r} is at "
            f"revision {current.revision}",
            field="revision",
        )


def workbook_at(store: Store, project_id: str, revision: int) -> WorkbookBase:
    """The whole workbook as it was at ``revision``, rebuilt from the history.

    Starts from the answers file and undoes, newest first, the changes after
    ``revision``: only those history lines are read. A line whose old value no longer
    fits (a damaged or hand-edited line) is reported with its line number and skipped.
    """
    from pydantic import ValidationError

    from workbook.model import Workbook, describe_validation_error

    current = store.open(project_id)
    _check_revision(current, revision)
    if revision == current.revision:
        return current
    undo: list[tuple[int, dict[str, Any]]] = []
    for offset, e in store.iter_history_lines(project_id, on_disk=current.revision):
        if e["outcome"] not in {"saved", "created"}:
            continue
        if e["revision"] <= revision:
            break
        if e["path"]:
            undo.append((offset, e))
    skipped: set[int] = set()
    for _attempt in range(len(undo) + 1):
        data = current.to_data()
        done: dict[str, int] = {}  # path -> offset of the line that set it last
        for offset, e in undo:
            if offset in skipped:
                continue
            if not _undo(data, e["path"], e.get("old")):
                skipped.add(offset)
                store.report_history_problem(
                    project_id, offset, f"field {e['path']!r} does not exist in this project"
                )
                continue
            done[e["path"]] = offset
        data["revision"] = revision
        try:
            return Workbook.model_validate(data)
        except ValidationError as exc:
            field, message = describe_validation_error(exc)
            culprit = _culprit(done, field)
            if culprit is None:
                raise WorkbookError(
                    f"revision {revision} cannot be rebuilt from the history: {message}",
                    path=store.history_path(project_id),
                    field=field,
                ) from None
            skipped.add(culprit)
            store.report_history_problem(
                project_id, culprit, f"its old value of {field!r} is not valid: {message}"
            )
    raise WorkbookError(  # pragma: no cover - every attempt skips one more line
        f"revision {revision} cannot be rebuilt from the history",
        path=store.history_path(project_id),
    )


def _undo(data: dict[str, Any], path: str, old: Any) -> bool:
    """Put ``old`` back at ``path``; False when the path does not fit the data."""
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    if not isinstance(node, dict):
        return False
    if old is None and path.startswith(("review.threads.", "risks.items.", "risks.considered.")):
        node.pop(last, None)  # the thread, reply, risk or note did not exist yet
    else:
        node[last] = copy.deepcopy(old)
    return True


def _culprit(done: dict[str, int], field: str) -> int | None:
    """The history line that last set ``field`` (or a field containing it, or inside it)."""
    best: tuple[int, int] | None = None
    for path, offset in done.items():
        if field == path or field.startswith(path + ".") or path.startswith(field + "."):
            if best is None or len(path) > best[0]:
                best = (len(path), offset)
    return best[1] if best else None


def restore(
    store: Store, project_id: str, path: str, revision: int, *, user: str | Actor
) -> WorkbookBase:
    """Put ``path`` back to the value it had at ``revision``; the restore is a new revision."""
    user, role, current = _acting(store, project_id, user, Action.restore)
    if not path.startswith(("answers.", "phases.")) or len(path.split(".")) < 2:
        raise WorkbookError(
            "only answers and checklist fields can be restored (comments and sign-offs keep "
            "their own record): name a field such as answers.q4.response",
            field=path,
        )
    try:
        now_value = get_path(current.to_data(), path)
    except KeyError:
        raise WorkbookError(f"unknown field {path!r}", field=path) from None
    value = value_at(store, project_id, path, revision)
    if value == now_value:
        return current
    # A group of fields (``informed_by``, a checklist entry, a whole answer) is restored
    # field by field, so the history keeps one line per field like any other edit.
    changes: list[Change] = []
    _leaf_changes(changes, path, now_value, value)
    return _apply(store, project_id, changes, user, current.revision, role=role)


def _leaf_changes(out: list[Change], path: str, old: Any, new: Any) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if key in _STAMPS:
                continue
            _leaf_changes(out, f"{path}.{key}", old.get(key), new.get(key))
    elif old != new:
        out.append(Change(path, old, new))


# --------------------------------------------------------------------------- word diff


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
DiffOp = tuple[Literal["equal", "delete", "insert"], str]


def word_diff(old: str | None, new: str | None) -> list[DiffOp]:
    """A word-level diff: runs of equal, deleted and inserted text.

    Two changes separated only by a space are shown as one (``[-support earlier-]{+help
    sooner+}``, not ``[-support-]{+help+} [-earlier-]{+sooner+}``).
    """
    a = _TOKEN.findall(old or "")
    b = _TOKEN.findall(new or "")
    # segments: ("equal", text, "") or ("change", deleted, inserted)
    segments: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("equal", "".join(a[i1:i2]), ""))
        else:
            segments.append(("change", "".join(a[i1:i2]), "".join(b[j1:j2])))
    merged: list[tuple[str, str, str]] = []
    i = 0
    while i < len(segments):
        seg = segments[i]
        if (
            seg[0] == "equal"
            and merged
            and merged[-1][0] == "change"
            and i + 1 < len(segments)
            and segments[i + 1][0] == "change"
            and seg[1].isspace()
            and "\n" not in seg[1]
        ):
            nxt = segments[i + 1]
            prev = merged.pop()
            merged.append(("change", prev[1] + seg[1] + nxt[1], prev[2] + seg[1] + nxt[2]))
            i += 2
            continue
        merged.append(seg)
        i += 1
    ops: list[DiffOp] = []
    for kind, first, second in merged:
        if kind == "equal":
            ops.append(("equal", first))
            continue
        if first:
            ops.append(("delete", first))
        if second:
            ops.append(("insert", second))
    return ops


def word_diff_html(
    old: str | None,
    new: str | None,
    *,
    text_html: Callable[[str], str] | None = None,
) -> str:
    """Escaped HTML with ``<del>`` and ``<ins>``.

    ``text_html`` turns a run of text into escaped HTML; by default line breaks are kept
    as ``<br>`` (the report passes one that follows how markdown reads them).
    """
    return diff_ops_html(word_diff(old, new), text_html=text_html)


def diff_ops_html(
    ops: Iterable[tuple[str, str] | list[str]], *, text_html: Callable[[str], str] | None = None
) -> str:
    """Word-diff runs as HTML: removed words in ``<del>``, added in ``<ins>``."""
    render = text_html or (lambda text: html.escape(text).replace("\n", "<br>"))
    out = []
    for op, text in ops:
        t = render(text)
        if op == "equal":
            out.append(t)
        elif op == "delete":
            out.append(f'<del class="wb-del" title="removed">{t}</del>')
        else:
            out.append(f'<ins class="wb-ins" title="added">{t}</ins>')
    return "".join(out)


def word_diff_text(old: str | None, new: str | None) -> str:
    """Plain text in the style of ``git diff --word-diff``: ``[-old-]{+new+}``."""
    out = []
    for op, text in word_diff(old, new):
        out.append(text if op == "equal" else f"[-{text}-]" if op == "delete" else f"{{+{text}+}}")
    return "".join(out)


def format_value(path: str, value: Any) -> str:
    """A field's value in words, for history and diffs of fields that are not free text.

    A value without the field's shape (from a hand-edited history line) is shown as JSON.
    """
    try:
        return _format_value(path, value)
    except (AttributeError, TypeError, KeyError, ValueError):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)[:2000]


def _format_value(path: str, value: Any) -> str:
    last = path.rsplit(".", 1)[-1]
    if value is None or value == "" or value == []:
        return "(empty)"
    if last == "status" and path.startswith("answers."):
        try:
            return QUESTION_STATUS_LABELS[QuestionStatus(value)]
        except ValueError:
            return str(value)
    if last == "status":
        try:
            return CHECKLIST_STATUS_LABELS[ChecklistStatus(value)]
        except ValueError:
            return str(value)
    if last == "evidence" and isinstance(value, list):
        return "; ".join(
            f"{e.get('reference', '')}" + (f" ({e['description']})" if e.get("description") else "")
            for e in value
        )
    if last == "further_work" and isinstance(value, list):
        return "; ".join(
            f"{a.get('action', '')} [{a.get('status', 'open')}"
            + (f", {a['owner']}" if a.get("owner") else "")
            + (f", due {a['due']}" if a.get("due") else "")
            + "]"
            for a in value
        )
    if isinstance(value, dict):
        if "status" in value and "note" in value and len(value) == 2:  # checklist entry
            return (
                f"{format_value(path + '.status', value['status'])}; note: {value['note'] or '-'}"
            )
        if last == "informed_by" or "end_users" in value:
            from workbook.model import INFORMED_BY_GROUPS

            groups = [label for key, label in INFORMED_BY_GROUPS.items() if value.get(key)]
            note = value.get("note") or ""
            return ", ".join(groups) + (f"; note: {note}" if note else "") or "(none)"
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class ActionRow:
    """One further-work action, with the question it came from."""

    question_id: str
    question_number: int
    phase_id: str
    index: int
    action: str
    owner: str
    due: date | None
    status: str  # "open" | "done"
    overdue: bool = field(default=False)


CSV_COLUMNS = ("question", "phase", "action", "owner", "due", "status", "overdue")


def action_plan(
    workbook: WorkbookBase, *, today: date | None = None, bank: Bank | None = None
) -> list[ActionRow]:
    """Every further-work action in question order. Overdue: open and due before today."""
    bank = bank or load_bank()
    today = today or date.today()
    rows = []
    for q in bank.questions:
        for i, a in enumerate(workbook.answer(q.id).further_work):
            rows.append(
                ActionRow(
                    question_id=q.id,
                    question_number=q.number,
                    phase_id=q.phase,
                    index=i,
                    action=a.action,
                    owner=a.owner,
                    due=a.due,
                    status=a.status,
                    overdue=a.status == "open" and a.due is not None and a.due < today,
                )
            )
    return rows


def overdue_actions(workbook: WorkbookBase, *, today: date | None = None) -> list[ActionRow]:
    return [r for r in action_plan(workbook, today=today) if r.overdue]


def action_plan_csv(rows: list[ActionRow]) -> str:
    """CSV text (UTF-8, header row). Cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(text)
                for text in (
                    f"Q{r.question_number}",
                    r.phase_id,
                    r.action,
                    r.owner,
                    r.due.isoformat() if r.due else "",
                    r.status,
                    "yes" if r.overdue else "no",
                )
            ]
        )
    return buf.getvalue()


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will show, not run: an apostrophe goes before a cell that
    starts with a formula character (= + - @, or a fullwidth one such as ＝), or with
    anything a spreadsheet may skip before reading one (a space, tab, line break, a
    zero-width or other invisible character, a byte order mark)."""
    first = text[:1]
    if not first:
        return text
    if unicodedata.normalize("NFKC", first)[:1] in _FORMULA_START:
        return "'" + text
    if first.isspace() or unicodedata.category(first) in {"Cc", "Cf", "Zs", "Zl", "Zp"}:
        return "'" + text
    return text


_FORMULA_START = frozenset("=+-@")


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _local(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone()


def format_date(value: datetime | str | None) -> str:
    """``3 Nov 2026`` in local time."""
    if value is None:
        return ""
    local = _local(value)
    return f"{local.day} {local:%b %Y}"


def format_time(value: datetime | str | None) -> str:
    """``3 Nov 2026 14:02`` in local time."""
    if value is None:
        return ""
    local = _local(value)
    return f"{local.day} {local:%b %Y %H:%M}"


def _apply(
    store: Store,
    project_id: str,
    changes: list[Change],
    user: str,
    base_revision: int | None,
    *,
    role: str = "",
) -> WorkbookBase:
    if base_revision is None:
        base_revision = store.open(project_id).revision
    return store.apply(
        project_id, changes, user=user, base_revision=base_revision, rules=SAVE_RULES, role=role
    )


SAVE_RULES = (check_signoff_rules,)
"""The rules every save of a project must pass (``Store.apply(..., rules=SAVE_RULES)``)."""
