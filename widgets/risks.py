"""The risk register in the app: on the Explore page under question 4, and a short list of
linked risks under the other questions a risk links to (questions 7, 8 and 10 of the
Develop page in the demo).

The register view shows how each of the seven digital ethics categories is covered (with a
form to record a category as not relevant, and why), a heat map of the risks before and
after mitigation, the list of risks with a form to edit each one, and a form to add one.

Like every view here it does no file I/O of its own: changes go through
:mod:`workbook.risks` (``add_risk``, ``update_risk``, ``consider``) with the page's store
and actor, whose roles the core checks again; reads come from the page's
:class:`~widgets.review.ReviewContext`. After a change the context refreshes the page's
editing session and tells every view (the sign-off banner too: the register is part of
what an Explore sign-off signs).

A risk whose saved text looks like a child's personal data shows the warning of
:mod:`widgets.personal_data` in its entry, below its form; a category's reason that does
keeps its form open, with the warning below it, until it is edited or dismissed.

Risks are numbered R1, R2... as the exports and the review page number them: highest
remaining risk first (:func:`workbook.risks.risk_rows`), so R1 is the one to look at first.
A number can change when a rating does; an open form is relabelled when it does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from pydantic import ValidationError

from widgets._bind import esc, html_block, plain_kw, stacked_kw, textarea
from widgets._links import PHASE_PAGES, page_link
from widgets.personal_data import FieldWarning, FormWarnings
from widgets.review import ReviewContext, ThreadsWidget, as_context
from workbook import risks
from workbook.bank import Question
from workbook.errors import WorkbookError
from workbook.export.dates import day
from workbook.model import RISK_STATUSES, describe_validation_error
from workbook.risk_content import load_risk_content
from workbook.roles import Action
from workbook.session import EditSession

log = logging.getLogger("ethics-workbook")

REGISTER_QUESTION = "q4"
"""The question the register belongs to: the Explore page shows it under this question."""
REGISTER_ANCHOR = "risk-register"
"""The HTML id of the register's heading (links from other pages go to it)."""

STATUS_LABELS = {s: s.capitalize() for s in RISK_STATUSES}
UNRATED = 0
"""The option value of "Not rated yet" (saved as null)."""
NO_ACTION = ""
ACTION_LABEL_CHARS = 90
"""Further-work actions are named in the dropdown by their first words."""

FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "category": "Category",
    "affected": "Affected groups",
    "cause": "Cause",
    "before": "Rating before mitigation",
    "mitigations": "Mitigation",
    "after": "Rating after mitigation",
    "owner": "Owner",
    "status": "Status",
    "review_by": "Next review date",
    "note": "Note",
}


# --------------------------------------------------------------------------- helpers


def risk_numbers(register: Any) -> dict[str, str]:
    """``{risk id: "R1"}``: highest remaining risk first, as in the exports
    (``workbook/export/report.py``) and on the review page."""
    return {row.id: f"R{n}" for n, row in enumerate(risks.risk_rows(register), start=1)}


def _multiline(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def _scored(value: int | None, band: str) -> str:
    return "not rated yet" if value is None else f"{value} {band}".strip()


def _remaining(row: risks.RiskRow) -> str:
    """The risk left after mitigation (the score before it, while "after" is unrated)."""
    if row.after is not None:
        return f"{row.after_band} ({row.after})"
    if row.before is not None:
        return f"{row.before_band} ({row.before}, not yet rated after mitigation)"
    return "not rated yet"


def _alert(text: str) -> str:
    return f'<p class="ew-error" role="alert">{esc(text)}</p>'


def _done(text: str) -> str:
    return f'<p class="ew-done" role="status">{esc(text)}</p>'


def _attempt(message: w.HTML, action: Callable[[], str]) -> bool:
    """Run a save; show "Saved..." only once the store has returned, else the reason in
    words (a refusal by role included), never a traceback. What was typed stays."""
    try:
        outcome = action()
    except _FormProblem as exc:
        message.value = _alert(f"Not saved: {exc}")
        return False
    except WorkbookError as exc:
        parts = (exc.field or "").split(".")
        if exc.field and exc.field.startswith("risks.items.") and len(parts) > 3:
            name = FIELD_LABELS.get(parts[3], parts[3])  # the form's own label for the field
            message.value = _alert(f"Not saved: {name}: {exc.message.rstrip('.')}.")
        else:
            message.value = _alert(f"Not saved: {exc.message.rstrip('.')}.")
        return False
    except ValidationError as exc:
        path, text = describe_validation_error(exc)
        name = FIELD_LABELS.get(path.split(".")[0], path)
        text = text.split(" (got ", 1)[0]  # what was typed is on screen already
        message.value = _alert(f"Not saved: {name}: {text}.")
        return False
    except Exception:  # the UI boundary: log it, tell the user plainly
        log.exception("risk register change failed")
        message.value = _alert(
            "Not saved: something went wrong. What you typed is still here; reload the page "
            "in another tab to see what was saved, then try again."
        )
        return False
    message.value = _done(outcome)
    return True


class _FormProblem(Exception):
    """Something the form can tell before asking the store (a title or category missing)."""


def _actions(workbook: Any, bank: Any) -> list[tuple[str, str]]:
    """The workbook's further-work actions as dropdown options ``(label, "q4#0")``."""
    out = []
    for q in bank.questions:
        for i, action in enumerate(getattr(workbook.answers, q.id).further_work):
            text = " ".join(action.action.split())
            if len(text) > ACTION_LABEL_CHARS:
                text = text[: ACTION_LABEL_CHARS - 1].rstrip() + "\u2026"
            out.append((f"Question {q.number}: {text}", f"{q.id}#{i}"))
    return out


def _action_name(link: Any, bank: Any) -> str:
    return f"question {bank.question(link.question).number}, action {link.index + 1}"


# --------------------------------------------------------------------------- HTML parts


def coverage_html(register: Any) -> str:
    """The sentence naming what is not yet considered, and each category's coverage."""
    cover = risks.coverage(register)
    gaps = [c.name for c in cover if not c.covered]
    if gaps:
        lead = (
            f'<p class="ew-coverage-gap"><strong>Not yet considered: {esc(", ".join(gaps))}'
            "</strong></p>"
        )
    else:
        lead = (
            '<p class="ew-done">Every category is covered: each has a risk, or a reason why it '
            "does not apply.</p>"
        )
    items = []
    for c in cover:
        considered = register.considered.get(c.id)
        if c.risks:
            how = esc(c.how)
        elif c.covered and considered is not None:
            who = f" ({esc(considered.by)}, {esc(day(considered.at))})" if considered.by else ""
            how = f"considered, not relevant: \u201c{_multiline(considered.reason)}\u201d{who}"
        else:
            how = f'<span class="ew-missing">{esc(c.how)}</span>'
        items.append(f"<li><strong>{esc(c.name)}</strong>: {how}</li>")
    return f'{lead}<ul class="ew-coverage">{"".join(items)}</ul>'


def heat_map_html(register: Any, numbers: dict[str, str] | None = None) -> str:
    """The heat map as an accessible table: likelihood rows (most likely first) by impact
    columns; each cell names its band in words and the risks rated there before and after
    mitigation. On a narrow screen (ethics.css) each row becomes a card listing only the
    cells with risks; the legend above gives the band of every score."""
    scale = register.scale
    numbers = numbers or risk_numbers(register)
    lk, im = scale.likelihood_name, scale.impact_name
    head = "".join(
        f'<th scope="col">{esc(im)} {lv.value}<br>{esc(lv.label)}</th>' for lv in scale.impact
    )
    rows = []
    for row in risks.heat_map(register):
        level = scale.likelihood[row[0].likelihood - 1]
        cells = []
        any_risk = False
        for c in row:
            impact = scale.impact[c.impact - 1]
            parts = [
                f'<span class="ew-heat-where" aria-hidden="true">{esc(im)} {impact.value} '
                f"{esc(impact.label)}:</span>",
                f'<span class="ew-heat-band">{esc(c.band_label)} ({c.score})</span>',
            ]
            for when, ids in (("Before", c.before), ("After", c.after)):
                if ids:
                    names = ", ".join(numbers.get(i, i) for i in ids)
                    parts.append(f'<span class="ew-heat-risks">{when}: {esc(names)}</span>')
            empty = not (c.before or c.after)
            any_risk = any_risk or not empty
            classes = f"ew-heat ew-band-{esc(c.band_id)}" + (" ew-heat-empty" if empty else "")
            where = f"{c.likelihood}-{c.impact}"
            cells.append(f'<td class="{classes}" data-cell="{where}">{" ".join(parts)}</td>')
        none = "" if any_risk else '<span class="ew-heat-none" aria-hidden="true">: no risks</span>'
        rows.append(
            f'<tr class="{"" if any_risk else "ew-heat-row-empty"}"><th scope="row">'
            f"{esc(lk)} {level.value} {esc(level.label)}{none}</th>{''.join(cells)}</tr>"
        )
    bands = ", ".join(f"{esc(b.label)} {b.min}\u2013{b.max}" for b in scale.bands)
    legend = (
        f'<p class="ew-hint">Score = {esc(lk.lower())} \u00d7 {esc(im.lower())}. Bands: {bands}. '
        f"R1, R2\u2026 are the risks listed below, highest remaining risk first.</p>"
    )
    return (
        f"{legend}"
        '<div class="ew-heat-wrap"><table class="ew-table ew-heat-map">'
        f"<caption>Where each risk sits before and after mitigation: {esc(lk.lower())} "
        f"(rows, most likely first) by {esc(im.lower())} (columns)</caption>"
        f'<thead><tr><td class="ew-heat-corner"></td>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def risk_html(register: Any, row: risks.RiskRow, number: str, bank: Any) -> str:
    """One risk of the list: number, title, category, scores, owner, status, review."""
    risk = register.items[row.id]
    content = load_risk_content()
    groups = {g.id: g.label for g in content.affected_groups}
    affected = ", ".join(groups.get(g, g) for g in risk.affected)
    review = "no review date"
    if row.review_by:
        review = f"review by {esc(day(row.review_by))}"
        if row.review_overdue:
            review += ' <strong class="ew-overdue-tag">(overdue)</strong>'
    facts = [
        f"<strong>Score:</strong> before mitigation {esc(_scored(row.before, row.before_band))}"
        f" \u2192 after {esc(_scored(row.after, row.after_band))}",
        f"<strong>Owner:</strong> {esc(row.owner) or 'none yet'} \u00b7 "
        f"<strong>Status:</strong> {esc(STATUS_LABELS.get(row.status, row.status))} \u00b7 "
        f"{review}",
    ]
    described = f"<p>{_multiline(risk.description)}</p>" if risk.description else ""
    more = []
    if risk.cause:
        more.append(f"<p><strong>Cause:</strong> {_multiline(risk.cause)}</p>")
    if risk.mitigations:
        items = []
        for m in risk.mitigations:
            link = ""
            if m.action is not None:
                link = f" <em>(further work: {esc(_action_name(m.action, bank))})</em>"
            items.append(f"<li>{_multiline(m.text)}{link}</li>")
        more.append(
            f'<p><strong>Mitigation:</strong></p><ul class="ew-links">{"".join(items)}</ul>'
        )
    if risk.note:
        more.append(f"<p><strong>Note:</strong> {_multiline(risk.note)}</p>")
    lines = "".join(f"<p>{f}</p>" for f in facts)
    return (
        f'<h6 class="ew-risk-title" id="risk-{esc(row.id)}"><span class="ew-risk-num">'
        f"{esc(number)}</span> {esc(row.title)}</h6>"
        f'<p class="ew-hint">{esc(row.category_name)}'
        + (f" \u00b7 affects {esc(affected)}" if affected else "")
        + f"</p>{described}{lines}{''.join(more)}"
    )


# --------------------------------------------------------------------------- the form


class RiskForm(w.VBox):
    """The fields of one risk, to add it (``risk_id`` None) or to change it."""

    def __init__(self, view: RiskRegisterView, risk_id: str | None = None) -> None:
        # its own layout (not a shared one): the form is shown and hidden
        super().__init__(layout=w.Layout(), _dom_classes=("ew-risk-form",))
        self.view = view
        self.risk_id = risk_id
        register = view.register
        self.number = view.numbers.get(risk_id, "") if risk_id else ""
        scale = register.scale
        content = load_risk_content()
        risk = register.items[risk_id] if risk_id else None
        self._loaded = risk.model_dump(mode="json") if risk else None
        """The risk as the form was filled from it: a save refuses if someone else has
        changed it since (their edit is not overwritten unseen)."""

        self._names: list[tuple[w.Widget, str]] = []
        """Each labelled control and its label without the risk's number (see renumber)."""
        self.title = self._named(
            w.Text(description="Title", continuous_update=False, **stacked_kw(w.Text))
        )
        self.description = self._named(textarea("Description", rows=3, continuous_update=False))
        self.category = self._named(
            w.Dropdown(
                description="Category",
                options=[("Choose a category", "")] + [(c.name, c.id) for c in content.categories],
                value="",
                **stacked_kw(w.Dropdown, "28rem"),
            )
        )
        self._group_id = f"risk-affected-{risk_id or 'new'}"
        self.affected = {
            g.id: w.Checkbox(description=g.label, value=False, indent=False, **plain_kw(w.Checkbox))
            for g in content.affected_groups
        }
        self.affected_label = html_block("")
        affected = w.VBox(
            [
                self.affected_label,
                # a group named by the label above (page_status.js sets role and aria-labelledby)
                w.HBox(
                    list(self.affected.values()), **plain_kw(w.HBox, "ew-wrap", "ew-labelled-group")
                ),
            ],
            **plain_kw(w.VBox, "ew-group"),
        )
        self.cause = self._named(textarea("Cause", rows=2, continuous_update=False))

        def rating(axis: str, when: str) -> w.Dropdown:
            levels = getattr(scale, axis)
            name = getattr(scale, f"{axis}_name")
            return self._named(
                w.Dropdown(
                    description=f"{name} {when}",
                    options=[("Not rated yet", UNRATED)]
                    + [(f"{lv.value} {lv.label}", lv.value) for lv in levels],
                    value=UNRATED,
                    **stacked_kw(w.Dropdown, "14rem"),
                )
            )

        self.likelihood_before = rating("likelihood", "before")
        self.impact_before = rating("impact", "before")
        self.likelihood_after = rating("likelihood", "after")
        self.impact_after = rating("impact", "after")

        self.mitigations: list[tuple[w.Textarea, w.Dropdown]] = []
        self._mitigation_chrome: list[w.Widget] = []
        self.mitigation_box = w.VBox(**plain_kw(w.VBox, "ew-mitigations"))
        self.add_mitigation = self._named(
            w.Button(description="Add a mitigation", **plain_kw(w.Button, "ew-secondary"))
        )
        self.add_mitigation.on_click(lambda _: self._add_mitigation_and_focus())

        self.owner = self._named(
            w.Text(
                description="Owner (a role, not a person's name)",
                placeholder="For example, Data science lead",
                continuous_update=False,
                **stacked_kw(w.Text, "28rem"),
            )
        )
        self.status = self._named(
            w.Dropdown(
                description="Status",
                options=[(label, s) for s, label in STATUS_LABELS.items()],
                value="open",
                **stacked_kw(w.Dropdown, "14rem"),
            )
        )
        self.review_by = self._named(
            w.DatePicker(description="Next review date", **stacked_kw(w.DatePicker, "14rem"))
        )
        self.note = self._named(textarea("Note", rows=2, continuous_update=False))
        self.save_button = w.Button(
            description="Save risk", button_style="primary", **plain_kw(w.Button)
        )
        self.save_button.on_click(lambda _: self.save())
        self.reload_button = w.Button(
            description="Show the saved version",
            layout=w.Layout(display="none"),  # its own layout: shown after a refused save
        )
        self.reload_button.on_click(lambda _: self._reload())
        self.message = html_block("", "ew-risk-message")
        self.mitigation_label = html_block("")

        rated = "ew-wrap ew-ratings"
        self.children = [
            self.title,
            self.description,
            self.category,
            affected,
            self.cause,
            w.HBox(
                [self.likelihood_before, self.impact_before], **plain_kw(w.HBox, *rated.split())
            ),
            self.mitigation_label,
            self.mitigation_box,
            self.add_mitigation,
            w.HBox([self.likelihood_after, self.impact_after], **plain_kw(w.HBox, *rated.split())),
            self.owner,
            self.status,
            self.review_by,
            self.note,
            w.HBox([self.save_button, self.reload_button], **plain_kw(w.HBox, "ew-buttons")),
            self.message,
        ]
        self.fill(risk)
        self._relabel()

    # ---- labels and options

    def _label(self, text: str) -> str:
        """``Title`` on the add form; ``R3: title`` on R3's form (unique on the page)."""
        if not self.number:
            return text
        return f"{self.number}: {text[:1].lower()}{text[1:]}"

    def _named(self, control: Any) -> Any:
        self._names.append((control, control.description))
        return control

    def _relabel(self) -> None:
        for control, text in self._names:
            control.description = self._label(text)
        self.affected_label.value = (
            f'<p class="ew-group-label" id="{esc(self._group_id)}">'
            f"{esc(self._label('Affected groups'))}</p>"
        )
        self.mitigation_label.value = (
            f'<p class="ew-group-label">{esc(self._label("Mitigation"))}</p>'
            '<p class="ew-hint">What is done, or will be done, to make the risk less likely or '
            "less harmful: one item each. Link an item to a further-work action of the workbook "
            "where there is one.</p>"
        )
        if self.number:
            self.save_button.description = f"Save {self.number}"
            self.reload_button.description = f"Show the saved version of {self.number}"

    def renumber(self, number: str) -> None:
        """The risk's number changed (a rating did, here or elsewhere): say so everywhere."""
        if number != self.number:
            self.number = number
            self._relabel()
            self._render_mitigations()

    def _action_options(self, current: str = NO_ACTION) -> list[tuple[str, str]]:
        options = [("No further-work action", NO_ACTION), *self.view.action_options]
        if current and current not in {v for _, v in options}:
            qid, _, index = current.partition("#")
            number = self.view.ctx.bank.question(qid).number
            options.append(
                (f"Question {number}, action {int(index) + 1} (no longer in the workbook)", current)
            )
        return options

    def update_actions(self) -> None:
        """The workbook's actions changed (a save): offer the new list, keep each choice."""
        for _text, choice in self.mitigations:
            keep = choice.value
            options = self._action_options(keep)
            if list(choice.options) != options:
                choice.options = options
                choice.value = keep

    # ---- mitigations

    def _add_mitigation(
        self, text: str = "", action: str = NO_ACTION
    ) -> tuple[w.Textarea, w.Dropdown]:
        n = len(self.mitigations) + 1
        area = textarea(self._label(f"Mitigation {n}"), rows=2, value=text, continuous_update=False)
        choice = w.Dropdown(
            description=self._label(f"Mitigation {n}: further-work action (optional)"),
            options=self._action_options(action),
            value=action,
            **stacked_kw(w.Dropdown),
        )
        self.mitigations.append((area, choice))
        self._render_mitigations()
        return area, choice

    def _add_mitigation_and_focus(self) -> None:
        area, _ = self._add_mitigation()
        area.focus()

    def _remove_mitigation(self, index: int) -> None:
        for control in self.mitigations.pop(index):
            control.close()
        self._render_mitigations()
        self.add_mitigation.focus()

    def _render_mitigations(self) -> None:
        old, self._mitigation_chrome = self._mitigation_chrome, []
        boxes = []
        for i, (area, choice) in enumerate(self.mitigations):
            n = i + 1
            area.description = self._label(f"Mitigation {n}")
            choice.description = self._label(f"Mitigation {n}: further-work action (optional)")
            remove = w.Button(
                description=self._label(f"Remove mitigation {n}"),
                **plain_kw(w.Button, "ew-link-button"),
            )
            remove.disabled = self.view.read_only
            remove.on_click(lambda _, i=i: self._remove_mitigation(i))
            box = w.VBox([area, choice, remove], **plain_kw(w.VBox, "ew-mitigation"))
            self._mitigation_chrome += [remove, box]
            boxes.append(box)
        self.mitigation_box.children = boxes
        for widget in old:
            widget.close()
        if self.view.read_only:
            _disable(self.mitigation_box)

    # ---- values

    def fill(self, risk: Any | None) -> None:
        """Show ``risk`` in the fields (blank fields for None)."""
        self.title.value = risk.title if risk else ""
        self.description.value = risk.description if risk else ""
        self.category.value = risk.category if risk else ""
        for gid, box in self.affected.items():
            box.value = bool(risk and gid in risk.affected)
        self.cause.value = risk.cause if risk else ""
        before = risk.before if risk else None
        after = risk.after if risk else None
        self.likelihood_before.value = (before.likelihood if before else None) or UNRATED
        self.impact_before.value = (before.impact if before else None) or UNRATED
        self.likelihood_after.value = (after.likelihood if after else None) or UNRATED
        self.impact_after.value = (after.impact if after else None) or UNRATED
        for pair in self.mitigations:
            for control in pair:
                control.close()
        self.mitigations = []
        for m in risk.mitigations if risk else ():
            link = f"{m.action.question}#{m.action.index}" if m.action else NO_ACTION
            self._add_mitigation(m.text, link)
        if not self.mitigations:
            self._add_mitigation()
        self.owner.value = risk.owner if risk else ""
        self.status.value = risk.status if risk else "open"
        self.review_by.value = risk.review_by if risk else None
        self.note.value = risk.note if risk else ""

    def fields(self) -> dict[str, Any]:
        """The form as ``add_risk``/``update_risk`` fields; a missing title or category, a
        half-given rating or a link with no text is named here."""
        title = self.title.value.strip()
        if not title:
            raise _FormProblem(f"give the risk a title (\u201c{self.title.description}\u201d).")
        if not self.category.value:
            raise _FormProblem(
                "choose the digital ethics category it belongs to "
                f"(\u201c{self.category.description}\u201d)."
            )
        ratings = {}
        for when, lk, im in (
            ("before", self.likelihood_before, self.impact_before),
            ("after", self.likelihood_after, self.impact_after),
        ):
            if bool(lk.value) != bool(im.value):
                raise _FormProblem(
                    f"rate both \u201c{lk.description}\u201d and \u201c{im.description}\u201d, "
                    "or neither."
                )
            ratings[when] = {"likelihood": lk.value or None, "impact": im.value or None}
        mitigations = []
        for n, (area, choice) in enumerate(self.mitigations, start=1):
            text = area.value.strip()
            if not text and choice.value:
                raise _FormProblem(
                    f"mitigation {n} links to an action but says nothing: add its text."
                )
            if not text:
                continue
            action = None
            if choice.value:
                qid, _, index = choice.value.partition("#")
                action = {"question": qid, "index": int(index)}
            mitigations.append({"text": text, "action": action})
        return {
            "title": title,
            "description": self.description.value.strip(),
            "category": self.category.value,
            "affected": [gid for gid, box in self.affected.items() if box.value],
            "cause": self.cause.value.strip(),
            "before": ratings["before"],
            "mitigations": mitigations,
            "after": ratings["after"],
            "owner": self.owner.value.strip(),
            "status": self.status.value,
            "review_by": self.review_by.value.isoformat() if self.review_by.value else None,
            "note": self.note.value.strip(),
        }

    # ---- saving

    def save(self) -> bool:
        """Add or update the risk through :mod:`workbook.risks`; "Saved" once the store has
        returned. On any refusal the fields keep what was typed."""
        view = self.view
        self.reload_button.layout.display = "none"

        def act() -> str:
            fields = self.fields()
            if self.risk_id is None:
                saved, rid = risks.add_risk(
                    view.ctx.store, view.ctx.project_id, user=view.ctx.actor, **fields
                )
                number = risk_numbers(saved.risks)[rid]
                rated = any(all(fields[when].values()) for when in ("before", "after"))
                view.saved(saved)
                self.fill(None)
                where = (
                    "the list and the heat map"
                    if rated
                    else "the list; rate it to place it in the heat map"
                )
                said = f"Saved as {number}: {fields['title']}. It is in {where}."
                record = f"risks.items.{rid}"
                view.personal_data_saved(record)
                if view.personal_data is not None and record in view.personal_data.warnings:
                    said += (
                        f" Some of its text looks like personal data: see the warning on "
                        f"{number} in the list."
                    )
                return said
            on_disk = view.ctx.store.open(view.ctx.project_id).risks.items.get(self.risk_id)
            if on_disk is not None and on_disk.model_dump(mode="json") != self._loaded:
                self.reload_button.layout.display = "flex"
                raise _FormProblem(
                    f"someone else changed {self.number} since this form was filled in. Your "
                    f"changes are still here: copy what you need, then choose \u201cShow the "
                    f"saved version of {self.number}\u201d to see theirs."
                )
            saved = risks.update_risk(
                view.ctx.store, view.ctx.project_id, self.risk_id, user=view.ctx.actor, **fields
            )
            self._loaded = saved.risks.items[self.risk_id].model_dump(mode="json")
            view.saved(saved)  # the list may be in a new order now: keep focus here
            view.personal_data_saved(f"risks.items.{self.risk_id}")  # warned just below
            self.save_button.focus()
            return f"Saved {self.number}."

        return _attempt(self.message, act)

    def _reload(self) -> None:
        self.view.ctx.reload()
        risk = self.view.register.items.get(self.risk_id or "")
        if risk is not None:
            self._loaded = risk.model_dump(mode="json")
            self.fill(risk)
        self.reload_button.layout.display = "none"
        self.message.value = _done(f"Showing the saved version of {self.number}.")
        self.title.focus()


def _disable(widget: w.Widget) -> None:
    if hasattr(widget, "disabled") and not isinstance(widget, w.HTML):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        _disable(child)


# --------------------------------------------------------------------------- the register


class _RiskItem(w.VBox):
    """One risk in the list: what it is, an "Edit" button that opens its form, and the
    oversight group's comments on it (a challenge on a risk holds up the Explore sign-off,
    and the sign-off banner links to it here)."""

    def __init__(self, view: RiskRegisterView, risk_id: str) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-risk"))
        self.view = view
        self.risk_id = risk_id
        self.summary = html_block("")
        self.edit_button = w.Button(description="", **plain_kw(w.Button, "ew-secondary"))
        self.edit_button.disabled = view.read_only
        self.edit_button.on_click(lambda _: self.toggle())
        self.form: RiskForm | None = None
        self.warning: FieldWarning | None = None
        """The personal-data warning on the risk's saved text, if any (below its form)."""
        self.threads = ThreadsWidget(view.ctx, f"risk.{risk_id}")
        self.children = [self.summary, self.edit_button, self.threads]

    def _arrange(self) -> None:
        parts = [self.summary, self.edit_button, self.form, self.warning, self.threads]
        children = tuple(c for c in parts if c is not None)
        if children != tuple(self.children):
            self.children = children

    def set_warning(self, warning: FieldWarning | None) -> None:
        """Show ``warning`` in this entry, just below the form (None: take it away)."""
        self.warning = warning
        self._arrange()

    def show(self, row: risks.RiskRow) -> None:
        view = self.view
        number = view.numbers[self.risk_id]
        html = risk_html(view.register, row, number, view.ctx.bank)
        if self.summary.value != html:
            self.summary.value = html
        if self.form is not None:
            self.form.renumber(number)
        self._label(number)

    def _label(self, number: str) -> None:
        text = f"Close the form for {number}" if self.is_open else f"Edit {number}"
        if self.edit_button.description != text:
            self.edit_button.description = text

    @property
    def is_open(self) -> bool:
        return self.form is not None and self.form.layout.display != "none"

    def toggle(self) -> None:
        """Open the form (filled in from the saved risk the first time) or fold it away;
        folding keeps what was typed."""
        number = self.view.numbers[self.risk_id]
        if self.form is None:
            self.form = RiskForm(self.view, self.risk_id)
            self._arrange()
            self.form.title.focus()
        elif self.is_open:
            self.form.layout.display = "none"
        else:
            self.form.layout.display = None
            self.form.title.focus()
        self._label(number)


class RiskRegisterView(w.VBox):
    """The project's risk register: coverage, heat map, the risks, and a form to add one."""

    def __init__(self, ctx: ReviewContext | EditSession) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-risks"))
        self.ctx = ctx = as_context(ctx)
        self.read_only = not ctx.actor.may(Action.edit)
        self.register = ctx.workbook.risks  # type: ignore[attr-defined]
        self.numbers = risk_numbers(self.register)
        self.action_options = _actions(ctx.workbook, ctx.bank)

        scale = self.register.scale
        note = ""
        if self.read_only:
            note = (
                '<p class="ew-hint ew-read-only" role="note">Only an author can change the risk '
                "register, so it is shown read-only.</p>"
            )
        self.heading = html_block(
            f'<h4 class="ew-h4 ew-risks-title" id="{REGISTER_ANCHOR}" tabindex="-1">'
            "Risk register</h4>"
            '<p class="ew-hint">The risks this tool could bring, seen through seven digital '
            "ethics categories, each rated before and after mitigation on the project's scale: "
            f"{esc(scale.name)}. Every category needs a risk, or a reason why it does not "
            f"apply.</p>{note}"
        )
        self.coverage = html_block("", "ew-coverage-box")
        self.coverage_message = html_block("")
        self.consider_forms: dict[str, tuple[w.Textarea, w.Button, w.HTML, w.VBox, w.HTML]] = {}
        """Per uncovered category: reason, button, message, their box, the category's text."""
        self.consider_box = w.VBox(**plain_kw(w.VBox, "ew-consider"))
        self.consider_warnings: dict[str, FieldWarning] = {}
        """Per category: the personal-data warning on its saved reason (its form stays open
        while there is one, so the reason can be edited)."""
        self.personal_data: FormWarnings | None = None
        self.heat_map = html_block("")
        self.list_box = w.VBox(**plain_kw(w.VBox, "ew-risk-list"))
        self.items: dict[str, _RiskItem] = {}
        self.empty_note = html_block('<p class="ew-hint">No risks recorded yet.</p>')

        self.add_button = w.Button(
            description="Add a risk", button_style="primary", **plain_kw(w.Button)
        )
        self.add_button.disabled = self.read_only
        self.add_button.on_click(lambda _: self.toggle_add())
        self.add_form: RiskForm | None = None
        self.add_box = w.VBox([self.add_button], **plain_kw(w.VBox, "ew-add-risk"))

        def h5(text: str, anchor: str) -> w.HTML:
            return html_block(f'<h5 class="ew-h5" id="{anchor}">{esc(text)}</h5>')

        self.children = [
            self.heading,
            h5("How each category is covered", "risk-coverage"),
            self.coverage,
            self.consider_box,
            self.coverage_message,
            h5("Heat map", "risk-heat-map"),
            self.heat_map,
            h5("Risks, highest remaining risk first", "risk-list"),
            self.list_box,
            h5("Add a risk", "risk-add"),
            self.add_box,
        ]
        ctx.subscribe(lambda _reloaded: self.refresh())
        self.refresh()
        # personal-data warnings in each risk's entry, and under a category's reason
        # (widgets/personal_data.py: the detector warms up in the background)
        self.personal_data = FormWarnings(
            store=ctx.store,
            project_id=ctx.project_id,
            actor=ctx.actor,
            workbook=lambda: self.ctx.workbook,
            root="risks",
            place=self._place_warning,
            on_saved=self.saved,
            focus=self._focus_after_warning,
            editable=not self.read_only,
        )

    # ---- showing

    def refresh(self) -> None:
        """Show the register as last saved: coverage, heat map, list (open forms stay)."""
        self.register = self.ctx.workbook.risks  # type: ignore[attr-defined]
        self.numbers = risk_numbers(self.register)
        self.action_options = _actions(self.ctx.workbook, self.ctx.bank)
        self.coverage.value = coverage_html(self.register)
        self.heat_map.value = heat_map_html(self.register, self.numbers)
        rows = risks.risk_rows(self.register)
        children = []
        for row in rows:
            item = self.items.get(row.id)
            if item is None:
                item = self.items[row.id] = _RiskItem(self, row.id)
            item.show(row)
            children.append(item)
        if tuple(children or [self.empty_note]) != tuple(self.list_box.children):
            self.list_box.children = children or [self.empty_note]
        for form in self._forms():
            form.update_actions()
        if self.personal_data is not None:
            self.personal_data.update()  # the risks whose text changed, and the warnings shown
        # after the warnings: a category's form stays while its saved reason has one
        self._show_consider_forms()

    def personal_data_saved(self, record: str) -> None:
        """A risk or reason was saved here: its warning shows now (even while the page's
        own are still being looked for)."""
        if self.personal_data is not None:
            self.personal_data.saved([record])

    def _place_warning(self, record: str, warning: FieldWarning | None) -> bool:
        """Put a personal-data warning in the risk's entry (below its form), or under the
        category's reason; None takes it away."""
        _risks, kind, key = record.split(".")
        if kind == "items":
            item = self.items.get(key)
            if item is None:
                return False
            item.set_warning(warning)
            return True
        if kind != "considered" or key not in self.register.considered:
            return False
        if warning is None:
            self.consider_warnings.pop(key, None)
        else:
            self.consider_warnings[key] = warning
        self._show_consider_forms()
        return True

    def _focus_after_warning(self, record: str) -> None:
        _risks, kind, key = record.split(".")
        item = self.items.get(key) if kind == "items" else None
        if item is not None and not item.edit_button.disabled:
            item.edit_button.focus()
        elif kind == "considered" and key in self.consider_forms and not self.read_only:
            self.consider_forms[key][0].focus()

    def _forms(self) -> list[RiskForm]:
        forms = [item.form for item in self.items.values() if item.form is not None]
        return forms + ([self.add_form] if self.add_form is not None else [])

    def _show_consider_forms(self) -> None:
        content = load_risk_content()
        gaps = [
            c
            for c in risks.coverage(self.register)
            if not c.covered or c.id in self.consider_warnings
        ]
        for c in gaps:
            if c.id in self.consider_forms:
                continue
            cat = content.category(c.id)
            prompts = "".join(f"<li>{esc(p)}</li>" for p in cat.prompts)
            intro = html_block(
                f'<p class="ew-group-label">{esc(cat.name)}</p>'
                f'<p class="ew-hint">{esc(cat.description)}</p>'
                f'<p class="ew-hint">Things to ask:</p><ul class="ew-links ew-hint">{prompts}</ul>'
                '<p class="ew-hint">If it brings a risk, add the risk below. If it does not '
                "apply, say why in a sentence.</p>"
            )
            considered = self.register.considered.get(c.id)
            area = textarea(
                f"Why {cat.name} does not apply to this tool",
                rows=2,
                value=considered.reason if considered else "",
                continuous_update=False,
            )
            button = w.Button(description="Record as not relevant", **plain_kw(w.Button))
            message = html_block("")
            button.on_click(lambda _, cid=c.id: self.consider(cid))
            box = w.VBox([intro, area, button, message], **plain_kw(w.VBox, "ew-consider-item"))
            if self.read_only:
                _disable(box)
            self.consider_forms[c.id] = (area, button, message, box, intro)
        open_ids = {c.id for c in gaps}
        for cid in [cid for cid in self.consider_forms if cid not in open_ids]:
            for widget in self.consider_forms.pop(cid):
                widget.close()
        for c in gaps:
            area, button, message, box, intro = self.consider_forms[c.id]
            warning = self.consider_warnings.get(c.id)
            parts = (intro, area, button, message, *([warning] if warning is not None else []))
            if tuple(box.children) != parts:
                box.children = parts
        boxes = [self.consider_forms[c.id][3] for c in gaps]
        if tuple(boxes) != tuple(self.consider_box.children):
            self.consider_box.children = boxes

    # ---- changing

    def saved(self, workbook: Any) -> None:
        """A change of ours was saved: show it here and everywhere on the page."""
        self.ctx.saved(workbook)  # refreshes the session and tells every view (and this one)

    def consider(self, category: str) -> bool:
        """Record ``category`` as considered and not relevant, with the reason typed."""
        area, _button, message, _box, _intro = self.consider_forms[category]
        name = load_risk_content().category(category).name
        after_ids = [
            c.id for c in risks.coverage(self.register) if not c.covered and c.id != category
        ]
        saved: list[Any] = []

        def act() -> str:
            saved.append(
                risks.consider(
                    self.ctx.store, self.ctx.project_id, category, area.value, user=self.ctx.actor
                )
            )
            return f"Saved: {name} recorded as considered and not relevant."

        if not _attempt(message, act):
            return False
        news = message.value
        self.saved(saved[0])
        self.personal_data_saved(f"risks.considered.{category}")
        if category in self.consider_forms:  # kept open: its reason looks like personal data
            self.coverage_message.value = ""
            return True
        # the category is covered now, so its form went: the news goes below the forms,
        # and focus to what is left to do
        self.coverage_message.value = news
        nxt = self.consider_forms.get(after_ids[0]) if after_ids else None
        (nxt[0] if nxt else self.add_button).focus()
        return True

    def toggle_add(self) -> None:
        if self.add_form is None:
            self.add_form = RiskForm(self)
            self.add_box.children = [self.add_button, self.add_form]
            self.add_form.title.focus()
        elif self.add_form.layout.display == "none":
            self.add_form.layout.display = None
            self.add_form.title.focus()
        else:
            self.add_form.layout.display = "none"
        opened = self.add_form.layout.display != "none"
        self.add_button.description = "Close the new risk form" if opened else "Add a risk"

    def item(self, number: str) -> _RiskItem:
        """The list item of risk ``R3`` (for tests)."""
        rid = next(rid for rid, n in self.numbers.items() if n == number)
        return self.items[rid]


# --------------------------------------------------------------------------- other questions


def linked_risks_html(workbook: Any, question_id: str, project_id: str) -> str:
    """The "Risks linked to this question" list: each risk's number, title and remaining band, and a
    link to the register. Empty when no risk links to ``question_id``."""
    register = workbook.risks
    numbers = risk_numbers(register)
    rows = [r for r in risks.risk_rows(register) if question_id in register.items[r.id].questions]
    if not rows:
        return ""
    items = "".join(
        f"<li><strong>{esc(numbers[r.id])}</strong> {esc(r.title)}: remaining risk "
        f"{esc(_remaining(r))}"
        + (f", {esc(STATUS_LABELS.get(r.status, r.status).lower())}" if r.status != "open" else "")
        + "</li>"
        for r in rows
    )
    href = page_link(PHASE_PAGES["explore"], project_id) + f"#{REGISTER_ANCHOR}"
    return (
        '<div class="ew-linked-risks"><h4 class="ew-h4">Risks linked to this question</h4>'
        f'<ul class="ew-links">{items}</ul>'
        f'<p><a href="{esc(href)}">See them in the risk register</a> (Explore phase, question 4)'
        "</p></div>"
    )


class LinkedRisks(w.HTML):
    """Under a question other than 4: the risks that link to it, kept current."""

    def __init__(self, ctx: ReviewContext | EditSession, question: Question) -> None:
        super().__init__(**plain_kw(w.HTML))
        self.ctx = ctx = as_context(ctx)
        self.question = question
        ctx.subscribe(lambda _reloaded: self.update())
        self.update()

    def update(self) -> None:
        html = linked_risks_html(self.ctx.workbook, self.question.id, self.ctx.project_id)
        if self.value != html:
            self.value = html


def linked_questions(workbook: Any) -> set[str]:
    """The questions some risk links to (question 4, the register's own, included)."""
    return {q for risk in workbook.risks.items.values() for q in risk.questions}
