"""The app in a real browser: `workbook serve` (Voilà) driven by headless Chromium.

Every test opens real pages over a running server (the session-scoped `voila_server` and
`browser` fixtures in tests/servers.py), uses them the way a person would (by label, by
keyboard) and checks what reached the answers file on disk. Screenshots go to
outputs/screenshots/ and axe-core reports to outputs/axe/ (both git-ignored) for review.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from tests.conftest import REPO
from tests.servers import SCREENSHOTS, Server, as_user
from workbook.bank import load_bank
from workbook.demo import create_demo

BANK = load_bank()
AXE_REPORTS = REPO / "outputs" / "axe"

LOAD_TIMEOUT_MS = 90_000  # a page's kernel may have to start from cold
SAVE_TIMEOUT_S = 20.0
SAVED = re.compile(r"^Saved \d{2}:\d{2}$")
FOCUS_YELLOW = "rgb(255, 221, 0)"  # --ew-focus in ethics.css

expect.set_options(timeout=20_000)


# ---- helpers


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    """A fresh browser context (no shared cookies or storage), desktop size."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()  # closing the tab lets Voilà shut the page's kernel down


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


def open_app(page: Page, url: str, ready: str = ".ew-question") -> None:
    """Open a Voilà page and wait until its widgets have been rendered."""
    page.goto(url)
    page.wait_for_selector(ready, state="visible", timeout=LOAD_TIMEOUT_MS)


def new_project(server: Server, project_id: str) -> str:
    """An empty project of its own, so that tests never see each other's edits."""
    server.store.create("Tool", "LA", project_id=project_id, user="setup")
    return project_id


def wait_for_disk(server: Server, project_id: str, check: Callable[[Any], bool], what: str) -> Any:
    """Poll the saved model until ``check(model)`` holds (autosave is debounced)."""
    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while True:
        model = server.store.open(project_id)
        if check(model):
            return model
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{project_id}: {what} did not reach the answers file within "
                f"{SAVE_TIMEOUT_S:.0f} s (revision {model.revision})"
            )
        time.sleep(0.2)


def scroll_container_height(page: Page) -> int:
    # Voilà's lab template scrolls inside #rendered_cells, not the document.
    return page.evaluate("document.getElementById('rendered_cells').scrollHeight")


def screenshot_whole_page(page: Page, name: str) -> None:
    """A screenshot of the whole page. `full_page=True` alone only captures the viewport
    (the document itself does not scroll), so the viewport is made as tall as the page
    for the shot and then put back."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    assert size is not None
    height = min(scroll_container_height(page), 16_000)
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_function(
        "h => document.getElementById('rendered_cells').clientHeight >= h", arg=height
    )
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    page.set_viewport_size(size)
    page.wait_for_function(
        "h => document.getElementById('rendered_cells').clientHeight === h", arg=size["height"]
    )


def screenshot_view(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def scroll_to(page: Page, element_id: str) -> None:
    """Scroll the page so that the element is at the top of the view (below the sticky
    status bar: the scroll container has a scroll-padding for it)."""
    page.evaluate("id => document.getElementById(id).scrollIntoView({block: 'start'})", element_id)


# What the user perceives of the focused element: its name and its focus styling.
DESCRIBE = """e => {
  const cs = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0].textContent : e.textContent;
  return {
    tag: e.tagName.toLowerCase(),
    name: (label || '').replace(/\\s+/g, ' ').trim(),
    outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`,
    boxShadow: cs.boxShadow,
    background: cs.backgroundColor,
  };
}"""


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(f"({DESCRIBE})(document.activeElement)")


def tab_until(page: Page, tag: str, name: str, *, back: bool = False, limit: int = 15) -> None:
    """Press Tab (or Shift+Tab) until the element ``tag`` named ``name`` has focus; if it
    never does, the error says where focus went."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        seen.append(f"{now['tag']} {now['name'][:40]!r}")
        if now["tag"] == tag and now["name"] == name:
            return
    raise AssertionError(
        f"{tag} {name!r} not reached with {limit} presses of Tab; focus went: {seen}"
    )


# ---- 1. each phase page saves what is typed and shows it again after a reload


@dataclass(frozen=True)
class PhaseCase:
    page: str
    phase_id: str
    question: int  # the phase's first question
    checklist_item: str  # the phase's first checklist item

    @property
    def name(self) -> str:
        return self.page.removesuffix(".ipynb")


PHASE_CASES = [
    PhaseCase("01-explore.ipynb", "explore", 1, "data_maturity"),
    PhaseCase("02-develop.ipynb", "develop", 5, "baseline"),
    PhaseCase("03-implement.ipynb", "implement", 11, "resourcing_review"),
]


@pytest.mark.parametrize("case", PHASE_CASES, ids=lambda c: c.phase_id)
def test_phase_page_saves_an_answer_and_a_checklist_status(voila_server, page, case):
    phase = BANK.phase(case.phase_id)
    item = phase.checklist[0]
    assert item.id == case.checklist_item
    assert phase.questions[0].number == case.question
    qid = phase.questions[0].id
    project = new_project(voila_server, f"save-{case.phase_id}")
    as_user(page, voila_server, "Tester")
    open_app(page, voila_server.url(case.page, project=project))

    answer_box = page.get_by_label(f"Your answer to question {case.question}", exact=True)
    checklist_status = page.get_by_label(f"1. {item.text}", exact=True)
    expect(answer_box).to_have_value("")
    expect(checklist_status).to_have_value("Not assessed yet")

    answer = f"Typed in the browser for question {case.question}.\nIt has **two** lines."
    answer_box.click()
    page.keyboard.type(answer)
    checklist_status.select_option(label="Done")

    def saved_both(model) -> bool:
        entry = getattr(getattr(model.phases, case.phase_id).checklist, item.id)
        return getattr(model.answers, qid).response == answer and entry.status == "done"

    wait_for_disk(voila_server, project, saved_both, "the answer and the status")
    expect(page.get_by_role("status")).to_have_text(SAVED)
    screenshot_whole_page(page, case.name)
    scroll_to(page, f"question-{case.question}")
    # The status bar (save indicator and progress) stays in view while scrolling.
    expect(page.get_by_role("status")).to_be_in_viewport()
    expect(answer_box).to_be_in_viewport()
    screenshot_view(page, f"{case.name}-question")

    page.reload()
    page.wait_for_selector(".ew-question", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(answer_box).to_have_value(answer)
    expect(checklist_status).to_have_value("Done")
    assert checklist_status.evaluate("s => s.selectedOptions[0].textContent") == "Done"

    saved = voila_server.store.open(project)
    assert getattr(saved.answers, qid).response == answer
    assert getattr(saved.answers, qid).updated_by == "Tester"
    checklist = getattr(saved.phases, case.phase_id).checklist.model_dump(mode="json")
    assert checklist[item.id] == {"status": "done", "note": ""}


# ---- 2. the name prompt, by keyboard


def test_name_prompt_by_keyboard_then_edits_record_the_name(voila_server, page):
    project = new_project(voila_server, "named")
    open_app(page, voila_server.url("01-explore.ipynb", project=project), ".ew-name-prompt")
    expect(page.get_by_role("heading", name="Who is editing?")).to_be_visible()
    expect(page.locator(".ew-question")).to_have_count(0)
    screenshot_view(page, "name-prompt")

    name_box = page.get_by_label("Your name", exact=True)
    go = page.get_by_role("button", name="Continue")
    page.keyboard.press("Tab")  # the name field is the first thing that takes focus
    expect(name_box).to_be_focused()
    page.keyboard.press("Tab")
    expect(go).to_be_focused()
    page.keyboard.press("Enter")  # no name yet: an error, and focus stays put
    expect(page.get_by_role("alert")).to_have_text("Enter your name to continue.")
    expect(go).to_be_focused()

    page.keyboard.press("Shift+Tab")
    expect(name_box).to_be_focused()
    page.keyboard.type("Sam Patel")
    page.keyboard.press("Tab")
    expect(go).to_be_focused()
    page.keyboard.press("Space")

    page.wait_for_selector(".ew-question", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.locator(".ew-hint", has_text="Editing as Sam Patel.")).to_be_visible()
    expect(page.get_by_role("heading", name="Who is editing?")).to_have_count(0)
    # Links carry no name (a forwarded link must not lend it); the browser session keeps it.
    nav = page.get_by_role("navigation", name="Workbook pages")
    expect(nav.get_by_role("link", name="Develop phase")).to_have_attribute(
        "href", "02-develop.ipynb?project=" + project
    )
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("ew_user") == "Sam%20Patel"
    assert not any(
        c.get("expires", -1) > 0 for c in page.context.cookies() if c["name"] == "ew_user"
    )

    answer_box = page.get_by_label("Your answer to question 1", exact=True)
    answer_box.click()
    page.keyboard.type("Written by Sam")
    saved = wait_for_disk(
        voila_server, project, lambda m: m.answers.q1.response == "Written by Sam", "the answer"
    )
    assert saved.answers.q1.updated_by == "Sam Patel"
    assert voila_server.store.history(project)[-1]["user"] == "Sam Patel"


# ---- 3. everything works from the keyboard, with a visible focus indicator


def test_keyboard_reaches_every_control_with_a_visible_focus_indicator(voila_server, page):
    project = new_project(voila_server, "keys")
    as_user(page, voila_server, "Kim")
    open_app(page, voila_server.url("01-explore.ipynb", project=project))
    phase = BANK.phase("explore")
    nav_links = ["Skip to questions", "Start", "Explore phase", "Develop phase", "Implement phase"]
    checklist = [f"{n}. {item.text}" for n, item in enumerate(phase.checklist, start=1)]
    answer_label = "Your answer to question 1"
    targets: list[tuple[str, str, Any]] = [
        *[("a", name, page.get_by_role("link", name=name, exact=True)) for name in nav_links],
        *[("select", name, page.get_by_label(name, exact=True)) for name in checklist],
        ("textarea", answer_label, page.get_by_label(answer_label, exact=True)),
        ("button", "Add evidence item", page.get_by_role("button", name="Add evidence item").first),
    ]
    unfocused = {(tag, name): loc.evaluate(DESCRIBE) for tag, name, loc in targets}

    # Tab from the top of the page, noting where focus goes, until "Add evidence item".
    stops: list[dict[str, str]] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        stops.append(focused(page))
        if stops[-1]["tag"] == "button" and stops[-1]["name"] == "Add evidence item":
            break
    order = [(s["tag"], s["name"]) for s in stops]
    assert order[0] == ("a", "Skip to questions"), f"first Tab stop: {order[0]}"
    positions = []
    for tag, name, _ in targets:
        assert (tag, name) in order, f"Tab never reached {tag} {name!r}; it went: {order}"
        positions.append(order.index((tag, name)))
    assert positions == sorted(positions), f"Tab order is not the reading order: {order}"

    for tag, name, _ in targets:
        now = stops[order.index((tag, name))]
        before = unfocused[(tag, name)]
        changed = now["outline"] != before["outline"] or now["boxShadow"] != before["boxShadow"]
        assert changed, f"no visible focus indicator on {tag} {name!r}: {now}"
        if tag == "a":  # GOV.UK style: yellow background, thick black underline
            assert now["background"] == FOCUS_YELLOW, (name, now)
        else:  # a 3px yellow outline (ipywidgets' CSS would remove it on text and selects)
            assert now["outline"] == f"solid 3px {FOCUS_YELLOW}", (name, now)

    # Focus on question 1's "Add evidence item": Enter adds a row and focus moves into it.
    page.keyboard.press("Enter")
    reference_1 = page.get_by_label("Question 1, evidence item 1: link or document", exact=True)
    expect(reference_1).to_be_focused()
    expect(
        page.get_by_label("Question 1, evidence item 1: what it shows", exact=True)
    ).to_be_visible()
    page.keyboard.type("DPIA v2")
    screenshot_view(page, "01-explore-focus")

    tab_until(page, "button", "Add evidence item")
    page.keyboard.press("Space")
    reference_2 = page.get_by_label("Question 1, evidence item 2: link or document", exact=True)
    expect(reference_2).to_be_focused()
    page.keyboard.type("Panel minutes")

    # Remove the first row: focus goes back to the add button, the other row moves up.
    tab_until(page, "button", "Remove evidence item 1", back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Add evidence item").first).to_be_focused()
    expect(
        page.get_by_label(re.compile(r"^Question 1, evidence item \d: link or document"))
    ).to_have_count(1)
    expect(reference_1).to_have_value("Panel minutes")

    saved = wait_for_disk(
        voila_server,
        project,
        lambda m: (
            [e.model_dump() for e in m.answers.q1.evidence]
            == [{"reference": "Panel minutes", "description": ""}]
        ),
        "the evidence list with one row",
    )
    assert saved.answers.q1.updated_by == "Kim"


# ---- 4. 200% zoom: a 640px-wide view at device scale 2 (1280px at 200%)


def test_at_200_percent_zoom_nothing_scrolls_sideways(voila_server, browser):
    create_demo(voila_server.store, project_id="zoom", user="setup")  # rows, actions, notes
    ctx = browser.new_context(viewport={"width": 640, "height": 800}, device_scale_factor=2)
    try:
        page = ctx.new_page()
        as_user(page, voila_server, "Zed")
        open_app(page, voila_server.url("01-explore.ipynb", project="zoom"))
        overflow = page.evaluate(
            """() => {
              const box = document.getElementById('rendered_cells');
              const right = box.getBoundingClientRect().right;
              const wide = [...box.querySelectorAll('*')]
                .filter(e => e.getClientRects().length)
                .filter(e => e.getBoundingClientRect().right > right + 1)
                .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`);
              const doc = document.documentElement;
              return {box: [box.scrollWidth, box.clientWidth],
                      doc: [doc.scrollWidth, doc.clientWidth], wide: wide.slice(0, 10)};
            }"""
        )
        assert overflow["box"][0] <= overflow["box"][1] + 1, overflow
        assert overflow["doc"][0] <= overflow["doc"][1] + 1, overflow
        assert overflow["wide"] == [], overflow

        answer_box = page.get_by_label("Your answer to question 1", exact=True)
        answer_box.scroll_into_view_if_needed()
        expect(answer_box).to_be_in_viewport()
        box = answer_box.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 640
        answer_box.click()
        page.keyboard.press("ControlOrMeta+End")
        page.keyboard.type(" Added at 200% zoom.")
        expect(answer_box).to_have_value(re.compile(r" Added at 200% zoom\.$"))
        screenshot_view(page, "explore-zoom200")
        wait_for_disk(
            voila_server,
            "zoom",
            lambda m: m.answers.q1.response.endswith("200% zoom."),
            "the addition to the answer",
        )
    finally:
        ctx.close()


# ---- 5. axe-core on every page

# Rule ids allowed to report serious or critical violations, each with its reason.
# Keep this minimal: it is empty because every page passes without exceptions. (The pages
# do get the *moderate* "region" rule, reported in outputs/axe/: Voilà's lab template puts
# the whole notebook in plain <div>s with no <main> landmark; see the final report.)
AXE_ALLOWED: dict[str, str] = {}

PHASE_READY = ".ew-phase .ew-footer"  # the last thing on a phase page
AXE_PAGES = [
    pytest.param(
        "00-start.ipynb", {"project": "demo", "named": "Axe"}, ".ew-start .ew-footer", id="00-start"
    ),
    pytest.param(
        "01-explore.ipynb", {"project": "demo", "named": "Axe"}, PHASE_READY, id="01-explore"
    ),
    pytest.param(
        "02-develop.ipynb", {"project": "demo", "named": "Axe"}, PHASE_READY, id="02-develop"
    ),
    pytest.param(
        "03-implement.ipynb", {"project": "demo", "named": "Axe"}, PHASE_READY, id="03-implement"
    ),
    pytest.param(
        "01-explore.ipynb", {"project": "demo"}, ".ew-name-prompt .jupyter-button", id="name-prompt"
    ),
    pytest.param(
        "04-review.ipynb",
        {"project": "demo", "named": "Axe"},
        ".ew-review .ew-footer",
        id="04-review",
    ),
]


@pytest.mark.parametrize(("notebook", "query", "ready"), AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violations(
    voila_server, page, request, notebook, query, ready
):
    name = request.node.callspec.id
    query = dict(query)
    if "named" in query:  # the name this browser session gave (a cookie, never the address)
        as_user(page, voila_server, query.pop("named"))
    open_app(page, voila_server.url(notebook, **query), ready)
    # Show what is folded away (the help under each question) so that axe checks it too.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = Axe().run(page)
    screenshot_view(page, f"axe-{name}")
    violations = results.response["violations"]

    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    report = {
        "url": page.url,
        "axe_version": results.response.get("testEngine", {}).get("version"),
        "summary": [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
            for v in violations
        ],
        "violations": violations,
    }
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"axe {name}: {results.generate_snapshot() or 'no violations'}")

    blocking = [
        v
        for v in violations
        if v["impact"] in ("serious", "critical") and v["id"] not in AXE_ALLOWED
    ]
    assert not blocking, results.generate_report()
