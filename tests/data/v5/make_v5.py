"""How tests/data/v5 was made: a schema-version-5 project with review data, members,
reply roles, a protective marking and a risk register, written by the version-5 code
(commit d7fadf1).
Kept for the record; it runs only against that code:

    git worktree add --detach /tmp/v5tree d7fadf1
    cd /tmp/v5tree && PYTHONPATH=/tmp/v5tree python /path/to/make_v5.py OUT
    git worktree remove /tmp/v5tree

It writes OUT/v5/workbook.json and OUT/v5/answers.schema.json (the committed v5 schema).
"""

import shutil
import sys
from pathlib import Path

from workbook import review
from workbook.demo import create_demo
from workbook.members import set_members
from workbook.model import SCHEMA_VERSION, json_schema_text
from workbook.roles import actor_for, parse_roles
from workbook.settings import set_marking
from workbook.store import Store

assert SCHEMA_VERSION == 5, SCHEMA_VERSION
out = Path(sys.argv[1])
root = out / "ws"
if root.exists():
    shutil.rmtree(root)
store = Store(root)
PID = "legacy-v5"
wb = create_demo(store, project_id=PID, user="a.author")

# More answers, with awkward text, evidence and actions, through the ordinary save path.
base = store.open(PID)
data = base.model_copy(deep=True)
q = data.answers.q9
q.response = "Answer to q9: **bold**, émoji 🙂, עברית, <script>x</script>, line\nbreak"
q.status = "further_work_needed"
q.informed_by.external_experts = True
q.informed_by.note = "External academic reviewed the features."
q.evidence = [
    {"reference": "DOC-9-1", "description": "Feature list v2"},
    {"reference": "https://example.org/fairness", "description": ""},
]
q.further_work = [
    {"action": "Re-run the bias audit", "owner": "B. Owner", "due": "2026-11-30", "status": "open"},
    {"action": "Publish the model card", "owner": "", "due": None, "status": "done"},
]
first_prompt = next(iter(type(q.prompts).model_fields))
setattr(q.prompts, first_prompt, "Prompt note with a tab\tand NUL-free unicode ✓")
store.save(data, base=base, user="a.author")

# Review: one thread of each kind, on a question and on checklist items, with replies.
_, t1 = review.add_comment(
    store,
    PID,
    target="q4",
    kind="question",
    text="Which parent groups were asked?",
    user="r.reviewer",
    role="Panel chair",
)
roles = parse_roles({"users": {"a.author": "author", "r.reviewer": "reviewer"}})
author = actor_for("a.author", source="hub", groups=(), roles=roles)
set_members(store, PID, ["a.author", "r.reviewer", "e.expert"], user="setup")
review.reply(store, PID, t1, text="Two parent groups, in June.", user=author)
review.reply(store, PID, t1, text="Thanks; please add the notes.", user="r.reviewer")
_, t2 = review.add_comment(
    store,
    PID,
    target="explore.checklist.datasets_systems",
    kind="challenge",
    text="The health extract is not agreed yet.",
    user="r.reviewer",
    role="Panel chair",
)
review.set_resolved(
    store, PID, t2, True, user="a.author", reason="Agreed on 3 October; the DSA is in the evidence."
)
_, t3 = review.add_comment(
    store,
    PID,
    target="q9",
    kind="suggestion",
    text="Consider a plain-English model card.",
    user="e.expert",
    role="External expert",
)
_, t4 = review.add_comment(
    store,
    PID,
    target="develop.checklist.baseline",
    kind="challenge",
    text="Baseline period looks too short.",
    user="r.reviewer",
    role="",
)
review.reply(store, PID, t4, text="We will extend it to 24 months.", user="a.author")

# Sign-offs: explore approved with conditions, develop not approved.
wb = store.open(PID)
n = review.incomplete_questions(wb, "explore")
review.sign_off(
    store,
    PID,
    "explore",
    decision="approved_with_conditions",
    reviewer="R. Reviewer",
    role="Panel chair",
    conditions="Publish the DPIA before Develop ends.",
    user="r.reviewer",
    confirm_incomplete=n,
)
review.sign_off(
    store,
    PID,
    "develop",
    decision="not_approved",
    reviewer="R. Reviewer",
    role="Panel chair",
    user="r.reviewer",
)

set_marking(store, PID, "OFFICIAL-SENSITIVE", user="setup")

# The risk register: the demo's risks, plus a category considered with its reason.
from workbook import risks  # noqa: E402

risks.consider(
    store,
    PID,
    "environment",
    "The model is retrained monthly on a laptop; energy use is negligible.",
    user="a.author",
)

fixture = out / "v5"
fixture.mkdir(exist_ok=True)
shutil.copy(store.answers_path(PID), fixture / "workbook.json")
(fixture / "answers.schema.json").write_text(json_schema_text(), encoding="utf-8")
print("revision", store.open(PID).revision)
