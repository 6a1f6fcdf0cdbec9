"""The drift rule of each feature, and each feature's drift summed up over the windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from obskit._format import finite
from obskit.config import Config, DriftRule
from obskit.profiles import W
from obskit.results import DriftSummary, Window
from obskit.schema import is_numeric_type

__all__ = ["drift_rules", "drift_summary"]


def drift_rules(config: Config, features: Mapping[str, str], reference: Any = None,
                current: Any = None) -> dict[str, DriftRule]:
    """The drift rule of each feature.

    Per-feature config, else the configured rule for its type, else Evidently 0.7's
    default for it (:func:`obskit.stattests.drift_rules.default_rule`, from the
    reference rows and the distinct values of reference and current, counted in one engine query).

    Parameters
    ----------
    config : Config
    features : Mapping[str, str]
        Feature → ``numeric`` / ``categorical`` (or an engine type).
    reference, current : ibis.Table, optional
        The reference and current rows; without a ``reference`` the features without a
        configured rule get ``DriftRule("auto", nan)``.

    Returns
    -------
    dict[str, DriftRule]
        Feature → its rule, in the order of ``features``.
    """
    from obskit.profiles.drift import feature_stats, median_window_rows
    from obskit.stattests.drift_rules import cardinality_rule, default_rule

    names = [f for f, kind in features.items()
             if kind == "categorical" and f not in config.drift_features]
    # the categoricals' distinct reference values come in the same query as the rest
    stats = (feature_stats(reference, current, features, reference_unique=names)
             if reference is not None else None)
    wide: dict[str, DriftRule] = {}  # categoricals with too many values for a binned method
    if stats is not None and names:
        window_rows = median_window_rows(current)
        for f in names:
            rows = int(stats.reference_rows[f])
            rule = cardinality_rule(f, reference_rows=rows,
                                    reference_unique=int(stats.reference_unique[f]),
                                    window_rows=window_rows or float(rows))
            if rule is not None:
                wide[f] = rule
    rules = {}
    for name, kind in features.items():
        configured = config.drift_default.get("numeric" if is_numeric_type(kind)
                                              else "categorical")
        if name in config.drift_features:
            rules[name] = config.drift_features[name]
        elif name in wide:
            rules[name] = wide[name]
        elif configured is not None:
            rules[name] = configured
        elif stats is not None:
            rules[name] = default_rule(kind, int(stats.reference_rows[name]),
                                       int(stats.n_unique[name]))
        else:
            rules[name] = DriftRule("auto", float("nan"))
    return rules


def drift_summary(drift: pd.DataFrame, windows: tuple[Window, ...],
                  features: Mapping[str, str]) -> dict[str, DriftSummary]:
    """Per feature: method, threshold, windows drifted, first drifted window, peak.

    Parameters
    ----------
    drift : pandas.DataFrame
        The drift monitor's frame: one row per (window, feature) with ``method``,
        ``value``, ``threshold``, ``drifted`` (None: not judged), ``threshold_kind``.
    windows : tuple of Window
        The windows; only those with ``status`` ``ok`` count.
    features : Mapping[str, str]
        Feature → type.

    Returns
    -------
    dict[str, DriftSummary]
        Feature → its summary, for each feature with a judged window. ``worst_value`` is
        the value of the most drifted window in the method's direction (the smallest
        p-value, the largest distance); ``max_value`` stays the largest value (for a
        p-value method, the least drifted window), kept for compatibility.
    """
    from obskit.stattests.drift_rules import worst_value

    out: dict[str, DriftSummary] = {}
    starts = {w.index: w.start for w in windows}
    judged = {w.index for w in windows if w.status == "ok"}
    for feature, grp in drift.groupby("feature", sort=False):
        grp = grp[grp[W].isin(judged)].sort_values(W)
        if not len(grp):
            continue
        drifted = grp[grp.drifted == True]  # noqa: E712 - None means not judged
        finite_values = grp.value[np.isfinite(grp.value.astype(float))]
        out[str(feature)] = DriftSummary(
            type=features.get(str(feature)),
            method=grp.method.iloc[0],
            threshold=finite(grp.threshold.iloc[-1]),
            threshold_kind=(grp.threshold_kind.iloc[-1] if "threshold_kind" in grp
                            else "constant"),
            windows=int(grp.drifted.notna().sum()),
            drifted_windows=int(len(drifted)),
            first_drifted=starts.get(int(drifted[W].iloc[0])) if len(drifted) else None,
            max_value=finite(finite_values.max()) if len(finite_values) else None,
            last_value=finite(grp.value.iloc[-1]),
            worst_value=finite(worst_value(finite_values, grp.method.iloc[0])),
        )
    return out
