"""Shared fixtures. Fixtures are small and named after what they hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbook.demo import create_demo
from workbook.store import Store

REPO = Path(__file__).resolve().parent.parent
SEED = Path(__file__).resolve().parent / "data" / "dfe-data-ethics-workbook-2024.txt"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty workspace in a temporary folder."""
    return Store(tmp_path / "workspace")


@pytest.fixture
def demo_store(store: Store) -> Store:
    """A workspace holding the partly filled demo project, id 'demo'."""
    create_demo(store, project_id="demo", user="tester")
    return store


@pytest.fixture
def demo_file(demo_store: Store) -> Path:
    """The demo project's answers file."""
    return demo_store.answers_path("demo")


@pytest.fixture
def no_running_loop() -> None:
    """Headless widget tests save at once, which needs no event loop in this thread (their
    modules use it for every test: ``pytestmark = pytest.mark.usefixtures(...)``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    pytest.fail("an asyncio loop is running in the test thread (a Playwright fixture left open?)")


from tests.hubs import hub  # noqa: E402, F401  (fixture: a real JupyterHub)
from tests.servers import browser, voila_server  # noqa: E402, F401  (fixtures)


@pytest.fixture(autouse=True, scope="module")
def _close_the_pdf_printer():
    """The PDF export keeps one Chromium per process, in a thread of its own. Close it after
    each test module: a later test that forks (the crash tests) must not fork a process
    whose other thread may hold a lock."""
    yield
    import sys

    pdf = sys.modules.get("workbook.export.pdf")
    if pdf is not None:
        pdf.PRINTER.close()
