"""Store behaviour in one process: create, open, list, save, merge, conflicts, history."""

from __future__ import annotations

import json
import os
import stat

import pytest

import workbook.migrations as migrations
from workbook.errors import ConflictError, ProjectNotFound
from workbook.model import EvidenceRef, QuestionStatus
from workbook.store import Store, diff, reads, writes


def _edit(wb, fn):
    new = wb.model_copy(deep=True)
    fn(new)
    return new


def test_workspace_comes_from_argument_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(tmp_path / "from-env"))
    assert Store().root == tmp_path / "from-env"
    assert Store(tmp_path / "given").root == tmp_path / "given"
    monkeypatch.delenv("WORKBOOK_WORKSPACE")
    monkeypatch.chdir(tmp_path)
    assert Store().root == tmp_path / "workspace"


def test_create_makes_revision_one_with_a_history_line(store):
    wb = store.create("Early Help Predictor", "Hartmoor", user="ann")
    assert wb.project.id == "early-help-predictor"
    assert wb.revision == 1
    assert store.open(wb.project.id) == wb
    (line,) = store.history(wb.project.id)
    assert line["outcome"] == "created"
    assert line["user"] == "ann"


def test_ids_are_made_unique(store):
    ids = [store.create("Same name", "LA", user="x").project.id for _ in range(3)]
    assert ids == ["same-name", "same-name-2", "same-name-3"]


def test_blank_tool_name_is_refused_without_leaving_a_folder(store):
    with pytest.raises(Exception, match="tool_name"):
        store.create("", "LA", project_id="p", user="x")
    assert not (store.root / "p").exists()


def test_open_missing_project_says_how_to_find_projects(store):
    with pytest.raises(ProjectNotFound, match="workbook list"):
        store.open("nope")


def test_list_shows_good_and_broken_projects(store):
    store.create("One", "LA", user="x")
    store.create("Two", "LA", user="x")
    (store.root / "two" / "workbook.json").write_text("{")
    (store.root / "not-a-project").mkdir()
    entries = store.list()
    assert [e.id for e in entries] == ["one", "two"]
    assert entries[0].workbook is not None
    assert entries[1].workbook is None
    assert "not valid JSON" in str(entries[1].error)


def test_save_bumps_revision_and_stamps_who_and_when(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    saved = store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "response", "Hi")), base=base, user="bob"
    )
    assert saved.revision == 2
    assert saved.answers.q1.updated_by == "bob"
    assert saved.answers.q1.updated_at is not None
    assert saved.answers.q2.updated_by is None
    assert store.open("p") == saved


def test_save_without_changes_writes_nothing(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    before = (store.root / "p" / "workbook.json").read_bytes()
    assert store.save(base.model_copy(deep=True), base=base, user="bob").revision == 1
    assert (store.root / "p" / "workbook.json").read_bytes() == before


def test_stale_save_merges_changes_to_other_fields(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "response", "from ann")), base=base, user="ann"
    )
    saved = store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "status", QuestionStatus.in_progress)),
        base=base,
        user="bob",
    )
    assert saved.revision == 3
    assert saved.answers.q1.response == "from ann"
    assert saved.answers.q1.status is QuestionStatus.in_progress


def test_stale_save_to_the_same_field_is_a_conflict_naming_who(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "response", "ann's")), base=base, user="ann"
    )
    path = store.root / "p" / "workbook.json"
    before = path.read_bytes()
    with pytest.raises(ConflictError) as info:
        store.save(
            _edit(
                base,
                lambda w: (
                    setattr(w.answers.q1, "response", "bob's"),
                    setattr(w.answers.q2, "response", "also bob's"),
                ),
            ),
            base=base,
            user="bob",
        )
    (conflict,) = info.value.conflicts
    assert (conflict.field, conflict.yours, conflict.theirs) == (
        "answers.q1.response",
        "bob's",
        "ann's",
    )
    assert conflict.their_user == "ann"
    assert conflict.their_revision == 2
    assert "ann" in str(info.value)
    assert path.read_bytes() == before  # all or nothing: q2 was not saved either
    outcomes = [
        (h["user"], h["outcome"]) for h in store.history("p") if h["path"] == "answers.q1.response"
    ]
    assert outcomes == [("ann", "saved"), ("bob", "conflict")]


def test_the_same_change_made_twice_is_not_a_conflict(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    edit = _edit(base, lambda w: setattr(w.answers.q5, "response", "same"))
    store.save(edit, base=base, user="ann")
    assert store.save(edit, base=base, user="bob").answers.q5.response == "same"


def test_lists_are_one_field(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    edit = _edit(
        base, lambda w: setattr(w.answers.q3, "evidence", [EvidenceRef(reference="DPIA v1")])
    )
    (change,) = diff(base.to_data(), edit.to_data())
    assert change.path == "answers.q3.evidence"


def test_history_records_old_and_new_values(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    one = store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "response", "v1")), base=base, user="ann"
    )
    store.save(_edit(one, lambda w: setattr(w.answers.q1, "response", "v2")), base=one, user="bob")
    lines = [h for h in store.history("p") if h["outcome"] == "saved"]
    assert [(h["revision"], h["user"], h["old"], h["new"]) for h in lines] == [
        (2, "ann", "", "v1"),
        (3, "bob", "v1", "v2"),
    ]
    assert all(h["path"] == "answers.q1.response" and h["time"] for h in lines)


def test_history_skips_a_line_cut_short_by_a_crash(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    with open(store.history_path("p"), "a") as fh:
        fh.write('{"time": "2026-')
    store.save(
        _edit(base, lambda w: setattr(w.answers.q1, "response", "v1")), base=base, user="ann"
    )
    assert [h["outcome"] for h in store.history("p")] == ["created", "saved"]


def test_saving_keeps_the_files_permissions(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    path = store.root / "p" / "workbook.json"
    os.chmod(path, 0o640)
    store.save(_edit(base, lambda w: setattr(w.answers.q1, "response", "x")), base=base, user="a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_no_temporary_files_are_left_behind(store):
    base = store.create("T", "LA", project_id="p", user="ann")
    store.save(_edit(base, lambda w: setattr(w.answers.q1, "response", "x")), base=base, user="a")
    assert sorted(p.name for p in (store.root / "p").iterdir()) == [
        ".lock",
        "history.jsonl",
        "workbook.json",
    ]


def test_migration_hook_runs_in_order(monkeypatch, demo_file):
    calls = []

    def one_to_two(data):
        calls.append(data["schema_version"])
        return {**data, "extra": "added by 1->2"}

    def two_to_three(data):
        calls.append(data["schema_version"])
        data = dict(data)
        data.pop("extra")
        return data

    monkeypatch.setattr(migrations, "MIGRATIONS", {1: one_to_two, 2: two_to_three})
    data = json.loads(demo_file.read_text())
    data["schema_version"] = 1
    migrated = migrations.migrate(data, target=3)
    assert calls == [1, 2]
    assert migrated["schema_version"] == 3
    assert {k: v for k, v in migrated.items() if k != "schema_version"} == {
        k: v for k, v in data.items() if k != "schema_version"
    }


def test_current_files_pass_through_migration_unchanged(demo_file):
    data = json.loads(demo_file.read_text())
    assert migrations.migrate(json.loads(demo_file.read_text())) == data
    assert writes(reads(demo_file.read_text())) == demo_file.read_text()
