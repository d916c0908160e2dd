"""Export with evidence notebooks: the export's own runs against papermill one by one.

    .venv/bin/python bench/evidence_export.py                 # 30 projects, a few minutes
    .venv/bin/python bench/evidence_export.py --projects 6    # quicker

It fills a temporary workspace with N copies of the demo project, each with the two starter
evidence notebooks attached (``error-rates-by-group.ipynb`` to question 7 and
``data-quality.ipynb`` to question 5, with their invented data), then measures, in the same
run:

- **Baseline**: each evidence notebook run with papermill's defaults, one after another in
  this process (a new ``python -m ipykernel_launcher`` kernel each, in the notebook's
  folder), then ``export_projects(formats="html", evidence=False)``: the documents without
  the evidence runs, so the baseline does the same work as the export, done by hand.
- **Optimised**: ``export_projects(formats="html")``, which runs each project's evidence
  notebooks itself (two at a time, beside the report, in kernels forked from a zygote
  that has the analysis libraries imported), timed from a cold call: worker processes,
  their zygotes and every kernel are counted.

One notebook runs with papermill before the clock starts, so neither side pays for the
first import of the libraries from disk. Both sides use ``jobs`` = the number of cores for
the documents. It prints both times, the ratio and ``TARGET MET`` or ``TARGET MISSED``
(target: at least 3 times faster), and checks that every document holds its evidence.
The exit code is 0 whether or not the target is met.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbook.demo import STARTER_NOTEBOOKS, create_demo  # noqa: E402
from workbook.store import Store  # noqa: E402

TARGET = 3.0
ATTACH = {"q7": "error-rates-by-group.ipynb", "q5": "data-quality.ipynb"}


def make_workspace(root: Path, n: int) -> list[str]:
    store = Store(root)
    data = {"referrals.csv": (STARTER_NOTEBOOKS / "data" / "referrals.csv").read_bytes()}
    ids = []
    for i in range(1, n + 1):
        pid = f"project-{i:02d}"
        create_demo(store, project_id=pid, user="bench")
        for qid, name in ATTACH.items():
            raw = (STARTER_NOTEBOOKS / name).read_bytes()
            store.add_evidence(pid, qid, name, raw, data, user="bench")
        ids.append(pid)
    return ids


def run_papermill(store: Store, pid: str, out: Path) -> None:
    import papermill

    for qid, name in ATTACH.items():
        folder = store.evidence_folder(pid, qid)
        papermill.execute_notebook(
            str(folder / name),
            str(out / f"{pid}-{qid}-{name}"),
            parameters={"project": pid},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(folder),
        )


def baseline(ids: list[str], root: Path, out: Path, jobs: int) -> None:
    from workbook.export import export_projects

    store = Store(root)
    runs = out / "runs"
    runs.mkdir(parents=True)
    for pid in ids:
        run_papermill(store, pid, runs)
    result = export_projects(
        ids, workspace=root, formats="html", out=out, jobs=jobs, progress=False, evidence=False
    )
    assert not result.failed, [(p.project, p.error) for p in result.failed]


def optimised(ids: list[str], root: Path, out: Path, jobs: int) -> None:
    from workbook.export import export_projects

    result = export_projects(
        ids, workspace=root, formats="html", out=out, jobs=jobs, progress=False, ran_by="bench"
    )
    assert not result.failed, [(p.project, p.error) for p in result.failed]
    bad = [(p.project, r) for p in result.projects for r in p.evidence if r["status"] != "passed"]
    assert not bad, bad
    for p in result.projects:
        html = p.files[0].read_text(encoding="utf-8")
        assert html.count("data:image/png;base64,") >= 2, f"{p.project}: figures missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        root = Path(tmp) / "ws"
        ids = make_workspace(root, args.projects)
        warm = Path(tmp) / "warm"
        warm.mkdir()
        run_papermill(Store(root), ids[0], warm)  # libraries read from disk once: not timed
        n = len(ids)
        t = time.perf_counter()
        baseline(ids, root, Path(tmp) / "base", args.jobs)
        base = time.perf_counter() - t
        t = time.perf_counter()
        optimised(ids, root, Path(tmp) / "opt", args.jobs)
        opt = time.perf_counter() - t
    ratio = base / opt
    print(f"\nExport with evidence notebooks: {n} projects x {len(ATTACH)} notebooks, "
          f"{args.jobs} jobs, {os.cpu_count()} cores")  # fmt: skip
    for label, took in (
        ("baseline (papermill one by one, then export)", base),
        ("export_projects with the runs", opt),
    ):
        print(f"  {label + ':':47} {took:7.1f} s  {took / n:.2f} s/project")
    print(f"  ratio: {ratio:.2f}x faster (target: at least {TARGET:.0f}x)")
    print(f"  {'TARGET MET' if ratio >= TARGET else 'TARGET MISSED'}")


if __name__ == "__main__":
    main()
