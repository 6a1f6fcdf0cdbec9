"""The explorer and deep-dive notebooks, executed for real by papermill on the demo, and
the `obskit deep-dive` / `obskit investigate` commands that publish them as HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from obskit import runner
from obskit.runner import execute
from obskit.widgets import KERNEL_NOTE, ExplorerState
from tests.demo_run import demo_run

pytestmark = pytest.mark.e2e

NOTEBOOKS = ("explore.ipynb", "drift_deep_dive.ipynb", "anomaly_investigation.ipynb")
ENV = {"DO_NOT_TRACK": "1", "ITERATIVE_DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1",
       "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def run():
    files, analysis, summary_path = demo_run()
    return files, ExplorerState.from_analysis(analysis), summary_path


def _execute(name: str, tmp_path: Path, **parameters) -> Path:
    out = tmp_path / name
    execute.execute_notebook(runner.notebook_path(name), out, parameters, timeout_s=600)
    return out


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>|<img[^>]*>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_stored_without_outputs_with_a_parameters_cell(name):
    nb = nbformat.read(runner.notebook_path(name), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert any(c.cell_type == "markdown" for c in nb.cells)


def test_explore_notebook_runs_and_its_page_says_a_kernel_is_needed(run, tmp_path):
    files, state, summary_path = run
    out = _execute("explore.ipynb", tmp_path, config_path=str(files.config),
                   summary_path=str(summary_path))
    page = runner.to_html(out)
    assert "<script" not in page
    assert "needs a running Jupyter kernel" in page
    text = _text(page)
    assert "static snapshot" in text
    feature = state.top_drifted_feature()
    assert f"{feature}: worst window" in text  # the cell that drives the widgets ran


def test_drift_deep_dive_runs_on_the_top_feature_by_default(run, tmp_path):
    files, state, summary_path = run
    out = _execute("drift_deep_dive.ipynb", tmp_path, config_path=str(files.config),
                   summary_path=str(summary_path))
    page = runner.to_html(out)
    text = _text(page)
    feature = state.top_drifted_feature()
    assert f"Drift deep dive: {feature}" in text
    overview = state.drift_summary()[feature]
    assert f"drifted in {overview.drifted_windows} of {overview.windows} windows" in text
    assert "model_version=v2" in text  # the per-segment table
    assert f'alt="{feature}: reference vs each window"' in page


def test_investigation_of_a_request(run, tmp_path):
    files, state, summary_path = run
    row = state.anomalies()[2]
    out = _execute("anomaly_investigation.ipynb", tmp_path, config_path=str(files.config),
                   summary_path=str(summary_path), request_id=row.request_id)
    text = _text(runner.to_html(out))
    assert f"Investigation: request {row.request_id}" in text
    assert f"Request {row.request_id}" in text
    assert "Flagged with severity" in text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "obskit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **ENV})


def _published(proc: subprocess.CompletedProcess) -> Path:
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("report: ")]
    return Path(line.removeprefix("report: "))


def test_deep_dive_command_publishes_a_page(run, tmp_path):
    files, _, summary_path = run
    proc = _cli("deep-dive", "--config", str(files.config), "--feature", "income",
                "--summary", str(summary_path), "--out", "dives", cwd=tmp_path)
    page = _published(proc)
    assert page.parent.parent == tmp_path / "dives"
    assert page.parent.name.startswith("drift-income-")
    html = page.read_text()
    assert "<script" not in html and "Content-Security-Policy" in html
    assert "Drift deep dive: income" in _text(html)
    assert (page.parent / "drift_deep_dive.ipynb").is_file()
    assert not list((tmp_path / "dives").glob(".tmp-*"))


def test_investigate_command_publishes_a_window_page(run, tmp_path):
    files, state, summary_path = run
    window = max(state.windows(), key=lambda w: w.health.error_rate or 0)
    day = window.start[:10]
    proc = _cli("investigate", "--config", str(files.config), "--window-start", day,
                "--summary", str(summary_path), "--out", "dives", cwd=tmp_path)
    html = _published(proc).read_text()
    assert "<script" not in html
    text = _text(html)
    assert f"Window {day} to" in text
    assert "error_rate" in text  # the alert that fired in that window


def test_investigate_an_unknown_window_fails_with_the_notebook_kept(run, tmp_path):
    files, _, summary_path = run
    proc = _cli("investigate", "--config", str(files.config), "--window-start", "1999-01-01",
                "--summary", str(summary_path), "--out", "dives", cwd=tmp_path)
    assert proc.returncode == 3
    assert "no window starts at or contains it" in proc.stderr
    assert list((tmp_path / "dives").glob("investigate-1999-01-01-*-failed"))


def test_missing_summary_file_exits_2(run, tmp_path):
    files, _, _ = run
    proc = _cli("deep-dive", "--config", str(files.config), "--summary", "nope.json",
                cwd=tmp_path)
    assert proc.returncode == 2 and "nope.json" in proc.stderr


def test_kernel_note_is_plain_text():
    assert "<" not in KERNEL_NOTE and json.dumps(KERNEL_NOTE)


def test_papermill_is_imported_without_its_remote_handlers_which_stay_importable():
    """``import_papermill`` hides the cloud clients (gcsfs, ...) only while papermill is
    first imported: papermill names them missing, and they still import afterwards."""
    code = (
        "import importlib.util, sys\n"
        "from obskit.runner.execute import import_papermill\n"
        "import_papermill()\n"
        "import papermill.iorw as io\n"
        "assert 'gcsfs' not in sys.modules and 'boto3' not in sys.modules\n"
        "assert io.GCSFileSystem.__name__ == 'missing_dep'\n"
        "assert all(sys.modules.get(m, 0) is not None for m in\n"
        "           ('gcsfs', 'boto3', 'azure', 'github', 'pyarrow', 'pyarrow.fs'))\n"
        "if importlib.util.find_spec('gcsfs'):\n"
        "    import gcsfs  # noqa: F401\n"
        "print('ok')\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
