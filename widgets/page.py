"""Entry points for the notebooks: build a whole page, or a friendly message instead.

Each notebook calls one function here. In Voilà the project comes from the URL query
(``?project=<id>``), which is untrusted input: the id must be a safe slug. Who the user is
never comes from the URL (see :mod:`widgets.identity`). With kernel preheating, the query is
only known after :func:`widgets.voila_request.wait_for_request` returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from widgets._bind import esc, html_block
from widgets._links import PHASE_PAGES, REVIEW_PAGE, START_PAGE, TRANSPARENCY_PAGE, page_link
from widgets.identity import Identity, identify
from widgets.kernel_log import keep_kernel_log_off_the_page
from widgets.lab import LabPage, in_lab, open_projects, project_chooser
from widgets.phase import PhaseWorkbook
from widgets.project import StartPage, UserNamePrompt
from widgets.review import ReviewPage
from widgets.status import PageStatus
from widgets.voila_request import request_params
from workbook.errors import ProjectNotFound, UnsafeProjectId, WorkbookError
from workbook.roles import (
    Action,
    Actor,
    NotAMember,
    RoleRequired,
    RolesFileError,
    actor_for,
    load_roles,
)
from workbook.session import EditSession
from workbook.store import Store

log = logging.getLogger("ethics-workbook")


def _message(title: str, body: str, link: str | None = None) -> w.HTML:
    more = f'<p><a href="{esc(link)}">Go to the start page</a></p>' if link else ""
    return html_block(
        f'<div class="ew-message" role="alert"><h1 class="ew-h1">{esc(title)}</h1>'
        f"<p>{esc(body)}</p>{more}</div>"
    )


def _with_user(
    build: Callable[[Actor, PageStatus], w.Widget],
    *,
    store: Store,
    page_key: str,
    editing: str = "",
    action: str = "edit",
    start_link: str = START_PAGE,
    name: str = "",
    top: Callable[[Actor], w.Widget] | None = None,
    named: Callable[[str], None] | None = None,
) -> w.Widget:
    """Build the page for whoever this is (:func:`widgets.identity.identify`), with their
    roles (:mod:`workbook.roles`), asking their name once per browser session when the
    server does not vouch for it. When the server should vouch but did not, or the person
    has no role here, the page says so and offers nothing to change.

    Every page gets a :class:`PageStatus`: it watches the connection to the kernel and keeps
    the name in the browser's session cookie. A page with its own save indicator (a phase
    page) places it; otherwise it goes at the top.

    In JupyterLab (:mod:`widgets.lab`) the kernel sees no cookie: ``name`` is the one the
    page script read from it, ``top(actor)`` (the project chooser) heads the page, and
    ``named(name)`` hears a name given in the prompt (to keep it when the page is rebuilt).
    """
    who = identify()
    if not who.name and who.source == "self" and name:
        who = Identity(name, "self")
    if who.refused:
        return _message("We could not confirm who you are", who.refused)
    roles = load_roles(store.root)  # an invalid roles.yaml: a message naming it (_guard)
    status = PageStatus(page_key=page_key)
    page = w.VBox()
    page.add_class("ew-page")

    def on_name(given: str, remember: bool = False) -> None:
        if remember:
            status.remember_user(given)
            if named is not None:
                named(given)
        actor = actor_for(given, source=who.source, groups=who.groups, roles=roles)
        content = _guard(lambda: _allowed(actor) or build(actor, status), start_link)
        placed = getattr(content, "save_indicator", None) is status
        head = [_guard(lambda: top(actor), start_link)] if top else []
        page.children = [*head, content] if placed else [*head, status, content]

    if who.name:
        on_name(who.name)
    else:
        prompt = UserNamePrompt(
            lambda given: on_name(given, remember=True), editing=editing, action=action
        )
        page.children = [status, prompt]
    return page


def _allowed(actor: Actor) -> None:
    """Refuse the page to someone whose roles allow nothing here (raises RoleRequired)."""
    actor.require(Action.read)


def _guard(build: Callable[[], w.Widget], start_link: str) -> w.Widget:
    """Run ``build``; turn any failure into a plain-language message, never a traceback."""
    try:
        return build()
    except NotAMember as exc:
        return _message(
            "You are not a member of this project",
            f"{exc.message}. Projects you are a member of are listed on the start page.",
            start_link,
        )
    except RolesFileError as exc:
        return _message(
            "The workbook's list of roles cannot be read",
            f"{exc}. Nothing has been changed. Ask whoever looks after the workbook to fix "
            "roles.yaml.",
            start_link,
        )
    except RoleRequired as exc:
        return _message(
            "You have no role in this workbook yet",
            f"{exc.message}. Ask whoever looks after the workbook to give you a role.",
            start_link,
        )
    except (ProjectNotFound, UnsafeProjectId):
        return _message(
            "Project not found",
            "There is no project with that name in this workbook. Choose or create one on the "
            "start page.",
            start_link,
        )
    except WorkbookError as exc:
        return _message(
            "This project cannot be opened",
            f"{exc} Nothing has been changed. Ask whoever looks after the workbook to fix or "
            "restore the file.",
            start_link,
        )
    except Exception:  # the last line of defence at the UI boundary: log it, show a message
        log.exception("failed to build the page")
        return _message(
            "Something went wrong",
            "The page could not be shown. Your saved answers are safe. Try reloading the page.",
            start_link,
        )


def _project_page(
    project: str | None,
    workspace: str | Path | None,
    make: Callable[[Store, str, Actor, PageStatus], w.Widget],
    *,
    page: str,
    action: str = "edit",
) -> w.Widget:
    """A page of one project for one user: the URL's ``?project=`` wins in Voilà. In
    JupyterLab a "Project" chooser heads the page and the project chosen earlier in the
    Lab tab wins (:mod:`widgets.lab`)."""
    keep_kernel_log_off_the_page()
    params = request_params()
    project_id = params.get("project") or project or ""
    if not in_lab():
        return _project_body(project_id, workspace, make, page=page, action=action)

    def build(pid: str, name: str) -> w.Widget:
        def chooser(store: Store, actor: Actor) -> w.Widget:
            return project_chooser(open_projects(store, actor), pid, lambda p: lab.choose(p))

        return _project_body(
            pid,
            workspace,
            make,
            page=page,
            action=action,
            name=name,
            chooser=chooser,
            named=lambda given: lab.named(given),
        )

    lab = LabPage(build, project_id)
    return lab


def _project_body(
    project_id: str,
    workspace: str | Path | None,
    make: Callable[[Store, str, Actor, PageStatus], w.Widget],
    *,
    page: str,
    action: str,
    name: str = "",
    chooser: Callable[[Store, Actor], w.Widget] | None = None,
    named: Callable[[str], None] | None = None,
) -> w.Widget:
    start = page_link(START_PAGE, project_id) if project_id else START_PAGE

    def build() -> w.Widget:
        store = Store(workspace)
        try:
            info = store.open(project_id).project  # fail early, before asking for a name
        except (ProjectNotFound, UnsafeProjectId):
            if chooser is None:
                raise
            info = None  # in Lab: ask who this is, then say so under the project chooser

        def for_user(actor: Actor, status: PageStatus) -> w.Widget:
            if info is None:
                store.open(project_id)  # raises: "Project not found"
            actor.require_member(project_id, info.members)
            return make(store, project_id, actor, status)

        return _with_user(
            for_user,
            store=store,
            page_key=f"{page}?project={project_id}",
            editing=f"{info.tool_name} ({info.local_authority})" if info else "",
            action=action,
            start_link=start,
            name=name,
            top=(lambda actor: chooser(store, actor)) if chooser else None,
            named=named,
        )

    return _guard(build, start)


def phase_page(phase_id: str, project: str | None = None, workspace: str | Path | None = None):
    """The page for one phase of ``project`` (the URL's ``?project=`` wins in Voilà)."""
    return _project_page(
        project,
        workspace,
        lambda store, pid, user, status: PhaseWorkbook(
            EditSession(store, pid, user=user), phase_id, status=status
        ),
        page=PHASE_PAGES[phase_id],
    )


def review_page(project: str | None = None, workspace: str | Path | None = None):
    """The oversight review page of ``project`` (the URL's ``?project=`` wins in Voilà)."""
    return _project_page(
        project,
        workspace,
        lambda store, pid, user, _status: ReviewPage(store, pid, user),
        page=REVIEW_PAGE,
        action="review",
    )


def transparency_page(project: str | None = None, workspace: str | Path | None = None):
    """The transparency page of ``project``: its draft public record (ATRS), what it still
    needs, and the Data Ethics Framework view (the URL's ``?project=`` wins in Voilà)."""
    from widgets.transparency import TransparencyPage

    return _project_page(
        project,
        workspace,
        lambda store, pid, user, _status: TransparencyPage(store, pid, user),
        page=TRANSPARENCY_PAGE,
    )


def start_page(project: str | None = None, workspace: str | Path | None = None):
    """The start page: pick or create a project."""
    keep_kernel_log_off_the_page()
    params = request_params()
    selected = params.get("project") or project

    def build(pid: str | None, name: str = "", remember: Callable[[str], None] | None = None):
        def start(actor: Actor, _status: PageStatus) -> w.Widget:
            page = StartPage(store, user=actor, project_id=pid)
            if remember is not None:  # in Lab: the project picked here is the tab's choice
                page.picker.observe(lambda change: remember(change["new"]), names="value")
            return page

        store = Store(workspace)
        named = (lambda given: lab.named(given)) if remember else None
        return _with_user(start, store=store, page_key=START_PAGE, name=name, named=named)

    if in_lab():
        lab = LabPage(
            lambda pid, name: _guard(
                lambda: build(pid, name, lambda p: lab.remember(p)), START_PAGE
            ),
            selected or "",
        )
        return lab
    return _guard(lambda: build(selected), START_PAGE)


def maturity_page(authority: str | None = None, workspace: str | Path | None = None):
    """An authority's maturity self-assessment (``?authority=<id>``), or the list of them."""
    from widgets.maturity import MaturityIndex, MaturityPage, maturity_link
    from workbook.store import AssessmentStore

    keep_kernel_log_off_the_page()
    params = request_params()
    authority_id = params.get("authority") or authority or ""
    try:
        round_number = int(params.get("round", "")) if params.get("round") else None
    except ValueError:
        round_number = None

    def build(name: str = "") -> w.Widget:
        store = Store(workspace)
        assessments = AssessmentStore(store.root)
        if not authority_id:
            return _with_user(
                lambda actor, _status: MaturityIndex(assessments, actor),
                store=store,
                page_key="06-maturity.ipynb",
                name=name,
            )
        try:
            title = assessments.open(authority_id).authority.name
        except (ProjectNotFound, UnsafeProjectId):
            return _message(
                "Self-assessment not found",
                "There is no maturity self-assessment for that authority in this workbook. "
                "The maturity page lists them.",
                "06-maturity.ipynb",
            )
        return _with_user(
            lambda actor, _status: MaturityPage(
                assessments, authority_id, actor, round_number=round_number, projects=store
            ),
            store=store,
            page_key=maturity_link(authority_id),
            editing=f"the maturity self-assessment of {title}",
            name=name,
        )

    if in_lab():  # the app's styles, a remembered name and links that open notebooks
        return LabPage(
            lambda _pid, name: _guard(lambda: build(name), START_PAGE), uses_project=False
        )
    return _guard(build, START_PAGE)
