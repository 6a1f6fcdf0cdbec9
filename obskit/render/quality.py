"""The data quality monitor in the report: a feature × window heatmap and a table per
feature (missing, non-finite, out-of-range, unseen and wrong-type values against the
reference), read from a typed :class:`~obskit.results.Run` alone."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from obskit._format import finite, fmt_int, fmt_pct, fmt_time
from obskit._text import plural
from obskit.render.common import HEATMAP_MAX_FEATURES, TABLE_VISIBLE_ROWS, complete, escape, mpl
from obskit.render.plotting import window_axis
from obskit.results import FeatureQuality, MeasureSummary, Run

__all__ = ["data_quality_figure", "data_quality_table_html"]

#: measure → column heading (the order of the table)
_MEASURES = {"missing": "Missing", "non_finite": "Non-finite", "out_of_range": "Out of range",
             "unseen": "Unseen categories", "wrong_type": "Wrong type"}


def _increases(quality: FeatureQuality | None) -> dict[str, float]:
    """measure → increase over the reference, for the measures a record has."""
    if quality is None:
        return {}
    return {m: v for m in _MEASURES
            if (v := finite(getattr(quality, f"{m}_increase"))) is not None}


def _features(run: Run) -> list[str]:
    """Features with a data quality record, the worst first."""
    worst: dict[str, float] = {}
    for w in run.windows:
        for f, q in w.data_quality.items():
            rises = list(_increases(q).values())
            worst[str(f)] = max([worst.get(str(f), -1.0), *rises])
    return sorted(worst, key=lambda f: (-worst[f], f))


def data_quality_figure(run: Run) -> Figure | None:
    """A feature × window heatmap of the largest increase of a bad-value share over the
    reference (missing, non-finite, out of range, unseen, wrong type), annotated with the
    measure where it passes 1 percentage point.

    Parameters
    ----------
    run : Run
        The run (its windows' ``data_quality``).

    Returns
    -------
    Figure or None
        ``None`` when no window has a data quality record.
    """
    run = complete(run)
    windows = run.windows
    features = _features(run)
    if not windows or not features:
        return None
    shown = features[:HEATMAP_MAX_FEATURES]
    grid = np.full((len(shown), len(windows)), np.nan)
    marks: list[tuple[int, int, str]] = []
    short = {"missing": "M", "non_finite": "∞", "out_of_range": "R", "unseen": "U",
             "wrong_type": "T"}
    for j, w in enumerate(windows):
        for i, f in enumerate(shown):
            rises = _increases(w.data_quality.get(f))
            if not rises:
                continue
            measure = max(rises, key=lambda m: rises[m])
            grid[i, j] = max(rises[measure], 0.0) * 100
            if rises[measure] > 0.01:
                marks.append((j, i, short[measure]))
    if not np.isfinite(grid).any():
        return None
    fig = Figure(figsize=(9, 1.4 + 0.3 * len(shown)), layout="constrained")
    fig.suptitle("Data quality per window", fontweight="bold")
    ax = fig.add_subplot()
    top = max(10.0, float(np.nanmax(grid)))
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap="YlOrRd", vmin=0,
                      vmax=top, interpolation="nearest")
    for x, y, text in marks:
        dark = grid[y, x] >= 0.6 * top
        ax.text(x, y, text, ha="center", va="center", fontsize=7,
                color="white" if dark else "black")
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([mpl(f) for f in shown], fontsize=8)
    extra = f" (worst {len(shown)} of {len(features)})" if len(features) > len(shown) else ""
    ax.set_title("Largest rise of a bad-value share over the reference per feature"
                 f"{extra}\nM missing, ∞ non-finite, R out of range, U unseen, "
                 "T wrong type", fontsize=9)
    ax.set_ylabel("Feature")
    window_axis(ax, windows)
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01)
    bar.set_label("rise over the reference (percentage points)", fontsize=8)
    return fig


def _cell(entry: MeasureSummary | None) -> str:
    """``count (share; reference share), worst +x pts on day`` for one measure."""
    if entry is None or entry.layout == ():
        return "—"
    text = f"{fmt_int(entry.count)} ({fmt_pct(entry.share)}"
    if finite(entry.reference_share) is not None:
        text += f"; reference {fmt_pct(entry.reference_share)}"
    text += ")"
    worst = finite(entry.max_increase)
    if worst is not None and worst > 0.005:
        text += f", worst +{worst * 100:.1f} pts on {fmt_time(entry.worst_window)}"
    return text


def data_quality_table_html(run: Run) -> str:
    """One row per feature: its type, the values the statistics used, and each measure's
    count over the run, share, reference share and worst window (escaped).

    Parameters
    ----------
    run : Run
        The run (its ``data_quality`` summaries and alerts).

    Returns
    -------
    str
        An HTML fragment.
    """
    run = complete(run)
    quality = run.data_quality
    if not quality:
        return ('<div class="obskit"><p>No data quality figures: the run has no features.'
                "</p></div>")
    flagged = {str(a.metric or "").split(".")[1] for a in run.alerts
               if str(a.metric or "").startswith("data_quality.")
               and len(str(a.metric).split(".")) == 3}
    order = sorted(quality, key=lambda f: (f not in flagged, f))
    head = "".join(f"<th>{escape(h)}</th>" for h in ("Feature", "Type", "Values used / rows",
                                                  *_MEASURES.values()))
    body = []
    for f in order:
        q = quality[f]
        name = escape(f) + (" ⚠" if f in flagged else "")
        cells = [name, escape(q.type),
                 f"{escape(fmt_int(q.values))} / {escape(fmt_int(q.rows))}"]
        cells += [escape(_cell(getattr(q, m))) for m in _MEASURES]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    note = ("<p>Per feature over the current period: each count, its share (missing and "
            "non-finite of the rows; out of range and unseen of the values used; wrong type "
            "of the rows read), the share expected from the reference, and the window where "
            "it rose most. Missing and non-finite values are left out of the drift "
            "statistics; ⚠ marks a feature with a data quality alert.</p>")
    table = (f"<table><thead><tr>{head}</tr></thead><tbody>"
             f"{''.join(body[:TABLE_VISIBLE_ROWS])}</tbody></table>")
    if len(body) > TABLE_VISIBLE_ROWS:  # long tables collapsed, never cut
        table += (f"<details><summary>{plural(len(body) - TABLE_VISIBLE_ROWS, 'more feature')}"
                  f"</summary><table><thead><tr>{head}</tr></thead><tbody>"
                  f"{''.join(body[TABLE_VISIBLE_ROWS:])}</tbody></table></details>")
    return f'<div class="obskit"><h3>Data quality per feature</h3>{note}{table}</div>'

