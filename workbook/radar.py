"""A radar (spider) chart of maturity levels, drawn by matplotlib, as accessible SVG or PNG.

One drawing serves the app, the HTML and PDF board documents (SVG) and Word (PNG). The SVG
is an image with a name and a description (``role="img"``, ``<title>``, ``<desc>``) and real
text for its labels; every page and document shows the same numbers in a table beside it,
so nothing is only in the picture. The series differ by line style and marker as well as
colour (WCAG 1.4.1).

Pure: no files are written; matplotlib runs without pyplot (no global state, no display).
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

SERIES_STYLES = {
    "current": {
        "color": "#1d4f91",
        "linestyle": "-",
        "marker": "o",
        "linewidth": 2.4,
        "fill": 0.18,
    },
    "target": {"color": "#a04000", "linestyle": "--", "marker": "s", "linewidth": 2.0, "fill": 0.0},
    "previous": {
        "color": "#505a5f",
        "linestyle": ":",
        "marker": "^",
        "linewidth": 2.0,
        "fill": 0.0,
    },
}


@dataclass(frozen=True)
class Series:
    """One line on the chart: ``kind`` is current, target or previous (its style)."""

    label: str
    kind: str
    values: tuple[float | None, ...]


def _figure(axes: Sequence[str], series: Sequence[Series], max_level: int, size: float):  # type: ignore[no-untyped-def]
    from matplotlib.figure import Figure

    n = len(axes)
    angles = [2 * math.pi * i / n for i in range(n)]
    fig = Figure(figsize=(size, size * 0.92), dpi=100)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(math.pi / 2)  # the first component at the top, then clockwise
    ax.set_theta_direction(-1)
    ax.set_xlim(0, 2 * math.pi)
    ax.set_ylim(0, max_level)
    ax.set_yticks(range(1, max_level + 1))
    ax.set_yticklabels([str(v) for v in range(1, max_level + 1)], fontsize=8, color="#505a5f")
    ax.set_rlabel_position(180 / n)
    ax.set_xticks(angles)
    ax.set_xticklabels(
        [textwrap.fill(a, 15, break_long_words=False) for a in axes], fontsize=10, color="#0b0c0c"
    )
    ax.tick_params(axis="x", pad=10)
    ax.grid(color="#b1b4b6", linewidth=0.7)
    ax.spines["polar"].set_color("#b1b4b6")
    for s in series:
        style = SERIES_STYLES.get(s.kind, SERIES_STYLES["current"])
        points = [(a, v) for a, v in zip(angles, s.values, strict=True) if v is not None]
        if not points:
            continue
        xs = [a for a, _ in points]
        ys = [v for _, v in points]
        if len(points) == n:  # a closed shape only when every component has a value
            xs, ys = [*xs, xs[0]], [*ys, ys[0]]
        ax.plot(
            xs,
            ys,
            color=style["color"],
            linestyle=style["linestyle"],
            marker=style["marker"],
            linewidth=style["linewidth"],
            markersize=5,
            label=s.label,
        )
        if style["fill"] and len(points) == n:
            ax.fill(xs, ys, color=style["color"], alpha=style["fill"])
    if ax.get_legend_handles_labels()[0]:  # a legend only for what was drawn
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncol=len(series),
            frameon=False,
            fontsize=9.5,
        )
    fig.subplots_adjust(left=0.17, right=0.83, top=0.86, bottom=0.16)
    return fig


def radar_svg(
    axes: Sequence[str],
    series: Sequence[Series],
    *,
    max_level: int,
    title: str,
    description: str,
    id_prefix: str = "radar",
    size: float = 5.0,
) -> str:
    """The chart as an inline ``<svg>`` element: an image with a name and a description."""
    import matplotlib

    fig = _figure(axes, series, max_level, size)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": id_prefix}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    start = text.index("<svg")
    text = text[start:]
    safe = re.sub(r"[^a-zA-Z0-9_-]", "-", id_prefix)
    title_id, desc_id = f"{safe}-title", f"{safe}-desc"
    # ids matplotlib writes (clip paths, glyphs) are made unique to this chart: several
    # charts on one page must not share them
    text = re.sub(r'id="([^"]+)"', rf'id="{safe}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{safe}-\1)", text)
    # one pass for href and xlink:href (two passes would prefix xlink:href twice, and the
    # markers, drawn as <use> of a shared symbol, would point at nothing)
    text = re.sub(r'\b((?:xlink:)?href)="#([^"]+)"', rf'\1="#{safe}-\2"', text)
    width = re.search(r'<svg[^>]*\swidth="([^"]+)"', text)
    height = re.search(r'<svg[^>]*\sheight="([^"]+)"', text)
    text = re.sub(r'(<svg[^>]*?)\swidth="[^"]+"', r"\1", text, count=1)
    text = re.sub(r'(<svg[^>]*?)\sheight="[^"]+"', r"\1", text, count=1)
    del width, height
    text = text.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{title_id} {desc_id}" class="radar" '
        'preserveAspectRatio="xMidYMid meet" ',
        1,
    )
    head_end = text.index(">") + 1
    text = (
        text[:head_end]
        + f'<title id="{title_id}">{html.escape(title)}</title>'
        + f'<desc id="{desc_id}">{html.escape(description)}</desc>'
        + text[head_end:]
    )
    # matplotlib's stylesheet is `*{...}`: inline in a page it would apply to everything
    text = text.replace("*{", f"#{safe} *{{", 1)
    text = text.replace('<svg role="img"', f'<svg id="{safe}" role="img"', 1)
    # metadata block (RDF) adds nothing for a reader
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.strip()


def radar_png(
    axes: Sequence[str], series: Sequence[Series], *, max_level: int, size: float = 5.0
) -> bytes:
    """The same chart as PNG bytes (for Word, which does not show SVG everywhere)."""
    fig = _figure(axes, series, max_level, size)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=180, metadata={"Software": None})
    return buf.getvalue()


def describe(axes: Sequence[str], series: Sequence[Series]) -> str:
    """A sentence per series: what the chart shows, in words."""
    parts = []
    for s in series:
        shown = [f"{a} {_num(v)}" for a, v in zip(axes, s.values, strict=True) if v is not None]
        if shown:
            parts.append(f"{s.label}: " + "; ".join(shown) + ".")
    return " ".join(parts) or "No levels recorded yet."


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
