"""The board document of a maturity self-assessment round: HTML, Markdown, Word, PDF and
the action plan CSV, written by ``workbook maturity AUTHORITY --to ...``.

One workspace with two rounds and three respondents (built by :func:`two_rounds`); the
CLI writes every format once (one PDF for the whole module), and each test reads what
it wrote.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.servers import require_chromium
from workbook import maturity as mat
from workbook.cli import cli
from workbook.export.dates import day
from workbook.export.maturity import board_html, board_markdown, board_report, write_board_docx
from workbook.store import AssessmentStore

AUTHORITY = "northshire-council"
LEAD = "lead.reviewer"
PEOPLE = ("asha.patel", "ben.okafor", "carys.jones")
SCRIPT = "<script>alert('board')</script>"
OWNER = "Dana O'Neill <dana@example.org>"
FORMATS = ("html", "pdf", "docx", "md", "csv")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def two_rounds(root: Path) -> AssessmentStore:
    """Northshire Council: round 1 agreed and closed, round 2 open with some components
    agreed afresh (one with ratings 3 levels apart, one whose rationale holds a script and
    markdown) and the rest carried over; owners and due dates on some actions, one done."""
    store = AssessmentStore(root)
    a = mat.start_assessment(store, "Northshire Council", user=LEAD, authority_id=AUTHORITY)
    ids = a.maturity_model().component_ids
    for cid in ids:
        for who, level in zip(PEOPLE, (1, 1, 2), strict=True):
            mat.rate(store, AUTHORITY, cid, level=level, rationale=f"{who}'s view", user=who)
        mat.agree(store, AUTHORITY, cid, level=1, target_level=3, target_date=date(2027, 3, 31),
                  rationale="A start has been made.", user=LEAD)  # fmt: skip
    mat.set_action(store, AUTHORITY, ids[0], owner="Priya Shah", user=LEAD)
    mat.close_round(store, AUTHORITY, user=LEAD, note="Agreed at the March board")
    mat.start_round(store, AUTHORITY, user=LEAD)
    # round 2: strategy up to 2, governance flagged (0..3), targets reach their target
    plan = {ids[0]: (2, 2, 2), ids[1]: (0, 2, 3), ids[2]: (3, 3, 3)}
    for cid, ratings in plan.items():
        for who, rated in zip(PEOPLE, ratings, strict=True):
            mat.rate(store, AUTHORITY, cid, level=rated, rationale="seen" if rated else "",
                     user=who)  # fmt: skip
    mat.agree(store, AUTHORITY, ids[0], level=2, target_level=4, target_date=date(2027, 9, 30),
              rationale=f"**Signed off** by the DCS. {SCRIPT}", user=LEAD,
              evidence=[{"label": "Strategy 2026", "url": "https://example.org/strategy"},
                        {"project": "demo", "target": "q4"}])  # fmt: skip
    mat.agree(store, AUTHORITY, ids[1], level=2, target_level=3, target_date=date(2027, 6, 30),
              rationale="Discussed: the panel is new.", user=LEAD)  # fmt: skip
    mat.agree(store, AUTHORITY, ids[2], level=3, target_level=3, rationale="Reached.", user=LEAD)
    mat.set_action(store, AUTHORITY, ids[0], owner=OWNER, due=date(2027, 9, 30), user=LEAD)
    mat.set_action(store, AUTHORITY, ids[1], owner="Ben Okafor", due=date(2025, 1, 31), user=LEAD)
    mat.set_action(store, AUTHORITY, ids[2], status="done", user=LEAD)
    return store


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The workspace, and every format written by the CLI (round 2, the open round)."""
    require_chromium()
    root = tmp_path_factory.mktemp("maturity-export")
    store = two_rounds(root / "workspace")
    out = root / "outputs"
    result = _run(store, AUTHORITY, "--to", ",".join(FORMATS), "--out", str(out))
    a = store.open(AUTHORITY)
    report = board_report(
        a, a.maturity_model(), exported_at=datetime.now(timezone.utc), marking="OFFICIAL"
    )
    stem = out / f"{AUTHORITY}-maturity-round-2"
    files = {fmt: stem.with_suffix(f".{fmt}") for fmt in FORMATS if fmt != "csv"}
    files["csv"] = stem.with_name(stem.name + "-actions.csv")
    return {"store": store, "result": result, "out": out, "files": files, "report": report}


def _run(store: AssessmentStore, *args: str):
    return CliRunner().invoke(cli, ["--workspace", str(store.root), "maturity", *args])


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not found: apt-get install {package}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _html_text(path: Path):
    import lxml.html

    return lxml.html.fromstring(path.read_text(encoding="utf-8"))


def _docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    tool = _tool("pdftotext", "poppler-utils")
    return subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _squash(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- the CLI


def test_cli_writes_every_format_and_says_so(built):
    result = built["result"]
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"Wrote {built['files'][fmt]}" for fmt in FORMATS]
    for path in built["files"].values():
        assert path.stat().st_size > 0
    assert sorted(p.name for p in built["out"].iterdir()) == sorted(
        p.name for p in built["files"].values()
    )  # nothing else (no partial files) left in the folder


def test_cli_bad_format_is_one_line_and_writes_nothing(built, tmp_path):
    result = _run(built["store"], AUTHORITY, "--to", "html,xls", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --to: unknown format xls; choose from html, pdf, docx, md, csv"
    ]
    assert not (tmp_path / "out").exists()


def test_cli_does_not_overwrite_without_being_asked(built):
    args = (AUTHORITY, "--to", "md", "--out", str(built["out"]))
    before = built["files"]["md"].read_bytes()
    refused = _run(built["store"], *args)
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1
    assert "already exists; pass --overwrite to replace it" in refused.output
    assert built["files"]["md"].read_bytes() == before
    replaced = _run(built["store"], *args, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert replaced.output.strip() == f"Wrote {built['files']['md']}"


def test_cli_without_to_keeps_its_table(built):
    result = _run(built["store"], AUTHORITY)
    assert result.exit_code == 0, result.output
    assert "Northshire Council: round 2 of 2 (open)" in result.output
    assert "DISCUSS" in result.output


# --------------------------------------------------------------------------- HTML


def test_html_lists_every_component_with_levels_targets_and_gaps(built):
    report, page = built["report"], _html_text(built["files"]["html"])
    assert page.get("lang") == "en-GB"
    table = page.xpath("//table[contains(@class, 'ew-mat-levels')]")[0]
    assert table.xpath("caption")[0].text_content().startswith("Round 2: the agreed level")
    headers = [_squash(th.text_content()) for th in table.xpath("thead/tr/th")]
    assert headers == ["Component", "Current level", "Target", "Target date", "Gap",
                       "Since round 1"]  # fmt: skip
    assert all(th.get("scope") == "col" for th in table.xpath("thead/tr/th"))
    rows = {
        _squash(tr.xpath("th")[0].text_content()): [
            _squash(c.text_content()) for c in tr.xpath("td")
        ]
        for tr in table.xpath("tbody/tr")
    }
    assert list(rows) == [c["name"] for c in report["components"]]
    by_name = {c["name"]: c for c in report["components"]}
    strategy, governance, targets = (by_name[n] for n in list(by_name)[:3])
    assert rows[strategy["name"]] == ["2 Defining", "4 Proving", "30 Sep 2027", "2 levels",
                                      "Up 1 level"]  # fmt: skip
    assert rows[governance["name"]][:2] == ["2 Defining", "3 Testing"]
    assert rows[targets["name"]][3:] == ["None", "Up 2 levels"]
    for cells in list(rows.values())[3:]:  # carried over from round 1
        assert cells == ["1 Initiating", "3 Testing", "31 Mar 2027", "2 levels", "No change"]
    gaps = [_squash(li.text_content()) for li in page.xpath("//ul[@class='ew-mat-gaps']/li")]
    assert len(gaps) == 6 == len(report["gaps"])
    assert gaps[0] == f"{strategy['name']}: 2 Defining to 4 Proving (2 levels, by 30 Sep 2027)"
    assert not any(targets["name"] in g for g in gaps)


def test_html_radar_is_an_image_with_a_name_and_description_once(built):
    text = built["files"]["html"].read_text(encoding="utf-8")
    assert text.count("<svg") == 1
    page = _html_text(built["files"]["html"])
    (svg,) = page.xpath("//svg")
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert page.get_element_by_id(title_id).tag == "title"
    assert "round 2" in page.get_element_by_id(title_id).text
    desc = page.get_element_by_id(desc_id).text
    assert desc == built["report"]["radar"]["description"]
    assert "Round 2: agreed level: Strategy 2;" in desc
    assert "Round 1: agreed level: Strategy 1;" in desc
    # nothing is fetched from anywhere: no external references at all
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//(?!example\.org/strategy)""", text)
    for fetching in ("<link", "<img", "@import", "url(http"):
        assert fetching not in text


def test_html_action_plan_and_user_text_are_escaped(built):
    text = built["files"]["html"].read_text(encoding="utf-8")
    page = _html_text(built["files"]["html"])
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(" in text
    assert "<strong>Signed off</strong>" in text  # the rationale's markdown, sanitised
    assert "dana@example.org&gt;" in text
    assert "<dana@" not in text
    plan = page.xpath("//section[@id='what-next']//table")[0]
    assert plan.xpath("caption")[0].text_content() == "Action plan, round 2"
    rows = [[_squash(c.text_content()) for c in tr.xpath("th|td")] for tr in plan.xpath("tbody/tr")]
    owners = {r[0]: (r[2], r[3], r[4], r[5]) for r in rows}
    names = [c["name"] for c in built["report"]["components"]]
    assert owners[names[0]] == (OWNER, "30 Sep 2027", "Open", "No")
    assert owners[names[1]] == ("Ben Okafor", "31 Jan 2025", "Open", "Overdue")
    assert owners[names[2]][2] == "Done"
    assert owners[names[3]][0] == "No owner yet"
    assert rows[-1][0] == names[2]  # done actions after the open ones


def test_html_details_show_evidence_spread_and_flag(built):
    page = _html_text(built["files"]["html"])
    names = [c["name"] for c in built["report"]["components"]]
    strategy = _squash(page.get_element_by_id("component-strategy").text_content())
    assert "project demo, question q4" in strategy
    link = page.xpath("//section[@id='component-strategy']//a")[0]
    assert (link.text, link.get("href")) == ("Strategy 2026", "https://example.org/strategy")
    assert "asha.patel: 2 Defining" in strategy
    assert "differ by" not in strategy
    governance = page.xpath("//section[@class='ew-mat-component']")[1]
    flag = _squash(governance.xpath(".//p[@class='ew-mat-flag']")[0].text_content())
    assert flag == (
        "Ratings differ by 3 levels (2 or more): was this discussed before the level was agreed?"
    )
    assert names[1] in governance.xpath("h3")[0].text
    carried = _squash(page.xpath("//section[@class='ew-mat-component']")[4].text_content())
    assert "Carried over unchanged from round 1." in carried


def test_rounds_compared_and_no_iso_dates(built):
    page = _html_text(built["files"]["html"])
    table = page.xpath("//section[@id='rounds-compared']//table")[0]
    assert [th.text_content() for th in table.xpath("thead/tr/th")] == [
        "Component", "Round 1", "Round 2", "Movement"]  # fmt: skip
    first = [_squash(c.text_content()) for c in table.xpath("tbody/tr[1]/*")]
    assert first == ["Strategy", "1 Initiating", "2 Defining", "Up 1 level since round 1"]
    for fmt in ("html", "md"):
        shown = built["files"][fmt].read_text(encoding="utf-8")
        if fmt == "html":
            shown = _html_text(built["files"]["html"]).text_content()
        assert not ISO_DATE.search(shown), ISO_DATE.search(shown)


def test_a_closed_round_says_when_and_by_whom(built):
    a = built["store"].open(AUTHORITY)
    report = board_report(a, a.maturity_model(), round_number=1,
                          exported_at="2027-01-05T10:00:00+00:00")  # fmt: skip
    page = _html_text_of(board_html(report))
    cover = _cover(page)
    closed = a.round(1).closed
    assert cover["Status"] == f"Closed on {day(closed.at)} by {LEAD}"
    assert cover["Note on closing"] == "Agreed at the March board"
    assert cover["Respondents"] == ", ".join(PEOPLE)
    assert cover["Protective marking"] == "OFFICIAL"
    assert "Since round" not in page.text_content()  # round 1 has nothing to move from
    assert (
        _cover(_html_text(built["files"]["html"]))["Status"]
        == "Open: not yet closed, so levels may still change"
    )


def _cover(page) -> dict[str, str]:
    return {
        _squash(div.xpath("dt")[0].text_content()): _squash(div.xpath("dd")[0].text_content())
        for div in page.xpath("//header[@class='ew-cover']/dl/div")
    }


def _html_text_of(text: str):
    import lxml.html

    return lxml.html.fromstring(text)


def test_a_round_with_nothing_agreed_yet(tmp_path):
    store = AssessmentStore(tmp_path / "ws")
    a = mat.start_assessment(store, "Southshire", user=LEAD)
    report = board_report(a, a.maturity_model(), exported_at=datetime.now(timezone.utc))
    page = _html_text_of(board_html(report))
    cells = page.xpath("//table[contains(@class, 'ew-mat-levels')]/tbody/tr/td[1]")
    assert [c.text_content() for c in cells] == ["Not agreed yet"] * 7
    assert "0 of 7 components have an agreed level so far" in page.text_content()
    assert "No actions" in board_markdown(report)
    write_board_docx(report, tmp_path / "empty.docx")
    assert "Not agreed yet" in _docx_text(tmp_path / "empty.docx")


# --------------------------------------------------------------------------- Markdown


def test_markdown_has_the_same_content_escaped(built):
    text = built["files"]["md"].read_text(encoding="utf-8")
    report = built["report"]
    assert text.startswith("**OFFICIAL**\n\n# Northshire Council: round 2\n")
    for c in report["components"]:
        row = f"| {c['name']} | {c['level_label']} | {c['target_label']} |"
        assert row in text
    for g in report["gaps"]:
        assert f"- **{g['name']}**: {g['level_label']} to {g['target_label']}" in text
    assert "<script" not in text
    assert "&lt;script&gt;" in text
    assert "Dana O'Neill &lt;dana@example.org&gt;" in text
    assert "| Ben Okafor | 31 Jan 2025 | Open | **Overdue** |" in text
    assert "*No owner yet*" in text
    assert "- project demo, question q4" in text
    assert "[Strategy 2026](<https://example.org/strategy>)" in text
    assert text.count("Ratings differ by 3 levels") == 1
    assert "Chart: Northshire Council: digital ethics maturity by component, round 2." in text


# --------------------------------------------------------------------------- Word


def test_word_has_the_chart_with_alt_text_tables_and_marking(built):
    from docx import Document

    path = built["files"]["docx"]
    doc = Document(str(path))
    report = built["report"]
    pictures = doc.inline_shapes
    assert len(pictures) == 1
    doc_pr = pictures[0]._inline.docPr
    assert doc_pr.get("descr") == report["radar"]["description"]
    assert doc_pr.get("title") == report["radar"]["title"]
    section = doc.sections[0]
    assert section.header.paragraphs[0].text == "OFFICIAL"
    assert section.footer.paragraphs[0].text == "OFFICIAL"
    assert (section.page_width.cm, section.page_height.cm) == pytest.approx((21.0, 29.7), 0.01)
    text = _docx_text(path)
    for c in report["components"]:
        assert f"{c['name']} | {c['level_label']} | {c['target_label']} |" in text
    assert "Ben Okafor | 31\u00a0Jan\u00a02025 | Open | Overdue" in text
    assert OWNER in text
    assert "No owner yet" in text
    assert "Signed off by the DCS. " + SCRIPT in text  # shown as text, never run
    assert "project demo, question q4" in text
    assert "Ratings differ by 3 levels" in text
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Where we stand", "What we will do next", "Components in detail",
                        "Rounds compared", "The levels"]  # fmt: skip


# --------------------------------------------------------------------------- PDF and CSV


def test_pdf_has_every_component_levels_and_plan(built):
    path = built["files"]["pdf"]
    text = _squash(_pdf_text(path))
    report = built["report"]
    for heading in ("Where we stand", "What we will do next", "Components in detail",
                    "Rounds compared"):  # fmt: skip
        assert heading in text
    for c in report["components"]:
        assert c["name"].split(",")[0] in text
    for label in ("2 Defining", "4 Proving", "1 Initiating", "3 Testing"):
        assert label in text
    assert re.search(r"Ben Okafor .*31 Jan 2025 .*Overdue", text)
    assert text.count("OFFICIAL") >= 2
    assert "<script" in text  # the rationale, as text
    import pypdf

    reader = pypdf.PdfReader(str(path))
    assert reader.metadata.title == report["title"]
    assert len(reader.pages) >= 3


def test_csv_is_the_action_plan(built):
    raw = built["files"]["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == mat.PLAN_CSV_COLUMNS
    assert len(rows) - 1 == len(built["report"]["actions"]) == 7
    owners = {r[0]: r for r in rows[1:]}
    strategy = owners["Strategy"]
    assert strategy[3:7] == ["Strategy: move from 2 Defining to 4 Proving", OWNER,
                             "2027-09-30", "open"]  # fmt: skip
