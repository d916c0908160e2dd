"""Oversight review in a real browser: a reviewer and an author, two tabs, one project.

The reviewer challenges an answer on the review page, the author sees it on the phase
page and replies, the reviewer sees the reply, resolves the challenge and signs the phase
off, and an edit by the author puts that sign-off out of date. Controls are used by
keyboard where a person would, and what reached the answers file is checked on disk.
"""

from __future__ import annotations

import json
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.servers import as_user
from tests.test_browser import (
    AXE_ALLOWED,
    AXE_REPORTS,
    FOCUS_YELLOW,
    focused,
    open_app,
    screenshot_view,
    wait_for_disk,
)
from workbook import review
from workbook.demo import create_demo

PROJECT = "review-flow"
REVIEW_READY = ".ew-review .ew-footer"
CHALLENGE = "How will you decide whether the model is fair enough to pilot?"
REPLY = "We will compare error rates by group and stop if any differs by more than 5 points."


def _signoff_panel(page: Page, phase_title: str):
    return page.locator(".ew-signoff-panel").filter(
        has=page.get_by_role("button", name=f"Record sign-off of the {phase_title}")
    )


def _press_on(page: Page, locator, key: str = "Enter") -> None:
    """Focus a control and press a key on it, as a keyboard user would."""
    locator.focus()
    expect(locator).to_be_focused()
    page.keyboard.press(key)


def _axe(page: Page, name: str) -> None:
    results = Axe().run(page)
    violations = results.response["violations"]
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(violations, indent=2), encoding="utf-8")
    blocking = [
        v
        for v in violations
        if v["impact"] in ("serious", "critical") and v["id"] not in AXE_ALLOWED
    ]
    assert not blocking, results.generate_report()


def test_challenge_reply_resolve_sign_off_and_out_of_date(voila_server, browser):
    store = voila_server.store
    create_demo(store, project_id=PROJECT, user="setup")
    reviewer_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    author_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        rv = reviewer_ctx.new_page()
        as_user(rv, voila_server, "Reviewer")
        open_app(rv, voila_server.url("04-review.ipynb", project=PROJECT), REVIEW_READY)
        expect(rv.get_by_role("heading", name=re.compile("Question 7"))).to_be_visible()

        # 1. The reviewer challenges question 7, by keyboard.
        _press_on(rv, rv.get_by_role("button", name="Add a comment on question 7"))
        kind = rv.get_by_label("Kind of comment", exact=True)
        expect(kind).to_be_focused()
        assert focused(rv)["outline"] == f"solid 3px {FOCUS_YELLOW}"
        kind.select_option(label="Challenge")
        rv.keyboard.press("Tab")
        comment = rv.get_by_label("Your comment on question 7", exact=True)
        expect(comment).to_be_focused()
        rv.keyboard.type(CHALLENGE)
        rv.keyboard.press("Tab")
        expect(rv.get_by_role("button", name="Post comment")).to_be_focused()
        rv.keyboard.press("Enter")
        saved = wait_for_disk(
            voila_server, PROJECT, lambda m: len(m.review.threads) == 1, "the challenge"
        )
        (thread,) = saved.review.threads.values()
        assert (thread.target, thread.kind.value, thread.author) == ("q7", "challenge", "Reviewer")
        assert thread.text == CHALLENGE
        expect(rv.get_by_text("Challenge posted.")).to_be_visible()
        expect(rv.locator(".ew-thread", has_text=CHALLENGE)).to_be_visible()
        expect(
            rv.get_by_role("heading", name="Comments on question 7 (1, 1 open challenge)")
        ).to_be_visible()

        # 2. Approval is refused while the challenge is open; the message names it.
        develop = _signoff_panel(rv, "Develop phase")
        decision = develop.get_by_label("Decision on the Develop phase")
        expect(decision).to_have_value("Choose a decision")
        decision.select_option(label="Approved")
        _press_on(rv, develop.get_by_role("button", name="Record sign-off of the Develop phase"))
        alert = develop.locator(".ew-refused[role=alert]")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("cannot be approved while 1 challenge is unresolved")
        expect(alert).to_contain_text(f"Question 7: \u201c{CHALLENGE}\u201d")
        screenshot_view(rv, "04-review-refused")
        assert store.open(PROJECT).review.signoffs.develop is None

        # 3. The author sees the challenge on the develop page, and replies.
        au = author_ctx.new_page()
        as_user(au, voila_server, "Author")
        open_app(au, voila_server.url("02-develop.ipynb", project=PROJECT))
        banner = au.locator(".ew-banner")
        expect(banner).to_contain_text("1 open challenge")
        expect(au.locator(".ew-thread", has_text=CHALLENGE)).to_be_visible()
        reply_box = au.get_by_label("Your reply to comment 1 on question 7", exact=True)
        reply_box.click()
        au.keyboard.type(REPLY)
        au.keyboard.press("Tab")
        expect(au.get_by_role("button", name="Post reply")).to_be_focused()
        au.keyboard.press("Enter")
        wait_for_disk(
            voila_server,
            PROJECT,
            lambda m: (
                [r.text for t in m.review.threads.values() for r in t.replies.values()] == [REPLY]
            ),
            "the author's reply",
        )
        expect(au.locator(".ew-reply", has_text=REPLY)).to_be_visible()
        au.locator(".ew-thread", has_text=CHALLENGE).scroll_into_view_if_needed()
        screenshot_view(au, "02-develop-challenge")

        # 4. The reviewer reloads, sees the reply, resolves the challenge and signs off.
        expect(rv.locator(".ew-reply", has_text=REPLY)).to_have_count(0)
        _press_on(rv, rv.get_by_role("button", name="Reload"))
        expect(rv.locator(".ew-reply", has_text=REPLY)).to_be_visible()
        _press_on(rv, rv.get_by_role("button", name="Mark resolved"))
        wait_for_disk(
            voila_server,
            PROJECT,
            lambda m: all(t.resolved for t in m.review.threads.values()),
            "the resolution",
        )
        expect(rv.get_by_role("button", name="Reopen")).to_be_visible()
        expect(rv.locator(".ew-thread", has_text=CHALLENGE)).to_contain_text("Resolved by Reviewer")
        develop.get_by_label("Role (optional)", exact=True).fill("Panel chair")
        _press_on(rv, develop.get_by_role("button", name="Record sign-off of the Develop phase"))
        # Not every develop question is complete: the reviewer confirms that on purpose.
        incomplete = review.incomplete_questions(store.open(PROJECT), "develop")
        assert incomplete > 0
        expect(develop.locator(".ew-error[role=alert]")).to_contain_text(
            f"{incomplete} of the 6 questions in the Develop phase"
        )
        assert store.open(PROJECT).review.signoffs.develop is None
        confirm = develop.get_by_label(
            re.compile(f"I approve the Develop phase although {incomplete} of its 6 questions")
        )
        expect(confirm).to_be_focused()
        rv.keyboard.press("Space")
        expect(confirm).to_be_checked()
        _press_on(rv, develop.get_by_role("button", name="Record sign-off of the Develop phase"))
        signed = wait_for_disk(
            voila_server,
            PROJECT,
            lambda m: m.review.signoffs.develop is not None,
            "the sign-off",
        )
        record = signed.review.signoffs.develop
        assert (record.decision.value, record.reviewer, record.role) == (
            "approved",
            "Reviewer",
            "Panel chair",
        )
        expect(develop.locator(".ew-refused")).to_have_count(0)
        expect(develop.locator(".ew-signoff")).to_contain_text(
            f"Approved with {incomplete} question{'s' if incomplete != 1 else ''} incomplete by "
            "Reviewer (Panel chair)"
        )
        assert record.incomplete_questions == incomplete
        # the form was cleared: the same decision is not recorded twice by a second press
        expect(decision).to_have_value("Choose a decision")
        expect(develop.locator(".ew-signoff")).to_contain_text("signed off")

        # 5. The author edits a develop answer: the sign-off goes out of date, on both pages.
        answer = au.get_by_label("Your answer to question 5", exact=True)
        answer.click()
        au.keyboard.press("ControlOrMeta+End")
        au.keyboard.type(" Updated after the review.")
        wait_for_disk(
            voila_server,
            PROJECT,
            lambda m: m.answers.q5.response.endswith("Updated after the review."),
            "the author's edit",
        )
        out_of_date = f"Out of date: changed since revision {record.revision}"
        expect(banner).to_contain_text(out_of_date)
        _press_on(rv, rv.get_by_role("button", name="Reload"))
        expect(develop.locator(".ew-signoff")).to_contain_text(out_of_date)
        changes = rv.locator(".ew-changes").filter(has_text="Develop phase since its sign-off")
        expect(changes).to_contain_text("Question 5: your answer")
        expect(changes.locator("ins", has_text="Updated after the review.")).to_be_visible()
        develop.scroll_into_view_if_needed()
        screenshot_view(rv, "04-review-out-of-date")

        # 6. The action plan downloads as CSV.
        with rv.expect_download() as download_info:
            _press_on(rv, rv.get_by_role("link", name="Download the action plan (CSV)"))
        download = download_info.value
        assert download.suggested_filename == f"{PROJECT}-actions.csv"
        rows = download.path().read_text(encoding="utf-8").splitlines()
        assert rows[0] == "question,phase,action,owner,due,status,overdue"
        assert len(rows) == 1 + len(review.action_plan(store.open(PROJECT)))
        rv.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        _axe(rv, "04-review-flow")
        _axe(au, "02-develop-with-comments")
    finally:
        reviewer_ctx.close()
        author_ctx.close()


def test_review_page_at_200_percent_zoom_does_not_scroll_sideways(voila_server, browser):
    ctx = browser.new_context(viewport={"width": 640, "height": 800}, device_scale_factor=2)
    try:
        page = ctx.new_page()
        as_user(page, voila_server, "Zed")
        open_app(page, voila_server.url("04-review.ipynb", project="demo"), REVIEW_READY)
        overflow = page.evaluate(
            """() => {
              const box = document.getElementById('rendered_cells');
              const right = box.getBoundingClientRect().right;
              const wide = [...box.querySelectorAll('*')]
                .filter(e => e.getClientRects().length)
                .filter(e => !e.closest('.ew-table-wrap'))  // tables scroll in their own box
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
        page.get_by_role(
            "button", name="Record sign-off of the Develop phase"
        ).scroll_into_view_if_needed()
        screenshot_view(page, "04-review-zoom200")
    finally:
        ctx.close()


def _many_threads(store, project_id: str, count: int) -> dict[str, int]:
    """A demo project with ``count`` comment threads spread over every target (written in
    one save: 5,000 separate saves would take minutes). Returns threads per target."""
    import random

    from workbook.bank import load_bank
    from workbook.model import MAX_THREADS, Workbook

    assert count <= MAX_THREADS
    create_demo(store, project_id=project_id, user="setup")
    base = store.open(project_id)
    data = base.to_data()
    bank = load_bank()
    targets = [q.id for q in bank.questions]
    targets += [f"{p.id}.checklist.{i}" for p in bank.phases for i in p.checklist_ids]
    rng = random.Random(5000)
    per_target: dict[str, int] = {}
    for i in range(count):
        target = rng.choice(targets)
        per_target[target] = per_target.get(target, 0) + 1
        resolved = rng.random() < 0.5
        data["review"]["threads"][f"t-{i:010x}"] = {
            "target": target,
            "kind": rng.choice(["question", "challenge", "suggestion"]),
            "author": "Reviewer",
            "role": "",
            "created_at": f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:{i % 59:02d}Z",
            "text": f"Comment {i}: please explain this part of the answer.",
            "resolved": resolved,
            "resolved_by": "Reviewer" if resolved else None,
            "resolved_at": "2026-11-29T10:00:00Z" if resolved else None,
            "replies": {},
        }
    store.save(Workbook.model_validate(data), base=base, user="setup")
    return per_target


def test_the_review_page_of_a_project_with_5000_threads_opens_and_loads_more(voila_server, browser):
    per_target = _many_threads(voila_server.store, "crowded", 5_000)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        as_user(page, voila_server, "Reviewer")
        page.goto(voila_server.url("04-review.ipynb", project="crowded"))
        # The first screen: headings and the first phase's sign-off form (the figure
        # is under 10 s; a busy test machine gets more, and bench/ measures it).
        page.wait_for_selector(REVIEW_READY, state="attached", timeout=60_000)
        expect(page.get_by_label("Decision on the Explore phase")).to_be_visible()
        q7 = per_target["q7"]
        heading = page.locator("#comments-q7")
        expect(heading).to_contain_text(f"Comments on question 7 ({q7}")
        box = page.locator(".ew-threads", has=heading)
        expect(box.locator(".ew-thread")).to_have_count(5)  # open and recent ones first
        more = box.get_by_role("button", name=re.compile(r"^Show 20 more of \d+ other comments"))
        expect(more).to_have_text(f"Show 20 more of {q7 - 5} other comments on question 7")
        _press_on(page, more)
        expect(box.locator(".ew-thread")).to_have_count(25)
        expect(box.get_by_role("button", name=re.compile("^Show 20 more"))).to_be_focused()
    finally:
        ctx.close()
