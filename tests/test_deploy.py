"""The deployment files in deploy/ that no test can run for real here (Kubernetes, TLJH, a
production JupyterHub): they parse, they agree with each other and with the app, and the
Python in them does what its comments say. tests/test_hub.py runs the real hub."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

from tests.conftest import REPO
from workbook.roles import Role, load_roles
from workbook.serve import START_PAGE

DEPLOY = REPO / "deploy"
Z2JH = DEPLOY / "z2jh"
LAB_OFF = [
    "--ServerApp.jpserver_extensions=jupyterlab=False",
    "--ServerApp.jpserver_extensions=jupyter_lsp=False",
    "--ServerApp.jpserver_extensions=jupyter_server_terminals=False",
    "--ServerApp.terminals_enabled=False",
]


def spawner(*groups: str, args: list[str] | None = None) -> SimpleNamespace:
    user = SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups])
    return SimpleNamespace(user=user, args=list(args or []), environment={"KEEP": "1"})


def test_kubernetes_files_parse_and_use_one_volume_one_path():
    values = yaml.safe_load((Z2JH / "values.yaml").read_text())
    job = yaml.safe_load((Z2JH / "export-job.yaml").read_text())
    pvc = yaml.safe_load((Z2JH / "workspace-pvc.yaml").read_text())
    dockerfile = (Z2JH / "Dockerfile").read_text()

    single = values["singleuser"]
    assert single["defaultUrl"] == "/" + START_PAGE
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    claim = pvc["metadata"]["name"]
    pod = job["spec"]["template"]["spec"]
    assert [v["persistentVolumeClaim"]["claimName"] for v in single["storage"]["extraVolumes"]] == [
        claim
    ]
    assert [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]] == [claim]
    (user_mount,) = single["storage"]["extraVolumeMounts"]
    (job_mount,) = pod["containers"][0]["volumeMounts"]
    assert user_mount["mountPath"] == job_mount["mountPath"]

    workspace = single["extraEnv"]["WORKBOOK_WORKSPACE"]
    job_env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    image_env = re.search(r"WORKBOOK_WORKSPACE=(\S+)", dockerfile).group(1)
    assert workspace == job_env["WORKBOOK_WORKSPACE"] == image_env
    assert workspace.startswith(user_mount["mountPath"] + "/")
    assert pod["containers"][0]["image"] == f"{single['image']['name']}:{single['image']['tag']}"
    assert pod["containers"][0]["command"][:2] == ["workbook", "export"]
    assert values["cull"]["enabled"] is True


def test_the_z2jh_extra_config_gives_jupyterlab_only_to_admins():
    (code,) = yaml.safe_load((Z2JH / "values.yaml").read_text())["hub"]["extraConfig"].values()
    c = Config()
    exec(compile(code, "values.yaml:hub.extraConfig", "exec"), {"c": c})
    hook = c.KubeSpawner.pre_spawn_hook
    author, admin = spawner("authors"), spawner("admins", args=["--keep"])
    hook(author)
    hook(admin)
    assert author.args == LAB_OFF
    assert admin.args == ["--keep"]


def test_the_tljh_snippet_sets_the_start_page_workspace_and_umask():
    c = Config()
    code = (DEPLOY / "tljh" / "ethics-workbook.py").read_text()
    exec(compile(code, "ethics-workbook.py", "exec"), {"get_config": lambda: c})
    assert c.Spawner.default_url == "/" + START_PAGE
    assert c.Spawner.environment["WORKBOOK_WORKSPACE"] == "/srv/ethics-workbook/workspace"
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"].split(":") == [
        "/opt/ethics-workbook/deploy/jupyter",
        "/opt/ethics-workbook",
    ]
    assert c.SystemdSpawner.unit_extra_properties == {"UMask": "0007"}
    assert c.Spawner.disable_user_config is True
    viewer = spawner("viewers")
    c.Spawner.pre_spawn_hook(viewer)
    assert viewer.args == LAB_OFF


def load_hub_config(monkeypatch, tmp_path: Path, **env: str) -> Config:
    for name in list(os.environ):
        if name.startswith("WORKBOOK_HUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WORKBOOK_HUB_STATE", str(tmp_path / "state"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY / "jupyterhub"))
    return loader.load_config()


def test_the_hub_config_in_production_mode(monkeypatch, tmp_path):
    c = load_hub_config(
        monkeypatch,
        tmp_path,
        WORKBOOK_HUB_USERS="erin, sam",
        WORKBOOK_HUB_ADMINS="kim",
        WORKBOOK_HUB_WORKSPACE="/srv/ew/workspace",
    )
    assert c.JupyterHub.authenticator_class == "pam"
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert c.Authenticator.allowed_users == {"erin", "sam"}
    assert c.Authenticator.admin_users == {"kim"}
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert c.JupyterHub.hub_bind_url.startswith("http://127.0.0.1:")
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert Path(c.JupyterHub.cookie_secret_file).parent == tmp_path / "state"
    assert c.Spawner.default_url == "/" + START_PAGE
    assert c.Spawner.notebook_dir == str(REPO / "notebooks")
    assert c.Spawner.disable_user_config is True
    assert c.Spawner.cmd[:3] == ["/bin/sh", "-c", 'umask 0007 && exec "$@"']
    env = c.Spawner.environment
    assert env["WORKBOOK_WORKSPACE"] == "/srv/ew/workspace"
    assert env["JUPYTER_PATH"] == str(REPO / "share" / "jupyter")
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(DEPLOY / "jupyter"), str(REPO)]
    if importlib.util.find_spec("jupyterhub_idle_culler"):  # the `hub` extra
        assert [s["name"] for s in c.JupyterHub.services] == ["idle-culler"]
        assert "--timeout=3600" in c.JupyterHub.services[0]["command"]
    else:  # a warning, and no service that would fail to start
        assert "services" not in c.JupyterHub
    author, admin = spawner("authors"), spawner("admins")
    c.Spawner.pre_spawn_hook(author)
    c.Spawner.pre_spawn_hook(admin)
    assert author.args == LAB_OFF
    assert admin.args == []
    # without JupyterLab, the server takes widget messages only (workbook.hub_extension)
    assert author.environment == {"KEEP": "1", "WORKBOOK_HUB_VOILA_ONLY": "1"}
    assert admin.environment == {"KEEP": "1"}
    assert "load_groups" not in c.JupyterHub


def test_the_hub_config_for_trying_it_out(monkeypatch, tmp_path):
    c = load_hub_config(
        monkeypatch,
        tmp_path,
        WORKBOOK_HUB_TRY="1",
        WORKBOOK_HUB_PASSWORD="a-long-password",
        WORKBOOK_HUB_CULL_SECONDS="0",
    )
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.Authenticator.allowed_users == {"alice", "bob", "carol", "dana"}
    assert {g: v["users"] for g, v in c.JupyterHub.load_groups.items()} == {
        "authors": ["alice"],
        "reviewers": ["bob"],
        "viewers": ["carol"],
        "admins": ["dana"],
    }
    assert "services" not in c.JupyterHub


def test_the_server_config_turns_the_identity_extension_on_and_mathjax_off():
    settings = json.loads((DEPLOY / "jupyter" / "jupyter_server_config.json").read_text())
    assert settings["ServerApp"]["jpserver_extensions"] == {
        "voila.server_extension": True,
        "workbook.hub_extension": True,
    }
    mathjax = {"mathjax_url": None, "mathjax_config": None}
    assert settings["ServerApp"]["tornado_settings"] == mathjax


def test_the_example_roles_file_maps_the_hub_groups(tmp_path):
    (tmp_path / "roles.yaml").write_text((DEPLOY / "jupyterhub" / "roles.yaml").read_text())
    roles = load_roles(tmp_path)
    assert roles is not None
    assert dict(roles.groups) == {
        "authors": {Role("author")},
        "reviewers": {Role("reviewer")},
        "viewers": {Role("viewer")},
        "admins": {Role("admin")},
    }
    assert dict(roles.users) == {}


def test_the_lock_check_sees_a_lock_held_by_another_process(tmp_path):
    script = [sys.executable, str(DEPLOY / "check_workspace_lock.py")]
    holder = subprocess.Popen(
        [*script, "hold", str(tmp_path), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert "holding the lock" in holder.stdout.readline()
        held = subprocess.run([*script, "try", str(tmp_path)], capture_output=True, text=True)
        assert held.returncode == 0, held.stdout + held.stderr
        assert held.stdout.startswith("OK: ")
    finally:
        holder.terminate()
        holder.wait(timeout=10)
        holder.stdout.close()
    deadline = time.monotonic() + 10
    while True:
        free = subprocess.run([*script, "try", str(tmp_path)], capture_output=True, text=True)
        if free.returncode == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert free.returncode == 1
    assert free.stdout.startswith("NOT SAFE: ")


@pytest.mark.parametrize("args", [[], ["hold"], ["try", "/no/such/folder"], ["hold", ".", "x"]])
def test_the_lock_check_refuses_bad_arguments_with_its_usage(args):
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "check_workspace_lock.py"), *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("usage: check_workspace_lock.py")
    assert "Traceback" not in done.stderr
