"""Evidence notebooks re-run at export, each in a fresh kernel (see :mod:`workbook.evidence`).

Only the command line (``workbook export``, ``workbook evidence run``) and JupyterLab call
this, as the person exporting: the Voilà pages have no way to reach it, so nothing a
browser sends can run an evidence notebook.

Each notebook runs with papermill in a new kernel process (forked from a zygote that has
the analysis libraries imported, see :mod:`workbook.kernels`), with its own folder as the
working directory and a time limit per cell. The exact bytes whose hash is recorded are
the bytes that run: the notebook is read once and run from a private copy. A notebook that
fails, or is refused, is recorded as such with its error's name; it never stops the rest.
Each run is kept by the store as the notebook's last run (provenance and outputs), which
the app shows read-only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError
from workbook.evidence import (
    EvidenceError,
    check_notebook,
    error_name,
    outputs_of,
    run_parameters,
    sha256,
)
from workbook.store import EvidenceFile, Store

EVIDENCE_TIMEOUT_S = 120
"""How long one cell of an evidence notebook may run."""


def run_evidence(
    store: Store,
    project_id: str,
    *,
    ran_by: str,
    with_code: bool = False,
    timeout: float = EVIDENCE_TIMEOUT_S,
    parallel: int = 2,
) -> dict[str, list[dict[str, Any]]]:
    """Run every evidence notebook of a project; ``{question id: [run record, ...]}``.

    Up to ``parallel`` notebooks run at once (each in its own kernel process). Each run is
    saved as the notebook's last run before this returns.
    """
    files = [f for found in store.evidence(project_id).values() for f in found]
    refused = [
        _record(
            p["question"],
            p["name"],
            ran_by,
            with_code,
            status="refused",
            error="UnsafeEvidence",
            reason=f"{project_id}/evidence/{p['question']}/{p['name']}: {p['reason']}",
        )
        for p in store.evidence_problems(project_id)
        if p["question"] and p["name"] and p["question"][1:].isdigit()
    ]
    if not files:
        return _by_question(refused)
    workers = max(1, min(parallel, len(files)))
    # Always in threads of their own: each gets an event loop of its own for papermill,
    # closed when its notebook is done, and the caller's thread is left as it was.
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="evidence") as pool:
        records = list(
            pool.map(
                lambda f: run_one(
                    store, project_id, f, ran_by=ran_by, with_code=with_code, timeout=timeout
                ),
                files,
            )
        )
    return _by_question(records + refused)


def _record(
    question: str, name: str, ran_by: str, with_code: bool, **values: Any
) -> dict[str, Any]:
    """A run record (see :func:`run_one`): failed with nothing to show unless ``values``
    say otherwise."""
    return {
        "question": question,
        "name": name,
        "title": name,
        "sha256": "",
        "ran_at": datetime.now(timezone.utc).isoformat(),
        "ran_by": ran_by,
        "kernel": "",
        "status": "failed",
        "error": None,
        "reason": "",
        "duration_s": 0.0,
        "with_code": with_code,
        "items": [],
        **values,
    }


def _by_question(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        out.setdefault(record["question"], []).append(record)
    return out


def run_one(
    store: Store,
    project_id: str,
    file: EvidenceFile,
    *,
    ran_by: str,
    with_code: bool = False,
    timeout: float = EVIDENCE_TIMEOUT_S,
) -> dict[str, Any]:
    """Run one evidence notebook; its run record (also saved as its last run)."""
    record = _record(
        file.question_id, file.name, ran_by, with_code, sha256=file.sha256, kernel="python3"
    )
    clock = time.monotonic()
    source = f"{project_id}/evidence/{file.question_id}/{file.name}"
    try:
        raw = store.read_evidence(project_id, file.question_id, file.name)
        record["sha256"] = sha256(raw)
        checked = check_notebook(raw, source, folder=file.folder)
        record["title"] = checked.title
        params = run_parameters(checked.parameters, project_id, str(store.root))
        nb, error = _execute(raw, params, file.folder, timeout)
        if nb is not None:
            info = nb.metadata.get("language_info", {}) or {}
            if info.get("version"):
                record["kernel"] = f"python3 (Python {info['version']})"
            record["items"] = outputs_of(nb, with_code=with_code)
        record["status"] = "passed" if error is None else "failed"
        record["error"] = error
    except EvidenceError as exc:
        record.update(status="refused", error=type(exc).__name__, reason=str(exc))
    except WorkbookError as exc:
        record.update(status="failed", error=type(exc).__name__, reason=str(exc))
    record["duration_s"] = round(time.monotonic() - clock, 2)
    try:
        store.save_evidence_run(project_id, file.question_id, file.name, record)
    except WorkbookError:
        pass  # the export still shows this run; the app keeps showing the previous one
    return record


def _execute(
    raw: bytes, params: dict[str, Any], folder: Path, timeout: float
) -> tuple[Any, str | None]:
    """Run the notebook bytes in a fresh kernel in ``folder``: (executed notebook or None,
    the error's name or None)."""
    import nbformat
    import papermill
    from traitlets.config import Config

    from workbook.kernels import EvidenceKernelManager

    with tempfile.TemporaryDirectory(prefix="workbook-evidence-") as private:
        given = Path(private) / "evidence.ipynb"
        given.write_bytes(raw)
        executed = Path(private) / "executed.ipynb"
        error: str | None = None
        try:
            _in_thread_safe_loop(
                lambda: papermill.execute_notebook(
                    str(given),
                    str(executed),
                    parameters=params,
                    kernel_name="python3",
                    progress_bar=False,
                    log_output=False,
                    # Not papermill's cwd, which changes this whole process's working
                    # folder while the notebook runs (other threads run other notebooks):
                    # the kernel alone is started in the folder.
                    resources={"metadata": {"path": str(folder)}},
                    execution_timeout=timeout,
                    start_timeout=120,
                    kernel_manager_class=EvidenceKernelManager,
                    config=Config(
                        {"KernelManager": {"transport": "ipc", "ip": f"{private}/kernel"}}
                    ),
                )
            )
        except Exception as exc:  # a failed notebook: its error's name, never its message
            error = error_name(getattr(exc, "ename", None) or _error_name(exc))
        try:
            nb = nbformat.read(str(executed), as_version=4)
        except (OSError, ValueError):
            nb = None
    return nb, error


def _error_name(exc: Exception) -> str:
    name = type(exc).__name__
    return {"CellTimeoutError": "TimeoutError", "DeadKernelError": "KernelDied"}.get(name, name)


def _in_thread_safe_loop(call: Any) -> Any:
    """papermill (through jupyter_core) makes an event loop for the calling thread and
    leaves it open: in a thread other than the main one, close it once the call is done."""
    import threading

    if threading.current_thread() is threading.main_thread():
        return call()
    try:
        return call()
    finally:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
        if loop is not None and not loop.is_running():
            loop.close()
        asyncio.set_event_loop(None)
