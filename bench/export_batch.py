"""Batch export speed: ``export_projects`` to HTML against a naive sequential loop.

    .venv/bin/python bench/export_batch.py                 # 100 projects, about 3 minutes
    .venv/bin/python bench/export_batch.py --projects 20   # quicker

It fills a temporary workspace with N realistic projects (varied names, progress, answers in
markdown, prompt notes, evidence, further work and checklists), then times, in the same run:

1. **Baseline**: one project after another in this process. ``papermill.execute_notebook``
   runs ``notebooks/report.ipynb`` with default settings (a new ``python -m
   ipykernel_launcher`` kernel each time), then nbconvert's ``HTMLExporter`` (with
   ``exclude_input=True``) writes the HTML. The exporter is built once, before the loop, and
   one project is run before timing starts, so imports and template compilation are not
   counted against the baseline.
2. **Optimised**: ``export_projects(formats="html", jobs=os.cpu_count())``, timed from a
   cold call: starting the worker processes and their kernel zygotes is counted.

It prints both times, the ratio and ``TARGET MET`` (at least 3 times faster) or ``TARGET
MISSED``. It also prints the CPU time each approach used (this process and every process it
waited for: workers, zygotes and kernels), which depends much less on what else the machine
is doing.

Then it measures what each format costs per project (html, pdf, docx, md), on a few projects
(``--format-projects``), in this process with ``jobs=1`` and after a warm-up:

- **run**: executing the report notebook in a fresh kernel (``execute_report``), which
  every format needs and which an export with several formats does only once;
- **convert**: turning an executed notebook into that format and writing the file. The PDF
  includes rendering its HTML, as the export does when PDF is asked for without HTML;
- **export**: ``export_projects(formats=<that format>, jobs=1)`` end to end, which is about
  run + convert.

The exit code is 0 whether or not the target is met.
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

TARGET = 3.0

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


def naive_baseline(ids: list[str], workspace: Path, out: Path) -> None:
    """papermill then HTMLExporter, one project after another, in this process.

    The kernels' stderr goes to ``out/kernels.log``: with papermill's defaults (TCP) every
    kernel warns that its traffic is not encrypted.
    """
    import papermill
    from nbconvert import HTMLExporter

    from workbook.export.kernel import REPORT_NOTEBOOK

    exporter = HTMLExporter(exclude_input=True)
    out.mkdir(parents=True, exist_ok=True)
    with _stderr_to(out / "kernels.log"):
        _naive_loop(ids, workspace, out, papermill, exporter, REPORT_NOTEBOOK)


def _naive_loop(
    ids: list[str], workspace: Path, out: Path, papermill: Any, exporter: Any, notebook: Path
) -> None:
    for pid in ids:
        nb = papermill.execute_notebook(
            str(notebook),
            None,
            parameters={"project": pid, "workspace": str(workspace)},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(notebook.parent),
        )
        body, _ = exporter.from_notebook_node(nb)
        (out / f"{pid}.html").write_text(body, encoding="utf-8")


def optimised(ids: list[str], workspace: Path, out: Path, jobs: int) -> None:
    from workbook.export import export_projects

    result = export_projects(
        ids, workspace=workspace, formats="html", out=out, jobs=jobs, progress=False
    )
    if result.failed:
        raise SystemExit(f"export failed: {[(p.project, p.error) for p in result.failed]}")


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    fn(*args)
    return time.perf_counter() - wall, _cpu() - cpu


def format_costs(ids: list[str], workspace: Path, out: Path) -> dict[str, dict[str, float]]:
    """Seconds per project for each format: run, convert and the whole export (jobs=1)."""
    from workbook import export

    # Warm up: imports, templates, the zygote, Chromium's first start.
    export.export_projects(
        ids[:1], workspace=workspace, formats=export.FORMATS, out=out / "warm", jobs=1,
        progress=False,
    )  # fmt: skip
    runs, notebooks = [], []
    for pid in ids:
        start = time.perf_counter()
        nb = export.execute_report(pid, str(workspace))
        export.report_data(nb)
        runs.append(time.perf_counter() - start)
        notebooks.append(nb)
    convert = {
        "html": lambda nb, p: p.write_text(
            export.to_html(nb, export.report_data(nb)), encoding="utf-8"
        ),
        "pdf": lambda nb, p: export.html_to_pdf(export.to_html(nb, export.report_data(nb)), p),
        "docx": lambda nb, p: export.to_docx(export.report_data(nb), p),
        "md": lambda nb, p: p.write_text(export.to_markdown(nb), encoding="utf-8"),
    }
    costs: dict[str, dict[str, float]] = {}
    for fmt, write in convert.items():
        folder = out / f"convert-{fmt}"
        folder.mkdir(parents=True)
        times = []
        for pid, nb in zip(ids, notebooks, strict=True):
            start = time.perf_counter()
            write(nb, folder / f"{pid}.{fmt}")
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = export.export_projects(
            ids, workspace=workspace, formats=fmt, out=out / f"export-{fmt}", jobs=1,
            progress=False,
        )  # fmt: skip
        whole = (time.perf_counter() - start) / len(ids)
        if result.failed:
            raise SystemExit(f"{fmt} export failed: {[p.error for p in result.failed]}")
        costs[fmt] = {
            "run": statistics.median(runs),
            "convert": statistics.median(times),
            "export": whole,
        }
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=100, help="projects in the batch")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="export workers")
    parser.add_argument(
        "--format-projects", type=int, default=4, help="projects for the per-format costs"
    )
    parser.add_argument("--no-formats", action="store_true", help="skip the per-format costs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        store = Store(root / "workspace")
        start = time.perf_counter()
        ids = make_projects(store, args.projects)
        print(f"{len(ids)} projects created in {time.perf_counter() - start:.1f} s")
        print(f"{os.cpu_count()} cores; load average before: {_load()}")

        naive_baseline(ids[:1], store.root, root / "warm-baseline")  # warm-up, not timed
        base_wall, base_cpu = _timed(naive_baseline, ids, store.root, root / "baseline")
        print(
            f"baseline  (papermill + HTMLExporter, sequential): {base_wall:7.1f} s  "
            f"{base_wall / len(ids):.2f} s/project  CPU {base_cpu / len(ids):.2f} s/project"
        )
        opt_wall, opt_cpu = _timed(optimised, ids, store.root, root / "optimised", args.jobs)
        print(
            f"export_projects (html, jobs={args.jobs}):{'':17}{opt_wall:7.1f} s  "
            f"{opt_wall / len(ids):.2f} s/project  CPU {opt_cpu / len(ids):.2f} s/project"
        )
        written = len(list((root / "optimised").glob("*.html")))
        assert written == len(ids), f"{written} HTML files for {len(ids)} projects"
        ratio = base_wall / opt_wall
        print(f"ratio: {ratio:.2f}x faster (target: at least {TARGET:.0f}x)")
        print(f"CPU ratio: {base_cpu / opt_cpu:.2f}x less CPU time")
        print(f"load average after: {_load()}")
        print("TARGET MET" if ratio >= TARGET else "TARGET MISSED")

        if args.no_formats:
            return
        sample = ids[: max(1, min(args.format_projects, len(ids)))]
        costs = format_costs(sample, store.root, root / "formats")
        print()
        print(f"Per-project cost of each format (median of {len(sample)} projects, jobs=1):")
        print(f"{'format':8}{'run':>8}{'convert':>10}{'export':>9}")
        for fmt, c in costs.items():
            print(f"{fmt:8}{c['run']:7.2f}s{c['convert']:9.2f}s{c['export']:8.2f}s")
        print(
            "run: the report notebook in a fresh kernel, shared by every format of a project;\n"
            "convert: that format alone from the executed notebook (pdf includes its HTML);\n"
            "export: export_projects with only that format, per project (mean)."
        )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
