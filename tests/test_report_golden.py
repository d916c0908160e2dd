"""The HTML and Markdown documents for a fixed project, compared with reviewed copies.

``tests/data/golden/projects`` holds the demo project with review activity (a resolved
challenge with a reply, a question, an approval with conditions, an edit after it and an
open challenge). Rendered at a fixed time in a fixed zone, its documents must equal
``tests/data/golden/demo.html`` and ``demo.md`` byte for byte. After a deliberate change to
a template, look at the diff this test prints, then write the new copies with
``WORKBOOK_UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`` and review them in the commit.
"""

from __future__ import annotations

import difflib
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from workbook.export.render import report_document, report_markdown
from workbook.export.report import build_report, signoff_changes
from workbook.store import Store

GOLDEN = Path(__file__).parent / "data" / "golden"
EXPORTED_AT = datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def report():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/London"
    time.tzset()
    try:
        store = Store(GOLDEN / "projects")
        wb = store.open("demo")
        yield build_report(wb, exported_at=EXPORTED_AT, changes=signoff_changes(store, wb))
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def _compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WORKBOOK_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(),
            text.splitlines(),
            f"{name} (reviewed)",
            f"{name} (now)",
            lineterm="",
            n=1,
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(f"{name} differs from the reviewed copy:\n{shown}")


def test_html_is_the_reviewed_document(report):
    _compare("demo.html", report_document(report))


def test_markdown_is_the_reviewed_document(report):
    _compare("demo.md", report_markdown(report))


def test_the_golden_documents_show_what_the_workspace_holds(report):
    """The reviewed copies are not empty shells: they carry the review activity."""
    html_text = (GOLDEN / "demo.html").read_text(encoding="utf-8")
    md_text = (GOLDEN / "demo.md").read_text(encoding="utf-8")
    for text in (html_text, md_text):
        assert "Report back on question 3 by March." in text  # sign-off conditions
        assert "Article 6(1)(e), public task." in text  # a reply
        assert "Changes since last sign-off" in text
        assert "30 Nov 2026, 14:05 GMT" in text  # exported, local time with its zone
        assert "Data Ethics Workbook, Department for Education, April 2024" in text
        assert "dfe-2024-04" not in text
        assert text.count("OFFICIAL") >= 3  # top, cover, bottom
    assert "&lt;b&gt;it&lt;/b&gt;" in html_text  # raw HTML in a comment stays text
    assert "<b>it</b>" not in html_text


def test_a_sensitive_marking_is_on_every_format(report):
    marked = {**report, "marking": "OFFICIAL-SENSITIVE"}
    html_text = report_document(marked)
    assert html_text.count("OFFICIAL-SENSITIVE") == 3
    assert report_markdown(marked).count("OFFICIAL-SENSITIVE") == 3
