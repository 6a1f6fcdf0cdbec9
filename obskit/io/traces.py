"""OTLP JSON traces (``sources.traces``) read into the engine: one row per span, bad spans
quarantined with file, line and reason, duplicate spans counted once.

The files are what the OpenTelemetry file exporter, the Collector's file exporter and
:class:`obskit.instrument.OTLPJsonFileExporter` write: one ``TracesData`` export per line
(JSON lines), or one per file (a whole-file JSON object, possibly pretty-printed);
``.gz`` files are read through gzip. Each file is parsed in Python line by line into Arrow
record batches of at most :data:`BATCH_ROWS` spans, appended to an engine table: memory
is bounded by a batch, never a whole file (a whole-file export is parsed at once: it is
one export).

Accounting (``summary.json``'s ``traces``): every span read is one of *used*,
*quarantined* or *duplicate*, so ``read = used + quarantined + duplicates``. A line (or
whole file) that is not valid JSON, or not a ``TracesData`` object, counts as one span
read and quarantined (its spans cannot be counted). A duplicate is a good span whose
``(trace_id, span_id)`` a good span earlier in file and line order already has (an
export retried, a file read twice); the first one is used.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from obskit.exceptions import InputError
from obskit.io.engine import engine_name, materialize, temp_name
from obskit.io.log_table import LogTable
from obskit.io.otlp_spans import export_spans
from obskit.io.paths import SkippedFile, is_unfinished, resolve_source
from obskit.io.raw import EXCERPT
from obskit.io.timestamps import TimestampInfo

__all__ = ["BATCH_ROWS", "TRACE_EXTENSIONS", "SPAN_SCHEMA", "TraceTable", "load_traces",
           "trace_files"]

#: the most spans parsed into one Arrow record batch
BATCH_ROWS = 10_000
#: what a traces file's name ends in (``.gz``: gzip-compressed)
TRACE_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")

_US = pa.timestamp("us", tz="UTC")
#: the columns of the span table
SPAN_SCHEMA = pa.schema([
    ("trace_id", pa.string()), ("span_id", pa.string()), ("parent_span_id", pa.string()),
    ("name", pa.string()), ("kind", pa.int8()), ("start", _US), ("end", _US),
    ("duration_ms", pa.float64()), ("status_code", pa.int8()),
    ("status_message", pa.string()), ("service_name", pa.string()),
    ("model_version", pa.string()), ("request_id", pa.string()),
    ("openinference_span_kind", pa.string()), ("gen_ai_operation", pa.string()),
    ("gen_ai_model", pa.string()), ("gen_ai_provider", pa.string()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()),
    ("total_tokens", pa.int64()), ("attributes", pa.string()),
    ("_file", pa.string()), ("_line", pa.int64())])
_QUARANTINE_SCHEMA = pa.schema([("_file", pa.string()), ("_line", pa.int64()),
                                ("reason", pa.string()), ("detail", pa.string())])


@dataclass
class TraceTable(LogTable):
    """The spans read (:class:`~obskit.io.log_table.LogTable`: ``table`` one row per used
    span, ``quarantine``), and ``duplicates``: ``rows_read = rows_used +
    rows_quarantined + duplicates``."""

    duplicates: int = 0


def _is_trace_file(path: str) -> bool:
    return path.lower().endswith(TRACE_EXTENSIONS)


def trace_files(spec: str) -> tuple[list[str], list[SkippedFile]]:
    """The traces files of ``spec`` (a file, glob or directory) and the unfinished files
    skipped (:func:`obskit.io.paths.resolve_source`; a directory is searched recursively
    for :data:`TRACE_EXTENSIONS`).

    Parameters
    ----------
    spec : str
        ``sources.traces``.

    Returns
    -------
    (list of str, list of SkippedFile)

    Raises
    ------
    InputError
        Nothing matches, or the spec names an unfinished file.
    """
    if os.path.isdir(spec):
        found = resolve_source(os.path.join(spec, "**", "*"))
        files = [f for f in found.files if _is_trace_file(f)]
        if not files:
            raise InputError(f"{spec}: no OTLP JSON traces file in this directory "
                             f"(expected names ending in {', '.join(TRACE_EXTENSIONS)})",
                             path=spec)
        return files, [s for s in found.unfinished if is_unfinished(s.path)]
    found = resolve_source(spec)
    return found.files, list(found.unfinished)


def _open(path: str) -> IO[str]:
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115


def _exports(path: str) -> Iterator[tuple[int, Any | None, str]]:
    """``(line, export or None, text)`` of each export of one file: one per non-blank
    line; or, when the first non-blank line is a lone ``{`` (a pretty-printed whole-file
    export), one for the whole file (line 1; on a JSON error, the error's line)."""
    with _open(path) as fh:
        first = True
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            if first and text.strip() == "{":
                fh.seek(0)
                whole = fh.read()
                try:
                    yield 1, json.loads(whole), ""
                except ValueError as exc:
                    yield getattr(exc, "lineno", 1), None, whole
                return
            first = False
            try:
                yield number, json.loads(text), text
            except ValueError:
                yield number, None, text


class _Sink:
    """Spans and quarantined lines gathered into Arrow batches, appended to temporary
    engine tables (DuckDB); other engines (Spark: no temporary tables through Ibis) get
    the batches as one in-memory Arrow table at the end, as a view of the engine."""

    def __init__(self, con: BaseBackend) -> None:
        self.con = con
        self.spans: list[dict[str, Any]] = []
        self.bad: list[dict[str, Any]] = []
        self.names = {"spans": temp_name("spans"), "bad": temp_name("span_quarantine")}
        self.created: set[str] = set()
        self.held: dict[str, list[pa.Table]] | None = \
            None if engine_name(con) == "duckdb" else {"spans": [], "bad": []}

    def _append(self, kind: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
        batch = pa.Table.from_pylist(rows, schema=schema)
        if self.held is not None:
            self.held[kind].append(batch)
        elif kind in self.created:
            self.con.insert(self.names[kind], batch)
        else:
            self.con.create_table(self.names[kind], batch, temp=True)
            self.created.add(kind)
        rows.clear()

    def add(self, row: dict[str, Any] | None, bad: dict[str, Any] | None) -> None:
        if row is not None:
            self.spans.append(row)
            if len(self.spans) >= BATCH_ROWS:
                self._append("spans", self.spans, SPAN_SCHEMA)
        if bad is not None:
            self.bad.append(bad)
            if len(self.bad) >= BATCH_ROWS:
                self._append("bad", self.bad, _QUARANTINE_SCHEMA)

    def tables(self) -> tuple[ir.Table, ir.Table]:
        for kind, rows, schema in (("spans", self.spans, SPAN_SCHEMA),
                                   ("bad", self.bad, _QUARANTINE_SCHEMA)):
            if rows or kind not in self.created:
                self._append(kind, rows, schema)
                self.created.add(kind)
        if self.held is not None:  # views in the engine (not Ibis's default DuckDB):
            # the spans then join with the engine's prediction rows
            spans, bad = (self.con.create_view(
                self.names[kind], ibis.memtable(pa.concat_tables(self.held[kind])),
                overwrite=True) for kind in ("spans", "bad"))
            return spans, bad
        return self.con.table(self.names["spans"]), self.con.table(self.names["bad"])


def _read_file(path: str, sink: _Sink) -> None:
    try:
        for line, export, text in _exports(path):
            if export is None:
                sink.add(None, {"_file": path, "_line": line, "reason": "not valid JSON",
                                "detail": text.strip()[:EXCERPT]})
                continue
            for item in export_spans(export):
                if isinstance(item, tuple):
                    sink.add(None, {"_file": path, "_line": line, "reason": item[0],
                                    "detail": item[1]})
                else:
                    sink.add({**item, "_file": path, "_line": line}, None)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"sources.traces: {path}: cannot be read ({exc})",
                         path=path) from exc


def load_traces(con: BaseBackend, spec: str) -> TraceTable:
    """Read the OTLP JSON traces of ``spec`` into the engine, one row per span.

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    spec : str
        ``sources.traces``: a file, glob or directory of OTLP JSON (lines or whole-file
        exports, ``.gz`` allowed).

    Returns
    -------
    TraceTable
        ``table``: the used spans, the columns of :data:`SPAN_SCHEMA` (``start`` / ``end``
        UTC timestamps, ``kind`` / ``status_code`` the OTLP enums' integers,
        ``attributes`` the span's attributes as JSON text) with ``_file`` and ``_line``
        (the export's line; 1 for a whole-file export); ``quarantine``: file, line,
        reason, detail; ``rows_read = rows_used + rows_quarantined + duplicates``.

    Raises
    ------
    InputError
        No file matches ``spec``, or a file cannot be read (not UTF-8, a broken gzip).
    """
    try:
        files, unfinished = trace_files(spec)
    except InputError as exc:
        raise InputError(f"sources.traces: {exc}", path=exc.path) from exc
    sink = _Sink(con)
    for path in files:
        _read_file(path, sink)
    spans, bad = sink.tables()
    ranked = spans.mutate(_n=ibis.row_number().over(
        group_by=[spans.trace_id, spans.span_id], order_by=[spans._file, spans._line]))
    used_table = materialize(ranked.filter(ranked._n == 0).drop("_n"))
    quarantine = materialize(bad)
    total = int(spans.count().execute())
    used = int(used_table.count().execute())
    quarantined = int(quarantine.count().execute())
    return TraceTable(table=used_table, quarantine=quarantine,
                      rows_read=total + quarantined, rows_used=used,
                      rows_quarantined=quarantined, files=tuple(files),
                      timestamp=TimestampInfo("epoch", False), unfinished=tuple(unfinished),
                      duplicates=total - used)
