"""QuestionWidget: one workbook question, its prompts and everything recorded against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from widgets._bind import Binder, esc, html_block, plain_kw, stacked_kw, textarea
from widgets.evidence import EvidenceView, evidence_section
from widgets.review import ReviewContext, ThreadsWidget
from workbook.bank import NotePart, Question
from workbook.model import INFORMED_BY_GROUPS, QUESTION_STATUS_LABELS, QuestionStatus


@dataclass(frozen=True)
class Column:
    """One field of a row in a list editor."""

    key: str
    label: str
    kind: str = "text"  # "text" | "date" | "choice"
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    width: str = "auto"


class RowsEditor(w.VBox):
    """Edits a list of small records (evidence, actions) stored as one field."""

    def __init__(
        self,
        binder: Binder,
        path: str,
        columns: tuple[Column, ...],
        *,
        noun: str,
        blank: str,
        prefix: str = "",
    ) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-rows"))
        self.binder = binder
        self.path = path
        self.columns = columns
        self.noun = noun
        self.prefix = prefix
        self._notes: list[w.HTML] = []  # per row: what it lacks before it can be saved
        self._rows: list[dict[str, w.ValueWidget]] = []
        self._chrome: list[w.Widget] = []  # row boxes and remove buttons of the last render
        self._loading = False
        self.empty_note = html_block(f'<p class="ew-hint">{esc(blank)}</p>')
        self.add_button = w.Button(
            description=f"Add {noun}", tooltip=f"Add {noun}", **plain_kw(w.Button, "ew-secondary")
        )
        self.add_button.on_click(lambda _: self._add_and_focus())
        for record in binder.session.value(path):
            self._rows.append(self._new_row(record, len(self._rows) + 1))
        self._render()
        binder.watch(path, self._load)
        binder.anchor(path, self)

    @property
    def rows(self) -> list[dict[str, w.ValueWidget]]:
        return self._rows

    def _label(self, column: Column, number: int) -> str:
        """ "Question 3, action 1: owner": unique on the page, and names its question."""
        row = f"{self.noun} {number}"
        head = f"{self.prefix}, {row}" if self.prefix else row[:1].upper() + row[1:]
        return f"{head}: {column.label[:1].lower()}{column.label[1:]}"

    def _missing(self, index: int) -> list[Column]:
        """The required columns row ``index`` lacks, if anything in it is filled in.

        A row that is still wholly blank is not counted: there is nothing in it to lose.
        """
        row = self._rows[index]
        filled = [c for c in self.columns if c.kind != "choice" and _filled(row[c.key].value)]
        if not filled:
            return []
        return [c for c in self.columns if c.required and not _filled(row[c.key].value)]

    def incomplete(self) -> list[list[str]]:
        """The field labels of each row that cannot be saved yet."""
        return [
            [self._label(c, i + 1) for c in self.columns]
            for i in range(len(self._rows))
            if self._missing(i)
        ]

    def _update_notes(self) -> None:
        for i, note in enumerate(self._notes):
            missing = self._missing(i)
            text = (
                '<p class="ew-error ew-row-missing">Not saved: fill in '
                + " and ".join(f"“{esc(c.label)}”" for c in missing)
                + f" to save {esc(self.noun)} {i + 1}.</p>"
                if missing
                else ""
            )
            if note.value != text:
                note.value = text

    def _control(self, column: Column, number: int, value: Any) -> w.ValueWidget:
        label = self._label(column, number)
        if column.kind == "date":
            kw = stacked_kw(w.DatePicker, column.width)
            value = dt.date.fromisoformat(value) if value else None
            control: w.ValueWidget = w.DatePicker(description=label, value=value, **kw)
        elif column.kind == "choice":
            kw = stacked_kw(w.Dropdown, column.width)
            value = value or column.choices[0][1]
            control = w.Dropdown(description=label, options=list(column.choices), value=value, **kw)
        else:
            control = w.Text(
                description=label, value=value or "", **stacked_kw(w.Text, column.width)
            )
        control.observe(lambda _: self._changed(), names="value")
        return control

    def _new_row(self, record: dict[str, Any] | None, number: int) -> dict[str, w.ValueWidget]:
        record = record or {}
        return {c.key: self._control(c, number, record.get(c.key)) for c in self.columns}

    def add_row(self, record: dict[str, Any] | None = None) -> dict[str, w.ValueWidget]:
        row = self._new_row(record, len(self._rows) + 1)
        self._rows.append(row)
        self._render()
        return row

    def _add_and_focus(self) -> None:
        """The add button: add a row and move focus to its first field, so keyboard and
        screen reader users are not left on a button that the re-render removed."""
        row = self.add_row()
        next(iter(row.values())).focus()

    def _remove_and_focus(self, index: int) -> None:
        """A remove button: remove its row and put focus on the add button (the remove
        button itself is gone)."""
        self.remove_row(index)
        self.add_button.focus()

    def remove_row(self, index: int) -> None:
        for control in self._rows.pop(index).values():
            control.close()
        self._render()
        self._changed()

    def _render(self) -> None:
        old_chrome, self._chrome = self._chrome, []
        self._notes = []
        boxes = []
        for i, row in enumerate(self._rows):
            for c in self.columns:  # renumber: rows after a removed one move up
                row[c.key].description = self._label(c, i + 1)
            remove = w.Button(
                description=f"Remove {self.noun} {i + 1}",
                tooltip=f"Remove {self.noun} {i + 1}",
                **plain_kw(w.Button, "ew-link-button"),
            )
            remove.on_click(lambda _, i=i: self._remove_and_focus(i))
            note = html_block("", "ew-row-note")
            box = w.HBox([*row.values(), remove], **plain_kw(w.HBox, "ew-row"))
            self._chrome += [remove, note, box]
            self._notes.append(note)
            boxes += [box, note]
        self.children = (*(boxes or [self.empty_note]), self.add_button)
        for widget in old_chrome:  # no orphans left in the kernel or the browser
            widget.close()
        self._update_notes()

    def records(self) -> list[dict[str, Any]]:
        """The rows as saved: rows missing a required field are left out until filled in."""
        out = []
        for row in self._rows:
            record: dict[str, Any] = {}
            for c in self.columns:
                value = row[c.key].value
                if c.kind == "date":
                    value = value.isoformat() if value else None
                elif c.kind == "text":
                    value = value.strip()
                record[c.key] = value
            if all(record[c.key] for c in self.columns if c.required):
                out.append(record)
        return out

    def _changed(self) -> None:
        if not self._loading:
            self._update_notes()
            self.binder.session.set_incomplete(self.path, self.incomplete())
            self.binder.edited(self.path, self.records())

    def _load(self, records: list[dict[str, Any]]) -> None:
        """Show rows saved by someone else (the list changed on disk)."""
        if records == self.records():
            return
        keep = [row for i, row in enumerate(self._rows) if self._missing(i)]
        for row in self._rows:
            if not any(row is k for k in keep):
                for control in row.values():
                    control.close()
        # rows still being filled in are not anyone else's to drop: they stay, after the saved ones
        self._rows = [self._new_row(r, n) for n, r in enumerate(records, start=1)] + keep
        self._render()


EVIDENCE_COLUMNS = (
    Column("reference", "Link or document", required=True, width="22em"),
    Column("description", "What it shows", width="22em"),
)

ACTION_COLUMNS = (
    Column("action", "Action", required=True, width="22em"),
    Column("owner", "Owner", width="12em"),
    Column("due", "Due date", kind="date", width="11em"),
    Column(
        "status", "Status", kind="choice", choices=(("Open", "open"), ("Done", "done")), width="8em"
    ),
)


class QuestionWidget(w.VBox):
    """A question: its text, prompts with a note each, the answer and its supporting record."""

    def __init__(
        self, question: Question, binder: Binder, review: ReviewContext | None = None
    ) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-question"))
        self.question = question
        self.binder = binder
        base = f"answers.{question.id}"
        q = question

        self.title = html_block(
            f'<h3 class="ew-q-title" id="question-{q.number}">'
            f'<span class="ew-q-num">Question {q.number}</span> {esc(q.text)}</h3>'
        )
        self.prompt_notes: dict[str, w.Textarea] = {}
        prompt_children: list[w.Widget] = []
        for part in q.parts:
            if isinstance(part, NotePart):
                prompt_children.append(self._prompt(part.note.id, part.note.text, "ew-note"))
                continue
            if part.lead:
                prompt_children.append(html_block(f'<p class="ew-lead">{esc(part.lead)}</p>'))
            for prompt in part.prompts:
                prompt_children.append(self._prompt(prompt.id, prompt.text))
                for child in prompt.children:
                    prompt_children.append(self._prompt(child.id, child.text, "ew-nested"))
        if prompt_children:
            intro = "Things to consider. Add a note against each one."
            prompt_children.insert(0, html_block(f'<p class="ew-hint">{intro}</p>'))
        prompts = w.VBox(prompt_children, **plain_kw(w.VBox, "ew-prompts"))

        self.response = binder.bind(
            textarea(
                f"Your answer to question {q.number}",
                rows=8,
                placeholder="Write your answer here. Markdown formatting is supported.",
                value=binder.initial(f"{base}.response"),
                classes=("ew-response",),
            ),
            f"{base}.response",
        )
        self.status = binder.bind(
            w.Dropdown(
                description=f"Status of question {q.number}",
                options=[(label, s.value) for s, label in QUESTION_STATUS_LABELS.items()],
                value=binder.initial(f"{base}.status"),
                **stacked_kw(w.Dropdown, "20em"),
            ),
            f"{base}.status",
        )
        self.response.observe(self._started, names="value")

        self.informed_by: dict[str, w.Checkbox] = {}
        for key, label in INFORMED_BY_GROUPS.items():
            path = f"{base}.informed_by.{key}"
            self.informed_by[key] = binder.bind(
                w.Checkbox(
                    description=f"Question {q.number}: {label[:1].lower()}{label[1:]}",
                    indent=False,
                    value=binder.initial(path),
                    **plain_kw(w.Checkbox),
                ),
                path,
            )
        self.informed_note = binder.bind(
            textarea(
                f"Question {q.number}: how their views informed this answer",
                rows=2,
                value=binder.initial(f"{base}.informed_by.note"),
            ),
            f"{base}.informed_by.note",
        )
        informed = w.VBox(
            [
                html_block(
                    f'<h4 class="ew-h4" id="views-{q.id}">Whose views informed the answer to '
                    f"question {q.number}?</h4>"
                ),
                # a group labelled by the heading above (role and aria-labelledby are set by
                # the page script, static/page_status.js: ipywidgets boxes take no ARIA)
                w.HBox(
                    list(self.informed_by.values()),
                    **plain_kw(w.HBox, "ew-wrap", "ew-labelled-group"),
                ),
                self.informed_note,
            ],
            **plain_kw(w.VBox, "ew-group"),
        )

        self.evidence = RowsEditor(
            binder,
            f"{base}.evidence",
            EVIDENCE_COLUMNS,
            noun="evidence item",
            blank="No evidence recorded yet.",
            prefix=f"Question {q.number}",
        )
        self.actions = RowsEditor(
            binder,
            f"{base}.further_work",
            ACTION_COLUMNS,
            noun="action",
            blank="No further-work actions yet.",
            prefix=f"Question {q.number}",
        )
        self.progress = html_block(self._progress_html(), "ew-q-progress")
        self.help = html_block(_help_html(q))
        # Evidence notebooks (analysis re-run at export): their last runs, read-only; in
        # JupyterLab, for an author, a form to attach one. None when there is nothing.
        self.analyses: EvidenceView | None = (
            evidence_section(review, q) if review is not None else None
        )

        self.children = [
            self.title,
            prompts,
            self.response,
            self.status,
            self.progress,
            informed,
            _section(f"Evidence for question {q.number}", self.evidence),
            *([self.analyses] if self.analyses is not None else []),
            _section(f"Further work for question {q.number}", self.actions),
            self.help,
        ]
        self.threads = ThreadsWidget(review, q.id) if review is not None else None
        if self.threads is not None:
            self.children = (*self.children, self.threads)
        binder.on_change(self._maybe_update_progress)

    def _prompt(self, prompt_id: str, text: str, *classes: str) -> w.Textarea:
        path = f"answers.{self.question.id}.prompts.{prompt_id}"
        area = textarea(text, rows=2, value=self.binder.initial(path), classes=classes)
        self.prompt_notes[prompt_id] = area
        return self.binder.bind(area, path)

    def _started(self, change: dict[str, Any]) -> None:
        """The first words of an answer move the status from "Not started" to "In progress"."""
        if change["new"].strip() and self.status.value == QuestionStatus.not_started.value:
            self.status.value = QuestionStatus.in_progress.value

    def _maybe_update_progress(self, path: str) -> None:
        if path.startswith(f"answers.{self.question.id}."):
            self.update_progress()

    def _progress_html(self) -> str:
        noted = sum(bool(a.value.strip()) for a in self.prompt_notes.values())
        total = len(self.prompt_notes)
        answered = "Answered" if self.response.value.strip() else "Not answered yet"
        status = QUESTION_STATUS_LABELS[QuestionStatus(self.status.value)]
        parts = [answered, f"status: {status}"]
        if total:
            parts.append(f"notes on {noted} of {total} prompts")
        return f'<p class="ew-hint">{esc(" · ".join(parts))}</p>'

    def update_progress(self) -> None:
        self.progress.value = self._progress_html()


def _filled(value: Any) -> bool:
    return bool(value.strip()) if isinstance(value, str) else value is not None


def _section(title: str, body: w.Widget) -> w.VBox:
    heading = html_block(f'<h4 class="ew-h4">{esc(title)}</h4>')
    return w.VBox([heading, body], **plain_kw(w.VBox, "ew-group"))


def _help_html(q: Question) -> str:
    if not q.help.pointers:
        return ""
    items = "".join(
        f"<li><strong>{esc(p.resource)}</strong>{(' ' + esc(p.purpose)) if p.purpose else ''}</li>"
        for p in q.help.pointers
    )
    lead = esc(q.help.lead or "If you need help, refer to")
    return (
        f'<details class="ew-help"><summary>If you need help with question {q.number}</summary>'
        f"<p>{lead}</p><ul>{items}</ul>"
        '<p class="ew-hint">These are chapters of the DfE\'s guidance for developing data '
        "analytics tools and its explainers.</p></details>"
    )
