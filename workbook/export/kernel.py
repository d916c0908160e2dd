"""The kernel helper: the report notebook executed by papermill in a fresh kernel.

The kernel builds the report data (``notebooks/report.ipynb`` calls
:func:`workbook.export.report.display_report`); every document is rendered from that data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError

REPO = Path(__file__).resolve().parents[2]
REPORT_NOTEBOOK = REPO / "notebooks" / "report.ipynb"
KERNEL_TIMEOUT_S = 300


def execute_report(project_id: str, workspace: str, *, changes: bool = False):
    """Run the report notebook for one project in a fresh kernel; return the notebook."""
    import tempfile

    import papermill
    from traitlets.config import Config

    from workbook.kernels import ForkingKernelManager

    # Unix sockets, not loopback TCP ports that other local users could reach. Each kernel
    # gets its own folder for them: parallel workers would otherwise share socket names.
    # ForkingKernelManager starts each kernel as a new process forked from a preloaded
    # zygote (workbook/kernels.py), or the usual way if that is not possible.
    with tempfile.TemporaryDirectory(prefix="workbook-kernel-") as sockets:
        nb = papermill.execute_notebook(
            str(REPORT_NOTEBOOK),
            None,
            parameters={
                "project": project_id,
                "workspace": workspace,
                "changes": changes,
                "preview": False,  # the documents are rendered from the data, here
            },
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            # The kernel starts in the notebooks folder. (Not papermill's cwd: that changes
            # this whole process's working folder, and evidence notebooks run beside.)
            resources={"metadata": {"path": str(REPORT_NOTEBOOK.parent)}},
            execution_timeout=KERNEL_TIMEOUT_S,
            kernel_manager_class=ForkingKernelManager,
            config=Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}}),
        )
    _scrub_paths(nb, workspace)
    return nb


def _scrub_paths(nb: Any, workspace: str) -> None:
    """Keep the machine's paths out of the executed notebook (and so out of any export)."""
    meta = nb.metadata.get("papermill", {})
    meta.pop("input_path", None)
    meta.pop("output_path", None)
    if "parameters" in meta:
        meta["parameters"]["workspace"] = "<workspace>"
    for cell in nb.cells:
        if cell.cell_type == "code" and workspace in cell.source:
            cell.source = cell.source.replace(repr(workspace), "None").replace(workspace, "")


def report_data(nb: Any) -> dict[str, Any]:
    from workbook.export.report import REPORT_MIME

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise WorkbookError(f"the report could not be built: {output.get('evalue', '')}")
            data = output.get("data", {})
            if REPORT_MIME in data:
                return data[REPORT_MIME]
    raise WorkbookError("the report notebook produced no report")
