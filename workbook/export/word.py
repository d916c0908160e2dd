"""The report as a Word document (python-docx), from the same data as the HTML.

The document is built for a committee to edit: A4, Word's own styles for its structure
(Title, Heading 1-3, List Bullet/Number, Quote, Table Grid...), so the navigation pane
works and a user can restyle it. Answers are markdown and become Word formatting (walked
from mistune's syntax tree): bold, italic, lists, links, tables, code, quotes. Raw HTML in
an answer is shown as text; images are never fetched (a link at most); links other than
http(s) and mailto are dropped. Plain user text (comments, notes) keeps its paragraphs.
Evidence notebooks re-run at export (:meth:`_Writer.analysis`) show their provenance, their
markdown as answers' is, their tables as Word tables and their figures as pictures made
from the notebook's own PNG/JPEG bytes (nothing is fetched).

The protective marking is at the top and bottom of every page, with "Page X of Y".
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbook.export.dates import day, duration, moment
from workbook.export.report import NO_NOTE, NOT_ANSWERED
from workbook.export.sanitise import heading_level

RED = "942514"
GREEN = "005A30"
INK = "0B0C0C"
GREY = "484949"
HEADER_FILL = "F3F2F1"
FAILED_FILL = "FCECEA"  # behind RED text: 7.2:1
WHITE = "FFFFFF"
BAND_FILLS = {  # heat map cells, as in the HTML; each keeps its text at 4.5:1 or more
    "low": ("CCE2D8", INK),
    "medium": ("FFF2A8", INK),
    "high": ("F9B889", INK),
    "very_high": ("942514", WHITE),
}

# Characters XML 1.0 cannot hold (python-docx refuses them): C0 controls other than tab
# and line breaks, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_PROPERTY_CHARS = 255
"""Word's limit for a document property such as the title."""

FONT = "Arial"
MONO = "Courier New"
BODY_PT = 11
TABLE_PT = 10
PAGE_CM = (21.0, 29.7)  # A4
MARGIN_CM = {"top": 2.5, "bottom": 2.5, "left": 2.0, "right": 2.0}
TWIPS_PER_CM = 1440 / 2.54
TEXT_WIDTH = round((PAGE_CM[0] - MARGIN_CM["left"] - MARGIN_CM["right"]) * TWIPS_PER_CM)
CELL_PADDING = 280  # twips: Table Grid's cell margins (2 x 108), the borders and a little more
SHORT_COLUMN = 0.25  # of the width: a column whose longest line is shorter is kept on one line
SAFE_SCHEMES = {"http", "https", "mailto"}
_BREAK_AFTER = re.compile(r"([_/])(?=\w)")
"""Where a long identifier in an evidence table may wrap (a zero-width space follows)."""
MAX_FIGURE_CM = 20.0
"""The tallest an evidence figure is drawn (the text block is 24.7 cm tall)."""
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SPACES = re.compile(r"[ \t\r\n]+")
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|>|\|)")


def _xml_safe(value: Any) -> Any:
    """``value`` (report data) with every string stripped of characters XML cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    return value


def _property(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_PROPERTY_CHARS else text[: MAX_PROPERTY_CHARS - 1] + "…"


def _paragraphs(text: str) -> list[str]:
    """Plain user text as paragraphs: blank lines separate them, other line breaks are
    spaces (a comment typed in a text box wraps where the box did)."""
    parts = _PARAGRAPH_BREAK.split(text.strip())
    return [_SPACES.sub(" ", p).strip(" ") for p in parts if p.strip()]


def _through(prompts: list[str]) -> str:
    n = len(prompts)
    return f" (through {n} prompt{'s' if n != 1 else ''})" if n else ""


def _nb(text: str) -> str:
    """``text`` (a date) kept on one line in a table cell."""
    return text.replace(" ", "\u00a0")


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) or mailto link (after entity decoding), else None."""
    url = html.unescape(url or "").strip()
    if not url or re.search(r"[\x00-\x20\x7f]", url):
        return None
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if not scheme or scheme.group(1).lower() not in SAFE_SCHEMES:
        return None
    return url


def signoff_line(so: dict[str, Any]) -> str:
    """``Out of date: changed since revision 12`` / ``Current: ...`` / ``Not signed off``."""
    if so["status"] == "out_of_date":
        return f"Out of date: changed since revision {so['revision']}"
    if so["status"] == "current":
        return "Current: no change since it was signed"
    return "Not signed off"


# --------------------------------------------------------------------------- text widths

# Advance widths (in em) of DejaVu Sans, the widest font likely to stand in for Arial (Arial
# itself is narrower), so a column given the width of its longest word never splits it.
_EM = {
    **dict.fromkeys("ijlIJ|.,:;'!` \u00a0", 0.32),
    **dict.fromkeys('ftr()[]{}-/\\"', 0.41),
    **dict.fromkeys("csz?–", 0.55),
    **dict.fromkeys("ABEFKPRSTVXYZ", 0.70),
    **dict.fromkeys("CDGHNOQU&", 0.79),
    **dict.fromkeys("w", 0.82),
    **dict.fromkeys("mMW%@—", 1.0),
}  # anything else: 0.64 (lower case letters, digits), 1.0 outside ASCII


def _text_twips(text: str, pt: float = TABLE_PT, bold: bool = False) -> int:
    em = sum(_EM.get(ch, 0.64 if ch.isascii() else 1.0) for ch in text)
    return round(em * pt * 20 * 1.05 * (1.1 if bold else 1.0))


def column_widths(
    cells: list[list[tuple[str, bool]]], total: int = TEXT_WIDTH, keep: set[int] | None = None
) -> list[int]:
    """Widths (twips) for a table's columns, much as a browser lays out an automatic table:
    each column at least as wide as its longest word (so no word is split), short columns
    (a status, a date) wide enough for their text on one line, the rest of the width shared
    by how much text each column holds. ``cells`` holds each row's cells as (text, bold);
    columns in ``keep`` are not widened past their longest line."""
    n = max(len(r) for r in cells)
    lo = [CELL_PADDING + 200] * n
    hi = [CELL_PADDING + 200] * n
    for row in cells:
        for i, (text, bold) in enumerate(row):
            for line in text.split("\n"):
                hi[i] = max(hi[i], CELL_PADDING + _text_twips(line, bold=bold))
                for word in re.split("[ \u200b]", line):
                    lo[i] = max(lo[i], CELL_PADDING + _text_twips(word, bold=bold))
    if sum(hi) <= total:
        grow = [i for i in range(n) if i not in (keep or set())] or list(range(n))
        extra = total - sum(hi)
        weight = sum(hi[i] for i in grow)
        widths = [hi[i] + (extra * hi[i] / weight if i in grow else 0) for i in range(n)]
    elif sum(lo) <= total:
        # short columns (a status, a date) on one line if the long ones still fit
        short = [i for i in range(n) if hi[i] <= total * SHORT_COLUMN]
        rest = total - sum(hi[i] for i in short)
        long = [i for i in range(n) if i not in short]
        if not long or rest < sum(lo[i] for i in long):
            short, long, rest = [], list(range(n)), total
        slack = rest - sum(lo[i] for i in long)
        want = {i: hi[i] - lo[i] for i in long}
        widths = [
            hi[i] if i in short else lo[i] + slack * want[i] / (sum(want.values()) or 1)
            for i in range(n)
        ]
    else:  # even the longest words do not fit: share the width by them
        widths = [w * total / sum(lo) for w in lo]
    out = [int(w) for w in widths]
    out[-1] += total - sum(out)
    return out


# --------------------------------------------------------------------------- the writer


class _Cell:
    """A table cell's content: plain text (str), runs [(text, format)], or markdown
    inline tokens."""

    def __init__(self, runs: list[tuple[str, dict[str, Any]]] | None = None, tokens=None):
        self.runs = runs
        self.tokens = tokens

    def text(self) -> str:
        if self.tokens is not None:
            return _plain(self.tokens)
        return "".join(t for t, _ in self.runs or [])


def _plain(tokens: list[dict[str, Any]]) -> str:
    out = []
    for t in tokens:
        if t["type"] in ("softbreak", "linebreak"):
            out.append(" ")
        elif "children" in t:
            out.append(_plain(t["children"]))
        else:
            raw = t.get("raw", "")
            out.append(raw if t["type"] in ("codespan", "inline_html") else html.unescape(raw))
    return "".join(out)


class _Writer:
    def __init__(self, report: dict[str, Any]) -> None:
        from docx import Document

        self.report = report
        self.doc = Document()
        self._style_cache: dict[str, Any] = {}
        self._styles()
        self._markdown = None
        self._after_table = False

    # ------------------------------------------------------------------ set-up

    def _styles(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        doc = self.doc
        styles_el = doc.styles.element
        # document defaults: Arial 11pt, British English
        rpr = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _fonts(rpr, FONT)
        lang = rpr.find(qn("w:lang"))
        lang.set(qn("w:val"), "en-GB")
        lang.set(qn("w:eastAsia"), "en-GB")
        normal = doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        normal.font.color.rgb = RGBColor.from_string(INK)
        _fonts(normal.element.get_or_add_rPr(), FONT)
        normal_lang = OxmlElement("w:lang")
        normal_lang.set(qn("w:val"), "en-GB")
        normal.element.get_or_add_rPr().append(normal_lang)
        normal.paragraph_format.space_after = Pt(6)
        normal.paragraph_format.line_spacing = 1.15
        sizes = {"Title": 26, "Heading 1": 18, "Heading 2": 14, "Heading 3": 12}
        for name in ["Title", "Subtitle", *(f"Heading {n}" for n in range(1, 10))]:
            style = doc.styles[name]
            _fonts(style.element.get_or_add_rPr(), FONT)
            style.font.color.rgb = RGBColor.from_string(INK if name != "Subtitle" else GREY)
            style.font.size = Pt(sizes.get(name, BODY_PT))
            if name.startswith("Heading"):
                style.font.bold = True
                style.font.italic = False
                style.paragraph_format.space_before = Pt(18 if name == "Heading 1" else 12)
                style.paragraph_format.space_after = Pt(6)
        title = doc.styles["Title"]
        title.font.bold = True
        border = title.element.pPr.find(qn("w:pBdr"))
        if border is not None:
            border.find(qn("w:bottom")).set(qn("w:color"), INK)
            for attr in ("w:themeColor", "w:themeShade"):
                border.find(qn("w:bottom")).attrib.pop(qn(attr), None)
        subtitle = doc.styles["Subtitle"]
        subtitle.font.italic = False
        for style in (title, subtitle):  # the template spaces their letters out
            spacing = style.element.rPr.find(qn("w:spacing"))
            if spacing is not None:
                style.element.rPr.remove(spacing)
        numpr = subtitle.element.pPr.find(qn("w:numPr"))
        if numpr is not None:  # the template's subtitle is tied to no list; untie it
            subtitle.element.pPr.remove(numpr)
        for name in ("Header", "Footer"):
            doc.styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        quote = doc.styles["Quote"]
        quote.paragraph_format.left_indent = Pt(18)
        # styles Word has built in but python-docx's template lacks
        link = doc.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER, builtin=True)
        link.font.color.rgb = RGBColor.from_string("1D70B8")
        link.font.underline = True
        code = doc.styles.add_style("HTML Code", WD_STYLE_TYPE.CHARACTER, builtin=True)
        code.font.name = MONO
        pre = doc.styles.add_style("HTML Preformatted", WD_STYLE_TYPE.PARAGRAPH, builtin=True)
        pre.base_style = normal
        pre.font.name = MONO
        pre.font.size = Pt(BODY_PT - 1)
        pre.paragraph_format.space_after = Pt(0)
        pre.paragraph_format.line_spacing = 1.0
        pre.paragraph_format.left_indent = Pt(18)
        for style in (code, pre):
            _fonts(style.element.get_or_add_rPr(), MONO)
        cells = doc.styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
        cells.base_style = normal
        cells.font.size = Pt(TABLE_PT)
        cells.paragraph_format.space_before = Pt(1)
        cells.paragraph_format.space_after = Pt(1)
        cells.paragraph_format.line_spacing = 1.0
        for name in ("Emphasis", "Subtle Emphasis"):  # hints: grey italic
            doc.styles[name].font.color.rgb = RGBColor.from_string(GREY)
            doc.styles[name].element.rPr.find(qn("w:color")).attrib.pop(qn("w:themeColor"), None)

    def _page(self) -> None:
        from docx.shared import Cm

        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
        section.top_margin = Cm(MARGIN_CM["top"])
        section.bottom_margin = Cm(MARGIN_CM["bottom"])
        section.left_margin = Cm(MARGIN_CM["left"])
        section.right_margin = Cm(MARGIN_CM["right"])
        section.header_distance = section.footer_distance = Cm(1.2)
        marking = self.report["marking"]
        head = section.header.paragraphs[0]
        head.style = self.doc.styles["Header"]
        head.add_run(marking).bold = True
        foot = section.footer.paragraphs[0]
        foot.style = self.doc.styles["Footer"]
        foot.add_run(marking).bold = True
        pages = section.footer.add_paragraph(style="Footer")
        pages.add_run("Page ")
        _field(pages, "PAGE", "1")
        pages.add_run(" of ")
        _field(pages, "NUMPAGES", "1")

    def _properties(self) -> None:
        r, p = self.report, self.report["project"]
        cp = self.doc.core_properties
        cp.title = _property(f"{p['tool_name']}: Data Ethics Workbook")
        cp.subject = _property(r["publication"])
        cp.author = _property(p["local_authority"])
        cp.last_modified_by = _property(p["local_authority"])
        exported = datetime.fromisoformat(r["exported_at"])
        if exported.tzinfo is not None:
            exported = exported.astimezone(timezone.utc)
        cp.created = cp.modified = exported
        cp.keywords = _property(
            f"Data Ethics Workbook; children's social care; {p['tool_name']}; {r['marking']}"
        )
        cp.comments = _property(p["description"] or "")
        cp.category = r["marking"]
        cp.language = r.get("language") or "en-GB"
        cp.revision = max(1, int(r["revision"] or 1))
        self._package_metadata()

    def _package_metadata(self) -> None:
        """Nothing left from python-docx's template: no preview of a blank page, no
        "Microsoft Macintosh Word", spelling not marked as checked, British English."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.oxml.ns import qn

        package = self.doc.part.package
        for rid, rel in list(package.rels.items()):
            if rel.reltype == RT.THUMBNAIL:
                package.rels.pop(rid)
            elif rel.reltype == RT.EXTENDED_PROPERTIES:
                rel.target_part._blob = (
                    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'extended-properties"><Application>ethics-workbook</Application>'
                    b"</Properties>"
                )
        for rid, rel in list(self.doc.part.rels.items()):
            if rel.reltype.endswith("/stylesWithEffects"):  # the template's old styles
                self.doc.part.rels.pop(rid)
        settings = self.doc.settings.element
        for tag in ("w:proofState", "w:savePreviewPicture", "w:rsids"):
            for el in settings.findall(qn(tag)):
                settings.remove(el)
        for el in settings.findall(qn("w:themeFontLang")):
            el.set(qn("w:val"), "en-GB")

    # ------------------------------------------------------------------ blocks

    def style(self, name: str):
        """The style object for ``name``, looked up once. python-docx finds a style named by
        a string by searching every style in the document each time, which was most of the
        Word export's cost."""
        found = self._style_cache.get(name)
        if found is None:
            found = self._style_cache[name] = self.doc.styles[name]
        return found

    def set_style(self, para, name: str) -> None:
        """Give ``para`` the paragraph style ``name`` by its id. python-docx's own setter
        also looks for the default style among all the document's styles each time."""
        para._p.style = None if name == "Normal" else self.style(name).style_id

    def new(self, style: str | None = None):
        """A new paragraph; the first after a table keeps a little space from it."""
        from docx.shared import Pt

        para = self.doc.add_paragraph()
        if style:
            self.set_style(para, style)
        if self._after_table:
            para.paragraph_format.space_before = Pt(8)
            self._after_table = False
        return para

    def heading(self, text: str, level: int, *, page_break: bool = False):
        para = self.new_heading(level)
        self.run(para, text)
        if page_break:
            para.paragraph_format.page_break_before = True
        return para

    def new_heading(self, level: int):
        self._after_table = False
        para = self.doc.add_paragraph()
        self.set_style(para, "Title" if level == 0 else f"Heading {level}")
        return para

    def para(self, *runs: tuple[str, dict[str, Any]] | str, style: str | None = None):
        para = self.new(style)
        for item in runs:
            text, fmt = (item, {}) if isinstance(item, str) else item
            self.run(para, text, **fmt)
        return para

    def run(self, para, text: str, *, parent=None, **fmt: Any):
        from docx.shared import RGBColor

        if fmt.get("br"):  # a line break before the text
            para.add_run().add_break()
        r = para.add_run(text.replace("\r", "").replace("\n", " "))
        if fmt.get("style"):
            r._r.style = self.style(fmt["style"]).style_id
        for key in ("bold", "italic", "strike"):
            if fmt.get(key):
                setattr(r.font if key == "strike" else r, key, True)
        if fmt.get("underline"):
            r.font.underline = True
        if fmt.get("color"):
            r.font.color.rgb = RGBColor.from_string(fmt["color"])
        if parent is not None:
            parent.append(r._r)
        return r

    def missing(self, text: str, style: str | None = None):
        return self.para((text, {"italic": True, "color": RED}), style=style)

    def hint(self, text: str):
        return self.para((text, {"style": "Subtle Emphasis"}))

    def text(self, text: str, *, style: str | None = None, first=(), last=()) -> None:
        """Plain user text as paragraphs in ``style``; ``first`` runs lead the first,
        ``last`` runs end the last. Later paragraphs of a list item continue it."""
        parts = _paragraphs(text) or [""]
        cont = _continue_style(style)
        for i, part in enumerate(parts):
            runs = [*(first if i == 0 else ()), part, *(last if i == len(parts) - 1 else ())]
            self.para(*runs, style=style if i == 0 else cont)

    def table(
        self,
        header: list[Any] | None,
        rows: list[list[Any]],
        *,
        labels: bool = False,
        align: list[str | None] | None = None,
        header_rows: list[list[Any]] | None = None,
    ):
        """A Table Grid table: ``header`` (bold, repeated on each page) unless None, or
        several ``header_rows``; no row splits across pages; columns as wide as their
        text needs. ``labels``: the first column names each row (bold, not widened).
        Cells are str (plain text, paragraphs kept), _Cell or a (text, format) run."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Twips

        heads = header_rows if header_rows is not None else ([header] if header else [])
        if not rows and not heads:
            return None
        body = [[c if isinstance(c, str | _Cell) else _Cell([c]) for c in row] for row in rows]
        measured = [[(h if isinstance(h, str) else h.text(), True) for h in hr] for hr in heads]
        for row in body:
            measured.append(
                [
                    (
                        "\n".join(_paragraphs(c)) if isinstance(c, str) else c.text(),
                        labels and i == 0,
                    )
                    for i, c in enumerate(row)
                ]
            )
        widths = column_widths(measured, keep={0} if labels else None)
        n = len(widths)
        table = self.doc.add_table(rows=0, cols=n)
        table._tbl.tblStyle_val = self.style("Table Grid").style_id
        table.autofit = False
        tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
        if tbl_w is None:
            tbl_w = OxmlElement("w:tblW")
            table._tbl.tblPr.append(tbl_w)
        tbl_w.set(qn("w:w"), str(sum(widths)))
        tbl_w.set(qn("w:type"), "dxa")
        for col, w in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
            col.w = Twips(w)
        alignments = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}

        def add_row(cells: list[Any], *, head: bool) -> None:
            row = table.add_row()
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(OxmlElement("w:cantSplit"))
            if head:
                tr_pr.append(OxmlElement("w:tblHeader"))
            for i, (cell, value) in enumerate(zip(row.cells, cells, strict=True)):
                cell.width = Twips(widths[i])
                bold = head or (labels and i == 0)
                self._fill(cell, value, bold=bold)
                if align and align[i] in alignments:
                    for p in cell.paragraphs:
                        p.alignment = alignments[align[i]]
                if head:
                    shade = OxmlElement("w:shd")
                    shade.set(qn("w:val"), "clear")
                    shade.set(qn("w:color"), "auto")
                    shade.set(qn("w:fill"), HEADER_FILL)
                    cell._tc.get_or_add_tcPr().append(shade)

        for head_row in heads:
            add_row(head_row, head=True)
        for cells in body:
            add_row(cells, head=False)
        self._after_table = True
        return table

    def _fill(self, cell, value: Any, *, bold: bool) -> None:
        para = cell.paragraphs[0]
        self.set_style(para, "Table Text")
        if isinstance(value, _Cell) and value.tokens is not None:
            self.md.inline(para, value.tokens, {"bold": True} if bold else {})
        elif isinstance(value, _Cell):
            for text, fmt in value.runs or []:
                self.run(para, text, **{**({"bold": True} if bold else {}), **fmt})
        else:
            for i, part in enumerate(_paragraphs(value) or [""]):
                if i == 0:
                    p = para
                else:
                    p = cell.add_paragraph()
                    self.set_style(p, "Table Text")
                self.run(p, part, bold=bold)

    @property
    def md(self) -> _Markdown:
        if self._markdown is None:
            self._markdown = _Markdown(self)
        return self._markdown

    # ------------------------------------------------------------------ the report

    def write(self, path: Path) -> None:
        self._properties()
        self._page()
        self.cover()
        self.oversight()
        self.progress()
        self.actions()
        self.risks()
        self.framework()
        for ph in self.report["phases"]:
            self.phase(ph)
        self.para(("", {}))
        self.para((self.report["attribution"], {"style": "Subtle Emphasis"}))
        self.doc.save(str(path))

    def cover(self) -> None:
        r, p = self.report, self.report["project"]
        self.para(p["tool_name"], style="Title")
        self.para(f"{r['title']}: {r['subtitle']}", style="Subtitle")
        self.table(
            None,
            [
                ["Publication", r["publication"]],
                ["Local authority", p["local_authority"]],
                ["Owner", p["owner"] or "Not recorded"],
                ["Oversight group", p["oversight_group"] or "Not recorded"],
                ["Revision", str(r["revision"])],
                ["Exported", moment(r["exported_at"])],
            ],
            labels=True,
        )
        if p["description"]:
            self.para("")
            self.text(p["description"])

    def oversight(self) -> None:
        r = self.report
        self.heading("Sign-off", 1)
        rows = []
        for ph in r["phases"]:
            so = ph["signoff"]
            role = f" ({so['role']})" if so["role"] else ""
            late = so["status"] == "out_of_date"
            rows.append(
                [
                    ph["title"],
                    (
                        ("⚠ " if late else "") + signoff_line(so),
                        {"bold": True, **({"color": RED} if late else {})},
                    ),
                    so["decision_label"] if so["decision"] else "–",
                    (so["reviewer"] or "–") + role,
                    _nb(day(so["signed_at"])) or "–",
                    str(so["revision"] or "–"),
                ]
            )
        self.table(["Phase", "State", "Decision", "Reviewer", "Signed", "Revision signed"], rows)
        items = r["open_challenges"]
        self.heading(f"Open challenges ({len(items)})", 2)
        if not items:
            self.para("None: no challenge is waiting for an answer.")
            return
        self.para("A phase cannot be approved while a challenge on it is open.")
        for c in items:
            n = len(c["replies"])
            replies = f", {n} repl{'y' if n == 1 else 'ies'}" if n else ""
            self.text(
                c["text"],
                style="List Bullet",
                first=[(f"{c['target_label']}: ", {"bold": True})],
                last=[
                    (f" ({c['author']}, {day(c['created_at'])}{replies})", {"style": "Emphasis"})
                ],
            )

    def progress(self) -> None:
        r = self.report
        self.heading("Progress", 1)
        self.table(
            [
                "Phase",
                "Questions complete",
                "Answered",
                "Further work",
                "Prompt notes",
                "Checklist done",
                "Progress",
            ],
            [
                [
                    ph["title"],
                    f"{g['complete']} of {g['questions']}",
                    f"{g['answered']} of {g['questions']}",
                    str(g["further_work"]),
                    f"{g['prompts_noted']} of {g['prompts']}",
                    f"{g['checklist_done']} of {g['checklist']}",
                    f"{g['percent']}%",
                ]
                for ph in r["phases"]
                for g in [ph["progress"]]
            ],
        )
        items = r["outstanding"]
        if not items:
            self.heading("Outstanding questions", 2)
            self.para("None: every question is answered.")
            return
        self.heading(f"Outstanding questions ({len(items)})", 2)
        self.para('Not yet answered, or marked "further work needed":')
        for i in items:
            self.para(
                f"Question {i['number']}: {_clip(i['text'])} ",
                (f"({', '.join(i['reasons'])})", {"bold": True}),
                style="List Bullet",
            )

    def actions(self) -> None:
        actions = self.report["actions"]
        self.heading("Action plan", 1)
        if not actions:
            self.para("No further-work actions have been recorded.")
            return
        late = sum(a["overdue"] for a in actions)
        self.para(
            f"{len(actions)} further-work action{'s' if len(actions) != 1 else ''} across the "
            f"workbook, {late} overdue (open and past the due date)."
        )
        self.table(
            ["Question", "Action", "Owner", "Due", "Status", "Overdue"],
            [
                [
                    f"Question {a['question_number']}",
                    a["action"],
                    a["owner"] or "–",
                    _nb(day(a["due"])) or "–",
                    a["status"].capitalize(),
                    ("Overdue", {"bold": True, "color": RED}) if a["overdue"] else "No",
                ]
                for a in actions
            ],
        )

    def framework(self) -> None:
        """The Data Ethics Framework cross-walk: actions and principles, questions, gaps."""
        fw = self.report["framework"]
        self.heading("The Data Ethics Framework", 1)
        lead = self.para(
            f"How this workbook's answers serve the {fw['name']} ({fw['publisher']}): its "
            f"{len(fw['actions'])} specific actions and {len(fw['principles'])} overarching "
            "principles, and the questions that show each. A gap is a question that is not "
            "complete yet. The cross-walk is this workbook's own."
        )
        lead.paragraph_format.keep_with_next = True
        for title, rows in (
            ("Specific actions", fw["actions"]),
            ("Overarching principles", fw["principles"]),
        ):
            self.heading(title, 2)
            body = []
            for r in rows:
                serving = "\n".join(
                    f"Question {q['number']}{_through(q['prompts'])}: {q['status']}"
                    for q in r["questions"]
                )
                gaps = ", ".join(f"Q{n}" for n in r["gaps"])
                name = f"{r['number']}. {r['name']}" if r["number"] else r["name"]
                body.append(
                    [name, serving, (gaps, {"bold": True, "color": RED}) if gaps else "None"]
                )
            self.table(["Action" if rows[0]["number"] else "Principle", "Questions", "Gaps"],
                       body, labels=True)  # fmt: skip

    def risks(self) -> None:
        """The risk register: summary, category coverage, heat map, every risk."""
        reg = self.report["risks"]
        scale, items = reg["scale"], reg["items"]
        self.heading("Risk register", 1)
        if items:
            high = sum(
                (r["after"] if r["after"]["score"] is not None else r["before"])["band_id"]
                in ("high", "very_high")
                for r in items
            )
            late = sum(r["review_overdue"] for r in items)
            self.para(
                f"{len(items)} risk{'s' if len(items) != 1 else ''}: {high} with a high or very "
                f"high remaining score, {late} review{'s' if late != 1 else ''} overdue. Scored "
                f"on the {scale['name']} scale: {scale['likelihood_name'].lower()} times "
                f"{scale['impact_name'].lower()}."
            )
        else:
            self.para(
                ("No risks recorded yet.", {"italic": True, "color": RED}),
                f" Scored on the {scale['name']} scale.",
            )
        self.heading("Category coverage", 2)
        lead = self.para(
            "Each of the seven digital ethics categories needs at least one risk, or a note of "
            "why it does not apply."
        )
        lead.paragraph_format.keep_with_next = True
        rows = []
        for c in reg["coverage"]:
            how = c["how"][:1].upper() + c["how"][1:]
            considered = c["reason"].strip() and not c["risks"]
            why = f": {' '.join(c['reason'].split())}" if considered else ""
            rows.append(
                [
                    (c["name"], {"bold": True}) if not c["covered"] else c["name"],
                    _Cell(
                        [(how, {} if c["covered"] else {"italic": True, "color": RED}), (why, {})]
                    ),
                ]
            )
        _keep_together(self.table(["Category", "Coverage"], rows))
        if reg["uncovered"]:
            n, total = len(reg["uncovered"]), len(reg["coverage"])
            self.para(
                (f"Not yet covered ({n} of {total}): ", {"bold": True}),
                "; ".join(reg["uncovered"]) + ".",
            )
        else:
            self.para("Every category is covered, by a risk or by a note of why it does not apply.")
        if not items:
            return
        self.heat_map(reg)
        self.heading("Risks", 2)
        for r in items:
            self.risk(r, scale)

    def heat_map(self, reg: dict[str, Any]) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        scale = reg["scale"]
        likelihood = {lv["value"]: lv["label"] for lv in scale["likelihood"]}
        missing = [
            f"{when} mitigation {', '.join(found)}"
            for when in ("before", "after")
            if (found := [r["number"] for r in reg["items"] if r[when]["score"] is None])
        ]
        self.heading("Heat map", 2)
        lead = self.para(
            f"Where each risk sits before mitigation and after it. Rows are "
            f"{scale['likelihood_name'].lower()}, most likely first; columns are "
            f"{scale['impact_name'].lower()}, least first. A cell shows its band and score."
            + (f" Not rated yet, so not on the map: {'; '.join(missing)}." if missing else "")
        )
        rows = []
        for row in reg["heatmap"]:
            cells: list[Any] = [f"{likelihood[row[0]['likelihood']]} ({row[0]['likelihood']})"]
            for c in row:
                ink = BAND_FILLS.get(c["band_id"], ("", INK))[1]
                runs: list[tuple[str, dict[str, Any]]] = [
                    (f"{c['band']} ({c['score']})", {"color": ink})
                ]
                for label, found in (("Before", c["before"]), ("After", c["after"])):
                    if found:
                        line = f"{label}: {', '.join(found)}"
                        runs.append((line, {"bold": True, "color": ink, "br": True}))
                cells.append(_Cell(runs))
            rows.append(cells)
        lead.paragraph_format.keep_with_next = True
        header = [f"{scale['likelihood_name']} / {scale['impact_name'].lower()}"] + [
            f"{iv['label']} ({iv['value']})" for iv in scale["impact"]
        ]
        table = self.table(header, rows, labels=True)
        _keep_together(table)
        for tr, row in zip(table.rows[1:], reg["heatmap"], strict=True):
            for cell, c in zip(tr.cells[1:], row, strict=True):
                fill = BAND_FILLS.get(c["band_id"])
                if fill:
                    shade = OxmlElement("w:shd")
                    shade.set(qn("w:val"), "clear")
                    shade.set(qn("w:color"), "auto")
                    shade.set(qn("w:fill"), fill[0])
                    cell._tc.get_or_add_tcPr().append(shade)

    def risk(self, r: dict[str, Any], scale: dict[str, Any]) -> None:
        def rating(x: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
            if x["score"] is None:
                return [("not rated yet", {"italic": True, "color": RED})]
            return [
                (f"{x['score']} {x['band']}", {"bold": True}),
                (
                    f" ({scale['likelihood_name'].lower()} {x['likelihood']}, "
                    f"{scale['impact_name'].lower()} {x['impact']})",
                    {},
                ),
            ]

        self.heading(f"{r['number']}: {r['title']}", 3)
        if r["description"].strip():
            self.text(r["description"])
        rows: list[list[Any]] = [
            ["Category", r["category_name"]],
            ["Affects", ", ".join(r["affected"]) or "Not recorded"],
            ["Questions", ", ".join(f"Question {n}" for n in r["questions"]) or "None"],
        ]
        if r["cause"].strip():
            rows.append(["Cause", r["cause"]])
        rows.append(
            [
                "Score",
                _Cell(
                    [
                        ("Before mitigation ", {}),
                        *rating(r["before"]),
                        (" → after ", {}),
                        *rating(r["after"]),
                    ]  # fmt: skip
                ),
            ]
        )
        rows.append(
            [
                "Mitigations",
                "\n\n".join(
                    " ".join(m["text"].split())
                    + (f" (further work: {m['action']})" if m["action"] else "")
                    for m in r["mitigations"]
                )
                if r["mitigations"]
                else ("None recorded", {"italic": True, "color": RED}),
            ]
        )
        rows.append(["Owner", r["owner"] or ("No owner yet", {"italic": True, "color": RED})])
        rows.append(["Status", r["status"].capitalize()])
        if r["review_by"]:
            review = [(_nb(day(r["review_by"])), {})]
            if r["review_overdue"]:
                review.append((" (overdue)", {"bold": True, "color": RED}))
            rows.append(["Review by", _Cell(review)])
        else:
            rows.append(["Review by", "Not set"])
        if r["note"].strip():
            rows.append(["Note", r["note"]])
        _keep_together(self.table(None, rows, labels=True))
        if r["threads"]:
            self.heading(f"Comments ({len(r['threads'])})", 4)
            self.threads(r["threads"], label=False)

    def signoff(self, ph: dict[str, Any]) -> None:
        so = ph["signoff"]
        if so["status"] == "none":
            self.para(
                ("Sign-off: not signed off.", {"bold": True}),
                " No reviewer has recorded a decision on this phase yet.",
            )
            return
        if so["status"] == "out_of_date":
            self.para(
                (
                    f"⚠ Sign-off out of date: changed since revision {so['revision']}.",
                    {"bold": True, "color": RED},
                ),
                " The phase has been edited since the reviewer signed it; the decision below "
                "was made on the earlier text.",
            )
        else:
            self.para(
                ("Sign-off current.", {"bold": True}),
                f" Nothing in this phase has changed since revision {so['revision']}, which the "
                "reviewer signed.",
            )
        role = f" ({so['role']})" if so["role"] else ""
        rows = [
            ["Decision", so["decision_label"]],
            ["Reviewer", f"{so['reviewer']}{role}"],
            ["Signed", day(so["signed_at"])],
            ["Revision signed", str(so["revision"])],
        ]
        if so["conditions"]:
            rows.append(["Conditions", so["conditions"]])
        self.table(None, rows, labels=True)

    def changes(self, ph: dict[str, Any]) -> None:
        ch = ph["changes"]
        if ch is None:
            return
        self.heading("Changes since last sign-off", 2)
        if not ch["signed"]:
            self.para("This phase has never been signed off, so there is nothing to compare.")
            return
        if not ch["fields"]:
            self.para(f"No changes since revision {ch['since_revision']}, which was signed.")
            return
        n = len(ch["fields"])
        self.para(
            f"{n} field{'s' if n != 1 else ''} changed since revision {ch['since_revision']}, "
            "which was signed. Removed words are ",
            ("struck through", {"strike": True, "color": RED}),
            "; added words are ",
            ("underlined", {"underline": True, "color": GREEN}),
            ".",
        )
        for f in ch["fields"]:
            self.heading(f["label"], 3)
            revs = ", ".join(str(r) for r in f["revisions"])
            self.hint(
                f"Changed by {', '.join(f['users'])}, last on {day(f['time'])} "
                f"(revision{'s' if len(f['revisions']) > 1 else ''} {revs})"
            )
            self.diff(f["diff"])

    def diff(self, ops: list[list[str]]) -> None:
        """Word-diff runs: removed words struck through, added words underlined. A blank
        line, or a line starting a list item, heading, quote or table row, starts a new
        paragraph (as markdown reads it); other line breaks are spaces."""
        if not ops:
            self.missing("(empty)")
            return
        para = self.new()
        previous = ""
        formats = {
            "delete": {"strike": True, "color": RED},
            "insert": {"underline": True, "color": GREEN},
        }
        for op, text in ops:
            if op == "insert" and previous == "delete":
                self.run(para, " ")
            previous = op
            chunks = _PARAGRAPH_BREAK.split(text)
            for i, chunk in enumerate(chunks):
                if i:
                    para = self.new()
                for j, line in enumerate(chunk.split("\n")):
                    if j and _BLOCK_START.match(line):
                        para = self.new()
                    elif j:
                        self.run(para, " ")
                    if line:
                        self.run(para, line, **formats.get(op, {}))

    def threads(self, items: list[dict[str, Any]], *, label: bool) -> None:
        for t in items:
            state = (
                f"Resolved by {t['resolved_by'] or 'unknown'}, {day(t['resolved_at'])}"
                if t["resolved"]
                else "Open"
            )
            role = f" ({t['role']})" if t["role"] else ""
            head = self.para(
                f"{t['target_label']}: " if label else "",
                (t["kind_label"], {"bold": True}),
                f" from {t['author']}{role}, {day(t['created_at'])} · ",
                (state, {"bold": True}),
                style="List Bullet",
            )
            head.paragraph_format.keep_with_next = True
            self.text(t["text"], style="List Continue")
            for reply in t["replies"]:
                self.text(
                    reply["text"],
                    style="List Bullet 2",
                    first=[
                        (
                            f"Reply from {reply['author']}, {day(reply['created_at'])}: ",
                            {"style": "Emphasis"},
                        )
                    ],
                )

    def phase(self, ph: dict[str, Any]) -> None:
        self.heading(ph["title"], 1, page_break=True)
        self.hint(ph["stages"])
        self.signoff(ph)
        self.changes(ph)
        self.heading("Checklist", 2)
        self.para(ph["checklist_lead"])
        self.table(
            ["Item", "Status", "Note"],
            [
                [
                    i["text"],
                    i["status_label"]
                    if i["status"]
                    else (i["status_label"], {"italic": True, "color": RED}),
                    i["note"] or (NO_NOTE, {"italic": True, "color": RED}),
                ]
                for i in ph["checklist"]
            ],
        )
        commented = [
            {**t, "target_label": item["text"]} for item in ph["checklist"] for t in item["threads"]
        ]
        if commented:
            self.heading("Comments on the checklist", 3)
            self.threads(commented, label=True)
        if ph["note"]:
            self.text(ph["note"], first=[("Phase note: ", {"bold": True})])
        for q in ph["questions"]:
            self.question(q)

    def question(self, q: dict[str, Any]) -> None:
        self.heading(f"Question {q['number']}: {q['text']}", 2)
        late = q["status"] == "further_work_needed"
        self.para(("Status: ", {"bold": True}), (q["status_label"], {"color": RED} if late else {}))
        if q["prompts"]:
            self.heading("Things to consider, with notes", 3)
            for pr in q["prompts"]:
                if pr["lead"]:
                    self.para((pr["lead"], {"style": "Emphasis"}))
                style = "List Bullet 2" if pr["depth"] else "List Bullet"
                self.para((pr["text"], {"bold": True}), style=style)
                if pr["note"].strip():
                    self.text(pr["note"], style=_continue_style(style))
                else:
                    self.missing("No note yet.", style=_continue_style(style))
        self.heading("Answer", 3)
        if q["response"].strip():
            self.md.blocks(q["response"])
        else:
            self.missing(NOT_ANSWERED)
        informed = ", ".join(q["informed_by"]) or "None recorded"
        self.para(("Whose views informed this answer: ", {"bold": True}), informed)
        if q["informed_note"]:
            self.text(q["informed_note"])
        self.heading("Evidence", 3)
        analyses = q.get("analyses") or []
        if q["evidence"]:
            for e in q["evidence"]:
                desc = f" – {e['description']}" if e["description"] else ""
                self.text(f"{e['reference']}{desc}", style="List Bullet")
        elif analyses:
            noun = "analysis" if len(analyses) == 1 else "analyses"
            self.para(f"No evidence recorded besides the {noun} below.")
        else:
            self.missing("No evidence recorded.")
        for a in analyses:
            self.analysis(a)
        self.heading("Further work", 3)
        if q["further_work"]:
            self.table(
                ["Action", "Owner", "Due", "Status"],
                [
                    [
                        a["action"],
                        a["owner"] or "–",
                        _nb(day(a["due"])) or "–",
                        _Cell(
                            [(a["status"].capitalize(), {})]
                            + (
                                [(" (overdue)", {"bold": True, "color": RED})]
                                if a["overdue"]
                                else []
                            )
                        ),
                    ]
                    for a in q["further_work"]
                ],
            )
        else:
            self.para("No further-work actions.")
        if q["threads"]:
            self.heading(f"Comments ({len(q['threads'])})", 3)
            self.threads(q["threads"], label=False)
        if q["updated_by"]:
            self.hint(f"Last changed by {q['updated_by']} on {day(q['updated_at'])}.")

    # ------------------------------------------------------------------ evidence notebooks

    def analysis(self, a: dict[str, Any]) -> None:
        """An evidence notebook re-run at export: how the run went (in words, and a red
        bold lead when it did not pass), where it came from, then what it showed."""
        from workbook.export.render import analysis_state

        self.heading(f"Analysis re-run at export: {a['title']}", 3)
        lead, sentence = analysis_state(a)
        passed = a["status"] == "passed"
        state = _Cell([(f"{lead}: ", {"bold": True, **({} if passed else {"color": RED})}),
                       (sentence, {})])  # fmt: skip
        when = a["ran_at_label"] + (f" by {a['ran_by']}" if a.get("ran_by") else "")
        if a["status"] != "refused":
            when += f", taking {duration(a['duration_s'])}"
        facts = [
            ["Result", state],
            ["Notebook", a["name"]],
            ["Run" if a["status"] != "refused" else "Checked", when],
            ["Kernel", a["kernel"]],
            ["Notebook hash", _Cell([(a["short_hash"], {"style": "HTML Code"}),
                                     (f"SHA-256: {a['sha256']}", {"br": True, "color": GREY,
                                                                  "style": "HTML Code"})])],
        ]  # fmt: skip
        if a.get("with_code"):
            facts.append(["Code", "shown beside its outputs"])
        table = self.table(None, facts, labels=True)
        if table is not None:
            _keep_together(table)
            if not passed:  # the result on a red fill, beside the words
                _shade(table.rows[0].cells[1], FAILED_FILL)
        items = a.get("items") or []
        previous = "table"
        for item in items:
            kind = item.get("kind")
            if kind == "table" and previous == "table":
                self.new()  # two tables in a row would merge into one
            previous = kind
            if kind == "markdown":
                self.md.blocks(item["text"], below=3)
            elif kind == "table":
                self.data_table(item)
            elif kind == "image":
                self.picture(item, a["title"])
            elif kind in ("text", "code"):
                for line in str(item["text"]).rstrip("\n").split("\n"):
                    self.run(self.new("HTML Preformatted"), line)
                self._after_table = True  # a little space after the block
            elif kind == "error":
                self.para((f"This cell failed: {item['name']}", {"bold": True, "color": RED}))
        if not items and passed:
            self.para("The notebook showed nothing.")

    def data_table(self, item: dict[str, Any]) -> None:
        """An evidence table: its heading rows repeated on each page, its first column
        bold when the notebook's table names each row there."""
        width = max((len(r) for r in [*item["header"], *item["rows"]]), default=0)
        if not width:
            return

        def pad(row: list[Any]) -> list[str]:
            # a field name such as needed_statutory_support may wrap after an underscore
            cells = [_BREAK_AFTER.sub("\\1\u200b", str(c)) for c in row]
            return cells + [""] * (width - len(row))

        if item.get("caption"):
            self.para((item["caption"], {"bold": True}))
        self.table(
            None,
            [pad(r) for r in item["rows"]],
            header_rows=[pad(r) for r in item["header"]],
            labels=bool(item.get("index")),
        )
        if item.get("more"):
            more = item["more"]
            self.hint(f"{more} more row{'' if more == 1 else 's'} not shown.")

    def picture(self, item: dict[str, Any], title: str) -> None:
        """A figure from the notebook's own bytes (never fetched), as wide as its pixels
        allow up to the text column, no taller than most of a page, with its alt text."""
        import io

        from docx.shared import Cm, Twips

        alt = str(item.get("alt") or f"A figure from {title}")
        raw = _word_image(item)
        if raw is None:
            self.missing(f"Figure: {alt} (it could not be placed in this Word document)")
            return
        para = self.new()
        shape = para.add_run().add_picture(io.BytesIO(raw))
        scale = min(1.0, Twips(TEXT_WIDTH) / shape.width, Cm(MAX_FIGURE_CM) / shape.height)
        shape.width, shape.height = int(shape.width * scale), int(shape.height * scale)
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", alt)
        doc_pr.set("title", alt[:255])


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shade = OxmlElement("w:shd")
    shade.set(qn("w:val"), "clear")
    shade.set(qn("w:color"), "auto")
    shade.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shade)


def _word_image(item: dict[str, Any]) -> bytes | None:
    """An evidence figure's bytes as Word will show them: a PNG or JPEG python-docx reads,
    as it is; anything else it cannot read (a JPEG without a JFIF or Exif header, say),
    or a JPEG turned by its Exif orientation, redrawn upright as a PNG by Pillow.
    None when the bytes are not an image at all."""
    import base64
    import binascii
    import io

    from docx.image.image import Image

    mime = item.get("mime")
    if mime not in ("image/png", "image/jpeg"):
        return None
    try:
        raw = base64.b64decode(str(item.get("data") or ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        Image.from_blob(raw)
        readable = True
    except Exception:  # python-docx raises several kinds for an image it cannot read
        readable = False
    if readable and mime == "image/png":
        return raw
    try:
        from PIL import Image as Pillow
        from PIL import ImageOps

        with Pillow.open(io.BytesIO(raw)) as image:
            if readable and image.getexif().get(0x0112, 1) == 1:
                return raw  # a JPEG python-docx reads, already upright
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            dpi = image.info.get("dpi")
            upright.save(out, "PNG", **({"dpi": dpi} if dpi else {}))
            return out.getvalue()
    except Exception:  # not an image Pillow can read either
        return None


def _continue_style(style: str | None) -> str | None:
    """The style for a list item's later paragraphs: List Bullet 2 -> List Continue 2."""
    if not style or not style.startswith(("List Bullet", "List Number")):
        return style
    level = style.rsplit(" ", 1)[-1]
    return "List Continue" + (f" {level}" if level.isdigit() else "")


def _keep_together(table) -> None:
    """``table`` on one page where it fits: each row kept with the next."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for para in cell.paragraphs:
                para.paragraph_format.keep_with_next = True


def _fonts(rpr, name: str) -> None:
    """``rpr`` (a w:rPr) in font ``name``, theme fonts (which win over named ones) removed."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), name)


def _field(para, instruction: str, shown: str) -> None:
    """A field (PAGE, NUMPAGES) that Word and LibreOffice fill in as they lay out pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        para.add_run()._r.append(el)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    para.add_run()._r.append(instr)
    char("separate")
    para.add_run(shown)
    char("end")


# --------------------------------------------------------------------------- markdown


class _Markdown:
    """User markdown (an answer) as Word paragraphs, walking mistune's syntax tree.

    Headings go below the question's (``Answer`` is Heading 3, so ``#`` is Heading 4).
    Raw HTML is text; images are a link at most; unsafe links are plain text."""

    HEADING_BASE = 3

    def __init__(self, writer: _Writer) -> None:
        import mistune

        self.w = writer
        self.parse = mistune.create_markdown(renderer=None, plugins=["strikethrough", "table"])
        self.below = 0

    def blocks(self, text: str, *, below: int = 0) -> None:
        """``text`` as paragraphs; with ``below``, its headings go under a heading of that
        level (an evidence notebook's, see :func:`~workbook.export.sanitise.heading_level`)."""
        self.below = below
        try:
            self._blocks(self.parse(text), style=None, depth=0)
        finally:
            self.below = 0

    def _blocks(self, tokens: list[dict[str, Any]], *, style: str | None, depth: int) -> None:
        previous = ""
        for t in tokens:
            kind = t["type"]
            if kind == "blank_line":
                continue
            if kind == "table" and previous == "table":
                self.w.new()  # two tables in a row would merge into one
            previous = kind
            if kind in ("paragraph", "block_text"):
                self.inline(self.w.new(style), t.get("children", []))
            elif kind == "heading":
                level = t["attrs"]["level"]
                if self.below:
                    level = heading_level(level, self.below)
                else:
                    level = min(9, self.HEADING_BASE + level)
                self.inline(self.w.new_heading(level), t.get("children", []))
            elif kind == "list":
                self._list(t, depth)
            elif kind == "block_quote":
                self._blocks(t.get("children", []), style="Quote", depth=depth)
            elif kind == "block_code":
                for line in t.get("raw", "").rstrip("\n").split("\n"):
                    self.w.run(self.w.new("HTML Preformatted"), line)
            elif kind == "table":
                self._table(t)
            elif kind == "thematic_break":
                _rule(self.w.new())
            elif kind == "block_html":
                self.w.text(t.get("raw", ""), style=style)
            elif "children" in t:
                self._blocks(t["children"], style=style, depth=depth)
            elif t.get("raw"):
                self.w.text(t["raw"], style=style)

    def _list(self, token: dict[str, Any], depth: int) -> None:
        ordered = token["attrs"].get("ordered", False)
        level = min(depth, 2)
        suffix = f" {level + 1}" if level else ""
        style = ("List Number" if ordered else "List Bullet") + suffix
        num_id = self._restart(style, token["attrs"].get("start", 1)) if ordered else None
        for item in token.get("children", []):
            first = True
            for child in item.get("children", []):
                kind = child["type"]
                if kind in ("paragraph", "block_text"):
                    para = self.w.new(style if first else _continue_style(style))
                    if first and num_id is not None:
                        _number(para, num_id)
                    self.inline(para, child.get("children", []))
                    first = False
                elif kind == "list":
                    self._list(child, depth + 1)
                elif kind != "blank_line":
                    self._blocks([child], style=_continue_style(style), depth=depth + 1)
                    first = False

    def _restart(self, style: str, start: int) -> int | None:
        """A new numbering instance of ``style``'s list, starting at ``start``, so each
        numbered list in the document counts from its own first item."""
        from docx.oxml.ns import qn

        pr = self.w.doc.styles[style].element.pPr
        num_pr = pr.find(qn("w:numPr")) if pr is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self.w.doc.part.numbering_part.element
        abstract = numbering.num_having_numId(num_pr.numId.val).abstractNumId.val
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(max(0, int(start)))
        return num.numId

    def _table(self, token: dict[str, Any]) -> None:
        head = next((c for c in token["children"] if c["type"] == "table_head"), None)
        body = next((c for c in token["children"] if c["type"] == "table_body"), None)
        header_cells = head["children"] if head else []
        rows = [r["children"] for r in (body["children"] if body else [])]
        n = max([len(header_cells), *(len(r) for r in rows)] or [0])
        if not n:
            return
        align = [(c.get("attrs") or {}).get("align") for c in header_cells] + [None] * n

        def cells(row: list[dict[str, Any]]) -> list[_Cell]:
            out = [_Cell(tokens=c.get("children", [])) for c in row]
            return out + [_Cell(tokens=[])] * (n - len(out))

        self.w.table(
            None if not header_cells else cells(header_cells),  # type: ignore[arg-type]
            [cells(r) for r in rows],
            align=align[:n],
        )

    def inline(self, para, tokens: list[dict[str, Any]], fmt: dict[str, Any] | None = None,
               parent=None) -> None:  # fmt: skip
        fmt = fmt or {}
        for t in tokens:
            kind = t["type"]
            if kind == "text":
                self.w.run(para, html.unescape(t.get("raw", "")), parent=parent, **fmt)
            elif kind == "softbreak":
                self.w.run(para, " ", parent=parent, **fmt)
            elif kind == "linebreak":
                self.w.run(para, "", parent=parent, **fmt).add_break()
            elif kind == "strong":
                self.inline(para, t["children"], {**fmt, "bold": True}, parent)
            elif kind == "emphasis":
                self.inline(para, t["children"], {**fmt, "italic": True}, parent)
            elif kind == "strikethrough":
                self.inline(para, t["children"], {**fmt, "strike": True}, parent)
            elif kind == "codespan":
                self.w.run(para, t.get("raw", ""), parent=parent, **{**fmt, "style": "HTML Code"})
            elif kind in ("link", "image"):
                self._link(para, t, fmt, parent)
            elif kind == "inline_html":
                self.w.run(para, t.get("raw", ""), parent=parent, **fmt)
            elif "children" in t:
                self.inline(para, t["children"], fmt, parent)
            elif t.get("raw"):
                self.w.run(para, t["raw"], parent=parent, **fmt)

    def _link(self, para, token: dict[str, Any], fmt: dict[str, Any], parent) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        url = safe_url((token.get("attrs") or {}).get("url"))
        children = token.get("children", [])
        if token["type"] == "image":  # never fetched: its description, as a link
            alt = _plain(children).strip()
            children = [{"type": "text", "raw": html.escape(f"Image: {alt or 'no description'}")}]
        if url is None or parent is not None:  # not a safe link (or inside one): its text
            self.inline(para, children, fmt, parent)
            return
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), para.part.relate_to(url, RT.HYPERLINK, is_external=True))
        link.set(qn("w:history"), "1")
        para._p.append(link)
        if not _plain(children).strip():
            children = [{"type": "text", "raw": html.escape(url)}]
        self.inline(para, children, {**fmt, "style": "Hyperlink"}, link)


def _number(para, num_id: int) -> None:
    """Number ``para`` in list instance ``num_id`` (its style gives the look)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    num_pr = para._p.get_or_add_pPr().get_or_add_numPr()
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), "0")
    num = OxmlElement("w:numId")
    num.set(qn("w:val"), str(num_id))
    num_pr.append(ilvl)
    num_pr.append(num)


def _rule(para) -> None:
    """A horizontal rule: an empty paragraph with a bottom border."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "B1B4B6")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    para._p.get_or_add_pPr().append(border)


def write_docx(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` (from :func:`~workbook.export.report.build_report`) to ``path``."""
    _Writer(_xml_safe(report)).write(Path(path))
