"""Batch export speed: every format for many projects, against a naive loop; and the PDF.

    .venv/bin/python bench/export_batch.py                  # 30 projects, about 3 minutes
    .venv/bin/python bench/export_batch.py --projects 10    # quicker (start-up weighs more)
    .venv/bin/python bench/export_batch.py --html-only      # also the HTML-only comparison

It fills a temporary workspace with N realistic projects (varied names, progress, answers in
markdown, prompt notes, evidence, further work and checklists), then measures:

1. **All formats** (HTML, Markdown, Word, PDF), in the same run:

   - **Baseline**: one project after another in this process. ``papermill`` runs
     ``notebooks/report.ipynb`` with its defaults (a new ``python -m ipykernel_launcher``
     kernel each time); nbconvert's ``HTMLExporter`` and ``MarkdownExporter`` (with
     ``exclude_input=True``) write the HTML and Markdown; nbconvert's ``WebPDFExporter``
     (``nbconvert --to webpdf``) writes the PDF, starting a Chromium for each project; the
     Word file comes from the report data with python-docx, as in the export (nbconvert has
     no Word exporter). ``WebPDFExporter`` launches Playwright's own Chromium, which is not
     installed here; the benchmark points that launch at the system Chromium
     (``WORKBOOK_CHROMIUM`` or ``/usr/bin/chromium``) and says so. The exporters are built
     once, and one project runs before the clock starts.
   - **Optimised**: ``export_projects(formats="html,md,docx,pdf", jobs=os.cpu_count())``,
     timed from a cold call: starting the worker processes, their kernel zygotes and their
     Chromiums is counted.

   Target: at least 5 times faster.

2. **The PDF step alone, warm**: ``html_to_pdf`` for each project's HTML (rendered from the
   report data, no kernel), in this process, once its Chromium is up. Between two PDFs the
   benchmark waits 0.5 s, as an export worker spends at least that on the next project's
   kernel and other formats; meanwhile the printer opens the page the next PDF will use.
   For comparison, the same PDFs with a Chromium started for each (what the export did
   before). Target: a median under 0.3 s.

3. With ``--html-only``, the earlier comparison: HTML alone, papermill + ``HTMLExporter``
   against ``export_projects(formats="html")``. Target: at least 3 times faster.

Each comparison prints both times, the ratio and ``TARGET MET`` or ``TARGET MISSED``, and the
CPU time each approach used (this process and every process it waited for: workers,
zygotes, kernels, browsers), which depends much less on what else the machine is doing.
The exit code is 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from workbook.bank import load_bank
from workbook.demo import demo_data
from workbook.model import Workbook
from workbook.store import Store

TARGET_ALL = 5.0
"""All formats: export_projects against the naive loop."""
TARGET_HTML = 3.0
"""HTML only (``--html-only``)."""
TARGET_PDF_S = 0.3
"""The PDF step alone, warm: median seconds per project."""
PDF_PAUSE_S = 0.5

TOOLS = [
    "Early Help Family Support Indicator",
    "Missing Episodes Risk Flag",
    "Placement Stability Forecast",
    "Child Exploitation Network Map",
    "Care Leaver Housing Needs Model",
    "Front Door Referral Triage Assistant",
    "School Attendance Concern Dashboard",
    "Family Hub Demand Forecast",
    "Foster Carer Matching Tool",
    "Re-referral Likelihood Score",
]
AUTHORITIES = [
    "Hartmoor County Council",
    "Eastbridge City Council",
    "Lowfield Borough Council",
    "Northwold District Council",
    "Ravensmere Metropolitan Borough Council",
    "Westcombe Unitary Authority",
    "Kingsholme County Council",
]
PEOPLE = [
    "Priya Nair",
    "Tom Achebe",
    "Siobhan Kelly",
    "Marek Nowak",
    "Aisha Rahman",
    "Gareth Lloyd",
    "Hannah Okafor",
]
SENTENCES = [
    "We discussed this with the early help hub and the front door managers in two workshops.",
    "The data protection officer reviewed the **lawful basis** and agreed it with legal services.",
    "Parents on the participation panel asked how a family could see and correct their data.",
    "Practitioners said the list must never replace a conversation with the family.",
    "We compared error rates across ethnicity, disability and deprivation deciles.",
    "Model outputs are reviewed weekly by a senior practitioner before anyone is contacted.",
    "The supplier has agreed to share feature importances and the validation report.",
    "See the [DPIA summary](https://example.org/dpia) and the minutes of the panel.",
    "Access is limited to the early help hub, with audit logs reviewed monthly.",
    "We will stop the pilot if the review finds any group is disadvantaged by the tool.",
    "Training data covers April 2019 to March 2024, excluding the pandemic months.",
    "Staff can record why they disagreed with a flag, and those reasons are reviewed.",
]
CHECKLIST_STATUSES = ["done", "done", "partly", "not_yet", "not_applicable"]
BULLETS = [
    "- fewer repeat referrals within 12 months",
    "- quicker first contact for families who ask for help",
    "- no increase in statutory interventions",
    "- practitioners report the list is useful in supervision",
]


def _paragraphs(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        out.append(" ".join(rng.sample(SENTENCES, rng.randint(2, 4))))
        if rng.random() < 0.3:
            out.append("\n".join(rng.sample(BULLETS, rng.randint(2, 4))))
    return "\n\n".join(out)


def _fill(data: dict[str, Any], rng: random.Random, demo: dict[str, Any]) -> None:
    """Fill ``data`` (a new project's answers) to a random, realistic degree."""
    bank = load_bank()
    progress = rng.random()
    answered = round(len(bank.questions) * progress)
    for i, q in enumerate(bank.questions):
        answer = data["answers"][q.id]
        if i >= answered:
            if rng.random() < 0.2:  # a started-but-not-answered question
                answer["status"] = "in_progress"
                for pid in q.prompt_ids[:1]:
                    answer["prompts"][pid] = _paragraphs(rng, 1)
            continue
        seed = demo["answers"].get(q.id, {})
        response = seed.get("response") if rng.random() < 0.5 else None
        answer["response"] = response or _paragraphs(rng, rng.randint(1, 4))
        answer["status"] = rng.choices(
            ["complete", "in_progress", "further_work_needed"], weights=[6, 2, 2]
        )[0]
        for pid in q.prompt_ids:
            if rng.random() < 0.7:
                answer["prompts"][pid] = _paragraphs(rng, 1)
        for key in ("end_users", "experts_by_experience", "affected_stakeholders"):
            answer["informed_by"][key] = rng.random() < 0.5
        if rng.random() < 0.4:
            answer["informed_by"]["note"] = rng.choice(SENTENCES)
        answer["evidence"] = [
            {"reference": f"https://intranet.example.org/docs/{q.id}-{n}", "description": s}
            for n, s in enumerate(rng.sample(SENTENCES, rng.randint(0, 3)))
        ]
        answer["further_work"] = [
            {
                "action": rng.choice(SENTENCES)[:150],
                "owner": rng.choice(PEOPLE),
                "due": (date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))).isoformat(),
                "status": rng.choice(["open", "open", "done"]),
            }
            for _ in range(rng.randint(0, 3))
        ]
    for phase in bank.phases:
        for item in phase.checklist:
            if rng.random() < progress + 0.2:
                entry = data["phases"][phase.id]["checklist"][item.id]
                entry["status"] = rng.choice(CHECKLIST_STATUSES)
                entry["note"] = rng.choice(SENTENCES) if rng.random() < 0.6 else ""
        if rng.random() < 0.3:
            data["phases"][phase.id]["note"] = rng.choice(SENTENCES)


def make_projects(store: Store, count: int, seed: int = 2024) -> list[str]:
    rng = random.Random(seed)
    demo = demo_data()
    ids = []
    for n in range(count):
        tool = f"{rng.choice(TOOLS)} {n + 1}"
        base = store.create(
            tool,
            rng.choice(AUTHORITIES),
            project_id=f"project-{n + 1:03d}",
            owner=rng.choice(PEOPLE),
            oversight_group="Children's Services Data Ethics Panel",
            description=_paragraphs(rng, 1),
            user="bench",
        )
        data = base.to_data()
        _fill(data, rng, demo)
        store.save(Workbook.model_validate(data), base=base, user=rng.choice(PEOPLE))
        ids.append(base.project.id)
    return ids


# --------------------------------------------------------------------------- timing


def _cpu() -> float:
    """CPU seconds used by this process and every descendant it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 (and so the kernels' own stderr) to ``path`` for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def _system_chromium() -> Iterator[str]:
    """Point Playwright's Chromium launches at the system Chromium while inside.

    nbconvert's ``WebPDFExporter`` launches Playwright's own Chromium (``playwright install
    chromium``), which is not installed here; this gives its launch ``executable_path``."""
    from playwright.async_api import BrowserType

    from workbook.export.pdf import CHROMIUM_ARGS, chromium_path

    original = BrowserType.launch
    path = str(chromium_path())

    async def launch(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("executable_path", path)
        kwargs["args"] = [*kwargs.get("args", []), *CHROMIUM_ARGS]
        return await original(self, *args, **kwargs)

    BrowserType.launch = launch  # type: ignore[method-assign]
    try:
        yield path
    finally:
        BrowserType.launch = original  # type: ignore[method-assign]


def naive_baseline(ids: list[str], workspace: Path, out: Path, formats: tuple[str, ...]) -> None:
    """papermill then nbconvert's exporters, one project after another, in this process.

    The kernels' stderr goes to ``out/kernels.log``: with papermill's defaults (TCP) every
    kernel warns that its traffic is not encrypted.
    """
    import papermill
    from nbconvert import HTMLExporter, MarkdownExporter, WebPDFExporter

    from workbook.export.kernel import REPORT_NOTEBOOK, report_data
    from workbook.export.word import write_docx

    exporters = {
        "html": HTMLExporter(exclude_input=True),
        "md": MarkdownExporter(exclude_input=True),
        "pdf": WebPDFExporter(exclude_input=True, disable_sandbox=True),
    }
    out.mkdir(parents=True, exist_ok=True)
    with _stderr_to(out / "kernels.log"), _system_chromium():
        for pid in ids:
            nb = papermill.execute_notebook(
                str(REPORT_NOTEBOOK),
                None,
                parameters={"project": pid, "workspace": str(workspace)},
                kernel_name="python3",
                progress_bar=False,
                cwd=str(REPORT_NOTEBOOK.parent),
            )
            for fmt in formats:
                path = out / f"{pid}.{fmt}"
                if fmt == "docx":
                    write_docx(report_data(nb), path)
                    continue
                body, _ = exporters[fmt].from_notebook_node(nb)
                if isinstance(body, bytes):
                    path.write_bytes(body)
                else:
                    path.write_text(body, encoding="utf-8")


def optimised(
    ids: list[str], workspace: Path, out: Path, jobs: int, formats: tuple[str, ...]
) -> None:
    from workbook.export import export_projects

    result = export_projects(
        ids, workspace=workspace, formats=formats, out=out, jobs=jobs, progress=False
    )
    if result.failed:
        raise SystemExit(f"export failed: {[(p.project, p.error) for p in result.failed]}")


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    fn(*args)
    return time.perf_counter() - wall, _cpu() - cpu


def compare(
    label: str,
    ids: list[str],
    workspace: Path,
    root: Path,
    jobs: int,
    formats: tuple[str, ...],
    target: float,
) -> None:
    """Baseline against export_projects for ``formats``; prints the ratio and the verdict."""
    name = "-".join(formats)
    naive_baseline(ids[:1], workspace, root / f"warm-{name}", formats)  # not timed
    base_wall, base_cpu = _timed(naive_baseline, ids, workspace, root / f"base-{name}", formats)
    opt_wall, opt_cpu = _timed(optimised, ids, workspace, root / f"opt-{name}", jobs, formats)
    for fmt in formats:
        for folder in (f"base-{name}", f"opt-{name}"):
            written = len(list((root / folder).glob(f"*.{fmt}")))
            assert written == len(ids), f"{folder}: {written} {fmt} files for {len(ids)} projects"
    n = len(ids)
    ratio = base_wall / opt_wall
    print(f"\n{label} ({', '.join(formats)}), {n} projects")
    print(
        f"  baseline, sequential:      {base_wall:7.1f} s  {base_wall / n:.2f} s/project  "
        f"CPU {base_cpu / n:.2f} s/project"
    )
    print(
        f"  export_projects, jobs={jobs}:  {opt_wall:7.1f} s  {opt_wall / n:.2f} s/project  "
        f"CPU {opt_cpu / n:.2f} s/project"
    )
    print(f"  ratio: {ratio:.2f}x faster (target: at least {target:.0f}x); CPU ratio: "
          f"{base_cpu / opt_cpu:.2f}x less CPU time")  # fmt: skip
    print(f"  {'TARGET MET' if ratio >= target else 'TARGET MISSED'}")


def pdf_step(ids: list[str], store: Store, out: Path) -> tuple[list[float], list[float]]:
    """Seconds per PDF: the printer once its Chromium is up, and a Chromium per PDF."""
    from playwright.sync_api import sync_playwright

    from workbook.export import pdf
    from workbook.export.render import report_document
    from workbook.export.report import build_report

    out.mkdir(parents=True, exist_ok=True)
    docs = []
    for pid in ids:
        report = build_report(store.open(pid))
        title = f"{report['project']['tool_name']}: Data Ethics Workbook"
        docs.append((pid, report_document(report), report["marking"], title))

    def printed(pid: str, html_text: str, marking: str, title: str, folder: str) -> float:
        start = time.perf_counter()
        pdf.html_to_pdf(html_text, out / folder / f"{pid}.pdf", marking=marking, title=title)
        return time.perf_counter() - start

    (out / "warm").mkdir()
    (out / "printer").mkdir()
    printed(*docs[0], "warm")  # starts the printer's Chromium
    warm = []
    for doc in docs:
        time.sleep(PDF_PAUSE_S)
        warm.append(printed(*doc, "printer"))

    cold = []
    (out / "cold").mkdir()
    for pid, html_text, _, _ in docs:
        start = time.perf_counter()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(pdf.chromium_path()), args=pdf.CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.set_content(html_text, wait_until="load")
            page.pdf(path=str(out / "cold" / f"{pid}.pdf"), format="A4", tagged=True, outline=True)
            browser.close()
        cold.append(time.perf_counter() - start)
    return warm, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=30, help="projects in the batch")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="export workers")
    parser.add_argument(
        "--pdf-projects", type=int, default=12, help="projects for the PDF step alone"
    )
    parser.add_argument("--html-only", action="store_true", help="also compare HTML alone")
    args = parser.parse_args()

    from workbook.export.pdf import chromium_path

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        store = Store(root / "workspace")
        start = time.perf_counter()
        ids = make_projects(store, args.projects)
        print(f"{len(ids)} projects created in {time.perf_counter() - start:.1f} s")
        print(f"{os.cpu_count()} cores; load average before: {_load()}")
        print(
            f"baseline PDF: nbconvert's WebPDFExporter with the system Chromium at "
            f"{chromium_path()} (Playwright's own Chromium is not installed)"
        )

        compare(
            "All formats", ids, store.root, root, args.jobs, ("html", "md", "docx", "pdf"),
            TARGET_ALL,
        )  # fmt: skip
        if args.html_only:
            compare("HTML only", ids, store.root, root, args.jobs, ("html",), TARGET_HTML)

        sample = ids[: max(1, min(args.pdf_projects, len(ids)))]
        warm, cold = pdf_step(sample, store, root / "pdf-step")
        med, cold_med = statistics.median(warm), statistics.median(cold)
        print(f"\nThe PDF step alone, {len(sample)} projects (HTML rendered beforehand)")
        print(
            f"  the worker's printer, warm: median {med:.3f} s, fastest {min(warm):.3f} s, "
            f"slowest {max(warm):.3f} s"
        )
        print(
            f"  a Chromium started per PDF: median {cold_med:.3f} s ({cold_med / med:.1f}x as long)"
        )
        print(f"  target: median under {TARGET_PDF_S} s")
        print(f"  {'TARGET MET' if med < TARGET_PDF_S else 'TARGET MISSED'}")
        print(f"\nload average after: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
