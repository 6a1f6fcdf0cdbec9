"""The anomalies section of a run (formerly ``anomaly_report``): flagged predictions, why,
and what drives them, as typed records (:class:`AnomalyResult`).

Row flags and counts come from the engine (:class:`RowAnomalyMonitor`); window-level
anomalies from the windows' own series; with a model, SHAP explains a bounded number of
flagged rows, normal rows and reference rows, and LIME a handful of flagged ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from obskit._format import finite
from obskit.analysis.anomaly_cache import AnomalyWindows, hashed
from obskit.analysis.assemble import record
from obskit.analysis.reference_cache import ReferenceCache
from obskit.analysis.window_cache import WindowCache
from obskit.config import AnomalyConfig, Config
from obskit.io.casting import normalise_label
from obskit.io.engine import fetch_frame
from obskit.io.logs import LoadedLogs
from obskit.monitors.row_anomalies import RowAnomalyMonitor
from obskit.monitors.window_anomalies import window_anomalies
from obskit.profiles import W
from obskit.profiles.values import plain
from obskit.results import (
    Anomalies,
    AnomalousPrediction,
    DriftSummary,
    Explanations,
    Window,
    WindowAnomaly,
)
from obskit.timings import stage
from obskit.windows import WindowSpec

__all__ = ["AnomalyResult", "analyse_anomalies", "EXPLAIN_NORMAL_ROWS",
           "EXPLAIN_REFERENCE_ROWS"]

#: Normal rows per run and reference rows explained for the cohort comparison.
EXPLAIN_NORMAL_ROWS = 100
EXPLAIN_REFERENCE_ROWS = 100
#: Rows per window explained for attribution drift.
EXPLAIN_ROWS_PER_WINDOW = 20
#: Reference rows SHAP integrates over (exact SHAP costs grow with it).
BACKGROUND_ROWS = 50
_ID_COLUMNS = ("request_id", "trace_id", "model_version", "score", "prediction", "label",
               "latency_ms", "status", "error")


def _index(value: Any) -> int:
    """A window index (or count) of a frame as an ``int``."""
    return int(value)


def _sample(table: Any, n: int, features: list[str]) -> pd.DataFrame:
    """A deterministic sample of at most ``n`` rows (features only), drawn in the engine."""
    return fetch_frame(hashed(table).order_by("_h").limit(n).select(*features))


def _explain(config: Config, logs: LoadedLogs, rows: pd.DataFrame, store: AnomalyWindows,
             reference: Any, cfg: AnomalyConfig, drift_summary: Mapping[str, DriftSummary]
             ) -> dict[str, Any]:
    """SHAP and LIME on the flagged rows; the cohort, attribution drift and ranking."""
    from obskit.explain import (
        agreement,
        attribution_drift,
        cohort_attribution,
        drift_importance_ranking,
        lime_explanations,
        shap_values_of,
    )
    from obskit.io.model import check_features, load_model

    features = list(logs.features)
    assert config.model is not None  # explained only with a model
    model = load_model(config.model, trusted_types=config.model_trusted_types,
                       trust=config.model_trust)
    check_features(model, features)
    task = logs.task
    if task not in ("binary", "regression"):
        return {"status": f"explanations support binary and regression models, not {task}"}
    # the background is the first rows of the reference sample (the same hash order)
    reference_rows = _sample(reference, max(EXPLAIN_REFERENCE_ROWS, BACKGROUND_ROWS), features)
    background = reference_rows.head(BACKGROUND_ROWS)
    reference_rows = reference_rows.head(EXPLAIN_REFERENCE_ROWS)
    flagged = rows[features].reset_index(drop=True)
    lime = lime_explanations(model, flagged, reference_rows, feature_types=logs.features,
                             task=task, max_rows=cfg.lime_rows)
    ids = set(rows.request_id) if "request_id" in rows else set()
    normal, window_samples = store.samples(features, normal=EXPLAIN_NORMAL_ROWS,
                                           per_window=EXPLAIN_ROWS_PER_WINDOW, skip=ids)
    samples = {int(w): sample for w, sample in window_samples.items() if len(sample)}
    # one explainer for every set of rows (building it is the costly part)
    shap_rows, shap_normal, shap_ref, *shap_windows = shap_values_of(
        model, [flagged, normal, reference_rows, *samples.values()], background, task=task,
        max_rows=[cfg.explain_rows, EXPLAIN_NORMAL_ROWS, EXPLAIN_REFERENCE_ROWS,
                  *[EXPLAIN_ROWS_PER_WINDOW] * len(samples)])
    by_window = {w: r.values for w, r in zip(samples, shap_windows, strict=True)}
    cohort = cohort_attribution(shap_rows.values, shap_normal.values, shap_ref.values)
    drift_t = attribution_drift(by_window, shap_ref.values)
    judged = {f: d.to_dict() for f, d in drift_summary.items() if d.max_value is not None}
    ranking = drift_importance_ranking(judged, shap_ref.mean_abs())
    per_row = []
    for i in range(shap_rows.n_rows):
        row_shap = shap_rows.values.iloc[i]
        entry = {"request_id": plain(rows.iloc[i].get("request_id")),
                 "base_value": finite(shap_rows.base_values[i]),
                 "shap": {f: finite(v) for f, v in row_shap.items()},
                 "values": {f: plain(rows.iloc[i][f]) for f in features}}
        if i < len(lime):
            entry["lime"] = [[f, finite(w)] for f, w in lime[i]]
            entry["agreement"] = agreement(row_shap, lime[i])
        per_row.append(entry)
    return {
        "status": "ok", "explainer": shap_rows.explainer, "output": shap_rows.output,
        "rows_explained": shap_rows.n_rows, "lime_rows": len(lime),
        "rows": per_row,
        "cohort_attribution": [{k: plain(v) for k, v in r.items()}
                               for r in cohort.to_dict("records")],
        "attribution_drift": {
            _index(w): {"tv_distance": finite(g.tv_distance.iloc[0]),
                     "shares": {r.feature: finite(r.share) for r in g.itertuples()}}
            for w, g in drift_t.groupby("window")},
        "drift_importance": [{k: plain(v) for k, v in r.items()}
                             for r in ranking.to_dict("records")],
        "importance": {f: finite(v) for f, v in shap_ref.mean_abs().items()},
    }


@dataclass(frozen=True)
class AnomalyResult:
    """The anomalies of one run: the ``anomalies``, ``window_anomalies`` and
    ``explanations`` of the :class:`~obskit.results.Run`, and each window's
    ``anomaly_counts`` (window index → reason → rows)."""

    rows: Anomalies = field(default_factory=Anomalies)
    window_anomalies: tuple[WindowAnomaly, ...] = ()
    counts: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    explanations: Explanations | None = None


def analyse_anomalies(config: Config, logs: LoadedLogs, table: Any, reference: Any,
                      windows: tuple[Window, ...], drift_summary: Mapping[str, DriftSummary],
                      *, cache: ReferenceCache | None = None,
                      window_cache: WindowCache | None = None,
                      spec: WindowSpec | None = None) -> AnomalyResult:
    """The anomalies of a run: flagged rows (reasons above their usual rate first, then
    the routine outliers), anomalous windows and, with a model, their explanations.

    Parameters
    ----------
    config : Config
    logs : LoadedLogs
    table : ibis.Table
        The analysed current rows with their ``window_index``.
    reference : ibis.Table or None
        The reference rows (None: no row-level anomalies, only window-level ones).
    windows : tuple of Window
        The run's windows.
    drift_summary : Mapping[str, DriftSummary]
        Feature → its drift over the run (ranks drift by importance).
    cache : ReferenceCache, optional
        Where the fitted reference state comes from when there.
    window_cache : WindowCache, optional
        Where each window's anomalies come from when stored (:mod:`anomaly_cache`).
    spec : WindowSpec, optional
        How the rows were cut into windows (needed with ``window_cache``).

    Returns
    -------
    AnomalyResult
    """
    cfg = config.anomalies
    found = window_anomalies([w.to_dict() for w in windows], threshold=cfg.mad_threshold)
    windowed = tuple(record(WindowAnomaly, a) for a in found)
    if reference is None:
        return AnomalyResult(window_anomalies=windowed, explanations=Explanations.from_dict(
            {"status": "row-level anomalies need a reference"}))
    monitor = RowAnomalyMonitor(logs.features, cfg,
                                positive_label=normalise_label(config.positive_label))
    (cache or ReferenceCache(None, None)).fit(monitor, reference)
    store = AnomalyWindows(window_cache, spec, table)
    rows, counts = store.scan(monitor)
    by_window = {_index(w): {str(r.reason): _index(r.rows) for r in g.itertuples()}
                 for w, g in counts.groupby(W)}
    starts = {w.index: w.start for w in windows}
    # reasons above their usual rate first, then the routine outliers
    rows = rows.sort_values(["routine", "severity"], ascending=[True, False],
                            kind="stable").reset_index(drop=True)
    flagged: list[dict[str, Any]] = []
    for r in rows.to_dict("records"):
        rec = {"window": int(r[W]), "window_start": starts.get(int(r[W])),
               "timestamp": plain(r.get("timestamp")), "reasons": tuple(r["reasons"]),
               "severity": finite(r["severity"]), "routine": bool(r["routine"])}
        rec.update({c: plain(r[c]) for c in _ID_COLUMNS if c in r})
        flagged.append(rec)
    explanations: dict[str, Any] | None = None
    if not config.model:
        explanations = {"status": "explanations need a model: pass --model PATH "
                                  "(or model.path in the config)"}
    elif cfg.explain_rows == 0:
        explanations = {"status": "explanations are off (anomalies.explain_rows: 0)"}
    elif len(rows):
        with stage("explanations"):
            explanations = _explain(config, logs, rows, store, reference, cfg, drift_summary)
        top = {e["request_id"]: e["shap"] for e in explanations.get("rows", [])}
        for rec in flagged:
            shap_row = top.get(rec.get("request_id"))
            if shap_row:
                ranked = sorted(shap_row.items(), key=lambda kv: -abs(kv[1] or 0))[:3]
                rec["top_features"] = tuple(f for f, _ in ranked)
    store.save()
    return AnomalyResult(
        rows=Anomalies(record(AnomalousPrediction, rec) for rec in flagged),
        window_anomalies=windowed, counts=by_window,
        explanations=None if explanations is None else Explanations.from_dict(explanations))
