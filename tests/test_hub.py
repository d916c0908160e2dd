"""The app under a real JupyterHub (tests/hubs.py): logging in, the start page, an edit that
the history records under the hub's name, and what a user's server offers besides Voilà.

One hub for the module (starting it and a user's server takes a few seconds each)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.hubs import Hub, login
from tests.test_browser import LOAD_TIMEOUT_MS, SAVE_TIMEOUT_S, SAVED
from tests.test_browser import context as context  # a fresh desktop context per test
from tests.test_browser import page as page


def test_alice_logs_in_through_the_hub_and_lands_on_the_start_page(hub: Hub, page: Page):
    hosts = set()
    page.on(
        "request",
        lambda r: urlsplit(r.url).scheme in ("data", "blob") or hosts.add(urlsplit(r.url).netloc),
    )
    login(page, hub, "alice")
    page.wait_for_url(re.compile(r"/user/alice/voila/render/00-start\.ipynb"))
    page.wait_for_selector(".ew-start", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.locator(".ew-hint", has_text="Signed in as alice")).to_be_visible()
    # The hub's login and spawn pages and the app's page come from this hub alone.
    assert hosts == {urlsplit(hub.base_url).netloc}


def test_alice_edits_question_1_and_the_history_records_alice(hub: Hub, page: Page):
    login(page, hub, "alice")
    page.goto(hub.user_url("alice", "01-explore.ipynb", project="demo"))
    page.wait_for_selector(".ew-question", state="visible", timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name=re.compile(r"^Question 1\b"))).to_be_visible()

    before = len(hub.store.history("demo"))
    typed = " Checked by alice under the hub."
    answer_box = page.get_by_label("Your answer to question 1", exact=True)
    answer_box.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(typed)
    expect(page.get_by_role("status")).to_have_text(SAVED, timeout=SAVE_TIMEOUT_S * 1000)

    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while not hub.store.open("demo").answers.q1.response.endswith(typed):
        assert time.monotonic() < deadline, "the answer did not reach the answers file"
        time.sleep(0.2)
    added = hub.store.history("demo")[before:]
    assert added, "no history line for the edit"
    assert {(e["path"], e["user"]) for e in added} == {("answers.q1.response", "alice")}
    assert added[-1]["new"].endswith(typed)
    assert hub.store.open("demo").answers.q1.updated_by == "alice"


def test_only_the_admins_group_gets_jupyterlab_and_terminals(hub: Hub, browser):
    """alice (authors) has the Voilà pages only; dana (admins) also has JupyterLab."""
    seen = {}
    for user in ("alice", "dana"):
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            login(page, hub, user)
            for what in ("lab", "api/terminals"):
                seen[user, what] = ctx.request.get(hub.url(f"/user/{user}/{what}")).status
        finally:
            ctx.close()
    assert seen == {
        ("alice", "lab"): 404,
        ("alice", "api/terminals"): 404,
        ("dana", "lab"): 200,
        ("dana", "api/terminals"): 200,
    }
