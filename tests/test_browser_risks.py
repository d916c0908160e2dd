"""The risk register in a real browser: `workbook serve` (Voilà) and headless Chromium.

On the Explore page of a fresh demo project, a risk is added with the keyboard alone (Tab,
typing, Space, Enter, arrow keys; locators only check where focus is and what is shown),
shows in the heat map and the list, is in the answers file on disk, and is there again
after a reload. axe-core finds nothing wrong with the register at 1280 and 390 px, and at
320 px nothing on the page scrolls sideways. Screenshots of the register at 1280 and 390 px
go to outputs/screenshots/risks-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.servers import SCREENSHOTS, Server, as_user
from tests.test_browser import LOAD_TIMEOUT_MS, tab_until, wait_for_disk
from tests.test_browser_reflow import FINDINGS_JS
from workbook.demo import create_demo

PROJECT = "risks-keyboard"
READY = ".ew-phase .ew-footer"
R7_BEFORE = re.compile(r"Before: (R\d+, )*R7\b")
TITLE = "Weekly retraining uses more energy than the service needs"

expect.set_options(timeout=20_000)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()


def type_into(page: Page, tag: str, name: str, text: str) -> None:
    tab_until(page, tag, name, limit=40)
    page.keyboard.type(text)


def axe_on_register(page: Page) -> list[str]:
    results = Axe().run(page, context=".ew-risks")
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
    ]


def screenshot_register(page: Page, name: str) -> None:
    """The whole register: the view is made as tall as the page for the shot (Voilà scrolls
    inside #rendered_cells, so a screenshot only holds what is in view)."""
    size = page.viewport_size
    assert size is not None
    height = min(page.evaluate("document.getElementById('rendered_cells').scrollHeight"), 16_000)
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_function(
        "h => document.getElementById('rendered_cells').clientHeight >= h", arg=height
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".ew-risks").screenshot(path=SCREENSHOTS / f"{name}.png")
    page.set_viewport_size(size)


def test_a_risk_added_by_keyboard_shows_in_the_heat_map_and_survives_a_reload(
    voila_server: Server, page: Page
):
    create_demo(voila_server.store, project_id=PROJECT, user="setup")
    as_user(page, voila_server, "Kim")
    # The way in from the Develop page: a link to the register. The page goes there (and
    # puts focus on its heading) once it has been drawn.
    page.goto(voila_server.url("01-explore.ipynb", project=PROJECT) + "#risk-register")
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    register = page.locator(".ew-risks")
    expect(page.locator("#risk-register")).to_be_focused()
    expect(register.get_by_text("Not yet considered: Environmental sustainability")).to_be_visible()
    heat_map = register.get_by_role("table")
    expect(heat_map.locator("caption")).to_contain_text("before and after mitigation")

    # ---- add a risk with the keyboard only
    tab_until(page, "button", "Add a risk", limit=40)
    page.keyboard.press("Enter")
    expect(register.get_by_label("Title", exact=True)).to_be_focused()
    page.keyboard.type(TITLE)
    type_into(page, "textarea", "Description", "Retrained every week on the whole history.")
    tab_until(page, "select", "Category", limit=40)
    page.keyboard.type("Env")  # the option that starts so: Environmental sustainability
    expect(register.get_by_label("Category", exact=True)).to_have_value(
        "Environmental sustainability"
    )  # ipywidgets: option values are labels
    tab_until(page, "input", "The public", limit=40)
    page.keyboard.press("Space")
    type_into(page, "textarea", "Cause", "A schedule copied from a much larger service.")
    tab_until(page, "select", "Likelihood before", limit=40)
    page.keyboard.type("3")  # 3 Possible
    tab_until(page, "select", "Impact before", limit=40)
    page.keyboard.type("4")  # 4 Major
    type_into(page, "textarea", "Mitigation 1", "Retrain monthly, and only after drift.")
    tab_until(page, "select", "Mitigation 1: further-work action (optional)", limit=40)
    page.keyboard.press("ArrowDown")  # the first action: question 4's purpose statement
    tab_until(page, "select", "Likelihood after", limit=40)
    page.keyboard.type("2")
    tab_until(page, "select", "Impact after", limit=40)
    page.keyboard.type("2")
    type_into(page, "input", "Owner (a role, not a person's name)", "Data engineer")
    tab_until(page, "input", "Next review date", limit=40)
    # mm dd yyyy: the browser's en-US date field, typed at a person's pace (typed at once
    # on a busy machine, a year of 0002 was once kept)
    page.keyboard.type("04302027", delay=40)
    type_into(page, "textarea", "Note", "Agreed at the May board.")
    tab_until(page, "button", "Save risk", limit=40)
    page.keyboard.press("Enter")

    done = register.locator(".ew-add-risk [role=status]")
    expect(done).to_have_text(re.compile(r"^Saved as R7: Weekly retraining"))
    expect(register.get_by_label("Title", exact=True)).to_have_value("")  # ready for the next
    expect(heat_map.locator('td[data-cell="3-4"]')).to_contain_text(R7_BEFORE)
    expect(heat_map.locator('td[data-cell="2-2"]')).to_contain_text("After: R7")
    expect(heat_map.locator('td[data-cell="3-4"]')).to_contain_text("High (12)")
    expect(register.get_by_text("Every category is covered")).to_be_visible()
    expect(register.get_by_role("heading", name=f"R7 {TITLE}")).to_be_visible()

    saved = wait_for_disk(
        voila_server,
        PROJECT,
        lambda m: any(r.title == TITLE for r in m.risks.items.values()),
        "the new risk",
    )
    risk = next(r for r in saved.risks.items.values() if r.title == TITLE)
    assert risk.model_dump(mode="json", include={"category", "affected", "before", "after"}) == {
        "category": "environment",
        "affected": ["public"],
        "before": {"likelihood": 3, "impact": 4},
        "after": {"likelihood": 2, "impact": 2},
    }
    assert [m.model_dump(mode="json") for m in risk.mitigations] == [
        {
            "text": "Retrain monthly, and only after drift.",
            "action": {"question": "q4", "index": 0},
        }
    ]
    assert (risk.owner, risk.note, risk.created_by) == (
        "Data engineer",
        "Agreed at the May board.",
        "Kim",
    )
    assert risk.review_by is not None
    assert risk.review_by.isoformat() == "2027-04-30"
    assert voila_server.store.history(PROJECT)[-1]["user"] == "Kim"

    # ---- axe (with the add form open) at 1280 and 390 px; nothing sideways at 320 px
    problems = {1280: axe_on_register(page)}
    screenshot_register(page, "risks-1280")
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_function("() => document.documentElement.clientWidth === 390")
    problems[390] = axe_on_register(page) + page.evaluate(FINDINGS_JS)
    screenshot_register(page, "risks-390")
    page.set_viewport_size({"width": 320, "height": 720})
    page.wait_for_function("() => document.documentElement.clientWidth === 320")
    # ... and the page has been laid out again at that width (its heading fits), which can
    # come a little after the width itself when the machine is busy.
    page.wait_for_function(
        "() => { const h = document.querySelector('h1');"
        " return h && h.getBoundingClientRect().right <= 320; }"
    )
    problems[320] = page.evaluate(FINDINGS_JS)
    problems = {w: found for w, found in problems.items() if found}
    assert not problems, "\n".join(
        f"at {w} px:\n  " + "\n  ".join(found[:15]) for w, found in problems.items()
    )

    # ---- after a reload it is still there
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(register.get_by_role("heading", name=f"R7 {TITLE}")).to_be_visible()
    expect(heat_map.locator('td[data-cell="3-4"]')).to_contain_text(R7_BEFORE)
    card = register.locator(".ew-risk", has=page.get_by_role("heading", name=f"R7 {TITLE}"))
    expect(card).to_contain_text("before mitigation 12 High \u2192 after 4 Low")
    expect(card).to_contain_text("review by 30 Apr 2027")
