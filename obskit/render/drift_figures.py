"""Drift figures (matplotlib), drawn from a typed :class:`~obskit.results.Run`: the
drifted share and the feature x window heatmap, multivariate drift per window, and one
feature's reference vs current sparkline."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle, StepPatch
from matplotlib.transforms import Bbox, BboxTransform, TransformedBbox

from obskit._format import finite
from obskit.render.common import (
    COLOR_ALERT,
    COLOR_CURRENT,
    COLOR_REFERENCE,
    HEATMAP_CAP,
    HEATMAP_MAX_FEATURES,
    complete,
    drift_rows,
    mpl,
    rule_threshold,
    series,
)
from obskit.render.plotting import window_axis
from obskit.results import Distribution, Run, Window

__all__ = ["drift_figure", "multivariate_figure", "sparkline_figure"]


def drift_figure(run: Run) -> Figure | None:
    """Share of drifted features over windows, and a feature × window heatmap.

    Parameters
    ----------
    run : Run
        The run (its windows, drift summaries and alert rules).

    Returns
    -------
    Figure or None
        Two panels: the drifted share with its alert threshold, and each feature's score
        relative to its threshold (capped at 3; drifted cells marked ×). ``None`` when no
        window has a drift value.
    """
    run = complete(run)
    windows = run.windows
    features = [f for f, _ in drift_rows(run.drift_summary)]
    for w in windows:
        features += [str(f) for f in w.drift if str(f) not in features]
    if not windows or not features:
        return None
    shown = features[:HEATMAP_MAX_FEATURES]
    ratio = np.full((len(shown), len(windows)), np.nan)
    drifted = np.zeros_like(ratio, dtype=bool)
    for j, w in enumerate(windows):
        for i, f in enumerate(shown):
            d = w.drift.get(f)
            if d is None:
                continue
            value, threshold = finite(d.value), finite(d.threshold)
            if value is not None and threshold:
                ratio[i, j] = min(value / threshold, HEATMAP_CAP)
            drifted[i, j] = d.drifted is True
    share = series(windows, lambda w: w.drift_share, scale=100)
    if not np.isfinite(ratio).any() and not np.isfinite(share).any():
        return None

    x = np.arange(len(windows))
    fig = Figure(figsize=(9, 2.6 + 0.28 * len(shown) + 0.9), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[2.2, 0.28 * len(shown) + 0.9])
    fig.suptitle("Drift per window", fontweight="bold")
    ax = fig.add_subplot(grid[0])
    ax.plot(x, share, marker="o", ms=3, color=COLOR_CURRENT, label="share drifted")
    threshold = rule_threshold(run, "drift_share")
    if threshold is not None:
        ax.axhline(threshold * 100, color=COLOR_ALERT, ls="--", lw=1.2,
                   label=f"alert threshold ({threshold:.0%})")
        over = np.isfinite(share) & (share > threshold * 100)
        ax.scatter(x[over], share[over], color=COLOR_ALERT, zorder=3, s=30)
    ax.set_ylim(bottom=0, top=max(10.0, np.nanmax(share, initial=0) * 1.2,
                                  (threshold or 0) * 120))
    ax.set_title("Share of drifted features")
    ax.set_ylabel("Features drifted (%)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    window_axis(ax, windows, label=False)

    ax = fig.add_subplot(grid[1])
    image = ax.imshow(np.ma.masked_invalid(ratio), aspect="auto", cmap="YlOrRd", vmin=0,
                      vmax=HEATMAP_CAP, interpolation="nearest")
    ys, xs = np.nonzero(drifted)
    dark = np.nan_to_num(ratio[ys, xs]) >= 2  # white marks on the darkest cells
    ax.scatter(xs, ys, marker="x", c=np.where(dark, "white", "black"), s=18, lw=1)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([mpl(f) for f in shown], fontsize=8)
    extra = f" (top {len(shown)} of {len(features)})" if len(features) > len(shown) else ""
    ax.set_title(f"Score relative to threshold per feature{extra}; × = drifted")
    ax.set_ylabel("Feature")
    window_axis(ax, windows)
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01)
    bar.set_label("score / threshold (capped at 3)", fontsize=8)
    return fig


_MV_TITLES = {"domain_classifier": ("Domain classifier: can a model tell window from reference?",
                                    "Cross-validated ROC AUC"),
              "pca_reconstruction": ("PCA reconstruction error (fit on the reference)",
                                     "Mean error (scaled units)")}


def multivariate_figure(run: Run) -> Figure | None:
    """Multivariate drift over windows: one panel per method with its threshold(s).

    Parameters
    ----------
    run : Run
        The run (its windows' ``multivariate_drift``).

    Returns
    -------
    Figure or None
        ``None`` when no window has a multivariate drift value.
    """
    run = complete(run)
    windows = run.windows

    def values_of(method: str, key: str) -> np.ndarray:
        def get(w: Window) -> Any:
            entry = w.multivariate_drift.get(method)
            return None if entry is None else getattr(entry, key)
        return series(windows, get)

    methods: list[str] = []
    for w in windows:
        methods += [str(m) for m in w.multivariate_drift if str(m) not in methods]
    methods = [m for m in methods if np.isfinite(values_of(m, "value")).any()]
    if not methods:
        return None
    x = np.arange(len(windows))
    fig = Figure(figsize=(9, 2.4 * len(methods) + 0.4), layout="constrained")
    fig.suptitle("Multivariate drift per window", fontweight="bold")
    for i, method in enumerate(methods):
        ax = fig.add_subplot(len(methods), 1, i + 1)
        values = values_of(method, "value")
        ax.plot(x, values, marker="o", ms=3, color=COLOR_CURRENT, label="window")
        for key, label in (("threshold", "threshold"), ("threshold_lower", "lower bound"),
                           ("threshold_upper", "upper bound")):
            bound = values_of(method, key)
            if np.isfinite(bound).any():
                ax.plot(x, bound, ls="--", lw=1.2, color=COLOR_ALERT, label=label)
        drifted = np.array([(e := w.multivariate_drift.get(method)) is not None
                            and e.drifted is True for w in windows])
        ax.scatter(x[drifted], values[drifted], color=COLOR_ALERT, zorder=3, s=30,
                   label="drifted")
        title, ylabel = _MV_TITLES.get(method, (mpl(method), "value"))
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
        window_axis(ax, windows, label=i == len(methods) - 1)
    return fig


def sparkline_figure(dist: Distribution | None) -> Figure | None:
    """Reference (grey bars) vs current (blue) shares of one feature, ~2.4 × 0.8 in.

    Parameters
    ----------
    dist : Distribution or None
        The feature's reference and whole-current counts.

    Returns
    -------
    Figure or None
        ``None`` when there are no counts.
    """
    if dist is None:
        return None
    ref = np.asarray([finite(v) or 0.0 for v in dist.reference or ()], dtype=float)
    cur = np.asarray([finite(v) or 0.0 for v in dist.current or ()], dtype=float)
    n = min(len(ref), len(cur))
    if n == 0 or (ref[:n].sum() == 0 and cur[:n].sum() == 0):
        return None
    ref, cur = ref[:n], cur[:n]
    ref = ref / ref.sum() if ref.sum() else ref
    cur = cur / cur.sum() if cur.sum() else cur
    # drawn straight on the figure, in a data box where an Axes would sit: the pixels of
    # an axis-less Axes (same clip box, faces without edges), without building an Axes
    # (most of a sparkline's cost; the report draws one per feature)
    fig = Figure(figsize=(2.4, 0.8), dpi=72)
    ymax = max(ref.max(), cur.max()) * 1.08
    if dist.kind == "categorical":
        top = np.argsort(-(ref + cur), kind="stable")[:8]
        xlim = (-0.6, len(top) - 0.4)
    else:  # bins drawn by index: the open-ended outer bins need no finite edge
        xlim = (-0.5, n - 0.5)
    box = TransformedBbox(Bbox.from_bounds(0.01, 0.04, 0.98, 0.92), fig.transFigure)
    data = BboxTransform(Bbox([[xlim[0], 0.0], [xlim[1], ymax]]), box)
    if dist.kind == "categorical":
        for offset, shares, color in ((-0.2, ref, COLOR_REFERENCE), (0.2, cur, COLOR_CURRENT)):
            for i, share in enumerate(shares[top]):
                fig.add_artist(Rectangle((i + offset - 0.2, 0.0), 0.4, share,
                                         facecolor=color, transform=data, clip_box=box))
    else:
        edges = np.arange(n + 1) - 0.5
        fig.add_artist(StepPatch(ref, edges, fill=True, facecolor=COLOR_REFERENCE,
                                 linewidth=0, transform=data, clip_box=box))
        fig.add_artist(StepPatch(cur, edges, fill=False, edgecolor=COLOR_CURRENT, lw=1.3,
                                 transform=data, clip_box=box))
    return fig
