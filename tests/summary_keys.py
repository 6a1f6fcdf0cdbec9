"""The key paths of a ``summary.json`` document, for the key-set contract test.

A path names a key by its parents: ``windows[].drift.*.method``. Keys that are data
(feature names, metric names, window indices, segment columns and values, anomaly
reasons) are collapsed to ``*`` and list items to ``[]``, so the set does not change with
the data.
"""

from __future__ import annotations

from typing import Any

#: paths whose children are keyed by data (after a segment's ``segments.*[].`` prefix)
DATA_KEYED = {
    "features", "class_scores", "reference.performance", "reference.performance_ci",
    "windows[].performance", "windows[].performance_ci", "windows[].estimated_performance",
    "windows[].estimated_performance_ci", "windows[].drift", "windows[].data_quality",
    "windows[].anomaly_counts", "drift_summary", "data_quality", "distributions", "segments",
    "reference_performance", "explanations.rows[].shap", "explanations.rows[].values",
    "explanations.attribution_drift", "explanations.attribution_drift.*.shares",
    "explanations.importance", "cohort_attribution", "quarantine.by_reason", "methods.drift",
    "drift_not_judged", "alerts[].segment", "findings[].segment", "alert_rules[].segment",
    "insufficient_data[].segment",
}
SEGMENT = "segments.*[]."


def _data_keyed(path: str) -> bool:
    return path.removeprefix(SEGMENT) in DATA_KEYED


def key_paths(node: Any, path: str = "") -> set[str]:
    """Every key path of ``node`` (a parsed ``summary.json``), data keys as ``*``."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            name = "*" if _data_keyed(path) else str(key)
            child = f"{path}.{name}" if path else name
            out.add(child)
            out |= key_paths(value, child)
    elif isinstance(node, list):
        for item in node:
            out |= key_paths(item, f"{path}[]")
    return out
