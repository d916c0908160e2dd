"""The report as a Word document (python-docx), from the same data as the HTML.

Answers are written as plain paragraphs (their markdown source, without HTML), so a team
can annotate and sign the document. Unanswered items say so in italics.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from workbook.export.render import _date, _signoff_line, _when, text_lines
from workbook.export.report import NO_NOTE, NOT_ANSWERED

RED = (0x94, 0x25, 0x14)
GREEN = (0x00, 0x5A, 0x30)


# Characters XML 1.0 cannot hold (python-docx refuses them): C0 controls other than tab
# and line breaks, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_PROPERTY_CHARS = 255
"""Word's limit for a document property such as the title."""


def _xml_safe(value: Any) -> Any:
    """``value`` (report data) with every string stripped of characters XML cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    return value


def _property(text: str) -> str:
    return text if len(text) <= MAX_PROPERTY_CHARS else text[: MAX_PROPERTY_CHARS - 1] + "…"


def write_docx(report: dict[str, Any], path: Path) -> None:
    from docx import Document
    from docx.shared import Pt, RGBColor

    report = _xml_safe(report)
    doc = Document()
    doc.core_properties.title = _property(f"{report['project']['tool_name']}: Data Ethics Workbook")
    doc.core_properties.subject = _property(report["title"])
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)

    def missing(paragraph_text: str) -> None:
        run = doc.add_paragraph().add_run(paragraph_text)
        run.italic = True
        run.font.color.rgb = RGBColor(0x94, 0x25, 0x14)

    def table(header: list[str], rows: list[list[str]]) -> None:
        t = doc.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in rows:
            cells = t.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text

    p = report["project"]
    doc.add_paragraph(f"{report['title']}: {report['subtitle']}")
    doc.add_heading(p["tool_name"], level=0)
    table(
        ["", ""],
        [
            ["Local authority", p["local_authority"]],
            ["Owner", p["owner"] or "Not recorded"],
            ["Oversight group", p["oversight_group"] or "Not recorded"],
            ["Edition", report["edition"]],
            ["Revision", str(report["revision"])],
            ["Exported", _when(report["exported_at"])],
        ],
    )
    if p["description"]:
        doc.add_paragraph(p["description"])

    doc.add_heading("Sign-off", level=1)
    table(
        ["Phase", "State", "Decision", "Reviewer", "Signed", "Revision signed"],
        [
            [
                ph["title"],
                ("⚠ " if so["status"] == "out_of_date" else "") + _signoff_line(so),
                so["decision_label"] if so["decision"] else "–",
                (so["reviewer"] or "–") + (f" ({so['role']})" if so["role"] else ""),
                _date(so["signed_at"]) or "–",
                str(so["revision"] or "–"),
            ]
            for ph in report["phases"]
            for so in [ph["signoff"]]
        ],
    )
    challenges = report["open_challenges"]
    doc.add_heading(f"Open challenges ({len(challenges)})", level=2)
    if challenges:
        doc.add_paragraph("A phase cannot be approved while a challenge on it is open.")
        for c in challenges:
            doc.add_paragraph(
                f"{c['target_label']}: {c['text'].strip()} ({c['author']}, "
                f"{_date(c['created_at'])})",
                style="List Bullet",
            )
    else:
        doc.add_paragraph("None: no challenge is waiting for an answer.")

    doc.add_heading("Progress", level=1)
    table(
        ["Phase", "Complete", "Answered", "Further work", "Prompt notes", "Checklist done", "%"],
        [
            [
                ph["title"],
                f"{g['complete']} of {g['questions']}",
                f"{g['answered']} of {g['questions']}",
                str(g["further_work"]),
                f"{g['prompts_noted']} of {g['prompts']}",
                f"{g['checklist_done']} of {g['checklist']}",
                f"{g['percent']}%",
            ]
            for ph in report["phases"]
            for g in [ph["progress"]]
        ],
    )
    doc.add_heading("Outstanding questions", level=2)
    if report["outstanding"]:
        for item in report["outstanding"]:
            doc.add_paragraph(
                f"Question {item['number']}: {item['text']} ({', '.join(item['reasons'])})",
                style="List Bullet",
            )
    else:
        doc.add_paragraph("None: every question is answered.")

    doc.add_heading("Action plan", level=1)
    actions = report["actions"]
    if actions:
        late = sum(a["overdue"] for a in actions)
        doc.add_paragraph(
            f"{len(actions)} further-work action{'s' if len(actions) != 1 else ''} across the "
            f"workbook, {late} overdue (open and past the due date)."
        )
        table(
            ["Question", "Action", "Owner", "Due", "Status", "Overdue"],
            [
                [
                    f"Question {a['question_number']}",
                    a["action"],
                    a["owner"] or "–",
                    a["due"] or "–",
                    a["status"].capitalize(),
                    "OVERDUE" if a["overdue"] else "No",
                ]
                for a in actions
            ],
        )
    else:
        doc.add_paragraph("No further-work actions have been recorded.")

    def threads(items: list[dict[str, Any]], label: bool) -> None:
        for t in items:
            state = (
                f"resolved by {t['resolved_by'] or 'unknown'}, {_date(t['resolved_at'])}"
                if t["resolved"]
                else "OPEN"
            )
            role = f" ({t['role']})" if t["role"] else ""
            para = doc.add_paragraph(style="List Bullet")
            if label:
                para.add_run(f"{t['target_label']}: ")
            para.add_run(t["kind_label"]).bold = True
            para.add_run(f" from {t['author']}{role}, {_date(t['created_at'])} (")
            para.add_run(state).bold = not t["resolved"]
            para.add_run(f"): {t['text'].strip()}")
            for r in t["replies"]:
                doc.add_paragraph(
                    f"Reply from {r['author']}, {_date(r['created_at'])}: {r['text'].strip()}",
                    style="List Bullet 2",
                )

    def signoff(ph: dict[str, Any]) -> None:
        so = ph["signoff"]
        para = doc.add_paragraph()
        if so["status"] == "none":
            para.add_run("Sign-off: not signed off. ").bold = True
            para.add_run("No reviewer has recorded a decision on this phase yet.")
            return
        if so["status"] == "out_of_date":
            run = para.add_run(f"⚠ Sign-off out of date: changed since revision {so['revision']}.")
            run.bold = True
            run.font.size = Pt(13)
            run.font.color.rgb = RGBColor(*RED)
            para.add_run(
                " The phase has been edited since the reviewer signed it; the decision below "
                "was made on the earlier text."
            )
        else:
            para.add_run("Sign-off current. ").bold = True
            para.add_run(
                f"Nothing in this phase has changed since revision {so['revision']}, which the "
                "reviewer signed."
            )
        role = f" ({so['role']})" if so["role"] else ""
        rows = [
            ["Decision", so["decision_label"]],
            ["Reviewer", f"{so['reviewer']}{role}"],
            ["Signed", _date(so["signed_at"])],
            ["Revision signed", str(so["revision"])],
        ]
        if so["conditions"]:
            rows.append(["Conditions", so["conditions"]])
        table(["Sign-off", ""], rows)

    def changes(ph: dict[str, Any]) -> None:
        ch = ph["changes"]
        if ch is None:
            return
        doc.add_heading("Changes since last sign-off", level=2)
        if not ch["signed"]:
            doc.add_paragraph(
                "This phase has never been signed off, so there is nothing to compare."
            )
            return
        if not ch["fields"]:
            doc.add_paragraph(
                f"No changes since revision {ch['since_revision']}, which was signed."
            )
            return
        n = len(ch["fields"])
        para = doc.add_paragraph(
            f"{n} field{'s' if n != 1 else ''} changed since revision {ch['since_revision']}, "
            "which was signed. Removed words are "
        )
        removed = para.add_run("struck through")
        removed.font.strike = True
        para.add_run("; added words are ")
        added = para.add_run("underlined")
        added.font.underline = True
        para.add_run(".")
        for f in ch["fields"]:
            doc.add_heading(f["label"], level=3)
            revs = ", ".join(str(r) for r in f["revisions"])
            doc.add_paragraph(
                f"Changed by {', '.join(f['users'])}, last on {_date(f['time'])} "
                f"(revision{'s' if len(f['revisions']) > 1 else ''} {revs})"
            ).runs[0].italic = True
            para = doc.add_paragraph()
            previous = ""
            for op, text in f["diff"]:
                if op == "insert" and previous == "delete":
                    para.add_run(" ")
                previous = op
                for kind, line in text_lines(text):
                    if kind != "text":
                        para.add_run().add_break()
                        if kind == "para":
                            para.add_run().add_break()
                        continue
                    run = para.add_run(line)
                    if op == "delete":
                        run.font.strike = True
                        run.font.color.rgb = RGBColor(*RED)
                    elif op == "insert":
                        run.font.underline = True
                        run.bold = True
                        run.font.color.rgb = RGBColor(*GREEN)
            if not f["diff"]:
                missing("(empty)")

    for ph in report["phases"]:
        doc.add_page_break()
        doc.add_heading(ph["title"], level=1)
        doc.add_paragraph(ph["stages"]).runs[0].italic = True
        signoff(ph)
        changes(ph)
        doc.add_heading("Checklist", level=2)
        doc.add_paragraph(ph["checklist_lead"])
        table(
            ["Item", "Status", "Note"],
            [[i["text"], i["status_label"], i["note"] or NO_NOTE] for i in ph["checklist"]],
        )
        commented = [
            {**t, "target_label": item["text"]} for item in ph["checklist"] for t in item["threads"]
        ]
        if commented:
            doc.add_heading("Comments on the checklist", level=3)
            threads(commented, True)
        if ph["note"]:
            doc.add_paragraph(f"Phase note: {ph['note']}")
        for q in ph["questions"]:
            doc.add_heading(f"Question {q['number']}: {q['text']}", level=2)
            doc.add_paragraph().add_run(f"Status: {q['status_label']}").bold = True
            if q["prompts"]:
                doc.add_heading("Things to consider, with notes", level=3)
                for pr in q["prompts"]:
                    if pr["lead"]:
                        doc.add_paragraph(pr["lead"]).runs[0].italic = True
                    para = doc.add_paragraph(
                        style="List Bullet 2" if pr["depth"] else "List Bullet"
                    )
                    para.add_run(pr["text"]).bold = True
                    note = pr["note"].strip()
                    run = para.add_run(f"\n{note}" if note else "\nNo note yet.")
                    run.italic = not note
            doc.add_heading("Answer", level=3)
            if q["response"].strip():
                for block in q["response"].strip().split("\n\n"):
                    doc.add_paragraph(block.strip())
            else:
                missing(NOT_ANSWERED)
            informed = ", ".join(q["informed_by"]) or "None recorded"
            doc.add_paragraph(f"Whose views informed this answer: {informed}")
            if q["informed_note"]:
                doc.add_paragraph(q["informed_note"])
            doc.add_heading("Evidence", level=3)
            if q["evidence"]:
                for e in q["evidence"]:
                    text = e["reference"] + (f" – {e['description']}" if e["description"] else "")
                    doc.add_paragraph(text, style="List Bullet")
            else:
                missing("No evidence recorded.")
            doc.add_heading("Further work", level=3)
            if q["further_work"]:
                table(
                    ["Action", "Owner", "Due", "Status"],
                    [
                        [
                            a["action"],
                            a["owner"] or "–",
                            a["due"] or "–",
                            a["status"].capitalize() + (" (OVERDUE)" if a.get("overdue") else ""),
                        ]
                        for a in q["further_work"]
                    ],
                )
            else:
                doc.add_paragraph("No further-work actions.")
            if q["threads"]:
                doc.add_heading(f"Comments ({len(q['threads'])})", level=3)
                threads(q["threads"], False)
    doc.add_paragraph()
    doc.add_paragraph(report["attribution"]).runs[0].italic = True
    doc.save(str(path))
