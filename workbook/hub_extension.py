"""A Jupyter server extension for a user's server under JupyterHub.

Enable it (``jpserver_extensions: {"workbook.hub_extension": true}``, as
``deploy/jupyterhub/jupyterhub_config.py`` does) and every Voilà page request carries the
hub user who is looking at it, signed for the page's kernel (:mod:`workbook.voila_identity`).

Why the request and not ``JUPYTERHUB_USER``: that variable names the server's owner. When
the owner shares the server (JupyterHub's sharing, or an app gallery such as jhub-apps),
the person at the page is someone else, and their changes must carry their own name. The
request's login is checked by the single-user server against the hub before Voilà runs, so
its user is the one who logged in. This works with Voilà's server-extension pages (which
start a kernel per request, with the request's headers in its environment); it costs no
call to the hub beyond the login check the server makes anyway.
"""

from __future__ import annotations

from typing import Any

from workbook.server_identity import Vouched, hub_user


def _who(handler: Any) -> Vouched | None:
    user = handler.current_user
    model = getattr(user, "hub_user", None)  # jupyterhub.singleuser's JupyterHubUser
    return hub_user(model) if isinstance(model, dict) else None


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "workbook.hub_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from workbook.voila_identity import install

    install("hub", _who)
    serverapp.log.info("ethics-workbook: Voilà pages carry the hub user who opened them")
