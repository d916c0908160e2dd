"""The board document of a maturity self-assessment: one round, for a board or committee.

:func:`board_report` is :func:`workbook.maturity.round_data` plus what the documents show
(title, radar chart and its description, the rounds compared, the gaps, wording that every
format shares). :func:`write_board` writes it as HTML and Markdown (Jinja2 templates
``maturity.html.j2`` / ``maturity.md.j2``), PDF (the HTML printed by Chromium), Word
(python-docx, with :mod:`workbook.export.word`'s styles and page set-up) and the round's
action plan as CSV (:func:`workbook.maturity.plan_csv`), so every format shows the same thing.

Sections, in a board member's order: cover; where we stand (radar and table); what we will
do next (action plan); each component in detail; the rounds compared; how the levels are
defined. User text (rationale, action text, names) is escaped, or sanitised where it is
markdown; the chart is inline SVG (HTML, PDF) or a PNG with alt text (Word), so no
document requests anything from another host.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from workbook.assessment import Assessment
from workbook.errors import WorkbookError
from workbook.export.dates import day, moment
from workbook.export.word import RED, _keep_together, _nb, _property, _Writer, _xml_safe
from workbook.maturity import DISAGREEMENT, round_data
from workbook.maturity_content import MaturityModel

LANGUAGE = "en-GB"
RADAR_ID = "maturity-radar"
NOT_AGREED = "Not agreed yet"
NO_OWNER = "No owner yet"
OPEN_STATUS = "Open: not yet closed, so levels may still change"


def _levels(n: int) -> str:
    return f"{n} level{'s' if n != 1 else ''}"


def movement_text(change: int | None) -> str:
    """``Up 1 level`` / ``Down 2 levels`` / ``No change`` / ``–`` (nothing to compare)."""
    if change is None:
        return "–"
    if change == 0:
        return "No change"
    return f"{'Up' if change > 0 else 'Down'} {_levels(abs(change))}"


def evidence_item(e: dict[str, Any]) -> dict[str, str]:
    """A piece of evidence as a document shows it: a web link (``url`` kept), or a project
    link as text, ``project demo, question q4``."""
    label = " ".join(str(e.get("label") or "").split())
    if e.get("url"):
        return {"text": label or e["url"], "url": e["url"]}
    where = f"project {e['project']}"
    target = e.get("target") or ""
    if target.startswith("signoff."):
        where += f", {target.split('.', 1)[1].capitalize()} sign-off"
    elif target:
        where += f", question {target}"
    return {"text": f"{label} ({where})" if label else where, "url": ""}


def board_report(
    assessment: Assessment,
    model: MaturityModel,
    *,
    round_number: int | None = None,
    exported_at: datetime | str,
    marking: str = "OFFICIAL",
    today: date | None = None,
) -> dict[str, Any]:
    """Round ``round_number`` (default: the latest) of ``assessment`` as the board
    document's data: JSON-ready, the same for every format."""
    from workbook.radar import Series, describe, radar_svg
    from workbook.settings import MARKINGS

    if marking not in MARKINGS:
        raise WorkbookError(f"must be one of {', '.join(MARKINGS)}", field="marking")
    if round_number is not None and str(round_number) not in assessment.rounds:
        raise WorkbookError(
            f"there is no round {round_number}; rounds are "
            f"{', '.join(map(str, assessment.round_numbers))}",
            field="round",
        )
    data = round_data(assessment, model, round_number, today=today)
    n = data["round"]
    name = data["authority"]["name"]
    components = data["components"]
    closed = data["closed"]
    if isinstance(exported_at, datetime):
        exported_at = (
            exported_at if exported_at.tzinfo else exported_at.replace(tzinfo=timezone.utc)
        ).isoformat()

    for c in components:
        c["movement_text"] = movement_text(c["movement"]) if n > 1 else "First round"
        c["gap_text"] = _levels(c["gap"]) if c["gap"] else "None"
        if c["level"] is None:
            c["gap_text"] = c["movement_text"] = "–"
        c["evidence_items"] = [evidence_item(e) for e in c["evidence"]]
        for r in c["ratings"]:
            r["level_label"] = model.level_label(r["level"])
        apart = f"Ratings differ by {_levels(c['differ_by'])} ({DISAGREEMENT} or more)"
        c["flag_text"] = (
            ""
            if not c["flagged"]
            else f"{apart}: discuss them before the level is agreed."
            if c["level"] is None
            else f"{apart}: was this discussed before the level was agreed?"
        )
        c["target_statement"] = (
            model.component(c["id"]).statement(c["target"]).text
            if c["target"] is not None and c["target"] != c["level"]
            else None
        )

    series = [
        Series(f"Round {n}: agreed level", "current", tuple(c["level"] for c in components)),
        Series("Target", "target", tuple(c["target"] for c in components)),
    ]
    if n > 1 and any(c["previous"] is not None for c in components):
        series.append(
            Series(
                f"Round {n - 1}: agreed level",
                "previous",
                tuple(c["previous"] for c in components),
            )
        )
    # a series with no value yet (nothing agreed) is left off the chart and its legend
    series = [s for s in series if any(v is not None for v in s.values)]
    axes = [c["name"] for c in components]
    radar_title = f"{name}: digital ethics maturity by component, round {n}"
    description = (
        f"Radar chart of the agreed level of each of {len(axes)} components on a scale of 0 "
        f"({model.level(0).name}) to {model.max_level} ({model.level(model.max_level).name}). "
        + describe(axes, series)
    )
    svg = radar_svg(
        axes,
        series,
        max_level=model.max_level,
        title=radar_title,
        description=description,
        id_prefix=RADAR_ID,
    )

    shown_rounds = [r for r in data["rounds"] if r <= n]
    compared = []
    for c, moved in zip(components, data["movement"], strict=True):
        levels = moved["levels"][: len(shown_rounds)]
        known = [(r, lv) for r, lv in zip(shown_rounds, levels, strict=True) if lv is not None]
        if len(known) >= 2 and levels[-1] is not None:
            first_round, first = known[0]
            change = f"{movement_text(levels[-1] - first)} since round {first_round}"
        else:
            change = "–"
        compared.append(
            {
                "name": c["name"],
                "levels": [model.level_label(lv) if lv is not None else "–" for lv in levels],
                "change": change,
            }
        )

    for a in data["actions"]:
        a["owner_text"] = a["owner"] or NO_OWNER
        a["levels_text"] = (
            f"{model.level_label(a['from_level'])} to {model.level_label(a['to_level'])}"
        )
        a["status_text"] = (
            "Open (target reached)"
            if a["status"] == "open" and not a["gap_open"]
            else a["status"].capitalize()
        )

    for c in components:
        c["agreed_text"] = _agreed_line(c) if c["level"] is not None else ""
    status = f"Closed on {day(closed['at'])} by {closed['by']}" if closed else OPEN_STATUS
    agreed = sum(c["level"] is not None for c in components)
    gaps = [c for c in components if c["gap"]]
    return {
        **data,
        "title": f"{name}: digital ethics maturity, round {n}",
        "exported_at": exported_at,
        "marking": marking,
        "language": LANGUAGE,
        "status": status,
        "agreed_count": agreed,
        "publication": model.name,
        "attribution": model.attribution,
        "radar": {
            "title": radar_title,
            "description": description,
            "svg": svg,
            "axes": axes,
            "max_level": model.max_level,
            "series": [
                {"label": s.label, "kind": s.kind, "values": list(s.values)} for s in series
            ],
        },
        "previous_round": n - 1 if n > 1 else None,
        "where_caption": (
            f"Round {n}: the agreed level, target and gap of each component"
            + (f", and its movement since round {n - 1}" if n > 1 else "")
        ),
        "agreed_summary": (
            f"{agreed} of {len(components)} components have an agreed level so far; the "
            "others are not on the chart or in the gaps yet."
            if agreed < len(components)
            else ""
        ),
        "gaps_summary": (
            f"{len(gaps)} of {len(components)} component{'s are' if len(gaps) != 1 else ' is'} "
            "below target:"
            if gaps
            else "No component is below its target."
        ),
        "plan_summary": _plan_sentence(data["actions"]),
        "gaps": [
            {
                "name": c["name"],
                "level_label": c["level_label"],
                "target_label": c["target_label"],
                "gap": c["gap"],
                "gap_text": c["gap_text"],
                "target_date": c["target_date"],
            }
            for c in gaps
        ],
        "compared": {"rounds": shown_rounds, "rows": compared},
    }


# --------------------------------------------------------------------------- rendering


def board_html(report: dict[str, Any]) -> str:
    """The board document as one HTML page: styles inline, the chart inline, no scripts."""
    from markupsafe import Markup

    from workbook.export.render import TEMPLATES, render_html

    return render_html(
        "maturity.html.j2",
        report=report,
        # our own markup: matplotlib's SVG (its title and description escaped), our CSS
        radar=Markup(report["radar"]["svg"]),
        maturity_css=Markup((TEMPLATES / "maturity.css").read_text(encoding="utf-8")),
    )


def board_markdown(report: dict[str, Any]) -> str:
    from workbook.export.render import render_md

    return render_md("maturity.md.j2", report=report)


def board_csv(report: dict[str, Any]) -> str:
    """The round's action plan as CSV (:func:`workbook.maturity.plan_csv`)."""
    from workbook.maturity import PlanRow, plan_csv
    from workbook.maturity_content import load_maturity_model

    rows = [
        PlanRow(
            component=a["component"],
            name=a["name"],
            from_level=a["from_level"],
            to_level=a["to_level"],
            text=a["text"],
            owner=a["owner"],
            due=date.fromisoformat(a["due"]) if a["due"] else None,
            status=a["status"],
            gap_open=a["gap_open"],
            overdue=a["overdue"],
        )
        for a in report["actions"]
    ]
    return plan_csv(rows, load_maturity_model(report["model"]["id"]))


def board_stem(report: dict[str, Any]) -> str:
    return f"{report['authority']['id']}-maturity-round-{report['round']}"


def write_board(
    report: dict[str, Any],
    out_dir: Path | str,
    formats: str | Iterable[str],
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write the board document in ``formats`` (html, pdf, docx, md, csv) to ``out_dir``
    as ``<authority>-maturity-round-N.<ext>`` (the CSV: ``...-actions.csv``). Each file is
    written beside its place and moved in when complete; existing files are replaced only
    with ``overwrite``. Returns the files written, in the order of ``formats``."""
    from workbook.export.batch import output_folder, parse_formats
    from workbook.export.pdf import start_pdf
    from workbook.export.pdf import wait as wait_pdf

    formats = parse_formats(formats)
    out = output_folder(out_dir)
    stem = board_stem(report)
    targets = {
        fmt: out / (f"{stem}-actions.csv" if fmt == "csv" else f"{stem}.{fmt}") for fmt in formats
    }
    existing = [p.name for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise WorkbookError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; pass "
            f"--overwrite to replace {'it' if len(existing) == 1 else 'them'}",
            path=out,
        )
    partial = {fmt: p.with_name(f".{p.name}.partial") for fmt, p in targets.items()}
    html_text = board_html(report) if {"html", "pdf"} & set(formats) else ""
    printing = []
    written: list[Path] = []
    try:
        if "pdf" in targets:  # Chromium prints while the other formats are written
            printing.append(
                start_pdf(
                    html_text,
                    partial["pdf"],
                    marking=report["marking"],
                    title=report["title"],
                    language=report["language"],
                )
            )
        for fmt in formats:
            if fmt == "pdf":
                continue
            path = partial[fmt]
            if fmt == "html":
                path.write_text(html_text, encoding="utf-8")
            elif fmt == "md":
                path.write_text(board_markdown(report), encoding="utf-8")
            elif fmt == "docx":
                write_board_docx(report, path)
            elif fmt == "csv":  # with a byte order mark, so spreadsheets read it as UTF-8
                path.write_text(board_csv(report), encoding="utf-8-sig", newline="")
            os.replace(path, targets[fmt])
            written.append(targets[fmt])
    finally:
        for future in printing:  # never leave Chromium writing a file nobody waits for
            try:
                wait_pdf(future)
            except BaseException:
                partial["pdf"].unlink(missing_ok=True)
                raise
        for fmt, path in partial.items():
            if fmt != "pdf":
                path.unlink(missing_ok=True)
    if printing:
        os.replace(partial["pdf"], targets["pdf"])
        written.append(targets["pdf"])
    return sorted(written, key=list(targets.values()).index)


# --------------------------------------------------------------------------- Word


def write_board_docx(report: dict[str, Any], path: Path | str) -> None:
    """The board document as Word: the project report's styles, A4 pages and marking."""
    _BoardWriter(_xml_safe(report)).write(Path(path))


class _BoardWriter(_Writer):
    def _properties(self) -> None:
        r = self.report
        cp = self.doc.core_properties
        cp.title = _property(r["title"])
        cp.subject = _property(r["publication"])
        cp.author = cp.last_modified_by = _property(r["authority"]["name"])
        exported = datetime.fromisoformat(r["exported_at"])
        if exported.tzinfo is not None:
            exported = exported.astimezone(timezone.utc)
        cp.created = cp.modified = exported
        cp.keywords = _property(f"digital ethics maturity; round {r['round']}; {r['marking']}")
        cp.category = r["marking"]
        cp.language = r["language"]
        cp.revision = max(1, int(r["revision"] or 1))
        self._package_metadata()

    def write(self, path: Path) -> None:
        self._properties()
        self._page()
        self.cover()
        self.where()
        self.next_steps()
        self.details()
        self.compared()
        self.level_key()
        self.para("")
        self.para((self.report["attribution"], {"style": "Subtle Emphasis"}))
        self.doc.save(str(path))

    def cover(self) -> None:
        r = self.report
        self.para(r["authority"]["name"], style="Title")
        self.para(f"Digital ethics maturity self-assessment, round {r['round']}", style="Subtitle")
        self.table(
            None,
            [
                ["Round", f"{r['round']} of {len(r['rounds'])}"],
                ["Status", r["status"]],
                ["Respondents", ", ".join(r["respondents"]) or "None yet"],
                ["Model", r["publication"]],
                ["Exported", moment(r["exported_at"])],
                ["Protective marking", r["marking"]],
            ],
            labels=True,
        )

    def where(self) -> None:
        r = self.report
        self.heading("Where we stand", 1)
        if r["agreed_summary"]:
            self.para(r["agreed_summary"])
        self.picture()
        self.para((r["where_caption"], {"bold": True})).paragraph_format.keep_with_next = True
        prev = r["previous_round"]
        header = ["Component", "Current level", "Target", "Target date", "Gap"]
        if prev:
            header.append(f"Movement since round {prev}")
        rows = []
        for c in r["components"]:
            row = [
                c["name"],
                c["level_label"] or (NOT_AGREED, {"italic": True, "color": RED}),
                c["target_label"] or "–",
                _nb(day(c["target_date"])) or "–",
                c["gap_text"],
            ]
            if prev:
                row.append(c["movement_text"])
            rows.append(row)
        _keep_together(self.table(header, rows, labels=True))
        self.heading("Gaps", 2)
        self.para(r["gaps_summary"])
        if r["gaps"]:
            for g in r["gaps"]:
                due = f", by {day(g['target_date'])}" if g["target_date"] else ""
                self.para(
                    (g["name"], {"bold": True}),
                    f": {g['level_label']} to {g['target_label']} ({g['gap_text']}{due})",
                    style="List Bullet",
                )

    def picture(self) -> None:
        import io

        from docx.shared import Cm

        from workbook.radar import Series, radar_png

        radar = self.report["radar"]
        png = radar_png(
            radar["axes"],
            [Series(s["label"], s["kind"], tuple(s["values"])) for s in radar["series"]],
            max_level=radar["max_level"],
        )
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        para = self.new()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        shape = para.add_run().add_picture(io.BytesIO(png), width=Cm(13))
        doc_pr = shape._inline.docPr
        doc_pr.set("title", radar["title"])
        doc_pr.set("descr", radar["description"])

    def next_steps(self) -> None:
        actions = self.report["actions"]
        self.heading("What we will do next", 1)
        self.para(self.report["plan_summary"])
        if not actions:
            return
        self.table(
            ["Component", "Action", "Owner", "Due", "Status", "Overdue"],
            [
                [
                    a["name"],
                    a["text"],
                    a["owner"] or (NO_OWNER, {"italic": True, "color": RED}),
                    _nb(day(a["due"])) or "No due date",
                    a["status_text"],
                    ("Overdue", {"bold": True, "color": RED}) if a["overdue"] else "No",
                ]
                for a in actions
            ],
            labels=True,
        )

    def details(self) -> None:
        r = self.report
        self.heading("Components in detail", 1)
        for c in r["components"]:
            self.heading(c["name"], 2)
            if c["level"] is None:
                self.missing(f"{NOT_AGREED}.")
            else:
                self.para(("Agreed level: ", {"bold": True}), c["level_label"])
                self.para(c["statement"], style="Quote")
                target = c["target_label"]
                if c["target_date"]:
                    target += f", by {day(c['target_date'])}"
                self.para(("Target: ", {"bold": True}), target)
                if c["target_statement"]:
                    self.para(c["target_statement"], style="Quote")
                if c["target_note"]:
                    self.para(("Target note: ", {"bold": True}), c["target_note"])
                self.heading("Rationale", 3)
                if c["rationale"].strip():
                    self.md.blocks(c["rationale"])
                else:
                    self.hint("No rationale recorded.")
                self.heading("Evidence", 3)
                if not c["evidence_items"]:
                    self.hint("No evidence recorded.")
                for e in c["evidence_items"]:
                    para = self.new("List Bullet")
                    if e["url"]:
                        self.md.inline(
                            para,
                            [
                                {
                                    "type": "link",
                                    "attrs": {"url": e["url"]},
                                    "children": [{"type": "text", "raw": e["text"]}],
                                }
                            ],
                        )
                    else:
                        self.run(para, e["text"])
                self.hint(c["agreed_text"])
            self.heading("Ratings", 3)
            if c["ratings"]:
                for i, rt in enumerate(c["ratings"], start=1):
                    item = self.para(
                        f"{rt['respondent']}: {rt['level_label']}", style="List Bullet"
                    )
                    if i < len(c["ratings"]) or c["flag_text"]:  # the list on one page
                        item.paragraph_format.keep_with_next = True
            else:
                self.hint("No ratings yet.")
            if c["flag_text"]:
                self.para(("⚠ " + c["flag_text"], {"bold": True, "color": RED}))

    def compared(self) -> None:
        comp = self.report["compared"]
        self.heading("Rounds compared", 1)
        intro = self.para("The agreed level of each component in each round.")
        intro.paragraph_format.keep_with_next = True
        _keep_together(
            self.table(
                ["Component", *(f"Round {n}" for n in comp["rounds"]), "Movement"],
                [[row["name"], *row["levels"], row["change"]] for row in comp["rows"]],
                labels=True,
            )
        )

    def level_key(self) -> None:
        self.heading("The levels", 1)
        for lv in self.report["levels"]:
            self.para((f"{lv['value']} {lv['name']}: ", {"bold": True}), lv["summary"])


# --------------------------------------------------------------------------- wording


def _plan_sentence(actions: list[dict[str, Any]]) -> str:
    if not actions:
        return "No actions: no component has a target above its agreed level."
    late = sum(a["overdue"] for a in actions)
    unowned = sum(not a["owner"] for a in actions)
    open_ = sum(a["status"] == "open" for a in actions)
    return (
        f"{len(actions)} action{'s' if len(actions) != 1 else ''} ({open_} open), "
        f"{late} overdue, {unowned} with no owner yet."
    )


def _agreed_line(c: dict[str, Any]) -> str:
    text = f"Agreed by {c['assessed_by']} on {day(c['assessed_at'])}."
    if c["carried_from"]:
        text += f" Carried over unchanged from round {c['carried_from']}."
    return text
