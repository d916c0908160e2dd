"""ipywidgets views over the workbook core. No file I/O of their own: all of it goes
through :mod:`workbook.store` (via :class:`workbook.session.EditSession`)."""

from widgets.checklist import ChecklistWidget
from widgets.kernel_log import keep_kernel_log_off_the_page
from widgets.page import (
    maturity_page,
    phase_page,
    review_page,
    start_page,
    transparency_page,
)
from widgets.phase import PhaseWorkbook
from widgets.project import StartPage, UserNamePrompt
from widgets.question import QuestionWidget
from widgets.review import (
    ActionPlanView,
    ChangesView,
    HistoryView,
    ReviewContext,
    ReviewPage,
    SignOffPanel,
    ThreadsWidget,
)

keep_kernel_log_off_the_page()

__all__ = [
    "ActionPlanView",
    "ChangesView",
    "ChecklistWidget",
    "HistoryView",
    "PhaseWorkbook",
    "QuestionWidget",
    "ReviewContext",
    "ReviewPage",
    "maturity_page",
    "SignOffPanel",
    "StartPage",
    "ThreadsWidget",
    "UserNamePrompt",
    "phase_page",
    "review_page",
    "start_page",
    "transparency_page",
]
