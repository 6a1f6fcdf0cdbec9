"""The ``schedule`` section: scheduled report jobs, validated before anything runs.

A report config (or a schedule file read by :func:`obskit.runner.schedule.load_schedule`) may hold::

    schedule:
      lock_max_age_s: 21600
      jobs:
        - {name: credit-daily, cron: "0 6 * * *", config: credit/config.yml,
           window_offset: 1d, overrides: {title: Credit}}

:func:`schedule_section` checks its shape (keys, names, cron expressions, durations, that
each job's report config exists) and builds a :class:`ScheduleConfig`; it does not load
the jobs' report configs (:func:`obskit.runner.schedule.parse_schedule` does, to find their
report folders). Every error is prefixed by where the section came from and names
``schedule.<key>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from obskit.exceptions import ConfigError
from obskit.windows import PeriodWindow, parse_window

__all__ = ["JobConfig", "ScheduleConfig", "schedule_section", "parse_duration",
           "DEFAULT_LOCK_MAX_AGE_S", "JOB_KEYS", "SCHEDULE_KEYS"]

DEFAULT_LOCK_MAX_AGE_S = 6 * 3600.0
JOB_KEYS = ("name", "cron", "config", "window_offset", "overrides")
SCHEDULE_KEYS = ("jobs", "lock_max_age_s")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class JobConfig:
    """One job of the ``schedule`` section, as written (paths made absolute).

    Parameters
    ----------
    name : str
        Unique job name (letters, digits, ``-``, ``_``, ``.``).
    cron : str
        Cron expression, UTC, 5 fields (or 6, seconds last).
    config : str
        Absolute path of the job's report config file.
    window_offset : str or None
        ``"cron"``, a duration such as ``"1d"``, or None (the config's own period).
    overrides : Mapping
        Config overrides, as in the YAML.
    """

    name: str
    cron: str
    config: str
    window_offset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleConfig:
    """The ``schedule`` section: its jobs and how old a lock may get (seconds)."""

    jobs: tuple[JobConfig, ...]
    lock_max_age_s: float = DEFAULT_LOCK_MAX_AGE_S


def parse_duration(text: Any, key: str) -> timedelta:
    """A duration in the units of a window (``min``, ``h``, ``d``, ``w``).

    Parameters
    ----------
    text : Any
        The value found, e.g. ``"1d"``.
    key : str
        The config key or flag it came from, for the error.

    Returns
    -------
    timedelta
        ``"1d"`` → one day.

    Raises
    ------
    ConfigError
        When ``text`` is not a window, or a row count, month or year (no fixed length).
    """
    try:
        spec = parse_window(text)
    except ValueError as exc:
        raise ConfigError(f"config key {key!r}: {exc}", key=key) from exc
    if not isinstance(spec, PeriodWindow) or spec.months:  # months and years vary in length
        raise ConfigError(f"config key {key!r}: expected a duration such as '1h' or '1d', "
                          f"got {text!r}", key=key)
    return timedelta(seconds=spec.seconds)


def _expect(cond: bool, key: str, expected: str, got: Any, where: str) -> None:
    if not cond:
        raise ConfigError(f"{where}: config key {key!r}: expected {expected}, got {got!r}",
                          key=key)


def schedule_section(raw: Any, *, base_dir: Path, source: Path | None = None) -> ScheduleConfig:
    """Validate a ``schedule`` section (a mapping with ``jobs``).

    Parameters
    ----------
    raw : Any
        The section as read from YAML.
    base_dir : Path
        Folder a job's relative ``config`` is taken from.
    source : Path or None
        The file holding the section: the default ``config`` of a job, and the prefix of
        errors (None: errors start with ``schedule``, and every job needs a ``config``).

    Returns
    -------
    ScheduleConfig
        The jobs, each with the absolute path of its report config.

    Raises
    ------
    ConfigError
        ``<source>: config key 'schedule.jobs[i].<key>': expected ...``.
    """
    from croniter import croniter

    where = str(source) if source else "schedule"
    _expect(isinstance(raw, Mapping), "schedule", "a mapping with a 'jobs' list", raw, where)
    unknown = sorted(set(raw) - set(SCHEDULE_KEYS))
    _expect(not unknown, f"schedule.{unknown[0] if unknown else ''}",
            "one of the keys " + ", ".join(SCHEDULE_KEYS), unknown[:1], where)
    jobs_raw = raw.get("jobs")
    _expect(isinstance(jobs_raw, list) and len(jobs_raw) > 0, "schedule.jobs",
            "a non-empty list of jobs", jobs_raw, where)
    max_age = raw.get("lock_max_age_s", DEFAULT_LOCK_MAX_AGE_S)
    _expect(isinstance(max_age, (int, float)) and not isinstance(max_age, bool)
            and max_age > 0, "schedule.lock_max_age_s", "a positive number of seconds",
            max_age, where)
    jobs: list[JobConfig] = []
    for i, job in enumerate(jobs_raw):
        key = f"schedule.jobs[{i}]"
        _expect(isinstance(job, Mapping), key, "a mapping with name and cron", job, where)
        unknown = sorted(set(job) - set(JOB_KEYS))
        _expect(not unknown, f"{key}.{unknown[0] if unknown else ''}",
                "one of the keys " + ", ".join(JOB_KEYS), unknown[:1], where)
        name = job.get("name")
        _expect(isinstance(name, str) and bool(_NAME.match(name)), f"{key}.name",
                "a name of letters, digits, '-', '_' or '.'", name, where)
        _expect(name not in {j.name for j in jobs}, f"{key}.name", "a unique job name",
                name, where)
        cron = job.get("cron")
        _expect(isinstance(cron, str) and croniter.is_valid(cron), f"{key}.cron",
                "a cron expression of 5 fields (or 6, seconds last), e.g. '0 6 * * *'",
                cron, where)
        config = job.get("config")
        if config is None:
            _expect(source is not None, f"{key}.config", "the path of a report config",
                    None, where)
            config_path = Path(str(source)).resolve()  # the file holding the section
        else:
            _expect(isinstance(config, str) and config != "", f"{key}.config",
                    "the path of a report config", config, where)
            config_path = (base_dir / config).resolve()
            _expect(config_path.is_file(), f"{key}.config", "an existing report config file",
                    str(config_path), where)
        offset = job.get("window_offset")
        if offset is not None and offset != "cron":
            parse_duration(offset, f"{key}.window_offset")
        overrides = job.get("overrides") or {}
        _expect(isinstance(overrides, Mapping), f"{key}.overrides",
                "a mapping of config keys", overrides, where)
        _expect("period" not in overrides or offset is None, f"{key}.overrides.period",
                "no period when window_offset sets it", overrides.get("period"), where)
        jobs.append(JobConfig(str(name), str(cron), str(config_path),
                              str(offset) if offset is not None else None, dict(overrides)))
    return ScheduleConfig(tuple(jobs), float(max_age))
