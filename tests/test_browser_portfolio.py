"""The portfolio dashboard in a real browser: `workbook serve` (Voilà) and headless Chromium.

Uses the session's `voila_server` (the demo project 'demo' and an empty one, 'blank', in
'Test Council'; other browser tests may add projects of their own) and the module's
`browser` fixture.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from tests.servers import SCREENSHOTS, as_user

LOAD_TIMEOUT_MS = 90_000
READY = ".ew-pf-table"

expect.set_options(timeout=20_000)


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


def open_portfolio(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)


def row(page: Page, project_id: str):
    return page.locator(f'tr[data-project="{project_id}"]')


def test_portfolio_table_filter_by_keyboard_and_follow_a_link(voila_server, page):
    as_user(page, voila_server, "Oversight Chair")
    open_portfolio(page, voila_server.url("05-portfolio.ipynb"))
    expect(page).to_have_title(re.compile("Portfolio"))
    expect(row(page, "demo")).to_be_visible()
    expect(row(page, "blank")).to_be_visible()
    expect(row(page, "blank")).to_contain_text("Blank Tool")
    expect(page.locator("svg[role=img] title")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "portfolio.png")

    # Choose the blank project's local authority with the keyboard only.
    authority = page.get_by_label("Local authority")
    authority.focus()
    expect(authority).to_be_focused()
    page.keyboard.type("Test Council")
    expect(authority).to_have_value("Test Council")
    expect(row(page, "demo")).to_have_count(0)
    expect(row(page, "blank")).to_be_visible()
    expect(page.locator(".ew-pf-summary")).to_contain_text("Test Council")

    # Tab on to the status filter and pick "Cannot be read": nothing in this workspace.
    page.keyboard.press("Tab")
    status = page.get_by_label("Status")
    expect(status).to_be_focused()
    page.keyboard.type("Cannot")
    expect(status).to_have_value("Cannot be read")  # ipywidgets uses the label
    expect(page.locator(READY)).to_contain_text("No projects match these filters")
    page.keyboard.press("Home")  # the first option: All projects
    expect(status).to_have_value("All projects")
    expect(row(page, "blank")).to_be_visible()

    # Follow the blank project's Explore link: the phase page opens for that project,
    # and the name given in this browser session is kept (no name prompt).
    link = row(page, "blank").locator('a[href^="01-explore.ipynb"]')
    expect(link).to_have_attribute("href", "01-explore.ipynb?project=blank")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"01-explore\.ipynb\?project=blank"))
    page.wait_for_selector(".ew-question", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.locator(".ew-project")).to_contain_text("Blank Tool")
    expect(page.get_by_text("Editing as")).to_contain_text("Oversight Chair")


def test_portfolio_has_no_serious_accessibility_violations(voila_server, page):
    open_portfolio(page, voila_server.url("05-portfolio.ipynb"))
    results = Axe().run(page)
    blocking = [
        v
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical") and v["id"] != "region"
    ]
    assert not blocking, results.generate_report()
