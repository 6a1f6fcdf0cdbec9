"""LLM calls in a report (``sources.traces``): GenAI and OpenInference spans written by
the OpenTelemetry SDK through obskit's OTLP JSON exporter, placed in the demo's day
windows by their start time; per window and model the calls, error rate, exact p50 / p95
and token sums checked by hand and against numpy; the HTML table; the round trip."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

import obskit.results
from obskit.cli import main
from obskit.demo import generate_demo
from obskit.instrument.otlp_json import OTLPJsonFileExporter
from obskit.profiles.llm import llm_by_window

DAY2 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)  # demo window 1
DAY5 = datetime(2026, 11, 5, 15, tzinfo=timezone.utc)  # demo window 4
#: GenAI chat calls of gpt-4o on day 2: duration ms, input / output tokens, failed
GPT = [(120, 10, 1, False), (250, 20, 2, True), (310, 30, 3, False), (480, 40, 4, False),
       (1500, 50, 5, True)]
#: GenAI calls of a model named with markup (escaped in the HTML), provider by its old
#: attribute gen_ai.system; the last reports no output tokens
ODD = "claude<b>"
CLAUDE = [(90, 5, 7), (60, 6, 8), (300, 7, None)]


def _ns(t: datetime, ms: float = 0.0) -> int:
    return int(t.timestamp() * 1e9) + int(ms * 1e6)


def _write_spans(path: Path) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPJsonFileExporter(path)))
    tracer = provider.get_tracer("test")

    def span(name: str, at: datetime, ms: float, attrs: dict, error: bool = False) -> None:
        s = tracer.start_span(name, start_time=_ns(at), attributes=attrs)
        if error:
            s.set_status(Status(StatusCode.ERROR, "rate limited"))
        s.end(end_time=_ns(at, ms))

    for k, (ms, tin, tout, failed) in enumerate(GPT):
        span("chat gpt-4o", DAY2.replace(minute=k), ms, {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": tin, "gen_ai.usage.output_tokens": tout}, failed)
    for k, (ms, tin, tout) in enumerate(CLAUDE):
        attrs = {"gen_ai.operation.name": "text_completion", "gen_ai.system": "anthropic",
                 "gen_ai.response.model": ODD, "gen_ai.usage.input_tokens": tin}
        if tout is not None:
            attrs["gen_ai.usage.output_tokens"] = tout
        span("completion", DAY2.replace(hour=20, minute=k), ms, attrs)
    # OpenInference on day 5: total given (not prompt + completion) on the first
    span("llm", DAY5, 40, {"openinference.span.kind": "LLM", "llm.model_name": "llama-3",
                           "llm.token_count.prompt": 7, "llm.token_count.completion": 3,
                           "llm.token_count.total": 11})
    span("llm", DAY5.replace(minute=5), 80, {
        "openinference.span.kind": "LLM", "llm.model_name": "llama-3",
        "llm.token_count.prompt": 4, "llm.token_count.completion": 2}, error=True)
    span("llm", DAY5.replace(minute=9), 10, {"openinference.span.kind": "LLM"})
    # not LLM calls: a tool, embeddings, an OpenInference chain, a plain span; and a call
    # before the demo's first window
    span("execute_tool", DAY2, 5, {"gen_ai.operation.name": "execute_tool",
                                   "gen_ai.request.model": "gpt-4o"})
    span("embeddings", DAY2, 5, {"gen_ai.operation.name": "embeddings",
                                 "gen_ai.request.model": "gpt-4o",
                                 "gen_ai.usage.input_tokens": 99})
    span("chain", DAY5, 5, {"openinference.span.kind": "CHAIN", "llm.model_name": "llama-3"})
    span("predict", DAY5, 5, {})
    span("chat gpt-4o", datetime(2020, 1, 1, tzinfo=timezone.utc), 5, {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"})
    provider.shutdown()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    root = tmp_path_factory.mktemp("llm")
    files = generate_demo(root / "data", rows=5_000)
    traces = root / "traces"
    traces.mkdir()
    _write_spans(traces / "spans.jsonl")
    out = root / "out"
    assert main(["report", "--config", str(files.config), "--traces", str(traces),
                 "--out", str(out)]) == 0
    latest = out / "latest"
    return (json.loads((latest / "summary.json").read_text()),
            (latest / "index.html").read_text(encoding="utf-8"))


def _window(summary: dict, at: datetime) -> dict:
    ts = pd.Timestamp(at)
    found = [w for w in summary["windows"]
             if pd.Timestamp(w["start"]) <= ts < pd.Timestamp(w["end"])]
    assert len(found) == 1
    return found[0]


def test_genai_calls_per_model_in_their_window(report):
    summary, _ = report
    llm = _window(summary, DAY2)["health"]["llm"]
    assert list(llm) == ["gpt-4o", ODD]  # most calls first; tools and embeddings left out
    gpt = llm["gpt-4o"]
    durations = [ms for ms, *_ in GPT]
    assert (gpt["calls"], gpt["errors"], gpt["error_rate"]) == (5, 2, 0.4)
    assert gpt["p50_ms"] == pytest.approx(np.percentile(durations, 50))
    assert gpt["p95_ms"] == pytest.approx(np.percentile(durations, 95))
    assert gpt["p95_ms"] == pytest.approx(1296.0)  # 480 + 0.8 * (1500 - 480)
    assert (gpt["input_tokens"], gpt["output_tokens"], gpt["total_tokens"]) == (150, 15, 165)
    assert (gpt["mean_input_tokens"], gpt["mean_total_tokens"]) == (30.0, 33.0)
    odd = llm[ODD]
    assert (odd["calls"], odd["errors"], odd["error_rate"]) == (3, 0, 0.0)
    assert odd["p50_ms"] == pytest.approx(90.0)
    # output over the 2 calls that report it; the third call's total is its input alone
    assert (odd["input_tokens"], odd["output_tokens"], odd["total_tokens"]) == (18, 15, 33)
    assert (odd["mean_output_tokens"], odd["mean_total_tokens"]) == (7.5, 11.0)


def test_openinference_calls_and_windows_without_calls(report):
    summary, _ = report
    llm = _window(summary, DAY5)["health"]["llm"]
    assert list(llm) == ["llama-3", "(unknown)"]
    llama = llm["llama-3"]
    assert (llama["calls"], llama["errors"], llama["error_rate"]) == (2, 1, 0.5)
    assert llama["p50_ms"] == pytest.approx(np.percentile([40, 80], 50))
    assert llama["p95_ms"] == pytest.approx(np.percentile([40, 80], 95))
    # llm.token_count.total when given (11), else prompt + completion (6)
    assert (llama["input_tokens"], llama["output_tokens"], llama["total_tokens"]) == \
        (11, 5, 17)
    unknown = llm["(unknown)"]
    assert (unknown["calls"], unknown["total_tokens"], unknown["mean_total_tokens"]) == \
        (1, 0, None)
    others = [w for w in summary["windows"]
              if w["index"] not in (_window(summary, DAY2)["index"],
                                    _window(summary, DAY5)["index"])]
    assert len(others) == 12 and all(w["health"]["llm"] == {} for w in others)
    assert sum(m["calls"] for w in summary["windows"] for m in w["health"]["llm"].values()) \
        == 11  # 5 + 3 + 3: the call of 2020 is in no window


def test_html_table_escaped_and_round_trip(report):
    summary, html = report
    part = html.split('<div class="obskit obskit-llm">')[1].split("</div>")[0]
    assert "<h3>LLM calls</h3>" in part
    assert part.count("<tr>") == 1 + 4  # header + 2 models on day 2, 2 on day 5
    assert "claude&lt;b&gt;" in part and ODD not in part
    assert ">40.0%</td>" in part
    assert ">310.0 / 1,296.0</td>" in part
    run = obskit.results.load(summary)
    calls = _window(summary, DAY2)["index"]
    gpt = run.windows[calls].health.llm["gpt-4o"]
    assert isinstance(gpt, obskit.results.LlmCalls) and gpt.total_tokens == 165
    assert run.to_dict()["windows"] == summary["windows"]


def test_row_windows_hold_calls_up_to_the_next_block_the_last_open_ended():
    at = pd.to_datetime(["2026-11-01T01:00Z", "2026-11-01T05:00Z", "2026-11-03T00:00Z",
                         "2026-10-31T00:00Z"], utc=True).astype("datetime64[us, UTC]")
    spans = ibis.memtable(pd.DataFrame({
        "start": at, "duration_ms": [1.0, 2.0, 3.0, 4.0], "status_code": [0, 0, 2, 0],
        "openinference_span_kind": ["LLM"] * 4, "gen_ai_operation": [None] * 4,
        "gen_ai_model": ["m"] * 4, "input_tokens": [1, 2, 3, 4],
        "output_tokens": [None] * 4, "total_tokens": [None] * 4}).astype(
        {"gen_ai_operation": "string", "output_tokens": "Int64", "total_tokens": "Int64"}))
    blocks = [(0, "2026-11-01T00:00:00Z", "2026-11-01T02:00:00Z"),
              (1, "2026-11-01T04:00:00Z", "2026-11-01T06:00:00Z")]
    rows = llm_by_window(spans, blocks, row_windows=True).set_index("window_index")
    assert rows.calls.to_dict() == {0: 1, 1: 2}  # the 3rd in the open-ended last block
    assert (rows.loc[1, "errors"], rows.loc[1, "input_tokens"]) == (1, 5)
    periods = llm_by_window(spans, blocks).set_index("window_index")
    assert periods.calls.to_dict() == {0: 1, 1: 1}


def test_provider_model_and_total_tokens_columns_first_present_wins():
    from obskit.io.otlp_spans import export_spans

    def attr(key, value):
        kind = "intValue" if isinstance(value, int) else "stringValue"
        return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}

    def row(*attrs):
        span = {"traceId": "1" * 32, "spanId": "2" * 16, "startTimeUnixNano": "1",
                "endTimeUnixNano": "2", "attributes": list(attrs)}
        return next(export_spans({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))

    new = row(attr("gen_ai.provider.name", "openai"), attr("gen_ai.system", "old"),
              attr("gen_ai.response.model", "gpt-4o-2024-08-06"))
    assert (new["gen_ai_provider"], new["gen_ai_model"], new["total_tokens"]) == \
        ("openai", "gpt-4o-2024-08-06", None)
    old = row(attr("gen_ai.system", "anthropic"), attr("llm.model_name", "llama-3"),
              attr("llm.token_count.total", 12))
    assert (old["gen_ai_provider"], old["gen_ai_model"], old["total_tokens"]) == \
        ("anthropic", "llama-3", 12)
