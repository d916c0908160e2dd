"""PhaseWorkbook: one phase page, with progress, the save indicator and conflict handling."""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as w

from widgets._bind import Binder, esc, html_block
from widgets._links import PHASE_PAGES, REVIEW_PAGE, START_PAGE, TRANSPARENCY_PAGE, page_link
from widgets.checklist import ChecklistWidget
from widgets.identity import change_name_link
from widgets.personal_data import PersonalDataWarnings
from widgets.question import QuestionWidget
from widgets.review import ReviewContext, SignOffBanner, ThreadsWidget
from widgets.risks import REGISTER_QUESTION, LinkedRisks, RiskRegisterView, linked_questions
from widgets.status import PageStatus
from workbook.bank import Bank, load_bank
from workbook.errors import Conflict
from workbook.progress import phase_progress
from workbook.roles import Action
from workbook.session import EditSession, SaveState


def save_indicator(binder: Binder, status: PageStatus | None = None) -> PageStatus:
    """The page status showing ``binder``'s session: "Saved 14:02", "Saving…", an error,
    or "Not saved: 1 incomplete row"; it saves at once when the page is about to close."""
    status = status or PageStatus()
    session = binder.session

    def show(state: SaveState) -> None:
        status.unsaved_labels = [label for row in session.incomplete_rows() for label in row]
        status.show(state)

    binder.on_state(show)
    status.on_flush(session.flush)
    show(session.state)
    return status


class ConflictPanel(w.VBox):
    """Shows each field someone else changed, with both values, and lets the user choose."""

    def __init__(self, binder: Binder, bank: Bank) -> None:
        super().__init__()
        self.add_class("ew-conflicts")
        self.binder = binder
        self.bank = bank
        binder.on_state(lambda _state: self.render())
        self.render()

    def render(self) -> None:
        session = self.binder.session
        if not session.conflicts:
            self.children = ()
            self.layout.display = "none"
            return
        self.layout.display = "flex"
        items: list[w.Widget] = [
            html_block(
                '<h2 class="ew-h2" role="alert">Someone else changed what you were editing</h2>'
                "<p>Nothing has been lost. For each field below, keep your version or take theirs."
                "</p>"
            )
        ]
        for path, conflict in session.conflicts.items():
            items.append(self._item(path, conflict))
        self.children = items

    def _item(self, path: str, conflict: Conflict) -> w.VBox:
        who = conflict.their_user or "someone else"
        when = f" in revision {conflict.their_revision}" if conflict.their_revision else ""
        keep = w.Button(
            description="Keep mine",
            button_style="primary",
            tooltip=f"Keep your version of {self.bank.field_label(path)}",
        )
        take = w.Button(
            description="Take theirs",
            tooltip=f"Use {who}'s version of {self.bank.field_label(path)}",
        )
        keep.add_class("ew-keep")
        take.add_class("ew-take")
        keep.on_click(lambda _: self.binder.session.keep_mine(path))
        take.on_click(lambda _: self.binder.session.take_theirs(path))
        body = html_block(
            f'<h3 class="ew-h4">{esc(self.bank.field_label(path))}</h3>'
            f"<p><strong>Saved by {esc(who)}{esc(when)}:</strong></p>"
            f'<pre class="ew-value">{esc(_show(conflict.theirs))}</pre>'
            f"<p><strong>Your version:</strong></p>"
            f'<pre class="ew-value">{esc(_show(conflict.yours))}</pre>'
        )
        box = w.VBox([body, w.HBox([keep, take])])
        box.add_class("ew-conflict")
        return box


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value or "(empty)"
    if value is None:
        return "(not set)"
    return json.dumps(value, indent=2, ensure_ascii=False)


class PhaseProgressView(w.HTML):
    """The phase's progress bar and figures, recomputed from what the user sees."""

    def __init__(self, binder: Binder, bank: Bank, phase_id: str) -> None:
        super().__init__()
        self.add_class("ew-progress")
        self.binder = binder
        self.phase = bank.phase(phase_id)
        binder.on_change(lambda _path: self.update())
        binder.on_state(lambda _state: self.update())
        self.update()

    def update(self) -> None:
        p = phase_progress(self.binder.session.current(), self.phase)
        pct = round(p.fraction * 100)
        self.figures = p
        self.value = (
            f'<div class="ew-progress-box">'
            f'<progress max="100" value="{pct}" aria-label="{esc(self.phase.title)} progress">'
            f"{pct}%</progress> <strong>{pct}%</strong>"
            f'<p class="ew-hint">{p.complete} of {p.questions_total} questions complete · '
            f"{p.answered} answered · {p.prompts_noted} of {p.prompts_total} prompt notes · "
            f"checklist {p.checklist_done} of {p.checklist_total} done</p></div>"
        )


class PhaseWorkbook(w.VBox):
    """One phase: introduction, checklist and questions, with progress and autosave."""

    def __init__(
        self,
        session: EditSession,
        phase_id: str,
        *,
        bank: Bank | None = None,
        status: PageStatus | None = None,
    ) -> None:
        super().__init__()
        self.add_class("ew-phase")
        bank = bank or load_bank(session.workbook.edition)
        self.session = session
        self.binder = Binder(session)
        phase = bank.phase(phase_id)
        self.phase = phase
        info = session.workbook.project

        self.save_indicator = save_indicator(self.binder, status)
        self.progress = PhaseProgressView(self.binder, bank, phase_id)
        self.conflicts = ConflictPanel(self.binder, bank)
        self.review = ReviewContext.for_session(session, bank)
        self.binder.on_state(self._saved)
        self.banner = SignOffBanner(self.review, phase_id)
        self.checklist = ChecklistWidget(phase, self.binder, self.review)
        self.questions = [QuestionWidget(q, self.binder, self.review) for q in phase.questions]
        # The risk register under question 4's answer; under any other question that a risk
        # links to, a short list of those risks.
        self.risk_register: RiskRegisterView | None = None
        linked = linked_questions(session.workbook)
        for qw in self.questions:
            if qw.question.id == REGISTER_QUESTION:
                self.risk_register = RiskRegisterView(self.review)
                _after_answer(qw, self.risk_register)
            elif qw.question.id in linked:
                _after_answer(qw, LinkedRisks(self.review, qw.question))

        current = ' aria-current="page"'
        nav = " ".join(
            f'<a href="{esc(page_link(page, info.id))}"'
            f"{current if pid == phase_id else ''}>{esc(bank.phase(pid).title)}</a>"
            for pid, page in PHASE_PAGES.items()
        )
        header = html_block(
            '<a class="ew-skip" href="#questions">Skip to questions</a>'
            f'<p class="ew-kicker">{esc(bank.title)} · {esc(info.local_authority)}</p>'
            f'<p class="ew-project"><strong>{esc(info.tool_name)}</strong></p>'
            f'<nav class="ew-nav" aria-label="Workbook pages">'
            f'<a href="{esc(page_link(START_PAGE, info.id))}">Start</a> {nav} '
            f'<a href="{esc(page_link(REVIEW_PAGE, info.id))}">Review</a> '
            f'<a href="{esc(page_link(TRANSPARENCY_PAGE, info.id))}">Transparency</a></nav>'
            + _who_note(session)
        )
        status_bar = w.HBox([self.save_indicator, self.progress])
        status_bar.add_class("ew-status-bar")
        intro = html_block(
            f'<p class="ew-hint">{esc(phase.stages)}</p><p>{esc(phase.introduction)}</p>'
        )
        after = (
            html_block(f"<p>{esc(phase.after_checklist)}</p>") if phase.after_checklist else None
        )
        questions_heading = html_block(
            '<h2 class="ew-h2" id="questions" tabindex="-1">Questions</h2>'
        )
        footer = html_block(
            _next_links(bank, phase_id, info.id)
            + f'<p class="ew-footer">{esc(bank.attribution)}</p>'
        )
        self.children = [
            c
            for c in (
                header,
                self.banner,
                status_bar,
                self.conflicts,
                intro,
                self.checklist,
                after,
                questions_heading,
                *self.questions,
                footer,
            )
            if c is not None
        ]

        if not session.actor.may(Action.edit):
            for part in (self.checklist, *self.questions):
                _read_only(part)
        # Last, once the page is built: warnings under text fields that look like personal
        # data (the detector warms up in the background; see widgets/personal_data.py).
        self.personal_data = PersonalDataWarnings(self.binder, self, on_saved=self.review.saved)

    def _saved(self, state: SaveState) -> None:
        if state.kind == "saved":
            self.review.session_saved()
            self.banner.update()  # an edit of ours may have put the sign-off out of date

    def question(self, question_id: str) -> QuestionWidget:
        return next(q for q in self.questions if q.question.id == question_id)


def _after_answer(question: QuestionWidget, widget: w.Widget) -> None:
    """Put ``widget`` in ``question`` just after its answer, status and progress line."""
    children = list(question.children)
    children.insert(children.index(question.progress) + 1, widget)
    question.children = tuple(children)


def _who_note(session: EditSession) -> str:
    actor = session.actor
    name = f"<strong>{esc(actor.name)}</strong>"
    if not actor.enforced:
        link = change_name_link(actor.name)
        return (
            f'<p class="ew-hint">Editing as {name}.{link}{"." if link else ""} '
            "Changes are saved automatically.</p>"
        )
    if actor.may(Action.edit):
        return (
            f'<p class="ew-hint">Editing as {name} ({esc(actor.roles_text)}). Changes are '
            "saved automatically.</p>"
        )
    return (
        f'<p class="ew-hint ew-read-only" role="note">Reading as {name} '
        f"({esc(actor.roles_text)}): only an author can change the answers, so they are "
        "shown read-only.</p>"
    )


def _read_only(widget: w.Widget) -> None:
    """Disable every control under ``widget`` except the comment threads (where a reviewer
    may still reply). The core refuses an edit anyway (:class:`workbook.roles.RoleRequired`);
    this is so the page does not offer what it would refuse."""
    if isinstance(widget, ThreadsWidget):
        return
    if hasattr(widget, "disabled") and not isinstance(widget, w.HTML):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        _read_only(child)


def _next_links(bank: Bank, phase_id: str, project_id: str) -> str:
    """Where to go after the last question: the next phase, or the review."""
    ids = list(PHASE_PAGES)
    here = ids.index(phase_id)
    links = []
    if here + 1 < len(ids):
        nxt = bank.phase(ids[here + 1])
        numbers = f"questions {nxt.questions[0].number} to {nxt.questions[-1].number}"
        links.append(
            f'<a href="{esc(page_link(PHASE_PAGES[nxt.id], project_id))}">'
            f"Next phase: {esc(nxt.title)}</a> ({numbers})"
        )
    else:
        links.append(
            f'<a href="{esc(page_link(REVIEW_PAGE, project_id))}">Next: oversight review and '
            "sign-off</a>"
        )
    if here > 0:
        prev = bank.phase(ids[here - 1])
        links.append(
            f'<a href="{esc(page_link(PHASE_PAGES[prev.id], project_id))}">'
            f"Previous phase: {esc(prev.title)}</a>"
        )
    links.append(f'<a href="{esc(page_link(START_PAGE, project_id))}">Start page</a>')
    items = "".join(f"<li>{link}</li>" for link in links)
    return f'<nav class="ew-next" aria-label="Next steps"><ul class="ew-links">{items}</ul></nav>'
