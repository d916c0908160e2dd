"""Identity the server vouches for, and roles, in a real browser behind a (simulated)
authenticating proxy: `workbook serve --trust-user-header X-Forwarded-User`.

Playwright adds the proxy's header to every request of a context, as a council's SSO
proxy in front of the server would. The workspace has a roles.yaml (alice author, bob
reviewer, carol viewer) and the demo project's members are alice and bob.

- alice's edit is recorded as alice, role author; a name cookie and `?user=` count for
  nothing, and an `X-Workbook-Identity` header sent by the browser is replaced;
- alice's review page shows the sign-off form disabled, and a sign-off sent as crafted
  widget messages from her own page (decision chosen, disabled button clicked) is refused
  by the core: nothing is recorded;
- bob's sign-off records bob, role reviewer, whatever the page's form said;
- carol (not a member) gets a clear page; a request without the header gets a page that
  says who you are cannot be confirmed, with nothing to edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from tests.servers import Server, start_server, stop_server
from tests.test_browser import LOAD_TIMEOUT_MS, SAVED, open_app, screenshot_view, wait_for_disk
from tests.test_browser_review import _axe
from tests.test_browser_saving import STATUS, kernel_id
from tests.widget_messages import find, page_kernel
from workbook.demo import create_demo
from workbook.members import set_members
from workbook.store import Store

ROLES = """\
users:
  alice: [author]
  bob: [reviewer]
  carol: [viewer]
  vera: [viewer]
"""


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("proxied")
    workspace = root / "workspace"
    store = Store(workspace)
    create_demo(store, project_id="demo", user="setup")
    set_members(store, "demo", ["alice", "bob", "vera"], user="setup")
    (workspace / "roles.yaml").write_text(ROLES)
    server = start_server(
        workspace, root / "voila.log", ("--trust-user-header", "X-Forwarded-User")
    )
    yield server
    stop_server(server)


@contextmanager
def signed_in(browser, name: str | None, *, cookie_for: Server | None = None, **headers: str):
    """A page in a browser context behind the proxy, as ``name`` (None: no header at all).
    ``cookie_for``: also the name cookie "Mallory" for that server, which must not count."""
    if name is not None:
        headers["X-Forwarded-User"] = name
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, extra_http_headers=headers)
    ctx.set_default_timeout(30_000)
    if cookie_for is not None:
        ctx.add_cookies([{"name": "ew_user", "value": "Mallory", "url": cookie_for.base_url}])
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def cookies(page: Page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def test_an_edit_is_recorded_under_the_proxy_login_not_a_typed_or_forged_name(proxied, browser):
    with signed_in(
        browser, "alice", **{"X-Workbook-Identity": "forged.0000"}, cookie_for=proxied
    ) as page:
        open_app(page, proxied.url("01-explore.ipynb", project="demo", user="bob"))
        expect(page.locator(".ew-phase")).to_contain_text("Editing as alice (author)")
        expect(page.get_by_text("Change the name")).to_have_count(0)
        box = page.get_by_label("Your answer to question 1", exact=True)
        box.fill("Checked by the proxy's login.")
        box.blur()
        expect(page.locator(STATUS)).to_have_text(SAVED, timeout=20_000)
        wait_for_disk(
            proxied,
            "demo",
            lambda wb: wb.answers.q1.response == "Checked by the proxy's login.",
            "alice's answer",
        )
        last = [e for e in proxied.store.history("demo") if e["path"] == "answers.q1.response"]
        assert (last[-1]["user"], last[-1]["role"]) == ("alice", "author")


def test_a_crafted_sign_off_from_an_authors_page_is_refused_by_the_core(proxied, browser):
    with signed_in(browser, "alice") as page:
        open_app(page, proxied.url("04-review.ipynb", project="demo"), ready=".ew-review")
        form = page.locator(".ew-signoff-form").first
        expect(form).to_contain_text("Recording a decision needs the reviewer role")
        button = page.get_by_role("button", name="Record sign-off of the Explore phase")
        expect(button).to_be_disabled()
        expect(page.get_by_label("Reviewer's name")).to_have_count(0)
        _axe(page, "04-review-author")

        sock, states = page_kernel(
            proxied.base_url,
            [kernel_id(page)],
            cookies(page),
            {"X-Forwarded-User": "alice"},  # the proxy adds it to every request
            description="Record sign-off of the Explore phase",
        )
        try:
            decision = find(states, description="Decision on the Explore phase")
            sock.set_state(decision, {"index": 1})  # "Approved"
            sock.click(find(states, description="Record sign-off of the Explore phase"))
            expect(form).to_contain_text(
                re.compile("alice may not record a sign-off: that needs the reviewer role")
            )
        finally:
            sock.close()
        assert proxied.store.open("demo").review.signoffs.explore is None


def test_a_reviewers_sign_off_records_the_login_and_role(proxied, browser):
    with signed_in(browser, "bob") as page:
        open_app(page, proxied.url("04-review.ipynb", project="demo"), ready=".ew-review")
        expect(page.locator(".ew-review")).to_contain_text("Reviewing as bob (reviewer)")
        page.get_by_label("Decision on the Develop phase").select_option(label="Not approved")
        page.get_by_role("button", name="Record sign-off of the Develop phase").click()
        expect(page.get_by_text(re.compile(r"Recorded: Not approved"))).to_be_visible()
        signed = proxied.store.open("demo").review.signoffs.develop
        assert (signed.reviewer, signed.role) == ("bob", "reviewer")
        last = proxied.store.history("demo")[-1]
        assert (last["user"], last["role"]) == ("bob", "reviewer")


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("carol", "You are not a member of this project"),
        (None, "We could not confirm who you are"),
    ],
)
def test_who_cannot_edit_gets_a_clear_page(proxied, browser, name, title):
    with signed_in(browser, name, cookie_for=proxied) as page:
        open_app(page, proxied.url("01-explore.ipynb", project="demo"), ready=".ew-message")
        expect(page.locator(".ew-message h1")).to_have_text(title)
        expect(page.locator("textarea, input")).to_have_count(0, timeout=LOAD_TIMEOUT_MS)
        expect(page.get_by_text("Traceback")).to_have_count(0)


def test_a_viewer_reads_the_phase_with_every_field_disabled(proxied, browser):
    with signed_in(browser, "vera") as page:
        page.set_viewport_size({"width": 390, "height": 900})
        open_app(page, proxied.url("01-explore.ipynb", project="demo"))
        expect(page.locator(".ew-read-only").first).to_contain_text("Reading as vera (viewer)")
        expect(page.locator(".ew-read-only").nth(1)).to_contain_text(  # the risk register's
            "Only an author can change the risk register"
        )
        expect(page.get_by_label("Your answer to question 1", exact=True)).to_be_disabled()
        expect(page.get_by_role("button", name=re.compile("^Add ")).first).to_be_disabled()
        screenshot_view(page, "01-explore-viewer-390")
        _axe(page, "01-explore-viewer")


def test_behind_the_proxy_a_pages_kernel_answers_only_its_owner(proxied, browser):
    """Everyone behind the proxy shares the server's token; the kernel of alice's page must
    not take bob's widget messages (he would act in her name), nor show in his list."""
    import websockets

    from tests.widget_messages import KernelSocket

    with signed_in(browser, "alice") as page:
        open_app(page, proxied.url("04-review.ipynb", project="demo"), ready=".ew-review")
        alices = kernel_id(page)
        jar = cookies(page)
        with pytest.raises(websockets.InvalidStatus, match="403"):
            KernelSocket(proxied.base_url, alices, jar, {"X-Forwarded-User": "bob"})
        with pytest.raises(websockets.InvalidStatus, match="403"):
            KernelSocket(proxied.base_url, alices, jar)  # no proxy header at all
        KernelSocket(proxied.base_url, alices, jar, {"X-Forwarded-User": "alice"}).close()
        listed = {name: [k["id"] for k in _kernels(proxied, name)] for name in ("alice", "bob")}
        assert alices in listed["alice"]
        assert alices not in listed["bob"]


def _kernels(server: Server, user: str) -> list[dict]:
    import json

    status, body = server.get("/api/kernels", headers={"X-Forwarded-User": user})
    assert status == 200, (status, body[:200])
    return json.loads(body)
