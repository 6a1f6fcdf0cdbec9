"""The wheel built from this repository: it carries the notebooks (the same files as
``notebooks/``), and installed into a fresh virtualenv, outside the repository, it writes
the demo and publishes a report. pip builds with setuptools and installs the dependencies
from PyPI (or its cache): the install takes minutes on a cold cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parent.parent
#: what a build needs is the package, the notebooks and the build files
_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "reports",
                                 "demo-data", "__pycache__", ".*_cache", "tests",
                                 "benchmarks", "docs")


def _env() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH (the repository must not win),
    no virtualenv of ours, no telemetry."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(DO_NOT_TRACK="1", ITERATIVE_DO_NOT_TRACK="1", NML_DISABLE_USAGE_LOGGING="1",
               MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} -> {done.returncode}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built by pip from a copy of the repository's sources (the working tree
    gets no build/ or egg-info)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
          str(src)], cwd=root, timeout=600)
    (built,) = (root / "dist").glob("obskit-*.whl")
    return built


def test_wheel_carries_the_notebooks_users_open(wheel):
    with zipfile.ZipFile(wheel) as whl:
        shipped = {Path(n).name: whl.read(n) for n in whl.namelist()
                   if n.startswith("obskit/notebooks/")}
    opened = {p.name: p.read_bytes() for p in (REPO / "notebooks").glob("*.ipynb")}
    assert opened and shipped == opened  # every one, byte for byte: one copy


def test_wheel_in_a_fresh_virtualenv_writes_the_demo_and_reports(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    started = time.monotonic()
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path,
         timeout=1800)
    print(f"pip install of the wheel and its dependencies: "
          f"{time.monotonic() - started:.0f} s")
    outside = tmp_path / "work"  # not the repository, and nothing of it on the path
    outside.mkdir()
    found = _run([str(bin_dir / "python"), "-c", "import obskit; print(obskit.__file__)"],
                 cwd=outside, timeout=300).stdout.strip()
    assert Path(found).is_relative_to(venv)
    obskit = str(bin_dir / "obskit")
    _run([obskit, "demo", "--rows", "5000", "--out", "demo"], cwd=outside, timeout=600)
    done = _run([obskit, "report", "--config", "demo/config.yml", "--out", "reports"],
                cwd=outside, timeout=1800)
    assert "status:" in done.stdout
    page = outside / "reports" / "latest" / "index.html"
    assert page.is_file() and "Findings" in page.read_text()
    assert (outside / "reports" / "index.html").is_file()
