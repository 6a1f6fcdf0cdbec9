"""Traces in a report (``sources.traces`` / ``--traces``): spans written by obskit's
OTLP JSON exporter for some of the demo's requests, joined on ``trace_id``; the
accounting in summary.json counted by hand, the finding, the HTML, the round trip."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Status, StatusCode

import obskit.results
from obskit.cli import main
from obskit.demo import generate_demo
from obskit.instrument.otlp_json import OTLPJsonFileExporter

STAGES = ("preprocess", "inference", "postprocess")
UNMATCHED = ("00000000000000000000000000000abc", "00000000000000000000000000000def")


class _Ids(RandomIdGenerator):
    """The trace ids given, in order (span ids random): spans for logged requests."""

    def __init__(self, trace_ids: list[str]) -> None:
        self.trace_ids = iter(trace_ids)

    def generate_trace_id(self) -> int:
        return int(next(self.trace_ids), 16)


def _trace_ids(logs: Path, n: int) -> list[str]:
    with open(logs / "predictions-2026-11-01.jsonl") as fh:
        return [json.loads(next(fh))["trace_id"] for _ in range(n)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("traces-report")
    files = generate_demo(root / "data", rows=5_000)
    traces = root / "traces"
    traces.mkdir()
    logged = _trace_ids(files.current, 5)
    provider = TracerProvider(resource=Resource.create({"service.name": "credit"}),
                              id_generator=_Ids([*logged, *UNMATCHED]))
    provider.add_span_processor(SimpleSpanProcessor(OTLPJsonFileExporter(traces / "a.jsonl")))
    tracer = provider.get_tracer("test")
    for i, _ in enumerate(logged):  # 5 traces of 4 spans: predict and its 3 stages
        with tracer.start_as_current_span("predict"):
            for name in STAGES:
                with tracer.start_as_current_span(name) as span:
                    if i == 0 and name == "inference":
                        span.set_status(Status(StatusCode.ERROR, "model failed"))
    for _ in UNMATCHED:  # 2 traces of 1 span, no prediction row
        with tracer.start_as_current_span("predict"):
            pass
    provider.shutdown()
    lines = (traces / "a.jsonl").read_text().splitlines()
    assert len(lines) == 22  # one export per span (SimpleSpanProcessor)
    first_trace = [line for line in lines if logged[0] in line]
    b64 = json.loads(lines[0])
    span = b64["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["traceId"] = base64.b64encode(bytes.fromhex(span["traceId"])).decode()
    span["spanId"] = "00000000000000ff"
    # a file read twice: the first trace's 4 spans again, a broken line, a base64 id
    (traces / "b.jsonl").write_text("\n".join([*first_trace, '{"resourceSpans": [',
                                               json.dumps(b64)]) + "\n")
    return files.config, traces


@pytest.fixture(scope="module")
def report(demo, tmp_path_factory) -> tuple[dict, str]:
    config, traces = demo
    out = tmp_path_factory.mktemp("reports")
    assert main(["report", "--config", str(config), "--traces", str(traces),
                 "--out", str(out)]) == 0
    latest = out / "latest"
    return (json.loads((latest / "summary.json").read_text()),
            (latest / "index.html").read_text(encoding="utf-8"))


def test_summary_accounts_for_every_span(report, demo):
    summary, _ = report
    _, traces = demo
    t = summary["traces"]
    # 22 spans in a.jsonl; b.jsonl: 4 duplicates, a line that is no JSON, a base64 id
    assert (t["read"], t["used"], t["quarantined"], t["duplicates"]) == (28, 22, 2, 4)
    assert t["read"] == t["used"] + t["quarantined"] + t["duplicates"]
    assert (t["matched"], t["unmatched"]) == (5, 2)
    assert t["files"] == [str(traces / "a.jsonl"), str(traces / "b.jsonl")]
    where = {(Path(x["file"]).name, x["line"], x["reason"])
             for x in t["quarantine"]["examples"]}
    assert where == {("b.jsonl", 5, "not valid JSON"),
                     ("b.jsonl", 6, "traceId is base64 (24 characters), not hex: the OTLP "
                                    "JSON encoding requires 32 hex digits")}


def test_finding_html_and_round_trip(report):
    summary, html = report
    found = [f for f in summary["findings"] if f["kind"] == "trace_quarantine"]
    assert len(found) == 1
    assert found[0]["text"].startswith("2 of 28 spans read were quarantined")
    assert "<h3>Spans read (traces)</h3>" in html and "traces matched to a prediction" in html
    health = html.split('<div class="obskit obskit-traces">')[1].split("</div>")[0]
    assert "<h3>Stage latency (traces)</h3>" in health
    assert all(f"{name} p50 / p95 (ms)" in health for name in STAGES)
    assert health.count("<tr>") == 1 + 14  # header + the demo's 14 day windows
    assert "of quarantined spans" in html
    run = obskit.results.load(summary)
    assert isinstance(run.traces, obskit.results.TraceCounts)
    assert (run.traces.matched, run.traces.duplicates) == (5, 4)
    assert run.to_dict()["traces"] == summary["traces"]
    assert obskit.results.load({**summary, "traces": None}).traces is None


def test_missing_traces_source_exits_2_naming_it(demo, tmp_path, capsys):
    config, _ = demo
    missing = tmp_path / "none.jsonl"
    assert main(["report", "--config", str(config), "--traces", str(missing),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "sources.traces" in err and str(missing) in err and "Traceback" not in err


def _durations(path: Path, name: str) -> list[float]:
    out = []
    for line in path.read_text().splitlines():
        for span in json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]:
            if span["name"] == name:
                out.append((int(span["endTimeUnixNano"])
                            - int(span["startTimeUnixNano"])) / 1e6)
    return out


def test_windows_carry_the_stage_latency_of_their_traces(report, demo):
    summary, _ = report
    _, traces = demo
    first, *rest = summary["windows"]
    t = first["health"]["traces"]
    rows = first["rows"]
    assert (t["requests"], t["traced"]) == (rows, 5)
    assert t["traced_share"] == pytest.approx(5 / rows)
    assert (t["spans"], t["error_spans"]) == (20, 1)  # the duplicates count once
    assert set(t["stages"]) == set(STAGES)  # predict is a root span: no stage
    for name in STAGES:
        d = _durations(traces / "a.jsonl", name)
        assert len(d) == 5
        stage = t["stages"][name]
        assert stage["spans"] == 5
        assert stage["p50_ms"] == pytest.approx(np.percentile(d, 50), abs=1e-3)
        assert stage["p95_ms"] == pytest.approx(np.percentile(d, 95), abs=1e-3)
    for w in rest:
        assert w["health"]["traces"]["traced"] == 0 and w["health"]["traces"]["stages"] == {}
    run = obskit.results.load(summary)
    assert run.windows[0].health.traces.stages["inference"].spans == 5
