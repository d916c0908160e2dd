"""The offline personal-data detector (issue 17): what it finds, on a labelled set of
synthetic snippets; that it runs with the network blocked; that findings, errors and logs
never hold the matched text; and that it walks every free-text field of a project."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import fields
from datetime import datetime, timezone

import pytest
import yaml

from tests.conftest import REPO
from workbook import personal_data as pd
from workbook.model import Workbook, json_schema
from workbook.settings import SettingsError

SNIPPETS = REPO / "tests" / "data" / "personal_data_snippets.yaml"
EXAMPLE = "e.g. child A, DOB 03/04/2015, NHS 999 000 0018, postcode SW1A 1AA"
EXAMPLE_FOUND = [
    ("date_of_birth", "03/04/2015"),
    ("nhs_number", "999 000 0018"),
    ("postcode", "SW1A 1AA"),
]


def _spans(text: str, found) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in found]


# --------------------------------------------------------------------------- labelled set


def test_recall_and_precision_on_the_labelled_snippets():
    data = yaml.safe_load(SNIPPETS.read_text(encoding="utf-8"))
    snippets = data["snippets"]
    assert len(snippets) >= 70
    assert {k for s in snippets for k in s["expect"]} == set(pd.KINDS), "every kind is labelled"
    assert sum(1 for s in snippets if not s["expect"]) >= 30, "and plenty of text with none"

    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    wrong = []
    for s in snippets:
        found = pd.scan_text(s["text"], data["case_patterns"])
        got, expected = Counter(f.kind for f in found), Counter(s["expect"])
        for kind in set(got) | set(expected):
            tp[kind] += min(got[kind], expected[kind])
            fp[kind] += max(got[kind] - expected[kind], 0)
            fn[kind] += max(expected[kind] - got[kind], 0)
        if got != expected:
            wrong.append(
                f"  {s['text']!r}: expected {sorted(expected.elements())}, "
                f"found {sorted(got.elements())}"
            )

    def ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    print(f"\n{len(snippets)} labelled snippets")
    print(f"{'kind':16} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>6}")
    for kind in pd.KINDS:
        kind_precision = ratio(tp[kind], tp[kind] + fp[kind])
        kind_recall = ratio(tp[kind], tp[kind] + fn[kind])
        print(
            f"{kind:16} {tp[kind]:3} {fp[kind]:3} {fn[kind]:3} "
            f"{kind_precision:9.2f} {kind_recall:6.2f}"
        )
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = ratio(all_tp, all_tp + all_fp), ratio(all_tp, all_tp + all_fn)
    print(f"{'all':16} {all_tp:3} {all_fp:3} {all_fn:3} {precision:9.2f} {recall:6.2f}")
    if wrong:
        print("snippets not matched exactly:\n" + "\n".join(wrong))
    assert recall >= 0.95
    assert precision >= 0.9


def test_the_issue_example_warns_on_each_identifier_in_it():
    # 999 000 0018 is an NHS number: weights 10 to 2 on the first nine digits give 245,
    # 245 mod 11 = 3, and 11 - 3 = 8 is the last digit.
    digits = [int(c) for c in "999000001"]
    assert 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11 == 8
    found = pd.scan_text(EXAMPLE)
    assert _spans(EXAMPLE, found) == EXAMPLE_FOUND
    # "child A" is a pseudonym, not an identifier: the example holds three things to warn on.
    assert [pd.describe(f) for f in found] == [
        "looks like a date of birth",
        "looks like an NHS number",
        "looks like a UK postcode",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NHS 999 000 0019", []),  # wrong check digit
        ("9990000018", [("nhs_number", "9990000018")]),
        ("999-000-0018", [("nhs_number", "999-000-0018")]),
        ("999 000-0018", []),  # separators must agree
        ("1111111111 passes mod 11 but is a placeholder", []),
        ("a 5x5 matrix", []),
        ("", []),
        ("reviewed on 03/04/2024", []),
    ],
)
def test_shapes_and_check_digits(text, expected):
    assert _spans(text, pd.scan_text(text)) == expected


def test_overlapping_findings_keep_the_more_specific():
    text = "NHS 999 000 0018"
    found = pd.scan_text(text, [r"\d{3} \d{3} \d{4}"])
    assert _spans(text, found) == [("nhs_number", "999 000 0018")]
    found = pd.scan_text("ref LCS-123456x", [r"LCS-\d{6}", r"LCS-\d{6}x"])
    assert [(f.kind, f.start, f.end) for f in found] == [("case_reference", 4, 15)]


# --------------------------------------------------------------------------- no network


def test_it_imports_and_scans_with_the_network_blocked(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    script = textwrap.dedent(
        """
        import socket, sys
        attempts, sockets = [], []
        def blocked(*args, **kwargs):
            attempts.append(repr(args[:1]))
            raise OSError("network blocked by the test")
        class BlockedSocket(socket.socket):
            def __init__(self, *args, **kwargs):
                sockets.append(sys._getframe(1).f_code.co_name)
                raise OSError("network blocked by the test")
        socket.socket = BlockedSocket
        socket.create_connection = blocked
        socket.getaddrinfo = blocked

        from workbook import personal_data as pd
        text = ("DOB 03/04/2015, NHS 999 000 0018, SW1A 1AA, 020 7946 0018, "
                "jo.bloggs@example.org, AB 12 34 56 C, H202123415381, LCS-123456")
        found = pd.scan_text(text, [r"LCS-\\d{6}"])
        print(sorted(f.kind for f in found))
        print(attempts)
        print(sorted(set(sockets)))
        print(sorted(m for m in sys.modules if m.startswith("en_core")))
        """
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("TLDEXTRACT_CACHE", None)
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    kinds, attempts, sockets, models = run.stdout.splitlines()[-4:]
    assert kinds == str(sorted(pd.KINDS))
    assert attempts == "[]", "something tried to look up a host or connect"
    # The one socket asked for is urllib3's check, on import, of whether this machine has
    # IPv6 (it binds to ::1 and sends nothing; requests comes in with tldextract).
    assert sockets in ("[]", "['_has_ipv6']")
    assert models == "[]", "a spaCy model was loaded"
    assert list(home.rglob("*")) == [], "nothing is cached in the home folder"


# --------------------------------------------------------------------------- no leaks


def test_findings_hold_kind_and_position_never_the_text():
    assert [f.name for f in fields(pd.Finding)] == ["kind", "start", "end"]
    assert [f.name for f in fields(pd.FieldFinding)] == ["path", "kind", "start", "end"]
    found = pd.scan_text(EXAMPLE)
    shown = repr(found) + str(found) + json.dumps([f.__dict__ for f in found])
    for _, matched in EXAMPLE_FOUND:
        assert matched not in shown
        assert matched.replace(" ", "") not in shown.replace(" ", "")
    with pytest.raises(ValueError, match="unknown kind"):
        pd.Finding("passport", 0, 1)


def test_describe_names_each_kind():
    assert pd.describe(pd.Finding("nhs_number", 0, 10)) == "looks like an NHS number"
    assert pd.describe(pd.FieldFinding("answers.q1.response", "upn", 3, 16)) == (
        "looks like a Unique Pupil Number"
    )
    for kind, phrase in pd.KINDS.items():
        assert pd.describe(pd.Finding(kind, 0, 1)) == f"looks like {phrase}"


def test_a_fingerprint_ties_a_dismissal_to_the_same_text():
    assert pd.text_fingerprint(EXAMPLE) == hashlib.sha256(EXAMPLE.encode()).hexdigest()
    assert pd.text_fingerprint(EXAMPLE) != pd.text_fingerprint(EXAMPLE + " ")
    assert "999" not in pd.text_fingerprint(EXAMPLE)


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ([r"LCS-\d{6}", r"LCS-(\d{6}"], "pattern 2 is not a valid regular expression"),
        ([r"\d*"], "pattern 1 matches empty text"),
        ([""], "pattern 1 must be a regular expression"),
        ([42], "pattern 1 must be a regular expression"),
        (r"LCS-\d{6}", "must be a list of regular expressions"),
    ],
)
def test_a_bad_case_pattern_is_a_clear_error_naming_the_file_and_setting(
    tmp_path, patterns, message
):
    settings = tmp_path / "settings.yaml"
    with pytest.raises(SettingsError) as caught:
        pd.check_case_patterns(patterns, source=settings)
    text = str(caught.value)
    assert text.startswith(f"{settings}: case_reference_patterns: ")
    assert message in text
    assert "\n" not in text
    assert "LCS-(" not in text  # the message points at the pattern; it does not repeat it


def test_scanning_with_a_bad_case_pattern_names_the_setting_not_the_text():
    with pytest.raises(SettingsError) as caught:
        pd.scan_text(EXAMPLE, [r"LCS-(\d{6}"])
    assert "case_reference_patterns" in str(caught.value)
    for _, matched in EXAMPLE_FOUND:
        assert matched not in str(caught.value)
    with pytest.raises(SettingsError, match="must be a list"):
        pd.scan_text(EXAMPLE, r"LCS-\d{6}")  # a string is refused, not split into characters
    with pytest.raises(SettingsError, match="pattern 1 must be"):
        pd.scan_workbook({"project": {"description": EXAMPLE}}, [["LCS"]])
    assert pd.check_case_patterns(None) == ()
    assert pd.check_case_patterns([r"LCS-\d{6}"]) == (r"LCS-\d{6}",)


def test_logs_never_hold_the_matched_text(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("presidio-analyzer", "tldextract", "phonenumbers"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        text = EXAMPLE + ", jo.bloggs@example.org, 020 7946 0018, LCS-123456"
        found = pd.scan_text(text, [r"LCS-\d{6}"])
        assert len(found) == 6
    finally:
        for name in ("presidio-analyzer", "tldextract", "phonenumbers"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for f in found:
        assert text[f.start : f.end] not in logged


# --------------------------------------------------------------------------- projects


def test_the_demo_project_trips_nothing_until_the_example_is_pasted(demo_store):
    demo = demo_store.open("demo")
    assert sum(1 for _ in pd.text_fields(demo)) > 40
    assert pd.scan_workbook(demo) == []
    edited = demo.model_copy(deep=True)
    edited.answers.q1.response = demo.answers.q1.response + "\n\n" + EXAMPLE
    saved = demo_store.save(edited, base=demo, user="tester")
    found = pd.scan_workbook(saved)
    assert {f.path for f in found} == {"answers.q1.response"}
    text = saved.answers.q1.response
    assert [(f.kind, text[f.start : f.end]) for f in found] == EXAMPLE_FOUND


def test_every_free_text_field_is_scanned(demo_store):
    from workbook.bank import load_bank
    from workbook.risk_content import load_risk_content
    from workbook.transparency import known_field_ids

    bank = load_bank()
    data = demo_store.open("demo").to_data()
    now = datetime.now(timezone.utc).isoformat()
    nhs = "NHS 999 526 0182"
    risk_id = next(iter(data["risks"]["items"]))
    category = load_risk_content().category_ids[0]
    atrs_field = sorted(known_field_ids())[0]
    prompt = bank.question("q2").prompt_ids[0]
    item = bank.phases[1].checklist_ids[0]
    data["project"]["description"] = nhs
    data["answers"]["q2"]["prompts"][prompt] = nhs
    data["answers"]["q3"]["informed_by"]["note"] = nhs
    data["answers"]["q4"]["evidence"] = [{"reference": "doc", "description": nhs}]
    data["answers"]["q5"]["further_work"] = [{"action": nhs, "owner": "team"}]
    data["phases"]["explore"]["note"] = nhs
    data["phases"][bank.phases[1].id]["checklist"][item]["note"] = nhs
    data["review"]["threads"]["t-pd1"] = {
        "kind": "question",
        "author": "rev",
        "created_at": now,
        "text": nhs,
        "target": "q1",
        "replies": {"r-pd1": {"author": "auth", "created_at": now, "text": nhs}},
    }
    data["review"]["signoffs"]["implement"] = {
        "decision": "approved_with_conditions",
        "reviewer": "rev",
        "signed_at": now,
        "conditions": nhs,
        "revision": 1,
        "fingerprint": "0" * 64,
    }
    data["risks"]["items"][risk_id]["note"] = nhs
    data["risks"]["items"][risk_id]["mitigations"] = [{"text": nhs}]
    data["risks"]["considered"][category] = {"reason": nhs, "by": "me", "at": now}
    data["transparency"]["fields"][atrs_field] = {"text": nhs}
    workbook = Workbook.model_validate(data)

    found = pd.scan_workbook(workbook)
    assert {f.kind for f in found} == {"nhs_number"}
    assert {f.path for f in found} == {
        "project.description",
        f"answers.q2.prompts.{prompt}",
        "answers.q3.informed_by.note",
        "answers.q4.evidence.0.description",
        "answers.q5.further_work.0.action",
        "phases.explore.note",
        f"phases.{bank.phases[1].id}.checklist.{item}.note",
        "review.threads.t-pd1.text",
        "review.threads.t-pd1.replies.r-pd1.text",
        "review.signoffs.implement.conditions",
        f"risks.items.{risk_id}.note",
        f"risks.items.{risk_id}.mitigations.0.text",
        f"risks.considered.{category}.reason",
        f"transparency.fields.{atrs_field}.text",
    }
    # The JSON dict is walked the same way as the model.
    assert pd.scan_workbook(workbook.to_data()) == found


# Strings in the answers file that nobody types free text into.
NOT_TYPED = {
    "project.id",
    "project.created_by",
    "project.members.*",
    "answers.*.updated_by",
    "review.threads.*.author",
    "review.threads.*.role",
    "review.threads.*.resolved_by",
    "review.threads.*.target",
    "review.threads.*.replies.*.author",
    "review.threads.*.replies.*.role",
    "review.signoffs.*.reviewer",
    "review.signoffs.*.role",
    "review.signoffs.*.fingerprint",
    "risks.items.*.category",
    "risks.items.*.affected.*",
    "risks.items.*.questions.*",
    "risks.items.*.created_by",
    "risks.items.*.mitigations.*.action.question",
    "risks.considered.*.by",
    "transparency.fields.*.updated_by",
    # A dismissed warning: the field's path, its text's SHA-256, who dismissed it.
    "personal_data.dismissed.*.path",
    "personal_data.dismissed.*.fingerprint",
    "personal_data.dismissed.*.by",
    # The rating scale is copied from the packaged content, not typed.
    "risks.scale.**",
}


def _schema_strings() -> set[str]:
    """Every path to a string in the answers file's JSON Schema (ids, enums, dates aside)."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    out: set[str] = set()

    def walk(node: dict, path: list[str]) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(sub, path)
        if node.get("type") == "string" and "enum" not in node and "const" not in node:
            if node.get("format") not in {"date", "date-time"}:
                out.add(".".join(path))
        for name, sub in node.get("properties", {}).items():
            walk(sub, [*path, name])
        for sub in node.get("patternProperties", {}).values():
            walk(sub, [*path, "*"])
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], [*path, "*"])
        if isinstance(node.get("items"), dict):
            walk(node["items"], [*path, "*"])

    walk(schema, [])
    return out


def _covered(path: str, globs) -> bool:
    """Whether a glob matches the path: ``*`` is one part, a final ``**`` any number."""
    parts = path.split(".")
    for glob in globs:
        g = glob.split(".")
        if g[-1] == "**" and path.startswith(glob[:-2]):
            return True
        if len(g) == len(parts) and all(a == "*" or a == b for a, b in zip(g, parts, strict=True)):
            return True
    return False


def test_the_field_list_keeps_up_with_the_model():
    """A string added to the model must be scanned or listed above as not typed."""
    strings = _schema_strings()
    assert len(strings) > 50
    unaccounted = sorted(p for p in strings if not _covered(p, pd.TEXT_FIELDS + tuple(NOT_TYPED)))
    assert unaccounted == []
    for glob in pd.TEXT_FIELDS:
        assert any(_covered(p, [glob]) for p in strings), f"{glob} is not in the model"
