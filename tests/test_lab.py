"""The JupyterLab route in a real JupyterLab and Chromium: the app's styles load (every label
whole), a project is chosen without editing code, and a link opens the next page's notebook
with that project."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import SCREENSHOTS, free_port
from workbook.demo import create_demo
from workbook.store import Store

REPO = Path(__file__).resolve().parent.parent
SECOND = "Second Referral Triage Tool"


@dataclass
class Lab:
    base_url: str
    token: str
    root: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return f"{self.base_url}/lab/tree/{path}?token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab on a free loopback port with a token, over a copy of the notebooks and a
    workspace holding the demo project and a second one."""
    tmp = tmp_path_factory.mktemp("lab")
    notebooks = tmp / "notebooks"
    notebooks.mkdir()
    for nb in (REPO / "notebooks").glob("0*.ipynb"):
        shutil.copy(nb, notebooks / nb.name)
    store = Store(tmp / "workspace")
    create_demo(store, project_id="demo", user="setup")
    store.create(SECOND, "Other Council", project_id="second", user="setup")
    port, token = free_port(), os.urandom(16).hex()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOILA_", "JUPYTERHUB_"))}
    env.pop("QUERY_STRING", None)
    env.pop("HTTP_COOKIE", None)
    env.update(
        WORKBOOK_WORKSPACE=str(store.root),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
    )
    argv = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}", "--LabApp.expose_app_in_browser=True",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]  # fmt: skip
    news = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "Would you like news?" over the page in the screenshots
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = tmp / "lab.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            argv, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Lab(f"http://127.0.0.1:{port}", token, tmp, proc)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited early:\n{log.read_text()}")
        try:
            request = urllib.request.Request(
                f"{server.base_url}/api/status", headers={"Authorization": f"token {token}"}
            )
            with urllib.request.urlopen(request, timeout=5) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"JupyterLab did not answer within 60 s:\n{log.read_text()}")
        time.sleep(0.3)
    yield server
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _run_all(page) -> None:
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=30_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _labels_cut(page) -> list[str]:
    """Every visible ``.widget-label`` of the app's page whose text is cut."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .ew-lab .widget-label')]
            .filter((el) => el.getClientRects().length)
            .filter((el) => el.textContent.includes('…') || el.scrollWidth > el.clientWidth)
            .map((el) => `${el.textContent} (${el.scrollWidth} > ${el.clientWidth})`)"""
    )


def test_a_phase_page_in_jupyterlab_looks_right_and_keeps_the_chosen_project(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(lab.url("01-explore.ipynb"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=30_000)
        _run_all(page)
        # no name yet in this browser session: the page asks once
        name = page.get_by_label("Your name")
        name.wait_for(timeout=60_000)
        name.fill("Sam Patel")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_selector(".ew-lab .ew-phase .ew-question", timeout=60_000)
        page.wait_for_timeout(500)  # fonts and the stylesheet applied
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "lab-explore.png"))
        page.locator(".ew-lab .ew-question").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "lab-explore-question.png"))

        # the app's stylesheet applies in the page: 16px Arial labels, whole
        style = page.evaluate(
            """() => { const l = document.querySelector('.ew-lab .ew-stacked > .widget-label');
                      const s = getComputedStyle(l);
                      return [s.fontSize, s.fontFamily, s.whiteSpace]; }"""
        )
        assert style[0] == "16px", style
        assert style[1].startswith("Arial"), style
        assert _labels_cut(page) == []
        # ...and only there: Lab's own body and file browser keep Lab's font
        body_font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert not body_font.startswith("Arial"), body_font

        # choose the second project without editing code
        chooser = page.locator(".ew-lab-chooser select")
        assert chooser.input_value().startswith("Early Help")  # the parameter's project
        chooser.select_option(label=f"{SECOND} (Other Council)")
        page.wait_for_selector(
            f".ew-lab .ew-phase .ew-project:has-text('{SECOND}')", timeout=60_000
        )
        assert "Early Help" not in page.locator(".ew-lab .ew-phase").first.inner_text()[:400]
        page.screenshot(path=str(SCREENSHOTS / "lab-explore-second.png"))

        # a link to the next page opens its notebook in Lab, with the chosen project
        link = page.locator('.ew-lab a[href^="02-develop.ipynb?project=second"]').first
        link.click()
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.context"
            " && window.jupyterapp.shell.currentWidget.context.path === '02-develop.ipynb'",
            timeout=30_000,
        )
        assert "/lab/tree/" in page.url  # Lab was not reloaded away from itself
        develop = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .ew-lab .ew-phase")
        develop.wait_for(timeout=60_000)
        page.wait_for_selector(
            f".jp-NotebookPanel:not(.lm-mod-hidden) .ew-lab .ew-project:has-text('{SECOND}')",
            timeout=60_000,
        )
        assert "question 5" in develop.inner_text().lower()
        chosen = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .ew-lab-chooser select")
        assert chosen.input_value() == f"{SECOND} (Other Council)"
        # the name given on the first page was kept: no second prompt
        assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .ew-name-prompt").count() == 0
        assert _labels_cut(page) == []
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / "lab-develop.png"))
    finally:
        context.close()


@pytest.mark.parametrize(
    ("notebook", "selector"),
    [
        ("00-start.ipynb", ".ew-lab .ew-start"),
        ("03-implement.ipynb", ".ew-lab .ew-phase .ew-question"),
        ("04-review.ipynb", ".ew-lab .ew-review"),
        ("05-portfolio.ipynb", ".ew-lab .ew-portfolio"),
    ],
)
def test_the_other_pages_run_in_jupyterlab_with_whole_labels(lab, browser, notebook, selector):
    """The start, Implement, review and portfolio pages work in Lab as in Voilà: they run
    without an error, show their content, and every label is whole."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        # ?reset: Lab opens only this notebook, not the ones earlier tests left open
        page.goto(lab.url(notebook) + "&reset")
        shown = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        page.wait_for_selector(f"{shown} .jp-Cell", timeout=30_000)
        _run_all(page)
        name = page.locator(shown).get_by_label("Your name")
        content = page.locator(f"{shown} {selector}").first
        content.or_(name).wait_for(timeout=60_000)
        if name.count() and name.is_visible():
            name.fill("Sam Patel")
            page.get_by_role("button", name="Continue").click()
        content.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        errors = page.locator(
            f'{shown} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        )
        assert errors.count() == 0, errors.first.inner_text()[:500]
        assert _labels_cut(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab-{notebook.split('.')[0]}.png"))
    finally:
        context.close()


def test_the_lab_stylesheet_is_the_apps_own_scoped_to_the_page():
    import tinycss2

    from widgets.lab import ROOT, _lab_css, stylesheet_path

    assert stylesheet_path() is not None  # found in the checkout or an installed share/
    css = _lab_css()

    def selectors(rules):
        for rule in rules:
            if rule.type == "qualified-rule":
                depth, part = 0, ""
                for ch in tinycss2.serialize(rule.prelude):
                    depth += (ch == "(") - (ch == ")")
                    if ch == "," and depth == 0:
                        yield part.strip()
                        part = ""
                    else:
                        part += ch
                yield part.strip()
            elif rule.type == "at-rule" and rule.content is not None:
                yield from selectors(tinycss2.parse_rule_list(rule.content, True, True))

    found = list(selectors(tinycss2.parse_stylesheet(css, True, True)))
    assert len(found) > 200
    # nothing of Lab itself (its body, prompts, other notebooks) is restyled
    assert [s for s in found if not s.startswith(ROOT)] == []
    assert ".jp-InputPrompt" not in css  # Voilà hides prompts; Lab keeps them
    assert "#rendered_cells" not in css
