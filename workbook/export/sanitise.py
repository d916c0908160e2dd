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


def render_markdown(text: str) -> str:
    """User markdown to safe HTML: raw HTML escaped, harmful links dropped, allowlist-cleaned."""
    import mistune
    import nh3

    rendered = mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])(text)
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
