"""HTML fragments and figures for the monitoring report, built from ``summary.json`` alone.

Fragment functions return HTML strings (shown with ``IPython.display.HTML``); figure
functions return a :class:`matplotlib.figure.Figure` (or ``None`` when there is nothing to
draw), which nbconvert embeds as a PNG. Everything is static and offline: no scripts, no
external URLs, images only as ``data:`` URIs. Every string that comes from the data is
escaped; numbers are rounded for reading (the exact values are in ``summary.json``).

Any value of the summary may be ``null`` and any list empty: the functions say "n/a" or
"no data" rather than fail.
"""

from obskit.render._common import COLOR_ALERT, COLOR_CURRENT, COLOR_OK, COLOR_REFERENCE, escape
from obskit.render.drift_figures import drift_figure, multivariate_figure
from obskit.render.explanations import explanation_figures
from obskit.render.figures import health_figure, performance_figure
from obskit.render.fragments import (
    anomalies_html,
    data_quality_html,
    drift_table_html,
    estimation_html,
    findings_html,
    header_html,
    health_notes_html,
    methods_html,
    report_css,
    segments_html,
    summary_tiles_html,
)
from obskit.render.plotting import figure_to_data_uri
from obskit.render.quality import data_quality_figure, data_quality_table_html

__all__ = [
    "escape",
    "COLOR_ALERT",
    "COLOR_CURRENT",
    "COLOR_OK",
    "COLOR_REFERENCE",
    "anomalies_html",
    "data_quality_figure",
    "data_quality_html",
    "data_quality_table_html",
    "explanation_figures",
    "drift_figure",
    "drift_table_html",
    "estimation_html",
    "figure_to_data_uri",
    "findings_html",
    "header_html",
    "health_figure",
    "health_notes_html",
    "methods_html",
    "multivariate_figure",
    "segments_html",
    "performance_figure",
    "report_css",
    "summary_tiles_html",
]
