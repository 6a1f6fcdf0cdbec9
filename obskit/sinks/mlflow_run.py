"""What the MLflow sink logs for one report run, computed from the typed run alone (no
MLflow import): the per-window metrics, the run's tags, its name, the versions served.

Metric names follow MLflow's style (lower case, ``.``-separated, see the MLflow tracking
docs, "Logging metrics") with scikit-learn's metric names for performance:

=================================  ======================================================
metric                             value of window ``step``
=================================  ======================================================
``performance.<metric>``           realized performance, e.g. ``performance.roc_auc``
``estimated.<metric>``             performance estimated without labels (CBPE / DLE)
``drift.share``                    share of judged features that drifted (0-1)
``drift.drifted_features``         drifted features
``drift.score.<feature>``          the feature's drift statistic
``multivariate.<method>``          ``domain_classifier`` AUC, ``pca_reconstruction`` error
``health.rows``                    rows of the window
``health.errors``, ``health.error_rate``  failed predictions, their share (0-1)
``health.latency_p50_ms`` …        latency quantiles p50 / p95 / p99 (milliseconds)
``health.probes.pass_rate``        golden-request pass rate (with ``sources.probes``)
``health.traces.traced_share``     predictions with a trace (with ``sources.traces``)
``labels.rows``, ``labels.coverage``  labelled rows, their share
``score.mean``, ``score.nulls``    mean score, rows without a score
``explanations.attribution_drift`` total-variation distance of SHAP importance shares
=================================  ======================================================

Step = the window's position in the run (0-based), timestamp = the window's end in
milliseconds. A missing or non-finite value is skipped, never logged as 0. A class in
a per-class metric (``recall[<class>]``) becomes a key part (``performance.recall.<class>``);
characters MLflow refuses in a key become ``_``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._format import finite
from obskit.config.sinks import MlflowConfig
from obskit.results import Health, Run, RunRecord, Window

__all__ = ["WindowMetric", "metric_key", "window_metrics", "served_versions", "run_tags",
           "run_name", "iso_ms"]

#: ``(key, value, timestamp_ms, step)``, the fields of ``mlflow.entities.Metric``
WindowMetric = tuple[str, float, int, int]

_REFUSED = re.compile(r"[^A-Za-z0-9_\-. /]")  # MLflow's metric and tag key characters
_CLASS = re.compile(r"\[(.*?)\]")
_HEALTH = ("errors", "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_TAG_MAX = 5000  # MLflow keeps tag values up to 8000 characters; findings stay short


def metric_key(*parts: str) -> str:
    """An MLflow metric key from its parts, ``.``-joined.

    >>> metric_key("performance", "recall[high risk]")
    'performance.recall.high risk'
    >>> metric_key("drift", "score", "zip:code")
    'drift.score.zip_code'
    """
    return ".".join(_REFUSED.sub("_", _CLASS.sub(r".\1", p)) for p in parts)[:250]


def iso_ms(text: str | None) -> int | None:
    """Milliseconds since the epoch of an ISO-8601 time (UTC when it names no zone)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _values(window: Window) -> Iterator[tuple[str, Any]]:
    """Each metric key of one window with its raw value (None included)."""
    health = window.health if isinstance(window.health, Health) else Health()
    for name, value in (window.performance or {}).items():
        yield metric_key("performance", name), value
    for name, value in (window.estimated_performance or {}).items():
        yield metric_key("estimated", name), value
    yield "drift.share", window.drift_share
    if window.drift_share is not None:
        yield "drift.drifted_features", len(window.drifted_features)
    for feature, drift in (window.drift or {}).items():
        yield metric_key("drift", "score", feature), getattr(drift, "value", None)
    for method, multi in (window.multivariate_drift or {}).items():
        yield metric_key("multivariate", method), getattr(multi, "value", None)
    yield "health.rows", window.rows
    for name in _HEALTH:
        yield f"health.{name}", getattr(health, name)
    if health.probes is not None:
        yield "health.probes.pass_rate", health.probes.pass_rate
        yield "health.probes.latency_p95_ms", health.probes.latency_p95_ms
    if health.traces is not None:
        yield "health.traces.traced_share", health.traces.traced_share
        yield "health.traces.error_spans", health.traces.error_spans
    yield "labels.rows", window.labelled_rows
    yield "labels.coverage", window.label_coverage
    yield "score.mean", window.mean_score
    yield "score.nulls", window.null_scores
    yield "explanations.attribution_drift", window.attribution_drift


def window_metrics(run: Run) -> list[WindowMetric]:
    """Every finite metric of every window of the whole log, in window order.

    Parameters
    ----------
    run : Run

    Returns
    -------
    list of (key, value, timestamp_ms, step)
        Step = the window's position (0-based); timestamp = its end (else its start, else
        the run's ``generated_at``) in milliseconds. A key two names share (after
        sanitising) is logged once, for the first.
    """
    fallback = iso_ms(run.generated_at) or 0
    out: list[WindowMetric] = []
    for step, window in enumerate(run.windows):
        stamp = iso_ms(window.end) or iso_ms(window.start) or fallback
        seen: set[str] = set()
        for key, raw in _values(window):
            value = finite(raw)
            if value is None or isinstance(raw, bool) or key in seen:
                continue
            seen.add(key)
            out.append((key, value, stamp, step))
    return out


def served_versions(run: Run) -> list[tuple[str, int]]:
    """The ``model_version`` values that served the run's windows with their rows, most
    rows first (rows without a version left out)."""
    rows: dict[str, int] = {}
    for window in run.windows:
        for served in window.model_versions:
            if served.version is not None:
                rows[served.version] = rows.get(served.version, 0) + served.rows
    return sorted(rows.items(), key=lambda item: (-item[1], item[0]))


def _model_name(config: MlflowConfig, record: RunRecord | None) -> str | None:
    if config.registered_model:
        return config.registered_model
    model = record.model if record is not None else None
    return Path(model).stem if model else None


def run_name(config: MlflowConfig, run: Run, record: RunRecord | None) -> str:
    """``config.run_name`` with its fields filled (a field without a value: ``-``).

    Parameters
    ----------
    config : MlflowConfig
    run : Run
    record : RunRecord or None
        ``run_id``; ``model`` (the model file, whose stem is ``model_name`` without
        ``registered_model``).

    Returns
    -------
    str
        E.g. ``"credit-risk 20261130T060000Z"`` for ``"{model_name} {run_id}"``.
    """
    values = {"run_id": record.run_id if record is not None else None,
              "model_name": _model_name(config, record), "status": run.status,
              "title": run.title}
    names = {f for _, f, _, _ in string.Formatter().parse(config.run_name) if f}
    return config.run_name.format(**{k: values.get(k) or "-" for k in names}).strip() \
        or "obskit"


def run_tags(config: MlflowConfig, run: Run, record: RunRecord | None,
             events: Mapping[str, Any], run_dir: Any) -> dict[str, str]:
    """The MLflow run's tags (``obskit.*``; ``mlflow.note.content``: the findings, which
    the MLflow UI shows as the run's description).

    Parameters
    ----------
    config : MlflowConfig
    run : Run
    record : RunRecord or None
    events : Mapping
        The alert events (``firing`` counted in ``obskit.alerts_firing``).
    run_dir : str, Path or None

    Returns
    -------
    dict[str, str]
        Tag → value; tags without a value are left out, values capped at 5000 characters.
    """
    versions = served_versions(run)
    findings = "\n".join(f"- [{f.severity}] {f.text}" for f in run.findings[:10])
    tags = {
        "obskit.run_id": record.run_id if record is not None else None,
        "obskit.status": run.status,
        "obskit.title": run.title,
        "obskit.task": run.task,
        "obskit.window": run.window,
        "obskit.period_start": run.period.start,
        "obskit.period_end": run.period.end,
        "obskit.model_name": _model_name(config, record),
        "obskit.model_version": ",".join(v for v, _ in versions) or None,
        "obskit.alerts": str(len(run.alerts)),
        "obskit.alerts_firing": str(len(events.get("firing") or [])),
        "obskit.run_dir": str(run_dir) if run_dir is not None else None,
        "obskit.version": run.obskit_version,
        "mlflow.note.content": findings or None,
    }
    return {k: str(v)[:_TAG_MAX] for k, v in tags.items() if v is not None}
