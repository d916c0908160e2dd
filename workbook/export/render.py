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

from workbook.export.dates import day, duration, moment
from workbook.export.report import NO_NOTE, NOT_ANSWERED
from workbook.export.sanitise import (
    _ALLOWED_ATTRIBUTES,
    _ALLOWED_TAGS,
    markdown_headings_below,
    md_escape,
    render_markdown,
    safe_markdown,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _css(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


REPORT_CSS = _css("report.css")
PRINT_CSS = _css("print.css")
EVIDENCE_CSS = _css("evidence.css")


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


# --------------------------------------------------------------------------- evidence outputs

IMAGE_TYPES = ("image/png", "image/jpeg")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def analysis_state(a: dict[str, Any]) -> tuple[str, str]:
    """How an evidence notebook's run went, in words, for every format: a lead ("Passed",
    "Failed (ZeroDivisionError)", "Not run (refused)") and a sentence after it."""
    reason = str(a.get("reason") or "").strip()
    stop = "" if reason.endswith((".", "!", "?")) else "."
    if a["status"] == "passed":
        return "Passed", (
            "the notebook ran from start to finish when this document was exported; "
            "what follows is what it showed."
        )
    if a["status"] == "failed":
        lead = f"Failed ({a['error']})" if a.get("error") else "Failed"
        if reason and not a.get("items"):
            return lead, f"the notebook could not be run for this export: {reason}{stop}"
        return lead, "the notebook stopped with an error when it was re-run for this export. " + (
            "What it showed before it stopped is below, and may be incomplete."
            if a.get("items")
            else "It showed nothing."
        )
    lead = "Not run (refused)" if a["status"] == "refused" else str(a.get("status_label", ""))
    return lead, "the notebook was not run for this export" + (
        f": {reason}{stop}" if reason else "."
    )


def has_analyses(report: dict[str, Any]) -> bool:
    """Whether any question carries an evidence notebook's run (its styles are then added)."""
    return any(q.get("analyses") for ph in report.get("phases", []) for q in ph["questions"])


def image_uri(item: dict[str, Any]) -> str:
    """An evidence figure as a ``data:`` URI (the document holds it, so nothing is fetched),
    or "" for anything but a PNG or JPEG in plain base64."""
    data = str(item.get("data") or "")
    if item.get("mime") not in IMAGE_TYPES or not _BASE64.fullmatch(data):
        return ""
    return f"data:{item['mime']};base64,{data}"


def breakable(text: Any) -> Markup:
    """Escaped text that may wrap after an underscore or a slash (``needed_statutory_support``
    as a table heading), so a column need not be as wide as a long field name."""
    escaped = str(Markup.escape(str(text)))
    return Markup(re.sub(r"([_/])(?=\w)", r"\1<wbr>", escaped))


def fence(text: str, info: str = "") -> str:
    """``text`` as a fenced Markdown code block, its fence longer than any run of backticks
    in it (so nothing in the text can close the block)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    mark = "`" * max(3, longest + 1)
    return f"{mark}{info}\n{text.rstrip(chr(10))}\n{mark}"


def table_header(item: dict[str, Any]) -> list[str]:
    """An evidence table's heading rows as one row (each column's headings joined by
    " / "), for formats with a single heading row."""
    width = max((len(r) for r in [*item["header"], *item["rows"]]), default=0)
    out = []
    for i in range(width):
        parts = [r[i] for r in item["header"] if i < len(r) and str(r[i]).strip()]
        out.append(" / ".join(dict.fromkeys(str(p) for p in parts)))
    return out


def md_table(item: dict[str, Any]) -> str:
    """An evidence table as a Markdown pipe table, every cell escaped on one line."""
    header = table_header(item)
    if not header:
        return ""
    n = len(header)

    def row(cells: list[Any]) -> str:
        cells = [*cells, *[""] * (n - len(cells))]
        return "| " + " | ".join(md_line(c) for c in cells[:n]) + " |"

    lines = [row(header), "|" + "---|" * n, *(row(r) for r in item["rows"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------- environments


def _common(env: Any) -> Any:
    env.filters.update(
        day=day,
        moment=moment,
        duration=duration,
        image_uri=image_uri,
        clip=_clip,
        plural=_plural,
        signoff_line=_signoff_line,
    )
    env.globals.update(
        report_css=Markup(REPORT_CSS),  # our own files, not user text
        print_css=Markup(PRINT_CSS),
        not_answered=NOT_ANSWERED,
        no_note=NO_NOTE,
        analysis_state=analysis_state,
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
        markdown=lambda text, below=0: Markup(render_markdown(text, below=below)),
        breakable=breakable,
        text=_text_html,
        diff=lambda ops: Markup(diff_html(ops)),
    )
    env.globals.update(
        missing=_missing, has_analyses=has_analyses, evidence_css=Markup(EVIDENCE_CSS)
    )
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
    env.filters.update(
        safe_md_below=lambda text, below: safe_markdown(markdown_headings_below(text, below)),
        fence=fence,
        md_table=md_table,
    )
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
