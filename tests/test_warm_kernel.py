"""The warm kernel: started while the analysis runs, handed to papermill for the notebook.
A notebook run in it sees what a fresh kernel gives (cells, execution counts, working
directory); a kernel that died is replaced by papermill's own; no path leaves one behind."""

from __future__ import annotations

import threading

import nbformat
import pytest

from obskit.config import load_config
from obskit.exceptions import InputError
from obskit.runner import execute, report
from obskit.runner.warm_kernel import WarmKernel, warm_kernel

pytestmark = pytest.mark.e2e

PROBE = ("import os, sys\n"
         "print(os.getcwd())\n"
         "print(sorted(m for m in ('obskit.results', 'obskit.render') if m in sys.modules))")


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("summary_path = None",
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(PROBE),
                nbformat.v4.new_code_cell("x = 6 * 7\nx")]
    return nb


def _run(tmp_path, name, kernel):
    folder = tmp_path / name
    folder.mkdir()
    source = tmp_path / "probe.ipynb"
    nbformat.write(_notebook(), source)
    execute.execute_notebook(source, folder / "out.ipynb", {"summary_path": "s.json"},
                             timeout_s=120, kernel=kernel)
    return folder, nbformat.read(str(folder / "out.ipynb"), as_version=4)


def _process(kernel: WarmKernel):
    return kernel._manager.provisioner.process


def test_a_warm_kernel_runs_the_notebook_as_a_fresh_one_does(tmp_path):
    fresh_dir, fresh = _run(tmp_path, "fresh", None)
    with warm_kernel() as kernel:
        assert kernel is not None
        process = _process(kernel)
        warm_dir, warm = _run(tmp_path, "warm", kernel)
    assert process.poll() is not None  # shut down with the block
    code = [c for c in warm.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == \
        [c.execution_count for c in fresh.cells if c.cell_type == "code"]
    assert [c.source for c in warm.cells] == [c.source for c in fresh.cells]
    # the same working directory as papermill gives a fresh kernel: the run folder
    assert fresh.cells[2].outputs[0]["text"].splitlines()[0] == str(fresh_dir)
    lines = warm.cells[2].outputs[0]["text"].splitlines()
    assert lines[0] == str(warm_dir.resolve())
    # the report's modules were imported before the first cell
    assert lines[1] == "['obskit.render', 'obskit.results']"
    assert warm.cells[3].outputs[0]["data"]["text/plain"] == "42"


def test_a_dead_warm_kernel_falls_back_to_a_fresh_one(tmp_path):
    with warm_kernel() as kernel:
        assert kernel is not None
        process = _process(kernel)
        process.kill()
        process.wait(timeout=30)
        _, out = _run(tmp_path, "run", kernel)
    assert out.cells[3].outputs[0]["data"]["text/plain"] == "42"


def test_a_failed_analysis_leaves_no_kernel_behind(tmp_path, monkeypatch):
    started: list[WarmKernel] = []
    processes = []
    real_start = WarmKernel.start

    def spy(self):
        real_start(self)
        started.append(self)
        processes.append(_process(self))

    monkeypatch.setattr(WarmKernel, "start", spy)
    config = load_config(overrides={"sources": {"current": str(tmp_path / "missing.jsonl")},
                                    "out": str(tmp_path / "reports")})
    with pytest.raises(InputError):
        report.run_report(config)
    assert len(started) == 1
    assert started[0]._manager is None
    assert processes[0].wait(timeout=30) is not None


def test_a_run_stopped_at_once_leaves_no_thread_and_prints_nothing(capfd):
    # a config error right after the kernel's start: the client is closed while its
    # channels start. The heartbeat channel (a thread) once died there with a traceback
    from jupyter_client.channels import HBChannel

    for _ in range(5):
        with warm_kernel() as kernel:
            assert kernel is not None
            assert not [t for t in threading.enumerate() if isinstance(t, HBChannel)]
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
