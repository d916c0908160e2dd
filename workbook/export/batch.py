"""Batch export: papermill runs the report notebook per project, templates write documents.

For each project, in its own worker process:

1. the answers file is opened (an invalid one fails that project only, with its reason);
2. papermill executes ``notebooks/report.ipynb`` with ``project`` and ``workspace``
   injected, in a fresh kernel (:mod:`workbook.export.kernel`), which builds the report
   data (:mod:`workbook.export.report`);
3. from that one data structure, Jinja2 templates write the HTML and Markdown
   (:mod:`workbook.export.render`), python-docx the Word file (:mod:`workbook.export.word`)
   and the worker's Chromium prints the HTML to PDF (:mod:`workbook.export.pdf`), so every
   format shows the same thing.

Files are named ``<project-id>-r<revision>.<ext>``; an existing file is never overwritten
unless ``overwrite=True``. papermill, python-docx and Playwright are imported only when an
export runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError
from workbook.export.evidence import EVIDENCE_TIMEOUT_S, run_evidence
from workbook.export.kernel import execute_report, report_data
from workbook.export.pdf import PRINTER, start_pdf
from workbook.export.pdf import wait as wait_pdf
from workbook.export.report import attach_analyses
from workbook.store import Store

FORMATS = ("html", "pdf", "docx", "md", "csv")

_evidence_pool = ThreadPoolExecutor(1, thread_name_prefix="evidence")
"""Where a worker runs a project's evidence notebooks beside its report."""


@dataclass
class ProjectExport:
    """What happened to one project."""

    project: str
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    report: dict[str, Any] | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    """Each evidence notebook's run: question, name, status, error, reason."""
    personal_data: int = 0
    """Personal-data warnings nobody has dismissed (exported only with
    ``allow_personal_data``)."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ExportResult:
    projects: list[ProjectExport]
    index: Path | None = None

    @property
    def failed(self) -> list[ProjectExport]:
        return [p for p in self.projects if not p.ok]


def output_folder(path: Path | str) -> Path:
    """``path`` made (with its parents) if missing, as an absolute path; a clear error if it
    cannot be."""
    out = Path(path).absolute()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = (
            "a part of it is a file, not a folder"
            if isinstance(exc, NotADirectoryError | FileExistsError)
            else exc.strerror or str(exc)
        )
        raise WorkbookError(f"cannot create the output folder: {why}", path=out) from None
    return out


def parse_formats(value: str | Iterable[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    formats = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise WorkbookError(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}",
            field="--to",
        )
    return formats


def export_projects(
    projects: Iterable[str] | None = None,
    *,
    workspace: Path | str | None = None,
    formats: str | Iterable[str] = ("html",),
    out: Path | str = "outputs",
    jobs: int | None = None,
    overwrite: bool = False,
    keep_notebook: bool = False,
    pack: bool = False,
    progress: bool = True,
    changes: bool = False,
    evidence: bool = True,
    with_code: bool = False,
    ran_by: str = "",
    evidence_timeout: float | None = None,
    allow_personal_data: bool = False,
) -> ExportResult:
    """Export ``projects`` (every project in the workspace if None) to ``out``.

    ``changes=True`` adds each phase's "changes since last sign-off" to the documents.
    Each project's evidence notebooks are run again (unless ``evidence=False``), as
    ``ran_by``, and their outputs shown under their questions (with their code if
    ``with_code``); a notebook that fails is shown as failed and the export goes on.
    The ``csv`` format is the action plan, written as ``<project>-r<revision>-actions.csv``,
    and the risk register, ``<project>-r<revision>-risks.csv``.
    A project with personal-data warnings nobody has dismissed
    (:func:`workbook.personal_data_review.open_findings`, with the workspace's case-reference
    patterns) is not exported, its error naming each field, unless ``allow_personal_data``.
    """
    store = Store(workspace)
    formats = parse_formats(formats)
    ids = list(projects) if projects is not None else [e.id for e in store.list()]
    if not ids:
        raise WorkbookError(f"no projects to export in {store.root}")
    from workbook.personal_data_review import case_patterns_for

    case_patterns = case_patterns_for(store.root)  # a bad settings.yaml: stop before any work
    out = output_folder(out)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(ids)))
    run = {
        "evidence": evidence,
        "with_code": with_code,
        "ran_by": ran_by,
        "timeout": evidence_timeout,
        "allow_personal_data": allow_personal_data,
        "case_patterns": case_patterns,
    }
    tasks = [
        (pid, str(store.root), formats, str(out), overwrite, keep_notebook, changes, run)
        for pid in ids
    ]

    from tqdm import tqdm

    results: dict[str, ProjectExport] = {}
    bar = tqdm(total=len(ids), desc="Exporting", unit="project", disable=not progress)
    try:
        if jobs == 1:
            for task in tasks:
                result = _export_one(*task)
                results[result.project] = result
                bar.update()
        else:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(_export_one, *task): task[0] for task in tasks}
                for future in as_completed(futures):
                    pid = futures[future]
                    try:
                        results[pid] = future.result()
                    except Exception as exc:  # a crashed worker: report it, keep going
                        results[pid] = ProjectExport(pid, error=f"export failed: {exc}")
                    bar.update()
    finally:
        bar.close()
    ordered = [results[pid] for pid in ids]
    index = write_pack(ordered, out, overwrite=True) if pack else None
    return ExportResult(ordered, index)


# --------------------------------------------------------------------------- one project


def _export_one(
    project_id: str,
    workspace: str,
    formats: tuple[str, ...],
    out: str,
    overwrite: bool,
    keep_notebook: bool,
    changes: bool = False,
    run: dict[str, Any] | None = None,
) -> ProjectExport:
    """Runs in a worker process. Never raises for a project's own problems."""
    result = ProjectExport(project_id)
    run = run or {}
    try:
        store = Store(workspace)
        wb = store.open(project_id)
        stem = Path(out) / f"{project_id}-r{wb.revision}"
        targets = {fmt: stem.with_suffix(f".{fmt}") for fmt in formats}
        if "csv" in targets:
            targets["csv"] = stem.with_name(f"{stem.name}-actions.csv")
            targets["risks"] = stem.with_name(f"{stem.name}-risks.csv")
        if keep_notebook:
            targets["ipynb"] = stem.with_suffix(".ipynb")
        existing = [p.name for p in targets.values() if p.exists()]
        if existing and not overwrite:
            raise WorkbookError(
                f"{', '.join(existing)} already exist; pass --overwrite to replace them"
            )
        if "pdf" in targets:
            PRINTER.warm()  # Chromium starts (once per worker) while the report runs
        _check_personal_data(wb, workspace, run, result)
        # The evidence notebooks run (each in a kernel of its own) while the report does.
        analyses = None
        if run.get("evidence", True) and wb.evidence_hashes:
            analyses = _evidence_pool.submit(
                run_evidence,
                store,
                project_id,
                ran_by=run.get("ran_by") or "",
                with_code=bool(run.get("with_code")),
                timeout=run.get("timeout") or EVIDENCE_TIMEOUT_S,
            )
        try:
            nb = execute_report(project_id, workspace, changes=changes)
            report = report_data(nb)
        finally:
            runs = analyses.result() if analyses is not None else {}
        attach_analyses(report, runs)
        result.evidence = [
            {k: r.get(k) for k in ("question", "name", "status", "error", "reason")}
            for found in runs.values()
            for r in found
        ]
        result.report = report
        html_text = to_html(report) if {"html", "pdf"} & set(formats) else ""
        writers = {
            "html": lambda p: p.write_text(html_text, encoding="utf-8"),
            "md": lambda p: p.write_text(to_markdown(report), encoding="utf-8"),
            "pdf": lambda p: printing.append(
                start_pdf(
                    html_text,
                    p,
                    marking=report["marking"],
                    title=f"{report['project']['tool_name']}: Data Ethics Workbook",
                    language=report.get("language") or "en-GB",
                )
            ),
            "docx": lambda p: to_docx(report, p),
            "ipynb": lambda p: _write_notebook(nb, p),
            # With a byte order mark, so spreadsheet programs read it as UTF-8.
            "csv": lambda p: p.write_text(actions_csv(report), encoding="utf-8-sig", newline=""),
            "risks": lambda p: p.write_text(risks_csv(report), encoding="utf-8-sig", newline=""),
        }
        # The PDF first: Chromium prints it while this process writes the other formats.
        partial = {fmt: path.with_name(f".{path.name}.partial") for fmt, path in targets.items()}
        printing: list[Any] = []
        try:
            for fmt in sorted(targets, key=lambda fmt: fmt != "pdf"):
                writers[fmt](partial[fmt])
                if fmt != "pdf":
                    os.replace(partial[fmt], targets[fmt])
                    result.files.append(targets[fmt])
        finally:
            for future in printing:  # never leave Chromium writing a file nobody waits for
                try:
                    wait_pdf(future)
                except BaseException:
                    partial["pdf"].unlink(missing_ok=True)
                    raise
        if printing:
            os.replace(partial["pdf"], targets["pdf"])
            result.files.append(targets["pdf"])
        result.files.sort(key=list(targets.values()).index)
    except WorkbookError as exc:
        result.error = str(exc)
    except Exception as exc:  # papermill/nbconvert/Chromium failures: a reason, not a traceback
        result.error = _reason(exc)
    return result


def _check_personal_data(
    wb: Any, workspace: str, run: dict[str, Any], result: ProjectExport
) -> None:
    """Count the project's open personal-data warnings; refuse (one line per field, never
    the text) unless they are allowed. The detector is built once per worker, by its
    first scan."""
    from workbook.personal_data_review import (
        PersonalDataFound,
        case_patterns_for,
        open_findings,
    )

    patterns = run.get("case_patterns")
    found = open_findings(wb, case_patterns_for(workspace) if patterns is None else patterns)
    result.personal_data = len(found)
    if found and not run.get("allow_personal_data"):
        raise PersonalDataFound(
            wb.project.id,
            found,
            refused="not exported",
            way_out=", or pass --allow-personal-data",
            workbook=wb,
        )


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"the report could not be built: {getattr(exc, 'evalue', exc)}"
    return f"export failed ({name}): {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def to_html(report: dict[str, Any]) -> str:
    from workbook.export.render import report_document

    return report_document(report)


def to_markdown(report: dict[str, Any]) -> str:
    from workbook.export.render import report_markdown

    return report_markdown(report)


def _write_notebook(nb: Any, path: Path) -> None:
    import nbformat

    nbformat.write(nb, str(path))


def actions_csv(report: dict[str, Any]) -> str:
    """The action plan CSV, from the report data in the executed notebook."""
    from datetime import date

    from workbook.review import ActionRow, action_plan_csv

    rows = [
        ActionRow(**{**a, "due": date.fromisoformat(a["due"]) if a["due"] else None})
        for a in report["actions"]
    ]
    return action_plan_csv(rows)


def risks_csv(report: dict[str, Any]) -> str:
    """The risk register CSV (:func:`workbook.risks.risks_csv`), from the report data."""
    from datetime import date

    from workbook.risks import RiskRow
    from workbook.risks import risks_csv as register_csv

    rows = [
        RiskRow(
            id=r["id"],
            title=r["title"],
            category=r["category"],
            category_name=r["category_name"],
            before=r["before"]["score"],
            before_band=r["before"]["band"],
            after=r["after"]["score"],
            after_band=r["after"]["band"],
            owner=r["owner"],
            status=r["status"],
            review_by=date.fromisoformat(r["review_by"]) if r["review_by"] else None,
            review_overdue=r["review_overdue"],
            actions=tuple(m["ref"] for m in r["mitigations"] if m["ref"]),
        )
        for r in report["risks"]["items"]
    ]
    return register_csv(rows)


def to_docx(report: dict[str, Any], path: Path) -> None:
    from workbook.export.word import write_docx

    write_docx(report, path)


# --------------------------------------------------------------------------- pack


_FORMAT_NAMES = {
    "html": "Web page",
    "pdf": "PDF",
    "docx": "Word",
    "md": "Markdown",
    "csv": "Action plan (CSV)",
    "risks.csv": "Risk register (CSV)",
    "ipynb": "Notebook",
}


def _format_name(path: Path) -> str:
    kind = "risks.csv" if path.name.endswith("-risks.csv") else path.suffix[1:]
    return _FORMAT_NAMES.get(kind, kind)


def write_pack(results: list[ProjectExport], out: Path, *, overwrite: bool = True) -> Path:
    """``out/index.html``: every exported project, its progress and links to its documents.
    It carries the highest protective marking of the projects in it."""
    from workbook.export.render import render_html
    from workbook.settings import DEFAULT_MARKING, MARKINGS

    rows = []
    markings = {DEFAULT_MARKING}
    for r in results:
        if not r.ok or r.report is None:
            rows.append({"project": r.project, "error": r.error or "unknown reason"})
            continue
        markings.add(r.report.get("marking", DEFAULT_MARKING))
        counts: dict[str, int] = {}
        for ph in r.report["phases"]:
            for q in ph["questions"]:
                counts[q["status_label"]] = counts.get(q["status_label"], 0) + 1
        rows.append(
            {
                "project": r.project,
                "error": None,
                "report": r.report,
                "statuses": list(counts.items()),
                "files": [(f.name, _format_name(f)) for f in r.files],
            }
        )
    page = render_html(
        "pack.html.j2",
        rows=rows,
        exported=len([r for r in results if r.ok]),
        marking=max(markings, key=lambda m: MARKINGS.index(m) if m in MARKINGS else 0),
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
