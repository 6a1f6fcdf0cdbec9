"""Figures of explanations (matplotlib): a SHAP waterfall and LIME bars for one row, and the
report's figures of the explained rows of a run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from obskit._format import finite
from obskit._text import plural
from obskit.render.common import complete, mpl
from obskit.results import Run

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["explanation_figures", "lime_figure", "waterfall_figure"]


def waterfall_figure(
    shap_row: Mapping[Any, float] | pd.Series,
    base_value: float,
    feature_values: pd.Series | Mapping[str, Any],
    title: str,
    *,
    max_features: int = 8,
) -> Figure:
    """A SHAP waterfall for one row: from the base value to the output, feature by feature.

    The ``max_features`` features with the largest |SHAP| get one bar each (largest at
    the top, labelled ``feature = value``; ties in their given order, missing values
    last); the rest are summed into one ``other`` bar (missing values skipped).
    ``shap_row`` is a mapping (or a pandas Series) of feature → SHAP value.
    """
    shap: dict[Any, float] = {f: float(v) for f, v in shap_row.items()}
    order = sorted(shap, key=lambda f: (math.isnan(shap[f]), -abs(shap[f])))  # stable
    top = order[:max_features]
    labels = [f"{mpl(f)} = {mpl(_short(feature_values.get(f)))}" for f in top]
    contributions = [shap[f] for f in top]
    if len(order) > max_features:
        labels.append(f"other ({plural(len(order) - max_features, 'feature')})")
        contributions.append(math.fsum(shap[f] for f in order[max_features:]
                                       if not math.isnan(shap[f])))
    labels, contributions = labels[::-1], contributions[::-1]  # draw bottom-up
    # from the base value at the bottom up to the output at the top, as in shap's waterfall
    starts = base_value + np.concatenate([[0.0], np.cumsum(contributions[:-1])])
    fig = Figure(figsize=(7, 0.45 * len(labels) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    colors = ["#d62728" if c > 0 else "#1f77b4" for c in contributions]
    ax.barh(range(len(labels)), contributions, left=starts, color=colors)
    ax.set_yticks(range(len(labels)), labels)
    ax.axvline(base_value, color="grey", lw=0.8, ls="--")
    output = base_value + sum(contributions)
    ax.axvline(output, color="black", lw=0.8)
    ax.set_xlabel(f"model output (base {base_value:.4g} -> {output:.4g})")
    ax.set_ylabel("feature")
    ax.set_title(mpl(title))
    return fig


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "..."


def lime_figure(lime_row: Sequence[tuple[str, float]], title: str) -> Figure:
    """Horizontal bars of one row's LIME weights, largest |weight| at the top."""
    pairs = sorted(lime_row, key=lambda fw: abs(fw[1]))
    fig = Figure(figsize=(6, 0.45 * max(len(pairs), 1) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    weights = [w for _, w in pairs]
    ax.barh(range(len(pairs)), weights,
            color=["#d62728" if w > 0 else "#1f77b4" for w in weights])
    ax.set_yticks(range(len(pairs)), [mpl(f) for f, _ in pairs])
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("LIME weight (effect on the model output)")
    ax.set_ylabel("feature")
    ax.set_title(mpl(title))
    return fig


def explanation_figures(run: Run, *, rows: int = 3) -> list[Figure]:
    """A SHAP waterfall and a LIME chart for the first flagged rows explained by both.

    Parameters
    ----------
    run : Run
        The run (its ``explanations.rows``).
    rows : int
        At most this many rows are drawn.

    Returns
    -------
    list of Figure
        Two figures per row (waterfall, then LIME); empty without explanations.
    """
    run = complete(run)
    figures: list[Figure] = []
    explained = (run.explanations.rows if run.explanations is not None else None) or ()
    for e in [e for e in explained if e.lime][:rows]:
        shap_row = {str(k): finite(v) or 0.0 for k, v in e.shap.items()}
        title = f"request {e.request_id}"
        figures.append(waterfall_figure(shap_row, finite(e.base_value) or 0.0,
                                        e.values, f"SHAP, {title}"))
        figures.append(lime_figure([(str(f), finite(w) or 0.0) for f, w in e.lime or ()],
                                   f"LIME, {title}"))
    return figures
