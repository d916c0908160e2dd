"""Property tests: every valid project survives writes/reads and a Store save/open unchanged.

The strategy ``workbooks()`` is driven by the question bank, so it covers every question,
prompt and checklist item, and fills a random subset of them with every kind of field the
model has. Text mixes ``st.text()`` (all planes, no surrogates) with hand-picked awkward
strings: right-to-left scripts, emoji and ZWJ sequences, combining marks, NUL and control
characters, and strings exactly at the length limits.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from workbook.bank import Phase, Question, load_bank
from workbook.errors import WorkbookError
from workbook.model import (
    MAX_LONG_TEXT,
    MAX_NAME_TEXT,
    MAX_REVISION,
    MAX_SHORT_TEXT,
    SCHEMA_VERSION,
    AnswerBase,
    ChecklistStatus,
    ProjectInfo,
    QuestionStatus,
    Workbook,
    WorkbookBase,
    describe_validation_error,
    new_workbook,
)
from workbook.store import Store, reads, writes

BANK = load_bank()
META = ("updated_at", "updated_by")
PROJECT_ID = "p"

# Every field of an answer the strategy below fills. test_strategy_covers_every_field fails
# if the model grows a field this file does not know about.
ANSWER_FIELDS = {
    "response",
    "prompts",
    "status",
    "informed_by",
    "evidence",
    "further_work",
    *META,
}

SAMPLES = (
    "",
    " ",
    "مرحبا بالعالم، هذا نص عربي",  # Arabic
    "שלום עולם, זה טקסט בעברית",  # Hebrew
    "English then עברית then English",  # mixed direction
    "\u202eevil override\u202c and \u2067isolate\u2069",  # bidi controls
    "👩\u200d👩\u200d👧\u200d👦",  # family: ZWJ sequence
    "🏳️\u200d🌈",  # flag: ZWJ and variation selector
    "👍🏽",  # skin tone modifier
    "🇬🇧🇺🇦",  # regional indicators
    "e\u0301 vs é",  # combining acute vs precomposed
    "Z\u0351\u0352\u0353\u0354\u0355a\u0300\u0301\u0302",  # stacked combining marks
    "\u0000",  # NUL
    "a\u0000b",
    "\x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f\x80\x9f",  # C0, DEL, C1 controls
    "\t\n\r\n\r",
    "\u2028\u2029",  # line and paragraph separators
    "\ufeffBOM in the middle\ufeff",
    "\ufffe\uffff\U0010ffff\U000e0001",  # non-characters and a tag
    "\u00ad\u200b\u200c\u200d\u2060",  # invisible characters
    '"quoted" \\back\\slash\\ \\u0000 {"json": [1, 2]}',
    "</script><!-- -->",
    "null",
    "Ω≈ç√∫˜µ≤≥÷ 田中さんにあげて下さい 𝕋𝕖𝕤𝕥",
)
# Single code points only, so `fill * n` has exactly n characters.
FILLERS = ("a", "é", "ש", "ع", "🙂", "\u0000", "\u200d", "\u0301", "\x7f")


@st.composite
def _texts(draw: st.DrawFn, max_size: int, min_size: int) -> str:
    if draw(st.integers(0, 24)) == 24:
        # Occasionally a string exactly at the limit.
        return draw(st.sampled_from(FILLERS)) * max_size
    parts = draw(st.lists(st.one_of(st.text(), st.sampled_from(SAMPLES)), max_size=4))
    text = "".join(parts)[:max_size]
    return text if len(text) >= min_size else "x" * min_size


def long_texts() -> st.SearchStrategy[str]:
    return _texts(MAX_LONG_TEXT, 0)


def short_texts(*, min_size: int = 0) -> st.SearchStrategy[str]:
    return _texts(MAX_SHORT_TEXT, min_size)


# Whole-minute offsets only: an offset with seconds does not round-trip (see
# test_sub_minute_utc_offset_survives_writes_reads below).
timezones = st.one_of(
    st.just(timezone.utc),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m))),
)
aware_datetimes = st.datetimes(timezones=timezones)


def answer_data(question: Question) -> st.SearchStrategy[dict[str, Any]]:
    prompts = st.fixed_dictionaries({pid: long_texts() for pid in question.prompt_ids})
    informed_by = st.fixed_dictionaries(
        {},
        optional={
            "end_users": st.booleans(),
            "experts_by_experience": st.booleans(),
            "affected_stakeholders": st.booleans(),
            "external_experts": st.booleans(),
            "note": long_texts(),
        },
    )
    evidence = st.fixed_dictionaries(
        {"reference": short_texts(min_size=1)}, optional={"description": short_texts()}
    )
    action = st.fixed_dictionaries(
        {"action": short_texts(min_size=1)},
        optional={
            "owner": short_texts(),
            "due": st.none() | st.dates(),
            "status": st.sampled_from(["open", "done"]),
        },
    )
    return st.fixed_dictionaries(
        {"prompts": prompts},
        optional={
            "response": long_texts(),
            "status": st.sampled_from(QuestionStatus),
            "informed_by": informed_by,
            "evidence": st.lists(evidence, max_size=3),
            "further_work": st.lists(action, max_size=3),
            "updated_at": st.none() | aware_datetimes,
            "updated_by": st.none() | short_texts(),
        },
    )


def phase_data(phase: Phase) -> st.SearchStrategy[dict[str, Any]]:
    entry = st.fixed_dictionaries(
        {},
        optional={"status": st.none() | st.sampled_from(ChecklistStatus), "note": long_texts()},
    )
    checklist = st.fixed_dictionaries({i: entry for i in phase.checklist_ids})
    return st.fixed_dictionaries({"checklist": checklist}, optional={"note": long_texts()})


# A login name as the model keeps it: surrounding spaces are dropped on validation, so the
# strategy strips them (str.strip drops everything pydantic's strip does, and a little more).
member_names = _texts(MAX_NAME_TEXT, 1).map(lambda t: t.strip() or "x")
PROJECT_REQUIRED = {
    "id": st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", fullmatch=True),
    "tool_name": _texts(MAX_NAME_TEXT, 1),
    "local_authority": _texts(MAX_NAME_TEXT, 1),
    "created_at": aware_datetimes,
}
PROJECT_OPTIONAL = {
    "owner": short_texts(),
    "oversight_group": short_texts(),
    "description": long_texts(),
    "created_by": short_texts(),
    "members": st.lists(member_names, max_size=4, unique=True),
    "marking": st.sampled_from(["", "OFFICIAL", "OFFICIAL-SENSITIVE"]),
}
project_data = st.fixed_dictionaries(PROJECT_REQUIRED, optional=PROJECT_OPTIONAL)

# Keys left out take their defaults. A random subset of questions is answered; an answered
# question draws every prompt note and each phase every checklist entry (often left empty),
# so each prompt and checklist item is filled in a fair share of examples.
workbook_data = st.fixed_dictionaries(
    {
        "project": project_data,
        "answers": st.fixed_dictionaries(
            {}, optional={q.id: answer_data(q) for q in BANK.questions}
        ),
        "phases": st.fixed_dictionaries({p.id: phase_data(p) for p in BANK.phases}),
    },
    optional={
        "revision": st.integers(min_value=0, max_value=MAX_REVISION),
        "schema_version": st.just(SCHEMA_VERSION),
        "edition": st.just(BANK.edition),
    },
)


def workbooks() -> st.SearchStrategy[WorkbookBase]:
    """Any valid project. Everything generated is valid, so validation never filters."""
    return workbook_data.map(Workbook.model_validate)


ROUNDTRIP_SETTINGS = settings(max_examples=75, deadline=None)


def without_meta(answers: Any) -> dict[str, Any]:
    data = answers.model_dump(mode="json")
    for answer in data.values():
        for key in META:
            answer.pop(key)
    return data


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# --------------------------------------------------------------------------- sanity


def test_strategy_covers_every_field() -> None:
    assert set(AnswerBase.model_fields) | {"prompts"} == ANSWER_FIELDS
    assert set(ProjectInfo.model_fields) == set(PROJECT_REQUIRED) | set(PROJECT_OPTIONAL)
    answers = type(Workbook.model_fields["answers"].default_factory())  # type: ignore[misc]
    assert tuple(answers.model_fields) == BANK.question_ids


# --------------------------------------------------------------------------- string level


@ROUNDTRIP_SETTINGS
@given(wb=workbooks())
def test_reads_writes_round_trip(wb: WorkbookBase) -> None:
    text = writes(wb)
    back = reads(text, source="<test>")
    assert back == wb
    assert back.to_data() == wb.to_data()
    assert writes(back) == text


@ROUNDTRIP_SETTINGS
@given(wb=workbooks())
def test_writes_is_utf8_json_of_the_model(wb: WorkbookBase) -> None:
    text = writes(wb)
    raw = text.encode("utf-8")  # strict: raises on anything that is not UTF-8
    assert raw.decode("utf-8") == text
    assert text.endswith("\n")
    assert json.loads(text) == wb.model_dump(mode="json")
    assert reads(raw, source="<bytes>") == wb


# --------------------------------------------------------------------------- store level


@ROUNDTRIP_SETTINGS
@given(wb=workbooks())
def test_store_save_open_round_trip(wb: WorkbookBase) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        base = store.create("Tool", "Council", user="ann", project_id=PROJECT_ID)
        edited = base.model_copy(update={"answers": wb.answers, "phases": wb.phases})
        saved = store.save(edited, base=base, user="bob")
        opened = store.open(PROJECT_ID)

    assert opened == saved
    assert opened.to_data() == saved.to_data()
    assert without_meta(opened.answers) == without_meta(wb.answers)
    assert opened.phases == wb.phases
    assert opened.phases.model_dump(mode="json") == wb.phases.model_dump(mode="json")
    assert opened.project == base.project
    assert opened.project.model_dump(mode="json") == base.project.model_dump(mode="json")

    # The store stamps exactly the questions it changed, and bumps the revision once.
    blank = without_meta(base.answers)
    mine = without_meta(wb.answers)
    changed = {qid for qid in blank if blank[qid] != mine[qid]}
    for qid in BANK.question_ids:
        answer = opened.answer(qid)
        if qid in changed:
            assert answer.updated_by == "bob"
            assert answer.updated_at is not None
        else:
            assert (answer.updated_at, answer.updated_by) == (None, None)
    anything_changed = changed or opened.phases != base.phases
    assert opened.revision == (2 if anything_changed else 1)


# --------------------------------------------------------------------------- any text


def _put_text(wb: WorkbookBase, text: str) -> WorkbookBase:
    """``wb`` with ``text`` in q1's response and first prompt note, through validation."""
    data = wb.to_data()
    data["answers"]["q1"]["response"] = text
    data["answers"]["q1"]["prompts"][BANK.question("q1").prompt_ids[0]] = text
    return Workbook.model_validate(data)


def _put_text_unvalidated(wb: WorkbookBase, text: str) -> WorkbookBase:
    """The same edit made with model_copy, which skips validation: the store must check."""
    q1 = wb.answers.q1  # type: ignore[attr-defined]
    prompt_id = BANK.question("q1").prompt_ids[0]
    prompts = q1.prompts.model_copy(update={prompt_id: text})
    q1 = q1.model_copy(update={"response": text, "prompts": prompts})
    return wb.model_copy(update={"answers": wb.answers.model_copy(update={"q1": q1})})


BLANK = new_workbook(project_id=PROJECT_ID, tool_name="Tool", local_authority="Council")


def _check_text(text: str) -> None:
    prompt_id = BANK.question("q1").prompt_ids[0]

    # Through the model: refused with a message that says why, or validated and round-tripped.
    if has_surrogate(text):
        with pytest.raises(ValidationError) as refused_by_model:
            _put_text(BLANK, text)
        field, message = describe_validation_error(refused_by_model.value)
        assert field in {"answers.q1.response", f"answers.q1.prompts.{prompt_id}"}
        assert "surrogate" in message
        # Assignment (validate_assignment=True) refuses it the same way.
        answer = BLANK.answers.q1.model_copy(deep=True)  # type: ignore[attr-defined]
        with pytest.raises(ValidationError) as info:
            answer.response = text
        assert "surrogate" in describe_validation_error(info.value)[1]
        # A model built without validation cannot be written out either.
        with pytest.raises((PydanticSerializationError, WorkbookError), match="surrogate"):
            writes(_put_text_unvalidated(BLANK, text))
    else:
        wb = _put_text(BLANK, text)
        assert wb.answers.q1.response == text  # type: ignore[attr-defined]
        back = reads(writes(wb), source="<test>")
        assert back == wb
        assert back.answers.q1.response == text  # type: ignore[attr-defined]
        assert getattr(back.answers.q1.prompts, prompt_id) == text  # type: ignore[attr-defined]

    # Through the store, starting from an edit the model did not check.
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        base = store.create("Tool", "Council", user="ann", project_id=PROJECT_ID)
        path = store.answers_path(PROJECT_ID)
        history = store.history_path(PROJECT_ID)
        before, history_before = path.read_bytes(), history.read_bytes()
        edited = _put_text_unvalidated(base, text)
        if has_surrogate(text):
            with pytest.raises(WorkbookError, match="surrogate") as refused:
                store.save(edited, base=base, user="bob")
            assert refused.value.field in {"answers.q1.response", f"answers.q1.prompts.{prompt_id}"}
            assert path.read_bytes() == before
            assert history.read_bytes() == history_before
            assert not [p for p in Path(tmp, PROJECT_ID).iterdir() if p.name.endswith(".tmp")]
            assert store.open(PROJECT_ID) == base
        else:
            saved = store.save(edited, base=base, user="bob")
            opened = store.open(PROJECT_ID)
            assert opened == saved
            assert opened.answers.q1.response == text  # type: ignore[attr-defined]
            assert getattr(opened.answers.q1.prompts, prompt_id) == text  # type: ignore[attr-defined]
            assert without_meta(opened.answers) == without_meta(edited.answers)


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(codec=None)))
def test_any_text_round_trips_or_is_refused(text: str) -> None:
    _check_text(text)


@st.composite
def texts_with_a_lone_surrogate(draw: st.DrawFn) -> str:
    text = draw(st.text(st.characters(codec=None)))
    surrogate = chr(draw(st.integers(0xD800, 0xDFFF)))
    at = draw(st.integers(0, len(text)))
    return text[:at] + surrogate + text[at:]


@settings(max_examples=50, deadline=None)
@given(text=texts_with_a_lone_surrogate())
def test_lone_surrogate_is_always_refused(text: str) -> None:
    assert has_surrogate(text)
    _check_text(text)


@settings(max_examples=50, deadline=None)
@given(text=st.text(st.characters(codec="utf-8")))
def test_text_without_surrogates_always_round_trips(text: str) -> None:
    assert not has_surrogate(text)
    _check_text(text)


# --------------------------------------------------------------------------- known bugs


def test_sub_minute_utc_offset_survives_writes_reads() -> None:
    # Found by this file: JSON offsets stop at minutes, so the model keeps times in UTC.
    offset = timezone(timedelta(hours=5, minutes=30, seconds=15))
    wb = new_workbook(
        project_id=PROJECT_ID,
        tool_name="Tool",
        local_authority="Council",
        now=datetime(2024, 4, 1, 12, 0, tzinfo=offset),
    )
    assert reads(writes(wb)) == wb


def test_store_refuses_a_save_it_could_not_read_back() -> None:
    # Found by this file: a valid model could serialise to more than MAX_FILE_BYTES (long
    # lists, or NULs that JSON writes as six bytes each); the store then saved a file it
    # refused to open. Lists are now capped, and an oversized save is refused instead.
    with pytest.raises(ValidationError):
        Workbook.model_validate(
            {
                **new_workbook(project_id=PROJECT_ID, tool_name="T", local_authority="C").to_data(),
                "answers": {"q1": {"evidence": [{"reference": "x"}] * 201}},
            }
        )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        base = store.create("Tool", "Council", user="ann", project_id=PROJECT_ID)
        data = base.to_data()
        nuls = "\x00" * MAX_LONG_TEXT  # 600 kB each in JSON
        for q in BANK.questions:
            data["answers"][q.id]["response"] = nuls
            for pid in q.prompt_ids[:2]:
                data["answers"][q.id]["prompts"][pid] = nuls
        edited = Workbook.model_validate(data)
        before = store.answers_path(PROJECT_ID).read_bytes()
        with pytest.raises(WorkbookError, match="not saved: the answers would take"):
            store.save(edited, base=base, user="bob")
        assert store.answers_path(PROJECT_ID).read_bytes() == before
        assert store.open(PROJECT_ID).revision == 1
