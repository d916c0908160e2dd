"""The risk register: scores, bands, category coverage and the checks that tie a register
to the content, the bank and the workbook's further-work actions. Pure logic: saving goes
through :mod:`workbook.store` (:func:`add_risk`, :func:`update_risk`, :func:`consider`).

A project's register (``risks`` in its answers file) holds the scale it is scored on, a
copy made when the project was created, so a later change of the packaged scales
(``content/digital-ethics-categories.yaml``) does not reword old assessments.

Every one of the seven digital ethics categories must be *covered*: by at least one risk,
or by a note that the team considered it and why it does not apply. A reason of fewer than
:data:`MIN_REASON_WORDS` words does not count.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from workbook.bank import load_bank
from workbook.errors import WorkbookError

MIN_REASON_WORDS = 4
"""A "considered, not relevant because ..." reason needs at least a short sentence."""

_WORD = re.compile(r"[^\W\d_]{2,}|\d+")


# --------------------------------------------------------------------------- scoring


def score(scale: Any, rating: Any) -> int | None:
    """Likelihood times impact, or None while either is unrated."""
    if rating is None or rating.likelihood is None or rating.impact is None:
        return None
    return rating.likelihood * rating.impact


def band(scale: Any, value: int | None) -> Any | None:
    """The scale's band (low, medium, high, very high...) that ``value`` falls in."""
    if value is None:
        return None
    for b in scale.bands:
        if b.min <= value <= b.max:
            return b
    return None


def reason_counts(reason: str | None) -> bool:
    """Whether a "considered, not relevant" reason is a real one (a short sentence)."""
    return len(_WORD.findall(reason or "")) >= MIN_REASON_WORDS


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CategoryCoverage:
    id: str
    name: str
    risks: int
    reason: str
    covered: bool

    @property
    def how(self) -> str:
        if self.risks:
            return f"{self.risks} risk{'s' if self.risks != 1 else ''}"
        if self.covered:
            return "considered, not relevant"
        if self.reason.strip():
            return "not covered: the reason given is too short"
        return "not considered yet"


def coverage(register: Any) -> list[CategoryCoverage]:
    """Each category, in the content's order, with how it is covered."""
    from workbook.risk_content import load_risk_content

    counts: dict[str, int] = {}
    for risk in register.items.values():
        counts[risk.category] = counts.get(risk.category, 0) + 1
    out = []
    for cat in load_risk_content().categories:
        considered = register.considered.get(cat.id)
        reason = considered.reason if considered else ""
        n = counts.get(cat.id, 0)
        out.append(CategoryCoverage(cat.id, cat.name, n, reason, bool(n) or reason_counts(reason)))
    return out


def uncovered(register: Any) -> list[CategoryCoverage]:
    return [c for c in coverage(register) if not c.covered]


# --------------------------------------------------------------------------- checks


def register_problems(register: Any, answers: Any) -> list[tuple[str, str]]:
    """Everything in ``register`` that refers to something that does not exist, as
    (field path, message): unknown category, group or question; a rating off the
    project's scale; a mitigation linked to a further-work action that is not there."""
    from workbook.risk_content import load_risk_content

    content = load_risk_content()
    categories = {c.id for c in content.categories}
    groups = {g.id for g in content.affected_groups}
    questions = set(load_bank().question_ids)
    sizes = {"likelihood": len(register.scale.likelihood), "impact": len(register.scale.impact)}
    out: list[tuple[str, str]] = []
    for cid in register.considered:
        if cid not in categories:
            out.append((f"risks.considered.{cid}", _unknown("category", cid, categories)))
    for rid, risk in register.items.items():
        at = f"risks.items.{rid}"
        if risk.category not in categories:
            out.append((f"{at}.category", _unknown("category", risk.category, categories)))
        for i, g in enumerate(risk.affected):
            if g not in groups:
                out.append((f"{at}.affected.{i}", _unknown("affected group", g, groups)))
        for i, q in enumerate(risk.questions):
            if q not in questions:
                out.append((f"{at}.questions.{i}", f"no question {q!r} in the workbook"))
        for when in ("before", "after"):
            rating = getattr(risk, when)
            for axis, top in sizes.items():
                value = getattr(rating, axis)
                if value is not None and value > top:
                    out.append(
                        (
                            f"{at}.{when}.{axis}",
                            f"{axis} {value} is off the project's scale ({register.scale.name}: "
                            f"1 to {top})",
                        )
                    )
        for i, m in enumerate(risk.mitigations):
            link = m.action
            if link is None:
                continue
            actions = (
                getattr(answers, link.question).further_work if link.question in questions else []
            )
            if link.index >= len(actions):
                out.append(
                    (
                        f"{at}.mitigations.{i}.action",
                        f"links to further-work action {link.index + 1} of {link.question}, "
                        f"which does not exist ({link.question} has {len(actions)})",
                    )
                )
    return out


def _unknown(what: str, value: str, known: set[str]) -> str:
    return f"unknown {what} {value!r}; choose from {', '.join(sorted(known))}"


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class RiskRow:
    id: str
    title: str
    category: str
    category_name: str
    before: int | None
    before_band: str
    after: int | None
    after_band: str
    owner: str
    status: str
    review_by: date | None
    review_overdue: bool
    actions: tuple[str, ...]


def risk_rows(register: Any, *, today: date | None = None) -> list[RiskRow]:
    """The register as rows, highest remaining score first (unrated last)."""
    from workbook.risk_content import load_risk_content

    names = {c.id: c.name for c in load_risk_content().categories}
    today = today or datetime.now(timezone.utc).date()
    rows = []
    for rid, r in register.items.items():
        before, after = score(register.scale, r.before), score(register.scale, r.after)
        bb, ab = band(register.scale, before), band(register.scale, after)
        rows.append(
            RiskRow(
                id=rid,
                title=r.title,
                category=r.category,
                category_name=names.get(r.category, r.category),
                before=before,
                before_band=bb.label if bb else "",
                after=after,
                after_band=ab.label if ab else "",
                owner=r.owner,
                status=r.status,
                review_by=r.review_by,
                review_overdue=bool(r.review_by and r.review_by < today and r.status != "closed"),
                actions=tuple(
                    f"{m.action.question}#{m.action.index + 1}" for m in r.mitigations if m.action
                ),
            )
        )
    residual = [row.after if row.after is not None else row.before for row in rows]
    order = sorted(range(len(rows)), key=lambda i: (residual[i] is None, -(residual[i] or 0)))
    return [rows[i] for i in order]


def new_risk_id() -> str:
    return "r-" + secrets.token_hex(4)


# --------------------------------------------------------------------------- saving


def add_risk(store: Any, project_id: str, *, user: Any, **fields: Any) -> tuple[Any, str]:
    """Add a risk (``title`` and ``category`` at least); returns (workbook, risk id)."""
    current, name, role = _editing(store, project_id, user)
    rid = new_risk_id()
    data = {
        "created_at": datetime.now(timezone.utc).isoformat(),
        "created_by": name,
        **fields,
    }
    risk = _valid_risk(data, "risks.items.(new)")
    return _save(store, project_id, current, [(f"risks.items.{rid}", None, risk)], name, role), rid


def update_risk(store: Any, project_id: str, risk_id: str, *, user: Any, **fields: Any) -> Any:
    """Change fields of a risk (for example ``after={"likelihood": 2, "impact": 3}``)."""
    current, name, role = _editing(store, project_id, user)
    old = current.risks.items.get(risk_id)  # type: ignore[attr-defined]
    if old is None:
        raise WorkbookError(f"no risk {risk_id!r} in project {project_id!r}", field="risk")
    new = _valid_risk({**old.model_dump(mode="json"), **fields}, f"risks.items.{risk_id}")
    before = old.model_dump(mode="json")
    changes = [
        (f"risks.items.{risk_id}.{k}", before.get(k), v)
        for k, v in new.items()
        if before.get(k) != v
    ]
    return _save(store, project_id, current, changes, name, role) if changes else current


def _valid_risk(data: dict[str, Any], at: str) -> dict[str, Any]:
    """``data`` as a saved risk, or a WorkbookError naming the field (never a pydantic
    error with its internals)."""
    from pydantic import ValidationError

    from workbook.model import Risk

    try:
        return Risk.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).split(" (got ", 1)[0]
        raise WorkbookError(message, field=f"{at}.{field}" if field else at) from None


def consider(store: Any, project_id: str, category: str, reason: str, *, user: Any) -> Any:
    """Record that ``category`` was considered and does not apply, and why."""
    if not reason_counts(reason):
        raise WorkbookError(
            f"say why the category does not apply, in a sentence (at least {MIN_REASON_WORDS} "
            "words)",
            field=f"risks.considered.{category}",
        )
    current, name, role = _editing(store, project_id, user)
    entry = {"reason": reason.strip(), "by": name, "at": datetime.now(timezone.utc).isoformat()}
    old = current.risks.considered.get(category)  # type: ignore[attr-defined]
    path = f"risks.considered.{category}"
    return _save(
        store,
        project_id,
        current,
        [(path, old.model_dump(mode="json") if old else None, entry)],
        name,
        role,
    )


def _editing(store: Any, project_id: str, user: Any) -> tuple[Any, str, str]:
    from workbook.roles import Action, as_actor

    actor = as_actor(user)
    current = store.open(project_id)
    actor.require_member(project_id, current.project.members)
    role = actor.require(Action.edit)
    return current, actor.name, role if actor.enforced else ""


def _save(store: Any, project_id: str, current: Any, changes: list, name: str, role: str) -> Any:
    from workbook.review import SAVE_RULES
    from workbook.store import Change

    return store.apply(
        project_id,
        [Change(path, old, new) for path, old, new in changes],
        user=name,
        base_revision=current.revision,
        rules=SAVE_RULES,
        role=role,
    )


RISK_CSV_COLUMNS = (
    "id",
    "title",
    "category",
    "score before",
    "band before",
    "score after",
    "band after",
    "owner",
    "status",
    "review by",
    "review overdue",
    "linked actions",
)


def risks_csv(rows: list[RiskRow]) -> str:
    """The register as CSV (header row); cells a spreadsheet would run are made text."""
    import csv
    import io

    from workbook.review import _cell

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(RISK_CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(str(v))
                for v in (
                    r.id,
                    r.title,
                    r.category_name,
                    "" if r.before is None else r.before,
                    r.before_band,
                    "" if r.after is None else r.after,
                    r.after_band,
                    r.owner,
                    r.status,
                    r.review_by.isoformat() if r.review_by else "",
                    "yes" if r.review_overdue else "no",
                    " ".join(r.actions),
                )
            ]
        )
    return buf.getvalue()


# --------------------------------------------------------------------------- heat map


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    score: int
    band_id: str
    band_label: str
    before: tuple[str, ...]
    after: tuple[str, ...]


def heat_map(register: Any) -> list[list[HeatCell]]:
    """The scale's grid, most likely row first and least impact column first, each cell
    naming the risks (by id) rated there before and after mitigation."""
    scale = register.scale
    where: dict[tuple[str, int, int], list[str]] = {}
    for rid, r in register.items.items():
        for when in ("before", "after"):
            rating = getattr(r, when)
            if rating.likelihood is not None and rating.impact is not None:
                where.setdefault((when, rating.likelihood, rating.impact), []).append(rid)
    grid = []
    for lv in reversed(scale.likelihood):
        row = []
        for iv in scale.impact:
            value = lv.value * iv.value
            b = band(scale, value)
            row.append(
                HeatCell(
                    lv.value,
                    iv.value,
                    value,
                    b.id if b else "",
                    b.label if b else "",
                    tuple(where.get(("before", lv.value, iv.value), [])),
                    tuple(where.get(("after", lv.value, iv.value), [])),
                )
            )
        grid.append(row)
    return grid


def choose_scale(store: Any, project_id: str, scale_id: str, *, user: Any) -> Any:
    """Score the project's register on another packaged scale (``5x5`` or ``dpia-4x4``).
    Only while no risk has been rated: a rating means what its scale said when it was
    given, so a register with ratings keeps its scale."""
    from workbook.risk_content import load_risk_content

    content = load_risk_content()
    known = [s.id for s in content.scales]
    if scale_id not in known:
        raise WorkbookError(
            f"unknown scale {scale_id!r}; choose from {', '.join(known)}", field="risks.scale"
        )
    current, name, role = _editing(store, project_id, user)
    register = current.risks  # type: ignore[attr-defined]
    if register.scale.id == scale_id:
        return current
    rated = [
        rid
        for rid, r in register.items.items()
        if any(
            v is not None
            for v in (r.before.likelihood, r.before.impact, r.after.likelihood, r.after.impact)
        )
    ]
    if rated:
        raise WorkbookError(
            f"the register already has {len(rated)} rated risk{'s' if len(rated) != 1 else ''} "
            f"on {register.scale.name}; its scale stays as it is, so those ratings keep their "
            "meaning",
            field="risks.scale",
        )
    new = content.scale(scale_id).model_dump(mode="json")
    return _save(
        store,
        project_id,
        current,
        [("risks.scale", register.scale.model_dump(mode="json"), new)],
        name,
        role,
    )
