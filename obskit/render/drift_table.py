"""The drift table of the report: one row per feature, most drifted first, with a small
reference vs current chart. Every string from the data is escaped."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_num, fmt_time
from obskit._text import plural
from obskit.render.common import (
    COLOR_CURRENT,
    COLOR_REFERENCE,
    TABLE_VISIBLE_ROWS,
    badge,
    complete,
    drift_rows,
    escape,
    method_name,
    worst_value,
)
from obskit.render.drift_figures import sparkline_figure
from obskit.render.plotting import figure_to_data_uri
from obskit.results import Distribution, DriftSummary, FeatureDrift, Run

__all__ = ["drift_table_html", "sparkline_img"]


def sparkline_img(feature: str, dist: Distribution | None) -> str:
    """An ``<img>`` of :func:`~obskit.render.drift_figures.sparkline_figure`, its alt text
    naming the categories shown (escaped); a "no data" note without counts.

    Parameters
    ----------
    feature : str
        The feature (for the alt text).
    dist : Distribution or None
        Its reference and whole-current counts.

    Returns
    -------
    str
        An HTML fragment.
    """
    fig = sparkline_figure(dist)
    if fig is None or dist is None:
        return '<span class="muted">no data</span>'
    alt = f"{feature}: reference vs current distribution"
    if dist.kind == "categorical":
        cats = list(dist.categories or ())
        ref = [finite(v) or 0.0 for v in dist.reference or ()]
        cur = [finite(v) or 0.0 for v in dist.current or ()]
        order = sorted(range(min(len(cats), len(ref), len(cur))),
                       key=lambda i: -(ref[i] / (sum(ref) or 1) + cur[i] / (sum(cur) or 1)))
        alt += "; categories left to right: " + ", ".join(str(cats[i]) for i in order[:8])
    return f'<img class="spark" width="172" height="57" alt="{escape(alt)}" ' \
           f'title="{escape(alt)}" src="{figure_to_data_uri(fig)}">'


def _verdict(entry: DriftSummary, latest: FeatureDrift | None) -> str:
    k = finite(entry.drifted_windows)
    if k is None:
        return badge("n/a", "na")
    if latest is not None and latest.drifted is True:
        return badge("drifted", "alert")
    if k > 0:
        return badge("drifted earlier", "warning")
    return badge("stable", "ok")


def _row(feature: str, d: DriftSummary, latest: FeatureDrift | None,
         dist: Distribution | None) -> str:
    k, n = finite(d.drifted_windows), finite(d.windows)
    return (
        f'<tr class="{"drifted" if k else "stable"}">'
        f"<td><strong>{escape(feature)}</strong></td><td>{escape(d.type)}</td>"
        f"<td>{escape(method_name(d.method))}</td>"
        f"<td class=num>{escape(fmt_num(d.threshold))}"
        + (f"<br><small>{escape(d.threshold_kind)}</small>"
           if d.threshold_kind not in (None, "constant") else "")
        + "</td>"
        f"<td class=num>{escape(fmt_int(k))} of {escape(fmt_int(n))}</td>"
        f"<td>{escape(fmt_time(d.first_drifted) if d.first_drifted else '—')}"
        f"</td><td class=num>{escape(fmt_num(worst_value(d)))}</td>"
        f"<td class=num>{escape(fmt_num(d.last_value))}</td><td>{_verdict(d, latest)}</td>"
        f"<td>{sparkline_img(feature, dist)}</td></tr>")


def drift_table_html(run: Run) -> str:
    """One row per feature, most severe first, with a small reference/current chart.

    Parameters
    ----------
    run : Run
        The run (its ``drift_summary``, ``distributions``, ``methods.drift`` notes and
        latest window).

    Returns
    -------
    str
        An HTML table (rows past the first 25 collapsed in ``<details>``).
    """
    run = complete(run)
    rows = drift_rows(run.drift_summary)
    notes = "".join(f"<li>{escape(m.note)}</li>" for m in run.methods.drift.values() if m.note)
    notes = f'<ul class="notes">{notes}</ul>' if notes else ""
    if not rows:
        return f'<div class="obskit">{notes}<p>No drift was computed in this run.</p></div>'
    latest = run.windows[-1].drift if run.windows else {}
    head = ("<thead><tr><th>Feature</th><th>Type</th><th>Method</th><th class=num>Threshold"
            "</th><th class=num>Drifted windows</th><th>First drifted</th><th class=num>Worst"
            "</th><th class=num>Last</th><th>Verdict</th><th>Reference vs current</th>"
            "</tr></thead>")
    body = [_row(feature, d, latest.get(feature), run.distributions.get(feature))
            for feature, d in rows]
    legend = (f'<p class="muted"><span class="swatch" style="background:{COLOR_REFERENCE}">'
              f'</span>reference <span class="swatch" style="background:{COLOR_CURRENT}">'
              "</span>current (whole period). Numeric features: shares per bin, the outer "
              "bins open-ended; categorical: shares of the 8 most frequent categories. "
              "Worst: the most drifted window's value (the smallest p-value, the largest "
              "distance). Sorted by drifted windows, then by how far the worst value lies "
              "past its threshold.</p>")
    table = f"<table>{head}<tbody>{''.join(body[:TABLE_VISIBLE_ROWS])}</tbody></table>"
    if len(body) > TABLE_VISIBLE_ROWS:
        table += (f"<details><summary>{plural(len(body) - TABLE_VISIBLE_ROWS, 'more feature')}"
                  f"</summary><table>{head}<tbody>{''.join(body[TABLE_VISIBLE_ROWS:])}"
                  "</tbody></table></details>")
    return f'<div class="obskit">{notes}{legend}{table}</div>'
