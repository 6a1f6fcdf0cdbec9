"""Scheduling: the schedule file, due jobs, the lock, the loop and its signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from obskit.exceptions import ConfigError, InputError, NotebookError
from obskit.results import load
from obskit.runner import RunOutcome, report
from obskit.runner import schedule as sch


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _write_schedule(tmp_path, jobs, config=None):
    config_file = tmp_path / "report.yml"
    config_file.write_text(yaml.safe_dump(config or {
        "sources": {"current": "logs/"}, "out": "reports"}))
    path = tmp_path / "schedule.yml"
    path.write_text(yaml.safe_dump({"schedule": {"jobs": jobs}}))
    return path


def _job(**kw):
    return {"name": "daily", "cron": "* * * * * *", "config": "report.yml", **kw}


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the report run by a fast fake that records what it was asked."""
    calls = []

    def fake(config, *, out=None, analysis=None, run_id=None):
        calls.append({"out": out, "run_id": run_id, "start": config.period_start,
                      "end": config.period_end, "title": config.title})
        run_dir = Path(out) / (run_id or f"run{len(calls)}")
        run_dir.mkdir(parents=True, exist_ok=True)
        return RunOutcome(run_dir, "ok", load({"alerts": []}))

    monkeypatch.setattr(report, "run_report", fake)
    return calls


@pytest.mark.parametrize("job, key", [
    (_job(cron="every day"), "schedule.jobs[0].cron"),
    (_job(name=None), "schedule.jobs[0].name"),
    (_job(config="missing.yml"), "schedule.jobs[0].config"),
    (_job(window_offset="5000 rows"), "schedule.jobs[0].window_offset"),
    (_job(overrides=[1]), "schedule.jobs[0].overrides"),
    (_job(colour="red"), "schedule.jobs[0].colour"),
])
def test_bad_schedule_names_the_key(tmp_path, job, key):
    with pytest.raises(ConfigError) as err:
        sch.load_schedule(_write_schedule(tmp_path, [job]))
    assert err.value.key == key and key in str(err.value)


def test_bad_report_config_of_a_job_is_reported_with_the_job(tmp_path):
    path = _write_schedule(tmp_path, [_job()], config={"sources": {}})
    with pytest.raises(ConfigError, match=r"schedule.jobs\[0\].*sources.current"):
        sch.load_schedule(path)


def test_window_offset_periods():
    job = sch.Job("j", "0 6 * * *", "c.yml", Path("out"), window_offset="1d")
    assert sch.job_period(job, _utc(2026, 11, 3, 6)) == (_utc(2026, 11, 2), _utc(2026, 11, 3))
    weekly = sch.Job("j", "0 6 * * 3", "c.yml", Path("out"), window_offset="1w")
    assert sch.job_period(weekly, _utc(2026, 11, 4, 6)) == (_utc(2026, 10, 26),
                                                            _utc(2026, 11, 2))  # Mondays
    by_cron = sch.Job("j", "0 */6 * * *", "c.yml", Path("out"), window_offset="cron")
    assert sch.job_period(by_cron, _utc(2026, 11, 3, 12)) == (_utc(2026, 11, 3, 6),
                                                              _utc(2026, 11, 3, 12))


def test_run_due_runs_due_jobs_once(tmp_path, fake_runs):
    path = _write_schedule(tmp_path, [
        _job(name="daily", cron="0 6 * * *", window_offset="1d"),
        _job(name="hourly", cron="0 * * * *", overrides={"title": "hourly"}),
    ])
    schedule = sch.load_schedule(path)
    results = sch.run_due(schedule, now=_utc(2026, 11, 3, 7, 30))
    assert [(r.job, r.status) for r in results] == [("daily", "ok"), ("hourly", "ok")]
    assert fake_runs[0]["run_id"] == "2026-11-02"
    assert fake_runs[0]["start"] == "2026-11-02T00:00:00+00:00"
    assert fake_runs[1]["title"] == "hourly" and fake_runs[1]["start"] is None
    state = json.loads((tmp_path / "reports" / sch.STATE_FILE).read_text())
    assert state["jobs"]["daily"]["last_tick"] == "2026-11-03T06:00:00Z"
    assert state["jobs"]["hourly"]["last_status"] == "ok"
    assert sch.run_due(schedule, now=_utc(2026, 11, 3, 7, 59)) == []  # nothing new due
    again = sch.run_due(schedule, now=_utc(2026, 11, 3, 8, 0))  # a tick exactly now
    assert [r.job for r in again] == ["hourly"]
    assert len(fake_runs) == 3
    assert not (tmp_path / "reports" / sch.LOCK_FILE).exists()


def test_failing_run_is_recorded_and_the_next_job_runs(tmp_path, monkeypatch):
    def boom(config, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(report, "run_report", boom)
    schedule = sch.load_schedule(_write_schedule(tmp_path, [_job(), _job(name="second")]))
    results = sch.run_due(schedule)
    assert [r.status for r in results] == ["error", "error"]
    assert sch._exit_code(results) == 4  # as `obskit report`'s internal error
    state = json.loads((tmp_path / "reports" / sch.STATE_FILE).read_text())
    assert "disk full" in state["jobs"]["daily"]["last_error"]


@pytest.mark.parametrize("error, code", [
    (NotebookError("notebook cell 3 failed", notebook="x"), "EXIT_NOTEBOOK"),
    (InputError("logs/: no such file or directory", path="logs/"), "EXIT_INPUT"),
    (RuntimeError("a bug"), "EXIT_INTERNAL"),
])
@pytest.mark.parametrize("command", [["schedule", "--once"], ["run-due"]])
def test_a_single_pass_whose_only_run_failed_exits_as_report_would(tmp_path, monkeypatch,
                                                                   error, code, command):
    from obskit import cli

    def boom(config, **kwargs):
        raise error
    monkeypatch.setattr(report, "run_report", boom)
    path = _write_schedule(tmp_path, [_job(cron="0 6 * * *")])  # due once: never ran
    assert cli.main([*command, "--config", str(path)]) == getattr(cli, code) != 0
    assert sch.last_tick(sch.load_schedule(path).jobs[0]) is not None  # waits a tick
    assert cli.main([*command, "--config", str(path)]) == 0  # nothing due: nothing failed


def _dead_pid():
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    return int(proc.stdout)


def test_lock_taken_over_when_stale_never_when_live(tmp_path):
    lock_file = tmp_path / sch.LOCK_FILE
    live = {"pid": os.getpid(), "started_ts": time.time()}
    lock_file.write_text(json.dumps(live))
    assert not sch.RunLock(tmp_path).acquire()  # a live run holds it
    assert not sch.RunLock(tmp_path, max_age_s=3600).acquire()
    lock_file.write_text(json.dumps({**live, "started_ts": time.time() - 7200}))
    assert sch.RunLock(tmp_path, max_age_s=3600).acquire()  # older than the max age
    lock_file.write_text(json.dumps({"pid": _dead_pid(), "started_ts": time.time()}))
    with sch.RunLock(tmp_path, label="test") as lock:
        assert lock.acquire()  # its process is gone: a crashed run
        assert json.loads(lock_file.read_text())["label"] == "test"
    assert not lock_file.exists()
    lock_file.write_text("")  # being written right now: left alone ...
    assert not sch.RunLock(tmp_path).acquire()
    os.utime(lock_file, (time.time() - 60, time.time() - 60))
    assert sch.RunLock(tmp_path).acquire()  # ... unless it stays unreadable


def test_busy_folder_is_skipped_not_recorded(tmp_path, fake_runs):
    schedule = sch.load_schedule(_write_schedule(tmp_path, [_job()]))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / sch.LOCK_FILE).write_text(json.dumps(
        {"pid": os.getpid(), "started_ts": time.time()}))
    assert [r.status for r in sch.run_due(schedule)] == ["busy"]
    assert fake_runs == [] and not (tmp_path / "reports" / sch.STATE_FILE).exists()


def test_loop_runs_a_job_on_every_tick(tmp_path, fake_runs):
    schedule = sch.load_schedule(_write_schedule(tmp_path, [_job()]))
    results = sch.serve(schedule, max_runs=2)
    assert len(results) == 2 and results[1].tick > results[0].tick
    stop = threading.Event()
    stop.set()
    assert sch.serve(schedule, stop=stop) == []


# -- with the real report --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    from obskit.demo import generate_demo

    files = generate_demo(tmp_path_factory.mktemp("demo") / "data", rows=2000)
    return files.config


@pytest.mark.e2e
def test_loop_runs_the_real_report_twice_into_the_history(tmp_path, demo_config):
    path = tmp_path / "schedule.yml"
    path.write_text(yaml.safe_dump({"schedule": {"jobs": [{
        "name": "fast", "cron": "* * * * * *", "config": str(demo_config),
        "overrides": {"out": str(tmp_path / "reports"), "title": "<script>x</script>",
                      "multivariate": {"enabled": False}, "estimation": False,
                      # the demo's latency spike and error burst (days 9 and 10)
                      "period": {"start": "2026-11-09", "end": "2026-11-11"}}}]}}))
    results = sch.serve(sch.load_schedule(path), max_runs=2)
    assert [r.status for r in results] == ["alert", "alert"]
    root = tmp_path / "reports"
    runs = sorted(p.name for p in root.iterdir()  # not latest, not .cache (hidden)
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    assert runs == sorted(r.run_dir.name for r in results)
    page = (root / "index.html").read_text()
    assert all(f'href="{name}/index.html"' in page for name in runs)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    second = json.loads((results[1].run_dir / "alerts.json").read_text())["events"]
    assert second["firing"] == [] and second["ongoing"]  # announced by the first run only
    assert not (root / sch.LOCK_FILE).exists()


_SERVE = textwrap.dedent("""
    import argparse, sys, time
    from obskit.runner import execute, report, schedule
    sys.path.insert(0, {tests!r})
    from test_runner import fake_run
    report.analyze = lambda config: fake_run()
    execute.notebook_path = lambda name=execute.NOTEBOOK: {notebook!r}
    sys.exit(schedule.run(argparse.Namespace(config={config!r}, once=False)))
""")


@pytest.mark.e2e
def test_sigterm_stops_the_loop_after_the_current_run(tmp_path):
    import nbformat
    from test_runner import _notebook

    notebook = tmp_path / "slow.ipynb"
    nbformat.write(_notebook("import time\ntime.sleep(4)"), notebook)
    path = _write_schedule(tmp_path, [_job()])
    script = _SERVE.format(tests=str(Path(__file__).parent), notebook=str(notebook),
                           config=str(path))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "reports" / sch.LOCK_FILE
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert lock.exists(), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "SIGTERM received: stopping after the current run" in out
    assert "scheduler stopped" in out
    runs = [p for p in (tmp_path / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1 and (runs[0] / "index.html").is_file()  # completed, not cut
    assert not lock.exists() and not list((tmp_path / "reports").glob(".tmp-*"))


def test_a_report_config_holding_its_own_schedule(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"sources": {"current": "logs/"}, "out": "reports",
                                    "schedule": {"jobs": [{"name": "daily",
                                                           "cron": "0 6 * * *"}]}}))
    schedule = sch.load_schedule(path)  # the job's config is the file itself
    (job,) = schedule.jobs
    assert job.config == str(path.resolve()) and job.out == tmp_path / "reports"
