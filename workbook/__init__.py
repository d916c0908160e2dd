"""ethics-workbook: the DfE Data Ethics Workbook as a guided Jupyter and Voilà workbook.

The core (question bank, answers model, storage, export, CLI). It never imports ipywidgets.
"""

__version__ = "0.1.0"
