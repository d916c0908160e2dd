"""The draft transparency record (ATRS): drafting from the workbook, provenance, the
completeness report and its guidance checks, changes since the last draft, the four
formats and ``workbook atrs``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from workbook.atrs import (
    build_draft,
    draft_json_schema,
    looks_like_person,
    personal_email,
    private_links,
)
from workbook.atrs_content import load_atrs
from workbook.demo import create_demo
from workbook.errors import WorkbookError
from workbook.export.atrs import CSV_COLUMNS, plain_text, write_draft
from workbook.store import Change, Store
from workbook.transparency import set_public_field

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "workbook" / "schema" / "atrs-draft.schema.json"
STANDARD = load_atrs()


@pytest.fixture
def demo(tmp_path: Path) -> Store:
    store = Store(tmp_path / "workspace")
    create_demo(store, project_id="demo", user="Priya Shah")
    return store


def fields(draft: dict) -> dict[str, dict]:
    return {f["id"]: f for s in draft["sheets"] for f in s["fields"]}


def problems(draft: dict, field: str, rule: str | None = None) -> list[dict]:
    return [p for p in draft["problems"] if p["field"] == field and rule in (None, p["rule"])]


def _last_line(store: Store, path: str) -> dict:
    """The newest history line for ``path``, read here independently of the engine."""
    lines = [json.loads(x) for x in store.history_path("demo").read_text().splitlines()]
    return [e for e in lines if e["path"] == path][-1]


# --- the draft of the demo --------------------------------------------------------------------


def test_every_required_field_is_filled_or_listed_as_missing(demo):
    draft = build_draft(demo, "demo")
    every = fields(draft)
    assert list(every) == list(STANDARD.field_ids)  # the template's order
    missing = {p["field"] for p in draft["problems"] if p["kind"] == "missing"}
    for f in every.values():
        if f["required"]:
            assert bool(f["value"].strip()) != (f["id"] in missing), f["id"]
    assert missing
    assert not missing - {f["id"] for f in every.values() if f["required"]}
    s = draft["summary"]
    assert s["required"] == sum(f.required for f in STANDARD.fields)
    assert s["required_filled"] == s["required"] - len(missing)
    # drafted from the workbook, so it needs rewriting; the team has written nothing yet
    assert every["benefit"]["origin"] == "drafted"
    assert every["benefit"]["rewrite_needed"]
    assert every["name"]["value"] == "Early Help Family Support Indicator"
    assert not every["name"]["rewrite_needed"]
    assert s["written"] == 0
    assert s["drafted"] > 20


def test_a_filled_fields_provenance_names_its_question_and_revision(demo):
    # a later change to question 2 by someone else, so the revisions differ
    wb = demo.open("demo")
    old = wb.answer("q2").prompts.practitioners  # type: ignore[attr-defined]
    demo.apply(
        "demo",
        [Change("answers.q2.prompts.practitioners", old, old + " Training starts in March.")],
        user="Sam Okafor",
        base_revision=wb.revision,
    )
    benefit = fields(build_draft(demo, "demo"))["benefit"]
    assert "Training starts in March." in benefit["value"]
    by_source = {p["source"]: p for p in benefit["provenance"]}
    answer = by_source["answer.q2"]
    line = _last_line(demo, "answers.q2.response")
    assert answer["question"] == "q2"
    assert answer["used"]
    assert (
        (answer["revision"], answer["changed_by"])
        == (line["revision"], line["user"])
        == (
            2,
            "Priya Shah",
        )
    )
    note = by_source["prompt.q2.practitioners"]
    assert (note["revision"], note["changed_by"]) == (3, "Sam Okafor")
    assert note["status"] == "complete"
    assert note["status_label"] == "Complete"
    assert note["phase"] == "explore"
    assert note["signoff"] == "none"
    # an empty source is listed, not used
    detail = fields(build_draft(demo, "demo"))["detailed_description"]
    empty = {p["source"]: p for p in detail["provenance"]}["prompt.q4.purpose_boundaries"]
    assert empty["empty"]
    assert not empty["used"]


def test_answers_not_complete_are_reported(demo):
    draft = build_draft(demo, "demo")
    (p,) = problems(draft, "data_description", "incomplete_answer")
    assert p["question"] == "q5"
    assert "Question 5 is marked 'In progress'" in p["message"]
    assert "Question 5: your answer" in p["improve"]
    # question 4 is held back while a risk category is not covered, and says why
    (p,) = problems(draft, "risks_and_mitigations", "incomplete_answer")
    assert "risk categories not considered yet" in p["message"]
    assert not problems(draft, "benefit")  # question 2 is complete


def test_the_risk_register_is_summarised(demo):
    value = fields(build_draft(demo, "demo"))["risks_and_mitigations"]["value"]
    first = value.splitlines()[0]
    assert first.startswith("- Families can be re-identified from the weekly list")
    assert "High after mitigation. Mitigations: Only early help hub staff" in first
    assert "Further work planned:" in value
    assert "by 15 Dec 2026" in value


def test_guidance_catches_a_named_sro_and_a_personal_email(demo):
    draft = build_draft(demo, "demo")
    (sro,) = problems(draft, "senior_responsible_owner", "sro_named_person")
    assert sro["improve"] == "Project details: owner"
    assert sro["question"] == "q4"
    assert "Priya" not in sro["message"]  # no personal data in the message
    assert problems(draft, "appeals_and_review", "no_appeals_route")

    for text in ("priya.nair@hartmoor.gov.uk", "Write to hartmoor.earlyhelp@gmail.com"):
        set_public_field(demo, "demo", "contact_email", text=text, user="Priya Shah")
        (p,) = problems(build_draft(demo, "demo"), "contact_email", "personal_email")
        assert "priya" not in p["message"]
        assert "hartmoor" not in p["message"]
        assert p["improve"] == "its public wording on the transparency page"
    set_public_field(demo, "demo", "contact_email", text="earlyhelp.data@hartmoor.gov.uk",
                     user="Priya Shah")  # fmt: skip
    set_public_field(demo, "demo", "senior_responsible_owner",
                     text="Director of Children's Services", user="Priya Shah")  # fmt: skip
    set_public_field(demo, "demo", "appeals_and_review", user="Priya Shah",
                     text="A family can challenge a contact through the council's complaints "
                     "procedure.")  # fmt: skip
    draft = build_draft(demo, "demo")
    assert [p for p in draft["problems"] if p["kind"] == "guidance"] == []


def test_links_that_the_public_cannot_open_are_caught(demo):
    text = (
        "See [the plan](http://intranet/early-help), file:///S:/data/plan.docx, "
        "\\\\fileserver\\share\\dpia.docx, http://192.168.1.4/x, "
        "https://hartmoor.sharepoint.com/sites/eh and https://www.hartmoor.gov.uk/early-help."
    )
    set_public_field(demo, "demo", "website_url", text=text, user="Priya Shah")
    found = problems(build_draft(demo, "demo"), "website_url", "link_not_public")
    links = " ".join(p["message"] for p in found)
    assert len(found) == 5
    for bad in ("http://intranet/early-help", "file:///S:", "fileserver", "192.168", "sharepoint"):
        assert bad in links
    assert "www.hartmoor.gov.uk" not in links
    set_public_field(demo, "demo", "website_url", text="N/A", user="Priya Shah")
    assert not problems(build_draft(demo, "demo"), "website_url")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Priya Nair, Head of Children's Data and Insight", "Priya Nair"),
        ("Head of Early Help (Sam Okafor)", "Sam Okafor"),
        ("Dr Jones", "Dr Jones"),
        ("Director of Children's Services", None),
        ("Head of Early Help", None),
        ("Data Science Lead", None),
        ("Chief Executive, Hartmoor County Council", None),
    ],
)
def test_a_persons_name_is_told_from_a_role(text, name):
    assert looks_like_person(text) == name


def test_personal_and_team_mailboxes():
    assert personal_email("priya.nair@hartmoor.gov.uk")
    assert personal_email("team@gmail.com")
    assert personal_email("earlyhelp.data@hartmoor.gov.uk") is None
    assert personal_email("transparency@hartmoor.gov.uk") is None
    assert private_links("mailto:x@y.org and https://example.org") == []


def test_withheld_fields_carry_their_reason(demo, tmp_path):
    before = build_draft(demo, "demo")
    set_public_field(
        demo, "demo", "system_architecture", user="Priya Shah", withheld=True,
        reason="Security: section 31 of the FOI Act",
    )  # fmt: skip
    set_public_field(
        demo, "demo", "model_version", user="Priya Shah", withheld=True,
        reason="Commercial interests",
    )  # fmt: skip
    draft = build_draft(demo, "demo", previous=before)
    f = fields(draft)["model_version"]
    assert (f["status"], f["reason"]) == ("withheld", "Commercial interests")
    assert not problems(draft, "model_version")  # withheld: not missing
    assert draft["summary"]["withheld"] == 2
    (arch_change,) = [c for c in draft["changes"]["fields"] if c["field"] == "system_architecture"]
    assert arch_change["diff"] == []
    assert arch_change["withheld"]
    md, docx, csv_file = write_draft(draft, tmp_path, "md,docx,csv")
    assert "## Changes since the last draft" in md.read_text()
    arch = fields(draft)["system_architecture"]["value"]
    assert arch  # drafted text is kept in the data...
    for text in (md.read_text(), _docx_text(docx), csv_file.read_text("utf-8-sig")):
        assert "Security: section 31 of the FOI Act" in text
        assert arch.split("\n")[0][:40] not in text  # ...but no document shows it


def test_public_wording_wins_and_survives_a_new_draft_and_a_reload(demo):
    set_public_field(demo, "demo", "description", user="Priya Shah",
                     text="Hartmoor uses this tool to offer families help early.")  # fmt: skip
    wb = demo.open("demo")
    demo.apply("demo", [Change("answers.q1.response", wb.answer("q1").response, "Changed.")],
               user="Sam Okafor", base_revision=wb.revision)  # fmt: skip
    again = Store(demo.root)  # a fresh store: read back from disk
    f = fields(build_draft(again, "demo"))["description"]
    assert f["value"] == "Hartmoor uses this tool to offer families help early."
    assert (f["origin"], f["status"], f["rewrite_needed"]) == ("public", "written", False)
    public = f["provenance"][0]
    assert public["source"] == "public"
    assert public["changed_by"] == "Priya Shah"
    assert public["revision"] == _last_line(again, "transparency.fields.description")["revision"]


def test_a_changed_answer_shows_in_the_next_drafts_changes(demo):
    first = build_draft(demo, "demo")
    assert first["changes"] is None
    wb = demo.open("demo")
    old = wb.answer("q2").response
    new = old.replace("support earlier", "help sooner")
    demo.apply("demo", [Change("answers.q2.response", old, new)], user="Sam Okafor",
               base_revision=wb.revision)  # fmt: skip
    second = build_draft(demo, "demo", previous=json.loads(json.dumps(first)))
    ch = second["changes"]
    assert ch["since_revision"] == first["revision"] == second["revision"] - 1
    assert [c["field"] for c in ch["fields"]] == ["benefit"]
    diff = ch["fields"][0]["diff"]
    assert ["delete", "support earlier"] in diff
    assert ["insert", "help sooner"] in diff
    third = build_draft(demo, "demo", previous=second)
    assert third["changes"]["fields"] == []
    with pytest.raises(WorkbookError, match="previous draft is not an ATRS draft"):
        build_draft(demo, "demo", previous={"kind": "something else"})
    other = json.loads(json.dumps(first))
    other["project"]["id"] = "another"
    with pytest.raises(WorkbookError, match="previous draft is of project 'another'"):
        build_draft(demo, "demo", previous=other)


def test_an_empty_project_gives_a_draft_of_what_is_missing(store, tmp_path):
    store.create("Empty tool", "Somewhere Council", project_id="empty", user="x")
    draft = build_draft(store, "empty")
    every = fields(draft)
    filled = {k for k, f in every.items() if f["value"]}
    assert filled == {"title", "name", "organisation_name", "organisation_or_department"}
    missing = {p["field"] for p in draft["problems"] if p["kind"] == "missing"}
    assert missing == {f.id for f in STANDARD.fields if f.required} - filled
    assert write_draft(draft, tmp_path / "out", "md,docx,csv,json")


# --- the formats ------------------------------------------------------------------------------


def _docx_text(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_all_four_formats_are_written_and_the_json_validates(demo, tmp_path):
    draft = build_draft(demo, "demo")
    written = write_draft(draft, tmp_path, ["md", "docx", "csv", "json"])
    assert [p.name for p in written] == [
        f"demo-atrs-4.0.{e}" for e in ("md", "docx", "csv", "json")
    ]
    assert not list(tmp_path.glob(".*partial"))

    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == draft_json_schema(), "run `workbook schema --write`"
    data = json.loads(written[3].read_text(encoding="utf-8"))
    assert data == draft
    validator = jsonschema.Draft202012Validator(
        committed, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(data)
    data["sheets"][0]["fields"][0]["status"] = "fine"
    assert not validator.is_valid(data)

    md = written[0].read_text(encoding="utf-8")
    assert md.index("## Completeness report") < md.index("## Summary information (Tier 1)")
    assert "### 2.1.3 Senior responsible owner" in md
    assert "Drafted from:" in md
    assert "last changed in revision 2 by Priya Shah" in md

    text = _docx_text(written[1])
    assert text.index("Completeness report") < text.index("Summary information (Tier 1)")
    assert "2.2.2 Benefit" in text
    assert "Question 2: your answer; last changed in revision 2" in text
    import docx

    doc = docx.Document(str(written[1]))
    header = doc.sections[0].header.paragraphs[0].text
    assert header == draft["marking"] == "OFFICIAL"
    assert round(doc.sections[0].page_width.cm, 1) == 21.0  # A4


def test_csv_follows_the_template_order(demo, tmp_path):
    draft = build_draft(demo, "demo")
    (path,) = write_draft(draft, tmp_path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[1] for r in rows[1:]] == [f.ref for f in STANDARD.fields]
    assert [r[0] for r in rows[1:]] == [s.name for s in STANDARD.sheets for _ in s.fields]
    by_ref = {r[1]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    desc = by_ref["1.2"]
    assert "**" not in desc["value"]  # plain text for the template's cells
    assert "The Early Help Family Support Indicator is a supervised" in desc["value"]
    assert desc["status"] == "Drafted from the workbook"
    assert desc["to rewrite"] == "yes"
    assert "Question 1: your answer (revision 2)" in desc["sources"]
    assert by_ref["1.4"]["status"] == "Missing (required)"


def test_plain_text_keeps_paragraphs_and_lists():
    assert plain_text("A **b**\nc.\n\n- one [x](https://x.org)\n- two") == (
        "A b c.\n\n- one x (https://x.org)\n- two"
    )


# --- the command ------------------------------------------------------------------------------


def _run(*args: str) -> object:
    from workbook.cli import cli

    return CliRunner().invoke(cli, list(args), obj={})


def test_the_command_writes_reports_and_shows_changes(demo, tmp_path):
    out = tmp_path / "out"
    ws = str(demo.root)
    first = _run("--workspace", ws, "atrs", "demo", "--to", "md,json", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == ["demo-atrs-4.0.json", "demo-atrs-4.0.md"]
    s = json.loads((out / "demo-atrs-4.0.json").read_text())["summary"]
    assert s["required_filled"] < s["required"]
    assert f"Required fields filled: {s['required_filled']} of {s['required']};" in first.output
    assert "Senior responsible owner: This looks like a person's name" in first.output
    assert "Changed since" not in first.output

    wb = demo.open("demo")
    demo.apply("demo", [Change("answers.q2.response", wb.answer("q2").response, "New.")],
               user="Sam", base_revision=wb.revision)  # fmt: skip
    second = _run("--workspace", ws, "atrs", "demo", "--to", "json,md", "--out", str(out))
    assert second.exit_code == 0, second.output
    assert "Changed since the last draft (revision 2): 1 field." in second.output
    assert "## Changes since the last draft" in (out / "demo-atrs-4.0.md").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--to", "pdf"], "unknown format 'pdf'; the transparency record is written as md, docx"),
        (["--to", ""], "name at least one format"),
    ],
)
def test_the_command_refuses_a_bad_format(demo, tmp_path, args, words):
    out = tmp_path / "out"
    result = _run("--workspace", str(demo.root), "atrs", "demo", *args, "--out", str(out))
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error:")
    assert words in line
    assert not out.exists()


def test_the_command_names_an_unknown_project_or_a_broken_previous_draft(demo, tmp_path):
    result = _run("--workspace", str(demo.root), "atrs", "nope", "--out", str(tmp_path))
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert "no project 'nope'" in line
    broken = tmp_path / "demo-atrs-4.0.json"
    for text, words in (("{not json", "is not valid JSON"), ("[]", "not an ATRS draft")):
        broken.write_text(text)
        result = _run("--workspace", str(demo.root), "atrs", "demo", "--out", str(tmp_path))
        assert result.exit_code == 1
        (line,) = result.output.strip().splitlines()
        assert str(broken) in line
        assert words in line


def test_user_text_is_made_safe_in_every_document(demo, tmp_path):
    set_public_field(demo, "demo", "description", user="Priya Shah",
                     text="Hi <script>alert(1)</script> [x](javascript:alert(2)) *ok*")  # fmt: skip
    md, docx_file, csv_file = write_draft(build_draft(demo, "demo"), tmp_path, "md,docx,csv")
    text = md.read_text()
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "](javascript:" not in text  # the link is neutralised (the problem names it, as text)
    assert "uses javascript: rather than a web address" in text
    import docx

    doc = docx.Document(str(docx_file))
    assert all("javascript" not in r.target_ref for r in doc.part.rels.values())
    assert "<script>alert(1)</script>" in _docx_text(docx_file)  # shown as text
    assert "Hi <script>alert(1)</script> x (javascript:alert(2)) ok" in csv_file.read_text(
        "utf-8-sig"
    )  # plain text, as typed
