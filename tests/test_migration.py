"""Files written by schema version 1 load, migrate to version 2 and save with nothing lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from workbook.errors import InvalidProjectFile
from workbook.model import SCHEMA_VERSION, json_schema
from workbook.store import Change, Store, reads

V1 = Path(__file__).parent / "data" / "v1"
V1_FILE = V1 / "workbook.json"


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
    assert opened.schema_version == SCHEMA_VERSION == 2
    assert opened.review.threads == {}
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
    assert on_disk["schema_version"] == 2
    jsonschema.validate(on_disk, json_schema())

    before = dict(_leaves({k: old[k] for k in ("answers", "phases")}))
    after = dict(_leaves({k: on_disk[k] for k in ("answers", "phases")}))
    assert len(before) > 200
    assert before == after  # every answer, prompt note, checklist entry, evidence, action
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }


def test_migrated_file_is_unchanged_by_reading_alone(v1_store):
    text = V1_FILE.read_text(encoding="utf-8")
    v1_store.open("legacy-v1")
    assert (v1_store.root / "legacy-v1" / "workbook.json").read_text("utf-8") == text


def test_version_1_file_with_a_review_section_is_refused_naming_the_field():
    data = json.loads(V1_FILE.read_text(encoding="utf-8"))
    data["review"] = {"threads": {}}
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "review"
    assert "x/workbook.json" in str(info.value)
