"""The draft transparency record (ATRS) of a project, made from its workbook.

:func:`build_draft` reads one project (and its history, for provenance) and returns the
draft as one JSON-ready dict that every format renders (:mod:`workbook.export.atrs`):

- each field of the ATRS field list (``content/atrs-<version>.yaml``), in the template's
  order: the team's own public wording when they have written it (``transparency`` in the
  answers file), else a draft joined from the field's workbook sources
  (``content/atrs-<version>-mapping.yaml``); whether it is withheld and why; whether the
  text needs rewriting for a public reader; and its **provenance**: each source, the
  revision its text last changed and who changed it, the answer's status, and whether its
  phase is signed off and the sign-off still current;
- a **completeness report**: required fields still empty, fields drafted from answers that
  are not complete, and the guidance rules that a program can check (a senior responsible
  owner given as a role, a team mailbox, public links, an appeals route). Each problem
  names the field and where in the workbook to improve it;
- with ``previous`` (an earlier draft), the **changes** since it: per field, the old and
  new text and a word diff.

Nothing here writes: the only reads are the answers file and its history, through the
store. An empty project gives a draft that lists what is missing.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from workbook.atrs_content import (
    DEFAULT_VERSION,
    AtrsField,
    AtrsMapping,
    Source,
    load_atrs,
    load_mapping,
)
from workbook.bank import PHASE_IDS, Bank, load_bank
from workbook.errors import WorkbookError
from workbook.export.dates import day
from workbook.export.report import person
from workbook.model import QUESTION_STATUS_LABELS, WorkbookBase
from workbook.progress import REGISTER_QUESTION, QuestionProgress, question_progress
from workbook.review import SignOffState, signoff_state, word_diff

DRAFT_KIND = "atrs-draft"
PUBLIC_SOURCE = "public"

# --------------------------------------------------------------------------- the draft's shape


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


Status = Literal["not_started", "in_progress", "complete", "further_work_needed"]


class Provenance(_Out):
    """Where a field's text comes from, and how settled that source is."""

    source: str = Field(
        description="The mapping's source (answer.q3, prompt.q4.governance, project.owner, "
        "risks, actions, checklist.<phase>.<item>, signoff.<phase>) or 'public' for the "
        "team's own wording."
    )
    path: str = Field(description="The dotted path of the data in the answers file.")
    label: str = Field(description="The source in words, e.g. 'Question 3, note on: ...'.")
    question: str | None = Field(description="The DfE question it belongs to, if any.")
    used: bool = Field(description="Whether the field's value was drafted from this source.")
    empty: bool = Field(description="Whether the source has no text yet.")
    revision: int | None = Field(
        description="The revision in which the source last changed (None: not in the history)."
    )
    changed_by: str | None
    changed_at: AwareDatetime | None
    status: Status | None = Field(description="The question's status, for an answer or note.")
    status_label: str | None
    complete: bool | None = Field(
        description="Whether the question counts as complete (marked complete and not held "
        "back, e.g. question 4 while risk categories are not covered)."
    )
    phase: str | None
    signoff: Literal["none", "current", "out_of_date"] | None = Field(
        description="The phase's sign-off: none yet, current, or out of date (changed since)."
    )
    signoff_summary: str | None


FieldStatus = Literal["written", "drafted", "withheld", "missing", "empty"]


class DraftField(_Out):
    id: str
    ref: str
    ref_checked: bool
    name: str
    sheet: str
    tier: int
    required: bool
    prompt: str
    options: list[str]
    value: str = Field(description="The text for the record (markdown); '' when empty.")
    origin: Literal["public", "drafted", "empty"] = Field(
        description="public: the team's own wording; drafted: joined from the workbook."
    )
    status: FieldStatus
    withheld: bool
    reason: str = Field(description="Why the field is withheld ('' when it is not).")
    rewrite_needed: bool = Field(
        description="The text was drafted from workbook wording that needs rewriting for a "
        "public reader."
    )
    question: str | None = Field(description="The workbook question that would improve it.")
    provenance: list[Provenance]


class DraftSheet(_Out):
    id: str
    name: str
    tier: int
    fields: list[DraftField]


class Problem(_Out):
    kind: Literal["missing", "incomplete", "guidance"]
    rule: Literal[
        "required",
        "incomplete_answer",
        "sro_named_person",
        "personal_email",
        "no_email",
        "link_not_public",
        "no_appeals_route",
    ]
    field: str
    ref: str
    name: str
    sheet: str
    question: str | None
    improve: str = Field(description="Where to improve it, in words.")
    message: str


class Summary(_Out):
    fields: int
    filled: int = Field(description="Fields with a value, or withheld with a reason.")
    required: int
    required_filled: int
    written: int
    drafted: int
    withheld: int
    to_rewrite: int
    problems: int


DiffOp = tuple[Literal["equal", "delete", "insert"], str]


class FieldChange(_Out):
    field: str
    ref: str
    name: str
    old: str
    new: str
    old_status: FieldStatus
    new_status: FieldStatus
    withheld: bool
    reason: str
    diff: list[DiffOp] = Field(
        description="Word diff of old and new text; empty for a field withheld now, and "
        "only the new text for one withheld before (the documents never show withheld text)."
    )


class Changes(_Out):
    since_revision: int
    since_drafted_at: AwareDatetime
    fields: list[FieldChange]


class DraftProject(_Out):
    id: str
    tool_name: str
    local_authority: str


class AtrsDraft(_Out):
    """A project's draft ATRS record, as ``workbook atrs`` writes it to JSON."""

    kind: Literal["atrs-draft"]
    standard: str
    version: str
    title: str
    project: DraftProject
    revision: int = Field(ge=0)
    drafted_at: AwareDatetime
    marking: str
    summary: Summary
    problems: list[Problem]
    sheets: list[DraftSheet]
    changes: Changes | None = Field(description="Changes since the previous draft, if given.")


def draft_json_schema() -> dict[str, Any]:
    schema = AtrsDraft.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ethics-workbook ATRS draft",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def draft_json_schema_text() -> str:
    return json.dumps(draft_json_schema(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- building


def build_draft(
    store: Any,
    project_id: str,
    *,
    version: str = DEFAULT_VERSION,
    previous: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The draft ATRS record of ``project_id`` (JSON-ready; see :class:`AtrsDraft`).

    ``previous`` is an earlier draft (as :func:`build_draft` returned it, or read back from
    its JSON): the draft then lists what changed since. A ``previous`` that is not a draft
    raises :class:`~workbook.errors.WorkbookError` naming the field.
    """
    from workbook.settings import marking_for

    wb = store.open(project_id)
    bank = load_bank(wb.edition)  # type: ignore[attr-defined]
    standard = load_atrs(version)
    mapping = load_mapping(version)
    before = _previous(previous) if previous is not None else None
    if before is not None and before.project.id != wb.project.id:
        raise PreviousDraftError(
            f"the previous draft is of project {before.project.id!r}, not {wb.project.id!r}"
        )
    ctx = _Context(wb, bank, mapping)
    ctx.read_history(store, project_id, standard.fields)

    sheets = []
    problems: list[dict[str, Any]] = []
    for sheet in standard.sheets:
        fields = []
        for f in sheet.fields:
            field = ctx.field(f)
            fields.append(field)
            problems += ctx.problems(f, field)
        sheets.append({"id": sheet.id, "name": sheet.name, "tier": sheet.tier, "fields": fields})
    order = {"missing": 0, "incomplete": 1, "guidance": 2}
    problems.sort(key=lambda p: order[p["kind"]])  # stable: template order within a kind

    every = [f for s in sheets for f in s["fields"]]
    required = [f for f in every if f["required"]]
    drafted_at = now or datetime.now(timezone.utc)
    if drafted_at.tzinfo is None:
        drafted_at = drafted_at.replace(tzinfo=timezone.utc)
    draft = {
        "kind": DRAFT_KIND,
        "standard": standard.standard,
        "version": standard.version,
        "title": f"{wb.project.tool_name}: transparency record (ATRS {standard.version}) draft",
        "project": {
            "id": wb.project.id,
            "tool_name": wb.project.tool_name,
            "local_authority": wb.project.local_authority,
        },
        "revision": wb.revision,
        "drafted_at": drafted_at,
        "marking": marking_for(wb.project.marking, store.root),
        "summary": {
            "fields": len(every),
            "filled": sum(_filled(f) for f in every),
            "required": len(required),
            "required_filled": sum(_filled(f) for f in required),
            "written": sum(f["origin"] == "public" for f in every),
            "drafted": sum(f["origin"] == "drafted" for f in every),
            "withheld": sum(f["withheld"] for f in every),
            "to_rewrite": sum(f["rewrite_needed"] for f in every),
            "problems": len(problems),
        },
        "problems": problems,
        "sheets": sheets,
        "changes": _changes(before, every) if before is not None else None,
    }
    return AtrsDraft.model_validate(draft).model_dump(mode="json")


def readiness(wb: WorkbookBase, *, version: str = DEFAULT_VERSION) -> tuple[int, int]:
    """(required fields filled, required fields) of the project's draft record: the
    portfolio's ATRS readiness. Made from the answers file alone (no history is read)."""
    bank = load_bank(wb.edition)  # type: ignore[attr-defined]
    ctx = _Context(wb, bank, load_mapping(version))
    required = [f for f in load_atrs(version).fields if f.required]
    return sum(_filled(ctx.field(f)) for f in required), len(required)


def _filled(f: dict[str, Any]) -> bool:
    return bool(f["value"].strip()) or f["withheld"]


class PreviousDraftError(WorkbookError):
    """The previous draft given to compare with is not a draft this version can read."""


def _previous(previous: dict[str, Any]) -> AtrsDraft:
    if isinstance(previous, dict):  # its own changes do not matter here
        previous = {**previous, "changes": None}
    try:
        return AtrsDraft.model_validate(previous)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PreviousDraftError(
            f"the previous draft is not an ATRS draft this version can read: {err['msg']}; "
            "move it away to start afresh",
            field=where or None,
        ) from None


def _changes(before: AtrsDraft, fields: list[dict[str, Any]]) -> dict[str, Any]:
    old = {f.id: f for s in before.sheets for f in s.fields}
    out = []
    for f in fields:
        was = old.get(f["id"])
        then = (was.value, was.withheld, was.reason) if was else ("", False, "")
        if then == (f["value"], f["withheld"], f["reason"]):
            continue
        out.append(
            {
                "field": f["id"],
                "ref": f["ref"],
                "name": f["name"],
                "old": then[0],
                "new": f["value"],
                "old_status": was.status if was else "empty",
                "new_status": f["status"],
                "withheld": f["withheld"],
                "reason": f["reason"],
                "diff": _diff(then[0] if not then[1] else "", f["value"], f["withheld"]),
            }
        )
    return {
        "since_revision": before.revision,
        "since_drafted_at": before.drafted_at,
        "fields": out,
    }


def _diff(old: str, new: str, withheld: bool) -> list[list[str]]:
    """The word diff a document shows: none for a field withheld now (the documents show
    the reason, never its text), and only the new text for one withheld before (``old`` is
    then given as "")."""
    if withheld:
        return []
    return [list(op) for op in word_diff(old, new)]


class _Context:
    """One project's data, read once, and what each field needs from it."""

    def __init__(self, wb: WorkbookBase, bank: Bank, mapping: AtrsMapping) -> None:
        self.wb = wb
        self.bank = bank
        self.mapping = mapping
        self.public = wb.transparency.fields  # type: ignore[attr-defined]
        self.progress: dict[str, QuestionProgress] = {
            q.id: question_progress(wb, q) for q in bank.questions
        }
        self.signoffs: dict[str, SignOffState] = {p: signoff_state(wb, p) for p in PHASE_IDS}
        self.last: dict[str, dict[str, Any]] = {}

    # ---- history

    def targets(self, source: Source) -> list[str]:
        """The answers-file paths whose history lines say when ``source`` last changed."""
        if source.kind == "actions":
            return [f"answers.{q.id}.further_work" for q in self.bank.questions]
        if source.kind == "checklist":
            return [f"phases.{source.phase}.checklist.{source.item}"]
        return [source.path]

    def read_history(self, store: Any, project_id: str, fields: tuple[AtrsField, ...]) -> None:
        """For every path a field's provenance needs, its newest history line. Reads the
        history from its end and stops once every path is found."""
        wanted: set[str] = set()
        for f in fields:
            for s in self.mapping.sources(f.id, self.bank):
                wanted.update(self.targets(s))
            if f.id in self.public:
                wanted.add(f"transparency.fields.{f.id}")
        by_ancestor: dict[str, set[str]] = {}
        for target in wanted:
            parts = target.split(".")
            for i in range(1, len(parts)):
                by_ancestor.setdefault(".".join(parts[:i]), set()).add(target)
        remaining = set(wanted)
        for entry in store.iter_history(project_id, on_disk=self.wb.revision):
            if not remaining:
                break
            if entry.get("outcome") not in {"saved", "created"}:
                continue
            path = entry.get("path") or ""
            if entry["outcome"] == "created" or path == "":
                hits = {t for t in remaining if t.startswith("project.")}
            else:
                parts = path.split(".")
                ancestors = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
                hits = (ancestors & remaining) | (by_ancestor.get(path, set()) & remaining)
            for target in hits:
                self.last[target] = entry
            remaining -= hits

    def last_change(self, targets: list[str]) -> dict[str, Any] | None:
        found = [self.last[t] for t in targets if t in self.last]
        return max(found, key=lambda e: e["revision"]) if found else None

    # ---- sources

    def text(self, source: Source) -> str:
        wb = self.wb
        if source.kind == "project":
            return str(getattr(wb.project, source.project_field or "") or "")
        if source.kind == "answer":
            return wb.answer(source.question or "").response
        if source.kind == "prompt":
            return str(getattr(wb.answer(source.question or "").prompts, source.prompt or ""))  # type: ignore[attr-defined]
        if source.kind == "checklist":
            return wb.checklist_entry(source.phase or "", source.item or "").note
        if source.kind == "risks":
            return _risks_text(wb)
        if source.kind == "actions":
            return _actions_text(wb, self.bank)
        return _signoff_text(self.signoffs[source.phase or ""], self.bank)

    def label(self, source: Source) -> str:
        if source.kind == "risks":
            return "Question 4: the risk register"
        if source.kind == "actions":
            return "The action plan (further-work actions)"
        if source.kind == "signoff":
            return f"{self.bank.phase(source.phase or '').title}: sign-off"
        if source.kind == "project":
            return f"Project details: {(source.project_field or '').replace('_', ' ')}"
        return self.bank.field_label(source.path)

    def provenance(self, source: Source, text: str, used: bool) -> dict[str, Any]:
        entry = self.last_change(self.targets(source))
        question = REGISTER_QUESTION if source.kind == "risks" else source.question
        progress = self.progress.get(question or "")
        phase = source.phase or (self.bank.question(question).phase if question else None)
        state = self.signoffs.get(phase) if phase else None
        return {
            "source": source.text,
            "path": source.path,
            "label": self.label(source),
            "question": question,
            "used": used,
            "empty": not text.strip(),
            "revision": entry["revision"] if entry else None,
            "changed_by": person(entry.get("user")) if entry else None,
            "changed_at": entry.get("time") if entry else None,
            "status": progress.status.value if progress else None,
            "status_label": QUESTION_STATUS_LABELS[progress.status] if progress else None,
            "complete": progress.complete if progress else None,
            "phase": phase,
            "signoff": state.status if state else None,
            "signoff_summary": _signoff_summary(state, self.bank) if state else None,
        }

    # ---- one field

    def field(self, f: AtrsField) -> dict[str, Any]:
        entry = self.mapping.entry(f.id)
        sources = self.mapping.sources(f.id, self.bank)
        mine = self.public.get(f.id)
        written = mine.text.strip() if mine is not None else ""
        withheld = bool(mine is not None and mine.withheld)
        texts = [self.text(s) for s in sources]
        provenance = []
        if written:
            last = self.last.get(f"transparency.fields.{f.id}")
            provenance.append(
                {
                    "source": PUBLIC_SOURCE,
                    "path": f"transparency.fields.{f.id}",
                    "label": "The team's wording for the public record",
                    "question": None,
                    "used": True,
                    "empty": False,
                    "revision": last["revision"] if last else None,
                    "changed_by": person(  # type: ignore[union-attr]
                        (last.get("user") if last else None) or mine.updated_by or None
                    ),
                    "changed_at": (last.get("time") if last else None) or mine.updated_at,  # type: ignore[union-attr]
                    "status": None,
                    "status_label": None,
                    "complete": None,
                    "phase": None,
                    "signoff": None,
                    "signoff_summary": None,
                }
            )
            value, origin = written, "public"
        else:
            seen: list[str] = []
            for t in texts:
                t = t.strip()
                if t and t not in seen:
                    seen.append(t)
            value = "\n\n".join(seen)
            origin = "drafted" if value else "empty"
        for s, t in zip(sources, texts, strict=True):
            provenance.append(self.provenance(s, t, used=origin == "drafted" and bool(t.strip())))
        if withheld:
            status = "withheld"
        elif origin == "public":
            status = "written"
        elif origin == "drafted":
            status = "drafted"
        else:
            status = "missing" if f.required else "empty"
        return {
            "id": f.id,
            "ref": f.ref,
            "ref_checked": f.ref_checked,
            "name": f.name,
            "sheet": f.sheet,
            "tier": f.tier,
            "required": f.required,
            "prompt": f.prompt,
            "options": list(f.options),
            "value": value,
            "origin": origin,
            "status": status,
            "withheld": withheld,
            "reason": mine.reason.strip() if withheld and mine is not None else "",
            "rewrite_needed": origin == "drafted" and entry.rewrite,
            "question": self.mapping.question(f.id, self.bank),
            "provenance": provenance,
        }

    # ---- completeness

    def improve(self, f: AtrsField, field: dict[str, Any]) -> str:
        """Where to improve ``field``, in words."""
        if field["origin"] == "public":
            return "its public wording on the transparency page"
        sources = self.mapping.sources(f.id, self.bank)
        if sources:
            return "; ".join(self.label(s) for s in sources)
        q = field["question"]
        near = f" (closest question: {self._question_words(q)})" if q else ""
        return f"no workbook answer covers it: write it on the transparency page{near}"

    def _question_words(self, qid: str) -> str:
        return f"Question {self.bank.question(qid).number}"

    def problems(self, f: AtrsField, field: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        def add(kind: str, rule: str, message: str, improve: str | None = None) -> None:
            out.append(
                {
                    "kind": kind,
                    "rule": rule,
                    "field": f.id,
                    "ref": f.ref,
                    "name": f.name,
                    "sheet": f.sheet,
                    "question": field["question"],
                    "improve": improve or self.improve(f, field),
                    "message": message,
                }
            )

        if field["status"] == "missing":
            add("missing", "required", "Required, and still empty.")
        if field["origin"] == "drafted":
            behind: dict[str, str] = {}
            for p in field["provenance"]:
                qid = p["question"]
                if p["used"] and qid and p["complete"] is False and qid not in behind:
                    why = self.progress[qid].held_back
                    marked = f"{self._question_words(qid)} is marked '{p['status_label']}'"
                    behind[qid] = marked + (f" ({why})" if why else "")
            if behind:
                add(
                    "incomplete",
                    "incomplete_answer",
                    "Drafted from answers that are not complete: "
                    + "; ".join(behind.values())
                    + ".",
                )
        if field["withheld"]:
            return out
        value = field["value"]
        if f.id == "senior_responsible_owner" and value.strip():
            name = looks_like_person(value)
            if name:
                add(
                    "guidance",
                    "sro_named_person",
                    "This looks like a person's name; the guidance asks for the role title "
                    "(for example 'Director of Children's Services'), not a named person.",
                )
        if f.id == "contact_email" and value.strip():
            emails = EMAIL.findall(value)
            if not emails:
                add(
                    "guidance",
                    "no_email",
                    "No email address found; give the team mailbox that answers questions "
                    "about the tool.",
                )
            for email in emails:
                why = personal_email(email)
                if why:
                    add(
                        "guidance",
                        "personal_email",
                        f"This looks like {why}; use a team mailbox that still works when "
                        "people move on.",
                    )
        for link, why in private_links(value):
            add(
                "guidance",
                "link_not_public",
                f"The link {_clip(link)} {why}; links must open for any member of the public "
                "(else write N/A).",
            )
        if f.id == "website_url" and value.strip() and not _links(value):
            if value.strip().rstrip(".").upper() not in {"N/A", "NA"}:
                add(
                    "guidance",
                    "link_not_public",
                    "Give the address of a public web page about the tool, or N/A.",
                )
        if f.id == "appeals_and_review":
            if not value.strip():
                add(
                    "guidance",
                    "no_appeals_route",
                    "No appeals route stated: say how a person can challenge an outcome "
                    "(required where UK GDPR Article 22 applies), or why no route is needed.",
                )
            elif not APPEAL_WORDS.search(value):
                add(
                    "guidance",
                    "no_appeals_route",
                    "The text does not say how a person can challenge or ask for a review "
                    "of an outcome.",
                )
        return out


# --------------------------------------------------------------------------- drafting sources


def _line(text: str) -> str:
    return " ".join(str(text).split())


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _risks_text(wb: WorkbookBase) -> str:
    """Each risk not closed, highest remaining first, as ``- title: band after mitigation.
    Mitigations: ...``."""
    from workbook.risks import risk_rows

    register = wb.risks  # type: ignore[attr-defined]
    lines = []
    for row in risk_rows(register):
        if row.status == "closed":
            continue
        risk = register.items[row.id]
        if row.after_band:
            level = f"{row.after_band} after mitigation"
        elif row.before_band:
            level = f"{row.before_band} before mitigation (not yet rated after)"
        else:
            level = "not rated yet"
        mitigations = "; ".join(_line(m.text).rstrip(".") for m in risk.mitigations)
        text = f"- {_line(risk.title)}: {level}."
        text += f" Mitigations: {mitigations}." if mitigations else " No mitigation recorded yet."
        lines.append(text)
    return "\n".join(lines)


def _actions_text(wb: WorkbookBase, bank: Bank) -> str:
    """The open further-work actions, as planned work."""
    from workbook.review import action_plan

    rows = [r for r in action_plan(wb, bank=bank) if r.status == "open"]
    if not rows:
        return ""
    lines = ["Further work planned:"]
    for r in rows:
        due = f", by {day(r.due)}" if r.due else ""
        lines.append(f"- {_line(r.action).rstrip('.')}{due}.")
    return "\n".join(lines)


def _signoff_text(state: SignOffState, bank: Bank) -> str:
    """A signed-off phase in a line (no names); "" for a phase not signed off."""
    title = bank.phase(state.phase_id).title
    if state.record is None:
        return ""
    text = f"{title}: {state.decision_label.lower()} on {day(state.record.signed_at)}"
    if state.status == "out_of_date":
        text += f" (it has changed since revision {state.record.revision})"
    return text + "."


def _signoff_summary(state: SignOffState, bank: Bank) -> str:
    title = bank.phase(state.phase_id).title
    r = state.record
    if r is None:
        return f"{title}: not signed off"
    role = f" ({r.role})" if r.role else ""
    line = (
        f"{title}: {state.decision_label} by {r.reviewer}{role}, {day(r.signed_at)}, "
        f"revision {r.revision}"
    )
    if state.status == "out_of_date":
        return f"{line}; out of date: changed since"
    return f"{line}; current"


# --------------------------------------------------------------------------- guidance checks


EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PERSONAL_DOMAINS = re.compile(
    r"^(?:gmail|googlemail|hotmail|outlook|live|msn|yahoo|ymail|icloud|me|mac|aol|"
    r"protonmail|proton|gmx|btinternet|sky|virginmedia|talktalk|mail)\.",
    re.IGNORECASE,
)
MAILBOX_WORDS = frozenset(
    """
    admin analytics board care children contact data digital dpo early enquiries enquiry ethics
    family families feedback foi governance help helpdesk hub info information insight ig
    mailbox office panel privacy project records service services social support team
    transparency
    """.split()
)
ROLE_WORDS = frozenset(
    """
    head director deputy assistant chief executive officer manager lead leader owner
    principal senior service services strategic corporate operations operational data
    digital information insight governance children childrens family families social care
    early help council county borough city district team group board panel committee
    analytics science scientist engineer product programme project practice quality
    safeguarding education health adult adults commissioning performance policy
    responsible accountable controller protection privacy transformation interim acting
    """.split()
)
HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Cllr)\.?\s+[A-Z][\w'-]*")
_NAME_WORD = re.compile(r"^[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*$")


def looks_like_person(text: str) -> str | None:
    """The part of ``text`` that looks like a person's name (``Priya Nair`` in ``Priya
    Nair, Head of Data``), or None when it reads as a role title. A heuristic: two to four
    capitalised words with none of the words roles and teams are made of, or an honorific
    (Mr, Dr, Cllr...) before a capitalised word."""
    found = HONORIFIC.search(text)
    if found:
        return found.group(0)
    for segment in re.split(r"[,;()\n/–—|]| - ", text):
        words = segment.replace("\u2019", "'").split()
        if not 2 <= len(words) <= 4:
            continue
        if all(_NAME_WORD.match(w) for w in words) and not any(
            w.lower().replace("'s", "").rstrip("s'") in ROLE_WORDS or w.lower() in ROLE_WORDS
            for w in words
        ):
            return " ".join(words)
    return None


def personal_email(address: str) -> str | None:
    """Why ``address`` looks personal (``a personal email service``, ``a person's name``),
    or None for what looks like a team mailbox."""
    local, _, domain = address.partition("@")
    if PERSONAL_DOMAINS.match(domain):
        return "an address at a personal email service"
    parts = re.split(r"[._-]", local.lower())
    if any(p in MAILBOX_WORDS for p in parts):
        return None
    if len(parts) >= 2 and all(p.isalpha() for p in parts) and len(parts[-1]) >= 2:
        return "a person's address (firstname.lastname)"
    return None


_MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?[^)]*\)")
_BARE_URL = re.compile(r"(?i)\b(?:https?|ftp|file|smb)://[^\s<>()\[\]]+")
_WWW = re.compile(r"(?i)(?<![/\w.@-])www\.[^\s<>()\[\]]+")
_UNC = re.compile(r"(?<![\w/])\\\\[A-Za-z0-9._-]+\\[^\s]*")
_WINDOWS_PATH = re.compile(r"(?<![\w/])[A-Za-z]:\\[^\s]*")
PRIVATE_SUFFIXES = (".local", ".internal", ".intranet", ".lan", ".corp", ".home", ".localdomain")
LOGIN_HOSTS = ("sharepoint.com", "teams.microsoft.com", "sharepoint.", "intranet.", "intra.")


def _links(text: str) -> list[str]:
    links = _MD_LINK.findall(text) + _BARE_URL.findall(text) + _WWW.findall(text)
    links += _UNC.findall(text) + _WINDOWS_PATH.findall(text)
    return list(dict.fromkeys(link.rstrip(".,;:'\"") for link in links))


def private_links(text: str) -> list[tuple[str, str]]:
    """Each link in ``text`` that a member of the public could not open, with why:
    a file path or share, a scheme other than http(s) (mailto is fine), a local or
    private-network host, a host with no domain, or a site that usually needs a login."""
    out = []
    for link in _links(text):
        why = _why_private(link)
        if why:
            out.append((link, why))
    return out


def _why_private(link: str) -> str | None:
    if link.startswith("\\\\") or re.match(r"[A-Za-z]:\\", link):
        return "is a file on a network share or a computer"
    if link.lower().startswith("www."):
        link = "http://" + link
    parts = urlsplit(link)
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return None
    if scheme not in {"http", "https"}:
        return f"uses {scheme or 'no'}: rather than a web address"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "has no host"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return "points at a private network address" if not ip.is_global else None
    if host == "localhost" or host.endswith(".localhost"):
        return "points at this computer (localhost)"
    if "." not in host:
        return "has a host with no domain, as on an intranet"
    if host.endswith(PRIVATE_SUFFIXES):
        return "is on a private network domain"
    if any(h in host for h in LOGIN_HOSTS):
        return "is on an intranet or document site that usually needs a login"
    return None


APPEAL_WORDS = re.compile(
    r"(?i)\b(?:appeal|challeng|complain|complaint|review|dispute|object|contest|"
    r"ask for|contact|question)"
)
