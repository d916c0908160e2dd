# JupyterHub configuration for ethics-workbook on one machine.
#
#   jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
#
# Two ways to serve the pages (WORKBOOK_HUB_MODE):
#
#   service  ONE shared `workbook serve --hub-service` for the whole team, run
#            by the hub as a managed service at /services/workbook/, behind the hub's login
#            (OAuth). Each open page has its own kernel, forked from a preloaded one,
#            which answers only the person whose page it is, and every page request
#            carries the hub user who opened it. About a quarter of the memory per person
#            of a server each, and no server to start at login (see "How many people one
#            machine serves" in the README).
#            Members of WORKBOOK_HUB_LAB_GROUPS can still start their own server with
#            JupyterLab (at /hub/home); nobody else gets one.
#   user     (the default) every user who logs in gets their own Jupyter server (started
#            by the hub, as their own unix user) with the Voilà pages of the app.
#
# Either way, ONE shared workspace folder, outside home directories, is read and written
# through the app's store (file lock, atomic replace, revisions and merge), so a team works
# on the same projects.
#
# Everything that differs between machines is read from environment variables, so the same
# file serves a real deployment and `make hub` (WORKBOOK_HUB_TRY=1, see below):
#
#   WORKBOOK_HUB_REPO        the ethics-workbook clone (voila.json, share/jupyter, notebooks);
#                            default: the clone this file is in
#   WORKBOOK_HUB_NOTEBOOKS   the app's pages, the users' servers' root folder;
#                            default: $WORKBOOK_HUB_REPO/notebooks
#   WORKBOOK_HUB_WORKSPACE   the shared workspace; default /srv/ethics-workbook/workspace
#   WORKBOOK_HUB_STATE       the hub's own state: database, cookie secret, proxy pid file;
#                            default /srv/jupyterhub
#   WORKBOOK_HUB_IP, WORKBOOK_HUB_PORT            where people connect; default 127.0.0.1:8000
#   WORKBOOK_HUB_API_PORT, WORKBOOK_HUB_PROXY_API_PORT
#                            the hub's and the proxy's internal APIs, on 127.0.0.1 only;
#                            default 8081 and 8001
#   WORKBOOK_HUB_PROXY       configurable-http-proxy; default the one `make hub` installs in
#                            $WORKBOOK_HUB_REPO/.hub, else the one on PATH
#   WORKBOOK_HUB_SINGLEUSER  jupyterhub-singleuser; default the one beside this Python
#   WORKBOOK_HUB_ADMINS      hub administrators, comma-separated (production only)
#   WORKBOOK_HUB_USERS       who may log in, comma-separated (production; or use the
#                            authenticator's allowed groups)
#   WORKBOOK_HUB_LAB_GROUPS  hub groups whose members also get JupyterLab and a terminal;
#                            default "admins". Everyone else gets the Voilà pages only.
#   WORKBOOK_HUB_CULL_SECONDS  stop a server idle this long; default 3600, 0: never
#   WORKBOOK_HUB_MODE        user (default) or service: see above
#   WORKBOOK_HUB_SERVICE_PORT  service mode: the shared server's port, on 127.0.0.1 only;
#                            default 8870
#   WORKBOOK_HUB_SERVICE_USER  service mode: the unix account the shared server runs as
#                            (it must be able to write the workspace); needed when the hub
#                            runs as root, so that the pages' kernels never run as root
#   WORKBOOK_HUB_PUBLIC_URL  the address people use, e.g. https://workbook.example.gov.uk
#                            (service mode: the shared server answers only to that name and
#                            the hub's own address); default http://IP:PORT
#   WORKBOOK_HUB_TRY         1: the trying-out hub of `make hub` and the tests (below)
#   WORKBOOK_HUB_PASSWORD    with WORKBOOK_HUB_TRY: the shared password of the test users
#   WORKBOOK_HUB_TRY_AUTHORS with WORKBOOK_HUB_TRY: more users in the authors group,
#                            comma-separated (bench/hub_users.py)
#
# What the trying-out hub (WORKBOOK_HUB_TRY=1) changes: a shared-password authenticator
# with the users alice (group authors), bob (reviewers), carol (viewers) and dana (admins),
# and SimpleLocalProcessSpawner, which runs EVERY user's server as the unix user who started
# the hub, with home folders under $WORKBOOK_HUB_STATE/home. Fine for trying on a laptop;
# it gives users no separation at all, so never use it for a team.

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)


def _env(name, default=""):
    return os.environ.get(name, "").strip() or default


def _names(name, default=""):
    return [n.strip() for n in _env(name, default).split(",") if n.strip()]


TRY = _env("WORKBOOK_HUB_TRY") == "1"
REPO = Path(_env("WORKBOOK_HUB_REPO", str(Path(__file__).resolve().parents[2])))
NOTEBOOKS = Path(_env("WORKBOOK_HUB_NOTEBOOKS", str(REPO / "notebooks")))
WORKSPACE = Path(_env("WORKBOOK_HUB_WORKSPACE", "/srv/ethics-workbook/workspace"))
STATE = Path(_env("WORKBOOK_HUB_STATE", "/srv/jupyterhub"))
IP = _env("WORKBOOK_HUB_IP", "127.0.0.1")
PORT = int(_env("WORKBOOK_HUB_PORT", "8000"))
LAB_GROUPS = set(_names("WORKBOOK_HUB_LAB_GROUPS", "admins"))
CULL_SECONDS = int(_env("WORKBOOK_HUB_CULL_SECONDS", "3600"))
START_PAGE = "/voila/render/00-start.ipynb"
MODE = _env("WORKBOOK_HUB_MODE", "user")
if MODE not in ("service", "user"):
    sys.exit(f"Error: WORKBOOK_HUB_MODE={MODE!r}: use service (one shared server) or user")
SERVICE = "workbook"
SERVICE_PORT = int(_env("WORKBOOK_HUB_SERVICE_PORT", "8870"))
PUBLIC_URL = _env("WORKBOOK_HUB_PUBLIC_URL")

for path, what in ((NOTEBOOKS / "00-start.ipynb", "the app's pages"), (REPO / "voila.json", "")):
    if not path.is_file():
        sys.exit(
            f"Error: {path} not found: set WORKBOOK_HUB_REPO to the ethics-workbook clone"
            + (" or WORKBOOK_HUB_NOTEBOOKS to the folder of the app's pages" if what else "")
        )
STATE.mkdir(parents=True, exist_ok=True)

# ---------------------------------------------------------------- network and secrets
# The hub listens on loopback: put a TLS-terminating reverse proxy (nginx, Caddy, the
# council's load balancer) in front of it and let people reach only that. Passwords and
# login cookies must never cross the network in clear text. To terminate TLS here instead,
# set c.JupyterHub.ssl_cert and c.JupyterHub.ssl_key and listen on the machine's address.
c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
if PUBLIC_URL:
    c.JupyterHub.public_url = PUBLIC_URL
# The hub's own API and the proxy's API stay on loopback: only the hub, the proxy and the
# users' servers (all on this machine) talk to them.
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{_env('WORKBOOK_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_env('WORKBOOK_HUB_PROXY_API_PORT', '8001')}"
_local_proxy = REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
_proxy = _env("WORKBOOK_HUB_PROXY") or (
    str(_local_proxy) if _local_proxy.exists() else "configurable-http-proxy"
)
c.ConfigurableHTTPProxy.command = [_proxy]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
# The secret that signs login cookies lives in a file only the hub can read (JupyterHub
# creates it with mode 600 and refuses to start if others can read it). Keep it across
# restarts, or everyone is logged out; never put it in this file or in version control.
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
# A login lasts a working day, not JupyterHub's default 14 days: the machines in an office
# are shared.
c.JupyterHub.cookie_max_age_days = 1
# Admins manage users and servers but cannot open other users' servers (act as them).
c.JupyterHub.admin_access = False
# Stopping the hub stops the proxy and every user's server (nothing keeps running unseen).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# ---------------------------------------------------------------------- authentication
if TRY:
    # `make hub` and the tests: four made-up users, one shared password.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = _env("WORKBOOK_HUB_PASSWORD")
    _more = _names("WORKBOOK_HUB_TRY_AUTHORS")  # more authors, for bench/hub_users.py
    c.Authenticator.allowed_users = {"alice", "bob", "carol", "dana", *_more}
    c.JupyterHub.load_groups = {
        "authors": {"users": ["alice", *_more]},
        "reviewers": {"users": ["bob"]},
        "viewers": {"users": ["carol"]},
        "admins": {"users": ["dana"]},
    }
else:
    # PLACEHOLDER: use the council's identity provider, so that people log in with the
    # account they already have and leavers lose access with it. For example
    #   OAuth2 / OpenID Connect (Entra ID, Okta, ...):  pip install oauthenticator
    #     c.JupyterHub.authenticator_class = "generic-oauth"   (or "azuread")
    #     with its client id, secret and URLs; set manage_groups = True so the hub groups
    #     (authors, reviewers, viewers, admins; see roles.yaml) come from the provider.
    #   LDAP / Active Directory:  pip install jupyterhub-ldapauthenticator
    #     c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
    #   SAML: through the council's SSO reverse proxy and a header-trusting authenticator.
    # The default below, PAM, checks the machine's own unix passwords; the users must exist
    # as unix accounts anyway, because LocalProcessSpawner runs each server as its user.
    c.JupyterHub.authenticator_class = "pam"
    # JupyterHub 5 lets nobody in unless allowed: name the users here (or allow the
    # provider's groups, e.g. c.GenericOAuthenticator.allowed_groups).
    c.Authenticator.allowed_users = set(_names("WORKBOOK_HUB_USERS"))
    # Hub admins can add users, manage groups and stop servers at /hub/admin. Keep them few.
    c.Authenticator.admin_users = set(_names("WORKBOOK_HUB_ADMINS"))
    # Groups: manage them at /hub/admin (or let the authenticator set them), e.g.
    #   c.JupyterHub.load_groups = {"authors": {"users": ["erin"]}, ...}

# ------------------------------------------------------------------- the users' servers
if TRY:
    # Every user's server runs as YOU, with a home folder under the state folder.
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
else:
    # Each user's server runs as that user's unix account (the hub runs as root to start
    # it). The alternative, with per-user memory and CPU limits enforced by systemd:
    #   pip install jupyterhub-systemdspawner
    #   c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    #   c.SystemdSpawner.mem_limit = "1G"
    #   c.SystemdSpawner.unit_extra_properties = {"UMask": "0007"}
    #   c.SystemdSpawner.readwrite_paths = [str(WORKSPACE)]
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"

_singleuser = _env("WORKBOOK_HUB_SINGLEUSER") or str(
    Path(sys.executable).parent / "jupyterhub-singleuser"
)
if not Path(_singleuser).exists():
    _singleuser = shutil.which("jupyterhub-singleuser") or _singleuser
# umask 0007: the files a user's server creates in the shared workspace (a new project's
# folder, workbook.json, history.jsonl, .lock, the temporary file of every save) are
# readable and writable by the group, so every member's server can save the projects
# others created. With the workspace folder owned by that group and setgid (chmod 2770),
# every new file and folder also belongs to the group; others get nothing. A save replaces
# workbook.json with a new file, which the store gives the old one's permissions.
c.Spawner.cmd = ["/bin/sh", "-c", 'umask 0007 && exec "$@"', "sh", _singleuser]
c.Spawner.notebook_dir = str(NOTEBOOKS)  # the users' servers see only the app's pages
c.Spawner.default_url = START_PAGE  # after login: the start page, not JupyterLab
# Ignore config files in users' home folders: a user must not turn the identity extension
# or the page settings off for their server.
c.Spawner.disable_user_config = True
c.Spawner.environment = {
    # Absolute: Voilà starts each page's kernel in the notebooks folder.
    "WORKBOOK_WORKSPACE": str(WORKSPACE),
    # The `ethics` Voilà template.
    "JUPYTER_PATH": str(REPO / "share" / "jupyter"),
    # Two config folders for the users' servers:
    # - deploy/jupyter/jupyter_server_config.json turns on Voilà and workbook.hub_extension
    #   (every Voilà page request carries the hub user who opened it, signed for the page's
    #   kernel), culls the kernels of pages closed without saying so after 10 idle minutes
    #   (a kernel with a page open is never culled), and blanks the MathJax address, which
    #   would otherwise make every page load MathJax from a CDN (no page of the app requests
    #   anything from another host). Kernels keep Jupyter's TCP transport on loopback
    #   (messages signed with a key only the user can read): the Unix-socket transport that
    #   `workbook serve` uses fails when the socket's path, under the user's home folder, is
    #   longer than 107 characters;
    # - the repository's voila.json: Voilà's server extension reads its VoilaConfiguration
    #   section (template, strip_sources, show_tracebacks: false, http_header_envs, ...) from
    #   the config path. Its other sections apply only to `workbook serve`.
    "JUPYTER_CONFIG_PATH": os.pathsep.join([str(REPO / "deploy" / "jupyter"), str(REPO)]),
}
c.Spawner.start_timeout = 120  # a 2-core machine starting many servers at 9 am is slow
c.Spawner.http_timeout = 120

_SERVER_ARGS = []
if TRY and os.getuid() == 0:
    # Trying it out as root (a container, CI): every user's server runs as root. Jupyter
    # refuses that unless told; a real deployment never needs this.
    _SERVER_ARGS.append("--ServerApp.allow_root=True")


def _server_args(groups):
    """Voilà pages for everyone; JupyterLab and terminals only for LAB_GROUPS."""
    if LAB_GROUPS & set(groups):
        return list(_SERVER_ARGS)
    off = ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals")
    return [
        *_SERVER_ARGS,
        # One option per extension: traitlets reads a dict from the command line as
        # repeated key=value pairs (a JSON object is refused).
        *(f"--ServerApp.jpserver_extensions={name}=False" for name in off),
        "--ServerApp.terminals_enabled=False",
    ]


def _pre_spawn_hook(spawner):
    groups = [g.name for g in spawner.user.groups]
    if MODE == "service" and not LAB_GROUPS & set(groups):
        # Service mode: the pages are the shared service's; a server of one's own is for
        # the JupyterLab groups only.
        raise ValueError(
            f"The workbook's pages are at /services/{SERVICE}/{START_PAGE.lstrip('/')}; "
            "a server of your own (JupyterLab) is for the groups " + ", ".join(sorted(LAB_GROUPS))
        )
    spawner.args = _server_args(groups)
    # Without JupyterLab, the server also takes widget messages only and refuses to write
    # files or start kernels through its API (workbook.hub_extension): no code of the
    # user's own can run there.
    env = dict(spawner.environment)
    if LAB_GROUPS & set(groups):
        env.pop("WORKBOOK_HUB_VOILA_ONLY", None)
    else:
        env["WORKBOOK_HUB_VOILA_ONLY"] = "1"
    spawner.environment = env


c.Spawner.pre_spawn_hook = _pre_spawn_hook

# ------------------------------------------------------------- the shared server (service)
_services = []
_roles = []
if MODE == "service":
    _public = PUBLIC_URL or f"http://{'127.0.0.1' if IP in ('', '0.0.0.0') else IP}:{PORT}"
    _public_host = urlsplit(_public).netloc
    _service_user = _env("WORKBOOK_HUB_SERVICE_USER")
    if os.getuid() == 0 and not _service_user and not TRY:
        sys.exit(
            "Error: WORKBOOK_HUB_SERVICE_USER is not set: the hub runs as root, and the shared "
            "server and its pages' kernels must not; create a system account that can write "
            "the workspace and name it there"
        )
    _service = {
        "name": SERVICE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        # The same umask as the users' servers (see above): files it creates in the
        # workspace stay writable by the group.
        "command": [
            "/bin/sh",
            "-c",
            'umask 0007 && exec "$@"',
            "sh",
            sys.executable,
            "-m",
            "workbook",
            "serve",
            "--hub-service",
            f"--allow-host={_public_host}",
        ],
        # `workbook serve` finds the template and the repository's voila.json (Voilà,
        # kernel and culling settings) itself, as for one person.
        "environment": {"WORKBOOK_WORKSPACE": str(WORKSPACE)},
        # Logging in to the pages asks nothing more: the hub's login is enough.
        "oauth_no_confirm": True,
    }
    if _service_user:
        _service["user"] = _service_user
    _services.append(_service)
    # Everyone may use the service, besides what JupyterHub's default 'user' role gives
    # ('self': their own account and server).
    _roles.append({"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]})
    # After logging in: the start page on the shared server.
    c.JupyterHub.default_url = f"/services/{SERVICE}{START_PAGE}"

# ----------------------------------------------------------------------- idle culling
# jupyterhub-idle-culler (pip install 'ethics-workbook[hub]') stops servers nobody has
# used for CULL_SECONDS, so 50 people's servers do not hold memory all night. Their work is
# already saved: every edit is saved as it is made.
if CULL_SECONDS > 0 and not importlib.util.find_spec("jupyterhub_idle_culler"):
    print(
        "Warning: jupyterhub-idle-culler is not installed, so idle servers are not stopped; "
        "install it with pip install 'ethics-workbook[hub]'",
        file=sys.stderr,
    )
elif CULL_SECONDS > 0:
    _services += [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={CULL_SECONDS}",
                f"--cull-every={max(60, min(600, CULL_SECONDS // 6))}",
            ],
        }
    ]
    _roles += [
        {
            "name": "idle-culler",
            "description": "Stop idle servers",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]

if _services:
    c.JupyterHub.services = _services
if _roles:
    c.JupyterHub.load_roles = _roles
