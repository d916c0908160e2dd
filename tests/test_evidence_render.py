"""Evidence notebooks' outputs under their question in every format (issue 16).

The demo project's report, with runs made here and attached as
:func:`workbook.export.evidence.run_evidence` would return them (no kernel: the runs
themselves are tested in test_evidence_notebooks.py): a passed notebook with markdown,
tables, a PNG and a JPEG figure, printed text, code and a failed cell; a failed notebook;
a refused one. Each format must show the figures (embedded, never fetched), the tables,
the run's provenance and its failures in words, and neutralise hostile text in a
notebook's markdown and table cells as it does in answers.
"""

from __future__ import annotations

import base64
import copy
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.servers import require_chromium
from workbook.demo import create_demo
from workbook.export.render import report_document, report_markdown
from workbook.export.report import attach_analyses, build_report
from workbook.export.word import write_docx
from workbook.store import Store

SHA = "a07675c3c0d6f2209c5fd68a0ae9b888d8ac8f3a32a6dcbed385a5450a4b425c"
HOSTILE_MD = (
    "## Results\n\nSee <script>alert('md')</script> and <img src=https://x.example/p.png> "
    "and [a link](javascript:alert(1)) and ![pixel](https://tracker.example/t.gif)."
)
HOSTILE_CELL = "<script>alert('cell')</script> | <img src=https://x.example/c.png>"
BACKTICKS = "a run of ```` four backticks\nand <b>not bold</b>"


def _png() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 30), (29, 112, 184)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def _jpeg_without_jfif() -> str:
    """A real JPEG whose APP0 (JFIF) segment is removed: browsers show it, python-docx
    cannot read it, so the Word export must redraw it."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 112, 60)).save(out, "JPEG")
    raw = out.getvalue()
    assert raw[2:4] == b"\xff\xe0"  # APP0
    length = int.from_bytes(raw[4:6], "big")
    return base64.b64encode(raw[:2] + raw[4 + length :]).decode()


def _run(question: str, name: str, title: str, status: str, items: list, **extra) -> dict:
    return {
        "question": question,
        "name": name,
        "title": title,
        "sha256": SHA,
        "ran_at": "2026-12-01T11:29:00+00:00",
        "ran_by": "Ann Analyst",
        "kernel": "python3 (Python 3.11.7)",
        "status": status,
        "error": None,
        "reason": "",
        "duration_s": 5.25,
        "with_code": False,
        "items": items,
        **extra,
    }


TABLE = {
    "kind": "table",
    "caption": "Error rates by group",
    "header": [["", "selection rate", "false positive rate"], ["group", "", ""]],
    "rows": [["Asianbritish", "0.264", "0.184"], ["Whitebritish", "0.334", HOSTILE_CELL]],
    "more": 3,
    "index": 1,
}


def _runs() -> dict[str, list[dict]]:
    passed = _run(
        "q7",
        "bias.ipynb",
        "Error rates by group",
        "passed",
        [
            {"kind": "markdown", "text": HOSTILE_MD},
            {"kind": "code", "text": "rates = frame.by_group"},
            TABLE,
            {"kind": "image", "mime": "image/png", "data": _png(), "alt": "Bar chart of rates"},
            {
                "kind": "image",
                "mime": "image/jpeg",
                "data": _jpeg_without_jfif(),
                "alt": "Calibration photo",
            },
            {"kind": "text", "text": BACKTICKS},
        ],  # fmt: skip
        with_code=True,
    )
    failed = _run(
        "q7",
        "broken.ipynb",
        "Broken analysis",
        "failed",
        [{"kind": "text", "text": "before the failure"}, {"kind": "error", "name": "KeyError"}],
        error="ZeroDivisionError",
    )
    refused = _run(
        "q10",
        "escape.ipynb",
        "escape.ipynb",
        "refused",
        [],
        error="EvidenceError",
        reason="demo/evidence/q10/escape.ipynb: path parameter 'data_path' leads outside the "
        "project's evidence folder",
    )
    return {"q7": [passed, failed], "q10": [refused]}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("evidence-render")
    store = Store(root)
    create_demo(store, project_id="demo", user="ann")
    plain = build_report(store.open("demo"))
    report = copy.deepcopy(plain)
    attach_analyses(report, _runs())
    return {"plain": plain, "report": report}


@pytest.fixture(scope="module")
def html_text(reports) -> str:
    return report_document(reports["report"])


@pytest.fixture(scope="module")
def md_text(reports) -> str:
    return report_markdown(reports["report"])


@pytest.fixture(scope="module")
def docx_path(reports, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evidence-word") / "report.docx"
    write_docx(reports["report"], path)
    return path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def _question(text: str, number: int) -> str:
    start = text.index(f'<section class="ew-question" id="q{number}"')
    return text[start : text.index("</section>", start)]


# --------------------------------------------------------------------------- HTML


def test_html_shows_each_run_with_its_provenance_and_status(html_text):
    q7 = _question(html_text, 7)
    assert "Analysis re-run at export: Error rates by group" in q7
    assert "bias.ipynb" in q7
    assert "Ann Analyst" in q7
    assert "1 Dec 2026, 11:29 UTC" in q7
    assert "5.2 s" in q7
    assert "python3 (Python 3.11.7)" in q7
    assert f"<code>{SHA[:12]}</code>" in q7
    assert SHA in q7
    assert "<strong>Passed:</strong>" in q7
    assert "<strong>Failed (ZeroDivisionError):</strong>" in q7
    assert "This cell failed: KeyError" in q7
    assert "No evidence recorded besides the analyses below." in q7
    q10 = _question(html_text, 10)
    assert "<strong>Not run (refused):</strong>" in q10
    assert "leads outside the project&#39;s evidence folder" in q10
    assert "ew-analysis-refused" in q10


def test_html_embeds_figures_and_fetches_nothing(html_text):
    tags = _tags(html_text)
    images = [a for t, a in tags if t == "img"]
    assert {a["alt"] for a in images} == {"Bar chart of rates", "Calibration photo"}
    assert sorted(a["src"].split(";")[0] for a in images) == ["data:image/jpeg", "data:image/png"]
    for tag, attrs in tags:
        assert tag not in ("script", "iframe", "object", "embed", "link"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "srcset", "action"):
                assert not re.match(r"\s*(https?:|//|javascript:)", value or "", re.I), value
    assert "<script" not in html_text.lower()
    assert not re.search(r"""<[a-z][^>]*\ssrc=["']?http""", html_text)
    assert "&lt;img src=https://x.example/p.png&gt;" in html_text  # shown as text


def test_html_tables_and_text(html_text):
    q7 = _question(html_text, 7)
    assert "<caption>Error rates by group</caption>" in q7
    assert '<th scope="col">false positive rate</th>' in q7
    assert '<th scope="row">Asianbritish</th><td>0.264</td><td>0.184</td>' in q7
    assert "3 more rows not shown." in q7
    assert '<pre class="ew-code"><code>rates = frame.by_group</code></pre>' in q7
    assert "a run of ```` four backticks\nand &lt;b&gt;not bold&lt;/b&gt;" in q7
    # the hostile cell and markdown are text, not markup
    cell = re.search(r"<td>(&lt;script&gt;alert[^<]*(?:<wbr>[^<]*)*)</td>", q7)
    assert cell, "the hostile cell is not shown as text"
    assert cell.group(1).replace("<wbr>", "") == (
        "&lt;script&gt;alert(&#39;cell&#39;)&lt;/script&gt; | &lt;img src=https://x.example/c.png&gt;"
    )
    assert (
        "See &lt;script&gt;alert('md')&lt;/script&gt; and &lt;img src=https://x.example/p.png&gt;"
        in q7
    )
    assert "javascript" not in q7
    # the notebook's headings sit under the analysis heading (h4): "## Results" is an h5
    assert re.search(r"<h4 [^>]*>Analysis re-run at export: Error rates by group</h4>", q7)
    assert "<h5>Results</h5>" in q7


def test_a_report_without_analyses_is_unchanged(reports):
    plain = reports["plain"]
    again = copy.deepcopy(plain)
    attach_analyses(again, {})
    assert report_document(again) == report_document(plain)
    assert report_markdown(again) == report_markdown(plain)
    assert "ew-analysis" not in report_document(plain)  # nor its styles


# --------------------------------------------------------------------------- Markdown


def test_markdown_has_the_tables_figures_and_status(md_text):
    q7 = md_text[md_text.index("### Question 7:") : md_text.index("### Question 8:")]
    assert "#### Analysis re-run at export: Error rates by group" in q7
    assert "> **✗ Failed (ZeroDivisionError):**" in q7
    assert "**This cell failed: KeyError**" in q7
    assert "| group | selection rate | false positive rate |\n|---|---|---|\n" in q7
    assert "| Asianbritish | 0.264 | 0.184 |" in q7
    assert "![Bar chart of rates](data:image/png;base64," in q7
    assert "![Calibration photo](data:image/jpeg;base64," in q7
    # a fence longer than any run of backticks in the text
    assert "`````\na run of ```` four backticks\nand <b>not bold</b>\n`````" in q7
    assert "```python\nrates = frame.by_group\n```" in q7
    assert "##### Results" in q7
    assert "> **✗ Not run (refused):**" in md_text


def test_markdown_neutralises_hostile_text(md_text):
    import mistune

    q7 = md_text[md_text.index("### Question 7:") : md_text.index("### Question 8:")]
    fenced = "`````\na run of ```` four backticks\nand <b>not bold</b>\n`````"
    assert "<script" not in q7.replace(fenced, "")
    assert "&lt;script&gt;alert('cell')&lt;/script&gt; \\| &lt;img" in q7
    # rendered by a permissive renderer (raw HTML allowed), nothing runs or is fetched
    rendered = mistune.create_markdown(escape=False, plugins=["table"])(md_text)
    tags = _tags(rendered)
    assert not [t for t, _ in tags if t == "script"]
    for tag, attrs in tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.lower().startswith("javascript:"), (tag, value)
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), attrs


# --------------------------------------------------------------------------- Word


def test_word_has_the_pictures_tables_and_status(docx_path):
    from docx import Document

    doc = Document(str(docx_path))
    shapes = doc.inline_shapes
    assert len(shapes) == 2
    alts = [s._inline.docPr.get("descr") for s in shapes]
    assert alts == ["Bar chart of rates", "Calibration photo"]
    for shape in shapes:  # no wider than the text column
        assert shape.width <= doc.sections[0].page_width - doc.sections[0].left_margin * 2
    images = [p.content_type for p in doc.part.package.iter_parts() if "image" in p.content_type]
    assert sorted(images) == ["image/png", "image/png"]  # the JPEG redrawn as a PNG
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [
        c.text.replace("\u200b", "") for t in doc.tables for r in t.rows for c in r.cells
    ]  # fmt: skip
    assert "Analysis re-run at export: Error rates by group" in text
    assert "This cell failed: KeyError" in text
    assert any(c.startswith("Failed (ZeroDivisionError): ") for c in cells)
    assert any(c.startswith("Not run (refused): ") for c in cells)
    assert SHA[:12] in "\n".join(cells)
    data = next(t for t in doc.tables if t.rows[0].cells[1].text == "selection rate")
    assert [c.text for c in data.rows[1].cells] == ["group", "", ""]
    assert [c.text for c in data.rows[2].cells] == ["Asianbritish", "0.264", "0.184"]
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    assert [r._tr.find(f"{w}trPr").find(f"{w}tblHeader") is not None for r in data.rows] == [
        True, True, False, False
    ]  # fmt: skip
    assert "rates = frame.by_group" in text
    assert "a run of ```` four backticks" in text


def test_word_neutralises_hostile_text(docx_path):
    from docx import Document

    doc = Document(str(docx_path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "<script>alert('md')</script>" in text  # shown as text, runs nothing
    for rel in doc.part.rels.values():
        if rel.is_external:
            assert rel.reltype.endswith("/hyperlink"), rel.reltype  # no remote picture
            assert re.match(r"(https?|mailto):", rel.target_ref), rel.target_ref
    assert not [r for r in doc.part.rels.values() if "javascript" in r.target_ref]
    # the image in the markdown is a link at most, never a picture
    assert len(doc.inline_shapes) == 2


# --------------------------------------------------------------------------- PDF


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: apt-get install poppler-utils (.ci/run does)")
    return path


def test_pdf_shows_the_tables_and_figures(reports, html_text, tmp_path):
    from workbook.export import pdf

    require_chromium()
    path = tmp_path / "report.pdf"
    pdf.html_to_pdf(html_text, path, marking="OFFICIAL", title="Evidence", language="en-GB")
    text = subprocess.run(
        [_tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Analysis re-run at export: Error rates by group" in text
    assert "Asianbritish" in text
    assert "0.264" in text
    assert "This cell failed: KeyError" in text
    assert "Failed (ZeroDivisionError):" in text
    listing = subprocess.run(
        [_tool("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    sizes = sorted((int(line.split()[3]), int(line.split()[4])) for line in listing)
    assert (40, 40) in sizes, sizes
    assert (60, 30) in sizes, sizes


# --------------------------------------------------------------------------- outputs


def test_tables_from_pandas_keep_rows_whole():
    """Grouped rows (rowspan) and grouped headings (colspan) are repeated in each cell they
    cover, and the index names fold into the heading row."""
    from workbook.evidence import tables_of

    html = (
        "<table><thead><tr><th></th><th></th><th colspan='2'>records</th></tr>"
        "<tr><th>field</th><th>value</th><th></th><th></th></tr></thead><tbody>"
        "<tr><th rowspan='2'>age_band</th><th>5-10</th><td>652</td><td>1</td></tr>"
        "<tr><th>0-4</th><td>625</td><td>2</td></tr>"
        "<tr><th>sex</th><th>F</th><td>10</td><td>3</td></tr></tbody></table>"
    )
    (table,) = tables_of(html)
    assert table["header"] == [["field", "value", "records", "records"]]
    assert table["rows"] == [
        ["age_band", "5-10", "652", "1"],
        ["age_band", "0-4", "625", "2"],
        ["sex", "F", "10", "3"],
    ]
    assert table["index"] == 2


def test_papermills_error_banners_are_not_the_notebooks_text():
    import nbformat

    from workbook.evidence import outputs_of

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            '<span style="color:red">An Exception was encountered</span>',
            metadata={"tags": ["papermill-error-cell-tag"]},
        ),
        nbformat.v4.new_markdown_cell("# Broken analysis\n\nIt divides by zero."),
        nbformat.v4.new_code_cell("1/0"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                                  evalue="x", traceback=[])]  # fmt: skip
    assert outputs_of(nb) == [
        {"kind": "markdown", "text": "It divides by zero."},
        {"kind": "error", "name": "ZeroDivisionError"},
    ]
