"""Backfill: one run per period, resumable, --force reruns (the report run is faked)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from obskit.results import load
from obskit.runner import RunOutcome, report
from obskit.runner import backfill as bf

DAY = timedelta(days=1)


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the report run: record (run_id, period) and write a finished run folder."""
    calls: list[tuple[str, str, str]] = []
    fail_on: set[str] = set()

    def fake(config, *, out=None, analysis=None, run_id=None, remediation_dry_run=None):
        # a backfill never lets remediation act on a past period
        assert remediation_dry_run == bf.BACKFILL_DRY_RUN == "backfill of a past period"
        if run_id in fail_on:
            raise KeyboardInterrupt  # the process is killed mid-backfill
        calls.append((run_id, config.period_start, config.period_end))
        run_dir = Path(out) / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        summary = {"status": "ok", "alerts": []}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return RunOutcome(run_dir, "ok", load(summary))

    monkeypatch.setattr(report, "run_report", fake)
    return calls, fail_on


def _overrides(tmp_path):
    return {"sources": {"current": str(tmp_path / "logs")}, "out": str(tmp_path / "out")}


def test_periods_are_half_open_and_named_by_start():
    got = bf.periods(_utc(2026, 11, 1), _utc(2026, 11, 4), DAY)
    assert got == [(_utc(2026, 11, d), _utc(2026, 11, d + 1)) for d in (1, 2, 3)]
    assert [bf.period_run_id(s) for s, _ in bf.periods(_utc(2026, 11, 1),
                                                       _utc(2026, 11, 1, 12),
                                                       timedelta(hours=6))] == [
        "2026-11-01", "2026-11-01T0600Z"]


def test_resumes_after_an_interruption_and_force_reruns(tmp_path, fake_runs):
    calls, fail_on = fake_runs
    kwargs = dict(start=_utc(2026, 11, 1), end=_utc(2026, 11, 5), every=DAY,
                  overrides=_overrides(tmp_path), progress=False)
    fail_on.add("2026-11-03")
    with pytest.raises(KeyboardInterrupt):
        bf.backfill(None, **kwargs)
    assert [c[0] for c in calls] == ["2026-11-01", "2026-11-02"]
    assert calls[0][1:] == ("2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00")
    assert not (tmp_path / "out" / ".lock").exists()  # released on the way out

    fail_on.clear()
    calls.clear()
    results = bf.backfill(None, **kwargs)
    assert [c[0] for c in calls] == ["2026-11-03", "2026-11-04"]
    assert [r.status for r in results] == ["skipped", "skipped", "ok", "ok"]

    calls.clear()
    bf.backfill(None, force=True, **kwargs)
    assert [c[0] for c in calls] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]


def test_run_exit_codes_and_status_lines(tmp_path, fake_runs, monkeypatch, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    bf.add_parser(sub)
    argv = ["backfill", "--current", str(tmp_path / "logs"), "--out", str(tmp_path / "out"),
            "--from", "2026-11-01", "--to", "2026-11-03", "--every", "1d"]
    assert bf.run(parser.parse_args(argv)) == 0
    out = capsys.readouterr().out
    assert "2026-11-01 ok (0 alerts)" in out and "2026-11-02 ok" in out

    def broken(config, *, out=None, analysis=None, run_id=None, remediation_dry_run=None):
        from obskit.exceptions import NotebookError
        if run_id == "2026-11-03":
            raise NotebookError("cell 3 failed", notebook=str(Path(out) / "x-failed" / "nb"))
        return fake_runs_outcome(out, run_id)

    def fake_runs_outcome(out, run_id):
        run_dir = Path(out) / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        summary = {"status": "alert", "alerts": [{"rule": "r"}]}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return RunOutcome(run_dir, "alert", load(summary))

    monkeypatch.setattr(report, "run_report", broken)
    argv[argv.index("--to") + 1] = "2026-11-05"
    assert bf.run(parser.parse_args(argv)) == 3  # 11-03 failed, 11-04 still ran
    assert (tmp_path / "out" / "2026-11-04").is_dir()
    assert bf.run(parser.parse_args([*argv, "--force", "--fail-on-alert"])) == 3
    argv[argv.index("--from") + 1] = "2026-11-04"
    assert bf.run(parser.parse_args([*argv, "--force", "--fail-on-alert"])) == 1


def test_latest_stays_on_the_current_report_unless_a_backfill_is_newer(tmp_path,
                                                                        monkeypatch):
    """The real publishing (notebook and analysis faked): a backfill of the past, even of
    the current report's last day, leaves ``latest`` alone; a newer period moves it."""
    import nbformat
    from test_runner import _notebook, fake_summary

    from obskit.runner import execute
    from obskit.runner.cron import iso, parse_iso

    def fake_execute(notebook, output, parameters, *, timeout_s=1800.0, kernel=None):
        nbformat.write(_notebook("print('report')"), output)

    span = {"start": "2026-11-01", "end": "2026-11-15"}  # the log's

    def fake_analyze(config):  # the windows' span, written as analyze() writes it
        summary = fake_summary()
        summary["period"] = {
            "start": iso(parse_iso(config.period_start or span["start"])),
            "end": iso(parse_iso(config.period_end or span["end"])),
            "requested_start": config.period_start, "requested_end": config.period_end}
        return load(summary)

    monkeypatch.setattr(execute, "execute_notebook", fake_execute)
    monkeypatch.setattr(report, "analyze", fake_analyze)
    overrides = _overrides(tmp_path)
    root = tmp_path / "out"
    from obskit.config import load_config

    current = report.run_report(load_config(None, overrides=overrides), run_id="current")
    assert (root / "latest").resolve().name == "current"
    results = bf.backfill(None, start=_utc(2026, 11, 12), end=_utc(2026, 11, 15), every=DAY,
                          overrides=overrides, progress=False)
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert (root / "latest").resolve() == current.run_dir  # Nov 14 ends with it: not newer
    span.update(start="2026-11-03")  # the log's oldest files rotated out, same last day
    whole = report.run_report(load_config(None, overrides=overrides), run_id="whole")
    assert (root / "latest").resolve() == whole.run_dir  # the whole log, ending as late
    bf.backfill(None, start=_utc(2026, 11, 15), end=_utc(2026, 11, 16), every=DAY,
                overrides=overrides, progress=False)
    assert (root / "latest").resolve().name == "2026-11-15"  # the newest period
    bf.backfill(None, start=_utc(2026, 11, 15), end=_utc(2026, 11, 16), every=DAY,
                overrides=overrides, progress=False, force=True)
    assert (root / "latest").resolve().name == "2026-11-15"  # a rerun of it stays
