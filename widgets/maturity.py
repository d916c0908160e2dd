"""The maturity page: an authority's digital ethics self-assessment, round by round.

Views over :mod:`workbook.maturity`; no file I/O of their own. Each component has its
section: the level statements as a choice for the person's own rating (saved as they
choose, once a level above 0 has its rationale), the spread of everyone's ratings, and
(for reviewers) the agreed level, target and date, recorded with a button because it is a
decision. Above them, the radar with a table of the same numbers; below, the action plan and
the rounds compared. A closed round is shown read-only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw, textarea
from widgets._links import MATURITY_PAGE, PHASE_PAGES, REVIEW_PAGE, START_PAGE, page_link
from workbook import maturity as mat
from workbook.assessment import Assessment, Evidence, respondent_key
from workbook.bank import load_bank
from workbook.errors import Conflict, ConflictError, WorkbookError
from workbook.export.dates import day, moment
from workbook.radar import Series, describe, radar_svg
from workbook.roles import Action, Actor
from workbook.store import AssessmentStore, Store

log = logging.getLogger("ethics-workbook")

SAVE_DELAY_S = 0.8
NOT_CHOSEN = -1
"""The option value for "not agreed yet" (not None: see widgets.checklist.UNSET)."""


def maturity_link(authority_id: str) -> str:
    from urllib.parse import urlencode

    return f"{MATURITY_PAGE}?{urlencode({'authority': authority_id})}"


def _alert(text: str) -> str:
    return f'<p class="ew-error" role="alert">{esc(text)}</p>'


def _done(text: str) -> str:
    return f'<p class="ew-done" role="status">{esc(text)}</p>'


def _hint(text: str) -> str:
    return f'<p class="ew-hint" role="status">{esc(text)}</p>'


def _wrap(label: str) -> str:
    """A table's scrolling box: a named region that takes focus, so a keyboard can scroll it
    when the table is wider than a phone's screen."""
    return f'<div class="ew-table-wrap" role="region" aria-label="{esc(label)}" tabindex="0">'


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in text.split("\n\n") if p.strip())


def evidence_html(items: Any) -> str:
    """Evidence as a list of links: web addresses as they are, projects to their page."""
    if not items:
        return ""
    bank = load_bank()
    phase_of = {q.id: p.id for p in bank.phases for q in p.questions}
    out = []
    for e in items:
        if e.url:
            text = e.label or e.url
            out.append(f'<li><a href="{esc(e.url)}" rel="noopener noreferrer">{esc(text)}</a></li>')
            continue
        if e.target.startswith("q"):
            href = page_link(PHASE_PAGES[phase_of[e.target]], e.project) + (
                f"#question-{e.target[1:]}"
            )
            what = f"project {e.project}, question {e.target[1:]}"
        elif e.target.startswith("signoff."):
            href = page_link(REVIEW_PAGE, e.project)
            what = f"project {e.project}, sign-off of {e.target.split('.', 1)[1]}"
        else:
            href = page_link(START_PAGE, e.project)
            what = f"project {e.project}"
        label = f": {esc(e.label)}" if e.label else ""
        out.append(f'<li><a href="{esc(href)}">{esc(what)}</a>{label}</li>')
    return '<ul class="ew-links">' + "".join(out) + "</ul>"


def overview_html(assessment: Assessment, model: Any, number: int) -> str:
    """The radar and, beside it, a table with the same numbers."""
    shown = mat.states(assessment, model, number)
    names = [s.name for s in shown]
    current = tuple(s.shown_level for s in shown)
    series = [Series(f"Current (round {number})", "current", current)]
    targets = tuple(float(s.target) if s.target is not None else None for s in shown)
    if any(v is not None for v in targets):
        series.append(Series("Target", "target", targets))
    if any(s.previous is not None for s in shown):
        previous = tuple(float(s.previous) if s.previous is not None else None for s in shown)
        series.append(Series(f"Round {number - 1}", "previous", previous))
    title = f"{assessment.authority.name}: digital ethics maturity, round {number}"
    svg = radar_svg(
        names,
        series,
        max_level=model.max_level,
        title=title,
        description=describe(names, series),
        id_prefix=f"radar-{assessment.authority.id}-{number}",
    )
    rows = []
    for s in shown:
        if s.level is not None:
            current_text = esc(model.level_label(s.level))
        elif s.spread.median is not None:
            m = s.spread.median
            shown_m = str(int(m)) if float(m).is_integer() else f"{m:.1f}"
            n = len(s.spread.ratings)
            current_text = (
                f'<span class="ew-missing">not agreed; median of {n} rating'
                f"{'s' if n != 1 else ''}: {shown_m}</span>"
            )
        else:
            current_text = '<span class="ew-missing">not rated yet</span>'
        target = esc(model.level_label(s.target)) if s.target is not None else "-"
        by = esc(day(s.target_date)) if s.target_date else "-"
        gap = str(s.gap) if s.level is not None and s.target is not None else "-"
        flag = ' <span class="ew-open">(ratings differ)</span>' if s.spread.flagged else ""
        if s.carried_from:
            flag = (
                f' <span class="ew-hint">(carried over from round {s.carried_from})</span>' + flag
            )
        rows.append(
            f'<tr><th scope="row"><a href="#component-{esc(s.id)}">{esc(s.name)}</a></th>'
            f'<td data-label="Current level">{current_text}{flag}</td>'
            f'<td data-label="Target">{target}</td><td data-label="Target date">{by}</td>'
            f'<td data-label="Gap">{gap}</td></tr>'
        )
    table = (
        f'{_wrap(f"Levels in round {number}")}<table class="ew-table ew-maturity-table">'
        f"<caption>Levels in round {number}: current and target</caption>"
        '<thead><tr><th scope="col">Component</th><th scope="col">Current level</th>'
        '<th scope="col">Target</th><th scope="col">Target date</th><th scope="col">Gap</th>'
        "</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return (
        f'<div class="ew-overview"><figure class="ew-radar">{svg}'
        "<figcaption>The same levels are in the table; earlier rounds under Rounds "
        "compared.</figcaption></figure>"
        f"{table}</div>"
    )


def spread_html(state: mat.ComponentState, model: Any) -> str:
    sp = state.spread
    if not sp.ratings:
        return '<p class="ew-hint">No ratings yet.</p>'
    items = ", ".join(f"{esc(who)}: {esc(model.level_label(lv))}" for who, lv in sp.ratings)
    flag = (
        f' <strong class="ew-open">They differ by {sp.differ_by} levels: discuss before agreeing '
        "a level.</strong>"
        if sp.flagged
        else ""
    )
    n = len(sp.ratings)
    return f"<p>Ratings ({n}): {items}.{flag}</p>"


def agreed_html(state: mat.ComponentState, model: Any) -> str:
    if state.level is None:
        return '<p class="ew-missing">No agreed level yet.</p>'
    parts = [f"<strong>{esc(model.level_label(state.level))}</strong>"]
    if state.target is not None:
        by = f" by {esc(day(state.target_date))}" if state.target_date else ""
        parts.append(f"target {esc(model.level_label(state.target))}{by}")
    who = f"recorded by {esc(state.assessed_by)}"
    if state.assessed_at:
        who += f" on {esc(day(state.assessed_at))}"
    if state.carried_from:
        who += f", carried over from round {state.carried_from}"
    note = f"<p>Why the target is lower: {esc(state.target_note)}</p>" if state.target_note else ""
    rationale = _paragraphs(state.rationale)
    return f"<p>Agreed: {', '.join(parts)} ({who}).</p>{note}{rationale}" + evidence_html(
        state.evidence
    )


class _Debounce:
    """Call ``action`` once, ``delay`` seconds after the last :meth:`poke` (at once with no
    running event loop: a script or a test)."""

    def __init__(self, action: Callable[[], None], delay: float = SAVE_DELAY_S) -> None:
        self.action = action
        self.delay = delay
        self._timer: asyncio.TimerHandle | None = None

    def poke(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.action()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.action()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._fire()


class ComponentSection(w.VBox):
    """One component: its statements as a choice, the spread, and the agreed record."""

    def __init__(self, page: MaturityPage, index: int, component: Any) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-question", "ew-component"))
        self.page = page
        self.component = component
        cid = component.id
        model = page.model
        rnd = page.assessment.round(page.number)
        comp = rnd.components[cid]
        key = respondent_key(page.actor.name)
        mine = comp.ratings.get(key)
        self.shown_rating: Any = mine.model_dump(mode="json") if mine else None
        self.shown_agreed: Any = comp.agreed.model_dump(mode="json") if comp.agreed else None
        name = component.name
        self.heading = html_block(
            f'<h3 class="ew-q-title" id="component-{esc(cid)}" tabindex="-1">'
            f'<span class="ew-q-num">Component {index} of {len(model.components)}</span> '
            f"{esc(name)}</h3><p>{esc(component.description)}</p>"
        )
        options = [
            (f"{model.level_label(st.level)}: {st.text}", st.level) for st in component.statements
        ]
        self.level = w.RadioButtons(
            description=f"Your rating of {name}",
            options=options,
            value=mine.level if mine else None,
            index=None if mine is None else [o[1] for o in options].index(mine.level),
            **stacked_kw(w.RadioButtons),
        )
        self.level.add_class("ew-levels")
        self.rationale = textarea(
            f"Your rationale for {name}", rows=3, value=mine.rationale if mine else ""
        )
        self.evidence = textarea(
            f"Your evidence for {name} (one per line: a web address, or a project id with a "
            "question such as q7)",
            rows=2,
            value=mat.evidence_text(mine.evidence) if mine else "",
        )
        self.message = html_block("")
        self.spread = html_block("", "ew-spread")
        self.conflict = w.VBox(**plain_kw(w.VBox))
        self._save_later = _Debounce(self.save_rating)
        self._showing = False
        self.level_hint = html_block("", "ew-level-evidence")
        self.level.observe(lambda _: self._show_level_hint(), names="value")
        self._show_level_hint()
        rating_box: list[w.Widget] = [
            self.level,
            self.level_hint,
            self.rationale,
            self.evidence,
            self.message,
        ]
        if page.can_rate:
            for control in (self.level, self.rationale, self.evidence):
                control.observe(lambda _: self._edited(), names="value")
        else:
            for control in (self.level, self.rationale, self.evidence):
                control.disabled = True
        agreed_children: list[w.Widget] = [
            html_block(f'<h4 class="ew-h4">Agreed level of {esc(name)}</h4>'),
            html_block("", "ew-agreed-summary"),
        ]
        self.agreed_summary = agreed_children[1]
        if page.can_agree:
            agreed_children.append(self._agree_form(comp))
        children = [self.heading, *rating_box, self.spread, self.conflict, *agreed_children]
        self.children = children
        self.update()

    def _show_level_hint(self) -> None:
        """What evidence would show the chosen level (from the model), to guide the rationale."""
        level = self.level.value
        if level is None:
            self.level_hint.value = ""
            return
        statement = self.component.statement(level)
        self.level_hint.value = (
            f'<p class="ew-hint">What would show {esc(self.page.model.level_label(level))}: '
            f"{esc(statement.evidence)}</p>"
        )

    # ---- the agreed form (reviewers)

    def _agree_form(self, comp: Any) -> w.Widget:
        model = self.page.model
        name = self.component.name
        ag = comp.agreed
        levels = [(model.level_label(lv.value), lv.value) for lv in model.levels]
        self.agreed_level = w.Dropdown(
            description=f"Agreed current level of {name}",
            options=[("Not agreed yet", NOT_CHOSEN), *levels],
            value=ag.level if ag else NOT_CHOSEN,
            **stacked_kw(w.Dropdown, "22rem"),
        )
        self.target_level = w.Dropdown(
            description=f"Target level for {name}",
            options=[("No target yet", NOT_CHOSEN), *levels],
            value=ag.target_level if ag else NOT_CHOSEN,
            **stacked_kw(w.Dropdown, "22rem"),
        )
        self.target_date = w.DatePicker(
            description=f"Target date for {name}",
            value=ag.target_date if ag else None,
            **stacked_kw(w.DatePicker, "14rem"),
        )
        self.target_note = w.Text(
            description=f"If the target for {name} is below its current level, why",
            value=ag.target_note if ag else "",
            continuous_update=False,
            **stacked_kw(w.Text),
        )
        self.agreed_rationale = textarea(
            f"Agreed rationale for {name}",
            rows=3,
            value=ag.rationale if ag else "",
            continuous_update=False,
        )
        self.agreed_evidence = textarea(
            f"Agreed evidence for {name} (one per line)",
            rows=2,
            value=mat.evidence_text(ag.evidence) if ag else "",
            continuous_update=False,
        )
        self.agree_button = w.Button(
            description=f"Record agreed level for {name}",
            button_style="primary",
            **plain_kw(w.Button, "ew-wide-button"),
        )
        self.agree_button.on_click(lambda _: self.record_agreed())
        self.agree_message = html_block("")
        return w.VBox(
            [
                self.agreed_level,
                self.target_level,
                self.target_date,
                self.target_note,
                self.agreed_rationale,
                self.agreed_evidence,
                self.agree_message,
                self.agree_button,
            ],
            **plain_kw(w.VBox, "ew-signoff-form"),
        )

    # ---- showing

    def state(self) -> mat.ComponentState:
        states = mat.states(self.page.assessment, self.page.model, self.page.number)
        return next(s for s in states if s.id == self.component.id)

    def update(self) -> None:
        st = self.state()
        self.spread.value = spread_html(st, self.page.model)
        self.agreed_summary.value = agreed_html(st, self.page.model)

    # ---- rating (saved as the person chooses)

    def _edited(self) -> None:
        if self._showing:
            return
        self.message.value = _hint("Not saved yet…")
        self._save_later.poke()

    def save_rating(self) -> bool:
        level = self.level.value
        if level is None:
            self.message.value = _hint("Choose a level to save your rating.")
            return False
        model = self.page.model
        if level > 0 and not self.rationale.value.strip():
            self.message.value = _alert(
                f"Not saved yet: give your rationale for {model.level_label(level)} (any level "
                "above 0 needs one). Your choice is kept on this page until then."
            )
            return False
        return self._attempt(
            self.message,
            lambda base: mat.rate(
                self.page.store,
                self.page.authority_id,
                self.component.id,
                level=level,
                rationale=self.rationale.value,
                evidence=self.page.evidence(self.evidence.value, "evidence"),
                user=self.page.actor,
                round_number=self.page.number,
                shown=self.shown_rating,
                base=base,
            ),
            "rating",
        )

    # ---- agreeing (a button: a decision)

    def record_agreed(self) -> bool:
        if not self.page.can_agree:
            # No form on this page (the person's role, or a closed round): say why; the
            # role check is the core's own (Actor.require), and nothing is saved.
            try:
                self.page.actor.require(Action.agree)
                reason = f"round {self.page.number} is closed and cannot be changed"
            except WorkbookError as exc:
                reason = exc.message
            self.message.value = _alert(f"Not recorded: {reason.rstrip('.')}.")
            return False
        level = self.agreed_level.value
        target = self.target_level.value
        if level == NOT_CHOSEN or target == NOT_CHOSEN:
            self.agree_message.value = _alert(
                "Not recorded: choose the agreed current level and the target level."
            )
            return False
        return self._attempt(
            self.agree_message,
            lambda base: mat.agree(
                self.page.store,
                self.page.authority_id,
                self.component.id,
                level=level,
                target_level=target,
                target_date=self.target_date.value,
                target_note=self.target_note.value,
                rationale=self.agreed_rationale.value,
                evidence=self.page.evidence(self.agreed_evidence.value, "agreed evidence"),
                user=self.page.actor,
                round_number=self.page.number,
                shown=self.shown_agreed,
                base=base,
            ),
            "agreed",
        )

    # ---- saving and conflicts

    def _attempt(self, message: w.HTML, save: Callable[[Any], Assessment], what: str) -> bool:
        try:
            saved = save(None)
        except ConflictError as exc:
            self._offer_choice(exc.conflicts[0], what)
            message.value = _alert(
                "Not saved: someone else changed this since you opened the page. Choose below "
                "which to keep."
            )
            return False
        except WorkbookError as exc:
            message.value = _alert(f"Not saved: {exc.message.rstrip('.')}.")
            return False
        except Exception:  # the UI boundary: log it, tell the user plainly
            log.exception("maturity save failed")
            message.value = _alert(
                "Not saved: something went wrong. What you chose is still here; try again."
            )
            return False
        self._adopt(saved, what)
        when = moment(saved.round(self.page.number).components[self.component.id]
                      .agreed.assessed_at) if what == "agreed" else None  # fmt: skip
        message.value = _done(
            f"Agreed level recorded ({when})." if when else "Your rating is saved."
        )
        return True

    def _adopt(self, saved: Assessment, what: str) -> None:
        comp = saved.round(self.page.number).components[self.component.id]
        if what == "rating":
            mine = comp.ratings.get(respondent_key(self.page.actor.name))
            self.shown_rating = mine.model_dump(mode="json") if mine else None
        else:
            self.shown_agreed = comp.agreed.model_dump(mode="json") if comp.agreed else None
        self.conflict.children = ()
        # A rating leaves the plan as it was: rebuilding its items would drop what a
        # reviewer is typing into one of them.
        self.page.saved(saved, plan=what != "rating")

    def _offer_choice(self, conflict: Conflict, what: str) -> None:
        model = self.page.model
        theirs = conflict.theirs or {}
        who = (
            conflict.their_user
            or theirs.get("assessed_by" if what == "agreed" else "respondent")
            or "someone else"
        )
        when = theirs.get("assessed_at" if what == "agreed" else "rated_at")
        if who == self.page.actor.name:
            who = "You (in another window or on another device)"
        first = f"{who} saved this first" + (f" ({moment(when)})" if when else "")
        if what == "rating":
            text = (
                f"{model.level_label(theirs['level'])}: {theirs.get('rationale', '')}"
                if theirs
                else "no rating"
            )
        else:
            text = (
                f"agreed {model.level_label(theirs['level'])}, target "
                f"{model.level_label(theirs['target_level'])}"
                if theirs
                else "no agreed level"
            )
        keep = w.Button(description="Keep mine", button_style="primary", **plain_kw(w.Button))
        take = w.Button(description="Take theirs", **plain_kw(w.Button))
        box_text = html_block(
            f'<div class="ew-conflicts"><p><strong>{esc(first)}:</strong> '
            f"{esc(text)}</p><p>Keep mine saves yours over it; Take theirs shows theirs and "
            "drops yours.</p></div>"
        )

        def keep_mine(_: Any) -> None:
            if what == "rating":
                self.shown_rating = conflict.theirs
                self.save_rating()
            else:
                self.shown_agreed = conflict.theirs
                self.record_agreed()

        def take_theirs(_: Any) -> None:
            saved = self.page.store.open(self.page.authority_id)
            evidence = mat.evidence_text(
                Evidence.model_validate(e) for e in theirs.get("evidence", [])
            )
            if what == "rating":
                self.shown_rating = conflict.theirs
                if theirs:
                    self._showing = True  # their rating is saved already: not a new save
                    try:
                        self.level.value = theirs["level"]
                        self.rationale.value = theirs.get("rationale", "")
                        self.evidence.value = evidence
                    finally:
                        self._showing = False
                self.message.value = _done("Showing what was saved.")
            else:
                self.shown_agreed = conflict.theirs
                if theirs:
                    self.agreed_level.value = theirs["level"]
                    self.target_level.value = theirs["target_level"]
                    due = theirs.get("target_date")
                    self.target_date.value = date.fromisoformat(due) if due else None
                    self.target_note.value = theirs.get("target_note", "")
                    self.agreed_rationale.value = theirs.get("rationale", "")
                    self.agreed_evidence.value = evidence
                self.agree_message.value = _done("Showing what was recorded.")
            self.conflict.children = ()
            self.page.saved(saved)

        keep.on_click(keep_mine)
        take.on_click(take_theirs)
        self.conflict.children = (
            box_text,
            w.HBox([keep, take], **plain_kw(w.HBox, "ew-buttons")),
        )


class PlanItem(w.VBox):
    """One action of the plan, editable by a reviewer: owner, due date, status."""

    def __init__(self, page: MaturityPage, row: mat.PlanRow) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-check-item"))
        self.page = page
        self.component = row.component
        name = row.name
        self.text = w.Text(
            description=f"Action for {name}",
            value=row.text,
            continuous_update=False,
            **stacked_kw(w.Text),
        )
        self.owner = w.Text(
            description=f"Owner of the action for {name}",
            value=row.owner,
            continuous_update=False,
            **stacked_kw(w.Text, "22rem"),
        )
        self.due = w.DatePicker(
            description=f"Due date of the action for {name}",
            value=row.due,
            **stacked_kw(w.DatePicker, "14rem"),
        )
        self.status = w.Dropdown(
            description=f"Status of the action for {name}",
            options=[("Open", "open"), ("Done", "done")],
            value=row.status,
            **stacked_kw(w.Dropdown, "14rem"),
        )
        self.button = w.Button(description=f"Save the action for {name}", **plain_kw(w.Button))
        self.button.on_click(lambda _: self.save())
        self.message = html_block("")
        self.children = [
            self.text,
            w.HBox([self.owner, self.due, self.status], **plain_kw(w.HBox, "ew-row")),
            self.message,
            self.button,
        ]

    def save(self) -> bool:
        try:
            saved = mat.set_action(
                self.page.store,
                self.page.authority_id,
                self.component,
                user=self.page.actor,
                round_number=self.page.number,
                text=self.text.value,
                owner=self.owner.value,
                due=self.due.value,
                status=self.status.value,
            )
        except WorkbookError as exc:
            self.message.value = _alert(f"Not saved: {exc.message.rstrip('.')}.")
            return False
        self.message.value = _done("Action saved.")
        self.page.saved(saved, plan=False)
        return True


def plan_html(rows: list[mat.PlanRow], model: Any, number: int) -> str:
    if not rows:
        return (
            '<p class="ew-hint">No actions yet: each gap between an agreed level and its target '
            "becomes an action here.</p>"
        )
    body = []
    for r in rows:
        owner = esc(r.owner) if r.owner else '<span class="ew-missing">No owner yet</span>'
        due = esc(day(r.due)) if r.due else '<span class="ew-missing">No date</span>'
        if r.overdue:
            due += ' <span class="ew-overdue-tag">(overdue)</span>'
        gap = "" if r.gap_open else " (target reached)"
        body.append(
            f'<tr class="{"ew-overdue" if r.overdue else ""}"><th scope="row">{esc(r.name)}</th>'
            f"<td>{esc(r.text)}</td><td>{owner}</td><td>{due}</td>"
            f"<td>{'Open' if r.status == 'open' else 'Done'}{gap}</td></tr>"
        )
    return (
        f'{_wrap(f"Action plan, round {number}")}<table class="ew-table">'
        f"<caption>Action plan, round {number}</caption><thead><tr>"
        '<th scope="col">Component</th><th scope="col">Action</th><th scope="col">Owner</th>'
        '<th scope="col">Due</th><th scope="col">Status</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def rounds_html(assessment: Assessment, model: Any) -> str:
    numbers = assessment.round_numbers
    head = "".join(f'<th scope="col">Round {n}</th>' for n in numbers)
    rows = []
    for name, levels in mat.movement(assessment, model):
        cells = "".join(f"<td>{'-' if lv is None else lv}</td>" for lv in levels)
        known = [lv for lv in levels if lv is not None]
        moved = f"{known[-1] - known[0]:+d}" if len(known) >= 2 else "-"
        rows.append(f'<tr><th scope="row">{esc(name)}</th>{cells}<td>{moved}</td></tr>')
    dates = []
    for n in numbers:
        rnd = assessment.round(n)
        when = f"closed {day(rnd.closed.at)} by {rnd.closed.by}" if rnd.closed else "open"
        dates.append(f"<li>Round {n}: opened {esc(day(rnd.opened_at))}, {esc(when)}</li>")
    return (
        f'<ul class="ew-links">{"".join(dates)}</ul>'
        f'{_wrap("Rounds compared")}<table class="ew-table">'
        "<caption>Agreed level of each component, round by round</caption>"
        f'<thead><tr><th scope="col">Component</th>{head}<th scope="col">Moved</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class MaturityPage(w.VBox):
    """The maturity self-assessment of one authority, for one person."""

    def __init__(
        self,
        store: AssessmentStore,
        authority_id: str,
        actor: Actor,
        *,
        round_number: int | None = None,
        projects: Store | None = None,
    ) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-phase", "ew-maturity"))
        self.store = store
        self.authority_id = authority_id
        self.actor = actor
        self.projects = projects or Store(store.root)
        self.assessment = store.open(authority_id)
        self.model = self.assessment.maturity_model()
        latest = self.assessment.round_numbers[-1]
        if round_number is not None and str(round_number) not in self.assessment.rounds:
            round_number = None
        self.number = round_number or latest
        rnd = self.assessment.round(self.number)
        self.editable = self.number == latest and rnd.closed is None
        self.can_rate = self.editable and actor.may(Action.rate)
        self.can_agree = self.editable and actor.may(Action.agree)
        self._build()

    def _build(self) -> None:
        a, model, n = self.assessment, self.model, self.number
        rnd = a.round(n)
        header = html_block(
            '<a class="ew-skip" href="#components">Skip to the components</a>'
            f'<p class="ew-kicker">{esc(model.name)}</p>'
            f'<p class="ew-project"><strong>{esc(a.authority.name)}</strong></p>'
            '<nav class="ew-nav" aria-label="Workbook pages">'
            f'<a href="{esc(START_PAGE)}">Start</a> '
            f'<a href="{esc(MATURITY_PAGE)}">All authorities</a></nav>'
        )
        self.round_line = html_block("")  # who has rated so far: refreshed with each save
        options = [(f"Round {k}", k) for k in a.round_numbers]
        if getattr(self, "round_picker", None) is None:
            self.round_picker = w.Dropdown(
                description="Round shown", options=options, value=n,
                **stacked_kw(w.Dropdown, "12rem"),
            )  # fmt: skip
            self.round_picker.observe(lambda ch: self.show_round(ch["new"]), names="value")
        else:  # the same control across rebuilds, so keyboard focus stays on it
            self._quiet = True
            try:
                self.round_picker.options = options
                self.round_picker.value = n
            finally:
                self._quiet = False
        self.overview = html_block("", "ew-overview-box")
        intro = html_block(
            '<h2 class="ew-h2" id="where">Where the authority stands</h2>'
            "<p>Each component of the authority's ethics practice is rated on six levels, from "
            f"{esc(model.level_label(0))} to {esc(model.level_label(model.max_level))}. Each "
            "respondent rates on their own; the level the authority agrees is recorded "
            "separately, with a target and a date. Every gap between the two becomes an action "
            "in the plan below.</p>"
        )
        self.sections = [
            ComponentSection(self, i, c) for i, c in enumerate(model.components, start=1)
        ]
        components_heading = html_block(
            '<h2 class="ew-h2" id="components" tabindex="-1">Components</h2>'
            + (
                ""
                if self.editable
                else f'<p class="ew-message">Round {n} is closed: it is shown as it was agreed '
                "and cannot be changed.</p>"
            )
            + (
                ""
                if not self.editable or self.can_rate
                else '<p class="ew-hint">Your role lets you read this assessment; rating needs '
                "the author or reviewer role.</p>"
            )
        )
        self.plan = html_block("")
        self.plan_items = w.VBox(**plain_kw(w.VBox))
        self.rounds = html_block("")
        self.round_message = html_block("")
        round_controls: list[w.Widget] = []
        latest = a.round_numbers[-1]
        if self.actor.may(Action.agree) and n == latest:
            if rnd.closed is None:
                self.close_note = textarea(f"Note on closing round {n} (optional)", rows=2)
                close = w.Button(
                    description=f"Close round {n}", button_style="warning", **plain_kw(w.Button)
                )
                close.on_click(lambda _: self.close_round())
                round_controls = [
                    html_block(
                        f'<p class="ew-hint">Closing round {n} records today as its date and '
                        "freezes it. Every component needs an agreed level first.</p>"
                    ),
                    self.close_note,
                    close,
                ]
            else:
                start = w.Button(
                    description=f"Start round {n + 1}", button_style="primary", **plain_kw(w.Button)
                )
                start.on_click(lambda _: self.start_round())
                round_controls = [
                    html_block(
                        f'<p class="ew-hint">Round {n + 1} starts from round {n}: its agreed '
                        "levels, targets and open actions are carried over; everyone rates "
                        "afresh.</p>"
                    ),
                    start,
                ]
        footer = html_block(f'<p class="ew-footer">{esc(model.attribution)}</p>')
        self.children = [
            header,
            self.round_line,
            self.round_picker,
            intro,
            self.overview,
            components_heading,
            *self.sections,
            html_block('<h2 class="ew-h2" id="plan">What the authority will do next</h2>'),
            self.plan,
            self.plan_items,
            html_block('<h2 class="ew-h2" id="rounds">Rounds compared</h2>'),
            self.rounds,
            self.round_message,
            *round_controls,
            footer,
        ]
        self.refresh_overview()
        self.refresh_plan()

    def _round_line(self, rnd: Any) -> str:
        n = self.number
        if rnd.closed:
            text = f"Round {n}: closed on {day(rnd.closed.at)} by {rnd.closed.by}."
        else:
            text = f"Round {n}: open since {day(rnd.opened_at)}."
        who = mat.respondents(rnd)
        people = (
            f" {len(who)} respondent{'s' if len(who) != 1 else ''}: {', '.join(who)}."
            if who
            else " No ratings yet."
        )
        return (
            f'<p class="ew-lead">{esc(text + people)}</p>'
            f'<p class="ew-hint">You are {esc(self.actor.name)}.</p>'
        )

    # ---- refreshing

    def saved(self, assessment: Assessment, *, plan: bool = True) -> None:
        """A save landed: show it everywhere on the page."""
        self.assessment = assessment
        self.refresh_overview()
        for section in self.sections:
            section.update()
        self.refresh_plan(rebuild_items=plan)

    def refresh_overview(self) -> None:
        self.round_line.value = self._round_line(self.assessment.round(self.number))
        self.overview.value = overview_html(self.assessment, self.model, self.number)
        self.rounds.value = rounds_html(self.assessment, self.model)

    def refresh_plan(self, *, rebuild_items: bool = True) -> None:
        rows = mat.action_plan(self.assessment, self.model, self.number)
        self.plan.value = plan_html(rows, self.model, self.number)
        if rebuild_items and self.can_agree:
            self.plan_items.children = [PlanItem(self, r) for r in rows]

    def show_round(self, number: int) -> None:
        if number == self.number or getattr(self, "_quiet", False):
            return
        # Rebuilt in place (not copied from another page), so every button and section
        # acts on the page that is shown.
        self.assessment = self.store.open(self.authority_id)
        latest = self.assessment.round_numbers[-1]
        self.number = number if str(number) in self.assessment.rounds else latest
        rnd = self.assessment.round(self.number)
        self.editable = self.number == latest and rnd.closed is None
        self.can_rate = self.editable and self.actor.may(Action.rate)
        self.can_agree = self.editable and self.actor.may(Action.agree)
        self._build()

    def evidence(self, text: str, what: str) -> list[Any]:
        ids = [e.id for e in self.projects.list() if e.workbook is not None]
        return mat.parse_evidence(text, ids, field=what)

    # ---- rounds

    def close_round(self) -> bool:
        try:
            saved = mat.close_round(
                self.store, self.authority_id, user=self.actor, note=self.close_note.value
            )
        except WorkbookError as exc:
            self.round_message.value = _alert(f"Not closed: {exc.message.rstrip('.')}.")
            return False
        self._rebuild(saved, f"Round {self.number} is closed.")
        return True

    def start_round(self) -> bool:
        try:
            saved = mat.start_round(self.store, self.authority_id, user=self.actor)
        except WorkbookError as exc:
            self.round_message.value = _alert(f"Not started: {exc.message.rstrip('.')}.")
            return False
        self._rebuild(saved, f"Round {saved.round_numbers[-1]} has started.")
        return True

    def _rebuild(self, saved: Assessment, message: str) -> None:
        self.assessment = saved
        self.number = saved.round_numbers[-1]
        rnd = saved.round(self.number)
        self.editable = rnd.closed is None
        self.can_rate = self.editable and self.actor.may(Action.rate)
        self.can_agree = self.editable and self.actor.may(Action.agree)
        self._build()
        self.round_message.value = _done(message)


class MaturityIndex(w.VBox):
    """Every authority's assessment, with its latest round; a reviewer can start one."""

    def __init__(self, store: AssessmentStore, actor: Actor) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-phase", "ew-maturity"))
        self.store = store
        self.actor = actor
        self.listing = html_block("")
        self.name = w.Text(description="Local authority", **stacked_kw(w.Text, "36em"))
        self.button = w.Button(
            description="Start its maturity self-assessment",
            button_style="primary",
            **plain_kw(w.Button),
        )
        self.button.on_click(lambda _: self.start())
        self.message = html_block("")
        start = (
            [
                html_block('<h2 class="ew-h2">Start a self-assessment</h2>'),
                self.name,
                self.message,
                self.button,
            ]
            if actor.may(Action.agree)
            else []
        )
        self.children = [
            html_block(
                '<nav class="ew-nav" aria-label="Workbook pages">'
                f'<a href="{esc(START_PAGE)}">Start</a></nav>'
                "<p>Each local authority assesses its own digital ethics practice once a year, "
                "in rounds, and shows its board where it stands and what it will do next.</p>"
            ),
            self.listing,
            *start,
            html_block(
                '<p class="ew-footer">The component and level names follow Sopra Steria\'s '
                "digital ethics maturity model; the descriptions were written for this "
                "workbook.</p>"
            ),
        ]
        self.refresh()

    def refresh(self) -> None:
        self.listing.value = summaries_html(self.store)

    def start(self) -> bool:
        try:
            a = mat.start_assessment(self.store, self.name.value.strip(), user=self.actor)
        except WorkbookError as exc:
            self.message.value = _alert(f"Not started: {exc.message.rstrip('.')}.")
            return False
        link = esc(maturity_link(a.authority.id))
        self.message.value = (
            f'<p class="ew-done" role="status">Started. <a href="{link}">'
            f"Open the self-assessment of {esc(a.authority.name)}</a>.</p>"
        )
        self.refresh()
        return True


def summary_line(sm: mat.MaturitySummary) -> str:
    """One authority's latest round in words (start page, portfolio, checklist)."""
    if sm.round is None:
        state = f"round {sm.open_round} open, none closed yet"
    else:
        state = f"round {sm.round} closed {day(sm.closed_at)}"
        if sm.open_round:
            state += f"; round {sm.open_round} open"
    gaps = (
        f"{sm.gaps} gap{'s' if sm.gaps != 1 else ''}, {sm.open_actions} open action"
        f"{'s' if sm.open_actions != 1 else ''}"
        if sm.round is not None
        else ""
    )
    overdue = f", {sm.overdue_actions} overdue" if sm.overdue_actions else ""
    return state + (f"; {gaps}{overdue}" if gaps else "")


def summaries_html(store: AssessmentStore, *, today: date | None = None) -> str:
    entries = store.list()
    if not entries:
        return '<p class="ew-hint">No authority has started a self-assessment yet.</p>'
    items = []
    for e in entries:
        if e.assessment is None:
            items.append(
                f'<li>{esc(e.id)}: <span class="ew-error">cannot be read: '
                f"{esc(e.error.message if e.error else '')}</span></li>"
            )
            continue
        sm = mat.summary(e.assessment, e.assessment.maturity_model(), today=today)
        items.append(
            f'<li><a href="{esc(maturity_link(sm.authority_id))}">{esc(sm.name)}</a>: '
            f"{esc(summary_line(sm))}</li>"
        )
    return f'<ul class="ew-links">{"".join(items)}</ul>'


def maturity_table_html(
    store: AssessmentStore, *, only: str | None = None, today: date | None = None
) -> str:
    """Each authority's latest closed round as a table (the portfolio); ``only``: the local
    authority chosen in the portfolio's filter (matched by name, ignoring case)."""
    rows = []
    for e in store.list():
        if e.assessment is None:
            rows.append(
                f'<tr><th scope="row">{esc(e.id)}</th><td colspan="5" class="ew-error">'
                f"cannot be read: {esc(e.error.message if e.error else '')}</td></tr>"
            )
            continue
        name = e.assessment.authority.name
        if only and " ".join(name.casefold().split()) != " ".join(only.casefold().split()):
            continue
        sm = mat.summary(e.assessment, e.assessment.maturity_model(), today=today)
        if sm.round is None:
            latest = f"none closed yet (round {sm.open_round} open)"
        else:
            latest = f"Round {sm.round}, closed {day(sm.closed_at)}"
            if sm.open_round:
                latest += f"; round {sm.open_round} open"
        overdue = (
            f' <span class="ew-overdue-tag">({sm.overdue_actions} overdue)</span>'
            if sm.overdue_actions
            else ""
        )
        rows.append(
            f'<tr><th scope="row"><a href="{esc(maturity_link(sm.authority_id))}">{esc(name)}'
            f"</a></th><td>{esc(latest)}</td><td>{esc(sm.level_text)}</td>"
            f"<td>{sm.gaps if sm.round else '-'}</td>"
            f"<td>{sm.open_actions if sm.round else '-'}{overdue}</td>"
            f"<td>{sm.respondents}</td></tr>"
        )
    if not rows:
        return (
            '<p class="ew-hint">No authority here has a maturity self-assessment yet: start one '
            f'on the <a href="{esc(MATURITY_PAGE)}">maturity page</a>.</p>'
        )
    return (
        f'{_wrap("Digital ethics maturity of each authority")}<table class="ew-table">'
        "<caption>Digital ethics maturity: each authority's latest closed round</caption>"
        '<thead><tr><th scope="col">Authority</th><th scope="col">Latest round</th>'
        '<th scope="col">Agreed levels</th><th scope="col">Gaps</th>'
        '<th scope="col">Open actions</th><th scope="col">Respondents</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def checklist_link_html(projects_root: Any, local_authority: str) -> str:
    """Under the Explore checklist item on the maturity self-assessment: the authority's
    assessment, its latest round and date, and a link to it."""
    try:
        found = mat.find_for_authority(AssessmentStore(projects_root), local_authority)
    except WorkbookError:
        found = None
    if found is None:
        return (
            f'<p class="ew-hint">No digital ethics maturity self-assessment for '
            f"{esc(local_authority)} in this workbook yet. "
            f'<a href="{esc(MATURITY_PAGE)}">Start or find one on the maturity page</a>.</p>'
        )
    sm = mat.summary(found, found.maturity_model())
    return (
        f'<p class="ew-hint">{esc(found.authority.name)}\'s digital ethics maturity '
        f"self-assessment: {esc(summary_line(sm))}. "
        f'<a href="{esc(maturity_link(found.authority.id))}">Open the self-assessment</a>.</p>'
    )
