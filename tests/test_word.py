"""Word export: a document a council committee can edit.

Built straight from the report data of the committed golden workspace (no kernel), then
read back with python-docx, and rendered once by LibreOffice to check the pages."""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO
from workbook.export.dates import day
from workbook.export.report import build_report, signoff_changes
from workbook.export.word import TEXT_WIDTH, write_docx
from workbook.store import Store

GOLDEN = REPO / "tests" / "data" / "golden" / "projects"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARKDOWN = """# Summary heading

This answer **does not** rely on _italic words_ or ~~struck text~~ alone. It has `inline code`,
a [safe link](https://example.org/page?a=1&b=2), a [bad link](javascript:alert(1)), a
[mail link](mailto:team@example.org) and an image ![chart of results](https://example.org/x.png).
Raw <b>HTML</b> stays text: <script>alert(1)</script> &amp; entities.

- First bullet with **bold**
  - Nested bullet one
- Second bullet

1. First step
2. Second step
   1. Sub-step a

Another list:

1. Starts again at one
2. Two

> A quoted passage.

```
code block line
```

| Risk | Owner | Status |
|:-----|:-----:|-------:|
| Bias against groups over-represented in data | Data science lead | In progress |
| Scope creep | Priya Nair | Complete |
"""
XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """The golden workspace's report, with its changes since sign-off."""
    root = tmp_path_factory.mktemp("word-golden")
    shutil.copytree(GOLDEN, root / "workspace")
    store = Store(root / "workspace")
    wb = store.open("demo")
    return build_report(wb, changes=signoff_changes(store, wb))


@pytest.fixture(scope="module")
def docs(report, tmp_path_factory) -> dict[str, Path]:
    """The golden report as Word, and the same with question 2's answer in markdown."""
    out = tmp_path_factory.mktemp("word")
    marked = copy.deepcopy(report)
    marked["phases"][0]["questions"][1]["response"] = MARKDOWN
    paths = {"golden": out / "golden.docx", "markdown": out / "markdown.docx"}
    write_docx(report, paths["golden"])
    write_docx(marked, paths["markdown"])
    return paths


def _open(path: Path):
    from docx import Document

    return Document(str(path))


def _paragraphs(doc):
    """Every paragraph, in the body and in table cells."""
    yield from doc.paragraphs
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def _text(doc) -> str:
    return _norm("\n".join(p.text for p in _paragraphs(doc)))


def _questions(report):
    return [q for ph in report["phases"] for q in ph["questions"]]


# --------------------------------------------------------------------------- markdown


def test_markdown_in_an_answer_becomes_word_formatting(docs):
    doc = _open(docs["markdown"])
    runs = [r for p in _paragraphs(doc) for r in p.runs]
    assert "does not" in [r.text for r in runs if r.bold]
    assert "italic words" in [r.text for r in runs if r.italic]
    assert "struck text" in [r.text for r in runs if r.font.strike]
    assert "**" not in _text(doc).split("Question 2:")[1].split("Question 3:")[0]
    styles = {p.text: p.style.name for p in doc.paragraphs}
    assert styles["First bullet with bold"] == "List Bullet"
    assert styles["Nested bullet one"] == "List Bullet 2"
    assert styles["First step"] == "List Number"
    assert styles["Sub-step a"] == "List Number 2"
    assert styles["Summary heading"] == "Heading 4"  # below the question's Answer heading
    assert styles["A quoted passage."] == "Quote"
    assert styles["code block line"] == "HTML Preformatted"
    code = [r for r in runs if r.text == "inline code"]
    assert code
    assert code[0].style.name == "HTML Code"


def test_each_numbered_list_counts_from_its_own_start(docs):
    doc = _open(docs["markdown"])

    def num_id(text):
        p = next(p for p in doc.paragraphs if p.text == text)
        return p._p.pPr.numPr.numId.val

    assert num_id("First step") != num_id("Starts again at one")
    numbering = doc.part.numbering_part.element
    start = numbering.num_having_numId(num_id("Starts again at one")).xpath(
        "./w:lvlOverride/w:startOverride/@w:val"
    )
    assert start == ["1"]


def test_links_are_real_hyperlinks_and_unsafe_ones_are_text(docs):
    doc = _open(docs["markdown"])
    links = {h.text: h.address for p in doc.paragraphs for h in p.hyperlinks}
    assert links["safe link"] == "https://example.org/page?a=1&b=2"
    assert links["mail link"] == "mailto:team@example.org"
    assert links["Image: chart of results"] == "https://example.org/x.png"  # never fetched
    assert "bad link" not in links
    assert "bad link" in _text(doc)
    rels = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert not [r for r in rels if "javascript" in r.lower()]
    assert not [r for r in doc.part.rels.values() if r.reltype.endswith("/image")]
    assert "Raw <b>HTML</b> stays text: <script>alert(1)</script> & entities." in _text(doc)


def test_a_markdown_table_is_a_word_table_with_a_header_row(docs):
    doc = _open(docs["markdown"])
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Risk")
    assert [c.text for c in table.rows[0].cells] == ["Risk", "Owner", "Status"]
    assert [c.text for c in table.rows[2].cells] == ["Scope creep", "Priya Nair", "Complete"]
    assert table.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)


def test_paragraphs_have_no_line_breaks(docs):
    """Answers wrapped at 80 characters in the text box read as paragraphs, not lines."""
    for path in docs.values():
        with zipfile.ZipFile(path) as z:
            body = z.read("word/document.xml").decode()
        assert "<w:br" not in body, path.name
    doc = _open(docs["golden"])
    answer = next(p.text for p in doc.paragraphs if p.text.startswith("The Early Help"))
    assert "It uses data the council already holds" in answer  # a soft break is a space


def test_only_a_markdown_hard_break_is_a_line_break(report, tmp_path):
    """A line ending in a backslash asks for a break (the HTML shows one too)."""
    marked = copy.deepcopy(report)
    marked["phases"][0]["questions"][1]["response"] = "Line one\\\nline two\nsame line."
    path = tmp_path / "br.docx"
    write_docx(marked, path)
    para = next(p for p in _open(path).paragraphs if p.text.startswith("Line one"))
    assert para.text == "Line one\nline two same line."
    assert len(para._p.xpath(".//w:br")) == 1


# --------------------------------------------------------------------------- structure


def test_page_is_a4_with_margins(docs):
    from docx.shared import Cm

    for section in _open(docs["golden"]).sections:
        assert abs(section.page_width - Cm(21.0)) < Cm(0.01)
        assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
        for margin in (section.left_margin, section.right_margin, section.top_margin):
            assert Cm(1.5) <= margin <= Cm(3)


def test_headings_are_real_outline_levels_and_name_every_question(docs, report):
    doc = _open(docs["golden"])
    by_style: dict[str, list[str]] = {}
    for p in doc.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    assert by_style["Title"] == [report["project"]["tool_name"]]
    h1 = by_style["Heading 1"]
    assert h1 == [
        "Sign-off",
        "Progress",
        "Action plan",
        "Risk register",
        "The Data Ethics Framework",
    ] + [ph["title"] for ph in report["phases"]]
    questions = [h for h in by_style["Heading 2"] if h.startswith("Question ")]
    assert questions == [f"Question {q['number']}: {q['text']}" for q in _questions(report)]
    for name in ("Answer", "Evidence", "Further work", "Things to consider, with notes"):
        assert by_style["Heading 3"].count(name) >= 1, name
    for level in (1, 2, 3):
        ppr = doc.styles[f"Heading {level}"].element.pPr
        assert ppr.find(f"{W}outlineLvl").get(f"{W}val") == str(level - 1)
    assert [h for h in by_style["Heading 3"] if h.startswith("Comments (")]
    assert "List Bullet" in by_style
    assert {t.style.name for t in doc.tables} == {"Table Grid"}


def test_core_properties_name_the_council_not_the_library(docs, report):
    doc = _open(docs["golden"])
    cp = doc.core_properties
    council = report["project"]["local_authority"]
    assert cp.author == council
    assert cp.last_modified_by == council
    assert cp.title == f"{report['project']['tool_name']}: Data Ethics Workbook"
    assert cp.subject == report["publication"]
    assert cp.keywords
    assert cp.language == "en-GB"
    exported = datetime.fromisoformat(report["exported_at"])
    assert abs((cp.created.replace(tzinfo=exported.tzinfo) - exported).total_seconds()) < 1
    with zipfile.ZipFile(docs["golden"]) as z:
        names = z.namelist()
        everything = "".join(z.read(n).decode("utf-8", "replace") for n in names)
        app = z.read("docProps/app.xml").decode()
    assert "python-docx" not in everything
    assert "Microsoft" not in app  # not made by Word, so it does not say so
    assert not [n for n in names if "thumbnail" in n]  # no preview of a blank page
    styles = doc.styles.element
    lang = styles.find(f"{W}docDefaults").find(f"{W}rPrDefault").find(f"{W}rPr").find(f"{W}lang")
    assert lang.get(f"{W}val") == "en-GB"
    assert doc.styles["Normal"].element.rPr.find(f"{W}lang").get(f"{W}val") == "en-GB"


def test_tables_have_header_rows_whole_rows_and_fitted_columns(docs):
    doc = _open(docs["golden"])
    assert doc.tables
    for table in doc.tables:
        first = [c.text.strip() for c in table.rows[0].cells]
        assert any(first), "empty first row"
        for row in table.rows:
            assert row._tr.trPr.find(f"{W}cantSplit") is not None
        widths = [int(c.get(f"{W}w")) for c in table._tbl.tblGrid.findall(f"{W}gridCol")]
        assert abs(sum(widths) - TEXT_WIDTH) <= len(widths)
    plan = next(t for t in doc.tables if t.rows[0].cells[0].text == "Question")
    assert [c.text for c in plan.rows[0].cells] == [
        "Question", "Action", "Owner", "Due", "Status", "Overdue"
    ]  # fmt: skip
    assert plan.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    widths = [int(c.get(f"{W}w")) for c in plan._tbl.tblGrid.findall(f"{W}gridCol")]
    assert widths[1] > widths[4]
    assert widths[1] > widths[3]
    cover = doc.tables[0]
    assert [r.cells[0].text for r in cover.rows][:2] == ["Publication", "Local authority"]
    assert (
        cover.rows[0].cells[1].text == "Data Ethics Workbook, Department for Education, April 2024"
    )


@pytest.mark.parametrize("marking", ["OFFICIAL", "OFFICIAL-SENSITIVE"])
def test_the_marking_heads_and_foots_every_page_with_page_numbers(report, tmp_path, marking):
    path = tmp_path / "m.docx"
    write_docx({**report, "marking": marking}, path)
    doc = _open(path)
    for section in doc.sections:
        head = [p for p in section.header.paragraphs if p.text]
        foot = [p for p in section.footer.paragraphs if p.text]
        assert head[0].text == marking
        assert head[0].runs[0].bold
        assert foot[0].text == marking
        instructions = " ".join(section.footer._element.xpath(".//w:instrText/text()"))
        assert "PAGE" in instructions.split()
        assert "NUMPAGES" in instructions.split()
        assert "Page " in foot[1].text
        assert " of " in foot[1].text


# --------------------------------------------------------------------------- review


def test_review_state_comments_and_changes_are_shown(docs, report):
    doc = _open(docs["golden"])
    text = _text(doc)
    explore = report["phases"][0]
    so = explore["signoff"]
    assert f"⚠ Sign-off out of date: changed since revision {so['revision']}." in text
    assert "Sign-off: not signed off. No reviewer has recorded a decision" in text
    cells = [_norm(c.text) for t in doc.tables for r in t.rows for c in r.cells]
    assert f"⚠ Out of date: changed since revision {so['revision']}" in cells
    assert so["conditions"] in cells
    assert f"{so['reviewer']} ({so['role']})" in cells
    assert "Open challenges (1)" in text
    assert "Challenge from Sam Okafor (reviewer)" in text
    assert "· Open" in text
    assert "· Resolved by" in text
    assert "Reply from Priya Shah" in text
    runs = [r for p in doc.paragraphs for r in p.runs]
    added = _norm(" ".join(r.text for r in runs if r.font.underline))
    assert "We checked this with the **legal team** in March." in added
    assert "Changes since last sign-off" in text
    assert "3 further-work actions across the workbook, 1 overdue" in text
    assert "Overdue" in cells
    assert "Outstanding questions (9)" in text


def test_dates_are_readable_and_last_changed_only_when_known(docs, report):
    text = _text(_open(docs["golden"]))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert day(report["actions"][1]["due"]) in text  # "30 Oct 2026", not 2026-10-30
    changed = [q for q in _questions(report) if q["updated_by"]]
    assert text.count("Last changed by ") == len(changed)
    assert "Last changed by None" not in text
    assert "Last changed by  on" not in text


def test_payloads_and_control_characters_stay_inert_text(report, tmp_path):
    bad = copy.deepcopy(report)
    bad["project"]["local_authority"] = "Hart\x07moor \x1b[31mCouncil"
    q = bad["phases"][0]["questions"][0]
    q["response"] = f"Before. {XSS} After."
    q["informed_note"] = XSS
    q["evidence"] = [{"reference": XSS, "description": "<b>bold</b>"}]
    q["threads"][0]["text"] = f"Thread {XSS}"
    q["threads"][0]["replies"][0]["text"] = f"Reply\x00 {XSS}"
    bad["phases"][0]["checklist"][0]["note"] = XSS
    bad["phases"][0]["signoff"]["conditions"] = XSS
    path = tmp_path / "xss.docx"
    write_docx(bad, path)
    doc = _open(path)
    text = _text(doc)
    assert "Before. <script>alert(1)</script> <img src=x onerror=alert(1)> x After." in text
    assert f"Thread {XSS}" in text
    assert f"Reply {XSS}" in text
    assert doc.core_properties.author == "Hartmoor [31mCouncil"
    assert not [h for p in _paragraphs(doc) for h in p.hyperlinks]
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            raw = z.read(name).decode("utf-8", "replace")
            assert "javascript:" not in raw.lower() or name == "word/document.xml", name
            assert "<script>" not in raw, name  # escaped wherever it is
            assert "\x07" not in raw
            assert "\x1b" not in raw
        body = z.read("word/document.xml").decode()
    assert html.escape("<script>alert(1)</script>", quote=False) in body


# --------------------------------------------------------------------------- rendered


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not found: apt-get install {package} (.ci/system-packages --tests does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def rendered(docs, tmp_path_factory) -> dict[str, Path]:
    """Both documents converted to PDF by LibreOffice, in one run."""
    soffice = _tool("soffice", "libreoffice-writer-nogui")
    _tool("pdftotext", "poppler-utils")
    out = tmp_path_factory.mktemp("word-pdf")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *(str(p) for p in docs.values()),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdfs = {name: out / f"{path.stem}.pdf" for name, path in docs.items()}
    for pdf in pdfs.values():
        assert pdf.exists(), pdf
    return pdfs


def _pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(
        ["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def test_rendered_pages_hold_every_question_heading(rendered, report):
    text = _norm(_pdftotext(rendered["golden"], "-layout"))
    for q in _questions(report):
        assert _norm(f"Question {q['number']}: {q['text']}") in text, q["number"]
    for status in ("Status: Complete", "Status: Not started", "Status: In progress"):
        assert status in text
    words = text.split()
    for owner in ("Priya Nair", "Information Governance team", "Data science lead"):
        assert all(w in words for w in owner.split()), owner  # table cells wrap, whole words
    assert "Overdue" in words


def test_rendered_pages_carry_the_marking_and_page_numbers(rendered, report):
    pdf = rendered["golden"]
    pages = _pages(pdf)
    assert pages > 5
    for n in range(1, pages + 1):
        lines = [ln.strip() for ln in _pdftotext(pdf, "-layout", "-f", str(n), "-l", str(n))
                 .splitlines() if ln.strip()]  # fmt: skip
        assert lines[0] == report["marking"], n
        assert lines[-2:] == [report["marking"], f"Page {n} of {pages}"], n


_WORD = re.compile(r"<word xMin=\"([\d.]+)\" yMin=\"([\d.]+)\" xMax=\"[\d.]+\" yMax=\"([\d.]+)\">"
                   r"([^<]*)</word>")  # fmt: skip


def _core(word: str) -> str:
    return word.strip(".,:;()'\"").lower()


@pytest.mark.parametrize("name", ["golden", "markdown"])
def test_no_word_in_a_table_is_split_across_lines(rendered, docs, name):
    """A word split in a narrow column shows as a fragment ending one line of the cell and
    the rest starting the next ("Comple" / "te"): find any such pair of PDF words."""
    doc = _open(docs[name])
    table_words = {
        _core(w)
        for t in doc.tables
        for r in t.rows
        for c in r.cells
        for w in c.text.replace("\u00a0", " ").split()
        if len(_core(w)) > 2 and "-" not in w
    }
    known = {_core(w) for w in _text(doc).split()}
    bbox = _pdftotext(rendered[name], "-bbox")
    splits = []
    for page in bbox.split("<page ")[1:]:
        words = [
            (float(x), float(y0), float(y1) - float(y0), html.unescape(t))
            for x, y0, y1, t in _WORD.findall(page)
        ]
        for xa, ya, height, a in words:
            head = _core(a)
            if not head or a.endswith("-"):
                continue
            for xb, yb, _, b in words:
                tail = _core(b)
                whole = head + tail
                if (
                    whole in table_words
                    and xb < xa
                    and 0.5 * height < yb - ya < 2.5 * height
                    and (head not in known or tail not in known)
                ):
                    splits.append(f"{a} / {b}")
    assert not splits, splits
    text = _norm(_pdftotext(rendered[name], "-layout"))
    for word in ("Complete", "Overdue", "Information", "Governance", "Questions", "Implement"):
        if word.lower() in table_words:
            assert word in text.split() or f"{word}," in text.split(), word
