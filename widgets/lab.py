"""The JupyterLab route: the same pages as in Voilà, opened as notebooks in JupyterLab.

Three things differ from Voilà, and this module handles them:

- **Styles.** Voilà loads the app's stylesheet (the ``ethics`` template's ``ethics.css``)
  into the page; JupyterLab does not. So each page carries it in a ``<style>`` of its own,
  rewritten (with tinycss2) to apply only inside the page's root box (``.ew-lab``): nothing
  of Lab itself (its body, fonts, prompts, other notebooks) is restyled.
- **Which project.** There is no address to carry ``?project=``. A "Project" chooser at the
  top of each project page switches the page without editing code, and the choice is kept
  in the browser tab's ``sessionStorage`` (it lasts as long as the Lab tab), so the next
  page opened uses it. The notebook's ``project`` parameter is where a page starts when
  nothing has been chosen yet, and what papermill and nbval use.
- **Links between pages.** A link such as ``01-explore.ipynb?project=demo`` would reload
  JupyterLab and lose the project. The page script (``static/lab_session.js``) keeps the
  link's project as the session's choice and opens the notebook in Lab, running it when Lab
  exposes its application object (``make lab`` starts Lab so); otherwise it goes to the
  notebook's ``/lab/tree/`` address, which Lab opens.

A page is in JupyterLab when its kernel was started by a Jupyter server for a notebook
(``JPY_SESSION_NAME`` is set) and it is not a Voilà page. papermill, nbval and the tests'
kernels are neither, so they get the page exactly as Voilà builds it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import tinycss2
import traitlets as t

from widgets._bind import html_block, stacked_kw
from widgets.identity import clean_name, in_voila
from widgets.kernel_log import keep_kernel_log_off_the_page

log = logging.getLogger("ethics-workbook")

ROOT_CLASS = "ew-lab"
ROOT = f".{ROOT_CLASS}"
ROOT_ID = f"{ROOT}:not(#ew-lab-none)"
"""What ``#rendered_cells`` (Voilà's page box) becomes: the root, with the weight of an id
(``:not(#id)`` counts as one), so a rule that outranked ipywidgets' own in Voilà still does."""
TEMPLATE_CSS = ("voila", "templates", "ethics", "static", "ethics.css")
ESM = Path(__file__).with_name("static") / "lab_session.js"
WIDTH_ONLY = re.compile(r"\((?:max|min)-width:\s*[\d.]+(?:rem|px|em)\)")
LAB_EXTRA = f"""
{ROOT} {{
  max-width: 60rem; padding: 0.5rem 1rem 2rem; box-sizing: border-box;
  container: {ROOT_CLASS} / inline-size;
}}
{ROOT} .ew-lab-chooser {{ border-bottom: 1px solid var(--ew-rule); margin-bottom: 0.5rem; }}
"""
"""What the Lab page needs besides the app's stylesheet: the column Voilà's page box gives."""


def in_lab(env: Mapping[str, str] | None = None) -> bool:
    """A notebook's kernel started by JupyterLab (or Notebook 7), not a Voilà page."""
    env = os.environ if env is None else env
    return bool(env.get("JPY_SESSION_NAME")) and not in_voila(env)


def stylesheet_candidates() -> list[Path]:
    """Where ``ethics.css`` may be: this checkout's ``share/`` (an editable install), then
    every Jupyter data folder (``sys.prefix/share/jupyter`` among them, and JUPYTER_PATH)."""
    from jupyter_core.paths import jupyter_path

    checkout = Path(__file__).resolve().parent.parent / "share" / "jupyter"
    roots = [checkout, Path(sys.prefix) / "share" / "jupyter", *map(Path, jupyter_path())]
    seen: list[Path] = []
    for root in roots:
        path = root.joinpath(*TEMPLATE_CSS)
        if path not in seen:
            seen.append(path)
    return seen


def stylesheet_path() -> Path | None:
    return next((p for p in stylesheet_candidates() if p.is_file()), None)


def _split_selectors(tokens: list) -> list[str]:
    """A rule's prelude as its comma-separated selectors (commas inside ``:is()`` stay)."""
    parts: list[list] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return [tinycss2.serialize(p).strip() for p in parts if tinycss2.serialize(p).strip()]


def _scope_selector(selector: str) -> str | None:
    """One selector of ethics.css as it applies inside the Lab page, or None to drop it."""
    head, _, rest = selector.partition(" ")
    if head in (":root", "body", "html", "#rendered_cells", "div#rendered_cells"):
        if not rest.strip():
            return ROOT
        if head == "body" and rest.strip() == "div#rendered_cells":
            return ROOT
        if rest.lstrip().startswith(">"):
            return None  # Voilà's column box: the root itself is the column here (LAB_EXTRA)
        return f"{ROOT_ID} {rest.strip()}" if "rendered_cells" in head else f"{ROOT} {rest}"
    if head.startswith(".jp-"):
        return None  # JupyterLab's own cells, prompts and markdown: left as Lab draws them
    return f"{ROOT} {selector}"


def _scope_rules(rules: list) -> str:
    out: list[str] = []
    for rule in rules:
        if rule.type == "qualified-rule":
            scoped = [_scope_selector(s) for s in _split_selectors(rule.prelude)]
            kept = list(dict.fromkeys(s for s in scoped if s))
            if kept:
                out.append(f"{', '.join(kept)} {{{tinycss2.serialize(rule.content)}}}")
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports"):
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            body = _scope_rules(inner)
            if body:
                prelude = tinycss2.serialize(rule.prelude).strip()
                if WIDTH_ONLY.fullmatch(prelude):
                    # the page's own width, not the window's: Lab's side panels take room
                    out.append(f"@container {ROOT_CLASS} {prelude} {{\n{body}\n}}")
                else:
                    out.append(f"@{rule.at_keyword} {prelude} {{\n{body}\n}}")
    return "\n".join(out)


def scope_css(css: str) -> str:
    """``css`` (the app's stylesheet) rewritten to apply only inside ``.ew-lab``."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return _scope_rules(rules)


@functools.lru_cache(maxsize=1)
def _lab_css() -> str | None:
    path = stylesheet_path()
    if path is None:
        return None
    return scope_css(path.read_text(encoding="utf-8")) + LAB_EXTRA


def style_block() -> w.HTML:
    """The page's own stylesheet; if ethics.css cannot be found, a note saying so."""
    css = _lab_css()
    if css is None:
        log.warning("ethics.css not found in %s", ", ".join(map(str, stylesheet_candidates())))
        return html_block(
            '<p class="ew-error" role="alert">The app\'s stylesheet (ethics.css) was not '
            "found, so this page may look cramped. Reinstall the workbook (make install).</p>"
        )
    return w.HTML(f"<style>{css}</style>", layout=w.Layout(display="none"))


class LabSession(anywidget.AnyWidget):
    """The browser side of the Lab route (``static/lab_session.js``): reports the project
    chosen earlier in this Lab tab and the name given earlier (the session cookie the page
    status keeps), stores a new choice, and opens links between pages as notebooks."""

    _esm = ESM
    project = t.Unicode("").tag(sync=True)
    """The project chosen on this page: the script keeps it in sessionStorage."""

    def __init__(self, on_hello: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_hello = on_hello
        self.add_class("ew-lab-session")
        self.layout.display = "none"
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "hello":
            return
        project = content.get("project")
        name = content.get("name")
        self._on_hello(
            project if isinstance(project, str) else "",
            clean_name(name) if isinstance(name, str) else "",
        )


class LabPage(w.VBox):
    """A page in JupyterLab: its stylesheet, the session script and the page itself, built
    again when the project or the person changes (``build(project_id, name)``)."""

    def __init__(
        self,
        build: Callable[[str, str], w.Widget],
        project_id: str = "",
        *,
        uses_project: bool = True,
        uses_name: bool = True,
    ) -> None:
        super().__init__()
        keep_kernel_log_off_the_page()
        self.add_class(ROOT_CLASS)
        self.project_id = project_id
        self.name = ""
        self._build = build
        self._uses = (uses_project, uses_name)
        self.session = LabSession(self._hello, project="")
        self.body = w.VBox()
        self.body.children = [build(project_id, "")]
        self.children = [style_block(), self.session, self.body]

    def _hello(self, project: str, name: str) -> None:
        uses_project, uses_name = self._uses
        project = project if uses_project else ""
        name = name if uses_name else ""
        changed = (project and project != self.project_id) or (name and name != self.name)
        if project:
            self.project_id = project
        if name:
            self.name = name
        if changed:
            self.body.children = [self._build(self.project_id, self.name)]

    def named(self, name: str) -> None:
        """The person gave their name on this page: keep it when the page is built again."""
        self.name = name

    def remember(self, project_id: str) -> None:
        """Keep ``project_id`` as this Lab tab's choice without building the page again
        (the start page's own project list)."""
        if project_id:
            self.project_id = project_id
            self.session.project = project_id

    def choose(self, project_id: str) -> None:
        """The person chose another project: show it, and remember it for this Lab tab."""
        if project_id and project_id != self.project_id:
            self.project_id = project_id
            self.session.project = project_id
            self.body.children = [self._build(project_id, self.name)]


def project_chooser(
    options: list[tuple[str, str]], value: str, on_choose: Callable[[str], None]
) -> w.Widget:
    """The "Project" dropdown at the top of a page in JupyterLab."""
    values = [v for _, v in options]
    picker = w.Dropdown(
        description="Project",
        options=options,
        value=value if value in values else None,
        **stacked_kw(w.Dropdown, "100%"),
    )
    picker.observe(lambda change: change["new"] and on_choose(change["new"]), names="value")
    hint = html_block(
        '<p class="ew-hint">In JupyterLab the project chosen here is kept for this browser '
        "tab: the next page you open shows it too.</p>"
        if options
        else '<p class="ew-hint">You are not a member of any project yet.</p>'
    )
    box = w.VBox([picker, hint])
    box.add_class("ew-lab-chooser")
    box.picker = picker  # type: ignore[attr-defined]
    return box


def open_projects(store: Any, actor: Any) -> list[tuple[str, str]]:
    """(label, id) of the projects ``actor`` may open, as the start page lists them."""
    return [
        (f"{e.workbook.project.tool_name} ({e.workbook.project.local_authority})", e.id)
        for e in store.list()
        if e.workbook is not None and actor.is_member(e.workbook.project.members)
    ]
