"""The report: a filled workbook as a document an oversight group can read and sign.

:func:`build_report` turns a project into plain data (a dict that JSON can hold). The
renderers turn that data into sanitised HTML (:func:`report_html`) and Markdown
(:func:`report_markdown`). ``notebooks/report.ipynb`` displays all three in one output, so
every export format (HTML, PDF, Word, Markdown) comes from the same executed notebook.

Answers are user-written markdown. They are rendered with raw HTML escaped and harmful
links dropped (mistune), then cleaned again with an allowlist (nh3), so no script, event
handler or ``javascript:`` link reaches any export. Nothing here names a file-system path.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Any

from workbook.bank import Bank, NotePart, load_bank
from workbook.model import (
    CHECKLIST_STATUS_LABELS,
    INFORMED_BY_GROUPS,
    QUESTION_STATUS_LABELS,
    ChecklistStatus,
    QuestionStatus,
    WorkbookBase,
)
from workbook.progress import project_progress

REPORT_MIME = "application/vnd.ethics-workbook.report+json"
NOT_ANSWERED = "Not answered yet."
NOT_ASSESSED = "Not assessed yet"
NO_NOTE = "No note."

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
_URL_SCHEMES = {"http", "https", "mailto"}


# --------------------------------------------------------------------------- data


def build_report(
    workbook: WorkbookBase, bank: Bank | None = None, *, exported_at: datetime | None = None
) -> dict[str, Any]:
    """Everything the documents show, as JSON-ready data."""
    bank = bank or load_bank(workbook.edition)  # type: ignore[attr-defined]
    info = workbook.project
    phases_progress = project_progress(workbook, bank)
    phases = []
    outstanding = []
    for phase, progress in zip(bank.phases, phases_progress, strict=True):
        checklist = []
        for item in phase.checklist:
            entry = workbook.checklist_entry(phase.id, item.id)
            checklist.append(
                {
                    "id": f"{phase.id}.{item.id}",
                    "text": item.text,
                    "status": entry.status.value if entry.status else None,
                    "status_label": _checklist_label(entry.status),
                    "note": entry.note,
                }
            )
        questions = []
        for q in phase.questions:
            answer = workbook.answer(q.id)
            notes = answer.prompts.model_dump()  # type: ignore[attr-defined]
            prompts = []
            for part in q.parts:
                if isinstance(part, NotePart):
                    prompts.append(_prompt(part.note, 0, notes, lead=""))
                    continue
                for i, prompt in enumerate(part.prompts):
                    prompts.append(_prompt(prompt, 0, notes, lead=part.lead if i == 0 else ""))
                    prompts.extend(_prompt(child, 1, notes, lead="") for child in prompt.children)
            informed = answer.informed_by
            record = {
                "id": q.id,
                "number": q.number,
                "text": q.text,
                "prompts": prompts,
                "response": answer.response,
                "status": answer.status.value,
                "status_label": QUESTION_STATUS_LABELS[answer.status],
                "informed_by": [
                    label for key, label in INFORMED_BY_GROUPS.items() if getattr(informed, key)
                ],
                "informed_note": informed.note,
                "evidence": [e.model_dump(mode="json") for e in answer.evidence],
                "further_work": [a.model_dump(mode="json") for a in answer.further_work],
                "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
                "updated_by": answer.updated_by,
                "help": [p.resource for p in q.help.pointers],
            }
            questions.append(record)
            reasons = []
            if not answer.response.strip():
                reasons.append("not answered")
            if answer.status is QuestionStatus.further_work_needed:
                reasons.append("further work needed")
            if reasons:
                outstanding.append(
                    {"id": q.id, "number": q.number, "text": q.text, "reasons": reasons}
                )
        phases.append(
            {
                "id": phase.id,
                "title": phase.title,
                "stages": phase.stages,
                "checklist_lead": phase.checklist_lead,
                "checklist": checklist,
                "note": getattr(workbook.phases, phase.id).note,  # type: ignore[attr-defined]
                "questions": questions,
                "progress": {
                    "questions": progress.questions_total,
                    "complete": progress.complete,
                    "answered": progress.answered,
                    "further_work": progress.further_work,
                    "prompts_noted": progress.prompts_noted,
                    "prompts": progress.prompts_total,
                    "checklist_done": progress.checklist_done,
                    "checklist": progress.checklist_total,
                    "percent": round(progress.fraction * 100),
                },
            }
        )
    return {
        "project": {
            "id": info.id,
            "tool_name": info.tool_name,
            "local_authority": info.local_authority,
            "owner": info.owner,
            "oversight_group": info.oversight_group,
            "description": info.description,
        },
        "edition": workbook.edition,  # type: ignore[attr-defined]
        "revision": workbook.revision,
        "exported_at": (exported_at or datetime.now(timezone.utc)).isoformat(),
        "title": bank.title,
        "subtitle": bank.subtitle,
        "attribution": bank.attribution,
        "phases": phases,
        "outstanding": outstanding,
    }


def _prompt(prompt: Any, depth: int, notes: dict[str, str], *, lead: str) -> dict[str, Any]:
    return {
        "id": prompt.id,
        "text": prompt.text,
        "kind": prompt.kind,
        "depth": depth,
        "lead": lead,
        "note": notes.get(prompt.id, ""),
    }


def _checklist_label(status: ChecklistStatus | None) -> str:
    return CHECKLIST_STATUS_LABELS[status] if status else NOT_ASSESSED


# --------------------------------------------------------------------------- HTML


def render_markdown(text: str) -> str:
    """User markdown to safe HTML: raw HTML escaped, harmful links dropped, allowlist-cleaned."""
    import mistune
    import nh3

    rendered = mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])(text)
    return nh3.clean(
        str(rendered),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


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
        f'height="{height}" aria-labelledby="progress-chart-title" class="ew-chart">'
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
    for ph in report["phases"]:
        out.append(_phase_html(ph))
    out.append(f'<footer class="ew-footer"><p>{_e(report["attribution"])}</p></footer>')
    out.append("</article>")
    return "".join(out)


def _dl(term: str, value: Any) -> str:
    return f"<div><dt>{_e(term)}</dt><dd>{_e(value)}</dd></div>"


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
                f"<td>{_e(a['due'] or '–')}</td><td>{_e(a['status'].capitalize())}</td></tr>"
                for a in q["further_work"]
            )
            + "</tbody></table>"
        )
    else:
        out.append("<p>No further-work actions.</p>")
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
@media print { .ew-phase { break-before: page; } }
"""


# --------------------------------------------------------------------------- Markdown


def _md_escape(text: str) -> str:
    """Plain text for markdown: markup characters escaped, no raw HTML."""
    text = html.escape(str(text), quote=False)
    for ch in "\\`*_{}[]#|":
        text = text.replace(ch, "\\" + ch)
    return text


_UNSAFE_INLINE_LINK = re.compile(r"\]\(\s*<?\s*(?!(?:https?|mailto):|#|/)[a-zA-Z][\w+.-]*:", re.I)
_UNSAFE_REF_LINK = re.compile(
    r"^(\s{0,3}\[[^\]]+\]:\s*)<?(?!(?:https?|mailto):)[a-zA-Z][\w+.-]*:", re.I | re.M
)


def safe_markdown(text: str) -> str:
    """User markdown for a Markdown export: raw HTML escaped, links other than http(s) and
    mailto pointed at ``#removed-link``."""
    text = html.escape(text, quote=False)
    text = _UNSAFE_INLINE_LINK.sub("](#removed-link ", text)
    return _UNSAFE_REF_LINK.sub(r"\1#removed-link ", text)


def report_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown. User markdown is kept; raw HTML in it is escaped."""
    p = report["project"]
    lines = [
        f"# {_md_escape(p['tool_name'])}",
        "",
        f"{_md_escape(report['title'])}: {_md_escape(report['subtitle'])}",
        "",
        f"- **Local authority:** {_md_escape(p['local_authority'])}",
        f"- **Owner:** {_md_escape(p['owner'] or 'Not recorded')}",
        f"- **Oversight group:** {_md_escape(p['oversight_group'] or 'Not recorded')}",
        f"- **Edition:** {report['edition']}",
        f"- **Revision:** {report['revision']}",
        f"- **Exported:** {_when(report['exported_at'])}",
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
            f"- Question {i['number']}: {_md_escape(_clip(i['text']))} "
            f"(**{', '.join(i['reasons'])}**)"
            for i in report["outstanding"]
        ]
    else:
        lines.append("None: every question is answered.")
    for ph in report["phases"]:
        lines += [
            "",
            f"## {ph['title']}",
            "",
            f"_{_md_escape(ph['stages'])}_",
            "",
            "### Checklist",
            "",
        ]
        lines += ["| Item | Status | Note |", "|---|---|---|"]
        for item in ph["checklist"]:
            note = _md_escape(item["note"]) if item["note"] else f"_{NO_NOTE}_"
            lines.append(f"| {_md_escape(item['text'])} | {item['status_label']} | {note} |")
        if ph["note"]:
            lines += ["", f"**Phase note:** {_md_escape(ph['note'])}"]
        for q in ph["questions"]:
            lines += ["", f"### Question {q['number']}: {_md_escape(q['text'])}", ""]
            lines.append(f"**Status:** {q['status_label']}")
            if q["prompts"]:
                lines += ["", "#### Things to consider, with notes", ""]
                for pr in q["prompts"]:
                    if pr["lead"]:
                        lines.append(f"_{_md_escape(pr['lead'])}_")
                        lines.append("")
                    indent = "  " * pr["depth"]
                    note = _md_escape(pr["note"]) if pr["note"].strip() else "_No note yet._"
                    lines.append(f"{indent}- **{_md_escape(pr['text'])}** {note}")
            lines += ["", "#### Answer", ""]
            if q["response"].strip():
                lines.append(safe_markdown(q["response"]))
            else:
                lines.append(f"_{NOT_ANSWERED}_")
            informed = ", ".join(q["informed_by"]) or "None recorded"
            lines += ["", f"**Whose views informed this answer:** {informed}"]
            if q["informed_note"]:
                lines += ["", _md_escape(q["informed_note"])]
            lines += ["", "#### Evidence", ""]
            lines += [
                f"- {_md_escape(e['reference'])}"
                + (f" – {_md_escape(e['description'])}" if e["description"] else "")
                for e in q["evidence"]
            ] or ["_No evidence recorded._"]
            lines += ["", "#### Further work", ""]
            if q["further_work"]:
                lines += ["| Action | Owner | Due | Status |", "|---|---|---|---|"]
                lines += [
                    f"| {_md_escape(a['action'])} | {_md_escape(a['owner'] or '–')} | "
                    f"{a['due'] or '–'} | {a['status'].capitalize()} |"
                    for a in q["further_work"]
                ]
            else:
                lines.append("No further-work actions.")
    lines += ["", "---", "", _md_escape(report["attribution"]), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- notebook


def display_report(project: str, workspace: str | None = None) -> None:
    """Show the report in a notebook: HTML, Markdown and the data, in one output."""
    from IPython.display import display

    from workbook.store import Store

    report = build_report(Store(workspace).open(project))
    display(
        {
            "text/html": report_html(report),
            "text/markdown": report_markdown(report),
            REPORT_MIME: report,
        },
        raw=True,
    )
