"""Prometheus metrics of a served model, on a registry the application owns.

Names and units follow the Prometheus naming conventions
(https://prometheus.io/docs/practices/naming/): base units (seconds), ``_total`` for
counters, ``_info`` for the model's build-info style metric. Labels stay bounded: the model
name and version, an outcome from a fixed set and the error's class name (the OpenTelemetry
``error.type`` convention); never a request id, a user or a raw path.

==============================================  =========  ===================================
name                                            type       labels
==============================================  =========  ===================================
``obskit_prediction_requests_total``            counter    model_name, model_version, outcome
``obskit_prediction_errors_total``              counter    model_name, model_version,
                                                           error_type
``obskit_prediction_duration_seconds``          histogram  model_name, model_version
``obskit_prediction_score``                     histogram  model_name, model_version
``obskit_model_info``                           info       model_name, model_version, extra
``obskit_prediction_log_rows_written_total``    counter    (none)
``obskit_prediction_log_rows_dropped_total``    counter    (none)
``obskit_prediction_log_queue_depth``           gauge      (none)
``obskit_prediction_log_rows_recovered_total``  counter    (none)
``obskit_prediction_log_lines_cut_total``       counter    (none)
``obskit_prediction_log_files_broken_total``    counter    (none)
==============================================  =========  ===================================
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "OUTCOMES",
    "LATENCY_BUCKETS",
    "SCORE_BUCKETS",
    "PredictionMetrics",
    "LoggerStatsCollector",
]

#: the values of the ``outcome`` label
OUTCOMES: tuple[str, ...] = ("success", "error", "invalid_input")
#: request duration buckets in seconds: 5 ms … 10 s, for model serving
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
                                      0.75, 1.0, 2.5, 5.0, 10.0)
#: score buckets: 0.1 … 1.0 by 0.1 (a probability of the positive class)
SCORE_BUCKETS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 11))


class _Stats(Protocol):
    @property
    def written(self) -> int: ...  # pragma: no cover
    @property
    def dropped(self) -> int: ...  # pragma: no cover
    @property
    def queue_depth(self) -> int: ...  # pragma: no cover
    @property
    def recovered_rows(self) -> int: ...  # pragma: no cover
    @property
    def cut_lines(self) -> int: ...  # pragma: no cover
    @property
    def broken_files(self) -> int: ...  # pragma: no cover


class LoggerStatsCollector(Collector):
    """Expose a prediction logger's counters when the registry is scraped.

    Parameters
    ----------
    stats : callable
        Returns an object with ``written``, ``dropped``, ``queue_depth``,
        ``recovered_rows``, ``cut_lines`` and ``broken_files`` (such as
        :meth:`obskit.instrument.logger.PredictionLogger.stats`), or None while there is
        no logger (nothing is exposed then); called on every scrape, so the values are
        never stale.
    """

    def __init__(self, stats: Callable[[], _Stats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        """Yield the rows written / dropped / recovered counters, the queue depth gauge and
        the counters of what a killed process's files lost."""
        s = self._stats()
        if s is None:
            return
        yield CounterMetricFamily("obskit_prediction_log_rows_written",
                                  "Prediction log rows written to files.", value=s.written)
        yield CounterMetricFamily(
            "obskit_prediction_log_rows_dropped",
            "Prediction log rows that could not be written: queue full, or a write error "
            "(the service's log says which).", value=s.dropped)
        yield GaugeMetricFamily("obskit_prediction_log_queue_depth",
                                "Prediction log rows queued, not yet written.",
                                value=s.queue_depth)
        yield CounterMetricFamily(
            "obskit_prediction_log_rows_recovered",
            "Prediction log rows recovered at start from files a killed process left "
            "unfinished.", value=s.recovered_rows)
        yield CounterMetricFamily(
            "obskit_prediction_log_lines_cut",
            "Partial JSONL lines cut off, at start, the files a killed process left "
            "unfinished.", value=s.cut_lines)
        yield CounterMetricFamily(
            "obskit_prediction_log_files_broken",
            "Unfinished Parquet files a killed process left, found unreadable at start and "
            "renamed .broken (their rows are lost).", value=s.broken_files)


class PredictionMetrics:
    """The per-prediction Prometheus metrics of one model, registered on ``registry``.

    Parameters
    ----------
    registry : CollectorRegistry
        The application's own registry (never the global ``REGISTRY``, so an app can be
        built twice in one process).
    model_name : str
        Value of the ``model_name`` label.
    model_version : str or None
        The version served at start (None: not known yet, e.g. the model is loading);
        ``obskit_model_info`` shows it and every outcome is initialised at 0 for it
        (see :meth:`set_version`, to call when the served version changes).
        :meth:`observe` takes the version of each request.
    score_buckets : sequence of float, default :data:`SCORE_BUCKETS`
        Upper bounds of the score histogram.
    latency_buckets : sequence of float, default :data:`LATENCY_BUCKETS`
        Upper bounds of the duration histogram, in seconds.
    logger_stats : callable, optional
        A logger's ``stats`` method; adds :class:`LoggerStatsCollector` to ``registry``.
    info : mapping of str to str, optional
        Extra labels of ``obskit_model_info`` (e.g. the model file).

    Examples
    --------
    >>> from prometheus_client import generate_latest
    >>> m = PredictionMetrics(CollectorRegistry(), model_name="credit", model_version="v1")
    >>> m.observe(outcome="success", duration_s=0.02, score=0.3)
    >>> b'outcome="success"} 1.0' in generate_latest(m.registry)
    True
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        model_name: str,
        model_version: str | None,
        score_buckets: Sequence[float] = SCORE_BUCKETS,
        latency_buckets: Sequence[float] = LATENCY_BUCKETS,
        logger_stats: Callable[[], _Stats | None] | None = None,
        info: Mapping[str, str] | None = None,
    ) -> None:
        self.registry = registry
        self.model_name = model_name
        labels = ("model_name", "model_version")
        self.requests = Counter(
            "obskit_prediction_requests", "Prediction requests by outcome "
            "(success, error, invalid_input).", (*labels, "outcome"), registry=registry)
        self.errors = Counter(
            "obskit_prediction_errors", "Failed predictions by the exception's class name.",
            (*labels, "error_type"), registry=registry)
        self.duration = Histogram(
            "obskit_prediction_duration_seconds", "Time spent making a prediction.",
            labels, buckets=tuple(latency_buckets), registry=registry)
        self.score = Histogram(
            "obskit_prediction_score", "Scores returned by the model.", labels,
            buckets=tuple(score_buckets), registry=registry)
        self.model_info = Info("obskit_model", "The model being served.", registry=registry)
        self._extra = dict(info or {})
        self._version: str | None = None
        self._lock = threading.Lock()
        if model_version is not None:
            self.set_version(model_version)
        if logger_stats is not None:
            registry.register(LoggerStatsCollector(logger_stats))

    def set_version(self, model_version: str) -> None:
        """Show ``model_version`` in ``obskit_model_info``; its outcome counters start at 0.

        ``obskit_model_info`` has one sample: the previous version's label set goes (its
        request counters stay, as counters must). A promotion or a rollback
        (:mod:`obskit.instrument.aliases`) is a call with the new version.

        Parameters
        ----------
        model_version : str
            The version now served.
        """
        with self._lock:
            if model_version == self._version:
                return
            self._version = model_version
            self.model_info.info({"model_name": self.model_name,
                                  "model_version": model_version, **self._extra})
            for outcome in OUTCOMES:
                self.requests.labels(self.model_name, model_version, outcome)

    def observe(
        self,
        *,
        outcome: str,
        model_version: str | None = None,
        duration_s: float | None = None,
        score: float | None = None,
        error_type: str | None = None,
    ) -> None:
        """Count one request and record its duration, score and error.

        Parameters
        ----------
        outcome : {"success", "error", "invalid_input"}
            What happened.
        model_version : str, optional
            The version that served it; default the last one set (``"unknown"`` if none).
            It labels the counters only: ``obskit_model_info`` shows the first version
            seen and then what :meth:`set_version` says, so a request still running on
            the old model after a swap does not bring the old version back.
        duration_s : float, optional
            Time spent in the prediction, seconds (not recorded for invalid input).
        score : float, optional
            The score returned (successes only).
        error_type : str, optional
            The exception's class name, for ``outcome="error"``.

        Raises
        ------
        ValueError
            If ``outcome`` is not one of :data:`OUTCOMES`.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        version = model_version if model_version is not None else self._version
        if version is not None and self._version is None:
            self.set_version(version)
        key = (self.model_name, version or "unknown")
        self.requests.labels(*key, outcome).inc()
        if duration_s is not None:
            self.duration.labels(*key).observe(duration_s)
        if score is not None:
            self.score.labels(*key).observe(score)
        if outcome == "error":
            self.errors.labels(*key, error_type or "Exception").inc()
