"""The risk register content: seven digital ethics categories, affected groups, two scales.

Also checks that our descriptions and prompts are our own words: none may share eight or
more consecutive words with a source text in ``../shared/seeds/`` (the Sopra Steria reports
are copyrighted; only their category names may be used). The check is in
``tests/seedcopy.py``, shared with the maturity model's tests.

The seed texts live beside the repo, not in it. A clean checkout (CI) uses
``tests/data/seed-shingles.txt`` instead: a one-way fingerprint of every run of eight words
in those texts, so the check runs without the repo redistributing the reports. Rebuild it
after the seeds change with ``python -m tests.test_risk_content``.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from tests.seedcopy import (
    RUN,
    SEEDS,
    SHINGLES_FILE,
    _committed_shingles,
    _copied_runs,
    _shingles_of,
    write_fingerprint,
)
from workbook.bank import load_bank
from workbook.errors import BankError, ContentError, WorkbookError
from workbook.risk_content import CONTENT_FILE, load_risk_content, parse_risk_content

CONTENT = load_risk_content()

CATEGORIES = [
    ("privacy", "Privacy"),
    ("safety", "Safety"),
    ("displacement", "Displacement, skills and work"),
    ("transparency", "Transparency"),
    ("fairness", "Fairness, equality, diversity and accessibility"),
    ("environment", "Environmental sustainability"),
    ("social_value", "Social value and societal impact"),
]


# --- what the packaged content holds -------------------------------------------------------


def test_seven_categories_in_order():
    assert [(c.id, c.name) for c in CONTENT.categories] == CATEGORIES
    assert CONTENT.category("fairness").name == CATEGORIES[4][1]
    with pytest.raises(KeyError, match="unknown category 'ethics'"):
        CONTENT.category("ethics")


def test_every_category_has_a_description_prompts_and_workbook_questions():
    known = load_bank().question_ids
    for c in CONTENT.categories:
        assert c.description, c.id
        assert 2 <= len(c.prompts) <= 4, c.id
        assert all(p.endswith("?") for p in c.prompts), c.id
        assert "q4" in c.questions, f"{c.id}: every lens feeds question 4 (risks)"
        assert set(c.questions) <= set(known), c.id
    assert "q8" in CONTENT.category("privacy").questions
    assert "q7" in CONTENT.category("fairness").questions
    assert "q10" in CONTENT.category("social_value").questions


def test_five_affected_groups():
    assert [(g.id, g.label) for g in CONTENT.affected_groups] == [
        ("children", "Children and young people"),
        ("families", "Families"),
        ("practitioners", "Practitioners"),
        ("authority", "The local authority"),
        ("public", "The public"),
    ]


def test_two_scales_and_five_by_five_is_the_default():
    assert CONTENT.scale_ids == ("5x5", "dpia-4x4")
    assert CONTENT.default_scale == "5x5"
    assert CONTENT.scale().id == "5x5"
    five = CONTENT.scale("5x5")
    assert five.size == 5
    assert five.max_score == 25
    assert [lv.label for lv in five.likelihood] == [
        "Rare",
        "Unlikely",
        "Possible",
        "Likely",
        "Almost certain",
    ]
    assert [lv.label for lv in five.impact] == [
        "Negligible",
        "Minor",
        "Moderate",
        "Major",
        "Severe",
    ]
    dpia = CONTENT.scale("dpia-4x4")
    assert dpia.size == 4
    assert dpia.max_score == 16
    assert [lv.label for lv in dpia.impact] == ["Negligible", "Limited", "Significant", "Maximum"]
    assert dpia.impact_name == "Severity"
    for scale in CONTENT.scales:
        assert [b.id for b in scale.bands] == ["low", "medium", "high", "very_high"]
        assert [b.label for b in scale.bands] == ["Low", "Medium", "High", "Very high"]
        for level in (*scale.likelihood, *scale.impact):
            assert level.meaning, f"{scale.id}: {level.label}"
    with pytest.raises(KeyError, match="unknown scale '3x3'"):
        CONTENT.scale("3x3")


@pytest.mark.parametrize("scale_id", ["5x5", "dpia-4x4"])
def test_every_achievable_score_falls_in_exactly_one_band(scale_id):
    scale = CONTENT.scale(scale_id)
    levels = range(1, scale.size + 1)
    products = {lk * im for lk in levels for im in levels}
    assert set(scale.achievable_scores) == products
    for score in products:
        holders = [b.id for b in scale.bands if b.min <= score <= b.max]
        assert len(holders) == 1, f"{scale_id}: score {score} is in {holders}"
        assert scale.band(score).id == holders[0]
    # ...and the bands run from 1 to the top score with no gaps or overlaps
    covered = [s for b in scale.bands for s in range(b.min, b.max + 1)]
    assert covered == list(range(1, scale.max_score + 1))


def test_scores_and_bands_on_the_five_by_five():
    five = CONTENT.scale("5x5")
    assert five.score(4, 5) == 20
    assert five.band(five.score(4, 5)).label == "Very high"
    assert five.score(2, 2) == 4
    assert five.band(five.score(2, 2)).id == "low"
    assert five.band(five.score(1, 5)).id == "medium"
    assert five.band(five.score(3, 3)).id == "medium"
    assert five.band(five.score(2, 5)).id == "high"
    assert five.band(five.score(4, 4)).id == "high"
    assert five.band(25).id == "very_high"
    assert five.likelihood_level(5).label == "Almost certain"
    assert five.impact_level(1).label == "Negligible"


def test_scores_and_bands_on_the_dpia_scale():
    dpia = CONTENT.scale("dpia-4x4")
    assert dpia.band(dpia.score(1, 1)).id == "low"
    assert dpia.band(dpia.score(2, 2)).id == "medium"
    assert dpia.band(dpia.score(3, 3)).id == "high"
    assert dpia.band(dpia.score(4, 4)).id == "very_high"


def test_scores_outside_the_scale_are_refused():
    five = CONTENT.scale("5x5")
    for bad in [(0, 3), (6, 1), (3, 6), (True, 2)]:
        with pytest.raises(ValueError, match="1..5 on scale '5x5'"):
            five.score(*bad)
    for bad in (0, 26):
        with pytest.raises(ValueError, match="1..25"):
            five.band(bad)
    with pytest.raises(ValueError, match="1..4 on scale 'dpia-4x4'"):
        CONTENT.scale("dpia-4x4").score(5, 1)


def test_content_is_immutable():
    with pytest.raises(ValueError, match="frozen"):
        CONTENT.categories[0].name = "Something else"  # type: ignore[misc]


# --- our own words --------------------------------------------------------------------------


def _own_words():
    for c in CONTENT.categories:
        yield f"{c.id}.description", c.description
        for i, prompt in enumerate(c.prompts):
            yield f"{c.id}.prompts.{i}", prompt
    for s in CONTENT.scales:
        for axis in ("likelihood", "impact"):
            for level in getattr(s, axis):
                yield f"{s.id}.{axis}.{level.value}", level.meaning
    yield "attribution", CONTENT.attribution


def test_descriptions_and_prompts_are_not_copied_from_the_sources():
    copied = {where: runs for where, text in _own_words() if (runs := _copied_runs(text))}
    assert not copied, f"{RUN}+ words shared with a source text: {copied}"


def test_the_copy_check_catches_a_copied_sentence():
    # Sentences from the Sopra Steria reports and the DfE workbook, lightly re-punctuated.
    # If the check could not see these, the test above would pass whatever we wrote.
    copied = [
        "Digital technology comes with new and sometimes increased threats to people, "
        "businesses and national security.",
        "Special care and attention must be taken towards vulnerable individuals.",
        "Assess which groups might be disproportionately impacted by the tool",
    ]
    for sentence in copied:
        assert _copied_runs(sentence), sentence
    assert not _copied_runs(CONTENT.category("safety").description)


def test_the_committed_fingerprint_matches_the_seed_texts():
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} is not beside this checkout; the committed fingerprint is used")
    assert _committed_shingles() == _shingles_of(SEEDS), (
        "tests/data/seed-shingles.txt is out of date: run python -m tests.test_risk_content"
    )


# --- bad input -------------------------------------------------------------------------------

SOURCE = "workbook/content/bad-categories.yaml"


def _packaged() -> dict:
    from importlib import resources

    ref = resources.files("workbook") / "content" / CONTENT_FILE
    return yaml.safe_load(ref.read_text(encoding="utf-8"))


PACKAGED = _packaged()


def _break(change) -> str:
    data = copy.deepcopy(PACKAGED)
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _duplicate_category(d):
    d["categories"][2]["id"] = "privacy"


def _band_gap(d):
    d["scales"][0]["bands"][1]["min"] = 6


def _band_overlap(d):
    d["scales"][1]["bands"][2]["min"] = 6


def _one_prompt(d):
    d["categories"][0]["prompts"] = d["categories"][0]["prompts"][:1]


def _five_prompts(d):
    d["categories"][6]["prompts"].append("One too many?")


def _unknown_question(d):
    d["categories"][1]["questions"].append("q14")


def _mismatched_sizes(d):
    d["scales"][0]["impact"].pop()


def _levels_out_of_order(d):
    d["scales"][1]["likelihood"][2]["value"] = 4


def _band_short_of_the_top(d):
    d["scales"][0]["bands"][3]["max"] = 20


def _band_with_no_achievable_score(d):
    d["scales"][0]["bands"][2:] = [
        {"id": "high", "label": "High", "min": 10, "max": 20},
        {"id": "extreme", "label": "Extreme", "min": 21, "max": 24},
        {"id": "very_high", "label": "Very high", "min": 25, "max": 25},
    ]


def _unknown_default(d):
    d["default_scale"] = "3x3"


def _duplicate_group(d):
    d["affected_groups"][4]["id"] = "children"


def _empty_description(d):
    d["categories"][3]["description"] = "  "


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_duplicate_category, "categories.2.id", "duplicate category id 'privacy'"),
        (_band_gap, "scales.0.bands.1.min", "gap: scores 5..5 are in no band"),
        (_band_overlap, "scales.1.bands.2.min", "inside band 'medium'"),
        (_one_prompt, "categories.0.prompts", "at least 2 items"),
        (_five_prompts, "categories.6.prompts", "at most 4 items"),
        (_unknown_question, "categories.1.questions.5", "unknown question id 'q14'"),
        (_mismatched_sizes, "scales.0.impact", "4 levels, but likelihood has 5"),
        (_levels_out_of_order, "scales.1.likelihood.2.value", "numbered 1, 2, 3"),
        (_band_short_of_the_top, "scales.0.bands.3.max", "must end at the highest score 25"),
        (_band_with_no_achievable_score, "scales.0.bands.3", "holds no score"),
        (_unknown_default, "default_scale", "'3x3' is not one of the scales"),
        (_duplicate_group, "affected_groups.4.id", "duplicate group id 'children'"),
        (_empty_description, "categories.3.description", "at least 1 character"),
    ],
)
def test_bad_content_names_the_file_and_the_field(change, field, message):
    with pytest.raises(ContentError) as caught:
        parse_risk_content(_break(change), source=SOURCE)
    err = caught.value
    assert isinstance(err, BankError)
    assert isinstance(err, WorkbookError)
    assert err.field == field
    assert str(err).startswith(f"{SOURCE}: {field}: "), str(err)
    assert message in str(err)
    assert "\n" not in str(err)


def test_the_unbroken_content_parses():
    assert parse_risk_content(_break(lambda d: None), source=SOURCE) == CONTENT


def test_not_yaml_names_the_file():
    with pytest.raises(ContentError, match=f"^{re.escape(SOURCE)}: not valid YAML"):
        parse_risk_content("categories: [unclosed", source=SOURCE)
    with pytest.raises(ContentError, match="not valid YAML") as caught:
        parse_risk_content("a: b\n  c: d: e\n", source=SOURCE)
    assert "\n" not in str(caught.value)


if __name__ == "__main__":
    write_fingerprint()
    print(f"wrote {SHINGLES_FILE}")
