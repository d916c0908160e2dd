"""How tests/data/v6 was made: a schema-version-6 project with review data, members,
a protective marking, a risk register, the team's public wording for the transparency
record (one field rewritten, one withheld), and the issue-17 example of personal data
pasted into question 1, written by the version-6 code (commit 4704899).
Kept for the record; it runs only against that code:

    git worktree add --detach /tmp/v6tree 4704899
    cd /tmp/v6tree && PYTHONPATH=/tmp/v6tree python /path/to/make_v6.py OUT
    git worktree remove /tmp/v6tree

It writes OUT/v6/workbook.json and OUT/v6/answers.schema.json (the committed v6 schema).
"""

import shutil
import sys
from pathlib import Path

from workbook import review, risks
from workbook.demo import create_demo
from workbook.members import set_members
from workbook.model import SCHEMA_VERSION, json_schema_text
from workbook.settings import set_marking
from workbook.store import Store
from workbook.transparency import set_public_field

assert SCHEMA_VERSION == 6, SCHEMA_VERSION
out = Path(sys.argv[1])
root = out / "ws"
if root.exists():
    shutil.rmtree(root)
store = Store(root)
PID = "legacy-v6"
create_demo(store, project_id=PID, user="a.author")

# The example of issue 17, pasted into question 1 (synthetic: an NHS test-range number).
base = store.open(PID)
data = base.model_copy(deep=True)
data.answers.q1.response = (
    data.answers.q1.response
    + "\n\ne.g. child A, DOB 03/04/2015, NHS 999 000 0018, postcode SW1A 1AA"
)
data.answers.q9.response = "Answer to q9: **bold**, émoji 🙂, עברית, line\nbreak"
store.save(data, base=base, user="a.author")

_, t1 = review.add_comment(
    store,
    PID,
    target="q4",
    kind="challenge",
    text="Which parent groups were asked?",
    user="r.reviewer",
    role="Panel chair",
)
review.reply(store, PID, t1, text="Two parent groups, in June.", user="a.author")
set_members(store, PID, ["a.author", "r.reviewer"], user="setup")
set_marking(store, PID, "OFFICIAL-SENSITIVE", user="setup")
risks.consider(
    store,
    PID,
    "environment",
    "The model is retrained monthly on a laptop; energy use is negligible.",
    user="a.author",
)

# The public wording: one field rewritten for the public, one withheld with a reason.
set_public_field(
    store,
    PID,
    "one_sentence_description",
    user="a.author",
    text="A tool that helps family support workers decide whom to offer early help.",
)
set_public_field(
    store,
    PID,
    "companies_house_number",
    user="a.author",
    withheld=True,
    reason="Not applicable: built in house.",
)

fixture = out / "v6"
fixture.mkdir(exist_ok=True)
shutil.copy(store.answers_path(PID), fixture / "workbook.json")
(fixture / "answers.schema.json").write_text(json_schema_text(), encoding="utf-8")
print("revision", store.open(PID).revision)
