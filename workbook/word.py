"""The report as a Word document (python-docx), from the same data as the HTML.

Answers are written as plain paragraphs (their markdown source, without HTML), so a team
can annotate and sign the document. Unanswered items say so in italics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbook.report import NO_NOTE, NOT_ANSWERED, _when


def write_docx(report: dict[str, Any], path: Path) -> None:
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = f"{report['project']['tool_name']}: Data Ethics Workbook"
    doc.core_properties.subject = report["title"]
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

    for ph in report["phases"]:
        doc.add_page_break()
        doc.add_heading(ph["title"], level=1)
        doc.add_paragraph(ph["stages"]).runs[0].italic = True
        doc.add_heading("Checklist", level=2)
        doc.add_paragraph(ph["checklist_lead"])
        table(
            ["Item", "Status", "Note"],
            [[i["text"], i["status_label"], i["note"] or NO_NOTE] for i in ph["checklist"]],
        )
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
                        [a["action"], a["owner"] or "–", a["due"] or "–", a["status"].capitalize()]
                        for a in q["further_work"]
                    ],
                )
            else:
                doc.add_paragraph("No further-work actions.")
    doc.add_paragraph()
    doc.add_paragraph(report["attribution"]).runs[0].italic = True
    doc.save(str(path))
