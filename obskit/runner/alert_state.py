"""Which alerts are new, which go on and which are over, from one run to the next.

The state lives beside the reports, in ``<out>/alert_state.json`` (written atomically).
An alert is identified by ``(rule, metric, segment)``. :meth:`AlertState.update` compares
a run's alerts with the state and returns :class:`AlertEvents`:

- ``firing``: keys that fire now and did not before: announce them;
- ``resolved``: keys that fired before and no longer do: announce the resolution (when,
  in which run, the metric's last value);
- ``ongoing``: keys that fired before and still do: already announced, stay silent.

A run is judged as a whole: a key fires when any window of the run breaches its rule
(its latest breaching window is the one recorded). Scheduled jobs with a
``window_offset`` report one period per run, which is the intended use.

**Missing data never resolves an alert.** When a firing key does not fire in a run but the
run could not judge it (its rule and metric, or the whole window, appear in
``insufficient_data`` of ``summary.json``), the key stays firing; it is listed in
``ongoing`` with ``"insufficient_data": true`` and nothing is announced.

The state reads a typed run (its :class:`~obskit.results.Alert` and
:class:`~obskit.results.InsufficientData` records); the state file and the events are JSON
objects (the alerts as ``summary.json`` writes them), for ``alerts.json`` and the sinks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.findings.alert_rules import resolve_metric
from obskit.profiles.segments import segment_key, segment_label
from obskit.results import Alert, InsufficientData, Run, Window

__all__ = ["AlertEvents", "AlertState", "STATE_FILE", "alert_key", "latest_values"]

STATE_FILE = "alert_state.json"
_VERSION = 1

Key = tuple[str, Any, str | None]


def _segment_text(segment: Any) -> str | None:
    return segment_key(segment) or None


def alert_key(alert: Alert | Mapping[str, Any]) -> Key:
    """``(rule, metric, segment)`` of an alert (a record, or a JSON object of the state
    file); the segment as ``"column=value"`` or None."""
    if isinstance(alert, Alert):
        return (str(alert.rule), alert.metric, _segment_text(alert.segment))
    return (str(alert.get("rule")), alert.get("metric"), _segment_text(alert.get("segment")))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AlertEvents:
    """What a run changed: alerts to announce (``firing``, ``resolved``) and the rest."""

    firing: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    ongoing: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """``{"firing", "resolved", "ongoing"}`` (the ``events`` of ``alerts.json``)."""
        return {"firing": self.firing, "resolved": self.resolved, "ongoing": self.ongoing}

    @property
    def to_announce(self) -> list[dict[str, Any]]:
        """``firing`` then ``resolved``: what a sink should send."""
        return self.firing + self.resolved


def _not_judged(key: Key, insufficient: Iterable[InsufficientData]) -> bool:
    rule, metric, segment = key
    for item in insufficient:
        if _segment_text(item.segment) != segment:
            continue
        if item.rule is None or (str(item.rule) == rule and item.metric == metric):
            return True
    return False


def _last_ok(windows: Iterable[Window] | None) -> Window | None:
    ok = [w for w in windows or () if w.status == "ok"]
    return ok[-1] if ok else None


class _LastValues(dict[Key, Any]):
    """Key → the metric's value in the last ``ok`` window of its segment (looked up on
    first use)."""

    def __init__(self, frames: Mapping[str | None, Window | None]) -> None:
        super().__init__()
        self.frames = frames

    def __missing__(self, key: Key) -> Any:
        window = self.frames.get(key[2])
        if window is None or not key[1]:
            return None
        return resolve_metric(window, str(key[1]))


def latest_values(run: Run) -> dict[Key, Any]:
    """The last judged value of each metric an alert of the run's rules watches.

    Parameters
    ----------
    run : Run

    Returns
    -------
    dict[Key, Any]
        State key → the key's metric in the last ``ok`` window of the whole log or of the
        key's segment (None when there is none); used for the ``last_value`` of resolved
        alerts.
    """
    frames: dict[str | None, Window | None] = {None: _last_ok(run.windows)}
    for column, entries in run.segments.items():
        for entry in entries or ():
            frames[segment_label(column, entry.value)] = _last_ok(entry.windows)
    return _LastValues(frames)


class AlertState:
    """The alerts firing as of the last run of a report folder."""

    def __init__(self, root: str | Path, firing: dict[Key, dict[str, Any]] | None = None,
                 last_run: str | None = None) -> None:
        self.root = Path(root)
        self.firing: dict[Key, dict[str, Any]] = dict(firing or {})
        self.last_run = last_run

    @property
    def path(self) -> Path:
        """``<root>/alert_state.json``."""
        return self.root / STATE_FILE

    @classmethod
    def load(cls, root: str | Path) -> AlertState:
        """The state of ``root`` (empty when there is no state file yet).

        A state file that cannot be read is treated as empty: the alerts firing now are
        announced again rather than silenced.
        """
        path = Path(root) / STATE_FILE
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls(root)
        firing = {alert_key(a): dict(a) for a in data.get("firing") or []
                  if isinstance(a, Mapping)}
        return cls(root, firing, data.get("last_run"))

    def update(self, alerts: Iterable[Alert], run_id: str, *,
               insufficient: Iterable[InsufficientData] = (),
               last_values: Mapping[Key, Any] | None = None,
               at: str | None = None) -> AlertEvents:
        """Apply a run's alerts to the state (in memory; :meth:`save` writes it).

        Parameters
        ----------
        alerts : Iterable[Alert]
            The run's alerts (``Run.alerts``, plus synthetic ones).
        run_id : str
            The run, recorded as where an alert started, was last seen or resolved.
        insufficient : Iterable[InsufficientData]
            ``Run.insufficient_data``; a firing key that could not be judged in this run
            stays firing.
        last_values : Mapping[Key, Any], optional
            Key → the metric's last value, for resolved alerts (see :func:`latest_values`).
        at : str, optional
            When (ISO-8601); default now.

        Returns
        -------
        AlertEvents
            Each entry is the alert's JSON object with ``since``, ``since_run``,
            ``last_seen`` and ``last_run`` (``resolution`` for a resolved one).
        """
        at = at or _now()
        insufficient = list(insufficient)
        current: dict[Key, Alert] = {}
        for alert in alerts:
            key = alert_key(alert)
            seen = current.get(key)
            if seen is None or str(alert.window_end or "") >= str(seen.window_end or ""):
                current[key] = alert
        events = AlertEvents()
        state: dict[Key, dict[str, Any]] = {}
        for key, alert in current.items():
            before = self.firing.get(key)
            entry = {**alert.to_dict(), "since": before["since"] if before else at,
                     "since_run": before["since_run"] if before else run_id,
                     "last_seen": at, "last_run": run_id}
            state[key] = entry
            (events.ongoing if before else events.firing).append(entry)
        for key, before in self.firing.items():
            if key in current:
                continue
            if _not_judged(key, insufficient):
                state[key] = before
                events.ongoing.append({**before, "insufficient_data": True})
                continue
            try:
                last = last_values[key] if last_values is not None else None
            except KeyError:
                last = None
            events.resolved.append({**before, "resolution": {
                "resolved_at": at, "run_id": run_id, "last_value": last}})
        self.firing = state
        self.last_run = run_id
        return events

    def to_dict(self) -> dict[str, Any]:
        """The state file's object: ``{"version", "last_run", "firing"}``."""
        return {"version": _VERSION, "last_run": self.last_run,
                "firing": list(self.firing.values())}

    def save(self) -> Path:
        """Write ``<root>/alert_state.json`` atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{STATE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        os.replace(tmp, self.path)
        return self.path
