"""Prometheus metrics of a run's latest window: a textfile for node-exporter's textfile
collector, a Pushgateway push, or a scrape of ``obskit exporter``.

All three use one collector over a typed run (:class:`obskit.results.Run`) and the
active alerts, in a
private :class:`prometheus_client.CollectorRegistry` (never the global one):

=====================================  ===================================================
metric                                 labels / meaning
=====================================  ===================================================
``obskit_drift_score``                 ``feature``: the drift statistic of the window
``obskit_drift_share``                 share of drifted features
``obskit_performance``                 ``metric``: realized performance
``obskit_latency_ms``                  ``quantile`` = 0.5 / 0.95 / 0.99
``obskit_error_rate``                  share of failed predictions
``obskit_alert_active``                ``rule``, ``metric``, ``segment``, ``severity``:
                                       1 firing or ongoing, 0 just resolved
``obskit_last_run_timestamp_seconds``  when the run's summary was generated
``obskit_insufficient_data``           rule/window pairs not judged in the latest window
``obskit_rows``                        ``kind`` = current / quarantined (whole run)
=====================================  ===================================================

The latest window is the last of ``windows`` (whole log). A missing or non-finite value
is skipped, never exported as NaN. Label values are stripped of control characters and
capped at :data:`MAX_LABEL_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from obskit._format import finite
from obskit._secrets import redact_url as _redact_url
from obskit.profiles.segments import segment_key
from obskit.results import FeatureDrift, Health, Record, Run, Window

__all__ = ["MAX_LABEL_CHARS", "sanitize_label", "SummaryCollector", "build_registry",
           "write_textfile", "push_gateway", "latest_window", "redact_url", "metric_families"]

MAX_LABEL_CHARS = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_QUANTILES = (("0.5", "latency_p50_ms"), ("0.95", "latency_p95_ms"),
              ("0.99", "latency_p99_ms"))


def sanitize_label(value: Any, *, max_chars: int = MAX_LABEL_CHARS) -> str:
    """A label value: any UTF-8, without control characters, at most ``max_chars`` long.

    >>> sanitize_label("inc\\nome\\x00")
    'income'
    >>> len(sanitize_label("x" * 500))
    128
    """
    if value is None:
        return ""
    text = _CONTROL.sub("", str(value)).strip()
    return text[:max_chars]


def latest_window(run: Run) -> Window | None:
    """The last window of the whole log.

    Parameters
    ----------
    run : Run

    Returns
    -------
    Window or None
        None when the run has no window.
    """
    windows = run.windows or ()
    return windows[-1] if windows else None


def _known(record: Record, key: str) -> bool:
    """Whether ``record``'s document has ``key`` (one built in code has every field)."""
    return record.layout is None or key in record.layout


def _timestamp(text: Any) -> float | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _segment(segment: Any) -> str:
    if not segment:
        return ""
    if isinstance(segment, Mapping):
        return segment_key(segment)
    return str(segment)


class _Family:
    """A gauge family that drops non-finite samples and duplicate label sets."""

    def __init__(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> None:
        self.family = GaugeMetricFamily(name, doc, labels=list(labels))
        self._seen: set[tuple[str, ...]] = set()

    def add(self, value: Any, *labels: Any) -> None:
        number = finite(value)
        key = tuple(sanitize_label(v) for v in labels)
        if number is None or key in self._seen:
            return
        self._seen.add(key)
        self.family.add_metric(list(key), number)


def metric_families(run: Run | None, *,
                    active: Iterable[Mapping[str, Any]] = (),
                    resolved: Iterable[Mapping[str, Any]] = (),
                    run_timestamp: float | None = None) -> list[GaugeMetricFamily]:
    """The gauge families of a run (see the module table).

    Parameters
    ----------
    run : Run or None
        The run (None: no run yet; only the alerts are exported).
    active : iterable of Mapping
        Alert dicts firing now (firing + ongoing events, or the alert state).
    resolved : iterable of Mapping
        Alert dicts that just resolved (exported as 0).
    run_timestamp : float, optional
        Unix time (seconds) of the run (default: its ``generated_at``).

    Returns
    -------
    list of GaugeMetricFamily
        Every family of the table, in its order; a family without samples is still
        listed, with its help text.
    """
    drift = _Family("obskit_drift_score",
                    "Drift statistic of each feature in the latest window", ("feature",))
    share = _Family("obskit_drift_share", "Share of drifted features in the latest window")
    perf = _Family("obskit_performance",
                   "Realized performance in the latest window", ("metric",))
    latency = _Family("obskit_latency_ms",
                      "Serving latency quantiles in the latest window (ms)", ("quantile",))
    errors = _Family("obskit_error_rate", "Share of failed predictions in the latest window")
    alerts = _Family("obskit_alert_active", "1 while an alert fires, 0 once it resolved",
                     ("rule", "metric", "segment", "severity"))
    last = _Family("obskit_last_run_timestamp_seconds",
                   "When the latest run was generated (Unix time)")
    insufficient = _Family("obskit_insufficient_data",
                           "Rule/window pairs of the latest window that could not be judged")
    rows = _Family("obskit_rows", "Rows of the latest run", ("kind",))

    window = latest_window(run) if run is not None else None
    if run is not None and window is not None:
        for feature, entry in sorted((window.drift or {}).items()):
            value = entry.value if isinstance(entry, FeatureDrift) else entry
            if sanitize_label(feature):
                drift.add(value, feature)
        share.add(window.drift_share)
        for metric, number in sorted((window.performance or {}).items()):
            perf.add(number, metric)
        health = window.health if isinstance(window.health, Health) else Health()
        for quantile, key in _QUANTILES:
            latency.add(getattr(health, key), quantile)
        errors.add(health.error_rate)
        not_judged = [item for item in run.insufficient_data
                      if item.window == window.index and not item.segment]
        insufficient.add(len(not_judged))
    for alert in active:
        alerts.add(1, alert.get("rule"), alert.get("metric"), _segment(alert.get("segment")),
                   alert.get("severity"))
    for alert in resolved:
        alerts.add(0, alert.get("rule"), alert.get("metric"), _segment(alert.get("segment")),
                   alert.get("severity"))
    generated = run.generated_at if run is not None else None
    last.add(run_timestamp if run_timestamp is not None else _timestamp(generated))
    if run is not None and _known(run, "rows"):
        counts = run.rows
        for kind, count in (("current", counts.current), ("quarantined", counts.quarantined)):
            if _known(counts, kind):
                rows.add(count, kind)
    return [f.family for f in (drift, share, perf, latency, errors, alerts, last,
                               insufficient, rows)]


class SummaryCollector(Collector):
    """A collector over one run and its alerts (fixed at construction)."""

    def __init__(self, run: Run | None, *,
                 active: Iterable[Mapping[str, Any]] = (),
                 resolved: Iterable[Mapping[str, Any]] = ()) -> None:
        self.run = run
        self.active = list(active)
        self.resolved = list(resolved)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from metric_families(self.run, active=self.active, resolved=self.resolved)


def build_registry(run: Run | None, *,
                   active: Iterable[Mapping[str, Any]] = (),
                   resolved: Iterable[Mapping[str, Any]] = ()) -> CollectorRegistry:
    """A private registry holding only obskit's metrics.

    Parameters
    ----------
    run : Run or None
        The run (a ``summary.json`` file: :func:`obskit.results.load`).
    active, resolved : iterable of Mapping
        See :func:`metric_families`.

    Returns
    -------
    CollectorRegistry
        A new registry (never the global one).
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SummaryCollector(run, active=active, resolved=resolved))
    return registry


def _samples(registry: CollectorRegistry) -> int:
    return sum(len(family.samples) for family in registry.collect())


def write_textfile(path: str | Path, registry: CollectorRegistry) -> dict[str, Any]:
    """Write the exposition text for node-exporter's textfile collector, atomically (a
    temporary file in the same folder, renamed over ``path``); no timestamps."""
    from prometheus_client import write_to_textfile

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(target), registry)
    return {"sink": "prometheus.textfile", "target": str(target), "status": "written",
            "samples": _samples(registry)}


def redact_url(url: str) -> str:
    """A Pushgateway or OTLP address as shown: no user, password, query or fragment
    (:func:`obskit._secrets.redact_url`); a bare ``host:port`` is read as ``http://``,
    as prometheus_client does.

    >>> redact_url("push.example:9091")
    'http://push.example:9091'
    """
    return _redact_url(url if "://" in url else f"http://{url}")


def push_gateway(gateway: str, job: str, registry: CollectorRegistry, *,
                 timeout_s: float = 10.0) -> dict[str, Any]:
    """Push (PUT: replacing the group's metrics) to a Pushgateway, grouped by ``job``."""
    from prometheus_client import push_to_gateway

    push_to_gateway(gateway, job=job, registry=registry, timeout=timeout_s)
    return {"sink": "prometheus.pushgateway", "target": redact_url(gateway), "job": job,
            "status": "pushed", "samples": _samples(registry)}
