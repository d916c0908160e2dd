"""The portfolio dashboard: what it shows for 30 varied projects equals what the files say.

The expected figures are worked out here from the raw JSON files (``json.load``), not with
the code under test; only the out-of-date state of sign-offs is known by construction
(tests/portfolio_data.py edits a phase after signing it and records that it did).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest

from tests.conftest import REPO
from tests.portfolio_data import AUTHORITIES, CORRUPT_ID, XSS_TOOL, make_portfolio
from widgets.portfolio import PortfolioDashboard, portfolio_page
from workbook.bank import load_bank
from workbook.portfolio import STATUS_FILTERS, portfolio_chart_svg, portfolio_rows
from workbook.store import Store

NOTEBOOK = REPO / "notebooks" / "05-portfolio.ipynb"
BANK = load_bank()
PHASES = [p.id for p in BANK.phases]
COUNT = 30
TABLE_MARK = '<table class="ew-pf-table"'


# ---- reading what the page shows


class _Table(HTMLParser):
    """Rows of the dashboard's table: each ``<tr data-project>``'s attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.links: list[str] = []
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-project" in a:
            self._row = {**a, "text": "", "links": []}
            self.rows.append(self._row)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if self._row is not None:
                self._row["links"].append(a["href"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row["text"] += data


def parse_table(markup: str) -> _Table:
    parser = _Table()
    parser.feed(markup)
    return parser


def widget_values(nb: nbformat.NotebookNode) -> list[str]:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [m["state"]["value"] for m in state.values() if isinstance(m["state"].get("value"), str)]


# ---- expected figures, from the raw files


def raw(workspace: Path, project_id: str) -> dict:
    return json.loads((workspace / project_id / "workbook.json").read_text(encoding="utf-8"))


def expected(workspace: Path, project_id: str, stale: set[str], today: date) -> dict:
    data = raw(workspace, project_id)
    out = {
        "local_authority": data["project"]["local_authority"],
        "tool_name": data["project"]["tool_name"],
        "open_challenges": sum(
            t["kind"] == "challenge" and not t["resolved"]
            for t in data["review"]["threads"].values()
        ),
        "overdue": sum(
            a["status"] == "open" and a["due"] is not None and date.fromisoformat(a["due"]) < today
            for ans in data["answers"].values()
            for a in ans["further_work"]
        ),
    }
    # Risks, straight from the file: the remaining rating is the one after mitigation if
    # both halves are rated, else the one before; high means a band of high or very high
    # on the project's own stored scale; closed risks do not count.
    bands = data["risks"]["scale"]["bands"]
    high, reviews = 0, 0
    for r in data["risks"]["items"].values():
        if r["status"] == "closed":
            continue
        rated = r["after"] if r["after"]["likelihood"] and r["after"]["impact"] else r["before"]
        value = rated["likelihood"] * rated["impact"]
        band_id = next(b["id"] for b in bands if b["min"] <= value <= b["max"])
        high += band_id in ("high", "very_high")
        reviews += r["review_by"] is not None and date.fromisoformat(r["review_by"]) < today
    with_risk = {r["category"] for r in data["risks"]["items"].values()}
    reasoned = {c for c, v in data["risks"]["considered"].items() if len(v["reason"].split()) >= 4}
    out["high_risks"] = high
    out["risk_reviews_overdue"] = reviews
    out["uncovered"] = 7 - len(with_risk | reasoned)
    for phase in BANK.phases:
        qs = [data["answers"][q.id] for q in phase.questions]
        items = data["phases"][phase.id]["checklist"].values()
        # Question 4 counts as complete only once every risk category is covered.
        held = {"q4"} if out["uncovered"] else set()
        done = sum(
            data["answers"][q.id]["status"] == "complete" and q.id not in held
            for q in phase.questions
        ) + sum(i["status"] in ("done", "not_applicable") for i in items)
        out[f"progress-{phase.id}"] = round(done / (len(qs) + len(items)) * 100)
        record = data["review"]["signoffs"][phase.id]
        out[f"signoff-{phase.id}"] = (
            "none" if record is None else "out_of_date" if phase.id in stale else "current"
        )
        out[f"decision-{phase.id}"] = record and record["decision"]
    return out


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """30 varied projects (project-00 .. project-29) and a corrupt one."""
    workspace = tmp_path_factory.mktemp("portfolio") / "workspace"
    made = make_portfolio(workspace, COUNT)
    return workspace, made


@pytest.fixture(scope="module")
def expectations(portfolio):
    workspace, made = portfolio
    today = date.today()
    ids = [f"project-{i:02d}" for i in range(COUNT)]
    return {pid: expected(workspace, pid, made.stale.get(pid, set()), today) for pid in ids}


@pytest.fixture(scope="module")
def executed(portfolio, tmp_path_factory):
    """notebooks/05-portfolio.ipynb run by papermill over the workspace."""
    workspace, _ = portfolio
    out = tmp_path_factory.mktemp("executed") / "05-portfolio.ipynb"
    env = {"JUPYTERHUB_USER": None, "QUERY_STRING": None}
    saved = {k: os.environ.pop(k) for k in env if k in os.environ}
    try:
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(out),
            parameters={"workspace": str(workspace)},
            cwd=str(NOTEBOOK.parent),
            kernel_name="python3",
            progress_bar=False,
        )
    finally:
        os.environ.update(saved)
    return nbformat.read(out, as_version=4)


# ---- the generated data is varied enough to mean something


def test_the_generated_portfolio_covers_every_case(expectations, portfolio):
    _, made = portfolio
    e = expectations.values()
    assert len({x["local_authority"] for x in e}) >= 4
    assert sum(x["open_challenges"] > 0 for x in e) >= 3
    assert sum(x["open_challenges"] == 0 for x in e) >= 3
    assert sum(x["overdue"] > 0 for x in e) >= 3
    assert sum(x["overdue"] == 0 for x in e) >= 3
    states = [x[f"signoff-{p}"] for x in e for p in PHASES]
    assert {"none", "current", "out_of_date"} <= set(states)
    progress = [x[f"progress-{p}"] for x in e for p in PHASES]
    assert 0 in progress
    assert 100 in progress
    assert len(set(progress)) >= 8
    assert sum(bool(s) for s in made.stale.values()) >= 3
    assert sum(x["high_risks"] > 0 for x in e) >= 3
    assert sum(x["risk_reviews_overdue"] > 0 for x in e) >= 3
    assert {x["uncovered"] for x in e} >= {0, 7} or len({x["uncovered"] for x in e}) >= 3


# ---- the executed notebook


def test_notebook_is_clean_tiny_and_tagged():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# ")
    assert len([ln for c in code for ln in c.source.splitlines() if ln.strip()]) <= 5
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert tagged[0].source.startswith("workspace = None")
    assert nb.metadata.title.startswith("Portfolio")


def test_executed_dashboard_shows_the_figures_in_the_files(executed, expectations):
    tables = [v for v in widget_values(executed) if TABLE_MARK in v]
    assert len(tables) == 1
    shown = {r["data-project"]: r for r in parse_table(tables[0]).rows}
    assert set(shown) == set(expectations) | {CORRUPT_ID}
    for pid, exp in expectations.items():
        row = shown[pid]
        got = {
            "open_challenges": int(row["data-open-challenges"]),
            "overdue": int(row["data-overdue"]),
            "high_risks": int(row["data-high-risks"]),
            "risk_reviews_overdue": int(row["data-risk-reviews-overdue"]),
            "uncovered": int(row["data-uncovered"]),
            **{f"progress-{p}": int(row[f"data-progress-{p}"]) for p in PHASES},
            **{f"signoff-{p}": row[f"data-signoff-{p}"] for p in PHASES},
        }
        want = {k: v for k, v in exp.items() if k in got}
        assert got == want, pid
        # ... and the same figures are in the row's visible text
        text = " ".join(row["text"].split())
        assert exp["local_authority"] in text
        for p in PHASES:
            assert f"{exp[f'progress-{p}']}%" in text
        if any(exp[f"signoff-{p}"] == "out_of_date" for p in PHASES):
            assert "Out of date" in text, pid
        for p in PHASES:
            if exp[f"signoff-{p}"] == "current" and exp[f"decision-{p}"] == "not_approved":
                assert "Not approved" in text


def test_executed_dashboard_summary_counts(executed, expectations):
    summary = next(v for v in widget_values(executed) if "Showing" in v)
    text = " ".join(HTMLText.of(summary).split())
    assert f"Showing all {COUNT + 1} projects" in text
    with_challenges = sum(e["open_challenges"] > 0 for e in expectations.values())
    challenges = sum(e["open_challenges"] for e in expectations.values())
    assert f"{with_challenges} projects with open challenges ({challenges} challenges)" in text
    overdue = sum(e["overdue"] for e in expectations.values())
    assert f"({overdue} actions)" in text
    assert "1 cannot be read" in text


def test_executed_dashboard_lists_the_corrupt_project_with_its_error(executed, portfolio):
    table = next(v for v in widget_values(executed) if TABLE_MARK in v)
    row = next(r for r in parse_table(table).rows if r["data-project"] == CORRUPT_ID)
    assert row.get("data-error") == "1"
    assert "cannot be read" in row["text"]
    assert "not valid JSON" in row["text"]
    assert f"{CORRUPT_ID}/workbook.json" in row["text"]
    assert str(portfolio[0]) not in table  # no server paths


def test_executed_dashboard_has_no_code_or_traceback(executed):
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    everything = json.dumps(outputs) + "".join(widget_values(executed))
    assert "Traceback" not in everything
    assert "Something went wrong" not in everything


def test_executed_dashboard_escapes_project_text(executed):
    table = next(v for v in widget_values(executed) if TABLE_MARK in v)
    assert "<img" not in table
    assert "<b>" not in table
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Risk &amp; &lt;b&gt;" in table
    row = next(r for r in parse_table(table).rows if r["data-project"] == "project-01")
    assert XSS_TOOL in row["text"]  # shown as the text it is


def test_executed_dashboard_links_every_page_of_each_project(executed):
    table = next(v for v in widget_values(executed) if TABLE_MARK in v)
    row = next(r for r in parse_table(table).rows if r["data-project"] == "project-07")
    pages = {link.split("?")[0] for link in row["links"]}
    assert {"00-start.ipynb", "01-explore.ipynb", "02-develop.ipynb", "03-implement.ipynb"} <= pages
    assert "04-review.ipynb" in pages
    assert all(link.endswith("?project=project-07") for link in row["links"])


def test_executed_dashboard_chart_is_labelled(executed):
    chart = next(v for v in widget_values(executed) if "<svg" in v)
    assert '<title id="ew-portfolio-chart-title">' in chart
    assert "aria-labelledby" in chart
    assert 'role="img"' in chart
    assert "<script" not in chart.lower()
    for phase in BANK.phases:
        assert phase.title in chart


def test_nbval_runs_the_portfolio_notebook(portfolio):
    workspace, _ = portfolio
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace)}
    env.pop("QUERY_STRING", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q"]
        + ["-W", "ignore::DeprecationWarning", str(NOTEBOOK)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout, proc.stdout


# ---- the widget, headless


class HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    @classmethod
    def of(cls, markup: str) -> str:
        p = cls()
        p.feed(markup)
        return "".join(p.parts)


def shown_ids(dashboard: PortfolioDashboard) -> set[str]:
    return {r["data-project"] for r in parse_table(dashboard.table.value).rows}


@pytest.fixture(scope="module")
def dashboard(portfolio):
    workspace, _ = portfolio
    return PortfolioDashboard(Store(workspace))


def test_filters_are_labelled_and_offer_every_authority(dashboard, expectations):
    assert dashboard.authority.description == "Local authority"
    assert dashboard.status.description == "Status"
    authorities = {e["local_authority"] for e in expectations.values()}
    assert [v for _, v in dashboard.authority.options][1:] == sorted(authorities, key=str.casefold)
    assert [v for _, v in dashboard.status.options] == list(STATUS_FILTERS)


@pytest.mark.parametrize("authority", AUTHORITIES[:3])
def test_local_authority_filter(dashboard, expectations, authority):
    dashboard.status.value = "all"
    dashboard.authority.value = authority
    try:
        want = {p for p, e in expectations.items() if e["local_authority"] == authority}
        assert want
        assert shown_ids(dashboard) == want
        assert authority in HTMLText.of(dashboard.summary.value)
    finally:
        dashboard.authority.value = ""


def _fully_signed(e: dict) -> bool:
    return all(
        e[f"signoff-{p}"] == "current" and e[f"decision-{p}"] != "not_approved" for p in PHASES
    )


STATUS_EXPECTED = {
    "all": lambda e: True,
    "open_challenges": lambda e: e["open_challenges"] > 0,
    "overdue": lambda e: e["overdue"] > 0,
    "signoff_out_of_date": lambda e: any(e[f"signoff-{p}"] == "out_of_date" for p in PHASES),
    "not_signed_off": lambda e: not _fully_signed(e),
    "signed_off": _fully_signed,
    "high_risks": lambda e: e["high_risks"] > 0,
    "risk_reviews_overdue": lambda e: e["risk_reviews_overdue"] > 0,
    "uncovered": lambda e: e["uncovered"] > 0,
    "unreadable": lambda e: False,
}


@pytest.mark.parametrize("status", list(STATUS_EXPECTED))
def test_status_filter(dashboard, expectations, status):
    dashboard.authority.value = ""
    dashboard.status.value = status
    try:
        want = {p for p, e in expectations.items() if STATUS_EXPECTED[status](e)}
        if status in ("all", "unreadable"):
            want.add(CORRUPT_ID)
        assert want, status  # every filter has something to show in this portfolio
        assert shown_ids(dashboard) == want
    finally:
        dashboard.status.value = "all"


def test_both_filters_together_and_an_empty_result(dashboard, expectations):
    authority = AUTHORITIES[0]
    dashboard.authority.value = authority
    dashboard.status.value = "overdue"
    try:
        want = {
            p
            for p, e in expectations.items()
            if e["local_authority"] == authority and e["overdue"] > 0
        }
        assert shown_ids(dashboard) == want
        dashboard.status.value = "unreadable"  # a broken project has no known authority
        assert shown_ids(dashboard) == set()
        assert "No projects match these filters" in dashboard.table.value
        assert "No projects to chart" in dashboard.chart.value
    finally:
        dashboard.authority.value = ""
        dashboard.status.value = "all"


def test_links_never_carry_a_user_name(portfolio):
    workspace, _ = portfolio
    board = PortfolioDashboard(Store(workspace))
    links = parse_table(board.table.value).links
    assert links
    assert all("user=" not in link and link.count("project=") == 1 for link in links)


def test_xss_in_a_tool_name_is_escaped_everywhere(tmp_path):
    store = Store(tmp_path / "ws")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    store.create(evil, '<b onmouseover="x()">LA</b>', project_id="evil", user="t")
    board = PortfolioDashboard(store)
    everything = "".join(child.value for child in board.children if hasattr(child, "value"))
    everything += board.summary.value + board.table.value + board.chart.value
    assert "<script>" not in everything
    assert "<img" not in everything
    assert "<b " not in everything
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in board.table.value
    assert [v for _, v in board.authority.options][1] == '<b onmouseover="x()">LA</b>'  # text


def test_refresh_reads_the_files_again(tmp_path):
    store = Store(tmp_path / "ws")
    store.create("First", "Council A", project_id="first", user="t")
    board = PortfolioDashboard(store)
    assert shown_ids(board) == {"first"}
    store.create("Second", "Council B", project_id="second", user="t")
    board.authority.value = "Council A"
    board.refresh_button.click()
    assert shown_ids(board) == {"first"}  # the filter is kept
    board.authority.value = ""
    assert shown_ids(board) == {"first", "second"}


def test_empty_workspace_says_so(tmp_path):
    board = PortfolioDashboard(Store(tmp_path / "empty"))
    assert "no projects in this workbook yet" in board.summary.value
    page = portfolio_page(workspace=tmp_path / "missing")
    assert "No workbook here yet" in page.value


def test_portfolio_page_reads_filters_from_the_url_and_ignores_a_user(portfolio, monkeypatch):
    workspace, _ = portfolio
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv(
        "QUERY_STRING", f"authority={AUTHORITIES[1].replace(' ', '+')}&status=overdue&user=Ana"
    )
    page = portfolio_page(workspace=workspace)
    board = page.children[0]
    assert isinstance(board, PortfolioDashboard)
    assert board.authority.value == AUTHORITIES[1]
    assert board.status.value == "overdue"
    assert not any("user=" in link for link in parse_table(board.table.value).links)
    monkeypatch.setenv("QUERY_STRING", "authority=Nowhere&status=bogus")
    board = portfolio_page(workspace=workspace).children[0]
    assert board.authority.value == ""
    assert board.status.value == "all"


# ---- the pure module


def test_pure_module_does_not_import_widgets_or_matplotlib():
    code = (
        "import sys, workbook.portfolio; "
        "print(sorted(m for m in ('ipywidgets', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "[]"


def test_chart_is_deterministic_and_counts_every_project(portfolio):
    workspace, _ = portfolio
    rows = portfolio_rows(Store(workspace))
    svg = portfolio_chart_svg(rows)
    assert svg == portfolio_chart_svg(rows)
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert f"Progress of {COUNT} projects by phase" in svg
