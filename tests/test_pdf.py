"""The PDF: tagged, A4, bookmarks, the protective marking on every page, rows kept whole,
nothing off the page; one Chromium per process, which papermill does not disturb.

Rendered straight from the report data (no kernel), except where papermill is the point.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO
from tests.servers import require_chromium
from workbook.errors import WorkbookError
from workbook.export import pdf
from workbook.export.render import report_document
from workbook.export.report import build_report
from workbook.store import Store

GOLDEN = REPO / "tests" / "data" / "golden" / "projects"
A4 = (595.28, 841.89)  # points
MM = 72 / 25.4
LONG_ACTIONS = 45


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: apt-get install poppler-utils (.ci/run does)")
    return path


def _report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pdf-ws")
    shutil.copytree(GOLDEN, root / "workspace")
    return build_report(Store(root / "workspace").open("demo"))


def _print(report: dict, path: Path) -> Path:
    pdf.html_to_pdf(
        report_document(report),
        path,
        marking=report["marking"],
        title=f"{report['project']['tool_name']}: Data Ethics Workbook",
        language=report["language"],
    )
    return path


def _long_plan(report: dict) -> dict:
    """The report with an action plan long enough to run over several pages: each action
    starts with ``BeginN``, ends with ``EndN`` and wraps over lines; its owner is
    ``OwnerN``."""
    report = copy.deepcopy(report)
    template = report["actions"][0]
    filler = "agree the wording with the practice leads and record the decision in the log"
    report["actions"] = [
        {
            **template,
            "index": n,
            "action": f"Begin{n} {filler} {'and check it again ' * (n % 4)}End{n}",
            "owner": f"Owner{n}",
        }
        for n in range(LONG_ACTIONS)
    ]
    return report


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The golden demo printed as OFFICIAL, and as OFFICIAL-SENSITIVE with a long action
    plan and an action holding a 300-character word."""
    require_chromium()
    out = tmp_path_factory.mktemp("pdf")
    report = _report(tmp_path_factory)
    official = {**report, "marking": "OFFICIAL"}
    sensitive = _long_plan({**report, "marking": "OFFICIAL-SENSITIVE"})
    sensitive["actions"].append(
        {**sensitive["actions"][0], "action": "Unbroken" + "x" * 300, "owner": "Someone"}
    )
    return {
        "report": report,
        "OFFICIAL": _print(official, out / "official.pdf"),
        "OFFICIAL-SENSITIVE": _print(sensitive, out / "sensitive.pdf"),
    }


def _info(path: Path) -> dict[str, str]:
    out = subprocess.run([_tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True)
    return dict(
        (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in out.stdout.splitlines())
    )


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def _pages(path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every page's words with their boxes (points from the top left), from pdftotext."""
    out = subprocess.run(
        [_tool("pdftotext"), "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [
        [(*map(float, m.groups()[:4]), html.unescape(m.group(5))) for m in _WORD.finditer(page)]
        for page in out.split("<page ")[1:]
    ]


def _page_text(path: Path, n: int) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-f", str(n), "-l", str(n), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_pdf_is_tagged_a4_with_the_title_and_language(printed):
    import pypdf

    path = printed["OFFICIAL"]
    info = _info(path)
    assert info["Tagged"] == "yes"
    tool = printed["report"]["project"]["tool_name"]
    assert info["Title"] == f"{tool}: Data Ethics Workbook"
    assert "(A4)" in info["Page size"], info["Page size"]
    assert int(info["Pages"]) > 3
    reader = pypdf.PdfReader(str(path))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def _outline(items) -> list[str]:
    titles = []
    for item in items:
        titles += _outline(item) if isinstance(item, list) else [item.title]
    return titles


def test_the_bookmarks_are_the_headings_with_their_spaces(printed):
    """Every phase and question is a bookmark, worded as its heading (Chromium alone drops
    the space where a heading's line wraps: "requiredto develop")."""
    import pypdf

    titles = _outline(pypdf.PdfReader(str(printed["OFFICIAL"])).outline)
    report = printed["report"]
    expected = ["Sign-off", "Progress", "Action plan"]
    for phase in report["phases"]:
        expected.append(phase["title"])
        expected += [f"Question {q['number']} {q['text']}" for q in phase["questions"]]
    missing = [t for t in expected if t not in titles]
    assert not missing, (missing, titles)
    assert titles[0] == report["project"]["tool_name"]


@pytest.mark.parametrize("marking", ["OFFICIAL", "OFFICIAL-SENSITIVE"])
def test_the_marking_is_at_the_top_and_bottom_of_every_page(printed, marking):
    """In readable type (at least 9pt), inside the page margins, with "Page X of Y" at the
    bottom; and no other text runs into the margins, so nothing overlaps them."""
    path = printed[marking]
    pages = _pages(path)
    total = len(pages)
    assert total == int(_info(path)["Pages"]) > 3
    top, bottom = 20 * MM, A4[1] - 22 * MM
    for n, words in enumerate(pages, start=1):
        if marking == "OFFICIAL":
            assert "OFFICIAL-SENSITIVE" not in [w[4] for w in words]
        heads = sorted(w for w in words if w[3] < top)
        feet = sorted(w for w in words if w[1] > bottom)
        assert [w[4] for w in heads] == [marking], (n, heads)
        assert [w[4] for w in feet] == [marking, "Page", str(n), "of", str(total)], (n, feet)
        for w in heads + feet:
            assert w[3] - w[1] >= 10.0, f"page {n}: {w[4]!r} is smaller than 9pt"


def test_no_action_plan_row_is_split_across_pages(printed):
    path = printed["OFFICIAL-SENSITIVE"]
    pages = _pages(path)
    where: dict[str, set[int]] = {}
    for n, words in enumerate(pages, start=1):
        for w in words:
            where.setdefault(w[4], set()).add(n)
    begins = [where.get(f"Begin{n}", set()) for n in range(LONG_ACTIONS)]
    assert all(len(p) == 1 for p in begins), begins
    assert len(set().union(*begins)) >= 2, "the action plan should run over a page break"
    for n in range(LONG_ACTIONS):
        assert where[f"Begin{n}"] == where[f"End{n}"] == where[f"Owner{n}"], n


def test_nothing_runs_off_the_side_of_the_page(printed):
    """A 300-character word in a table cell wraps inside the page's text area."""
    pages = _pages(printed["OFFICIAL-SENSITIVE"])
    left, right = 16 * MM - 1, A4[0] - 16 * MM + 1
    pieces = [w for words in pages for w in words if w[4].startswith(("Unbroken", "xxxx"))]
    assert len(pieces) > 1, "the long word should wrap"
    for words in pages:
        for w in words:
            assert left <= w[0], w
            assert w[2] <= right, w


def test_the_document_loads_nothing_and_runs_no_script(tmp_path):
    require_chromium()
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        pdf.html_to_pdf(
            f'<!DOCTYPE html><html lang="en-GB"><head><title>t</title>'
            f'<link rel="stylesheet" href="{base}/style.css"></head><body><h1>Offline</h1>'
            f'<img src="{base}/image.png" alt="x"><iframe src="{base}/frame"></iframe>'
            "<script>document.body.append('SCRIPT RAN')</script></body></html>",
            tmp_path / "offline.pdf",
            marking="OFFICIAL",
            title="Offline",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    text = _page_text(tmp_path / "offline.pdf", 1)
    assert "Offline" in text
    assert "SCRIPT RAN" not in text


def _browsers() -> list[psutil.Process]:
    """Chromium browser processes (not their renderers) started by this process."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if (
            cmd
            and Path(cmd[0]).name.startswith("chrom")
            and not any(a.startswith("--type=") for a in cmd)
        ):
            found.append(child)
    return found


def test_one_browser_serves_every_pdf_and_papermill_still_runs_between(tmp_path):
    """Two PDFs with a papermill run between them: one Chromium, started once, in its own
    thread, so papermill's asyncio finds no loop running in this thread (and the other
    way round)."""
    from workbook.demo import create_demo
    from workbook.export.kernel import execute_report, report_data

    require_chromium()
    store = Store(tmp_path / "workspace")
    create_demo(store, project_id="demo", user="setup")
    report = build_report(store.open("demo"))
    _print(report, tmp_path / "one.pdf")
    launches = pdf.PRINTER.launches
    assert len(_browsers()) == 1
    nb = execute_report("demo", str(store.root))
    assert report_data(nb)["project"]["tool_name"] == report["project"]["tool_name"]
    _print(report, tmp_path / "two.pdf")
    assert pdf.PRINTER.launches == launches
    assert len(_browsers()) == 1
    assert _info(tmp_path / "two.pdf")["Tagged"] == "yes"


def test_a_crashed_browser_is_started_again(tmp_path):
    require_chromium()
    page = '<!DOCTYPE html><html lang="en-GB"><head><title>t</title></head><body><h1>Hi</h1>'
    pdf.html_to_pdf(page, tmp_path / "a.pdf", marking="OFFICIAL", title="A")
    [browser] = _browsers()
    launches = pdf.PRINTER.launches
    # The crash comes while the printer is idle: once it has opened the page for the next
    # PDF (it does that right after a PDF). Killing Chromium in the middle of opening that
    # page made this test hang now and then, in Playwright's new_page.
    deadline = time.monotonic() + 30
    while pdf.PRINTER._spare is None:
        assert time.monotonic() < deadline, "the printer never opened its next page"
        time.sleep(0.05)
    browser.kill()
    browser.wait(10)
    pdf.html_to_pdf(page, tmp_path / "b.pdf", marking="OFFICIAL", title="B")
    assert pdf.PRINTER.launches == launches + 1
    assert _info(tmp_path / "b.pdf")["Title"] == "B"
    assert len(_browsers()) == 1


def test_no_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(WorkbookError, match="WORKBOOK_CHROMIUM") as info:
        pdf.html_to_pdf("<p>x</p>", tmp_path / "x.pdf", marking="OFFICIAL", title="X")
    assert "no-such-chromium" in str(info.value)
    assert not (tmp_path / "x.pdf").exists()


def test_a_pdf_needs_a_marking(tmp_path):
    with pytest.raises(WorkbookError, match="protective marking"):
        pdf.html_to_pdf("<p>x</p>", tmp_path / "x.pdf", marking=" ", title="X")
