"""The report: a filled workbook as a document an oversight group can read and sign.

:func:`build_report` turns a project into plain data (a dict that JSON can hold). The
renderers turn that data into sanitised HTML (:func:`report_html`) and Markdown
(:func:`report_markdown`). ``notebooks/report.ipynb`` displays all three in one output, so
every export format (HTML, PDF, Word, Markdown) comes from the same executed notebook.

Answers are user-written markdown. They are rendered with raw HTML escaped and harmful
links dropped (mistune), then cleaned again with an allowlist (nh3), so no script, event
handler or ``javascript:`` link reaches any export. Nothing here names a file-system path.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from workbook.bank import PHASE_IDS, Bank, NotePart, load_bank
from workbook.model import (
    CHECKLIST_STATUS_LABELS,
    INFORMED_BY_GROUPS,
    QUESTION_STATUS_LABELS,
    ChecklistStatus,
    QuestionStatus,
    WorkbookBase,
)
from workbook.progress import held_back, project_progress
from workbook.settings import DEFAULT_MARKING

REPORT_MIME = "application/vnd.ethics-workbook.report+json"
NOT_ANSWERED = "Not answered yet."
NOT_ASSESSED = "Not assessed yet"
NO_NOTE = "No note."

# --------------------------------------------------------------------------- data


def build_report(
    workbook: WorkbookBase,
    bank: Bank | None = None,
    *,
    exported_at: datetime | None = None,
    changes: dict[str, list[Any] | None] | None = None,
    marking: str | None = None,
) -> dict[str, Any]:
    """Everything the documents show, as JSON-ready data.

    ``changes`` maps each phase id to its :class:`~workbook.review.FieldChange` list since
    its last sign-off (None: never signed off); see :func:`signoff_changes`. Without it the
    report has no "changes since last sign-off" sections. ``marking`` is the protective
    marking (default: the project's own, else OFFICIAL; :func:`display_report` also looks at
    the workspace's settings).
    """
    from workbook import review

    bank = bank or load_bank(workbook.edition)  # type: ignore[attr-defined]
    exported_at = exported_at or datetime.now(timezone.utc)
    info = workbook.project
    plan = review.action_plan(workbook, today=exported_at.astimezone().date(), bank=bank)
    overdue = {(r.question_id, r.index) for r in plan if r.overdue}
    threads_by_target: dict[str, list[dict[str, Any]]] = {}
    for view in review.threads(workbook, bank=bank):
        threads_by_target.setdefault(view.target, []).append(_thread(view))
    phases_progress = project_progress(workbook, bank)
    phases = []
    outstanding = []
    for phase, progress in zip(bank.phases, phases_progress, strict=True):
        checklist = []
        for item in phase.checklist:
            entry = workbook.checklist_entry(phase.id, item.id)
            checklist.append(
                {
                    "id": f"{phase.id}.{item.id}",
                    "text": item.text,
                    "status": entry.status.value if entry.status else None,
                    "status_label": _checklist_label(entry.status),
                    "note": entry.note,
                    "threads": threads_by_target.get(f"{phase.id}.checklist.{item.id}", []),
                }
            )
        questions = []
        for q in phase.questions:
            answer = workbook.answer(q.id)
            notes = answer.prompts.model_dump()  # type: ignore[attr-defined]
            prompts = []
            for part in q.parts:
                if isinstance(part, NotePart):
                    prompts.append(_prompt(part.note, 0, notes, lead=""))
                    continue
                for i, prompt in enumerate(part.prompts):
                    prompts.append(_prompt(prompt, 0, notes, lead=part.lead if i == 0 else ""))
                    prompts.extend(_prompt(child, 1, notes, lead="") for child in prompt.children)
            informed = answer.informed_by
            record = {
                "id": q.id,
                "number": q.number,
                "text": q.text,
                "prompts": prompts,
                "response": answer.response,
                "status": answer.status.value,
                "status_label": QUESTION_STATUS_LABELS[answer.status],
                "informed_by": [
                    label for key, label in INFORMED_BY_GROUPS.items() if getattr(informed, key)
                ],
                "informed_note": informed.note,
                "evidence": [e.model_dump(mode="json") for e in answer.evidence],
                # Evidence notebooks re-run at export: filled in by attach_analyses.
                "analyses": [],
                "further_work": [
                    {**a.model_dump(mode="json"), "overdue": (q.id, i) in overdue}
                    for i, a in enumerate(answer.further_work)
                ],
                "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
                "updated_by": person(answer.updated_by),
                "help": [p.resource for p in q.help.pointers],
                "threads": threads_by_target.get(q.id, []),
            }
            questions.append(record)
            reasons = []
            if not answer.response.strip():
                reasons.append("not answered")
            if answer.status is QuestionStatus.further_work_needed:
                reasons.append("further work needed")
            why = held_back(workbook, q.id)
            if why:
                reasons.append(why)
            if reasons:
                outstanding.append(
                    {"id": q.id, "number": q.number, "text": q.text, "reasons": reasons}
                )
        phases.append(
            {
                "id": phase.id,
                "title": phase.title,
                "stages": phase.stages,
                "checklist_lead": phase.checklist_lead,
                "checklist": checklist,
                "note": getattr(workbook.phases, phase.id).note,  # type: ignore[attr-defined]
                "questions": questions,
                "signoff": _signoff(review.signoff_state(workbook, phase.id)),
                "changes": None
                if changes is None
                else _changes(changes.get(phase.id), workbook, phase.id),
                "progress": {
                    "questions": progress.questions_total,
                    "complete": progress.complete,
                    "answered": progress.answered,
                    "further_work": progress.further_work,
                    "prompts_noted": progress.prompts_noted,
                    "prompts": progress.prompts_total,
                    "checklist_done": progress.checklist_done,
                    "checklist": progress.checklist_total,
                    "percent": round(progress.fraction * 100),
                },
            }
        )
    return {
        "project": {
            "id": info.id,
            "tool_name": info.tool_name,
            "local_authority": info.local_authority,
            "owner": info.owner,
            "oversight_group": info.oversight_group,
            "description": info.description,
        },
        "marking": marking or info.marking or DEFAULT_MARKING,
        "language": "en-GB",
        "edition": workbook.edition,  # type: ignore[attr-defined]
        "publication": f"{bank.title}, {bank.publisher.split(',')[0]}, {bank.published}",
        "revision": workbook.revision,
        "exported_at": exported_at.isoformat(),
        "title": bank.title,
        "subtitle": bank.subtitle,
        "attribution": bank.attribution,
        "phases": phases,
        "outstanding": outstanding,
        "open_challenges": [
            {
                **_thread(v),
                "target_label": v.target_label,
                "anchor": _anchor(v.target, bank, workbook),
            }
            for v in review.open_challenges(workbook, bank=bank)
        ],
        "actions": [
            {
                "question_id": r.question_id,
                "question_number": r.question_number,
                "phase_id": r.phase_id,
                "index": r.index,
                "action": r.action,
                "owner": r.owner,
                "due": r.due.isoformat() if r.due else None,
                "status": r.status,
                "overdue": r.overdue,
            }
            for r in plan
        ],
        "changes_included": changes is not None,
        "risks": register_report(
            workbook, bank, today=exported_at.astimezone().date(), threads=threads_by_target
        ),
        "framework": framework_view(workbook, bank),
    }


def framework_view(workbook: WorkbookBase, bank: Bank) -> dict[str, Any]:
    """The Data Ethics Framework cross-walk (see :func:`workbook.transparency.framework_view`)."""
    from workbook.transparency import framework_view as view

    return view(workbook, bank)


def register_report(
    workbook: WorkbookBase,
    bank: Bank,
    *,
    today: Any = None,
    threads: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The risk register as report data: the scale, every risk (highest remaining score
    first, numbered R1, R2 ... in that order), the heat map before and after mitigation,
    and each category's coverage."""
    from workbook import risks
    from workbook.risk_content import load_risk_content

    register = workbook.risks  # type: ignore[attr-defined]
    content = load_risk_content()
    groups = {g.id: g.label for g in content.affected_groups}
    scale = register.scale
    rows = risks.risk_rows(register, today=today)
    numbers = {row.id: f"R{i}" for i, row in enumerate(rows, 1)}
    items = []
    for row in rows:
        r = register.items[row.id]
        items.append(
            {
                "id": row.id,
                "number": numbers[row.id],
                "title": r.title,
                "description": r.description,
                "category": r.category,
                "category_name": row.category_name,
                "affected": [groups.get(g, g) for g in r.affected],
                "questions": [bank.question(q).number for q in r.questions],
                "cause": r.cause,
                "before": {
                    "score": row.before,
                    "band": row.before_band,
                    "band_id": _band_id(scale, row.before),
                    "likelihood": r.before.likelihood,
                    "impact": r.before.impact,
                },
                "after": {
                    "score": row.after,
                    "band": row.after_band,
                    "band_id": _band_id(scale, row.after),
                    "likelihood": r.after.likelihood,
                    "impact": r.after.impact,
                },
                "mitigations": [
                    {
                        "text": m.text,
                        "action": (
                            f"Question {bank.question(m.action.question).number}, action "
                            f"{m.action.index + 1}"
                            if m.action
                            else ""
                        ),
                        # as in the register's CSV: "q7#1"
                        "ref": f"{m.action.question}#{m.action.index + 1}" if m.action else "",
                    }
                    for m in r.mitigations
                ],
                "owner": r.owner,
                "status": r.status,
                "review_by": r.review_by.isoformat() if r.review_by else None,
                "review_overdue": row.review_overdue,
                "note": r.note,
                "threads": (threads or {}).get(f"risk.{row.id}", []),
            }
        )
    grid = risks.heat_map(register)
    return {
        "scale": {
            "name": scale.name,
            "likelihood_name": scale.likelihood_name,
            "impact_name": scale.impact_name,
            "likelihood": [{"value": lv.value, "label": lv.label} for lv in scale.likelihood],
            "impact": [{"value": lv.value, "label": lv.label} for lv in scale.impact],
            "bands": [
                {"id": b.id, "label": b.label, "min": b.min, "max": b.max} for b in scale.bands
            ],
        },
        "items": items,
        "heatmap": [
            [
                {
                    "likelihood": c.likelihood,
                    "impact": c.impact,
                    "score": c.score,
                    "band_id": c.band_id,
                    "band": c.band_label,
                    "before": sorted((numbers[x] for x in c.before), key=_number_order),
                    "after": sorted((numbers[x] for x in c.after), key=_number_order),
                }
                for c in row
            ]
            for row in grid
        ],
        "coverage": [
            {
                "id": c.id,
                "name": c.name,
                "risks": c.risks,
                "reason": c.reason,
                "covered": c.covered,
                "how": c.how,
            }
            for c in risks.coverage(register)
        ],
        "uncovered": [c.name for c in risks.uncovered(register)],
    }


def _band_id(scale: Any, value: int | None) -> str:
    from workbook import risks

    b = risks.band(scale, value)
    return b.id if b else ""


def _number_order(number: str) -> int:
    """R2 before R10."""
    return int(number[1:])


MACHINE_NAMES = frozenset({"root", "unknown", "nobody", "jovyan", "setup", "system"})
"""Login names that are a machine's, not a person's: a document says nothing rather than
"Last changed by root"."""


def person(name: str | None) -> str | None:
    """``name`` if it could be a person's, else None."""
    if not name or not name.strip() or name.strip().lower() in MACHINE_NAMES:
        return None
    return name


def signoff_changes(store: Any, workbook: WorkbookBase) -> dict[str, list[Any] | None]:
    """Each phase's changes since its last sign-off (None: never signed off)."""
    from workbook import review

    return {
        phase_id: review.changes_since_signoff(store, workbook, phase_id) for phase_id in PHASE_IDS
    }


def _thread(view: Any) -> dict[str, Any]:
    th = view.thread
    return {
        "id": view.id,
        "target": view.target,
        "phase_id": view.phase_id,
        "kind": th.kind.value,
        "kind_label": th.kind.label,
        "author": th.author,
        "role": th.role,
        "created_at": th.created_at.isoformat(),
        "text": th.text,
        "resolved": th.resolved,
        "resolved_by": th.resolved_by,
        "resolved_at": th.resolved_at.isoformat() if th.resolved_at else None,
        "replies": [
            {"author": r.author, "created_at": r.created_at.isoformat(), "text": r.text}
            for r in sorted(th.replies.values(), key=lambda r: r.created_at)
        ],
    }


def _anchor(target: str, bank: Bank, workbook: Any = None) -> str:
    """The id of the report section a comment target is shown in."""
    if target.startswith("risk."):  # the risk's block in the register, or the register
        register = getattr(workbook, "risks", None)
        return f"risk-{target[5:]}" if register and target[5:] in register.items else "risks"
    if "." in target:
        return target.split(".", 1)[0]
    return f"q{bank.question(target).number}"


def _signoff(state: Any) -> dict[str, Any]:
    r = state.record
    return {
        "status": state.status,
        "summary": state.summary,
        "decision": r.decision.value if r else None,
        "decision_label": state.decision_label,  # "Approved with 2 questions incomplete"
        "incomplete_questions": r.incomplete_questions if r else None,
        "reviewer": r.reviewer if r else None,
        "role": r.role if r else None,
        "signed_at": r.signed_at.isoformat() if r else None,
        "conditions": r.conditions if r else "",
        "revision": r.revision if r else None,
    }


def _changes(fields: list[Any] | None, workbook: WorkbookBase, phase_id: str) -> dict[str, Any]:
    from workbook import review

    record = getattr(workbook.review.signoffs, phase_id)  # type: ignore[attr-defined]
    if fields is None or record is None:
        return {"signed": False, "since_revision": None, "fields": []}
    out = []
    for c in fields:
        if c.is_text:
            old, new = c.old or "", c.new or ""
            diff = [list(op) for op in review.word_diff(old, new)]
        else:  # a status, a tick box or a list: the whole value, before -> after
            old, new = review.format_value(c.path, c.old), review.format_value(c.path, c.new)
            diff = [["delete", old], ["equal", " → "], ["insert", new]]
        out.append(
            {
                "path": c.path,
                "label": c.label,
                "is_text": c.is_text,
                "old": old,
                "new": new,
                "diff": diff,
                "users": list(c.users),
                "revisions": list(c.revisions),
                "time": c.time,
            }
        )
    return {"signed": True, "since_revision": record.revision, "fields": out}


def _prompt(prompt: Any, depth: int, notes: dict[str, str], *, lead: str) -> dict[str, Any]:
    return {
        "id": prompt.id,
        "text": prompt.text,
        "kind": prompt.kind,
        "depth": depth,
        "lead": lead,
        "note": notes.get(prompt.id, ""),
    }


def _checklist_label(status: ChecklistStatus | None) -> str:
    return CHECKLIST_STATUS_LABELS[status] if status else NOT_ASSESSED


# --------------------------------------------------------------------------- notebook


def display_report(
    project: str, workspace: str | None = None, *, changes: bool = False, preview: bool = True
) -> None:
    """Show the report in a notebook: HTML, Markdown and the data, in one output.

    ``changes=True`` adds each phase's changes since its last sign-off. ``preview=False``
    (what the export asks for) sends only the data, and a line of text: the export renders
    every document from the data itself.
    """
    from IPython.display import display

    from workbook.settings import marking_for
    from workbook.store import Store

    store = Store(workspace)
    wb = store.open(project)
    report = build_report(
        wb,
        changes=signoff_changes(store, wb) if changes else None,
        marking=marking_for(wb.project.marking, store.root),
    )
    summary = f"Report data for {wb.project.tool_name}, revision {wb.revision}"
    if not preview:
        display({"text/plain": summary, REPORT_MIME: report}, raw=True)
        return
    from workbook.export.render import report_html, report_markdown

    display(
        {
            "text/html": report_html(report),
            "text/markdown": report_markdown(report),
            "text/plain": summary,
            REPORT_MIME: report,
        },
        raw=True,
    )


def attach_analyses(report: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> None:
    """Put each question's evidence-notebook runs (:func:`workbook.export.evidence.run_evidence`)
    under the question, as ``analyses``, each with its provenance in words."""
    from workbook.export.dates import moment

    for phase in report["phases"]:
        for q in phase["questions"]:
            q["analyses"] = [
                {
                    **run,
                    "ran_at_label": moment(run["ran_at"]),
                    "short_hash": run["sha256"][:12],
                    "status_label": {
                        "passed": "Passed",
                        "failed": f"Failed ({run.get('error') or 'error'})",
                        "refused": "Not run: refused",
                    }.get(run["status"], run["status"]),
                    "ran_by": person(run.get("ran_by", "")),
                }
                for run in runs.get(q["id"], [])
            ]
