"""Who is asking, as the server vouches for it: a signed request header for the page's kernel.

A page's kernel cannot see the request's login, only what Voilà passes it
(``http_header_envs``). So the server that checked the login (JupyterHub's single-user
server, or ``workbook serve`` behind a council's authenticating proxy) adds one header to
the page request, ``X-Workbook-Identity``: the user's name, groups and how they were
identified, signed with HMAC-SHA256 under a key the server makes when it starts and hands
only to its kernels (``WORKBOOK_IDENTITY_KEY`` in their environment). Voilà passes the
header on to the kernel, including a preheated one (through its request message).

A header sent by the browser carries no valid signature (the key never leaves the server
and its kernels), and the server replaces it anyway. A kernel that finds no valid stamp
while ``WORKBOOK_IDENTITY`` says the server vouches for its users refuses to open the page
for editing (:func:`widgets.identity.identify`).

This module is pure: no I/O, no server imports. :mod:`workbook.hub_extension` and
:mod:`workbook.voila_app` apply it to requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HEADER = "X-Workbook-Identity"
ENV_HEADER = "HTTP_X_WORKBOOK_IDENTITY"
"""The name Voilà gives the header in the kernel's environment (``HTTP_`` + upper case)."""
KEY_ENV = "WORKBOOK_IDENTITY_KEY"
MODE_ENV = "WORKBOOK_IDENTITY"
"""Set by a server that vouches for its users: ``hub`` (JupyterHub) or ``proxy`` (a
trusted header from an authenticating reverse proxy)."""
MODES = ("hub", "proxy")
MAX_NAME = 100
MAX_GROUPS = 50


@dataclass(frozen=True)
class Vouched:
    """A user the server has identified: ``source`` is ``hub`` or ``proxy``."""

    name: str
    source: str
    groups: tuple[str, ...] = field(default_factory=tuple)


def clean(value: object) -> str:
    """A name from outside: printable, single-spaced, at most 100 characters."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable())
    return " ".join(text.split())[:MAX_NAME]


def new_key() -> str:
    return secrets.token_hex(32)


def _sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def stamp(user: Vouched, key: str) -> str:
    """The header value for ``user``: ``<base64 JSON>.<HMAC>``."""
    payload = {
        "name": clean(user.name),
        "source": user.source,
        "groups": sorted({clean(g) for g in user.groups if clean(g)})[:MAX_GROUPS],
    }
    body = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode())
    return f"{body.decode()}.{_sign(body, key)}"


def read_stamp(value: str | None, key: str | None) -> Vouched | None:
    """The user in a header value, or None if it is missing, malformed or not signed with
    ``key``."""
    if not value or not key or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    if not hmac.compare_digest(_sign(body.encode(), key), signature):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    name = clean(payload.get("name"))
    source = payload.get("source")
    groups = payload.get("groups")
    if not name or source not in MODES or not isinstance(groups, list):
        return None
    return Vouched(name, source, tuple(clean(g) for g in groups if isinstance(g, str)))


def restamp(headers: object, user: Vouched | None, key: str) -> None:
    """Remove every ``X-Workbook-Identity`` the browser sent from a tornado ``HTTPHeaders``
    and, when the server knows the user, add its own."""
    for name in [h for h in list(headers) if h.lower() == HEADER.lower()]:  # type: ignore[attr-defined]
        del headers[name]  # type: ignore[attr-defined]
    if user is not None and clean(user.name):
        headers[HEADER] = stamp(user, key)  # type: ignore[index]


def hub_user(model: Mapping[str, object] | None) -> Vouched | None:
    """A JupyterHub user model (``{"name": ..., "groups": [...]}``) as a vouched user."""
    if not model or not clean(model.get("name")):
        return None
    groups = model.get("groups") or []
    names: Iterable[str] = groups if isinstance(groups, list) else []
    return Vouched(clean(model["name"]), "hub", tuple(str(g) for g in names))
