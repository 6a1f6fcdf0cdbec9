"""Turn the per-window frames of the monitors into the typed window records of a run.

Each monitor returns a small frame keyed by ``window_index``; this module only reshapes
them (no statistics here) into :class:`obskit.results.Window` records, so the overall run
and every segment share one layout. A record holds exactly the keys the window has: a
measure that does not apply to a feature, a column the log lacks, is absent from its
document (the record's ``layout``), as ``summary.json`` has always had it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import pandas as pd

from obskit._format import finite
from obskit._text import plural
from obskit.profiles import W
from obskit.profiles.values import iso, plain
from obskit.results import (
    FeatureDrift,
    FeatureQuality,
    Health,
    ModelVersionRows,
    MultivariateDrift,
    Record,
    Window,
    Windows,
)
from obskit.windows import PeriodWindow, WindowSpec, partial_windows

__all__ = ["WindowFrames", "assemble_windows", "record"]

#: Columns of a performance frame that are not metric values.
_NOT_METRICS = {W, "n_labelled", "n"}  # n: rows an estimate saw (the window has rows)

R = TypeVar("R", bound=Record)


def record(cls: type[R], values: Mapping[str, Any]) -> R:
    """A record of ``cls`` holding exactly the keys of ``values``, in their order.

    Parameters
    ----------
    cls : type of Record
        The record class.
    values : Mapping[str, Any]
        Field name → typed value; a name ``cls`` does not declare lands in ``extra``.

    Returns
    -------
    Record
        Its document has the keys of ``values`` (its ``layout``), no more.
    """
    names = {f.name for f in fields(cls)}
    known = {k: v for k, v in values.items() if k in names}
    extra = {k: v for k, v in values.items() if k not in names}
    return cls(**known, extra=extra, layout=tuple(values))


@dataclass
class WindowFrames:
    """What the monitors found, one frame per monitor (any may be empty)."""

    overview: pd.DataFrame
    drift: pd.DataFrame
    performance: pd.DataFrame = field(default_factory=pd.DataFrame)
    estimated: pd.DataFrame = field(default_factory=pd.DataFrame)
    multivariate: pd.DataFrame = field(default_factory=pd.DataFrame)
    health: pd.DataFrame = field(default_factory=pd.DataFrame)
    data_quality: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: rows per window and model version (None: the log has no ``model_version``)
    versions: pd.DataFrame | None = None


def _row(frame: pd.DataFrame, idx: int) -> dict[Any, Any] | None:
    if frame is None or not len(frame) or W not in frame:
        return None
    hit = frame[frame[W] == idx]
    return hit.iloc[0].to_dict() if len(hit) else None


def _metrics(row: dict[Any, Any] | None, names: list[str], judged: bool
             ) -> tuple[dict[str, float | None], dict[str, tuple[float | None, float | None]]]:
    """(metric → value, metric → (lo, hi)) from a performance-like frame row."""
    values = {m: (finite(row.get(m)) if judged and row else None) for m in names}
    ci = {}
    for m in names:
        if row and judged and f"{m}_lo" in row:
            ci[m] = (finite(row.get(f"{m}_lo")), finite(row.get(f"{m}_hi")))
    return values, ci


def _metric_names(frame: pd.DataFrame, fixed: tuple[str, ...]) -> list[str]:
    names = list(fixed)
    for col in frame.columns if frame is not None else []:
        if col in _NOT_METRICS or col.endswith(("_lo", "_hi", "_reason")) or col in names:
            continue
        names.append(col)
    return names


def _drift_entry(r: Mapping[Any, Any], enough: bool) -> dict[str, Any]:
    judged = enough and r.get("drifted") is not None and not pd.isna(r.get("drifted"))
    entry = {"method": r["method"], "value": finite(r["value"]) if enough else None,
             "threshold": finite(r["threshold"]), "drifted": bool(r["drifted"]) if judged
             else None}
    for key in ("threshold_kind", "p_value", "adjusted", "persistent"):
        if key in r:
            entry[key] = plain(r[key]) if enough else None
    return entry


def _moment(value: Any) -> Any:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _partial(spec: WindowSpec, records: list[dict[Any, Any]],
             covered: tuple[Any, Any]) -> set[int]:
    spans = []
    for row in records:
        idx = int(row[W])
        if isinstance(spec, PeriodWindow):
            start, end = spec.bounds(idx)
        else:
            start, end = _moment(row.get("first")), _moment(row.get("last"))
        spans.append((idx, start, end, _moment(row.get("first")), _moment(row.get("last")),
                      int(row["rows"])))
    lo, hi = (None if c is None else pd.Timestamp(c).to_pydatetime() for c in covered)
    return partial_windows(spec, spans, covered=(lo, hi))


#: data quality counts per feature, with their shares and the reference's
_DQ_MEASURES = ("missing", "non_finite", "out_of_range", "unseen", "wrong_type")


def _quality_entry(r: Mapping[Any, Any]) -> dict[str, Any]:
    """A window's data quality of one feature: ``rows``, ``values`` and, for each measure
    that applies to the feature, its count, ``_share``, and, when the reference gives an
    expected share, ``reference_<m>_share`` and ``_increase`` (measures that do not apply
    are left out)."""
    entry: dict[str, Any] = {"rows": int(r["rows"]), "values": int(r["values"])}
    for m in _DQ_MEASURES:
        if r.get(m) is None or pd.isna(r.get(m)):
            continue
        entry[m] = int(r[m])
        entry[f"{m}_share"] = finite(r.get(f"{m}_share"))
        base = finite(r.get(f"reference_{m}_share"))
        if base is not None:  # nothing to compare with: no increase for a rule to judge
            entry[f"reference_{m}_share"] = base
            entry[f"{m}_increase"] = finite(r.get(f"{m}_increase"))
    return entry


def _not_judged_reason(quality: dict[str, Any] | None) -> str | None:
    """Why a window's drift of a feature has no value, from its data quality."""
    if not quality:
        return None
    if quality["values"] == 0:
        parts = [f"{quality[m]:,} {m.replace('_', '-')}" for m in ("missing", "non_finite")
                 if quality.get(m)]
        return (f"no values to compare: {' and '.join(parts) or 'none'} of "
                f"{plural(quality['rows'], 'row')}")
    return None


def _multivariate(frame: pd.DataFrame, idx: int, enough: bool
                  ) -> dict[str, MultivariateDrift]:
    out: dict[str, MultivariateDrift] = {}
    for r in (frame[frame[W] == idx].to_dict("records") if len(frame) else []):
        entry: dict[str, Any] = {str(k): (finite(v) if k not in ("method", "drifted") else v)
                                 for k, v in r.items() if k not in (W, "method")}
        entry["drifted"] = (bool(r["drifted"]) if enough and r.get("drifted") is not None
                            and not pd.isna(r.get("drifted")) else None)
        if not enough:
            entry["value"] = None
        out[r["method"]] = record(MultivariateDrift, entry)
    return out


def _versions(frame: pd.DataFrame, idx: int) -> tuple[ModelVersionRows, ...]:
    """The model versions that served window ``idx``, in the frame's order."""
    rows = frame[frame[W] == idx].to_dict("records") if len(frame) else []
    return tuple(ModelVersionRows(version=plain(r["model_version"]), rows=int(r["rows"]))
                 for r in rows)


def _health(row: dict[Any, Any] | None, rows: int, enough: bool) -> Health:
    values: dict[str, Any] = {}
    if row and enough:
        values = {k: finite(v) for k, v in row.items() if k.startswith("latency_")}
        if "errors" in row:
            values["errors"] = int(row["errors"])
            values["error_rate"] = values["errors"] / rows
    return record(Health, values)


def assemble_windows(spec: WindowSpec, frames: WindowFrames, *, features: list[str],
                     metrics: tuple[str, ...], min_rows: int, has_labels: bool,
                     covered: tuple[Any, Any] = (None, None),
                     not_judged: str | None = None) -> Windows:
    """One record per window, in time order (the ``windows`` of a run or a segment).

    Parameters
    ----------
    spec : WindowSpec
        How the rows were cut into windows.
    frames : WindowFrames
        The monitors' frames, one row per window (per window and feature for drift and
        data quality).
    features : list of str
        Every feature, in order: each window has a drift entry for each.
    metrics : tuple of str
        The task's metrics, first in every performance mapping.
    min_rows : int
        Rows (and labelled rows, for performance) a window needs to be judged.
    has_labels : bool
        The log measures performance (otherwise ``performance`` stays empty).
    covered : (start, end)
        The time span the data can cover (the run's period): a window reaching outside
        it, or that the data covers only in part, is ``partial``
        (:func:`obskit.windows.partial_windows`).
    not_judged : str, optional
        The ``reason`` of every drift entry left unjudged without one of its own (a run
        without a reference).

    Returns
    -------
    Windows
        The :class:`~obskit.results.Window` records, one per row of ``frames.overview``.
    """
    perf_names = _metric_names(frames.performance, metrics)
    est_names = _metric_names(frames.estimated, metrics) if len(frames.estimated) else []
    windows = []
    records = frames.overview.to_dict("records")
    partial = _partial(spec, records, covered)
    for row in records:
        idx, rows = int(row[W]), int(row["rows"])
        if isinstance(spec, PeriodWindow):
            start, end = (iso(b) for b in spec.bounds(idx))
        else:
            start, end = iso(row.get("first")), iso(row.get("last"))
        enough = rows >= min_rows
        w: dict[str, Any] = {
            "index": idx, "start": start, "end": end, "rows": rows,
            "status": "ok" if enough else ("empty" if rows == 0 else "insufficient_data"),
            "partial": idx in partial,
        }
        labelled = None
        if "labelled" in row:
            labelled = int(row["labelled"]) if pd.notna(row["labelled"]) else 0
        w["labelled_rows"] = labelled
        w["label_coverage"] = (labelled / rows) if labelled is not None and rows else None
        w["mean_score"] = finite(row.get("mean_score"))
        if "null_scores" in row:  # rows without a score: left out of every score metric
            w["null_scores"] = int(row["null_scores"]) if pd.notna(row["null_scores"]) else 0
        judged = enough and labelled is not None and labelled >= min_rows
        if has_labels:
            w["performance"], w["performance_ci"] = _metrics(
                _row(frames.performance, idx), perf_names, judged)
        else:
            w["performance"], w["performance_ci"] = {}, {}
        if est_names:
            w["estimated_performance"], w["estimated_performance_ci"] = _metrics(
                _row(frames.estimated, idx), est_names, enough)
        else:
            w["estimated_performance"], w["estimated_performance_ci"] = {}, {}
        d = frames.drift[frames.drift[W] == idx] if len(frames.drift) else frames.drift
        found = {r["feature"]: _drift_entry(r, enough) for r in d.to_dict("records")}
        drift = {f: found.get(f, {"method": None, "value": None, "threshold": None,
                                  "drifted": None}) for f in features}
        w["drift"] = drift
        dq = frames.data_quality
        if len(dq):
            quality = {r["feature"]: _quality_entry(r)
                       for r in dq[dq[W] == idx].to_dict("records")}
            w["data_quality"] = {f: record(FeatureQuality, q) for f, q in quality.items()}
            for f, entry in drift.items():
                if f in quality:  # the values the statistic used; why none, if none
                    entry["values_used"] = quality[f]["values"]
                    reason = _not_judged_reason(quality[f])
                    if entry["drifted"] is None and enough and reason:
                        entry["reason"] = reason
        if not_judged:  # nothing to compare with: say so in every drift entry
            for entry in drift.values():
                if entry["drifted"] is None and not entry.get("reason"):
                    entry["reason"] = not_judged
        judged_features = [v for v in drift.values() if v["drifted"] is not None]
        # with persistence k, a feature counts once it drifted k windows in a row
        w["drift"] = {f: record(FeatureDrift, e) for f, e in drift.items()}
        w["drifted_features"] = tuple(sorted(f for f, v in drift.items()
                                             if v.get("persistent", v["drifted"])))
        w["drift_share"] = (len(w["drifted_features"]) / len(judged_features)
                            if judged_features else None)
        w["multivariate_drift"] = _multivariate(frames.multivariate, idx, enough)
        w["health"] = _health(_row(frames.health, idx), rows, enough)
        if frames.versions is not None:
            w["model_versions"] = _versions(frames.versions, idx)
        windows.append(record(Window, w))
    return Windows(windows)
