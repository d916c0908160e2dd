"""The question bank matches the DfE workbook: counts, ids and the quoted text itself."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml

from tests.conftest import SEED
from workbook.bank import BankError, load_bank, parse_bank
from workbook.errors import WorkbookError

BANK = load_bank()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


SEED_TEXT = _norm(SEED.read_text(encoding="utf-8"))


def test_thirteen_questions_in_three_phases():
    assert [q.number for q in BANK.questions] == list(range(1, 14))
    assert [len(p.questions) for p in BANK.phases] == [4, 6, 3]
    assert [p.id for p in BANK.phases] == ["explore", "develop", "implement"]


def test_checklists_have_six_eight_and_four_items():
    assert [len(p.checklist) for p in BANK.phases] == [6, 8, 4]


def test_questions_belong_to_the_right_phase():
    assert [q.phase for q in BANK.questions] == ["explore"] * 4 + ["develop"] * 6 + [
        "implement"
    ] * 3


def test_question_four_has_the_nested_governance_list():
    q4 = BANK.question("q4")
    nested = [(p.id, depth) for p, depth in q4.iter_prompts()]
    assert nested == [
        ("legal_requirements", 0),
        ("governance", 0),
        ("risk_management", 1),
        ("purpose_boundaries", 1),
        ("oversight_scrutiny", 1),
    ]


def test_notes_are_kept_in_reading_order():
    q8 = BANK.question("q8")
    assert q8.prompt_ids[-1] == "privacy_justification"
    assert q8.prompt("privacy_justification").kind == "note"
    assert q8.prompt("privacy_justification").text.startswith("Provide justification where")
    q13 = BANK.question("q13")
    assert q13.prompt_ids[0] == "amendments"  # "In addition, ..." comes before "You may consider:"


def _all_quoted_texts():
    for phase in BANK.phases:
        yield phase.id, phase.introduction
        yield phase.id, phase.checklist_lead
        yield from ((f"{phase.id}.{i.id}", i.text) for i in phase.checklist)
        if phase.after_checklist:
            yield phase.id, phase.after_checklist
        for q in phase.questions:
            yield q.id, f"{q.number}. {q.text}"
            for part in q.parts:
                if getattr(part, "lead", ""):
                    yield q.id, part.lead
            for p, _ in q.iter_prompts():
                yield f"{q.id}.{p.id}", p.text
            if q.help.lead:
                yield q.id, q.help.lead
            for pointer in q.help.pointers:
                yield q.id, f"{pointer.resource} {pointer.purpose}".strip()
    for text in BANK.summary:
        yield "summary", text


@pytest.mark.parametrize(("where", "text"), list(_all_quoted_texts()))
def test_every_quoted_text_appears_verbatim_in_the_seed(where, text):
    assert _norm(text) in SEED_TEXT, f"{where}: not found verbatim in the DfE text"


@pytest.mark.parametrize(
    ("full_id", "expected"),
    [
        ("q1", "Describe the tool you will develop, including:"),
        ("q7.psed_assessment", "Carrying out a Public Sector Equality Duty Assessment"),
        ("q12.accurate_secure", "is accurate, secure, valid and reliable"),
        ("explore.data_maturity", "completed a data maturity self-assessment"),
        ("implement.evaluations", "begun process and/ or impact evaluations"),
    ],
)
def test_sample_texts_by_id(full_id, expected):
    head, _, tail = full_id.partition(".")
    if head.startswith("q"):
        q = BANK.question(head)
        text = q.prompt(tail).text if tail else q.text
    else:
        text = next(i.text for i in BANK.phase(head).checklist if i.id == tail)
    assert text.startswith(expected)


def test_help_pointers_name_resources_without_urls():
    pointers = [p for q in BANK.questions for p in q.help.pointers]
    assert len(pointers) >= 15
    assert not [p for p in pointers if re.search(r"https?://|www\.", p.resource + p.purpose)]
    assert BANK.question("q1").help.pointers == ()  # question 1 has no help section


def test_ids_are_unique_and_stable_looking():
    full_ids = [f"{q.id}.{pid}" for q in BANK.questions for pid in q.prompt_ids]
    full_ids += [f"{p.id}.{i}" for p in BANK.phases for i in p.checklist_ids]
    assert len(full_ids) == len(set(full_ids))
    assert all(re.fullmatch(r"[a-z0-9]+\.[a-z][a-z0-9_]*", i) for i in full_ids)


def test_attribution_names_the_licence():
    assert "Open Government Licence v3.0" in BANK.attribution
    assert "Crown copyright" in BANK.attribution


def test_bank_objects_are_immutable():
    with pytest.raises(Exception, match="frozen"):
        BANK.question("q1").text = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda d: d["phases"][0]["questions"][0].update(number=2), "numbered 1..n"),
        (lambda d: d["phases"].reverse(), "explore, develop, implement"),
        (
            lambda d: d["phases"][0]["checklist"].append({"id": "data_maturity", "text": "x"}),
            "duplicate checklist ids",
        ),
        (lambda d: d["phases"][0]["questions"][0].update(colour="red"), "Extra inputs"),
    ],
)
def test_a_malformed_bank_is_refused_with_the_reason(mutation, message):
    text = (resources.files("workbook") / "content" / "dfe-2024.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    mutation(data)
    with pytest.raises(BankError, match=re.escape(message)):
        parse_bank(yaml.safe_dump(data), source="broken.yaml")


def test_unknown_edition_is_a_clear_error():
    with pytest.raises(WorkbookError, match="unknown edition"):
        load_bank("dfe-1999")
