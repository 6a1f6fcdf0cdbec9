"""environment.yml: a conda environment with the package, JupyterLab and the widgets, its
pins the same as pyproject.toml's (conda cannot be run here; the file is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    """``prometheus_client>=0.20`` → ``prometheus-client`` (PEP 503 normalised, no pins)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0]).lower()


def _pins(spec: str) -> str:
    return re.sub(r"^[A-Za-z0-9_.-]+(\[[^\]]*\])?", "", spec).replace(" ", "")


def test_environment_gives_jupyterlab_widgets_and_the_package():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["name"] == "obskit" and env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    names = {_name(d) for d in conda}
    assert {"jupyterlab", "ipywidgets", "ipykernel", "pip"} <= names
    assert "-e ." in pip  # the package itself, from the folder holding environment.yml


def test_environment_pins_every_dependency_as_pyproject_does():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        for spec in dep["pip"] if isinstance(dep, dict) else [dep]:
            if not spec.startswith("-"):
                listed[_name(spec)] = _pins(spec)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        assert listed.get(_name(spec)) == _pins(spec), spec
    python = project["requires-python"]
    assert listed["python"].startswith(python)
