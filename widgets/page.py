"""Entry points for the notebooks: build a whole page, or a friendly message instead.

Each notebook calls one function here. In Voilà the project (and the user's name, once
given) come from the URL query (``?project=<id>&user=<name>``), which is untrusted input:
the id must be a safe slug and the name is cleaned. With kernel preheating, the query is
only known after :func:`widgets.voila_request.wait_for_request` returns.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from widgets._bind import esc, html_block
from widgets._links import START_PAGE, page_link
from widgets.phase import PhaseWorkbook
from widgets.project import StartPage, UserNamePrompt, clean_name
from widgets.review import ReviewPage
from widgets.voila_request import request_params
from workbook.errors import ProjectNotFound, UnsafeProjectId, WorkbookError
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
    params: dict[str, str],
    build: Callable[[str], w.Widget],
    *,
    editing: str = "",
    action: str = "edit",
) -> w.Widget:
    """Build the page for the user: from JupyterHub, the URL, or by asking once."""
    name = clean_name(os.environ.get("JUPYTERHUB_USER") or params.get("user"))
    page = w.VBox()
    page.add_class("ew-page")

    def on_name(given: str) -> None:
        page.children = [build(given)]

    if name:
        on_name(name)
    else:
        page.children = [UserNamePrompt(on_name, editing=editing, action=action)]
    return page


def _guard(build: Callable[[], w.Widget], start_link: str) -> w.Widget:
    """Run ``build``; turn any failure into a plain-language message, never a traceback."""
    try:
        return build()
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
    make: Callable[[Store, str, str], w.Widget],
    *,
    action: str = "edit",
) -> w.Widget:
    """A page of one project for one user: the URL's ``?project=`` wins in Voilà."""
    params = request_params()
    project_id = params.get("project") or project or ""
    start = (
        page_link(START_PAGE, project_id, clean_name(params.get("user")))
        if project_id
        else START_PAGE
    )

    def build() -> w.Widget:
        store = Store(workspace)
        info = store.open(project_id).project  # fail early, before asking for a name

        def for_user(user: str) -> w.Widget:
            return _guard(lambda: make(store, project_id, user), start)

        return _with_user(
            params,
            for_user,
            editing=f"{info.tool_name} ({info.local_authority})",
            action=action,
        )

    return _guard(build, start)


def phase_page(phase_id: str, project: str | None = None, workspace: str | Path | None = None):
    """The page for one phase of ``project`` (the URL's ``?project=`` wins in Voilà)."""
    return _project_page(
        project,
        workspace,
        lambda store, pid, user: PhaseWorkbook(EditSession(store, pid, user=user), phase_id),
    )


def review_page(project: str | None = None, workspace: str | Path | None = None):
    """The oversight review page of ``project`` (the URL's ``?project=`` wins in Voilà)."""
    return _project_page(project, workspace, ReviewPage, action="review")


def start_page(project: str | None = None, workspace: str | Path | None = None):
    """The start page: pick or create a project."""
    params = request_params()
    selected = params.get("project") or project

    def build() -> w.Widget:
        store = Store(workspace)
        return _with_user(params, lambda user: StartPage(store, user=user, project_id=selected))

    return _guard(build, START_PAGE)
