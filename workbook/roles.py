"""Who may do what: roles, the workspace's ``roles.yaml``, project members, and the check.

Four roles:

- **viewer** reads;
- **author** edits answers and replies to comments;
- **reviewer** comments, challenges, resolves, signs off (and replies);
- **admin** creates projects and decides who is a member of which.

A person's roles come from the workspace's ``roles.yaml``: by JupyterHub group, or by
name. A project's members are listed in the project (``project.members``); only members
(and admins) open it. Roles are *on* when the workspace has a ``roles.yaml`` or the server
vouches for its users (JupyterHub, or a trusted proxy header): then a person whose roles
allow nothing is refused, and with no ``roles.yaml`` on a team server nobody may change
anything. In the single-user app with no ``roles.yaml`` they are off: one person on their
laptop does everything, under the name they gave.

The widgets hide or disable what a role may not do; the core functions refuse it anyway
(:meth:`Actor.require` raises :class:`RoleRequired`), so a widget message crafted in the
browser cannot sign off. Every change records the name and the role it was made in.

Pure logic apart from reading ``roles.yaml``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError

ROLES_FILE = "roles.yaml"
MAX_ROLES_FILE = 1_000_000


class Role(str, enum.Enum):
    viewer = "viewer"
    author = "author"
    reviewer = "reviewer"
    admin = "admin"


class Action(str, enum.Enum):
    read = "read"
    edit = "edit"
    reply = "reply"
    comment = "comment"
    resolve = "resolve"
    sign_off = "sign_off"
    restore = "restore"
    create_project = "create_project"
    assign = "assign"
    rate = "rate"
    agree = "agree"


WHO_MAY: dict[Action, tuple[Role, ...]] = {
    Action.read: (Role.viewer, Role.author, Role.reviewer, Role.admin),
    Action.edit: (Role.author,),
    Action.reply: (Role.author, Role.reviewer),
    Action.comment: (Role.reviewer,),
    Action.resolve: (Role.reviewer,),
    Action.sign_off: (Role.reviewer,),
    Action.restore: (Role.author,),
    Action.create_project: (Role.admin,),
    Action.assign: (Role.admin,),
    Action.rate: (Role.author, Role.reviewer),
    Action.agree: (Role.reviewer,),
}
"""The roles that may take each action, the first being the one recorded when the person
holds several (or when roles are off)."""

ACTION_WORDS: dict[Action, str] = {
    Action.read: "read this project",
    Action.edit: "edit answers",
    Action.reply: "reply to comments",
    Action.comment: "comment or challenge",
    Action.resolve: "mark comments resolved",
    Action.sign_off: "record a sign-off",
    Action.restore: "restore an earlier answer",
    Action.create_project: "create projects",
    Action.assign: "change a project's members",
    Action.rate: "rate the authority's maturity",
    Action.agree: "record agreed maturity levels, targets and actions, or close a round",
}


class RoleRequired(WorkbookError):
    """The person's roles do not allow the action. Names the role(s) that would."""

    def __init__(self, name: str, action: Action, **kw: Any) -> None:
        names = [r.value for r in WHO_MAY[action]]
        needed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        super().__init__(
            f"{name or 'this user'} may not {ACTION_WORDS[action]}: that needs the {needed} "
            "role in this workspace (roles.yaml)",
            field="role",
            **kw,
        )
        self.action = action
        self.needed = WHO_MAY[action]


class RolesFileError(WorkbookError):
    """The workspace's ``roles.yaml`` cannot be read or is not valid."""


class NotAMember(WorkbookError):
    """The person is not a member of the project (and not an admin)."""

    def __init__(self, name: str, project_id: str, **kw: Any) -> None:
        super().__init__(
            f"{name or 'this user'} is not a member of project {project_id!r}; an admin can "
            "add them",
            field="project.members",
            **kw,
        )


@dataclass(frozen=True)
class RoleMap:
    """``roles.yaml``: roles by JupyterHub group and by user name."""

    groups: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    users: Mapping[str, frozenset[Role]] = field(default_factory=dict)

    def roles_of(self, name: str, groups: Iterable[str] = ()) -> frozenset[Role]:
        found = set(self.users.get(name, ()))
        for group in groups:
            found |= self.groups.get(group, frozenset())
        return frozenset(found)


def load_roles(workspace: str | Path) -> RoleMap | None:
    """The workspace's ``roles.yaml``, or None if it has none. A file that is not valid
    raises :class:`WorkbookError` naming the file and the field."""
    from workbook.settings import read_workspace_yaml

    path = Path(workspace) / ROLES_FILE
    data = read_workspace_yaml(path, max_bytes=MAX_ROLES_FILE, error=RolesFileError)
    if data is None:
        return None
    return parse_roles(data, path)


def parse_roles(data: Any, path: str | Path = ROLES_FILE) -> RoleMap:
    if not isinstance(data, dict):
        raise RolesFileError("expected a mapping with 'groups' and 'users'", path=path)
    unknown = sorted(set(data) - {"groups", "users"})
    if unknown:
        raise RolesFileError(
            f"unknown key {unknown[0]!r} (expected 'groups' and 'users')",
            path=path,
            field=str(unknown[0]),
        )
    sections: dict[str, dict[str, frozenset[Role]]] = {}
    for section in ("groups", "users"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise RolesFileError(
                f"'{section}' must map names to lists of roles", path=path, field=section
            )
        parsed: dict[str, frozenset[Role]] = {}
        for name, roles in entries.items():
            where = f"{section}.{name}"
            if not isinstance(name, str) or not name.strip():
                raise RolesFileError(f"a name in '{section}' is empty", path=path, field=section)
            if isinstance(roles, str):
                roles = [roles]
            if not isinstance(roles, list):
                raise RolesFileError(f"'{where}' must be a list of roles", path=path, field=where)
            try:
                parsed[name.strip()] = frozenset(Role(str(r).strip()) for r in roles)
            except ValueError:
                bad = next(r for r in roles if str(r).strip() not in Role.__members__)
                raise RolesFileError(
                    f"'{where}' has unknown role {bad!r} (roles: viewer, author, reviewer, admin)",
                    path=path,
                    field=where,
                ) from None
        sections[section] = parsed
    return RoleMap(groups=sections["groups"], users=sections["users"])


@dataclass(frozen=True)
class Actor:
    """A person acting in the app: their name, how it was established, and their roles.

    ``source`` is ``hub`` or ``proxy`` (the server vouches for the name), ``self`` (the
    name the person typed) or ``local`` (a command run by whoever has the files).
    ``enforced`` is False only when roles are off (see the module's docstring).
    """

    name: str
    roles: frozenset[Role] = frozenset(Role)
    source: str = "local"
    enforced: bool = False

    def may(self, action: Action | str) -> bool:
        action = Action(action)
        return not self.enforced or any(r in self.roles for r in WHO_MAY[action])

    def role_for(self, action: Action | str) -> str:
        """The role this action is recorded in ("" when the person may not take it)."""
        action = Action(action)
        for role in WHO_MAY[action]:
            if not self.enforced or role in self.roles:
                return role.value
        return ""

    def require(self, action: Action | str) -> str:
        """The role the action is taken in; raises :class:`RoleRequired` if none allows it."""
        action = Action(action)
        if not self.may(action):
            raise RoleRequired(self.name, action)
        return self.role_for(action)

    def is_member(self, members: Iterable[str]) -> bool:
        return not self.enforced or Role.admin in self.roles or self.name in set(members)

    def require_member(self, project_id: str, members: Iterable[str]) -> None:
        if not self.is_member(members):
            raise NotAMember(self.name, project_id)

    @property
    def roles_text(self) -> str:
        """``author and reviewer``; ``no role`` when there is none."""
        names = [r.value for r in Role if r in self.roles]
        if not names:
            return "no role"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def as_actor(user: str | Actor) -> Actor:
    """Core functions take a name (a command-line user, a test: roles off) or an Actor."""
    return user if isinstance(user, Actor) else Actor(name=user)


def actor_for(
    name: str,
    *,
    source: str,
    groups: Iterable[str] = (),
    roles: RoleMap | None = None,
) -> Actor:
    """The Actor for a person identified by ``source`` (hub, proxy or self), with roles from
    the workspace's ``roles.yaml`` (``roles``; None if it has none)."""
    vouched = source in ("hub", "proxy")
    if roles is None:
        if vouched:
            return Actor(name=name, roles=frozenset(), source=source, enforced=True)
        return Actor(name=name, source=source)
    return Actor(name=name, roles=roles.roles_of(name, groups), source=source, enforced=True)
