"""The health section's LLM calls table: per window and model, calls, error rate, latency
and tokens (``sources.traces``, ``windows[i].health.llm``). Every string is escaped."""

from __future__ import annotations

from obskit._format import finite, fmt_int, fmt_num, fmt_pct, fmt_time
from obskit.render.common import table
from obskit.results import Run

__all__ = ["llm_html"]


def _ms(value: object) -> str:
    v = finite(value)
    return "n/a" if v is None else f"{v:,.1f}"


def llm_html(run: Run) -> str:
    """The LLM calls of each window, one row per window and model: calls, error rate,
    p50 / p95 latency (ms) and the input / output / total tokens (sums, and the total
    per call).

    Parameters
    ----------
    run : Run
        The run (its windows' ``health.llm``).

    Returns
    -------
    str
        An HTML fragment; empty when no window has an LLM call (or the run reads no
        ``sources.traces``).
    """
    rows = []
    for w in run.windows:
        for model, c in ((w.health.llm or {}).items() if w.health is not None else ()):
            rows.append((fmt_time(w.start), model, fmt_int(c.calls), fmt_pct(c.error_rate),
                         f"{_ms(c.p50_ms)} / {_ms(c.p95_ms)}", fmt_int(c.input_tokens),
                         fmt_int(c.output_tokens), fmt_int(c.total_tokens),
                         fmt_num(c.mean_total_tokens)))
    if not rows:
        return ""
    header = ("Window", "Model", "Calls", "Error rate", "p50 / p95 (ms)", "Input tokens",
              "Output tokens", "Total tokens", "Tokens per call")
    return ('<div class="obskit obskit-llm"><h3>LLM calls</h3>'
            "<p>Spans of OpenInference kind <code>LLM</code> or GenAI inference spans "
            "(<code>gen_ai.operation.name</code> chat, text_completion, generate_content), "
            "by the window their span starts in and their model.</p>"
            + table(header, rows, frozenset(range(2, len(header)))) + "</div>")
