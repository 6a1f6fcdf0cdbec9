"""Reading OTLP JSON traces (``sources.traces``): the encodings the OTLP spec and the
exporters use, each malformed span quarantined with file, line and reason, duplicates
counted once, and every span read accounted for."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from obskit.exceptions import InputError
from obskit.instrument.otlp_json import OTLPJsonFileExporter
from obskit.io.engine import connect
from obskit.io.otlp_spans import any_value
from obskit.io.traces import load_traces

TID = "5b8efff798038103d269b633813fc60c"
SID = "eee19b7ec3c1b174"
T0 = 1_796_000_000_000_000_000  # ns


def _span(tid: str = TID, sid: str = SID, **extra) -> dict:
    span = {"traceId": tid, "spanId": sid, "name": "inference", "kind": 1,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 12_500_000)}
    span.update(extra)
    return span


def _export(*spans: dict, key: str = "scopeSpans", service: str = "svc") -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": service}}]},
        key: [{"scope": {"name": "t"}, "spans": list(spans)}]}]}


def _write(path: Path, *exports: dict | str) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n"
                            for e in exports))
    return path


@pytest.fixture(scope="module")
def con():
    return connect()


def _rows(con, spec: Path | str):
    t = load_traces(con, str(spec))
    return t, t.table.order_by(["_file", "_line", "span_id"]).execute()


def test_sdk_exporter_spans_read_back_with_ids_enums_times_and_attributes(con, tmp_path):
    path = tmp_path / "sdk.jsonl"
    provider = TracerProvider(resource=Resource.create({"service.name": "credit"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPJsonFileExporter(path)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("predict", attributes={
            "obskit.request_id": "r-1", "obskit.model.version": "v2", "n": 2 ** 62,
            "ratio": 0.25, "ok": True, "tags": ["a", "b"]}) as parent:
        with tracer.start_as_current_span("inference") as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    t, rows = _rows(con, path)
    assert (t.rows_read, t.rows_used, t.rows_quarantined, t.duplicates) == (2, 2, 0, 0)
    by_name = rows.set_index("name")
    p, c = by_name.loc["predict"], by_name.loc["inference"]
    pctx, cctx = parent.get_span_context(), child.get_span_context()
    assert p.trace_id == format(pctx.trace_id, "032x") == c.trace_id
    assert c.parent_span_id == p.span_id == format(pctx.span_id, "016x")
    assert c.span_id == format(cctx.span_id, "016x") and p.parent_span_id is None
    assert (p.kind, c.status_code, c.status_message) == (1, 2, "boom")
    assert (p.request_id, p.model_version, p.service_name) == ("r-1", "v2", "credit")
    assert json.loads(p.attributes)["n"] == 2 ** 62  # int64 string, exact
    assert json.loads(p.attributes)["tags"] == ["a", "b"]
    assert p.start == pd.Timestamp(parent.start_time // 1000, unit="us", tz="UTC")
    assert p.duration_ms == pytest.approx((parent.end_time - parent.start_time) / 1e6)


def test_any_value_each_kind():
    assert any_value({"stringValue": "x"}) == "x"
    assert any_value({"boolValue": False}) is False
    assert any_value({"intValue": "-9223372036854775808"}) == -2 ** 63
    assert any_value({"intValue": 7}) == 7  # a JSON number accepted too
    assert any_value({"doubleValue": 1.5}) == 1.5
    assert any_value({"bytesValue": "AQID"}) == "AQID"
    assert any_value({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "b"}]}}) \
        == [1, "b"]
    assert any_value({"kvlistValue": {"values": [
        {"key": "k", "value": {"kvlistValue": {"values": [
            {"key": "z", "value": {"boolValue": True}}]}}}]}}) == {"k": {"z": True}}
    assert any_value({}) is None


def test_genai_and_openinference_attributes_and_numbers_as_json_numbers(con, tmp_path):
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-x"}},
             {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "120"}},
             {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 30}}]
    oi = [{"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
          {"key": "llm.token_count.prompt", "value": {"intValue": "7"}},
          {"key": "llm.token_count.completion", "value": {"intValue": "3"}}]
    path = _write(tmp_path / "llm.jsonl", _export(
        _span(sid="0000000000000001", attributes=attrs, kind=3,
              startTimeUnixNano=T0, endTimeUnixNano=T0 + 2_000_000),  # JSON numbers
        _span(sid="0000000000000002", attributes=oi, kind="SPAN_KIND_CLIENT")))
    t, rows = _rows(con, path)
    assert t.rows_used == 2
    a, b = rows.iloc[0], rows.iloc[1]
    assert (a.gen_ai_operation, a.gen_ai_model, a.input_tokens, a.output_tokens) == \
        ("chat", "gpt-x", 120, 30)
    assert a.duration_ms == 2.0 and a.kind == 3 == b.kind
    assert (b.openinference_span_kind, b.input_tokens, b.output_tokens) == ("LLM", 7, 3)


def test_whole_file_pretty_printed_gzip_and_collector_legacy_key(con, tmp_path):
    (tmp_path / "whole.json").write_text(json.dumps(_export(_span()), indent=2))
    with gzip.open(tmp_path / "lines.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(_export(_span(sid="00000000000000a2"))) + "\n")
    _write(tmp_path / "old.json",
           _export(_span(sid="00000000000000a3"), key="instrumentationLibrarySpans"))
    (tmp_path / "notes.txt").write_text("not traces")
    t, rows = _rows(con, tmp_path)  # a directory: the three traces files
    assert sorted(rows.span_id) == ["00000000000000a2", "00000000000000a3", SID]
    assert (t.rows_read, t.rows_used, t.rows_quarantined) == (3, 3, 0)
    assert set(rows._line) == {1}
    assert len(t.files) == 3


def test_bad_spans_quarantined_with_file_line_and_reason(con, tmp_path):
    b64_trace = base64.b64encode(bytes.fromhex(TID)).decode()  # 24 characters
    b64_span = base64.b64encode(bytes.fromhex(SID)).decode()
    path = _write(
        tmp_path / "bad.jsonl",
        _export(_span()),                                                   # 1 good
        "{not json",                                                         # 2
        _export(_span(tid=b64_trace, sid="0000000000000002")),               # 3
        _export(_span(sid=b64_span)),                                        # 4
        _export(_span(sid="0000000000000005", endTimeUnixNano=str(T0 - 1))),  # 5
        _export(_span(sid="0000000000000006", startTimeUnixNano=None)),      # 6
        _export(_span(sid="0000000000000007", kind=9)),                      # 7
        _export(_span(sid="0000000000000008", status={"code": "NOPE"})),     # 8
        _export(_span(tid="xyz", sid="0000000000000009")),                   # 9
        _export({"spanId": "000000000000000a", "startTimeUnixNano": "1"}),   # 10
        _export(_span(sid="000000000000000b", startTimeUnixNano="soon")),    # 11
        json.dumps({"hello": 1}),                                            # 12
        _export(_span(tid="0" * 32, sid="000000000000000c")),                # 13
    )
    t = load_traces(con, str(path))
    q = t.quarantine.order_by("_line").execute()
    reasons = dict(zip(q._line, q.reason, strict=True))
    assert set(q._file) == {str(path)}
    assert reasons[2] == "not valid JSON"
    assert reasons[3] == ("traceId is base64 (24 characters), not hex: the OTLP JSON "
                          "encoding requires 32 hex digits")
    assert reasons[4].startswith("spanId is base64 (12 characters), not hex")
    assert reasons[5] == "endTimeUnixNano before startTimeUnixNano"
    assert reasons[6] == "startTimeUnixNano missing"
    assert reasons[7].startswith("span_kind 9 is not a known enum value")
    assert reasons[8].startswith("status_code 'NOPE' is not a known enum value")
    assert reasons[9] == "traceId is not 32 hex digits (got 3 characters)"
    assert reasons[10] == "traceId missing"
    assert reasons[11].startswith("startTimeUnixNano is not an integer")
    assert reasons[12].startswith("not an OTLP JSON traces export")
    assert reasons[13] == "traceId is all zeros (an invalid id)"
    assert (t.rows_read, t.rows_used, t.rows_quarantined, t.duplicates) == (13, 1, 12, 0)
    assert "{not json" in q.set_index("_line").detail[2]


def test_duplicates_count_once_and_every_span_is_accounted_for(con, tmp_path):
    one = _export(_span(), _span(sid="0000000000000002", parentSpanId=SID))
    _write(tmp_path / "a.jsonl", one, one)  # an export retried
    _write(tmp_path / "b.jsonl", one, _export(_span(sid="0000000000000003")), "[]")
    t, rows = _rows(con, tmp_path / "*.jsonl")  # a glob
    # 2 + 2 + 2 + 1 spans and one line that is no export
    assert t.rows_read == 8
    assert (t.rows_used, t.duplicates, t.rows_quarantined) == (3, 4, 1)
    assert t.rows_read == t.rows_used + t.rows_quarantined + t.duplicates
    kept = rows.set_index("span_id")
    assert kept.loc[SID, "_file"].endswith("a.jsonl") and kept.loc[SID, "_line"] == 1


def test_many_batches_and_unfinished_files(con, tmp_path, monkeypatch):
    monkeypatch.setattr("obskit.io.traces.BATCH_ROWS", 7)
    spans = [_span(sid=f"{i + 1:016x}") for i in range(30)]
    _write(tmp_path / "t.jsonl", *(_export(s) for s in spans), "oops")
    (tmp_path / "u.jsonl.part").write_text(json.dumps(_export(_span())) + "\n")
    t, rows = _rows(con, tmp_path)
    assert (t.rows_read, t.rows_used, t.rows_quarantined) == (31, 30, 1)
    assert list(rows._line) == list(range(1, 31))
    assert [s.path for s in t.unfinished] == [str(tmp_path / "u.jsonl.part")]


def test_no_traces_file_is_a_clear_error(con, tmp_path):
    with pytest.raises(InputError, match="sources.traces: .*no such file"):
        load_traces(con, str(tmp_path / "missing.jsonl"))
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InputError, match="no OTLP JSON traces file"):
        load_traces(con, str(tmp_path))


def test_a_broken_first_line_loses_only_itself_a_broken_whole_file_is_one_span(con, tmp_path):
    _write(tmp_path / "a.jsonl", '{"resourceSpans": [{"scope', _export(_span()))
    t = load_traces(con, str(tmp_path / "a.jsonl"))
    assert (t.rows_read, t.rows_used, t.rows_quarantined) == (2, 1, 1)
    pretty = json.dumps(_export(_span()), indent=2).splitlines()
    (tmp_path / "b.json").write_text("\n".join(pretty[:-3]) + "\n")  # cut short
    t = load_traces(con, str(tmp_path / "b.json"))
    q = t.quarantine.execute()
    assert (t.rows_read, t.rows_used, t.rows_quarantined) == (1, 0, 1)
    assert q.reason[0] == "not valid JSON" and q._line[0] > 1  # where the parser stopped


def test_a_bad_span_keeps_its_json_as_detail(con, tmp_path):
    path = _write(tmp_path / "x.jsonl", _export(_span(kind="weird"), _span(sid="1" * 16)))
    t = load_traces(con, str(path))
    q = t.quarantine.execute()
    assert (t.rows_used, list(q._line)) == (1, [1])
    assert json.loads(q.detail[0])["kind"] == "weird"


def test_traces_by_window_counts_and_stage_quantiles(con):
    import ibis
    import numpy as np

    from obskit.profiles.traces import traces_by_window

    def span(tid, sid, parent, name, ms, code=0):
        return {"trace_id": tid, "span_id": sid, "parent_span_id": parent, "name": name,
                "duration_ms": ms, "status_code": code}

    a, b, c = "a" * 32, "b" * 32, "c" * 32
    spans = ibis.memtable(pd.DataFrame([
        span(a, "1", None, "predict", 10.0), span(a, "2", "1", "inference", 4.0),
        span(b, "3", None, "predict", 20.0), span(b, "4", "3", "inference", 8.0, code=2),
        span(b, "5", "3", "inference", 9.0), span(c, "6", None, "predict", 1.0)]))
    rows = ibis.memtable(pd.DataFrame({"window_index": [0, 0, 0, 1],
                                       "trace_id": [a.upper(), b, None, "f" * 32]}))
    frames = traces_by_window(rows, spans)
    counts = frames.counts.set_index("window_index")
    assert counts.loc[0, ["requests", "traced", "spans", "error_spans"]].tolist() == \
        [3, 2, 5, 1]
    assert counts.loc[1, ["requests", "traced", "spans", "error_spans"]].tolist() == \
        [1, 0, 0, 0]
    stage = frames.stages.set_index(["window_index", "name"]).loc[(0, "inference")]
    assert stage.spans == 3
    assert stage.p50_ms == pytest.approx(np.percentile([4, 8, 9], 50))
    assert stage.p95_ms == pytest.approx(np.percentile([4, 8, 9], 95))
    plain = traces_by_window(rows.drop("trace_id"), spans).counts
    assert plain.traced.tolist() == [0, 0] and plain.requests.tolist() == [3, 1]
