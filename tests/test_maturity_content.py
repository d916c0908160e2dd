"""The digital ethics maturity model: seven components, six levels, a statement for each pair.

Also checks that every description, statement and evidence line is our own words (the
Sopra Steria report the names come from is copyrighted; see ``tests/seedcopy.py``), that
a model of another size in the same format loads, and that bad input gets a one-line
error naming the file and the field.
"""

from __future__ import annotations

import copy
import re
from importlib import resources

import pytest
import yaml

from tests.seedcopy import RUN, _copied_runs
from workbook.errors import BankError, ContentError, WorkbookError
from workbook.maturity_content import (
    CONTENT_FILE,
    DEFAULT_MODEL,
    Component,
    MaturityModel,
    load_maturity_model,
    load_maturity_model_file,
    parse_maturity_model,
)

MODEL = load_maturity_model()

COMPONENTS = [
    ("strategy", "Strategy"),
    ("governance", "Governance, tools, methodologies and processes"),
    ("targets", "Targets and performance"),
    ("people", "People and culture"),
    ("compliance", "Compliance and verification"),
    ("engagement", "Stakeholder engagement"),
    ("procurement", "Procurement and supply chain"),
]
LEVELS = [
    (0, "Unaware"),
    (1, "Initiating"),
    (2, "Defining"),
    (3, "Testing"),
    (4, "Proving"),
    (5, "Optimising"),
]


# --- what the packaged model holds -----------------------------------------------------------


def test_the_default_model_is_seven_components_by_six_levels():
    assert MODEL.id == DEFAULT_MODEL == "digital-ethics-maturity-1"
    assert "children" in MODEL.name.lower()
    assert "Sopra Steria" in MODEL.attribution
    assert [(lv.value, lv.name) for lv in MODEL.levels] == LEVELS
    assert [(c.id, c.name) for c in MODEL.components] == COMPONENTS
    assert MODEL.component_ids == tuple(cid for cid, _ in COMPONENTS)
    assert MODEL.max_level == 5
    for level in MODEL.levels:
        assert level.summary, level.name
    for c in MODEL.components:
        assert c.description, c.id
        assert [s.level for s in c.statements] == [0, 1, 2, 3, 4, 5], c.id
        for s in c.statements:
            assert s.text, f"{c.id} level {s.level}"
            assert s.evidence, f"{c.id} level {s.level}"


def test_levels_are_distinct_within_each_component():
    for c in MODEL.components:
        assert len({s.text for s in c.statements}) == len(c.statements), c.id
        assert len({s.evidence for s in c.statements}) == len(c.statements), c.id
    texts = [s.text for c in MODEL.components for s in c.statements]
    assert len(set(texts)) == len(texts)
    # level 0 is the absence, so its evidence is that there is nothing to show
    for c in MODEL.components:
        assert c.statement(0).evidence.startswith("Nothing to show"), c.id
        for s in c.statements[1:]:
            assert not s.evidence.startswith("Nothing"), f"{c.id} level {s.level}"


def test_lookups():
    strategy = MODEL.component("strategy")
    assert isinstance(strategy, Component)
    assert strategy.statement(2).level == 2
    assert "Director of Children's Services" in strategy.statement(2).text
    assert MODEL.component("procurement").statement(4).level == 4
    assert MODEL.level(3).name == "Testing"
    assert MODEL.level_label(2) == "2 Defining"
    assert MODEL.level_label(0) == "0 Unaware"
    assert MODEL.level_label(5) == "5 Optimising"


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda: MODEL.component("ethics"), "unknown component 'ethics' in maturity model"),
        (lambda: MODEL.level(6), "level must be a whole number 0..5"),
        (lambda: MODEL.level(-1), "level must be a whole number 0..5"),
        (lambda: MODEL.level(True), "not True"),
        (lambda: MODEL.level_label("2"), "not '2'"),
        (lambda: MODEL.component("strategy").statement(6), "no statement for level 6"),
    ],
)
def test_unknown_lookups_raise_a_clear_error(lookup, message):
    with pytest.raises(KeyError) as caught:
        lookup()
    assert isinstance(caught.value, ContentError)
    assert message in str(caught.value)
    assert not str(caught.value).startswith("'"), "the message is shown as it is, unquoted"


def test_the_packaged_model_is_cached_and_immutable():
    assert load_maturity_model() is MODEL
    assert load_maturity_model(DEFAULT_MODEL) is MODEL
    with pytest.raises(ValueError, match="frozen"):
        MODEL.components[0].name = "Something else"  # type: ignore[misc]


# --- our own words -----------------------------------------------------------------------------


def _own_words():
    yield "attribution", MODEL.attribution
    yield "name", MODEL.name
    for level in MODEL.levels:
        yield f"levels.{level.value}.summary", level.summary
    for c in MODEL.components:
        yield f"{c.id}.description", c.description
        for s in c.statements:
            yield f"{c.id}.{s.level}.text", s.text
            yield f"{c.id}.{s.level}.evidence", s.evidence


def test_nothing_is_copied_from_the_sources():
    copied = {where: runs for where, text in _own_words() if (runs := _copied_runs(text))}
    assert not copied, f"{RUN}+ words shared with a source text: {copied}"


def test_the_copy_check_catches_a_row_of_the_maturity_table():
    # Cells of the Sopra Steria maturity table, as they would read if pasted in. If the
    # check could not see these, the test above would pass whatever we wrote.
    copied = [
        "First strategy published; limited scope; gaps present; programme started; "
        "further resources applied",
        "Effective data ethics strategy, fully aligned to corporate strategy; updated in "
        "line with corporate strategy",
        "Vendors and procurement teams collaborating to improve data-driven technologies "
        "for data ethics",
        "Fully defined stakeholder map and defined two-way engagement processes implemented",
    ]
    for sentence in copied:
        assert _copied_runs(sentence), sentence
    # ...while our own statement for the same cell passes
    assert not _copied_runs(MODEL.component("strategy").statement(2).text)
    assert not _copied_runs(MODEL.component("procurement").statement(5).text)


# --- another model in the same format ------------------------------------------------------------

SMALL = """\
id: small-model
name: A smaller model
attribution: Written for a test.
levels:
  - {value: 0, name: None yet, summary: Nothing in place.}
  - {value: 1, name: Started, summary: Some work has begun.}
  - {value: 2, name: Settled, summary: The work is routine.}
  - {value: 3, name: Leading, summary: Others learn from it.}
components:
"""


def _small_component(cid: str, levels: int = 4) -> str:
    lines = [f"  - id: {cid}", f"    name: Area {cid}", f"    description: About {cid}."]
    lines.append("    statements:")
    for n in range(levels):
        lines.append(f"      - {{level: {n}, text: {cid} at {n}., evidence: Papers for {n}.}}")
    return "\n".join(lines) + "\n"


def _small_text(model_id: str = "small-model") -> str:
    text = SMALL.replace("small-model", model_id)
    return text + "".join(_small_component(cid) for cid in ("alpha", "beta", "gamma"))


def test_a_model_of_another_size_loads_from_a_file(tmp_path):
    path = tmp_path / "our-model.yaml"
    path.write_text(_small_text(), encoding="utf-8")
    model = load_maturity_model_file(path)
    assert isinstance(model, MaturityModel)
    assert model.id == "small-model"
    assert model.component_ids == ("alpha", "beta", "gamma")
    assert model.max_level == 3
    assert model.level_label(3) == "3 Leading"
    assert model.component("beta").statement(1).text == "beta at 1."
    with pytest.raises(KeyError, match="0..3"):
        model.level(4)
    assert load_maturity_model_file(str(path)) == model


def test_a_model_loads_by_id_from_an_extra_folder(tmp_path):
    (tmp_path / "our-model.yaml").write_text(_small_text(), encoding="utf-8")
    (tmp_path / "notes.yaml").write_text("just: [some, other, yaml]\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    model = load_maturity_model("small-model", extra_dirs=[tmp_path])
    assert model.component_ids == ("alpha", "beta", "gamma")
    assert model == load_maturity_model_file(tmp_path / "our-model.yaml")
    # the packaged model is still found when extra folders are given
    assert load_maturity_model(DEFAULT_MODEL, extra_dirs=[tmp_path]) == MODEL
    # a file is read again on each call, so an edit is seen
    (tmp_path / "our-model.yaml").write_text(_small_text().replace("Leading", "Top"), "utf-8")
    assert load_maturity_model("small-model", extra_dirs=[tmp_path]).level(3).name == "Top"


def test_an_unknown_model_id_lists_the_models_available(tmp_path):
    with pytest.raises(ContentError) as caught:
        load_maturity_model("digital-ethics-maturity-9")
    message = str(caught.value)
    assert "no maturity model with id 'digital-ethics-maturity-9'" in message
    assert "available: digital-ethics-maturity-1" in message
    assert "\n" not in message

    (tmp_path / "our-model.yaml").write_text(_small_text(), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_maturity_model("nope", extra_dirs=[tmp_path])
    message = str(caught.value)
    assert "available: digital-ethics-maturity-1, small-model" in message
    assert f"could not read {tmp_path / 'broken.yaml'}" in message
    assert str(tmp_path) in message


def test_two_files_with_one_id_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(_small_text(), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(_small_text(), encoding="utf-8")
    with pytest.raises(ContentError, match="2 files have the id 'small-model'") as caught:
        load_maturity_model("small-model", extra_dirs=[tmp_path])
    assert str(tmp_path / "a.yaml") in str(caught.value)
    assert str(tmp_path / "b.yaml") in str(caught.value)


def test_a_broken_model_in_an_extra_folder_names_its_file_and_field(tmp_path):
    path = tmp_path / "our-model.yaml"
    path.write_text(_small_text() + _small_component("delta", levels=3), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_maturity_model("small-model", extra_dirs=[tmp_path])
    assert caught.value.path == path
    assert caught.value.field == "components.3.statements"
    assert "the statement for level 3 (Leading) is missing" in str(caught.value)


def test_missing_files_and_folders_are_named(tmp_path):
    with pytest.raises(ContentError, match="cannot read the file") as caught:
        load_maturity_model_file(tmp_path / "absent.yaml")
    assert caught.value.path == tmp_path / "absent.yaml"
    with pytest.raises(ContentError, match="not a folder") as caught:
        load_maturity_model(DEFAULT_MODEL, extra_dirs=[tmp_path / "absent"])
    assert caught.value.path == tmp_path / "absent"


# --- bad input -----------------------------------------------------------------------------------

SOURCE = "councils/our-maturity.yaml"
PACKAGED = yaml.safe_load(
    (resources.files("workbook") / "content" / CONTENT_FILE).read_text(encoding="utf-8")
)


def _break(change) -> str:
    data = copy.deepcopy(PACKAGED)
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _statements(d, ci):
    return d["components"][ci]["statements"]


def _level_six_instead_of_five(d):
    _statements(d, 0)[5]["level"] = 6


def _an_extra_level_six(d):
    _statements(d, 3).append({"level": 6, "text": "Beyond.", "evidence": "More."})


def _a_missing_statement(d):
    del _statements(d, 2)[2]


def _the_last_statement_missing(d):
    _statements(d, 1).pop()


def _a_level_twice(d):
    _statements(d, 4)[3]["level"] = 2


def _a_level_as_text(d):
    _statements(d, 0)[2]["level"] = "2"


def _duplicate_component_id(d):
    d["components"][5]["id"] = "strategy"


def _duplicate_component_name(d):
    d["components"][6]["name"] = "People and culture"


def _bad_component_id(d):
    d["components"][0]["id"] = "Strategy"


def _unknown_statement_key(d):
    _statements(d, 0)[1]["note"] = "Extra."


def _unknown_top_key(d):
    d["edition"] = "2"


def _empty_text(d):
    _statements(d, 3)[2]["text"] = "   "


def _empty_evidence(d):
    _statements(d, 6)[0]["evidence"] = ""


def _missing_description(d):
    del d["components"][2]["description"]


def _levels_with_a_gap(d):
    d["levels"][2]["value"] = 3


def _levels_from_one(d):
    for level in d["levels"]:
        level["value"] += 1


def _duplicate_level_name(d):
    d["levels"][4]["name"] = "Testing"


def _one_level(d):
    d["levels"] = d["levels"][:1]


def _eleven_levels(d):
    d["levels"] += [{"value": n, "name": f"L{n}", "summary": "More."} for n in range(6, 11)]


def _no_components(d):
    d["components"] = []


def _twenty_one_components(d):
    base = d["components"][0]
    d["components"] += [
        {**copy.deepcopy(base), "id": f"extra_{n}", "name": f"Extra {n}"} for n in range(14)
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_level_six_instead_of_five, "components.0.statements.5.level", "level 6 is not a level"),
        (
            _an_extra_level_six,
            "components.3.statements.6.level",
            "not a level of this model (0..5)",
        ),
        (
            _a_missing_statement,
            "components.2.statements.2.level",
            "the statement for level 2 (Defining) is missing: found level 3 here",
        ),
        (
            _the_last_statement_missing,
            "components.1.statements",
            "the statement for level 5 (Optimising) is missing",
        ),
        (_a_level_twice, "components.4.statements.3.level", "level 2 comes again or out of order"),
        (_a_level_as_text, "components.0.statements.2.level", "valid integer"),
        (_duplicate_component_id, "components.5.id", "duplicate component id 'strategy'"),
        (_duplicate_component_name, "components.6.name", "duplicate component name"),
        (_bad_component_id, "components.0.id", "should match pattern"),
        (
            _unknown_statement_key,
            "components.0.statements.1.note",
            "unknown key 'note'; allowed: level, text, evidence",
        ),
        (_unknown_top_key, "edition", "unknown key 'edition'; allowed: id, name, attribution"),
        (_empty_text, "components.3.statements.2.text", "at least 1 character"),
        (_empty_evidence, "components.6.statements.0.evidence", "at least 1 character"),
        (_missing_description, "components.2.description", "Field required"),
        (_levels_with_a_gap, "levels.2.value", "numbered 0, 1, 2 ... in order"),
        (_levels_from_one, "levels.0.value", "numbered 0, 1, 2 ... in order"),
        (_duplicate_level_name, "levels.4.name", "duplicate level name 'Testing'"),
        (_one_level, "levels", "at least 2 items"),
        (_eleven_levels, "levels", "at most 10 items"),
        (_no_components, "components", "at least 1 item"),
        (_twenty_one_components, "components", "at most 20 items"),
    ],
)
def test_bad_content_names_the_file_and_the_field(change, field, message):
    with pytest.raises(ContentError) as caught:
        parse_maturity_model(_break(change), source=SOURCE)
    err = caught.value
    assert isinstance(err, BankError)
    assert isinstance(err, WorkbookError)
    assert err.field == field
    assert str(err).startswith(f"{SOURCE}: {field}: "), str(err)
    assert message in str(err)
    assert "\n" not in str(err)


def test_the_unbroken_content_parses():
    assert parse_maturity_model(_break(lambda d: None), source=SOURCE) == MODEL


def test_not_yaml_names_the_file_and_the_line():
    with pytest.raises(ContentError) as caught:
        parse_maturity_model("id: x\nname: y\nlevels: [unclosed\n", source=SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: not valid YAML at line 4")
    with pytest.raises(ContentError) as caught:
        parse_maturity_model("id: x\nname: y\n  bad: indent: here\n", source=SOURCE)
    assert re.match(
        rf"^{re.escape(SOURCE)}: not valid YAML at line 3, column \d+: ", str(caught.value)
    )
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "holds"), [("", "nothing"), ("- a\n- b\n", "list")])
def test_a_file_that_is_not_a_mapping_is_refused(text, holds):
    with pytest.raises(ContentError, match=f"must be a mapping .* this file holds {holds}$"):
        parse_maturity_model(text, source=SOURCE)
