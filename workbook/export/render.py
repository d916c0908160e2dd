"""Rendering the report data as HTML and Markdown with Jinja2 templates.

``templates/html`` and ``templates/md`` hold one partial per section (cover, sign-off,
progress, outstanding, actions, phase, checklist, changes, question, threads). A new
section is a data function in :mod:`workbook.export.report` and a partial in each folder,
included from ``report.html.j2`` / ``report.md.j2``.

HTML is autoescaped; user markdown goes through :func:`~workbook.export.sanitise.render_markdown`
(the ``markdown`` filter) and nothing else is marked safe except this module's own markup.
In Markdown, plain user text is escaped with the ``md`` / ``md_line`` filters and user
markdown with ``safe_md``.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from workbook.export.dates import day, moment
from workbook.export.report import NO_NOTE, NOT_ANSWERED
from workbook.export.sanitise import (
    _ALLOWED_ATTRIBUTES,
    _ALLOWED_TAGS,
    md_escape,
    render_markdown,
    safe_markdown,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _css(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


REPORT_CSS = _css("report.css")
PRINT_CSS = _css("print.css")


# --------------------------------------------------------------------------- helpers


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _signoff_line(so: dict[str, Any]) -> str:
    """``Out of date: changed since revision 12`` / ``Current`` / ``Not signed off``."""
    if so["status"] == "out_of_date":
        return f"Out of date: changed since revision {so['revision']}"
    if so["status"] == "current":
        return "Current: no change since it was signed"
    return "Not signed off"


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _plural(n: int, many: str = "s", one: str = "") -> str:
    return one if n == 1 else many


_BLOCK_START = re.compile(r"[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|>|\|)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def text_lines(text: str) -> list[tuple[str, str]]:
    """Answer text as it reads in markdown: ``("text", …)``, ``("br", "")`` before a line
    that starts a list item, heading, quote or table row, ``("para", "")`` between
    paragraphs. Other line breaks are soft (markdown joins the lines), so they become a
    space rather than a break in a diff."""
    out: list[tuple[str, str]] = []
    for i, para in enumerate(_PARAGRAPH_BREAK.split(text)):
        if i:
            out.append(("para", ""))
        for j, line in enumerate(para.split("\n")):
            if j:
                out.append(("br", "") if _BLOCK_START.match(line) else ("text", " "))
            if line:
                out.append(("text", line))
    return out


def _breaks_html(text: str) -> str:
    return "".join(
        _e(t) if kind == "text" else "<br>" if kind == "br" else "<br><br>"
        for kind, t in text_lines(text)
    )


def diff_html(ops: list[list[str]]) -> str:
    """Word-diff runs as HTML: removed words in ``<del>``, added in ``<ins>``."""
    import nh3

    from workbook.review import diff_ops_html

    html_text = diff_ops_html(ops, text_html=_breaks_html)
    return nh3.clean(html_text, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)


def _text_html(text: str) -> Markup:
    """Plain user text (a comment) as escaped HTML, line breaks kept."""
    return Markup(_e(str(text).strip()).replace("\n", "<br>"))


def _missing(text: str) -> Markup:
    return Markup('<span class="ew-missing">{}</span>').format(text)


def md_line(text: Any) -> str:
    """User text on one markdown line (line breaks become spaces), escaped."""
    return md_escape(" ".join(str(text).split()))


def diff_markdown(ops: list[list[str]]) -> str:
    """Word-diff runs as Markdown: ``~~removed~~`` and ``**added**``, user text escaped.

    Markers go round the words only (a run's surrounding spaces stay outside), and round
    each line of a run separately, so they never span a line break.
    """
    out = []
    previous = ""
    for op, text in ops:
        if op == "insert" and previous == "delete":
            out.append(" ")  # so ~~old~~ **new** read as two marks
        previous = op
        pieces = []
        for line in text.split("\n"):
            core = line.strip()
            if op == "equal" or not core:
                pieces.append(md_escape(line).replace("~", "\\~"))
                continue
            lead = line[: len(line) - len(line.lstrip())]
            trail = line[len(line.rstrip()) :]
            mark = "~~" if op == "delete" else "**"
            pieces.append(f"{lead}{mark}{md_escape(core).replace('~', chr(92) + '~')}{mark}{trail}")
        out.append("  \n".join(pieces))
    return "".join(out)


# --------------------------------------------------------------------------- environments


def _common(env: Any) -> Any:
    env.filters.update(
        day=day,
        moment=moment,
        clip=_clip,
        plural=_plural,
        signoff_line=_signoff_line,
    )
    env.globals.update(
        report_css=Markup(REPORT_CSS),  # our own files, not user text
        print_css=Markup(PRINT_CSS),
        not_answered=NOT_ANSWERED,
        no_note=NO_NOTE,
    )
    return env


@cache
def _html_env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "html"),
        extensions=["jinja2.ext.do"],
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        markdown=lambda text: Markup(render_markdown(text)),
        text=_text_html,
        diff=lambda ops: Markup(diff_html(ops)),
    )
    env.globals.update(missing=_missing)
    return _common(env)


@cache
def _md_env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "md"),
        extensions=["jinja2.ext.do"],
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, md_line=md_line, safe_md=safe_markdown, diff=diff_markdown)
    return _common(env)


# --------------------------------------------------------------------------- entry points


def report_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML fragment (styles included, no scripts)."""
    return _html_env().get_template("fragment.html.j2").render(report=report)


def render_html(template: str, **context: Any) -> str:
    """Any page from ``templates/html`` (the oversight pack's index, for one)."""
    return _html_env().get_template(template).render(**context)


def report_document(report: dict[str, Any]) -> str:
    """The report as a whole HTML document: language, title, styles (screen and print),
    the protective marking at the top and the bottom. No scripts."""
    return _html_env().get_template("report.html.j2").render(report=report)


def report_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown. User markdown is kept; raw HTML in it is escaped."""
    text = _md_env().get_template("report.md.j2").render(report=report)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_md(template: str, **context: Any) -> str:
    """Any page from ``templates/md`` (the maturity board document, for one), blank lines
    collapsed as in :func:`report_markdown`."""
    text = _md_env().get_template(template).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
