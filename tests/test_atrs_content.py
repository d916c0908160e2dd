"""The transparency record's content: the ATRS v4.0 field list, the mapping from the
workbook, and the Data Ethics Framework cross-walk.

The field list is checked against the ATRS reference (``../shared/references/atrs.md``):
every v3.0 attribute it lists is here, under its v4.0 name where v4.0 renamed or merged it,
except the metadata the v4.0 template dropped; the references the published v4.0 guidance
quotes are the only ones marked checked. Every mapping source and every cross-walk entry
must exist in the DfE bank; a bad one fails at load naming the file and the field. Our
prompts and descriptions are our own words (``tests/seedcopy.py``).
"""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from tests.seedcopy import RUN, _copied_runs
from workbook.atrs_content import (
    DEFAULT_VERSION,
    FRAMEWORK_FILE,
    available_versions,
    load_atrs,
    load_framework,
    load_mapping,
    mapping_file,
    parse_framework,
    parse_mapping,
)
from workbook.bank import load_bank
from workbook.errors import ContentError
from workbook.model import new_workbook
from workbook.store import get_path

STANDARD = load_atrs()
MAPPING = load_mapping()
FRAMEWORK = load_framework()
BANK = load_bank()

# The reference's v3.0 attributes (``atrs.md``, "v3.0 fields"), section by section.
V3_METADATA = [
    "id", "standard_version", "organisation_type", "function", "capability", "task", "tags",
    "date_of_completion", "date_updated", "date_archived",
]  # fmt: skip
V3_ATTRIBUTES = [
    # Title 0.11-0.15
    "title", "organisation_name", "phase", "region", "one_sentence_description",
    # Tier 1
    "name", "description", "website_url", "contact_email",
    # 2.1 Owner and responsibility
    "organisation_or_department", "team", "senior_responsible_owner",
    "external_supplier_involvement", "external_supplier", "companies_house_number",
    "external_supplier_role", "procurement_procedure_type", "data_access_terms",
    # 2.2 Description and rationale
    "detailed_description", "scope", "benefit", "previous_process", "alternatives_considered",
    # 2.3 Decision-making process
    "process_integration", "provided_information", "frequency_and_scale_of_usage",
    "human_decisions_and_review", "required_training", "appeals_and_review",
    # 2.4.1 Tool specification (its "phase" is the title's, removed from this sheet in v4.0)
    "system_architecture", "maintenance", "models",
    # 2.4.2 Model specification
    "model_name", "model_version", "model_task", "model_input", "model_output",
    "model_architecture", "model_performance", "datasets", "dataset_purposes",
    # 2.4.3 Data specification
    "source_data_name", "data_modality", "data_description", "data_quantities",
    "sensitive_attributes", "data_completeness_and_representativeness", "source_data_url",
    "data_collection", "data_cleaning", "data_sharing_agreements", "data_access_and_storage",
    # 2.5 Risks, mitigations and impact assessments
    "impact_assessment", "risks_and_mitigations",
]  # fmt: skip
# What v4.0 changed ("What v4.0 changed" in the reference): renames and merges.
V4_RENAMES = {
    "external_supplier_involvement": "third_party_involvement",
    "external_supplier": "third_party",
    "external_supplier_role": "third_party_role",
    "data_access_terms": "third_party_data_access_terms",
    "scope": "detailed_description",  # merged into detailed description
    "process_integration": "integration_into_broader_operational_process",
    "provided_information": "integration_into_broader_operational_process",  # merged
    "human_decisions_and_review": "human_review",
    "datasets": "datasets_and_their_purposes",
    "dataset_purposes": "datasets_and_their_purposes",  # merged
}
# Added in v4.0: system-level input and output, and the operational data sheet (its field
# list is our inference; see the header of atrs-4.0.yaml).
V4_NEW = {"system_level_input", "system_level_output"}
V4_OPERATIONAL_PREFIX = "operational_"
SHEETS = [
    ("Summary information", 1),
    ("Owner and responsibility", 2),
    ("Description and rationale", 2),
    ("Deployment context", 2),
    ("Tool specification", 2),
    ("Model specification", 2),
    ("Development data specification", 2),
    ("Operational data specification", 2),
    ("Risks, mitigations and impact assessments", 2),
]
# The v4.0 references the published guidance quotes (the reference's list).
VERIFIED_REFS = {
    "1.2", "2.1.4", "2.1.4.1", "2.1.4.2", "2.1.4.3", "2.1.4.4", "2.1.4.5", "2.2.1", "2.3.1",
    "2.4.1.2", "2.4.1.3", "2.4.2.1", "2.4.2.6", "2.4.2.8",
}  # fmt: skip
REQUIRED_V3 = {  # required in v3.0 and still one field in v4.0
    "title", "organisation_name", "phase", "region", "one_sentence_description", "name",
    "description", "website_url", "contact_email", "organisation_or_department", "team",
    "senior_responsible_owner", "benefit", "frequency_and_scale_of_usage", "required_training",
    "system_architecture", "maintenance", "models", "model_name", "impact_assessment",
    "risks_and_mitigations",
}  # fmt: skip
OPTIONAL_V3 = {"previous_process", "alternatives_considered", "appeals_and_review", "data_cleaning"}
# Optional in v3.0, but the v4.0 guidance asks for every owner field ("N/A" where it does
# not apply).
THIRD_PARTY = {
    "third_party", "companies_house_number", "third_party_role", "procurement_procedure_type",
    "third_party_data_access_terms",
}  # fmt: skip
PRINCIPLES = ["Transparency", "Accountability", "Fairness"]
ACTIONS = [
    "Define and understand public benefit and user need",
    "Involve diverse expertise",
    "Comply with the law",
    "Review the quality and limitations of the data",
    "Evaluate and consider wider policy implication",
]


def _text(name: str) -> str:
    return (resources.files("workbook") / "content" / name).read_text(encoding="utf-8")


# --- the field list --------------------------------------------------------------------------


def test_every_field_of_the_reference_is_in_the_field_list():
    ids = set(STANDARD.field_ids)
    expected = {V4_RENAMES.get(a, a) for a in V3_ATTRIBUTES}
    assert expected - ids == set()
    assert not ids & set(V3_METADATA) - {"phase"}, "v4.0 dropped the metadata fields"
    extra = ids - expected - V4_NEW
    assert extra
    assert all(i.startswith(V4_OPERATIONAL_PREFIX) for i in extra), extra
    assert len(STANDARD.field_ids) == len(ids), "a field id appears twice"


def test_sheets_in_the_template_order_with_tiers():
    assert [(s.name, s.tier) for s in STANDARD.sheets] == SHEETS
    assert STANDARD.version == DEFAULT_VERSION == "4.0"
    assert available_versions() == ("4.0",)
    assert {f.id for f in STANDARD.sheet("tool_specification").fields} >= V4_NEW
    assert "phase" not in {f.id for f in STANDARD.sheet("tool_specification").fields}
    assert STANDARD.field("third_party_involvement").sheet == "owner_and_responsibility"
    assert STANDARD.field("description").tier == 1
    assert STANDARD.field("benefit").tier == 2


def test_only_the_references_the_guidance_quotes_are_marked_checked():
    checked = {f.ref for f in STANDARD.fields if f.ref_checked}
    assert checked == VERIFIED_REFS
    assert STANDARD.field("datasets_and_their_purposes").ref == "2.4.2.8"
    assert STANDARD.field("system_level_input").ref == "2.4.1.2"
    assert STANDARD.field("integration_into_broader_operational_process").ref == "2.3.1"
    refs = [f.ref for f in STANDARD.fields]
    assert len(set(refs)) == len(refs)


def test_required_flags_follow_the_reference():
    for fid in REQUIRED_V3 | THIRD_PARTY | {"third_party_involvement", "human_review"}:
        assert STANDARD.field(fid).required, fid
    for fid in OPTIONAL_V3:
        assert not STANDARD.field(fid).required, fid
    # a merged field is required when either part was (scope was required)
    assert STANDARD.field("detailed_description").required
    assert STANDARD.field("phase").options == (
        "Pre-deployment", "Private beta", "Public beta", "Production", "Retired",
    )  # fmt: skip


def test_prompts_are_our_own_words_one_line_each():
    for f in STANDARD.fields:
        assert "\n" not in f.prompt, f.id
        assert len(f.prompt) <= 120, f.id
        assert not _copied_runs(f.prompt), f.id
    for item in (*FRAMEWORK.principles, *FRAMEWORK.actions):
        assert not _copied_runs(item.description), item.id
        assert "\n" not in item.description


def test_the_copy_check_can_fail():
    seeded = (
        "you should provide details of any unintended consequences that were identified in testing"
    )
    assert len(seeded.split()) > RUN
    assert _copied_runs(seeded)


def test_an_unknown_version_is_one_clear_error():
    with pytest.raises(ContentError, match=r"no ATRS field list for version '9\.9'.*4\.0"):
        load_atrs("9.9")
    with pytest.raises(ContentError, match="no ATRS field list"):
        load_mapping("9.9")


# --- the mapping ------------------------------------------------------------------------------


def test_every_atrs_field_is_mapped_and_every_source_exists_in_the_bank():
    assert set(MAPPING.fields) == set(STANDARD.field_ids)
    blank = new_workbook(project_id="x", tool_name="T", local_authority="LA").to_data()
    for fid in STANDARD.field_ids:
        for source in MAPPING.sources(fid):
            if source.kind in ("risks", "actions"):
                continue
            get_path(blank, source.path)  # KeyError if the bank has no such answer or item
            if source.question:
                assert source.question in BANK.question_ids
        q = MAPPING.question(fid)
        assert q is None or q in BANK.question_ids
    # the fields a workbook covers, and a few it cannot
    assert MAPPING.entry("senior_responsible_owner").sources == ("project.owner",)
    assert "risks" in MAPPING.entry("risks_and_mitigations").sources
    assert MAPPING.entry("contact_email").sources == ()
    assert MAPPING.question("contact_email") == "q11"


def _mapping_with(change) -> str:
    data = yaml.safe_load(_text(mapping_file(DEFAULT_VERSION)))
    change(data)
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda d: d["fields"]["benefit"].update(sources=["answer.q99"]),
            "fields.benefit.sources.0",
            "unknown question id 'q99'",
        ),
        (
            lambda d: d["fields"]["benefit"].update(sources=["prompt.q2.nonsense"]),
            "fields.benefit.sources.0",
            "q2 has no prompt 'nonsense'",
        ),
        (
            lambda d: d["fields"]["team"].update(sources=["checklist.develop.nope"]),
            "fields.team.sources.0",
            "the develop checklist has no item 'nope'",
        ),
        (
            lambda d: d["fields"]["team"].update(sources=["signoff.deploy"]),
            "fields.team.sources.0",
            "unknown phase 'deploy'",
        ),
        (
            lambda d: d["fields"]["team"].update(sources=["project.mayor"]),
            "fields.team.sources.0",
            "unknown project field 'mayor'",
        ),
        (
            lambda d: d["fields"]["team"].update(sources=["answers.q1"]),
            "fields.team.sources.0",
            "unknown source 'answers.q1'",
        ),
        (
            lambda d: d["fields"].update(favourite_colour={"sources": [], "rewrite": False}),
            "fields.favourite_colour",
            "unknown ATRS field 'favourite_colour'",
        ),
        (
            lambda d: d["fields"].pop("region"),
            "fields.region",
            "ATRS field 'region' (0.14 Region) has no entry",
        ),
        (
            lambda d: d["fields"]["region"].update(question="q14"),
            "fields.region.question",
            "unknown question id 'q14'",
        ),
        (
            lambda d: d["fields"]["region"].pop("rewrite"),
            "fields.region.rewrite",
            "Field required",
        ),
    ],
)
def test_a_bad_mapping_fails_at_load_naming_the_file_and_field(change, field, words):
    with pytest.raises(ContentError) as caught:
        parse_mapping(_mapping_with(change), source="content/atrs-4.0-mapping.yaml")
    err = caught.value
    assert str(err.path) == "content/atrs-4.0-mapping.yaml"
    assert err.field == field
    text = str(err)
    assert text.startswith(f"content/atrs-4.0-mapping.yaml: {field}: ")
    assert "\n" not in text
    assert words in text


def test_a_mapping_for_another_version_or_not_yaml_is_refused():
    with pytest.raises(ContentError, match=r"version: the mapping is for ATRS 3\.0"):
        parse_mapping(
            _mapping_with(lambda d: d.update(version="3.0")), source="m.yaml", standard=STANDARD
        )
    with pytest.raises(ContentError, match="m.yaml: not valid YAML at line 1"):
        parse_mapping("fields: [", source="m.yaml")


# --- the Data Ethics Framework --------------------------------------------------------------


def test_three_principles_and_five_actions_named_as_the_framework_names_them():
    assert [p.name for p in FRAMEWORK.principles] == PRINCIPLES
    assert [a.name for a in FRAMEWORK.actions] == ACTIONS
    assert [a.number for a in FRAMEWORK.actions] == [1, 2, 3, 4, 5]


def test_every_dfe_question_serves_at_least_one_action():
    assert list(FRAMEWORK.crosswalk) == list(BANK.question_ids)
    for q in BANK.questions:
        serves = FRAMEWORK.serves(q.id)
        assert serves.actions, q.id
        assert set(serves.actions) <= set(FRAMEWORK.action_ids)
        assert set(serves.principles) <= set(FRAMEWORK.principle_ids)
        for pid in FRAMEWORK.crosswalk[q.id].prompts:
            assert pid in q.prompt_ids
    # every action and principle is served by some question
    for a in FRAMEWORK.action_ids:
        assert list(FRAMEWORK.questions_serving("actions", a)), a
    for p in FRAMEWORK.principle_ids:
        assert list(FRAMEWORK.questions_serving("principles", p)), p
    # a prompt can be finer than its question
    assert FRAMEWORK.serves("q7", "psed_assessment").actions == ("comply_with_law",)
    assert FRAMEWORK.serves("q7", "bias_testing") == FRAMEWORK.serves("q7")


def _framework_with(change) -> str:
    data = yaml.safe_load(_text(FRAMEWORK_FILE))
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["crosswalk"].pop("q12"), "crosswalk.q12", "question 12 is not in"),
        (
            lambda d: d["crosswalk"]["q3"].update(actions=[]),
            "crosswalk.q3.actions",
            "question 3 serves no action",
        ),
        (
            lambda d: d["crosswalk"].update(q14={"actions": ["public_benefit"]}),
            "crosswalk.q14",
            "unknown question id 'q14'",
        ),
        (
            lambda d: d["crosswalk"]["q1"].update(actions=["be_nice"]),
            "crosswalk.q1.actions.0",
            "unknown action 'be_nice'",
        ),
        (
            lambda d: d["crosswalk"]["q1"]["prompts"].update(nope={"actions": []}),
            "crosswalk.q1.prompts.nope",
            "q1 has no prompt 'nope'",
        ),
        (
            lambda d: d["crosswalk"]["q2"]["prompts"]["engagement"].update(principles=["joy"]),
            "crosswalk.q2.prompts.engagement.principles.0",
            "unknown principle 'joy'",
        ),
    ],
)
def test_a_bad_crosswalk_fails_at_load_naming_the_file_and_field(change, field, words):
    with pytest.raises(ContentError) as caught:
        parse_framework(_framework_with(change), source="content/def.yaml")
    assert caught.value.field == field
    assert str(caught.value) == f"content/def.yaml: {field}: {caught.value.message}"
    assert words in caught.value.message
