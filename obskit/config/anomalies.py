"""The ``anomalies`` section of the config: options of the anomaly findings.

Read by :mod:`obskit.analysis.anomalies` (window anomalies, explanations) and
:class:`obskit.monitors.anomaly.RowAnomalyMonitor` (row anomalies); parsed and validated
by :func:`obskit.config.load_config` before any data is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from obskit.exceptions import ConfigError

__all__ = ["AnomalyConfig"]


def _key_error(key: str, expected: str, got: Any) -> ConfigError:
    full = f"anomalies.{key}"
    return ConfigError(f"config key {full!r}: expected {expected}, got {got!r}", key=full)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, (float, np.floating))) and math.isfinite(float(v))


@dataclass(frozen=True)
class AnomalyConfig:
    """Options of the anomaly findings (the ``anomalies`` section of the config file).

    Parameters
    ----------
    top_n : int, default 20
        Anomalous rows kept per window (the most severe).
    routine_rows : int, default 3
        Of those, at most this many whose every reason fires at its usual (reference)
        rate in the window: routine outliers, listed after the others.
    latency_slo_ms : float or None, default None
        A latency above this is an outlier; None: above the reference's p99 latency.
    score_quantiles : (float, float), default (0.001, 0.999)
        A score outside the reference's quantiles at these levels is an outlier.
    confident_mistake_score : float, default 0.9
        A wrong prediction is a confident mistake when ``max(score, 1 - score)`` reaches this.
    isolation_sample_rows : int, default 10000
        Rows sampled for the isolation forest: from the reference to fit it, and per window
        to score.
    isolation_contamination : float, default 0.01
        Share of reference rows the isolation forest calls outliers (sets its cut-off).
    mad_threshold : float, default 3.5
        Robust z-score from which a window value is anomalous (``critical`` from twice it).
    """

    top_n: int = 20
    latency_slo_ms: float | None = None
    score_quantiles: tuple[float, float] = (0.001, 0.999)
    confident_mistake_score: float = 0.9
    isolation_sample_rows: int = 10_000
    isolation_contamination: float = 0.01
    mad_threshold: float = 3.5
    #: with a model: flagged rows explained by SHAP per run, and by LIME (the first few)
    explain_rows: int = 100
    lime_rows: int = 5
    routine_rows: int = 3

    def __post_init__(self) -> None:
        if not (_is_int(self.top_n) and self.top_n >= 1):
            raise _key_error("top_n", "an integer >= 1", self.top_n)
        if not (_is_int(self.routine_rows) and self.routine_rows >= 0):
            raise _key_error("routine_rows", "an integer >= 0", self.routine_rows)
        slo = self.latency_slo_ms
        if slo is not None and not (_is_number(slo) and slo > 0):
            raise _key_error("latency_slo_ms", "a number of milliseconds > 0, or null "
                             "(the reference's p99 latency)", slo)
        q = self.score_quantiles
        if not (isinstance(q, Sequence) and not isinstance(q, str) and len(q) == 2
                and all(_is_number(v) for v in q) and 0 <= q[0] < q[1] <= 1):
            raise _key_error("score_quantiles", "two quantile levels [low, high] with "
                             "0 <= low < high <= 1", q)
        object.__setattr__(self, "score_quantiles", (float(q[0]), float(q[1])))
        c = self.confident_mistake_score
        if not (_is_number(c) and 0.5 <= c <= 1):
            raise _key_error("confident_mistake_score", "a number between 0.5 and 1", c)
        if not (_is_int(self.isolation_sample_rows) and self.isolation_sample_rows >= 100):
            raise _key_error("isolation_sample_rows", "an integer >= 100",
                             self.isolation_sample_rows)
        p = self.isolation_contamination
        if not (_is_number(p) and 0 < p <= 0.5):
            raise _key_error("isolation_contamination", "a number in (0, 0.5]", p)
        if not (_is_number(self.mad_threshold) and self.mad_threshold > 0):
            raise _key_error("mad_threshold", "a number > 0", self.mad_threshold)
        for key in ("explain_rows", "lime_rows"):
            if not (_is_int(getattr(self, key)) and getattr(self, key) >= 0):
                raise _key_error(key, "an integer >= 0", getattr(self, key))

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | AnomalyConfig | None) -> AnomalyConfig:
        """The options of an ``anomalies`` config section (None or empty: the defaults).

        >>> AnomalyConfig.from_config({"top_n": 5}).top_n
        5
        >>> AnomalyConfig.from_config({"top": 5})
        Traceback (most recent call last):
        ...
        obskit.exceptions.ConfigError: unknown config key 'anomalies.top'; known keys of \
anomalies: top_n, latency_slo_ms, score_quantiles, confident_mistake_score, \
isolation_sample_rows, isolation_contamination, mad_threshold, explain_rows, lime_rows, \
routine_rows
        """
        if raw is None:
            return cls()
        if isinstance(raw, AnomalyConfig):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"config key 'anomalies': expected a mapping, got {raw!r}",
                              key="anomalies")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in raw if k not in known)
        if unknown:
            key = f"anomalies.{unknown[0]}"
            raise ConfigError(f"unknown config key {key!r}; known keys of anomalies: "
                              + ", ".join(known), key=key)
        return cls(**{str(k): v for k, v in raw.items()})
