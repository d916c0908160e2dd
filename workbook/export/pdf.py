"""PDF: the exported HTML printed by the system Chromium (Playwright), offline."""

from __future__ import annotations

import os
from pathlib import Path

from workbook.errors import WorkbookError

CHROMIUM = Path(os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium"))


def html_to_pdf(html_text: str, path: Path) -> None:
    """Print the exported HTML to PDF with the system Chromium (offline, no downloads)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise WorkbookError(
            f"PDF export needs Chromium at {CHROMIUM} (apt-get install chromium, or set "
            "WORKBOOK_CHROMIUM)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-component-update",
            ],
        )
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # offline: nothing may load
            page.set_content(html_text, wait_until="load")
            page.pdf(
                path=str(path),
                format="A4",
                print_background=True,
                margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:9px;width:100%;text-align:center;color:#484949">'
                    'Page <span class="pageNumber"></span> of <span class="totalPages"></span>'
                    "</div>"
                ),
            )
        finally:
            browser.close()


