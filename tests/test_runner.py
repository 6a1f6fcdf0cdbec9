"""The runner's publishing rules: retention, alert events, stale temporary folders,
notebook timeout. The notebook step is faked except in the e2e tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from obskit import runner
from obskit.config import Config
from obskit.exceptions import NotebookError
from obskit.results import load
from obskit.runner import execute


def fake_summary(alerts=(), end="2026-11-02T00:00:00Z", insufficient=()):
    """The summary.json document of a small fake analysis."""
    return {"schema_version": "1.0", "status": "alert" if alerts else "ok",
            "title": "fake", "task": "binary", "roles": ["score"], "window": "1d",
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "period": {"start": "2026-11-01T00:00:00Z", "end": end},
            "rows": {"current": 10}, "windows": [
                {"status": "ok", "health": {"latency_p95_ms": 100.0}}],
            "alerts": [dict(a) for a in alerts],
            "insufficient_data": list(insufficient)}


def fake_run(alerts=(), end="2026-11-02T00:00:00Z", insufficient=()):
    """The typed run of a small fake analysis."""
    return load(fake_summary(alerts, end, insufficient))


def _notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("summary_path = None",
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(source)]
    return nb


@pytest.fixture
def fake_notebook(monkeypatch):
    """Skip papermill: the 'executed' notebook is a one-cell copy."""
    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(_notebook("print('report')"), output)
    monkeypatch.setattr(execute, "execute_notebook", fake_execute)


def _config(tmp_path, **kwargs):
    return Config(current=str(tmp_path / "logs"), out=str(tmp_path / "out"), **kwargs)


LATENCY = {"rule": "latency_p95", "metric": "health.latency_p95_ms", "value": 900.0,
           "segment": None, "severity": "critical", "window_end": "2026-11-02T00:00:00Z"}


def test_alerts_json_records_events_fire_silence_resolve(tmp_path, fake_notebook):
    config = _config(tmp_path)
    outcomes = [runner.run_report(config, analysis=fake_run(alerts))
                for alerts in ([LATENCY], [LATENCY], [])]
    assert [len(o.events.firing) for o in outcomes] == [1, 0, 0]
    assert [len(o.events.ongoing) for o in outcomes] == [0, 1, 0]
    assert [len(o.events.resolved) for o in outcomes] == [0, 0, 1]
    doc = json.loads((outcomes[0].run_dir / "alerts.json").read_text())
    assert doc["alerts"][0]["rule"] == "latency_p95"
    assert doc["events"]["firing"][0]["rule"] == "latency_p95"
    resolved = json.loads((outcomes[2].run_dir / "alerts.json").read_text())["events"]
    assert resolved["resolved"][0]["resolution"]["last_value"] == 100.0
    assert resolved["resolved"][0]["resolution"]["run_id"] == outcomes[2].run_id


def test_retention_keeps_n_and_never_latest(tmp_path, fake_notebook):
    config = _config(tmp_path, keep=2)
    root = Path(config.out)
    (root / "old-failed").mkdir(parents=True)  # a failed run counts as a run
    (root / "old-failed" / "summary.json").write_text(json.dumps({"status": "failed"}))
    os.utime(root / "old-failed" / "summary.json", (1, 1))
    ids = [runner.run_report(config, analysis=fake_run(), run_id=f"r{i}").run_id
           for i in range(4)]
    kept = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    assert kept == ids[-2:]
    assert (root / "latest").resolve().name == ids[-1]
    page = (root / "index.html").read_text()
    assert ids[-1] in page and ids[0] not in page
    # latest is never removed, even when it is the oldest
    (root / "latest").unlink()
    (root / "latest").symlink_to(ids[-2])
    os.utime(root / ids[-2] / "summary.json", (1, 1))
    assert runner.apply_retention(root, 1) == []  # the newest, plus latest's target
    assert (root / ids[-2]).is_dir() and (root / ids[-1]).is_dir()


def test_stale_tmp_of_a_dead_run_is_removed_live_one_kept(tmp_path, fake_notebook):
    config = _config(tmp_path)
    root = Path(config.out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    for name, pid in (("dead", dead), ("alive", os.getpid())):
        (root / f".tmp-{name}").mkdir(parents=True)
        (root / f".tmp-{name}" / runner.OWNER_FILE).write_text(json.dumps({"pid": int(pid)}))
    outcome = runner.run_report(config, analysis=fake_run())
    assert not (root / ".tmp-dead").exists()
    assert (root / ".tmp-alive").exists()
    assert not (outcome.run_dir / runner.OWNER_FILE).exists()


def test_forced_rerun_replaces_and_latest_never_moves_back(tmp_path, fake_notebook):
    config = _config(tmp_path)
    root = Path(config.out)
    runner.run_report(config, analysis=fake_run(end="2026-11-03T00:00:00Z"), run_id="new")
    runner.run_report(config, analysis=fake_run(end="2026-11-02T00:00:00Z"), run_id="old")
    assert (root / "latest").resolve().name == "new"  # a backfilled past period
    again = runner.run_report(config, analysis=fake_run([LATENCY],
                                                            end="2026-11-02T00:00:00Z"),
                              run_id="old")
    assert json.loads((again.run_dir / "summary.json").read_text())["status"] == "alert"
    assert not list(root.glob(".old-*")) and not list(root.glob(".tmp-*"))


@pytest.mark.e2e
def test_a_finished_kernel_is_shut_down_without_an_interrupt(tmp_path):
    """jupyter_client sends SIGINT before every shutdown; a kernel still finishing a message
    then printed ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.`` at the end
    of a good run. The cells are done by then: the kernel is shut down, not interrupted."""
    marker = tmp_path / "sigint"
    source = ("import signal\n"
              f"record = lambda *a: open({str(marker)!r}, 'w').write('SIGINT')\n"
              "# from now on the kernel's SIGINT handler records, between messages too\n"
              "get_ipython().kernel.post_handler_hook = "
              "lambda: signal.signal(signal.SIGINT, record)\n")
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(source), notebook)
    execute.execute_notebook(notebook, tmp_path / "out.ipynb", {"summary_path": None})
    time.sleep(0.5)  # the kernel process is gone by now; nothing may arrive later
    assert not marker.exists()


@pytest.mark.e2e
def test_hung_notebook_times_out_and_counts_as_failed(tmp_path, monkeypatch):
    sleeper = tmp_path / "sleeper.ipynb"
    nbformat.write(_notebook("import time\ntime.sleep(600)"), sleeper)
    monkeypatch.setattr(execute, "notebook_path", lambda name=runner.NOTEBOOK: sleeper)
    config = _config(tmp_path, notebook_timeout_s=3.0)
    started = time.monotonic()
    with pytest.raises(NotebookError, match="timed out after 3 s") as err:
        runner.run_report(config, analysis=fake_run(), run_id="r1")
    assert time.monotonic() - started < 60
    failed = Path(err.value.notebook).parent
    assert failed.name == "r1-failed" and (failed / runner.NOTEBOOK).is_file()
    summary = json.loads((failed / "summary.json").read_text())
    assert summary["status"] == "failed" and "timed out" in summary["error"]
    doc = json.loads((failed / "alerts.json").read_text())
    (synthetic,) = [a for a in doc["alerts"] if a["rule"] == "report_failed"]
    assert synthetic["severity"] == "critical"
    assert [a["rule"] for a in doc["events"]["firing"]] == ["report_failed"]
    page = (Path(config.out) / "index.html").read_text()
    assert "r1-failed" in page and "timed out" in page
    assert not (Path(config.out) / "latest").exists()
    assert not list(Path(config.out).glob(".tmp-*"))


def test_summary_records_render_time_config_and_deep_dive_commands(tmp_path, fake_notebook):
    summary = fake_summary()
    summary["timings"] = {"analyse_s": 1.5}
    summary["findings"] = [{"severity": "warning", "kind": "feature_drift",
                            "feature": "income", "text": "income drifted",
                            "section": "drift", "next_step": "",
                            "command": "obskit deep-dive --config CONFIG.yml "
                                       "--feature income"}]
    with_finding = load(summary)

    config_file = tmp_path / "my config.yml"
    outcome = runner.run_report(_config(tmp_path), analysis=with_finding, run_id="r1",
                                config_path=config_file)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["timings"]["analyse_s"] == 1.5  # the analysis' own stages are kept
    assert 0 <= summary["timings"]["render_s"] < 60
    assert summary["config_path"] == str(config_file.resolve())
    assert summary["run_dir"] == str(outcome.run_dir.resolve())
    assert summary["findings"][0]["command"] == (
        f"obskit deep-dive --config '{config_file.resolve()}' --feature income "
        f"--summary {outcome.run_dir.resolve() / 'summary.json'}")


def test_run_notebook_publishes_atomically_and_keeps_failures(tmp_path, monkeypatch):
    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        if parameters.get("fail"):
            nbformat.write(_notebook("raise ValueError"), output)
            raise NotebookError("cell 1 failed", notebook=str(output))
        nbformat.write(_notebook(f"print({parameters['feature']!r})"), output)

    monkeypatch.setattr(execute, "execute_notebook", fake_execute)
    config = _config(tmp_path)
    run_dir = runner.run_notebook(config, "monitoring_report.ipynb",
                                  parameters={"feature": "a/b <c>"}, out=tmp_path / "dives",
                                  name="drift-a/b <c>", title="t")
    assert run_dir.name.startswith("drift-a-b-c-") and run_dir.parent == tmp_path / "dives"
    assert (run_dir / "index.html").is_file()
    assert (run_dir / "monitoring_report.ipynb").is_file()
    assert not (run_dir / "summary.json").exists()  # never mistaken for a report run
    with pytest.raises(NotebookError) as err:
        runner.run_notebook(config, "monitoring_report.ipynb", parameters={"fail": True},
                            out=tmp_path / "dives", name="x", title="t")
    assert Path(err.value.notebook).parent.name.endswith("-failed")
    assert not list((tmp_path / "dives").glob(".tmp-*"))


def test_first_report_failing_leaves_a_history_without_a_latest_link(tmp_path, monkeypatch):
    def failing(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(_notebook("raise ValueError('boom')"), output)
        raise NotebookError("notebook cell 1 failed: ValueError: boom", notebook=str(output))
    monkeypatch.setattr(execute, "execute_notebook", failing)
    config = _config(tmp_path)
    with pytest.raises(NotebookError):
        runner.run_report(config, analysis=fake_run(), run_id="r1")
    root = Path(config.out)
    page = (root / "index.html").read_text()
    assert not (root / "latest").exists() and "latest/" not in page
    assert 'href="r1-failed/monitoring_report.ipynb"' in page and "ValueError: boom" in page
    assert (root / "r1-failed" / runner.NOTEBOOK).is_file()  # the link resolves

    def good(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(_notebook("print('report')"), output)
    monkeypatch.setattr(execute, "execute_notebook", good)
    runner.run_report(config, analysis=fake_run(), run_id="r2")
    page = (root / "index.html").read_text()
    assert 'href="latest/index.html"' in page and (root / "latest" / "index.html").is_file()
    assert "r1-failed" in page


@pytest.mark.e2e
def test_notebook_run_prints_no_unencrypted_transport_warning(tmp_path, capfd):
    notebook = tmp_path / "hello.ipynb"
    nbformat.write(_notebook("print('hello')"), notebook)
    execute.execute_notebook(notebook, tmp_path / "out.ipynb", {}, timeout_s=120)
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert out.cells[-1].outputs[0]["text"] == "hello\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out


def test_relative_out_folder_gives_the_notebook_a_path_it_can_open(tmp_path, monkeypatch):
    """The notebook runs in the run folder (papermill's cwd): a relative ``out`` (the
    default ``reports/latest``) must still hand it a summary path that opens from there."""
    seen = []

    def execute_in_run_folder(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        summary = Path(output.parent, parameters["summary_path"])  # as the kernel sees it
        seen.append(json.loads(summary.read_text())["title"])
        nbformat.write(_notebook("print('report')"), output)

    monkeypatch.setattr(execute, "execute_notebook", execute_in_run_folder)
    monkeypatch.chdir(tmp_path)
    outcome = runner.run_report(Config(current="logs", out="reports/latest"),
                                analysis=fake_run())
    assert seen == ["fake"]
    assert outcome.run_dir == tmp_path / "reports" / "latest" / outcome.run_id
