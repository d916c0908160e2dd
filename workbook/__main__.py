"""``python -m workbook`` runs the ``workbook`` command."""

from workbook.cli import main

main()
