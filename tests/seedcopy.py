"""Is our text our own? A check shared by the content tests.

No text we write may share eight or more consecutive words with a source text in
``../shared/seeds/`` (the Sopra Steria reports are copyrighted; only their names and
structure may be used).

The seed texts live beside the repo, not in it. A clean checkout (CI) uses
``tests/data/seed-shingles.txt`` instead: a one-way fingerprint of every run of eight words
in those texts, so the check runs without the repo redistributing the reports. Rebuild it
after the seeds change with ``python -m tests.test_risk_content``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SHINGLES_FILE = Path(__file__).resolve().parent / "data" / "seed-shingles.txt"
RUN = 8  # this many shared consecutive words counts as copying


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _fingerprint(run: list[str]) -> str:
    return hashlib.blake2b(" ".join(run).encode(), digest_size=5).hexdigest()


def _runs(text: str) -> list[list[str]]:
    words = _words(text)
    return [words[i : i + RUN] for i in range(len(words) - RUN + 1)]


def _shingles_of(folder: Path) -> set[str]:
    texts = sorted(folder.glob("*.txt"))
    assert texts, f"no seed texts in {folder}"
    return {_fingerprint(run) for path in texts for run in _runs(path.read_text("utf-8"))}


def _committed_shingles() -> set[str]:
    lines = SHINGLES_FILE.read_text("utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


SEED_SHINGLES = _shingles_of(SEEDS) if SEEDS.is_dir() else _committed_shingles()


def _copied_runs(text: str) -> list[str]:
    """Every run of ``RUN`` words in ``text`` that also occurs in a seed text."""
    return [" ".join(run) for run in _runs(text) if _fingerprint(run) in SEED_SHINGLES]


def write_fingerprint() -> None:
    shingles = sorted(_shingles_of(SEEDS))
    header = [
        f"# blake2b (5 bytes) of every run of {RUN} lower-cased words in ../shared/seeds/*.txt.",
        "# Used by tests/test_risk_content.py when the seeds are not beside the checkout.",
        "# Rebuild: python -m tests.test_risk_content",
    ]
    SHINGLES_FILE.write_text("\n".join(header + shingles) + "\n", encoding="utf-8")
