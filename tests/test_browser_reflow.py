"""Every page at 320 CSS px and on a 390 px phone (WCAG 2.2 1.4.10 Reflow) and axe-core.

For each page of the app (the root address, start, the three phases, the name prompt,
review, portfolio) and the exported HTML report, at 320 and 390 px wide:

- nothing scrolls sideways: the document's (and Voilà's scroll container's) scroll width
  is no wider than the view;
- no visible element reaches past the view's edges, and no control (input, textarea,
  select, button, link) is wider than the view or cut off by a box that clips it. Only
  content inside a region that deliberately scrolls (a ``<pre>``, or a scrollable region
  with a name and ``tabindex=0``) may be wider; the portfolio table reflows into cards;
- no text is cut off by ``overflow: hidden`` (ipywidgets' ellipsis on labels and buttons);
- axe-core finds no violations at all.

And on a phone the save status stays on screen (a sticky status bar) without covering the
field that has focus (WCAG 2.2 2.4.11).

One server (the session's ``voila_server``), one browser; each page is loaded once and the
view resized, since reflow is layout only. Screenshots of each page at 390 px go to
outputs/screenshots/reflow-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.servers import SCREENSHOTS, Server, as_user, require_chromium
from workbook.demo import create_demo
from workbook.export import export_projects
from workbook.store import Store

LOAD_TIMEOUT_MS = 90_000
WIDTHS = (320, 390)
HEIGHT = 720
PROJECT = "reflow"  # the demo project, with a long tool name, evidence and actions
USER = "Reflow Reader"

# What is wrong with the layout at the current width, as a list of readable findings.
FINDINGS_JS = """() => {
  const W = document.documentElement.clientWidth;
  const found = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > W) found.push(`document scrolls sideways: ${doc.scrollWidth} > ${W}`);
  const box = document.getElementById('rendered_cells');
  if (box && box.scrollWidth > box.clientWidth + 1)
    found.push(`#rendered_cells scrolls sideways: ${box.scrollWidth} > ${box.clientWidth}`);

  const name = e => {
    const text = (e.getAttribute('aria-label') || e.textContent || e.value || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 50);
    return `<${e.tagName.toLowerCase()} class="${e.getAttribute('class') || ''}"> "${text}"`;
  };
  // Computed styles and per-ancestor answers are memoised: pages have thousands of nodes.
  const styles = new Map();
  const style = e => {
    let s = styles.get(e);
    if (!s) styles.set(e, s = getComputedStyle(e));
    return s;
  };
  const memo = (fn) => { const m = new Map(); return e => {
    if (!e || e === document.body || e === document.documentElement) return false;
    if (!m.has(e)) m.set(e, fn(e)); return m.get(e); }; };
  // A region that scrolls on purpose: a <pre>, or a named, focusable scroll region.
  const scrolls = p => {
    const ox = style(p).overflowX;
    if (ox !== 'auto' && ox !== 'scroll') return false;
    return p.tagName === 'PRE' || (p.tabIndex === 0 && p.getAttribute('role') === 'region' &&
      !!(p.getAttribute('aria-label') || p.getAttribute('aria-labelledby')));
  };
  const insideScroller = memo(e => scrolls(e.parentElement) || insideScroller(e.parentElement));
  // Visually hidden text for screen readers (clip / clip-path).
  const visuallyHidden = memo(e => {
    const cs = style(e);
    return cs.clipPath !== 'none' || (cs.clip && cs.clip !== 'auto') ||
      visuallyHidden(e.parentElement);
  });
  const ancestors = e => {
    const out = [];
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) out.push(p);
    return out;
  };
  const visible = e => {
    if (!e.getClientRects().length) return false;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return false;
    return style(e).visibility !== 'hidden' && !visuallyHidden(e);
  };
  const CONTROL = 'input, textarea, select, button, a[href], summary';
  const root = box || document.body;
  for (const e of root.querySelectorAll('*')) {
    if (!visible(e) || insideScroller(e)) continue;
    const r = e.getBoundingClientRect();
    const control = e.matches(CONTROL);
    if (r.right > W + 1 || r.left < -1)
      found.push(`${control ? 'control' : 'element'} outside the view (${Math.round(r.left)}` +
                 `..${Math.round(r.right)} of ${W}): ${name(e)}`);
    if (control && r.width > W)
      found.push(`control wider than the view (${Math.round(r.width)} > ${W}): ${name(e)}`);
    if (control) {
      // Cut off by a box that clips (overflow hidden/auto) and is narrower than the control.
      for (const p of ancestors(e)) {
        if (p === box || p === document.documentElement) break;
        const ox = style(p).overflowX;
        if (ox === 'visible') continue;
        const pr = p.getBoundingClientRect();
        if (r.right > pr.right + 1 || r.left < pr.left - 1) {
          found.push(`control cut off by ${name(p).slice(0, 60)}: ${name(e)}`);
          break;
        }
      }
    }
    // Text cut short with overflow: hidden (ipywidgets' ellipsis on labels and buttons).
    const cs = style(e);
    if (!e.matches('input, textarea, select, svg, svg *') &&
        (cs.overflowX === 'hidden' || cs.overflowX === 'clip') &&
        e.scrollWidth > e.clientWidth + 1 && e.textContent.trim())
      found.push(`text cut off (${e.scrollWidth} > ${e.clientWidth}): ${name(e)}`);
  }
  return [...new Set(found)];
}"""


@dataclass(frozen=True)
class Screen:
    name: str
    notebook: str  # "" for the app's root address
    query: dict[str, str]
    ready: str
    signed_in: bool = True


SCREENS = [
    Screen("root", "", {}, "body"),
    Screen("start", "00-start.ipynb", {"project": PROJECT}, ".ew-start .ew-footer"),
    Screen("explore", "01-explore.ipynb", {"project": PROJECT}, ".ew-phase .ew-footer"),
    Screen("develop", "02-develop.ipynb", {"project": PROJECT}, ".ew-phase .ew-footer"),
    Screen("implement", "03-implement.ipynb", {"project": PROJECT}, ".ew-phase .ew-footer"),
    Screen(
        "name-prompt",
        "01-explore.ipynb",
        {"project": PROJECT},
        ".ew-name-prompt .jupyter-button",
        signed_in=False,
    ),
    Screen("review", "04-review.ipynb", {"project": PROJECT}, ".ew-review .ew-footer"),
    Screen("portfolio", "05-portfolio.ipynb", {}, ".ew-pf-table"),
]


@pytest.fixture(scope="module")
def server(voila_server: Server) -> Server:
    """The session's server, with a demo project of this module's own."""
    if not voila_server.store.answers_path(PROJECT).exists():
        create_demo(voila_server.store, project_id=PROJECT, user="setup")
    return voila_server


@pytest.fixture
def page(browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()


def _root_url(server: Server) -> str:
    return f"{server.base_url}/" + (f"?token={server.token}" if server.token else "")


def _open(page: Page, server: Server, screen: Screen) -> None:
    if screen.signed_in:
        as_user(page, server, USER)
    if screen.notebook:
        page.goto(server.url(screen.notebook, **screen.query))
    else:
        page.goto(_root_url(server))
        if "00-start.ipynb" in page.url:  # `/` redirects to the start page
            screen = SCREENS[1]
    page.wait_for_selector(screen.ready, state="visible", timeout=LOAD_TIMEOUT_MS)
    # Open what is folded away (the help under each question), so it is checked too.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def _check_widths(page: Page, name: str) -> None:
    problems: dict[int, list[str]] = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_function("w => document.documentElement.clientWidth === w", arg=width)
        found = page.evaluate(FINDINGS_JS)
        results = Axe().run(page)
        found += [
            f"axe {v['id']} ({v['impact']}): {v['help']}: "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in results.response["violations"]
        ]
        if width == 390:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"reflow-{name}-390.png")
        if found:
            problems[width] = found[:15]
    assert not problems, f"{name}: " + "\n".join(
        f"at {w} px:\n  " + "\n  ".join(items) for w, items in problems.items()
    )


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_reflows_at_320_and_390_px_with_no_axe_violations(server, page, screen):
    _open(page, server, screen)
    _check_widths(page, screen.name)


def test_save_status_stays_on_screen_without_covering_the_focused_field(server, page):
    """On a phone the status bar sticks to the top of the view while the page scrolls, and
    a field that gets focus is scrolled into view below the bar, not under it."""
    page.set_viewport_size({"width": 390, "height": HEIGHT})
    _open(page, server, SCREENS[2])
    scroll_to_end = (
        "() => { const s = document.getElementById('rendered_cells') || "
        "document.scrollingElement; s.scrollTop = s.scrollHeight; }"
    )
    page.evaluate(scroll_to_end)
    bar = page.locator(".ew-status-bar")
    save = page.locator(".ew-status-bar .ew-save")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('.ew-status-bar').getBoundingClientRect().top) < 2"
    )
    bar_box, save_box = bar.bounding_box(), save.bounding_box()
    assert bar_box is not None
    assert save_box is not None
    assert save_box["y"] >= -1, save_box
    assert save_box["y"] + save_box["height"] <= HEIGHT, save_box
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('.ew-status-bar')).backgroundColor"
    ) not in ("rgba(0, 0, 0, 0)", "transparent")
    # A field above the view gets focus: it comes into view below the bar.
    field = page.get_by_label("Your answer to question 2", exact=True)
    field.focus()
    page.wait_for_function("e => e.getBoundingClientRect().top >= 0", arg=field.element_handle())
    field_box, bar_box = field.bounding_box(), bar.bounding_box()
    assert field_box is not None
    assert bar_box is not None
    assert field_box["y"] >= bar_box["y"] + bar_box["height"] - 1, (field_box, bar_box)


@pytest.fixture(scope="module")
def exported_report(tmp_path_factory) -> Path:
    """The demo project exported to HTML, as `workbook export demo --to html` does."""
    require_chromium()
    root = tmp_path_factory.mktemp("reflow-export")
    store = Store(root / "workspace")
    create_demo(store, project_id="demo", user="setup")
    result = export_projects(
        ["demo"], workspace=store.root, formats="html", out=root / "out", progress=False
    )
    assert not result.failed, [p.error for p in result.failed]
    (html,) = (root / "out").glob("demo-*.html")
    return html


def test_exported_report_reflows_at_320_and_390_px_with_no_axe_violations(exported_report, page):
    page.goto(exported_report.as_uri())
    page.wait_for_selector(".ew-report .ew-footer", state="attached")
    _check_widths(page, "export")
