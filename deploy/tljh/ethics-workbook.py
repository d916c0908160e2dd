# ethics-workbook on The Littlest JupyterHub (TLJH). Copy this file to
#
#   /opt/tljh/config/jupyterhub_config.d/ethics-workbook.py
#
# and run `sudo tljh-config reload`. TLJH loads every .py file in that folder after its own
# settings (its "escape hatch"), so what is set here wins. See deploy/tljh/README.md for
# the other steps; the settings are those of deploy/jupyterhub/jupyterhub_config.py, whose
# comments give the reasons.
#
# NOT CHECKED on a TLJH server: this file is only compiled and run against a plain traitlets
# config by tests/test_deploy.py.

APP = "/opt/ethics-workbook"  # the clone of the repository (README step 2)
WORKSPACE = "/srv/ethics-workbook/workspace"  # the shared workspace (README step 3)
LAB_GROUPS = {"admins"}  # hub groups that also get JupyterLab and a terminal

c = get_config()  # noqa: F821  (provided by JupyterHub)

# After login: the app's start page, not JupyterLab (tljh-config's default_app only offers
# JupyterLab or the classic notebook; this file is read after it).
c.Spawner.default_url = "/voila/render/00-start.ipynb"
c.Spawner.notebook_dir = APP + "/notebooks"
c.Spawner.environment = {
    "WORKBOOK_WORKSPACE": WORKSPACE,
    "JUPYTER_PATH": APP + "/share/jupyter",
    "JUPYTER_CONFIG_PATH": APP + "/deploy/jupyter:" + APP,
}
# Users' own Jupyter config files must not turn the identity extension off.
c.Spawner.disable_user_config = True
# TLJH runs each user's server as the unix user jupyter-<name>, all in the group
# jupyterhub-users, under systemd. With the workspace owned by that group and setgid (chmod
# 2770) and this umask, every file one user's server creates can be saved by the others.
c.SystemdSpawner.unit_extra_properties = {"UMask": "0007"}


def _ethics_workbook_args(spawner):
    if LAB_GROUPS & {g.name for g in spawner.user.groups}:
        return
    off = ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals")
    spawner.args = [
        *(f"--ServerApp.jpserver_extensions={name}=False" for name in off),
        "--ServerApp.terminals_enabled=False",
    ]
    # widget messages only, no writes through the API (workbook.hub_extension)
    spawner.environment = {**spawner.environment, "WORKBOOK_HUB_VOILA_ONLY": "1"}


c.Spawner.pre_spawn_hook = _ethics_workbook_args

# Hub groups (see deploy/jupyterhub/roles.yaml): create them and add people at /hub/admin,
# or list them here, e.g.
#   c.JupyterHub.load_groups = {
#       "authors": {"users": ["erin"]},
#       "reviewers": {"users": ["sam"]},
#       "viewers": {"users": []},
#       "admins": {"users": ["kim"]},
#   }
