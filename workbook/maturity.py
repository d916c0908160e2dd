"""The maturity self-assessment: rating, agreeing, rounds, the spread and the action plan.

Pure logic over :mod:`workbook.assessment` apart from saving through
:class:`workbook.store.AssessmentStore`. Who may do what:

- a **respondent** (author or reviewer) rates components on their own (:func:`rate`);
- a **reviewer** records the agreed level, the target and its date (:func:`agree`), keeps
  the action plan (:func:`set_action`), closes a round (:func:`close_round`) and starts the
  next (:func:`start_round`).

Every gap between an agreed level and its target becomes an action in the round's plan, in
the same save as the agreed record, so a gap never exists without an action to close it.

A closed round is frozen: :data:`RULES`, run by the store under its lock, refuses any
change to it, whoever sends it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from workbook.assessment import (
    Agreed,
    Assessment,
    ComponentRound,
    Evidence,
    PlanAction,
    Rating,
    Round,
    blank_round,
    respondent_key,
)
from workbook.errors import WorkbookError
from workbook.maturity_content import MaturityModel
from workbook.roles import Action, Actor, as_actor
from workbook.store import AssessmentStore, Change

DISAGREEMENT = 2
"""Ratings of one component that differ by this many levels or more are flagged for discussion."""

_UNSET: Any = object()


class RoundClosed(WorkbookError):
    """A change to a round that is closed (closed rounds are frozen)."""


# --------------------------------------------------------------------------- rules


def check_round_rules(data: dict[str, Any], changed_paths: Iterable[str]) -> None:
    """Refuse any change to a closed round, reopening one, closing one before every
    component has an agreed level, and adding a round already closed. Run by the store under
    its lock on the merged data, so it holds whoever sends the change."""
    by_round: dict[str, list[str]] = {}
    for path in changed_paths:
        parts = path.split(".")
        if parts[0] == "rounds" and len(parts) >= 2:
            by_round.setdefault(parts[1], []).append(".".join(parts[2:]))  # "": the round
    for number, rest in sorted(by_round.items()):
        rnd = data["rounds"].get(number) or {}
        closed = rnd.get("closed")
        if closed is not None and "" in rest:
            raise RoundClosed(
                f"round {number} cannot be added already closed: start it, then close it",
                field=f"rounds.{number}.closed",
            )
        if closed is not None and "closed" in rest:
            missing = [c for c, comp in rnd["components"].items() if not comp.get("agreed")]
            if missing:
                raise WorkbookError(
                    f"round {number} cannot close yet: no agreed level for {', '.join(missing)}",
                    field=f"rounds.{number}.components",
                )
        if "closed" in rest and closed is None:
            raise RoundClosed(
                f"round {number} is closed and cannot be reopened; start round "
                f"{int(number) + 1} to record new ratings",
                field=f"rounds.{number}.closed",
            )
        if closed is None:
            continue
        others = [p for p in rest if p != "closed"]
        if others:
            when = _day(closed["at"])
            raise RoundClosed(
                f"round {number} was closed on {when} by {closed['by']}; a closed round cannot "
                f"be changed. Start round {int(number) + 1} to record new ratings",
                field=f"rounds.{number}.{others[0]}",
            )


RULES = (check_round_rules,)
"""The rules every save of an assessment must pass (``AssessmentStore.apply(..., rules=RULES)``)."""


def _day(value: Any) -> str:
    from workbook.export.dates import day

    return day(value)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Spread:
    """The respondents' own ratings of one component."""

    ratings: tuple[tuple[str, int], ...]  # (respondent, level), lowest first

    @property
    def low(self) -> int | None:
        return self.ratings[0][1] if self.ratings else None

    @property
    def high(self) -> int | None:
        return self.ratings[-1][1] if self.ratings else None

    @property
    def differ_by(self) -> int:
        return (self.high - self.low) if self.ratings else 0  # type: ignore[operator]

    @property
    def flagged(self) -> bool:
        """Ratings 2 or more levels apart: to be discussed before a level is agreed."""
        return self.differ_by >= DISAGREEMENT

    @property
    def median(self) -> float | None:
        return statistics.median(level for _, level in self.ratings) if self.ratings else None


def spread(component: ComponentRound) -> Spread:
    pairs = sorted(((r.respondent, r.level) for r in component.ratings.values()), key=_by_level)
    return Spread(tuple(pairs))


def _by_level(pair: tuple[str, int]) -> tuple[int, str]:
    return pair[1], pair[0].lower()


def respondents(rnd: Round) -> list[str]:
    """Everyone who rated at least one component in ``rnd``, sorted."""
    names = {r.respondent for c in rnd.components.values() for r in c.ratings.values()}
    return sorted(names, key=str.lower)


@dataclass(frozen=True)
class ComponentState:
    """One component in one round, as the page, the CLI and the board document show it."""

    id: str
    name: str
    level: int | None  # the agreed level; None when not agreed yet
    target: int | None
    target_date: date | None
    target_note: str
    rationale: str
    evidence: tuple[Evidence, ...]
    assessed_by: str
    assessed_at: datetime | None
    carried_from: int | None
    spread: Spread
    previous: int | None  # the agreed level in the round before, if any
    action: PlanAction | None

    @property
    def agreed(self) -> bool:
        return self.level is not None

    @property
    def shown_level(self) -> float | None:
        """What the radar plots as current: the agreed level, else the ratings' median."""
        return float(self.level) if self.level is not None else self.spread.median

    @property
    def gap(self) -> int:
        if self.level is None or self.target is None:
            return 0
        return max(0, self.target - self.level)

    @property
    def movement(self) -> int | None:
        if self.level is None or self.previous is None:
            return None
        return self.level - self.previous


def states(
    assessment: Assessment, model: MaturityModel, number: int | None = None
) -> list[ComponentState]:
    """Every component of round ``number`` (default: the latest), in the model's order."""
    rnd = assessment.round(number)
    n = number if number is not None else assessment.round_numbers[-1]
    before = assessment.rounds.get(str(n - 1))
    out = []
    for component in model.components:
        comp = rnd.components.get(component.id) or ComponentRound()
        ag = comp.agreed
        prev = before.components.get(component.id) if before else None
        out.append(
            ComponentState(
                id=component.id,
                name=component.name,
                level=ag.level if ag else None,
                target=ag.target_level if ag else None,
                target_date=ag.target_date if ag else None,
                target_note=ag.target_note if ag else "",
                rationale=ag.rationale if ag else "",
                evidence=tuple(ag.evidence) if ag else (),
                assessed_by=ag.assessed_by if ag else "",
                assessed_at=ag.assessed_at if ag else None,
                carried_from=ag.carried_from if ag else None,
                spread=spread(comp),
                previous=prev.agreed.level if prev and prev.agreed else None,
                action=rnd.actions.get(component.id),
            )
        )
    return out


@dataclass(frozen=True)
class PlanRow:
    """A row of the action plan: the gap, and the work that closes it."""

    component: str
    name: str
    from_level: int
    to_level: int
    text: str
    owner: str
    due: date | None
    status: str
    gap_open: bool  # the agreed level is still below the target
    overdue: bool


def action_plan(
    assessment: Assessment,
    model: MaturityModel,
    number: int | None = None,
    *,
    today: date | None = None,
) -> list[PlanRow]:
    """The round's actions in the model's order (open ones first), each with its gap."""
    today = today or date.today()
    by_id = {s.id: s for s in states(assessment, model, number)}
    rnd = assessment.round(number)
    rows = []
    for component in model.components:
        action = rnd.actions.get(component.id)
        if action is None:
            continue
        state = by_id[component.id]
        rows.append(
            PlanRow(
                component=component.id,
                name=component.name,
                from_level=action.from_level,
                to_level=action.to_level,
                text=action.text,
                owner=action.owner,
                due=action.due,
                status=action.status,
                gap_open=state.gap > 0,
                overdue=action.status == "open" and action.due is not None and action.due < today,
            )
        )
    rows.sort(key=lambda r: r.status != "open")
    return rows


def movement(assessment: Assessment, model: MaturityModel) -> list[tuple[str, list[int | None]]]:
    """Per component (model order): its agreed level in each round, oldest first."""
    out = []
    for component in model.components:
        levels = []
        for n in assessment.round_numbers:
            comp = assessment.rounds[str(n)].components.get(component.id)
            levels.append(comp.agreed.level if comp and comp.agreed else None)
        out.append((component.name, levels))
    return out


@dataclass(frozen=True)
class MaturitySummary:
    """One authority at a glance (start page, portfolio): its latest closed round."""

    authority_id: str
    name: str
    round: int | None  # the latest closed round
    closed_at: datetime | None
    open_round: int | None
    levels: dict[str, int | None] = field(default_factory=dict)
    targets: dict[str, int | None] = field(default_factory=dict)
    gaps: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    respondents: int = 0

    @property
    def level_text(self) -> str:
        known = [v for v in self.levels.values() if v is not None]
        if not known:
            return "no agreed levels yet"
        return (
            f"levels {min(known)} to {max(known)}"
            if min(known) != max(known)
            else (f"level {known[0]} throughout")
        )


def summary(
    assessment: Assessment, model: MaturityModel, *, today: date | None = None
) -> MaturitySummary:
    latest = assessment.latest_closed
    last = assessment.round_numbers[-1]
    open_round = last if assessment.round(last).closed is None else None
    if latest is None:
        return MaturitySummary(
            assessment.authority.id,
            assessment.authority.name,
            None,
            None,
            open_round,
            respondents=len(respondents(assessment.round(last))),
        )
    rnd = assessment.round(latest)
    shown = states(assessment, model, latest)
    plan = action_plan(assessment, model, latest, today=today)
    return MaturitySummary(
        assessment.authority.id,
        assessment.authority.name,
        latest,
        rnd.closed.at if rnd.closed else None,
        open_round,
        levels={s.id: s.level for s in shown},
        targets={s.id: s.target for s in shown},
        gaps=sum(1 for s in shown if s.gap),
        open_actions=sum(1 for r in plan if r.status == "open"),
        overdue_actions=sum(1 for r in plan if r.overdue),
        respondents=len(respondents(rnd)),
    )


def find_for_authority(store: AssessmentStore, authority_name: str) -> Assessment | None:
    """The assessment of the authority called ``authority_name`` (a project's local
    authority), matched by name ignoring case and spacing; None when there is none."""

    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    wanted = norm(authority_name)
    if not wanted:
        return None
    for entry in store.list():
        if entry.assessment is not None and norm(entry.assessment.authority.name) == wanted:
            return entry.assessment
    return None


def round_data(
    assessment: Assessment,
    model: MaturityModel,
    number: int | None = None,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """One round as a JSON-ready dict: the CLI's ``--json`` and the board document's data."""
    n = number if number is not None else assessment.round_numbers[-1]
    rnd = assessment.round(n)
    components = []
    for st in states(assessment, model, n):
        statement = model.component(st.id).statement(st.level) if st.level is not None else None
        components.append(
            {
                "id": st.id,
                "name": st.name,
                "level": st.level,
                "level_label": model.level_label(st.level) if st.level is not None else None,
                "statement": statement.text if statement else None,
                "target": st.target,
                "target_label": model.level_label(st.target) if st.target is not None else None,
                "target_date": st.target_date.isoformat() if st.target_date else None,
                "target_note": st.target_note,
                "gap": st.gap,
                "rationale": st.rationale,
                "evidence": [e.model_dump(mode="json") for e in st.evidence],
                "assessed_by": st.assessed_by,
                "assessed_at": st.assessed_at.isoformat() if st.assessed_at else None,
                "carried_from": st.carried_from,
                "previous": st.previous,
                "movement": st.movement,
                "ratings": [{"respondent": who, "level": lv} for who, lv in st.spread.ratings],
                "differ_by": st.spread.differ_by,
                "flagged": st.spread.flagged,
            }
        )
    return {
        "authority": {"id": assessment.authority.id, "name": assessment.authority.name},
        "model": {"id": model.id, "name": model.name, "attribution": model.attribution},
        "levels": [
            {"value": lv.value, "name": lv.name, "summary": lv.summary} for lv in model.levels
        ],
        "round": n,
        "rounds": assessment.round_numbers,
        "revision": assessment.revision,
        "opened_at": rnd.opened_at.isoformat(),
        "closed": rnd.closed.model_dump(mode="json") if rnd.closed else None,
        "respondents": respondents(rnd),
        "components": components,
        "actions": [
            {
                "component": r.component,
                "name": r.name,
                "from_level": r.from_level,
                "to_level": r.to_level,
                "text": r.text,
                "owner": r.owner,
                "due": r.due.isoformat() if r.due else None,
                "status": r.status,
                "gap_open": r.gap_open,
                "overdue": r.overdue,
            }
            for r in action_plan(assessment, model, n, today=today)
        ],
        "movement": [
            {"name": name, "levels": levels} for name, levels in movement(assessment, model)
        ],
    }


# --------------------------------------------------------------------------- changes


def _names_file(func: Any) -> Any:
    """Errors about the input name the assessment file they were about."""
    import functools

    @functools.wraps(func)
    def wrapper(store: AssessmentStore, authority_id: str, *args: Any, **kw: Any) -> Any:
        try:
            return func(store, authority_id, *args, **kw)
        except WorkbookError as exc:
            if exc.path is None:
                with contextlib.suppress(WorkbookError):
                    exc.path = store.document_path(authority_id)
            raise

    return wrapper


def start_assessment(
    store: AssessmentStore,
    name: str,
    *,
    user: str | Actor,
    authority_id: str | None = None,
    model_id: str | None = None,
) -> Assessment:
    """Start an authority's assessment with round 1 open (a reviewer's step). ``model_id``:
    another maturity model than the packaged default, e.g. the authority's own in the
    workspace's ``maturity-models`` folder."""
    actor = as_actor(user)
    role = actor.require(Action.agree)
    extra = {"model_id": model_id} if model_id else {}
    return store.create(
        name,
        user=actor.name,
        authority_id=authority_id,
        role=role if actor.enforced else "",
        **extra,
    )


def _round_key(assessment: Assessment, number: int | None) -> str:
    if not assessment.rounds:
        raise WorkbookError("this assessment has no rounds", field="rounds")
    n = number if number is not None else assessment.round_numbers[-1]
    if str(n) not in assessment.rounds:
        raise WorkbookError(
            f"there is no round {n}; rounds are {', '.join(map(str, assessment.round_numbers))}",
            field="round",
        )
    return str(n)


def _component(model: MaturityModel, component: str) -> None:
    if component not in model.component_ids:
        raise WorkbookError(
            f"unknown component {component!r}; {model.id} has {', '.join(model.component_ids)}",
            field="component",
        )


def _level(model: MaturityModel, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorkbookError(f"the {what} must be a whole number", field=what.replace(" ", "_"))
    if not 0 <= value <= model.max_level:
        raise WorkbookError(
            f"level {value} is not a level of this model ({model.level_label(0)} .. "
            f"{model.level_label(model.max_level)})",
            field=what.replace(" ", "_"),
        )
    return value


def _save(
    store: AssessmentStore,
    authority_id: str,
    base: Assessment,
    changes: Sequence[tuple[str, Any, Any]],
    actor: Actor,
    action: Action,
) -> Assessment:
    role = actor.require(action)
    return store.apply(
        authority_id,
        [Change(path, old, new) for path, old, new in changes],
        user=actor.name,
        base_revision=base.revision,
        rules=RULES,
        role=role if actor.enforced else "",
    )


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json") if value is not None else None


def _evidence(items: Iterable[Evidence | dict[str, Any]]) -> list[Evidence]:
    return [e if isinstance(e, Evidence) else Evidence.model_validate(e) for e in items]


@_names_file
def rate(
    store: AssessmentStore,
    authority_id: str,
    component: str,
    *,
    level: int,
    rationale: str = "",
    evidence: Iterable[Evidence | dict[str, Any]] = (),
    user: str | Actor,
    round_number: int | None = None,
    shown: Any = _UNSET,
    base: Assessment | None = None,
) -> Assessment:
    """Record ``user``'s own rating of ``component`` in the open round.

    ``shown`` is the rating (a :class:`Rating` or its dict, or None) the person was shown;
    if it changed on disk since (their other tab), the save is a conflict, not an overwrite.
    """
    actor = as_actor(user)
    actor.require(Action.rate)  # before anything else: a clear refusal
    current = base or store.open(authority_id)
    model = current.maturity_model()
    key = _round_key(current, round_number)
    _component(model, component)
    _level(model, level, "level")
    comp = current.rounds[key].components[component]
    rkey = respondent_key(actor.name)
    if shown is _UNSET:
        shown = comp.ratings.get(rkey)
    record = Rating(
        respondent=actor.name,
        level=level,
        rationale=rationale,
        evidence=_evidence(evidence),
        rated_at=datetime.now(timezone.utc),
    )
    if level > 0 and not rationale.strip():
        raise WorkbookError(
            f"give a rationale for {model.level_label(level)}: any level above 0 needs one",
            field=f"rounds.{key}.components.{component}.ratings.{rkey}.rationale",
        )
    path = f"rounds.{key}.components.{component}.ratings.{rkey}"
    old = shown if isinstance(shown, dict) or shown is None else _dump(shown)
    return _save(store, authority_id, current, [(path, old, _dump(record))], actor, Action.rate)


def default_action_text(model: MaturityModel, component: str, level: int, target: int) -> str:
    name = model.component(component).name
    return f"{name}: move from {model.level_label(level)} to {model.level_label(target)}"


@_names_file
def agree(
    store: AssessmentStore,
    authority_id: str,
    component: str,
    *,
    level: int,
    target_level: int,
    target_date: date | None = None,
    target_note: str = "",
    rationale: str = "",
    evidence: Iterable[Evidence | dict[str, Any]] = (),
    user: str | Actor,
    round_number: int | None = None,
    shown: Any = _UNSET,
    base: Assessment | None = None,
) -> Assessment:
    """Record the agreed level of ``component``, its target and why (a reviewer's step).

    A gap (target above the level) gets its action in the plan in the same save: a new
    action owned by nobody yet, due on the target date, or the existing one brought up to date.
    """
    actor = as_actor(user)
    actor.require(Action.agree)  # before anything else: a clear refusal
    current = base or store.open(authority_id)
    model = current.maturity_model()
    key = _round_key(current, round_number)
    _component(model, component)
    _level(model, level, "level")
    _level(model, target_level, "target level")
    at = f"rounds.{key}.components.{component}.agreed"
    if level > 0 and not rationale.strip():
        raise WorkbookError(
            f"give a rationale for {model.level_label(level)}: any level above 0 needs one",
            field=f"{at}.rationale",
        )
    if target_level < level and not target_note.strip():
        raise WorkbookError(
            f"the target ({model.level_label(target_level)}) is below the current level "
            f"({model.level_label(level)}): add a note saying why",
            field=f"{at}.target_note",
        )
    rnd = current.rounds[key]
    comp = rnd.components[component]
    if shown is _UNSET:
        shown = comp.agreed
    record = Agreed(
        level=level,
        target_level=target_level,
        target_date=target_date,
        target_note=target_note,
        rationale=rationale,
        evidence=_evidence(evidence),
        assessed_by=actor.name,
        assessed_at=datetime.now(timezone.utc),
    )
    old = shown if isinstance(shown, dict) or shown is None else _dump(shown)
    changes: list[tuple[str, Any, Any]] = [(at, old, _dump(record))]
    action = rnd.actions.get(component)
    apath = f"rounds.{key}.actions.{component}"
    if target_level > level:
        if action is None:
            new = PlanAction(
                text=default_action_text(model, component, level, target_level),
                due=target_date,
                from_level=level,
                to_level=target_level,
            )
            changes.append((apath, None, _dump(new)))
        if action is not None and (action.from_level, action.to_level) != (level, target_level):
            changes.append((f"{apath}.from_level", action.from_level, level))
            changes.append((f"{apath}.to_level", action.to_level, target_level))
            # The text we wrote names the levels: keep it true (text someone wrote stays).
            if action.text == default_action_text(
                model, component, action.from_level, action.to_level
            ):
                new_text = default_action_text(model, component, level, target_level)
                changes.append((f"{apath}.text", action.text, new_text))
        # A due date that was the old target date follows the new one (a date someone
        # chose for the action stays).
        before = comp.agreed.target_date if comp.agreed else None
        if action is not None and action.due == before and target_date != before:
            changes.append((f"{apath}.due", _iso(action.due), _iso(target_date)))
    return _save(store, authority_id, current, changes, actor, Action.agree)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@_names_file
def set_action(
    store: AssessmentStore,
    authority_id: str,
    component: str,
    *,
    user: str | Actor,
    round_number: int | None = None,
    base: Assessment | None = None,
    text: str | None = None,
    owner: str | None = None,
    due: date | None | Any = _UNSET,
    status: str | None = None,
) -> Assessment:
    """Change the action that closes ``component``'s gap (who owns it, when it is due...)."""
    actor = as_actor(user)
    actor.require(Action.agree)  # before anything else: a clear refusal
    current = base or store.open(authority_id)
    model = current.maturity_model()
    key = _round_key(current, round_number)
    _component(model, component)
    action = current.rounds[key].actions.get(component)
    if action is None:
        raise WorkbookError(
            f"{model.component(component).name} has no action in round {key}: agree a target "
            "above its level first",
            field=f"rounds.{key}.actions.{component}",
        )
    fields = {"text": text, "owner": owner, "status": status}
    if due is not _UNSET:
        fields["due"] = due
    changes = []
    for name, value in fields.items():
        if value is None and name != "due":
            continue
        new = value.isoformat() if isinstance(value, date) else value
        if name == "text" and not str(value).strip():
            raise WorkbookError(
                "an action needs a description", field=f"rounds.{key}.actions.{component}.text"
            )
        if name == "status" and value not in ("open", "done"):
            raise WorkbookError(
                "status is 'open' or 'done'", field=f"rounds.{key}.actions.{component}.status"
            )
        old = _dump(action)[name]
        if old != new:
            changes.append((f"rounds.{key}.actions.{component}.{name}", old, new))
    if not changes:
        return current
    return _save(store, authority_id, current, changes, actor, Action.agree)


@_names_file
def close_round(
    store: AssessmentStore,
    authority_id: str,
    *,
    user: str | Actor,
    note: str = "",
    base: Assessment | None = None,
) -> Assessment:
    """Close the open round as of today: every component must have an agreed level."""
    actor = as_actor(user)
    actor.require(Action.agree)  # before anything else: a clear refusal
    current = base or store.open(authority_id)
    model = current.maturity_model()
    key = _round_key(current, None)
    rnd = current.rounds[key]
    if rnd.closed is not None:
        raise RoundClosed(
            f"round {key} is already closed; start round {int(key) + 1} first", field="round"
        )
    missing = [model.component(c).name for c in model.component_ids if not rnd.components[c].agreed]
    if missing:
        raise WorkbookError(
            f"round {key} cannot close yet: no agreed level for {', '.join(missing)}",
            field=f"rounds.{key}.components",
        )
    closed = {"at": datetime.now(timezone.utc).isoformat(), "by": actor.name, "note": note}
    return _save(store, authority_id, current, [(f"rounds.{key}.closed", None, closed)], actor,
                 Action.agree)  # fmt: skip


@_names_file
def start_round(
    store: AssessmentStore, authority_id: str, *, user: str | Actor, base: Assessment | None = None
) -> Assessment:
    """Open the next round, starting from the last: its agreed levels, targets and open
    actions are carried over (marked as such); respondents rate afresh."""
    actor = as_actor(user)
    actor.require(Action.agree)  # before anything else: a clear refusal
    current = base or store.open(authority_id)
    model = current.maturity_model()
    last = current.round_numbers[-1]
    before = current.round(last)
    if before.closed is None:
        raise WorkbookError(
            f"round {last} is still open: close it before starting round {last + 1}",
            field="round",
        )
    fresh = blank_round(model, opened_by=actor.name, now=datetime.now(timezone.utc))
    for cid in model.component_ids:
        comp = before.components.get(cid)
        if comp and comp.agreed:
            carried = _dump(comp.agreed)
            carried["carried_from"] = comp.agreed.carried_from or last
            fresh["components"][cid]["agreed"] = carried
        action = before.actions.get(cid)
        if action and action.status == "open":
            fresh["actions"][cid] = _dump(action)
    return _save(store, authority_id, current, [(f"rounds.{last + 1}", None, fresh)], actor,
                 Action.agree)  # fmt: skip


# --------------------------------------------------------------------------- evidence

MATURITY_CHECKLIST_ITEM = ("explore", "data_maturity")
"""The Explore checklist item "completed a data maturity self-assessment", which links here."""


def parse_evidence(
    text: str, project_ids: Iterable[str], *, field: str = "evidence"
) -> list[Evidence]:
    """Evidence from text, one item per line: a web address (``https://... label``), or a
    project in the same workspace with an optional question or sign-off and a label
    (``early-help q7 bias testing``, ``early-help signoff.explore``)."""
    import re

    from pydantic import ValidationError

    from workbook.assessment import EVIDENCE_TARGET_PATTERN, describe_assessment_error

    known = set(project_ids)
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = " ".join(raw.split())
        if not line:
            continue
        first, _, rest = line.partition(" ")
        try:
            if re.match(r"^https?://", first, re.IGNORECASE):
                out.append(Evidence(url=first, label=rest))
                continue
            if first not in known:
                raise WorkbookError(
                    f"line {number}: {first!r} is neither a web address (starting https://) "
                    "nor a project in this workbook"
                    + (f" ({', '.join(sorted(known))})" if known and len(known) <= 8 else ""),
                    field=field,
                )
            target, _, label = rest.partition(" ")
            if not re.fullmatch(EVIDENCE_TARGET_PATTERN, target):
                target, label = "", rest
            out.append(Evidence(project=first, target=target, label=label))
        except ValidationError as exc:
            raise WorkbookError(
                f"line {number}: {describe_assessment_error(exc)[1]}", field=field
            ) from None
    return out


def evidence_text(items: Iterable[Evidence]) -> str:
    """The inverse of :func:`parse_evidence`: one line per item."""
    lines = []
    for e in items:
        head = e.url or " ".join(p for p in (e.project, e.target) if p)
        lines.append(f"{head} {e.label}".strip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- CSV

PLAN_CSV_COLUMNS = ("component", "from level", "to level", "action", "owner", "due", "status",
                    "gap still open", "overdue")  # fmt: skip


def plan_csv(rows: Sequence[PlanRow], model: MaturityModel) -> str:
    """The action plan as CSV (header row); cells a spreadsheet would run are made text."""
    from workbook.review import _cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PLAN_CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(r.name),
                model.level_label(r.from_level),
                model.level_label(r.to_level),
                _cell(r.text),
                _cell(r.owner),
                r.due.isoformat() if r.due else "",
                r.status,
                "yes" if r.gap_open else "no",
                "yes" if r.overdue else "no",
            ]
        )
    return out.getvalue()
