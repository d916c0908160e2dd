"""ChecklistWidget: a phase's "you should have done the following" items."""

from __future__ import annotations

import ipywidgets as w

from widgets._bind import Binder, esc, html_block, plain_kw, stacked_kw, textarea
from widgets.maturity import checklist_link_html
from widgets.review import ReviewContext, ThreadsWidget
from workbook.bank import Phase
from workbook.maturity import MATURITY_CHECKLIST_ITEM
from workbook.model import CHECKLIST_STATUS_LABELS

NOT_ASSESSED = "Not assessed yet"
UNSET = ""
"""The option value shown for "not assessed yet" (saved as null). Not None: ipywidgets takes
a None value as "nothing selected", and whether a new Dropdown whose first option is None
starts on that option or on no option at all depends on the hash seed of the kernel."""


class ChecklistWidget(w.VBox):
    """Each checklist item with a status and a note."""

    def __init__(self, phase: Phase, binder: Binder, review: ReviewContext | None = None) -> None:
        self.phase = phase
        self.threads: dict[str, ThreadsWidget] = {}
        self.status: dict[str, w.Dropdown] = {}
        self.note: dict[str, w.Textarea] = {}
        options = [(NOT_ASSESSED, UNSET)] + [
            (lbl, s.value) for s, lbl in CHECKLIST_STATUS_LABELS.items()
        ]
        rows: list[w.Widget] = [
            html_block(
                f'<h2 class="ew-h2" id="checklist">'
                f"Before you start: {esc(phase.title)} checklist</h2>"
            ),
            html_block(f'<p class="ew-lead">{esc(phase.checklist_lead)}</p>'),
        ]
        to_json, from_json = (lambda v: v or None), (lambda v: v or UNSET)
        for number, item in enumerate(phase.checklist, start=1):
            path = f"phases.{phase.id}.checklist.{item.id}"
            kw = stacked_kw(w.Dropdown)
            kw["_dom_classes"] = (*kw["_dom_classes"], "ew-check-status")
            status = binder.bind(
                w.Dropdown(
                    description=f"{number}. {item.text}",
                    options=options,
                    value=binder.initial(f"{path}.status", from_json),
                    **kw,
                ),
                f"{path}.status",
                to_json=to_json,
                from_json=from_json,
            )
            note = binder.bind(
                textarea(
                    f"Note on checklist item {number}",
                    rows=1,
                    value=binder.initial(f"{path}.note"),
                ),
                f"{path}.note",
            )
            self.status[item.id] = status
            self.note[item.id] = note
            parts: list[w.Widget] = [status, note]
            if (phase.id, item.id) == MATURITY_CHECKLIST_ITEM:
                session = binder.session
                parts.append(
                    html_block(
                        checklist_link_html(
                            session.store.root, session.workbook.project.local_authority
                        ),
                        "ew-maturity-link",
                    )
                )
            if review is not None:
                self.threads[item.id] = ThreadsWidget(review, f"{phase.id}.checklist.{item.id}")
                parts.append(self.threads[item.id])
            rows.append(w.VBox(parts, **plain_kw(w.VBox, "ew-check-item")))
        super().__init__(rows, **plain_kw(w.VBox, "ew-checklist"))
