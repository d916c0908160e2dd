"""Stamp every Voilà page request with the user the server vouches for.

Used by :mod:`workbook.hub_extension` (JupyterHub's single-user server: the hub's login)
and by :mod:`workbook.voila_app` (``workbook serve --trust-user-header``: a header set by
an authenticating reverse proxy). Both call :func:`install` once, before any kernel
starts: it puts a new key and the mode in ``os.environ`` (kernels inherit both) and wraps
``VoilaHandler.prepare`` so that, after the server's own login check, the request carries
``X-Workbook-Identity`` signed with that key (see :mod:`workbook.server_identity`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from workbook.server_identity import KEY_ENV, MODE_ENV, MODES, Vouched, new_key, restamp

Who = Callable[[Any], "Vouched | None"]
"""Given the tornado handler (after its login check), the user it vouches for, or None."""


def install(mode: str, who: Who) -> None:
    """Make every Voilà page request carry the stamped user (``mode``: hub or proxy)."""
    if mode not in MODES:
        raise ValueError(f"unknown identity mode {mode!r}")
    from voila.handler import VoilaHandler

    key = os.environ.get(KEY_ENV) if os.environ.get(MODE_ENV) == mode else None
    key = key or new_key()
    os.environ[KEY_ENV] = key
    os.environ[MODE_ENV] = mode
    VoilaHandler._ew_who = staticmethod(who)  # type: ignore[attr-defined]
    VoilaHandler._ew_key = key  # type: ignore[attr-defined]
    if getattr(VoilaHandler, "_ew_stamped", False):
        return

    async def prepare(self: Any, *args: Any, **kwargs: Any) -> None:
        await super(VoilaHandler, self).prepare(*args, **kwargs)
        if self._finished:  # the login check redirected or refused
            return
        try:
            user = type(self)._ew_who(self)
        except Exception:  # an unexpected user model: no stamp, so the page refuses to edit
            self.log.warning("ethics-workbook: could not read the logged-in user", exc_info=True)
            user = None
        restamp(self.request.headers, user, type(self)._ew_key)

    VoilaHandler.prepare = prepare  # type: ignore[method-assign]
    VoilaHandler._ew_stamped = True  # type: ignore[attr-defined]
