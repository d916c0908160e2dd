"""Who is this? The one place the app answers it.

- On JupyterHub, the hub's user (``JUPYTERHUB_USER``): the person who logged in.
- In the single-user app, the name the person gave once in this browser session. The page
  script keeps it in a session cookie (``ew_user``: no expiry date, so it goes when the
  browser closes; ``SameSite=Strict``, so another site cannot send it). Voilà passes the
  request's ``Cookie`` header to the kernel as ``HTTP_COOKIE`` (``http_header_envs`` in
  ``voila.json``).
- Never from the page address: a link can be forwarded, and whoever opens it must not write
  under the sender's name. An old link's ``?user=`` is ignored.

A session cookie is a name the person typed, not a login: anyone at the same browser can
type any name. Only JupyterHub makes the name one the server vouches for.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from urllib.parse import unquote

COOKIE = "ew_user"
MAX_NAME = 100


def clean_name(value: str | None) -> str:
    """A display name from untrusted input: printable, single-spaced, at most 100 characters."""
    text = "".join(ch for ch in (value or "") if ch.isprintable())
    return " ".join(text.split())[:MAX_NAME]


def name_from_cookie(header: str | None) -> str:
    """The name stored in the browser session cookie, cleaned; "" if there is none."""
    if not header:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return clean_name(unquote(morsel.value)) if morsel is not None else ""


def who_is_this(env: Mapping[str, str] | None = None) -> str:
    """The name to record with this person's changes, or "" when they must be asked."""
    env = os.environ if env is None else env
    return clean_name(env.get("JUPYTERHUB_USER")) or name_from_cookie(env.get("HTTP_COOKIE"))


CHANGE_NAME = "#change-name"
"""A link to this fragment forgets the browser session's name and asks again (handled by
the page script, ``static/page_status.js``): for a shared PC, where the last person's name
would otherwise stay until the browser closes."""


def change_name_link(user: str) -> str:
    """" Not Sam? Change the name" for a name the person gave; nothing for a login's name."""
    if clean_name(os.environ.get("JUPYTERHUB_USER")):
        return ""
    return (
        f' <a class="ew-change-name" href="{CHANGE_NAME}">Not {html.escape(user)}? '
        "Change the name</a>"
    )
