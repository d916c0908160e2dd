"""Bad input gets a clear error naming the file and the field, and the file is left as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import workbook.store as store_module
from workbook.errors import (
    InvalidProjectFile,
    ProjectExists,
    SchemaVersionError,
    UnsafeProjectId,
    WorkbookError,
)
from workbook.store import Store, read_file


def _replace_text(path: Path, text: str | bytes) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(raw)
    return raw


def _assert_refused_and_untouched(store: Store, path: Path, raw: bytes, *words: str):
    """Opening fails with an error naming the file; saving and re-creating do not touch it."""
    with pytest.raises(InvalidProjectFile) as info:
        store.open("demo")
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    assert "Traceback" not in message
    with pytest.raises(ProjectExists):
        store.create("Another tool", "LA", project_id="demo", user="x")
    assert path.read_bytes() == raw
    assert [e.id for e in store.list() if e.error is not None] == ["demo"]
    return info.value


def test_truncated_json(demo_store, demo_file):
    raw = _replace_text(demo_file, demo_file.read_text()[:500])
    _assert_refused_and_untouched(demo_store, demo_file, raw, "not valid JSON", "line")


def test_wrong_type(demo_store, demo_file):
    data = json.loads(demo_file.read_text())
    data["answers"]["q1"]["status"] = 5
    raw = _replace_text(demo_file, json.dumps(data))
    err = _assert_refused_and_untouched(demo_store, demo_file, raw, "answers.q1.status")
    assert err.field == "answers.q1.status"
    assert err.question_id == "q1"


def test_unknown_question_id(demo_store, demo_file):
    data = json.loads(demo_file.read_text())
    data["answers"]["q14"] = {"response": "?"}
    raw = _replace_text(demo_file, json.dumps(data))
    _assert_refused_and_untouched(demo_store, demo_file, raw, "answers.q14", "unknown question id")


def test_duplicate_keys(demo_store, demo_file):
    text = demo_file.read_text()
    text = text.replace('"response":', '"response": "first", "response":', 1)
    raw = _replace_text(demo_file, text)
    _assert_refused_and_untouched(
        demo_store, demo_file, raw, "answers.q1", "'response' appears more than once"
    )


def test_nan(demo_store, demo_file):
    raw = _replace_text(
        demo_file, demo_file.read_text().replace('"revision": 2', '"revision": NaN')
    )
    _assert_refused_and_untouched(demo_store, demo_file, raw, "revision", "NaN is not allowed")


def test_nesting_a_hundred_thousand_deep(demo_store, demo_file):
    depth = 100_000
    raw = _replace_text(demo_file, '{"a":' * depth + "1" + "}" * depth)
    _assert_refused_and_untouched(demo_store, demo_file, raw, "nested")


def test_deep_list_nesting_in_a_valid_field(demo_store, demo_file):
    data = json.loads(demo_file.read_text())
    text = json.dumps(data).replace(
        '"evidence": []', '"evidence": ' + "[" * 50_000 + "]" * 50_000, 1
    )
    raw = _replace_text(demo_file, text)
    with pytest.raises(InvalidProjectFile):
        demo_store.open("demo")
    assert demo_file.read_bytes() == raw


def test_fifty_megabyte_answer_is_refused_before_parsing(demo_store, demo_file, monkeypatch):
    data = json.loads(demo_file.read_text())
    data["answers"]["q1"]["response"] = "x" * (50 * 1024 * 1024)
    raw = _replace_text(demo_file, json.dumps(data))

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the file was parsed before its size was checked")

    monkeypatch.setattr(store_module, "_parse_json", must_not_parse)
    _assert_refused_and_untouched(demo_store, demo_file, raw, "MB", "at most")


def test_long_answer_in_the_model_is_refused_on_save(demo_store, demo_file):
    before = demo_file.read_bytes()
    base = demo_store.open("demo")
    edited = base.model_copy(deep=True)
    with pytest.raises(ValueError, match="at most 100000 characters"):
        edited.answers.q1.response = "x" * 100_001
    assert demo_file.read_bytes() == before


def test_not_utf8(demo_store, demo_file):
    raw = _replace_text(demo_file, demo_file.read_bytes().replace(b"Hartmoor", b"Hart\xffmoor", 1))
    _assert_refused_and_untouched(demo_store, demo_file, raw, "not UTF-8")


def test_top_level_not_an_object(demo_store, demo_file):
    raw = _replace_text(demo_file, "[1, 2, 3]")
    _assert_refused_and_untouched(demo_store, demo_file, raw, "JSON object")


def test_future_schema_version(demo_store, demo_file):
    data = json.loads(demo_file.read_text())
    data["schema_version"] = 99
    raw = _replace_text(demo_file, json.dumps(data))
    err = _assert_refused_and_untouched(demo_store, demo_file, raw, "newer", "Upgrade")
    assert isinstance(err, SchemaVersionError)
    assert err.field == "schema_version"


def test_save_onto_a_corrupt_file_is_refused(demo_store, demo_file):
    base = demo_store.open("demo")
    edited = base.model_copy(deep=True)
    edited.answers.q6.response = "new"
    raw = _replace_text(demo_file, "{ broken")
    with pytest.raises(InvalidProjectFile):
        demo_store.save(edited, base=base, user="x")
    assert demo_file.read_bytes() == raw


@pytest.mark.parametrize(
    "bad_id",
    [
        "../../etc",
        "..",
        ".",
        "/etc",
        "/tmp/evil",
        "a/b",
        "UPPER",
        "with space",
        "",
        "-x",
        "x-",
        "a\x00b",
        "é",
        "x" * 65,
    ],
)
def test_unsafe_project_ids_are_refused(store, bad_id):
    with pytest.raises(UnsafeProjectId, match="not a valid project id"):
        store.open(bad_id)
    with pytest.raises(UnsafeProjectId):
        store.create("Tool", "LA", project_id=bad_id, user="x")


def test_sibling_prefix_through_a_symlink_is_refused(tmp_path):
    root = tmp_path / "ws"
    sibling = tmp_path / "ws-evil"
    store = Store(root)
    Store(sibling).create("Elsewhere", "LA", project_id="p", user="x")
    root.mkdir(exist_ok=True)
    os.symlink(sibling / "p", root / "p")
    with pytest.raises(UnsafeProjectId, match="outside the workspace"):
        store.open("p")


def test_symlinked_project_folder_pointing_out_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir(parents=True)
    os.symlink(outside, store.root / "escape")
    with pytest.raises(UnsafeProjectId):
        store.create("Tool", "LA", project_id="escape", user="x")
    assert list(outside.iterdir()) == []


def test_symlinked_answers_file_is_refused(demo_store, demo_file, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_bytes(demo_file.read_bytes())
    demo_file.unlink()
    os.symlink(target, demo_file)
    with pytest.raises(UnsafeProjectId, match="symbolic link"):
        demo_store.open("demo")


def test_read_file_names_a_missing_file(tmp_path):
    with pytest.raises(WorkbookError, match="file not found") as info:
        read_file(tmp_path / "missing.json")
    assert str(tmp_path / "missing.json") in str(info.value)
