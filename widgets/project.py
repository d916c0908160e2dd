"""The start page: pick or create a project, and see its three phases with progress."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw, textarea
from widgets._links import (
    MATURITY_PAGE,
    PHASE_PAGES,
    PORTFOLIO_PAGE,
    REVIEW_PAGE,
    TRANSPARENCY_PAGE,
    page_link,
)
from widgets.identity import change_name_link, clean_name
from widgets.maturity import summaries_html
from widgets.review import action_plan_html
from workbook import review
from workbook.bank import Bank, load_bank
from workbook.errors import WorkbookError
from workbook.members import create_project, parse_members, set_members
from workbook.model import WorkbookBase
from workbook.progress import project_progress
from workbook.roles import Action, Actor, as_actor
from workbook.store import AssessmentStore, Store


class UserNamePrompt(w.VBox):
    """Asks once for the name recorded with the user's changes."""

    def __init__(
        self, on_name: Callable[[str], None], *, editing: str = "", action: str = "edit"
    ) -> None:
        super().__init__()
        self.add_class("ew-name-prompt")
        self.name = w.Text(
            description="Your name",
            placeholder="For example, Sam Patel",
            **stacked_kw(w.Text, "24em"),
        )
        self.go = w.Button(description="Continue", button_style="primary")
        self.message = html_block("")
        self._on_name = on_name
        self.go.on_click(lambda _: self.submit())
        self.name.continuous_update = False
        self.children = [
            html_block(
                f'<h2 class="ew-h2">Who is {esc(action)}ing?</h2>'
                + (
                    f"<p>You are about to {esc(action)} <strong>{esc(editing)}</strong>.</p>"
                    if editing
                    else ""
                )
                + "<p>Your name is recorded with each change you make, so the oversight group can "
                "see who wrote what.</p>"
            ),
            self.name,
            self.message,
            self.go,
        ]

    def submit(self) -> None:
        name = clean_name(self.name.value)
        if not name:
            self.message.value = '<p class="ew-error" role="alert">Enter your name to continue.</p>'
            return
        self._on_name(name)


class StartPage(w.VBox):
    """Create a project or open one, and see its phases with progress and links."""

    def __init__(
        self,
        store: Store,
        *,
        user: str | Actor,
        project_id: str | None = None,
        bank: Bank | None = None,
    ) -> None:
        super().__init__()
        self.add_class("ew-start")
        self.store = store
        self.actor = actor = as_actor(user)
        self.user = user = actor.name
        self.bank = bank or load_bank()
        self.picker = w.Dropdown(
            description="Project", options=[], **stacked_kw(w.Dropdown, "36em")
        )
        self.picker.observe(lambda _: self._show_phases(), names="value")
        self.phases = html_block("", "ew-phases")
        self.problems = html_block("")
        self.maturity = html_block("")

        self.tool_name = w.Text(description="Name of the tool", **stacked_kw(w.Text, "36em"))
        self.authority = w.Text(description="Local authority", **stacked_kw(w.Text, "36em"))
        self.owner = w.Text(description="Owner (optional)", **stacked_kw(w.Text, "36em"))
        self.oversight = w.Text(
            description="Oversight group (optional)", **stacked_kw(w.Text, "36em")
        )
        self.create_button = w.Button(description="Create project", button_style="primary")
        self.create_button.on_click(lambda _: self.create())
        self.create_message = html_block("")
        # With roles on, an admin decides who may open each project.
        self.members = textarea(
            "Members of this project (login names, one per line)",
            rows=4,
            continuous_update=False,
        )
        self.members_button = w.Button(description="Save members", **plain_kw(w.Button))
        self.members_button.on_click(lambda _: self.save_members())
        self.members_message = html_block("")
        assigning = actor.enforced and actor.may(Action.assign)
        members_part = (
            [
                html_block(
                    '<h3 class="ew-h3">Members</h3><p class="ew-hint">Only members (and '
                    "admins) can open the project. What each member may do comes from their "
                    "role in the workbook (roles.yaml).</p>"
                ),
                self.members,
                self.members_message,
                self.members_button,
            ]
            if assigning
            else []
        )
        create_part = (
            [
                html_block('<h2 class="ew-h2">Start a new project</h2>'),
                self.tool_name,
                self.authority,
                self.owner,
                self.oversight,
                self.create_message,
                self.create_button,
            ]
            if actor.may(Action.create_project)
            else []
        )
        signed_in = (
            f'<p class="ew-hint">Signed in as <strong>{esc(user)}</strong> '
            f"({esc(actor.roles_text)}).</p>"
            if actor.enforced
            else f'<p class="ew-hint">Editing as <strong>{esc(user)}</strong>.'
            f"{change_name_link(user)}</p>"
        )

        b = self.bank
        intro = (
            f'<p class="ew-kicker">{esc(b.publisher)} · {esc(b.published)}</p>'
            f'<p class="ew-lead"><strong>{esc(b.title)}</strong>: {esc(b.subtitle)}</p>'
            "<p>Work through the workbook one phase at a time. Each phase starts with a "
            "checklist of what should already be done, then asks its questions. Your answers "
            "are saved as you type.</p>"
            + "".join(f"<p>{esc(t)}</p>" for t in b.summary)
            + signed_in
        )
        self.children = [
            html_block(intro),
            html_block('<h2 class="ew-h2">Open a project</h2>'),
            self.picker,
            self.problems,
            self.phases,
            self.maturity,
            *members_part,
            *create_part,
            html_block(f'<p class="ew-footer">{esc(b.attribution)}</p>'),
        ]
        self.reload(select=project_id)

    def reload(self, select: str | None = None) -> None:
        entries = self.store.list()
        actor = self.actor
        good = [
            e
            for e in entries
            if e.workbook is not None and actor.is_member(e.workbook.project.members)
        ]
        # A project that cannot be read has no members to check: named to admins only.
        bad = [e for e in entries if e.workbook is None and actor.is_member(())]
        self._workbooks = {e.id: e.workbook for e in good}
        self.picker.options = [
            (f"{e.workbook.project.tool_name} ({e.workbook.project.local_authority})", e.id)
            for e in good
        ]
        if select in self._workbooks:
            self.picker.value = select
        elif good and self.picker.value is None:
            self.picker.value = good[0].id
        self.problems.value = "".join(
            f'<p class="ew-error">Project {esc(e.id)} cannot be opened: {esc(str(e.error))}</p>'
            for e in bad
        )
        if not good:
            self.phases.value = (
                "<p>No projects yet. Start one below.</p>"
                if self.actor.may(Action.create_project)
                else "<p>You are not a member of any project yet. Ask an admin of the "
                "workbook to add you to one.</p>"
            )
        self._show_phases()

    def _show_phases(self) -> None:
        pid = self.picker.value
        if pid is None:
            return
        wb = self._workbooks[pid]
        self.members.value = "\n".join(wb.project.members)
        self.members_message.value = ""
        rows = []
        for phase, p in zip(self.bank.phases, project_progress(wb, self.bank), strict=True):
            pct = round(p.fraction * 100)
            numbers = f"questions {phase.questions[0].number}–{phase.questions[-1].number}"
            rows.append(
                f'<li class="ew-phase-card"><h3 class="ew-h3"><a href="'
                f'{esc(page_link(PHASE_PAGES[phase.id], pid))}">{esc(phase.title)}</a>'
                f'</h3><p class="ew-hint">{numbers}</p>'
                f'<progress max="100" value="{pct}" aria-label="{esc(phase.title)} progress">'
                f"{pct}%</progress> <strong>{pct}%</strong>"
                f'<p class="ew-hint">{p.complete} of {p.questions_total} questions complete · '
                f"{p.answered} answered · checklist {p.checklist_done} of {p.checklist_total}</p>"
                f"{_signoff_line(wb, phase.id, self.bank)}</li>"
            )
        info = wb.project
        self.phases.value = (
            f"<p><strong>{esc(info.tool_name)}</strong>, {esc(info.local_authority)}"
            f" · revision {wb.revision}</p>"
            f'<ul class="ew-phase-list">{"".join(rows)}</ul>'
            '<h3 class="ew-h3">Oversight</h3><ul class="ew-links">'
            f'<li><a href="{esc(page_link(REVIEW_PAGE, pid))}">Review and sign off '
            "this project</a>: comments, challenges, sign-off of each phase and what changed "
            "since</li>"
            f'<li><a href="{esc(page_link(TRANSPARENCY_PAGE, pid))}">Transparency record'
            "</a>: the draft public record (ATRS) made from the workbook, what it still needs, "
            "and the Data Ethics Framework</li>"
            f'<li><a href="{esc(page_link(PORTFOLIO_PAGE, pid))}">Portfolio of all '
            "projects</a></li></ul>" + action_plan_html(wb, self.bank, user=self.user, heading="h3")
        )
        self.maturity.value = (
            '<h2 class="ew-h2" id="maturity">Digital ethics maturity</h2>'
            "<p>Each local authority's self-assessment of its own ethics practice, with its "
            f'latest round. <a href="{esc(MATURITY_PAGE)}">All self-assessments</a>.</p>'
            + summaries_html(AssessmentStore(self.store.root))
        )

    def create(self) -> None:
        try:
            wb = create_project(
                self.store,
                self.actor,
                self.tool_name.value.strip(),
                self.authority.value.strip(),
                owner=self.owner.value.strip(),
                oversight_group=self.oversight.value.strip(),
            )
        except WorkbookError as exc:
            self.create_message.value = (
                f'<p class="ew-error" role="alert">The project was not created: '
                f"{esc(_plain(exc))}</p>"
            )
            return
        for field in (self.tool_name, self.authority, self.owner, self.oversight):
            field.value = ""
        self.create_message.value = (
            f'<p role="status">Created {esc(wb.project.tool_name)}. Open a phase below.</p>'
        )
        self.reload(select=wb.project.id)

    def save_members(self) -> None:
        pid = self.picker.value
        if pid is None:
            return
        try:
            wb = set_members(self.store, pid, parse_members(self.members.value), user=self.actor)
        except WorkbookError as exc:
            self.members_message.value = (
                f'<p class="ew-error" role="alert">Members not saved: {esc(exc.message)}</p>'
            )
            return
        self._workbooks[pid] = wb
        self.members.value = "\n".join(wb.project.members)
        count = len(wb.project.members)
        self.members_message.value = (
            f'<p role="status">Saved: {count} member{"s" if count != 1 else ""}.</p>'
        )


def _signoff_line(wb: WorkbookBase, phase_id: str, bank: Bank) -> str:
    state = review.signoff_state(wb, phase_id)
    challenges = len(review.open_challenges(wb, phase_id, bank))
    more = f" · {challenges} open challenge{'s' if challenges != 1 else ''}" if challenges else ""
    return (
        f'<p class="ew-signoff-line ew-signoff-{state.status}">Sign-off: {esc(state.summary)}'
        f"{more}</p>"
    )


def _plain(exc: WorkbookError) -> str:
    names = {"tool_name": "the name of the tool", "local_authority": "the local authority"}
    if exc.field in names and "at least 1" in exc.message:
        return f"enter {names[exc.field]}"
    return exc.message
