"""Export: every format holds the workbook, nothing unsafe survives, batches carry on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import workbook.export.kernel as export_module
from tests.conftest import REPO
from tests.servers import require_chromium
from workbook.bank import load_bank
from workbook.demo import create_demo
from workbook.export import execute_report, export_projects
from workbook.model import Workbook
from workbook.store import Store

BANK = load_bank()
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
]


def _answers(store: Store, project: str) -> dict[str, str]:
    wb = store.open(project)
    return {q.id: wb.answer(q.id).response for q in BANK.questions if wb.answer(q.id).response}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The demo and an XSS project exported to every format, once for the module."""
    require_chromium()
    root = tmp_path_factory.mktemp("export")
    store = Store(root / "workspace")
    create_demo(store, project_id="demo", user="setup")
    base = store.create("Payload Tool", "Test Council", project_id="xss", user="setup")
    data = base.to_data()
    data["answers"]["q1"]["response"] = "Before. " + " ".join(XSS) + " After."
    data["answers"]["q2"]["prompts"]["engagement"] = XSS[1]
    data["answers"]["q3"]["evidence"] = [{"reference": XSS[0], "description": XSS[2]}]
    data["phases"]["explore"]["checklist"]["data_maturity"] = {"status": "done", "note": XSS[0]}
    store.save(Workbook.model_validate(data), base=base, user="setup")
    out = root / "outputs"
    result = export_projects(
        ["demo", "xss"],
        workspace=store.root,
        formats="html,pdf,docx,md",
        out=out,
        jobs=2,
        pack=True,
        progress=False,
    )
    assert not result.failed, [p.error for p in result.failed]
    return store, out, result


def _file(exported, project: str, ext: str) -> Path:
    store, out, _ = exported
    return out / f"{project}-r{store.open(project).revision}.{ext}"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Tags:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_files_are_named_by_project_and_revision(exported):
    store, out, result = exported
    names = sorted(p.name for p in out.iterdir())
    revisions = {pid: store.open(pid).revision for pid in ("demo", "xss")}
    expected = [
        f"{pid}-r{rev}.{ext}"
        for pid, rev in revisions.items()
        for ext in ("docx", "html", "md", "pdf")
    ]
    assert names == sorted([*expected, "index.html"])


def test_html_holds_every_question_answer_and_checklist_status(exported):
    store, _, _ = exported
    page = _parse(_file(exported, "demo", "html"))
    text = _norm(" ".join(page.text))
    for q in BANK.questions:
        assert _norm(q.text) in text, q.id
    for answer in _answers(store, "demo").values():
        first_words = _norm(answer.replace("**", ""))[:60]
        assert first_words in text
    wb = store.open("demo")
    for phase in BANK.phases:
        for item in phase.checklist:
            entry = wb.checklist_entry(phase.id, item.id)
            label = entry.status.label if entry.status else "Not assessed yet"
            assert _norm(item.text) in text
            assert label in text
    ids = [a.get("data-question-id") for _, a in page.tags if a.get("data-question-id")]
    assert ids == list(BANK.question_ids)  # every question id in the bank, in order


def test_html_title_names_the_tool(exported):
    raw = _file(exported, "demo", "html").read_text(encoding="utf-8")
    assert "<title>Early Help Family Support Indicator: Data Ethics Workbook</title>" in raw


def test_html_has_no_code_and_makes_no_network_request(exported):
    for project in ("demo", "xss"):
        path = _file(exported, project, "html")
        raw = path.read_text(encoding="utf-8")
        page = _parse(path)
        assert not [t for t, _ in page.tags if t in {"script", "iframe", "object", "embed"}]
        for tag, attrs in page.tags:
            for name in ("src", "srcset", "data", "poster"):
                assert not attrs.get(name), (tag, attrs)
            if tag == "link":
                assert not (attrs.get("href") or "").startswith(("http", "//")), attrs
        assert "@import" not in raw
        assert "url(http" not in raw
        assert "url(//" not in raw
        for code in ("display_report", "import ", "workspace =", "Traceback"):
            assert code not in raw, code


def test_unanswered_items_are_marked(exported):
    store, _, _ = exported
    text = _norm(" ".join(_parse(_file(exported, "demo", "html")).text))
    unanswered = 13 - len(_answers(store, "demo"))
    assert unanswered > 0
    assert text.count("Not answered yet.") == unanswered
    wb = store.open("demo")
    outstanding = [
        q
        for q in BANK.questions
        if not wb.answer(q.id).response.strip() or wb.answer(q.id).status == "further_work_needed"
    ]
    assert f"Outstanding questions ({len(outstanding)})" in text
    assert "No note yet." in text


@pytest.mark.parametrize("ext", ["html", "md", "docx"])
def test_xss_payloads_do_not_survive(exported, ext):
    path = _file(exported, "xss", ext)
    if ext == "docx":
        from docx import Document

        raw = "\n".join(p.text for p in Document(str(path)).paragraphs)
        raw += "\n".join(
            c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells
        )
        assert "Before." in raw
        assert "After." in raw
        return
    raw = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in raw
    assert "<img src=x" not in raw
    if ext == "md":  # a real markdown link; an escaped \[x\](...) is plain text
        assert not re.search(r"(?<!\\)\]\(\s*javascript:", raw, re.I)
    assert "Before." in raw
    assert "After." in raw
    if ext == "html":
        page = _parse(path)
        assert not [t for t, _ in page.tags if t in {"script", "img"}]
        assert not [a for _, a in page.tags for k in a if k.startswith("on")]
        hrefs = [(a.get("href") or "").lower() for _, a in page.tags]
        assert not [h for h in hrefs if "javascript:" in h]
        text = " ".join(page.text)
        assert "<script>alert(1)</script>" in text  # shown as text, escaped in the markup
        assert "&lt;script&gt;" in raw
    else:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_exports_name_no_paths_of_the_machine(exported):
    store, out, _ = exported
    for path in out.iterdir():
        if path.suffix in {".html", ".md"}:
            raw = path.read_text(encoding="utf-8")
            assert str(store.root) not in raw, path.name
            assert str(REPO) not in raw, path.name
            assert str(Path.home()) + "/" not in raw, path.name


def test_pdf_has_the_answers_and_several_pages(exported):
    store, _, _ = exported
    path = _file(exported, "demo", "pdf")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext not found: apt-get install poppler-utils (.ci/run does)"
    text = _norm(
        subprocess.run(
            [pdftotext, str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    )
    for answer in _answers(store, "demo").values():
        assert _norm(answer.replace("**", ""))[:50] in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:")).split()[1])
    assert pages > 1


def test_docx_opens_with_the_answers_and_thirteen_question_headings(exported):
    from docx import Document

    store, _, _ = exported
    doc = Document(str(_file(exported, "demo", "docx")))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    questions = [h for h in headings if h.startswith("Question ")]
    assert len(questions) == 13
    assert [h.split(":")[0] for h in questions] == [f"Question {n}" for n in range(1, 14)]
    body = _norm("\n".join(p.text for p in doc.paragraphs))
    for answer in _answers(store, "demo").values():
        assert _norm(answer.split("\n\n")[0].replace("**", ""))[:50] in body  # bold, not **


def test_markdown_has_the_answers(exported):
    store, _, _ = exported
    text = _norm(_file(exported, "demo", "md").read_text(encoding="utf-8"))
    for answer in _answers(store, "demo").values():
        assert _norm(answer)[:60] in text
    assert "<style>" not in text
    assert "<article" not in text
    for q in BANK.questions:
        assert f"### Question {q.number}:" in text


def test_pack_lists_every_project_with_links(exported):
    _, out, _ = exported
    page = _parse(out / "index.html")
    links = [a["href"] for t, a in page.tags if t == "a"]
    for project in ("demo", "xss"):
        for ext in ("html", "pdf", "docx", "md"):
            assert _file(exported, project, ext).name in links
    text = _norm(" ".join(page.text))
    assert "2 of 2 projects exported" in text
    assert "Explore phase: 80%" in text


def test_existing_exports_are_not_overwritten_unless_asked(exported):
    store, out, _ = exported
    target = _file(exported, "demo", "md")
    target.write_text("annotated by hand")
    result = export_projects(
        ["demo"], workspace=store.root, formats="md", out=out, jobs=1, progress=False
    )
    assert "already exist" in result.projects[0].error
    assert target.read_text() == "annotated by hand"
    again = export_projects(
        ["demo"],
        workspace=store.root,
        formats="md",
        out=out,
        jobs=1,
        overwrite=True,
        progress=False,
    )
    assert again.projects[0].ok
    assert target.read_text() != "annotated by hand"


def test_unknown_format_is_refused():
    from workbook.errors import WorkbookError

    with pytest.raises(WorkbookError, match="unknown format docs"):
        export_projects(["demo"], formats="html,docs")


def test_each_project_runs_in_a_fresh_kernel(tmp_path, monkeypatch):
    """Nothing from one project's run is visible in the next."""
    probe = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project = "x"\nworkspace = None')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import os\ntry:\n    SEEN.append(project)\nexcept NameError:\n    SEEN = [project]\n"
        "print(os.getpid(), SEEN)"
    )
    probe.cells = [params, body]
    probe.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "probe.ipynb"
    nbformat.write(probe, path)
    monkeypatch.setattr(export_module, "REPORT_NOTEBOOK", path)
    outputs = []
    for project in ("first", "second"):
        nb = execute_report(project, str(tmp_path))
        outputs.append(nb.cells[-1].outputs[0]["text"].split(maxsplit=1))
    (pid1, seen1), (pid2, seen2) = outputs
    assert seen1.strip() == "['first']"
    assert seen2.strip() == "['second']"  # not ['first', 'second']
    assert pid1 != pid2


def test_batch_with_a_corrupt_project_exports_the_rest_and_exits_1(tmp_path):
    store = Store(tmp_path / "workspace")
    for n in range(4):
        base = store.create(f"Tool {n}", "LA", project_id=f"p{n}", user="setup")
        data = base.to_data()
        data["answers"]["q1"]["response"] = f"Answer for project {n}"
        store.save(Workbook.model_validate(data), base=base, user="setup")
    store.create("Broken", "LA", project_id="broken", user="setup")
    store.answers_path("broken").write_text('{"schema_version": 1, "answers": ')
    out = tmp_path / "out"
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(store.root)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbook",
            "export",
            "--all",
            "--to",
            "html,md",
            "--out",
            str(out),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"p{n}-r2.{ext}" for n in range(4) for ext in ("html", "md")
    )
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("broken:")]
    assert "FAILED" in line
    assert "not valid JSON" in line
    assert "Traceback" not in proc.stderr
    assert "Exported 4 of 5 projects" in proc.stdout
    for n in range(4):
        assert f"Answer for project {n}" in (out / f"p{n}-r2.md").read_text()
