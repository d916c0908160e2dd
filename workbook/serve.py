"""Build the Voilà command line for ``workbook serve``.

The Voilà settings live in ``voila.json`` at the top of the repository (Voilà reads it from
the folder it starts in). The template lives in ``share/jupyter/voila/templates/ethics`` and
is found through ``JUPYTER_PATH``. The workspace is passed to every kernel as an absolute
``WORKBOOK_WORKSPACE``, because Voilà starts kernels in the notebooks' folder.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import quote

from workbook.errors import WorkbookError
from workbook.store import WORKSPACE_ENV, resolve_workspace

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def voila_command(
    *,
    workspace: Path | str | None,
    port: int,
    host: str = "127.0.0.1",
    token: str | None = None,
    project: str = "demo",
    notebooks: Path | None = None,
) -> tuple[list[str], dict[str, str], Path, str]:
    """(argv, environment, working folder, start URL) for serving the app."""
    notebooks = (notebooks or REPO / "notebooks").resolve()
    config_dir = REPO
    template_root = REPO / "share" / "jupyter"
    if not (notebooks / "00-start.ipynb").is_file() or not (config_dir / "voila.json").is_file():
        raise WorkbookError(
            f"cannot find the app's notebooks and voila.json under {REPO}; run `workbook serve` "
            "from a clone installed with `pip install -e .`"
        )
    if host not in LOOPBACK and not token:
        raise WorkbookError(
            f"refusing to listen on {host!r} without authentication: anyone who can reach it "
            "could read and change the answers. Pass --token (or set WORKBOOK_TOKEN), or use "
            "--host 127.0.0.1"
        )
    if token is not None and len(token) < 16:
        raise WorkbookError(
            "the token must be at least 16 characters; try: " + secrets.token_hex(16)
        )
    root = resolve_workspace(workspace)
    env = dict(os.environ)
    env[WORKSPACE_ENV] = str(root)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(template_root), os.environ.get("JUPYTER_PATH", "")) if p
    )
    argv = [
        sys.executable,
        "-m",
        "voila",
        str(notebooks),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
    ]
    if token:
        argv.append(f"--token={token}")
    url = f"http://{host}:{port}/voila/render/00-start.ipynb?project={quote(project)}"
    if token:
        url += f"&token={quote(token)}"
    return argv, env, config_dir, url
