"""The ``workbook`` command. Thin: each command parses its arguments and calls the library.

Errors the library raises on purpose (:class:`WorkbookError`) are printed as one line
starting ``Error:`` with exit code 1; they never show a traceback.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

import click

from workbook import __version__
from workbook.errors import WorkbookError


def current_user() -> str:
    """Who is making changes: ``$JUPYTERHUB_USER``, else the login name."""
    name = os.environ.get("JUPYTERHUB_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class _Group(click.Group):
    """Turns library errors into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WorkbookError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


def _store(ctx: click.Context) -> Any:
    from workbook.store import Store

    return Store(ctx.obj["workspace"])


workspace_option = click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Workspace folder holding the projects (default: $WORKBOOK_WORKSPACE, else ./workspace).",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@workspace_option
@click.version_option(__version__, prog_name="ethics-workbook")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """Fill in the DfE Data Ethics Workbook for a children's social care analytics tool.

    Each project is one tool's workbook, kept as JSON in a workspace folder.
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace


@cli.command()
@click.argument("tool_name")
@click.option("--authority", "local_authority", required=True, help="The local authority.")
@click.option("--id", "project_id", default=None, help="Project id (default: made from the name).")
@click.option("--owner", default="", help="Who owns the workbook.")
@click.option("--oversight-group", default="", help="The group that reviews and signs it off.")
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.pass_context
def new(
    ctx: click.Context,
    tool_name: str,
    local_authority: str,
    project_id: str | None,
    owner: str,
    oversight_group: str,
    user: str | None,
) -> None:
    """Create a project for the tool TOOL_NAME."""
    store = _store(ctx)
    wb = store.create(
        tool_name,
        local_authority,
        project_id=project_id,
        owner=owner,
        oversight_group=oversight_group,
        user=user or current_user(),
    )
    click.echo(f"Created project {wb.project.id!r} in {store.root / wb.project.id}")


@cli.command(name="list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the projects in the workspace."""
    from workbook.progress import project_progress

    store = _store(ctx)
    entries = store.list()
    if not entries:
        click.echo(
            f"No projects in {store.root}. Create one with: workbook new NAME --authority LA"
        )
        return
    rows = [("PROJECT", "TOOL", "LOCAL AUTHORITY", "REV", "COMPLETE")]
    for entry in entries:
        if entry.workbook is None:
            rows.append((entry.id, f"unreadable: {entry.error}", "", "", ""))
            continue
        wb = entry.workbook
        phases = project_progress(wb)
        done = sum(p.complete for p in phases)
        total = sum(p.questions_total for p in phases)
        rows.append(
            (
                wb.project.id,
                wb.project.tool_name,
                wb.project.local_authority,
                str(wb.revision),
                f"{done}/{total}",
            )
        )
    click.echo(_table(rows))


@cli.command()
@click.argument("project")
@click.pass_context
def status(ctx: click.Context, project: str) -> None:
    """Show PROJECT's progress, phase by phase."""
    from workbook.bank import load_bank
    from workbook.progress import project_progress

    wb = _store(ctx).open(project)
    bank = load_bank(wb.edition)
    info = wb.project
    click.echo(
        click.style(f"{info.tool_name}", bold=True) + f"  ({info.id}, revision {wb.revision})"
    )
    click.echo(f"{info.local_authority}" + (f" · owner: {info.owner}" if info.owner else ""))
    click.echo("")
    rows = [
        ("PHASE", "COMPLETE", "ANSWERED", "FURTHER WORK", "PROMPT NOTES", "CHECKLIST", "PROGRESS")
    ]
    phases = project_progress(wb, bank)
    for p in phases:
        rows.append(
            (
                p.title,
                f"{p.complete}/{p.questions_total}",
                f"{p.answered}/{p.questions_total}",
                str(p.further_work),
                f"{p.prompts_noted}/{p.prompts_total}",
                f"{p.checklist_done}/{p.checklist_total}",
                _bar(p.fraction),
            )
        )
    click.echo(_table(rows))
    click.echo("")
    for phase, p in zip(bank.phases, phases, strict=True):
        click.echo(click.style(phase.title, bold=True))
        for q, qp in zip(phase.questions, p.questions, strict=True):
            label = qp.status.label
            if qp.status.value == "not_started" and qp.answered:
                label = "Answered, status not set"
            click.echo(f"  {q.number:>2}. {label:<26} {_clip(q.text, 60)}")


@cli.command()
@click.argument("target")
@click.pass_context
def validate(ctx: click.Context, target: str) -> None:
    """Check an answers file, or a project by id. Exit code 1 if it is invalid."""
    from workbook.store import ANSWERS_FILE, read_file

    path = Path(target)
    if path.is_dir():
        path = path / ANSWERS_FILE
    if path.is_file():
        wb = read_file(path)
    else:
        store = _store(ctx)
        wb = store.open(target)
        path = store.answers_path(target)
    click.echo(
        f"OK: {path} is a valid answers file (project {wb.project.id!r}, revision {wb.revision})"
    )


@cli.command()
@click.option(
    "--id", "project_id", default="demo", show_default=True, help="Id of the demo project."
)
@click.pass_context
def demo(ctx: click.Context, project_id: str) -> None:
    """Create a partly filled demo project (leaves an existing one untouched)."""
    from workbook.demo import create_demo

    store = _store(ctx)
    if store.exists(project_id):
        click.echo(f"Demo project {project_id!r} already exists in {store.root}; left as it is.")
        return
    wb = create_demo(store, project_id=project_id, user=current_user())
    click.echo(f"Created demo project {wb.project.id!r} ({wb.project.tool_name}) in {store.root}")


@cli.command()
@click.option("--port", default=8866, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--token",
    envvar="WORKBOOK_TOKEN",
    default=None,
    help="Require this token (needed to listen on anything but 127.0.0.1). Env: WORKBOOK_TOKEN.",
)
@click.option("--project", default="demo", show_default=True, help="Project the start link opens.")
@click.option(
    "--notebooks",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of notebooks to serve (default: the repository's notebooks/).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    port: int,
    host: str,
    token: str | None,
    project: str,
    notebooks: Path | None,
) -> None:
    """Serve the workbook app with Voilà (no code, no tracebacks)."""
    from workbook.serve import voila_command

    cmd, env, cwd, url = voila_command(
        workspace=ctx.obj["workspace"],
        port=port,
        host=host,
        token=token,
        project=project,
        notebooks=notebooks,
    )
    click.echo(f"Serving the workbook for {host}:{port}. Open this address in your browser:")
    click.echo(f"\n    {url}\n")
    click.echo("Press Ctrl+C to stop.", err=True)
    sys.stdout.flush()
    os.chdir(cwd)
    os.execve(cmd[0], cmd, env)


@cli.command()
@click.argument("projects", nargs=-1)
@click.option("--all", "all_projects", is_flag=True, help="Export every project in the workspace.")
@click.option(
    "--to",
    "formats",
    default="html",
    show_default=True,
    help="Comma-separated formats: html, pdf, docx, md.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Folder for the documents.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Projects exported at once (default: number of cores).",
)
@click.option("--overwrite", is_flag=True, help="Replace documents that already exist.")
@click.option("--keep-notebook", is_flag=True, help="Keep each executed report notebook too.")
@click.option("--pack", is_flag=True, help="Also write <out>/index.html listing every project.")
@click.pass_context
def export(
    ctx: click.Context,
    projects: tuple[str, ...],
    all_projects: bool,
    formats: str,
    out: Path,
    jobs: int | None,
    overwrite: bool,
    keep_notebook: bool,
    pack: bool,
) -> None:
    """Export PROJECTS (or --all) as documents for an oversight group."""
    from workbook.export import export_projects, parse_formats

    if bool(projects) == all_projects:
        raise click.UsageError("name one or more projects, or pass --all (not both)")
    parse_formats(formats)  # fail fast, before any work
    result = export_projects(
        list(projects) if projects else None,
        workspace=ctx.obj["workspace"],
        formats=formats,
        out=out,
        jobs=jobs,
        overwrite=overwrite,
        keep_notebook=keep_notebook,
        pack=pack,
        progress=sys.stderr.isatty(),
    )
    for item in result.projects:
        if item.ok:
            click.echo(f"{item.project}: " + ", ".join(f.name for f in item.files))
        else:
            click.echo(f"{item.project}: FAILED: {item.error}", err=True)
    if result.index:
        click.echo(f"Oversight pack: {result.index}")
    done = len(result.projects) - len(result.failed)
    click.echo(f"Exported {done} of {len(result.projects)} projects to {out}")
    if result.failed:
        ctx.exit(1)


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 if the committed schema file is out of date.")
@click.option("--write", is_flag=True, help="Rewrite workbook/schema/answers.schema.json.")
def schema(check: bool, write: bool) -> None:
    """Print the JSON Schema of answers files (or check or rewrite the committed copy)."""
    from workbook.model import json_schema_text

    text = json_schema_text()
    committed = Path(__file__).parent / "schema" / "answers.schema.json"
    if write:
        committed.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {committed}")
    elif check:
        if not committed.is_file() or committed.read_text(encoding="utf-8") != text:
            raise click.ClickException(
                f"{committed} is out of date; run `workbook schema --write` and commit it"
            )
        click.echo(f"OK: {committed} is up to date")
    else:
        click.echo(text, nl=False)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines[0] = click.style(lines[0], bold=True)
    return "\n".join(lines)


def _bar(fraction: float, width: int = 10) -> str:
    filled = round(fraction * width)
    return "#" * filled + "-" * (width - filled) + f" {fraction:4.0%}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="workbook", obj={})


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
