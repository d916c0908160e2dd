"""The maturity page in a real browser: `workbook serve` (Voilà) and headless Chromium.

On a fresh authority's self-assessment, a rating is chosen with the keyboard alone (Tab into
the level statements, arrow keys between them, Tab to the rationale and type): without a
rationale the page says it is not saved yet and nothing reaches the file; with one it is
saved, the radar and its table show it without a reload, it is in the assessment file on
disk with the person's name, and it is there again after a reload. axe-core finds nothing
wrong on the page (and on the demo authority's, with its agreed levels, targets and plan, and
on the list of authorities) at 1280 and 390 px, and at 320 px nothing scrolls sideways.
Screenshots go to outputs/screenshots/maturity-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.servers import SCREENSHOTS, Server, as_user
from tests.test_browser import FOCUS_YELLOW, LOAD_TIMEOUT_MS, SAVE_TIMEOUT_S, focused, tab_until
from tests.test_browser_reflow import FINDINGS_JS
from workbook import maturity as mat
from workbook.assessment import respondent_key
from workbook.demo import create_demo_maturity
from workbook.store import AssessmentStore

AUTHORITY = "keyboard-council"
READY = ".ew-maturity .ew-footer"
GROUP = "Your rating of Strategy"
RATIONALE = "Your rationale for Strategy"
REASON = "A first strategy was agreed by the leadership team in March."

expect.set_options(timeout=20_000)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()  # closing the tab lets Voilà shut the page's kernel down


def wait_for_assessment(
    store: AssessmentStore, authority_id: str, check: Callable[[Any], bool], what: str
) -> Any:
    """Poll the saved assessment until ``check(assessment)`` holds (ratings are debounced)."""
    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while True:
        assessment = store.open(authority_id)
        if check(assessment):
            return assessment
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{authority_id}: {what} did not reach the assessment file within "
                f"{SAVE_TIMEOUT_S:.0f} s (revision {assessment.revision})"
            )
        time.sleep(0.2)


def strategy_ratings(assessment: Any) -> dict[str, Any]:
    return dict(assessment.round(1).components["strategy"].ratings)


# The radio group that has focus: its role, its accessible name (aria-labelledby); the
# focused radio's label, state and size.
FOCUSED_RADIO = """() => {
  const e = document.activeElement;
  if (!e || e.type !== 'radio') return null;
  const group = e.closest('.widget-radio-box');
  const ids = (group.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
  const name = ids.map(id => document.getElementById(id)?.textContent || '').join(' ');
  return {
    role: group.getAttribute('role'),
    group: name.replace(/\\s+/g, ' ').trim(),
    radio: e.labels[0].textContent.replace(/\\s+/g, ' ').trim(),
    checked: e.checked,
    box: [e.getBoundingClientRect().width, e.getBoundingClientRect().height].map(Math.round),
  };
}"""


# The radar's markers are <use> of a symbol in the chart: each must point at something (an
# id rewritten twice drew no marker at all, and a component rated alone was not on the chart).
RADAR_MARKERS = """() => {
  const svg = document.querySelector('.ew-radar svg');
  const refs = [...svg.querySelectorAll('use')].map(u => u.href.baseVal);
  return {uses: refs.length, missing: refs.filter(r => !document.getElementById(r.slice(1)))};
}"""


def tab_to_group(page: Page, group: str, limit: int = 40) -> dict[str, Any]:
    """Press Tab until a radio of the group named ``group`` has focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        radio = page.evaluate(FOCUSED_RADIO)
        if radio and radio["group"] == group:
            return radio
        now = focused(page)
        seen.append(f"{now['tag']} {now['name'][:40]!r}")
    raise AssertionError(f"a radio of {group!r} not reached with Tab; focus went: {seen}")


def axe_problems(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
    ]


def screenshot(page: Page, name: str) -> None:
    """The whole page: the view is made as tall as the page for the shot (Voilà scrolls
    inside #rendered_cells, so a screenshot only holds what is in view), then put back."""
    size = page.viewport_size
    assert size is not None
    height = min(page.evaluate("document.getElementById('rendered_cells').scrollHeight"), 16_000)
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_function(
        "h => document.getElementById('rendered_cells').clientHeight >= h", arg=height
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    page.set_viewport_size(size)


def check_widths(page: Page, name: str | None) -> dict[int, list[str]]:
    """axe at 1280 and 390 px (with a screenshot at each if ``name``), and at 320 px nothing
    scrolls sideways. The problems found, by width."""
    problems = {1280: axe_problems(page)}
    if name:
        screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_function("() => document.documentElement.clientWidth === 390")
    problems[390] = axe_problems(page) + page.evaluate(FINDINGS_JS)
    if name:
        screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 320, "height": 720})
    page.wait_for_function("() => document.documentElement.clientWidth === 320")
    # ... and laid out again at that width (its heading fits), which can come a little
    # after the width itself when the machine is busy.
    page.wait_for_function(
        "() => { const h = document.querySelector('h1');"
        " return h && h.getBoundingClientRect().right <= 320; }"
    )
    problems[320] = page.evaluate(FINDINGS_JS)
    page.set_viewport_size({"width": 1280, "height": 900})
    return {w: found for w, found in problems.items() if found}


def report(problems: dict[int, list[str]]) -> str:
    return "\n".join(f"at {w} px:\n  " + "\n  ".join(f[:15]) for w, f in problems.items())


def test_a_rating_chosen_by_keyboard_is_saved_shown_and_there_after_a_reload(
    voila_server: Server, page: Page
):
    store = AssessmentStore(voila_server.workspace)
    mat.start_assessment(store, "Keyboard Council", user="setup", authority_id=AUTHORITY)
    as_user(page, voila_server, "Kim")
    page.goto(voila_server.url("06-maturity.ipynb", authority=AUTHORITY))
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    section = page.locator(".ew-component", has=page.get_by_role("heading", name="Strategy"))
    table = page.locator(".ew-maturity-table")
    strategy_row = table.get_by_role("row", name=re.compile("^Strategy"))
    desc = page.locator(".ew-radar svg desc")
    who = page.locator(".ew-maturity .ew-lead")
    expect(strategy_row).to_contain_text("not rated yet")
    expect(desc).to_have_text("No levels recorded yet.")
    expect(who).to_have_text(re.compile(r"^Round 1: open since .*\. No ratings yet\.$"))
    assert page.evaluate(RADAR_MARKERS) == {"uses": 0, "missing": []}

    # ---- the level statements are one named radio group: one Tab stop, arrows within
    group = page.get_by_role("radiogroup", name=GROUP)
    expect(group).to_have_count(1)
    expect(group.get_by_role("radio")).to_have_count(6)
    radio = tab_to_group(page, GROUP)
    assert radio["role"] == "radiogroup", radio
    assert radio["radio"].startswith("0 Unaware: "), radio  # none chosen: the first level
    assert not radio["checked"], radio
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    radio = page.evaluate(FOCUSED_RADIO)
    assert radio["radio"].startswith("2 Defining: "), radio
    assert radio["checked"], radio
    expect(group.get_by_role("radio", checked=True)).to_have_count(1)
    expect(group.get_by_role("radio", name=re.compile("^2 Defining: "))).to_be_checked()
    assert focused(page)["outline"] == f"solid 3px {FOCUS_YELLOW}", focused(page)
    width, height = radio["box"]
    assert width == height, radio  # the focus ring is a circle round the radio, not an oval
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=SCREENSHOTS / "maturity-focus.png")

    # ---- a level above 0 without a rationale: not saved, and the page says so
    alert = section.get_by_role("alert")
    expect(alert).to_have_text(
        "Not saved yet: give your rationale for 2 Defining (any level above 0 needs one). "
        "Your choice is kept on this page until then."
    )
    assert strategy_ratings(store.open(AUTHORITY)) == {}
    expect(strategy_row).to_contain_text("not rated yet")

    # ---- with a rationale it is saved, and the overview shows it without a reload
    tab_until(page, "textarea", RATIONALE, limit=10)
    page.keyboard.type(REASON)
    expect(section.get_by_role("status").filter(has_text="saved")).to_have_text(
        "Your rating is saved."
    )
    expect(alert).to_have_count(0)
    expect(strategy_row).to_contain_text("not agreed; median of 1 rating: 2")
    expect(desc).to_have_text("Current (round 1): Strategy 2.")
    expect(section.locator(".ew-spread")).to_contain_text("Ratings (1): Kim: 2 Defining.")
    expect(who).to_have_text(re.compile(r"\. 1 respondent: Kim\.$"))
    # Strategy's point at 2 and the legend's sample of the series
    assert page.evaluate(RADAR_MARKERS) == {"uses": 2, "missing": []}

    saved = wait_for_assessment(
        store,
        AUTHORITY,
        lambda a: (
            strategy_ratings(a).get(respondent_key("Kim")) is not None
            and strategy_ratings(a)[respondent_key("Kim")].rationale == REASON
        ),
        "Kim's rating of Strategy with its rationale",
    )
    rating = strategy_ratings(saved)[respondent_key("Kim")]
    assert (rating.respondent, rating.level, rating.rationale) == ("Kim", 2, REASON)
    assert store.history(AUTHORITY)[-1]["user"] == "Kim"
    assert store.document_path(AUTHORITY) == (
        voila_server.workspace / "_maturity" / AUTHORITY / "assessment.json"
    )

    # ---- axe at 1280 and 390 px, nothing sideways at 320 px
    problems = check_widths(page, "maturity")
    assert not problems, report(problems)

    # ---- after a reload the choice and the rationale are there
    page.reload()
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(group.get_by_role("radio", name=re.compile("^2 Defining: "))).to_be_checked()
    expect(group.get_by_role("radio", checked=True)).to_have_count(1)
    expect(section.get_by_label(RATIONALE, exact=True)).to_have_value(REASON)
    expect(strategy_row).to_contain_text("not agreed; median of 1 rating: 2")


def test_demo_authority_and_the_list_of_authorities_pass_axe_and_reflow(
    voila_server: Server, page: Page
):
    store = AssessmentStore(voila_server.workspace)
    demo = next((e.id for e in store.list() if e.id.startswith("hartmoor")), None)
    if demo is None:
        demo = create_demo_maturity(store, user="setup").authority.id
    as_user(page, voila_server, "Ria")

    # the demo authority: two rounds, agreed levels, targets, the action plan (roles are
    # off, so the reviewer's forms are there too)
    page.goto(voila_server.url("06-maturity.ipynb", authority=demo))
    page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("radiogroup", name=GROUP)).to_have_count(1)
    expect(page.locator(".ew-radar svg desc")).to_contain_text("Target:")
    markers = page.evaluate(RADAR_MARKERS)
    assert not markers["missing"], markers
    assert markers["uses"] >= 3 * 7 - 1, markers  # three series, nearly every point drawn
    problems = check_widths(page, "maturity-demo")
    assert not problems, "demo authority:\n" + report(problems)

    # the list of authorities
    page.goto(voila_server.url("06-maturity.ipynb"))
    page.wait_for_selector(".ew-maturity .ew-links", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("link", name=re.compile("Hartmoor"))).not_to_have_count(0)
    problems = check_widths(page, "maturity-list")
    assert not problems, "list of authorities:\n" + report(problems)
