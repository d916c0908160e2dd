"""Make referrals.csv: an INVENTED dataset of children's services referrals.

Every row is made up by this script from random numbers with a fixed seed. No row describes a
real child, family, referral or local authority, and no real data were used to choose the
numbers. It exists so that the starter evidence notebooks (error rates and calibration by
group; data quality and completeness) have something to work on.

What is built in, so the notebooks have something to find:
- an "early-help indicator" score (0-1) and a flag (score >= 0.5), with modest differences
  between ethnicity groups in how the score relates to the outcome (so error rates differ);
- missing values, more in some fields and for some groups (ethnicity not recorded goes with
  more missing deprivation deciles, for example);
- outcomes not yet known for referrals made in the last six months before the extract date;
- a few duplicated records and a few placeholder values (previous referrals of 99).

Run with any Python that has numpy: ``python make_referrals.py`` writes referrals.csv beside
this file. The same seed always gives the same file.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20240401
ROWS = 2000
EXTRACT_DATE = date(2025, 12, 31)
FIRST_DATE = date(2024, 1, 1)
LAST_DATE = date(2025, 12, 31)
OUTCOME_KNOWN_BEFORE = date(2025, 7, 1)  # six months before the extract
THRESHOLD = 0.5

AGE_BANDS = ["0-4", "5-10", "11-15", "16-17"]
SEXES = ["Female", "Male"]
# The five top-level ethnic groups of the ONS 2021 census classification, and "Not recorded".
ETHNICITY = [
    "Asian or Asian British",
    "Black, Black British, Caribbean or African",
    "Mixed or Multiple ethnic groups",
    "White",
    "Other ethnic group",
    "Not recorded",
]
ETHNICITY_P = [0.08, 0.06, 0.07, 0.69, 0.03, 0.07]
DISABILITY = ["yes", "no", "not recorded"]
SOURCES = ["police", "school", "health", "LA housing", "self/family", "other"]
SOURCES_P = [0.28, 0.22, 0.18, 0.08, 0.10, 0.14]

# How the invented indicator's score is off, on the logit scale, for each group: a shift
# (positive: scored too high, so more false positives) and extra noise. Modest on purpose.
SCORE_SHIFT = dict(zip(ETHNICITY, [-0.35, 0.45, 0.15, 0.0, 0.1, 0.0], strict=True))
SCORE_NOISE = dict(zip(ETHNICITY, [0.5, 0.5, 0.7, 0.4, 0.8, 0.9], strict=True))

COLUMNS = [
    "referral_id",
    "referral_date",
    "age_band",
    "sex",
    "ethnicity_group",
    "disability_recorded",
    "deprivation_decile",
    "referral_source",
    "previous_referrals",
    "needed_statutory_support",
    "model_score",
    "flagged",
]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_rows(rng: np.random.Generator) -> list[dict[str, str]]:
    n = ROWS
    days = (LAST_DATE - FIRST_DATE).days
    dates = [FIRST_DATE + timedelta(days=int(d)) for d in rng.integers(0, days + 1, n)]
    age = rng.choice(len(AGE_BANDS), n, p=[0.30, 0.33, 0.27, 0.10])
    sex = rng.choice(len(SEXES), n, p=[0.49, 0.51])
    eth = rng.choice(len(ETHNICITY), n, p=ETHNICITY_P)
    disability = rng.choice(len(DISABILITY), n, p=[0.12, 0.70, 0.18])
    # Referrals come more often from more deprived areas (decile 1 is the most deprived).
    decile = np.clip(np.ceil(10 * rng.beta(1.3, 2.2, n)), 1, 10).astype(int)
    source = rng.choice(len(SOURCES), n, p=SOURCES_P)
    previous = rng.poisson(0.9, n)

    # The true chance of needing statutory support within six months.
    risk = (
        -1.6
        + 0.45 * np.minimum(previous, 4)
        + 0.12 * (5.5 - decile)
        + np.where(np.array(SOURCES)[source] == "police", 0.5, 0.0)
        + np.where(np.array(SOURCES)[source] == "self/family", -0.4, 0.0)
        + np.where(age == 0, 0.3, 0.0)
        + np.where(np.array(DISABILITY)[disability] == "yes", 0.25, 0.0)
        + rng.normal(0, 0.6, n)
    )
    outcome = rng.random(n) < _sigmoid(risk)

    # The indicator sees most of the risk, with a group-dependent shift and noise.
    names = np.array(ETHNICITY)[eth]
    shift = np.array([SCORE_SHIFT[g] for g in names])
    noise = np.array([SCORE_NOISE[g] for g in names])
    score = _sigmoid(1.1 * risk + 0.45 + shift + rng.normal(0, 1, n) * noise)

    rows = []
    for i in range(n):
        g = ETHNICITY[eth[i]]
        not_recorded = g == "Not recorded"
        row = {
            "referral_id": f"SYN-{i + 1:05d}",
            "referral_date": dates[i].isoformat(),
            "age_band": AGE_BANDS[age[i]],
            "sex": SEXES[sex[i]],
            "ethnicity_group": g,
            "disability_recorded": DISABILITY[disability[i]],
            "deprivation_decile": str(decile[i]),
            "referral_source": SOURCES[source[i]],
            "previous_referrals": str(previous[i]),
            "needed_statutory_support": "yes" if outcome[i] else "no",
            "model_score": f"{score[i]:.3f}",
            "flagged": "yes" if round(float(score[i]), 3) >= THRESHOLD else "no",
        }
        # Missing values: more where ethnicity is not recorded (a thinner record overall),
        # and more for Asian and Black families' deprivation deciles (postcode not matched).
        p_missing = {
            "age_band": 0.01,
            "sex": 0.015 + (0.05 if not_recorded else 0.0),
            "disability_recorded": 0.02 + (0.10 if not_recorded else 0.0),
            "deprivation_decile": 0.03
            + (0.15 if not_recorded else 0.0)
            + (0.05 if g in ETHNICITY[:2] else 0.0),
            "referral_source": 0.02,
            "previous_referrals": 0.04 + (0.08 if not_recorded else 0.0),
        }
        for field, p in p_missing.items():
            if rng.random() < p:
                row[field] = ""
        if dates[i] >= OUTCOME_KNOWN_BEFORE:
            row["needed_statutory_support"] = ""  # six months have not passed yet
        rows.append(row)

    # A placeholder code keyed in for "unknown" on a handful of records.
    for i in rng.choice(n, 5, replace=False):
        rows[i]["previous_referrals"] = "99"
    # A few records entered twice (same id, same values).
    for copy in [dict(rows[i]) for i in sorted(rng.choice(n, 8, replace=False))]:
        rows.insert(int(rng.integers(0, len(rows))), copy)
    return rows


def main() -> Path:
    rows = make_rows(np.random.default_rng(SEED))
    out = Path(__file__).resolve().parent / "referrals.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out


if __name__ == "__main__":
    print(f"Wrote {main()} (invented data, seed {SEED}).")
