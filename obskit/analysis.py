"""One monitoring run: load the logs, cut windows, run the monitors, judge the rules.

:func:`analyze` is what ``obskit report`` and the notebooks call; its result turns into
``summary.json`` (:meth:`Analysis.to_summary`), the public contract.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from obskit import __version__
from obskit.alerts import evaluate_rules
from obskit.config import AlertRuleConfig, Config, DriftRule, load_config
from obskit.findings import build_findings
from obskit.io.engine import temp_name
from obskit.io.logs import LoadedLogs, load_logs
from obskit.monitors import DriftMonitor, PerformanceMonitor
from obskit.performance import METRICS, primary_metric
from obskit.profiles import W, health_by_window, window_overview
from obskit.windows import PeriodWindow, parse_window

__all__ = ["Analysis", "analyze", "SCHEMA_VERSION"]

SCHEMA_VERSION = "1.0"


def _iso(ts: Any) -> str | None:
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or pd.isna(ts):
        return None
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat().replace("+00:00", "Z")


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def drift_rules(config: Config, features: dict[str, str]) -> dict[str, DriftRule]:
    """The drift rule of each feature: per-feature config, else the default for its type."""
    rules = {}
    for name, kind in features.items():
        default = config.drift_default["numeric" if kind == "numeric" else "categorical"]
        rules[name] = config.drift_features.get(name, default)
    return rules


def alert_rules(config: Config, logs: LoadedLogs) -> tuple[AlertRuleConfig, ...]:
    """The rules in force: the configured ones, or the defaults with the performance rule
    watching the task's primary metric."""
    if not config.alerts_default:
        return config.alerts
    primary = primary_metric(logs.task, has_score="score" in logs.roles)
    return tuple(
        dataclasses.replace(r, metric=f"performance.{primary}")
        if r.metric == "performance.*" else r
        for r in config.alerts
    )


@dataclass
class Analysis:
    """The results of one run, as plain data."""

    config: Config
    logs: LoadedLogs
    windows: list[dict[str, Any]]
    reference_performance: dict[str, Any]
    distributions: dict[str, Any]
    drift: pd.DataFrame
    alerts: list[dict[str, Any]] = field(default_factory=list)
    insufficient: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    generated_at: str = ""

    @property
    def status(self) -> str:
        return "alert" if self.alerts else "ok"

    def drift_summary(self) -> dict[str, dict[str, Any]]:
        """Per feature: method, threshold, windows drifted, first drifted window, peak."""
        out: dict[str, dict[str, Any]] = {}
        starts = {w["index"]: w["start"] for w in self.windows}
        for feature, grp in self.drift.groupby("feature", sort=False):
            grp = grp.sort_values(W)
            drifted = grp[grp.drifted == True]  # noqa: E712 - None means not judged
            finite = grp.value[np.isfinite(grp.value)]
            out[feature] = {
                "type": self.logs.features.get(feature),
                "method": grp.method.iloc[0],
                "threshold": float(grp.threshold.iloc[0]),
                "windows": int(grp.drifted.notna().sum()),
                "drifted_windows": int(len(drifted)),
                "first_drifted": starts.get(int(drifted[W].iloc[0])) if len(drifted) else None,
                "max_value": _num(finite.max()) if len(finite) else None,
                "last_value": _num(grp.value.iloc[-1]),
            }
        return out

    def to_summary(self) -> dict[str, Any]:
        """The ``summary.json`` document (schema :data:`SCHEMA_VERSION`)."""
        logs, cur = self.logs, self.logs.current
        ref = logs.reference
        labels = logs.labels
        return {
            "schema_version": SCHEMA_VERSION,
            "obskit_version": __version__,
            "generated_at": self.generated_at,
            "title": self.config.title,
            "status": self.status,
            "task": logs.task,
            "window": self.config.window,
            "period": {"start": self.windows[0]["start"] if self.windows else None,
                       "end": self.windows[-1]["end"] if self.windows else None},
            "rows": {
                "read": cur.rows_read,
                "current": cur.rows_used,
                "quarantined": cur.rows_quarantined,
                "reference": ref.rows_used if ref else 0,
                "reference_quarantined": ref.rows_quarantined if ref else 0,
            },
            "labels": None if labels is None else {
                "read": labels.read, "used": labels.used, "quarantined": labels.quarantined,
                "duplicates": labels.duplicates, "matched": labels.matched,
                "unmatched": labels.unmatched,
            },
            "quarantine": cur.quarantine_summary(),
            "sources": {"current": list(cur.files), "reference": list(ref.files) if ref else [],
                        "labels": list(logs.label_quarantine.files)
                        if logs.label_quarantine else []},
            "features": dict(logs.features),
            "roles": list(logs.roles),
            "reference": {"performance": self.reference_performance},
            "windows": self.windows,
            "drift_summary": self.drift_summary(),
            "distributions": self.distributions,
            "alerts": self.alerts,
            "insufficient_data": self.insufficient,
            "alert_rules": [vars(r) for r in alert_rules(self.config, logs)],
            "alert_rules_default": self.config.alerts_default,
            "findings": self.findings,
            "notes": list(logs.notes),
            "methods": {
                "drift": {name: {"method": r.method, "threshold": r.threshold}
                          for name, r in drift_rules(self.config, logs.features).items()},
                "min_window_rows": self.config.min_window_rows,
                "latency_quantiles": "exact, linear interpolation (numpy's default)",
            },
        }


def _window_frame(logs: LoadedLogs, config: Config):
    spec = parse_window(config.window)
    con = logs.con
    table = con.create_table(temp_name("windowed"), spec.assign(logs.current.table), temp=True)
    overview = window_overview(table)
    if isinstance(spec, PeriodWindow) and len(overview):
        full = pd.DataFrame({W: np.arange(overview[W].min(), overview[W].max() + 1)})
        overview = full.merge(overview, on=W, how="left")
        overview["rows"] = overview["rows"].fillna(0).astype(int)
    return spec, table, overview


def analyze(config: Config | str, *, logs: LoadedLogs | None = None) -> Analysis:
    """Run the whole analysis for ``config`` (a :class:`Config` or a config file path)."""
    if not isinstance(config, Config):
        config = load_config(config)
    generated = _iso(datetime.now(timezone.utc))
    logs = logs or load_logs(config)
    spec, table, overview = _window_frame(logs, config)
    reference = logs.reference.table if logs.reference else None

    drift = pd.DataFrame(columns=[W, "feature", "method", "value", "threshold", "drifted"])
    distributions: dict[str, Any] = {}
    if reference is not None and logs.features:
        monitor = DriftMonitor(logs.features, drift_rules(config, logs.features)).fit(reference)
        drift = monitor.calculate(table)
        distributions = monitor.distributions(table)
    perf_monitor = PerformanceMonitor(logs.task, positive_label=config.positive_label)
    perf_monitor.fit(reference)
    performance = perf_monitor.calculate(table)
    health = health_by_window(table)

    windows = []
    metric_names = METRICS[logs.task]
    for row in overview.to_dict("records"):
        idx, rows = int(row[W]), int(row["rows"])
        if isinstance(spec, PeriodWindow):
            start, end = (_iso(b) for b in spec.bounds(idx))
        else:
            start, end = _iso(row.get("first")), _iso(row.get("last"))
        enough = rows >= config.min_window_rows
        window: dict[str, Any] = {
            "index": idx, "start": start, "end": end, "rows": rows,
            "status": "ok" if enough else ("empty" if rows == 0 else "insufficient_data"),
        }
        labelled = (int(row["labelled"]) if pd.notna(row["labelled"]) else 0) \
            if "labelled" in row else None
        window["labelled_rows"] = labelled
        window["label_coverage"] = (labelled / rows) if labelled is not None and rows else None
        window["mean_score"] = _num(row.get("mean_score"))
        perf = performance[performance[W] == idx] if W in performance else performance.iloc[0:0]
        judged = enough and labelled is not None and labelled >= config.min_window_rows
        window["performance"] = {
            m: (_num(perf[m].iloc[0]) if judged and len(perf) and m in perf else None)
            for m in metric_names
        } if "label" in table.columns else {}
        d = drift[drift[W] == idx]
        window["drift"] = {
            r.feature: {"method": r.method, "value": _num(r.value) if enough else None,
                        "threshold": float(r.threshold),
                        "drifted": bool(r.drifted) if enough and r.drifted is not None else None}
            for r in d.itertuples()
        }
        judged_features = [v for v in window["drift"].values() if v["drifted"] is not None]
        window["drifted_features"] = sorted(f for f, v in window["drift"].items() if v["drifted"])
        window["drift_share"] = (len(window["drifted_features"]) / len(judged_features)
                                 if judged_features else None)
        h = health[health[W] == idx] if W in health else health.iloc[0:0]
        hv: dict[str, Any] = {}
        if len(h) and enough:
            for col in h.columns:
                if col.startswith("latency_"):
                    hv[col] = _num(h[col].iloc[0])
            if "errors" in h:
                hv["errors"] = int(h["errors"].iloc[0])
                hv["error_rate"] = hv["errors"] / rows
        window["health"] = hv
        windows.append(window)

    alerts, insufficient = evaluate_rules(
        [w for w in windows if w["status"] == "ok"], alert_rules(config, logs),
        reference=perf_monitor.reference_,
    )
    insufficient += [{"rule": None, "metric": None, "window": w["index"],
                      "window_start": w["start"], "window_end": w["end"], "reason": w["status"]}
                     for w in windows if w["status"] != "ok"]
    analysis = Analysis(config, logs, windows, {k: _num(v) for k, v in
                                                perf_monitor.reference_.items()},
                        distributions, drift, alerts, insufficient, generated_at=generated)
    analysis.findings = build_findings(analysis.to_summary())
    return analysis
