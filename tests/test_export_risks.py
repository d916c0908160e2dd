"""The risk register in every export format: HTML, Markdown, Word, PDF and its CSV.

Most tests render the report data of a demo store directly (fast). One module-scoped
``export_projects`` run writes every format for the demo, as ``workbook export`` does.
Each format must show every risk, the heat map (each risk's number in the cell of its
rating, before and after mitigation), the category coverage with the uncovered category
named, and keep user text inert.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import mistune
import pytest

from tests.servers import require_chromium
from workbook import review, risks
from workbook.demo import create_demo
from workbook.export import export_projects
from workbook.export.batch import risks_csv
from workbook.export.render import report_document, report_markdown
from workbook.export.report import build_report
from workbook.export.word import BAND_FILLS, write_docx
from workbook.store import Store

EXPORTED_AT = datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)
TODAY = EXPORTED_AT.astimezone().date()
XSS = ["<script>alert(1)</script>", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>"]
UNCOVERED = "Environmental sustainability"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """The demo; a project whose register holds script and a javascript: link in every
    text field; a project with an empty register."""
    store = Store(tmp_path_factory.mktemp("risks") / "workspace")
    create_demo(store, project_id="demo", user="setup")
    store.create("Payload Tool", "Test Council", project_id="xss", user="setup")
    _, rid = risks.add_risk(
        store,
        "xss",
        user="setup",
        title=f"Leak {XSS[0]} {XSS[1]}",
        category="privacy",
        description=f"Described {XSS[2]} {XSS[1]}",
        cause=f"Because {XSS[0]}",
        before={"likelihood": 4, "impact": 4},
        after={"likelihood": 2, "impact": 2},
        mitigations=[{"text": f"Mitigate {XSS[0]} {XSS[1]} {XSS[2]}"}],
        owner='=HYPERLINK("http://example.invalid")',
        note=f"Noted {XSS[1]}",
    )
    review.add_comment(
        store, "xss", target=f"risk.{rid}", kind="challenge", text=f"Why {XSS[0]}", user="ann"
    )
    risks.add_risk(store, "xss", user="setup", title="Not rated at all", category="safety")
    store.create("Empty Tool", "Test Council", project_id="empty", user="setup")
    return store


@pytest.fixture(scope="module")
def reports(store) -> dict:
    return {
        pid: build_report(store.open(pid), exported_at=EXPORTED_AT)
        for pid in ("demo", "xss", "empty")
    }


def _norm(text: str) -> str:
    """Whitespace collapsed, and a line broken after a hyphen joined again."""
    return re.sub(r"- (?=\w)", "-", " ".join(text.split()))


def _strip_tags(text: str) -> str:
    return _norm(htmllib.unescape(re.sub(r"<[^>]+>", " ", text)))


def _expected_cells(store: Store, report: dict) -> dict[tuple[int, int], dict[str, set[str]]]:
    """From the register itself: which risk numbers each (likelihood, impact) cell lists
    before and after mitigation. Numbers by title, as the report numbers them."""
    numbers = {r["title"]: r["number"] for r in report["risks"]["items"]}
    cells: dict[tuple[int, int], dict[str, set[str]]] = {}
    for r in store.open("demo").risks.items.values():
        for when in ("before", "after"):
            rating = getattr(r, when)
            cell = cells.setdefault((rating.likelihood, rating.impact), {"B": set(), "A": set()})
            cell[when[0].upper()].add(numbers[r.title])
    return cells


def test_risks_are_numbered_highest_remaining_score_first(store, reports):
    items = reports["demo"]["risks"]["items"]
    register = store.open("demo").risks
    assert len(items) == len(register.items) == 6
    assert [r["number"] for r in items] == [f"R{i}" for i in range(1, 7)]
    remaining = [(r["after"]["score"] or r["before"]["score"]) for r in items]
    assert remaining == sorted(remaining, reverse=True)
    fairness = next(r for r in items if r["category"] == "fairness")
    assert (fairness["before"]["likelihood"], fairness["before"]["impact"]) == (4, 4)
    assert reports["demo"]["risks"]["uncovered"] == [UNCOVERED]


# --------------------------------------------------------------------------- HTML


def _html_heat(page: str) -> dict[tuple[int, int], dict[str, set[str]]]:
    """The heat map table's cells: (likelihood, impact) -> {"B": numbers, "A": numbers}."""
    table = re.search(r'<table class="ew-heat">(.*?)</table>', page, re.S).group(1)
    heads = re.findall(r'<th scope="col">[^<]*\((\d+)\)</th>', table)
    out = {}
    for likelihood, row in re.findall(
        r'<th scope="row"[^>]*>[^<]*\((\d+)\)</th>(.*?)</tr>', table, re.S
    ):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert len(cells) == len(heads) == 5
        for impact, cell in zip(heads, cells, strict=True):
            text = _norm(re.sub(r"<[^>]+>", "", cell))
            found = {"B": set(), "A": set()}
            for label, key in (("Before", "B"), ("After", "A")):
                m = re.search(rf"{label}: ((?:R\d+(?:, )?)+)", text)
                if m:
                    found[key] = set(m.group(1).split(", "))
            out[(int(likelihood), int(impact))] = found
    return out


def test_html_shows_the_register_after_the_action_plan(store, reports):
    report = reports["demo"]
    page = report_document(report)
    text = _strip_tags(page)
    assert (
        page.index("<h2>Action plan</h2>")
        < page.index("<h2>Risk register</h2>")
        < page.index('<section class="ew-phase"')
    )
    section = page[page.index('<section class="ew-risks" id="risks">') :]
    section = section[: section.index('<section class="ew-phase"')]
    late = sum(r["review_overdue"] for r in report["risks"]["items"])
    assert late == 1
    assert "6 risks: 1 with a high or very high remaining score, 1 review overdue." in text
    for r in report["risks"]["items"]:
        assert f'<section class="ew-risk" id="risk-{r["id"]}">' in section
        assert f"{r['number']}: {_norm(r['title'])}" in _strip_tags(section)
    # coverage: the uncovered category marked in words, and named in a sentence
    row = re.search(rf'<tr class="ew-uncovered"><td>{UNCOVERED}</td><td>(.*?)</td>', section)
    assert row
    assert "Not considered yet" in row.group(1)
    assert "ew-missing" in row.group(1)
    assert section.count('class="ew-uncovered"') == 1
    assert f"Not yet covered (1 of 7): {UNCOVERED}." in _strip_tags(section)
    # the heat map: a caption, headers with scope, each risk where it was rated
    assert "<caption>" in section
    assert 'scope="row"' in section
    heat = _html_heat(section)
    expected = _expected_cells(store, report)
    for key, found in heat.items():
        assert found == expected.get(key, {"B": set(), "A": set()}), key
    fairness = next(r for r in report["risks"]["items"] if r["category"] == "fairness")
    assert heat[(4, 4)]["B"] == {fairness["number"]}
    # before -> after, linked questions, review date with overdue in words
    assert (
        f"Before mitigation {fairness['before']['score']} {fairness['before']['band']}"
        in _strip_tags(section)
    )
    assert '<a href="#q7">Question 7</a>' in section
    assert 'id="q7"' in page
    assert '15 Nov 2026</span> <strong class="ew-overdue">(overdue)</strong>' in section
    # every link in the register goes somewhere in the document
    for target in set(re.findall(r'href="#([^"]+)"', section)):
        assert f'id="{target}"' in page, target


def test_html_empty_register_says_so(reports):
    page = report_document(reports["empty"])
    section = page[page.index('id="risks"') : page.index('<section class="ew-phase"')]
    text = _strip_tags(section)
    assert "No risks recorded yet." in text
    assert text.count("Not considered yet") == 7
    assert "Not yet covered (7 of 7):" in text
    assert "ew-heat" not in section  # no empty heat map


UNRATED = "Not rated yet, so not on the map: before mitigation R2; after mitigation R2."


def test_an_unrated_risk_is_said_to_be_unrated(reports, tmp_path):
    """The payload project's second risk has no rating: last, and named as off the map."""
    items = reports["xss"]["risks"]["items"]
    assert [(r["number"], r["title"]) for r in items][1] == ("R2", "Not rated at all")
    page = _strip_tags(report_document(reports["xss"]))
    assert UNRATED in page
    assert "Before mitigation not rated yet → after not rated yet" in page
    text = _norm(report_markdown(reports["xss"]))
    assert UNRATED in text
    assert "before mitigation _not rated yet_ → after _not rated yet_" in text
    doc = _docx(reports["xss"], tmp_path / "xss.docx")
    assert any(UNRATED in p.text for p in doc.paragraphs)


def test_html_keeps_user_text_inert(reports):
    page = report_document(reports["xss"])
    section = page[page.index('id="risks"') : page.index('<section class="ew-phase"')]
    assert "<script" not in page.lower()
    assert "<img" not in section.lower()
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', page)).lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section  # shown, as text
    assert "Mitigate &lt;script&gt;" in section
    assert "Why &lt;script&gt;" in section  # the challenge on the risk
    # the open challenge links to the risk's block
    risk = reports["xss"]["risks"]["items"][0]
    assert f'<a href="#risk-{risk["id"]}">' in page


# --------------------------------------------------------------------------- Markdown


def _md_heat(text: str) -> dict[tuple[int, int], dict[str, set[str]]]:
    part = text[text.index("### Heat map") :]
    lines = [line for line in part.splitlines() if line.startswith("|")]
    heads = [int(h) for h in re.findall(r"\((\d+)\) \|", lines[0])]
    out = {}
    for line in lines[2 : 2 + 5]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        likelihood = int(re.search(r"\((\d+)\)", cells[0]).group(1))
        for impact, cell in zip(heads, cells[1:], strict=True):
            found = {"B": set(), "A": set()}
            for key in ("B", "A"):
                m = re.search(rf"\*\*{key}: ([^*]+)\*\*", cell)
                if m:
                    found[key] = set(m.group(1).split(", "))
            out[(likelihood, impact)] = found
    return out


def test_markdown_shows_the_register(store, reports):
    report = reports["demo"]
    text = report_markdown(report)
    assert (
        text.index("## Action plan")
        < text.index("## Risk register")
        < text.index("## Explore phase")
    )
    part = text[text.index("## Risk register") : text.index("## Explore phase")]
    for r in report["risks"]["items"]:
        assert f"#### {r['number']}: {r['title']}" in part
    assert f"| **{UNCOVERED}** | _Not considered yet_ |" in part
    assert f"**Not yet covered (1 of 7):** {UNCOVERED}." in part
    heat = _md_heat(part)
    expected = _expected_cells(store, report)
    assert len(heat) == 25
    for key, found in heat.items():
        assert found == expected.get(key, {"B": set(), "A": set()}), key
    assert "15 Nov 2026 **(overdue)**" in part
    # the heat map is a real table when rendered
    rendered = mistune.create_markdown(plugins=["table"])(part)
    assert "<th>Major (4)</th>" in rendered


def test_markdown_empty_register_and_inert_text(reports):
    empty = report_markdown(reports["empty"])
    part = empty[empty.index("## Risk register") : empty.index("## Explore phase")]
    assert "_No risks recorded yet._" in part
    assert part.count("_Not considered yet_") == 7
    assert "### Heat map" not in part
    text = report_markdown(reports["xss"])
    part = text[text.index("## Risk register") : text.index("## Explore phase")]
    assert "<script>" not in text
    assert "<img" not in part
    assert "&lt;script&gt;" in part
    assert "\\[x\\](javascript:alert(1))" in part  # escaped: not a link
    rendered = mistune.create_markdown(escape=False, plugins=["table"])(text)
    assert "<script" not in rendered
    assert 'href="javascript:' not in rendered


# --------------------------------------------------------------------------- Word


def _docx(report: dict, path: Path):
    from docx import Document

    write_docx(report, path)
    return Document(str(path))


def _fill(cell) -> str | None:
    from docx.oxml.ns import qn

    shd = cell._tc.tcPr.find(qn("w:shd")) if cell._tc.tcPr is not None else None
    return shd.get(qn("w:fill")) if shd is not None else None


def test_word_shows_the_register(store, reports, tmp_path):
    report = reports["demo"]
    doc = _docx(report, tmp_path / "demo.docx")
    heads = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    names = [t for _, t in heads]
    assert names.index("Action plan") < names.index("Risk register") < names.index("Explore phase")
    for r in report["risks"]["items"]:
        assert ("Heading 3", f"{r['number']}: {r['title']}") in heads
    body = " ".join(p.text for p in doc.paragraphs)
    assert f"Not yet covered (1 of 7): {UNCOVERED}." in body
    coverage = next(t for t in doc.tables if t.cell(0, 0).text == "Category")
    row = next(r for r in coverage.rows if r.cells[0].text == UNCOVERED)
    assert row.cells[1].text == "Not considered yet"
    heat = next(t for t in doc.tables if t.cell(0, 0).text == "Likelihood / impact")
    assert [c.text for c in heat.rows[0].cells][1:] == [
        "Negligible (1)", "Minor (2)", "Moderate (3)", "Major (4)", "Severe (5)"
    ]  # fmt: skip
    expected = _expected_cells(store, report)
    bands = {c["band_id"] for row in report["risks"]["heatmap"] for c in row}
    assert bands == set(BAND_FILLS)
    for row, data in zip(heat.rows[1:], report["risks"]["heatmap"], strict=True):
        for cell, c in zip(row.cells[1:], data, strict=True):
            lines = cell.text.split("\n")
            assert lines[0] == f"{c['band']} ({c['score']})"  # the band in words
            assert _fill(cell) == BAND_FILLS[c["band_id"]][0]
            want = expected.get((c["likelihood"], c["impact"]), {"B": set(), "A": set()})
            got = {"B": set(), "A": set()}
            for line in lines[1:]:
                label, numbers = line.split(": ")
                got[label[0]] = set(numbers.split(", "))
            assert got == want, (c["likelihood"], c["impact"])
    fairness = next(r for r in report["risks"]["items"] if r["category"] == "fairness")
    table = next(t for t in doc.tables if t.cell(0, 1).text == fairness["category_name"])
    fields = {r.cells[0].text: r.cells[1].text for r in table.rows}
    assert fields["Score"].startswith(
        f"Before mitigation {fairness['before']['score']} {fairness['before']['band']}"
    )
    assert fields["Review by"] == "15\u00a0Nov\u00a02026 (overdue)"
    assert "(further work: Question 7, action 1)" in fields["Mitigations"]
    assert table.rows[0].cells[0].text == "Category"  # no empty first row


def test_word_empty_register_and_inert_text(reports, tmp_path):
    doc = _docx(reports["empty"], tmp_path / "empty.docx")
    body = " ".join(p.text for p in doc.paragraphs)
    assert "No risks recorded yet." in body
    coverage = next(t for t in doc.tables if t.cell(0, 0).text == "Category")
    assert [r.cells[1].text for r in coverage.rows[1:]] == ["Not considered yet"] * 7
    assert not any(t.cell(0, 0).text == "Likelihood / impact" for t in doc.tables)
    doc = _docx(reports["xss"], tmp_path / "xss.docx")
    texts = [p.text for p in doc.paragraphs] + [
        c.text for t in doc.tables for r in t.rows for c in r.cells
    ]
    assert any(f"Leak {XSS[0]} {XSS[1]}" in t for t in texts)  # shown as text
    assert any(f"Mitigate {XSS[0]}" in t for t in texts)
    links = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert not any("javascript" in link.lower() for link in links)


# --------------------------------------------------------------------------- CSV


def test_risks_csv_from_report_data_is_the_registers_csv(store, reports):
    for pid in ("demo", "xss", "empty"):
        register = store.open(pid).risks
        assert risks_csv(reports[pid]) == risks.risks_csv(risks.risk_rows(register, today=TODAY))
    rows = list(csv.reader(io.StringIO(risks_csv(reports["xss"]))))
    assert rows[0] == list(risks.RISK_CSV_COLUMNS)
    assert rows[1][rows[0].index("owner")].startswith("'=")  # shown, not run
    demo = list(csv.DictReader(io.StringIO(risks_csv(reports["demo"]))))
    assert [r["title"] for r in demo] == [r["title"] for r in reports["demo"]["risks"]["items"]]
    fairness = next(r for r in demo if r["category"].startswith("Fairness"))
    assert fairness["linked actions"] == "q7#1"
    assert fairness["review by"] == date(2026, 11, 15).isoformat()


# --------------------------------------------------------------------------- every format


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    """The demo exported to every format, as `workbook export demo --to ...` does."""
    require_chromium()
    out = tmp_path_factory.mktemp("risks-out")
    result = export_projects(
        ["demo"],
        workspace=store.root,
        formats="html,pdf,docx,md,csv",
        out=out,
        jobs=1,
        progress=False,
        pack=True,
    )
    assert not result.failed, [p.error for p in result.failed]
    (project,) = result.projects
    return {
        p.name.removeprefix(f"demo-r{store.open('demo').revision}"): p for p in project.files
    }, result


def _pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext not found: apt-get install poppler-utils (.ci/run does)"
    out = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True)
    return _norm(out.stdout)


def test_every_format_shows_the_register(store, exported):
    from docx import Document

    files, result = exported
    assert set(files) == {".html", ".pdf", ".docx", ".md", "-actions.csv", "-risks.csv"}
    report = result.projects[0].report
    items = report["risks"]["items"]
    fairness = next(r for r in items if r["category"] == "fairness")
    doc = Document(str(files[".docx"]))
    texts = {
        ".html": _strip_tags(files[".html"].read_text(encoding="utf-8")),
        ".md": _norm(files[".md"].read_text(encoding="utf-8")),
        ".pdf": _pdf_text(files[".pdf"]),
        ".docx": _norm(
            " ".join(
                [p.text for p in doc.paragraphs]
                + [c.text for t in doc.tables for r in t.rows for c in r.cells]
            )
        ),
    }
    for fmt, text in texts.items():
        assert "Risk register" in text, fmt
        for r in items:
            assert _norm(r["title"]) in text, (fmt, r["title"])
        assert re.search(rf"Not yet covered \(1 of 7\):(\*\*)? {UNCOVERED}\.", text), fmt
        before = f"B: {fairness['number']}" if fmt == ".md" else f"Before: {fairness['number']}"
        assert before in text, fmt
        assert "(overdue)" in text, fmt
    rows = list(csv.DictReader(io.StringIO(files["-risks.csv"].read_text(encoding="utf-8-sig"))))
    assert [r["title"] for r in rows] == [r["title"] for r in items]
    pack = (files[".html"].parent / "index.html").read_text(encoding="utf-8")
    assert f'href="{files["-risks.csv"].name}">' in pack or files["-risks.csv"].name in pack
    assert "Risk register (CSV)" in pack
