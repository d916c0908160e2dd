"""environment.yml (for conda users) lists exactly what pyproject.toml installs."""

from __future__ import annotations

import re

import yaml
from packaging.requirements import Requirement

from tests.conftest import REPO

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

# pip name -> conda-forge name, where they differ.
CONDA_NAMES: dict[str, str] = {}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _pip_requirements() -> dict[str, str]:
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    reqs = [Requirement(r) for r in project["dependencies"] + extras["test"] + extras["evidence"]]
    return {CONDA_NAMES.get(r.name.lower(), r.name.lower()): _spec(str(r.specifier)) for r in reqs}


def _spec(spec: str) -> str:
    return ",".join(sorted(part.strip() for part in spec.split(",") if part.strip()))


def _conda() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda: dict[str, str] = {}
    pip: list = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip = dep["pip"]
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
        conda[name.lower()] = _spec(spec)
    return conda, pip


def _pip_only(pip: list) -> dict[str, str]:
    """Packages installed by pip inside the conda environment (not on conda-forge)."""
    out = {}
    for line in pip:
        if line != "-e .":
            req = Requirement(line.split("#")[0].strip())
            out[req.name.lower()] = _spec(str(req.specifier))
    return out


def test_conda_forge_channel_and_editable_install():
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    _, pip = _conda()
    assert pip[-1] == "-e ."


def test_python_version_matches_requires_python():
    conda, _ = _conda()
    assert conda["python"] == _spec(_pyproject()["project"]["requires-python"])


def test_every_dependency_is_in_both_files_with_the_same_bounds():
    conda, pip = _conda()
    conda = {k: v for k, v in conda.items() if k not in {"python", "pip"}}
    assert not set(conda) & set(_pip_only(pip)), "listed twice in environment.yml"
    assert {**conda, **_pip_only(pip)} == _pip_requirements()


def test_the_stack_named_in_the_issue_is_there():
    conda, _ = _conda()
    for name in (
        "python",
        "jupyterlab",
        "ipywidgets",
        "voila",
        "nbconvert",
        "papermill",
        "pytest",
        "nbval",
    ):
        assert name in conda
