"""Who is this? The one place the app answers it.

- On JupyterHub, in a Voilà page: the hub user who opened the page, as the user's server
  vouches for it in a signed request header (:mod:`workbook.server_identity`, added by
  :mod:`workbook.hub_extension`). Not ``JUPYTERHUB_USER``: that names the server's owner,
  and a shared server's visitor is someone else. With no valid stamp the page refuses to
  open for editing rather than guess.
- Behind a council's authenticating proxy (``workbook serve --trust-user-header``): the
  proxy's user header, stamped the same way by the server.
- On JupyterHub in JupyterLab (or papermill): ``JUPYTERHUB_USER``, the server's owner, who
  is the person at their own JupyterLab.
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
import json
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import unquote

from workbook.server_identity import ENV_HEADER, KEY_ENV, MODE_ENV, MODES, clean, read_stamp

COOKIE = "ew_user"
clean_name = clean
"""A display name from untrusted input: printable, single-spaced, at most 100 characters
(the same cleaning the server applies to the names it vouches for)."""


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


@dataclass(frozen=True)
class Identity:
    """Who is at this page.

    ``source``: ``hub`` or ``proxy`` (the server vouches for ``name``) or ``self`` (the
    name the person gave; ``""`` until they give it). ``refused`` says why nobody can be
    identified when the server should vouch but did not: the page must not open for
    editing then.
    """

    name: str
    source: str
    groups: tuple[str, ...] = ()
    refused: str = ""

    @property
    def vouched(self) -> bool:
        return self.source in MODES


REFUSED_NO_STAMP = (
    "The server did not say who you are, so this page cannot record changes under your "
    "name. Log in again; if this keeps happening, the administrator should check that the "
    "workbook's server extension (workbook.hub_extension) is enabled."
)
REFUSED_NO_PROXY_USER = (
    "The sign-in in front of this server did not say who you are, so this page cannot "
    "record changes under your name. Sign in again, or ask the administrator to check the "
    "proxy's user header."
)


def in_voila(env: Mapping[str, str]) -> bool:
    """A Voilà page's kernel (Voilà sets ``VOILA_PREHEAT`` in every kernel it starts)."""
    return "VOILA_PREHEAT" in env or bool(env.get("VOILA_KERNEL_ID"))


def identify(env: Mapping[str, str] | None = None) -> Identity:
    """Who is at this page; see the module's docstring for the order of trust."""
    env = os.environ if env is None else env
    mode = env.get(MODE_ENV, "")
    stamped = read_stamp(env.get(ENV_HEADER), env.get(KEY_ENV))
    if stamped is not None and stamped.source == mode:
        return Identity(stamped.name, stamped.source, stamped.groups)
    owner = clean_name(env.get("JUPYTERHUB_USER"))
    if in_voila(env) and (mode in MODES or owner):
        why = REFUSED_NO_PROXY_USER if mode == "proxy" else REFUSED_NO_STAMP
        return Identity("", mode if mode in MODES else "hub", refused=why)
    if owner:
        return Identity(owner, "hub", hub_groups(env))
    return Identity(name_from_cookie(env.get("HTTP_COOKIE")), "self")


def hub_groups(env: Mapping[str, str]) -> tuple[str, ...]:
    """The server owner's JupyterHub groups, asked of the hub with the server's own token
    (which may read its owner's name and groups); () if the hub does not answer."""
    url, token = env.get("JUPYTERHUB_API_URL"), env.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return ()
    request = urllib.request.Request(
        url.rstrip("/") + "/user", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 (the hub's URL)
            model = json.load(resp)
    except (OSError, ValueError):
        return ()
    groups = model.get("groups") if isinstance(model, dict) else None
    return tuple(clean_name(g) for g in groups if isinstance(g, str)) if groups else ()


def who_is_this(env: Mapping[str, str] | None = None) -> str:
    """The name to record with this person's changes, or "" when they must be asked (or,
    see :func:`identify`, cannot be identified)."""
    return identify(env).name


CHANGE_NAME = "#change-name"
"""A link to this fragment forgets the browser session's name and asks again (handled by
the page script, ``static/page_status.js``): for a shared PC, where the last person's name
would otherwise stay until the browser closes."""


def change_name_link(user: str) -> str:
    """ " Not Sam? Change the name" for a name the person gave; nothing for a login's name."""
    if os.environ.get(MODE_ENV) in MODES or clean_name(os.environ.get("JUPYTERHUB_USER")):
        return ""
    return (
        f' <a class="ew-change-name" href="{CHANGE_NAME}">Not {html.escape(user)}? '
        "Change the name</a>"
    )
