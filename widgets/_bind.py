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
from functools import cache
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
        self.anchors: dict[str, w.Widget] = {}
        """Each bound path's control (or list editor), first bound first: where a note about
        the field, such as a personal-data warning, goes (just after it)."""
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
        self.anchors.setdefault(path, control)
        return control

    def anchor(self, path: str, widget: w.Widget) -> None:
        """Name ``widget`` as the one showing ``path`` when it is not bound with
        :meth:`bind` (a list editor)."""
        self.anchors.setdefault(path, widget)

    def initial(self, path: str, from_json: Callable[[Any], Any] = lambda v: v) -> Any:
        """The value to construct a control with, so binding it sends no update."""
        return from_json(self.session.value(path))

    def watch(self, path: str, setter: Callable[[Any], None]) -> None:
        """Call ``setter(value)`` when the shown value of ``path`` changes (for list editors)."""
        self._setters.setdefault(path, []).append(setter)


@cache
def shared_layout(width: str | None = None) -> w.Layout:
    """One Layout per width, shared by every control that uses it.

    Each widget otherwise creates its own Layout and Style models, and every model is a
    message to the browser: sharing them (and passing classes and values to constructors
    rather than setting them afterwards) roughly halves what a phase page sends.
    Never mutate a shared layout.
    """
    return w.Layout(width=width) if width else w.Layout()


@cache
def shared_style(style_class: type) -> w.Style:
    return style_class()


def _style_for(widget_class: type) -> dict[str, w.Style]:
    trait = widget_class.class_traits().get("style")
    return {"style": shared_style(trait.klass)} if trait is not None else {}


def stacked_kw(widget_class: type, width: str = "100%") -> dict[str, Any]:
    """Constructor arguments for a stacked control: label above it, full width, wrapping.

    The label layout itself comes from the ``ew-stacked`` CSS class in the Voilà template.
    """
    return {"layout": shared_layout(width), **_style_for(widget_class), "_dom_classes": (STACKED,)}


def plain_kw(widget_class: type, *classes: str) -> dict[str, Any]:
    """Constructor arguments for any other control: shared layout and style, CSS classes."""
    return {"layout": shared_layout(), **_style_for(widget_class), "_dom_classes": tuple(classes)}


def textarea(
    label: str,
    *,
    rows: int = 3,
    placeholder: str = "",
    value: str = "",
    classes: tuple = (),
    continuous_update: bool = True,
) -> w.Textarea:
    """A stacked, labelled text area.

    ``continuous_update=False`` for a field read when a button is pressed: the browser then
    sends the value when the field loses focus, before the click. (Typed values are sent
    throttled, and a click is not, so a fast click could otherwise overtake the last
    keystrokes.)
    """
    kw = stacked_kw(w.Textarea)
    kw["_dom_classes"] = (STACKED, *classes)
    return w.Textarea(
        description=label,
        rows=rows,
        placeholder=placeholder,
        value=value,
        continuous_update=continuous_update,
        **kw,
    )


def html_block(markup: str, *classes: str) -> w.HTML:
    return w.HTML(markup, **plain_kw(w.HTML, *classes))
