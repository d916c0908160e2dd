"""Binding ipywidgets controls to fields of an :class:`~workbook.session.EditSession`.

A binding keeps one control and one field path in step, both ways:

- the user edits the control -> ``session.set(path, value)`` and a debounced save;
- the session shows a new value (someone else's edit arrived) -> the control updates,
  without that update counting as the user's edit.

Widgets never touch files: everything goes through the session, which goes through
``workbook.store``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from workbook.session import EditSession

STACKED = "ew-stacked"
"""CSS class: label above the control, full width (see the Voilà template's CSS)."""


def esc(text: str) -> str:
    """Escape user or content text for an HTML widget."""
    return html.escape(text, quote=True)


class Binder:
    """Routes session events to the controls bound to each path."""

    def __init__(self, session: EditSession) -> None:
        self.session = session
        self._setters: dict[str, list[Callable[[Any], None]]] = {}
        self._state_listeners: list[Callable[[Any], None]] = []
        self._change_listeners: list[Callable[[str], None]] = []
        session.subscribe(self._on_session_event)

    def _on_session_event(self, path: str, value: Any) -> None:
        if path == "":
            for listener in list(self._state_listeners):
                listener(value)
            return
        for setter in self._setters.get(path, []):
            setter(value)
        for listener in list(self._change_listeners):
            listener(path)

    def on_state(self, listener: Callable[[Any], None]) -> None:
        """``listener(SaveState)`` whenever the save state changes."""
        self._state_listeners.append(listener)

    def on_change(self, listener: Callable[[str], None]) -> None:
        """``listener(path)`` after any field changes, by the user or by a refresh."""
        self._change_listeners.append(listener)

    def edited(self, path: str, value: Any) -> None:
        """The user changed ``path``: record it and save soon."""
        self.session.set(path, value)
        for listener in list(self._change_listeners):
            listener(path)
        self.session.request_save()

    def bind(
        self,
        control: w.ValueWidget,
        path: str,
        *,
        to_json: Callable[[Any], Any] = lambda v: v,
        from_json: Callable[[Any], Any] = lambda v: v,
    ) -> w.ValueWidget:
        """Keep ``control.value`` and the field ``path`` in step. Returns the control."""
        updating = False

        def show(value: Any) -> None:
            nonlocal updating
            updating = True
            try:
                control.value = from_json(value)
            finally:
                updating = False

        def on_user_change(change: dict[str, Any]) -> None:
            if not updating:
                self.edited(path, to_json(change["new"]))

        show(self.session.value(path))
        control.observe(on_user_change, names="value")
        self._setters.setdefault(path, []).append(show)
        return control

    def watch(self, path: str, setter: Callable[[Any], None]) -> None:
        """Call ``setter(value)`` when the shown value of ``path`` changes (for list editors)."""
        self._setters.setdefault(path, []).append(setter)


def stacked(control: w.DOMWidget, *, width: str = "100%") -> w.DOMWidget:
    """Put the control's label above it, at full width, and let the label wrap."""
    control.add_class(STACKED)
    control.layout.width = width
    control.style.description_width = "initial"
    return control


def textarea(label: str, *, rows: int = 3, placeholder: str = "") -> w.Textarea:
    return stacked(w.Textarea(description=label, rows=rows, placeholder=placeholder))


def html_block(markup: str, *classes: str) -> w.HTML:
    block = w.HTML(markup)
    for cls in classes:
        block.add_class(cls)
    return block
