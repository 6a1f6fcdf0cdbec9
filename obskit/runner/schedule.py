"""Run reports on a schedule: ``obskit schedule`` (a loop) and ``obskit run-due`` (once).

A schedule file is YAML with a ``schedule:`` key::

    schedule:
      lock_max_age_s: 21600          # a lock older than this is stale (default 6 h)
      jobs:
        - name: credit-daily         # unique; letters, digits, - _ .
          cron: "0 6 * * *"          # UTC; 5 fields, or 6 with seconds last
          config: credit/config.yml  # a report config (relative to this file); default:
                                     # this file itself, when it is also a report config
          window_offset: 1d          # optional: report on the last complete day
          overrides: {title: Credit} # optional: config overrides, as in the YAML

``window_offset`` sets the run's ``period``: a duration D (``1h``, ``6h``, ``1d``, ``1w``)
gives the last complete period of length D before the tick (``1d`` at 06:00 reports on
yesterday 00:00–24:00 UTC; weeks start on Monday), and ``cron`` gives the time since the
previous tick. A job with a ``window_offset`` names its runs by period start
(``2026-11-03``, as ``obskit backfill`` does), so a rerun of a period replaces it.

**Due.** A job is due when its latest tick at or before now is later than the last tick it
ran for (recorded in ``<out>/schedule_state.json``); a job that never ran is due at once.
Missed ticks collapse into one run for the latest tick: use ``obskit backfill`` to replay
periods. A run that fails is logged and recorded, and the job waits for its next tick.

**One run at a time per report folder**: ``<out>/.lock`` holds the pid, host and start
time of the run. A lock whose process is gone (same host) or older than
``lock_max_age_s`` is stale and taken over; a busy folder is skipped and retried later.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.config.schedule import DEFAULT_LOCK_MAX_AGE_S, schedule_section
from obskit.exceptions import (
    EXIT_ALERT,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NOTEBOOK,
    EXIT_OK,
    ConfigError,
    NotebookError,
    ObskitError,
)
from obskit.runner import report
from obskit.runner.cron import due_tick, iso, next_tick, offset_period, parse_iso, period_run_id
from obskit.runner.lock import LOCK_FILE, RunLock

__all__ = ["Job", "Schedule", "JobResult", "load_schedule", "parse_schedule", "job_period",
           "last_tick", "run_job", "run_due", "serve", "add_parser", "run",
           "configure_logging", "STATE_FILE", "LOCK_FILE"]

log = logging.getLogger(__name__)

STATE_FILE = "schedule_state.json"
#: the scheduler loop wakes at least this often
_MAX_SLEEP_S = 30.0



def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- the schedule file -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One scheduled report. ``config`` is an absolute path; ``out`` its report folder."""

    name: str
    cron: str
    config: str
    out: Path
    window_offset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)


@dataclass(frozen=True)
class Schedule:
    """The jobs of a schedule file; a lock older than ``lock_max_age_s`` (seconds) is
    stale."""

    jobs: tuple[Job, ...]
    lock_max_age_s: float = DEFAULT_LOCK_MAX_AGE_S
    path: Path | None = None


def parse_schedule(raw: Any, *, base_dir: Path, source: Path | None = None) -> Schedule:
    """Validate the ``schedule`` section and build a :class:`Schedule`.

    Parameters
    ----------
    raw : Any
        The section as read: a mapping with ``jobs`` (and ``lock_max_age_s``).
    base_dir : Path
        The folder relative job configs are resolved against.
    source : Path, optional
        The file the section came from (in error messages).

    Returns
    -------
    Schedule
        Each job's report config is loaded once to check it and find its report folder.

    Raises
    ------
    ConfigError
        A bad section, or a job whose report config is bad.
    """
    from obskit.config import load_config

    where = str(source) if source else "schedule"
    section = schedule_section(raw, base_dir=base_dir, source=source)
    jobs: list[Job] = []
    for i, job in enumerate(section.jobs):
        key = f"schedule.jobs[{i}]"
        try:
            loaded = load_config(job.config, overrides=dict(job.overrides), base_dir=base_dir)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {key} (config {job.config}): {exc}",
                              key=f"{key}.config") from exc
        jobs.append(Job(job.name, job.cron, job.config, Path(loaded.out), job.window_offset,
                        dict(job.overrides), base_dir))
    return Schedule(tuple(jobs), section.lock_max_age_s, source)


def load_schedule(path: str | Path) -> Schedule:
    """Read and validate a schedule file (its ``schedule:`` key).

    Parameters
    ----------
    path : str or Path
        A YAML file with a ``schedule:`` key (a report config may hold one).

    Returns
    -------
    Schedule

    Raises
    ------
    ConfigError
        No ``schedule`` key, or a bad one (see :func:`parse_schedule`).
    """
    from obskit.config import read_config_file

    path = Path(path)
    raw = read_config_file(path)
    if "schedule" not in raw:
        raise ConfigError(f"{path}: config key 'schedule': expected a mapping with a 'jobs' "
                          "list (required in a schedule file)", key="schedule")
    return parse_schedule(raw["schedule"], base_dir=path.resolve().parent, source=path)


# -- periods and ticks -------------------------------------------------------------------


def job_period(job: Job, tick: datetime) -> tuple[datetime, datetime] | None:
    """The ``[start, end)`` a job reports on at ``tick`` (None: the config's own; see
    :func:`obskit.runner.cron.offset_period`)."""
    if job.window_offset is None:
        return None
    return offset_period(job.window_offset, job.cron, tick)


# -- state -------------------------------------------------------------------------------


def _read_state(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {"jobs": {}}
    return data if isinstance(data, dict) and isinstance(data.get("jobs"), dict) \
        else {"jobs": {}}


def _write_state(root: Path, job: str, entry: dict[str, Any]) -> None:
    """Record a job's last run in ``<root>/schedule_state.json`` (atomic; under the lock)."""
    state = _read_state(root)
    state["jobs"][job] = entry
    tmp = root / f".{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, root / STATE_FILE)


def last_tick(job: Job) -> datetime | None:
    """The tick ``job`` last ran for (None: never, or an unreadable state file)."""
    entry = _read_state(job.out)["jobs"].get(job.name) or {}
    try:
        return parse_iso(entry["last_tick"]) if entry.get("last_tick") else None
    except ValueError:
        return None


# -- running -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobResult:
    """How one job's run for ``tick`` went (``exit_code`` as the command line's)."""

    job: str
    tick: datetime
    status: str  # ok / alert / failed / error / busy
    run_dir: Path | None = None
    error: str | None = None
    exit_code: int = EXIT_OK


def run_job(job: Job, tick: datetime, *,
            lock_max_age_s: float = DEFAULT_LOCK_MAX_AGE_S) -> JobResult:
    """Run one job for ``tick`` under its folder's lock and record it in the state file.

    Parameters
    ----------
    job : Job
    tick : datetime
        The tick to run for (UTC): it sets the period of a job with a ``window_offset``.
    lock_max_age_s : float
        Seconds after which the folder's lock is stale.

    Returns
    -------
    JobResult
        Never raises for a failing run: the error is logged and returned (status
        ``failed`` for a notebook failure, ``error`` for bad input or anything else);
        ``busy`` when another run holds the lock (nothing recorded).
    """
    from obskit.config import load_config

    lock = RunLock(job.out, max_age_s=lock_max_age_s, label=f"job {job.name}")
    if not lock.acquire():
        log.info("job %s: skipped, a run is in progress (%s)", job.name, lock.holder())
        return JobResult(job.name, tick, "busy")
    started = _utcnow()
    with lock:
        overrides: dict[str, Any] = dict(job.overrides)
        period = job_period(job, tick)
        run_id = None
        if period is not None:
            overrides["period"] = {"start": iso(period[0]), "end": iso(period[1])}
            run_id = period_run_id(period[0])
        log.info("job %s: running for tick %s%s", job.name, iso(tick),
                 f", period {iso(period[0])} → {iso(period[1])}" if period else "")
        try:
            config = load_config(job.config, overrides=overrides, base_dir=job.base_dir)
            outcome = report.run_report(config, out=job.out, run_id=run_id)
            n = len(outcome.run.alerts)
            code = EXIT_ALERT if n and config.fail_on_alert else EXIT_OK
            result = JobResult(job.name, tick, outcome.status, outcome.run_dir,
                               exit_code=code)
            log.info("job %s: %s (%d alerts) %s", job.name, outcome.status, n, outcome.html)
        except NotebookError as exc:
            log.error("job %s: report failed: %s (notebook kept at %s)", job.name, exc,
                      exc.notebook)
            result = JobResult(job.name, tick, "failed", error=str(exc),
                               exit_code=EXIT_NOTEBOOK)
        except Exception as exc:  # a scheduler outlives any one run
            bad_input = isinstance(exc, ObskitError)
            log.error("job %s: run failed: %s", job.name, exc, exc_info=not bad_input)
            result = JobResult(job.name, tick, "error", error=f"{type(exc).__name__}: {exc}",
                               exit_code=EXIT_INPUT if bad_input else EXIT_INTERNAL)
        _write_state(job.out, job.name, {
            "last_tick": iso(tick), "last_run_at": iso(started),
            "last_finished_at": iso(_utcnow()), "last_status": result.status,
            "last_run_id": result.run_dir.name if result.run_dir else None,
            "last_error": result.error})
    return result


def run_due(schedule: Schedule, *, now: datetime | None = None) -> list[JobResult]:
    """Run, once each, the jobs due at ``now`` (default: the current time).

    Returns
    -------
    list[JobResult]
        One per job run, in the schedule's order.
    """
    results = []
    for job in schedule.jobs:
        tick = due_tick(job.cron, now or _utcnow(), last_tick(job))
        if tick is None:
            log.info("job %s: not due (next %s)", job.name, iso(next_tick(job.cron, _utcnow())))
            continue
        results.append(run_job(job, tick, lock_max_age_s=schedule.lock_max_age_s))
    return results


def serve(schedule: Schedule, *, stop: threading.Event | None = None,
          max_runs: int | None = None,
          on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run each job when due until ``stop`` is set or ``max_runs`` runs have been made.

    Parameters
    ----------
    schedule : Schedule
    stop : threading.Event, optional
        Checked between runs: a run in progress always completes.
    max_runs : int, optional
        Stop after this many runs (``busy`` skips do not count).
    on_result : callable, optional
        Called with each run's result.

    Returns
    -------
    list[JobResult]
        The runs made, in order.
    """
    stop = stop or threading.Event()
    results: list[JobResult] = []
    log.info("scheduler started: %s", ", ".join(f"{j.name} ({j.cron})" for j in schedule.jobs))
    while not stop.is_set():
        busy = False
        for job in schedule.jobs:
            if stop.is_set():
                break
            tick = due_tick(job.cron, _utcnow(), last_tick(job))
            if tick is None:
                continue
            result = run_job(job, tick, lock_max_age_s=schedule.lock_max_age_s)
            busy = busy or result.status == "busy"
            if result.status != "busy":
                results.append(result)
                if on_result:
                    on_result(result)
            if max_runs is not None and len(results) >= max_runs:
                stop.set()
        if stop.is_set():
            break
        now = _utcnow()
        wake = min(next_tick(job.cron, now) for job in schedule.jobs)
        pause = min(max((wake - now).total_seconds(), 0.01), _MAX_SLEEP_S)
        stop.wait(min(pause, 1.0) if busy else pause)
    log.info("scheduler stopped")
    return results


def _exit_code(results: list[JobResult]) -> int:
    return max((r.exit_code for r in results), default=EXIT_OK)


# -- command line ------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add the ``schedule`` and ``run-due`` subcommands to ``sub``."""
    p = sub.add_parser("schedule", help="run the jobs of a schedule file when due (a loop)")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="schedule file (YAML with a 'schedule:' key)")
    p.add_argument("--once", action="store_true",
                   help="run the jobs due since their last run, then exit (as run-due)")
    p.set_defaults(schedule_once=False)
    d = sub.add_parser("run-due", help="run the jobs of a schedule file that are due, once "
                                       "(for cron, systemd timers, Kubernetes CronJobs)")
    d.add_argument("--config", required=True, metavar="FILE",
                   help="schedule file (YAML with a 'schedule:' key)")
    d.set_defaults(schedule_once=True, once=True)


def configure_logging() -> None:
    """Log obskit's messages to stdout (called by the command line only)."""
    logger = logging.getLogger("obskit")
    if not any(getattr(h, "_obskit", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler._obskit = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def run(args: argparse.Namespace) -> int:
    """``obskit schedule`` / ``obskit run-due``: the loop exits 0 when stopped. A single pass
    (``--once``, ``run-due``) exits as ``obskit report`` would for the worst of its runs:
    0 all ok (or nothing due), 1 an alert with fail_on_alert, 2 a run's bad input or
    configuration, 3 a notebook failed, 4 an internal error; a bad schedule file raises
    :class:`ConfigError` (exit 2)."""
    configure_logging()
    schedule = load_schedule(args.config)
    if getattr(args, "schedule_once", False) or getattr(args, "once", False):
        return _exit_code(run_due(schedule))
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("%s received: stopping after the current run", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve(schedule, stop=stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return EXIT_OK
