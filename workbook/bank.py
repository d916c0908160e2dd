"""The question bank: the DfE workbook's phases, checklists and questions as typed data.

The text lives in ``content/<edition>.yaml``; this module only loads and checks it. The
objects are frozen pydantic models, so nothing downstream can change the bank by accident.

Ids: a question is ``q1``..``q13``; a prompt is local to its question (``risk_management``)
and its full id is ``q4.risk_management``; a checklist item's full id is
``explore.data_maturity``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbook.errors import BankError

DEFAULT_EDITION = "dfe-2024-04"
_EDITION_FILES = {"dfe-2024-04": "dfe-2024.yaml"}

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
PhaseId = Literal["explore", "develop", "implement"]
PHASE_IDS: tuple[PhaseId, ...] = ("explore", "develop", "implement")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Prompt(_Frozen):
    """A "you should consider" bullet. Each one gets its own note field."""

    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    children: tuple[Prompt, ...] = ()
    kind: Literal["prompt", "note"] = "prompt"


class PromptGroup(_Frozen):
    """Prompts under one lead line such as "You should consider:"."""

    lead: str = ""
    prompts: tuple[Prompt, ...] = Field(min_length=1)


class NotePart(_Frozen):
    """A paragraph that asks for something specific, e.g. question 8's justification."""

    note: Prompt

    @model_validator(mode="after")
    def _is_note(self) -> NotePart:
        if self.note.children:
            raise ValueError("a note cannot have children")
        return self.model_copy(update={"note": self.note.model_copy(update={"kind": "note"})})


class HelpPointer(_Frozen):
    """A named guidance resource. Names only: the workbook gives no addresses."""

    resource: str = Field(min_length=1)
    purpose: str = ""


class Help(_Frozen):
    lead: str = ""
    pointers: tuple[HelpPointer, ...] = ()


class Question(_Frozen):
    id: str = Field(pattern=r"^q[0-9]+$")
    number: int = Field(ge=1)
    text: str = Field(min_length=1)
    parts: tuple[PromptGroup | NotePart, ...] = ()
    help: Help = Help()
    phase: str = ""  # filled in by Phase

    def iter_prompts(self) -> Iterator[tuple[Prompt, int]]:
        """Every prompt and note in reading order, with its nesting depth (0 or 1)."""
        for part in self.parts:
            if isinstance(part, NotePart):
                yield part.note, 0
                continue
            for prompt in part.prompts:
                yield prompt, 0
                for child in prompt.children:
                    yield child, 1

    @property
    def prompt_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p, _ in self.iter_prompts())

    def prompt(self, prompt_id: str) -> Prompt:
        for p, _ in self.iter_prompts():
            if p.id == prompt_id:
                return p
        raise KeyError(
            f"{self.id} has no prompt {prompt_id!r}; known: {', '.join(self.prompt_ids)}"
        )


class ChecklistItem(_Frozen):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)


class Phase(_Frozen):
    id: PhaseId
    title: str
    stages: str
    introduction: str
    checklist_lead: str
    checklist: tuple[ChecklistItem, ...] = Field(min_length=1)
    after_checklist: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _tag_questions(self) -> Phase:
        tagged = tuple(q.model_copy(update={"phase": self.id}) for q in self.questions)
        return self.model_copy(update={"questions": tagged})

    @property
    def checklist_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.checklist)


class Listing(_Frozen):
    lead: str
    items: tuple[str, ...]


class Bank(_Frozen):
    edition: str
    title: str
    subtitle: str
    publisher: str
    published: str
    copyright: str
    licence: str
    licence_url: str
    attribution: str
    summary: tuple[str, ...]
    audience: Listing
    how_to_use: Listing
    phases: tuple[Phase, ...]

    @model_validator(mode="after")
    def _check_structure(self) -> Bank:
        ids = tuple(p.id for p in self.phases)
        if ids != PHASE_IDS:
            raise ValueError(f"phases must be {', '.join(PHASE_IDS)} in that order, got {ids}")
        numbers = [q.number for q in self.questions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"questions must be numbered 1..n in order, got {numbers}")
        for q in self.questions:
            if q.id != f"q{q.number}":
                raise ValueError(f"question {q.number} must have id 'q{q.number}', not {q.id!r}")
            _no_duplicates(q.prompt_ids, f"prompt ids in {q.id}")
        for p in self.phases:
            _no_duplicates(p.checklist_ids, f"checklist ids in {p.id}")
        return self

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for p in self.phases for q in p.questions)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(
            f"unknown question id {question_id!r}; known ids are q1..q{len(self.questions)}"
        )

    def field_label(self, path: str) -> str:
        """A plain-language name for a dotted field path, for messages and history."""
        parts = path.split(".")
        try:
            if parts[0] == "answers":
                q = self.question(parts[1])
                where = f"Question {q.number}"
                if len(parts) == 2:
                    return where
                if parts[2] == "prompts" and len(parts) > 3:
                    return f"{where}, note on: {q.prompt(parts[3]).text}"
                return f"{where}: {_FIELD_NAMES.get(parts[2], parts[2].replace('_', ' '))}"
            if parts[0] == "phases":
                phase = self.phase(parts[1])
                if len(parts) > 3 and parts[2] == "checklist":
                    item = next(i for i in phase.checklist if i.id == parts[3])
                    suffix = f" ({parts[4]})" if len(parts) > 4 else ""
                    return f"{phase.title} checklist: {item.text}{suffix}"
                return f"{phase.title}: {parts[-1].replace('_', ' ')}"
            if parts[0] == "project" and len(parts) > 1:
                return f"Project: {parts[1].replace('_', ' ')}"
        except (KeyError, StopIteration):
            pass
        return path

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(f"unknown phase {phase_id!r}; known phases are {', '.join(PHASE_IDS)}")


_FIELD_NAMES = {
    "response": "your answer",
    "status": "status",
    "informed_by": "whose views informed it",
    "evidence": "evidence",
    "further_work": "further work",
}


def _no_duplicates(ids: tuple[str, ...], what: str) -> None:
    seen: set[str] = set()
    dupes = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(dupes)}")


def parse_bank(text: str, *, source: str = "<string>") -> Bank:
    """Parse and check a question bank from YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BankError(f"not valid YAML: {exc}", path=source) from None
    try:
        return Bank.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise BankError(err["msg"], path=source, field=loc or None) from None


@cache
def load_bank(edition: str = DEFAULT_EDITION) -> Bank:
    """Load the packaged question bank for ``edition`` (cached; the objects are immutable)."""
    try:
        filename = _EDITION_FILES[edition]
    except KeyError:
        known = ", ".join(_EDITION_FILES)
        raise BankError(f"unknown edition {edition!r}; this version knows {known}") from None
    ref = resources.files("workbook") / "content" / filename
    return parse_bank(ref.read_text(encoding="utf-8"), source=f"workbook/content/{filename}")
