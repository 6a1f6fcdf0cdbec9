"""Probe results (``sources.probes``): the JSON lines ``obskit probe --results`` appends,
read into the engine and typed, bad lines quarantined with file, line and reason.

A line is ``{"timestamp", "url", "request", "status", "latency_ms", "passed", "reason"}``
(README, "Serve and instrument"). ``timestamp`` and ``passed`` are required; ``status``
and ``latency_ms`` are null when no answer came.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from obskit.exceptions import InputError
from obskit.io.casting import as_boolean, as_number, as_text
from obskit.io.checks import files_text
from obskit.io.engine import materialize
from obskit.io.log_table import LogTable
from obskit.io.raw import EXCERPT
from obskit.io.sources import read_source
from obskit.io.timestamps import TimestampInfo, parse_timestamps

__all__ = ["PROBE_COLUMNS", "load_probes"]

#: the typed columns of a probe table (besides ``_file`` and ``_line``)
PROBE_COLUMNS = ("timestamp", "url", "request", "status", "latency_ms", "passed", "reason")
_REQUIRED = ("timestamp", "passed")
_NUMBERS = ("request", "status", "latency_ms")


def _column(raw: ir.Table, name: str) -> ir.Value:
    return raw[name] if name in raw.columns else ibis.null("string")


def load_probes(con: BaseBackend, spec: str) -> LogTable:
    """Read and type the probe results of ``spec`` (file, glob or directory).

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    spec : str
        ``sources.probes``: JSON lines (or CSV / Parquet with the same columns).

    Returns
    -------
    LogTable
        ``table``: ``timestamp`` (UTC), ``url``, ``request``, ``status``, ``latency_ms``
        (float64), ``passed`` (boolean), ``reason`` with ``_file`` / ``_line``;
        ``quarantine``: the lines that are not JSON objects, have no usable ``timestamp``
        or ``passed``, or a ``latency_ms`` / ``status`` / ``request`` that is not a number
        (``latency_ms`` also when negative); ``rows_read = rows_used + rows_quarantined``.

    Raises
    ------
    InputError
        No file matches ``spec``, a file cannot be read, or the lines have no
        ``timestamp`` or ``passed`` key at all (not probe results).
    """
    try:
        raw = read_source(con, spec)
    except InputError as exc:
        raise InputError(f"sources.probes: {exc}", path=exc.path, line=exc.line) from exc
    t = raw.table
    rows = int(t.count().execute())
    missing = [c for c in _REQUIRED if c not in t.columns]
    if missing and rows:
        raise InputError(
            f"sources.probes: {files_text(raw.files)} has no "
            f"{' or '.join(map(repr, missing))} key; expected the lines 'obskit probe "
            f"--results' writes ({', '.join(PROBE_COLUMNS)})",
            path=raw.files[0] if raw.files else None, column=missing[0])
    if missing:  # every line was rejected by the format: nothing to type
        t = t.mutate(**{c: ibis.null("string") for c in _REQUIRED if c not in t.columns})
    where = f"sources.probes ({files_text(raw.files)})"
    ts, info = (parse_timestamps(t, "timestamp", where=where) if rows
                else (t.timestamp.cast("timestamp('UTC')"), TimestampInfo("empty", False)))
    passed, bad_passed = as_boolean(t.passed)
    typed: dict[str, ir.Value] = {"timestamp": ts, "url": as_text(_column(t, "url")),
                                  "passed": passed, "reason": as_text(_column(t, "reason"))}
    bad: list[tuple[ir.BooleanValue, str, ir.Value]] = [
        (ts.isnull(), "timestamp missing or not a time", t.timestamp.cast("string")),
        (passed.isnull() | bad_passed, "passed missing or not true/false",
         t.passed.cast("string")),
    ]
    for name in _NUMBERS:
        value, wrong = as_number(_column(t, name))
        typed[name] = value
        bad.append((wrong, f"{name} not a number", _column(t, name).cast("string")))
    bad.append(((typed["latency_ms"] < 0).fill_null(False), "latency_ms negative",
                _column(t, "latency_ms").cast("string")))
    reason = ibis.cases(*((cond, text) for cond, text, _ in bad), else_=ibis.null("string"))
    detail = ibis.cases(*((cond, value) for cond, _, value in bad),
                        else_=ibis.null("string"))
    checked = materialize(t.select("_file", "_line", _bad=reason, _detail=detail.left(EXCERPT),
                                   **typed))
    good = checked.filter(checked._bad.isnull()).select("_file", "_line", *PROBE_COLUMNS)
    rejected = checked.filter(checked._bad.notnull()).select(
        "_file", "_line", reason=checked._bad, detail=checked._detail)
    rejects = raw.rejects.select("_file", "_line", "reason", "detail")
    quarantine = materialize(ibis.union(rejected, rejects.cast(rejected.schema())))
    quarantined = int(quarantine.count().execute())
    used = int(good.count().execute())
    return LogTable(table=materialize(good), quarantine=quarantine,
                    rows_read=used + quarantined, rows_used=used,
                    rows_quarantined=quarantined, files=raw.files, timestamp=info,
                    unfinished=raw.unfinished)
