"""The transparency page in a real browser: `workbook serve` (Voilà) and headless Chromium.

On a fresh demo project's transparency page (07-transparency.ipynb), one field's public
wording is written with the keyboard alone: Tab to the contents link of the first sheet,
Enter, Tab to the field's "Edit" button, Enter, type, Tab to its save button, Space. The
page says it is saved, the answers file on disk has it (with the person's name in the
history), and after a reload the draft shows it as the team's wording. axe-core finds
nothing wrong at 1280 and 390 px, and at 320 px nothing scrolls sideways. Screenshots of
the top, the field and the framework view at each width go to
outputs/screenshots/transparency-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.servers import SCREENSHOTS, Server, as_user
from tests.test_browser import FOCUS_YELLOW, LOAD_TIMEOUT_MS, focused, tab_until, wait_for_disk
from tests.test_browser_maturity import check_widths, report
from workbook.atrs import build_draft
from workbook.demo import create_demo

PROJECT = "transparency-keyboard"
READY = ".ew-transparency .ew-footer"
WORDING = "Families in the North West of England."

expect.set_options(timeout=20_000)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()  # closing the tab lets Voilà shut the page's kernel down


def shoot(page: Page, width: int, height: int, part: str) -> None:
    """A screenshot of one part of the page (``top``, or an element's id) at a width: the
    page is far taller than a screenshot can be."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function("w => document.documentElement.clientWidth === w", arg=width)
    page.evaluate(
        """id => id === 'top' ? document.getElementById('rendered_cells').scrollTo(0, 0)
          : document.getElementById(id).scrollIntoView({block: 'start'})""",
        part,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"transparency-{part}-{width}.png")


def test_a_field_written_by_keyboard_is_saved_and_there_after_a_reload(
    voila_server: Server, page: Page
):
    create_demo(voila_server.store, project_id=PROJECT, user="setup")
    draft = build_draft(voila_server.store, PROJECT)
    s = draft["summary"]
    as_user(page, voila_server, "Kim")
    page.goto(voila_server.url("07-transparency.ipynb", project=PROJECT))
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="What the draft still needs")).to_be_visible()
    expect(page.locator(".ew-atrs-report .ew-lead")).to_have_text(
        f"Required fields filled: {s['required_filled']} of {s['required']}."
    )
    region = page.locator(".ew-atrs-field", has=page.locator("#field-region"))
    expect(region.locator(".ew-missing")).to_have_text("Required, and still empty.")
    expect(page.get_by_role("heading", name="Principle: Transparency")).to_be_visible()

    # ---- keyboard only: the contents link, the field's Edit button, type, save
    tab_until(page, "a", "Summary information", limit=40)
    page.keyboard.press("Enter")
    expect(page.locator("#sheet-summary_information")).to_be_focused()
    tab_until(page, "button", "Edit public wording for Region", limit=40)
    assert focused(page)["outline"] == f"solid 3px {FOCUS_YELLOW}", focused(page)
    page.keyboard.press("Enter")
    box = region.get_by_label("Public wording for Region", exact=True)
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # nothing in the workbook feeds it
    page.keyboard.type(WORDING)
    tab_until(page, "button", "Save public wording for Region", limit=5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    region.screenshot(path=SCREENSHOTS / "transparency-form.png")
    page.keyboard.press("Space")
    expect(region.get_by_role("status")).to_have_text(
        re.compile(
            r"^Saved the public wording for Region, revision \d+\. Every later draft uses it\.$"
        )
    )
    expect(region.locator(".ew-atrs-value")).to_have_text(WORDING)
    expect(region.locator(".ew-atrs-origin")).to_have_text(
        re.compile(r"^The team's wording for the public, saved by Kim on .*\(revision \d+\)\.$")
    )
    expect(page.locator(".ew-atrs-report .ew-lead")).to_have_text(
        f"Required fields filled: {s['required_filled'] + 1} of {s['required']}."
    )

    saved = wait_for_disk(
        voila_server,
        PROJECT,
        lambda m: "region" in m.transparency.fields,
        "Kim's public wording for Region",
    )
    record = saved.transparency.fields["region"]
    assert (record.text, record.withheld, record.updated_by) == (WORDING, False, "Kim")
    last = voila_server.store.history(PROJECT)[-1]
    assert (last["user"], last["path"]) == ("Kim", "transparency.fields.region")

    # ---- axe at 1280 and 390 px (the form open), nothing sideways at 320 px
    problems = check_widths(page, None)
    assert not problems, report(problems)
    for width, height in ((1280, 1800), (390, 1600)):
        for part in ("top", "field-region", "framework"):
            shoot(page, width, height, part)
    page.set_viewport_size({"width": 1280, "height": 900})

    # ---- after a reload the draft shows the team's wording
    page.reload()
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(region.locator(".ew-atrs-value")).to_have_text(WORDING)
    expect(region.locator(".ew-atrs-flags")).to_contain_text("Written for the public")
    expect(page.locator(".ew-atrs-report .ew-lead")).to_have_text(
        f"Required fields filled: {s['required_filled'] + 1} of {s['required']}."
    )
