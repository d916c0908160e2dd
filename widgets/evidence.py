"""Evidence notebooks on a phase page: each one's last run under its question, read-only.

A question with evidence notebooks (attached with ``workbook evidence add`` or from the
page in JupyterLab, kept by the store under ``<project>/evidence/<question>/``) shows, after
its "Evidence for question N" list, each notebook's last run: the notebook's title, where
the run came from (file, hash, when, by whom, how long, kernel, passed or failed), whether
the notebook changed since, and its outputs (text, tables, figures) as safe HTML.

The outputs come from the run record the store keeps (:mod:`workbook.export.evidence`
writes it). Nothing in a record is trusted: markdown goes through the answers' sanitiser,
table cells and text are escaped, and a figure is shown only if it is a PNG or a JPEG
whose bytes say so, as a ``data:`` address (the page fetches nothing from anywhere).

Only in JupyterLab, and only for someone who may edit the answers, does the view offer to
attach a notebook and to run one again now. In Voilà (the app in a browser) the view has
no control at all: nothing a browser sends to a Voilà page can attach or run an evidence
notebook. Questions without evidence get nothing in Voilà, so the pages stay light.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import logging
import re
from pathlib import Path
from typing import Any

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw
from widgets.lab import in_lab
from workbook.bank import Question
from workbook.errors import WorkbookError
from workbook.roles import Action
from workbook.store import EvidenceFile

log = logging.getLogger("ethics-workbook")

SHORT_HASH = 12
IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
"""The only images shown, each checked by its first bytes."""
STATUS = {"passed", "failed", "refused"}
_HEADING = re.compile(r"<(/?)h([1-6])>")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


# --------------------------------------------------------------------------- finding them


def question_files(review: Any, question_id: str) -> list[EvidenceFile]:
    """The evidence notebooks of one question, from the hashes the store read with the
    project (no extra reading of files for a question without any)."""
    workbook = review.session.workbook if review.session is not None else None
    hashes = getattr(workbook, "evidence_hashes", None)
    if hashes is None:
        hashes = review.store.evidence_hashes(review.project_id)
    found = hashes.get(question_id) or {}
    if not found:
        return []
    folder = review.store.evidence_folder(review.project_id, question_id)
    return [
        EvidenceFile(question_id, name, digest, folder)
        for name, digest in sorted(found.items())
        if "/" not in name
    ]


def may_attach(review: Any) -> bool:
    """Attaching and running are offered only in JupyterLab, to someone who may edit."""
    return in_lab() and review.session is not None and review.actor.may(Action.edit)


def evidence_section(review: Any, question: Question) -> EvidenceView | None:
    """The question's evidence notebooks, or None when there is nothing to show (no
    notebooks, and not in JupyterLab with the right to attach one)."""
    files = question_files(review, question.id)
    controls = may_attach(review)
    if not files and not controls:
        return None
    return EvidenceView(review, question, files, controls=controls)


# --------------------------------------------------------------------------- the last run as HTML


def _text(value: Any, limit: int = 20_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return ""
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s"


def _when(value: Any) -> str:
    from workbook.export.dates import moment

    try:
        return moment(value) if isinstance(value, str) and value else ""
    except (ValueError, TypeError, OverflowError):
        return ""


def _short(digest: Any) -> str:
    return (
        digest[:SHORT_HASH]
        if isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)
        else ""
    )


def provenance_html(record: dict[str, Any] | None, file: EvidenceFile) -> str:
    """Where the shown outputs came from, in words, and whether the notebook changed since."""
    from workbook.evidence import error_name

    name = f"<code>{esc(file.name)}</code>"
    if record is None:
        return (
            f'<p class="ew-ev-prov">Notebook {name} (SHA-256 {esc(_short(file.sha256))}). '
            "<strong>Not run yet</strong>: it runs again each time the workbook is "
            "exported.</p>"
        )
    status = record.get("status") if record.get("status") in STATUS else ""
    if status == "passed":
        outcome = '<strong class="ew-done">passed</strong>'
    elif status == "failed":
        error = record.get("error")
        outcome = '<strong class="ew-error">failed'
        outcome += f": {esc(error_name(error))}</strong>" if error else "</strong>"
        reason = _text(record.get("reason"), 500)
        outcome += f" ({esc(reason)})" if reason else ""
    elif status == "refused":
        reason = _text(record.get("reason"), 500) or "the notebook could not be used"
        outcome = f'<strong class="ew-error">refused</strong>: {esc(reason)}'
    else:
        outcome = "outcome not recorded"
    parts = []
    when = _when(record.get("ran_at"))
    who = _text(record.get("ran_by"), 100).strip()
    run = "Last run" + (f" {esc(when)}" if when else "") + (f" by {esc(who)}" if who else "")
    parts.append(run)
    duration = _duration(record.get("duration_s"))
    if duration:
        parts.append(duration)
    kernel = _text(record.get("kernel"), 100).strip()
    if kernel:
        parts.append(esc(kernel))
    parts.append(outcome)
    ran_hash = _short(record.get("sha256"))
    html = (
        f'<p class="ew-ev-prov">Notebook {name}'
        + (f" (SHA-256 {esc(ran_hash)})" if ran_hash else "")
        + f". {', '.join(parts)}.</p>"
    )
    if record.get("sha256") != file.sha256:
        html += (
            '<p class="ew-ev-changed"><strong>The notebook has changed since this run</strong> '
            f"(it is now SHA-256 {esc(_short(file.sha256))}): the outputs below are from the "
            "earlier version. It runs again when the workbook is exported.</p>"
        )
    return html


def _markdown(text: str) -> str:
    """Notebook markdown, sanitised like answers; its headings sit below the analysis's
    own (an ``h4``), so ``##`` becomes ``h5``."""
    from workbook.export.sanitise import render_markdown

    html = render_markdown(text)
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + 3)}>", html)


def _table(item: dict[str, Any], label: str) -> str:
    def rows(value: Any) -> list[list[str]]:
        if not isinstance(value, list):
            return []
        return [[_text(c, 2000) for c in r] for r in value if isinstance(r, list)]

    header, body = rows(item.get("header")), rows(item.get("rows"))
    if not header and not body:
        return ""
    if (
        len(header) >= 2
        and header[-1][:1] != [""]
        and not any(c.strip() for c in header[-1][1:])
        and header[0][:1] == [""]
    ):  # pandas' row of the index's name, under an empty corner: the name goes there
        header = [[header[-1][0], *header[0][1:]], *header[1:-1]]
    caption = _text(item.get("caption"), 300).strip()
    out = [
        f'<div class="ew-table-wrap" role="region" '
        f'aria-label="{esc(f"{label}: {caption}" if caption else label)}" '
        'tabindex="0"><table class="ew-table ew-ev-table">'
    ]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    if header:
        out.append("<thead>")
        for r in header:
            cells = "".join(
                f'<th scope="col">{esc(c)}</th>' if c.strip() else "<td></td>" for c in r
            )
            out.append(f"<tr>{cells}</tr>")
        out.append("</thead>")
    out.append("<tbody>")
    for r in body:
        cells = "".join(
            (f'<th scope="row">{esc(c)}</th>' if i == 0 and c.strip() else f"<td>{esc(c)}</td>")
            for i, c in enumerate(r)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table></div>")
    more = item.get("more")
    if isinstance(more, int) and not isinstance(more, bool) and more > 0:
        out.append(f'<p class="ew-hint">{more} more rows not shown.</p>')
    return "".join(out)


def _image(item: dict[str, Any], number: int) -> str:
    """A PNG or JPEG, checked to be one, as a ``data:`` address; anything else: nothing."""
    mime = item.get("mime")
    data = item.get("data")
    if mime not in IMAGE_MAGIC or not isinstance(data, str) or not _BASE64.fullmatch(data):
        return ""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return ""
    if not raw.startswith(IMAGE_MAGIC[mime]):
        return ""
    alt = _text(item.get("alt"), 300).strip() or f"Figure {number}"
    return (
        f'<figure class="ew-ev-figure"><img src="data:{mime};base64,{data}" '
        f'alt="{esc(alt)}"></figure>'
    )


def outputs_html(items: Any, title: str) -> str:
    """A run's outputs, in order, as safe HTML (no code unless the record holds it)."""
    from workbook.evidence import error_name

    if not isinstance(items, list):
        return ""
    out: list[str] = []
    tables = figures = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("kind")
        if kind == "markdown":
            out.append(_markdown(_text(item.get("text"))))
        elif kind == "table":
            tables += 1
            out.append(_table(item, f"{title}: table {tables}"))
        elif kind == "image":
            shown = _image(item, figures + 1)
            figures += bool(shown)
            out.append(shown)
        elif kind == "text":
            text = _text(item.get("text"))
            if text.strip():
                out.append(f'<pre class="ew-ev-text">{esc(text.rstrip())}</pre>')
        elif kind == "code":
            text = _text(item.get("text"))
            if text.strip():
                out.append(
                    '<p class="ew-hint">Code:</p>'
                    f'<pre class="ew-ev-code"><code>{esc(text.rstrip())}</code></pre>'
                )
        elif kind == "error":
            out.append(
                '<p class="ew-error">The notebook stopped here with an error: '
                f"{esc(error_name(item.get('name')))}.</p>"
            )
    return "".join(out)


def analysis_id(file: EvidenceFile) -> str:
    """The heading's id: ``analysis-q7-error-rates-by-group`` (names are [a-z0-9_-])."""
    return f"analysis-{file.question_id}-{file.name.removesuffix('.ipynb')}"


def notebook_html(record: dict[str, Any] | None, file: EvidenceFile, title: str = "") -> str:
    """One evidence notebook: "Analysis: <title>", its last run's provenance and outputs.
    ``title``: the notebook's own, for one that has not run yet."""
    title = (_text(record.get("title"), 200).strip() if record else title) or file.name
    # Tables are named regions: with the question in their name, the same notebook under
    # two questions does not give a page two regions of one name.
    where = f"Question {file.question_id.removeprefix('q')}, {title}"
    return (
        f'<div class="ew-ev"><h4 class="ew-h4" id="{esc(analysis_id(file))}">'
        f"Analysis: {esc(title)}</h4>"
        + provenance_html(record, file)
        + (
            f'<div class="ew-ev-out">{outputs_html(record.get("items"), where)}</div>'
            if record
            else ""
        )
        + "</div>"
    )


# --------------------------------------------------------------------------- the view


class EvidenceView(w.VBox):
    """A question's evidence notebooks with their last runs; in JupyterLab, for someone
    who may edit, a form to attach a notebook and a button per notebook to run it now."""

    def __init__(
        self, review: Any, question: Question, files: list[EvidenceFile], *, controls: bool
    ) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-group", "ew-evidence-notebooks"))
        self.review = review
        self.question = question
        self.controls = controls
        self.files = files
        self.blocks: dict[str, w.HTML] = {}
        self.run_buttons: dict[str, w.Button] = {}
        self._shown: list[w.Widget] = []
        self.notebooks = w.VBox(**plain_kw(w.VBox))
        self.note: w.HTML | None = None  # what attaching did (JupyterLab only)
        self.run_note: w.HTML | None = None  # what running did (JupyterLab only)
        self.form: w.VBox | None = None
        if controls:
            self._build_form()
        self._render()

    # ---- showing

    def _render(self) -> None:
        old, self._shown = self._shown, []
        self.blocks, self.run_buttons = {}, {}
        n = self.question.number
        children: list[w.Widget] = []
        for file in self.files:
            record = self.review.store.read_evidence_run(
                self.review.project_id, file.question_id, file.name
            )
            title = "" if record is not None else self._title(file)
            block = html_block(notebook_html(record, file, title))
            self.blocks[file.name] = block
            children.append(block)
            if self.controls:
                verb = "Run again now" if record is not None else "Run now"
                button = w.Button(
                    description=f"{verb}: question {n}, {file.name}",
                    tooltip=f"{verb}: question {n}, {file.name}",
                    **plain_kw(w.Button, "ew-secondary", "ew-ev-run"),
                )
                button.on_click(lambda _b, name=file.name: self.run_again(name))
                self.run_buttons[file.name] = button
                children.append(button)
        self._shown = children
        self.notebooks.children = tuple(children)
        for widget in old:
            widget.close()
        self.children = (
            self.notebooks,
            *([self.run_note, self.form] if self.form is not None else []),
        )

    def _title(self, file: EvidenceFile) -> str:
        """The title of a notebook that has not run yet: its first heading."""
        from workbook.evidence import notebook_title, read_notebook

        try:
            raw = self.review.store.read_evidence(
                self.review.project_id, file.question_id, file.name
            )
            return notebook_title(read_notebook(raw, file.name), file.name)
        except WorkbookError:
            return file.name

    def refresh(self) -> None:
        """Read the question's notebooks and their last runs again."""
        found = self.review.store.evidence(self.review.project_id)
        self.files = found.get(self.question.id, [])
        self._render()

    # ---- JupyterLab only: attach, run

    def _build_form(self) -> None:
        n = self.question.number
        self.path = w.Text(
            description=f"Question {n}: the notebook to attach (its path)",
            continuous_update=False,
            **stacked_kw(w.Text),
        )
        self.data = w.Text(
            description=f"Question {n}: data files it reads (optional, paths separated by commas)",
            continuous_update=False,
            **stacked_kw(w.Text),
        )
        self.attach_button = w.Button(
            description=f"Attach a notebook to question {n}",
            tooltip=f"Attach a notebook to question {n}",
            **plain_kw(w.Button, "ew-secondary", "ew-ev-attach"),
        )
        self.attach_button.on_click(lambda _b: self.attach())
        self.note = html_block("", "ew-ev-note")
        self.run_note = html_block("", "ew-ev-note")
        self.form = w.VBox(
            [
                html_block(
                    f'<h4 class="ew-h4">Attach a notebook to question {n}</h4>'
                    '<p class="ew-hint">The notebook is copied into the project '
                    f"(evidence/{esc(self.question.id)}/) with the data files you name, and "
                    "runs again in a fresh kernel each time the workbook is exported. Give "
                    "paths relative to this notebook's folder, or absolute. It needs one cell "
                    "tagged “parameters” holding plain values only, such as "
                    '<code>data_path = "data/referrals.csv"</code>.</p>'
                ),
                self.path,
                self.data,
                self.attach_button,
                self.note,
            ],
            **plain_kw(w.VBox, "ew-ev-form"),
        )

    def _say(self, text: str, kind: str = "done", *, run: bool = False) -> None:
        css = {"done": "ew-done", "error": "ew-error", "hint": "ew-hint"}[kind]
        note = self.run_note if run else self.note
        if note is not None:
            note.value = f'<p class="{css}" role="status">{esc(text)}</p>'

    def _allowed(self) -> bool:
        """Checked again on every action, not only when the controls were built."""
        if may_attach(self.review):
            return True
        self._say("Notebooks can be attached and run only in JupyterLab, by an author.", "error")
        return False

    def attach(self) -> None:
        """Check the notebook at the path given, read its data files and keep them."""
        if not self._allowed():
            return
        try:
            self._say(self._attach())
            self.path.value = ""
            self.data.value = ""
        except WorkbookError as exc:
            self._say(_one_line(str(exc)), "error")
        except Exception:  # never a traceback on the page; the log has it
            log.exception("attaching an evidence notebook failed")
            self._say(
                "The notebook could not be attached: something went wrong (see the server's log).",
                "error",
            )

    def _attach(self) -> str:
        from workbook.evidence import PATH_SUFFIXES, EvidenceError, check_notebook, notebook_name

        n = self.question.number
        given = self.path.value.strip()
        if not given:
            raise EvidenceError(f"Question {n}: give the path of the notebook to attach")
        path = _resolve(given)
        name = notebook_name(given)
        raw = _read(path, given)
        store, pid, qid = self.review.store, self.review.project_id, self.question.id
        checked = check_notebook(raw, given, folder=store.evidence_folder(pid, qid))
        data: dict[str, bytes] = {}
        for item in (p.strip() for p in self.data.value.split(",")):
            if item:
                if Path(item).name in data:
                    raise EvidenceError(
                        f"{item}: another data file given is also named {Path(item).name}; "
                        "they would both be kept as data/" + Path(item).name
                    )
                data[Path(item).name] = _read(_resolve(item), item)
        actor = self.review.actor
        role = actor.require(Action.edit) if actor.enforced else ""
        replaced = any(f.name == name for f in self.files)
        store.add_evidence(pid, qid, name, raw, data, user=actor.name, role=role)
        self.refresh()
        kept = set(store.evidence_hashes(pid).get(qid, {}))
        missing = [
            f"{key} ({value})"
            for key, value in checked.parameters.items()
            if key.endswith(PATH_SUFFIXES)
            and isinstance(value, str)
            and value.startswith("data/")
            and value not in kept
        ]
        text = f"Attached {name} to question {n}"
        if data:
            text += " with " + ", ".join(f"data/{d}" for d in sorted(data))
        if replaced:
            text += ", in place of the earlier copy"
        text += ". It has not run yet: “Run now” runs it here, and every export runs it again."
        if missing:
            text += (
                f" Its parameter {', '.join(missing)} names a data file that is not attached: "
                "attach it again with that file under “data files”."
            )
        return text

    def run_again(self, name: str) -> None:
        """Run one notebook now in a fresh kernel, as this person, and show its outputs."""
        if not self._allowed():
            return
        from workbook.export.evidence import run_one

        store, pid, qid = self.review.store, self.review.project_id, self.question.id
        file = next((f for f in store.evidence(pid).get(qid, []) if f.name == name), None)
        if file is None:
            self.refresh()
            self._say(
                f"{name} is no longer attached to question {self.question.number}.",
                "error",
                run=True,
            )
            return
        button = self.run_buttons.get(name)
        if button is not None:
            button.disabled = True
        self._say(f"Running {name} in a fresh kernel…", "hint", run=True)
        try:
            # papermill runs an event loop of its own: in a thread of its own, so the
            # kernel's loop (JupyterLab's) is left alone
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                record = pool.submit(
                    run_one, store, pid, file, ran_by=self.review.actor.name
                ).result()
        except Exception:
            log.exception("running an evidence notebook failed")
            record = None
        self.refresh()
        if record is None:
            self._say(
                f"{name} could not be run: something went wrong (see the server's log).",
                "error",
                run=True,
            )
        elif record.get("status") == "passed":
            self._say(f"Ran {name}: passed in {_duration(record.get('duration_s'))}.", run=True)
        elif record.get("status") == "refused":
            why = _one_line(str(record.get("reason") or "it could not be used"))
            self._say(f"{name} was not run: {why}", "error", run=True)
        else:
            why = record.get("error") or "see its outputs above"
            self._say(f"Ran {name}: failed ({why}).", "error", run=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _resolve(given: str) -> Path:
    """A path as typed: absolute, or relative to the kernel's working directory (in
    JupyterLab, the folder of the page's notebook)."""
    path = Path(given).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _read(path: Path, given: str) -> bytes:
    from workbook.evidence import EvidenceError
    from workbook.store import MAX_EVIDENCE_BYTES

    try:
        if not path.is_file():
            raise EvidenceError(f"{given}: no such file")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            raise EvidenceError(
                f"{given}: too big for evidence (over {MAX_EVIDENCE_BYTES // 2**20} MB)"
            )
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceError(
            f"{given}: cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
