"""Protective marking: the workspace's settings.yaml, a project's own marking, the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from workbook.cli import cli
from workbook.demo import create_demo
from workbook.errors import WorkbookError
from workbook.export.report import build_report
from workbook.roles import RoleRequired, actor_for, parse_roles
from workbook.settings import SettingsError, load_settings, marking_for, set_marking


def test_without_settings_documents_are_official(tmp_path):
    assert load_settings(tmp_path).marking == "OFFICIAL"
    assert marking_for("", tmp_path) == "OFFICIAL"


def test_the_workspace_marking_applies_unless_the_project_has_its_own(demo_store):
    (demo_store.root / "settings.yaml").write_text("marking: OFFICIAL-SENSITIVE\n")
    assert marking_for("", demo_store.root) == "OFFICIAL-SENSITIVE"
    assert marking_for("OFFICIAL", demo_store.root) == "OFFICIAL"
    wb = set_marking(demo_store, "demo", "OFFICIAL", user="ig")
    assert wb.project.marking == "OFFICIAL"
    assert build_report(wb)["marking"] == "OFFICIAL"
    again = demo_store.open("demo")
    assert again.project.marking == "OFFICIAL"  # on disk


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("marking: SECRET\n", "marking"),
        ("colour: red\n", "colour"),
        ("- marking\n", None),
        ("marking: [\n", None),
    ],
)
def test_a_bad_settings_file_names_the_file_and_the_field(tmp_path, text, field):
    (tmp_path / "settings.yaml").write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path)
    assert "settings.yaml" in str(caught.value)
    assert caught.value.field == field


def test_an_unknown_marking_is_refused_and_nothing_is_saved(demo_store):
    before = demo_store.open("demo").revision
    with pytest.raises(WorkbookError, match="marking must be one of"):
        set_marking(demo_store, "demo", "TOP SECRET", user="ig")
    assert demo_store.open("demo").revision == before


def test_with_roles_on_only_an_admin_sets_the_marking(store):
    create_demo(store, project_id="demo", user="setup")
    roles = parse_roles({"users": {"alice": "author", "dana": "admin"}})
    author = actor_for("alice", source="hub", groups=(), roles=roles)
    with pytest.raises(RoleRequired):
        set_marking(store, "demo", "OFFICIAL-SENSITIVE", user=author)
    admin = actor_for("dana", source="hub", groups=(), roles=roles)
    assert set_marking(store, "demo", "OFFICIAL-SENSITIVE", user=admin).project.marking


def test_the_cli_shows_and_sets_the_marking(demo_store):
    run = CliRunner().invoke
    ws = ["--workspace", str(demo_store.root)]
    shown = run(cli, [*ws, "marking", "demo"])
    assert shown.exit_code == 0, shown.output
    assert "marked OFFICIAL (the workspace's marking)" in shown.output
    changed = run(cli, [*ws, "marking", "demo", "official-sensitive", "--user", "ig"])
    assert "marked OFFICIAL-SENSITIVE (its own marking)" in changed.output
    (demo_store.root / "settings.yaml").write_text("marking: SECRET\n")
    refused = run(cli, [*ws, "marking", "demo", "workspace"])
    assert refused.exit_code != 0
    assert "settings.yaml" in refused.output
    assert demo_store.open("demo").project.marking == "OFFICIAL-SENSITIVE"  # unchanged
