"""Personal data in free text: a local, offline detector (issue 17).

Workbook answers describe tools that process children's social care records, and they are
shared with oversight groups and the public. This module finds text that looks like a
child's personal data, so the app, ``workbook scan`` and the export can warn about it.

It is built on Microsoft Presidio's analyzer (``presidio-analyzer``), with pattern
recognizers only, and never reaches the network:

- the NLP engine is Presidio's ``NoOpNlpEngine``: no spaCy model is loaded or downloaded
  (spaCy itself is installed, as a dependency of Presidio, but only its ``Vocab`` and
  ``Doc`` classes are used);
- email domains are checked against ``tldextract``'s bundled public-suffix snapshot
  (``suffix_list_urls=()``, ``cache_dir=None``): nothing is fetched and nothing is cached
  on disk;
- the context enhancer is a no-op (context words are part of the date-of-birth pattern
  itself), so Presidio never logs words of the text at DEBUG level.

What it finds (``KINDS``):

- ``nhs_number``: 10 digits, as ``943 476 5870``, ``943-476-5870`` or ``9434765870``,
  whose mod-11 check digit is right (python-stdnum ``stdnum.gb.nhs``); ten equal digits,
  which pass the check, are ignored.
- ``upn``: a Unique Pupil Number, validated by python-stdnum ``stdnum.gb.upn`` (check
  letter and a known local-authority number).
- ``ni_number``: a National Insurance number, with HMRC's prefix rules (no D, F, I, Q, U or
  V; no O second; not BG, GB, KN, NK, NT, TN or ZZ) and a suffix A to D (Presidio's
  ``UkNinoRecognizer``).
- ``postcode``: a UK postcode in capitals (``SW1A 1AA``; Presidio's ``UkPostcodeRecognizer``
  pattern, matched case-sensitively so that ordinary words and school years such as
  "y7 1st" are not taken for one); in lower case only straight after the word "postcode".
- ``phone``: a UK phone number (including the Channel Islands and the Isle of Man) that
  python-phonenumbers finds valid for region GB, with at least 9 digits (so not short
  service numbers such as 0800 1111); numbers of other countries are not reported.
- ``email``: an email address whose domain ends in a known public suffix.
- ``date_of_birth``: a date (``03/04/2015``, ``3.4.15``, ``2015-04-03``, ``3rd April 2015``,
  ``April 3, 2015``, ``March 2015``) that is a real calendar date and comes within 25
  characters after "DOB", "D.O.B.", "born", "date of birth", "birth
  date" or "birthday" (on the same line, with no full stop or semicolon between, and not
  after "born after", "born before", "born between" and the like, which describe a group),
  or just before "(DOB)" or "date of birth". There is no age floor: these are children.
  Other dates ("reviewed on 03/04/2024") are not reported.
- ``case_reference``: the local case-reference patterns the caller gives (a workspace
  setting, ``case_reference_patterns``), matched ignoring case.

Positions are indices into the Python string (code points). A :class:`Finding` holds the
kind and the position, never the matched text, and nothing here logs or raises with the
matched text in it. Nothing here writes files.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex

from workbook.settings import SettingsError

KINDS: dict[str, str] = {
    "nhs_number": "an NHS number",
    "upn": "a Unique Pupil Number",
    "ni_number": "a National Insurance number",
    "postcode": "a UK postcode",
    "phone": "a UK phone number",
    "email": "an email address",
    "date_of_birth": "a date of birth",
    "case_reference": "a local case reference",
}
"""Each kind of finding and the phrase that names it ("looks like an NHS number")."""

CASE_PATTERNS_SETTING = "case_reference_patterns"
"""The workspace setting (settings.yaml) that lists the local case-reference patterns."""

MAX_CASE_PATTERNS = 50
MAX_CASE_PATTERN_LENGTH = 500

# Presidio entity type -> our kind.
_ENTITY_KIND = {
    "UK_NHS": "nhs_number",
    "UK_UPN": "upn",
    "UK_NINO": "ni_number",
    "UK_POSTCODE": "postcode",
    "UK_PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "DATE_OF_BIRTH": "date_of_birth",
    "CASE_REFERENCE": "case_reference",
}
# When two findings overlap, the longer wins; of two the same length, the one first here
# (a validated identifier before a looser pattern).
_PRIORITY = {
    kind: rank
    for rank, kind in enumerate(
        (
            "nhs_number",
            "upn",
            "ni_number",
            "email",
            "case_reference",
            "date_of_birth",
            "phone",
            "postcode",
        )
    )
}
_UK_PHONE_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
_DIGIT_RUN = regex.compile(r"[+(]*\d[\d \t().\-/]*\d")
# Every built-in recognizer needs a digit or an "@": text with neither is skipped quickly.
_MAY_HOLD_DATA = regex.compile(r"[\d@]")


@dataclass(frozen=True)
class Finding:
    """Something in a text that looks like personal data: its kind and where it is
    (``text[start:end]``). Never the text itself."""

    kind: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of personal data {self.kind!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"not a span of text: {self.start} to {self.end}")


@dataclass(frozen=True)
class FieldFinding:
    """A finding in one field of a project: ``path`` is the dotted field path
    (``answers.q1.response``), as in the history and in errors."""

    path: str
    kind: str
    start: int
    end: int

    def __post_init__(self) -> None:
        Finding(self.kind, self.start, self.end)  # the same checks

    @property
    def finding(self) -> Finding:
        return Finding(self.kind, self.start, self.end)


def describe(finding: Finding | FieldFinding) -> str:
    """What a finding looks like, in words: ``looks like an NHS number``."""
    return f"looks like {KINDS[finding.kind]}"


def text_fingerprint(text: str) -> str:
    """SHA-256 (hex) of the text, so that a dismissal can be tied to that same text without
    storing it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- case patterns


def check_case_patterns(patterns: Any, source: Path | str = "settings") -> tuple[str, ...]:
    """The local case-reference patterns, checked: a list of regular expressions, each of
    which compiles and does not match empty text. A problem raises
    :class:`~workbook.settings.SettingsError` naming ``source`` (the settings file) and the
    setting, and which pattern (by number, from 1); the message does not repeat the
    pattern."""

    def fail(message: str) -> SettingsError:
        return SettingsError(message, path=source, field=CASE_PATTERNS_SETTING)

    if patterns is None:
        return ()
    if isinstance(patterns, str | bytes) or not isinstance(patterns, Sequence):
        raise fail("must be a list of regular expressions, one per line starting with '- '")
    if len(patterns) > MAX_CASE_PATTERNS:
        raise fail(f"at most {MAX_CASE_PATTERNS} patterns (found {len(patterns)})")
    checked = []
    for number, pattern in enumerate(patterns, start=1):
        if not isinstance(pattern, str) or not pattern.strip():
            raise fail(f"pattern {number} must be a regular expression in quotes, not empty")
        if len(pattern) > MAX_CASE_PATTERN_LENGTH:
            raise fail(f"pattern {number} is longer than {MAX_CASE_PATTERN_LENGTH} characters")
        try:
            compiled = regex.compile(pattern, _CASE_FLAGS)
        except (regex.error, ValueError, OverflowError) as exc:
            problem = _regex_problem(exc, pattern)
            raise fail(
                f"pattern {number} is not a valid regular expression ({problem}); "
                r"write it as in Python, for example 'LCS-\d{6}'"
            ) from None
        if compiled.fullmatch("") is not None:
            raise fail(
                f"pattern {number} matches empty text, so it would flag every field; "
                r"make it match at least one character (for example \d+ instead of \d*)"
            )
        checked.append(pattern)
    return tuple(checked)


_CASE_FLAGS = regex.IGNORECASE | regex.MULTILINE


def _regex_problem(exc: Exception, pattern: str) -> str:
    """The regex library's complaint, with where (by character number), without the
    pattern itself."""
    message = getattr(exc, "msg", None) or str(exc).split(" at position")[0]
    pos = getattr(exc, "pos", None)
    if not isinstance(pos, int):
        return str(message)
    return f"{message} at the end" if pos >= len(pattern) else f"{message} at character {pos + 1}"


def _checked_case_patterns(patterns: Any) -> tuple[str, ...]:
    """``patterns`` checked (once for each list); a single string is refused, not split."""
    if not patterns:
        return ()
    if isinstance(patterns, str | bytes) or not isinstance(patterns, Sequence):
        return check_case_patterns(patterns, source="case_patterns")
    try:
        return _checked_tuple(tuple(patterns))
    except TypeError:  # an unhashable entry, which the check refuses
        return check_case_patterns(patterns, source="case_patterns")


@functools.lru_cache(maxsize=64)
def _checked_tuple(patterns: tuple[Any, ...]) -> tuple[str, ...]:
    return check_case_patterns(patterns, source="case_patterns")


# --------------------------------------------------------------------------- the analyzer

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH_NUMBER = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DATE = (
    r"(?:(?P<d1>\d{1,2})(?P<sep>[/.\-])(?P<m1>\d{1,2})(?P=sep)(?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mon3>{_MONTHS}),?\s+(?P<y3>\d{{4}})"
    rf"|(?P<mon4>{_MONTHS})\s+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y4>\d{{4}})"
    rf"|(?P<mon5>{_MONTHS})\s+(?P<y5>\d{{4}}))"
)
# Words that come before a date of birth ("DOB 03/04/2015", "born on 3rd April 2015"), and
# those that can follow one ("03/04/2015 (DOB)").
_DOB_WORDS_BEFORE = regex.compile(
    r"\bd\.\s?o\.\s?b\b\.?|\bdob\b|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bborn\b|\bbirthday\b",
    regex.IGNORECASE,
)
_DOB_WORDS_AFTER = regex.compile(
    r"\bd\.\s?o\.\s?b\b|\bdob\b|\bdate\s+of\s+birth\b", regex.IGNORECASE
)
_DATE_AFTER_WORD = regex.compile(
    rf"(?P<gap>[^\d\n.;!?]{{0,25}}?)(?<![\w])(?P<date>{_DATE})(?![\w/.\-]\d|\w)",
    regex.IGNORECASE,
)
_DATE_BEFORE_WORD = regex.compile(
    rf"(?<![\w/.\-])(?P<date>{_DATE})(?!\w)[^\S\n]*[(\[,\-–]?[^\S\n]*\Z", regex.IGNORECASE
)
# "children born after 01/09/2010": a cohort, not someone's date of birth.
_RANGE_WORDS = regex.compile(r"\b(?:after|before|between|since|from|until|till)\b", regex.I)


def _dates_of_birth(text: str) -> Iterator[tuple[int, int]]:
    """Spans of real dates next to a date-of-birth word (the word is not in the span)."""
    for word in _DOB_WORDS_BEFORE.finditer(text):
        m = _DATE_AFTER_WORD.match(text, word.end())
        if m and not _RANGE_WORDS.search(m.group("gap")) and _real_date(m):
            yield m.span("date")
    for word in _DOB_WORDS_AFTER.finditer(text):
        m = _DATE_BEFORE_WORD.search(text, max(word.start() - 40, 0), word.start())
        if m and _real_date(m):
            yield m.span("date")


def _real_date(m: regex.Match) -> bool:
    """Whether a matched date is a calendar date (day and month either way round for
    numeric dates; a year from 1900 to 2100)."""
    from datetime import date

    g = m.groupdict()

    def year(text: str) -> int:
        return int(text) + 2000 if len(text) == 2 else int(text)

    def month(name: str) -> int:
        return _MONTH_NUMBER[name.lower().rstrip(".")[:3]]

    def ok(y: int, mo: int, d: int) -> bool:
        if not 1900 <= y <= 2100:
            return False
        try:
            date(y, mo, d)
        except ValueError:
            return False
        return True

    if g["d1"]:
        y = year(g["y1"])
        return ok(y, int(g["m1"]), int(g["d1"])) or ok(y, int(g["d1"]), int(g["m1"]))
    if g["y2"]:
        return ok(int(g["y2"]), int(g["m2"]), int(g["d2"]))
    if g["d3"]:
        return ok(int(g["y3"]), month(g["mon3"]), int(g["d3"]))
    if g["d4"]:
        return ok(int(g["y4"]), month(g["mon4"]), int(g["d4"]))
    return ok(int(g["y5"]), month(g["mon5"]), 1)


_lock = threading.Lock()
_engine: Any = None


@functools.lru_cache(maxsize=1)
def _presidio() -> Any:
    """Presidio's classes and ours built on them, imported on first use (Presidio takes
    about a second to import)."""
    import phonenumbers
    import tldextract
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        LocalRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        EmailRecognizer,
        UkNinoRecognizer,
        UkPostcodeRecognizer,
    )
    from stdnum.gb import nhs, upn

    plain = regex.DOTALL | regex.MULTILINE  # case-sensitive, unlike Presidio's default

    def result(recognizer: Any, entity: str, start: int, end: int) -> Any:
        return RecognizerResult(
            entity_type=entity,
            start=start,
            end=end,
            score=EntityRecognizer.MAX_SCORE,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            },
        )

    class NhsNumberRecognizer(PatternRecognizer):
        """10 digits in 3-3-4 groups (spaces, hyphens or none), with a valid check digit."""

        def __init__(self) -> None:
            super().__init__(
                supported_entity="UK_NHS",
                name="NhsNumberRecognizer",
                patterns=[
                    Pattern(
                        "NHS number",
                        r"(?<![\w.,/-])\d{3}(?P<s>[ -]?)\d{3}(?P=s)\d{4}(?![\w]|[.,/-]\d)",
                        0.5,
                    )
                ],
                global_regex_flags=plain,
            )

        def validate_result(self, pattern_text: str) -> bool:
            digits = nhs.compact(pattern_text)
            return len(set(digits)) > 1 and nhs.is_valid(digits)

    class UpnRecognizer(PatternRecognizer):
        """A Unique Pupil Number: a check letter, 11 digits and a digit or letter."""

        def __init__(self) -> None:
            super().__init__(
                supported_entity="UK_UPN",
                name="UpnRecognizer",
                patterns=[Pattern("UPN", r"\b[A-Za-z]\d{11}[0-9A-Za-z]\b", 0.5)],
                global_regex_flags=plain,
            )

        def validate_result(self, pattern_text: str) -> bool:
            return upn.is_valid(pattern_text)

    core = UkPostcodeRecognizer.PATTERNS[0].regex
    postcodes = UkPostcodeRecognizer(
        patterns=[
            Pattern("UK postcode", core, 0.5),
            Pattern("UK postcode after 'postcode'", rf"(?i)\bpost\s?code\W{{0,3}}\K{core}", 0.5),
        ]
    )
    postcodes.global_regex_flags = plain

    ninos = UkNinoRecognizer()
    ninos.global_regex_flags = plain

    offline_suffixes = tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's email pattern; the domain checked against the bundled suffix list."""

        def validate_result(self, pattern_text: str) -> bool:
            return offline_suffixes(pattern_text.rsplit("@", 1)[-1]).fqdn != ""

    class UkPhoneRecognizer(LocalRecognizer):
        """Phone numbers python-phonenumbers finds valid for the UK."""

        def __init__(self) -> None:
            super().__init__(supported_entities=["UK_PHONE_NUMBER"], name="UkPhoneRecognizer")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: Any, nlp_artifacts: Any = None) -> list:
            # The matcher tries to parse every group of digits ("2024/25", "0.75"), which
            # is most of the scan's time. A UK landline or mobile number has 10 or 11 digits
            # with its leading 0, so only runs of digits and separators with at least 9
            # digits are handed to it, with a character either side (the matcher looks at
            # what comes before and after a number). Short service numbers such as
            # 0800 1111 are not reported.
            found = []
            for run in _DIGIT_RUN.finditer(text):
                if sum(c.isdigit() for c in run.group()) < 9:
                    continue
                left = max(run.start() - 1, 0)
                for m in phonenumbers.PhoneNumberMatcher(
                    text[left : run.end() + 1], "GB", leniency=phonenumbers.Leniency.VALID
                ):
                    if phonenumbers.region_code_for_number(m.number) in _UK_PHONE_REGIONS:
                        found.append(result(self, "UK_PHONE_NUMBER", left + m.start, left + m.end))
            return found

    class DateOfBirthRecognizer(LocalRecognizer):
        """A real date next to "DOB", "born", "date of birth" or "birthday"."""

        def __init__(self) -> None:
            super().__init__(supported_entities=["DATE_OF_BIRTH"], name="DateOfBirthRecognizer")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: Any, nlp_artifacts: Any = None) -> list:
            found = dict.fromkeys(_dates_of_birth(text))
            return [result(self, "DATE_OF_BIRTH", s, e) for s, e in found]

    class NoContext(ContextAwareEnhancer):
        """No context scoring (and so no logging of the words around a match)."""

        def __init__(self) -> None:
            super().__init__(0, 0, 0, 0)

        def enhance_using_context(
            self, text, raw_results, nlp_artifacts, recognizers, context=None
        ):
            return raw_results

    def analyzer() -> Any:
        registry = RecognizerRegistry(
            recognizers=[
                NhsNumberRecognizer(),
                UpnRecognizer(),
                ninos,
                postcodes,
                UkPhoneRecognizer(),
                OfflineEmailRecognizer(),
                DateOfBirthRecognizer(),
            ],
            supported_languages=["en"],
        )
        engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        return AnalyzerEngine(
            registry=registry,
            nlp_engine=engine,
            supported_languages=["en"],
            context_aware_enhancer=NoContext(),
        )

    def case_recognizer(patterns: tuple[str, ...]) -> Any:
        return PatternRecognizer(
            supported_entity="CASE_REFERENCE",
            name="CaseReferenceRecognizer",
            patterns=[Pattern(f"case reference {i}", p, 0.5) for i, p in enumerate(patterns, 1)],
            global_regex_flags=_CASE_FLAGS,
        )

    return analyzer, case_recognizer


def _analyzer() -> Any:
    """The analyzer, built once per process and warmed up."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = _presidio()[0]()
                # Every recognizer runs once (the email check loads the bundled suffix list).
                engine.analyze(text="warm-up: DOB 1/1/2020, 0 a@example.org", language="en")
                _engine = engine
    return _engine


@functools.lru_cache(maxsize=64)
def _case_recognizer(patterns: tuple[str, ...]) -> Any:
    return _presidio()[1](patterns)


def warm_up() -> None:
    """Import Presidio and build the analyzer now (about a second, once per process)."""
    _analyzer()


# --------------------------------------------------------------------------- scanning


def scan_text(text: str, case_patterns: Sequence[str] = ()) -> list[Finding]:
    """Everything in ``text`` that looks like personal data, in order of position. Where two
    findings overlap, only one is kept: the longer, or for the same span the more specific
    (an NHS number rather than a phone number). ``case_patterns`` are the local
    case-reference patterns (an invalid one raises ``SettingsError``)."""
    patterns = _checked_case_patterns(case_patterns)
    if not text or (not patterns and _MAY_HOLD_DATA.search(text) is None):
        return []
    engine = _analyzer()
    results = engine.analyze(
        text=text,
        language="en",
        ad_hoc_recognizers=[_case_recognizer(patterns)] if patterns else None,
    )
    findings = [
        Finding(_ENTITY_KIND[r.entity_type], r.start, r.end)
        for r in results
        if r.entity_type in _ENTITY_KIND and r.end > r.start
    ]
    return _without_overlaps(findings)


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for f in sorted(set(findings), key=lambda f: (f.start - f.end, _PRIORITY[f.kind], f.start)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end, _PRIORITY[f.kind]))


TEXT_FIELDS: tuple[str, ...] = (
    "project.tool_name",
    "project.local_authority",
    "project.owner",
    "project.oversight_group",
    "project.description",
    "answers.*.response",
    "answers.*.prompts.*",
    "answers.*.informed_by.note",
    "answers.*.evidence.*.reference",
    "answers.*.evidence.*.description",
    "answers.*.further_work.*.action",
    "answers.*.further_work.*.owner",
    "phases.*.note",
    "phases.*.checklist.*.note",
    "review.threads.*.text",
    "review.threads.*.replies.*.text",
    "review.signoffs.*.conditions",
    "risks.items.*.title",
    "risks.items.*.description",
    "risks.items.*.cause",
    "risks.items.*.owner",
    "risks.items.*.note",
    "risks.items.*.mitigations.*.text",
    "risks.considered.*.reason",
    "transparency.fields.*.text",
    "transparency.fields.*.reason",
    "personal_data.dismissed.*.reason",
)
"""Every field of a project that people type free text into, as dotted paths (``*`` is any
question, prompt, phase, checklist item, thread, reply, risk, category, ATRS field, or a
position in a list, counted from 0):

- the project: tool name, local authority, owner, oversight group, description;
- each question's answer: the response, each prompt's note, the note on whose views
  informed it, each evidence reference and its description, each further-work action and
  its owner;
- each phase's note and each checklist item's note;
- the review: each comment, each reply, and the conditions of each sign-off;
- the risk register: each risk's title, description, cause, owner, note and mitigations,
  and the reason a category was found not relevant;
- the public transparency record (ATRS): the team's wording of each field and the reason
  a field is withheld.
- the reason a personal-data warning was dismissed (:mod:`workbook.personal_data_review`).

Not scanned: ids, statuses, dates, ratings, and login names the app records itself
(``updated_by``, ``created_by``, ``author``, ``reviewer``, the member list)."""


def text_fields(workbook: Any) -> Iterator[tuple[str, str]]:
    """(dotted path, text) for each non-empty free-text field of a project (a Workbook
    model or its JSON dict), in the order of :data:`TEXT_FIELDS`. List items are numbered
    from 0 in the path (``answers.q1.evidence.0.reference``), as validation errors name
    them."""
    data = workbook if isinstance(workbook, Mapping) else workbook.to_data()
    for glob in TEXT_FIELDS:
        yield from _expand(data, glob.split("."), "")


def _expand(node: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, str]]:
    if not parts:
        if isinstance(node, str) and node:
            yield prefix, node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, Mapping):
            items = ((str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            items = ((str(i), v) for i, v in enumerate(node))
        else:
            return
        for key, child in items:
            yield from _expand(child, rest, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, Mapping) and head in node:
        yield from _expand(node[head], rest, f"{prefix}.{head}" if prefix else head)


def scan_workbook(workbook: Any, case_patterns: Sequence[str] = ()) -> list[FieldFinding]:
    """Every finding in every free-text field of a project (see :data:`TEXT_FIELDS`), field
    by field in that order, each in order of position."""
    patterns = _checked_case_patterns(case_patterns)
    return [
        FieldFinding(path, f.kind, f.start, f.end)
        for path, text in text_fields(workbook)
        for f in scan_text(text, patterns)
    ]
