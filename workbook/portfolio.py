"""The portfolio: every project in a workspace at a glance, for an oversight group.

Pure functions over :meth:`workbook.store.Store.list`: per-phase progress, sign-off state
(including sign-offs made out of date by later edits), open challenges and overdue
further-work actions, personal-data warnings nobody has dismissed, with filters and
totals. :func:`portfolio_chart_svg` draws the phases' progress across projects with
matplotlib, imported only when a chart is drawn.

A project that cannot be read is a row with its error and no figures; it never stops the
rest of the portfolio from being shown.
"""

from __future__ import annotations

import copy
import html
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from workbook import risks
from workbook.bank import Bank, load_bank
from workbook.model import QuestionStatus, WorkbookBase
from workbook.progress import PhaseProgress, project_progress
from workbook.review import ActionRow, open_challenges, overdue_actions, signoff_state
from workbook.roles import Actor
from workbook.store import ProjectEntry, Store

Stage = Literal["not_started", "in_progress", "complete", "signed_off"]
STAGE_LABELS: dict[str, str] = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "complete": "Complete (not signed off)",
    "signed_off": "Signed off",
}
"""Where a phase stands, in chart order. ``signed_off``: a current sign-off that approves."""

SignOffStatus = Literal["none", "current", "out_of_date"]

STATUS_FILTERS: dict[str, str] = {
    "all": "All projects",
    "open_challenges": "Has open challenges",
    "overdue": "Has overdue actions",
    "signoff_out_of_date": "Has a sign-off out of date",
    "high_risks": "Has high remaining risks",
    "risk_reviews_overdue": "Has risk reviews overdue",
    "uncovered": "Has risk categories not considered",
    "not_signed_off": "Not fully signed off",
    "signed_off": "Fully signed off",
    "personal_data": "Has personal data to check",
    "unreadable": "Cannot be read",
}
"""The status filter's values and labels, in menu order."""


@dataclass(frozen=True)
class PhaseSummary:
    """One phase of one project, as the portfolio shows it."""

    phase_id: str
    title: str
    percent: int  # round(PhaseProgress.fraction * 100)
    complete: int
    questions: int
    checklist_done: int
    checklist_total: int
    stage: Stage
    signoff: SignOffStatus
    decision: str | None  # Decision value of the latest sign-off, if any
    decision_label: str
    signoff_summary: str
    open_challenges: int

    @property
    def approved(self) -> bool:
        """A current sign-off that approves (with or without conditions)."""
        return self.signoff == "current" and self.decision in {
            "approved",
            "approved_with_conditions",
        }


HIGH_BANDS = frozenset({"high", "very_high"})
"""Bands of remaining risk the portfolio calls out."""


@dataclass(frozen=True)
class RiskSummary:
    """A risk as the portfolio shows it: its remaining (after mitigation, else before)
    score and band."""

    id: str
    title: str
    score: int | None
    band_id: str
    band: str
    status: str


@dataclass(frozen=True)
class PortfolioRow:
    """One project: its figures, or why it could not be read."""

    project_id: str
    tool_name: str = ""
    local_authority: str = ""
    owner: str = ""
    oversight_group: str = ""
    revision: int = 0
    phases: tuple[PhaseSummary, ...] = ()
    open_challenges: int = 0
    overdue: tuple[ActionRow, ...] = ()
    actions_open: int = 0
    risks: tuple[RiskSummary, ...] = ()  # not closed, highest remaining score first
    risk_reviews_overdue: int = 0
    uncovered: tuple[str, ...] = ()  # names of the categories not yet considered
    atrs_filled: int = 0  # required fields of the draft transparency record (ATRS) filled
    atrs_required: int = 0
    personal_data: int = 0  # personal-data warnings nobody has dismissed
    error: str | None = None

    @property
    def high_risks(self) -> tuple[RiskSummary, ...]:
        return tuple(r for r in self.risks if r.band_id in HIGH_BANDS)

    @property
    def readable(self) -> bool:
        return self.error is None

    @property
    def overdue_count(self) -> int:
        return len(self.overdue)

    @property
    def out_of_date(self) -> tuple[str, ...]:
        """Ids of phases whose sign-off no longer matches their content."""
        return tuple(p.phase_id for p in self.phases if p.signoff == "out_of_date")

    @property
    def approved_phases(self) -> int:
        return sum(p.approved for p in self.phases)

    @property
    def fully_signed_off(self) -> bool:
        return self.readable and bool(self.phases) and all(p.approved for p in self.phases)

    def phase(self, phase_id: str) -> PhaseSummary:
        for p in self.phases:
            if p.phase_id == phase_id:
                return p
        raise KeyError(phase_id)

    def matches(self, status: str) -> bool:
        """Whether the row passes the status filter ``status`` (a key of STATUS_FILTERS)."""
        if status == "all":
            return True
        if status == "unreadable":
            return not self.readable
        if not self.readable:
            return False
        if status == "open_challenges":
            return self.open_challenges > 0
        if status == "overdue":
            return self.overdue_count > 0
        if status == "signoff_out_of_date":
            return bool(self.out_of_date)
        if status == "high_risks":
            return bool(self.high_risks)
        if status == "risk_reviews_overdue":
            return self.risk_reviews_overdue > 0
        if status == "uncovered":
            return bool(self.uncovered)
        if status == "personal_data":
            return self.personal_data > 0
        if status == "not_signed_off":
            return not self.fully_signed_off
        if status == "signed_off":
            return self.fully_signed_off
        raise ValueError(
            f"unknown status filter {status!r}; use one of {', '.join(STATUS_FILTERS)}"
        )


def _stage(progress: PhaseProgress, approved: bool) -> Stage:
    if approved:
        return "signed_off"
    if progress.fraction >= 1:
        return "complete"
    started = (
        progress.answered
        or progress.checklist_assessed
        or progress.prompts_noted
        or any(q.status is not QuestionStatus.not_started for q in progress.questions)
    )
    return "in_progress" if started else "not_started"


def project_row(
    workbook: WorkbookBase, *, today: date, bank: Bank, case_patterns: Sequence[str] = ()
) -> PortfolioRow:
    """The portfolio row of one readable project (``case_patterns``: the workspace's local
    case-reference patterns, for the personal-data check)."""
    phases = []
    for progress in project_progress(workbook, bank):
        state = signoff_state(workbook, progress.phase_id)
        decision = state.record.decision.value if state.record else None
        summary = PhaseSummary(
            phase_id=progress.phase_id,
            title=progress.title,
            percent=round(progress.fraction * 100),
            complete=progress.complete,
            questions=progress.questions_total,
            checklist_done=progress.checklist_done,
            checklist_total=progress.checklist_total,
            stage="not_started",
            signoff=state.status,
            decision=decision,
            decision_label=state.decision_label,
            signoff_summary=state.summary,
            open_challenges=len(open_challenges(workbook, progress.phase_id, bank)),
        )
        phases.append(replace(summary, stage=_stage(progress, summary.approved)))
    info = workbook.project
    actions_open = sum(
        a.status == "open" for q in bank.questions for a in workbook.answer(q.id).further_work
    )
    register = workbook.risks  # type: ignore[attr-defined]
    risk_list = []
    reviews_overdue = 0
    for r in risks.risk_rows(register, today=today):
        if r.status == "closed":
            continue
        reviews_overdue += r.review_overdue
        remaining = r.after if r.after is not None else r.before
        b = risks.band(register.scale, remaining)
        risk_list.append(
            RiskSummary(r.id, r.title, remaining, b.id if b else "", b.label if b else "", r.status)
        )
    risk_list.sort(key=lambda x: (x.score is None, -(x.score or 0)))
    from workbook.atrs import readiness

    filled, required = readiness(workbook)
    from workbook.personal_data_review import open_findings

    return PortfolioRow(
        project_id=info.id,
        tool_name=info.tool_name,
        local_authority=info.local_authority,
        owner=info.owner,
        oversight_group=info.oversight_group,
        revision=workbook.revision,
        phases=tuple(phases),
        open_challenges=sum(p.open_challenges for p in phases),
        overdue=tuple(overdue_actions(workbook, today=today)),
        actions_open=actions_open,
        risks=tuple(risk_list),
        risk_reviews_overdue=reviews_overdue,
        uncovered=tuple(c.name for c in risks.uncovered(register)),
        atrs_filled=filled,
        atrs_required=required,
        personal_data=len(open_findings(workbook, case_patterns)),
    )


def portfolio_rows(
    store: Store, today: date | None = None, *, actor: Actor | None = None
) -> list[PortfolioRow]:
    """A row per project in the workspace, readable ones sorted by tool name, then the
    projects that cannot be read (each with its error). With ``actor``, only the projects
    they are a member of (an admin's: all, including those that cannot be read). A bad
    ``settings.yaml`` raises :class:`~workbook.settings.SettingsError`."""
    from workbook.personal_data_review import case_patterns_for

    bank = load_bank()
    today = today or date.today()
    patterns = case_patterns_for(store.root)
    rows, broken = [], []
    for entry in store.list():
        if entry.workbook is None:
            if actor is None or actor.is_member(()):
                broken.append(PortfolioRow(project_id=entry.id, error=_error_text(entry, store)))
        elif actor is None or actor.is_member(entry.workbook.project.members):
            rows.append(project_row(entry.workbook, today=today, bank=bank, case_patterns=patterns))
    rows.sort(key=lambda r: (r.tool_name.casefold(), r.local_authority.casefold(), r.project_id))
    return rows + broken


def _error_text(entry: ProjectEntry, store: Store) -> str:
    """The error, naming the file inside the workspace rather than by its full path."""
    exc = entry.error
    if exc is None:
        return "cannot be read"
    if exc.path is not None and exc.path.is_relative_to(store.root):
        exc = copy.copy(exc)
        exc.path = exc.path.relative_to(store.root)
    return str(exc)


def local_authorities(rows: list[PortfolioRow]) -> list[str]:
    """The local authorities of the readable projects, sorted, each once."""
    return sorted({r.local_authority for r in rows if r.readable}, key=str.casefold)


def filter_rows(
    rows: list[PortfolioRow], local_authority: str | None = None, status: str | None = None
) -> list[PortfolioRow]:
    """The rows of one local authority (None: all) that pass the status filter (None: all).

    A project that cannot be read has no known local authority, so it is shown only when
    no local authority is chosen.
    """
    status = status or "all"
    if status not in STATUS_FILTERS:
        raise ValueError(
            f"unknown status filter {status!r}; use one of {', '.join(STATUS_FILTERS)}"
        )
    out = []
    for r in rows:
        if local_authority and (not r.readable or r.local_authority != local_authority):
            continue
        if r.matches(status):
            out.append(r)
    return out


@dataclass(frozen=True)
class Totals:
    projects: int
    unreadable: int
    open_challenges: int
    with_open_challenges: int
    overdue_actions: int
    with_overdue: int
    out_of_date_signoffs: int
    with_out_of_date: int
    fully_signed_off: int
    high_risks: int = 0
    with_high_risks: int = 0
    risk_reviews_overdue: int = 0
    with_uncovered: int = 0
    with_personal_data: int = 0

    @property
    def readable(self) -> int:
        return self.projects - self.unreadable


def totals(rows: list[PortfolioRow]) -> Totals:
    ok = [r for r in rows if r.readable]
    return Totals(
        projects=len(rows),
        unreadable=len(rows) - len(ok),
        open_challenges=sum(r.open_challenges for r in ok),
        with_open_challenges=sum(r.open_challenges > 0 for r in ok),
        overdue_actions=sum(r.overdue_count for r in ok),
        with_overdue=sum(r.overdue_count > 0 for r in ok),
        out_of_date_signoffs=sum(len(r.out_of_date) for r in ok),
        with_out_of_date=sum(bool(r.out_of_date) for r in ok),
        fully_signed_off=sum(r.fully_signed_off for r in ok),
        high_risks=sum(len(r.high_risks) for r in ok),
        with_high_risks=sum(bool(r.high_risks) for r in ok),
        risk_reviews_overdue=sum(r.risk_reviews_overdue for r in ok),
        with_uncovered=sum(bool(r.uncovered) for r in ok),
        with_personal_data=sum(r.personal_data > 0 for r in ok),
    )


def stage_counts(rows: list[PortfolioRow], bank: Bank | None = None) -> dict[str, Counter[str]]:
    """For each phase id, how many readable projects are at each stage."""
    bank = bank or load_bank()
    counts: dict[str, Counter[str]] = {p.id: Counter() for p in bank.phases}
    for r in rows:
        for p in r.phases:
            counts[p.phase_id][p.stage] += 1
    return counts


# --------------------------------------------------------------------------- chart

# GOV.UK palette. Each fill has its count written on it in a colour with at least 4.5:1
# contrast, and every segment has a dark outline, so no stage is told by colour alone.
STAGE_COLOURS: dict[str, tuple[str, str]] = {
    "not_started": ("#f3f2f1", "#0b0c0c"),
    "in_progress": ("#5694ca", "#0b0c0c"),
    "complete": ("#1d70b8", "#ffffff"),
    "signed_off": ("#00703c", "#ffffff"),
}
_HATCHES = {"not_started": "", "in_progress": "//", "complete": "", "signed_off": ""}


def chart_description(rows: list[PortfolioRow], bank: Bank | None = None) -> str:
    """The chart in words, for its ``<title>`` (and anyone who cannot see it)."""
    bank = bank or load_bank()
    counts = stage_counts(rows, bank)
    readable = sum(r.readable for r in rows)
    parts = []
    for phase in bank.phases:
        c = counts[phase.id]
        parts.append(
            f"{phase.title}: "
            + ", ".join(f"{c[s]} {STAGE_LABELS[s].lower()}" for s in STAGE_LABELS)
        )
    return f"Progress of {readable} project{'s' if readable != 1 else ''} by phase. " + (
        "; ".join(parts) + "."
    )


def portfolio_chart_svg(rows: list[PortfolioRow], bank: Bank | None = None) -> str:
    """A stacked horizontal bar per phase: how many projects are not started, in progress,
    complete (not signed off) and signed off. Inline SVG text, no scripts."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bank = bank or load_bank()
    counts = stage_counts(rows, bank)
    phases = list(bank.phases)
    readable = sum(r.readable for r in rows)
    rc = {
        "svg.fonttype": "none",  # text stays text: selectable, scales, and the page font
        "svg.hashsalt": "ethics-workbook",  # stable ids, so the same data gives the same SVG
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"],
        "font.size": 12,
        "text.color": "#0b0c0c",
        "axes.labelcolor": "#0b0c0c",
        "xtick.color": "#0b0c0c",
        "ytick.color": "#0b0c0c",
        "axes.edgecolor": "#0b0c0c",
        "hatch.color": "#0b0c0c",
        "hatch.linewidth": 0.6,
    }
    with matplotlib.rc_context(rc):
        # A bare Figure on the Agg canvas: no pyplot, so no global figure or GUI backend.
        fig = Figure(figsize=(8.5, 0.6 * len(phases) + 1.2), dpi=96)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        y = list(range(len(phases)))[::-1]
        left = [0] * len(phases)
        for stage, label in STAGE_LABELS.items():
            widths = [counts[p.id][stage] for p in phases]
            fill, ink = STAGE_COLOURS[stage]
            bars = ax.barh(
                y,
                widths,
                left=left,
                height=0.6,
                color=fill,
                edgecolor="#0b0c0c",
                linewidth=0.8,
                hatch=_HATCHES[stage],
                label=label,
            )
            for bar, n in zip(bars, widths, strict=True):
                if n:
                    ax.text(
                        bar.get_x() + bar.get_width() / 2,
                        bar.get_y() + bar.get_height() / 2,
                        str(n),
                        ha="center",
                        va="center",
                        color=ink,
                        fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.15", "fc": fill, "ec": "none"}
                        if stage == "in_progress"
                        else None,
                    )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(y, [p.title for p in phases])
        ax.set_xlim(0, max(readable, 1))
        ax.set_xlabel("Number of projects")
        ax.xaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=len(STAGE_LABELS),
            frameon=False,
            handlelength=1.5,
            columnspacing=1.2,
        )
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _accessible_svg(buf.getvalue(), chart_description(rows, bank))


def _accessible_svg(svg: str, description: str) -> str:
    """Drop the XML prolog, size the chart to its container, and give it a name."""
    svg = svg[svg.index("<svg") :]
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = head.replace(
        "<svg",
        '<svg role="img" aria-labelledby="ew-portfolio-chart-title" class="ew-chart" '
        'style="width:100%;max-width:52rem;height:auto"',
        1,
    )
    title = f'<title id="ew-portfolio-chart-title">{html.escape(description)}</title>'
    return head + title + svg[head_end:]
