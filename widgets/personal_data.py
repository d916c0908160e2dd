"""Personal-data warnings under the fields of a page (issue 17).

After a save, each free-text field that was just saved is checked with
:func:`workbook.personal_data_review.project_findings` (only the fields the save changed,
so a phase page stays fast), and a field with open findings shows a warning right below it:
what the text looks like and where, in words and character positions, never the text
itself. An author can dismiss the warning with a reason
(:func:`workbook.personal_data_review.dismiss`, recorded in the history); anyone else only
sees it. A dismissal holds for that same text: once the text changes it is checked afresh.
When the page opens, the fields that already have open findings show their warnings too.

The warnings are made generically for every text field a :class:`~widgets._bind.Binder`
shows (:attr:`Binder.anchors`): a warning widget is made only when there is something to
warn about, and put into the box that holds the field, just after it.

Views that save text with forms of their own (the risk register, the transparency page)
use :class:`FormWarnings`: one warning per record (a risk, a category's reason, an ATRS
field), which the view puts in the entry it shows for that record, so the entry keeps it
when the view is shown again.

The detector (Presidio) takes about a second and a half to import and build. In the app
it is built before the page's kernel exists: the zygote that Voilà's kernels are forked
from builds it (:func:`warm_up_now`; :mod:`workbook.voila_kernels`), so a page's existing
warnings are looked for just after the page is built, on the kernel's event loop. Where it
is not built yet (a kernel started the usual way, JupyterLab), a page does not wait for it:
it is built in a background thread started once the page has been built, and the page's
warnings are shown when it is ready. A save that comes before then waits for it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import ipywidgets as w

from widgets._bind import Binder, esc, html_block, plain_kw, textarea
from workbook.bank import load_bank
from workbook.errors import WorkbookError
from workbook.personal_data import KINDS, TEXT_FIELDS, FieldFinding, text_fields, warm_up
from workbook.personal_data_review import (
    case_patterns_for,
    dismiss,
    field_location,
    project_findings,
    risk_number,
)
from workbook.roles import Action

log = logging.getLogger("ethics-workbook")

ADVICE = (
    "Children\u2019s personal data must not be in the workbook: edit it out, or dismiss this "
    "warning with a reason."
)
ADVICE_READ_ONLY = (
    "Children\u2019s personal data must not be in the workbook: an author can edit it out, or "
    "dismiss this warning with a reason."
)
DISMISSED = "Dismissed: recorded in the history with your reason."

_warm = threading.Event()
"""Set once the detector has been built in this process (or failed to be)."""
_warm_lock = threading.Lock()
_warming: threading.Thread | None = None


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # the scan after a save says so again; the page goes on
        log.exception("the personal-data detector could not be started")
    finally:
        _warm.set()


def warm_up_now() -> None:
    """Build the detector now, in this thread: the zygote the app's kernels are forked from
    does (:mod:`workbook.kernels`, kind ``app``), so that each page's kernel has it built."""
    if not _warm.is_set():
        warm_up()
        _warm.set()


def start_warm_up() -> threading.Thread | None:
    """Build the detector in a background thread (once per process); the thread, or None
    when it is built already."""
    global _warming
    if _warm.is_set():
        return None
    with _warm_lock:
        if _warming is None:
            _warming = threading.Thread(target=_warm_up, name="personal-data-warm-up", daemon=True)
            _warming.start()
        return _warming


@functools.lru_cache(maxsize=4096)
def holds_text(path: str) -> bool:
    """Whether the field ``path`` is, or holds, free text that is scanned
    (:data:`workbook.personal_data.TEXT_FIELDS`): ``answers.q1.response``, or a list of
    records with text in them such as ``answers.q1.evidence``."""
    parts = path.split(".")
    for glob in TEXT_FIELDS:
        pattern = glob.split(".")
        if len(parts) <= len(pattern) and all(
            g == "*" or g == p for g, p in zip(pattern, parts, strict=False)
        ):
            return True
    return False


def _under(path: str, anchor: str) -> bool:
    return path == anchor or path.startswith(f"{anchor}.")


_ROWS = {"evidence": "evidence item", "further_work": "action"}


def where(path: str, workbook: Any = None) -> str:
    """A field's name for a warning: ``Question 1, your answer``, ``Question 1, note on
    “the type of analytics it relies on”``, ``Explore phase checklist, note on “…”`` (the
    packaged content's words, never typed text)."""
    parts = path.split(".")
    if len(parts) == 5 and parts[0] == "answers" and parts[2] in _ROWS and parts[3].isdigit():
        # as the list editor labels its fields: "Question 1, evidence item 2: what it shows"
        from widgets.question import ACTION_COLUMNS, EVIDENCE_COLUMNS

        noun, columns = _ROWS[parts[2]], (EVIDENCE_COLUMNS + ACTION_COLUMNS)
        label = next((c.label for c in columns if c.key == parts[4]), parts[4])
        try:
            number = load_bank().question(parts[1]).number
        except KeyError:
            number = None
        if number is not None:
            return f"Question {number}, {noun} {int(parts[3]) + 1}, {label[:1].lower()}{label[1:]}"
    if parts[0] == "risks" and parts[1:2] == ["items"] and len(parts) >= 3:
        # numbered as the register numbers it (R1: highest remaining risk first)
        number = risk_number(parts[2], workbook)
        if number is not None and len(parts) == 3:
            return f"Risk register, {number}"
        if number is not None and len(parts) == 4:
            return f"Risk register, {number}, {parts[3].replace('_', ' ')}"
        if number is not None and len(parts) == 6 and parts[4].isdigit():
            return f"Risk register, {number}, mitigation {int(parts[4]) + 1}"
    if parts[0] == "transparency" and len(parts) == 3:  # a field: its wording and reason
        from workbook.atrs_content import load_atrs

        field = next((f for f in load_atrs().fields if f.id == parts[2]), None)
        if field is not None:
            return f"Transparency record, {field.name}"
    name = field_location(path, workbook)
    prompt = re.fullmatch(r"(Question \d+), note on: (.*)", name, re.S)
    if prompt:
        return f"{prompt[1]}, note on \u201c{prompt[2]}\u201d"
    return name.replace(": ", ", ", 1)


def _in_sentence(name: str) -> str:
    """``question 1, your answer`` inside a sentence (a phase's name keeps its capital)."""
    return "q" + name[1:] if name.startswith("Question ") else name


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_field(path: str, findings: Iterable[FieldFinding], workbook: Any = None) -> str:
    """``Question 1, your answer: looks like a date of birth (characters 19–28) and an NHS
    number (characters 35–46).`` Kinds in the order they first appear; positions counted
    from 1. Never the text."""
    spans: dict[str, list[str]] = {}
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        spans.setdefault(f.kind, []).append(f"{f.start + 1}\u2013{f.end}")
    kinds = [f"{KINDS[k]} (characters {_listed(s)})" for k, s in spans.items()]
    return f"{where(path, workbook)}: looks like {_listed(kinds)}."


class FieldWarning(w.VBox):
    """The warning under one field (or list of records): what its saved text looks like,
    and for an author a form to dismiss it with a reason."""

    def __init__(self, owner: _Warnings, anchor_path: str) -> None:
        super().__init__(**plain_kw(w.VBox, "ew-pd-warning"))
        self.owner = owner
        self.path = anchor_path
        self.name = where(anchor_path, owner.workbook)
        self.findings: list[FieldFinding] = []
        self.fingerprints: dict[str, str] = {}
        """Each field's fingerprint when its warning was shown (what a dismissal is for)."""
        self.dismissed = False
        self._key: tuple = ()
        self.text = html_block("", "ew-pd-text")
        self.opener: w.Button | None = None
        if owner.editable:
            self.opener = w.Button(
                description="Dismiss this warning",
                tooltip=f"Dismiss the personal-data warning on {_in_sentence(self.name)}",
                **plain_kw(w.Button, "ew-pd-open"),
            )
            self.opener.on_click(lambda _: self.open_form())
        self.reason: w.Textarea | None = None
        self.submit: w.Button | None = None
        self.cancel: w.Button | None = None
        self.message: w.HTML | None = None
        self.form: w.VBox | None = None

    # ---- what it shows

    def show(self, findings: list[FieldFinding], fingerprints: dict[str, str], announce: bool):
        """Show ``findings`` (open, in this field's saved text). Nothing is redrawn, or
        announced again, when they are what is shown already."""
        workbook = self.owner.workbook
        by_path: dict[str, list[FieldFinding]] = {}
        for f in findings:
            by_path.setdefault(f.path, []).append(f)
        sentences = " ".join(describe_field(p, found, workbook) for p, found in by_path.items())
        # the words too: a risk's number changes when a rating does
        key = (tuple(findings), tuple(sorted(fingerprints.items())), sentences)
        if key == self._key and not self.dismissed:
            return
        self._key = key
        self.findings, self.fingerprints, self.dismissed = list(findings), dict(fingerprints), False
        self.remove_class("ew-pd-dismissed")
        name = where(self.path, workbook)
        if name != self.name:
            self.name = name
            if self.opener is not None:
                self.opener.tooltip = f"Dismiss the personal-data warning on {_in_sentence(name)}"
        advice = ADVICE if self.owner.editable else ADVICE_READ_ONLY
        role = ' role="alert"' if announce else ""
        self.text.value = (
            f'<p class="ew-pd-message"{role}><strong class="ew-pd-label">Warning:</strong> '
            f"{esc(sentences)} {esc(advice)}</p>"
        )
        self._close_form()
        self.children = [self.text, *([self.opener] if self.opener is not None else [])]

    def open_form(self) -> None:
        """The dismiss form: why this is not personal data, and the button."""
        if self.form is not None or self.dismissed:
            return
        self.reason = textarea(
            f"Why this is not personal data ({_in_sentence(self.name)})",
            rows=2,
            placeholder="For example: a made-up example, or the council\u2019s switchboard number",
            continuous_update=False,  # sent when the field loses focus, before the click
            classes=("ew-autofocus",),  # focused when drawn (widgets/static/page_status.js)
        )
        self.submit = w.Button(
            description="Dismiss warning", button_style="primary", **plain_kw(w.Button)
        )
        self.cancel = w.Button(description="Cancel", **plain_kw(w.Button, "ew-link-button"))
        self.message = html_block("", "ew-pd-form-message")
        self.submit.on_click(lambda _: self.dismiss())
        self.cancel.on_click(lambda _: self.close_form())
        buttons = w.HBox([self.submit, self.cancel], **plain_kw(w.HBox, "ew-wrap", "ew-pd-buttons"))
        self.form = w.VBox([self.reason, self.message, buttons], **plain_kw(w.VBox, "ew-pd-form"))
        self.children = [self.text, self.form]
        self.reason.focus()

    def close_form(self) -> None:
        """Cancel: the form goes, focus goes back to the button that opened it."""
        self._close_form()
        self.children = [self.text, *([self.opener] if self.opener is not None else [])]
        if self.opener is not None:
            self.opener.focus()

    def _close_form(self) -> None:
        for widget in (self.form, self.reason, self.submit, self.cancel, self.message):
            if widget is not None:
                widget.close()
        self.form = self.reason = self.submit = self.cancel = self.message = None

    def dismiss(self) -> bool:
        """Dismiss the warnings shown, with the reason given, as the page's user. True when
        it is recorded; else the form says why, in one line."""
        if self.reason is None or self.message is None:
            return False
        try:
            self.owner.dismiss(self, self.reason.value)
        except WorkbookError as exc:
            self._say(exc.message)
            return False
        except Exception:  # the UI boundary: a line for the person, the details in the log
            log.exception("could not dismiss a personal-data warning")
            self._say("the warning could not be dismissed; try again")
            return False
        return True

    def _say(self, problem: str) -> None:
        words = esc(" ".join(problem.split()))
        line = f'<p class="ew-error" role="alert">Not dismissed: {words}</p>'
        if self.message is not None:
            self.message.value = line
        else:  # the warning was shown afresh meanwhile (part of a list was dismissed)
            self.text.value += line

    def show_dismissed(self) -> None:
        """The warnings are dismissed: say so (until the text changes)."""
        self._close_form()
        self.dismissed = True
        self.add_class("ew-pd-dismissed")
        self.text.value = f'<p class="ew-done" role="status">{esc(DISMISSED)}</p>'
        self.children = [self.text]

    def dispose(self) -> None:
        self._close_form()
        for widget in (self.text, self.opener):
            if widget is not None:
                widget.close()
        self.close()


def _when_warm(callback: Callable[[], None]) -> threading.Thread | None:
    """Call ``callback`` once the detector is built, on the event loop of this thread (the
    one building the page), after what it is doing now; with no loop, at once when it is
    built already. Else returns the background thread that waits for it (with no loop,
    join it and call ``callback``: see ``wait``)."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    thread = start_warm_up()
    if thread is None:  # built already: look once the page is out (now, with no loop)
        if loop is not None:
            loop.call_soon(callback)
        else:
            callback()
        return None

    def then() -> None:
        thread.join()
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback)

    waiter = threading.Thread(target=then, name="personal-data-page", daemon=True)
    waiter.start()
    return waiter


class _Warnings:
    """What every page's warnings share: the open findings of a field (or of a group of
    fields, its *anchor*) shown as one :class:`FieldWarning`, placed by the page, and
    dismissing them. ``store``, ``project_id``, ``actor``, ``editable``, ``on_saved`` and
    ``warnings`` are set by each kind."""

    store: Any
    project_id: str
    actor: Any
    editable: bool
    on_saved: Callable[[Any], None]
    warnings: dict[str, FieldWarning]
    patterns: tuple[str, ...]
    _thread: threading.Thread | None = None

    def wait(self, timeout: float = 60) -> None:
        """Wait for the detector and show the existing warnings (headless use and tests:
        in a kernel they come by themselves)."""
        if self._thread is not None:
            self._thread.join(timeout)
        self._open_scan()

    def _open_scan(self) -> None:
        raise NotImplementedError

    @property
    def workbook(self) -> Any:
        """The project as the page shows it."""
        raise NotImplementedError

    def _case_patterns(self) -> tuple[str, ...]:
        try:
            return case_patterns_for(self.store.root)
        except WorkbookError as exc:  # names settings.yaml and the setting, never the text
            log.warning("personal-data warnings without local case references: %s", exc)
            return ()

    # ---- what to show

    def _check(self, anchors: list[str], *, announce: bool | Collection[str]) -> None:
        """Show each anchor's open findings (and take away a warning with none).
        ``announce``: whether a new or changed warning is read out (for a collection, only
        those of the anchors in it)."""
        try:
            state = project_findings(self.workbook, self.patterns, paths=anchors)
        except Exception:  # never in the way of saving; no text in the log
            log.exception("could not check fields for personal data")
            return
        for anchor in anchors:
            found = [f for f in state.open if _under(f.path, anchor)]
            prints = {p: fp for p, fp in state.fingerprints.items() if _under(p, anchor)}
            say = announce if isinstance(announce, bool) else anchor in announce
            self._show(anchor, found, prints, say)

    def _show(
        self, anchor: str, found: list[FieldFinding], prints: dict[str, str], announce: bool
    ) -> None:
        current = self.warnings.get(anchor)
        if not found:
            if current is not None and not (
                current.dismissed
                and all(prints.get(p) == fp for p, fp in current.fingerprints.items())
            ):
                self._remove(anchor)
            return
        if current is None:
            current = FieldWarning(self, anchor)
            if not self._place(anchor, current):
                current.dispose()
                return
            self.warnings[anchor] = current
        current.show(found, prints, announce)

    def _place(self, anchor: str, warning: FieldWarning) -> bool:
        """Put ``warning`` on the page, by its field; False when there is nowhere for it."""
        raise NotImplementedError

    def _unplace(self, anchor: str, warning: FieldWarning) -> None:
        """Take ``warning`` off the page."""
        raise NotImplementedError

    def _remove(self, anchor: str) -> None:
        warning = self.warnings.pop(anchor)
        self._unplace(anchor, warning)
        warning.dispose()

    def _focus_after(self, anchor: str) -> None:
        """Where focus goes once a warning's form and button are gone (a dismissal)."""

    # ---- dismissing

    def dismiss(self, warning: FieldWarning, reason: str) -> None:
        """Dismiss ``warning``'s findings, field by field, as the page's user, for the text
        they were shown (a changed text is refused: look again). Raises WorkbookError."""
        by_path: dict[str, list[FieldFinding]] = {}
        for f in warning.findings:
            by_path.setdefault(f.path, []).append(f)
        saved = None
        for done, (path, found) in enumerate(by_path.items()):
            try:
                saved = dismiss(
                    self.store,
                    self.project_id,
                    path,
                    reason,
                    user=self.actor,
                    findings=found,
                    fingerprint=warning.fingerprints.get(path),
                    case_patterns=self.patterns,
                )
            except WorkbookError as exc:
                if not done:
                    raise
                self.on_saved(saved)  # a list's earlier fields were dismissed: say so
                others = f"{done} other field{'s' if done != 1 else ''}"
                raise WorkbookError(
                    f"{exc.message} (the warnings of {others} here were dismissed)"
                ) from exc
        warning.show_dismissed()  # before the page reads the project again, which checks it
        if saved is not None:
            self.on_saved(saved)
        self._check([warning.path], announce=True)  # shown again if anything is left open
        if self.warnings.get(warning.path) is warning and warning.dismissed:
            self._focus_after(warning.path)  # the form and its button are gone


class PersonalDataWarnings(_Warnings):
    """The personal-data warnings of a page whose fields ``binder`` binds, placed in the
    widget tree under ``root``.

    ``on_saved(workbook)`` hears a dismissal saved (the page reads the project again; by
    default the session does). ``editable``: whether the person may dismiss (by default,
    whether they may edit: viewers and reviewers see warnings but no form).
    """

    def __init__(
        self,
        binder: Binder,
        root: w.Widget,
        *,
        on_saved: Callable[[Any], None] | None = None,
        editable: bool | None = None,
    ) -> None:
        self.binder = binder
        self.session = session = binder.session
        self.store, self.project_id, self.actor = session.store, session.project_id, session.actor
        self.root = root
        self.on_saved = on_saved or (lambda _workbook: self.session.refresh())
        self.editable = self.session.actor.may(Action.edit) if editable is None else editable
        self.paths = [p for p in binder.anchors if holds_text(p)]
        """The text fields (and lists of records) on the page, as bound."""
        self.warnings: dict[str, FieldWarning] = {}
        self._watched = set(self.paths)
        self._dirty: set[str] = set()
        self._opened = False
        self._thread: threading.Thread | None = None
        self.patterns = self._case_patterns()
        binder.on_change(self._changed)
        binder.on_state(self._state)
        self._start()

    @property
    def workbook(self) -> Any:
        return self.session.workbook

    # ---- when to look

    def _start(self) -> None:
        """Show the warnings the page's fields have already: now if the detector is built,
        else once a background thread has built it (on the event loop that built the page;
        with no loop, at the next save or :meth:`wait`)."""
        if self.paths:
            self._thread = _when_warm(self._open_scan)

    def _open_scan(self) -> None:
        if self._opened:
            return
        self._opened = True
        self._check(self.paths, announce=False)

    def _changed(self, path: str) -> None:
        if path not in self._watched:
            if path.startswith("personal_data.") and self.warnings:  # someone's dismissal
                self._check(list(self.warnings), announce=True)
            return
        session = self.session
        if path in session.pending or path in session.conflicts:
            self._dirty.add(path)  # the user's edit: looked at once saved
        else:
            self._check([path], announce=True)  # the shown value changed: someone's save

    def _state(self, _state: Any) -> None:
        if not self._opened and _warm.is_set():
            self._open_scan()
        session = self.session
        saved = [p for p in self._dirty if p not in session.pending and p not in session.conflicts]
        if saved:
            self._dirty.difference_update(saved)
            self._check(saved, announce=True)

    # ---- where it goes

    def _place(self, anchor: str, warning: FieldWarning) -> bool:
        """Put ``warning`` just after the field's control in the box that holds it."""
        control = self.binder.anchors[anchor]
        parent = _parent_of(self.root, control)
        if parent is None:
            return False
        children = list(parent.children)
        children.insert(children.index(control) + 1, warning)
        parent.children = tuple(children)
        return True

    def _unplace(self, anchor: str, warning: FieldWarning) -> None:
        parent = _parent_of(self.root, warning)
        if parent is not None:
            parent.children = tuple(c for c in parent.children if c is not warning)

    def _focus_after(self, anchor: str) -> None:
        control = self.binder.anchors.get(anchor)
        if isinstance(control, w.Textarea | w.Text):
            control.focus()  # back to the field


def record_of(path: str) -> str:
    """The record a field belongs to, which one warning covers on a page that saves with
    forms of its own: ``risks.items.<id>``, ``risks.considered.<category>``,
    ``transparency.fields.<id>`` (a path's first three parts)."""
    return ".".join(path.split(".")[:3])


class FormWarnings(_Warnings):
    """The personal-data warnings of a view that saves text with forms of its own rather
    than through a :class:`~widgets._bind.Binder` (the risk register, the transparency
    page): one warning per record under ``root`` (see :func:`record_of`), which the view
    puts in the entry it shows for that record: ``place(record, warning)``, and
    ``place(record, None)`` to take it away; ``place`` returns False when the view has no
    entry for it.

    The view calls :meth:`update` each time it shows a newly saved project: only the
    records whose text changed since are scanned, and the warnings shown are looked at
    again (their dismissals, and their words: a risk's number). After a save of its own it
    calls :meth:`saved`, which shows that record's warning even before the page's existing
    warnings have been looked for (it waits for the detector then). When the view opens,
    the warnings already there are shown: see :func:`_when_warm`.

    ``focus(record)`` is where focus goes after a dismissal; ``on_saved(workbook)`` hears a
    dismissal saved (the view shows the project again); ``editable`` defaults to whether
    ``actor`` may edit.
    """

    def __init__(
        self,
        *,
        store: Any,
        project_id: str,
        actor: Any,
        workbook: Callable[[], Any],
        root: str,
        place: Callable[[str, FieldWarning | None], bool],
        on_saved: Callable[[Any], None],
        focus: Callable[[str], None] | None = None,
        editable: bool | None = None,
    ) -> None:
        self.store, self.project_id, self.actor = store, project_id, actor
        self._workbook = workbook
        self.root = root
        self._put = place
        self._focus = focus
        self.on_saved = on_saved
        self.editable = actor.may(Action.edit) if editable is None else editable
        self.warnings: dict[str, FieldWarning] = {}
        self.patterns = self._case_patterns()
        self._seen: dict[str, tuple] = {}
        """Each record's text fields as last looked at: (path, text) pairs."""
        self._opened = False
        self._thread = _when_warm(self._open_scan)

    @property
    def workbook(self) -> Any:
        return self._workbook()

    def _texts(self) -> dict[str, tuple]:
        data = self.workbook.to_data()
        out: dict[str, list[tuple[str, str]]] = {}
        for path, text in text_fields(data):
            if _under(path, self.root):
                out.setdefault(record_of(path), []).append((path, text))
        return {record: tuple(pairs) for record, pairs in out.items()}

    # ---- when to look

    def _open_scan(self) -> None:
        if self._opened:
            return
        self._opened = True
        self._seen = self._texts()
        records = [r for r in self._seen if r not in self.warnings]
        self._check([*self.warnings, *records], announce=False)

    def update(self) -> None:
        """The view shows a newly saved project: look at the records whose text changed,
        and at the warnings shown. Nothing before the page's warnings have been looked for
        (that look sees the project as it is then)."""
        if not self._opened:
            return
        now = self._texts()
        changed = [r for r in now.keys() | self._seen.keys() if now.get(r) != self._seen.get(r)]
        self._seen = now
        records = list(dict.fromkeys([*sorted(changed), *self.warnings]))
        if records:
            self._check(records, announce=set(changed))

    def saved(self, records: Iterable[str]) -> None:
        """The view saved ``records`` itself: show their warnings now."""
        if self._opened:
            self.update()
        else:  # the page's other warnings come when the detector is built
            self._check(list(records), announce=True)

    # ---- where it goes

    def _place(self, anchor: str, warning: FieldWarning) -> bool:
        return self._put(anchor, warning)

    def _unplace(self, anchor: str, warning: FieldWarning) -> None:
        self._put(anchor, None)

    def _focus_after(self, anchor: str) -> None:
        if self._focus is not None:
            self._focus(anchor)


def _parent_of(root: w.Widget, target: w.Widget) -> w.Box | None:
    """The box under ``root`` whose children hold ``target``."""
    stack = [root]
    while stack:
        box = stack.pop()
        children = getattr(box, "children", None)
        if not children:
            continue
        for child in children:
            if child is target:
                return box
        stack.extend(children)
    return None
