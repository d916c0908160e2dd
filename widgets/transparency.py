"""The transparency page (07-transparency.ipynb): the project's draft public record.

The draft of the Algorithmic Transparency Recording Standard (ATRS) record that
:func:`workbook.atrs.build_draft` makes from the workbook, shown as the team needs it:

- the **completeness report**: required fields filled, and each problem in words, with a
  link to the field here and to the workbook question that would improve it;
- the **draft**, sheet by sheet in the template's order: each field's text (user markdown,
  made safe), where it comes from (the team's own wording, drafted from which questions,
  or empty) and the state of each source (revision, who changed it, the question's status,
  the phase's sign-off). Each field has an "Edit" button that opens a form for its public
  wording, or to withhold it with a reason; the form saves with a button, through
  :func:`workbook.transparency.set_public_field`, which keeps it in the project with its
  history. A stale form is a conflict naming who saved first, with Keep mine / Take theirs;
- the **Data Ethics Framework**: for each of its actions and principles, the questions
  that serve it (linked), their status, and the gaps.

A field whose saved wording or reason looks like a child's personal data shows the
warning of :mod:`widgets.personal_data` below it.

Someone whose role does not allow editing (a viewer, a reviewer) sees it all read-only.
No file I/O here: reads and writes go through the store, and the core checks roles again.
"""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw, textarea
from widgets._links import (
    PHASE_PAGES,
    REVIEW_PAGE,
    START_PAGE,
    TRANSPARENCY_PAGE,
    page_link,
)
from widgets.identity import change_name_link
from widgets.personal_data import FieldWarning, FormWarnings
from workbook.atrs import build_draft
from workbook.bank import Bank, load_bank
from workbook.errors import Conflict, ConflictError, WorkbookError
from workbook.export.atrs import KIND_HEADINGS, STATUS_WORDS, provenance_text
from workbook.export.dates import day, moment
from workbook.export.sanitise import render_markdown
from workbook.roles import Action, Actor
from workbook.transparency import framework_view, set_public_field

log = logging.getLogger("ethics-workbook")

PAGE_ANCHOR = "completeness"


def _alert(text: str) -> str:
    return f'<p class="ew-error" role="alert">{esc(text)}</p>'


def _done(text: str) -> str:
    return f'<p class="ew-done" role="status">{esc(text)}</p>'


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def field_anchor(field_id: str) -> str:
    return f"field-{field_id}"


def question_link(bank: Bank, project_id: str, question_id: str) -> str:
    """The address of a question on its phase page (``01-explore.ipynb?project=x#question-4``)."""
    q = bank.question(question_id)
    return page_link(PHASE_PAGES[q.phase], project_id) + f"#question-{q.number}"


# --------------------------------------------------------------------------- wording


def _source_words(p: dict[str, Any], bank: Bank) -> str:
    """A field's source in a few words: ``question 3``, ``the project details``..."""
    source = p["source"]
    if source == "risks":
        return "the risk register"
    if source == "actions":
        return "the action plan"
    if source.startswith("project."):
        return "the project details"
    if source.startswith("checklist."):
        return f"the {bank.phase(source.split('.')[1]).title} checklist"
    if source.startswith("signoff."):
        return f"the {bank.phase(source.split('.')[1]).title} sign-off"
    if p["question"]:
        return f"question {bank.question(p['question']).number}"
    return p["label"]


def origin_text(field: dict[str, Any], bank: Bank) -> str:
    """Where the field's text comes from, in a sentence."""
    if field["origin"] == "public":
        p = field["provenance"][0]
        who = f" by {p['changed_by']}" if p["changed_by"] else ""
        when = f" on {day(p['changed_at'])}" if p["changed_at"] else ""
        rev = f" (revision {p['revision']})" if p["revision"] is not None else ""
        return f"The team's wording for the public, saved{who}{when}{rev}."
    if field["origin"] == "drafted":
        used = list(dict.fromkeys(_source_words(p, bank) for p in field["provenance"] if p["used"]))
        return f"Drafted from {_and(used)}."
    if field["provenance"]:
        sources = list(dict.fromkeys(_source_words(p, bank) for p in field["provenance"]))
        return f"Empty: nothing for it yet in {_and(sources)}."
    return "Empty: no workbook answer covers it; the team writes it here."


def value_html(field: dict[str, Any]) -> str:
    """The field's text for the record: user markdown made safe; a withheld field's reason."""
    if field["withheld"]:
        return f'<p class="ew-atrs-withheld"><strong>Withheld:</strong> {esc(field["reason"])}</p>'
    if not field["value"].strip():
        required = "Required, and still empty." if field["required"] else "Empty (optional)."
        return f'<p class="ew-missing">{required}</p>'
    return f'<div class="ew-atrs-value">{render_markdown(field["value"])}</div>'


def flags_html(field: dict[str, Any]) -> str:
    """The field's state in a line (its required flag is in the heading, and an empty
    field says so in place of its text)."""
    parts = []
    if field["status"] in {"written", "drafted", "withheld"}:
        parts.append(f"<strong>{esc(STATUS_WORDS[field['status']])}</strong>")
    if field["rewrite_needed"]:
        parts.append("<strong>rewrite for a public reader</strong>")
    if not field["ref_checked"]:
        parts.append("reference to check against the official template")
    if not parts:
        return ""
    return f'<p class="ew-atrs-flags">{" · ".join(parts)}</p>'


def field_html(field: dict[str, Any], bank: Bank) -> str:
    """One field of the draft: heading, what it asks, its text, origin and sources."""
    fid = field["id"]
    required = "Required" if field["required"] else "Optional"
    sources = ""
    if field["provenance"]:
        n = len(field["provenance"])
        items = "".join(f"<li>{esc(provenance_text(p))}</li>" for p in field["provenance"])
        sources = (
            f'<details class="ew-help ew-atrs-sources"><summary>Where {esc(field["name"])} '
            f"comes from ({n} source{'s' if n != 1 else ''})</summary>"
            f'<ul class="ew-links">{items}</ul></details>'
        )
    return (
        f'<h3 class="ew-h3 ew-atrs-title" id="{field_anchor(fid)}" tabindex="-1">'
        f'<span class="ew-q-num">{esc(field["ref"])} · {required}</span> {esc(field["name"])}'
        f"</h3>"
        f'<p class="ew-hint">{esc(field["prompt"])}</p>'
        f"{flags_html(field)}"
        f"{value_html(field)}"
        f'<p class="ew-atrs-origin">{esc(origin_text(field, bank))}</p>'
        f"{sources}"
    )


def _here(improve: str) -> str:
    """Where to improve a field, as said on this page (which is the transparency page)."""
    return improve.replace("on the transparency page", "here, under the field")


def completeness_html(draft: dict[str, Any], bank: Bank, project_id: str) -> str:
    """The completeness report: how many required fields are filled, and each problem."""
    s = draft["summary"]
    n = s["problems"]
    lead = (
        f'<p class="ew-lead"><strong>Required fields filled: {s["required_filled"]} of '
        f"{s['required']}.</strong></p>"
        f"<p>Written for the public: {s['written']}. Drafted from the workbook: "
        f"{s['drafted']}, of which {s['to_rewrite']} to rewrite for a public reader. "
        f"Withheld: {s['withheld']}. {n} problem{'s' if n != 1 else ''} to look at.</p>"
    )
    parts = [
        f'<h2 class="ew-h2" id="{PAGE_ANCHOR}" tabindex="-1">What the draft still needs</h2>',
        lead,
    ]
    if not n:
        parts.append('<p class="ew-done">No problems found.</p>')
    for kind, heading in KIND_HEADINGS.items():
        problems = [p for p in draft["problems"] if p["kind"] == kind]
        if not problems:
            continue
        items = []
        for p in problems:
            to_question = ""
            if p["question"]:
                number = bank.question(p["question"]).number
                href = question_link(bank, project_id, p["question"])
                to_question = f' <a href="{esc(href)}">Go to question {number}</a>.'
            items.append(
                f'<li><a href="#{field_anchor(p["field"])}">{esc(p["ref"])} {esc(p["name"])}</a>'
                f": {esc(p['message'])} To improve it: {esc(_here(p['improve']))}.{to_question}"
                "</li>"
            )
        parts.append(
            f'<h3 class="ew-h3">{esc(heading)} ({len(problems)})</h3>'
            f'<ul class="ew-links ew-atrs-problems">{"".join(items)}</ul>'
        )
    return "".join(parts)


def framework_html(view: dict[str, Any], bank: Bank, project_id: str) -> str:
    """The Data Ethics Framework against the workbook: per action and principle, the
    questions that serve it, their status, and the gaps."""
    parts = [
        '<h2 class="ew-h2" id="framework" tabindex="-1">The Data Ethics Framework</h2>'
        "<p>How the workbook's questions serve the specific actions and overarching "
        f"principles of the {esc(view['name'])}, published by {esc(view['publisher'])}. A gap "
        "is a question that serves it and is not complete yet.</p>"
    ]

    def block(item: dict[str, Any], title: str) -> str:
        questions = []
        for q in item["questions"]:
            href = question_link(bank, project_id, q["id"])
            status = f"<strong>{esc(q['status'])}</strong>"
            if q["held_back"]:
                status += f" (not complete: {esc(q['held_back'])})"
            prompts = (
                f'<br><span class="ew-hint">In particular: {esc("; ".join(q["prompts"]))}</span>'
                if q["prompts"]
                else ""
            )
            questions.append(
                f'<li><a href="{esc(href)}">Question {q["number"]}</a>: {status}<br>'
                f"{esc(q['text'])}{prompts}</li>"
            )
        if item["gaps"]:
            gaps = _and([str(n) for n in item["gaps"]])
            word = "question" if len(item["gaps"]) == 1 else "questions"
            gap = f'<p class="ew-open">Gaps: {word} {gaps}, not complete yet.</p>'
        elif item["questions"]:
            gap = '<p class="ew-done">No gaps: every question that serves it is complete.</p>'
        else:
            gap = '<p class="ew-missing">No question of the workbook serves it.</p>'
        return (
            f'<h3 class="ew-h3" id="framework-{esc(item["id"])}">{esc(title)}</h3>'
            f'<p class="ew-hint">{esc(item["description"])}</p>{gap}'
            f'<ul class="ew-links ew-atrs-serving">{"".join(questions)}</ul>'
        )

    for a in view["actions"]:
        parts.append(block(a, f"Action {a['number']}: {a['name']}"))
    for p in view["principles"]:
        parts.append(block(p, f"Principle: {p['name']}"))
    return "".join(parts)


# --------------------------------------------------------------------------- a field's form


def _record(field_record: Any) -> dict[str, Any] | None:
    return field_record.model_dump(mode="json") if field_record is not None else None


class FieldForm(w.VBox):
    """The form for one field's public wording, or to withhold it with a reason. Saved with
    its button; what the core refuses is said in words, and what was typed stays."""

    def __init__(self, page: TransparencyPage, field_id: str) -> None:
        super().__init__(layout=w.Layout(), _dom_classes=("ew-atrs-form",))
        self.page = page
        self.field_id = field_id
        field = page.field(field_id)
        self.name = name = field["name"]
        mine = page.workbook.transparency.fields.get(field_id)  # type: ignore[attr-defined]
        self.shown: dict[str, Any] | None = _record(mine)
        """The saved record this form was filled from: a save refuses (a conflict) if
        someone has changed it since."""
        self.base = page.workbook.revision
        """The project's revision then, so a conflict can name who saved in between."""
        self.intro = html_block(
            '<p class="ew-hint">Write it for a member of the public: plain words, no names of '
            "staff or internal systems. It is saved in the project with its history, and every "
            "later draft uses it instead of the workbook's wording, even when the answers "
            "change. Empty the box and save to go back to the draft made from the workbook.</p>"
        )
        self.text = textarea(
            f"Public wording for {name}",
            rows=6,
            value=self._start_text(field, mine),
            continuous_update=False,
            classes=("ew-autofocus",),  # focused when first drawn (widgets/static/page_status.js)
        )
        self.withheld = w.Checkbox(
            description=f"Withhold {name}",
            value=bool(mine and mine.withheld),
            indent=False,
            **plain_kw(w.Checkbox),
        )
        self.reason = w.Text(
            description=f"Reason {name} is withheld",
            placeholder="The exemption, in a short phrase",
            value=mine.reason if mine else "",
            continuous_update=False,
            **stacked_kw(w.Text),
        )
        self.message = html_block("")
        self.save_button = w.Button(
            description=f"Save public wording for {name}",
            button_style="primary",
            **plain_kw(w.Button, "ew-wide-button"),
        )
        self.save_button.on_click(lambda _: self.save())
        self.conflict = w.VBox(**plain_kw(w.VBox))
        self.children = [
            self.intro,
            self.text,
            self.withheld,
            self.reason,
            self.message,
            self.save_button,
            self.conflict,
        ]

    @staticmethod
    def _start_text(field: dict[str, Any], mine: Any) -> str:
        """The team's wording when there is one; else the draft, to rewrite."""
        if mine is not None and (mine.text.strip() or mine.withheld):
            return str(mine.text)
        return field["value"] if field["origin"] == "drafted" else ""

    def fill(self, record: dict[str, Any] | None) -> None:
        """Show a saved record (theirs, after a conflict) in the form."""
        field = self.page.field(self.field_id)
        self.text.value = record["text"] if record and record["text"].strip() else (
            field["value"] if field["origin"] == "drafted" else ""
        )  # fmt: skip
        self.withheld.value = bool(record and record["withheld"])
        self.reason.value = record["reason"] if record else ""

    def save(self) -> bool:
        page = self.page
        name = self.name
        withheld = bool(self.withheld.value)
        text = self.text.value
        if self.shown is None and not text.strip() and not withheld:
            self.message.value = _alert(
                f"Nothing to save: write the public wording for {name}, or withhold it with a "
                "reason."
            )
            return False
        try:
            saved = set_public_field(
                page.store,
                page.project_id,
                self.field_id,
                user=page.actor,
                text=text,
                withheld=withheld,
                reason=self.reason.value if withheld else "",
                shown=self.shown,
                base_revision=self.base,
            )
        except ConflictError as exc:
            self._offer_choice(exc.conflicts[0])
            self.message.value = _alert(
                f"Not saved: someone else changed the public wording for {name} since you "
                "opened it. Choose below which to keep."
            )
            return False
        except WorkbookError as exc:
            what = f"Reason {name} is withheld: " if (exc.field or "").endswith(".reason") else ""
            self.message.value = _alert(f"Not saved: {what}{exc.message.rstrip('.')}.")
            return False
        except Exception:  # the UI boundary: log it, tell the user plainly
            log.exception("saving the public wording failed")
            self.message.value = _alert(
                "Not saved: something went wrong. What you typed is still here; reload the "
                "page in another tab to see what was saved, then try again."
            )
            return False
        record = _record(saved.transparency.fields.get(self.field_id))
        unchanged = record == self.shown
        self.shown = record
        self.base = saved.revision
        self.conflict.children = ()
        page.saved(saved)
        page.personal_data_saved(self.field_id)  # a warning below the form, if it looks like it
        if unchanged:
            self.message.value = _done(f"No change to save: {name} is as saved.")
        elif withheld:
            self.message.value = _done(
                f"Saved: {name} is withheld ({self.reason.value.strip()}), revision "
                f"{saved.revision}."
            )
        elif not text.strip():
            self.message.value = _done(
                f"Saved: {name} goes back to the draft made from the workbook, revision "
                f"{saved.revision}."
            )
        else:
            self.message.value = _done(
                f"Saved the public wording for {name}, revision {saved.revision}. Every "
                "later draft uses it."
            )
        return True

    def _offer_choice(self, conflict: Conflict) -> None:
        page = self.page
        theirs = conflict.theirs or None
        who = conflict.their_user or (theirs or {}).get("updated_by") or "someone else"
        if who == page.actor.name:
            who = "You (in another window or on another device)"
        when = conflict.their_time or (theirs or {}).get("updated_at")
        first = f"{who} saved this first" + (f" ({moment(when)})" if when else "")
        if theirs is None:
            text = "no wording (the draft made from the workbook)"
        elif theirs.get("withheld"):
            text = f"withheld: {theirs.get('reason', '')}"
        elif theirs.get("text", "").strip():
            text = theirs["text"]
        else:
            text = "no wording (the draft made from the workbook)"
        keep = w.Button(
            description=f"Keep mine for {self.name}", button_style="primary", **plain_kw(w.Button)
        )
        take = w.Button(description=f"Take theirs for {self.name}", **plain_kw(w.Button))
        box_text = html_block(
            f'<div class="ew-conflicts"><p><strong>{esc(first)}:</strong> '
            f'<span class="ew-thread-text">{esc(text)}</span></p><p>Keep mine saves yours over '
            "it; Take theirs shows theirs and drops yours.</p></div>"
        )

        def keep_mine(_: Any) -> None:
            self.shown = conflict.theirs
            self.base = page.store.open(page.project_id).revision
            self.save()

        def take_theirs(_: Any) -> None:
            saved = page.store.open(page.project_id)
            self.shown = _record(saved.transparency.fields.get(self.field_id))
            self.base = saved.revision
            page.saved(saved)
            self.fill(self.shown)
            self.conflict.children = ()
            self.message.value = _done(f"Showing what was saved for {self.name}.")
            self.text.focus()

        keep.on_click(keep_mine)
        take.on_click(take_theirs)
        self.conflict.children = (
            box_text,
            w.HBox([keep, take], **plain_kw(w.HBox, "ew-buttons")),
        )


class FieldItem(w.VBox):
    """One field of the draft; for an author, an "Edit" button that opens its form."""

    def __init__(self, page: TransparencyPage, field: dict[str, Any]) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-atrs-field"))
        self.page = page
        self.field_id = field["id"]
        self.name = field["name"]
        self.summary = html_block("")
        self.form: FieldForm | None = None
        self.edit_button: w.Button | None = None
        self.warning: FieldWarning | None = None
        """The personal-data warning on the field's saved wording or reason, if any."""
        if page.can_edit:
            self.edit_button = w.Button(
                description=f"Edit public wording for {self.name}",
                **plain_kw(w.Button, "ew-secondary"),
            )
            self.edit_button.on_click(lambda _: self.toggle())
        self._arrange()
        self.show(field)

    def _arrange(self) -> None:
        parts = [self.summary, self.edit_button, self.form, self.warning]
        children = tuple(c for c in parts if c is not None)
        if children != tuple(self.children):
            self.children = children

    def set_warning(self, warning: FieldWarning | None) -> None:
        """Show ``warning`` below the field's value and form (None: take it away)."""
        self.warning = warning
        self._arrange()

    def show(self, field: dict[str, Any]) -> None:
        html = field_html(field, self.page.bank)
        if self.summary.value != html:
            self.summary.value = html

    @property
    def is_open(self) -> bool:
        return self.form is not None and self.form.layout.display != "none"

    def toggle(self) -> None:
        """Open the form (filled from what is saved, the first time) or fold it away;
        folding keeps what was typed."""
        if self.edit_button is None:
            return
        if self.form is None:
            self.form = FieldForm(self.page, self.field_id)
            self._arrange()
        elif self.is_open:
            self.form.layout.display = "none"
        else:
            self.form.layout.display = None
        opened = self.is_open
        self.edit_button.description = (
            f"Close the form for {self.name}" if opened else f"Edit public wording for {self.name}"
        )
        if opened and self.form is not None:
            self.form.text.focus()


# --------------------------------------------------------------------------- the page


class TransparencyPage(w.VBox):
    """The project's draft transparency record, its completeness, and the framework view."""

    def __init__(self, store: Any, project_id: str, actor: Actor) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-phase", "ew-transparency"))
        self.store = store
        self.project_id = project_id
        self.actor = actor
        self.can_edit = actor.may(Action.edit)
        self.workbook = store.open(project_id)
        self.bank = load_bank(self.workbook.edition)  # type: ignore[attr-defined]
        self.draft = build_draft(store, project_id)
        bank, info, draft = self.bank, self.workbook.project, self.draft

        phases = " ".join(
            f'<a href="{esc(page_link(page, info.id))}">{esc(bank.phase(pid).title)}</a>'
            for pid, page in PHASE_PAGES.items()
        )
        contents = "".join(
            f'<li><a href="#sheet-{esc(s["id"])}">{esc(s["name"])}</a></li>'
            for s in draft["sheets"]
        )
        header = html_block(
            f'<a class="ew-skip" href="#{PAGE_ANCHOR}">Skip to what the draft still needs</a>'
            f'<p class="ew-kicker">{esc(bank.title)} · {esc(info.local_authority)}</p>'
            f'<p class="ew-project"><strong>{esc(info.tool_name)}</strong></p>'
            '<nav class="ew-nav" aria-label="Workbook pages">'
            f'<a href="{esc(page_link(START_PAGE, info.id))}">Start</a> {phases} '
            f'<a href="{esc(page_link(REVIEW_PAGE, info.id))}">Review</a> '
            f'<a href="{esc(page_link(TRANSPARENCY_PAGE, info.id))}" aria-current="page">'
            "Transparency</a></nav>"
            + self._who_note()
            + f"<p>Each field of the record ({esc(draft['standard'])}, version "
            f"{esc(draft['version'])}) is drafted from the answers that feed it. Where a field "
            "holds the workbook's wording, written for colleagues and the oversight group, "
            "rewrite it for a member of the public; a "
            "field that cannot be published can be withheld, with the reason. The whole draft "
            f"can be written as Word, Markdown, CSV and JSON with <code>workbook atrs "
            f"{esc(info.id)}</code>.</p>"
            '<nav aria-label="On this page"><ul class="ew-links">'
            f'<li><a href="#{PAGE_ANCHOR}">What the draft still needs</a></li>'
            f'<li>The draft, sheet by sheet:<ul class="ew-links">{contents}</ul></li>'
            '<li><a href="#framework">The Data Ethics Framework</a></li></ul></nav>'
        )
        self.report = html_block("", "ew-atrs-report")
        self.items: dict[str, FieldItem] = {}
        sheets: list[w.Widget] = []
        for sheet in draft["sheets"]:
            n = len(sheet["fields"])
            sheets.append(
                html_block(
                    f'<h2 class="ew-h2 ew-phase-title" id="sheet-{esc(sheet["id"])}" '
                    f'tabindex="-1">{esc(sheet["name"])}</h2>'
                    f'<p class="ew-hint">Tier {sheet["tier"]} of the template · {n} field'
                    f"{'s' if n != 1 else ''}</p>"
                )
            )
            for f in sheet["fields"]:
                item = self.items[f["id"]] = FieldItem(self, f)
                sheets.append(item)
        self.framework = html_block("", "ew-atrs-framework")
        footer = html_block(
            f'<p class="ew-footer">{esc(bank.attribution)} The field list follows the '
            f"{esc(draft['standard'])}, version {esc(draft['version'])}; its one-line prompts "
            "were written for this workbook.</p>"
        )
        self.children = [header, self.report, *sheets, self.framework, footer]
        self.refresh()
        # personal-data warnings below each field whose saved wording or reason looks like
        # it (widgets/personal_data.py: the detector warms up in the background)
        self.personal_data = FormWarnings(
            store=store,
            project_id=project_id,
            actor=actor,
            workbook=lambda: self.workbook,
            root="transparency",
            place=self._place_warning,
            on_saved=self.saved,
            focus=self._focus_after_warning,
            editable=self.can_edit,
        )

    def _who_note(self) -> str:
        actor = self.actor
        name = f"<strong>{esc(actor.name)}</strong>"
        roles = f" ({esc(actor.roles_text)})" if actor.enforced else ""
        if not self.can_edit:
            return (
                f'<p class="ew-hint ew-read-only" role="note">Reading as {name}{roles}: only an '
                "author can change the public wording, so the draft is shown read-only.</p>"
            )
        again = "" if actor.enforced else change_name_link(actor.name)
        return (
            f'<p class="ew-hint">Editing as {name}{roles}. Each field\'s public wording is '
            f"saved when you press its save button.{again}</p>"
        )

    # ---- reading

    def field(self, field_id: str) -> dict[str, Any]:
        """The field of the draft shown now."""
        return next(f for s in self.draft["sheets"] for f in s["fields"] if f["id"] == field_id)

    def item(self, field_id: str) -> FieldItem:
        return self.items[field_id]

    def refresh(self) -> None:
        """Show the draft as last built: report, fields (open forms keep what is typed),
        framework."""
        report = completeness_html(self.draft, self.bank, self.project_id)
        if self.report.value != report:
            self.report.value = report
        for sheet in self.draft["sheets"]:
            for f in sheet["fields"]:
                self.items[f["id"]].show(f)
        view = framework_html(framework_view(self.workbook, self.bank), self.bank, self.project_id)
        if self.framework.value != view:
            self.framework.value = view

    def saved(self, workbook: Any) -> None:
        """A save landed (or the saved project was read again): draft afresh and show it."""
        self.workbook = workbook
        self.draft = build_draft(self.store, self.project_id)
        self.refresh()
        self.personal_data.update()  # the fields whose text changed, and the warnings shown

    def personal_data_saved(self, field_id: str) -> None:
        """A field's wording was saved here: its warning shows now (even while the page's
        own are still being looked for)."""
        self.personal_data.saved([f"transparency.fields.{field_id}"])

    def _place_warning(self, record: str, warning: FieldWarning | None) -> bool:
        item = self.items.get(record.split(".")[2])
        if item is None:
            return False
        item.set_warning(warning)
        return True

    def _focus_after_warning(self, record: str) -> None:
        item = self.items.get(record.split(".")[2])
        if item is not None and item.edit_button is not None:
            item.edit_button.focus()
