"""The oversight-review widgets driven headless: click, then check what reached the disk."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

import pytest

from widgets import (
    ActionPlanView,
    HistoryView,
    PhaseWorkbook,
    ReviewContext,
    ReviewPage,
    SignOffPanel,
    ThreadsWidget,
    review_page,
)
from widgets.project import StartPage, UserNamePrompt
from workbook import review
from workbook.bank import load_bank
from workbook.session import EditSession

BANK = load_bank()
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


pytestmark = pytest.mark.usefixtures("no_running_loop")


@pytest.fixture
def blank_store(store):
    """A workspace with one empty project, id 'p'."""
    store.create("Early Help Predictor", "Hartmoor", project_id="p", user="setup")
    return store


def _ctx(store, user="Rev", project="p"):
    return ReviewContext(store, project, user=user)


def _post(threads: ThreadsWidget, kind: str, text: str) -> None:
    threads.add_button.click()
    assert threads.kind is not None
    assert threads.text is not None
    assert threads.post_button is not None
    threads.kind.value = kind
    threads.text.value = text
    threads.post_button.click()


def _only_thread(store, project="p"):
    (thread,) = store.open(project).review.threads.values()
    return thread


# ---- comment threads


def test_a_comment_posted_in_the_widget_is_saved_and_shown(blank_store):
    threads = ThreadsWidget(_ctx(blank_store), "q7")
    assert threads.children[-1] is threads.add_button  # no form until asked for
    assert threads.add_button.description == "Add a comment on question 7"
    _post(threads, "challenge", "Why was the housing data kept?")

    saved = _only_thread(blank_store)
    assert saved.target == "q7"
    assert saved.kind.value == "challenge"
    assert saved.author == "Rev"
    assert saved.text == "Why was the housing data kept?"
    assert not saved.resolved
    assert "Challenge posted." in threads.message.value
    assert "Comments on question 7 (1, 1 open challenge)" in threads.heading.value
    body = threads.thread_box(1).body.value
    assert "Why was the housing data kept?" in body
    assert 'ew-badge-challenge">Challenge<' in body
    assert ">Open<" in body
    assert threads.children[-1] is threads.add_button  # form closed again


def test_every_input_has_a_visible_label(blank_store):
    threads = ThreadsWidget(_ctx(blank_store), "explore.checklist.data_maturity")
    threads.add_button.click()
    assert threads.kind.description == "Kind of comment"
    assert threads.text.description == "Your comment on Explore phase checklist item 1"
    _post(threads, "question", "Which tool was used?")
    assert threads.thread_box(1).reply_text.description == (
        "Your reply to comment 1 on Explore phase checklist item 1"
    )
    panel = SignOffPanel(_ctx(blank_store), "develop")
    assert panel.decision.value == ""  # nothing is approved by default
    panel.record_button.click()
    assert "Not recorded: choose a decision first." in panel.message.value
    assert blank_store.open("p").review.signoffs.develop is None
    for control in (panel.decision, panel.reviewer, panel.role, panel.conditions):
        assert control.description.strip()
        assert "ew-stacked" in control._dom_classes  # the label sits above the control


def test_an_empty_comment_is_refused_with_a_message_and_nothing_is_saved(blank_store):
    threads = ThreadsWidget(_ctx(blank_store), "q1")
    before = blank_store.open("p").revision
    _post(threads, "question", "   ")
    assert 'role="alert"' in threads.message.value
    assert "Not posted: write the comment before posting it." in threads.message.value
    assert "Traceback" not in threads.message.value
    assert blank_store.open("p").revision == before
    assert threads.form in threads.children  # the form stays open to try again


def test_resolve_reopen_and_reply(blank_store):
    threads = ThreadsWidget(_ctx(blank_store), "q7")
    _post(threads, "challenge", "Evidence of bias testing?")
    box = threads.thread_box(1)

    box.reply_text.value = "See the fairness report, section 3."
    box.reply_button.click()
    (reply,) = _only_thread(blank_store).replies.values()
    assert reply.text == "See the fairness report, section 3."
    assert reply.author == "Rev"
    assert box.reply_text.value == ""
    assert "See the fairness report, section 3." in box.body.value

    box.resolve_button.click()
    saved = _only_thread(blank_store)
    assert saved.resolved
    assert saved.resolved_by == "Rev"
    assert box.resolve_button.description == "Reopen"
    assert "Resolved by Rev" in box.body.value
    assert "open challenge" not in threads.heading.value

    box.resolve_button.click()
    saved = _only_thread(blank_store)
    assert not saved.resolved
    assert saved.resolved_by is None
    assert box.resolve_button.description == "Mark resolved"


def test_comment_text_is_escaped(blank_store):
    ctx = ReviewContext(blank_store, "p", user='<b onmouseover="x()">Eve</b>')
    threads = ThreadsWidget(ctx, "q2")
    _post(threads, "suggestion", XSS + "\nsecond line")
    box = threads.thread_box(1)
    box.reply_text.value = "<iframe src=javascript:alert(3)>"
    box.reply_button.click()
    html = box.body.value
    for raw in ("<img", "<script", "<iframe", "<b onmouseover"):
        assert raw not in html, raw
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "&lt;iframe" in html
    assert "&lt;b onmouseover" in html
    assert "<br>second line" in html
    assert _only_thread(blank_store).text.startswith(XSS)  # stored as written


def test_an_author_sees_a_challenge_on_the_phase_page_and_replies(blank_store):
    reviewer = ThreadsWidget(_ctx(blank_store), "q7")
    _post(reviewer, "challenge", "Is the model tested by ethnicity?")

    session = EditSession(blank_store, "p", user="Ann")
    page = PhaseWorkbook(session, "develop")
    assert "1 open challenge" in page.banner.value
    assert 'href="#comments-q7"' in page.banner.value
    q7 = page.question("q7")
    assert q7.threads is not None
    assert q7.threads in q7.children
    assert "Is the model tested by ethnicity?" in q7.threads.thread_box(1).body.value
    item = BANK.phase("develop").checklist[0]
    assert page.checklist.threads[item.id].target == f"develop.checklist.{item.id}"

    box = q7.threads.thread_box(1)
    box.reply_text.value = "Yes: see the fairness report."
    box.reply_button.click()
    disk = blank_store.open("p")
    (reply,) = _only_thread(blank_store).replies.values()
    assert reply.author == "Ann"
    # the session was refreshed: its next autosave is on the current revision
    assert session.workbook.revision == disk.revision
    q7.response.value = "Tested with and without housing data."
    assert session.state.kind == "saved"
    assert blank_store.open("p").answers.q7.response == "Tested with and without housing data."
    assert not session.conflicts

    # An author cannot resolve the reviewer's challenge with one click: it holds up approval.
    assert box.resolve_button.description == "Reply and mark resolved"
    box.resolve_button.click()
    assert not _only_thread(blank_store).resolved
    assert "Not resolved" in box.message.value
    assert 'role="alert"' in box.message.value
    # With a reason in the reply box, the reply is kept and the thread resolved together.
    box.reply_text.value = "Retested: the gap is under 1 point."
    box.resolve_button.click()
    thread = _only_thread(blank_store)
    assert thread.resolved
    assert thread.resolved_by == "Ann"
    texts = sorted(r.text for r in thread.replies.values())
    assert texts == ["Retested: the gap is under 1 point.", "Yes: see the fairness report."]
    assert box.reply_text.value == ""
    assert "Resolved by Ann" in box.body.value
    assert "No open challenges" in page.banner.value


# ---- sign-off


def test_sign_off_then_an_edit_puts_it_out_of_date(blank_store):
    reviewer = ReviewPage(blank_store, "p", "Sam Patel")
    panel = reviewer.signoffs["develop"]
    assert "not signed off yet" in panel.state_html.value
    panel.role.value = "Chair"
    panel.decision.value = "approved"
    panel.record_button.click()
    # none of its 6 questions is complete: nothing is recorded until that is confirmed
    assert blank_store.open("p").review.signoffs.develop is None
    assert "6 of the 6 questions" in panel.message.value
    assert 'role="alert"' in panel.message.value
    assert panel.confirm.layout.display == "flex"
    assert "although 6 of its 6 questions are not complete" in panel.confirm.description
    panel.confirm.value = True
    panel.record_button.click()
    signed = blank_store.open("p")
    record = signed.review.signoffs.develop
    assert record.incomplete_questions == 6
    assert "Approved with 6 questions incomplete by Sam Patel" in panel.state_html.value
    assert "Recorded: Approved with 6 questions incomplete, for revision 1" in panel.message.value
    # recorded: the form is cleared, so a second click cannot record it again
    assert panel.decision.value == ""
    assert panel.confirm.layout.display == "none"
    panel.record_button.click()
    assert "choose a decision first" in panel.message.value
    assert blank_store.open("p").revision == signed.revision
    assert record.decision.value == "approved"
    assert record.reviewer == "Sam Patel"
    assert record.role == "Chair"
    assert record.revision == 1  # the revision the reviewer was shown
    assert "Approved with 6 questions incomplete by Sam Patel (Chair)" in panel.state_html.value
    assert "ew-signoff-current" in panel.state_html.value

    author = PhaseWorkbook(EditSession(blank_store, "p", user="Ann"), "develop")
    assert "signed off" in author.banner.value
    assert "Out of date" not in author.banner.value
    author.question("q7").response.value = "A later change."
    assert blank_store.open("p").answers.q7.response == "A later change."
    banner = author.banner.value
    assert "ew-signoff-out_of_date" in banner
    assert "Out of date: changed since revision 1" in banner

    reviewer.reload_button.click()
    assert "Out of date: changed since revision 1" in panel.state_html.value
    assert "ew-signoff-out_of_date" in reviewer.overview.value
    changes = reviewer.changes["develop"].value
    assert "Question 7: your answer" in changes
    assert '<ins class="wb-ins" title="added">A later change.</ins>' in changes
    assert "Ann" in changes
    assert "A later change." in reviewer.threads["q7"].ctx.workbook.answers.q7.response
    assert "No changes" in reviewer.changes["explore"].value or "Not signed" in (
        reviewer.changes["explore"].value
    )


def test_approval_is_refused_while_a_challenge_is_open(blank_store):
    page = ReviewPage(blank_store, "p", "Sam")
    _post(page.threads["q7"], "challenge", "Bias testing is missing")
    _post(page.threads["q5"], "question", "Who owns this?")  # not a challenge: no block
    panel = page.signoffs["develop"]
    assert "1 open challenge" in panel.state_html.value
    panel.decision.value = "approved"
    panel.record_button.click()

    refused = panel.refused.value
    assert 'role="alert"' in refused
    assert "cannot be approved while 1 challenge is unresolved" in refused
    assert "Question 7: \u201cBias testing is missing\u201d" in refused
    assert 'href="#comments-q7"' in refused
    assert "Traceback" not in refused + panel.message.value
    assert blank_store.open("p").review.signoffs.develop is None

    panel.decision.value = "not_approved"
    panel.record_button.click()
    assert panel.refused.value == ""
    assert blank_store.open("p").review.signoffs.develop.decision.value == "not_approved"

    page.threads["q7"].thread_box(1).resolve_button.click()
    panel.decision.value = "approved_with_conditions"
    panel.record_button.click()  # conditions missing
    assert "Not recorded: approved with conditions needs the conditions" in panel.message.value
    panel.conditions.value = "Re-run the bias tests before beta."
    panel.record_button.click()
    assert "6 of the 6 questions" in panel.message.value  # confirm the incomplete phase
    panel.confirm.value = True
    panel.record_button.click()
    record = blank_store.open("p").review.signoffs.develop
    assert record.decision.value == "approved_with_conditions"
    assert record.conditions == "Re-run the bias tests before beta."
    assert "Re-run the bias tests before beta." in panel.state_html.value


# ---- history and restore


def test_restore_an_earlier_value_from_the_history(blank_store):
    session = EditSession(blank_store, "p", user="Ann")
    phase = PhaseWorkbook(session, "develop")
    q7 = phase.question("q7")
    q7.response.value = "First version."
    q7.response.value = "Second version."
    q7.response.value = "Third version, oops."
    before = blank_store.open("p").revision

    reviewer = ReviewPage(blank_store, "p", "Rev")
    history = reviewer.history
    assert "Third version, oops." in reviewer.readonly_html("q7")
    newest = history.entries[0]
    assert newest["path"] == "answers.q7.response"
    assert newest["new"] == "Third version, oops."
    entry, button = history.restore_buttons[0]
    assert entry is newest
    assert button.description == "Restore this earlier value"
    button.click()

    saved = blank_store.open("p")
    assert saved.answers.q7.response == "Second version."
    assert saved.revision == before + 1
    last = blank_store.history("p")[-1]
    assert (last["revision"], last["user"], last["new"]) == (before + 1, "Rev", "Second version.")
    assert "Restored Question 7: your answer" in history.message.value
    assert f"(saved as revision {before + 1})" in history.message.value
    assert history.entries[0]["revision"] == before + 1  # the restore is the newest entry
    assert "Second version." in reviewer.readonly_html("q7")  # the page shows it at once
    assert "Third version" not in reviewer.readonly_html("q7")


def test_history_filters_by_phase_and_since_the_sign_off(blank_store):
    session = EditSession(blank_store, "p", user="Ann")
    explore = PhaseWorkbook(session, "explore")
    explore.question("q1").response.value = "Explore answer."
    develop = PhaseWorkbook(EditSession(blank_store, "p", user="Ann"), "develop")
    develop.question("q5").response.value = "Before sign-off."
    ctx = ReviewContext(blank_store, "p", user="Rev")
    panel = SignOffPanel(ctx, "develop")
    panel.decision.value = "not_approved"
    panel.record_button.click()
    develop.question("q5").response.value = "After sign-off."

    ctx.reload()
    history = HistoryView(ctx)
    paths = [e["path"] for e in history.entries]
    assert "answers.q1.response" in paths
    assert not [p for p in paths if p.startswith("review.")]
    history.phase.value = "develop"
    assert {e["path"] for e in history.entries} == {"answers.q5.response", "answers.q5.status"}
    history.since_signoff.value = True
    assert [e["new"] for e in history.entries] == ["After sign-off."]
    history.phase.value = ""
    history.include_review.value = True
    labels = " ".join(w.value for w in history._entry_widgets if hasattr(w, "value"))
    assert "Sign-off of the Develop phase: Not approved" in labels


# ---- action plan


def test_action_plan_lists_every_action_and_the_csv_link_decodes(demo_store):
    ctx = ReviewContext(demo_store, "demo", user="Rev")
    view = ActionPlanView(ctx)
    rows = review.action_plan(demo_store.open("demo"))
    assert rows
    html = view.value
    for row in rows:
        assert row.action.replace("'", "&#x27;") in html
    link = re.search(r'<a class="ew-download" download="([^"]+)" href="([^"]+)"', html)
    assert link
    assert link.group(1) == "demo-actions.csv"
    prefix = "data:text/csv;charset=utf-8;base64,"
    assert link.group(2).startswith(prefix)
    text = base64.b64decode(unquote(link.group(2)[len(prefix) :])).decode("utf-8")
    assert text == review.action_plan_csv(rows)
    assert text.splitlines()[0] == "question,phase,action,owner,due,status,overdue"
    assert len(text.splitlines()) == len(rows) + 1
    overdue = [r for r in rows if r.overdue]
    assert html.count('class="ew-overdue"') == len(overdue)


def test_start_page_links_to_review_portfolio_and_shows_the_action_plan(demo_store):
    page = StartPage(demo_store, user="Ann", project_id="demo")
    html = page.phases.value
    assert '04-review.ipynb?project=demo"' in html
    assert "user=" not in html
    assert "05-portfolio.ipynb" in html
    assert 'id="action-plan"' in html
    assert "Sign-off: Not signed off yet" in html


# ---- the review page


def test_review_page_shows_every_question_read_only_with_its_comments(demo_store):
    page = ReviewPage(demo_store, "demo", "Rev")
    wb = demo_store.open("demo")
    for q in BANK.questions:
        html = page.readonly_html(q.id)
        assert f'id="question-{q.number}"' in html, q.id
        assert q.text.replace("'", "&#x27;") in html, q.id
        assert page.threads[q.id].add_button.description == f"Add a comment on question {q.number}"
    assert "Not answered yet." in page.readonly_html("q13") or wb.answers.q13.response
    for phase in BANK.phases:
        assert phase.id in page.signoffs
        for item in phase.checklist:
            target = f"{phase.id}.checklist.{item.id}"
            assert item.text.replace("'", "&#x27;") in page.readonly_html(target)
            assert target in page.threads
    # nothing of the answers is editable here: the only text inputs are the sign-off forms'
    inputs = {c.description for c in _all(page) if type(c).__name__ in ("Text", "Textarea")}
    assert inputs == {
        "Reviewer's name",
        "Role (optional)",
        "Conditions (needed for \u201cApproved with conditions\u201d)",
    }


def test_review_page_escapes_answers_and_reloads_others_edits(demo_store):
    page = ReviewPage(demo_store, "demo", "Rev")
    author = PhaseWorkbook(EditSession(demo_store, "demo", user="Ann"), "develop")
    author.question("q7").response.value = XSS + " **bold**"
    q7_html = page.readonly_html("q7")
    assert XSS not in q7_html
    page.reload_button.click()
    q7_html = page.readonly_html("q7")
    assert "<script" not in q7_html
    assert "<img" not in q7_html
    assert "<strong>bold</strong>" in q7_html
    assert f"Showing revision {demo_store.open('demo').revision}" in page.reload_message.value


def test_review_page_entry_reads_the_query_and_asks_for_a_name(blank_store, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("QUERY_STRING", "project=p&user=Mallory")
    monkeypatch.setenv("HTTP_COOKIE", "ew_user=Sam%20Patel")
    page = review_page(project="ignored", workspace=blank_store.root)
    status, reviewer = page.children
    assert isinstance(reviewer, ReviewPage)
    assert reviewer.ctx.user == "Sam Patel"

    monkeypatch.setenv("QUERY_STRING", "project=p&user=Mallory")
    monkeypatch.delenv("HTTP_COOKIE")
    page = review_page(workspace=blank_store.root)
    status, prompt = page.children
    assert isinstance(prompt, UserNamePrompt)
    assert "Who is reviewing?" in prompt.children[0].value
    prompt.name.value = "Kim"
    prompt.go.click()
    assert page.children[1].ctx.user == "Kim"
    assert status.user_cookie == "Kim"

    monkeypatch.setenv("QUERY_STRING", "project=..%2Fetc")
    page = review_page(workspace=blank_store.root)
    assert "Project not found" in page.value


def _all(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all(child)


def test_views_also_take_an_editing_session(blank_store):
    session = EditSession(blank_store, "p", user="Ann")
    threads = ThreadsWidget(session, "q1")
    _post(threads, "suggestion", "Add the panel minutes as evidence.")
    assert _only_thread(blank_store).author == "Ann"
    assert session.workbook.revision == blank_store.open("p").revision  # refreshed
    assert "not signed off yet" in SignOffPanel(session, "explore").state_html.value


def test_a_sign_off_of_an_old_reading_is_recorded_but_shown_out_of_date(blank_store):
    reviewer = ReviewPage(blank_store, "p", "Sam")  # reads revision 1
    author = PhaseWorkbook(EditSession(blank_store, "p", user="Ann"), "develop")
    author.question("q6").response.value = "Written while the reviewer was reading."
    panel = reviewer.signoffs["develop"]
    panel.decision.value = "not_approved"
    panel.record_button.click()
    record = blank_store.open("p").review.signoffs.develop
    assert record.revision == 1  # what the reviewer read, not the newer revision
    assert "The phase has changed since then: reload to see the changes." in panel.message.value
    assert "Out of date: changed since revision 1" in panel.state_html.value
