"""Issue 10: workspace files that are not regular files, and commands that must fail cleanly.

Every call that could hang on a FIFO runs in a thread that the test gives 2 s; a hang
fails the test instead of blocking the suite (and the FIFO is then opened for writing
to release the thread).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbook import review
from workbook.demo import create_demo
from workbook.errors import WorkbookError
from workbook.store import Change, Store

HANG_S = 2.0


def within(seconds: float, fn: Callable[[], Any], *, release: Path | None = None) -> Any:
    """``fn()`` in a thread; fails the test if it has not returned within ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if release is not None:  # unblock a reader stuck opening the FIFO
            try:
                fd = os.open(release, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        pytest.fail(f"still running after {seconds} s (hung on a workspace file?)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def run_cli(*args: str, workspace: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "workbook", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error:")
    return line


@pytest.fixture
def two(store: Store) -> Store:
    """A workspace with two demo projects, 'good' and 'bad'."""
    create_demo(store, project_id="good", user="tester")
    create_demo(store, project_id="bad", user="tester")
    return store


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


# --------------------------------------------------------------------------- FIFOs


def test_a_fifo_answers_file_is_refused_and_the_others_are_still_listed(two):
    path = two.answers_path("bad")
    _replace_with_fifo(path)
    entries = within(HANG_S, two.list, release=path)
    assert [e.id for e in entries] == ["bad", "good"]
    assert entries[1].workbook is not None
    assert entries[0].workbook is None
    assert "named pipe (FIFO), not a regular file" in str(entries[0].error)
    assert str(path) in str(entries[0].error)
    with pytest.raises(WorkbookError, match="FIFO"):
        within(HANG_S, lambda: two.open("bad"), release=path)


def test_a_fifo_history_or_lock_is_refused(two):
    history = two.history_path("bad")
    _replace_with_fifo(history)
    with pytest.raises(WorkbookError, match="FIFO") as info:
        within(HANG_S, lambda: two.history("bad"), release=history)
    assert "\n" not in str(info.value)
    wb = two.open("bad")
    change = [Change("answers.q2.response", wb.answer("q2").response, "new")]
    with pytest.raises(WorkbookError, match="FIFO"):
        within(HANG_S, lambda: two.apply("bad", change, user="u", base_revision=wb.revision))
    assert two.open("bad").answer("q2").response == wb.answer("q2").response

    lock = two.project_dir("good") / ".lock"
    if lock.exists():
        lock.unlink()
    os.mkfifo(lock)
    wb = two.open("good")
    change = [Change("answers.q2.response", wb.answer("q2").response, "new")]
    with pytest.raises(WorkbookError, match="FIFO"):
        within(HANG_S, lambda: two.apply("good", change, user="u", base_revision=wb.revision))


def test_a_device_or_folder_answers_file_is_refused(two):
    path = two.answers_path("bad")
    path.unlink()
    path.mkdir()
    with pytest.raises(WorkbookError, match="is a folder, not a regular file"):
        within(HANG_S, lambda: two.open("bad"))
    path.rmdir()
    path.symlink_to("/dev/zero")
    with pytest.raises(WorkbookError, match="symbolic link"):
        within(HANG_S, lambda: two.open("bad"))


def test_cli_list_and_export_all_survive_a_fifo_project(two, tmp_path):
    _replace_with_fifo(two.answers_path("bad"))
    # The CLI starts in about a second; a hang would run into the timeout.
    proc = run_cli("list", workspace=two.root, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "good" in proc.stdout
    assert "unreadable" in proc.stdout
    assert "FIFO" in proc.stdout
    out = tmp_path / "out"
    proc = run_cli(
        "export", "--all", "--to", "csv", "--jobs", "1", "--out", str(out),
        workspace=two.root, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "bad: FAILED" in proc.stderr
    assert "FIFO" in proc.stderr
    assert any(p.name.startswith("good-") for p in out.iterdir())


def test_validate_refuses_a_fifo_instead_of_waiting_on_it(tmp_path):
    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)
    proc = run_cli("validate", str(fifo), workspace=tmp_path, timeout=30)
    line = one_line_error(proc)
    assert "named pipe (FIFO)" in line


# --------------------------------------------------------------------------- symlinks


def test_a_symlinked_history_is_never_written_through(two, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    history = two.history_path("bad")
    history.unlink()
    history.symlink_to(outside)
    wb = two.open("bad")
    change = [Change("answers.q2.response", wb.answer("q2").response, "secret answer")]
    with pytest.raises(WorkbookError, match="symbolic link") as info:
        within(HANG_S, lambda: two.apply("bad", change, user="u", base_revision=wb.revision))
    assert str(history) in str(info.value)
    assert outside.read_text() == "not yours\n"
    assert two.open("bad").revision == wb.revision
    with pytest.raises(WorkbookError, match="symbolic link"):
        two.history("bad")
    # the other project is untouched and still saves
    good = two.open("good")
    two.apply(
        "good",
        [Change("answers.q2.response", good.answer("q2").response, "fine")],
        user="u",
        base_revision=good.revision,
    )


def test_a_symlinked_lock_is_refused_not_followed_or_truncated(two, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    lock = two.project_dir("bad") / ".lock"
    if lock.exists():
        lock.unlink()
    lock.symlink_to(outside)
    with pytest.raises(WorkbookError, match="symbolic link"):
        within(
            HANG_S,
            lambda: review.restore(two, "bad", "answers.q1.response", 1, user="u"),
        )
    assert outside.read_text() == "keep me\n"
    proc = run_cli("restore", "bad", "q1.response", "--revision", "1", "--yes", workspace=two.root)
    line = one_line_error(proc)
    assert ".lock" in line
    assert "symbolic link" in line
    assert outside.read_text() == "keep me\n"


def test_a_folder_swapped_for_a_link_after_the_check_is_still_refused(two, tmp_path, monkeypatch):
    """The race: the project folder becomes a link between the id check and the save."""
    import shutil

    outside = tmp_path / "outside"
    shutil.copytree(two.project_dir("bad"), outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    wb = two.open("bad")
    folder = two.project_dir("bad")
    checked = Store.document_dir, Store.document_path
    # Both checks passed before the swap: now they see only the names.
    monkeypatch.setattr(Store, "document_dir", lambda self, pid: self.root / pid)
    monkeypatch.setattr(Store, "document_path", lambda self, pid: self.root / pid / "workbook.json")
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    change = [Change("answers.q2.response", wb.answer("q2").response, "secret answer")]
    with pytest.raises(WorkbookError, match="not a folder") as info:
        two.apply("bad", change, user="u", base_revision=wb.revision)
    assert str(folder) in str(info.value)
    with pytest.raises(WorkbookError, match="not a folder"):
        two.history("bad")
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    monkeypatch.setattr(Store, "document_dir", checked[0])
    monkeypatch.setattr(Store, "document_path", checked[1])
    assert [e.id for e in two.list() if e.workbook is not None] == ["good"]


def test_a_symlinked_answers_file_is_listed_as_unreadable(two, tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(two.answers_path("bad").read_bytes())
    path = two.answers_path("bad")
    path.unlink()
    path.symlink_to(outside)
    entries = within(HANG_S, two.list)
    assert [(e.id, e.workbook is None) for e in entries] == [("bad", True), ("good", False)]
    assert "symbolic link" in str(entries[0].error)


# --------------------------------------------------------------------------- commands


def test_export_out_under_a_file_is_one_line(demo_store, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    proc = run_cli(
        "export", "demo", "--to", "csv", "--out", str(blocker / "sub"), workspace=demo_store.root
    )
    line = one_line_error(proc)
    assert "output folder" in line
    assert str(blocker / "sub") in line


@pytest.mark.parametrize("field", ["answers", "phases", "review.threads", "project.tool_name"])
def test_restore_of_a_whole_section_is_one_line(demo_store, field):
    proc = run_cli("restore", "demo", field, "--revision", "1", "--yes", workspace=demo_store.root)
    line = one_line_error(proc)
    assert "cannot restore" in line


def test_terminal_escapes_in_stored_names_are_not_printed(demo_store):
    path = demo_store.answers_path("demo")
    data = json.loads(path.read_text())
    evil = "Tool\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x9b31m\r\u202eevil\x00"
    data["project"]["tool_name"] = evil
    data["project"]["local_authority"] = "LA\x1b[1;31mred\x1b[0m"
    data["project"]["owner"] = "Ow\x1bPdcs\x1b\\ner"
    path.write_text(json.dumps(data))
    for args in (("list",), ("status", "demo")):
        proc = run_cli(*args, workspace=demo_store.root)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        for bad in ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\x00"):
            assert bad not in out, (args, bad)
        assert "Tool" in out
        assert "hidden" in out


def test_clean_text_keeps_only_the_colours_the_cli_writes():
    import click

    from workbook.cli import clean_text

    ours = click.style("x", bold=True) + click.style("y", fg="red", strikethrough=True)
    assert clean_text(ours, keep_styles=True) == ours
    assert clean_text(ours) == "xy"
    assert clean_text("a\x1b[2Jb\x1b]52;c;ZXZpbA==\x07c\x1b[?25ld", keep_styles=True) == "abcd"
    assert clean_text("line\nnext\ttab\r\x08") == "line\nnext\ttab"


def test_a_tool_name_too_long_for_word_is_refused_with_a_clear_message(store):
    with pytest.raises(WorkbookError, match="at most 200 characters") as info:
        store.create("T" * 256, "Hartmoor", user="u", project_id="long")
    assert info.value.field == "tool_name"
    assert not store.exists("long")


def test_the_longest_names_and_control_characters_still_make_a_word_file(store, tmp_path):
    from docx import Document

    from workbook.export.report import build_report
    from workbook.export.word import write_docx

    wb = store.create("N" * 200, "L" * 200, user="u", project_id="p")
    data = wb.to_data()
    data["answers"]["q1"]["response"] = "bell\x07 and escape\x1b[31m"
    from workbook.model import Workbook

    report = build_report(Workbook.model_validate(data))
    out = tmp_path / "p.docx"
    write_docx(report, out)
    doc = Document(str(out))
    assert doc.core_properties.title.startswith("N" * 200)
    assert any("bell and escape[31m" in p.text for p in doc.paragraphs)


def test_a_4000_digit_revision_is_refused(demo_store):
    path = demo_store.answers_path("demo")
    text = path.read_text()
    data = json.loads(text)
    path.write_text(text.replace(f'"revision": {data["revision"]}', '"revision": ' + "9" * 4000))
    with pytest.raises(WorkbookError, match="revision") as info:
        demo_store.open("demo")
    assert "1000000000" in str(info.value)
    proc = run_cli("status", "demo", workspace=demo_store.root)
    assert "revision" in one_line_error(proc)


# --------------------------------------------------------------------------- exports


def test_markdown_exports_keep_images_only_as_links():
    import mistune

    from workbook.export.sanitise import safe_markdown

    text = (
        "See ![chart](https://tracker.example/pixel.gif) and ![ref][r] "
        "and [![badge](https://t.example/b.svg)](https://x.example)\n\n"
        "[r]: https://tracker.example/other.png\n\n<img src='https://t.example/i.png'>"
    )
    html = mistune.create_markdown()(safe_markdown(text))
    assert "<img" not in html
    assert "https://tracker.example/pixel.gif" in html  # still there, as a link
    assert 'href="https://tracker.example/pixel.gif"' in html


@pytest.mark.parametrize(
    "text",
    [
        "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", " =1+1", "\u200b=1",
        "\ufeff=1", "\uff1dHYPERLINK(\"https://x\")", "\uff0b1", "\u00a0=1", "\u3000=1",
    ],
)  # fmt: skip
def test_csv_guards_every_cell_a_spreadsheet_could_run(text):
    from workbook.review import ActionRow, action_plan_csv

    row = ActionRow("q4", 4, "explore", 0, text, text, None, "open")
    (parsed,) = list(csv.DictReader(io.StringIO(action_plan_csv([row]))))
    assert parsed["action"] == "'" + text
    assert parsed["owner"] == "'" + text


def test_csv_leaves_ordinary_cells_alone():
    from workbook.review import ActionRow, action_plan_csv

    row = ActionRow("q4", 4, "explore", 0, "Finish the DPIA", "Sam", None, "open")
    (parsed,) = list(csv.DictReader(io.StringIO(action_plan_csv([row]))))
    assert (parsed["question"], parsed["action"], parsed["owner"]) == (
        "Q4",
        "Finish the DPIA",
        "Sam",
    )


# --------------------------------------------------------------------------- layering


def test_the_store_imports_nothing_from_review_or_widgets():
    code = (
        "import sys, workbook.store; "
        "bad = sorted(m for m in sys.modules if m.startswith(('workbook.review', 'widgets'))); "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
    source = (Path(__file__).parent.parent / "workbook" / "store.py").read_text()
    imports = [
        line for line in source.splitlines() if line.lstrip().startswith(("import ", "from "))
    ]
    assert not [line for line in imports if "review" in line or "widgets" in line]


def test_the_sign_off_rule_is_passed_in_by_callers(store):
    store.create("T", "L", user="u", project_id="p")
    calls: list[list[str]] = []

    def rule(data: dict[str, Any], paths: list[str]) -> None:
        calls.append(paths)
        raise WorkbookError("refused by the rule")

    wb = store.open("p")
    with pytest.raises(WorkbookError, match="refused by the rule") as info:
        store.apply(
            "p", [Change("answers.q1.response", "", "x")], user="u",
            base_revision=wb.revision, rules=[rule],
        )  # fmt: skip
    assert calls == [["answers.q1.response"]]
    assert info.value.path == store.answers_path("p")
    assert store.open("p").revision == wb.revision
