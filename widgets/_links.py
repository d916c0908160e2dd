"""The app's pages and links between them (kept apart so every widget module can link)."""

from __future__ import annotations

from urllib.parse import urlencode

PHASE_PAGES = {
    "explore": "01-explore.ipynb",
    "develop": "02-develop.ipynb",
    "implement": "03-implement.ipynb",
}
START_PAGE = "00-start.ipynb"
REVIEW_PAGE = "04-review.ipynb"
PORTFOLIO_PAGE = "05-portfolio.ipynb"
MATURITY_PAGE = "06-maturity.ipynb"
TRANSPARENCY_PAGE = "07-transparency.ipynb"


def page_link(page: str, project_id: str) -> str:
    """A relative link to another page of the app, for the same project.

    Links never carry who the user is: a link can be forwarded, and whoever opens it must
    not write under the sender's name (see :mod:`widgets.identity`).
    """
    return f"{page}?{urlencode({'project': project_id})}"


def anchor_id(target: str) -> str:
    """The HTML id of a comment target's comments (``q7`` -> ``comments-q7``)."""
    return "comments-" + target.replace(".", "-").replace("_", "-")
