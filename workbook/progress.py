"""How far a project has got: pure functions over a workbook and the question bank."""

from __future__ import annotations

from dataclasses import dataclass

from workbook.bank import Bank, Phase, Question, load_bank
from workbook.model import QuestionStatus, WorkbookBase


@dataclass(frozen=True)
class QuestionProgress:
    question_id: str
    answered: bool  # has a response
    status: QuestionStatus
    prompts_noted: int
    prompts_total: int
    held_back: str = ""  # why it does not count as complete although marked so

    @property
    def complete(self) -> bool:
        return self.status is QuestionStatus.complete and not self.held_back


@dataclass(frozen=True)
class PhaseProgress:
    phase_id: str
    title: str
    questions: tuple[QuestionProgress, ...]
    checklist_done: int  # marked done or not applicable
    checklist_assessed: int  # given any status
    checklist_total: int

    @property
    def questions_total(self) -> int:
        return len(self.questions)

    @property
    def answered(self) -> int:
        return sum(q.answered for q in self.questions)

    @property
    def complete(self) -> int:
        return sum(q.complete for q in self.questions)

    @property
    def further_work(self) -> int:
        return sum(q.status is QuestionStatus.further_work_needed for q in self.questions)

    @property
    def prompts_noted(self) -> int:
        return sum(q.prompts_noted for q in self.questions)

    @property
    def prompts_total(self) -> int:
        return sum(q.prompts_total for q in self.questions)

    @property
    def fraction(self) -> float:
        """Share of the phase's work done: complete questions and settled checklist items."""
        total = self.questions_total + self.checklist_total
        return (self.complete + self.checklist_done) / total if total else 1.0


REGISTER_QUESTION = "q4"
"""The question the risk register belongs to: it counts as complete only once every
digital ethics category is covered (a risk, or a reason it does not apply)."""


def held_back(workbook: WorkbookBase, question_id: str) -> str:
    """Why ``question_id`` cannot count as complete yet, or ""."""
    register = getattr(workbook, "risks", None)
    if question_id != REGISTER_QUESTION or register is None:
        return ""
    from workbook.risks import uncovered

    gaps = [c.name for c in uncovered(register)]
    if not gaps:
        return ""
    return "risk categories not considered yet: " + "; ".join(gaps)


def question_progress(workbook: WorkbookBase, question: Question) -> QuestionProgress:
    answer = workbook.answer(question.id)
    notes = answer.prompts.model_dump()  # type: ignore[attr-defined]
    return QuestionProgress(
        held_back=held_back(workbook, question.id),
        question_id=question.id,
        answered=bool(answer.response.strip()),
        status=answer.status,
        prompts_noted=sum(bool(notes[pid].strip()) for pid in question.prompt_ids),
        prompts_total=len(question.prompt_ids),
    )


def phase_progress(workbook: WorkbookBase, phase: Phase) -> PhaseProgress:
    entries = [workbook.checklist_entry(phase.id, item) for item in phase.checklist_ids]
    return PhaseProgress(
        phase_id=phase.id,
        title=phase.title,
        questions=tuple(question_progress(workbook, q) for q in phase.questions),
        checklist_done=sum(e.status in {"done", "not_applicable"} for e in entries),
        checklist_assessed=sum(e.status is not None for e in entries),
        checklist_total=len(entries),
    )


def project_progress(workbook: WorkbookBase, bank: Bank | None = None) -> tuple[PhaseProgress, ...]:
    bank = bank or load_bank(workbook.edition)  # type: ignore[attr-defined]
    return tuple(phase_progress(workbook, p) for p in bank.phases)
