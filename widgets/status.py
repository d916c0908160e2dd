"""PageStatus: the save indicator and connection watch every page of the app carries.

The kernel knows whether a save landed; only the browser knows whether the kernel is still
there. So the status is one widget with a small script (``static/page_status.js``, an
anywidget module) that:

- shows the save state the kernel reports ("Saved 14:02", "Not saved: 1 incomplete row");
- pings the kernel every second; when no answer comes for a few seconds (server stopped,
  kernel culled or dead, laptop asleep, network gone) it shows a persistent
  ``role="alert"`` saying the changes since the last save are not saved and what to do, and
  never shows "Saved" again until the kernel answers and reports a save;
- remembers which fields the user changed since the last confirmed save, by their labels
  only. The list is kept in ``sessionStorage`` (it lasts as long as the tab), so after a
  reload the page can say which fields may not have been saved. No typed text is ever put
  in browser storage: on a shared council PC it could outlive the person who typed it;
- asks before the tab closes while a save is pending, and asks the kernel to save now;
- writes the session cookie that holds the user's name (see :mod:`widgets.identity`).
"""

from __future__ import annotations

import atexit
import logging
import weakref
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from workbook.session import SaveState

ESM = Path(__file__).with_name("static") / "page_status.js"
log = logging.getLogger("ethics-workbook")
_LIVE: weakref.WeakSet[PageStatus] = weakref.WeakSet()


@atexit.register
def _save_before_exit() -> None:
    """The kernel is exiting (its page closed, or it was culled or shut down): an edit still
    waiting for its debounced save is saved now rather than lost."""
    for status in list(_LIVE):
        status.flush()


def status_text(state: SaveState) -> str:
    """The words the indicator shows for ``state``."""
    if state.kind == "saved" and state.saved_at is not None:
        return f"Saved {state.saved_at:%H:%M}"
    if state.kind == "saved":
        return "All changes saved"
    return state.message


class PageStatus(anywidget.AnyWidget):
    """Save state (from the kernel) and connection state (from the browser) in one place."""

    _esm = ESM

    kind = t.Unicode("idle").tag(sync=True)
    """"idle" (a page with no autosave) or a :class:`SaveState` kind."""
    text = t.Unicode("").tag(sync=True)
    saved_at = t.Unicode("").tag(sync=True)
    """The time of the last save that landed, "14:02", for the connection alert."""
    page_key = t.Unicode("").tag(sync=True)
    """Which page and project, to keep the unsaved-field list of each apart."""
    unsaved_labels = t.List(t.Unicode()).tag(sync=True)
    """Labels of fields on screen that are known not to be saved (incomplete rows)."""
    user_cookie = t.Unicode("").tag(sync=True)
    """Set to a name to store it in the browser's session cookie."""

    def __init__(self, *, page_key: str = "", **kwargs: Any) -> None:
        super().__init__(page_key=page_key, **kwargs)
        self.add_class("ew-save")
        self._flush: list[Any] = []
        self.on_msg(self._on_message)
        _LIVE.add(self)

    def show(self, state: SaveState) -> None:
        """Show the session's save state."""
        with self.hold_sync():
            if state.saved_at is not None:
                self.saved_at = f"{state.saved_at.astimezone():%H:%M}"
            self.text = status_text(state)
            self.kind = state.kind

    def on_flush(self, callback: Any) -> None:
        """``callback()`` when the page is about to close (or the kernel to exit): save
        whatever is pending now."""
        self._flush.append(callback)

    def flush(self) -> None:
        for callback in list(self._flush):
            try:
                callback()
            except Exception:  # a failed save says so on the page; exiting goes on
                log.exception("saving pending changes failed")

    def remember_user(self, name: str) -> None:
        self.user_cookie = name

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            seq = content.get("seq")
            self.send(
                {"type": "pong", "seq": seq if isinstance(seq, int) else 0, "kind": self.kind}
            )
        elif kind == "flush":
            self.flush()
            self.send({"type": "pong", "seq": -1, "kind": self.kind})
