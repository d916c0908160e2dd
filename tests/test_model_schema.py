"""The answers model and its committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from workbook.bank import load_bank
from workbook.model import Workbook, describe_validation_error, json_schema_text, new_workbook

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "workbook" / "schema" / "answers.schema.json"
BANK = load_bank()


def test_committed_schema_is_up_to_date():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "workbook/schema/answers.schema.json is stale: run `workbook schema --write` and commit it"
    )


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_every_object_in_the_schema_forbids_unknown_keys():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    objects = list(_objects(schema))
    assert len(objects) > 20
    assert all(o.get("additionalProperties") is False for o in objects)
    # The mappings keyed by generated ids (comment threads, their replies, risks), by
    # category ids (categories considered), by ATRS field ids (the public wording) or by
    # dismissal keys (personal-data warnings dismissed) allow only ids matching a pattern.
    mappings = [o for o in objects if "patternProperties" in o]
    assert len(mappings) == 6


def test_schema_names_every_question_prompt_and_checklist_item():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert list(defs["Answers"]["properties"]) == list(BANK.question_ids)
    for q in BANK.questions:
        notes = defs[f"PromptNotes{q.id.upper()}"].get("properties", {})
        assert list(notes) == list(q.prompt_ids)


def test_demo_file_validates_against_the_committed_schema(demo_file):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(demo_file.read_text()))


def test_the_schema_also_rejects_an_unknown_question(demo_file):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = json.loads(demo_file.read_text())
    data["answers"]["q14"] = {}
    with pytest.raises(jsonschema.ValidationError, match="q14"):
        jsonschema.Draft202012Validator(schema).validate(data)


def _blank():
    return new_workbook(project_id="p", tool_name="T", local_authority="LA").to_data()


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["answers"].update(q99={}), "answers.q99", "unknown question id 'q99'"),
        (
            lambda d: d["answers"]["q4"]["prompts"].update(colour="x"),
            "answers.q4.prompts.colour",
            "unknown prompt id 'colour' for q4",
        ),
        (
            lambda d: d["phases"]["explore"]["checklist"].update(nope={}),
            "phases.explore.checklist.nope",
            "unknown checklist item 'nope'",
        ),
        (lambda d: d["answers"]["q1"].update(status="finished"), "answers.q1.status", "finished"),
        (lambda d: d["answers"]["q2"].update(response=42), "answers.q2.response", "string"),
        (lambda d: d["project"].update(id="../x"), "project.id", "pattern"),
        (
            lambda d: d["answers"]["q3"].update(response="a\ud800b"),
            "answers.q3.response",
            "surrogate",
        ),
        (
            lambda d: d["project"].update(members=["ann", "bob", " ann "]),
            "project.members",
            "listed twice (positions 1 and 3)",
        ),
        (lambda d: d["project"].update(members=["ann", "  "]), "project.members.1", "at least 1"),
        (
            lambda d: d["project"].update(members=[f"u{i}" for i in range(501)]),
            "project.members",
            "at most 500",
        ),
        (
            lambda d: d["review"]["threads"].update(
                t1={
                    "target": "q1",
                    "kind": "question",
                    "author": "a",
                    "created_at": "2026-01-01T00:00:00Z",
                    "text": "?",
                    "replies": {
                        "r1": {
                            "author": "b",
                            "role": 7,
                            "created_at": "2026-01-01T00:00:00Z",
                            "text": "!",
                        }
                    },
                }
            ),
            "review.threads.t1.replies.r1.role",
            "string",
        ),
    ],
)
def test_invalid_answers_get_a_message_naming_the_field(mutate, field, words):
    data = _blank()
    mutate(data)
    with pytest.raises(ValidationError) as info:
        Workbook.model_validate(data)
    got_field, message = describe_validation_error(info.value)
    assert got_field == field
    assert words in message


def test_assignment_is_validated():
    wb = new_workbook(project_id="p", tool_name="T", local_authority="LA")
    with pytest.raises(ValidationError):
        wb.answers.q1.status = "bogus"  # type: ignore[assignment]


def test_members_keep_their_order_without_surrounding_spaces():
    wb = new_workbook(
        project_id="p", tool_name="T", local_authority="LA", members=["zoe", " ann\t", "bob"]
    )
    assert wb.project.members == ["zoe", "ann", "bob"]
    assert new_workbook(project_id="p", tool_name="T", local_authority="LA").project.members == []


def test_a_duplicate_member_error_does_not_show_the_name():
    data = _blank()
    data["project"]["members"] = ["jo.private", "jo.private"]
    with pytest.raises(ValidationError) as info:
        Workbook.model_validate(data)
    assert "jo.private" not in describe_validation_error(info.value)[1]
