"""Personal-data warnings on a project (issue 17): open findings, dismissals kept in the
project with their reason, `workbook scan` and `workbook dismiss`, the export's and the
transparency record's refusal, the portfolio, the workspace's case-reference patterns,
and that the matched text never appears in what any of it prints, stores or logs."""

from __future__ import annotations

import json
import logging
import typing

import pytest
from click.testing import CliRunner

from workbook import personal_data as pd
from workbook import personal_data_review as pdr
from workbook.cli import PERSONAL_DATA_KINDS, cli
from workbook.demo import create_demo
from workbook.errors import WorkbookError
from workbook.model import PersonalDataKind, Workbook
from workbook.roles import NotAMember, RoleRequired, actor_for, parse_roles
from workbook.settings import SettingsError, load_settings
from workbook.store import Store

EXAMPLE = "e.g. child A, DOB 03/04/2015, NHS 999 000 0018, postcode SW1A 1AA"
# Every way the example's personal data could leak: the matched text, and its digits run
# together or spaced.
SECRETS = ("03/04/2015", "999 000 0018", "9990000018", "SW1A 1AA", "SW1A")
Q1 = "answers.q1.response"


def _paste(store: Store, project_id: str, path: str, text: str, *, user: str = "alice") -> None:
    """Save ``text`` into a field the ordinary way (``answers.qN.response`` or any path)."""
    base = store.open(project_id)
    data = base.to_data()
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = text
    store.save(Workbook.model_validate(data), base=base, user=user)


@pytest.fixture
def pasted(demo_store: Store) -> Store:
    """The demo project with the issue's example pasted into question 1's answer."""
    _paste(demo_store, "demo", Q1, EXAMPLE)
    return demo_store


def _cli(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--workspace", str(store.root), *args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_the_model_and_the_cli_know_every_kind():
    assert set(typing.get_args(PersonalDataKind)) == set(pd.KINDS)
    assert set(PERSONAL_DATA_KINDS) == set(pd.KINDS)


# --------------------------------------------------------------------------- workbook scan


def test_scan_lists_the_three_findings_of_the_example_with_paths_never_the_text(pasted):
    code, out = _cli(pasted, "scan", "demo")
    assert code == 1
    lines = [ln for ln in out.splitlines() if ln.startswith(f"  {Q1} ")]
    assert lines == [
        f"  {Q1} (Question 1: your answer, characters 19\u201328) looks like a date of birth",
        f"  {Q1} (Question 1: your answer, characters 35\u201346) looks like an NHS number",
        f"  {Q1} (Question 1: your answer, characters 58\u201365) looks like a UK postcode",
    ]
    assert "demo: 3 open findings" in out
    _no_secrets(out)
    # The positions are the text's own: they point at what was found.
    assert [EXAMPLE[s:e] for s, e in ((18, 28), (34, 46), (57, 65))] == list(SECRETS[:2]) + [
        "SW1A 1AA"
    ]

    code, out = _cli(pasted, "scan", "--all", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["open"] == 3
    assert report["dismissed"] == 0
    (project,) = report["projects"]
    assert [(f["path"], f["kind"], f["start"], f["end"]) for f in project["open"]] == [
        (Q1, "date_of_birth", 18, 28),
        (Q1, "nhs_number", 34, 46),
        (Q1, "postcode", 57, 65),
    ]
    assert project["open"][1]["description"] == "looks like an NHS number"
    _no_secrets(out)


def test_scan_of_a_clean_project_exits_0_and_a_usage_error_is_one_line(demo_store):
    code, out = _cli(demo_store, "scan", "demo")
    assert code == 0
    assert "nothing open looks like personal data" in out
    code, out = _cli(demo_store, "scan")
    assert code == 2
    assert "name a project, or pass --all" in out


def test_scan_all_counts_dismissed_and_names_a_project_it_cannot_read(pasted):
    create_demo(pasted, project_id="clean", user="tester")
    pdr.dismiss(pasted, "demo", Q1, "A made-up example from the issue", user="alice")
    (pasted.root / "broken").mkdir()
    (pasted.root / "broken" / "workbook.json").write_text("{", encoding="utf-8")
    code, out = _cli(pasted, "scan", "--all")
    assert code == 1  # the broken project could not be checked
    assert "demo: nothing open looks like personal data (3 dismissed)" in out
    assert "broken: cannot be read, so not scanned" in out
    assert "0 open findings in 0 of 3 projects; 3 dismissed." in out


# --------------------------------------------------------------------------- dismissing


def test_a_dismissal_is_kept_in_the_project_and_its_history_with_reason_and_user(pasted):
    found = pdr.project_findings(pasted.open("demo"))
    code, out = _cli(
        pasted,
        "dismiss",
        "demo",
        "q1.response",
        "--reason",
        "A made-up example; the NHS number is from the test range",
        "--user",
        "alice",
    )
    assert code == 0, out
    assert out.startswith(
        "Dismissed 3 personal-data warnings on Question 1: your answer (looks like a date of "
        "birth, an NHS number and a UK postcode): A made-up example"
    )
    wb = pasted.open("demo")
    assert pdr.open_findings(wb) == []
    assert [(f.path, f.kind) for f in pdr.project_findings(wb).dismissed] == [
        (f.path, f.kind) for f in found.open
    ]
    (key, record), *_ = wb.personal_data.dismissed.items()
    assert key == pdr.dismissal_key(Q1, pd.text_fingerprint(EXAMPLE), found.open)
    assert record.path == Q1
    assert record.fingerprint == pd.text_fingerprint(EXAMPLE) == found.fingerprints[Q1]
    assert [(f.kind, f.start, f.end) for f in record.findings] == [
        ("date_of_birth", 18, 28),
        ("nhs_number", 34, 46),
        ("postcode", 57, 65),
    ]
    assert record.by == "alice"
    last = pasted.history("demo")[-1]
    assert last["path"] == f"personal_data.dismissed.{key}"
    assert last["user"] == "alice"
    assert last["old"] is None
    assert last["new"]["reason"] == "A made-up example; the NHS number is from the test range"
    code, out = _cli(pasted, "history", "demo", "--limit", "1")
    assert "Dismissed 3 personal-data warnings on Question 1: your answer" in out
    assert "the NHS number is from the test range" in out
    # Nothing of the text in the dismissal, in the file or in the history line.
    stored = json.loads(pasted.answers_path("demo").read_text(encoding="utf-8"))
    _no_secrets(json.dumps(stored["personal_data"]))
    _no_secrets(json.dumps(last))


def test_open_findings_of_some_fields_only(pasted):
    wb = pasted.open("demo")
    assert len(pdr.open_findings(wb, paths=["answers.q1"])) == 3  # every field of question 1
    assert len(pdr.open_findings(wb, paths=[Q1])) == 3
    assert pdr.open_findings(wb, paths=["answers.q2", "answers.q1.prompts"]) == []
    assert pdr.open_findings(wb, paths=["answers.q"]) == []  # a path, not a prefix of a name


def test_changing_the_text_opens_its_findings_again(pasted):
    pdr.dismiss(pasted, "demo", Q1, "A made-up example", user="alice")
    assert pdr.open_findings(pasted.open("demo")) == []
    _paste(pasted, "demo", Q1, EXAMPLE + " Seen again.")
    again = pdr.open_findings(pasted.open("demo"))
    assert [(f.path, f.kind) for f in again] == [
        (Q1, "date_of_birth"),
        (Q1, "nhs_number"),
        (Q1, "postcode"),
    ]
    # Back to the text that was dismissed: its dismissal holds again.
    _paste(pasted, "demo", Q1, EXAMPLE)
    assert pdr.open_findings(pasted.open("demo")) == []


def test_one_kind_can_be_dismissed_and_the_rest_stay_open(pasted):
    code, out = _cli(pasted, "dismiss", "demo", Q1, "--reason", "Not a real place", "--kind",
                     "postcode")  # fmt: skip
    assert code == 0, out
    assert "demo still has 2 open findings" in out
    assert [f.kind for f in pdr.open_findings(pasted.open("demo"))] == [
        "date_of_birth",
        "nhs_number",
    ]
    code, out = _cli(pasted, "dismiss", "demo", Q1, "--reason", "x", "--kind", "email")
    assert code == 1
    assert "no open warning of the kind email" in out
    pdr.dismiss(pasted, "demo", Q1, "Made up", user="bob")
    wb = pasted.open("demo")
    assert pdr.open_findings(wb) == []
    assert sorted(d.reason for d in wb.personal_data.dismissed.values()) == [
        "Made up",
        "Not a real place",
    ]


@pytest.mark.parametrize(
    ("path", "reason", "words"),
    [
        (Q1, "   ", "give the reason"),
        (Q1, "it is 999 000 0018, from the test range", "the reason itself looks like an NHS"),
        ("answers.q2.response", "fine", "no personal-data warnings to dismiss in Question 2"),
        ("answers.q6.response", "fine", "no text to check in Question 6"),
    ],
)
def test_a_dismissal_that_cannot_be_saved_says_why_and_saves_nothing(pasted, path, reason, words):
    before = pasted.open("demo").revision
    with pytest.raises(WorkbookError) as caught:
        pdr.dismiss(pasted, "demo", path, reason, user="alice")
    assert words in str(caught.value)
    _no_secrets(str(caught.value))
    assert pasted.open("demo").revision == before


def test_a_dismissal_of_text_changed_since_it_was_shown_is_refused(pasted):
    shown = pdr.project_findings(pasted.open("demo")).fingerprints[Q1]
    _paste(pasted, "demo", Q1, EXAMPLE + " Edited by someone else.", user="bob")
    with pytest.raises(WorkbookError, match="has changed since its warnings were shown"):
        pdr.dismiss(pasted, "demo", Q1, "Made up", user="alice", fingerprint=shown)
    pdr.dismiss(pasted, "demo", Q1, "Made up", user="alice")
    with pytest.raises(WorkbookError, match="its warnings are dismissed already"):
        pdr.dismiss(pasted, "demo", Q1, "Made up", user="alice")


def test_with_roles_on_only_an_author_who_is_a_member_dismisses(pasted):
    roles = parse_roles({"users": {"alice": "author", "rita": "reviewer", "zed": "author"}})
    pasted_members = ["alice", "rita"]
    from workbook.members import set_members

    set_members(pasted, "demo", pasted_members, user="admin")
    reviewer = actor_for("rita", source="hub", roles=roles)
    outsider = actor_for("zed", source="hub", roles=roles)
    author = actor_for("alice", source="hub", roles=roles)
    with pytest.raises(RoleRequired):
        pdr.dismiss(pasted, "demo", Q1, "Made up", user=reviewer)
    with pytest.raises(NotAMember):
        pdr.dismiss(pasted, "demo", Q1, "Made up", user=outsider)
    pdr.dismiss(pasted, "demo", Q1, "Made up", user=author)
    last = pasted.history("demo")[-1]
    assert (last["user"], last["role"]) == ("alice", "author")


# --------------------------------------------------------------------------- locations


def test_locations_are_in_words_and_never_quote_typed_text(demo_store):
    _paste(demo_store, "demo", "answers.q4.evidence", [{"reference": "Call 020 7946 0991"}])
    wb = demo_store.open("demo")
    risk_id = next(iter(wb.risks.items))
    data = wb.to_data()
    data["risks"]["items"][risk_id]["title"] = "Secret title 020 7946 0991"
    wb = Workbook.model_validate(data)
    where = {f.path: pdr.field_location(f.path, wb) for f in pdr.open_findings(wb)}
    assert where["answers.q4.evidence.0.reference"] == "Question 4: evidence 1, reference"
    number = pdr.risk_number(risk_id, wb)
    assert number is not None
    assert number.startswith("R")
    assert where[f"risks.items.{risk_id}.title"] == f"Risk register: {number}, title"
    assert "Secret" not in " ".join(where.values())
    assert pdr.field_location("answers.q3.informed_by.note") == (
        "Question 3: note on whose views informed it"
    )
    assert pdr.field_location("transparency.fields.contact_email.text").startswith(
        "Transparency record: "
    )


# --------------------------------------------------------------------------- export and ATRS


def test_export_refuses_naming_the_field_then_passes_with_the_flag_and_after_dismissal(
    pasted, tmp_path
):
    create_demo(pasted, project_id="clean", user="tester")
    out = tmp_path / "out"
    args = ("export", "demo", "clean", "--to", "md", "--no-evidence", "--jobs", "1")
    code, text = _cli(pasted, *args, "--out", str(out))
    assert code == 1
    assert "demo: FAILED: not exported: 3 things in demo look like personal data" in text
    assert (
        f"  {Q1} (Question 1: your answer): looks like a date of birth, an NHS number and a "
        "UK postcode"
    ) in text
    assert "--allow-personal-data" in text
    assert not list(out.glob("demo-*"))  # nothing written for it...
    clean = pasted.open("clean").revision
    assert [p.name for p in out.glob("clean-*")] == [f"clean-r{clean}.md"]  # ...the other was
    _no_secrets(text)

    code, text = _cli(pasted, *args, "--out", str(out), "--overwrite", "--allow-personal-data")
    assert code == 0, text
    assert "demo: exported with 3 personal-data warnings not dismissed" in text
    assert (out / f"demo-r{pasted.open('demo').revision}.md").is_file()

    pdr.dismiss(pasted, "demo", Q1, "A made-up example", user="alice")
    code, text = _cli(pasted, "export", "demo", "--to", "md", "--no-evidence", "--out", str(out))
    assert code == 0, text
    assert f"demo: demo-r{pasted.open('demo').revision}.md" in text
    assert "personal-data" not in text


def test_atrs_always_refuses_while_a_finding_is_open(pasted, tmp_path):
    out = tmp_path / "atrs"
    code, text = _cli(pasted, "atrs", "demo", "--to", "json", "--out", str(out))
    assert code == 1
    assert text.startswith("Error: no transparency record drafted: 3 things in demo")
    assert f"  {Q1} (Question 1: your answer)" in text
    assert "cannot be turned off" in text
    assert not out.exists()
    _no_secrets(text)
    pdr.dismiss(pasted, "demo", Q1, "A made-up example", user="alice")
    code, text = _cli(pasted, "atrs", "demo", "--to", "json", "--out", str(out))
    assert code == 0, text
    assert (out / "demo-atrs-4.0.json").is_file()


# --------------------------------------------------------------------------- settings


def test_case_reference_patterns_from_the_workspace_settings(demo_store):
    _paste(demo_store, "demo", "phases.explore.note", "Reviewed with lcs-123456 open.")
    assert pdr.open_findings(demo_store.open("demo")) == []
    (demo_store.root / "settings.yaml").write_text(
        "marking: OFFICIAL\ncase_reference_patterns:\n  - 'LCS-\\d{6}'\n", encoding="utf-8"
    )
    assert load_settings(demo_store.root).case_reference_patterns == (r"LCS-\d{6}",)
    code, out = _cli(demo_store, "scan", "demo")
    assert code == 1
    assert (
        "  phases.explore.note (Explore phase: note, characters 15\u201324) looks like a local "
        "case reference"
    ) in out
    assert "123456" not in out


@pytest.mark.parametrize(
    ("yaml_text", "words"),
    [
        ("case_reference_patterns:\n  - 'ABC-(\\d{6}'\n", "pattern 1 is not a valid regular"),
        ("case_reference_patterns:\n  - 'ABC-\\d'\n  - '(ABC-)?\\d*'\n", "pattern 2 matches empty"),
        ("case_reference_patterns: 'ABC-\\d{6}'\n", "must be a list"),
    ],
)
def test_a_bad_case_pattern_names_the_file_and_setting(demo_store, yaml_text, words):
    (demo_store.root / "settings.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(demo_store.root)
    assert caught.value.field == "case_reference_patterns"
    code, out = _cli(demo_store, "scan", "demo")
    assert code == 1
    (line,) = out.strip().splitlines()
    assert line.startswith("Error: ")
    assert "settings.yaml: case_reference_patterns: " in line
    assert words in line
    assert "ABC-" not in line  # the pattern itself is not repeated


# --------------------------------------------------------------------------- the portfolio


def test_the_portfolio_shows_projects_with_personal_data_to_check(pasted):
    from widgets.portfolio import PortfolioDashboard
    from workbook.portfolio import filter_rows, portfolio_rows, totals

    create_demo(pasted, project_id="clean", user="tester")
    rows = {r.project_id: r for r in portfolio_rows(pasted)}
    assert rows["demo"].personal_data == 3
    assert rows["clean"].personal_data == 0
    assert [r.project_id for r in filter_rows(list(rows.values()), None, "personal_data")] == [
        "demo"
    ]
    assert totals(list(rows.values())).with_personal_data == 1
    board = PortfolioDashboard(pasted)
    assert 'data-project="demo"' in board.table.value
    assert 'data-personal-data="3"' in board.table.value
    assert 'data-personal-data="0"' in board.table.value
    assert board.table.value.count("Personal data to check") == 1
    assert "3 warnings not dismissed" in board.table.value
    assert "1</strong> project with personal data to check" in board.summary.value
    _no_secrets(board.summary.value)
    pdr.dismiss(pasted, "demo", Q1, "A made-up example", user="alice")
    board.refresh()
    assert "Personal data to check" not in board.table.value


# --------------------------------------------------------------------------- no leaks


def test_the_matched_text_never_reaches_a_log(pasted, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    pdr.open_findings(pasted.open("demo"))
    _cli(pasted, "scan", "--all", "--json")
    _cli(pasted, "export", "demo", "--to", "md", "--no-evidence", "--out", str(tmp_path))
    _cli(pasted, "atrs", "demo", "--to", "json", "--out", str(tmp_path))
    with pytest.raises(WorkbookError):
        pdr.dismiss(pasted, "demo", Q1, "DOB 03/04/2015 is made up", user="alice")
    pdr.dismiss(pasted, "demo", Q1, "A made-up example", user="alice")
    assert caplog.records  # something was logged at DEBUG, so the check means something
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    _no_secrets(logged)
