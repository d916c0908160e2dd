"""Sanitising what users write, in one place.

Answers are user-written markdown. For HTML they are rendered with raw HTML escaped and
harmful links dropped (mistune), then cleaned again with an allowlist (nh3), so no script,
event handler or ``javascript:`` link reaches any export. For Markdown, raw HTML is escaped
and unsafe links and images are neutralised. Plain text (names, comments) is escaped by the
templates (HTML autoescape) or by :func:`md_escape` (Markdown).
"""

from __future__ import annotations

import html
import re
from typing import Any

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "ins", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "del": {"class", "title"},
    "ins": {"class", "title"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


def heading_level(level: int, below: int) -> int:
    """The level a heading of user markdown takes when the markdown sits under a heading of
    level ``below``: ``#`` and ``##`` one level under it, ``###`` two, and so on, never
    past 6. (An evidence notebook's ``#`` is its title and ``##`` its sections, so both
    go just under the heading that names the notebook.)"""
    return min(6, max(below + 1, level + below - 1))


def render_markdown(text: str, *, below: int = 0) -> str:
    """User markdown to safe HTML: raw HTML escaped, harmful links dropped, allowlist-cleaned.
    With ``below``, its headings are placed under a heading of that level
    (:func:`heading_level`), so the document's outline stays in order."""
    import mistune
    import nh3

    renderer: Any = "html"
    if below:

        class Renderer(mistune.HTMLRenderer):
            def heading(self, text: str, level: int, **attrs: Any) -> str:
                return super().heading(text, heading_level(level, below), **attrs)

        renderer = Renderer(escape=True)
    markdown = mistune.create_markdown(
        escape=True, renderer=renderer, plugins=["strikethrough", "table"]
    )
    rendered = markdown(text)
    return nh3.clean(
        str(rendered),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def md_escape(text: str) -> str:
    """Plain text for markdown: markup characters escaped, no raw HTML."""
    text = html.escape(str(text), quote=False)
    for ch in "\\`*_{}[]#|":
        text = text.replace(ch, "\\" + ch)
    return text


_UNSAFE_INLINE_LINK = re.compile(r"\]\(\s*<?\s*(?!(?:https?|mailto):|#|/)[a-zA-Z][\w+.-]*:", re.I)
_UNSAFE_REF_LINK = re.compile(
    r"^(\s{0,3}\[[^\]]+\]:\s*)<?(?!(?:https?|mailto):)[a-zA-Z][\w+.-]*:", re.I | re.M
)


# ``![`` not already escaped (an even run of backslashes before it, or none).
_IMAGE_START = re.compile(r"(?<!\\)((?:\\\\)*)!\[")


def safe_markdown(text: str) -> str:
    """User markdown for a Markdown export: raw HTML escaped, links other than http(s) and
    mailto pointed at ``#removed-link``, and images kept only as links (``![alt](url)``
    becomes ``\\![alt](url)``, a link), so opening the document requests nothing, as
    with the HTML export."""
    text = html.escape(text, quote=False)
    text = _IMAGE_START.sub(r"\1\\![", text)
    text = _UNSAFE_INLINE_LINK.sub("](#removed-link ", text)
    return _UNSAFE_REF_LINK.sub(r"\1#removed-link ", text)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^ {0,3}(?:[-*+][ \t]|\d+[.)][ \t]|#|>|\||`{3}|~{3}|$)|^ {4}")


def markdown_headings_below(text: str, below: int) -> str:
    """User markdown with its headings placed under a heading of level ``below``
    (:func:`heading_level`), for a Markdown export: ``## Results`` under a level-4
    heading becomes ``##### Results``. Lines in fenced code are left alone; a one-line
    underlined (setext) heading becomes a ``#`` heading of the new level."""
    lines = text.split("\n")
    out: list[str] = []
    fence = ""
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            out.append(line)
            continue
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            level = heading_level(len(atx.group(2)), below)
            out.append(atx.group(1) + "#" * level + line[atx.end() :])
            continue
        setext = _SETEXT.match(line)
        if setext and out and not _NOT_PARAGRAPH.match(out[-1]):
            level = heading_level(1 if setext.group(1)[0] == "=" else 2, below)
            out[-1] = "#" * level + " " + out[-1].strip()
            continue
        out.append(line)
    return "\n".join(out)
