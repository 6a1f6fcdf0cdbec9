"""Shared pieces of the report renderer: palette, escaping, names, badges, tables, and
readers of a typed :class:`~obskit.results.Run` that never fail on missing values.

Public to the rest of the package (the widgets use :func:`escape`); every function here
reads result records by attribute and computes nothing new.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields, replace
from functools import partial
from types import UnionType
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

import numpy as np

from obskit._format import finite
from obskit.metrics.performance import primary_metric as task_primary_metric
from obskit.results import Alert, DriftSummary, FeatureDrift, Record, Run, Window
from obskit.results.ranking import rank_features, rank_window_drift, summary_worst_value
from obskit.stattests.drift_rules import method_label

R = TypeVar("R", bound=Record)

__all__ = [
    "quarantine_examples",
    "COLOR_ALERT", "COLOR_CURRENT", "COLOR_ESTIMATED", "COLOR_FAILED", "COLOR_OK",
    "COLOR_REFERENCE", "HEATMAP_CAP", "HEATMAP_MAX_FEATURES", "QUANTILE_COLORS", "SECTIONS",
    "TABLE_VISIBLE_ROWS", "alert_positions", "alerts", "as_read", "badge", "basename", "complete",
    "drift_rows",
    "escape", "has_key", "latest", "logged", "method_name", "metric_name", "mpl",
    "primary_metric", "rank_window", "rule_threshold", "series", "table", "worst_value",
]

# One palette for every figure and badge (badges match the history page).
COLOR_REFERENCE = "#8c959f"  # grey: the reference data / reference values
COLOR_CURRENT = "#0969da"  # blue: the monitored (current) data
COLOR_OK = "#1a7f37"  # green: ok
COLOR_ALERT = "#b35900"  # orange: alert, thresholds, windows that fired
COLOR_FAILED = "#cf222e"  # red: failed runs, critical findings
COLOR_ESTIMATED = "#8250df"  # purple: estimated without labels (CBPE / DLE)
QUANTILE_COLORS = {"p50": "#80b6f2", "p95": COLOR_CURRENT, "p99": "#033d8b"}
#: the largest score / threshold ratio a heatmap shows
HEATMAP_CAP = 3.0
HEATMAP_MAX_FEATURES = 30
TABLE_VISIBLE_ROWS = 25
#: the report sections a finding may link to
SECTIONS = frozenset({"health", "performance", "drift", "segments", "anomalies",
                      "data-quality"})
_METRIC_NAMES = {"roc_auc": "ROC AUC", "f1": "F1", "f1_macro": "F1 (macro)", "r2": "R²",
                 "mae": "MAE", "rmse": "RMSE", "mape": "MAPE", "accuracy": "Accuracy",
                 "precision": "Precision", "recall": "Recall"}


def escape(value: Any) -> str:
    """Escape any value for HTML text or attributes (``None`` becomes "n/a").

    Parameters
    ----------
    value : Any
        Any value; it is shown as ``str(value)``.

    Returns
    -------
    str
        The escaped text (quotes included).

    Examples
    --------
    >>> escape("<b>"), escape(None)
    ('&lt;b&gt;', 'n/a')
    """
    return "n/a" if value is None else html.escape(str(value), quote=True)


def mpl(text: Any) -> str:
    """Text safe for matplotlib (a ``$`` in data must not start mathtext)."""
    return str(text).replace("$", r"\$")


def metric_name(metric: Any) -> str:
    """A metric's display name (``performance.roc_auc`` → ``ROC AUC``)."""
    name = str(metric or "").split(".")[-1]
    return _METRIC_NAMES.get(name, name)


def method_name(method: Any) -> str:
    """A drift method's display name ("n/a" for None)."""
    return method_label(method) if method is not None else "n/a"


def basename(path: Any) -> str:
    """The last part of a path, either separator ("n/a" for an empty one)."""
    return str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if path else "n/a"


def badge(label: Any, kind: str) -> str:
    """A coloured badge; ``kind`` is whitelisted so data never reaches the class name."""
    known = {"ok", "alert", "failed", "critical", "warning", "info", "na"}
    return f'<span class="obskit-badge {kind if kind in known else "na"}">{escape(label)}</span>'


def table(header: Sequence[str], rows: Sequence[Sequence[Any]],
          numeric: frozenset[int] = frozenset()) -> str:
    """A plain table; every cell is escaped (``numeric`` column positions align right)."""
    cls = [" class=num" if i in numeric else "" for i in range(len(header))]
    head = "".join(f"<th{cls[i]}>{escape(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls[i]}>{escape(c)}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def quarantine_examples(examples: Sequence[Any], what: str) -> str:
    """A collapsed table of quarantined lines (file, line, reason, detail), or "".

    ``what`` names the examples in the summary line, e.g. "examples of quarantined rows".
    """
    if not examples:
        return ""
    return (f"<details><summary>{len(examples)} {escape(what)}</summary>"
            + table(("File", "Line", "Reason", "Detail"),
                    [(basename(x.file), x.line, x.reason, x.detail) for x in examples],
                    frozenset({1}))
            + "</details>")


def has_key(record: Record, key: str) -> bool:
    """Whether ``key`` was in the document ``record`` was read from (always True for a
    record built in code)."""
    return record.layout is None or key in record.layout


def as_read(record: Record, name: str) -> Any:
    """A field's value as the document had it: None when the key was absent (not the
    field's default, e.g. a ``status`` of ``ok`` or a row count of 0)."""
    return getattr(record, name) if has_key(record, name) else None


def logged(run: Run, *roles: str) -> bool:
    """Whether the log has a column for one of ``roles`` (True when the run does not list
    its roles: an older summary)."""
    return not has_key(run, "roles") or any(r in run.roles for r in roles)


def primary_metric(run: Run) -> str:
    """The task's primary metric (:func:`obskit.metrics.performance.primary_metric`); scores count
    as logged when the run does not list its roles."""
    return task_primary_metric(str(run.task or ""), has_score=logged(run, "score"))


def alerts(run: Run, *, segments: bool = False) -> list[Alert]:
    """The alerts on the whole log (or, with ``segments``, those fired in a segment)."""
    return [a for a in run.alerts if bool(a.segment) == segments]


def rule_threshold(run: Run, metric: str) -> float | None:
    """The value of the first comparison rule watching ``metric``, if any."""
    for rule in run.alert_rules:
        if rule.metric == metric and rule.op in (">", ">=", "<", "<="):
            value = finite(rule.value)
            if value is not None:
                return value
    return None


def alert_positions(run: Run, windows: Sequence[Window], prefix: str) -> set[int]:
    """Positions (0…n-1) of windows with an alert on a metric starting with ``prefix``."""
    by_index = {w.index: i for i, w in enumerate(windows)}
    by_start = {w.start: i for i, w in enumerate(windows) if w.start is not None}
    positions = set()
    for alert in alerts(run):
        if not str(alert.metric or "").startswith(prefix):
            continue
        pos = by_index.get(alert.window) if alert.window is not None else None
        if pos is None and alert.window_start is not None:
            pos = by_start.get(alert.window_start)
        if pos is not None:
            positions.add(pos)
    return positions


def series(windows: Sequence[Window], get: Callable[[Window], Any], *,
           scale: float = 1.0) -> np.ndarray:
    """One value per window (``get(window)``; NaN where missing), shape ``(len(windows),)``."""
    out = []
    for w in windows:
        v = finite(get(w))
        out.append(np.nan if v is None else v * scale)
    return np.asarray(out, dtype=float)


def latest(windows: Sequence[Window], get: Callable[[Window], Any]
           ) -> tuple[float | None, str | None]:
    """The latest finite ``get(window)`` and the start of its window."""
    for w in reversed(windows):
        value = finite(get(w))
        if value is not None:
            return value, w.start
    return None, None


def worst_value(entry: DriftSummary) -> float | None:
    """A drift summary's most drifted value (:func:`obskit.results.ranking.summary_worst_value`:
    ``max_value`` for summaries written before ``worst_value`` existed)."""
    return summary_worst_value(entry)


def drift_rows(drift_summary: Mapping[str, DriftSummary]) -> list[tuple[str, DriftSummary]]:
    """``(feature, drift summary)`` most drifted first
    (:func:`obskit.results.ranking.rank_features`)."""
    return [(f, drift_summary[f]) for f in rank_features(drift_summary)]


def rank_window(drift: Mapping[str, FeatureDrift]) -> list[tuple[str, FeatureDrift]]:
    """One window's ``(feature, drift)`` most drifted first
    (:func:`obskit.results.ranking.rank_window_drift`)."""
    order = rank_window_drift(drift)
    return [(f, drift[f]) for f in order]


# --------------------------------------------------------------------------- null parts

_PLAN: dict[type, list[tuple[str, Any, Callable[[], Any] | None]]] = {}


def _admits_none(tp: Any) -> bool:
    return tp is Any or tp is None or type(None) in get_args(tp)


def _plan(cls: type) -> list[tuple[str, Any, Callable[[], Any] | None]]:
    """Per field of a record class: its name, type, and the maker of its default when
    the type does not admit None and the default is a container or a record."""
    if cls not in _PLAN:
        hints = get_type_hints(cls)
        plan: list[tuple[str, Any, Callable[[], Any] | None]] = []
        for f in fields(cls):
            if f.name in ("extra", "layout"):
                continue
            tp = hints[f.name]
            make: Callable[[], Any] | None = None
            if not _admits_none(tp):
                if f.default_factory is not MISSING:
                    make = f.default_factory
                elif isinstance(f.default, tuple):
                    make = partial(tuple, f.default)
            plan.append((f.name, tp, make))
        _PLAN[cls] = plan
    return _PLAN[cls]


def _complete_value(tp: Any, value: Any) -> Any:
    """``value`` with its null records and containers filled (see :func:`complete`)."""
    options = [a for a in get_args(tp) if a is not type(None)] \
        if get_origin(tp) in (Union, UnionType) else [tp]
    if len(options) != 1:
        return value
    tp = options[0]
    if isinstance(value, Record):
        return _complete_record(value)
    item = getattr(tp, "item_type", None)
    if item is None and get_origin(tp) is tuple:
        args = get_args(tp)
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
    if isinstance(value, tuple) and isinstance(item, type) and issubclass(item, Record):
        done = [_complete_record(v) for v in value if isinstance(v, Record)]
        if len(done) == len(value) and all(a is b for a, b in zip(done, value, strict=True)):
            return value
        return type(value)(done) if type(value) is not tuple else tuple(done)
    if isinstance(value, Mapping) and get_origin(tp) is not None \
            and issubclass(get_origin(tp), Mapping):
        args = get_args(tp)
        inner = args[1] if len(args) == 2 else Any
        if isinstance(inner, type) and issubclass(inner, Record):
            filled = {k: _complete_record(v) if isinstance(v, Record) else inner()
                      for k, v in value.items()}
        else:
            filled = {k: _complete_value(inner, v) for k, v in value.items()}
        if all(filled[k] is value[k] for k in value):
            return value
        return filled
    return value


def _complete_record(record: R) -> R:
    changes: dict[str, Any] = {}
    for name, tp, make in _plan(type(record)):
        value = getattr(record, name)
        absent = record.layout is not None and name not in record.layout
        if value is None or (absent and isinstance(value, Record) and value.layout is None):
            if make is not None:
                made = make()
                # an empty record read from an empty object: its fields read as absent
                changes[name] = type(made).from_dict({}) if isinstance(made, Record) else made
            continue
        done = _complete_value(tp, value)
        if done is not value:
            changes[name] = done
    return replace(record, **changes) if changes else record


_COMPLETED: dict[int, tuple[Record, Record]] = {}


def complete(run: R) -> R:
    """``run`` with every null record, list or mapping of its document (a ``null`` where
    ``summary.json`` has an object or a list) taken as empty, so the renderers read
    attributes without checking for None; scalars stay as they are. The run itself when
    nothing is null (it is never changed).

    Parameters
    ----------
    run : Run or any result record (a Window, ...)

    Returns
    -------
    Run or the record's type
    """
    if not isinstance(run, Record):
        raise TypeError(f"expected an obskit.results.Run (or one of its records), got "
                        f"{type(run).__name__}; read a summary.json (or its dict) with "
                        "obskit.results.load(...)")
    cached = _COMPLETED.get(id(run))
    if cached is not None and cached[0] is run:
        return cast(R, cached[1])
    done = _complete_record(run)
    if len(_COMPLETED) > 8:
        _COMPLETED.clear()
    _COMPLETED[id(run)] = (run, done)
    return done
