"""Oversight review in the app: comment threads, sign-off, changes, history, action plan.

Every view here reads a :class:`ReviewContext` (the project as last read, who is looking)
and every change goes through :mod:`workbook.review`, which goes through
:mod:`workbook.store`. The views do no file I/O of their own. After a change the context
tells every view to show the saved project again and, on a phase page, refreshes the
editing session so that autosaves stay on a current base.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw, textarea
from widgets._links import (
    PHASE_PAGES,
    REVIEW_PAGE,
    START_PAGE,
    TRANSPARENCY_PAGE,
    anchor_id,
    page_link,
)
from widgets.identity import change_name_link
from workbook import review
from workbook.bank import Bank, Question, load_bank
from workbook.errors import WorkbookError
from workbook.model import COMMENT_KIND_LABELS, DECISION_LABELS, CommentKind, Decision, WorkbookBase
from workbook.roles import Action, Actor, as_actor
from workbook.session import EditSession
from workbook.store import Store

log = logging.getLogger("ethics-workbook")

DASH = "\u2013"
CHOOSE = "Choose a decision"
HISTORY_PAGE = 25
"""History entries shown at first, and added by each "Show more"."""


# --------------------------------------------------------------------------- context


class ReviewContext:
    """The project as the review views show it, who is looking, and change notices.

    Listeners are called as ``listener(reloaded)``: ``reloaded`` is True after
    :meth:`reload` (the whole project was read again, answers included) and False after a
    review change of the user's own (a comment, a reply, a sign-off, a restore).
    """

    def __init__(
        self,
        store: Store,
        project_id: str,
        *,
        user: str | Actor,
        session: EditSession | None = None,
        bank: Bank | None = None,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.actor = as_actor(user)
        """Who is at the page, with their roles; the core checks them again on every change."""
        self.user = self.actor.name
        self.session = session
        self._workbook: WorkbookBase = session.workbook if session else store.open(project_id)
        self.bank = bank or load_bank(self._workbook.edition)  # type: ignore[attr-defined]
        self.shown_revision = self._workbook.revision
        """The revision whose answers the user was last shown (what a sign-off signs)."""
        self._seen_revision = self._workbook.revision
        self._listeners: list[Callable[[bool], None]] = []

    @property
    def as_reviewer(self) -> bool:
        """Acting as the oversight group (the review page), not as an author (a phase page)."""
        return self.session is None

    @classmethod
    def for_session(cls, session: EditSession, bank: Bank | None = None) -> ReviewContext:
        return cls(
            session.store, session.project_id, user=session.actor, session=session, bank=bank
        )

    @property
    def workbook(self) -> WorkbookBase:
        """The latest saved project this page knows of."""
        return self.session.workbook if self.session is not None else self._workbook

    def subscribe(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, reloaded: bool) -> None:
        self._seen_revision = self.workbook.revision
        for listener in list(self._listeners):
            listener(reloaded)

    def saved(self, workbook: WorkbookBase) -> None:
        """A review change of ours was saved as ``workbook``: show it everywhere."""
        self._workbook = workbook
        if self.session is not None:
            self.session.refresh()
        self._notify(False)

    def reload(self) -> None:
        """Read the project again (others' answers, comments and replies)."""
        self._workbook = self.store.open(self.project_id)
        if self.session is not None:
            self.session.refresh()
        self.shown_revision = self.workbook.revision
        self._notify(True)

    def session_saved(self) -> None:
        """The editing session saved (and so read the file): show any new comments."""
        if self.workbook.revision != self._seen_revision:
            self._notify(False)


def as_context(source: ReviewContext | EditSession) -> ReviewContext:
    """A view's context: the one given, or a new one over an editing session.

    Views built on one context stay in step (a comment posted in one shows in all), so
    a page builds one context and passes it to each of its views.
    """
    return source if isinstance(source, ReviewContext) else ReviewContext.for_session(source)


# --------------------------------------------------------------------------- helpers


def target_name(target: str, bank: Bank) -> str:
    """``question 7``, ``Explore phase checklist item 3`` or ``risk R2``: short, for
    labels."""
    if target.startswith("risk."):
        return "this risk"
    if "." in target:
        phase_id, _, item_id = target.split(".", 2)
        phase = bank.phase(phase_id)
        return f"{phase.title} checklist item {phase.checklist_ids.index(item_id) + 1}"
    return f"question {bank.question(target).number}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _alert(text: str) -> str:
    return f'<p class="ew-error" role="alert">{esc(text)}</p>'


def _done(text: str) -> str:
    return f'<p class="ew-done" role="status">{esc(text)}</p>'


def _attempt(message: w.HTML, failed: str, action: Callable[[], str]) -> bool:
    """Run a user's action; show its outcome or a plain message (never a traceback)."""
    try:
        outcome = action()
    except WorkbookError as exc:
        message.value = _alert(f"{failed}: {exc.message.rstrip('.')}.")
        return False
    except Exception:  # the UI boundary: log it, tell the user plainly
        log.exception("review action failed")
        message.value = _alert(
            f"{failed}: something went wrong. Reload the page to see what was saved, then try "
            "again."
        )
        return False
    message.value = _done(outcome) if outcome else ""
    return True


def _multiline(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- threads


SHOWN_THREADS = 5
"""Threads shown at first on one question or checklist item (open and recent ones)."""
MORE_THREADS = 20
"""Threads each "Show more" adds."""


class ThreadsWidget(w.VBox):
    """The comment threads on one question or checklist item, with forms to add to them.

    Shown on the review page and on the phase pages, so that authors see the oversight
    group's challenges where they answer, reply, and mark them resolved.
    """

    def __init__(self, ctx: ReviewContext | EditSession, target: str) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-threads"))
        self.ctx = ctx = as_context(ctx)
        self.target = target
        self.name = target_name(target, ctx.bank)
        if target.startswith("risk."):  # name the risk, so each button says which one
            risk = ctx.workbook.risks.items.get(target[5:])  # type: ignore[attr-defined]
            if risk is not None:
                title = risk.title if len(risk.title) <= 60 else risk.title[:59] + "…"
                self.name = f"the risk \u201c{title}\u201d"
        self.heading: w.HTML | None = None  # built when there is something to head
        self._message: w.HTML | None = None  # built for the first outcome to show
        self.add_button = w.Button(
            description=f"Add a comment on {self.name}",
            tooltip=f"Ask a question, challenge or suggest something about {self.name}",
            **plain_kw(w.Button, "ew-secondary", "ew-add-comment"),
        )
        self.add_button.on_click(lambda _: self.open_form())
        self.form: w.VBox | None = None
        self.limit = SHOWN_THREADS
        self.more_button: w.Button | None = None
        self.kind: w.Dropdown | None = None
        self.text: w.Textarea | None = None
        self.post_button: w.Button | None = None
        self._threads: dict[str, _ThreadBox] = {}
        ctx.subscribe(self._on_update)
        self.render()

    @property
    def message(self) -> w.HTML:
        """Where the outcome of posting shows (made on first use: phase pages stay light)."""
        if self._message is None:
            self._message = html_block("")
            self.render()
        return self._message

    def _on_update(self, reloaded: bool) -> None:
        if reloaded:
            if self._message is not None:
                self._message.value = ""
            for box in self._threads.values():
                box.message.value = ""
        self.render()

    # ---- the form to start a thread (built on first use: phase pages stay light)

    def open_form(self) -> None:
        if self.form is None:
            self.kind = w.Dropdown(
                description="Kind of comment",
                options=[(label, k.value) for k, label in COMMENT_KIND_LABELS.items()],
                value=CommentKind.question.value,
                **stacked_kw(w.Dropdown, "16em"),
            )
            self.text = textarea(f"Your comment on {self.name}", rows=3, continuous_update=False)
            self.post_button = w.Button(
                description="Post comment", button_style="primary", **plain_kw(w.Button)
            )
            self.post_button.on_click(lambda _: self.post())
            cancel = w.Button(description="Cancel", **plain_kw(w.Button, "ew-link-button"))
            cancel.on_click(lambda _: self.close_form())
            self.form = w.VBox(
                [self.kind, self.text, w.HBox([self.post_button, cancel], **plain_kw(w.HBox))],
                **plain_kw(w.VBox, "ew-comment-form"),
            )
        if self._message is not None:
            self._message.value = ""
        self.render(form=True)
        assert self.kind is not None
        self.kind.focus()

    def close_form(self) -> None:
        self.render(form=False)
        self.add_button.focus()

    def post(self) -> None:
        assert self.kind is not None
        assert self.text is not None
        kind, text = self.kind.value, self.text.value

        def act() -> str:
            saved, _tid = review.add_comment(
                self.ctx.store,
                self.ctx.project_id,
                target=self.target,
                kind=kind,
                text=text,
                user=self.ctx.actor,
            )
            self.ctx.saved(saved)
            return f"{COMMENT_KIND_LABELS[CommentKind(kind)]} posted."

        if _attempt(self.message, "Not posted", act):
            self.text.value = ""
            self.kind.value = CommentKind.question.value
            self.close_form()

    # ---- showing the threads

    def views(self) -> list[review.ThreadView]:
        return review.threads(self.ctx.workbook, target=self.target, bank=self.ctx.bank)

    def _shown(self, views: list[review.ThreadView]) -> list[review.ThreadView]:
        """The threads to show now: at most ``self.limit``, open ones first, then the most
        recent; in the order they were started. (A project may hold thousands of comments:
        the page must still open quickly; the rest come with "Show more".)"""
        if len(views) <= self.limit:
            return views
        newest_first = views[::-1]
        picked = [v for v in newest_first if not v.thread.resolved][: self.limit]
        picked += [v for v in newest_first if v.thread.resolved][: self.limit - len(picked)]
        keep = {v.id for v in picked}
        return [v for v in views if v.id in keep]

    def show_more(self) -> None:
        self.limit += MORE_THREADS
        self.render()
        if self.more_button is not None and self.more_button in self.children:
            self.more_button.focus()
        else:
            self.add_button.focus()

    def render(self, form: bool | None = None) -> None:
        views = self.views()
        showing_form = (
            form if form is not None else (self.form is not None and self.form in self.children)
        )
        numbers = {v.id: n for n, v in enumerate(views, start=1)}
        shown = self._shown(views)
        for view in shown:
            box = self._threads.get(view.id)
            if box is None:
                box = self._threads[view.id] = _ThreadBox(self, view.id, numbers[view.id])
            box.show(view)
        boxes = [self._threads[v.id] for v in shown]
        hidden = len(views) - len(shown)
        more: list[w.Widget] = []
        if hidden:
            if self.more_button is None:
                self.more_button = w.Button(**plain_kw(w.Button, "ew-secondary", "ew-more"))
                self.more_button.on_click(lambda _: self.show_more())
            self.more_button.description = (
                f"Show {min(MORE_THREADS, hidden)} more of {hidden} other comments on {self.name}"
            )
            more = [self.more_button]
        if views:
            if self.heading is None:
                self.heading = html_block("", "ew-threads-head")
            open_n = sum(v.open_challenge for v in views)
            extra = f", {_plural(open_n, 'open challenge')}" if open_n else ""
            self.heading.value = (
                f'<h4 class="ew-h4" id="{anchor_id(self.target)}">'
                f"Comments on {esc(self.name)} ({len(views)}{esc(extra)})</h4>"
            )
        head = [self.heading] if views and self.heading is not None else []
        message = [self._message] if self._message is not None else []
        tail = [self.form] if showing_form and self.form is not None else [self.add_button]
        if not self.ctx.actor.may(Action.comment):
            tail = []
        self.children = (*head, *boxes, *more, *message, *tail)

    def thread_box(self, number: int) -> _ThreadBox:
        """The n-th thread on this target (1-based), for tests and scripting."""
        view = self.views()[number - 1]
        while view.id not in self._threads:
            self.show_more()
        return self._threads[view.id]


class _ThreadBox(w.VBox):
    """One thread: what was said, and controls to reply and to resolve or reopen it."""

    def __init__(self, owner: ThreadsWidget, thread_id: str, number: int) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-thread-box"))
        self.owner = owner
        self.thread_id = thread_id
        self.body = html_block("")
        self.reply_text = textarea(
            f"Your reply to comment {number} on {owner.name}", rows=2, continuous_update=False
        )
        self.reply_button = w.Button(description="Post reply", **plain_kw(w.Button))
        self.reply_button.on_click(lambda _: self.post_reply())
        self.resolve_button = w.Button(description="Mark resolved", **plain_kw(w.Button))
        self.resolve_button.on_click(lambda _: self.toggle_resolved())
        self.message = html_block("")
        self.resolved = False
        actor = owner.ctx.actor
        pairs = ((self.reply_button, Action.reply), (self.resolve_button, Action.resolve))
        buttons = [b for b, action in pairs if actor.may(action)]
        controls: list[w.Widget] = []
        if actor.may(Action.reply):
            controls.append(self.reply_text)
        if buttons:
            controls.append(w.HBox(buttons, **plain_kw(w.HBox, "ew-buttons")))
        self.children = [self.body, *controls, self.message]

    def show(self, view: review.ThreadView) -> None:
        th = view.thread
        kind = th.kind.value
        role = f" ({esc(th.role)})" if th.role else ""
        if th.resolved:
            state = (
                f'<span class="ew-resolved">Resolved by {esc(th.resolved_by or "someone")}, '
                f"{esc(review.format_time(th.resolved_at))}</span>"
            )
        else:
            state = '<span class="ew-open">Open</span>'
        replies = sorted(th.replies.values(), key=lambda r: r.created_at)
        reply_html = "".join(
            f'<li class="ew-reply"><p class="ew-thread-meta"><strong>{esc(r.author)}</strong> · '
            f"{esc(review.format_time(r.created_at))}</p>"
            f'<p class="ew-thread-text">{_multiline(r.text)}</p></li>'
            for r in replies
        )
        self.body.value = (
            f'<div class="ew-thread ew-thread-{"resolved" if th.resolved else "open"} '
            f'ew-kind-{kind}">'
            f'<p class="ew-thread-meta"><span class="ew-badge ew-badge-{kind}">'
            f"{esc(th.kind.label)}</span> <strong>{esc(th.author)}</strong>{role} · "
            f"{esc(review.format_time(th.created_at))} · {state}</p>"
            f'<p class="ew-thread-text">{_multiline(th.text)}</p>'
            + (
                f'<ul class="ew-replies" aria-label="Replies">{reply_html}</ul>'
                if reply_html
                else ""
            )
            + "</div>"
        )
        self.resolved = th.resolved
        ctx = self.owner.ctx
        self.needs_reason = (
            th.kind is CommentKind.challenge and not ctx.as_reviewer and th.author != ctx.user
        )
        if th.resolved:
            self.resolve_button.description = "Reopen"
        elif self.needs_reason:  # an author resolves a challenge by saying why
            self.resolve_button.description = "Reply and mark resolved"
        else:
            self.resolve_button.description = "Mark resolved"

    def post_reply(self) -> None:
        ctx = self.owner.ctx
        text = self.reply_text.value

        def act() -> str:
            saved, _ = review.reply(
                ctx.store, ctx.project_id, self.thread_id, text=text, user=ctx.actor
            )
            ctx.saved(saved)
            return "Reply posted."

        if _attempt(self.message, "Not posted", act):
            self.reply_text.value = ""

    def toggle_resolved(self) -> None:
        ctx = self.owner.ctx
        resolve = not self.resolved
        reason = self.reply_text.value if resolve else ""
        if resolve and self.needs_reason and not reason.strip():
            self.message.value = _alert(
                "Not resolved: a challenge is resolved by the oversight group or by whoever "
                "raised it. Write in the reply box why it is resolved, then press "
                "“Reply and mark resolved”."
            )
            self.reply_text.focus()
            return

        def act() -> str:
            saved = review.set_resolved(
                ctx.store,
                ctx.project_id,
                self.thread_id,
                resolve,
                user=ctx.actor,
                reviewer=ctx.as_reviewer,
                reason=reason,
            )
            ctx.saved(saved)
            if not resolve:
                return "Reopened."
            return "Reply posted and marked resolved." if reason.strip() else "Marked resolved."

        if _attempt(self.message, "Not changed", act) and reason.strip():
            self.reply_text.value = ""


# --------------------------------------------------------------------------- sign-off


def signoff_html(ctx: ReviewContext, phase_id: str, *, heading: str = "h3") -> str:
    """The phase's sign-off state and open challenges, as an HTML block."""
    wb = ctx.workbook
    state = review.signoff_state(wb, phase_id)
    phase = ctx.bank.phase(phase_id)
    lines = []
    if state.record is not None:
        lines.append(f'<p class="ew-signoff-summary"><strong>{esc(state.summary)}</strong></p>')
    if state.status == "out_of_date":
        lines.append(f"<p>The {esc(phase.title)} needs to be reviewed and signed off again.</p>")
    if state.record is not None and state.record.conditions:
        lines.append(f"<p><strong>Conditions:</strong> {_multiline(state.record.conditions)}</p>")
    challenges = review.open_challenges(wb, phase_id, ctx.bank)
    if challenges:
        links = ", ".join(
            dict.fromkeys(
                f'<a href="#{anchor_id(c.target)}">{esc(c.target_label)}</a>' for c in challenges
            )
        )
        lines.append(
            f'<p class="ew-challenges"><strong>{_plural(len(challenges), "open challenge")}'
            f"</strong> on {links}. The phase cannot be approved until "
            f"{'it is' if len(challenges) == 1 else 'they are'} resolved.</p>"
        )
    else:
        lines.append('<p class="ew-hint">No open challenges in this phase.</p>')
    label = {"none": "not signed off yet", "current": "signed off", "out_of_date": "out of date"}
    return (
        f'<div class="ew-signoff ew-signoff-{state.status}">'
        f'<{heading} class="ew-h4">Sign-off: {esc(label[state.status])}</{heading}>'
        + "".join(lines)
        + "</div>"
    )


class SignOffBanner(w.HTML):
    """At the top of a phase page: where its sign-off stands and its open challenges."""

    def __init__(self, ctx: ReviewContext | EditSession, phase_id: str) -> None:
        super().__init__(**plain_kw(w.HTML, "ew-banner"))
        self.ctx = ctx = as_context(ctx)
        self.phase_id = phase_id
        ctx.subscribe(lambda _reloaded: self.update())
        self.update()

    def update(self) -> None:
        self.state = review.signoff_state(self.ctx.workbook, self.phase_id)
        self.value = signoff_html(self.ctx, self.phase_id, heading="h2")


class SignOffPanel(w.VBox):
    """A phase's sign-off state, and the form a reviewer records a decision with."""

    def __init__(self, ctx: ReviewContext | EditSession, phase_id: str) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-signoff-panel"))
        self.ctx = ctx = as_context(ctx)
        self.phase_id = phase_id
        self.phase = ctx.bank.phase(phase_id)
        self.state_html = html_block("")
        self.refused = html_block("")
        self.decision = w.Dropdown(
            description=f"Decision on the {self.phase.title}",
            options=[(CHOOSE, "")] + [(label, d.value) for d, label in DECISION_LABELS.items()],
            value="",  # a decision is chosen on purpose, never by default
            **stacked_kw(w.Dropdown, "20em"),
        )
        self.reviewer = w.Text(
            description="Reviewer's name",
            value=ctx.user,
            continuous_update=False,
            **stacked_kw(w.Text, "24em"),
        )
        self.role = w.Text(
            description="Role (optional)",
            placeholder="For example, Chair of the data ethics panel",
            continuous_update=False,
            **stacked_kw(w.Text, "24em"),
        )
        self.conditions = textarea(
            "Conditions (needed for \u201cApproved with conditions\u201d)",
            rows=3,
            continuous_update=False,
        )
        self.confirm = w.Checkbox(
            description="",
            value=False,
            indent=False,
            layout=w.Layout(display="none"),  # its own layout: shown only when needed
        )
        self._confirm_for: int | None = None
        self.record_button = w.Button(
            description=f"Record sign-off of the {self.phase.title}",
            button_style="primary",
            **plain_kw(w.Button),
        )
        self.record_button.on_click(lambda _: self.record())
        self.message = html_block("")
        actor = ctx.actor
        # With roles on, the sign-off is recorded under the login's name and role.
        signer = [] if actor.enforced else [self.reviewer, self.role]
        form = w.VBox(
            [
                html_block(
                    f'<h4 class="ew-h4">Record a decision on the {esc(self.phase.title)}</h4>'
                    '<p class="ew-hint">The decision is tied to the revision you were shown: '
                    "any later change to this phase marks it out of date.</p>"
                ),
                self.decision,
                *signer,
                self.conditions,
                self.refused,
                self.confirm,
                self.message,
                self.record_button,
            ],
            **plain_kw(w.VBox, "ew-signoff-form"),
        )
        self.children = [self.state_html, form]
        if not actor.may(Action.sign_off):
            # Shown, so the page says what a reviewer would do, but not usable; the core
            # refuses a sign-off from this person anyway (a crafted click included).
            for control in (self.decision, self.conditions, self.confirm, self.record_button):
                control.disabled = True
            form.children = (
                html_block(
                    f'<p class="ew-hint ew-read-only" role="note">Recording a decision needs '
                    f"the reviewer role. You are signed in as <strong>{esc(actor.name)}"
                    f"</strong> ({esc(actor.roles_text)}).</p>"
                ),
                *form.children,
            )
        ctx.subscribe(self._on_update)
        self.update()

    def _on_update(self, reloaded: bool) -> None:
        if reloaded:  # old outcomes would contradict what the page now shows
            self.message.value = self.refused.value = ""
        self.update()

    @property
    def state(self) -> review.SignOffState:
        return review.signoff_state(self.ctx.workbook, self.phase_id)

    def update(self) -> None:
        self.state_html.value = signoff_html(self.ctx, self.phase_id)

    def record(self) -> None:
        ctx = self.ctx
        self.refused.value = ""
        if not self.decision.value:
            self.message.value = _alert("Not recorded: choose a decision first.")
            self.decision.focus()
            return
        decision = Decision(self.decision.value)

        refused: list[review.SignOffRefused] = []
        unconfirmed: list[review.IncompleteApproval] = []
        confirmed = self._confirm_for if self.confirm.value else None

        def act() -> str:
            try:
                saved = review.sign_off(
                    ctx.store,
                    ctx.project_id,
                    self.phase_id,
                    decision=decision,
                    reviewer=self.reviewer.value,
                    role=self.role.value,
                    conditions=self.conditions.value,
                    user=ctx.actor,
                    revision=ctx.shown_revision,
                    confirm_incomplete=confirmed,
                )
            except review.SignOffRefused as exc:
                refused.append(exc)
                return ""
            except review.IncompleteApproval as exc:
                unconfirmed.append(exc)
                return ""
            ctx.saved(saved)
            state = review.signoff_state(saved, self.phase_id)
            done = f"Recorded: {state.decision_label}, for revision {ctx.shown_revision}."
            if state.status == "out_of_date":
                done += " The phase has changed since then: reload to see the changes."
            return done

        if _attempt(self.message, "Not recorded", act) and not refused and not unconfirmed:
            self._reset_form()  # recorded: the form does not offer to record it again
        if refused:
            self._show_refused(refused[0])
        if unconfirmed:
            self._ask_to_confirm(unconfirmed[0])

    def _reset_form(self) -> None:
        self.decision.value = ""
        self.conditions.value = ""
        self._hide_confirm()

    def _hide_confirm(self) -> None:
        self._confirm_for = None
        self.confirm.value = False
        self.confirm.layout.display = "none"

    def _ask_to_confirm(self, exc: review.IncompleteApproval) -> None:
        """An approval of an incomplete phase: say how many, and ask for a deliberate tick."""
        self._confirm_for = exc.incomplete
        self.confirm.description = (
            f"I approve the {self.phase.title} although {exc.incomplete} of its "
            f"{exc.total} questions {'is' if exc.incomplete == 1 else 'are'} not complete"
        )
        self.confirm.value = False
        self.confirm.layout.display = "flex"
        self.message.value = _alert(
            f"Not recorded yet: {exc.incomplete} of the {exc.total} questions in the "
            f"{self.phase.title} {'is' if exc.incomplete == 1 else 'are'} not complete. Tick "
            "the box to confirm you approve it anyway (the sign-off will say so), then record "
            "it again."
        )
        self.confirm.focus()

    def _show_refused(self, exc: review.SignOffRefused) -> None:
        threads = self.ctx.workbook.review.threads  # type: ignore[attr-defined]
        items = []
        for tid, label in exc.blockers:
            target = threads[tid].target if tid in threads else ""
            link = f' <a href="#{anchor_id(target)}">Go to the comments</a>' if target else ""
            items.append(f"<li>{esc(label)}{link}</li>")
        self.message.value = ""
        self.refused.value = (
            '<div class="ew-refused" role="alert">'
            f"<p><strong>Not recorded: the {esc(self.phase.title)} cannot be approved while "
            f"{_plural(len(exc.blockers), 'challenge')} "
            f"{'is' if len(exc.blockers) == 1 else 'are'} unresolved.</strong></p>"
            f"<ul>{''.join(items)}</ul>"
            "<p>Resolve them first, or record \u201cNot approved\u201d.</p></div>"
        )


# --------------------------------------------------------------------------- changes


def _change_html(path: str, old: Any, new: Any, is_text: bool) -> str:
    if is_text:
        return f'<div class="ew-diff">{review.word_diff_html(old, new) or "(empty)"}</div>'
    return (
        f'<p class="ew-diff"><del class="wb-del" title="before">'
        f"{esc(review.format_value(path, old))}</del> \u2192 "
        f'<ins class="wb-ins" title="after">{esc(review.format_value(path, new))}</ins></p>'
    )


def _revisions(revs: tuple[int, ...]) -> str:
    if len(revs) == 1:
        return f"revision {revs[0]}"
    return f"revisions {', '.join(str(r) for r in revs)}"


class ChangesView(w.HTML):
    """What changed in a phase since its last sign-off, field by field, as word diffs."""

    def __init__(self, ctx: ReviewContext | EditSession, phase_id: str) -> None:
        super().__init__(**plain_kw(w.HTML, "ew-changes"))
        self.ctx = ctx = as_context(ctx)
        self.phase_id = phase_id
        self.changes: list[review.FieldChange] | None = None
        ctx.subscribe(lambda _reloaded: self.update())
        self.update()

    def update(self) -> None:
        ctx = self.ctx
        phase = ctx.bank.phase(self.phase_id)
        head = f'<h3 class="ew-h4">Changes to the {esc(phase.title)} since its sign-off</h3>'
        try:
            self.changes = review.changes_since_signoff(ctx.store, ctx.workbook, self.phase_id)
        except WorkbookError as exc:
            self.value = head + _alert(f"The changes cannot be shown: {exc.message}")
            return
        record = getattr(ctx.workbook.review.signoffs, self.phase_id)  # type: ignore[attr-defined]
        if self.changes is None:
            self.value = head + (
                '<p class="ew-hint">Not signed off yet, so there is nothing to compare with.</p>'
            )
            return
        if not self.changes:
            self.value = head + (
                f"<p>No changes to the answers or the checklist since revision "
                f"{record.revision}.</p>"
            )
            return
        items = "".join(
            f'<li><p class="ew-change-label"><strong>{esc(c.label)}</strong></p>'
            f'<p class="ew-hint">Changed by {esc(", ".join(u for u in c.users if u) or "someone")}'
            f" in {_revisions(c.revisions)}"
            + (f" · {esc(review.format_time(c.time))}" if c.time else "")
            + "</p>"
            + _change_html(c.path, c.old, c.new, c.is_text)
            + "</li>"
            for c in self.changes
        )
        self.value = (
            head + f"<p>{_plural(len(self.changes), 'field')} changed since revision "
            f"{record.revision}:</p>"
            f'<ul class="ew-change-list">{items}</ul>'
        )


# --------------------------------------------------------------------------- history


def _damage_html(store: Store) -> str:
    """Damaged history lines the store skipped, named (file and line), for the page."""
    if not store.problems:
        return ""
    root = f"{store.root}{os.sep}"
    items = "".join(f"<li>{esc(p.replace(root, ''))}</li>" for p in dict.fromkeys(store.problems))
    return (
        '<div class="ew-refused" role="alert"><p><strong>Some lines of the change history '
        "are damaged and were skipped.</strong> The answers themselves are intact. Ask whoever "
        f"looks after the workbook to check these lines:</p><ul>{items}</ul></div>"
    )


def _review_entry_label(path: str, entry: dict[str, Any], ctx: ReviewContext) -> str | None:
    """Words for a history line about comments and sign-offs, or None to leave it out."""
    parts = path.split(".")
    if parts[:2] == ["review", "signoffs"] and len(parts) == 3:
        phase = ctx.bank.phase(parts[2])
        new = entry.get("new") or {}
        decision = (
            review.decision_words(new["decision"], new.get("incomplete_questions"))
            if new.get("decision")
            else ""
        )
        return f"Sign-off of the {phase.title}: {decision or 'removed'}"
    if parts[:2] == ["review", "threads"] and len(parts) >= 3:
        thread = ctx.workbook.review.threads.get(parts[2])  # type: ignore[attr-defined]
        where = thread and review.target_label(thread.target, ctx.bank)
        where = f" on {where}" if where else ""
        if len(parts) == 3:
            kind = (entry.get("new") or {}).get("kind", "comment")
            return f"New {kind}{where}"
        if parts[3] == "replies":
            return f"Reply to a comment{where}"
        if parts[3] == "resolved":
            return f"Comment{where} {'marked resolved' if entry.get('new') else 'reopened'}"
    return None


class HistoryView(w.VBox):
    """The change history, newest first, filtered by phase; earlier values can be restored."""

    def __init__(self, ctx: ReviewContext | EditSession) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-history"))
        self.ctx = ctx = as_context(ctx)
        self.limit = HISTORY_PAGE
        self.phase = w.Dropdown(
            description="Show changes to",
            options=[("All phases", "")] + [(p.title, p.id) for p in ctx.bank.phases],
            value="",
            **stacked_kw(w.Dropdown, "16em"),
        )
        self.since_signoff = w.Checkbox(
            description="Only changes since that phase's sign-off",
            value=False,
            indent=False,
            **plain_kw(w.Checkbox),
        )
        self.include_review = w.Checkbox(
            description="Include comments and sign-offs",
            value=False,
            indent=False,
            **plain_kw(w.Checkbox),
        )
        for control in (self.phase, self.since_signoff, self.include_review):
            control.observe(lambda _: self._filter_changed(), names="value")
        self.more = w.Button(description="Show more", **plain_kw(w.Button, "ew-secondary"))
        self.more.on_click(lambda _: self._show_more())
        self.summary = html_block("")
        self.message = html_block("")
        self.entries_box = w.VBox(**plain_kw(w.VBox, "ew-history-list"))
        self._entry_widgets: list[w.Widget] = []
        self._shown_key: tuple[Any, ...] = ()
        self.entries: list[dict[str, Any]] = []
        self.restore_buttons: list[tuple[dict[str, Any], w.Button]] = []
        self.children = [
            html_block('<h2 class="ew-h2" id="history">Change history</h2>'),
            self.phase,
            w.HBox([self.since_signoff, self.include_review], **plain_kw(w.HBox, "ew-wrap")),
            self.summary,
            self.message,
            self.entries_box,
        ]
        ctx.subscribe(lambda _reloaded: self.update())
        self.update()

    def _filter_changed(self) -> None:
        self.limit = HISTORY_PAGE
        self.message.value = ""
        self.update()

    def _show_more(self) -> None:
        self.limit += HISTORY_PAGE
        self.update()
        self.more.focus()

    @property
    def _fetch(self) -> int:
        return self.limit * 3 + 10

    def _query(self) -> tuple[list[dict[str, Any]], str]:
        ctx = self.ctx
        phase_id = self.phase.value or None
        since = None
        note = ""
        if self.since_signoff.value:
            if phase_id is None:
                note = "Choose a phase to see the changes since its sign-off. "
            else:
                record = getattr(ctx.workbook.review.signoffs, phase_id)  # type: ignore[attr-defined]
                if record is None:
                    note = "That phase has not been signed off yet: showing all its changes. "
                else:
                    since = record.revision
                    note = f"Since the sign-off of revision {since}. "
        entries = review.history_entries(
            ctx.store,
            ctx.project_id,
            since=since,
            phase_id=phase_id,
            include_review=bool(self.include_review.value),
            # read only as far back as the page shows (some lines get no entry of their
            # own, such as who resolved a thread): a long history opens as fast as a short one
            limit=self._fetch,
        )
        if not self.include_review.value or phase_id is not None:
            entries = [e for e in entries if e.get("outcome") == "saved" and e.get("path")]
        return entries, note

    def update(self) -> None:
        try:
            entries, note = self._query()
        except WorkbookError as exc:
            self.summary.value = _alert(f"The history cannot be shown: {exc.message}")
            return
        shown = []
        for e in reversed(entries):
            label = self._label(e)
            if label is not None:
                shown.append((e, label))
        self.entries = [e for e, _ in shown]
        complete = len(entries) < self._fetch  # the whole history was read
        total = len(shown)
        shown = shown[: self.limit]
        key = (note, total, tuple((e["revision"], e["path"]) for e, _ in shown))
        if key == self._shown_key:
            return  # nothing new: keep the widgets (and the focus) as they are
        self._shown_key = key
        if complete:
            count = _plural(total, "change") + (
                f", newest first; showing the latest {len(shown)}" if total > len(shown) else ""
            )
        else:
            count = f"The latest {len(shown)} changes, newest first"
        self.summary.value = f'<p class="ew-hint">{esc(note)}{esc(count)}.</p>' + _damage_html(
            self.ctx.store
        )

        old_widgets, self._entry_widgets = self._entry_widgets, []
        self.restore_buttons = []
        data = self.ctx.workbook.to_data()
        children: list[w.Widget] = []
        for e, label in shown:
            children.append(self._entry(e, label, data))
        if total > len(shown) or not complete:
            children.append(self.more)
        self.entries_box.children = children
        for widget in old_widgets:
            widget.close()

    def _label(self, e: dict[str, Any]) -> str | None:
        path = e.get("path", "")
        if path.startswith("review."):
            return _review_entry_label(path, e, self.ctx)
        if not path or e.get("outcome") != "saved":
            return None
        return self.ctx.bank.field_label(path)

    def _entry(self, e: dict[str, Any], label: str, data: dict[str, Any]) -> w.Widget:
        path = e["path"]
        who = e.get("user") or "someone"
        if e.get("role"):
            who += f" ({e['role']})"
        when = review.format_time(e.get("time")) if e.get("time") else ""
        head = (
            f'<p class="ew-hint">Revision {e["revision"]} · {esc(when)} · {esc(who)}</p>'
            f'<p class="ew-change-label"><strong>{esc(label)}</strong></p>'
        )
        body = ""
        if not path.startswith("review."):
            is_text = review.FieldChange(
                path, label, e.get("old"), e.get("new"), (), (), ""
            ).is_text
            body = _change_html(path, e.get("old"), e.get("new"), is_text)
        elif len(path.split(".")) in (3, 5) and isinstance(e.get("new"), dict):
            text = e["new"].get("text") or e["new"].get("conditions") or ""
            body = f'<p class="ew-thread-text">{_multiline(text)}</p>' if text else ""
        html = html_block(head + body, "ew-history-entry")
        restorable = path.startswith(("answers.", "phases.")) and _now_value(data, path) != e.get(
            "old"
        )
        if not restorable or not self.ctx.actor.may(Action.restore):
            self._entry_widgets.append(html)
            return html
        button = w.Button(
            description="Restore this earlier value",
            tooltip=f"Put back {label} as it was before revision {e['revision']}",
            **plain_kw(w.Button, "ew-secondary"),
        )
        button.on_click(lambda _, e=e: self.restore(e))
        self.restore_buttons.append((e, button))
        box = w.VBox([html, button], **plain_kw(w.VBox, "ew-history-item"))
        self._entry_widgets += [html, button, box]
        return box

    def restore(self, entry: dict[str, Any]) -> None:
        """Put the entry's field back to its value before the entry's revision."""
        ctx = self.ctx
        label = self._label(entry) or entry["path"]

        def act() -> str:
            saved = review.restore(
                ctx.store, ctx.project_id, entry["path"], entry["revision"] - 1, user=ctx.actor
            )
            ctx.reload()  # show the restored answer itself, not only its history line
            return (
                f"Restored {label} to its value before revision {entry['revision']} "
                f"(saved as revision {saved.revision})."
            )

        _attempt(self.message, "Not restored", act)


def _now_value(data: dict[str, Any], path: str) -> Any:
    from workbook.store import get_path

    try:
        return get_path(data, path)
    except KeyError:
        return None


# --------------------------------------------------------------------------- actions


def csv_link(project_id: str, rows: list[review.ActionRow]) -> str:
    """An HTML link that downloads the action plan as CSV (a data: URL; no file I/O)."""
    data = base64.b64encode(review.action_plan_csv(rows).encode("utf-8")).decode("ascii")
    return (
        f'<a class="ew-download" download="{esc(project_id)}-actions.csv" '
        f'href="data:text/csv;charset=utf-8;base64,{data}">'
        "Download the action plan (CSV)</a>"
    )


def action_plan_html(
    workbook: WorkbookBase, bank: Bank, *, user: str | None = None, heading: str = "h2"
) -> str:
    """Every further-work action in one table, overdue ones marked, with a CSV link."""
    rows = review.action_plan(workbook, bank=bank)
    pid = workbook.project.id
    head = f'<{heading} class="ew-{heading}" id="action-plan">Action plan</{heading}>'
    if not rows:
        return head + (
            "<p>No further-work actions yet. Actions added under any question appear here.</p>"
        )
    open_n = sum(r.status == "open" for r in rows)
    overdue = sum(r.overdue for r in rows)
    body = []
    for r in rows:
        q = bank.question(r.question_id)
        link = page_link(PHASE_PAGES[r.phase_id], pid)
        status = "Open" if r.status == "open" else "Done"
        flag = ' <strong class="ew-overdue-tag">Overdue</strong>' if r.overdue else ""
        body.append(
            ('<tr class="ew-overdue">' if r.overdue else "<tr>")
            + f'<td><a href="{esc(link)}">Question {q.number}</a></td>'
            f"<td>{esc(r.action)}</td><td>{esc(r.owner) or DASH}</td>"
            f"<td>{_day(r.due) if r.due else DASH}</td>"
            f"<td>{status}{flag}</td></tr>"
        )
    return (
        head
        + f"<p>{_plural(len(rows), 'action')}: {open_n} open"
        + (f", <strong>{overdue} overdue</strong>" if overdue else "")
        + f". {csv_link(pid, rows)}</p>"
        '<div class="ew-table-wrap"><table class="ew-table">'
        "<caption>Further work from every question</caption>"
        '<thead><tr><th scope="col">Question</th><th scope="col">Action</th>'
        '<th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Status</th></tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


class ActionPlanView(w.HTML):
    """The project's action plan: a table of every further-work action and a CSV download."""

    def __init__(self, ctx: ReviewContext | EditSession) -> None:
        super().__init__(**plain_kw(w.HTML, "ew-actions"))
        self.ctx = ctx = as_context(ctx)
        ctx.subscribe(lambda _reloaded: self.update())
        self.update()

    @property
    def rows(self) -> list[review.ActionRow]:
        return review.action_plan(self.ctx.workbook, bank=self.ctx.bank)

    def update(self) -> None:
        self.value = action_plan_html(self.ctx.workbook, self.ctx.bank, user=self.ctx.user)


# --------------------------------------------------------------------------- the page


def _risk_html(r: dict[str, Any]) -> str:
    """One risk of the register, read-only (data from build_report)."""

    def rating(x: dict[str, Any]) -> str:
        return f"{x['score']} {x['band']}" if x["score"] is not None else "not rated"

    mitigations = "".join(f"<li>{esc(m['text'])}</li>" for m in r["mitigations"])
    return (
        f'<h4 class="ew-q-title" id="risk-{esc(r["id"])}">{esc(r["number"])}: '
        f"{esc(r['title'])}</h4>"
        f"<p><strong>{esc(r['category_name'])}</strong> · before mitigation "
        f"{esc(rating(r['before']))} → after {esc(rating(r['after']))} · "
        f"{esc(r['status'].capitalize())}"
        + (f" · owner {esc(r['owner'])}" if r["owner"] else "")
        + "</p>"
        + (f"<p>{esc(r['description'])}</p>" if r["description"] else "")
        + (f"<ul>{mitigations}</ul>" if mitigations else "<p>No mitigations recorded.</p>")
    )


def _answer_html(q: dict[str, Any]) -> str:
    """A question and everything recorded against it, read-only (data from build_report)."""
    from workbook.export.sanitise import render_markdown

    out = [
        f'<h3 class="ew-q-title" id="question-{q["number"]}">'
        f'<span class="ew-q-num">Question {q["number"]}</span> {esc(q["text"])}</h3>'
        f'<p class="ew-ro-status"><strong>Status:</strong> {esc(q["status_label"])}</p>'
    ]
    out.append('<h4 class="ew-h4">Answer</h4>')
    if q["response"].strip():
        out.append(f'<div class="ew-ro-answer">{render_markdown(q["response"])}</div>')
    else:
        out.append('<p class="ew-missing">Not answered yet.</p>')
    noted = [p for p in q["prompts"] if p["note"].strip()]
    if q["prompts"]:
        items = "".join(
            f'<li class="ew-depth-{p["depth"]}"><span class="ew-prompt">{esc(p["text"])}</span>'
            + (
                f"<br>{_multiline(p['note'])}"
                if p["note"].strip()
                else '<br><span class="ew-missing">No note.</span>'
            )
            + "</li>"
            for p in q["prompts"]
        )
        out.append(
            f'<details class="ew-help"><summary>Notes on the things to consider '
            f"({len(noted)} of {len(q['prompts'])})</summary>"
            f'<ul class="ew-ro-prompts">{items}</ul></details>'
        )
    informed = ", ".join(q["informed_by"]) or "None recorded"
    out.append(f"<p><strong>Whose views informed it:</strong> {esc(informed)}")
    if q["informed_note"]:
        out.append(f". {_multiline(q['informed_note'])}")
    out.append("</p>")
    if q["evidence"]:
        out.append(
            "<p><strong>Evidence:</strong></p><ul>"
            + "".join(
                f"<li>{esc(e['reference'])}"
                + (f" \u2013 {esc(e['description'])}" if e["description"] else "")
                + "</li>"
                for e in q["evidence"]
            )
            + "</ul>"
        )
    else:
        out.append(
            '<p><strong>Evidence:</strong> <span class="ew-missing">None recorded.</span></p>'
        )
    if q["further_work"]:
        out.append(
            f"<p><strong>Further work:</strong> {_plural(len(q['further_work']), 'action')}, "
            'listed in the <a href="#action-plan">action plan</a>.</p>'
        )
    if q["updated_by"]:
        when = review.format_time(q["updated_at"]) if q["updated_at"] else ""
        out.append(f'<p class="ew-hint">Last changed by {esc(q["updated_by"])} {esc(when)}.</p>')
    return "".join(out)


def _checklist_html(number: int, item: dict[str, Any]) -> str:
    note = _multiline(item["note"]) if item["note"] else '<span class="ew-missing">No note.</span>'
    missing = " ew-missing" if item["status"] is None else ""
    return (
        f'<p class="ew-ro-item"><strong>{number}. {esc(item["text"])}</strong></p>'
        f'<p><strong>Status:</strong> <span class="ew-ro-status{missing}">'
        f"{esc(item['status_label'])}</span><br><strong>Note:</strong> {note}</p>"
    )


def _roles_note(actor: Actor) -> str:
    """`` (reviewer)`` after a name when roles are on; nothing when they are off."""
    return f" ({esc(actor.roles_text)})" if actor.enforced else ""


class ReviewPage(w.VBox):
    """The oversight group's page: the whole workbook read-only, with comments on each
    question and checklist item, a sign-off per phase, what changed since it, the history
    and the action plan."""

    def __init__(
        self, store: Store, project_id: str, user: str | Actor, *, bank: Bank | None = None
    ) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-review"))
        self.ctx = ctx = ReviewContext(store, project_id, user=user, bank=bank)
        bank = ctx.bank
        info = ctx.workbook.project
        nav = " ".join(
            f'<a href="{esc(page_link(page, info.id))}">{esc(bank.phase(pid).title)}</a>'
            for pid, page in PHASE_PAGES.items()
        )
        header = html_block(
            f'<p class="ew-kicker">{esc(bank.title)} · {esc(info.local_authority)}</p>'
            f'<p class="ew-project"><strong>{esc(info.tool_name)}</strong></p>'
            f'<nav class="ew-nav" aria-label="Workbook pages">'
            f'<a href="{esc(page_link(START_PAGE, info.id))}">Start</a> {nav} '
            f'<a href="{esc(page_link(REVIEW_PAGE, info.id))}" aria-current="page">'
            "Review</a> "
            f'<a href="{esc(page_link(TRANSPARENCY_PAGE, info.id))}">Transparency</a></nav>'
            f'<p class="ew-hint">Reviewing as <strong>{esc(ctx.user)}</strong>'
            f"{_roles_note(ctx.actor)}.{change_name_link(ctx.user)} The answers are shown "
            "read-only. Comment on any question or checklist item, then record a decision for "
            "each phase. Challenges must be resolved before a phase can be approved.</p>"
        )
        self.reload_button = w.Button(
            description="Reload",
            tooltip="Read the project again, to see the authors' latest answers and replies",
            **plain_kw(w.Button, "ew-secondary"),
        )
        self.reload_button.on_click(lambda _: self.reload())
        self.reload_message = html_block("", "ew-reload-message")
        bar = w.HBox([self.reload_button, self.reload_message], **plain_kw(w.HBox, "ew-bar"))
        self.overview = html_block("")

        self.threads: dict[str, ThreadsWidget] = {}
        self.signoffs: dict[str, SignOffPanel] = {}
        self.changes: dict[str, ChangesView] = {}
        self._readonly: dict[str, tuple[w.HTML, Callable[[dict[str, Any]], str]]] = {}
        sections: list[w.Widget] = []
        for phase in bank.phases:
            self.signoffs[phase.id] = SignOffPanel(ctx, phase.id)
            self.changes[phase.id] = ChangesView(ctx, phase.id)
            sections += [
                html_block(
                    f'<h2 class="ew-h2 ew-phase-title" id="phase-{phase.id}">{esc(phase.title)}'
                    f'</h2><p class="ew-hint">{esc(phase.stages)}</p>'
                ),
                self.signoffs[phase.id],
                self.changes[phase.id],
                html_block(f'<h3 class="ew-h3">{esc(phase.title)} checklist</h3>'),
            ]
            for n, item in enumerate(phase.checklist, start=1):
                target = f"{phase.id}.checklist.{item.id}"
                sections.append(self._item(target, self._checklist_part(phase.id, n)))
            sections.append(html_block(f'<h3 class="ew-h3">{esc(phase.title)} questions</h3>'))
            for q in phase.questions:
                sections.append(self._item(q.id, self._question_part(q)))
            if phase.id == "explore":
                sections += self._register_items()
        self.history = HistoryView(ctx)
        self.actions = ActionPlanView(ctx)
        footer = html_block(f'<p class="ew-footer">{esc(bank.attribution)}</p>')
        self.children = [
            header,
            bar,
            self.overview,
            *sections,
            self.actions,
            self.history,
            footer,
        ]
        ctx.subscribe(self._on_update)
        self._on_update(True)
        self.reload_message.value = ""

    def _checklist_part(self, phase_id: str, number: int) -> Callable[[dict[str, Any]], str]:
        def part(report: dict[str, Any]) -> str:
            phase = next(p for p in report["phases"] if p["id"] == phase_id)
            return _checklist_html(number, phase["checklist"][number - 1])

        return part

    def _question_part(self, q: Question) -> Callable[[dict[str, Any]], str]:
        def part(report: dict[str, Any]) -> str:
            data = next(x for p in report["phases"] for x in p["questions"] if x["id"] == q.id)
            return _answer_html(data)

        return part

    def _register_items(self) -> list[w.Widget]:
        """Question 4's risk register: each risk (as the page was opened), open to comments
        and challenges like a question. A challenge on a risk holds up approving Explore."""
        from workbook.risks import risk_rows

        rows = risk_rows(self.ctx.workbook.risks)  # type: ignore[attr-defined]
        head = html_block(
            '<h3 class="ew-h3" id="risk-register">Explore risk register (question 4)</h3>'
            + (
                "<p>No risks have been recorded yet.</p>"
                if not rows
                else "<p>Comment on or challenge a risk below. Risks added after this page was "
                "opened appear when it is opened again.</p>"
            )
        )
        return [head] + [self._item(f"risk.{row.id}", self._risk_part(row.id)) for row in rows]

    def _risk_part(self, risk_id: str) -> Callable[[dict[str, Any]], str]:
        def part(report: dict[str, Any]) -> str:
            r = next((x for x in report["risks"]["items"] if x["id"] == risk_id), None)
            return _risk_html(r) if r else "<p>This risk is no longer in the register.</p>"

        return part

    def _item(self, target: str, part: Callable[[dict[str, Any]], str]) -> w.VBox:
        content = html_block("")
        self._readonly[target] = (content, part)
        self.threads[target] = ThreadsWidget(self.ctx, target)
        kind = "ew-ro-question" if "." not in target else "ew-ro-check"
        return w.VBox([content, self.threads[target]], **plain_kw(w.VBox, kind))

    def readonly_html(self, target: str) -> str:
        """What the page shows of a question or checklist item (as last loaded)."""
        return self._readonly[target][0].value

    def _on_update(self, reloaded: bool) -> None:
        if reloaded:
            from workbook.export.report import build_report

            report = build_report(self.ctx.workbook, self.ctx.bank)
            for widget, part in self._readonly.values():
                widget.value = part(report)
            self.reload_message.value = (
                f'<p role="status">Showing revision {self.ctx.workbook.revision}, read at '
                f"{datetime.now().astimezone():%H:%M}.</p>"
            )
        self.overview.value = self._overview_html()

    def _overview_html(self) -> str:
        ctx = self.ctx
        rows = []
        for phase in ctx.bank.phases:
            state = review.signoff_state(ctx.workbook, phase.id)
            challenges = len(review.open_challenges(ctx.workbook, phase.id, ctx.bank))
            cls = f"ew-signoff-cell ew-signoff-{state.status}"
            rows.append(
                f'<tr><th scope="row"><a href="#phase-{phase.id}">{esc(phase.title)}</a></th>'
                f'<td class="{cls}">{esc(state.summary)}</td><td>{challenges}</td></tr>'
            )
        return (
            '<h2 class="ew-h2">Summary</h2><div class="ew-table-wrap"><table class="ew-table">'
            "<caption>Sign-off and open challenges by phase</caption>"
            '<thead><tr><th scope="col">Phase</th><th scope="col">Sign-off</th>'
            '<th scope="col">Open challenges</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            '<p><a href="#action-plan">Action plan</a> · <a href="#history">Change history</a></p>'
        )

    def reload(self) -> None:
        try:
            self.ctx.reload()
        except WorkbookError as exc:
            self.reload_message.value = _alert(f"Could not reload: {exc.message}")
        except Exception:
            log.exception("reload failed")
            self.reload_message.value = _alert(
                "Could not reload: something went wrong. Reload the page in the browser."
            )
