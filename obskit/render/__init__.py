"""HTML fragments and figures for the monitoring report, built from a typed
:class:`obskit.results.Run` alone (``obskit.results.load(path)`` reads a ``summary.json``).

Fragment functions return HTML strings (shown with ``IPython.display.HTML``); figure
functions return a :class:`matplotlib.figure.Figure` (or ``None`` when there is nothing to
draw), which nbconvert embeds as a PNG. Everything is static and offline: no scripts, no
external URLs, images only as ``data:`` URIs. Every string that comes from the data is
escaped; numbers are rounded for reading (the exact values are in ``summary.json``).

Any value of the run may be ``None`` and any list empty: the functions say "n/a" or
"no data" rather than fail.

Modules, one per report section: :mod:`~obskit.render.overview` (header, tiles,
findings), :mod:`~obskit.render.figures` (health, performance),
:mod:`~obskit.render.notes` (health notes, estimation), :mod:`~obskit.render.probes`
(health probes), :mod:`~obskit.render.traces` (traces), :mod:`~obskit.render.llm` (LLM
calls), :mod:`~obskit.render.drift_figures` and :mod:`~obskit.render.drift_table` (drift),
:mod:`~obskit.render.segment_table`,
:mod:`~obskit.render.anomaly_tables` and :mod:`~obskit.render.explanations` (anomalies),
:mod:`~obskit.render.quality`, :mod:`~obskit.render.accounting` and
:mod:`~obskit.render.methods` (data quality and method notes); shared pieces in
:mod:`~obskit.render.common`, :mod:`~obskit.render.css` and :mod:`~obskit.render.plotting`;
the explorer's and deep dives' views in :mod:`~obskit.render.views` and
:mod:`~obskit.render.requests`; the notebook display in :mod:`~obskit.render.rich`.
"""

from obskit.render.accounting import data_quality_html
from obskit.render.anomaly_tables import anomalies_html
from obskit.render.common import COLOR_ALERT, COLOR_CURRENT, COLOR_OK, COLOR_REFERENCE, escape
from obskit.render.css import report_css
from obskit.render.drift_figures import drift_figure, multivariate_figure
from obskit.render.drift_table import drift_table_html
from obskit.render.explanations import explanation_figures
from obskit.render.figures import health_figure, performance_figure
from obskit.render.llm import llm_html
from obskit.render.methods import methods_html
from obskit.render.notes import estimation_html, health_notes_html
from obskit.render.overview import findings_html, header_html, summary_tiles_html
from obskit.render.plotting import figure_to_data_uri
from obskit.render.probes import probes_html
from obskit.render.quality import data_quality_figure, data_quality_table_html
from obskit.render.segment_table import segments_html
from obskit.render.traces import traces_html

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
    "llm_html",
    "probes_html",
    "traces_html",
    "report_css",
    "summary_tiles_html",
]
