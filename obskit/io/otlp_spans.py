"""One OTLP JSON traces export (``TracesData``) flattened to one row per span, each span
checked: what the OTLP specification's JSON Protobuf encoding says
(https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).

- ``resourceSpans`` → ``scopeSpans`` (or the Collector's older
  ``instrumentationLibrarySpans``) → ``spans``;
- ``traceId`` (32) and ``spanId`` / ``parentSpanId`` (16) as lowercase hex digits, NOT
  base64 as protobuf's generic JSON mapping would write them: a base64 id is rejected;
- enums (``kind``, ``status.code``) as integers (their names, which protobuf's JSON parser
  also accepts, are read too);
- 64-bit integers (``*TimeUnixNano``, ``intValue``) as decimal strings; JSON numbers are
  accepted too;
- attribute values as ``AnyValue`` unions (``stringValue``, ``boolValue``, ``intValue``,
  ``doubleValue``, ``arrayValue``, ``kvlistValue``, ``bytesValue``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from obskit.io.raw import EXCERPT

__all__ = ["SPAN_KINDS", "STATUS_CODES", "SPAN_FIELDS", "any_value", "export_spans"]

#: SpanKind of the OTLP trace proto: value → name
SPAN_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER",
              5: "CONSUMER"}
#: Status.StatusCode of the OTLP trace proto: value → name
STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}

#: the row a span becomes (besides ``_file`` / ``_line``): start and end are Unix
#: microseconds here (timestamps in the engine)
SPAN_FIELDS = ("trace_id", "span_id", "parent_span_id", "name", "kind", "start", "end",
               "duration_ms", "status_code", "status_message", "service_name",
               "model_version", "request_id", "openinference_span_kind",
               "gen_ai_operation", "gen_ai_model", "gen_ai_provider", "input_tokens",
               "output_tokens", "total_tokens", "attributes")

#: row field → the span attributes it is read from, first present wins: obskit's own
#: (``obskit.instrument``), OpenTelemetry's GenAI semantic conventions, OpenInference's
_PICKED: Mapping[str, tuple[str, ...]] = {
    "model_version": ("obskit.model.version", "service.version"),
    "request_id": ("obskit.request_id",),
    "openinference_span_kind": ("openinference.span.kind",),
    "gen_ai_operation": ("gen_ai.operation.name",),
    "gen_ai_model": ("gen_ai.request.model", "gen_ai.response.model", "llm.model_name"),
    # gen_ai.system: the name before semantic conventions v1.37 (gen_ai.provider.name)
    "gen_ai_provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider",
                        "llm.system"),
    "input_tokens": ("gen_ai.usage.input_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "llm.token_count.completion"),
    "total_tokens": ("llm.token_count.total",),
}
_INTEGER_FIELDS = ("input_tokens", "output_tokens", "total_tokens")
_HEX = re.compile(r"[0-9a-fA-F]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


class SpanError(ValueError):
    """Why a span (or an export) is quarantined."""


def _int64(value: Any, what: str) -> int:
    """A 64-bit integer written as a decimal string (or a JSON integer)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SpanError(f"{what} is not an integer (expected a decimal string)")
    try:
        return int(value)
    except ValueError:
        raise SpanError(f"{what} is not an integer (expected a decimal string)") from None


def any_value(value: Any) -> Any:
    """The plain value of an OTLP ``AnyValue`` (JSON encoding).

    Parameters
    ----------
    value : dict
        ``{"stringValue": ...}``, ``{"intValue": "42"}``, ``{"arrayValue": {"values":
        [...]}}``, ``{"kvlistValue": {"values": [{"key", "value"}, ...]}}``, ...

    Returns
    -------
    str, bool, int, float, list, dict or None
        ``intValue`` as int, ``bytesValue`` as its base64 text (the JSON mapping of
        ``bytes``), arrays as lists and kvlists as dicts; None for an empty value.

    Raises
    ------
    SpanError
        An ``intValue`` that is not an integer, or a value that is not an object.

    Examples
    --------
    >>> any_value({"intValue": "9007199254740993"})
    9007199254740993
    >>> any_value({"arrayValue": {"values": [{"boolValue": True}, {"doubleValue": 0.5}]}})
    [True, 0.5]
    """
    if not isinstance(value, dict):
        raise SpanError("an attribute value is not an AnyValue object")
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return _int64(value["intValue"], "an intValue")
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return _attributes((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        raise SpanError("attributes is not a list of {key, value}")
    out: dict[str, Any] = {}
    for kv in items:
        if not isinstance(kv, dict) or "key" not in kv:
            raise SpanError("an attribute has no key")
        out[str(kv["key"])] = any_value(kv.get("value", {}))
    return out


def _id(span: Mapping[str, Any], key: str, digits: int, *, required: bool) -> str | None:
    value = span.get(key)
    if value in (None, "") and not required:
        return None
    if value in (None, ""):
        raise SpanError(f"{key} missing")
    if not isinstance(value, str):
        raise SpanError(f"{key} is not a string of {digits} hex digits")
    if len(value) == digits and _HEX.fullmatch(value):
        if not value.strip("0"):
            raise SpanError(f"{key} is all zeros (an invalid id)")
        return value.lower()
    if _BASE64.fullmatch(value):
        try:
            raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == digits // 2:
            raise SpanError(f"{key} is base64 ({len(value)} characters), not hex: the OTLP "
                            f"JSON encoding requires {digits} hex digits")
    raise SpanError(f"{key} is not {digits} hex digits (got {len(value)} characters)")


def _enum(value: Any, names: Mapping[int, str], what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value in names:
        return value
    if isinstance(value, str):
        for number, name in names.items():
            if value.upper() in (name, f"{what.upper()}_{name}"):
                return number
    raise SpanError(f"{what} {value!r} is not a known enum value (expected an integer "
                    f"{min(names)}..{max(names)})")


def _span_row(span: Any, service: str | None) -> dict[str, Any]:
    if not isinstance(span, dict):
        raise SpanError("a span is not a JSON object")
    row: dict[str, Any] = {"trace_id": _id(span, "traceId", 32, required=True),
                           "span_id": _id(span, "spanId", 16, required=True),
                           "parent_span_id": _id(span, "parentSpanId", 16, required=False)}
    start = span.get("startTimeUnixNano")
    end = span.get("endTimeUnixNano")
    if start in (None, "", "0", 0):
        raise SpanError("startTimeUnixNano missing")
    if end in (None, "", "0", 0):
        raise SpanError("endTimeUnixNano missing")
    start_ns, end_ns = _int64(start, "startTimeUnixNano"), _int64(end, "endTimeUnixNano")
    if end_ns < start_ns:
        raise SpanError("endTimeUnixNano before startTimeUnixNano")
    status = span.get("status") or {}
    if not isinstance(status, dict):
        raise SpanError("status is not an object")
    attributes = _attributes(span.get("attributes", []))
    row.update(name=str(span.get("name") or ""),
               kind=_enum(span.get("kind"), SPAN_KINDS, "span_kind"),
               start=start_ns // 1000, end=end_ns // 1000,
               duration_ms=(end_ns - start_ns) / 1e6,
               status_code=_enum(status.get("code"), STATUS_CODES, "status_code"),
               status_message=status.get("message") or None, service_name=service,
               attributes=json.dumps(attributes, sort_keys=True, default=str))
    for field, keys in _PICKED.items():
        value = next((attributes[k] for k in keys if attributes.get(k) is not None), None)
        if field in _INTEGER_FIELDS:
            row[field] = value if isinstance(value, int) and not isinstance(value, bool) \
                else None
        else:
            row[field] = None if value is None else str(value)
    return row


def _excerpt(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)[:EXCERPT]


def export_spans(export: Any) -> Iterator[dict[str, Any] | tuple[str, str]]:
    """The spans of one ``TracesData`` export, in order: a row per good span, the
    reason and an excerpt of the span's JSON per bad one.

    Parameters
    ----------
    export : Any
        One decoded JSON value (an export line, or a whole-file export).

    Yields
    ------
    dict or (str, str)
        A row with the keys of :data:`SPAN_FIELDS`, or why the span is quarantined and
        the start of its JSON. An export that is not a ``TracesData`` object yields one
        reason.
    """
    if not isinstance(export, dict) or not isinstance(export.get("resourceSpans"), list):
        yield ("not an OTLP JSON traces export (expected an object with resourceSpans)",
               _excerpt(export))
        return
    for resource_spans in export["resourceSpans"]:
        try:
            resource = (resource_spans or {}).get("resource") or {}
            service = _attributes(resource.get("attributes", [])).get("service.name")
            scopes = (resource_spans.get("scopeSpans")
                      or resource_spans.get("instrumentationLibrarySpans") or [])
        except (SpanError, AttributeError) as exc:
            yield (f"resource: {exc}" if isinstance(exc, SpanError) else
                   "a resourceSpans entry is not an object", _excerpt(resource_spans))
            continue
        for scope in scopes:
            for span in (scope or {}).get("spans", []) if isinstance(scope, dict) else [None]:
                try:
                    yield _span_row(span, None if service is None else str(service))
                except (SpanError, TypeError, ValueError, OverflowError) as exc:
                    yield (str(exc) if isinstance(exc, SpanError) else f"bad span: {exc}",
                           _excerpt(span))
