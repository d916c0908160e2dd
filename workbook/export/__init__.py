"""Exporting projects as documents: HTML, Markdown, Word, PDF and the action plan CSV.

One data structure, many formats:

- :mod:`~workbook.export.report` builds the report data for a project (plain JSON data);
- :mod:`~workbook.export.kernel` runs ``notebooks/report.ipynb`` in a fresh kernel, which
  builds that data;
- :mod:`~workbook.export.render` renders it with the Jinja2 templates in ``templates/``
  (HTML and Markdown, one partial per section);
- :mod:`~workbook.export.word` writes Word and :mod:`~workbook.export.pdf` prints PDF;
- :mod:`~workbook.export.sanitise` is the one place user markdown is made safe;
- :mod:`~workbook.export.batch` runs all that for many projects in worker processes.

A new section is a data function in ``report.py`` plus a partial in each template folder.
"""

from workbook.export.batch import (
    FORMATS,
    ExportResult,
    ProjectExport,
    export_projects,
    parse_formats,
    write_pack,
)
from workbook.export.kernel import execute_report

__all__ = [
    "FORMATS",
    "ExportResult",
    "ProjectExport",
    "execute_report",
    "export_projects",
    "parse_formats",
    "write_pack",
]
