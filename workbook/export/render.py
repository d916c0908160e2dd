"""Rendering the report data as HTML and Markdown."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from workbook.export.report import NO_NOTE, NOT_ANSWERED
from workbook.export.sanitise import (
    _ALLOWED_ATTRIBUTES,
    _ALLOWED_TAGS,
    md_escape,
    render_markdown,
    safe_markdown,
)

# --------------------------------------------------------------------------- HTML


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%d %B %Y")


def progress_svg(report: dict[str, Any]) -> str:
    """A horizontal bar chart of each phase's progress, as inline SVG (no scripts, no fonts)."""
    rows = report["phases"]
    bar_w, row_h, label_w = 320, 34, 150
    height = row_h * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 60}" '
        f'height="{height}" viewBox="0 0 {label_w + bar_w + 60} {height}" '
        'aria-labelledby="progress-chart-title" class="ew-chart">'
        '<title id="progress-chart-title">Progress by phase: '
        + _e("; ".join(f"{p['title']} {p['progress']['percent']}%" for p in rows))
        + "</title>"
    ]
    for i, phase in enumerate(rows):
        y = 5 + i * row_h
        pct = phase["progress"]["percent"]
        parts.append(
            f'<text x="0" y="{y + 19}" font-size="14" fill="#0b0c0c">{_e(phase["title"])}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="20" fill="#f3f2f1" '
            'stroke="#505a5f"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * pct / 100:.1f}" height="20" '
            'fill="#00703c"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 19}" font-size="14" fill="#0b0c0c">'
            f"{pct}%</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def report_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML fragment (styles included, no scripts)."""
    p = report["project"]
    out = [f"<style>{REPORT_CSS}</style>", '<article class="ew-report">']
    out.append(
        '<header class="ew-cover">'
        f'<p class="ew-kicker">{_e(report["title"])}: {_e(report["subtitle"])}</p>'
        f"<h1>{_e(p['tool_name'])}</h1>"
        '<dl class="ew-cover-list">'
        + _dl("Local authority", p["local_authority"])
        + _dl("Owner", p["owner"] or "Not recorded")
        + _dl("Oversight group", p["oversight_group"] or "Not recorded")
        + _dl("Edition", report["edition"])
        + _dl("Revision", report["revision"])
        + _dl("Exported", _when(report["exported_at"]))
        + "</dl>"
        + (f"<p>{_e(p['description'])}</p>" if p["description"] else "")
        + "</header>"
    )
    out.append(_oversight_html(report))
    out.append('<section class="ew-summary"><h2>Progress</h2>')
    out.append(progress_svg(report))
    out.append(
        "<table><thead><tr><th>Phase</th><th>Questions complete</th><th>Answered</th>"
        "<th>Further work</th><th>Prompt notes</th><th>Checklist done</th></tr></thead><tbody>"
    )
    for ph in report["phases"]:
        g = ph["progress"]
        out.append(
            f"<tr><td>{_e(ph['title'])}</td><td>{g['complete']} of {g['questions']}</td>"
            f"<td>{g['answered']} of {g['questions']}</td><td>{g['further_work']}</td>"
            f"<td>{g['prompts_noted']} of {g['prompts']}</td>"
            f"<td>{g['checklist_done']} of {g['checklist']}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append(_outstanding_html(report["outstanding"]))
    out.append("</section>")
    out.append(_actions_html(report["actions"]))
    for ph in report["phases"]:
        out.append(_phase_html(ph))
    out.append(f'<footer class="ew-footer"><p>{_e(report["attribution"])}</p></footer>')
    out.append("</article>")
    return "".join(out)


def _dl(term: str, value: Any) -> str:
    return f"<div><dt>{_e(term)}</dt><dd>{_e(value)}</dd></div>"


def _text(text: str) -> str:
    """Plain user text (a comment) as escaped HTML, line breaks kept."""
    return _e(text.strip()).replace("\n", "<br>")


def _date(iso: str | None) -> str:
    from workbook.review import format_date

    return format_date(iso) if iso else ""


def _signoff_line(so: dict[str, Any]) -> str:
    """``Out of date: changed since revision 12`` / ``Current`` / ``Not signed off``."""
    if so["status"] == "out_of_date":
        return f"Out of date: changed since revision {so['revision']}"
    if so["status"] == "current":
        return "Current: no change since it was signed"
    return "Not signed off"


def _oversight_html(report: dict[str, Any]) -> str:
    out = ['<section class="ew-oversight"><h2>Sign-off</h2>']
    out.append(
        "<table><thead><tr><th>Phase</th><th>State</th><th>Decision</th><th>Reviewer</th>"
        "<th>Signed</th><th>Revision signed</th></tr></thead><tbody>"
    )
    for ph in report["phases"]:
        so = ph["signoff"]
        role = f" ({so['role']})" if so["role"] else ""
        out.append(
            f'<tr class="ew-so-{_e(so["status"])}"><td><a href="#{_e(ph["id"])}">'
            f"{_e(ph['title'])}</a></td>"
            f'<td class="ew-so-state"><strong>{"⚠ " if so["status"] == "out_of_date" else ""}'
            f"{_e(_signoff_line(so))}</strong></td>"
            f"<td>{_e(so['decision_label'] if so['decision'] else '–')}</td>"
            f"<td>{_e((so['reviewer'] or '–') + role)}</td>"
            f"<td>{_e(_date(so['signed_at']) or '–')}</td>"
            f"<td>{_e(so['revision'] or '–')}</td></tr>"
        )
    out.append("</tbody></table>")
    items = report["open_challenges"]
    out.append(f"<h3>Open challenges ({len(items)})</h3>")
    if not items:
        out.append("<p>None: no challenge is waiting for an answer.</p>")
    else:
        out.append(
            "<p>A phase cannot be approved while a challenge on it is open.</p>"
            '<ul class="ew-challenges">'
        )
        for c in items:
            out.append(
                f'<li><a href="#{_e(c["anchor"])}">{_e(c["target_label"])}</a>: '
                f'{_text(c["text"])} <span class="ew-hint">({_e(c["author"])}, '
                f"{_e(_date(c['created_at']))}"
                + (
                    f", {len(c['replies'])} repl{'y' if len(c['replies']) == 1 else 'ies'}"
                    if c["replies"]
                    else ""
                )
                + ")</span></li>"
            )
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def _actions_html(actions: list[dict[str, Any]]) -> str:
    out = ['<section class="ew-actions"><h2>Action plan</h2>']
    if not actions:
        out.append("<p>No further-work actions have been recorded.</p></section>")
        return "".join(out)
    late = sum(a["overdue"] for a in actions)
    out.append(
        f"<p>{len(actions)} further-work action{'s' if len(actions) != 1 else ''} across the "
        f"workbook, {late} overdue (open and past the due date).</p>"
        "<table><thead><tr><th>Question</th><th>Action</th><th>Owner</th><th>Due</th>"
        "<th>Status</th><th>Overdue</th></tr></thead><tbody>"
    )
    for a in actions:
        overdue = '<strong class="ew-overdue">Overdue</strong>' if a["overdue"] else "No"
        out.append(
            f'<tr><td><a href="#q{a["question_number"]}">Question {a["question_number"]}</a>'
            f"</td><td>{_e(a['action'])}</td><td>{_e(a['owner'] or '–')}</td>"
            f"<td>{_e(a['due'] or '–')}</td><td>{_e(a['status'].capitalize())}</td>"
            f"<td>{overdue}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "".join(out)


def _signoff_box_html(ph: dict[str, Any]) -> str:
    so = ph["signoff"]
    cls = f"ew-signoff ew-signoff-{_e(so['status'])}"
    if so["status"] == "none":
        return (
            f'<div class="{cls}"><p><strong>Sign-off: not signed off.</strong> No reviewer '
            "has recorded a decision on this phase yet.</p></div>"
        )
    if so["status"] == "out_of_date":
        head = (
            f'<p class="ew-so-head"><strong>⚠ Sign-off out of date: changed since revision '
            f"{so['revision']}.</strong> The phase has been edited since the reviewer signed "
            "it; the decision below was made on the earlier text.</p>"
        )
    else:
        head = (
            '<p class="ew-so-head"><strong>Sign-off current.</strong> Nothing in this phase '
            f"has changed since revision {so['revision']}, which the reviewer signed.</p>"
        )
    role = f" ({so['role']})" if so["role"] else ""
    rows = (
        _dl("Decision", so["decision_label"])
        + _dl("Reviewer", f"{so['reviewer']}{role}")
        + _dl("Signed", _date(so["signed_at"]))
        + _dl("Revision signed", so["revision"])
    )
    if so["conditions"]:
        rows += f"<div><dt>Conditions</dt><dd>{_text(so['conditions'])}</dd></div>"
    return f'<div class="{cls}">{head}<dl class="ew-cover-list">{rows}</dl></div>'


_BLOCK_START = re.compile(r"[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|>|\|)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def text_lines(text: str) -> list[tuple[str, str]]:
    """Answer text as it reads in markdown: ``("text", …)``, ``("br", "")`` before a line
    that starts a list item, heading, quote or table row, ``("para", "")`` between
    paragraphs. Other line breaks are soft (markdown joins the lines), so they become a
    space rather than a break in a diff."""
    out: list[tuple[str, str]] = []
    for i, para in enumerate(_PARAGRAPH_BREAK.split(text)):
        if i:
            out.append(("para", ""))
        for j, line in enumerate(para.split("\n")):
            if j:
                out.append(("br", "") if _BLOCK_START.match(line) else ("text", " "))
            if line:
                out.append(("text", line))
    return out


def _breaks_html(text: str) -> str:
    return "".join(
        _e(t) if kind == "text" else "<br>" if kind == "br" else "<br><br>"
        for kind, t in text_lines(text)
    )


def diff_html(ops: list[list[str]]) -> str:
    """Word-diff runs as HTML: removed words in ``<del>``, added in ``<ins>``."""
    import nh3

    from workbook.review import diff_ops_html

    html_text = diff_ops_html(ops, text_html=_breaks_html)
    return nh3.clean(html_text, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)


def _changes_html(ph: dict[str, Any]) -> str:
    ch = ph["changes"]
    if ch is None:
        return ""
    out = ['<section class="ew-changes"><h3>Changes since last sign-off</h3>']
    if not ch["signed"]:
        out.append("<p>This phase has never been signed off, so there is nothing to compare.</p>")
    elif not ch["fields"]:
        out.append(f"<p>No changes since revision {ch['since_revision']}, which was signed.</p>")
    else:
        n = len(ch["fields"])
        out.append(
            f"<p>{n} field{'s' if n != 1 else ''} changed since revision "
            f"{ch['since_revision']}, which was signed. "
            '<span class="ew-legend">Removed words are <del class="wb-del">struck through</del>;'
            ' added words are <ins class="wb-ins">underlined</ins>.</span></p>'
        )
        for f in ch["fields"]:
            revs = ", ".join(str(r) for r in f["revisions"])
            out.append(
                f'<div class="ew-change"><h4>{_e(f["label"])}</h4>'
                f'<p class="ew-hint">Changed by {_e(", ".join(f["users"]))}, last on '
                f"{_e(_date(f['time']))} (revision{'s' if len(f['revisions']) > 1 else ''} "
                f"{_e(revs)})</p>"
                f'<div class="ew-diff">{diff_html(f["diff"]) or _missing("(empty)")}</div></div>'
            )
    out.append("</section>")
    return "".join(out)


def _threads_html(threads: list[dict[str, Any]], *, label: bool = False) -> str:
    out = ['<ul class="ew-threads">']
    for t in threads:
        state = (
            f"Resolved by {_e(t['resolved_by'] or 'unknown')}, {_e(_date(t['resolved_at']))}"
            if t["resolved"]
            else "Open"
        )
        cls = "ew-resolved" if t["resolved"] else f"ew-open ew-open-{_e(t['kind'])}"
        role = f" ({t['role']})" if t["role"] else ""
        where = f"{_e(t['target_label'])}: " if label else ""
        out.append(
            f'<li class="ew-thread {cls}"><p class="ew-thread-head">{where}'
            f"<strong>{_e(t['kind_label'])}</strong> from {_e(t['author'] + role)}, "
            f"{_e(_date(t['created_at']))} · <strong>{state}</strong></p>"
            f'<p class="ew-thread-text">{_text(t["text"])}</p>'
        )
        if t["replies"]:
            out.append('<ul class="ew-replies">')
            for r in t["replies"]:
                out.append(
                    f'<li><span class="ew-hint">Reply from {_e(r["author"])}, '
                    f"{_e(_date(r['created_at']))}:</span> {_text(r['text'])}</li>"
                )
            out.append("</ul>")
        out.append("</li>")
    out.append("</ul>")
    return "".join(out)


def _outstanding_html(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<h3>Outstanding questions</h3><p>None: every question is answered.</p>"
    rows = "".join(
        f'<li><a href="#q{i["number"]}">Question {i["number"]}</a>: {_e(_clip(i["text"]))} '
        f"<strong>({_e(', '.join(i['reasons']))})</strong></li>"
        for i in items
    )
    return (
        f"<h3>Outstanding questions ({len(items)})</h3>"
        f'<p>Not yet answered, or marked "further work needed":</p><ul>{rows}</ul>'
    )


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _phase_html(ph: dict[str, Any]) -> str:
    out = [f'<section class="ew-phase" id="{_e(ph["id"])}"><h2>{_e(ph["title"])}</h2>']
    out.append(f'<p class="ew-hint">{_e(ph["stages"])}</p>')
    out.append(_signoff_box_html(ph))
    out.append(_changes_html(ph))
    out.append(f"<h3>Checklist</h3><p>{_e(ph['checklist_lead'])}</p>")
    out.append('<table class="ew-checklist"><thead><tr><th>Item</th><th>Status</th><th>Note</th>')
    out.append("</tr></thead><tbody>")
    for item in ph["checklist"]:
        cls = "ew-missing" if item["status"] is None else ""
        out.append(
            f'<tr><td>{_e(item["text"])}</td><td class="{cls}">{_e(item["status_label"])}</td>'
            f"<td>{_e(item['note']) if item['note'] else _missing(NO_NOTE)}</td></tr>"
        )
    out.append("</tbody></table>")
    commented = [
        {**t, "target_label": item["text"]} for item in ph["checklist"] for t in item["threads"]
    ]
    if commented:
        out.append("<h4>Comments on the checklist</h4>")
        out.append(_threads_html(commented, label=True))
    if ph["note"]:
        out.append(f"<p><strong>Phase note:</strong> {_e(ph['note'])}</p>")
    for q in ph["questions"]:
        out.append(_question_html(q))
    out.append("</section>")
    return "".join(out)


def _missing(text: str) -> str:
    return f'<span class="ew-missing">{_e(text)}</span>'


def _question_html(q: dict[str, Any]) -> str:
    out = [
        f'<section class="ew-question" id="q{q["number"]}" data-question-id="{_e(q["id"])}">'
        f'<h3><span class="ew-qnum">Question {q["number"]}</span> {_e(q["text"])}</h3>'
        f'<p class="ew-status ew-status-{_e(q["status"])}"><strong>Status:</strong> '
        f"{_e(q['status_label'])}</p>"
    ]
    if q["prompts"]:
        out.append('<div class="ew-prompts"><h4>Things to consider, with notes</h4><ul>')
        for pr in q["prompts"]:
            lead = f'<li class="ew-lead">{_e(pr["lead"])}</li>' if pr["lead"] else ""
            note = _e(pr["note"]) if pr["note"].strip() else _missing("No note yet.")
            out.append(
                f'{lead}<li class="ew-depth-{pr["depth"]}"><span class="ew-prompt">'
                f"{_e(pr['text'])}</span><br>{note}</li>"
            )
        out.append("</ul></div>")
    out.append("<h4>Answer</h4>")
    if q["response"].strip():
        out.append(f'<div class="ew-response">{render_markdown(q["response"])}</div>')
    else:
        out.append(f"<p>{_missing(NOT_ANSWERED)}</p>")
    informed = ", ".join(q["informed_by"]) if q["informed_by"] else "None recorded"
    out.append(f"<p><strong>Whose views informed this answer:</strong> {_e(informed)}</p>")
    if q["informed_note"]:
        out.append(f"<p>{_e(q['informed_note'])}</p>")
    out.append("<h4>Evidence</h4>")
    if q["evidence"]:
        out.append(
            "<ul>"
            + "".join(
                f"<li>{_e(e['reference'])}"
                + (f" – {_e(e['description'])}" if e["description"] else "")
                + "</li>"
                for e in q["evidence"]
            )
            + "</ul>"
        )
    else:
        out.append(f"<p>{_missing('No evidence recorded.')}</p>")
    out.append("<h4>Further work</h4>")
    if q["further_work"]:
        out.append(
            "<table><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Status</th></tr>"
            "</thead><tbody>"
            + "".join(
                f"<tr><td>{_e(a['action'])}</td><td>{_e(a['owner'] or '–')}</td>"
                f"<td>{_e(a['due'] or '–')}</td><td>{_e(a['status'].capitalize())}"
                + (' <strong class="ew-overdue">(overdue)</strong>' if a.get("overdue") else "")
                + "</td></tr>"
                for a in q["further_work"]
            )
            + "</tbody></table>"
        )
    else:
        out.append("<p>No further-work actions.</p>")
    if q["threads"]:
        out.append(f"<h4>Comments ({len(q['threads'])})</h4>")
        out.append(_threads_html(q["threads"]))
    if q["updated_by"]:
        out.append(
            f'<p class="ew-hint">Last changed by {_e(q["updated_by"])} on '
            f"{_e(_when(q['updated_at']))}.</p>"
        )
    out.append("</section>")
    return "".join(out)


REPORT_CSS = """
.ew-report { font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; color: #0b0c0c;
  font-size: 16px; line-height: 1.45; max-width: 50rem; }
.ew-report h1 { font-size: 2rem; margin: 0.25rem 0 1rem; }
.ew-report h2 { font-size: 1.5rem; margin: 2rem 0 0.5rem; border-bottom: 3px solid #1d70b8; }
.ew-report h3 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
.ew-report h4 { font-size: 1rem; margin: 1rem 0 0.25rem; }
.ew-report table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
.ew-report th, .ew-report td { border: 1px solid #b1b4b6; padding: 0.3rem 0.5rem;
  text-align: left; vertical-align: top; }
.ew-report th { background: #f3f2f1; }
.ew-kicker, .ew-hint { color: #484949; }
.ew-cover { border-bottom: 5px solid #0b0c0c; padding-bottom: 1rem; }
.ew-cover-list div { display: flex; gap: 1rem; }
.ew-cover-list dt { font-weight: 700; min-width: 10rem; }
.ew-cover-list dd { margin: 0; }
.ew-qnum { display: block; color: #484949; font-weight: 400; font-size: 1rem; }
.ew-question { border-top: 1px solid #b1b4b6; margin-top: 1.5rem; break-inside: auto; }
.ew-missing { color: #942514; font-style: italic; }
.ew-prompts ul { list-style: none; padding-left: 0; }
.ew-prompts li { margin: 0.4rem 0; }
.ew-prompts .ew-lead { font-style: italic; margin-top: 0.75rem; }
.ew-prompts .ew-depth-1 { margin-left: 1.5rem; }
.ew-prompt { font-weight: 700; }
.ew-response { border-left: 4px solid #1d70b8; padding-left: 0.75rem; }
.ew-status-further_work_needed { color: #942514; }
.ew-footer { margin-top: 2rem; border-top: 1px solid #b1b4b6; color: #484949;
  font-size: 0.9rem; }
.ew-report del, .ew-report .wb-del { text-decoration: line-through; text-decoration-thickness: 2px;
  background: #f6d7d2; color: #6e1a0f; }
.ew-report ins, .ew-report .wb-ins { text-decoration: underline; text-decoration-thickness: 2px;
  text-underline-offset: 2px; background: #cce2d8; color: #005a30; }
.wb-del + .wb-ins { margin-left: 0.2em; }
.ew-diff { border: 1px solid #b1b4b6; padding: 0.5rem 0.75rem; white-space: normal; }
.ew-change h4 { margin-top: 1rem; }
.ew-changes { border-left: 4px solid #505a5f; padding-left: 0.75rem; }
.ew-signoff { border: 2px solid #505a5f; padding: 0.5rem 0.75rem; margin: 0.75rem 0 1rem;
  break-inside: avoid; }
.ew-signoff p { margin: 0.25rem 0; }
.ew-signoff-current { border-color: #00703c; border-left-width: 8px; }
.ew-signoff-out_of_date { border: 4px solid #d4351c; border-left-width: 10px;
  background: #fcecea; }
.ew-signoff-out_of_date .ew-so-head strong { color: #942514; font-size: 1.1rem; }
.ew-signoff-none { border-style: dashed; }
.ew-so-out_of_date .ew-so-state { color: #942514; background: #fcecea; }
.ew-overdue { color: #942514; }
.ew-threads { list-style: none; padding-left: 0; }
.ew-thread { border: 1px solid #b1b4b6; border-left: 5px solid #1d70b8; padding: 0.25rem 0.75rem;
  margin: 0.5rem 0; break-inside: avoid; }
.ew-thread p { margin: 0.25rem 0; }
.ew-open-challenge { border-left-color: #d4351c; }
.ew-resolved { border-left-color: #b1b4b6; color: #484949; }
.ew-replies { list-style: none; padding-left: 1rem; border-left: 2px solid #b1b4b6; }
.ew-challenges li { margin: 0.3rem 0; }
.ew-report h2, .ew-report h3, .ew-report h4, .ew-thread-head { break-after: avoid; }
.ew-report h3, .ew-report h4 { break-inside: avoid; }
@media print { .ew-phase { break-before: page; } }
/* A phone or a 320 CSS px window (WCAG 2.2 1.4.10): nothing scrolls sideways. Each table
   row becomes a card, its cells one under another, named as in the table's heading (the
   heading row itself is kept for screen readers only). */
.ew-report svg.ew-chart[viewBox] { max-width: 100%; height: auto; }
.ew-report { overflow-wrap: break-word; }
@media screen and (max-width: 40rem) {
  .ew-report h1 { font-size: 1.6rem; }
  .ew-report h2 { font-size: 1.3rem; }
  .ew-cover-list div { display: block; margin-bottom: 0.35rem; }
  .ew-report table, .ew-report tbody, .ew-report tr, .ew-report td { display: block; }
  .ew-report thead, .ew-report thead tr, .ew-report thead th { display: block; }
  .ew-report thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip-path: inset(50%); }
  .ew-report tbody tr { border: 1px solid #b1b4b6; border-left: 5px solid #1d70b8;
    margin: 0 0 0.75rem; padding: 0.25rem 0.6rem; }
  .ew-report td { border: none; padding: 0.15rem 0; }
  .ew-report td:first-child { font-weight: 700; }
  .ew-report td::before { font-weight: 700; }
  .ew-oversight td:nth-child(2)::before { content: "State: "; }
  .ew-oversight td:nth-child(3)::before { content: "Decision: "; }
  .ew-oversight td:nth-child(4)::before { content: "Reviewer: "; }
  .ew-oversight td:nth-child(5)::before { content: "Signed: "; }
  .ew-oversight td:nth-child(6)::before { content: "Revision signed: "; }
  .ew-summary td:nth-child(2)::before { content: "Questions complete: "; }
  .ew-summary td:nth-child(3)::before { content: "Answered: "; }
  .ew-summary td:nth-child(4)::before { content: "Further work: "; }
  .ew-summary td:nth-child(5)::before { content: "Prompt notes: "; }
  .ew-summary td:nth-child(6)::before { content: "Checklist done: "; }
  .ew-actions td:nth-child(3)::before, .ew-question td:nth-child(2)::before {
    content: "Owner: "; }
  .ew-actions td:nth-child(4)::before, .ew-question td:nth-child(3)::before {
    content: "Due: "; }
  .ew-actions td:nth-child(5)::before, .ew-question td:nth-child(4)::before {
    content: "Status: "; }
  .ew-actions td:nth-child(6)::before { content: "Overdue: "; }
  .ew-checklist td:nth-child(2)::before { content: "Status: "; }
  .ew-checklist td:nth-child(3)::before { content: "Note: "; }
  .ew-question td:first-child { font-weight: 400; }
}
"""


# --------------------------------------------------------------------------- Markdown


def report_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown. User markdown is kept; raw HTML in it is escaped."""
    p = report["project"]
    lines = [
        f"# {md_escape(p['tool_name'])}",
        "",
        f"{md_escape(report['title'])}: {md_escape(report['subtitle'])}",
        "",
        f"- **Local authority:** {md_escape(p['local_authority'])}",
        f"- **Owner:** {md_escape(p['owner'] or 'Not recorded')}",
        f"- **Oversight group:** {md_escape(p['oversight_group'] or 'Not recorded')}",
        f"- **Edition:** {report['edition']}",
        f"- **Revision:** {report['revision']}",
        f"- **Exported:** {_when(report['exported_at'])}",
        "",
        *_oversight_md(report),
        "",
        "## Progress",
        "",
        "| Phase | Complete | Answered | Further work | Prompt notes | Checklist done | Progress |",
        "|---|---|---|---|---|---|---|",
    ]
    for ph in report["phases"]:
        g = ph["progress"]
        bar = "█" * (g["percent"] // 10) + "░" * (10 - g["percent"] // 10)
        lines.append(
            f"| {ph['title']} | {g['complete']} of {g['questions']} | {g['answered']} of "
            f"{g['questions']} | {g['further_work']} | {g['prompts_noted']} of {g['prompts']} | "
            f"{g['checklist_done']} of {g['checklist']} | {bar} {g['percent']}% |"
        )
    lines += ["", "### Outstanding questions", ""]
    if report["outstanding"]:
        lines += [
            f"- Question {i['number']}: {md_escape(_clip(i['text']))} "
            f"(**{', '.join(i['reasons'])}**)"
            for i in report["outstanding"]
        ]
    else:
        lines.append("None: every question is answered.")
    lines += ["", *_actions_md(report["actions"])]
    for ph in report["phases"]:
        lines += [
            "",
            f"## {ph['title']}",
            "",
            f"_{md_escape(ph['stages'])}_",
            "",
            *_signoff_md(ph),
            *_changes_md(ph),
            "",
            "### Checklist",
            "",
        ]
        lines += ["| Item | Status | Note |", "|---|---|---|"]
        for item in ph["checklist"]:
            note = md_escape(item["note"]) if item["note"] else f"_{NO_NOTE}_"
            lines.append(f"| {md_escape(item['text'])} | {item['status_label']} | {note} |")
        commented = [
            {**t, "target_label": item["text"]} for item in ph["checklist"] for t in item["threads"]
        ]
        if commented:
            lines += ["", "#### Comments on the checklist", "", *_threads_md(commented, True)]
        if ph["note"]:
            lines += ["", f"**Phase note:** {md_escape(ph['note'])}"]
        for q in ph["questions"]:
            lines += ["", f"### Question {q['number']}: {md_escape(q['text'])}", ""]
            lines.append(f"**Status:** {q['status_label']}")
            if q["prompts"]:
                lines += ["", "#### Things to consider, with notes", ""]
                for pr in q["prompts"]:
                    if pr["lead"]:
                        lines.append(f"_{md_escape(pr['lead'])}_")
                        lines.append("")
                    indent = "  " * pr["depth"]
                    note = md_escape(pr["note"]) if pr["note"].strip() else "_No note yet._"
                    lines.append(f"{indent}- **{md_escape(pr['text'])}** {note}")
            lines += ["", "#### Answer", ""]
            if q["response"].strip():
                lines.append(safe_markdown(q["response"]))
            else:
                lines.append(f"_{NOT_ANSWERED}_")
            informed = ", ".join(q["informed_by"]) or "None recorded"
            lines += ["", f"**Whose views informed this answer:** {informed}"]
            if q["informed_note"]:
                lines += ["", md_escape(q["informed_note"])]
            lines += ["", "#### Evidence", ""]
            lines += [
                f"- {md_escape(e['reference'])}"
                + (f" – {md_escape(e['description'])}" if e["description"] else "")
                for e in q["evidence"]
            ] or ["_No evidence recorded._"]
            lines += ["", "#### Further work", ""]
            if q["further_work"]:
                lines += ["| Action | Owner | Due | Status |", "|---|---|---|---|"]
                lines += [
                    f"| {md_escape(a['action'])} | {md_escape(a['owner'] or '–')} | "
                    f"{a['due'] or '–'} | {a['status'].capitalize()}"
                    f"{' **(overdue)**' if a.get('overdue') else ''} |"
                    for a in q["further_work"]
                ]
            else:
                lines.append("No further-work actions.")
            if q["threads"]:
                lines += ["", f"#### Comments ({len(q['threads'])})", ""]
                lines += _threads_md(q["threads"], False)
    lines += ["", "---", "", md_escape(report["attribution"]), ""]
    return "\n".join(lines)


def _md_text(text: str) -> str:
    """User text on one markdown line (line breaks become spaces)."""
    return md_escape(" ".join(str(text).split()))


def _oversight_md(report: dict[str, Any]) -> list[str]:
    lines = [
        "## Sign-off",
        "",
        "| Phase | State | Decision | Reviewer | Signed | Revision signed |",
        "|---|---|---|---|---|---|",
    ]
    for ph in report["phases"]:
        so = ph["signoff"]
        state = _signoff_line(so)
        if so["status"] == "out_of_date":
            state = f"**⚠ {state}**"
        role = f" ({so['role']})" if so["role"] else ""
        lines.append(
            f"| {ph['title']} | {state} | {so['decision_label'] if so['decision'] else '–'} | "
            f"{_md_text((so['reviewer'] or '–') + role)} | {_date(so['signed_at']) or '–'} | "
            f"{so['revision'] or '–'} |"
        )
    items = report["open_challenges"]
    lines += ["", f"### Open challenges ({len(items)})", ""]
    if not items:
        lines.append("None: no challenge is waiting for an answer.")
    else:
        lines += ["A phase cannot be approved while a challenge on it is open.", ""]
        lines += [
            f"- {_md_text(c['target_label'])}: {_md_text(c['text'])} "
            f"({_md_text(c['author'])}, {_date(c['created_at'])})"
            for c in items
        ]
    return lines


def _actions_md(actions: list[dict[str, Any]]) -> list[str]:
    lines = ["## Action plan", ""]
    if not actions:
        return [*lines, "No further-work actions have been recorded."]
    late = sum(a["overdue"] for a in actions)
    lines += [
        f"{len(actions)} further-work action{'s' if len(actions) != 1 else ''} across the "
        f"workbook, {late} overdue (open and past the due date).",
        "",
        "| Question | Action | Owner | Due | Status | Overdue |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| Question {a['question_number']} | {_md_text(a['action'])} | "
        f"{_md_text(a['owner'] or '–')} | {a['due'] or '–'} | {a['status'].capitalize()} | "
        f"{'**Overdue**' if a['overdue'] else 'No'} |"
        for a in actions
    ]
    return lines


def _signoff_md(ph: dict[str, Any]) -> list[str]:
    so = ph["signoff"]
    if so["status"] == "none":
        return ["> **Sign-off: not signed off.** No reviewer has recorded a decision yet."]
    if so["status"] == "out_of_date":
        head = (
            f"> **⚠ Sign-off out of date: changed since revision {so['revision']}.** The phase "
            "has been edited since the reviewer signed it; the decision below was made on the "
            "earlier text."
        )
    else:
        head = (
            f"> **Sign-off current.** Nothing in this phase has changed since revision "
            f"{so['revision']}, which the reviewer signed."
        )
    role = f" ({so['role']})" if so["role"] else ""
    lines = [
        head,
        ">",
        f"> - **Decision:** {so['decision_label']}",
        f"> - **Reviewer:** {_md_text(so['reviewer'] + role)}",
        f"> - **Signed:** {_date(so['signed_at'])}",
        f"> - **Revision signed:** {so['revision']}",
    ]
    if so["conditions"]:
        lines.append(f"> - **Conditions:** {_md_text(so['conditions'])}")
    return lines


def diff_markdown(ops: list[list[str]]) -> str:
    """Word-diff runs as Markdown: ``~~removed~~`` and ``**added**``, user text escaped.

    Markers go round the words only (a run's surrounding spaces stay outside), and round
    each line of a run separately, so they never span a line break.
    """
    out = []
    previous = ""
    for op, text in ops:
        if op == "insert" and previous == "delete":
            out.append(" ")  # so ~~old~~ **new** read as two marks
        previous = op
        pieces = []
        for line in text.split("\n"):
            core = line.strip()
            if op == "equal" or not core:
                pieces.append(md_escape(line).replace("~", "\\~"))
                continue
            lead = line[: len(line) - len(line.lstrip())]
            trail = line[len(line.rstrip()) :]
            mark = "~~" if op == "delete" else "**"
            pieces.append(
                f"{lead}{mark}{md_escape(core).replace('~', chr(92) + '~')}{mark}{trail}"
            )
        out.append("  \n".join(pieces))
    return "".join(out)


def _changes_md(ph: dict[str, Any]) -> list[str]:
    ch = ph["changes"]
    if ch is None:
        return []
    lines = ["", "### Changes since last sign-off", ""]
    if not ch["signed"]:
        return [*lines, "This phase has never been signed off, so there is nothing to compare."]
    if not ch["fields"]:
        return [*lines, f"No changes since revision {ch['since_revision']}, which was signed."]
    n = len(ch["fields"])
    lines.append(
        f"{n} field{'s' if n != 1 else ''} changed since revision {ch['since_revision']}, which "
        "was signed. Removed words are ~~struck through~~; added words are **in bold**."
    )
    for f in ch["fields"]:
        revs = ", ".join(str(r) for r in f["revisions"])
        lines += [
            "",
            f"#### {_md_text(f['label'])}",
            "",
            f"_Changed by {_md_text(', '.join(f['users']))}, last on {_date(f['time'])} "
            f"(revision{'s' if len(f['revisions']) > 1 else ''} {revs})_",
            "",
            diff_markdown(f["diff"]) or "_(empty)_",
        ]
    return lines


def _threads_md(threads: list[dict[str, Any]], label: bool) -> list[str]:
    lines = []
    for t in threads:
        state = (
            f"resolved by {_md_text(t['resolved_by'] or 'unknown')}, {_date(t['resolved_at'])}"
            if t["resolved"]
            else "**open**"
        )
        role = f" ({t['role']})" if t["role"] else ""
        where = f"{_md_text(t['target_label'])}: " if label else ""
        lines.append(
            f"- {where}**{t['kind_label']}** from {_md_text(t['author'] + role)}, "
            f"{_date(t['created_at'])} ({state}): {_md_text(t['text'])}"
        )
        for r in t["replies"]:
            lines.append(
                f"  - Reply from {_md_text(r['author'])}, {_date(r['created_at'])}: "
                f"{_md_text(r['text'])}"
            )
    return lines




def report_document(report: dict[str, Any]) -> str:
    """The report as a whole HTML document (no scripts)."""
    title = html.escape(f"{report['project']['tool_name']}: Data Ethics Workbook")
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main>{report_html(report)}</main></body></html>"
    )
