"""ChecklistWidget: a phase's "you should have done the following" items."""

from __future__ import annotations

import ipywidgets as w

from widgets._bind import Binder, esc, html_block, stacked, textarea
from workbook.bank import Phase
from workbook.model import CHECKLIST_STATUS_LABELS

NOT_ASSESSED = "Not assessed yet"
UNSET = ""
"""The option value shown for "not assessed yet" (saved as null). Not None: ipywidgets takes
a None value as "nothing selected", and whether a new Dropdown whose first option is None
starts on that option or on no option at all depends on the hash seed of the kernel."""


class ChecklistWidget(w.VBox):
    """Each checklist item with a status and a note."""

    def __init__(self, phase: Phase, binder: Binder) -> None:
        super().__init__()
        self.add_class("ew-checklist")
        self.phase = phase
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
        for number, item in enumerate(phase.checklist, start=1):
            path = f"phases.{phase.id}.checklist.{item.id}"
            status = binder.bind(
                stacked(
                    w.Dropdown(description=f"{number}. {item.text}", options=options), width="100%"
                ),
                f"{path}.status",
                to_json=lambda v: v or None,
                from_json=lambda v: v or UNSET,
            )
            status.add_class("ew-check-status")
            note = binder.bind(textarea(f"Note on checklist item {number}", rows=1), f"{path}.note")
            self.status[item.id] = status
            self.note[item.id] = note
            row = w.VBox([status, note])
            row.add_class("ew-check-item")
            rows.append(row)
        self.children = rows
