"""The maturity assessment file: one local authority's self-assessment, as pydantic models.

A workspace keeps one assessment per authority::

    <workspace>/_maturity/<authority-id>/assessment.json   rounds, ratings, agreed levels, plan
    <workspace>/_maturity/<authority-id>/history.jsonl     every change, who made it and when

(``_maturity`` cannot be a project id, so it never clashes with a project's folder.) The
store saves it exactly as it saves a project: locked, atomic, revisioned, merged field by
field, with a history.

An assessment is a list of **rounds** (``"1"``, ``"2"``, ...; mapping keys, so two people's
edits to different components merge). Only the last round may be open; a closed round is
frozen. In a round, each component of the maturity model (``workbook.maturity_content``)
has the **ratings** of its respondents, each their own (keyed by a safe form of the login
name, :func:`respondent_key`), and the **agreed** record: current level, target level and
date, rationale, evidence, who recorded it. The round's **action plan** has one action per
component whose agreed level is below its target.

The levels and components are checked against the model the file names (``model``), so
an authority's own model in the same format works with no change here.

Field paths are dotted, as for projects: ``rounds.2.components.strategy.agreed``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workbook.bank import PHASE_IDS
from workbook.errors import ContentError
from workbook.maturity_content import DEFAULT_MODEL, MaturityModel, load_maturity_model
from workbook.model import (
    MAX_ITEMS,
    MAX_REVISION,
    PROJECT_ID_PATTERN,
    LongText,
    MemberName,
    NameText,
    RequiredShortText,
    ShortText,
    UtcDatetime,
)

ASSESSMENT_FILE = "assessment.json"
ASSESSMENT_SCHEMA_VERSION = 1
ASSESSMENT_KIND = "maturity-assessment"
AUTHORITIES_FOLDER = "_maturity"
"""The workspace folder holding one folder per authority (not a valid project id)."""
MODELS_FOLDER = "maturity-models"
"""A workspace folder for an authority's own maturity models (``*.yaml`` in the packaged
model's format): found by their ``id`` with no code change."""
AUTHORITY_ID_PATTERN = PROJECT_ID_PATTERN
RESPONDENT_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
ROUND_KEY_PATTERN = r"^[1-9][0-9]{0,3}$"
COMPONENT_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
EVIDENCE_TARGET_PATTERN = r"^(|q(?:[1-9]|1[0-3])|signoff\.(?:" + "|".join(PHASE_IDS) + r"))$"
MAX_ROUNDS = 100
MAX_RESPONDENTS = 200
MAX_LEVEL = 9
"""Models have at most ten levels (0..9); the model in use sets the real range."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Evidence(_Strict):
    """What shows a level: a web link, or a project's answer or sign-off in the workspace."""

    label: ShortText = ""
    url: ShortText = Field("", description="An http(s) address; empty for a project link.")
    project: Annotated[str, Field(pattern=r"^$|" + PROJECT_ID_PATTERN)] = Field(
        "", description="A project id in the same workspace; empty for a web link."
    )
    target: Annotated[str, Field(pattern=EVIDENCE_TARGET_PATTERN)] = Field(
        "", description="In that project: a question (q1..q13), a sign-off, or empty."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Evidence:
        if bool(self.url) == bool(self.project):
            raise PydanticCustomError(
                "assessment", "{field}: {message}",
                {"field": "url", "message": "give either a web address or a project, not both"},
            )  # fmt: skip
        if self.url and not re.match(r"^https?://[^\s/]+", self.url, re.IGNORECASE):
            raise PydanticCustomError(
                "assessment", "{field}: {message}",
                {"field": "url", "message": "a link must start with http:// or https://"},
            )  # fmt: skip
        if self.target and not self.project:
            raise PydanticCustomError(
                "assessment", "{field}: {message}",
                {"field": "target", "message": "a question or sign-off needs its project"},
            )  # fmt: skip
        return self


Level = Annotated[int, Field(ge=0, le=MAX_LEVEL)]
EvidenceList = Annotated[list[Evidence], Field(default_factory=list, max_length=MAX_ITEMS)]


class Rating(_Strict):
    """One respondent's own rating of one component."""

    respondent: MemberName
    level: Level
    rationale: LongText = ""
    evidence: EvidenceList
    rated_at: UtcDatetime


class Agreed(_Strict):
    """The level the authority agreed for a component, its target, and why."""

    level: Level
    target_level: Level
    target_date: date | None = None
    target_note: ShortText = Field(
        "", description="Why the target is below the current level (required then)."
    )
    rationale: LongText = ""
    evidence: EvidenceList
    assessed_by: MemberName
    assessed_at: UtcDatetime
    carried_from: Annotated[int, Field(ge=1)] | None = Field(
        None, description="The round this record was carried over from, unchanged since."
    )


class PlanAction(_Strict):
    """The further work that closes one component's gap between its level and target."""

    text: RequiredShortText
    owner: ShortText = ""
    due: date | None = None
    status: Literal["open", "done"] = "open"
    from_level: Level
    to_level: Level


class ComponentRound(_Strict):
    ratings: dict[Annotated[str, Field(pattern=RESPONDENT_KEY_PATTERN)], Rating] = Field(
        default_factory=dict, max_length=MAX_RESPONDENTS
    )
    agreed: Agreed | None = None


class Closed(_Strict):
    at: UtcDatetime
    by: MemberName
    note: ShortText = ""


ComponentKey = Annotated[str, Field(pattern=COMPONENT_KEY_PATTERN)]


class Round(_Strict):
    opened_at: UtcDatetime
    opened_by: MemberName
    closed: Closed | None = None
    components: dict[ComponentKey, ComponentRound]
    actions: dict[ComponentKey, PlanAction] = Field(default_factory=dict)


class AuthorityInfo(_Strict):
    id: Annotated[str, Field(pattern=AUTHORITY_ID_PATTERN)]
    name: NameText
    created_at: UtcDatetime
    created_by: str = ""


class Assessment(_Strict):
    """One local authority's digital ethics maturity self-assessment, round by round."""

    schema_version: Literal[1] = ASSESSMENT_SCHEMA_VERSION
    kind: Literal["maturity-assessment"] = ASSESSMENT_KIND
    revision: int = Field(0, ge=0, le=MAX_REVISION, description="Goes up by one on every save.")
    authority: AuthorityInfo
    model: Annotated[str, Field(min_length=1, max_length=100)] = DEFAULT_MODEL
    rounds: dict[Annotated[str, Field(pattern=ROUND_KEY_PATTERN)], Round] = Field(
        default_factory=dict, max_length=MAX_ROUNDS
    )

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def round_numbers(self) -> list[int]:
        return sorted(int(k) for k in self.rounds)

    def round(self, number: int | None = None) -> Round:
        """Round ``number`` (default: the latest)."""
        if not self.rounds:
            raise KeyError("no rounds yet")
        n = number if number is not None else self.round_numbers[-1]
        return self.rounds[str(n)]

    @property
    def latest_closed(self) -> int | None:
        closed = [n for n in self.round_numbers if self.rounds[str(n)].closed]
        return closed[-1] if closed else None

    _model: MaturityModel | None = PrivateAttr(None)

    def maturity_model(self) -> MaturityModel:
        """The model this assessment was checked against (a workspace's own included)."""
        return self._model if self._model is not None else load_maturity_model(self.model)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Assessment:
        context = info.context or {}
        model = context.get("maturity_model")
        if model is None:
            try:
                model = load_maturity_model(self.model, extra_dirs=context.get("model_dirs", ()))
            except ContentError as exc:
                _fail("model", exc.message)
        problems = assessment_problems(self, model)
        if problems:
            _fail(*problems[0])
        self._model = model
        return self


def _fail(field: str, message: str) -> None:
    raise PydanticCustomError(
        "assessment", "{field}: {message}", {"field": field, "message": message}
    )


def assessment_problems(a: Assessment, model: MaturityModel) -> list[tuple[str, str]]:
    """What in ``a`` does not fit ``model`` or the rules of rounds: (field, message) pairs."""
    out: list[tuple[str, str]] = []
    if a.model != model.id:
        out.append(("model", f"names model {a.model!r} but was checked against {model.id!r}"))
        return out
    top = model.max_level
    levels = f"{model.level_label(0)} .. {model.level_label(top)}"
    ids = model.component_ids
    numbers = a.round_numbers
    if numbers != list(range(1, len(numbers) + 1)):
        out.append(
            ("rounds", f"rounds must be numbered 1, 2, 3 ... without gaps (found {numbers})")
        )
        return out
    for n in numbers:
        rnd = a.rounds[str(n)]
        at = f"rounds.{n}"
        if n < len(numbers) and rnd.closed is None:
            out.append((f"{at}.closed", f"round {n} must be closed before round {n + 1} starts"))
        if rnd.closed and rnd.closed.at < rnd.opened_at:
            out.append((f"{at}.closed.at", "a round cannot close before it opened"))
        for cid in rnd.components:
            if cid not in ids:
                out.append(
                    (f"{at}.components.{cid}", f"unknown component {cid!r}; {model.id} has "
                     f"{', '.join(ids)}")
                )  # fmt: skip
        for cid in ids:
            if cid not in rnd.components:
                out.append((f"{at}.components", f"component {cid!r} is missing"))
        for cid, comp in rnd.components.items():
            cat = f"{at}.components.{cid}"
            for key, rating in comp.ratings.items():
                where = f"{cat}.ratings.{key}"
                if key != respondent_key(rating.respondent):
                    out.append((where, f"the key does not match respondent {rating.respondent!r}"))
                if rating.level > top:
                    out.append((f"{where}.level", _no_such_level(rating.level, levels)))
                elif rating.level > 0 and not rating.rationale.strip():
                    out.append((f"{where}.rationale", _rationale_needed(model, rating.level)))
            ag = comp.agreed
            if ag is not None:
                where = f"{cat}.agreed"
                for name in ("level", "target_level"):
                    value = getattr(ag, name)
                    if value > top:
                        out.append((f"{where}.{name}", _no_such_level(value, levels)))
                if ag.level > top or ag.target_level > top:
                    continue
                if ag.level > 0 and not ag.rationale.strip():
                    out.append((f"{where}.rationale", _rationale_needed(model, ag.level)))
                if ag.target_level < ag.level and not ag.target_note.strip():
                    target, current = (
                        model.level_label(ag.target_level),
                        model.level_label(ag.level),
                    )
                    message = (
                        f"the target ({target}) is below the current level ({current}): add a "
                        "note saying why"
                    )
                    out.append((f"{where}.target_note", message))
        for cid, action in rnd.actions.items():
            where = f"{at}.actions.{cid}"
            if cid not in ids:
                out.append((where, f"unknown component {cid!r}; {model.id} has {', '.join(ids)}"))
            for name in ("from_level", "to_level"):
                if getattr(action, name) > top:
                    out.append((f"{where}.{name}", _no_such_level(getattr(action, name), levels)))
    return out


def _no_such_level(value: int, levels: str) -> str:
    return f"level {value} is not a level of this model ({levels})"


def _rationale_needed(model: MaturityModel, level: int) -> str:
    return f"give a rationale for {model.level_label(level)}: any level above 0 needs one"


def respondent_key(name: str) -> str:
    """A mapping key for a respondent's login name: safe in a dotted path (no dots), stable,
    and different for names that differ only in punctuation (``j.smith``, ``j_smith``)."""
    stem = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")[:80] or "x"
    digest = hashlib.blake2b(name.strip().encode("utf-8"), digest_size=4).hexdigest()
    return f"{stem}-{digest}"


def describe_assessment_error(exc: ValidationError) -> tuple[str, str]:
    """The first problem in ``exc`` as (dotted field path, plain-language message)."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    if err["type"] == "assessment":
        field = err["ctx"]["field"]
        prefix = ".".join(loc)
        return (f"{prefix}.{field}" if prefix and not field.startswith(prefix) else field), err[
            "ctx"
        ]["message"]
    path = ".".join(loc)
    if err["type"] == "extra_forbidden":
        return path, f"unknown field {loc[-1]!r}; remove it or check its spelling"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r:.60})"
    return path, f"{err['msg']}{shown}"


def new_assessment(
    *,
    authority_id: str,
    name: str,
    created_by: str = "",
    model_id: str = DEFAULT_MODEL,
    model_dirs: Sequence[Path] = (),
    now: datetime | None = None,
) -> Assessment:
    """A blank assessment with round 1 open (revision 0: not yet saved). ``model_dirs``:
    folders with a workspace's own models, besides the packaged ones."""
    now = now or datetime.now(timezone.utc)
    model = load_maturity_model(model_id, extra_dirs=model_dirs)
    return Assessment.model_validate(
        {
            "authority": {
                "id": authority_id,
                "name": name,
                "created_at": now,
                "created_by": created_by,
            },
            "model": model.id,
            "rounds": {"1": blank_round(model, opened_by=created_by or "unknown", now=now)},
        },
        context={"maturity_model": model},
    )


def blank_round(model: MaturityModel, *, opened_by: str, now: datetime) -> dict[str, Any]:
    return {
        "opened_at": now.isoformat(),
        "opened_by": opened_by,
        "closed": None,
        "components": {cid: {"ratings": {}, "agreed": None} for cid in model.component_ids},
        "actions": {},
    }


def assessment_json_schema() -> dict[str, Any]:
    """The JSON Schema of an assessment file, as committed in ``workbook/schema``."""
    from workbook.model import _close_mappings

    schema = Assessment.model_json_schema()
    _close_mappings(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ethics-workbook maturity assessment file",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def assessment_json_schema_text() -> str:
    return json.dumps(assessment_json_schema(), indent=2, ensure_ascii=False) + "\n"
