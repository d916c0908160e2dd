"""Files written by older schema versions load, migrate to the current one and save with
nothing lost. The fixtures were written by the code of their version (v1, v2, v3), with the JSON
Schema that version committed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from workbook import migrations
from workbook.errors import InvalidProjectFile
from workbook.model import SCHEMA_VERSION, json_schema
from workbook.review import signoff_state
from workbook.store import Change, Store, reads

V1 = Path(__file__).parent / "data" / "v1"
V1_FILE = V1 / "workbook.json"
V2 = Path(__file__).parent / "data" / "v2"
V2_FILE = V2 / "workbook.json"
V3 = Path(__file__).parent / "data" / "v3"
V3_FILE = V3 / "workbook.json"


def _leaves(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, node


def test_fixture_really_is_a_version_1_file():
    data = json.loads(V1_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert "review" not in data
    schema = json.loads((V1 / "answers.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)  # the schema as committed by version 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema())  # and not a valid current file as it is


@pytest.fixture
def v1_store(tmp_path):
    (tmp_path / "legacy-v1").mkdir()
    shutil.copy(V1_FILE, tmp_path / "legacy-v1" / "workbook.json")
    return Store(tmp_path)


def test_version_1_file_loads_migrated_and_saves_with_every_answer_field_kept(v1_store):
    old = json.loads(V1_FILE.read_text(encoding="utf-8"))
    opened = v1_store.open("legacy-v1")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.review.threads == {}
    assert opened.project.members == []
    assert all(getattr(opened.review.signoffs, p) is None for p in ("explore", "develop"))

    # A save of an unrelated field writes the migrated file.
    saved = v1_store.apply(
        "legacy-v1",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    assert saved.revision == old["revision"] + 1
    on_disk = json.loads((v1_store.root / "legacy-v1" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.validate(on_disk, json_schema())
    assert on_disk["project"].pop("members") == []  # added by the 2 -> 3 step
    assert on_disk["project"].pop("marking") == ""  # added by the 3 -> 4 step

    before = dict(_leaves({k: old[k] for k in ("answers", "phases")}))
    after = dict(_leaves({k: on_disk[k] for k in ("answers", "phases")}))
    assert len(before) > 200
    assert before == after  # every answer, prompt note, checklist entry, evidence, action
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }


@pytest.mark.parametrize("fixture", [V1_FILE, V2_FILE, V3_FILE], ids=["v1", "v2", "v3"])
def test_migrated_file_is_unchanged_by_reading_alone(tmp_path, fixture):
    project_id = json.loads(fixture.read_text(encoding="utf-8"))["project"]["id"]
    (tmp_path / project_id).mkdir()
    shutil.copy(fixture, tmp_path / project_id / "workbook.json")
    text = fixture.read_text(encoding="utf-8")
    assert Store(tmp_path).open(project_id).schema_version == SCHEMA_VERSION
    assert (tmp_path / project_id / "workbook.json").read_text("utf-8") == text


def test_version_1_file_with_a_review_section_is_refused_naming_the_field():
    data = json.loads(V1_FILE.read_text(encoding="utf-8"))
    data["review"] = {"threads": {}}
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "review"
    assert "x/workbook.json" in str(info.value)


# --------------------------------------------------------------------------- version 2


def test_fixture_really_is_a_version_2_file_with_review_data():
    data = json.loads(V2_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 2
    assert "members" not in data["project"]
    schema = json.loads((V2 / "answers.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["schema_version"]["const"] == 2
    jsonschema.Draft202012Validator(schema).validate(data)  # as committed by version 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)  # not a current file
    # What the migration must carry over: every kind of thread, replies, a resolved
    # challenge, both kinds of sign-off, evidence and actions.
    threads = data["review"]["threads"].values()
    assert {t["kind"] for t in threads} == {"question", "challenge", "suggestion"}
    assert sum(len(t["replies"]) for t in threads) >= 3
    assert any(t["resolved"] for t in threads)
    signoffs = data["review"]["signoffs"]
    assert signoffs["explore"]["decision"] == "approved_with_conditions"
    assert signoffs["develop"]["decision"] == "not_approved"
    answers = data["answers"].values()
    assert sum(len(a["evidence"]) for a in answers) >= 3
    assert sum(len(a["further_work"]) for a in answers) >= 3


@pytest.fixture
def v2_store(tmp_path):
    (tmp_path / "legacy-v2").mkdir()
    shutil.copy(V2_FILE, tmp_path / "legacy-v2" / "workbook.json")
    return Store(tmp_path)


def test_version_2_file_loads_migrated_and_saves_with_every_field_kept(v2_store):
    old = json.loads(V2_FILE.read_text(encoding="utf-8"))
    opened = v2_store.open("legacy-v2")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.project.members == []
    replies = [r for t in opened.review.threads.values() for r in t.replies.values()]
    assert replies
    assert all(r.role == "" for r in replies)

    saved = v2_store.apply(
        "legacy-v2",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    assert saved.revision == old["revision"] + 1
    on_disk = json.loads((v2_store.root / "legacy-v2" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.Draft202012Validator(json_schema()).validate(on_disk)

    # Every answer, prompt note, checklist entry, evidence and action list, thread, reply
    # and sign-off field is as it was; the only new leaves are each reply's empty role.
    before = dict(_leaves({k: old[k] for k in ("answers", "phases", "review")}))
    after = dict(_leaves({k: on_disk[k] for k in ("answers", "phases", "review")}))
    assert len(before) > 250
    added = {k: after.pop(k) for k in set(after) - set(before)}
    assert before == after
    assert len(added) == len(replies)
    assert all(k.endswith(".role") and ".replies." in k and v == "" for k, v in added.items())
    assert on_disk["project"].pop("members") == []
    assert on_disk["project"].pop("marking") == ""
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }
    # The sign-offs still match what was signed: the migration touched no phase content.
    for phase in ("explore", "develop"):
        assert signoff_state(saved, phase).status == "current"


def test_the_2_to_3_step_adds_an_empty_member_list_and_leaves_the_input_alone():
    data = json.loads(V2_FILE.read_text(encoding="utf-8"))
    before = json.loads(V2_FILE.read_text(encoding="utf-8"))
    migrated = migrations.migrate(data, target=3)
    assert data == before  # the caller's dict (and its project) is not changed
    assert migrated["schema_version"] == 3
    assert migrated["project"] == {**before["project"], "members": []}
    assert {k: v for k, v in migrated.items() if k not in ("project", "schema_version")} == {
        k: v for k, v in before.items() if k not in ("project", "schema_version")
    }


def test_version_2_file_with_members_is_refused_naming_the_field():
    data = json.loads(V2_FILE.read_text(encoding="utf-8"))
    data["project"]["members"] = ["ann"]
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "project.members"
    assert "x/workbook.json" in str(info.value)


# --------------------------------------------------------------------------- version 3


def test_fixture_really_is_a_version_3_file_with_members_and_roles():
    data = json.loads(V3_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 3
    assert "marking" not in data["project"]
    assert data["project"]["members"] == ["a.author", "r.reviewer", "e.expert"]
    schema = json.loads((V3 / "answers.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["schema_version"]["const"] == 3
    jsonschema.Draft202012Validator(schema).validate(data)  # as committed by version 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)  # not a current file
    roles = [r["role"] for t in data["review"]["threads"].values() for r in t["replies"].values()]
    assert "author" in roles


def test_version_3_file_loads_migrated_and_saves_with_every_field_kept(tmp_path):
    old = json.loads(V3_FILE.read_text(encoding="utf-8"))
    (tmp_path / "legacy-v3").mkdir()
    shutil.copy(V3_FILE, tmp_path / "legacy-v3" / "workbook.json")
    store = Store(tmp_path)
    opened = store.open("legacy-v3")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.project.marking == ""
    saved = store.apply(
        "legacy-v3",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    on_disk = json.loads((tmp_path / "legacy-v3" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.Draft202012Validator(json_schema()).validate(on_disk)
    before = dict(_leaves({k: old[k] for k in ("answers", "phases", "review")}))
    after = dict(_leaves({k: on_disk[k] for k in ("answers", "phases", "review")}))
    assert len(before) > 250
    assert before == after  # nothing else added or changed
    assert on_disk["project"].pop("marking") == ""
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }
    for phase in ("explore", "develop"):
        assert signoff_state(saved, phase).status == "current"


def test_version_3_file_with_a_marking_is_refused_naming_the_field():
    data = json.loads(V3_FILE.read_text(encoding="utf-8"))
    data["project"]["marking"] = "OFFICIAL"
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "project.marking"
    assert "x/workbook.json" in str(info.value)


# --------------------------------------------------------------------------- version 5

V5 = Path(__file__).parent / "data" / "v5"
V5_FILE = V5 / "workbook.json"


def test_fixture_really_is_a_version_5_file_with_a_register():
    data = json.loads(V5_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 5
    assert "transparency" not in data
    assert data["risks"]["items"]
    assert data["risks"]["considered"]
    schema = json.loads((V5 / "answers.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)  # as committed by version 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)  # not a current file


def test_version_5_file_migrates_with_every_field_kept_and_sign_offs_current(tmp_path):
    old = json.loads(V5_FILE.read_text(encoding="utf-8"))
    (tmp_path / "legacy-v5").mkdir()
    shutil.copy(V5_FILE, tmp_path / "legacy-v5" / "workbook.json")
    store = Store(tmp_path)
    opened = store.open("legacy-v5")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.transparency.fields == {}
    before = {p: signoff_state(opened, p).status for p in ("explore", "develop")}
    # As version 5 left it: the register changed after Explore was signed (make_v5.py).
    assert before == {"explore": "out_of_date", "develop": "current"}
    saved = store.apply(
        "legacy-v5",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    on_disk = json.loads((tmp_path / "legacy-v5" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.Draft202012Validator(json_schema()).validate(on_disk)
    assert on_disk.pop("transparency") == {"fields": {}}
    assert on_disk.pop("personal_data") == {"dismissed": {}}
    for key in ("answers", "phases", "review", "risks"):
        assert on_disk[key] == old[key]
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }
    assert {p: signoff_state(saved, p).status for p in ("explore", "develop")} == before


def test_version_5_file_with_a_transparency_section_is_refused_naming_the_field():
    data = json.loads(V5_FILE.read_text(encoding="utf-8"))
    data["transparency"] = {"fields": {}}
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "transparency"


# --------------------------------------------------------------------------- version 6

V6 = Path(__file__).parent / "data" / "v6"
V6_FILE = V6 / "workbook.json"


def test_fixture_really_is_a_version_6_file_with_public_wording():
    data = json.loads(V6_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 6
    assert "personal_data" not in data
    assert data["transparency"]["fields"]["companies_house_number"]["withheld"] is True
    assert data["risks"]["considered"]
    assert data["review"]["threads"]
    schema = json.loads((V6 / "answers.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)  # as committed by version 6
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)  # not a current file


def test_version_6_file_migrates_with_every_field_kept_and_its_findings_open(tmp_path):
    from workbook.personal_data_review import open_findings

    old = json.loads(V6_FILE.read_text(encoding="utf-8"))
    (tmp_path / "legacy-v6").mkdir()
    shutil.copy(V6_FILE, tmp_path / "legacy-v6" / "workbook.json")
    store = Store(tmp_path)
    opened = store.open("legacy-v6")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.personal_data.dismissed == {}
    # The example pasted into question 1 by make_v6.py: nothing dismissed, all open.
    assert [(f.path, f.kind) for f in open_findings(opened)] == [
        ("answers.q1.response", "date_of_birth"),
        ("answers.q1.response", "nhs_number"),
        ("answers.q1.response", "postcode"),
    ]
    before = {p: signoff_state(opened, p).status for p in ("explore", "develop", "implement")}
    saved = store.apply(
        "legacy-v6",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    on_disk = json.loads((tmp_path / "legacy-v6" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.Draft202012Validator(json_schema()).validate(on_disk)
    assert on_disk.pop("personal_data") == {"dismissed": {}}
    for key in ("answers", "phases", "review", "risks", "transparency"):
        assert on_disk[key] == old[key]
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }
    after = {p: signoff_state(saved, p).status for p in ("explore", "develop", "implement")}
    assert after == before


def test_version_6_file_with_a_personal_data_section_is_refused_naming_the_field():
    data = json.loads(V6_FILE.read_text(encoding="utf-8"))
    data["personal_data"] = {"dismissed": {}}
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "personal_data"
    assert "x/workbook.json" in str(info.value)
