"""Engine aggregates of the LLM calls among the spans read (``sources.traces``): per window
(by the span's start time) and model, calls, latency quantiles, tokens and errors.

An LLM call is a span of OpenInference's kind ``LLM`` (``openinference.span.kind``) or
an inference span of the OpenTelemetry GenAI semantic conventions
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/):
``gen_ai.operation.name`` one of :data:`INFERENCE_OPERATIONS` (embeddings, tool calls and
agent spans are not model calls that generate a response)."""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from obskit.profiles._common import W
from obskit.profiles.probes import _bounds
from obskit.profiles.traces import STATUS_ERROR

__all__ = ["INFERENCE_OPERATIONS", "LLM_COLUMNS", "UNKNOWN_MODEL", "llm_by_window", "llm_calls"]

#: the GenAI ``gen_ai.operation.name`` values of an inference span
INFERENCE_OPERATIONS = ("chat", "text_completion", "generate_content")
#: the model of a call whose span names none
UNKNOWN_MODEL = "(unknown)"
#: the columns :func:`llm_by_window` returns
LLM_COLUMNS = (W, "model", "calls", "errors", "p50_ms", "p95_ms", "input_tokens",
               "output_tokens", "total_tokens", "mean_input_tokens", "mean_output_tokens",
               "mean_total_tokens")


def llm_calls(spans: ir.Table) -> ir.Table:
    """The spans that are LLM calls, with ``model`` (:data:`UNKNOWN_MODEL` when none) and
    ``tokens`` (``llm.token_count.total``, else input + output of those given)."""
    kind = spans.openinference_span_kind.upper()
    calls = spans.filter((kind == "LLM").fill_null(False)
                         | spans.gen_ai_operation.lower().isin(INFERENCE_OPERATIONS)
                         .fill_null(False))
    summed = ibis.cases(
        (calls.input_tokens.isnull() & calls.output_tokens.isnull(), ibis.null("int64")),
        else_=calls.input_tokens.fill_null(0) + calls.output_tokens.fill_null(0))
    return calls.mutate(model=calls.gen_ai_model.fill_null(UNKNOWN_MODEL),
                        tokens=calls.total_tokens.fill_null(summed))


def llm_by_window(spans: ir.Table, windows: Sequence[tuple[int, str | None, str | None]],
                  *, row_windows: bool = False) -> pd.DataFrame:
    """LLM calls per window of a run and model.

    Parameters
    ----------
    spans : ibis Table
        The used spans (:func:`obskit.io.traces.load_traces`).
    windows : sequence of (int, str, str)
        The run's windows: index, start and end (ISO-8601 UTC), as in ``summary.json``.
    row_windows : bool, default False
        The windows are row blocks: a call belongs to the block whose start it follows,
        the last block open-ended (as probes,
        :func:`obskit.profiles.probes.probes_by_window`); period windows hold
        ``[start, end)``. A call is placed by its span's start time: it need not be the
        trace of a prediction row.

    Returns
    -------
    pandas.DataFrame
        :data:`LLM_COLUMNS`, one row per window and model with calls, ordered by window
        then most calls: ``errors`` the calls with status ERROR; ``p50_ms`` / ``p95_ms``
        exact quantiles of the span duration (linear interpolation as numpy's default);
        token sums over the calls that report them (0 when none does) and their means
        per such call (None when none does).
    """
    bounds = _bounds(windows, row_windows=row_windows)
    if not len(bounds):
        return pd.DataFrame({c: [] for c in LLM_COLUMNS})
    calls = llm_calls(spans)
    b = ibis.memtable(bounds)
    joined = calls.join(b, (calls.start >= b._lo) & (calls.start < b._hi))
    return joined.group_by([W, "model"]).aggregate(
        calls=joined.count(),
        errors=(joined.status_code == STATUS_ERROR).cast("int64").sum(),
        p50_ms=joined.duration_ms.quantile(0.5), p95_ms=joined.duration_ms.quantile(0.95),
        input_tokens=joined.input_tokens.sum().fill_null(0),
        output_tokens=joined.output_tokens.sum().fill_null(0),
        total_tokens=joined.tokens.sum().fill_null(0),
        mean_input_tokens=joined.input_tokens.mean(),
        mean_output_tokens=joined.output_tokens.mean(),
        mean_total_tokens=joined.tokens.mean(),
    ).order_by([W, ibis.desc("calls"), "model"]).select(*LLM_COLUMNS).execute()
