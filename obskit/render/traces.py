"""The health section's trace table: per window, the share of requests with a trace, the
error spans and the latency of each stage (``sources.traces``). Every string is escaped."""

from __future__ import annotations

from collections import Counter

from obskit._format import finite, fmt_int, fmt_pct, fmt_time
from obskit.render.common import escape, table
from obskit.render.trace_requests import slowest_requests_html
from obskit.results import Run

__all__ = ["traces_html"]

#: the most stages shown as columns (the most spans over the run)
STAGE_COLUMNS = 5


def _ms(value: object) -> str:
    v = finite(value)
    return "n/a" if v is None else f"{v:,.1f}"


def traces_html(run: Run) -> str:
    """The traces of each window's predictions: requests traced, spans, error spans and
    the p50 / p95 latency (ms) of the :data:`STAGE_COLUMNS` most frequent stages.

    Parameters
    ----------
    run : Run
        The run (its ``traces`` and its windows' ``health.traces``).

    Returns
    -------
    str
        An HTML fragment; empty for a run without ``sources.traces``.
    """
    counts = run.traces
    if counts is None:
        return ""
    summaries = [(w, w.health.traces) for w in run.windows
                 if w.health is not None and w.health.traces is not None]
    frequent: Counter[str] = Counter()
    for _, t in summaries:
        frequent.update({name: s.spans for name, s in (t.stages or {}).items()})
    stages = [name for name, _ in frequent.most_common(STAGE_COLUMNS)]
    rows = []
    for w, t in summaries:
        cells = [(t.stages or {}).get(name) for name in stages]
        rows.append((fmt_time(w.start), fmt_int(t.requests), fmt_pct(t.traced_share),
                     fmt_int(t.spans), fmt_int(t.error_spans),
                     *(f"{_ms(s.p50_ms)} / {_ms(s.p95_ms)}" if s else "-" for s in cells)))
    header = ("Window", "Requests", "With a trace", "Spans", "Error spans",
              *(f"{name} p50 / p95 (ms)" for name in stages))
    parts = ['<div class="obskit obskit-traces"><h3>Stage latency (traces)</h3>',
             "<p>Spans joined to the predictions on <code>trace_id</code>; a stage is a "
             "span with a parent, by name.</p>",
             table(header, rows, frozenset(range(1, len(header)))),
             f"<p>{escape(fmt_int(counts.used))} spans used of {escape(fmt_int(counts.read))} "
             f"read; {escape(fmt_int(counts.matched))} traces matched a prediction, "
             f"{escape(fmt_int(counts.unmatched))} did not.</p>"]
    return "".join(parts) + "</div>" + slowest_requests_html(run)
