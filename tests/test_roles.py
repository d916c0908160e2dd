"""Roles and identity without a server: roles.yaml, the core's refusals, the signed stamp,
and who a page decides it is talking to."""

from __future__ import annotations

import json

import pytest

from tests.signing import approve_anyway
from workbook import review
from workbook.errors import WorkbookError
from workbook.members import create_project, parse_members, set_members
from workbook.roles import (
    Action,
    Actor,
    NotAMember,
    Role,
    RoleRequired,
    actor_for,
    load_roles,
    parse_roles,
)
from workbook.server_identity import (
    ENV_HEADER,
    KEY_ENV,
    MODE_ENV,
    Vouched,
    new_key,
    read_stamp,
    restamp,
    stamp,
)
from workbook.session import EditSession
from workbook.store import Store

ROLES_YAML = """\
groups:
  authors: [author]
  reviewers: [reviewer]
  viewers: [viewer]
  admins: [admin]
users:
  erin: [author, reviewer]
"""


def team(store: Store) -> dict[str, Actor]:
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / "roles.yaml").write_text(ROLES_YAML)
    roles = load_roles(store.root)
    groups = {"alice": ["authors"], "bob": ["reviewers"], "carol": ["viewers"],
              "dana": ["admins"], "erin": [], "zed": []}  # fmt: skip
    return {
        name: actor_for(name, source="hub", groups=g, roles=roles) for name, g in groups.items()
    }


@pytest.fixture
def members_project(store: Store) -> str:
    store.create("Team Tool", "Test Council", project_id="p", user="dana",
                 members=["alice", "bob", "carol", "erin"])  # fmt: skip
    return "p"


# --------------------------------------------------------------------------- roles.yaml


def test_roles_come_from_groups_and_names(store):
    people = team(store)
    assert people["alice"].roles == {Role.author}
    assert people["erin"].roles == {Role.author, Role.reviewer}
    assert people["zed"].roles == frozenset()
    assert people["bob"].require(Action.sign_off) == "reviewer"
    assert people["erin"].role_for(Action.reply) == "author"
    assert people["erin"].roles_text == "author and reviewer"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("groups: [authors]\n", "'groups' must map names to lists of roles"),
        ("groups:\n  authors: [writer]\n", "'groups.authors' has unknown role 'writer'"),
        ("people:\n  alice: [author]\n", "unknown key 'people'"),
        ("groups: {a: [author]\n", "not valid YAML (line"),
        ("- author\n", "expected a mapping"),
    ],
)
def test_a_bad_roles_file_is_named_with_its_field(tmp_path, text, words):
    (tmp_path / "roles.yaml").write_text(text)
    with pytest.raises(WorkbookError) as caught:
        load_roles(tmp_path)
    assert words in str(caught.value)
    assert "roles.yaml" in str(caught.value)


def test_no_roles_file_means_roles_off_in_the_single_user_app_and_nothing_on_a_hub(tmp_path):
    assert load_roles(tmp_path) is None
    laptop = actor_for("Sam", source="self", roles=None)
    assert not laptop.enforced
    assert laptop.may(Action.sign_off)
    hub = actor_for("alice", source="hub", roles=None)
    assert hub.enforced
    assert not hub.may(Action.read)
    assert parse_roles({}).roles_of("x") == frozenset()


# --------------------------------------------------------------------------- the core refuses


def test_an_author_cannot_sign_off_comment_or_resolve_through_the_core(store, members_project):
    people = team(store)
    alice, bob = people["alice"], people["bob"]
    with pytest.raises(RoleRequired, match="needs the reviewer role"):
        approve_anyway(store, "p", "explore", decision="approved", reviewer="bob",
                       user=alice)  # fmt: skip
    with pytest.raises(RoleRequired):
        review.add_comment(store, "p", target="q1", kind="challenge", text="Why?", user=alice)
    _, tid = review.add_comment(store, "p", target="q1", kind="challenge", text="Why?", user=bob)
    with pytest.raises(RoleRequired):
        review.set_resolved(store, "p", tid, True, user=alice, reason="Because.")
    with pytest.raises(RoleRequired):
        review.restore(store, "p", "answers.q1.response", 1, user=bob)
    assert store.open("p").review.signoffs.explore is None


def test_the_record_names_the_login_and_the_role_it_acted_in(store, members_project):
    people = team(store)
    alice, bob = people["alice"], people["bob"]
    wb, tid = review.add_comment(
        store, "p", target="q1", kind="challenge", text="Who was asked?", user=bob,
        role="typed in the page",
    )  # fmt: skip
    assert (wb.review.threads[tid].author, wb.review.threads[tid].role) == ("bob", "reviewer")
    wb, rid = review.reply(store, "p", tid, text="Parents' groups.", user=alice)
    assert wb.review.threads[tid].replies[rid].role == "author"
    review.set_resolved(store, "p", tid, True, user=bob)
    wb = approve_anyway(store, "p", "explore", decision="approved", reviewer="Mallory",
                        role="Chair", user=bob)  # fmt: skip
    signed = wb.review.signoffs.explore
    assert (signed.reviewer, signed.role) == ("bob", "reviewer")
    lines = [(e["user"], e.get("role")) for e in store.history("p") if e["outcome"] == "saved"]
    assert ("bob", "reviewer") in lines
    assert ("alice", "author") in lines
    assert all(role in ("author", "reviewer") for _, role in lines)


def test_an_edit_by_someone_without_the_author_role_is_not_saved(store, members_project):
    people = team(store)
    session = EditSession(store, "p", user=people["carol"])
    session.set("answers.q1.response", "Written by a viewer")
    assert session.save() is False
    assert session.state.kind == "error"
    assert "needs the author role" in session.state.message
    assert store.open("p").answers.q1.response == ""
    author = EditSession(store, "p", user=people["alice"])
    author.set("answers.q1.response", "Written by an author")
    assert author.save() is True
    last = [e for e in store.history("p") if e["path"] == "answers.q1.response"][-1]
    assert (last["user"], last["role"]) == ("alice", "author")


def test_only_members_and_admins_open_a_project(store, members_project):
    people = team(store)
    with pytest.raises(NotAMember, match="zed is not a member of project 'p'"):
        EditSession(store, "p", user=people["zed"])
    EditSession(store, "p", user=people["dana"])  # an admin opens every project
    with pytest.raises(NotAMember):
        review.add_comment(
            store, "p", target="q1", kind="question", text="?",
            user=actor_for("bob2", source="hub", groups=["reviewers"],
                           roles=load_roles(store.root)),
        )  # fmt: skip


def test_only_an_admin_creates_projects_and_changes_members(store, members_project):
    people = team(store)
    with pytest.raises(RoleRequired, match="needs the admin role"):
        create_project(store, people["alice"], "Another", "Council")
    with pytest.raises(RoleRequired):
        set_members(store, "p", ["alice"], user=people["bob"])
    wb = create_project(store, people["dana"], "Another", "Council", members=["alice", "alice"])
    assert wb.project.members == ["alice"]
    wb = set_members(store, "p", parse_members("alice,\nbob\n\n, zed"), user=people["dana"])
    assert wb.project.members == ["alice", "bob", "zed"]
    last = store.history("p")[-1]
    assert (last["user"], last["role"], last["path"]) == ("dana", "admin", "project.members")


def test_without_roles_the_core_works_as_before(store, members_project):
    wb, tid = review.add_comment(
        store, "p", target="q1", kind="question", text="?", user="Sam", role="Chair"
    )
    assert wb.review.threads[tid].role == "Chair"
    session = EditSession(store, "p", user="Sam")
    session.set("answers.q1.response", "Fine")
    assert session.save() is True
    assert "role" not in store.history("p")[-1]


# --------------------------------------------------------------------------- the stamp


def test_a_stamp_is_read_only_with_its_key_and_unchanged():
    key = new_key()
    value = stamp(Vouched("alice", "hub", ("authors",)), key)
    assert read_stamp(value, key) == Vouched("alice", "hub", ("authors",))
    assert read_stamp(value, new_key()) is None
    body, sig = value.split(".")
    forged = json.dumps({"name": "bob", "source": "hub", "groups": []}).encode()
    import base64

    assert read_stamp(base64.urlsafe_b64encode(forged).decode() + "." + sig, key) is None
    assert read_stamp("nonsense", key) is None
    assert read_stamp(value, None) is None


def test_restamp_drops_what_the_browser_sent():
    from tornado.httputil import HTTPHeaders

    key = new_key()
    headers = HTTPHeaders()
    headers.add("x-workbook-identity", "forged")
    restamp(headers, None, key)
    assert "X-Workbook-Identity" not in headers
    headers.add("X-WORKBOOK-IDENTITY", "forged")
    restamp(headers, Vouched("alice", "proxy"), key)
    assert len(headers.get_list("X-Workbook-Identity")) == 1
    assert read_stamp(headers["X-Workbook-Identity"], key).name == "alice"


# --------------------------------------------------------------------------- who is this


def test_identify_trusts_a_valid_stamp_and_refuses_a_vouching_server_without_one():
    from widgets.identity import identify

    key = new_key()
    good = stamp(Vouched("bob", "hub", ("reviewers",)), key)
    page = {"VOILA_PREHEAT": "False", MODE_ENV: "hub", KEY_ENV: key, "JUPYTERHUB_USER": "alice"}
    who = identify({**page, ENV_HEADER: good})
    assert (who.name, who.source, who.groups) == ("bob", "hub", ("reviewers",))
    # the server's owner (JUPYTERHUB_USER) is not who is at a shared page
    refused = identify(page)
    assert refused.name == ""
    assert refused.refused
    assert identify({**page, ENV_HEADER: stamp(Vouched("bob", "hub"), new_key())}).refused
    # a proxy stamp on a hub server, or the reverse, does not count
    assert identify({**page, ENV_HEADER: stamp(Vouched("bob", "proxy"), key)}).refused
    # a hub server without the extension: refused, not the owner's name
    assert identify({"VOILA_PREHEAT": "False", "JUPYTERHUB_USER": "alice"}).refused
    # JupyterLab on the owner's own server: the owner
    lab = identify({"JUPYTERHUB_USER": "alice"})
    assert (lab.name, lab.source, lab.refused) == ("alice", "hub", "")
    # the single-user app: the session cookie, never the address
    laptop = identify({"VOILA_PREHEAT": "True", "HTTP_COOKIE": "ew_user=Sam%20Patel",
                       "QUERY_STRING": "user=Mallory"})  # fmt: skip
    assert (laptop.name, laptop.source) == ("Sam Patel", "self")
    # a cookie does not stand in for a missing proxy stamp
    proxy = {"VOILA_PREHEAT": "True", MODE_ENV: "proxy", KEY_ENV: key}
    assert identify({**proxy, "HTTP_COOKIE": "ew_user=Mallory"}).refused


def test_the_portfolio_lists_only_the_projects_someone_is_a_member_of(store, members_project):
    from workbook.portfolio import portfolio_rows

    people = team(store)
    store.create("Other Tool", "Test Council", project_id="other", user="dana")
    (store.root / "broken").mkdir()
    (store.root / "broken" / "workbook.json").write_text("{ nope")
    ids = {
        name: [r.project_id for r in portfolio_rows(store, actor=a)] for name, a in people.items()
    }
    assert ids["alice"] == ["p"]
    assert ids["zed"] == []
    assert sorted(ids["dana"]) == ["broken", "other", "p"]
    assert sorted(r.project_id for r in portfolio_rows(store)) == ["broken", "other", "p"]
