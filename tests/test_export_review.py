"""Exports show the oversight review truthfully: sign-off state, comments, the action plan
and, with ``changes``, what changed since each phase's sign-off, word by word."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.servers import require_chromium
from tests.signing import approve_anyway
from workbook import review
from workbook.demo import create_demo
from workbook.export import export_projects
from workbook.export.render import REPORT_CSS, diff_html, report_html
from workbook.export.report import build_report, signoff_changes
from workbook.store import Change, Store

XSS_COMMENT = "Why? <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"
OLD_WORDS = "support earlier"
NEW_WORDS = "help sooner"


def _reviewed(store: Store) -> dict[str, int]:
    """The demo after a review: comments, Explore and Implement signed, then an edit to
    question 2 (Explore). Develop is never signed. Returns the revisions that matter."""
    create_demo(store, project_id="demo", user="setup")
    _, resolved = review.add_comment(
        store, "demo", target="q3", kind="challenge", text="Where is the DPIA?", user="Sam",
        role="Chair",
    )  # fmt: skip
    review.reply(store, "demo", resolved, text="Draft v0.3 is on the project site.", user="Priya")
    review.set_resolved(store, "demo", resolved, True, user="Sam")
    review.add_comment(
        store, "demo", target="explore.checklist.data_maturity", kind="suggestion",
        text="Repeat the maturity self-assessment next year.", user="Ali",
    )  # fmt: skip
    review.add_comment(store, "demo", target="q6", kind="challenge", text=XSS_COMMENT, user="Sam")
    wb = approve_anyway(
        store, "demo", "explore", decision="approved_with_conditions", reviewer="Sam Patel",
        role="Panel chair", conditions="Publish the DPIA before beta.", user="Sam",
    )  # fmt: skip
    signed = wb.review.signoffs.explore.revision
    approve_anyway(store, "demo", "implement", decision="approved", reviewer="Jo", user="Jo")
    wb = store.open("demo")
    old = wb.answer("q2").response
    assert OLD_WORDS in old
    store.apply(
        "demo",
        [Change("answers.q2.response", old, old.replace(OLD_WORDS, NEW_WORDS))],
        user="Priya",
        base_revision=wb.revision,
    )
    return {"signed": signed, "now": store.open("demo").revision}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("review-export")
    store = Store(root / "workspace")
    revs = _reviewed(store)
    out = root / "with-changes"
    result = export_projects(
        ["demo"],
        workspace=store.root,
        formats="html,pdf,docx,md,csv",
        out=out,
        jobs=1,
        progress=False,
        changes=True,
        pack=True,
    )
    assert not result.failed, [p.error for p in result.failed]
    plain = root / "plain"
    result = export_projects(
        ["demo"], workspace=store.root, formats="html", out=plain, jobs=1, progress=False
    )
    assert not result.failed
    return store, out, plain, revs


def _path(exported, ext: str, folder: str = "out") -> Path:
    store, out, plain, revs = exported
    base = out if folder == "out" else plain
    return base / f"demo-r{revs['now']}.{ext}"


class _Page(HTMLParser):
    """Text, and the text inside each <del> and <ins>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.marked: dict[str, list[str]] = {"del": [], "ins": []}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.marked:
            self._open.append(tag)
            self.marked[tag].append("")

    def handle_endtag(self, tag):
        if tag in self.marked and self._open:
            self._open.pop()

    def handle_data(self, data):
        self.text.append(data)
        for tag in self._open:
            self.marked[tag][-1] += data


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _norm(text: str) -> str:
    return " ".join(text.split())


def _section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i)]


def _pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext not found: apt-get install poppler-utils (.ci/run does)"
    out = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True)
    return _norm(out.stdout)


def _docx(path: Path):
    from docx import Document

    return Document(str(path))


# --------------------------------------------------------------------------- files


def test_files_include_the_action_plan_csv(exported):
    store, out, _, revs = exported
    names = sorted(p.name for p in out.iterdir())
    stem = f"demo-r{revs['now']}"
    assert names == sorted(
        [f"{stem}.{e}" for e in ("html", "pdf", "docx", "md")]
        + [f"{stem}-actions.csv", f"{stem}-risks.csv", "index.html"]
    )  # fmt: skip
    pack = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{stem}-actions.csv"' in pack
    assert "Action plan (CSV)" in pack
    assert f'href="{stem}-risks.csv"' in pack
    assert "Risk register (CSV)" in pack
    text = _norm(re.sub(r"<[^>]+>", " ", pack))
    assert re.search(
        r"Explore phase: \d+% \(3 of 4 complete\); sign-off out of date \(changed since", text
    )
    assert "Develop phase: 7% (0 of 6 complete); not signed off" in text
    assert (
        "Implement phase: 0% (0 of 3 complete); approved with 3 questions incomplete, sign-off "
        "current" in text
    )


def test_csv_matches_the_action_plan(exported):
    store, out, _, revs = exported
    with (out / f"demo-r{revs['now']}-actions.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    expected = list(
        csv.reader(io.StringIO(review.action_plan_csv(review.action_plan(store.open("demo")))))
    )
    assert rows == expected
    assert len(rows) == 4  # header and the demo's three actions
    assert rows[0] == list(review.CSV_COLUMNS)


# --------------------------------------------------------------------------- sign-off


def test_html_shows_each_phase_sign_off_truthfully(exported):
    _, _, _, revs = exported
    text = _norm(" ".join(_page(_path(exported, "html")).text))
    overview = _section(text, "Sign-off Phase", "Open challenges")
    assert f"Explore phase ⚠ Out of date: changed since revision {revs['signed']}" in overview
    assert "Approved with conditions (1 question incomplete) Sam Patel (Panel chair)" in overview
    assert "Develop phase Not signed off" in overview
    assert (
        "Implement phase Current: no change since it was signed Approved with 3 questions "
        "incomplete Jo" in overview
    )
    explore = _section(text, "Stages 1-4", "Checklist In the first four stages")
    assert f"Sign-off out of date: changed since revision {revs['signed']}." in explore
    assert "Conditions Publish the DPIA before beta." in explore
    develop = _section(text, "Develop phase stages", "Checklist")
    assert "Sign-off: not signed off." in develop
    implement = text[text.rindex("Implement phase") :]
    assert "Sign-off current." in implement


def test_the_plain_export_shows_sign_off_but_no_changes(exported):
    text = _norm(" ".join(_page(_path(exported, "html", "plain")).text))
    assert "Out of date: changed since revision" in text
    assert "Changes since last sign-off" not in text


def test_pdf_says_the_sign_off_is_out_of_date(exported):
    _, _, _, revs = exported
    text = _pdf_text(_path(exported, "pdf"))
    assert f"Sign-off out of date: changed since revision {revs['signed']}." in text
    assert "Sign-off current." in text
    assert "Sign-off: not signed off." in text
    assert "Changes since last sign-off" in text
    assert NEW_WORDS in text


def test_docx_says_the_sign_off_is_out_of_date_and_marks_the_diff(exported):
    _, _, _, revs = exported
    doc = _docx(_path(exported, "docx"))
    body = _norm("\n".join(p.text for p in doc.paragraphs))
    assert f"Sign-off out of date: changed since revision {revs['signed']}." in body
    assert "Sign-off current." in body
    assert "Sign-off: not signed off." in body
    cells = [_norm(c.text) for t in doc.tables for r in t.rows for c in r.cells]
    assert f"⚠ Out of date: changed since revision {revs['signed']}" in cells
    assert "Publish the DPIA before beta." in cells
    runs = [r for p in doc.paragraphs for r in p.runs]
    struck = _norm(" ".join(r.text for r in runs if r.font.strike))
    underlined = _norm(" ".join(r.text for r in runs if r.font.underline))
    assert OLD_WORDS in struck
    assert NEW_WORDS in underlined
    assert NEW_WORDS not in struck
    assert "Where is the DPIA?" in body
    assert "Reply from Priya" in body


# --------------------------------------------------------------------------- changes


def test_html_changes_section_holds_the_word_diff(exported):
    page = _page(_path(exported, "html"))
    assert [_norm(t) for t in page.marked["del"] if OLD_WORDS in _norm(t)]
    assert [_norm(t) for t in page.marked["ins"] if NEW_WORDS in _norm(t)]
    # only the changed words are marked, not the whole answer
    assert all(len(t) < 40 for t in page.marked["del"] + page.marked["ins"])
    text = _norm(" ".join(page.text))
    explore = _section(text, "Stages 1-4", "Checklist In the first four stages")
    assert "Changes since last sign-off" in explore
    assert "Question 2: your answer" in explore
    assert "Changed by Priya" in explore
    develop = _section(text, "Develop phase stages", "Checklist")
    assert "never been signed off" in develop
    implement = text[text.rindex("Implement phase") :]
    assert "No changes since revision" in implement
    raw = _path(exported, "html").read_text(encoding="utf-8")
    assert re.search(r"\.ew-report del.*line-through", REPORT_CSS)
    assert re.search(r"\.ew-report ins.*underline", REPORT_CSS)
    assert 'class="wb-del"' in raw
    assert 'class="wb-ins"' in raw


def test_markdown_marks_the_diff_and_the_sign_off(exported):
    _, _, _, revs = exported
    md = _path(exported, "md").read_text(encoding="utf-8")
    assert f"~~{OLD_WORDS}~~" in md
    assert f"**{NEW_WORDS}**" in md
    assert f"Sign-off out of date: changed since revision {revs['signed']}." in md
    assert "### Changes since last sign-off" in md
    assert "## Action plan" in md
    assert "### Open challenges (1)" in md


# --------------------------------------------------------------------------- comments


def test_comments_and_open_challenges_are_shown(exported):
    text = _norm(" ".join(_page(_path(exported, "html")).text))
    challenges = _section(text, "Open challenges (1)", "Progress")
    assert re.search(r"Question 6 ?: Why\?", challenges)
    assert "Where is the DPIA?" not in challenges  # resolved
    q3 = _section(text, "Question 3 Outline", "Question 4")
    assert "Comments (1)" in q3
    assert "Challenge from Sam (Chair)" in q3
    assert "Resolved by Sam" in q3
    assert "Reply from Priya" in q3
    assert "Draft v0.3 is on the project site." in q3
    assert "Suggestion from Ali" in text
    assert "Repeat the maturity self-assessment next year." in text
    q6 = _section(text, "Question 6 Consider", "Question 7")
    assert "Open" in q6
    assert "<script>alert(1)</script>" in q6  # shown as text


@pytest.mark.parametrize("ext", ["html", "md"])
def test_comment_payloads_do_not_survive(exported, ext):
    path = _path(exported, ext)
    raw = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in raw
    assert "<img src=x" not in raw
    if ext == "md":  # a real markdown link; an escaped \[x\](...) is plain text
        assert not re.search(r"(?<!\\)\]\(\s*javascript:", raw, re.I)
    if ext == "html":
        page = _page(path)
        assert not [t for t, _ in page.tags if t in {"script", "img"}]
        assert not [a for _, a in page.tags for k in a if k.startswith("on")]
        assert not [a for _, a in page.tags if "javascript:" in (a.get("href") or "").lower()]


def test_action_plan_table_in_every_format(exported):
    store, _, _, _ = exported
    rows = review.action_plan(store.open("demo"))
    text = _norm(" ".join(_page(_path(exported, "html")).text))
    plan = _section(text, "Action plan", "Risk register")
    register = _section(text, "Risk register", "Explore phase Stages")  # risk reviews overdue
    late = sum(r.overdue for r in rows)
    assert f"{len(rows)} further-work actions across the workbook, {late} overdue" in plan
    for r in rows:
        assert _norm(r.action) in plan
    assert plan.count("Overdue") == late + 1  # the column heading, then each overdue row
    # and in each question's further-work table
    assert text.replace(register, "").count("(overdue)") == late
    md = _path(exported, "md").read_text(encoding="utf-8")
    docx_cells = {
        _norm(c.text)
        for t in _docx(_path(exported, "docx")).tables
        for r in t.rows
        for c in r.cells
    }
    for r in rows:
        assert r.action in md
        assert _norm(r.action) in docx_cells


def test_exports_name_no_paths_of_the_machine(exported):
    store, out, _, _ = exported
    for path in out.iterdir():
        if path.suffix in {".html", ".md", ".csv"}:
            raw = path.read_text(encoding="utf-8-sig")
            assert str(store.root) not in raw, path.name
            assert str(REPO) not in raw, path.name
            assert "Traceback" not in raw


# --------------------------------------------------------------------------- in process


def test_diff_html_escapes_and_keeps_only_del_and_ins():
    html = diff_html([["equal", "a <b>x</b> "], ["delete", "<script>y</script>"], ["insert", "z"]])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<del class="wb-del" title="removed">&lt;script&gt;y&lt;/script&gt;</del>' in html
    assert '<ins class="wb-ins" title="added">z</ins>' in html


def test_report_without_review_data_says_not_signed_off(store):
    store.create("Blank", "LA", project_id="blank", user="a")
    wb = store.open("blank")
    report = build_report(wb, changes=signoff_changes(store, wb))
    assert [ph["signoff"]["status"] for ph in report["phases"]] == ["none"] * 3
    assert [ph["changes"]["signed"] for ph in report["phases"]] == [False] * 3
    assert report["open_challenges"] == []
    assert report["actions"] == []
    text = report_html(report)
    assert text.count("Sign-off: not signed off.") == 3
    assert "No further-work actions have been recorded." in text
    assert "None: no challenge is waiting for an answer." in text
