"""The ``workbook`` command. Thin: each command parses its arguments and calls the library.

Errors the library raises on purpose (:class:`WorkbookError`) are printed as one line
starting ``Error:`` with exit code 1; they never show a traceback.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from workbook import __version__
from workbook.errors import WorkbookError

HISTORY_LIMIT = 200
"""Changes `workbook history` shows unless told otherwise (`--all`, `--limit N`)."""


def current_user() -> str:
    """Who is making changes: ``$JUPYTERHUB_USER``, else the login name."""
    name = os.environ.get("JUPYTERHUB_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# The colour codes click.style writes for this command; every other escape sequence and
# control character is removed from what the command prints (a project name, an answer
# or a file name could hold one, and a terminal would obey it).
_OUR_STYLES = re.compile(r"\x1b\[(?:0|1|4|9|31|32)m")
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI (cursor moves, erase, colours)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (window title, clipboard, links)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
# Control characters (Unicode category Cc) but newline and tab, and the bidirectional
# controls that can make a terminal show text in another order than it is stored.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, *, keep_styles: bool = False) -> str:
    """``text`` without terminal escape sequences or control characters (newlines and
    tabs are kept; with ``keep_styles``, so are the colour codes this command writes)."""
    pieces = []
    pos = 0
    for match in _ESCAPES.finditer(text):
        pieces.append(_strip_controls(text[pos : match.start()]))
        if keep_styles and _OUR_STYLES.fullmatch(match.group()):
            pieces.append(match.group())
        pos = match.end()
    pieces.append(_strip_controls(text[pos:]))
    return "".join(pieces)


def _strip_controls(text: str) -> str:
    return _CONTROLS.sub("", text)


def echo(message: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for anything that may hold stored text: escapes and controls removed."""
    click.echo(clean_text(str(message), keep_styles=True), err=err, nl=nl)


class _Group(click.Group):
    """Turns library errors into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WorkbookError as exc:
            raise click.ClickException(_one_line(clean_text(str(exc)), 2000)) from None
        except click.ClickException as exc:
            exc.message = clean_text(exc.message)
            raise
        except BrokenPipeError:
            raise  # output piped into `head` and the like: click exits quietly
        except OSError as exc:  # a file the command was pointed at could not be used
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(clean_text(f"{where}{exc.strerror or exc}")) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


def _store(ctx: click.Context) -> Any:
    from workbook.store import Store

    return Store(ctx.obj["workspace"], on_problem=lambda msg: echo(f"Warning: {msg}", err=True))


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
    echo(f"Created project {wb.project.id!r} in {store.root / wb.project.id}")


@cli.command(name="list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the projects in the workspace."""
    from workbook.progress import project_progress

    store = _store(ctx)
    entries = store.list()
    if not entries:
        echo(f"No projects in {store.root}. Create one with: workbook new NAME --authority LA")
        return
    rows = [("PROJECT", "TOOL", "LOCAL AUTHORITY", "REV", "COMPLETE")]
    for entry in entries:
        if entry.workbook is None:
            rows.append((entry.id, _cell(f"unreadable: {entry.error}", 200), "", "", ""))
            continue
        wb = entry.workbook
        phases = project_progress(wb)
        done = sum(p.complete for p in phases)
        total = sum(p.questions_total for p in phases)
        rows.append(
            (
                wb.project.id,
                _cell(wb.project.tool_name),
                _cell(wb.project.local_authority),
                str(wb.revision),
                f"{done}/{total}",
            )
        )
    echo(_table(rows))


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
    echo(
        click.style(_cell(info.tool_name, 200), bold=True)
        + f"  ({info.id}, revision {wb.revision})"
    )
    echo(
        _cell(info.local_authority, 200) + (f" · owner: {_cell(info.owner)}" if info.owner else "")
    )
    echo("")
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
    echo(_table(rows))
    echo("")
    for phase, p in zip(bank.phases, phases, strict=True):
        echo(click.style(phase.title, bold=True))
        for q, qp in zip(phase.questions, p.questions, strict=True):
            label = qp.status.label
            if qp.status.value == "not_started" and qp.answered:
                label = "Answered, status not set"
            echo(f"  {q.number:>2}. {label:<26} {_clip(q.text, 60)}")
    _echo_review(wb, bank)


def _echo_review(wb: Any, bank: Any) -> None:
    """Sign-off and open challenges per phase, and overdue actions, under `status`."""
    from workbook import review

    echo("")
    echo(click.style("Oversight review", bold=True))
    for phase in bank.phases:
        state = review.signoff_state(wb, phase.id)
        line = state.summary
        if state.status == "out_of_date":
            line = click.style(line, fg="red")
        challenges = len(review.open_challenges(wb, phase.id, bank))
        more = (
            f"; {challenges} open challenge{'s' if challenges != 1 else ''}" if challenges else ""
        )
        echo(f"  {phase.title}: {line}{more}")
    overdue = review.overdue_actions(wb)
    if overdue:
        echo(
            f"  {len(overdue)} further-work action{'s are' if len(overdue) > 1 else ' is'} "
            f"overdue: see `workbook actions {wb.project.id} --overdue`"
        )


@cli.command()
@click.argument("target")
@click.pass_context
def validate(ctx: click.Context, target: str) -> None:
    """Check an answers file, or a project by id. Exit code 1 if it is invalid."""
    from workbook.store import ANSWERS_FILE, read_file

    path = Path(target)
    if path.is_dir():
        path = path / ANSWERS_FILE
    if path.is_file() or os.path.lexists(path):  # a FIFO or device is refused, not read
        wb = read_file(path)
    else:
        store = _store(ctx)
        wb = store.open(target)
        path = store.answers_path(target)
    echo(f"OK: {path} is a valid answers file (project {wb.project.id!r}, revision {wb.revision})")


@cli.command()
@click.option(
    "--id", "project_id", default="demo", show_default=True, help="Id of the demo project."
)
@click.pass_context
def demo(ctx: click.Context, project_id: str) -> None:
    """Create a partly filled demo project and a demo authority's maturity self-assessment
    (leaves existing ones untouched)."""
    from workbook.demo import attach_demo_evidence, create_demo, create_demo_maturity

    store = _store(ctx)
    if store.exists(project_id):
        echo(f"Demo project {project_id!r} already exists in {store.root}; left as it is.")
    else:
        wb = create_demo(store, project_id=project_id, user=current_user())
        echo(f"Created demo project {wb.project.id!r} ({wb.project.tool_name}) in {store.root}")
        attached = attach_demo_evidence(store, project_id, user=current_user())
        if attached:
            from workbook.export.evidence import run_evidence

            echo("Running its evidence notebooks (" + ", ".join(attached) + ")...")
            runs = run_evidence(store, project_id, ran_by=current_user())
            for found in runs.values():
                for run in found:
                    echo(f"  {_evidence_line(run)}")
    assessments = _assessments(ctx)
    if assessments.list():
        return  # an authority's assessment is there already: leave it
    a = create_demo_maturity(assessments, user=current_user())
    echo(
        f"Created the maturity self-assessment of {a.authority.name} ({a.authority.id!r}), "
        f"{len(a.round_numbers)} rounds"
    )


@cli.command()
@click.argument("project")
@click.option("--add", "added", multiple=True, metavar="NAME", help="Add a member (repeatable).")
@click.option(
    "--remove", "removed", multiple=True, metavar="NAME", help="Remove a member (repeatable)."
)
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.pass_context
def members(
    ctx: click.Context,
    project: str,
    added: tuple[str, ...],
    removed: tuple[str, ...],
    user: str | None,
) -> None:
    """Show or change who may open PROJECT (login names) once roles are on.

    Roles come from roles.yaml in the workspace (groups and users mapped to viewer,
    author, reviewer, admin); admins open every project, everyone else only the projects
    they are a member of.
    """
    from workbook.members import clean_members, set_members

    store = _store(ctx)
    wb = store.open(project)
    if added or removed:
        gone = set(clean_members(removed))
        new = [m for m in clean_members([*wb.project.members, *added]) if m not in gone]
        wb = set_members(store, project, new, user=user or current_user())
    names = list(wb.project.members)
    echo(
        f"{len(names)} member{'s' if len(names) != 1 else ''} of {project}"
        + (": " + ", ".join(names) if names else " (only admins can open it once roles are on)")
    )


@cli.command()
@click.argument("project")
@click.argument(
    "marking",
    required=False,
    type=click.Choice(["OFFICIAL", "OFFICIAL-SENSITIVE", "workspace"], case_sensitive=False),
)
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.pass_context
def marking(ctx: click.Context, project: str, marking: str | None, user: str | None) -> None:
    """Show or set the protective marking on PROJECT's documents.

    MARKING is OFFICIAL or OFFICIAL-SENSITIVE, or "workspace" to use the workspace's
    (settings.yaml in the workspace: `marking: OFFICIAL-SENSITIVE`; default OFFICIAL).
    """
    from workbook.settings import load_settings, set_marking

    store = _store(ctx)
    wb = store.open(project)
    workspace_marking = load_settings(store.root).marking  # a bad settings.yaml: stop first
    if marking is not None:
        own = "" if marking.lower() == "workspace" else marking.upper()
        wb = set_marking(store, project, own, user=user or current_user())
    shown = wb.project.marking or workspace_marking
    source = "its own" if wb.project.marking else "the workspace's"
    echo(f"{project}'s documents are marked {shown} ({source} marking)")


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8866,
    show_default=True,
    help="Port to listen on (it must be free).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--token",
    envvar="WORKBOOK_TOKEN",
    default=None,
    help="Access token (16+ characters). Without it one is generated and printed in the "
    "address; needed to listen on anything but loopback. Env: WORKBOOK_TOKEN.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name people use to reach the server (repeatable; needed with any --host "
    "but loopback). Requests to other names are refused.",
)
@click.option("--project", default="demo", show_default=True, help="Project the start link opens.")
@click.option(
    "--trust-user-header",
    default=None,
    metavar="NAME",
    help="Take each person's login name from this request header (e.g. X-Forwarded-User), "
    "set by an authenticating reverse proxy in front of the server. Only when every request "
    "comes through that proxy and it removes the header from what browsers send.",
)
@click.option(
    "--notebooks",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of notebooks to serve (default: the repository's notebooks/).",
)
@click.option(
    "--hub-service",
    is_flag=True,
    help="Run as a JupyterHub managed service: one server for the whole team, behind the "
    "hub's login (address, path and login come from the hub; see "
    "deploy/jupyterhub/jupyterhub_config.py, WORKBOOK_HUB_MODE=service).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    port: int,
    host: str,
    token: str | None,
    allow_hosts: tuple[str, ...],
    project: str,
    trust_user_header: str | None,
    notebooks: Path | None,
    hub_service: bool,
) -> None:
    """Serve the workbook app with Voilà (no code, no tracebacks).

    Prints the address to open (with the access token) once the port is ours; a port
    that is taken is an error."""
    from workbook.serve import voila_command

    if hub_service:
        given = [
            f"--{name}"
            for name in ("port", "host")
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise WorkbookError(
                f"--hub-service takes no {' or '.join(given)}: the service listens where the "
                'hub\'s configuration says (its "url")'
            )
    cmd, env, cwd, _url = voila_command(
        workspace=ctx.obj["workspace"],
        port=port,
        host=host,
        token=token,
        project=project,
        notebooks=notebooks,
        allow_hosts=allow_hosts,
        trust_user_header=trust_user_header,
        hub_service=hub_service,
    )
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
    help="Comma-separated formats: html, pdf, docx, md, csv (the action plan and risk register).",
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
@click.option("--changes", is_flag=True, help="Add each phase's changes since its last sign-off.")
@click.option(
    "--with-code", is_flag=True, help="Show the code of evidence notebooks, not only their outputs."
)
@click.option(
    "--no-evidence",
    is_flag=True,
    help="Do not run evidence notebooks (the documents then show none of their outputs).",
)
@click.option(
    "--evidence-timeout",
    type=click.IntRange(min=1, max=3600),
    default=None,
    metavar="SECONDS",
    help="How long one cell of an evidence notebook may run (default: 120).",
)
@click.option(
    "--allow-personal-data",
    is_flag=True,
    help="Export even a project with personal-data warnings nobody has dismissed "
    "(`workbook scan` lists them).",
)
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
    changes: bool,
    with_code: bool,
    no_evidence: bool,
    evidence_timeout: int | None,
    allow_personal_data: bool,
) -> None:
    """Export PROJECTS (or --all) as documents for an oversight group.

    Each project's evidence notebooks are run again first, as you, each in a fresh kernel
    in its own folder; their tables, figures and text appear under their questions with
    when and how they ran. A notebook that fails is shown as failed; the export goes on.

    A project with text that looks like personal data, which nobody has dismissed, is not
    exported (the others are), unless --allow-personal-data is given.
    """
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
        changes=changes,
        evidence=not no_evidence,
        with_code=with_code,
        ran_by=current_user(),
        evidence_timeout=evidence_timeout,
        allow_personal_data=allow_personal_data,
    )
    for item in result.projects:
        if item.ok:
            echo(f"{item.project}: " + ", ".join(f.name for f in item.files))
            if item.personal_data:
                n = item.personal_data
                echo(
                    f"{item.project}: exported with {n} personal-data warning"
                    f"{'s' if n != 1 else ''} not dismissed (--allow-personal-data; "
                    f"`workbook scan {item.project}` lists them)",
                    err=True,
                )
        else:
            echo(f"{item.project}: FAILED: {item.error}", err=True)
        for run in item.evidence:
            if run["status"] != "passed":
                echo(f"{item.project}: evidence {_evidence_line(run)}", err=True)
    if result.index:
        echo(f"Oversight pack: {result.index}")
    done = len(result.projects) - len(result.failed)
    echo(f"Exported {done} of {len(result.projects)} projects to {out}")
    if result.failed:
        ctx.exit(1)


@cli.command()
@click.argument("project")
@click.option(
    "--since-signoff",
    "since_signoff",
    metavar="PHASE",
    default=None,
    help="Only what changed in PHASE since its last sign-off (explore, develop, implement).",
)
@click.option(
    "--since",
    "since",
    type=click.IntRange(min=0, max=1_000_000_000),
    metavar="REVISION",
    default=None,
    help="Only what changed after REVISION, one line per field.",
)
@click.option("--phase", default=None, help="Only one phase (explore, develop, implement).")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1_000_000),
    default=HISTORY_LIMIT,
    show_default=True,
    help="Without --since/--since-signoff: show only the latest N changes.",
)
@click.option("--all", "show_all", is_flag=True, help="Show every change (no --limit).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def history(
    ctx: click.Context,
    project: str,
    since_signoff: str | None,
    since: int | None,
    phase: str | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """Show what changed in PROJECT, by whom and when, with a word-level diff of answers.

    The history file is read from its end, so the latest changes show at once however
    long the history is.
    """
    import json

    from workbook import review

    if since_signoff is not None and since is not None:
        raise click.ClickException(
            "--since-signoff and --since cannot be used together; choose one"
        )
    for value in (since_signoff, phase):
        _check_phase(value)
    if since_signoff and phase and phase != since_signoff:
        raise click.ClickException(
            f"--phase {phase} does not match --since-signoff {since_signoff}; drop --phase"
        )
    store = _store(ctx)
    wb = store.open(project)
    if since_signoff is not None:
        state = review.signoff_state(wb, since_signoff)
        if state.record is None:
            raise click.ClickException(
                f"the {since_signoff} phase of {project!r} has never been signed off, so there "
                "is no sign-off to compare with; use --since REVISION or leave both out"
            )
        since, phase = state.record.revision, since_signoff
        heading = f"Changes to the {since_signoff} phase since its sign-off: {state.summary}"
    elif since is not None:
        if since > wb.revision:
            raise click.ClickException(
                f"revision {since} does not exist; {project!r} is at revision {wb.revision}"
            )
        heading = f"Changes since revision {since} (now revision {wb.revision})"
    else:
        heading = None

    color = _color()
    if heading is None:  # the log, revision by revision
        wanted = None if show_all else limit + 1
        entries = review.history_entries(
            store, project, phase_id=phase, limit=wanted, evidence=True
        )
        more = wanted is not None and len(entries) > limit
        if more:
            entries = entries[1:]
        if as_json:
            echo(json.dumps([_entry_json(e) for e in entries], indent=2, ensure_ascii=False))
            return
        if not entries:
            echo("No changes recorded" + (f" in the {phase} phase." if phase else "."))
            return
        if more:
            echo(
                f"Showing the latest {limit} changes, oldest first; --all shows every change, "
                "--limit N the latest N."
            )
        last = None
        threads = {v.id: v.target_label for v in review.threads(wb)}
        for e in entries:
            line = _describe_entry(e, color, threads)
            if line is None:
                continue
            if e["revision"] != last:
                last = e["revision"]
                when = review.format_time(e.get("time"))
                who = e["user"] + (f" ({e['role']})" if e.get("role") else "")
                echo(click.style(f"Revision {last}", bold=True) + f"  {when}  {who}")
            echo(_indent(line, "  "))
        return

    changes = review.changes_since(store, project, since, phase_id=phase)
    if as_json:
        payload = {
            "project": project,
            "since_revision": since,
            "revision": wb.revision,
            "phase": phase,
            "changes": [_change_json(c) for c in changes],
        }
        echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    echo(click.style(heading, bold=True))
    if not changes:
        echo("No changes to answers or checklists.")
        return
    for c in changes:
        who = ", ".join(c.users)
        revs = ", ".join(str(r) for r in c.revisions)
        echo("")
        echo(click.style(c.label, bold=True))
        echo(f"  by {who}, last {review.format_time(c.time)} (revision {revs})")
        echo(_indent(_diff_text(c.path, c.old, c.new, color)))


def _check_phase(value: str | None) -> None:
    from workbook.bank import PHASE_IDS

    if value is not None and value not in PHASE_IDS:
        raise click.ClickException(f"unknown phase {value!r}; phases are {', '.join(PHASE_IDS)}")


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _diff_text(path: str, old: Any, new: Any, color: bool) -> str:
    """Free text as a word diff (``[-removed-]{+added+}``); other fields as old -> new."""
    try:
        return _diff_text_of(path, old, new, color)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        import json  # values without the field's shape (a hand-edited history line)

        before = json.dumps(old, ensure_ascii=False)[:500]
        after = json.dumps(new, ensure_ascii=False)[:500]
        return f"{before} -> {after}"


def _diff_text_of(path: str, old: Any, new: Any, color: bool) -> str:
    from workbook import review

    if review.FieldChange(path, "", old, new, (), (), "").is_text:
        pieces = []
        ops = review.word_diff(old, new)
        for i, (op, text) in enumerate(ops):
            if op == "equal":
                pieces.append(_context(text, first=i == 0, last=i == len(ops) - 1))
            elif op == "delete":
                pieces.append(
                    click.style(f"[-{text}-]", fg="red", strikethrough=True)
                    if color
                    else f"[-{text}-]"
                )
            else:
                pieces.append(
                    click.style(f"{{+{text}+}}", fg="green", underline=True)
                    if color
                    else f"{{+{text}+}}"
                )
        return "".join(pieces) or "(empty)"
    before, after = review.format_value(path, old), review.format_value(path, new)
    if color:
        before = click.style(before, fg="red", strikethrough=True)
        after = click.style(after, fg="green", underline=True)
    return f"{before} -> {after}"


def _context(text: str, *, first: bool, last: bool, keep: int = 12) -> str:
    """Unchanged text between changes, shortened to a few words either side."""
    words = text.split(" ")
    head = [] if first else words[:keep]
    tail = [] if last else words[-keep:]
    if len(words) <= len(head) + len(tail) + 3:
        return text
    return " ".join(head) + (" " if head else "") + "…" + (" " if tail else "") + " ".join(tail)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines() or [""])


def _describe_entry(e: dict[str, Any], color: bool, threads: dict[str, str]) -> str | None:
    """One history line in words (None for a detail already said by another line)."""
    try:
        return _describe(e, color, threads)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        # A hand-edited line whose values do not have the shape of the field: say what
        # is there rather than stopping the whole listing.
        import json

        old = json.dumps(e.get("old"), ensure_ascii=False)[:200]
        new = json.dumps(e.get("new"), ensure_ascii=False)[:200]
        return f"{e.get('path', '')}: {old} -> {new}"


def _describe(e: dict[str, Any], color: bool, threads: dict[str, str]) -> str | None:
    from workbook import review
    from workbook.bank import load_bank

    path, old, new = e.get("path", ""), e.get("old"), e.get("new")
    parts = path.split(".")
    if e.get("outcome") == "created":
        return "Created the project"
    if e.get("outcome") == "evidence" and len(parts) >= 3:
        q = load_bank().question(parts[1])
        file = ".".join(parts[2:])
        file = f"data/{file[5:]}" if file.startswith("data.") else file
        done = "added" if old is None else "removed" if new is None else "changed"
        return f"Question {q.number}: evidence {file} {done}"
    if parts[:2] == ["review", "threads"] and len(parts) >= 3:
        if len(parts) == 3 and isinstance(new, dict):
            where = review.target_label(new.get("target", ""))
            kind = str(new.get("kind", "comment")).capitalize()
            return f"{kind} on {where}: {_one_line(new.get('text', ''))}"
        on = threads.get(parts[2], parts[2])
        if len(parts) == 5 and parts[3] == "replies" and isinstance(new, dict):
            return f"Reply on {on}: {_one_line(new.get('text', ''))}"
        if parts[3:] == ["resolved"]:
            return f"{'Resolved' if new else 'Reopened'} a thread on {on}"
        if parts[3:] in (["resolved_by"], ["resolved_at"]):
            return None
        return f"Thread on {on}: {parts[-1].replace('_', ' ')}"
    if parts[:2] == ["personal_data", "dismissed"] and isinstance(new, dict):
        from workbook.personal_data_review import dismissal_text

        return dismissal_text(new)
    if parts[:2] == ["review", "signoffs"] and len(parts) == 3:
        title = load_bank().phase(parts[2]).title
        if not isinstance(new, dict):
            return f"Sign-off of the {title} removed"
        label = review.decision_words(new["decision"], new.get("incomplete_questions"))
        role = f" ({new['role']})" if new.get("role") else ""
        cond = f"; conditions: {_one_line(new['conditions'])}" if new.get("conditions") else ""
        return (
            f"Sign-off of the {title}: {label} by {new['reviewer']}{role}, "
            f"revision {new['revision']}{cond}"
        )
    label = load_bank().field_label(path)
    body = _diff_text(path, old, new, color)
    if "\n" in body:
        return f"{label}:\n{_indent(body, '  ')}"
    return f"{label}: {body}"


def _one_line(text: str, width: int = 100) -> str:
    return _clip(" ".join(str(text).split()), width)


def _entry_json(e: dict[str, Any]) -> dict[str, Any]:
    from workbook.bank import load_bank

    keys = ("revision", "time", "user", "role", "path", "old", "new", "outcome")
    return {**{k: e.get(k) for k in keys}, "label": load_bank().field_label(e.get("path", ""))}


def _change_json(c: Any) -> dict[str, Any]:
    from workbook import review

    return {
        "path": c.path,
        "label": c.label,
        "old": c.old,
        "new": c.new,
        "users": list(c.users),
        "revisions": list(c.revisions),
        "time": c.time,
        "diff": review.word_diff_text(c.old, c.new)
        if c.is_text
        else f"{review.format_value(c.path, c.old)} -> {review.format_value(c.path, c.new)}",
    }


@cli.command()
@click.argument("project")
@click.argument("field_path", metavar="FIELD")
@click.option(
    "--revision",
    type=click.IntRange(min=1, max=1_000_000_000),
    required=True,
    help="Put back the value it had then.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.pass_context
def restore(
    ctx: click.Context, project: str, field_path: str, revision: int, yes: bool, user: str | None
) -> None:
    """Put FIELD of PROJECT back to its value at a revision (saved as a new revision).

    FIELD is a dotted path such as answers.q4.response, q4.response or
    phases.explore.checklist.data_maturity.status (see `workbook history --json`).
    """
    from workbook import review
    from workbook.bank import load_bank
    from workbook.store import get_path

    path = _field_path(field_path)
    parts = path.split(".")
    if parts[0] not in {"answers", "phases"} or len(parts) < 2 or "" in parts:
        raise click.ClickException(
            f"cannot restore {field_path!r}: name one answer or checklist field, such as "
            "answers.q4.response or phases.explore.checklist.data_maturity.status "
            "(`workbook history PROJECT --json` lists the paths)"
        )
    store = _store(ctx)
    wb = store.open(project)
    try:
        now_value = get_path(wb.to_data(), path)
    except KeyError:
        raise click.ClickException(
            f"unknown field {field_path!r}; use a path such as answers.q4.response "
            "(`workbook history PROJECT --json` lists the paths)"
        ) from None
    old_value = review.value_at(store, project, path, revision)
    label = load_bank().field_label(path)
    if old_value == now_value:
        echo(f"{label} already has its value from revision {revision}; nothing to restore.")
        return
    echo(click.style(label, bold=True))
    echo(f"  now (revision {wb.revision}) -> as at revision {revision}:")
    echo(_indent(_diff_text(path, now_value, old_value, _color())))
    if not yes and not click.confirm("Restore this value?", default=False):
        echo("Nothing changed.")
        return
    saved = review.restore(store, project, path, revision, user=user or current_user())
    echo(
        f"Restored {label} to its value at revision {revision}: saved as revision {saved.revision}."
    )


def _field_path(value: str) -> str:
    """``q4.response`` -> ``answers.q4.response``; ``explore.note`` -> ``phases.explore.note``."""
    from workbook.bank import PHASE_IDS, load_bank

    first = value.split(".", 1)[0]
    if first in load_bank().question_ids:
        return f"answers.{value}"
    if first in PHASE_IDS:
        return f"phases.{value}"
    return value


PERSONAL_DATA_KINDS = (
    "case_reference",
    "date_of_birth",
    "email",
    "nhs_number",
    "ni_number",
    "phone",
    "postcode",
    "upn",
)
"""The kinds of ``workbook.personal_data.KINDS`` (not imported here: the command starts
faster without it)."""


@cli.command()
@click.argument("project", required=False)
@click.option("--all", "all_projects", is_flag=True, help="Scan every project in the workspace.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def scan(ctx: click.Context, project: str | None, all_projects: bool, as_json: bool) -> None:
    """List what looks like personal data in PROJECT (or --all): each finding's field,
    where it is and what it looks like, never the text. Exit code 1 if any is open (not
    dismissed) or a project cannot be read.

    Local case references are found with the patterns in the workspace's settings.yaml
    (case_reference_patterns).
    """
    import json as jsonlib

    from workbook.personal_data import describe
    from workbook.personal_data_review import case_patterns_for, location, project_findings

    if bool(project) == all_projects:
        raise click.UsageError("name a project, or pass --all (not both)")
    store = _store(ctx)
    patterns = case_patterns_for(store.root)  # a bad settings.yaml: stop first
    if all_projects:
        entries = [(e.id, e.workbook, e.error) for e in store.list()]
    else:
        entries = [(project, store.open(project), None)]
    report, total_open, total_dismissed, unreadable = [], 0, 0, 0
    for pid, wb, error in entries:
        if wb is None:
            unreadable += 1
            report.append({"project": pid, "error": str(error), "open": [], "dismissed": 0})
            continue
        found = project_findings(wb, patterns)
        total_open += len(found.open)
        total_dismissed += len(found.dismissed)
        report.append(
            {
                "project": pid,
                "error": None,
                "open": [
                    {
                        "path": f.path,
                        "location": location(f, wb),
                        "kind": f.kind,
                        "description": describe(f),
                        "start": f.start,
                        "end": f.end,
                    }
                    for f in found.open
                ],
                "dismissed": len(found.dismissed),
            }
        )
    if as_json:
        click.echo(
            jsonlib.dumps(
                {"projects": report, "open": total_open, "dismissed": total_dismissed},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for item in report:
            if item["error"]:
                why = _cell(item["error"], 300)
                echo(f"{item['project']}: cannot be read, so not scanned: {why}")
                continue
            dismissed = f" ({item['dismissed']} dismissed)" if item["dismissed"] else ""
            n = len(item["open"])
            if not n:
                if not all_projects or item["dismissed"]:
                    echo(f"{item['project']}: nothing open looks like personal data{dismissed}")
                continue
            echo(f"{item['project']}: {n} open finding{'s' if n != 1 else ''}{dismissed}")
            for f in item["open"]:
                echo(f"  {f['path']} ({f['location']}) {f['description']}")
        if all_projects:
            projects = sum(bool(item["open"]) for item in report)
            echo(
                f"{total_open} open finding{'s' if total_open != 1 else ''} in {projects} of "
                f"{len(report)} project{'s' if len(report) != 1 else ''}; "
                f"{total_dismissed} dismissed."
            )
        if total_open:
            echo(
                "Change the text, or dismiss a field's warnings with a reason: "
                "workbook dismiss PROJECT FIELD --reason TEXT"
            )
    if total_open or unreadable:
        ctx.exit(1)


@cli.command()
@click.argument("project")
@click.argument("field_path", metavar="FIELD")
@click.option("--reason", required=True, help="Why it is not personal data, or may stay.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(PERSONAL_DATA_KINDS),
    help="Dismiss only the warnings of this kind (repeatable; default: all of FIELD's).",
)
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.pass_context
def dismiss(
    ctx: click.Context,
    project: str,
    field_path: str,
    reason: str,
    kinds: tuple[str, ...],
    user: str | None,
) -> None:
    """Dismiss the personal-data warnings on FIELD of PROJECT, with the reason they may
    stay. FIELD is a path as `workbook scan` prints it (answers.q1.response or q1.response).

    The dismissal is saved in the project with the reason, who and when (it is in
    `workbook history`), and holds while the field's text stays the same.
    """
    from workbook import personal_data_review as pdr

    store = _store(ctx)
    path = _field_path(field_path)
    wb = store.open(project)
    patterns = pdr.case_patterns_for(store.root)
    chosen = None
    if kinds:
        chosen = [f for f in pdr.open_findings(wb, patterns, paths=[path]) if f.kind in kinds]
        if not chosen:
            raise click.ClickException(
                f"{path} has no open warning of the kind{'s' if len(kinds) > 1 else ''} "
                f"{', '.join(kinds)} (`workbook scan {project}` lists them)"
            )
    saved = pdr.dismiss(
        store,
        project,
        path,
        reason,
        user=user or current_user(),
        findings=chosen,
        case_patterns=patterns,
    )
    mine = [d for d in saved.personal_data.dismissed.values() if d.path == path]
    record = max(mine, key=lambda d: d.at).model_dump(mode="json")
    echo(f"{pdr.dismissal_text(record, saved)}; saved as revision {saved.revision}.")
    left = len(pdr.open_findings(saved, patterns))
    if left:
        many = "s" if left != 1 else ""
        echo(f"{project} still has {left} open finding{many}: see `workbook scan {project}`.")


def _write_csv(csv_file: str, text: str, count: int, noun: str) -> None:
    """CSV to standard output ('-') or to a file (with a byte order mark, so spreadsheet
    programs read it as UTF-8), saying how many rows it wrote."""
    if csv_file == "-":
        if sys.stdout.isatty():
            echo(text, nl=False)  # shown, so stripped of anything a terminal would run
        else:
            click.echo(text, nl=False)  # data for another program, byte for byte
        return
    target = Path(csv_file)
    try:
        target.write_text(text, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise click.ClickException(f"could not write {target}: {exc.strerror}") from None
    echo(f"Wrote {count} {noun}{'s' if count != 1 else ''} to {target}")


@cli.command()
@click.argument("project")
@click.option(
    "--csv",
    "csv_file",
    metavar="FILE",
    default=None,
    help="Write the action plan as CSV to FILE ('-' for standard output) instead of a table.",
)
@click.option("--overdue", is_flag=True, help="Only open actions whose due date has passed.")
@click.pass_context
def actions(ctx: click.Context, project: str, csv_file: str | None, overdue: bool) -> None:
    """List PROJECT's further-work actions (the action plan), or write them as CSV."""
    from workbook import review

    wb = _store(ctx).open(project)
    rows = review.overdue_actions(wb) if overdue else review.action_plan(wb)
    if csv_file is not None:
        _write_csv(csv_file, review.action_plan_csv(rows), len(rows), "action")
        return
    if not rows:
        what = "overdue actions" if overdue else "further-work actions"
        echo(f"No {what} in {project!r}.")
        return
    table = [("Q", "PHASE", "ACTION", "OWNER", "DUE", "STATUS", "OVERDUE")]
    for r in rows:
        table.append(
            (
                f"Q{r.question_number}",
                r.phase_id,
                _clip(" ".join(r.action.split()), 60),
                _clip(r.owner, 30) or "-",
                r.due.isoformat() if r.due else "-",
                r.status,
                "OVERDUE" if r.overdue else "",
            )
        )
    echo(_table(table))
    late = sum(r.overdue for r in rows)
    echo(f"\n{len(rows)} action{'s' if len(rows) != 1 else ''}, {late} overdue.")


@cli.command()
@click.argument("project")
@click.option("--open", "only_open", is_flag=True, help="Only risks not closed.")
@click.option("--review-due", is_flag=True, help="Only risks whose review date has passed.")
@click.option(
    "--scale",
    "scale_id",
    metavar="ID",
    default=None,
    help="Score the register on another scale (5x5, dpia-4x4): only before any risk is rated.",
)
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.option(
    "--csv",
    "csv_file",
    metavar="FILE",
    default=None,
    help="Write the register as CSV to FILE ('-' for standard output) instead of a table.",
)
@click.pass_context
def risks(
    ctx: click.Context,
    project: str,
    only_open: bool,
    review_due: bool,
    csv_file: str | None,
    scale_id: str | None,
    user: str | None,
) -> None:
    """List PROJECT's risk register (highest remaining risk first) and its category coverage."""
    from workbook import risks as register

    store = _store(ctx)
    wb = store.open(project)
    if scale_id is not None:
        wb = register.choose_scale(store, project, scale_id, user=user or current_user())
    rows = register.risk_rows(wb.risks)  # type: ignore[attr-defined]
    if only_open:
        rows = [r for r in rows if r.status != "closed"]
    if review_due:
        rows = [r for r in rows if r.review_overdue]
    if csv_file is not None:
        _write_csv(csv_file, register.risks_csv(rows), len(rows), "risk")
        return
    scale = wb.risks.scale  # type: ignore[attr-defined]
    if rows:
        table = [("ID", "RISK", "CATEGORY", "BEFORE", "AFTER", "OWNER", "STATUS", "REVIEW BY")]
        for r in rows:
            table.append(
                (
                    r.id,
                    _clip(" ".join(r.title.split()), 50),
                    _clip(r.category_name, 24),
                    f"{r.before} {r.before_band}" if r.before is not None else "-",
                    f"{r.after} {r.after_band}" if r.after is not None else "-",
                    _clip(r.owner, 24) or "-",
                    r.status,
                    (r.review_by.isoformat() + (" OVERDUE" if r.review_overdue else ""))
                    if r.review_by
                    else "-",
                )
            )
        echo(_table(table))
    else:
        echo(f"No risks{' to show' if only_open or review_due else ''} in {project!r}.")
    echo(f"\nScored on {scale.name}. Categories:")
    for c in register.coverage(wb.risks):  # type: ignore[attr-defined]
        echo(f"  {'ok ' if c.covered else 'GAP'}  {c.name}: {c.how}")


def _assessments(ctx: click.Context) -> Any:
    from workbook.store import AssessmentStore

    return AssessmentStore(
        ctx.obj["workspace"], on_problem=lambda msg: echo(f"Warning: {msg}", err=True)
    )


def _find_assessment(store: Any, authority: str) -> Any:
    """An authority's assessment by its id or its name."""
    import re

    from workbook.assessment import AUTHORITY_ID_PATTERN
    from workbook.maturity import find_for_authority

    if re.fullmatch(AUTHORITY_ID_PATTERN, authority) and store.exists(authority):
        return store.open(authority)
    found = find_for_authority(store, authority)
    if found is not None:
        return found
    from slugify import slugify

    slug = slugify(authority, max_length=60, word_boundary=True)
    if slug and slug != authority and store.exists(slug):
        return store.open(slug)  # by name, its file unreadable: the error names the file
    return store.open(authority)  # refuses an unsafe id, or says there is no such assessment


@cli.command()
@click.argument("authority", required=False)
@click.option(
    "--round", "round_number", type=int, default=None, help="Show this round (default: the latest)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the round as JSON.")
@click.option("--list", "list_all", is_flag=True, help="List the authorities with an assessment.")
@click.option("--start", is_flag=True, help="Start an assessment for AUTHORITY (a name).")
@click.option(
    "--model",
    "model_id",
    default=None,
    help="With --start: the id of another maturity model (packaged, or in the workspace's "
    "maturity-models folder).",
)
@click.option(
    "--csv",
    "csv_file",
    default=None,
    metavar="FILE",
    help="Write the round's action plan as CSV ('-' for stdout).",
)
@click.option("--user", default=None, help="Your name for the history (default: login name).")
@click.option(
    "--to",
    "formats",
    default=None,
    metavar="FORMATS",
    help="Write the round's board document instead: comma-separated html, pdf, docx, md, "
    "csv (the action plan).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="With --to: folder for the documents.",
)
@click.option("--overwrite", is_flag=True, help="With --to: replace documents that exist.")
@click.pass_context
def maturity(
    ctx: click.Context,
    authority: str | None,
    round_number: int | None,
    as_json: bool,
    list_all: bool,
    start: bool,
    model_id: str | None,
    csv_file: str | None,
    user: str | None,
    formats: str | None,
    out: Path,
    overwrite: bool,
) -> None:
    """Show AUTHORITY's digital ethics maturity self-assessment: each component's agreed
    level, target and gap, the spread of respondents' ratings, and the action plan; or,
    with --to, write the round's board document."""
    import json as jsonlib

    from workbook import maturity as mat

    if formats is not None:
        from workbook.export.batch import parse_formats

        if authority is None or list_all or start or as_json or csv_file is not None:
            raise click.UsageError(
                "--to needs an AUTHORITY and cannot be combined with --list, --start, --json "
                "or --csv"
            )
        parse_formats(formats)  # fail fast, before any work
    store = _assessments(ctx)
    if list_all or authority is None:
        entries = store.list()
        if not entries:
            echo(f"No maturity assessments in {store.root}.")
            return
        table = [("ID", "AUTHORITY", "LATEST ROUND", "OPEN ROUND", "GAPS", "OPEN ACTIONS")]
        for entry in entries:
            if entry.assessment is None:
                table.append((entry.id, "(unreadable)", "-", "-", "-", "-"))
                echo(f"Warning: {entry.error}", err=True)
                continue
            model = entry.assessment.maturity_model()
            sm = mat.summary(entry.assessment, model)
            latest = f"{sm.round} closed {_day(sm.closed_at)}" if sm.round else "none closed"
            table.append(
                (entry.id, _cell(sm.name, 40), latest, str(sm.open_round or "-"), str(sm.gaps),
                 str(sm.open_actions))
            )  # fmt: skip
        echo(_table(table))
        return
    if start:
        a = mat.start_assessment(store, authority, user=user or current_user(), model_id=model_id)
        echo(
            f"Started the maturity assessment of {a.authority.name} ({a.authority.id!r}), round 1."
        )
        return
    a = _find_assessment(store, authority)
    model = a.maturity_model()
    if round_number is not None and str(round_number) not in a.rounds:
        raise click.ClickException(
            f"{authority}: there is no round {round_number}; rounds are "
            f"{', '.join(map(str, a.round_numbers))}"
        )
    n = round_number or a.round_numbers[-1]
    if formats is not None:
        _board_documents(store, a, model, n, formats, out, overwrite)
        return
    rnd = a.round(n)
    shown = mat.states(a, model, n)
    plan = mat.action_plan(a, model, n)
    if csv_file is not None:
        _write_csv(csv_file, mat.plan_csv(plan, model), len(plan), "action")
        return
    if as_json:
        echo(jsonlib.dumps(mat.round_data(a, model, n), indent=2, ensure_ascii=False))
        return
    status = f"closed {_day(rnd.closed.at)} by {rnd.closed.by}" if rnd.closed else "open"
    echo(f"{a.authority.name}: round {n} of {len(a.round_numbers)} ({status}); model {model.name}")
    who = mat.respondents(rnd)
    echo(f"Respondents: {', '.join(who) if who else 'none yet'}\n")
    table = [("COMPONENT", "AGREED", "TARGET", "TARGET DATE", "GAP", "RATINGS", "MOVED")]
    for st in shown:
        ratings = " ".join(str(level) for _, level in st.spread.ratings) or "-"
        if st.spread.flagged:
            ratings += " DISCUSS"
        table.append(
            (
                _cell(st.name, 34),
                model.level_label(st.level) if st.level is not None else "not agreed",
                model.level_label(st.target) if st.target is not None else "-",
                _day(st.target_date) if st.target_date else "-",
                str(st.gap) if st.level is not None else "-",
                ratings,
                f"{st.movement:+d}" if st.movement else "-" if st.movement is None else "0",
            )
        )
    echo(_table(table))
    if plan:
        echo("\nAction plan:")
        for r in plan:
            due = _day(r.due) if r.due else "no due date"
            owner = r.owner or "NO OWNER"
            late = " OVERDUE" if r.overdue else ""
            echo(f"  [{r.status}] {_cell(r.text, 70)} ({owner}; {due}{late})")


def _board_documents(
    store: Any, a: Any, model: Any, n: int, formats: str, out: Path, overwrite: bool
) -> None:
    """``workbook maturity AUTHORITY --to ...``: the round's board document, one line per
    file written. The marking is the workspace's (settings.yaml), else OFFICIAL."""
    from datetime import datetime, timezone

    from workbook.export.maturity import board_report, write_board
    from workbook.settings import load_settings

    report = board_report(
        a,
        model,
        round_number=n,
        exported_at=datetime.now(timezone.utc),
        marking=load_settings(store.root).marking,
    )
    for path in write_board(report, out, formats, overwrite=overwrite):
        echo(f"Wrote {path}")


def _day(value: Any) -> str:
    from workbook.export.dates import day

    return day(value)


@cli.command()
@click.argument("project")
@click.option(
    "--to",
    "formats",
    default="md,docx,csv,json",
    show_default=True,
    help="Comma-separated formats: md, docx, csv (the template's order), json (the draft).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Folder for the documents. A previous <project>-atrs-<version>.json there is "
    "compared with the new draft.",
)
@click.pass_context
def atrs(ctx: click.Context, project: str, formats: str, out: Path) -> None:
    """Draft PROJECT's transparency record (ATRS) from its workbook, with a completeness
    report and the changes since the last draft in the folder."""
    import json as jsonlib

    from workbook.atrs import PreviousDraftError, build_draft
    from workbook.atrs_content import DEFAULT_VERSION
    from workbook.export.atrs import parse_formats, write_draft

    parse_formats(formats)  # fail fast, before any work
    store = _store(ctx)
    wb = store.open(project)  # an unknown project: one line, before anything is read
    _refuse_personal_data(
        ctx,
        wb,
        store,
        refused="no transparency record drafted",
        way_out="; the record is published, so this check cannot be turned off",
    )
    previous_file = out / f"{project}-atrs-{DEFAULT_VERSION}.json"
    previous = None
    if previous_file.is_file():
        try:
            previous = jsonlib.loads(previous_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise click.ClickException(
                f"{previous_file}: the previous draft is not valid JSON; move it away to "
                "start afresh"
            ) from None
    try:
        draft = build_draft(store, project, previous=previous)
    except PreviousDraftError as exc:
        exc.path = previous_file
        raise
    for path in write_draft(draft, out, formats):
        echo(f"Wrote {path}")
    s = draft["summary"]
    echo(
        f"Required fields filled: {s['required_filled']} of {s['required']}; "
        f"to rewrite for the public: {s['to_rewrite']}; withheld: {s['withheld']}."
    )
    counts = {
        k: sum(p["kind"] == k for p in draft["problems"])
        for k in ("missing", "incomplete", "guidance")
    }
    echo(
        f"Problems: {s['problems']} ({counts['missing']} required fields empty, "
        f"{counts['incomplete']} drafted from answers not complete, "
        f"{counts['guidance']} guidance checks)."
    )
    for p in draft["problems"]:
        if p["kind"] == "guidance":
            echo(f"  {p['ref']} {p['name']}: {p['message']}")
    if draft["changes"] is not None:
        n = len(draft["changes"]["fields"])
        echo(
            f"Changed since the last draft (revision {draft['changes']['since_revision']}): "
            f"{n} field{'s' if n != 1 else ''}."
        )


def _refuse_personal_data(
    ctx: click.Context, wb: Any, store: Any, *, refused: str, way_out: str = ""
) -> None:
    """Exit 1, naming each field (one line each, never its text), if the project has
    personal-data warnings nobody has dismissed."""
    from workbook.personal_data_review import (
        PersonalDataFound,
        case_patterns_for,
        require_no_open_findings,
    )

    try:
        require_no_open_findings(
            wb, case_patterns_for(store.root), refused=refused, way_out=way_out
        )
    except PersonalDataFound as exc:
        echo(f"Error: {exc}", err=True)
        ctx.exit(1)


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 if the committed schema file is out of date.")
@click.option("--write", is_flag=True, help="Rewrite the schema files in workbook/schema.")
def schema(check: bool, write: bool) -> None:
    """Print the JSON Schema of answers files (or check or rewrite the committed copy)."""
    from workbook.assessment import assessment_json_schema_text
    from workbook.atrs import draft_json_schema_text
    from workbook.model import json_schema_text

    files = {
        "answers.schema.json": json_schema_text(),
        "maturity.schema.json": assessment_json_schema_text(),
        "atrs-draft.schema.json": draft_json_schema_text(),
    }
    folder = Path(__file__).parent / "schema"
    if write:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
            echo(f"Wrote {folder / name}")
    elif check:
        for name, text in files.items():
            committed = folder / name
            if not committed.is_file() or committed.read_text(encoding="utf-8") != text:
                raise click.ClickException(
                    f"{committed} is out of date; run `workbook schema --write` and commit it"
                )
            echo(f"OK: {committed} is up to date")
    else:
        echo(files["answers.schema.json"], nl=False)


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


def _cell(text: str, width: int = 60) -> str:
    """Stored text for one table cell or heading: one line, no control characters."""
    return _clip(" ".join(clean_text(str(text)).split()), width)


# --------------------------------------------------------------------------- evidence


@cli.group()
def evidence() -> None:
    """Evidence notebooks: analysis kept beside an answer and run again at each export.

    A notebook is attached to a question (it is copied into the project's evidence/ folder
    with its data files). It must have one cell tagged 'parameters' holding only plain
    values; `project` and `workspace` are filled in when it declares them, and a path
    parameter (a name ending _path, _file or _dir) must stay inside its folder.
    """


def _question_id(question: str) -> str:
    from workbook.bank import load_bank

    qid = question.lower()
    qid = qid if qid.startswith("q") else f"q{qid}"
    try:
        load_bank().question(qid)
    except KeyError:
        raise click.ClickException(
            f"{question!r} is not a question of the workbook (q1 to q13)"
        ) from None
    return qid


def _evidence_line(run: dict[str, Any]) -> str:
    where = f"{run['question']} {run['name']}"
    if run["status"] == "passed":
        return f"{where}: passed"
    if run["status"] == "refused":
        return f"{where}: refused: {run.get('reason') or run.get('error')}"
    reason = f": {run['reason']}" if run.get("reason") else ""
    return f"{where}: FAILED ({run.get('error') or 'error'}){reason}"


@evidence.command("add")
@click.argument("project")
@click.argument("question")
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A data file the notebook reads, copied into data/ beside it (repeat for more).",
)
@click.option("--name", default=None, help="The name to keep it under (default: its file name).")
@click.pass_context
def evidence_add(
    ctx: click.Context,
    project: str,
    question: str,
    notebook: Path,
    data_files: tuple[Path, ...],
    name: str | None,
) -> None:
    """Attach NOTEBOOK to QUESTION (q7 or 7) of PROJECT as evidence."""
    from workbook.evidence import check_notebook, check_paths, notebook_name

    store = _store(ctx)
    store.open(project)  # an unknown project: one line, before anything is read
    qid = _question_id(question)
    given = name if name is None or name.endswith(".ipynb") else f"{name}.ipynb"
    kept = notebook_name(given or notebook)
    raw = notebook.read_bytes()
    data = {}
    for path in data_files:
        data[path.name] = path.read_bytes()
    folder = store.evidence_folder(project, qid)
    # The paths it declares are checked where it will run, with the data it brings.
    checked = check_notebook(raw, notebook)
    check_paths(checked.parameters, folder, notebook)
    added = store.add_evidence(project, qid, kept, raw, data, user=current_user())
    echo(f"Attached {kept} to question {qid[1:]} of {project} ({added.sha256[:12]}).")
    if data:
        echo("With data: " + ", ".join(f"data/{n}" for n in sorted(data)))
    missing = [
        f"{k} = {v!r}"
        for k, v in checked.parameters.items()
        if k.endswith(("_path", "_file")) and isinstance(v, str) and not (folder / v).exists()
    ]
    if missing:
        echo(
            "Warning: these path parameters name files that are not there yet: "
            + "; ".join(missing)
            + " (attach them with --data)",
            err=True,
        )
    echo("It will run again at each `workbook export`; `workbook evidence run` runs it now.")


@evidence.command("list")
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def evidence_list(ctx: click.Context, project: str, as_json: bool) -> None:
    """List PROJECT's evidence notebooks, with their last run."""
    import json

    from workbook.export.dates import moment

    store = _store(ctx)
    store.open(project)
    rows = []
    for qid, files in store.evidence(project).items():
        for f in files:
            last = store.read_evidence_run(project, qid, f.name) or {}
            rows.append(
                {
                    "question": qid,
                    "name": f.name,
                    "sha256": f.sha256,
                    "last_run": {
                        k: last.get(k)
                        for k in ("ran_at", "ran_by", "status", "error", "duration_s", "sha256")
                    }
                    if last
                    else None,
                    "changed_since_run": bool(last) and last.get("sha256") != f.sha256,
                }
            )
    for problem in store.evidence_problems(project):
        where = "/".join(x for x in (problem["question"], problem["name"]) if x)
        echo(f"Warning: {project}/evidence/{where}: {problem['reason']}", err=True)
    if as_json:
        echo(json.dumps(rows, indent=2))
        return
    if not rows:
        echo(f"{project} has no evidence notebooks; `workbook evidence add` attaches one.")
        return
    for row in rows:
        last = row["last_run"]
        if last:
            when = f"last run {moment(last['ran_at'])}: {last['status']}"
            when += f" ({last['error']})" if last.get("error") else ""
            when += "; changed since" if row["changed_since_run"] else ""
        else:
            when = "not run yet"
        echo(f"{row['question']}  {row['name']}  {row['sha256'][:12]}  {when}")


@evidence.command("remove")
@click.argument("project")
@click.argument("question")
@click.argument("name")
@click.pass_context
def evidence_remove(ctx: click.Context, project: str, question: str, name: str) -> None:
    """Detach evidence notebook NAME from QUESTION of PROJECT (its data files stay)."""
    store = _store(ctx)
    qid = _question_id(question)
    store.remove_evidence(project, qid, name, user=current_user())
    echo(f"Removed {name} from question {qid[1:]} of {project}.")


@evidence.command("run")
@click.argument("project")
@click.option("--with-code", is_flag=True, help="Keep the code in the run's outputs too.")
@click.pass_context
def evidence_run(ctx: click.Context, project: str, with_code: bool) -> None:
    """Run PROJECT's evidence notebooks now, as you, and keep each one's outputs."""
    from workbook.export.evidence import run_evidence

    store = _store(ctx)
    store.open(project)
    for problem in store.evidence_problems(project):
        where = "/".join(x for x in (problem["question"], problem["name"]) if x)
        echo(f"Warning: {project}/evidence/{where}: {problem['reason']}", err=True)
    runs = run_evidence(store, project, ran_by=current_user(), with_code=with_code)
    if not runs:
        echo(f"{project} has no evidence notebooks.")
        return
    failed = 0
    for found in runs.values():
        for run in found:
            failed += run["status"] != "passed"
            echo(
                f"{_evidence_line(run)} ({run['duration_s']:.1f} s)", err=run["status"] != "passed"
            )
    if failed:
        ctx.exit(1)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="workbook", obj={})


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
