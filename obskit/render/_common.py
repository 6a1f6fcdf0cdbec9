"""Shared pieces of the report renderer: palette, escaping, number and date formats,
and readers of the summary that never fail on missing values."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from obskit._format import finite
from obskit.drift import method_label
from obskit.feature_ranking import rank_features

# One palette for every figure and badge (badges match the history page).
COLOR_REFERENCE = "#8c959f"  # grey: the reference data / reference values
COLOR_CURRENT = "#0969da"  # blue: the monitored (current) data
COLOR_OK = "#1a7f37"  # green: ok
COLOR_ALERT = "#b35900"  # orange: alert, thresholds, windows that fired
COLOR_FAILED = "#cf222e"  # red: failed runs, critical findings
COLOR_ESTIMATED = "#8250df"  # purple: estimated without labels (CBPE / DLE)
_QUANTILE_COLORS = {"p50": "#80b6f2", "p95": COLOR_CURRENT, "p99": "#033d8b"}
_HEATMAP_CAP = 3.0
_HEATMAP_MAX_FEATURES = 30
_TABLE_VISIBLE_ROWS = 25
_SECTIONS = {"health", "performance", "drift", "segments", "anomalies", "data-quality"}
_METRIC_NAMES = {"roc_auc": "ROC AUC", "f1": "F1", "f1_macro": "F1 (macro)", "r2": "R²",
                 "mae": "MAE", "rmse": "RMSE", "mape": "MAPE", "accuracy": "Accuracy",
                 "precision": "Precision", "recall": "Recall"}


# --------------------------------------------------------------------------- helpers


def escape(value: Any) -> str:
    """Escape any value for HTML text or attributes (``None`` becomes "n/a").

    Examples
    --------
    >>> escape("<b>"), escape(None)
    ('&lt;b&gt;', 'n/a')
    """
    return "n/a" if value is None else html.escape(str(value), quote=True)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _mpl(text: Any) -> str:
    """Text safe for matplotlib (a ``$`` in data must not start mathtext)."""
    return str(text).replace("$", r"\$")


def _metric_name(metric: Any) -> str:
    name = str(metric or "").split(".")[-1]
    return _METRIC_NAMES.get(name, name)


def _method_name(method: Any) -> str:
    return method_label(method) if method is not None else "n/a"


def _basename(path: Any) -> str:
    return str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if path else "n/a"


def _badge(label: Any, kind: str) -> str:
    """A coloured badge; ``kind`` is whitelisted so data never reaches the class name."""
    known = {"ok", "alert", "failed", "critical", "warning", "info", "na"}
    return f'<span class="obskit-badge {kind if kind in known else "na"}">{escape(label)}</span>'


def _logged(summary: Mapping[str, Any], *roles: str) -> bool:
    """Whether the log has a column for one of ``roles`` (True when the summary does not
    list its roles)."""
    listed = summary.get("roles")
    return not isinstance(listed, list) or any(r in listed for r in roles)


def _windows(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [w for w in _list(summary.get("windows")) if isinstance(w, Mapping)]


def _alerts(summary: Mapping[str, Any], *, segments: bool = False) -> list[Mapping[str, Any]]:
    """The alerts on the whole log (or, with ``segments``, those fired in a segment)."""
    return [a for a in _list(summary.get("alerts"))
            if isinstance(a, Mapping) and bool(a.get("segment")) == segments]


def _rule_threshold(summary: Mapping[str, Any], metric: str) -> float | None:
    """The value of the first comparison rule watching ``metric``, if any."""
    for rule in _list(summary.get("alert_rules")):
        rule = _map(rule)
        if rule.get("metric") == metric and rule.get("op") in (">", ">=", "<", "<="):
            value = finite(rule.get("value"))
            if value is not None:
                return value
    return None


def _alert_positions(summary: Mapping[str, Any], windows: list[Mapping[str, Any]],
                     prefix: str) -> set[int]:
    """Positions (0…n-1) of windows with an alert on a metric starting with ``prefix``."""
    by_index = {w.get("index"): i for i, w in enumerate(windows) if w.get("index") is not None}
    by_start = {w.get("start"): i for i, w in enumerate(windows) if w.get("start") is not None}
    positions = set()
    for alert in _alerts(summary):
        if not str(alert.get("metric") or "").startswith(prefix):
            continue
        pos = by_index.get(alert.get("window"), by_start.get(alert.get("window_start")))
        if pos is not None:
            positions.add(pos)
    return positions


def _series(windows: list[Mapping[str, Any]], *path: str, scale: float = 1.0) -> np.ndarray:
    """One value per window along ``path`` (NaN where missing)."""
    out = []
    for w in windows:
        value: Any = w
        for key in path:
            value = _map(value).get(key)
        v = finite(value)
        out.append(np.nan if v is None else v * scale)
    return np.asarray(out, dtype=float)


def _latest(windows: list[Mapping[str, Any]], *path: str) -> tuple[float | None, Any]:
    """The latest non-null value along ``path`` and the start of its window."""
    for w in reversed(windows):
        value: Any = w
        for key in path:
            value = _map(value).get(key)
        if finite(value) is not None:
            return finite(value), w.get("start")
    return None, None


def _drift_rows(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(feature, drift summary)`` most drifted first (:func:`obskit.drift.rank_features`)."""
    summaries = _map(summary.get("drift_summary"))
    return [(f, _map(summaries.get(f))) for f in rank_features(summaries)]
