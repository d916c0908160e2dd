"""The draft transparency record (ATRS) as documents: Markdown, Word, CSV and JSON.

Every format renders the one dict :func:`workbook.atrs.build_draft` returns, in the same
order: the cover, the completeness report (what to fix first), the changes since the last
draft when there was one, then each sheet of the template with each field's text, its
status and, as a note under it, where the text came from (provenance). Withheld fields
show the reason, not the text.

- Markdown: the Jinja2 template ``templates/md/atrs.md.j2`` (:mod:`workbook.export.render`'s
  environment: plain user text escaped, user markdown made safe);
- Word: python-docx with :mod:`workbook.export.word`'s styles, A4 pages and the protective
  marking at the top and bottom of every page;
- CSV: one row per field in the template's sheet and field order, to paste into the
  official spreadsheet (cells a spreadsheet would run as a formula are made text);
- JSON: the draft itself, which the next export reads to show what changed.

Files are ``<project>-atrs-<version>.<ext>``, each written beside its place and moved in
when complete, so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError
from workbook.export.batch import output_folder
from workbook.export.dates import day, moment
from workbook.export.word import GREEN, RED, _property, _Writer, _xml_safe

FORMATS = ("md", "docx", "csv", "json")
CSV_COLUMNS = (
    "sheet",
    "reference",
    "field",
    "required",
    "value",
    "status",
    "to rewrite",
    "sources",
)
STATUS_WORDS = {
    "written": "Written for the public",
    "drafted": "Drafted from the workbook",
    "withheld": "Withheld",
    "missing": "Missing (required)",
    "empty": "Empty (optional)",
}
KIND_HEADINGS = {
    "missing": "Required fields still empty",
    "incomplete": "Drafted from answers that are not complete",
    "guidance": "Guidance checks",
}
ABOUT = (
    "A draft made from the Data Ethics Workbook, for the team to check and finish before it "
    "goes through clearance. Fields marked 'rewrite' hold the workbook's wording, written for "
    "the team and the oversight group: rewrite them for a member of the public. References "
    "marked 'to check' are inferred from the previous version of the standard: check them "
    "against the official template before pasting."
)


# --------------------------------------------------------------------------- shared wording


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """``"md,docx"`` -> ``["md", "docx"]``; an unknown or missing format is a one-line error."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = [f.strip().lower() for f in items if f.strip()]
    if not wanted:
        raise WorkbookError(f"name at least one format: {', '.join(FORMATS)}", field="--to")
    for f in wanted:
        if f not in FORMATS:
            raise WorkbookError(
                f"unknown format {f!r}; the transparency record is written as {', '.join(FORMATS)}",
                field="--to",
            )
    return list(dict.fromkeys(wanted))


def stem(draft: dict[str, Any]) -> str:
    return f"{draft['project']['id']}-atrs-{draft['version']}"


def status_words(field: dict[str, Any]) -> str:
    return STATUS_WORDS[field["status"]]


def field_heading(field: dict[str, Any]) -> str:
    return f"{field['ref']} {field['name']}"


def field_flags(field: dict[str, Any]) -> str:
    """``Required · Drafted from the workbook · rewrite for a public reader · reference to
    check``: the field's state in one line."""
    parts = ["Required" if field["required"] else "Optional", status_words(field)]
    if field["rewrite_needed"]:
        parts.append("rewrite for a public reader")
    if not field["ref_checked"]:
        parts.append("reference to check")
    return " · ".join(parts)


def provenance_text(p: dict[str, Any]) -> str:
    """One source of a field in words: what it is, when it last changed and by whom, the
    question's status, and its phase's sign-off."""
    if p["source"].startswith("signoff."):  # the sign-off is the source: say where it stands
        return p["signoff_summary"] or p["label"]
    parts = [p["label"]]
    if p["empty"]:
        parts.append("empty")
    elif p["revision"] is not None:
        when = f", {day(p['changed_at'])}" if p["changed_at"] else ""
        who = f" by {p['changed_by']}" if p["changed_by"] else ""
        parts.append(f"last changed in revision {p['revision']}{who}{when}")
    else:
        parts.append("no change to it found in the history")
    if p["status_label"]:
        parts.append(f"question marked '{p['status_label']}'")
    if p["signoff_summary"]:
        parts.append(p["signoff_summary"])
    return "; ".join(parts)


def provenance_lead(field: dict[str, Any]) -> str:
    if field["origin"] == "public":
        return "Written by the team; workbook sources"
    if field["origin"] == "drafted":
        return "Drafted from"
    return "Workbook sources (all empty)" if field["provenance"] else "No workbook source"


def summary_line(draft: dict[str, Any]) -> str:
    s = draft["summary"]
    n = s["problems"]
    return (
        f"Required fields filled: {s['required_filled']} of {s['required']}. "
        f"Fields to rewrite for the public: {s['to_rewrite']}. "
        f"Withheld: {s['withheld']}. "
        f"{n} problem{'s' if n != 1 else ''} to look at."
    )


def problem_groups(draft: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(kind, heading, problems) for each kind, in the report's order."""
    return [
        (kind, heading, [p for p in draft["problems"] if p["kind"] == kind])
        for kind, heading in KIND_HEADINGS.items()
    ]


def changes_line(draft: dict[str, Any]) -> str:
    ch = draft["changes"]
    n = len(ch["fields"])
    since = f"the draft of revision {ch['since_revision']} ({moment(ch['since_drafted_at'])})"
    if not n:
        return f"No field has changed since {since}."
    return f"{n} field{'s' if n != 1 else ''} changed since {since}."


def csv_value(field: dict[str, Any]) -> str:
    """The cell to paste into the template: plain text (the template's cells do not read
    markdown), or the reason a withheld field is withheld."""
    if field["withheld"]:
        return f"Withheld: {field['reason']}"
    return plain_text(field["value"])


def plain_text(markdown: str) -> str:
    """User markdown as plain text: paragraphs kept (a blank line between them), soft line
    breaks joined, list items as ``- item``, a link as ``text (address)``, emphasis and
    code marks dropped; raw HTML kept as the text it is."""
    import mistune

    from workbook.export.word import _plain

    parse = mistune.create_markdown(renderer=None, plugins=["strikethrough", "table"])

    def inline(tokens: list[dict[str, Any]]) -> str:
        out = []
        for t in tokens:
            if t["type"] == "link":
                text = inline(t.get("children", []))
                url = (t.get("attrs") or {}).get("url", "")
                out.append(text if not url or url == text else f"{text} ({url})")
            elif t["type"] == "image":
                out.append(f"Image: {_plain(t.get('children', []))}")
            elif "children" in t:
                out.append(inline(t["children"]))
            else:
                out.append(_plain([t]))
        return "".join(out)

    def walk(tokens: list[dict[str, Any]], depth: int = 0) -> list[str]:
        out: list[str] = []
        for t in tokens:
            kind = t["type"]
            if kind in ("paragraph", "block_text", "heading"):
                out.append(inline(t.get("children", [])).strip())
            elif kind in ("table_head", "table_row"):
                cells = [inline(c.get("children", [])).strip() for c in t.get("children", [])]
                out.append(" | ".join(cells))
            elif kind == "table":
                out.append("\n".join(walk(t.get("children", []), depth)))
            elif kind == "list":
                attrs = t.get("attrs") or {}
                number = attrs.get("start", 1) if attrs.get("ordered") else None
                items = []
                for item in t.get("children", []):
                    lines = "\n".join(walk(item.get("children", []), depth + 1)).split("\n")
                    mark = f"{number}." if number is not None else "-"
                    items.append("  " * depth + f"{mark} {lines[0].strip()}")
                    items += [line for line in lines[1:] if line.strip()]
                    number = number + 1 if number is not None else None
                out.append("\n".join(items))
            elif kind == "block_code":
                out.append(t.get("raw", "").rstrip("\n"))
            elif kind == "block_html":
                out.append(t.get("raw", "").strip())
            elif "children" in t:
                out += walk(t["children"], depth)
            elif t.get("raw", "").strip():
                out.append(t["raw"].strip())
        return [b for b in out if b]

    return "\n\n".join(walk(parse(markdown or "")))


def csv_sources(field: dict[str, Any]) -> str:
    used = [p for p in field["provenance"] if p["used"]]
    return "; ".join(
        p["label"] + (f" (revision {p['revision']})" if p["revision"] is not None else "")
        for p in used
    )


# --------------------------------------------------------------------------- formats


def draft_markdown(draft: dict[str, Any]) -> str:
    from workbook.export.render import render_md

    return render_md(
        "atrs.md.j2",
        draft=draft,
        about=ABOUT,
        groups=problem_groups(draft),
        summary=summary_line(draft),
        changes=changes_line(draft) if draft["changes"] is not None else "",
        status_names=STATUS_WORDS,
        field_heading=field_heading,
        field_flags=field_flags,
        provenance_text=provenance_text,
        provenance_lead=provenance_lead,
    )


def draft_csv(draft: dict[str, Any]) -> str:
    """One row per field, in the template's sheet and field order."""
    from workbook.review import _cell

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for sheet in draft["sheets"]:
        for f in sheet["fields"]:
            writer.writerow(
                [
                    _cell(text)
                    for text in (
                        sheet["name"],
                        f["ref"],
                        f["name"],
                        "yes" if f["required"] else "no",
                        csv_value(f),
                        status_words(f),
                        "yes" if f["rewrite_needed"] else "no",
                        csv_sources(f),
                    )
                ]
            )
    return buf.getvalue()


def draft_json(draft: dict[str, Any]) -> str:
    return json.dumps(draft, indent=2, ensure_ascii=False) + "\n"


def write_draft(
    draft: dict[str, Any], out_dir: Path | str, formats: str | Iterable[str]
) -> list[Path]:
    """Write ``draft`` as ``<project>-atrs-<version>.<ext>`` for each of ``formats`` (md,
    docx, csv, json) in ``out_dir``, replacing earlier drafts. Returns the files written,
    in the order of ``formats``."""
    formats = parse_formats(formats)
    out = output_folder(out_dir)
    name = stem(draft)
    written = []
    for fmt in formats:
        target = out / f"{name}.{fmt}"
        partial = out / f".{target.name}.partial"
        try:
            if fmt == "md":
                partial.write_text(draft_markdown(draft), encoding="utf-8")
            elif fmt == "csv":  # with a byte order mark, so spreadsheets read it as UTF-8
                partial.write_text(draft_csv(draft), encoding="utf-8-sig", newline="")
            elif fmt == "json":
                partial.write_text(draft_json(draft), encoding="utf-8")
            else:
                write_draft_docx(draft, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(target)
    return written


# --------------------------------------------------------------------------- Word


def write_draft_docx(draft: dict[str, Any], path: Path | str) -> None:
    """The draft as Word: the project report's styles, A4 pages and marking."""
    _DraftWriter(_xml_safe(draft)).write(Path(path))


class _DraftWriter(_Writer):
    def _properties(self) -> None:
        r = self.report
        cp = self.doc.core_properties
        cp.title = _property(r["title"])
        cp.subject = _property(f"{r['standard']} {r['version']}")
        cp.author = cp.last_modified_by = _property(r["project"]["local_authority"])
        made = datetime.fromisoformat(r["drafted_at"].replace("Z", "+00:00"))
        cp.created = cp.modified = made.astimezone(timezone.utc)
        cp.keywords = _property(f"algorithmic transparency; ATRS {r['version']}; {r['marking']}")
        cp.category = r["marking"]
        cp.language = "en-GB"
        cp.revision = max(1, int(r["revision"] or 1))
        self._package_metadata()

    def write(self, path: Path) -> None:
        self._properties()
        self._page()
        self.cover()
        self.completeness()
        self.changes_since()
        for sheet in self.report["sheets"]:
            self.sheet(sheet)
        self.doc.save(str(path))

    def cover(self) -> None:
        r = self.report
        s = r["summary"]
        self.para(r["project"]["tool_name"], style="Title")
        self.para(f"Transparency record (ATRS {r['version']}): draft", style="Subtitle")
        self.table(
            None,
            [
                ["Local authority", r["project"]["local_authority"]],
                ["Standard", f"{r['standard']}, version {r['version']}"],
                ["Workbook revision", str(r["revision"])],
                ["Drafted", moment(r["drafted_at"])],
                ["Required fields filled", f"{s['required_filled']} of {s['required']}"],
                ["Fields to rewrite for the public", str(s["to_rewrite"])],
                ["Withheld", str(s["withheld"])],
                ["Protective marking", r["marking"]],
            ],
            labels=True,
        )
        self.para("")
        self.hint(ABOUT)

    def completeness(self) -> None:
        r = self.report
        self.heading("Completeness report", 1)
        self.para(summary_line(r))
        for _kind, heading, items in problem_groups(r):
            self.heading(f"{heading} ({len(items)})", 2)
            if not items:
                self.para("None.")
                continue
            for p in items:
                item = self.para(
                    (f"{p['ref']} {p['name']}: ", {"bold": True}),
                    p["message"],
                    style="List Bullet",
                )
                self.run(item, f" Improve: {p['improve']}.", style="Emphasis")

    def changes_since(self) -> None:
        r = self.report
        if r["changes"] is None:
            return
        self.heading("Changes since the last draft", 1)
        if not r["changes"]["fields"]:
            self.para(changes_line(r))
            return
        self.para(
            changes_line(r),
            " Removed words are ",
            ("struck through", {"strike": True, "color": RED}),
            "; added words are ",
            ("underlined", {"underline": True, "color": GREEN}),
            ".",
        )
        for f in r["changes"]["fields"]:
            self.heading(f"{f['ref']} {f['name']}", 2)
            if f["old_status"] != f["new_status"]:
                self.hint(
                    f"{STATUS_WORDS.get(f['old_status'], f['old_status'])} → "
                    f"{STATUS_WORDS.get(f['new_status'], f['new_status'])}"
                )
            if f["withheld"]:
                self.para(("Withheld: ", {"bold": True, "color": RED}), f["reason"])
            else:
                self.diff(f["diff"])

    def sheet(self, sheet: dict[str, Any]) -> None:
        self.heading(f"{sheet['name']} (Tier {sheet['tier']})", 1, page_break=True)
        for f in sheet["fields"]:
            self.heading(field_heading(f), 2)
            self.hint(field_flags(f))
            self.para(("Asks for: ", {"bold": True}), (f["prompt"], {"italic": True}))
            if f["options"]:
                self.para(("Options: ", {"bold": True}), ", ".join(f["options"]))
            if f["withheld"]:
                self.para(("Withheld: ", {"bold": True, "color": RED}), f["reason"])
            elif f["value"].strip():
                self.md.blocks(f["value"])
            elif f["required"]:
                self.missing("Empty: required, still to write.")
            else:
                self.hint("Empty (optional).")
            self.provenance(f)

    def provenance(self, f: dict[str, Any]) -> None:
        if not f["provenance"]:
            self.hint(f"{provenance_lead(f)}: write it on the transparency page.")
            return
        self.para((f"{provenance_lead(f)}:", {"style": "Subtle Emphasis"}))
        for p in f["provenance"]:
            self.para((provenance_text(p), {"style": "Subtle Emphasis"}), style="List Bullet")
