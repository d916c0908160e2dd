"""The risk register: scale stored with the project, scores and bands, category coverage,
saving through the store, bad input named, sign-off fingerprint, the CLI, migration."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from workbook import review, risks
from workbook.cli import cli
from workbook.errors import InvalidProjectFile, WorkbookError
from workbook.model import SCHEMA_VERSION, json_schema
from workbook.store import reads

V4 = Path(__file__).parent / "data" / "v4"
V4_FILE = V4 / "workbook.json"


def test_a_new_project_stores_the_default_5x5_scale(store):
    wb = store.create("Tool", "Council", project_id="t", user="setup")
    on_disk = json.loads(store.answers_path("t").read_text("utf-8"))
    scale = on_disk["risks"]["scale"]
    assert scale["id"] == "5x5"
    assert [lv["value"] for lv in scale["likelihood"]] == [1, 2, 3, 4, 5]
    assert wb.risks.items == {}


def test_scores_and_bands(demo_store):
    wb = demo_store.open("demo")
    rows = {r.id: r for r in risks.risk_rows(wb.risks, today=date(2026, 12, 1))}
    fairness = rows["r-demo01"]
    assert (fairness.before, fairness.after) == (16, 9)
    assert fairness.before_band
    assert fairness.after_band
    assert fairness.before_band != fairness.after_band
    assert fairness.review_overdue  # review date 15 Nov 2026, still open
    assert fairness.actions == ("q7#1",)
    residual = [r.after for r in risks.risk_rows(wb.risks)]
    assert residual == sorted(residual, reverse=True)  # highest remaining risk first


def test_the_demo_leaves_one_category_uncovered(demo_store):
    wb = demo_store.open("demo")
    gaps = risks.uncovered(wb.risks)
    assert [c.id for c in gaps] == ["environment"]
    assert len(risks.coverage(wb.risks)) == 7


@pytest.mark.parametrize(
    ("reason", "counts"),
    [
        ("", False),
        ("N/A", False),
        ("Irrelevant.", False),
        ("not relevant here", False),
        ("The model runs once a week on a small council server.", True),
    ],
)
def test_a_reason_must_be_a_sentence(reason, counts):
    assert risks.reason_counts(reason) is counts


def test_considering_a_category_covers_it_and_a_short_reason_is_refused(demo_store):
    before = demo_store.open("demo").revision
    with pytest.raises(WorkbookError, match="in a sentence"):
        risks.consider(demo_store, "demo", "environment", "n/a", user="ann")
    assert demo_store.open("demo").revision == before
    risks.consider(
        demo_store,
        "demo",
        "environment",
        "The model runs weekly on an existing council server; its energy use is negligible.",
        user="ann",
    )
    assert risks.uncovered(demo_store.open("demo").risks) == []


def test_add_and_update_a_risk_reach_the_disk(demo_store):
    wb, rid = risks.add_risk(
        demo_store,
        "demo",
        user="ann",
        title="Model drift after a change in the referral form",
        category="safety",
        before={"likelihood": 3, "impact": 3},
    )
    risks.update_risk(
        demo_store,
        "demo",
        rid,
        user="ann",
        after={"likelihood": 1, "impact": 3},
        mitigations=[{"text": "Retrain check", "action": {"question": "q4", "index": 0}}],
    )
    on_disk = json.loads(demo_store.answers_path("demo").read_text("utf-8"))
    saved = on_disk["risks"]["items"][rid]
    assert saved["after"] == {"likelihood": 1, "impact": 3}
    assert saved["created_by"] == "ann"
    assert saved["questions"] == ["q4"]  # linked to question 4 by default


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda r: r["before"].update(likelihood=7),
            "before.likelihood",
            "off the project's scale",
        ),
        (lambda r: r.update(category="weather"), "category", "unknown category"),
        (
            lambda r: r["mitigations"].append(
                {"text": "x", "action": {"question": "q2", "index": 4}}
            ),
            "mitigations.1.action",
            "does not exist",
        ),
        (lambda r: r["affected"].append("pets"), "affected.2", "unknown affected group"),
    ],
)
def test_bad_register_input_names_the_file_the_risk_and_the_field(demo_store, change, field, words):
    path = demo_store.answers_path("demo")
    data = json.loads(path.read_text("utf-8"))
    change(data["risks"]["items"]["r-demo01"])
    with pytest.raises(InvalidProjectFile) as caught:
        reads(json.dumps(data), source=path)
    assert caught.value.field == f"risks.items.r-demo01.{field}"
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_bad_update_saves_nothing(demo_store):
    before = demo_store.answers_path("demo").read_text("utf-8")
    with pytest.raises(WorkbookError):
        risks.update_risk(demo_store, "demo", "r-demo01", user="ann", category="weather")
    assert demo_store.answers_path("demo").read_text("utf-8") == before


def test_editing_the_register_makes_the_explore_sign_off_out_of_date(demo_store):
    wb = demo_store.open("demo")
    n = review.incomplete_questions(wb, "explore")
    review.sign_off(
        demo_store,
        "demo",
        "explore",
        decision="approved",
        reviewer="Rev",
        user="rev",
        confirm_incomplete=n or None,
    )
    assert review.signoff_state(demo_store.open("demo"), "explore").status == "current"
    risks.update_risk(demo_store, "demo", "r-demo01", user="ann", status="mitigated")
    assert review.signoff_state(demo_store.open("demo"), "explore").status == "out_of_date"
    assert review.signoff_state(demo_store.open("demo"), "develop").status == "none"


def test_the_cli_lists_risks_coverage_and_csv(demo_store, tmp_path):
    run = CliRunner().invoke
    ws = ["--workspace", str(demo_store.root)]
    shown = run(cli, [*ws, "risks", "demo"])
    assert shown.exit_code == 0, shown.output
    assert "r-demo01" in shown.output
    assert "GAP  Environmental sustainability: not considered yet" in shown.output
    due = run(cli, [*ws, "risks", "demo", "--review-due"])
    assert "r-demo01" in due.output
    assert "r-demo02" not in due.output
    out = tmp_path / "risks.csv"
    wrote = run(cli, [*ws, "risks", "demo", "--csv", str(out)])
    assert "Wrote 6 risks" in wrote.output
    lines = out.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("id,title,category")
    assert len(lines) == 7


# --------------------------------------------------------------------------- version 4


def test_fixture_really_is_a_version_4_file():
    data = json.loads(V4_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == 4
    assert "risks" not in data
    assert data["project"]["marking"] == "OFFICIAL-SENSITIVE"
    schema = json.loads((V4 / "answers.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(data)


def test_version_4_file_migrates_with_every_field_kept_and_sign_offs_current(tmp_path):
    from workbook.store import Change, Store

    old = json.loads(V4_FILE.read_text(encoding="utf-8"))
    (tmp_path / "legacy-v4").mkdir()
    shutil.copy(V4_FILE, tmp_path / "legacy-v4" / "workbook.json")
    store = Store(tmp_path)
    opened = store.open("legacy-v4")
    assert opened.schema_version == SCHEMA_VERSION == 7
    assert opened.risks.items == {}
    for phase in ("explore", "develop"):  # an empty register does not change what was signed
        assert review.signoff_state(opened, phase).status == "current"
    store.apply(
        "legacy-v4",
        [Change("project.owner", old["project"]["owner"], "New Owner")],
        user="migrator",
        base_revision=opened.revision,
    )
    on_disk = json.loads((tmp_path / "legacy-v4" / "workbook.json").read_text("utf-8"))
    assert on_disk["schema_version"] == 7
    jsonschema.Draft202012Validator(json_schema()).validate(on_disk)
    assert on_disk.pop("risks")["scale"]["id"] == "5x5"
    for key in ("answers", "phases", "review"):
        assert on_disk[key] == old[key]
    assert {k: v for k, v in on_disk["project"].items() if k != "owner"} == {
        k: v for k, v in old["project"].items() if k != "owner"
    }


def test_version_4_file_with_a_register_is_refused_naming_the_field():
    data = json.loads(V4_FILE.read_text(encoding="utf-8"))
    data["risks"] = {}
    with pytest.raises(InvalidProjectFile) as info:
        reads(json.dumps(data), source="x/workbook.json")
    assert info.value.field == "risks"


# --------------------------------------------------------------------------- review


def test_a_challenge_on_a_risk_blocks_approval_of_explore(demo_store):
    _, tid = review.add_comment(
        demo_store,
        "demo",
        target="risk.r-demo01",
        kind="challenge",
        text="Is the housing data needed at all?",
        user="rev",
    )
    wb = demo_store.open("demo")
    (view,) = review.threads(wb, target="risk.r-demo01")
    assert view.phase_id == "explore"
    assert view.target_label.startswith("Risk: The indicator flags social housing")
    n = review.incomplete_questions(wb, "explore")
    with pytest.raises(review.SignOffRefused) as refused:
        review.sign_off(
            demo_store,
            "demo",
            "explore",
            decision="approved",
            reviewer="Rev",
            user="rev",
            confirm_incomplete=n or None,
        )
    assert "Risk: The indicator flags" in str(refused.value)
    review.set_resolved(demo_store, "demo", tid, True, user="rev", reviewer=True)
    review.sign_off(
        demo_store,
        "demo",
        "explore",
        decision="approved",
        reviewer="Rev",
        user="rev",
        confirm_incomplete=n or None,
    )


def test_a_thread_on_a_risk_that_does_not_exist_is_refused(demo_store):
    with pytest.raises(WorkbookError) as caught:
        review.add_comment(
            demo_store, "demo", target="risk.r-nothere", kind="question", text="?", user="rev"
        )
    assert "no risk 'r-nothere'" in str(caught.value)


def test_the_review_page_offers_each_risk_for_comments(demo_store):
    from widgets.review import ReviewPage

    page = ReviewPage(demo_store, "demo", "rev")
    risk_targets = [t for t in page.threads if t.startswith("risk.")]
    assert len(risk_targets) == 6
    widget = page.threads["risk.r-demo01"]
    assert "The indicator flags social housing" in widget.add_button.description
    assert "R2: The indicator flags" in page.readonly_html("risk.r-demo01")


def test_a_bad_field_is_a_workbook_error_naming_it(demo_store):
    with pytest.raises(WorkbookError) as caught:
        risks.add_risk(demo_store, "demo", user="ann", title="", category="safety")
    assert caught.value.field == "risks.items.(new).title"
    with pytest.raises(WorkbookError) as caught:
        risks.update_risk(demo_store, "demo", "r-demo01", user="ann", status="forgotten")
    assert caught.value.field == "risks.items.r-demo01.status"


def test_the_dpia_scale_can_be_chosen_until_a_risk_is_rated(store):
    store.create("Tool", "Council", project_id="t", user="setup")
    wb = risks.choose_scale(store, "t", "dpia-4x4", user="ann")
    assert wb.risks.scale.id == "dpia-4x4"
    assert len(wb.risks.scale.likelihood) == 4
    _, rid = risks.add_risk(
        store,
        "t",
        user="ann",
        title="A risk",
        category="privacy",
        before={"likelihood": 4, "impact": 4},
    )
    with pytest.raises(WorkbookError, match="rated risk"):
        risks.choose_scale(store, "t", "5x5", user="ann")
    with pytest.raises(WorkbookError, match="off the project's scale"):
        risks.update_risk(store, "t", rid, user="ann", before={"likelihood": 5, "impact": 1})
    with pytest.raises(WorkbookError, match="unknown scale"):
        risks.choose_scale(store, "t", "10x10", user="ann")
    run = CliRunner().invoke(cli, ["--workspace", str(store.root), "risks", "t"])
    assert "Scored on" in run.output
