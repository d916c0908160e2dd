"""The answers model: one project's filled-in workbook, as pydantic v2 models.

The per-question and per-phase models are generated from the question bank, so the JSON
Schema names every question id, prompt id and checklist id, with
``additionalProperties: false`` throughout. An answers file that mentions an id the bank
does not have is rejected, and the error says which id and where.

Field paths used across the project (history, conflicts, errors) are dotted:
``answers.q4.prompts.risk_management``, ``phases.explore.checklist.data_maturity.status``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workbook.bank import DEFAULT_EDITION, PHASE_IDS, Bank, load_bank

SCHEMA_VERSION = 7
"""Bump this (and add a function to ``workbook.migrations``) whenever the file format changes."""

MAX_LONG_TEXT = 100_000
"""Characters in a free-text answer. Real answers are a few thousand; this catches accidents."""
MAX_SHORT_TEXT = 1_000
MAX_NAME_TEXT = 200
"""Characters in a tool or local-authority name. A name goes into document titles: Word
keeps at most 255 characters in a document's title property (the name plus
": Data Ethics Workbook" must fit)."""
MAX_REVISION = 1_000_000_000
"""Upper bound on a revision number (a save every second for 30 years is about 10^9)."""
PROJECT_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


# Text that cannot be stored as UTF-8 (a lone surrogate from a broken paste) is refused by
# pydantic itself; describe_validation_error() turns that into a plain message.
LongText = Annotated[str, Field(max_length=MAX_LONG_TEXT)]
ShortText = Annotated[str, Field(max_length=MAX_SHORT_TEXT)]
RequiredShortText = Annotated[str, Field(min_length=1, max_length=MAX_SHORT_TEXT)]
NameText = Annotated[str, Field(min_length=1, max_length=MAX_NAME_TEXT)]
MAX_MEMBERS = 500
"""Login names in a project's member list."""
MemberName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_TEXT)
]
"""A login name: surrounding spaces are dropped, and nothing else may be left empty."""
MAX_ITEMS = 200
"""Evidence references or further-work actions per question."""
MAX_COMMENT_TEXT = 20_000
MAX_THREADS = 5_000
"""Comment threads per project (resolved ones included: they are never deleted)."""
MAX_REPLIES = 500
THREAD_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
CommentText = Annotated[str, Field(min_length=1, max_length=MAX_COMMENT_TEXT)]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


# Times are kept in UTC: JSON keeps offsets only to the minute, so an offset such as
# +05:30:15 would not survive a save. Display code converts to local time.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class QuestionStatus(str, Enum):
    not_started = "not_started"
    in_progress = "in_progress"
    complete = "complete"
    further_work_needed = "further_work_needed"

    @property
    def label(self) -> str:
        return QUESTION_STATUS_LABELS[self]


QUESTION_STATUS_LABELS = {
    QuestionStatus.not_started: "Not started",
    QuestionStatus.in_progress: "In progress",
    QuestionStatus.complete: "Complete",
    QuestionStatus.further_work_needed: "Further work needed",
}


class ChecklistStatus(str, Enum):
    done = "done"
    partly = "partly"
    not_yet = "not_yet"
    not_applicable = "not_applicable"

    @property
    def label(self) -> str:
        return CHECKLIST_STATUS_LABELS[self]


CHECKLIST_STATUS_LABELS = {
    ChecklistStatus.done: "Done",
    ChecklistStatus.partly: "Partly done",
    ChecklistStatus.not_yet: "Not yet",
    ChecklistStatus.not_applicable: "Not applicable",
}

INFORMED_BY_GROUPS = {
    "end_users": "End users",
    "experts_by_experience": "Experts by experience",
    "affected_stakeholders": "Affected stakeholders",
    "external_experts": "External experts",
}
"""The groups whose views the workbook asks you to draw on, with their display labels."""


class CommentKind(str, Enum):
    """What a reviewer's comment asks of the authors."""

    question = "question"
    challenge = "challenge"
    suggestion = "suggestion"

    @property
    def label(self) -> str:
        return COMMENT_KIND_LABELS[self]


COMMENT_KIND_LABELS = {
    CommentKind.question: "Question",
    CommentKind.challenge: "Challenge",
    CommentKind.suggestion: "Suggestion",
}


class Decision(str, Enum):
    """An oversight reviewer's decision on one phase."""

    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    not_approved = "not_approved"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]

    @property
    def approves(self) -> bool:
        return self is not Decision.not_approved


DECISION_LABELS = {
    Decision.approved: "Approved",
    Decision.approved_with_conditions: "Approved with conditions",
    Decision.not_approved: "Not approved",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class InformedBy(_Strict):
    """Whose views informed this answer. The workbook asks you to note where they did."""

    end_users: bool = False
    experts_by_experience: bool = False
    affected_stakeholders: bool = False
    external_experts: bool = False
    note: LongText = Field("", description="How their views shaped the answer.")


class EvidenceRef(_Strict):
    """A link or a document reference that supports an answer."""

    reference: RequiredShortText = Field(description="A link, file path or document reference.")
    description: ShortText = ""


class Action(_Strict):
    """A further-work action that came out of answering a question."""

    action: RequiredShortText
    owner: ShortText = ""
    due: date | None = None
    status: Literal["open", "done"] = "open"


class AnswerBase(_Strict):
    """Fields every question's answer has. ``prompts`` is added per question."""

    response: LongText = Field("", description="The main answer, in markdown.")
    status: QuestionStatus = QuestionStatus.not_started
    informed_by: InformedBy = Field(default_factory=InformedBy)
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=MAX_ITEMS)
    further_work: list[Action] = Field(default_factory=list, max_length=MAX_ITEMS)
    updated_at: UtcDatetime | None = None
    updated_by: ShortText | None = None


class ChecklistEntry(_Strict):
    status: ChecklistStatus | None = Field(None, description="null until someone assesses it.")
    note: LongText = ""


def _unique_members(names: list[str]) -> list[str]:
    # The error gives positions, not the name: errors never show personal data.
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name in seen:
            raise PydanticCustomError(
                "duplicate_member",
                "the same login name is listed twice (positions {first} and {second}); "
                "list each member once",
                {"first": seen[name], "second": number},
            )
        seen[name] = number
    return names


class ProjectInfo(_Strict):
    id: str = Field(pattern=PROJECT_ID_PATTERN, description="A safe slug; the folder name.")
    tool_name: NameText
    local_authority: NameText
    owner: ShortText = ""
    oversight_group: ShortText = ""
    description: LongText = ""
    created_at: UtcDatetime
    created_by: ShortText = ""
    members: Annotated[list[MemberName], AfterValidator(_unique_members)] = Field(
        default_factory=list,
        max_length=MAX_MEMBERS,
        description="Who may open this project (login names). Empty: only admins, once roles "
        "are on.",
        json_schema_extra={"uniqueItems": True},
    )
    marking: Literal["", "OFFICIAL", "OFFICIAL-SENSITIVE"] = Field(
        "",
        description="The protective marking on this project's documents. Empty: the "
        "workspace's (settings.yaml), else OFFICIAL.",
    )


class Reply(_Strict):
    """A reply in a comment thread (from an author or another reviewer)."""

    author: RequiredShortText
    role: ShortText = Field("", description="The role the person replied in.")
    created_at: UtcDatetime
    text: CommentText


class ThreadBase(_Strict):
    """A reviewer's comment on a question or a checklist item, with its replies.

    ``target`` is added per edition: a question id (``q7``) or a checklist item
    (``explore.checklist.data_maturity``). Threads are kept in a mapping by id, so two
    people commenting at once never clash; they are resolved, never deleted.
    """

    kind: CommentKind
    author: RequiredShortText
    role: ShortText = ""
    created_at: UtcDatetime
    text: CommentText
    resolved: bool = False
    resolved_by: ShortText | None = None
    resolved_at: UtcDatetime | None = None
    replies: dict[Annotated[str, Field(pattern=THREAD_ID_PATTERN)], Reply] = Field(
        default_factory=dict, max_length=MAX_REPLIES
    )


# --------------------------------------------------------------------------- risk register

RISK_ID_PATTERN = r"^r-[0-9a-z]{4,32}$"
MAX_RISKS = 500
RISK_TARGET_PATTERN = r"^risk\.r-[0-9a-z]{4,32}$"
"""A comment thread on a risk in the register targets ``risk.<risk id>``."""
RISK_STATUSES = ("open", "mitigated", "accepted", "closed")


class ScaleLevel(_Strict):
    value: int = Field(ge=1, le=10)
    label: RequiredShortText
    meaning: ShortText = ""


class ScaleBand(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
    label: RequiredShortText
    min: int = Field(ge=1, le=100)
    max: int = Field(ge=1, le=100)


class RiskScale(_Strict):
    """The rating scale a project's risks are scored on, stored with the project so that a
    later change of the packaged scales does not reword its old assessments."""

    id: RequiredShortText
    name: RequiredShortText
    likelihood_name: RequiredShortText = "Likelihood"
    impact_name: RequiredShortText = Field("Impact", description="'Severity' on a DPIA scale.")
    likelihood: list[ScaleLevel] = Field(min_length=2, max_length=10)
    impact: list[ScaleLevel] = Field(min_length=2, max_length=10)
    bands: list[ScaleBand] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _consistent(self) -> RiskScale:
        for name in ("likelihood", "impact"):
            values = [lv.value for lv in getattr(self, name)]
            if values != list(range(1, len(values) + 1)):
                raise ValueError(f"{name} levels must be numbered 1 to {len(values)} in order")
        top = len(self.likelihood) * len(self.impact)
        covered = sorted(v for b in self.bands for v in range(b.min, b.max + 1))
        if covered != list(range(1, top + 1)):
            raise ValueError(f"the bands must cover each score from 1 to {top} exactly once")
        return self


class Rating(_Strict):
    """Likelihood and impact on the project's scale; None until assessed."""

    likelihood: int | None = Field(None, ge=1, le=10)
    impact: int | None = Field(None, ge=1, le=10)


class ActionLink(_Strict):
    """A further-work action of the workbook: question id and its position (from 0)."""

    question: Annotated[str, Field(pattern=r"^q[0-9]{1,3}$")]
    index: int = Field(ge=0, le=1000)


class Mitigation(_Strict):
    text: Annotated[str, Field(min_length=1, max_length=MAX_LONG_TEXT)]
    action: ActionLink | None = None


class Risk(_Strict):
    """One risk in a project's register."""

    title: RequiredShortText
    description: LongText = ""
    category: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    affected: list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]] = Field(
        default_factory=list, max_length=10, json_schema_extra={"uniqueItems": True}
    )
    questions: list[Annotated[str, Field(pattern=r"^q[0-9]{1,3}$")]] = Field(
        default_factory=lambda: ["q4"], max_length=20
    )
    cause: LongText = ""
    before: Rating = Field(default_factory=Rating)
    mitigations: list[Mitigation] = Field(default_factory=list, max_length=50)
    after: Rating = Field(default_factory=Rating)
    owner: ShortText = Field("", description="Who owns the risk: a role, not a person.")
    status: Literal["open", "mitigated", "accepted", "closed"] = "open"
    review_by: date | None = Field(None, description="When the risk is next reviewed.")
    note: LongText = ""
    created_at: UtcDatetime
    created_by: ShortText = ""


class Considered(_Strict):
    """A category the team considered and found not relevant, and why."""

    reason: Annotated[str, Field(min_length=1, max_length=MAX_LONG_TEXT)]
    by: ShortText = ""
    at: UtcDatetime


def _default_scale() -> RiskScale:
    from workbook.risk_content import load_risk_content

    content = load_risk_content()
    return RiskScale.model_validate(content.scale(content.default_scale).model_dump(mode="json"))


ATRS_FIELD_PATTERN = r"^[a-z][a-z0-9_]{0,79}$"


class PublicField(_Strict):
    """The team's own wording of one field of the public transparency record (ATRS), which
    wins over the draft made from the answers; or the field withheld, with the reason."""

    text: LongText = Field("", description="Written for a public reader (markdown).")
    withheld: bool = Field(False, description="Left out of the published record.")
    reason: ShortText = Field("", description="Why it is withheld (required then).")
    updated_by: ShortText = ""
    updated_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _reason_when_withheld(self) -> PublicField:
        if self.withheld and not self.reason.strip():
            raise ValueError("a withheld field needs a reason (the exemption, in a short phrase)")
        return self


class Transparency(_Strict):
    """What the team has written for the public record (ATRS), field by field."""

    fields: dict[Annotated[str, Field(pattern=ATRS_FIELD_PATTERN)], PublicField] = Field(
        default_factory=dict, max_length=500
    )


MAX_DISMISSALS = 5_000
"""Dismissed personal-data warnings kept per project (those of texts since changed too)."""
DISMISSAL_KEY_PATTERN = r"^[0-9a-f]{16}$"
FIELD_PATH_PATTERN = r"^[a-z][a-z_]{0,39}(?:\.[A-Za-z0-9_-]{1,80}){1,6}$"
PersonalDataKind = Literal[
    "nhs_number",
    "upn",
    "ni_number",
    "postcode",
    "phone",
    "email",
    "date_of_birth",
    "case_reference",
]
"""The kinds of personal data the detector finds (``workbook.personal_data.KINDS``)."""


class DismissedFinding(_Strict):
    """One warning that was dismissed: what it looked like and where, never the text."""

    kind: PersonalDataKind
    start: int = Field(ge=0, le=MAX_LONG_TEXT, description="Character position, from 0.")
    end: int = Field(ge=1, le=MAX_LONG_TEXT, description="Just after the last character.")

    @model_validator(mode="after")
    def _a_span(self) -> DismissedFinding:
        if self.end <= self.start:
            raise ValueError("end must come after start")
        return self


class Dismissal(_Strict):
    """Someone looked at the personal-data warnings on one field's text and recorded why
    they may stay. It holds while the field's text is the same (``fingerprint``); the
    text itself is never stored here."""

    path: str = Field(
        pattern=FIELD_PATH_PATTERN,
        max_length=300,
        description="The field, as a dotted path (answers.q1.response).",
    )
    fingerprint: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the field's text when dismissed."
    )
    findings: list[DismissedFinding] = Field(min_length=1, max_length=500)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=MAX_SHORT_TEXT, description="Why it is not personal data, or may stay."
    )
    by: ShortText = ""
    at: UtcDatetime


class PersonalData(_Strict):
    """Personal-data warnings dismissed, each with its reason (see
    ``workbook.personal_data_review``)."""

    dismissed: dict[Annotated[str, Field(pattern=DISMISSAL_KEY_PATTERN)], Dismissal] = Field(
        default_factory=dict, max_length=MAX_DISMISSALS
    )


class Register(_Strict):
    """The project's risk register: its scale, its risks, and the categories considered
    and found not relevant."""

    scale: RiskScale = Field(default_factory=_default_scale)
    items: dict[Annotated[str, Field(pattern=RISK_ID_PATTERN)], Risk] = Field(
        default_factory=dict, max_length=MAX_RISKS
    )
    considered: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], Considered] = Field(
        default_factory=dict
    )


class SignOff(_Strict):
    """An oversight reviewer's decision on a phase, tied to the revision they read."""

    decision: Decision
    reviewer: RequiredShortText
    role: ShortText = ""
    signed_at: UtcDatetime
    conditions: LongText = ""
    revision: int = Field(
        ge=1, le=MAX_REVISION, description="The revision the reviewer read and signed."
    )
    fingerprint: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the phase's answers and checklist as signed; any later edit "
        "changes it, which marks the sign-off out of date.",
    )
    incomplete_questions: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="How many of the phase's questions were not complete in the revision "
        "signed (an approval of an incomplete phase is confirmed on purpose). Absent from "
        "sign-offs recorded before this was counted.",
    )

    @model_validator(mode="after")
    def _conditions_given(self) -> SignOff:
        if self.decision is Decision.approved_with_conditions and not self.conditions.strip():
            raise ValueError("approved with conditions needs the conditions written down")
        return self


def _camel(identifier: str) -> str:
    return "".join(part.capitalize() for part in identifier.split("_"))


def _build(bank: Bank) -> type[BaseModel]:
    """Generate the Workbook model for one edition of the question bank."""
    answer_fields: dict[str, Any] = {}
    for q in bank.questions:
        notes = create_model(  # type: ignore[call-overload]
            f"PromptNotes{q.id.upper()}",
            __base__=_Strict,
            __doc__=f"A note per prompt of question {q.number}.",
            **{pid: (LongText, "") for pid in q.prompt_ids},
        )
        answer = create_model(  # type: ignore[call-overload]
            f"Answer{q.id.upper()}",
            __base__=AnswerBase,
            __doc__=f"The answer to question {q.number}.",
            prompts=(notes, Field(default_factory=notes)),
        )
        answer_fields[q.id] = (answer, Field(default_factory=answer))
    answers = create_model("Answers", __base__=_Strict, **answer_fields)  # type: ignore[call-overload]

    phase_fields: dict[str, Any] = {}
    for p in bank.phases:
        checklist = create_model(  # type: ignore[call-overload]
            f"Checklist{_camel(p.id)}",
            __base__=_Strict,
            **{
                item: (ChecklistEntry, Field(default_factory=ChecklistEntry))
                for item in p.checklist_ids
            },
        )
        phase = create_model(  # type: ignore[call-overload]
            f"Phase{_camel(p.id)}",
            __base__=_Strict,
            checklist=(checklist, Field(default_factory=checklist)),
            note=(LongText, ""),
        )
        phase_fields[p.id] = (phase, Field(default_factory=phase))
    phases = create_model("Phases", __base__=_Strict, **phase_fields)  # type: ignore[call-overload]

    targets = tuple(comment_targets(bank))
    thread = create_model(  # type: ignore[call-overload]
        "Thread",
        __base__=ThreadBase,
        __doc__=ThreadBase.__doc__,
        target=(
            Literal[targets] | Annotated[str, Field(pattern=RISK_TARGET_PATTERN)],  # type: ignore[valid-type]
            Field(description="A question id, a checklist item, or a risk (risk.<id>)."),
        ),
    )
    signoffs = create_model(  # type: ignore[call-overload]
        "SignOffs",
        __base__=_Strict,
        **{p.id: (SignOff | None, None) for p in bank.phases},
    )
    review = create_model(  # type: ignore[call-overload]
        "Review",
        __base__=_Strict,
        __doc__="Oversight: comment threads and the latest sign-off of each phase.",
        threads=(
            dict[Annotated[str, Field(pattern=THREAD_ID_PATTERN)], thread],  # type: ignore[valid-type]
            Field(default_factory=dict, max_length=MAX_THREADS),
        ),
        signoffs=(signoffs, Field(default_factory=signoffs)),
    )

    return create_model(  # type: ignore[call-overload]
        "Workbook",
        __base__=WorkbookBase,
        __doc__=f"One project's answers to the {bank.title} ({bank.published}).",
        schema_version=(Literal[SCHEMA_VERSION], SCHEMA_VERSION),  # type: ignore[valid-type]
        edition=(Literal[bank.edition], bank.edition),  # type: ignore[valid-type]
        phases=(phases, Field(default_factory=phases)),
        answers=(answers, Field(default_factory=answers)),
        review=(review, Field(default_factory=review)),
        risks=(Register, Field(default_factory=Register)),
        transparency=(Transparency, Field(default_factory=Transparency)),
        personal_data=(PersonalData, Field(default_factory=PersonalData)),
    )


def comment_targets(bank: Bank) -> list[str]:
    """Everything a reviewer can comment on: each question, then each checklist item."""
    return [q.id for q in bank.questions] + [
        f"{p.id}.checklist.{item}" for p in bank.phases for item in p.checklist_ids
    ]


class WorkbookBase(_Strict):
    """Accessors shared by every edition's generated Workbook model."""

    revision: int = Field(0, ge=0, le=MAX_REVISION, description="Goes up by one on every save.")
    project: ProjectInfo
    # The hashes of the project's evidence files, {question id: {file: sha256}}, set by
    # the store when it reads the project (None: not read from a project folder). They are
    # part of a phase's sign-off fingerprint: see workbook.review.phase_fingerprint.
    _evidence: dict[str, dict[str, str]] | None = PrivateAttr(default=None)

    @property
    def evidence_hashes(self) -> dict[str, dict[str, str]] | None:
        return self._evidence

    def __eq__(self, other: object) -> bool:
        """The same content: where the workbook was read from (its evidence) is not part
        of it."""
        if not isinstance(other, WorkbookBase):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def answer(self, question_id: str) -> AnswerBase:
        if question_id not in type(self.answers).model_fields:  # type: ignore[attr-defined]
            raise KeyError(f"unknown question id {question_id!r}")
        return getattr(self.answers, question_id)  # type: ignore[attr-defined]

    def checklist_entry(self, phase_id: str, item_id: str) -> ChecklistEntry:
        return getattr(getattr(self.phases, phase_id).checklist, item_id)  # type: ignore[attr-defined]

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready dict, exactly as it is saved."""
        return self.model_dump(mode="json")

    @model_validator(mode="after")
    def _register_links(self) -> WorkbookBase:
        """The risk register refers to the content (categories, groups), the bank
        (questions), its own scale and the workbook's further-work actions, and the public
        wording to the ATRS fields: all must exist."""
        register = getattr(self, "risks", None)
        if register is None:
            return self
        from workbook.risks import register_problems

        problems = register_problems(register, self.answers)  # type: ignore[attr-defined]
        for tid, th in self.review.threads.items():  # type: ignore[attr-defined]
            if th.target.startswith("risk.") and th.target[5:] not in register.items:
                problems.append(
                    (f"review.threads.{tid}.target", f"no risk {th.target[5:]!r} in the register")
                )
        transparency = getattr(self, "transparency", None)
        if transparency is not None and transparency.fields:
            from workbook.transparency import known_field_ids

            known = known_field_ids()
            for fid in transparency.fields:
                if fid not in known:
                    problems.append((f"transparency.fields.{fid}", f"unknown ATRS field {fid!r}"))
        if problems:
            field, message = problems[0]
            raise PydanticCustomError(
                "risk_register", "{field}: {message}", {"field": field, "message": message}
            )
        return self


Workbook = _build(load_bank(DEFAULT_EDITION))
"""The model for the current edition, ``dfe-2024-04``."""


def new_workbook(
    *,
    project_id: str,
    tool_name: str,
    local_authority: str,
    created_by: str = "",
    owner: str = "",
    oversight_group: str = "",
    description: str = "",
    members: Sequence[str] = (),
    now: datetime | None = None,
) -> WorkbookBase:
    """A blank workbook for a new project (revision 0: not yet saved)."""
    info = ProjectInfo(
        id=project_id,
        tool_name=tool_name,
        local_authority=local_authority,
        owner=owner,
        oversight_group=oversight_group,
        description=description,
        created_at=now or datetime.now(timezone.utc),
        created_by=created_by,
        members=list(members),
    )
    return Workbook(project=info)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an answers file, as committed in ``workbook/schema``."""
    schema = Workbook.model_json_schema()
    _close_mappings(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ethics-workbook answers file",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _close_mappings(node: Any) -> None:
    """Mappings keyed by generated ids accept only keys matching their pattern."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_mappings(value)
    elif isinstance(node, list):
        for value in node:
            _close_mappings(value)


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def describe_validation_error(exc: ValidationError, bank: Bank | None = None) -> tuple[str, str]:
    """The first problem in ``exc`` as (dotted field path, plain-language message)."""
    bank = bank or load_bank(DEFAULT_EDITION)
    err = exc.errors(include_url=False)[0]
    if err["type"] == "risk_register":
        return err["ctx"]["field"], err["ctx"]["message"]
    loc = [str(p) for p in err["loc"]]
    path = ".".join(loc)
    if err["type"] == "extra_forbidden":
        name = loc[-1]
        parent = loc[:-1]
        if parent == ["answers"]:
            return path, (
                f"unknown question id {name!r}; this edition ({bank.edition}) has "
                f"{', '.join(bank.question_ids)}"
            )
        if len(parent) == 3 and parent[0] == "answers" and parent[2] == "prompts":
            q = bank.question(parent[1])
            return path, (
                f"unknown prompt id {name!r} for {q.id}; its prompts are {', '.join(q.prompt_ids)}"
            )
        if len(parent) == 3 and parent[0] == "phases" and parent[2] == "checklist":
            p = bank.phase(parent[1])
            return path, (
                f"unknown checklist item {name!r} for the {p.id} phase; "
                f"its items are {', '.join(p.checklist_ids)}"
            )
        if parent == ["phases"]:
            return path, f"unknown phase {name!r}; phases are {', '.join(PHASE_IDS)}"
        return path, f"unknown field {name!r}; remove it or check its spelling"
    if err["type"] == "string_unicode":
        return path, (
            "contains an invalid character (a lone surrogate, often left by a broken copy and "
            "paste) that cannot be saved as UTF-8; delete it and type or paste the text again"
        )
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {_short(got)})"
    return path, f"{err['msg']}{shown}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
