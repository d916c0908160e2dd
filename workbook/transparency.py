"""The team's own wording for the public transparency record (ATRS), field by field.

A draft record (:mod:`workbook.atrs`) is made from the answers; where an answer is written
for colleagues, the team rewrites it for a public reader here, or withholds the field with a
reason. The wording is saved in the project (``transparency.fields.<field id>``), through the
store, with the history, so it survives every later draft. Only an author may change it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from workbook.errors import WorkbookError
from workbook.roles import Action, Actor, as_actor

_UNSET: Any = object()


def known_field_ids() -> frozenset[str]:
    """The ids of the fields of the current ATRS version."""
    from workbook.atrs_content import load_atrs

    return frozenset(f.id for f in load_atrs().fields)


def set_public_field(
    store: Any,
    project_id: str,
    field_id: str,
    *,
    user: str | Actor,
    text: str | None = None,
    withheld: bool | None = None,
    reason: str | None = None,
    shown: Any = _UNSET,
    base_revision: int | None = None,
) -> Any:
    """Save the public wording of ``field_id`` (or withhold it, with a reason).

    ``shown`` is the record the person was shown (its dict, or None) and ``base_revision``
    the project's revision then: if someone changed the record since, the save is a
    conflict naming them, never an overwrite.
    """
    from workbook.model import PublicField
    from workbook.review import SAVE_RULES
    from workbook.store import Change

    actor = as_actor(user)
    current = store.open(project_id)
    actor.require_member(project_id, current.project.members)
    role = actor.require(Action.edit)
    path = f"transparency.fields.{field_id}"
    known = known_field_ids()
    if field_id not in known:
        raise WorkbookError(
            f"unknown ATRS field {field_id!r}; see `workbook atrs {project_id}` for the fields",
            path=store.answers_path(project_id),
            field=path,
        )
    before = current.transparency.fields.get(field_id)
    if shown is _UNSET:
        shown = before.model_dump(mode="json") if before else None
    old = before or PublicField()
    record = {
        "text": old.text if text is None else text,
        "withheld": old.withheld if withheld is None else withheld,
        "reason": old.reason if reason is None else reason,
    }
    if record["withheld"] and not record["reason"].strip():
        raise WorkbookError(
            "give the reason the field is withheld (the exemption, in a short phrase)",
            path=store.answers_path(project_id),
            field=f"{path}.reason",
        )
    if before is not None and {k: getattr(before, k) for k in record} == record:
        return current  # nothing changed
    new = PublicField(
        **record,
        updated_by=actor.name,
        updated_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")
    return store.apply(
        project_id,
        [Change(path, shown, new)],
        user=actor.name,
        base_revision=current.revision if base_revision is None else base_revision,
        rules=SAVE_RULES,
        role=role if actor.enforced else "",
    )


# --------------------------------------------------------------------------- the framework


def framework_view(workbook: Any, bank: Any = None) -> dict[str, Any]:
    """The Data Ethics Framework against this workbook, JSON-ready: for each of its actions
    and principles, the questions (or prompts) that serve it, their status, and the gaps
    (those not complete yet). The cross-walk is content (``data-ethics-framework.yaml``)."""
    from workbook.atrs_content import load_framework
    from workbook.bank import load_bank
    from workbook.progress import question_progress

    fw = load_framework()
    bank = bank or load_bank()
    progress = {q.id: question_progress(workbook, q) for q in bank.questions}

    def rows(kind: str, items: Any) -> list[dict[str, Any]]:
        out = []
        for item in items:
            questions = []
            seen: dict[str, dict[str, Any]] = {}
            for qid, pid in fw.questions_serving(kind, item.id):  # type: ignore[arg-type]
                if qid in seen:  # a prompt of a question already listed
                    if pid:
                        seen[qid]["prompts"].append(bank.question(qid).prompt(pid).text)
                    continue
                q = bank.question(qid)
                p = progress[qid]
                entry = {
                    "id": qid,
                    "number": q.number,
                    "text": q.text,
                    "prompts": [q.prompt(pid).text] if pid else [],
                    "status": p.status.label,
                    "complete": p.complete,
                    "held_back": p.held_back,
                }
                seen[qid] = entry
                questions.append(entry)
            questions.sort(key=lambda e: e["number"])
            out.append(
                {
                    "id": item.id,
                    "number": getattr(item, "number", None),
                    "name": item.name,
                    "description": item.description,
                    "questions": questions,
                    "gaps": [e["number"] for e in questions if not e["complete"]],
                }
            )
        return out

    return {
        "name": fw.name,
        "publisher": fw.publisher,
        "actions": rows("actions", fw.actions),
        "principles": rows("principles", fw.principles),
    }
