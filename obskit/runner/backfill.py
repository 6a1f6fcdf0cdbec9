"""Reports for past periods: ``obskit backfill --from DATE --to DATE --every PERIOD``.

Periods are ``[from + k·every, from + (k+1)·every)`` for every k whose start is before
``--to`` (exclusive, like ``period.end``; a date means its midnight UTC): ``--from
2026-11-01 --to 2026-11-04 --every 1d`` makes three reports, for Nov 1, 2 and 3. Each run
analyses only its period (``period: {start, end}`` overrides) and is written to
``<out>/<period start>/`` (``2026-11-01``, or ``2026-11-01T0600Z`` for periods within a
day), the names scheduled jobs with a ``window_offset`` use too.

A period whose folder holds a finished run is skipped, so an interrupted backfill resumes
where it stopped; ``--force`` reruns it (the new run replaces the old). A failed run (kept
as ``<id>-failed``) is rerun. Each run holds ``<out>/.lock`` while it runs, waiting for a
scheduled run of the same folder to finish.

A backfill re-judges the past: ``<out>/latest`` keeps showing the current report and moves
to a backfilled run only when that run's period is the newest (it ends later, or ends at
the same time and covers at least as much; see :func:`obskit.runner.publish.moves_latest`).

Remediation never acts in a backfill: a past period must not move production's alias,
nor call a retrain entry point or a webhook (cooldowns are wall-clock). Its rules are
still evaluated over the periods, and audited as dry runs whose reason ends with
``dry run: backfill of a past period`` (:data:`BACKFILL_DRY_RUN`).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from obskit._text import plural
from obskit.config.schedule import DEFAULT_LOCK_MAX_AGE_S, parse_duration
from obskit.exceptions import (
    EXIT_ALERT,
    EXIT_NOTEBOOK,
    EXIT_OK,
    ConfigError,
    NotebookError,
    ObskitError,
)
from obskit.remediation import PREVIEW_STATE_FILE
from obskit.runner import report
from obskit.runner.cron import period_run_id
from obskit.runner.lock import RunLock

__all__ = ["PeriodResult", "periods", "backfill", "add_parser", "run"]

log = logging.getLogger(__name__)

#: why remediation only previews in a backfill (ends each decision's reason)
BACKFILL_DRY_RUN = "backfill of a past period"


@dataclass(frozen=True)
class PeriodResult:
    """How one period of a backfill went (``alerts``: how many fired)."""

    run_id: str
    start: datetime
    end: datetime
    status: str  # ok / alert / failed / error / skipped
    run_dir: Path | None = None
    alerts: int = 0
    error: str | None = None
    #: the run's remediation decisions, one printable line each
    remediation: tuple[str, ...] = ()


def _moment(text: str, key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{key}: expected an ISO-8601 date or time, got {text!r}",
                          key=key) from exc
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None \
        else moment.astimezone(timezone.utc)


def periods(start: datetime, end: datetime, every: timedelta) -> list[tuple[datetime, datetime]]:
    """The ``[start, end)`` pairs of a backfill: each ``every`` long, starting before ``end``.

    >>> from datetime import datetime, timedelta
    >>> len(periods(datetime(2026, 11, 1), datetime(2026, 11, 4), timedelta(days=1)))
    3
    """
    if every <= timedelta(0):
        raise ConfigError("--every: expected a positive duration", key="every")
    if end <= start:
        raise ConfigError(f"--to ({end.isoformat()}) must be after --from "
                          f"({start.isoformat()})", key="to")
    out, t = [], start
    while t < end:
        out.append((t, t + every))
        t += every
    return out


def _finished(root: Path, run_id: str) -> bool:
    return (root / run_id / "summary.json").is_file()


def _acquire(lock: RunLock, poll_s: float = 1.0) -> None:
    waited = False
    while not lock.acquire():
        if not waited:
            log.info("waiting for the run holding %s (%s)", lock.path, lock.holder())
            waited = True
        time.sleep(poll_s)


def backfill(config_file: str | Path | None, *, start: datetime, end: datetime,
             every: timedelta, overrides: Mapping[str, Any] | None = None,
             force: bool = False, progress: bool = True) -> list[PeriodResult]:
    """Run one report per period (see the module docs); never stops at a failed run.

    Parameters
    ----------
    config_file : str, Path or None
        The report config (None: the overrides alone).
    start, end : datetime
        The first period's start and the end (exclusive), UTC.
    every : timedelta
        The period length.
    overrides : Mapping, optional
        Config overrides, as in the YAML (each run adds its ``period``).
    force : bool
        Rerun periods that already have a finished run.
    progress : bool
        Show a progress bar and one line per period.

    Returns
    -------
    list[PeriodResult]
        One per period, in time order.

    Raises
    ------
    ConfigError
        Bad periods or a bad config.
    """
    from tqdm import tqdm

    from obskit.config import load_config

    base = dict(overrides or {})
    root = Path(load_config(config_file, overrides=base).out)
    # each backfill previews remediation afresh, over its own periods only
    (root / PREVIEW_STATE_FILE).unlink(missing_ok=True)
    results: list[PeriodResult] = []
    todo = periods(start, end, every)
    bar = tqdm(todo, desc="backfill", unit="run", disable=not progress)
    for p_start, p_end in bar:
        run_id = period_run_id(p_start)
        bar.set_postfix_str(run_id)
        if _finished(root, run_id) and not force:
            result = PeriodResult(run_id, p_start, p_end, "skipped", root / run_id)
        else:
            config = load_config(config_file, overrides={
                **base, "period": {"start": p_start.isoformat(), "end": p_end.isoformat()}})
            lock = RunLock(root, max_age_s=DEFAULT_LOCK_MAX_AGE_S, label=f"backfill {run_id}")
            _acquire(lock)
            with lock:
                try:
                    outcome = report.run_report(config, out=root, run_id=run_id,
                                                remediation_dry_run=BACKFILL_DRY_RUN)
                    result = PeriodResult(run_id, p_start, p_end, outcome.status,
                                          outcome.run_dir, len(outcome.run.alerts),
                                          remediation=tuple(d["line"]
                                                            for d in outcome.remediation))
                except NotebookError as exc:
                    result = PeriodResult(run_id, p_start, p_end, "failed",
                                          Path(exc.notebook).parent if exc.notebook else None,
                                          error=str(exc))
                except ObskitError as exc:  # bad input for this period: go on
                    result = PeriodResult(run_id, p_start, p_end, "error", error=str(exc))
        results.append(result)
        line = f"{run_id} {result.status}"
        if result.status in ("ok", "alert") and result.run_dir is not None:
            line += f" ({plural(result.alerts, 'alert')}) {result.run_dir / 'index.html'}"
        elif result.status == "skipped":
            line += " (already done; --force reruns it)"
        else:
            line += f": {result.error}"
        tqdm.write(line)
        for text in result.remediation:
            tqdm.write(f"  {text}")
    bar.close()
    return results


def add_parser(sub: Any) -> None:
    """Add the ``backfill`` subcommand to ``sub``."""
    p = sub.add_parser("backfill", help="run one report per past period (resumable)")
    from obskit.config.flags import add_report_flags

    add_report_flags(p)
    p.add_argument("--from", dest="backfill_from", required=True, metavar="DATE",
                   help="start of the first period (ISO-8601, UTC)")
    p.add_argument("--to", dest="backfill_to", required=True, metavar="DATE",
                   help="end, exclusive: periods start before it (a date is its midnight)")
    p.add_argument("--every", required=True, metavar="PERIOD",
                   help="period length: 1h, 6h, 1d, 1w")
    p.add_argument("--force", action="store_true",
                   help="rerun periods that already have a finished run")


def run(args: argparse.Namespace) -> int:
    """``obskit backfill``: exit 0 all ok, 1 an alert fired with ``--fail-on-alert``,
    3 a run failed (the others still ran); bad flags raise :class:`ConfigError` (2)."""
    from obskit.config import load_config
    from obskit.config.flags import overrides_from_flags

    start = _moment(args.backfill_from, "--from")
    end = _moment(args.backfill_to, "--to")
    every = parse_duration(args.every, "--every")
    overrides = overrides_from_flags(args)
    results = backfill(args.config, start=start, end=end, every=every, overrides=overrides,
                       force=args.force)
    if any(r.status in ("failed", "error") for r in results):
        return EXIT_NOTEBOOK  # 3: a period failed (README: backfill)
    fail_on_alert = load_config(args.config, overrides=overrides).fail_on_alert
    if fail_on_alert and any(r.status == "alert" for r in results):
        return EXIT_ALERT
    return EXIT_OK
