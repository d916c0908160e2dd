"""One shared workbook server for a whole team: ``workbook serve --hub-service`` run by a real
JupyterHub as a managed service (tests/hubs.py, ``mode="service"``).

People log in at the hub; the service takes the hub's login (OAuth), stamps every page with
the hub user who opened it, and keeps each page's kernel to the person whose page it is.
One hub for the module."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.hubs import Hub, login, start_hub, stop_hub
from workbook.members import set_members

LOAD_TIMEOUT_MS = 90_000
SAVE_TIMEOUT_S = 20.0
SAVED = re.compile(r"^Saved \d{2}:\d{2}$")
SERVICE = "/services/workbook/"


@pytest.fixture(scope="module")
def service_hub(tmp_path_factory) -> Iterator[Hub]:
    started = start_hub(tmp_path_factory.mktemp("service-hub"), mode="service")
    try:
        set_members(started.store, "demo", ["alice", "bob"], user="setup")
        yield started
    finally:
        stop_hub(started)


def _page(browser, hub: Hub, user: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    login(page, hub, user)
    return ctx, page


def _own_kernels(ctx, hub: Hub) -> set[str]:
    answer = ctx.request.get(hub.url(SERVICE + "api/kernels"))
    assert answer.status == 200, answer.status
    return {k["id"] for k in answer.json()}


def test_alice_edits_and_bob_reviews_on_one_shared_server(service_hub: Hub, browser):
    hub = service_hub
    alice, page = _page(browser, hub, "alice")
    bob = None
    try:
        # Logging in lands on the start page of the shared server, not a server of one's own.
        page.wait_for_url(re.compile(r"/services/workbook/voila/render/00-start\.ipynb"))
        page.goto(hub.service_url("01-explore.ipynb", project="demo"))
        page.wait_for_selector(".ew-question", state="visible", timeout=LOAD_TIMEOUT_MS)
        expect(page.locator(".ew-phase")).to_contain_text("Editing as alice (author)")

        typed = " Checked by alice on the shared server."
        box = page.get_by_label("Your answer to question 1", exact=True)
        box.click()
        page.keyboard.press("Control+End")
        page.keyboard.type(typed)
        expect(page.get_by_role("status")).to_have_text(SAVED, timeout=SAVE_TIMEOUT_S * 1000)
        history = hub.workspace / "demo" / "history.jsonl"
        deadline = time.monotonic() + SAVE_TIMEOUT_S
        while True:
            lines = [json.loads(x) for x in history.read_text().splitlines() if x.strip()]
            last = [e for e in lines if e["path"] == "answers.q1.response"][-1:]
            if last and last[0]["new"].endswith(typed):
                break
            assert time.monotonic() < deadline, "the edit did not reach history.jsonl"
            time.sleep(0.2)
        assert (last[0]["user"], last[0].get("role")) == ("alice", "author")

        bob, review = _page(browser, hub, "bob")
        review.goto(hub.service_url("04-review.ipynb", project="demo"))
        review.wait_for_selector(".ew-review", state="visible", timeout=LOAD_TIMEOUT_MS)
        expect(review.locator(".ew-review")).to_contain_text("Reviewing as bob (reviewer)")

        # Each page's kernel is its person's own: bob's are neither listed to alice nor
        # reachable by her (she could otherwise send widget messages to his page).
        mine, his = _own_kernels(alice, hub), _own_kernels(bob, hub)
        assert mine
        assert his
        assert not mine & his
        for kernel in his:
            assert alice.request.get(hub.url(SERVICE + f"api/kernels/{kernel}")).status == 403
            # its websocket too: refused before the upgrade (her own gets as far as the
            # upgrade, which a plain GET does not ask for)
            ws = hub.url(SERVICE + f"api/kernels/{kernel}/channels")
            assert alice.request.get(ws).status == 403
            assert bob.request.get(ws).status == 400
        for kernel in mine:
            assert alice.request.get(hub.url(SERVICE + f"api/kernels/{kernel}")).status == 200
    finally:
        alice.close()
        if bob is not None:
            bob.close()


def test_without_a_hub_login_the_service_sends_people_to_the_hub(service_hub: Hub, browser):
    hub = service_hub
    ctx = browser.new_context()
    try:
        answer = ctx.request.get(
            hub.service_url("01-explore.ipynb", project="demo"), max_redirects=0
        )
        assert answer.status == 302
        assert answer.headers["location"].startswith("/hub/api/oauth2/authorize?")
        # Followed in a browser, that ends at the hub's login form, the page unserved.
        page = ctx.new_page()
        page.goto(hub.service_url("01-explore.ipynb", project="demo"))
        page.wait_for_url(re.compile(r"/hub/login"))
        expect(page.get_by_label("Username:")).to_be_visible()
        assert page.locator(".ew-question").count() == 0
        # And nothing of the service answers a stranger.
        assert ctx.request.get(hub.url(SERVICE + "api/kernels")).status in (302, 403)
    finally:
        ctx.close()


# ------------------------------------------------------------- the configuration and command


def test_the_hub_config_in_service_mode(monkeypatch, tmp_path):
    """WORKBOOK_HUB_MODE=service: the shared server as a managed service, everyone allowed to
    use it (besides JupyterHub's default 'self'), the start page after login, and a server
    of one's own only for the JupyterLab groups."""
    from tests.test_deploy import load_hub_config, spawner

    c = load_hub_config(
        monkeypatch,
        tmp_path,
        WORKBOOK_HUB_MODE="service",
        WORKBOOK_HUB_SERVICE_PORT="8871",
        WORKBOOK_HUB_SERVICE_USER="ethics-workbook",
        WORKBOOK_HUB_PUBLIC_URL="https://workbook.example.gov.uk",
        WORKBOOK_HUB_WORKSPACE="/srv/ew/workspace",
    )
    (service,) = [s for s in c.JupyterHub.services if s["name"] == "workbook"]
    assert service["url"] == "http://127.0.0.1:8871"
    assert service["user"] == "ethics-workbook"
    assert service["oauth_no_confirm"] is True
    assert service["environment"] == {"WORKBOOK_WORKSPACE": "/srv/ew/workspace"}
    cmd = service["command"]
    assert cmd[:3] == ["/bin/sh", "-c", 'umask 0007 && exec "$@"']
    host = "--allow-host=workbook.example.gov.uk"
    assert cmd[-4:] == ["workbook", "serve", "--hub-service", host]
    assert c.JupyterHub.public_url == "https://workbook.example.gov.uk"
    assert {"name": "user", "scopes": ["self", "access:services!service=workbook"]} in (
        c.JupyterHub.load_roles
    )
    assert c.JupyterHub.default_url == "/services/workbook/voila/render/00-start.ipynb"
    author, admin = spawner("authors"), spawner("admins")
    with pytest.raises(ValueError, match="/services/workbook/"):
        c.Spawner.pre_spawn_hook(author)
    c.Spawner.pre_spawn_hook(admin)
    assert admin.args == []


def test_serve_hub_service_outside_a_hub_is_one_clear_line(tmp_path):
    """Started by hand (no hub environment), or with a token: one line naming what is
    wrong, no traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "WORKBOOK_"))}
    base = [sys.executable, "-m", "workbook", "--workspace", str(tmp_path), "serve"]
    done = subprocess.run(
        [*base, "--hub-service"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "JUPYTERHUB_API_TOKEN" in done.stderr
    assert "managed service" in done.stderr
    env.update(
        JUPYTERHUB_API_TOKEN="x" * 32,
        JUPYTERHUB_API_URL="http://127.0.0.1:8081/hub/api",
        JUPYTERHUB_CLIENT_ID="service-workbook",
        JUPYTERHUB_SERVICE_URL="http://10.0.0.5:8870",
        JUPYTERHUB_SERVICE_PREFIX="/services/workbook/",
    )
    done = subprocess.run(
        [*base, "--hub-service", "--allow-host=hub.example"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "loopback" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [*base, "--hub-service", "--port=9000"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "takes no --port" in done.stderr, done.stderr
