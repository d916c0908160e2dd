"""Keep tracebacks and the server's file paths out of what the kernel sends to the page.

ipykernel logs some failures with a traceback, for example "Exception opening comm" when a
client sends a malformed ``comm_open``; in a kernel that output can reach the browser as a
``stderr`` stream message, with the server's file paths in it. The kernel's loggers keep
the one-line message and drop the traceback. (The page's own failures are caught and shown
in plain words by :func:`widgets.page._guard`.)

Every page calls :func:`keep_kernel_log_off_the_page` first: importing the package is not
enough, since a kernel forked from the zygote (:mod:`workbook.kernels`) finds ``widgets``
already imported, before there was a kernel to set up.
"""

from __future__ import annotations

import logging


class _NoTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


_FILTER = _NoTraceback()
COMM_LOGGERS = ("ipykernel.comm", "Comm", "ipywidgets", "traitlets")


def keep_kernel_log_off_the_page() -> None:
    """In a kernel, log failures without tracebacks; elsewhere, do nothing."""
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:  # not in a kernel
        return
    if not IPKernelApp.initialized():
        return
    app = IPKernelApp.instance()
    # the kernel's own log, and the comm loggers that log a failed comm_open with exc_info
    # (a logger's filter sees the records logged on it, not those of its children)
    loggers = {app.log, logging.getLogger(), *map(logging.getLogger, COMM_LOGGERS)}
    kernel = getattr(app, "kernel", None)
    if kernel is not None:
        loggers.add(kernel.log)
    for logger in loggers:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in getattr(logger, "handlers", ()):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
