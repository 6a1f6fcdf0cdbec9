"""tracer_provider and the OTLP JSON file exporter: the OTLP JSON encoding (hex ids,
integer enums, 64-bit numbers as strings), a real OTLP/HTTP export to a loopback
server, and bad destinations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from obskit.exceptions import ConfigError
from obskit.instrument import OTLPJsonFileExporter, encode_traces_data, tracer_provider
from obskit.instrument.tracing import _otlp_http_endpoint

BIG = 2**53 + 1  # not exact as a JSON (double) number: must come as a string


def _spans(provider):
    tracer = provider.get_tracer("test-scope")
    with tracer.start_as_current_span("parent") as parent:
        parent.set_attributes({"s": "text", "b": True, "i": 7, "big": BIG, "f": 0.25,
                               "l": ["a", "b"]})
        with tracer.start_as_current_span("child") as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    return parent, child


def test_file_lines_follow_the_otlp_json_encoding(tmp_path):
    path = tmp_path / "traces.jsonl"
    provider = tracer_provider(str(path), service_name="svc", service_version="v9")
    parent, child = _spans(provider)
    assert provider.force_flush(30_000)
    tracer = provider.get_tracer("test-scope")
    with tracer.start_as_current_span("later"):
        pass
    provider.shutdown()

    lines = path.read_text().splitlines()
    assert len(lines) == 2  # one TracesData per export call
    data = json.loads(lines[0])
    (resource_spans,) = data["resourceSpans"]
    resource = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "svc"}
    assert resource["service.version"] == {"stringValue": "v9"}
    (scope_spans,) = resource_spans["scopeSpans"]
    assert scope_spans["scope"]["name"] == "test-scope"
    spans = {s["name"]: s for s in scope_spans["spans"]}
    p, c = spans["parent"], spans["child"]

    pctx, cctx = parent.get_span_context(), child.get_span_context()
    assert p["traceId"] == c["traceId"] == format(pctx.trace_id, "032x")
    assert p["spanId"] == format(pctx.span_id, "016x")
    assert c["spanId"] == format(cctx.span_id, "016x")
    assert c["parentSpanId"] == p["spanId"]
    assert "parentSpanId" not in p
    for key, size in (("traceId", 32), ("spanId", 16), ("parentSpanId", 16)):
        assert re.fullmatch(f"[0-9a-f]{{{size}}}", c[key])

    assert p["kind"] == 1 and isinstance(p["kind"], int)  # SPAN_KIND_INTERNAL
    assert c["status"] == {"code": 2, "message": "boom"}  # STATUS_CODE_ERROR
    assert re.fullmatch(r"[0-9]+", p["startTimeUnixNano"])
    assert int(p["startTimeUnixNano"]) == parent.start_time
    assert int(p["endTimeUnixNano"]) >= int(p["startTimeUnixNano"])

    attrs = {a["key"]: a["value"] for a in p["attributes"]}
    assert attrs == {
        "s": {"stringValue": "text"},
        "b": {"boolValue": True},
        "i": {"intValue": "7"},
        "big": {"intValue": str(BIG)},
        "f": {"doubleValue": 0.25},
        "l": {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}},
    }
    later = json.loads(lines[1])["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [s["name"] for s in later] == ["later"]


def test_links_get_hex_ids(tmp_path):
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("a") as a:
        pass
    with tracer.start_as_current_span("b", links=[Link(a.get_span_context())]):
        pass
    data = encode_traces_data(memory.get_finished_spans())
    spans = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    (link,) = spans[1]["links"]
    assert link["traceId"] == format(a.get_span_context().trace_id, "032x")
    assert link["spanId"] == format(a.get_span_context().span_id, "016x")


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, list[str]]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        names = [s.name for rs in request.resource_spans for ss in rs.scope_spans
                 for s in ss.spans]
        self.received.append((self.path, self.headers["Content-Type"], names))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    _Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_otlp_http_round_trip(collector):
    port = collector.server_address[1]
    provider = tracer_provider(f"http://127.0.0.1:{port}", service_name="svc")
    _spans(provider)
    assert provider.force_flush(30_000)
    provider.shutdown()
    assert _Collector.received
    paths = {path for path, _, _ in _Collector.received}
    assert paths == {"/v1/traces"}
    assert {ctype for _, ctype, _ in _Collector.received} == {"application/x-protobuf"}
    assert sorted(n for _, _, names in _Collector.received for n in names) == ["child", "parent"]


@pytest.mark.parametrize(("url", "endpoint"), [
    ("http://collector:4318", "http://collector:4318/v1/traces"),
    ("https://collector:4318/", "https://collector:4318/v1/traces"),
    ("http://collector:4318/custom/path", "http://collector:4318/custom/path"),
])
def test_endpoint_gets_the_traces_path_when_it_has_none(url, endpoint):
    assert _otlp_http_endpoint(url) == endpoint


def test_no_destination_makes_spans_without_exporting(tmp_path):
    provider = tracer_provider(None, service_name="svc")
    with provider.get_tracer("t").start_as_current_span("x") as span:
        assert span.get_span_context().is_valid
    assert provider.resource.attributes["service.name"] == "svc"
    assert "service.version" not in provider.resource.attributes
    provider.shutdown()


@pytest.mark.parametrize("make", [
    lambda tmp: str(tmp),  # a directory
    lambda tmp: str(tmp / "missing" / "traces.jsonl"),  # no parent directory
    lambda tmp: "http://",  # a URL without a host
])
def test_bad_destination_is_a_config_error(tmp_path, make):
    destination = make(tmp_path)
    with pytest.raises(ConfigError, match="OBSKIT_TRACES") as info:
        tracer_provider(destination, service_name="svc")
    assert destination in str(info.value)


def test_importing_the_package_imports_no_opentelemetry():
    code = ("import sys, obskit.instrument; "
            "print(any(m.startswith('opentelemetry') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_exporter_after_shutdown_fails_and_writes_nothing(tmp_path):
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("a"):
        pass
    exporter = OTLPJsonFileExporter(tmp_path / "t.jsonl")
    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.FAILURE
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 1
