"""Feature ranking: which features drifted most, the one order every view uses.

The report's drift table and sparklines, the segments table, the findings, the rich
display, the window view and the explorer all rank features through these functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from obskit._format import finite
from obskit.results.record import Record
from obskit.stattests.drift_rules import threshold_ratio

__all__ = ["summary_worst_value", "feature_rank_key", "rank_features", "rank_window_drift"]

#: a drift entry: a typed record (:class:`~obskit.results.DriftSummary`,
#: :class:`~obskit.results.FeatureDrift`) or its ``summary.json`` mapping
Entry = Record | Mapping[str, Any]


def _mapping(entry: object) -> Mapping[str, Any]:
    """``entry`` as its document: a record's keys as read (so a key an older summary lacks
    stays absent), a mapping as it is, anything else as empty."""
    if isinstance(entry, Record):
        return entry.to_dict()
    return entry if isinstance(entry, Mapping) else {}


def summary_worst_value(entry: Entry | None) -> float | None:
    """A ``drift_summary`` entry's most drifted value in its method's direction.

    Parameters
    ----------
    entry : Mapping
        One feature's entry of ``summary["drift_summary"]``.

    Returns
    -------
    float or None
        ``worst_value`` (``max_value`` for summaries written before ``worst_value``
        existed); ``None`` when missing or not finite.

    Examples
    --------
    >>> summary_worst_value({"worst_value": 0.01, "max_value": 0.9})
    0.01
    >>> summary_worst_value({"max_value": 0.3})
    0.3
    """
    doc = _mapping(entry)
    return finite(doc["worst_value"]) if "worst_value" in doc \
        else finite(doc.get("max_value"))


def feature_rank_key(name: str, entry: Entry | None) -> tuple[float, float, str]:
    """The sort key that ranks features most drifted first, the one rule everywhere.

    Parameters
    ----------
    name : str
        The feature.
    entry : Mapping
        Its ``drift_summary`` entry (``{}`` when it has none).

    Returns
    -------
    tuple
        ``(-drifted windows, -ratio, name)``: more drifted windows first, then the worst
        value further past its threshold in the method's direction (:func:`threshold_ratio`;
        a feature without a worst value after those with one), then by name.
    """
    doc = _mapping(entry)
    worst = summary_worst_value(doc)
    ratio = -math.inf if worst is None else threshold_ratio(
        worst, finite(doc.get("threshold")), doc.get("method"))
    return (-(finite(doc.get("drifted_windows")) or 0), -ratio, name)


def rank_features(drift_summary: Mapping[str, Any],
                  names: Iterable[str] | None = None) -> list[str]:
    """Features ranked most drifted first over the whole run (:func:`feature_rank_key`).

    Parameters
    ----------
    drift_summary : Mapping
        ``summary["drift_summary"]``: feature → entry.
    names : iterable of str, optional
        The features to rank (default: those of ``drift_summary``); a name without an
        entry ranks as undrifted.

    Returns
    -------
    list of str

    Examples
    --------
    >>> rank_features({"a": {"drifted_windows": 1, "worst_value": 0.2, "threshold": 0.1,
    ...                      "method": "psi"},
    ...                "b": {"drifted_windows": 1, "worst_value": 0.001, "threshold": 0.05,
    ...                      "method": "ks"},
    ...                "c": {"drifted_windows": 0, "worst_value": 0.05, "threshold": 0.1,
    ...                      "method": "psi"}})
    ['b', 'a', 'c']
    """
    chosen = [str(f) for f in (drift_summary if names is None else names)]
    return sorted(chosen, key=lambda f: feature_rank_key(f, drift_summary.get(f)))


def rank_window_drift(drift: Mapping[str, Any]) -> list[str]:
    """One window's features ranked most drifted first.

    Parameters
    ----------
    drift : Mapping
        ``window["drift"]``: feature → ``{method, value, threshold, drifted}``.

    Returns
    -------
    list of str
        Drifted features first, then by how far the value lies past its threshold in the
        method's direction (:func:`threshold_ratio`: a smaller p-value ranks higher), then
        by name.

    Examples
    --------
    >>> rank_window_drift({"a": {"method": "ks", "value": 0.04, "threshold": 0.05,
    ...                          "drifted": True},
    ...                    "b": {"method": "ks", "value": 0.001, "threshold": 0.05,
    ...                          "drifted": True},
    ...                    "c": {"method": "psi", "value": 0.05, "threshold": 0.1,
    ...                          "drifted": False}})
    ['b', 'a', 'c']
    """
    def key(name: str) -> tuple[bool, float, str]:
        d = _mapping(drift.get(name))
        ratio = threshold_ratio(finite(d.get("value")), finite(d.get("threshold")),
                                d.get("method"))
        return (d.get("drifted") is not True, -ratio, name)

    return sorted((str(f) for f in drift), key=key)
