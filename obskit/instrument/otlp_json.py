"""Spans as OTLP JSON lines, the format of the OpenTelemetry file exporter.

Each export call appends one ``TracesData`` object (``{"resourceSpans": [...]}``) as one
line, encoded as the OTLP specification's JSON Protobuf encoding says
(https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): lowerCamelCase
keys, ``traceId`` / ``spanId`` / ``parentSpanId`` as lowercase hex (not base64), enums
as integers, 64-bit integers as decimal strings. The spans are encoded by the OTLP
exporter's own protobuf encoder, then written with protobuf's JSON mapping.

Example
-------
>>> from opentelemetry.sdk.trace import TracerProvider  # doctest: +SKIP
>>> from opentelemetry.sdk.trace.export import BatchSpanProcessor
>>> from obskit.instrument.otlp_json import OTLPJsonFileExporter
>>> provider = TracerProvider()
>>> provider.add_span_processor(BatchSpanProcessor(OTLPJsonFileExporter("traces.jsonl")))
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["OTLPJsonFileExporter", "encode_traces_data"]

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(obj: dict[str, Any]) -> None:
    """Turn protobuf JSON's base64 ids of a span or link into lowercase hex, in place."""
    for key in _ID_KEYS:
        if key in obj:
            obj[key] = base64.b64decode(obj[key]).hex()


def encode_traces_data(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """Encode SDK spans as one OTLP JSON ``TracesData`` object.

    Parameters
    ----------
    spans : sequence of ReadableSpan
        Finished spans, as a span exporter receives them.

    Returns
    -------
    dict
        ``{"resourceSpans": [...]}`` per the OTLP JSON Protobuf encoding: lowerCamelCase
        keys, hex ids, integer enums (``kind``, ``status.code``), int64 values and
        ``*TimeUnixNano`` as decimal strings.
    """
    message = encode_spans(spans)  # ExportTraceServiceRequest: the fields of TracesData
    data: dict[str, Any] = MessageToDict(message, use_integers_for_enums=True)
    for resource_spans in data.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return data


class OTLPJsonFileExporter(SpanExporter):
    """A span exporter that appends OTLP JSON lines to a file (the OpenTelemetry file
    exporter's format: one ``TracesData`` per line, per export call).

    Parameters
    ----------
    path : str or Path
        The file; opened for appending (its directory must exist).

    Raises
    ------
    OSError
        The file cannot be opened for appending.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fh: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Append the spans as one line; FAILURE once shut down or on a write error."""
        if not spans:
            return SpanExportResult.SUCCESS
        line = json.dumps(encode_traces_data(spans), separators=(",", ":")) + "\n"
        with self._lock:
            if self._fh is None:
                return SpanExportResult.FAILURE
            try:
                self._fh.write(line)
                self._fh.flush()
            except OSError:
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Every export is flushed already."""
        return True

    def shutdown(self) -> None:
        """Close the file; later exports fail."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
