"""The package list, which pyproject.toml cannot express: every ``obskit*`` package, plus
the top-level ``notebooks/`` shipped as ``obskit/notebooks/`` (the one copy of the
notebooks; :func:`obskit.runner.notebook_path` finds them in either place). Everything
else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["obskit", "obskit.*"]), "obskit.notebooks"],
    package_dir={"obskit.notebooks": "notebooks"},
)
