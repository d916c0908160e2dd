"""Evidence notebooks: analysis kept beside an answer, and re-run when the workbook is exported.

Questions 7 (bias), 8 (privacy), 10 (testing) and 12 (evaluation) ask for evidence that is
analysis. A practitioner attaches a notebook to a question (``workbook evidence add``); the
store keeps it at ``<project>/evidence/<question>/<name>.ipynb`` with its data files in
``data/`` beside it. ``workbook export`` runs each one again in a fresh kernel
(:mod:`workbook.export.evidence`) and shows its outputs under the question.

This module is the pure part: what a usable evidence notebook is (:func:`check_notebook`),
which parameters a run gives it (:func:`run_parameters`), and what of an executed notebook
reaches a document (:func:`outputs_of`): tables, figures and text, as plain data that each
format renders and escapes itself. No HTML from a notebook is ever passed through: tables
are read into rows of text, figures are PNG or JPEG images embedded in the document, and
markdown goes through the same sanitiser as answers, so nothing in an output can run a
script or make a document fetch anything from another host.

A notebook declares what it takes in one cell tagged ``parameters`` (as papermill
expects). That cell may hold only assignments of plain values (text, numbers, True/False,
None, lists of those): a parameter whose value is code is refused, and so is a path
parameter (a name ending ``_path``, ``_file`` or ``_dir``) that leads out of the
notebook's folder.
"""

from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from workbook.errors import WorkbookError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
ERROR_CELL_TAG = "papermill-error-cell-tag"
"""Markdown cells papermill adds to a notebook that failed (they are not the author's)."""
GIVEN = ("project", "workspace")
"""Parameters the export fills in when the notebook declares them."""
PATH_SUFFIXES = ("_path", "_file", "_dir", "_paths", "_files")
MAX_ITEMS = 80
MAX_TEXT_CHARS = 20_000
MAX_TABLE_ROWS = 200
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
STATUS_WORDS = {"passed": "Re-run at export: passed", "failed": "Re-run at export: failed"}


class EvidenceError(WorkbookError):
    """An evidence notebook that cannot be used; the message names the file and what is wrong."""


def notebook_name(source: str | Path) -> str:
    """The file name an evidence notebook is kept under: the source's, in lower case, with
    spaces as hyphens (``Bias Tests.ipynb`` -> ``bias-tests.ipynb``)."""
    stem = Path(source).name
    if not stem.endswith(".ipynb"):
        raise EvidenceError(f"{source}: an evidence notebook is a .ipynb file", field="notebook")
    base = re.sub(r"[^a-z0-9_-]+", "-", stem[: -len(".ipynb")].lower()).strip("-_")
    if not base:
        raise EvidenceError(f"{source}: give the notebook a name with letters or digits")
    return f"{base[:80]}.ipynb"


def read_notebook(raw: bytes, source: str | Path) -> Any:
    """Parse and validate notebook bytes (nbformat 4); a clear error naming ``source``."""
    import nbformat

    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise EvidenceError(
            f"{source}: not a notebook (not UTF-8 text)", field="notebook"
        ) from None
    except Exception as exc:  # nbformat raises several kinds for a file that is not JSON
        raise EvidenceError(
            f"{source}: not a readable notebook ({type(exc).__name__})", field="notebook"
        ) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "the notebook"
        raise EvidenceError(
            f"{source}: not a valid notebook ({where}: {exc.message[:120]})", field="notebook"
        ) from None
    return nb


@dataclass(frozen=True)
class Checked:
    """A usable evidence notebook: the notebook, its declared parameters and their values."""

    notebook: Any
    parameters: dict[str, Any]
    title: str
    kernel: str


def check_notebook(raw: bytes, source: str | Path, folder: Path | None = None) -> Checked:
    """Check an evidence notebook before it is kept or run.

    It must be a valid notebook with a Python kernel and exactly one cell tagged
    ``parameters`` holding only assignments of plain values; with ``folder`` (where it
    runs), every path parameter must name a place inside that folder, reached without a
    symbolic link out of it. Raises :class:`EvidenceError` naming the file and parameter.
    """
    nb = read_notebook(raw, source)
    spec = nb.metadata.get("kernelspec", {}) or {}
    language = spec.get("language") or nb.metadata.get("language_info", {}).get("name") or ""
    if language and language.lower() != "python":
        raise EvidenceError(
            f"{source}: its kernel is {language!r}; evidence notebooks run in Python",
            field="kernelspec",
        )
    tagged = [c for c in nb.cells if PARAMETERS_TAG in (c.metadata.get("tags") or [])]
    if len(tagged) != 1:
        raise EvidenceError(
            f"{source}: needs exactly one cell tagged 'parameters' (found {len(tagged)}); "
            'it declares what the notebook takes, e.g. project = "demo", '
            'data_path = "data/referrals.csv"',
            field="parameters",
        )
    if any(INJECTED_TAG in (c.metadata.get("tags") or []) for c in nb.cells):
        raise EvidenceError(
            f"{source}: has a cell tagged 'injected-parameters' (an executed copy?); attach "
            "the notebook itself",
            field="parameters",
        )
    parameters = parameters_of(tagged[0].source, source)
    if folder is not None:
        check_paths(parameters, folder, source)
    return Checked(nb, parameters, notebook_title(nb, Path(str(source)).name), "python3")


def parameters_of(code: str, source: str | Path) -> dict[str, Any]:
    """The names and values a parameters cell assigns; only plain values are allowed."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise EvidenceError(
            f"{source}: the parameters cell is not valid Python (line {exc.lineno})",
            field="parameters",
        ) from None
    out: dict[str, Any] = {}
    for node in tree.body:
        target = (
            node.targets[0]
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            else (node.target if isinstance(node, ast.AnnAssign) else None)
        )
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(target, ast.Name) or value is None:
            raise EvidenceError(
                f"{source}: the parameters cell may only assign plain values to names "
                f"(line {node.lineno} does something else)",
                field="parameters",
            )
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise EvidenceError(
                f"{source}: parameter {target.id!r} is code, not a plain value (text, a "
                "number, True/False, None or a list of those); it was refused",
                field=f"parameters.{target.id}",
            ) from None
        if not _plain(literal):
            raise EvidenceError(
                f"{source}: parameter {target.id!r} is not a plain value (text, a number, "
                "True/False, None or a list of those)",
                field=f"parameters.{target.id}",
            )
        out[target.id] = literal
    return out


def _plain(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, str) or len(value) <= 4096
    if isinstance(value, (list, tuple)) and depth == 0 and len(value) <= 100:
        return all(_plain(v, 1) for v in value)
    return False


def check_paths(parameters: dict[str, Any], folder: Path, source: str | Path) -> None:
    """Every path parameter names somewhere inside ``folder`` (links resolved)."""
    root = folder.resolve()
    for name, value in parameters.items():
        if not name.endswith(PATH_SUFFIXES) or value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(item, str):
                raise EvidenceError(
                    f"{source}: path parameter {name!r} is not text", field=f"parameters.{name}"
                )
            rel = PurePosixPath(item)
            if rel.is_absolute() or ".." in rel.parts or "\\" in item:
                raise EvidenceError(
                    f"{source}: path parameter {name!r} leads outside the project's evidence "
                    "folder; give a path relative to the notebook, inside its folder "
                    "(e.g. data/referrals.csv)",
                    field=f"parameters.{name}",
                )
            if not (folder / rel).resolve().is_relative_to(root):
                raise EvidenceError(
                    f"{source}: path parameter {name!r} goes through a symbolic link out of "
                    "the project's evidence folder; it was refused",
                    field=f"parameters.{name}",
                )


def run_parameters(declared: dict[str, Any], project_id: str, workspace: str) -> dict[str, Any]:
    """What the export passes to papermill: the project and workspace, where declared."""
    given = {"project": project_id, "workspace": workspace}
    return {k: v for k, v in given.items() if k in declared}


def notebook_title(nb: Any, fallback: str) -> str:
    """The first heading of the first markdown cell, or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()[:200] or fallback
        break
    return fallback


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------- outputs


def outputs_of(nb: Any, *, with_code: bool = False) -> list[dict[str, Any]]:
    """What of an executed notebook a document shows, in order, as plain data.

    Items: ``{"kind": "markdown", "text"}`` (each markdown cell but the title), ``{"kind":
    "code", "text"}`` (only ``with_code``; never the injected parameters, which hold the
    machine's paths), ``{"kind": "table", "caption", "header": [[...]], "rows": [[...]],
    "more": n}``, ``{"kind": "image", "mime", "data" (base64), "alt"}``, ``{"kind":
    "text", "text"}`` and ``{"kind": "error", "name"}`` (a failed cell: its error's name,
    never its message or traceback).
    """
    items: list[dict[str, Any]] = []
    heading = ""
    titled = False
    figures = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags") or []
        if ERROR_CELL_TAG in tags:
            continue  # papermill's own "An Exception was encountered" banners (raw HTML)
        if cell.cell_type == "markdown":
            text = cell.source
            if not titled:
                titled = True
                lines = text.splitlines()
                if lines and lines[0].startswith("# "):
                    text = "\n".join(lines[1:]).strip()
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
            if text.strip():
                items.append({"kind": "markdown", "text": text[:MAX_TEXT_CHARS]})
            continue
        if cell.cell_type != "code" or INJECTED_TAG in tags:
            continue
        if with_code and cell.source.strip():
            items.append({"kind": "code", "text": cell.source[:MAX_TEXT_CHARS]})
        if "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            for item in _output(output):
                if item["kind"] == "image":
                    figures += 1
                    if not item["alt"]:
                        item["alt"] = f"Figure {figures}" + (f": {heading}" if heading else "")
                items.append(item)
    if len(items) > MAX_ITEMS:
        items = items[:MAX_ITEMS] + [
            {"kind": "text", "text": f"({len(items) - MAX_ITEMS} more outputs not shown)"}
        ]
    return items


def _output(output: Any) -> list[dict[str, Any]]:
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return []  # warnings and logs: they can name the machine's paths
        text = _text(output.get("text", ""))
        return [{"kind": "text", "text": text[:MAX_TEXT_CHARS]}] if text.strip() else []
    if kind == "error":
        return [{"kind": "error", "name": error_name(output.get("ename"))}]
    if kind not in ("display_data", "execute_result"):
        return []
    data = output.get("data", {})
    metadata = output.get("metadata", {}) or {}
    for mime in IMAGE_TYPES:
        if mime in data:
            image = _image(mime, data[mime], metadata.get(mime) or metadata)
            if image is not None:
                return [image]
    if "text/html" in data:
        tables = tables_of(_text(data["text/html"]))
        if tables:
            return tables
    if "text/markdown" in data:
        return [{"kind": "markdown", "text": _text(data["text/markdown"])[:MAX_TEXT_CHARS]}]
    if "text/plain" in data:
        text = _text(data["text/plain"])
        return [{"kind": "text", "text": text[:MAX_TEXT_CHARS]}] if text.strip() else []
    return []


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def error_name(name: Any) -> str:
    name = str(name or "Error")
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,80}", name) else "Error"


_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _image(mime: str, value: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
    """An embedded image, checked to be what it says (a PNG or a JPEG, not too big)."""
    encoded = "".join(_text(value).split())
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > MAX_IMAGE_BYTES or not raw.startswith(_MAGIC[mime]):
        return None
    alt = metadata.get("alt") if isinstance(metadata, dict) else None
    return {
        "kind": "image",
        "mime": mime,
        "data": base64.b64encode(raw).decode("ascii"),
        "alt": str(alt)[:300] if isinstance(alt, str) else "",
    }


def tables_of(html_text: str) -> list[dict[str, Any]]:
    """The tables in an HTML output (a pandas DataFrame's), as rows of plain text.

    A cell spanning rows or columns (pandas' grouped index, grouped column headings) is
    repeated in each row and column it covers, so every row reads whole in every format.
    ``index`` is how many leading columns are row headings (``th`` in every body row); a
    header row that only names those columns (pandas' index names) is folded into the
    header row above it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    out = []
    for table in soup.find_all("table")[:5]:
        head_rows = _rows(table.thead) if table.thead else []
        body_groups = table.find_all("tbody", recursive=False)
        if body_groups:
            body = [tr for group in body_groups for tr in _rows(group)]
        else:
            body = _rows(table)  # rows outside any thead
        if (
            not head_rows
            and body
            and all(c.name == "th" for c in body[0].find_all(["th", "td"], recursive=False))
        ):
            head_rows, body = [body[0]], body[1:]
        header = _grid(head_rows)
        grid = _grid(body)
        width = max((len(r) for r in header + grid), default=0)
        if not width:
            continue
        index = min(
            (next((i for i, (_, th) in enumerate(r) if not th), len(r)) for r in grid),
            default=0,
        )
        index = index if index < width else 0
        header = [[t for t, _ in r] + [""] * (width - len(r)) for r in header]
        rows = [[t for t, _ in r] + [""] * (width - len(r)) for r in grid]
        if (
            index
            and len(header) >= 2
            and any(header[-1][:index])
            and not any(header[-1][index:])
            and not any(header[-2][:index])
        ):
            header[-2][:index] = header[-1][:index]
            header.pop()
        caption = table.caption.get_text(" ", strip=True) if table.caption else ""
        out.append(
            {
                "kind": "table",
                "caption": caption[:300],
                "header": header,
                "rows": rows[:MAX_TABLE_ROWS],
                "more": max(0, len(rows) - MAX_TABLE_ROWS),
                "index": index,
            }
        )
    return out


MAX_SPAN = 100


def _rows(group: Any) -> list[Any]:
    """A table's (or a row group's) own rows, not those of a table nested in a cell."""
    found = group.find_all("tr", recursive=False)
    for section in group.find_all(["thead", "tbody", "tfoot"], recursive=False):
        if group.name == "table" and section.name != "thead":
            found += section.find_all("tr", recursive=False)
    return found


def _span(value: Any) -> int:
    try:
        return max(1, min(MAX_SPAN, int(str(value or 1).strip())))
    except ValueError:
        return 1


def _grid(trs: list[Any]) -> list[list[tuple[str, bool]]]:
    """Rows of ``(text, is a heading cell)``, row and column spans filled in."""
    grid: list[list[tuple[str, bool]]] = []
    below: dict[int, tuple[int, tuple[str, bool]]] = {}  # column -> (rows left, cell)

    def fill(row: list[tuple[str, bool]]) -> None:
        while len(row) in below:
            left, value = below.pop(len(row))
            if left > 1:
                below[len(row)] = (left - 1, value)
            row.append(value)

    for tr in trs:
        row: list[tuple[str, bool]] = []
        for cell in tr.find_all(["th", "td"], recursive=False):
            fill(row)
            value = (" ".join(cell.get_text(" ", strip=True).split()), cell.name == "th")
            down = _span(cell.get("rowspan"))
            for _ in range(_span(cell.get("colspan"))):
                if down > 1:
                    below[len(row)] = (down - 1, value)
                row.append(value)
        fill(row)
        grid.append(row)
    return grid
