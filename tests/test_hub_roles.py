"""Roles under a real JupyterHub (tests/hubs.py): the author/reviewer loop, a crafted
sign-off refused, names that come from the login only, two people at once, and a
non-member.

The hub's users: alice (group authors), bob (reviewers), carol (viewers), dana (admins).
The demo project's members are alice and bob. Each person logs in through the hub's login
page in their own browser context and uses their own server; all the servers share one
workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from tests.hubs import Hub, login
from tests.hubs import hub as hub  # the module's hub fixture
from tests.test_browser_saving import kernel_id
from tests.widget_messages import find, page_kernel
from workbook.members import set_members

LOAD_TIMEOUT_MS = 90_000
SAVED = re.compile(r"^Saved \d{2}:\d{2}$")
CHALLENGE = "Which families were asked about the purpose, and how?"
REPLY = "Two parents' forums in March; their notes are in the evidence."


@pytest.fixture(scope="module", autouse=True)
def _members(hub: Hub) -> None:
    set_members(hub.store, "demo", ["alice", "bob"], user="setup")


@contextmanager
def person(browser, hub: Hub, name: str) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    try:
        page = ctx.new_page()
        login(page, hub, name)
        yield page
    finally:
        ctx.close()


def open_page(page: Page, hub: Hub, owner: str, notebook: str, ready: str, **query: str) -> None:
    """A page on ``owner``'s server (the hub puts the server's owner in the path)."""
    from urllib.parse import urlencode

    page.goto(hub.url(f"/user/{owner}/voila/render/{notebook}?{urlencode(query)}"))
    page.wait_for_selector(ready, state="visible", timeout=LOAD_TIMEOUT_MS)


def type_into(page: Page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def wait_until(check, what: str, timeout: float = 20.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.2)


def test_an_authors_review_page_offers_no_sign_off_and_a_crafted_one_is_refused(hub, browser):
    with person(browser, hub, "alice") as page:
        open_page(page, hub, "alice", "04-review.ipynb", ".ew-review", project="demo")
        expect(page.locator(".ew-review")).to_contain_text("Reviewing as alice (author)")
        button = page.get_by_role("button", name="Record sign-off of the Explore phase")
        expect(button).to_be_disabled()
        expect(page.get_by_role("button", name=re.compile("^Add a comment"))).to_have_count(0)

        user_url = hub.url("/user/alice")
        cookies = {c["name"]: c["value"] for c in page.context.cookies(user_url + "/")}
        sock, states = page_kernel(
            user_url,
            [kernel_id(page)],
            cookies,
            description="Record sign-off of the Explore phase",
        )
        try:
            sock.set_state(find(states, description="Decision on the Explore phase"), {"index": 1})
            sock.click(find(states, description="Record sign-off of the Explore phase"))
            expect(page.locator(".ew-signoff-form").first).to_contain_text(
                "alice may not record a sign-off: that needs the reviewer role"
            )
        finally:
            sock.close()
    assert hub.store.open("demo").review.signoffs.explore is None


def test_bob_challenges_alice_replies_bob_resolves_and_signs_off(hub, browser):
    with person(browser, hub, "bob") as rv, person(browser, hub, "alice") as au:
        open_page(rv, hub, "bob", "04-review.ipynb", ".ew-review", project="demo")
        expect(rv.locator(".ew-review")).to_contain_text("Reviewing as bob (reviewer)")
        expect(rv.get_by_label("Reviewer's name")).to_have_count(0)  # the login's name is used
        rv.get_by_role("button", name="Add a comment on question 1", exact=True).click()
        rv.get_by_label("Kind of comment", exact=True).select_option(label="Challenge")
        type_into(rv, "Your comment on question 1", CHALLENGE)
        rv.get_by_role("button", name="Post comment").click()
        expect(rv.get_by_text("Challenge posted.")).to_be_visible()
        (tid, thread), *_ = [
            (k, t) for k, t in hub.store.open("demo").review.threads.items() if t.target == "q1"
        ]
        assert (thread.author, thread.role, thread.kind.value) == ("bob", "reviewer", "challenge")

        open_page(au, hub, "alice", "01-explore.ipynb", ".ew-question", project="demo")
        expect(au.locator(".ew-thread", has_text=CHALLENGE)).to_be_visible()
        expect(au.get_by_role("button", name="Mark resolved")).to_have_count(0)  # reviewers only
        type_into(au, "Your reply to comment 1 on question 1", REPLY)
        au.get_by_role("button", name="Post reply").click()
        replies = wait_until(
            lambda: list(hub.store.open("demo").review.threads[tid].replies.values()),
            "alice's reply",
        )
        assert (replies[0].author, replies[0].role, replies[0].text) == ("alice", "author", REPLY)

        rv.get_by_role("button", name="Reload").click()
        expect(rv.locator(".ew-reply", has_text=REPLY)).to_be_visible()
        rv.locator(".ew-thread-box", has_text=CHALLENGE).get_by_role(
            "button", name="Mark resolved"
        ).click()
        wait_until(lambda: hub.store.open("demo").review.threads[tid].resolved, "the resolve")
        panel = rv.locator(".ew-signoff-panel").filter(
            has=rv.get_by_role("button", name="Record sign-off of the Explore phase")
        )
        panel.get_by_label("Decision on the Explore phase").select_option(label="Not approved")
        panel.get_by_role("button", name="Record sign-off of the Explore phase").click()
        expect(panel.get_by_text(re.compile("Recorded: Not approved"))).to_be_visible()
    signed = hub.store.open("demo").review.signoffs.explore
    assert (signed.decision.value, signed.reviewer, signed.role) == (
        "not_approved",
        "bob",
        "reviewer",
    )
    mine = [e for e in hub.store.history("demo") if e["path"].startswith("review.")]
    assert {(e["user"], e.get("role")) for e in mine} == {("bob", "reviewer"), ("alice", "author")}


def test_a_user_in_the_address_is_ignored(hub, browser):
    with person(browser, hub, "alice") as page:
        open_page(page, hub, "alice", "01-explore.ipynb", ".ew-question", project="demo",
                  user="bob")  # fmt: skip
        expect(page.locator(".ew-phase")).to_contain_text("Editing as alice (author)")
        type_into(page, "Your answer to question 2", " (alice, not bob)")
        expect(page.get_by_role("status")).to_have_text(SAVED, timeout=20_000)
    last = [e for e in hub.store.history("demo") if e["path"] == "answers.q2.response"][-1]
    assert (last["user"], last["role"]) == ("alice", "author")
    assert last["new"].endswith("(alice, not bob)")


def test_two_people_at_once_both_survive_and_the_same_field_asks_which_to_keep(hub, browser):
    # dana (admins) is given the author role by name too, for a second author
    roles = hub.workspace / "roles.yaml"
    before = roles.read_text()
    roles.write_text(before.replace("users: {}", "users:\n  dana: [admin, author]"))
    assert "dana: [admin, author]" in roles.read_text()
    try:
        with person(browser, hub, "alice") as a, person(browser, hub, "dana") as d:
            open_page(a, hub, "alice", "01-explore.ipynb", ".ew-question", project="demo")
            open_page(d, hub, "dana", "01-explore.ipynb", ".ew-question", project="demo")
            expect(d.locator(".ew-phase")).to_contain_text("Editing as dana (author and admin)")
            type_into(a, "Your answer to question 3", " [alice on q3]")
            type_into(d, "Your answer to question 4", " [dana on q4]")
            a.get_by_label("Your answer to question 3", exact=True).blur()
            d.get_by_label("Your answer to question 4", exact=True).blur()
            expect(a.get_by_role("status")).to_have_text(SAVED, timeout=20_000)
            expect(d.get_by_role("status")).to_have_text(SAVED, timeout=20_000)
            answers = hub.store.open("demo").answers
            assert answers.q3.response.endswith("[alice on q3]")
            assert answers.q4.response.endswith("[dana on q4]")

            # the same field: the second save finds alice's and asks dana which to keep
            type_into(a, "Your answer to question 1", " [alice's version]")
            expect(a.get_by_role("status")).to_have_text(SAVED, timeout=20_000)
            type_into(d, "Your answer to question 1", " [dana's version]")
            conflict = d.locator(".ew-conflicts")
            expect(conflict).to_contain_text("Someone else changed what you were editing")
            expect(conflict).to_contain_text("Saved by alice")
            d.get_by_role("button", name="Keep mine").click()
            expect(d.get_by_role("status")).to_have_text(SAVED, timeout=20_000)
        q1 = hub.store.open("demo").answers.q1
        assert q1.response.endswith("[dana's version]")
        assert q1.updated_by == "dana"
        outcomes = [(e["user"], e["outcome"]) for e in hub.store.history("demo")
                    if e["path"] == "answers.q1.response"]  # fmt: skip
        assert ("alice", "saved") in outcomes
        assert ("dana", "conflict") in outcomes
        assert outcomes[-1] == ("dana", "saved")
    finally:
        roles.write_text(before)


def test_a_non_member_cannot_open_the_project(hub, browser):
    with person(browser, hub, "carol") as page:
        open_page(page, hub, "carol", "01-explore.ipynb", ".ew-message", project="demo")
        expect(page.locator(".ew-message h1")).to_have_text("You are not a member of this project")
        expect(page.locator("textarea, input")).to_have_count(0)
        expect(page.get_by_text("Traceback")).to_have_count(0)
        open_page(page, hub, "carol", "00-start.ipynb", ".ew-start")
        expect(page.locator(".ew-start")).to_contain_text("You are not a member of any project yet")


def _runs_code(page: Page, hub: Hub, owner: str) -> bool:
    """Whether the page's kernel runs code sent over its websocket: an execute_request,
    then a kernel_info_request. The shell channel answers in order, so if the first is
    dropped the second's reply comes with no execute_reply before it."""
    from tests.widget_messages import KernelSocket

    user_url = hub.url(f"/user/{owner}")
    cookies = {c["name"]: c["value"] for c in page.context.cookies(user_url + "/")}
    sock = KernelSocket(user_url, kernel_id(page), cookies)
    try:
        run = sock.send("shell", "execute_request", {"code": "1 + 1", "silent": False,
                                                     "store_history": False, "user_expressions": {},
                                                     "allow_stdin": False})  # fmt: skip
        info = sock.send("shell", "kernel_info_request", {})
        answer = sock.wait_for(
            lambda m: (
                m.get("parent_header", {}).get("msg_id") in (run, info)
                and m.get("msg_type") in ("execute_reply", "kernel_info_reply")
            )
        )
        return answer["msg_type"] == "execute_reply"
    finally:
        sock.close()


def test_without_jupyterlab_no_code_runs_and_nothing_is_written_through_the_api(hub, browser):
    with person(browser, hub, "alice") as page:
        open_page(page, hub, "alice", "01-explore.ipynb", ".ew-question", project="demo")
        assert not _runs_code(page, hub, "alice")
        xsrf = {c["name"]: c["value"] for c in page.context.cookies(hub.url("/user/alice/"))}
        headers = {"X-XSRFToken": xsrf.get("_xsrf", "")}
        api = hub.url("/user/alice/api")
        assert page.request.post(f"{api}/kernels", headers=headers).status == 403
        assert page.request.post(f"{api}/sessions", headers=headers).status == 403
        put = page.request.put(f"{api}/contents/evil.ipynb", headers=headers,
                               data={"type": "notebook", "content": {}})  # fmt: skip
        assert put.status == 403
        assert page.request.get(f"{api}/kernels").status == 200  # reading is still fine
    # dana (admins) has JupyterLab: her server runs code, which is what the check detects
    with person(browser, hub, "dana") as page:
        open_page(page, hub, "dana", "01-explore.ipynb", ".ew-question", project="demo")
        assert _runs_code(page, hub, "dana")
