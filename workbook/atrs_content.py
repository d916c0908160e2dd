"""Content for the transparency record: the ATRS field list, where each field is drafted
from in the workbook, and the Data Ethics Framework with its cross-walk to the DfE questions.

The text lives in ``content/``:

- ``atrs-<version>.yaml``: the Algorithmic Transparency Recording Standard's sheets and
  fields, in the template's order (a later version of the standard is a new file);
- ``atrs-<version>-mapping.yaml``: for each field, its workbook sources and whether the
  text needs rewriting for a public reader;
- ``data-ethics-framework.yaml``: the framework's three principles and five actions, and
  which of them each DfE question (and, where finer, prompt) serves.

This module only loads and checks them, in the same way as ``risk_content.py``. The
objects are frozen pydantic models. A mapping or cross-walk that names a question, prompt,
checklist item, phase or ATRS field that does not exist fails at load with a
:class:`~workbook.errors.ContentError` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbook.bank import ID_PATTERN, PHASE_IDS, Bank, load_bank
from workbook.errors import ContentError
from workbook.model import ATRS_FIELD_PATTERN

DEFAULT_VERSION = "4.0"
FRAMEWORK_FILE = "data-ethics-framework.yaml"
VERSION_PATTERN = r"^[0-9]+(?:\.[0-9]+)*$"
REF_PATTERN = r"^[0-9]+(?:\.[0-9]+)*$"
PROJECT_FIELDS = ("tool_name", "local_authority", "owner", "oversight_group", "description")

Text = Annotated[str, Field(min_length=1)]


def atrs_file(version: str) -> str:
    return f"atrs-{version}.yaml"


def mapping_file(version: str) -> str:
    return f"atrs-{version}-mapping.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- the standard


class AtrsField(_Frozen):
    """One field of the record: its reference in the template, and what it asks for."""

    id: str = Field(pattern=ATRS_FIELD_PATTERN)
    ref: str = Field(pattern=REF_PATTERN)
    ref_checked: bool = Field(
        description="True when the v4.0 reference was seen in the published guidance; "
        "False when it is inferred from the previous version."
    )
    name: Text
    required: bool
    prompt: Text
    options: tuple[Text, ...] = ()
    tier: int = 0  # filled in from the sheet
    sheet: str = ""  # filled in from the sheet


class AtrsSheet(_Frozen):
    """One sheet of the template (a section of the record)."""

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    tier: Literal[1, 2]
    fields: tuple[AtrsField, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _tag_fields(self) -> AtrsSheet:
        tagged = tuple(
            f.model_copy(update={"tier": self.tier, "sheet": self.id}) for f in self.fields
        )
        return self.model_copy(update={"fields": tagged})


class AtrsStandard(_Frozen):
    standard: Text
    version: str = Field(pattern=VERSION_PATTERN)
    published: Text
    source: Text
    sheets: tuple[AtrsSheet, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> AtrsStandard:
        if self.sheets[0].tier != 1:
            raise _Problem("the first sheet must be Tier 1 (Summary information)", "sheets", 0)
        for i, sheet in enumerate(self.sheets[1:], start=1):
            if sheet.tier != 2:
                raise _Problem("only the first sheet is Tier 1", "sheets", i, "tier")
        _unique([s.id for s in self.sheets], "sheet id", ("sheets",), "id")
        seen_ids: dict[str, str] = {}
        seen_refs: dict[str, str] = {}
        for si, sheet in enumerate(self.sheets):
            for fi, f in enumerate(sheet.fields):
                at = ("sheets", si, "fields", fi)
                if f.id in seen_ids:
                    raise _Problem(f"duplicate field id {f.id!r}", *at, "id")
                if f.ref in seen_refs:
                    raise _Problem(
                        f"reference {f.ref} is also field {seen_refs[f.ref]!r}", *at, "ref"
                    )
                seen_ids[f.id] = f.ref
                seen_refs[f.ref] = f.id
        return self

    @property
    def fields(self) -> tuple[AtrsField, ...]:
        """Every field, in the template's order."""
        return tuple(f for s in self.sheets for f in s.fields)

    @property
    def field_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)

    def field(self, field_id: str) -> AtrsField:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"ATRS {self.version} has no field {field_id!r}")

    def sheet(self, sheet_id: str) -> AtrsSheet:
        for s in self.sheets:
            if s.id == sheet_id:
                return s
        raise KeyError(f"ATRS {self.version} has no sheet {sheet_id!r}")


# --------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class Source:
    """One workbook source of an ATRS field, parsed from its text (``prompt.q4.governance``)."""

    text: str
    kind: Literal["project", "answer", "prompt", "checklist", "risks", "actions", "signoff"]
    question: str | None = None
    prompt: str | None = None
    phase: str | None = None
    item: str | None = None
    project_field: str | None = None

    @property
    def path(self) -> str:
        """The dotted path of the data in the answers file (``answers.q4.prompts.x``)."""
        if self.kind == "project":
            return f"project.{self.project_field}"
        if self.kind == "answer":
            return f"answers.{self.question}.response"
        if self.kind == "prompt":
            return f"answers.{self.question}.prompts.{self.prompt}"
        if self.kind == "checklist":
            return f"phases.{self.phase}.checklist.{self.item}.note"
        if self.kind == "signoff":
            return f"review.signoffs.{self.phase}"
        if self.kind == "risks":
            return "risks"
        return "answers"  # actions: every question's further work


_SOURCE_SHAPES = (
    "project.<tool_name|local_authority|owner|oversight_group|description>, answer.<q>, "
    "prompt.<q>.<prompt>, checklist.<phase>.<item>, risks, actions or signoff.<phase>"
)


def parse_source(text: str, bank: Bank) -> Source:
    """``text`` as a :class:`Source`; a ``ValueError`` saying what is wrong otherwise."""
    parts = text.split(".")
    kind = parts[0]
    if kind in ("risks", "actions") and len(parts) == 1:
        return Source(text, kind)  # type: ignore[arg-type]
    if kind == "project" and len(parts) == 2:
        if parts[1] not in PROJECT_FIELDS:
            raise ValueError(
                f"unknown project field {parts[1]!r}; known: {', '.join(PROJECT_FIELDS)}"
            )
        return Source(text, "project", project_field=parts[1])
    if kind in ("answer", "prompt") and len(parts) == (2 if kind == "answer" else 3):
        try:
            question = bank.question(parts[1])
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if kind == "answer":
            return Source(text, "answer", question=question.id, phase=question.phase)
        if parts[2] not in question.prompt_ids:
            raise ValueError(
                f"{question.id} has no prompt {parts[2]!r}; its prompts are "
                f"{', '.join(question.prompt_ids)}"
            )
        return Source(text, "prompt", question=question.id, prompt=parts[2], phase=question.phase)
    if kind in ("checklist", "signoff") and len(parts) == (3 if kind == "checklist" else 2):
        if parts[1] not in PHASE_IDS:
            raise ValueError(f"unknown phase {parts[1]!r}; phases are {', '.join(PHASE_IDS)}")
        if kind == "signoff":
            return Source(text, "signoff", phase=parts[1])
        phase = bank.phase(parts[1])
        if parts[2] not in phase.checklist_ids:
            raise ValueError(
                f"the {phase.id} checklist has no item {parts[2]!r}; its items are "
                f"{', '.join(phase.checklist_ids)}"
            )
        return Source(text, "checklist", phase=phase.id, item=parts[2])
    raise ValueError(f"unknown source {text!r}; a source is one of {_SOURCE_SHAPES}")


class MappingEntry(_Frozen):
    sources: tuple[str, ...] = ()
    rewrite: bool
    question: str | None = Field(None, pattern=r"^q[0-9]+$")


class AtrsMapping(_Frozen):
    version: str = Field(pattern=VERSION_PATTERN)
    fields: dict[str, MappingEntry]

    def entry(self, field_id: str) -> MappingEntry:
        return self.fields[field_id]

    def sources(self, field_id: str, bank: Bank | None = None) -> tuple[Source, ...]:
        """The field's sources, parsed (they were checked at load)."""
        bank = bank or load_bank()
        return tuple(parse_source(s, bank) for s in self.fields[field_id].sources)

    def question(self, field_id: str, bank: Bank | None = None) -> str | None:
        """The workbook question that would improve ``field_id``: its own ``question``, else
        the first question among its sources, else None."""
        entry = self.fields[field_id]
        if entry.question:
            return entry.question
        for s in self.sources(field_id, bank):
            if s.question:
                return s.question
        return None


def check_mapping(mapping: AtrsMapping, standard: AtrsStandard, bank: Bank) -> None:
    """Every field of ``standard`` has an entry, every entry is a field of ``standard``,
    and every source and question exists in ``bank``; else a ``ContentError`` (without a
    path: the caller adds the file)."""
    if mapping.version != standard.version:
        raise ContentError(
            f"the mapping is for ATRS {mapping.version}, but the field list is {standard.version}",
            field="version",
        )
    known = set(standard.field_ids)
    for field_id, entry in mapping.fields.items():
        if field_id not in known:
            raise ContentError(
                f"unknown ATRS field {field_id!r}; atrs-{standard.version}.yaml has no such "
                "field (check the spelling, or add the field there first)",
                field=f"fields.{field_id}",
            )
        for i, text in enumerate(entry.sources):
            try:
                parse_source(text, bank)
            except ValueError as exc:
                raise ContentError(str(exc), field=f"fields.{field_id}.sources.{i}") from None
        if len(set(entry.sources)) != len(entry.sources):
            raise ContentError("a source is listed twice", field=f"fields.{field_id}.sources")
        if entry.question is not None and entry.question not in bank.question_ids:
            raise ContentError(
                f"unknown question id {entry.question!r}; the DfE workbook has q1.."
                f"q{len(bank.questions)}",
                field=f"fields.{field_id}.question",
            )
    for f in standard.fields:
        if f.id not in mapping.fields:
            raise ContentError(
                f"ATRS field {f.id!r} ({f.ref} {f.name}) has no entry; add it, with "
                "'sources: []' if the workbook does not cover it",
                field=f"fields.{f.id}",
            )


# --------------------------------------------------------------------------- the framework


class Principle(_Frozen):
    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text


class FrameworkAction(_Frozen):
    id: str = Field(pattern=ID_PATTERN)
    number: int = Field(ge=1)
    name: Text
    description: Text


class Serves(_Frozen):
    """The framework actions and principles an answer (or a prompt's note) helps to show."""

    actions: tuple[str, ...] = ()
    principles: tuple[str, ...] = ()


class QuestionServes(Serves):
    prompts: dict[str, Serves] = Field(default_factory=dict)


class Framework(_Frozen):
    name: Text
    publisher: Text
    principles: tuple[Principle, ...] = Field(min_length=1)
    actions: tuple[FrameworkAction, ...] = Field(min_length=1)
    crosswalk: dict[str, QuestionServes]

    @model_validator(mode="after")
    def _check(self) -> Framework:
        _unique([p.id for p in self.principles], "principle id", ("principles",), "id")
        _unique([a.id for a in self.actions], "action id", ("actions",), "id")
        numbers = [a.number for a in self.actions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise _Problem(f"actions must be numbered 1..n in order, got {numbers}", "actions")
        return self

    @property
    def principle_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.principles)

    @property
    def action_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.actions)

    def principle(self, pid: str) -> Principle:
        for p in self.principles:
            if p.id == pid:
                return p
        raise KeyError(f"unknown principle {pid!r}; known: {', '.join(self.principle_ids)}")

    def action(self, aid: str) -> FrameworkAction:
        for a in self.actions:
            if a.id == aid:
                return a
        raise KeyError(f"unknown action {aid!r}; known: {', '.join(self.action_ids)}")

    def serves(self, question_id: str, prompt_id: str | None = None) -> Serves:
        """What a question (or one of its prompts, falling back to the question) serves."""
        entry = self.crosswalk[question_id]
        if prompt_id is not None and prompt_id in entry.prompts:
            return entry.prompts[prompt_id]
        return Serves(actions=entry.actions, principles=entry.principles)

    def questions_serving(
        self, kind: Literal["actions", "principles"], target: str
    ) -> Iterator[tuple[str, str | None]]:
        """(question id, prompt id or None) for each question or prompt that serves
        ``target`` (an action or principle id), in the bank's order."""
        for qid, entry in self.crosswalk.items():
            if target in getattr(entry, kind):
                yield qid, None
            for pid, finer in entry.prompts.items():
                if target in getattr(finer, kind) and target not in getattr(entry, kind):
                    yield qid, pid


def check_framework(framework: Framework, bank: Bank) -> None:
    """Every question of ``bank`` is in the cross-walk with at least one action; every id
    named (question, prompt, action, principle) exists."""
    actions, principles = set(framework.action_ids), set(framework.principle_ids)

    def check_serves(serves: Serves, at: str) -> None:
        for i, aid in enumerate(serves.actions):
            if aid not in actions:
                raise ContentError(
                    f"unknown action {aid!r}; the actions are {', '.join(framework.action_ids)}",
                    field=f"{at}.actions.{i}",
                )
        for i, pid in enumerate(serves.principles):
            if pid not in principles:
                raise ContentError(
                    f"unknown principle {pid!r}; the principles are "
                    f"{', '.join(framework.principle_ids)}",
                    field=f"{at}.principles.{i}",
                )

    for qid, entry in framework.crosswalk.items():
        at = f"crosswalk.{qid}"
        try:
            question = bank.question(qid)
        except KeyError as exc:
            raise ContentError(exc.args[0], field=at) from None
        check_serves(entry, at)
        for pid, finer in entry.prompts.items():
            if pid not in question.prompt_ids:
                raise ContentError(
                    f"{qid} has no prompt {pid!r}; its prompts are "
                    f"{', '.join(question.prompt_ids)}",
                    field=f"{at}.prompts.{pid}",
                )
            check_serves(finer, f"{at}.prompts.{pid}")
    for q in bank.questions:
        entry = framework.crosswalk.get(q.id)
        if entry is None:
            raise ContentError(
                f"question {q.number} is not in the cross-walk; every question serves at least "
                "one action",
                field=f"crosswalk.{q.id}",
            )
        if not entry.actions:
            raise ContentError(
                f"question {q.number} serves no action; name at least one",
                field=f"crosswalk.{q.id}.actions",
            )


# --------------------------------------------------------------------------- parsing


class _Problem(ValueError):
    """A check failed on a field below the model being validated (``field`` is its path)."""

    def __init__(self, message: str, *field: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _unique(items: list[str], what: str, at: tuple[str, ...], key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise _Problem(f"duplicate {what} {item!r}", *at, i, key)
        seen.add(item)


def _load_yaml(text: str, source: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ContentError(f"not valid YAML{where}", path=source) from None
    if not isinstance(data, dict):
        raise ContentError(f"expected {what} (a mapping of keys)", path=source)
    return data


def _validate(model: type[BaseModel], data: dict[str, Any], source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc: list[str | int] = list(err["loc"])
        message = err["msg"]
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, _Problem):
            loc += list(problem.field)
            message = problem.message
        elif err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        message = " ".join(str(message).removeprefix("Value error, ").split())
        raise ContentError(
            message, path=source, field=".".join(str(p) for p in loc) or None
        ) from None


def _with_path(exc: ContentError, source: str) -> ContentError:
    return ContentError(exc.message, path=source, field=exc.field)


def parse_atrs(text: str, *, source: str = "<string>") -> AtrsStandard:
    """Parse and check an ATRS field list from YAML text."""
    return _validate(AtrsStandard, _load_yaml(text, source, "an ATRS field list"), source)  # type: ignore[no-any-return]


def parse_mapping(
    text: str,
    *,
    source: str = "<string>",
    standard: AtrsStandard | None = None,
    bank: Bank | None = None,
) -> AtrsMapping:
    """Parse a mapping and check it against ``standard`` (default: the packaged field list
    of the mapping's version) and ``bank`` (default: the packaged DfE bank)."""
    mapping: AtrsMapping = _validate(
        AtrsMapping, _load_yaml(text, source, "an ATRS mapping"), source
    )
    try:
        check_mapping(mapping, standard or load_atrs(mapping.version), bank or load_bank())
    except ContentError as exc:
        raise _with_path(exc, source) from None
    return mapping


def parse_framework(text: str, *, source: str = "<string>", bank: Bank | None = None) -> Framework:
    """Parse the Data Ethics Framework and check its cross-walk against ``bank``."""
    framework: Framework = _validate(
        Framework, _load_yaml(text, source, "the Data Ethics Framework"), source
    )
    try:
        check_framework(framework, bank or load_bank())
    except ContentError as exc:
        raise _with_path(exc, source) from None
    return framework


def _packaged(name: str) -> tuple[str, str]:
    ref = resources.files("workbook") / "content" / name
    return ref.read_text(encoding="utf-8"), f"workbook/content/{name}"


def available_versions() -> tuple[str, ...]:
    """The ATRS versions with a packaged field list, oldest first."""
    folder = resources.files("workbook") / "content"
    found = []
    for f in folder.iterdir():
        m = re.fullmatch(r"atrs-([0-9.]+)\.yaml", f.name)
        if m:
            found.append(m.group(1))
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def _check_version(version: str) -> None:
    if version not in available_versions():
        raise ContentError(
            f"no ATRS field list for version {version!r}; this version of ethics-workbook "
            f"has {', '.join(available_versions()) or 'none'}",
            field="version",
        )


@cache
def load_atrs(version: str = DEFAULT_VERSION) -> AtrsStandard:
    """The packaged ATRS field list of ``version`` (cached; the objects are immutable)."""
    _check_version(version)
    text, source = _packaged(atrs_file(version))
    standard = parse_atrs(text, source=source)
    if standard.version != version:
        raise ContentError(
            f"the file says version {standard.version!r}; its name says {version!r}",
            path=source,
            field="version",
        )
    return standard


@cache
def load_mapping(version: str = DEFAULT_VERSION) -> AtrsMapping:
    """The packaged mapping for ATRS ``version``, checked against its field list and the bank."""
    _check_version(version)
    text, source = _packaged(mapping_file(version))
    return parse_mapping(text, source=source, standard=load_atrs(version))


@cache
def load_framework() -> Framework:
    """The packaged Data Ethics Framework and its cross-walk, checked against the bank."""
    text, source = _packaged(FRAMEWORK_FILE)
    return parse_framework(text, source=source)
