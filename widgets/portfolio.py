"""The portfolio dashboard: every project in the workspace, for an oversight group.

Read-only. Two filters (local authority, status) narrow the summary, the chart and the
table together. Each table row carries its figures as ``data-`` attributes, so tests read
exactly what is shown. The figures come from :mod:`workbook.portfolio`; this module only
lays them out. All text from projects is escaped.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import ipywidgets as w

from widgets._bind import esc, html_block, plain_kw, stacked_kw
from widgets.identity import identify
from widgets.kernel_log import keep_kernel_log_off_the_page
from widgets.lab import LabPage, in_lab
from widgets.page import _guard, _message
from widgets.phase import PHASE_PAGES, START_PAGE, page_link
from widgets.voila_request import request_params
from workbook.bank import Bank, load_bank
from workbook.portfolio import (
    STATUS_FILTERS,
    PhaseSummary,
    PortfolioRow,
    filter_rows,
    local_authorities,
    portfolio_chart_svg,
    portfolio_rows,
    totals,
)
from workbook.roles import Action, Actor, actor_for, load_roles
from workbook.store import Store

log = logging.getLogger("ethics-workbook")

REVIEW_PAGE = "04-review.ipynb"
PORTFOLIO_PAGE = "05-portfolio.ipynb"
ALL = ""
"""The local authority filter's value for "all" (not None: see widgets.checklist.UNSET)."""

# Scoped to the dashboard; colours are the template's (WCAG 2.2 AA on white).
CSS = """
#rendered_cells > div { max-width: 76rem; }
.ew-pf-wrap { overflow-x: auto; margin: 0.5rem 0 1rem; }
.ew-pf-wrap:focus { outline: 3px solid #ffdd00; box-shadow: 0 0 0 5px #0b0c0c; }
.ew-pf-table { border-collapse: collapse; width: 100%; font-size: 1rem; line-height: 1.35; }
.ew-pf-table caption { text-align: left; font-weight: 700; padding: 0 0 0.5rem; }
.ew-pf-table th, .ew-pf-table td {
  border-bottom: 1px solid #b1b4b6; padding: 0.5rem 0.5rem 0.5rem 0; text-align: left;
  vertical-align: top;
}
.ew-pf-table thead th { border-bottom: 2px solid #0b0c0c; vertical-align: bottom; }
.ew-pf-table tbody th { font-weight: 400; min-width: 14rem; }
.ew-pf-table tbody tr:nth-child(even) { background: #f8f8f8; }
.ew-pf-table .ew-pf-num { text-align: right; padding-right: 1rem; width: 6.5rem; }
.ew-pf-tool { font-weight: 700; }
.ew-pf-meta { display: block; color: #484949; font-size: 0.9rem; }
.ew-pf-phase { min-width: 10rem; }
.ew-pf-phase > a { display: inline-block; min-width: 2.6rem; }
.ew-pf-bar {
  display: inline-block; width: 5rem; height: 0.6rem; border: 1px solid #505a5f;
  background: #fff; margin-left: 0.5rem; vertical-align: middle;
}
.ew-pf-bar > span { display: block; height: 100%; background: #00703c; }
.ew-pf-sig { display: block; font-size: 0.9rem; }
.ew-pf-sig-current { color: #00703c; font-weight: 700; }
.ew-pf-sig-refused { color: #0b0c0c; font-weight: 700; }
.ew-pf-sig-out_of_date { color: #942514; font-weight: 700; }
.ew-pf-sig-none { color: #484949; }
.ew-pf-alert { color: #942514; font-weight: 700; }
.ew-pf-error td { color: #942514; }
.ew-pf-totals { list-style: none; padding: 0; margin: 0.5rem 0 1rem; display: flex;
  flex-wrap: wrap; gap: 0.5rem 1.5rem; }
.ew-pf-totals li { margin: 0; }
.ew-pf-totals strong { font-size: 1.5rem; margin-right: 0.25rem; }
.ew-sr { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
.ew-pf-chart svg { display: block; max-width: 46rem !important; }
.ew-pf-label { display: none; }
.ew-pf-risk { min-width: 12rem; }
.ew-pf-riskline { margin: 0 0 0.3rem; }
.ew-pf-risks { margin: 0.2rem 0 0; padding-left: 1.1rem; }
/* Narrower than the table (tablets upright, phones): each project is a card, its columns
   one under another with their names beside them (WCAG 2.2 1.4.10: no sideways scrolling).
   The explicit ARIA roles keep it a table for screen readers whatever its display. */
@media (max-width: 60rem) {
  .ew-pf-table, .ew-pf-table :is(caption, tbody, tr, th, td) { display: block; }
  .ew-pf-table thead {
    display: block; position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip-path: inset(50%);
  }
  .ew-pf-table thead :is(tr, th) { display: block; }
  .ew-pf-table tbody tr {
    border: 1px solid #b1b4b6; border-left: 5px solid #1d70b8; margin: 0 0 1rem;
    padding: 0.5rem 0.75rem; background: #fff !important;
  }
  .ew-pf-table tbody tr.ew-pf-error { border-left-color: #942514; }
  .ew-pf-table tbody :is(th, td) { border: none; padding: 0.3rem 0; min-width: 0; width: auto; }
  .ew-pf-table tbody th { padding-bottom: 0.5rem; border-bottom: 1px solid #b1b4b6; }
  .ew-pf-table tbody .ew-pf-tool { font-size: 1.1rem; }
  .ew-pf-table tbody td.ew-pf-num { text-align: left; padding-right: 0; width: auto; }
  .ew-pf-label { display: block; font-weight: 700; }
  .ew-pf-num .ew-pf-label { display: inline; }
  .ew-pf-num .ew-pf-label::after { content: ": "; }
  .ew-pf-sig { display: inline-block; margin-left: 0.75rem; }
}
"""


_NUM_LABEL = '<span class="ew-pf-label" aria-hidden="true">%s</span>'
"""A column's name, shown beside its figure when the table is laid out as cards."""


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class PortfolioDashboard(w.VBox):
    """Filters, a summary, a chart and a table of every project in ``store``."""

    def __init__(
        self,
        store: Store,
        *,
        local_authority: str | None = None,
        status: str | None = None,
        today: date | None = None,
        bank: Bank | None = None,
        actor: Actor | None = None,
    ) -> None:
        super().__init__()
        self.add_class("ew-portfolio")
        self.store = store
        self.actor = actor
        self.today = today
        self.bank = bank or load_bank()
        self.rows: list[PortfolioRow] = []

        self.authority = w.Dropdown(
            description="Local authority",
            options=[("All local authorities", ALL)],
            value=ALL,
            **stacked_kw(w.Dropdown, "20em"),
        )
        self.status = w.Dropdown(
            description="Status",
            options=[(label, key) for key, label in STATUS_FILTERS.items()],
            value=status if status in STATUS_FILTERS else "all",
            **stacked_kw(w.Dropdown, "20em"),
        )
        self.refresh_button = w.Button(
            description="Refresh figures",
            tooltip="Read every project again",
            **plain_kw(w.Button),
        )
        self.summary = html_block("", "ew-pf-summary")
        self.chart = html_block("", "ew-pf-chart")
        self.table = html_block("", "ew-pf-table-box")
        self.maturity = html_block("", "ew-pf-maturity")
        self._chart_key: tuple | None = None

        self.refresh(local_authority=local_authority)
        self.authority.observe(lambda _: self._show(), names="value")
        self.status.observe(lambda _: self._show(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())

        filters = w.HBox([self.authority, self.status], **plain_kw(w.HBox, "ew-row", "ew-wrap"))
        start = esc(START_PAGE)
        self.children = [
            html_block(
                f'<style>{CSS}</style><nav class="ew-nav" aria-label="Workbook pages">'
                f'<a href="{start}">Start page</a></nav>'
                "<p>Choose a local authority or a status to narrow the figures, the chart and "
                "the table.</p>"
            ),
            filters,
            self.summary,
            html_block('<h2 class="ew-h2" id="chart">Progress by phase</h2>'),
            self.chart,
            html_block('<h2 class="ew-h2" id="projects">Projects</h2>'),
            self.table,
            html_block(
                '<h2 class="ew-h2" id="maturity">Authorities\' digital ethics maturity</h2>'
            ),
            self.maturity,
            self.refresh_button,
        ]

    # ---- data

    def refresh(self, local_authority: str | None = None) -> None:
        """Read every project again and show the figures for the current filters."""
        chosen = local_authority if local_authority is not None else self.authority.value
        self.rows = portfolio_rows(self.store, today=self.today, actor=self.actor)
        names = local_authorities(self.rows)
        self.authority.options = [("All local authorities", ALL)] + [(n, n) for n in names]
        self.authority.value = chosen if chosen in names else ALL
        self._chart_key = None
        self._show()

    def shown(self) -> list[PortfolioRow]:
        """The rows that pass the current filters."""
        return filter_rows(self.rows, self.authority.value or None, self.status.value)

    def _show(self) -> None:
        rows = self.shown()
        self.summary.value = self._summary_html(rows)
        self.table.value = self._table_html(rows)
        self.maturity.value = self._maturity_html()
        key = tuple(r.project_id for r in rows)
        if key != self._chart_key:
            self._chart_key = key
            self.chart.value = self._chart_html(rows)

    # ---- views

    def _maturity_html(self) -> str:
        from widgets.maturity import maturity_table_html
        from workbook.errors import WorkbookError
        from workbook.store import AssessmentStore

        try:
            return maturity_table_html(
                AssessmentStore(self.store.root),
                only=self.authority.value or None,
                today=self.today,
            )
        except WorkbookError as exc:
            return (
                '<p class="ew-error">The maturity self-assessments cannot be read: '
                f"{esc(str(exc))}</p>"
            )

    def _scope(self) -> str:
        parts = []
        if self.authority.value:
            parts.append(self.authority.value)
        if self.status.value != "all":
            parts.append(STATUS_FILTERS[self.status.value].lower())
        return f" ({'; '.join(parts)})" if parts else ""

    def _summary_html(self, rows: list[PortfolioRow]) -> str:
        t = totals(rows)
        every = len(self.rows)
        if every == 0:
            return (
                '<p role="status">There are no projects in this workbook yet. Create one on the '
                f'<a href="{esc(START_PAGE)}">start page</a>.</p>'
            )
        shown = (
            f"all {_plural(every, 'project')}"
            if len(rows) == every
            else f"{_plural(len(rows), 'project')} of {every}"
        )
        items = [
            f"<li><strong>{t.with_open_challenges}</strong> "
            f"{'project' if t.with_open_challenges == 1 else 'projects'} with open challenges "
            f"({_plural(t.open_challenges, 'challenge')})</li>",
            f"<li><strong>{t.with_overdue}</strong> "
            f"{'project' if t.with_overdue == 1 else 'projects'} with overdue actions "
            f"({_plural(t.overdue_actions, 'action')})</li>",
            f"<li><strong>{t.with_out_of_date}</strong> "
            f"{'project' if t.with_out_of_date == 1 else 'projects'} with a sign-off out of "
            f"date ({_plural(t.out_of_date_signoffs, 'phase')})</li>",
            f"<li><strong>{t.with_high_risks}</strong> "
            f"{'project' if t.with_high_risks == 1 else 'projects'} with high remaining risks "
            f"({_plural(t.high_risks, 'risk')})</li>",
            f"<li><strong>{t.with_uncovered}</strong> "
            f"{'project' if t.with_uncovered == 1 else 'projects'} with risk categories not "
            "considered</li>",
            f"<li><strong>{t.with_personal_data}</strong> "
            f"{'project' if t.with_personal_data == 1 else 'projects'} with personal data to "
            "check</li>",
            f"<li><strong>{t.fully_signed_off}</strong> fully signed off</li>",
        ]
        if t.unreadable:
            items.append(
                f'<li class="ew-pf-alert"><strong>{t.unreadable}</strong> cannot be read</li>'
            )
        return (
            f'<p role="status"><strong>Showing {shown}</strong>{esc(self._scope())}.</p>'
            f'<ul class="ew-pf-totals" aria-label="Totals for the projects shown">'
            f"{''.join(items)}</ul>"
        )

    def _chart_html(self, rows: list[PortfolioRow]) -> str:
        if not any(r.readable for r in rows):
            return '<p class="ew-hint">No projects to chart for these filters.</p>'
        try:
            svg = portfolio_chart_svg(rows, self.bank)
        except Exception:  # a chart is not worth losing the page over: say so, log it
            log.exception("portfolio chart failed")
            return (
                '<p class="ew-hint">The chart could not be drawn; the table below has the '
                "figures.</p>"
            )
        return (
            f'{svg}<p class="ew-hint">Each bar counts the projects at each stage of that phase. '
            "Signed off: a current sign-off that approves (with or without conditions).</p>"
        )

    def _link(self, page: str, project_id: str) -> str:
        return esc(page_link(page, project_id))

    def _phase_cell(self, row: PortfolioRow, p: PhaseSummary) -> str:
        link = self._link(PHASE_PAGES[p.phase_id], row.project_id)
        if p.signoff == "none":
            sig, cls = "Not signed off", "none"
        elif p.signoff == "out_of_date":
            sig, cls = "\u26a0 Out of date", "out_of_date"
        elif p.decision == "not_approved":
            sig, cls = "\u2717 Not approved", "refused"
        else:
            sig, cls = f"\u2713 {p.decision_label}", "current"
        return (
            f'<td role="cell" class="ew-pf-phase" data-stage="{esc(p.stage)}">'
            f'<span class="ew-pf-label" aria-hidden="true">{esc(p.title)}</span>'
            f'<a href="{link}">{p.percent}%<span class="ew-sr"> of the {esc(p.title)} done'
            f"</span></a>"
            f'<span class="ew-pf-bar" aria-hidden="true"><span style="width:{p.percent}%">'
            f"</span></span>"
            f'<span class="ew-pf-sig ew-pf-sig-{cls}" title="{esc(p.signoff_summary)}">'
            f"{esc(sig)}</span>"
            + (
                f'<span class="ew-sr">: {esc(p.signoff_summary)}</span>'
                if p.signoff == "out_of_date"
                else ""
            )
            + "</td>"
        )

    def _row_html(self, row: PortfolioRow) -> str:
        if not row.readable:
            cols = 3 + len(self.bank.phases)
            return (
                f'<tr role="row" class="ew-pf-error" data-project="{esc(row.project_id)}" '
                'data-error="1">'
                f'<th role="rowheader" scope="row"><span class="ew-pf-tool">'
                f"{esc(row.project_id)}</span>"
                f'<span class="ew-pf-meta">Cannot be read</span></th>'
                f'<td role="cell" colspan="{cols}"><span class="ew-pf-alert">'
                "This project cannot be read:"
                f"</span> {esc(row.error or '')}</td></tr>"
            )
        attrs = {
            "data-project": row.project_id,
            "data-open-challenges": row.open_challenges,
            "data-overdue": row.overdue_count,
            "data-high-risks": len(row.high_risks),
            "data-risk-reviews-overdue": row.risk_reviews_overdue,
            "data-uncovered": len(row.uncovered),
            "data-atrs-filled": row.atrs_filled,
            "data-atrs-required": row.atrs_required,
            "data-personal-data": row.personal_data,
        }
        for p in row.phases:
            attrs[f"data-progress-{p.phase_id}"] = p.percent
            attrs[f"data-signoff-{p.phase_id}"] = p.signoff
        attr_text = " ".join(f'{k}="{esc(str(v))}"' for k, v in attrs.items())
        review = self._link(REVIEW_PAGE, row.project_id)
        challenges = (
            f'<a href="{review}" class="ew-pf-alert">{row.open_challenges}'
            f'<span class="ew-sr"> open challenges: review</span></a>'
            if row.open_challenges
            else "0"
        )
        overdue = (
            f'<a href="{review}" class="ew-pf-alert">{row.overdue_count}'
            f'<span class="ew-sr"> overdue actions: review</span></a>'
            if row.overdue_count
            else "0"
        )
        start = self._link(START_PAGE, row.project_id)
        return (
            f'<tr role="row" {attr_text}>'
            f'<th role="rowheader" scope="row"><a class="ew-pf-tool" href="{start}">'
            f"{esc(row.tool_name)}</a>"
            f'<span class="ew-pf-meta">{esc(row.local_authority)}</span>'
            f'<span class="ew-pf-meta"><a href="{review}">Review and sign-off'
            f'<span class="ew-sr"> for {esc(row.tool_name)}</span></a></span>'
            f'<span class="ew-pf-meta">Transparency record: {row.atrs_filled} of '
            f"{row.atrs_required} required fields</span>{self._personal_data(row, start)}</th>"
            + "".join(self._phase_cell(row, p) for p in row.phases)
            + f'<td role="cell" class="ew-pf-num">{_NUM_LABEL % "Open challenges"}'
            f"{challenges}</td>"
            f'<td role="cell" class="ew-pf-num">{_NUM_LABEL % "Overdue actions"}{overdue}</td>'
            f"{self._risk_cell(row)}</tr>"
        )

    def _personal_data(self, row: PortfolioRow, start: str) -> str:
        """A warning in words (not colour alone) when the project has text that looks like
        personal data which nobody has dismissed: it will not export until then."""
        if not row.personal_data:
            return ""
        return (
            f'<span class="ew-pf-meta ew-pf-alert">\u26a0 <a href="{start}">Personal data to '
            f"check</a>: {_plural(row.personal_data, 'warning')} not dismissed</span>"
        )

    def _risk_cell(self, row: PortfolioRow) -> str:
        """The highest remaining risks (high and very high), risk reviews overdue and the
        categories nobody has considered yet."""
        parts = []
        high = row.high_risks
        if high:
            items = "".join(
                f"<li><strong>{esc(r.band)}</strong> ({r.score}): {esc(r.title)}</li>"
                for r in high[:3]
            )
            more = f"<li>and {len(high) - 3} more</li>" if len(high) > 3 else ""
            parts.append(
                f'<span class="ew-pf-alert">{esc(_plural(len(high), "high remaining risk"))}'
                f'</span><ul class="ew-pf-risks">{items}{more}</ul>'
            )
        elif row.risks:
            top = row.risks[0]
            parts.append(
                f"No high remaining risks (highest: {esc(top.band.lower() or 'not rated')})"
            )
        else:
            parts.append("No risks recorded")
        if row.risk_reviews_overdue:
            parts.append(
                f'<span class="ew-pf-alert">'
                f"{esc(_plural(row.risk_reviews_overdue, 'risk review'))} overdue</span>"
            )
        if row.uncovered:
            n = len(row.uncovered)
            named = (
                "; ".join(row.uncovered) if n <= 2 else f"{n} of the 7 risk categories"
            )  # names hold commas ("Displacement, skills and work"), so never a comma list
            parts.append(f'<span class="ew-pf-alert">Not considered:</span> {esc(named)}')
        return (
            f'<td role="cell" class="ew-pf-risk">{_NUM_LABEL % "Risks"}'
            + "".join(f'<div class="ew-pf-riskline">{p}</div>' for p in parts)
            + "</td>"
        )

    def _table_html(self, rows: list[PortfolioRow]) -> str:
        if not self.rows:
            return ""
        head = "".join(
            f'<th role="columnheader" scope="col">{esc(p.title)}'
            '<span class="ew-pf-meta">done, sign-off</span></th>'
            for p in self.bank.phases
        )
        if rows:
            body = "".join(self._row_html(r) for r in rows)
        else:
            body = (
                f'<tr role="row"><td role="cell" colspan="{4 + len(self.bank.phases)}">'
                "No projects match these filters. "
                "Choose \u201cAll local authorities\u201d and \u201cAll projects\u201d to see "
                "every project.</td></tr>"
            )
        return (
            '<div class="ew-pf-wrap" role="region" aria-labelledby="projects" tabindex="0">'
            '<table class="ew-pf-table" role="table">'
            f"<caption>{esc(_plural(len(rows), 'project'))}{esc(self._scope())}</caption>"
            '<thead role="rowgroup"><tr role="row">'
            f'<th role="columnheader" scope="col">Project</th>{head}'
            '<th role="columnheader" scope="col" class="ew-pf-num">Open challenges</th>'
            '<th role="columnheader" scope="col" class="ew-pf-num">Overdue actions</th>'
            '<th role="columnheader" scope="col">Risks</th></tr>'
            f'</thead><tbody role="rowgroup">{body}</tbody></table></div>'
        )


def portfolio_page(workspace: str | Path | None = None) -> w.Widget:
    """The portfolio dashboard. Read-only, so no name is asked for (links never carry one).
    ``?authority=`` and ``?status=`` choose the filters."""
    keep_kernel_log_off_the_page()
    params = request_params()

    def build() -> w.Widget:
        store = Store(workspace)
        who = identify()
        if who.refused:
            return _message("We could not confirm who you are", who.refused, START_PAGE)
        actor = actor_for(who.name, source=who.source, groups=who.groups,
                          roles=load_roles(store.root))  # fmt: skip
        actor.require(Action.read)
        if not store.root.is_dir():
            return _message(
                "No workbook here yet",
                "This workbook has no projects yet. Create one on the start page.",
                START_PAGE,
            )
        page = w.VBox(
            [
                PortfolioDashboard(
                    store,
                    local_authority=params.get("authority"),
                    status=params.get("status"),
                    actor=actor,
                )
            ]
        )
        page.add_class("ew-page")
        return page

    if in_lab():  # the app's styles, and links that open the project's notebooks
        return LabPage(
            lambda _pid, _name: _guard(build, START_PAGE), uses_project=False, uses_name=False
        )
    return _guard(build, START_PAGE)
