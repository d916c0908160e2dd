"""Content for the risk register: the digital ethics categories and the risk rating scales.

The text lives in ``content/digital-ethics-categories.yaml``; this module only loads and
checks it, in the same way as ``bank.py`` loads the DfE question bank. The objects are
frozen pydantic models, so nothing downstream can change the content by accident.

A scale rates a risk's likelihood and impact on the same 1..N levels; its score is
likelihood x impact (1..N*N) and each score falls in exactly one band ("Low" .. "Very high").
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workbook.bank import ID_PATTERN, Bank, load_bank
from workbook.errors import ContentError

CONTENT_FILE = "digital-ethics-categories.yaml"
SCALE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
MAX_CATEGORIES = 12

Text = Annotated[str, Field(min_length=1)]


class _Problem(ValueError):
    """A check failed on a field below the model being validated (``field`` is its path)."""

    def __init__(self, message: str, *field: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Category(_Frozen):
    """One digital ethics lens: what it means here and what to ask."""

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text
    prompts: tuple[Text, ...] = Field(min_length=2, max_length=4)
    questions: tuple[str, ...] = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _known_questions(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        known = (info.context or {}).get("question_ids")
        if known is None:
            known = load_bank().question_ids
        for i, qid in enumerate(ids):
            if qid not in known:
                raise _Problem(f"unknown question id {qid!r}; the DfE workbook has q1..q13", i)
        _no_duplicates(ids, "question id")
        return ids


class AffectedGroup(_Frozen):
    id: str = Field(pattern=ID_PATTERN)
    label: Text


class Level(_Frozen):
    """One step of a likelihood or impact scale."""

    value: int = Field(ge=1, strict=True)
    label: Text
    meaning: Text


class Band(_Frozen):
    """An inclusive range of scores that share a rating, e.g. Medium for 5..9."""

    id: str = Field(pattern=ID_PATTERN)
    label: Text
    min: int = Field(ge=1, strict=True)
    max: int = Field(ge=1, strict=True)

    def __contains__(self, score: object) -> bool:
        return isinstance(score, int) and self.min <= score <= self.max


class Scale(_Frozen):
    """A square likelihood x impact matrix with its bands."""

    id: str = Field(pattern=SCALE_ID_PATTERN)
    name: Text
    likelihood_name: Text = "Likelihood"
    impact_name: Text = "Impact"
    likelihood: tuple[Level, ...] = Field(min_length=2, max_length=10)
    impact: tuple[Level, ...] = Field(min_length=2, max_length=10)
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_scale(self) -> Scale:
        for axis in ("likelihood", "impact"):
            values = [level.value for level in getattr(self, axis)]
            for i, value in enumerate(values):
                if value != i + 1:
                    raise _Problem(
                        f"levels must be numbered 1, 2, 3 ... in order; got {values}",
                        axis,
                        i,
                        "value",
                    )
            _no_duplicates(
                tuple(level.label for level in getattr(self, axis)),
                f"{axis} label",
                axis,
                key="label",
            )
        if len(self.impact) != len(self.likelihood):
            raise _Problem(
                f"{len(self.impact)} levels, but likelihood has {len(self.likelihood)}; "
                "likelihood and impact must have the same number of levels",
                "impact",
            )
        self._check_bands()
        return self

    def _check_bands(self) -> None:
        for i, band in enumerate(self.bands):
            if band.max < band.min:
                raise _Problem(f"{band.max} is below min {band.min}", "bands", i, "max")
        _no_duplicates(tuple(b.id for b in self.bands), "band id", "bands", key="id")
        _no_duplicates(tuple(b.label for b in self.bands), "band label", "bands", key="label")
        if self.bands[0].min != 1:
            raise _Problem(
                f"the first band must start at 1, not {self.bands[0].min}", "bands", 0, "min"
            )
        for i, (before, band) in enumerate(pairwise(self.bands), start=1):
            if band.min > before.max + 1:
                raise _Problem(
                    f"gap: scores {before.max + 1}..{band.min - 1} are in no band "
                    f"(band {before.id!r} ends at {before.max}, {band.id!r} starts at "
                    f"{band.min}); bands must run on without gaps",
                    "bands",
                    i,
                    "min",
                )
            if band.min <= before.max:
                raise _Problem(
                    f"band {band.id!r} starts at {band.min}, inside band {before.id!r} "
                    f"({before.min}..{before.max}); bands must be in order and not overlap",
                    "bands",
                    i,
                    "min",
                )
        last = len(self.bands) - 1
        if self.bands[last].max != self.max_score:
            raise _Problem(
                f"the last band must end at the highest score {self.max_score} "
                f"({self.size} x {self.size}), not {self.bands[last].max}",
                "bands",
                last,
                "max",
            )
        scores = self.achievable_scores
        for i, band in enumerate(self.bands):
            if not any(score in band for score in scores):
                raise _Problem(
                    f"band {band.id!r} ({band.min}..{band.max}) holds no score that "
                    f"likelihood x impact can give; possible scores are "
                    f"{', '.join(map(str, scores))}",
                    "bands",
                    i,
                )

    @property
    def size(self) -> int:
        """The number of levels on each axis (5 for a 5 by 5 scale)."""
        return len(self.likelihood)

    @property
    def max_score(self) -> int:
        return self.size * self.size

    @property
    def achievable_scores(self) -> tuple[int, ...]:
        """Every score that likelihood x impact can give, in order."""
        levels = range(1, self.size + 1)
        return tuple(sorted({lk * im for lk in levels for im in levels}))

    def likelihood_level(self, value: int) -> Level:
        return self._level(self.likelihood, value, "likelihood")

    def impact_level(self, value: int) -> Level:
        return self._level(self.impact, value, "impact")

    def _level(self, levels: tuple[Level, ...], value: int, axis: str) -> Level:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= self.size:
            raise ValueError(f"{axis} must be a whole number 1..{self.size} on scale {self.id!r}")
        return levels[value - 1]

    def score(self, likelihood: int, impact: int) -> int:
        """likelihood x impact, after checking both are levels of this scale."""
        self.likelihood_level(likelihood)
        self.impact_level(impact)
        return likelihood * impact

    def band(self, score: int) -> Band:
        """The band that holds ``score``."""
        for band in self.bands:
            if score in band:
                return band
        raise ValueError(f"score must be a whole number 1..{self.max_score} on scale {self.id!r}")


class RiskContent(_Frozen):
    edition: Text
    attribution: Text
    categories: tuple[Category, ...] = Field(min_length=1, max_length=MAX_CATEGORIES)
    affected_groups: tuple[AffectedGroup, ...] = Field(min_length=1)
    default_scale: str
    scales: tuple[Scale, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_content(self) -> RiskContent:
        _no_duplicates(tuple(c.id for c in self.categories), "category id", "categories", key="id")
        _no_duplicates(
            tuple(c.name for c in self.categories), "category name", "categories", key="name"
        )
        _no_duplicates(
            tuple(g.id for g in self.affected_groups), "group id", "affected_groups", key="id"
        )
        _no_duplicates(
            tuple(g.label for g in self.affected_groups),
            "group label",
            "affected_groups",
            key="label",
        )
        _no_duplicates(tuple(s.id for s in self.scales), "scale id", "scales", key="id")
        if self.default_scale not in self.scale_ids:
            raise _Problem(
                f"{self.default_scale!r} is not one of the scales: {', '.join(self.scale_ids)}",
                "default_scale",
            )
        return self

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    @property
    def affected_group_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.affected_groups)

    @property
    def scale_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scales)

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(f"unknown category {category_id!r}; known: {', '.join(self.category_ids)}")

    def affected_group(self, group_id: str) -> AffectedGroup:
        for g in self.affected_groups:
            if g.id == group_id:
                return g
        raise KeyError(
            f"unknown affected group {group_id!r}; known: {', '.join(self.affected_group_ids)}"
        )

    def scale(self, scale_id: str | None = None) -> Scale:
        """The scale with this id; the default scale when ``scale_id`` is None."""
        wanted = self.default_scale if scale_id is None else scale_id
        for s in self.scales:
            if s.id == wanted:
                return s
        raise KeyError(f"unknown scale {wanted!r}; known: {', '.join(self.scale_ids)}")


def _no_duplicates(items: tuple[str, ...], what: str, *field: str, key: str = "") -> None:
    """Raise on the second occurrence of an item; the field is ``field.<index>.<key>``."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise _Problem(f"duplicate {what} {item!r}", *field, i, *([key] if key else []))
        seen.add(item)


def parse_risk_content(
    text: str, *, source: str = "<string>", bank: Bank | None = None
) -> RiskContent:
    """Parse and check risk register content from YAML text.

    Question ids are checked against ``bank`` (the packaged DfE bank by default). Any
    problem raises ``ContentError`` naming ``source`` and the field.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = " ".join(str(exc).split())  # one line: PyYAML's message spans several
        raise ContentError(f"not valid YAML: {where}", path=source) from None
    question_ids: Collection[str] = (bank or load_bank()).question_ids
    try:
        return RiskContent.model_validate(data, context={"question_ids": question_ids})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        message = err["msg"]
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, _Problem):
            loc += [str(p) for p in problem.field]
            message = problem.message
        raise ContentError(message, path=source, field=".".join(loc) or None) from None


@cache
def load_risk_content() -> RiskContent:
    """Load the packaged categories and scales (cached; the objects are immutable)."""
    ref = resources.files("workbook") / "content" / CONTENT_FILE
    return parse_risk_content(
        ref.read_text(encoding="utf-8"), source=f"workbook/content/{CONTENT_FILE}"
    )
