"""Evidence notebooks on a Voilà phase page, in Chromium.

The Develop page of a project whose question 7 has the starter bias notebook, run once:
the analysis shows under question 7 with its provenance, its figure loads and its table is
there; at 320 px nothing scrolls sideways and axe finds nothing; and no widget message the
page's kernel accepts (every button clicked, every text field filled in and submitted)
attaches or runs an evidence notebook. Screenshots: outputs/screenshots/evidence-*.png.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import REPO
from tests.servers import SCREENSHOTS, Server, as_user
from tests.test_browser_reflow import FINDINGS_JS
from tests.test_browser_saving import kernel_id
from tests.widget_messages import KernelSocket
from workbook.demo import create_demo

PROJECT = "evidence"
USER = "Evidence Reader"
STARTER = REPO / "notebooks" / "evidence"
NAME = "error-rates-by-group.ipynb"
LOAD_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server(voila_server: Server) -> Server:
    """The session's server, with a demo project whose question 7 has the bias notebook
    and one real run of it (papermill, a fresh kernel, the shipped invented data)."""
    from workbook.export.evidence import run_one

    store = voila_server.store
    if not store.answers_path(PROJECT).exists():
        create_demo(store, project_id=PROJECT, user="setup")
        data = (STARTER / "data" / "referrals.csv").read_bytes()
        store.add_evidence(
            PROJECT, "q7", NAME, (STARTER / NAME).read_bytes(), {"referrals.csv": data},
            user="setup",
        )  # fmt: skip
        (file,) = store.evidence(PROJECT)["q7"]
        record = run_one(store, PROJECT, file, ran_by="Priya Shah")
        assert record["status"] == "passed", record
    return voila_server


@pytest.fixture
def page(browser, server) -> Page:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    as_user(page, server, USER)
    page.goto(server.url("02-develop.ipynb", project=PROJECT))
    page.wait_for_selector(".ew-phase .ew-footer", state="visible", timeout=LOAD_TIMEOUT_MS)
    yield page
    ctx.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(
        "() => document.getElementById('analysis-q7-error-rates-by-group')"
        ".scrollIntoView({block: 'start'})"
    )
    page.screenshot(path=SCREENSHOTS / f"evidence-{name}.png")


def test_the_develop_page_shows_the_analysis_and_reflows_with_no_axe_violations(page):
    analysis = page.locator(".ew-ev").filter(has=page.locator("#analysis-q7-error-rates-by-group"))
    expect(analysis.get_by_role("heading", level=4)).to_have_text(
        "Analysis: Error rates and calibration by group"
    )
    expect(analysis.locator(".ew-ev-prov")).to_contain_text(
        re.compile(
            r"Last run \d+ \w{3} \d{4}, \d\d:\d\d \w+ by Priya Shah, [\d.]+ s, python3.*passed"
        )
    )
    table = analysis.get_by_role("region", name=re.compile("table 1$"))
    expect(table.get_by_role("rowheader", name="Asian or Asian British")).to_be_visible()
    expect(table.get_by_role("columnheader", name="false positive rate")).to_be_visible()
    figure = analysis.get_by_role("img", name=re.compile("^Figure 1"))
    figure.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
    )
    assert figure.evaluate("img => img.src").startswith("data:image/png;base64,")
    _shot(page, "develop-1280")

    problems = {}
    for width in (320, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_function("w => document.documentElement.clientWidth === w", arg=width)
        found = page.evaluate(FINDINGS_JS)
        found += [
            f"axe {v['id']} ({v['impact']}): {v['help']}: "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in Axe().run(page).response["violations"]
        ]
        if found:
            problems[width] = found[:15]
        box = figure.bounding_box()
        assert box is not None
        assert box["width"] <= width, (width, box)
    _shot(page, "develop-390")
    assert not problems, problems


def _states(sock: KernelSocket) -> dict[str, dict]:
    """Every widget's state in the kernel: the requests sent at once, then the answers read
    (KernelSocket.widget_states asks one at a time, which takes seconds on a phase page)."""
    ask = sock.send("shell", "comm_info_request", {"target_name": "jupyter.widget"})
    reply = sock.wait_for(
        lambda m: (
            m.get("msg_type") == "comm_info_reply"
            and m.get("parent_header", {}).get("msg_id") == ask
        )
    )
    wanted = set(reply["content"].get("comms", {}))
    for comm_id in wanted:
        sock.send("shell", "comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}})
    states: dict[str, dict] = {}

    def answer(m: dict) -> bool:
        content = m.get("content", {})
        if m.get("msg_type") == "comm_msg" and content.get("comm_id") in wanted:
            if content["data"].get("method") == "update":
                states[content["comm_id"]] = content["data"]["state"]
        return len(states) == len(wanted)

    sock.wait_for(answer, timeout=60)
    return states


def _handled(sock: KernelSocket) -> None:
    """Returns once the kernel has handled every message sent before (a shell round trip)."""
    ask = sock.send("shell", "comm_info_request", {"target_name": "jupyter.widget"})
    sock.wait_for(
        lambda m: (
            m.get("msg_type") == "comm_info_reply"
            and m.get("parent_header", {}).get("msg_id") == ask
        ),
        timeout=60,
    )


def test_no_widget_message_to_the_pages_kernel_attaches_or_runs_a_notebook(page, server):
    store = server.store
    before_run = store.read_evidence_run(PROJECT, "q7", NAME)
    before_hashes = store.evidence_hashes(PROJECT)
    before_history = len(store.history(PROJECT))
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    sock = KernelSocket(server.base_url, kernel_id(page), cookies)
    try:
        states = _states(sock)
        assert any(s.get("description") == "Status of question 7" for s in states.values())
        labels = [str(s.get("description", "")) for s in states.values()]
        assert not [x for x in labels if re.search(r"\b(Attach|Run)\b", x)], labels
        path = str(STARTER / NAME)
        for comm_id, state in states.items():
            if state.get("_model_name") in ("TextModel", "TextareaModel", "ComboboxModel"):
                sock.set_state(comm_id, {"value": path, "disabled": False})
                sock.send("shell", "comm_msg", {"comm_id": comm_id, "data": {
                    "method": "custom", "content": {"event": "submit"}}})  # fmt: skip
        for comm_id, state in states.items():
            if state.get("_model_name") == "ButtonModel":
                sock.set_state(comm_id, {"disabled": False})
                sock.click(comm_id)
        _handled(sock)
        # the messages were handled: question 7's answer field holds what was sent
        (answer,) = [
            cid for cid, s in states.items() if s.get("description") == "Your answer to question 7"
        ]
        sock.send("shell", "comm_msg", {"comm_id": answer, "data": {"method": "request_state"}})
        echo = sock.wait_for(
            lambda m: (
                m.get("msg_type") == "comm_msg"
                and m["content"].get("comm_id") == answer
                and m["content"]["data"].get("method") == "update"
            )
        )
        assert echo["content"]["data"]["state"]["value"] == path
    finally:
        sock.close()
    assert store.read_evidence_run(PROJECT, "q7", NAME) == before_run
    assert store.evidence_hashes(PROJECT) == before_hashes
    assert not [
        e for e in store.history(PROJECT)[before_history:] if e.get("outcome") == "evidence"
    ]
