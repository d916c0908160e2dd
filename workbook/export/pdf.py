"""PDF: the exported HTML printed by the system Chromium (Playwright), offline.

The PDF is tagged (a structure tree for screen readers), has bookmarks made from the
headings, the document's title and language, A4 pages and the protective marking at the
top and bottom of every page, with "Page X of Y" at the bottom.

One Chromium per process, reused: it is started by the first PDF and closed when the
process exits, so an export worker pays for starting it once, not once per project.
Playwright's sync API keeps an asyncio loop running in the thread that opened it, which
would break papermill and nbclient (asyncio too) in that thread; so the browser lives in
a thread of its own (:class:`Printer`) and :func:`html_to_pdf` hands it work through a
queue. A browser that has crashed is started again. Every PDF gets a new page, closed
afterwards (a blank page stays open beside it, which keeps the cost of a new page low);
scripts are off and every request is refused, so a document can load nothing from
another host.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache
from pathlib import Path
from typing import Any

from workbook.errors import WorkbookError

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # a container's /dev/shm is often 64 MB: too small for Chromium
]
PDF_TIMEOUT_S = 120
"""The longest one PDF may take (Playwright's own steps time out sooner, at 60 s)."""
PRINT_VIEWPORT = {"width": 673, "height": 1000}
"""CSS pixels: A4's 210 mm less print.css's 16 mm side margins is 178 mm, 673 px."""
PRINT_CSS = Path(__file__).with_name("templates") / "print.css"
PRINT_CSS_MARKER = "/* workbook print.css */"
"""The first line of ``print.css``: a document that holds it already has the print rules."""


def chromium_path() -> Path:
    """The browser that prints: ``WORKBOOK_CHROMIUM``, else Debian's ``/usr/bin/chromium``."""
    return Path(os.environ.get("WORKBOOK_CHROMIUM") or "/usr/bin/chromium")


@cache
def print_css() -> str:
    return PRINT_CSS.read_text(encoding="utf-8")


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal: anything but letters, digits, space, - and _ escaped."""
    body = "".join(c if c.isalnum() or c in " -_" else f"\\{ord(c):06x}" for c in text)
    return f'"{body}"'


def marking_css(marking: str) -> str:
    """The page boxes: the marking centred at the top and bottom of every page, and
    "Page X of Y" at the bottom right, in dark 10pt type (page margins are in print.css)."""
    m = _css_string(marking)
    box = "font-family: Arial, 'Liberation Sans', Helvetica, sans-serif; color: #0b0c0c;"
    return (
        "@page {"
        f" @top-center {{ content: {m}; {box} font-size: 10pt; font-weight: 700; }}"
        f" @bottom-center {{ content: {m}; {box} font-size: 10pt; font-weight: 700; }}"
        f' @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box}'
        " font-size: 10pt; }"
        " }"
    )


# Runs in the page before printing (the document's own scripts never run).
_PREPARE_JS = r"""
({title, language, css}) => {
  document.title = title;
  if (!document.documentElement.lang) document.documentElement.lang = language;
  const style = document.createElement('style');
  style.textContent = css;
  (document.head || document.documentElement).appendChild(style);
  // Chromium makes each bookmark from the text painted for a heading, and a space that
  // is not painted (where a line wraps, or where a block inside the heading ends) is
  // lost: "Question 3Outline the resources ... requiredto develop". So collapse each
  // heading's white space here, put one space at the end of each line the heading's own
  // markup ends, and keep those spaces (pre-wrap: a space where a line wraps is painted,
  // hanging in the margin, and nothing moves on the page).
  const isBlock = (el) => el.tagName === 'BR' ||
    !getComputedStyle(el).display.startsWith('inline');
  for (const heading of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const state = {last: null, boundary: false};
    const walk = (el) => {
      for (const node of Array.from(el.childNodes)) {
        if (node.nodeType === Node.TEXT_NODE) {
          let text = node.data.replace(/[ \t\n\r\f]+/g, ' ');
          const after = state.last && !state.last.data.endsWith(' ');
          if (state.boundary || !after) text = text.replace(/^ /, '');
          if (text && state.boundary && after) state.last.data += ' ';
          node.data = text;
          if (text) { state.last = node; state.boundary = false; }
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          if (getComputedStyle(node).display === 'none') continue;
          const block = isBlock(node);
          if (block) state.boundary = true;
          walk(node);
          if (block) state.boundary = true;
        }
      }
    };
    walk(heading);
    if (state.last) state.last.data = state.last.data.replace(/ $/, '');
    heading.style.whiteSpace = 'pre-wrap';
  }
  // A table wider than its column (a long address in a cell): let the cells holding a
  // long word break it anywhere, and if that is not enough every cell, so that the table
  // fits the page rather than running off it.
  const tooWide = (table) => table.getBoundingClientRect().width >
    table.parentElement.getBoundingClientRect().width + 0.5;
  for (const table of document.querySelectorAll('table')) {
    if (!tooWide(table)) continue;
    const cells = Array.from(table.querySelectorAll('th, td'));
    for (const cell of cells) {
      if (cell.textContent.split(/\s+/).some((word) => word.length > 24)) {
        cell.style.overflowWrap = 'anywhere';
      }
    }
    if (tooWide(table)) for (const cell of cells) cell.style.overflowWrap = 'anywhere';
  }
}
"""


_WARM = object()
"""The job that only starts the browser (:meth:`Printer.warm`)."""


class Printer:
    """One headless Chromium, driven from a thread of its own, started on first use.

    :meth:`run` hands a function to that thread and waits for its result. The function is
    given a new page (scripts off, every request refused, laid out for print at the width
    of an A4 page's text), which is closed afterwards. While the caller goes on with its
    next project, the thread opens the page the next PDF will use, so opening a page
    (starting a renderer process) is not part of the wait. ``launches`` counts the
    browsers started: a test can see that one browser served many PDFs.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._browser: Any = None
        self._context: Any = None
        self._spare: Any = None
        self.launches = 0

    # ----------------------------------------------------------------- the caller's side

    def submit(self, job: Callable[[Any], Any]) -> Future:
        """Queue ``job`` for the printer's thread; its result (or error) in the future."""
        future: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="pdf-printer")
                self._thread.daemon = True
                self._thread.start()
            self._jobs.put((job, future))
        return future

    def run(self, job: Callable[[Any], Any]) -> Any:
        return wait(self.submit(job))

    def warm(self) -> None:
        """Start the browser now, in the printer's thread, without waiting: an export
        worker asks for this before it runs its first report, so Chromium starts while the
        kernel works. A failure here is reported by the first PDF, not here."""
        self.submit(_WARM)  # type: ignore[arg-type]

    def close(self, timeout: float = 15) -> None:
        """Close the browser and end the thread (at process exit; safe to call twice)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None or not thread.is_alive():
                return
            self._jobs.put(None)
        thread.join(timeout)

    def _forget(self) -> None:
        """In a forked child: the parent's thread and browser are not ours."""
        self.__init__()

    # ----------------------------------------------------------------- the printer's thread

    def _serve(self) -> None:
        playwright = None
        try:
            while True:
                item = self._jobs.get()
                if item is None:
                    return
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if playwright is None:
                        from playwright.sync_api import sync_playwright

                        playwright = sync_playwright().start()
                    if job is _WARM:
                        self._ensure(playwright)
                        future.set_result(None)
                    else:
                        future.set_result(self._attempt(playwright, job))
                except BaseException as exc:  # noqa: BLE001 (handed to the caller)
                    future.set_exception(exc)
                if playwright is not None and self._jobs.empty():
                    self._prepare_spare()
        finally:
            self._shut(playwright)

    def _attempt(self, playwright: Any, job: Callable[[Any], Any]) -> Any:
        """``job(page)`` in a browser that is running; once more in a new browser if the
        browser died during the first try."""
        from playwright.sync_api import Error as PlaywrightError

        for attempt in (1, 2):
            self._ensure(playwright)
            try:
                page = self._take_page()
                try:
                    return job(page)
                finally:
                    page.close()
            except PlaywrightError:
                if attempt == 2 or self._browser.is_connected():
                    raise
                self._drop()
        raise AssertionError("unreachable")

    def _take_page(self) -> Any:
        page, self._spare = self._spare, None
        if page is not None and not page.is_closed():
            return page
        page = self._context.new_page()
        page.emulate_media(media="print")
        return page

    def _prepare_spare(self) -> None:
        try:
            if self._browser is not None and self._browser.is_connected() and self._spare is None:
                self._spare = self._take_page()
        except Exception:  # the next PDF opens its own page (and says what went wrong)
            self._spare = None

    def _ensure(self, playwright: Any) -> None:
        if self._browser is not None and self._browser.is_connected():
            return
        self._drop()
        path = chromium_path()
        try:
            browser = playwright.chromium.launch(
                executable_path=str(path), headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WorkbookError(
                f"Chromium at {path} could not start ({first}); set WORKBOOK_CHROMIUM to a "
                "working Chromium"
            ) from None
        self.launches += 1
        context = browser.new_context(
            java_script_enabled=False, service_workers="block", viewport=PRINT_VIEWPORT
        )
        context.set_default_timeout(60_000)
        context.route("**/*", lambda route: route.abort())  # offline: nothing may load
        # A blank page open for as long as the browser runs. Without one, Chromium tears
        # down and rebuilds what its pages share each time the last page closes: about
        # three times the CPU per PDF (1.35 s against 0.49 s for a 25-page report).
        context.new_page()
        self._browser, self._context = browser, context

    def _drop(self) -> None:
        browser, self._browser, self._context, self._spare = self._browser, None, None, None
        if browser is not None:
            try:
                browser.close()
            except Exception:  # already gone
                pass

    def _shut(self, playwright: Any) -> None:
        self._drop()
        if playwright is not None:
            try:
                playwright.stop()
            except Exception:
                pass


def wait(future: Future) -> Any:
    """The result of a printing job (its error raised), or a WorkbookError after
    PDF_TIMEOUT_S."""
    try:
        return future.result(timeout=PDF_TIMEOUT_S)
    except FutureTimeout:
        raise WorkbookError(f"Chromium did not finish printing within {PDF_TIMEOUT_S} s") from None


PRINTER = Printer()
"""This process's printer (an export worker has its own)."""
atexit.register(PRINTER.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=PRINTER._forget)


def html_to_pdf(
    html_text: str,
    path: Path | str,
    *,
    marking: str,
    title: str,
    language: str = "en-GB",
) -> None:
    """Print ``html_text`` to ``path``: tagged A4 PDF with bookmarks, ``title`` as its
    title, ``language`` where the HTML names none, and ``marking`` (the protective
    marking) at the top and bottom of every page."""
    wait(start_pdf(html_text, path, marking=marking, title=title, language=language))


def start_pdf(
    html_text: str,
    path: Path | str,
    *,
    marking: str,
    title: str,
    language: str = "en-GB",
) -> Future:
    """Like :func:`html_to_pdf`, without waiting: Chromium prints while the caller writes
    its other formats; :func:`wait` on the future before using the file."""
    if not isinstance(marking, str) or not marking.strip():
        raise WorkbookError("a PDF needs a protective marking", field="marking")
    chromium = chromium_path()
    if not chromium.exists():
        raise WorkbookError(
            f"PDF export needs Chromium at {chromium} (apt-get install chromium, or set "
            "WORKBOOK_CHROMIUM to its path)"
        )
    css = marking_css(marking.strip())
    if PRINT_CSS_MARKER not in html_text:
        css = print_css() + "\n" + css
    target = str(Path(path))

    def job(page: Any) -> None:
        page.set_content(html_text, wait_until="load")
        page.evaluate(_PREPARE_JS, {"title": title, "language": language, "css": css})
        page.pdf(
            path=target,
            format="A4",
            prefer_css_page_size=True,
            print_background=True,
            tagged=True,
            outline=True,
        )

    return PRINTER.submit(job)
