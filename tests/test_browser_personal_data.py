"""A personal-data warning in a real browser (issue 17): `workbook serve` (Voilà) and
headless Chromium.

The issue's example is pasted into question 1's answer on the Explore page. Once it is
saved, a warning right below the answer names what it looks like (never the text), and is
still there after a reload; `workbook export` refuses the project. axe finds nothing wrong
with the warning and its dismiss form open, at 1280 and 390 px. The warning is dismissed
with a reason by keyboard alone; the history has it, and `workbook export` then writes the
document without ``--allow-personal-data``. Screenshots of question 1 with the warning and
the form open, at 1280 and 390 px: outputs/screenshots/personal-data-warning-*.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.servers import SCREENSHOTS, Server, as_user
from tests.test_browser import LOAD_TIMEOUT_MS, tab_until, wait_for_disk
from tests.test_browser_maturity import axe_problems

PROJECT = "personal-data"
EXAMPLE = "e.g. child A, DOB 03/04/2015, NHS 999 000 0018, postcode SW1A 1AA"
REASON = "A made-up example from our training pack"
READY = ".ew-phase .ew-footer"
SAID = (
    "Warning: Question 1, your answer: looks like a date of birth (characters 19–28), an NHS "
    "number (characters 35–46) and a UK postcode (characters 58–65). Children’s personal data "
    "must not be in the workbook: edit it out, or dismiss this warning with a reason."
)
LABEL = "Why this is not personal data (question 1, your answer)"

expect.set_options(timeout=20_000)


def export(server: Server, out: Path) -> subprocess.CompletedProcess:
    """`workbook export PROJECT --to html`, as a person would run it (no
    --allow-personal-data)."""
    env = {**os.environ, "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "workbook", "--workspace", str(server.workspace), "export"]
    return subprocess.run(
        [*argv, PROJECT, "--to", "html", "--no-evidence", "--jobs", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def shoot(page: Page, width: int, name: str) -> list[str]:
    """At ``width``: what axe finds, and a screenshot from the answer box down."""
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
    page.wait_for_function("w => document.documentElement.clientWidth === w", arg=width)
    problems = [f"at {width} px: {p}" for p in axe_problems(page)]
    page.evaluate("document.querySelector('.ew-response').scrollIntoView({block: 'start'})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png")
    return problems


def test_a_pasted_example_warns_is_dismissed_by_keyboard_and_then_exports(
    voila_server: Server, browser, tmp_path
):
    voila_server.store.create("Tool", "LA", project_id=PROJECT, user="setup")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    try:
        as_user(page, voila_server, "Kim")
        page.goto(voila_server.url("01-explore.ipynb", project=PROJECT))
        page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
        answer = page.get_by_label("Your answer to question 1", exact=True)
        answer.click()
        page.keyboard.insert_text(EXAMPLE)  # as a paste does: one input event
        wait_for_disk(
            voila_server, PROJECT, lambda m: m.answers.q1.response == EXAMPLE, "the answer"
        )
        warning = page.locator(".ew-pd-warning")
        # an alert: read out when it appears; in words, never the text
        expect(warning.get_by_role("alert")).to_have_text(SAID)
        for secret in ("03/04/2015", "999", "0018", "SW1A"):
            assert secret not in warning.inner_text()
        # just below the answer box (and above the question's status)
        below = page.evaluate(
            """() => {
              const box = document.querySelector('.ew-response').getBoundingClientRect();
              const w = document.querySelector('.ew-pd-warning').getBoundingClientRect();
              const s = document.querySelector('.ew-question select').getBoundingClientRect();
              return w.top >= box.bottom && w.top - box.bottom < 40 && w.bottom <= s.top;
            }"""
        )
        assert below, "the warning is not just below the answer"

        refused = export(voila_server, tmp_path / "before")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "not exported: 3 things in personal-data look like personal data" in (
            refused.stdout + refused.stderr
        )
        assert not list((tmp_path / "before").glob("*.html"))

        # the page opened again still shows it (not as news)
        page.reload()
        page.wait_for_selector(READY, state="visible", timeout=LOAD_TIMEOUT_MS)
        expect(warning).to_have_count(1)
        expect(warning.locator(".ew-pd-message")).to_have_text(SAID)

        page.evaluate("document.querySelector('.ew-response').scrollIntoView({block: 'start'})")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "personal-data-warning-closed-1280.png")

        # ---- by keyboard: from the answer, Tab to the button, Enter, type, Tab, Enter
        answer.focus()
        tab_until(page, "button", "Dismiss this warning", limit=3)
        page.keyboard.press("Enter")
        reason = page.get_by_label(LABEL, exact=True)
        expect(reason).to_be_focused()
        problems = shoot(page, 1280, "personal-data-warning")
        problems += shoot(page, 390, "personal-data-warning")
        page.set_viewport_size({"width": 1280, "height": 900})
        assert not problems, "\n".join(problems)
        reason.focus()
        page.keyboard.type(REASON)
        tab_until(page, "button", "Dismiss warning", limit=3)
        page.keyboard.press("Enter")
        expect(warning.get_by_role("status")).to_have_text(
            "Dismissed: recorded in the history with your reason."
        )
        expect(answer).to_be_focused()  # the form is gone: back to the field
        page.evaluate("document.querySelector('.ew-response').scrollIntoView({block: 'start'})")
        page.screenshot(path=SCREENSHOTS / "personal-data-dismissed-1280.png")
        expect(page.get_by_role("button", name="Dismiss this warning")).to_have_count(0)
    finally:
        ctx.close()

    saved = voila_server.store.open(PROJECT)
    (record,) = saved.personal_data.dismissed.values()
    assert (record.path, record.reason, record.by) == ("answers.q1.response", REASON, "Kim")
    last = voila_server.store.history(PROJECT)[-1]
    assert (last["user"], last["new"]["reason"]) == ("Kim", REASON)

    done = export(voila_server, tmp_path / "after")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in (tmp_path / "after").glob("*.html")] == [
        f"{PROJECT}-r{saved.revision}.html"
    ]
    assert "personal-data warning" not in done.stdout + done.stderr
