"""Single traces in a report: the slowest traced requests with their stage breakdown, and
each anomalous prediction linked to its trace. Spans written by obskit's OTLP JSON
exporter, with set start and end times, for the demo's first requests and for some of
the anomalies a first report flagged; the tables checked against a hand computation."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

import obskit.results
from obskit.cli import main
from obskit.demo import generate_demo
from obskit.instrument.otlp_json import OTLPJsonFileExporter

STAGES = ("preprocess", "inference", "postprocess")
T0 = 1_790_000_000_000_000_000  # ns
MS = 1_000_000


class _Ids(RandomIdGenerator):
    def __init__(self, trace_ids: list[str]) -> None:
        self.trace_ids = iter(trace_ids)

    def generate_trace_id(self) -> int:
        return int(next(self.trace_ids), 16)


def _stages(i: int) -> dict[str, float]:
    """The stage durations (ms) of the i-th trace written: inference the slowest."""
    return {"preprocess": 1.0 + i, "inference": 20.0 + 3 * i, "postprocess": 0.5}


def _report(config: Path, out: Path, *extra: str) -> tuple[dict, str]:
    assert main(["report", "--config", str(config), "--out", str(out), *extra]) == 0
    latest = out / "latest"
    return (json.loads((latest / "summary.json").read_text()),
            (latest / "index.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("trace-links")
    files = generate_demo(root / "data", rows=5_000)
    first, _ = _report(files.config, root / "plain")
    anomalous = [a["trace_id"] for a in first["anomalies"] if a.get("trace_id")][:4]
    assert len(anomalous) == 4
    rows = [json.loads(line) for path in sorted(glob.glob(str(files.current / "*.jsonl")))
            for line in Path(path).read_text().splitlines()]
    traced = [r["trace_id"] for r in rows[:9]]
    traced += [t for t in anomalous if t not in traced]
    provider = TracerProvider(resource=Resource.create({"service.name": "credit"}),
                              id_generator=_Ids(traced))
    path = root / "spans.jsonl"
    provider.add_span_processor(SimpleSpanProcessor(OTLPJsonFileExporter(path)))
    tracer = provider.get_tracer("test")
    for i, _ in enumerate(traced):
        start = T0 + i * 1_000 * MS
        span = tracer.start_span("predict", start_time=start)
        ctx = trace.set_span_in_context(span)
        t = start
        for name, ms in _stages(i).items():
            child = tracer.start_span(name, context=ctx, start_time=t)
            child.end(end_time=t + int(ms * MS))
            t += int(ms * MS)
        span.end(end_time=t + MS)  # the root: the stages and 1 ms more
    provider.shutdown()
    summary, html = _report(files.config, root / "traced", "--traces", str(path))
    return rows, traced, summary, html


def test_slowest_requests_match_a_hand_computation(case):
    rows, traced, summary, html = case
    by_trace = {r["trace_id"]: r for r in rows}
    expected = []
    for i, tid in enumerate(traced):
        r = by_trace[tid]
        root = sum(_stages(i).values()) + 1.0
        latency = r["latency_ms"] if r["latency_ms"] is not None else root
        expected.append((latency, r["timestamp"], r["request_id"], tid, i, root))
    expected.sort(key=lambda e: (-e[0], e[1]))
    slow = summary["slowest_requests"]
    assert len(slow) == 10 and len(traced) == 13  # the 10 slowest of 13 traced requests
    for got, (latency, _, request_id, tid, i, root) in zip(slow, expected[:10], strict=True):
        assert (got["request_id"], got["trace_id"]) == (request_id, tid)
        assert got["latency_ms"] == pytest.approx(latency)
        assert got["trace"]["root_ms"] == pytest.approx(root)
        assert got["trace"]["stages"] == pytest.approx(_stages(i))
        assert list(got["trace"]["stages"]) == list(STAGES)  # start order
        assert (got["trace"]["spans"], got["trace"]["slowest_stage"]) == (4, "inference")
    part = html.split('<div class="obskit obskit-slowest">')[1].split("</div>")[0]
    assert "<h3>Slowest requests (traces)</h3>" in part
    assert part.count("<tr>") == 1 + 10
    top = slow[0]
    assert (f"<td>{top['request_id']}</td><td>{top['trace_id']}</td>" in part
            and f"{top['trace']['stages']['inference']:,.1f}" in part)
    run = obskit.results.load(summary)
    assert isinstance(run.slowest_requests[0], obskit.results.SlowRequest)
    assert run.to_dict()["slowest_requests"] == slow


def test_anomalies_carry_their_trace(case):
    _, traced, summary, html = case
    linked = [a for a in summary["anomalies"] if a.get("trace_id") in traced]
    assert len(linked) >= 4
    for a in linked:
        i = traced.index(a["trace_id"])
        t = a["trace"]
        assert t["trace_id"] == a["trace_id"] and t["spans"] == 4
        assert t["stages"] == pytest.approx(_stages(i))
        assert t["slowest_stage"] == "inference"
    others = [a for a in summary["anomalies"] if a.get("trace_id") not in traced]
    assert others and all(a["trace"] is None for a in others)
    a = linked[0]
    cell = (f"{a['trace_id']} · inference {a['trace']['stages']['inference']:,.1f} ms of "
            f"{a['trace']['root_ms']:,.1f} ms")
    assert cell in html
    run = obskit.results.load(summary)
    assert run.to_dict()["anomalies"] == summary["anomalies"]


def test_without_traces_nothing_is_linked(case, tmp_path):
    _, _, summary, _ = case
    assert obskit.results.load({**summary, "slowest_requests": None}).slowest_requests is None


def _otlp(tid: str, sid: str, name: str, start_ms: float, ms: float,
          parent: str | None = None, error: bool = False) -> str:
    span = {"traceId": tid, "spanId": sid, "name": name, "kind": 1,
            "startTimeUnixNano": str(T0 + int(start_ms * MS)),
            "endTimeUnixNano": str(T0 + int((start_ms + ms) * MS))}
    if parent:
        span["parentSpanId"] = parent
    if error:
        span["status"] = {"code": 2, "message": "boom"}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                          "scopeSpans": [{"spans": [span]}]}]})


def test_without_logged_latency_the_root_span_orders_and_ids_are_escaped(tmp_path):
    """No ``latency_ms`` column: the root span's duration is the latency; a trace id logged
    in upper case still matches; a stage with two spans sums them; ids are escaped."""
    from obskit.io.engine import connect

    check_links(connect(), tmp_path)


def check_links(con, tmp_path: Path) -> None:
    """The slowest requests and linked anomalies of three logged rows and two traces in
    the engine ``con`` (also run on Spark, ``tests/test_spark.py``)."""
    import ibis
    import pandas as pd

    from obskit.analysis.traces import link_traces
    from obskit.io.traces import load_traces
    from obskit.render.trace_requests import slowest_requests_html
    from obskit.results import Anomalies, AnomalousPrediction, Run

    a, b, c = "a" * 32, "b" * 32, "c" * 32
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join([
        _otlp(a, "a000000000000001", "predict", 0, 30),
        _otlp(a, "a000000000000002", "inference", 1, 20, parent="a000000000000001"),
        _otlp(b, "b000000000000001", "predict", 0, 50),
        _otlp(b, "b000000000000002", "preprocess", 0, 4, parent="b000000000000001"),
        _otlp(b, "b000000000000003", "inference", 5, 10, parent="b000000000000001"),
        _otlp(b, "b000000000000004", "inference", 20, 15, parent="b000000000000001",
              error=True)]) + "\n")
    spans = load_traces(con, str(path))
    rows = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z",
                                     "2026-11-02T00:00:00Z"]),
        "request_id": ["<b>r1</b>", "r2", "r3"], "trace_id": [a.upper(), b, c],
        "window_index": [0, 0, 1]})
    table = con.create_view("trace_link_rows", ibis.memtable(rows), overwrite=True)
    flagged = Anomalies([AnomalousPrediction(request_id="r2", trace_id=b),
                         AnomalousPrediction(request_id="r3", trace_id=c),
                         AnomalousPrediction(request_id="r4")])
    slowest, linked = link_traces(spans, table, flagged)
    assert [(s.request_id, s.trace_id, s.latency_ms) for s in slowest] == [
        ("r2", b, pytest.approx(50.0)), ("<b>r1</b>", a, pytest.approx(30.0))]
    tb = slowest[0].trace
    assert (tb.spans, tb.error_spans, tb.slowest_stage) == (4, 1, "inference")
    assert tb.stages == pytest.approx({"preprocess": 4.0, "inference": 25.0})
    assert list(tb.stages) == ["preprocess", "inference"]
    assert linked[0].trace == tb and linked[1].trace is None and linked[2].trace is None
    html = slowest_requests_html(Run(slowest_requests=slowest))
    assert "&lt;b&gt;r1&lt;/b&gt;" in html and "<b>r1" not in html
    assert html.count("<tr>") == 3 and "<th class=num>preprocess (ms)</th>" in html
    assert slowest_requests_html(Run()) == ""
