"""Time for scheduled runs: cron ticks, the period a run reports on, and the run id that
names a period (all UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from obskit.config.schedule import parse_duration

__all__ = ["due_tick", "floor_time", "iso", "next_tick", "offset_period", "parse_iso",
           "period_run_id"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MONDAY = datetime(1970, 1, 5, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC text ending in ``Z``."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time (``Z`` allowed; a naive time is UTC).

    Raises
    ------
    ValueError
        Not an ISO-8601 time.
    """
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def floor_time(moment: datetime, step: timedelta) -> datetime:
    """``moment`` floored to a multiple of ``step`` (UTC; weeks start on Monday)."""
    origin = _MONDAY if step % timedelta(days=7) == timedelta(0) else _EPOCH
    return origin + ((moment - origin) // step) * step


def offset_period(window_offset: str, cron: str, tick: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` a job with ``window_offset`` reports on at ``tick``.

    Parameters
    ----------
    window_offset : str
        ``cron`` (the time since the previous tick) or a duration D (``1h``, ``6h``,
        ``1d``, ``1w``): the last complete period of length D before ``tick``.
    cron : str
        The job's cron expression.
    tick : datetime
        The tick the job runs for (UTC).

    Returns
    -------
    tuple[datetime, datetime]
        Start and end (exclusive).

    Raises
    ------
    ConfigError
        ``window_offset`` is not a duration.
    """
    if window_offset == "cron":
        from croniter import croniter

        return croniter(cron, tick).get_prev(datetime), tick
    step = parse_duration(window_offset, "window_offset")
    end = floor_time(tick, step)
    return end - step, end


def period_run_id(start: datetime) -> str:
    """A run id naming a period by its start: ``2026-11-03``, or ``2026-11-03T0600Z``."""
    start = start.astimezone(timezone.utc)
    if start.time() == datetime.min.time():
        return start.strftime("%Y-%m-%d")
    return start.strftime("%Y-%m-%dT%H%M%SZ" if start.second else "%Y-%m-%dT%H%MZ")


def due_tick(cron: str, now: datetime, last: datetime | None) -> datetime | None:
    """The tick to run now (the latest of ``cron`` at or before ``now``), or None when it
    is not later than ``last`` (the tick last run for)."""
    from croniter import croniter

    # croniter's get_prev from just after `now` includes a tick falling exactly on `now`
    tick = croniter(cron, now + timedelta(microseconds=1)).get_prev(datetime)
    return tick if last is None or tick > last else None


def next_tick(cron: str, now: datetime) -> datetime:
    """The first tick of ``cron`` after ``now``."""
    from croniter import croniter

    return croniter(cron, now).get_next(datetime)
