"""Source formats: JSONL, CSV and Parquet files, read lazily into the engine.

Each reader returns a :class:`RawSource`: an engine table with the file's columns plus
``_file`` and ``_line`` (1-based line of a text file, row number of a Parquet file), and a
table of the lines the format itself rejected (bad JSON, wrong number of CSV fields) with
file, line and reason. Readers hold the only engine-specific SQL of obskit.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from obskit._registry import Registry
from obskit.exceptions import InputError
from obskit.io.engine import quote_literal, temp_name

__all__ = ["RawSource", "READERS", "expand_paths", "read_source", "format_of"]

#: Longest excerpt of a bad line kept in the quarantine.
EXCERPT = 200
#: Up to this many rejected CSV lines, data-row line numbers are corrected exactly.
_MAX_LINE_CORRECTIONS = 500

_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}


@dataclass
class RawSource:
    """Rows as read (``table``) and lines the format rejected (``rejects``)."""

    table: ir.Table
    rejects: ir.Table
    files: tuple[str, ...]


Reader = Callable[[BaseBackend, str], RawSource]
READERS: Registry[Reader] = Registry("source format")


def format_of(path: str) -> str:
    """The source format of a file, from its extension."""
    ext = Path(path).suffix.lower()
    if ext not in _EXTENSIONS:
        raise InputError(
            f"{path}: unknown file type {ext!r}; expected one of "
            + ", ".join(sorted(_EXTENSIONS)),
            path=path,
        )
    return _EXTENSIONS[ext]


def expand_paths(spec: str) -> list[str]:
    """A file, a glob or a directory (its supported files, recursively) → sorted file list."""
    if any(ch in spec for ch in "*?["):
        files = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
    elif os.path.isdir(spec):
        files = sorted(
            str(p) for p in Path(spec).rglob("*")
            if p.is_file() and p.suffix.lower() in _EXTENSIONS
        )
    elif os.path.isfile(spec):
        files = [spec]
    else:
        raise InputError(f"{spec}: no such file or directory", path=spec)
    if not files:
        raise InputError(
            f"{spec}: matched no log files (supported: {', '.join(sorted(_EXTENSIONS))})",
            path=spec,
        )
    for f in files:
        if not os.access(f, os.R_OK):
            raise InputError(f"{f}: file is not readable", path=f)
    return files


def _rejects_table(con: BaseBackend, rows: list[tuple[str, int, str, str]]) -> ir.Table:
    import pyarrow as pa

    arrow = pa.table(
        {
            "_file": pa.array([r[0] for r in rows], pa.string()),
            "_line": pa.array([r[1] for r in rows], pa.int64()),
            "reason": pa.array([r[2] for r in rows], pa.string()),
            "detail": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    name = temp_name("rejects")
    return con.create_table(name, arrow, temp=True)


@READERS.decorator("jsonl")
def read_jsonl(con: BaseBackend, path: str) -> RawSource:
    """Newline-delimited JSON; features may be flat or nested under ``features``."""
    lines = temp_name("lines")
    lit = quote_literal(path)
    try:
        con.raw_sql(
            f"""CREATE TEMP TABLE {lines} AS
            SELECT CAST(row_number() OVER () AS BIGINT) AS _line, raw
            FROM read_csv({lit}, columns={{'raw': 'VARCHAR'}}, header=false,
                          delim=chr(31), quote='', escape='', auto_detect=false,
                          max_line_size=16777216)"""
        )
    except Exception as exc:  # noqa: BLE001 - the engine's own message says why
        raise InputError(f"{path}: cannot read as JSON lines: {exc}", path=path) from exc
    con.raw_sql(
        f"""CREATE OR REPLACE TEMP TABLE {lines} AS
        SELECT _line, raw,
               CASE WHEN NOT json_valid(raw) THEN 'invalid JSON'
                    WHEN json_type(raw::JSON) <> 'OBJECT' THEN 'not a JSON object'
               END AS _bad
        FROM {lines} WHERE raw IS NOT NULL AND trim(raw) <> ''"""
    )
    keys = [
        r[0] for r in con.raw_sql(
            f"SELECT DISTINCT unnest(json_keys(raw::JSON)) FROM {lines} WHERE _bad IS NULL"
        ).fetchall()
    ]
    nested = [
        r[0] for r in con.raw_sql(
            f"""SELECT DISTINCT unnest(json_keys(raw::JSON -> '$.features')) FROM {lines}
            WHERE _bad IS NULL AND json_type(raw::JSON -> '$.features') = 'OBJECT'"""
        ).fetchall()
    ]
    has_nested = "features" in keys and bool(nested)
    top = [k for k in keys if not (has_nested and k == "features")]
    exprs = [f"{quote_literal(path)} AS _file", "_line"]
    for key in sorted(top):
        exprs.append(f"json_extract_string(raw, {quote_literal(_json_path(key))}) "
                     f"AS {_ident(key)}")
    for key in sorted(nested):
        name = key if key not in top else f"features.{key}"
        exprs.append(
            f"json_extract_string(raw, {quote_literal('$.features.' + _json_key(key))}) "
            f"AS {_ident(name)}"
        )
    table = con.sql(f"SELECT {', '.join(exprs)} FROM {lines} WHERE _bad IS NULL")
    rejects = con.sql(
        f"""SELECT {lit} AS _file, _line, _bad AS reason,
        left(raw, {EXCERPT}) AS detail FROM {lines} WHERE _bad IS NOT NULL"""
    )
    return RawSource(table, rejects, (path,))


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_path(key: str) -> str:
    return "$." + _json_key(key)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@READERS.decorator("csv")
def read_csv(con: BaseBackend, path: str) -> RawSource:
    """CSV with a header row; every value read as text and typed later.

    Lines with the wrong number of fields are rejected with their line number. Data rows
    get the line number they start on, assuming one line per record.
    """
    lit = quote_literal(path)
    rej, scan = temp_name("csvrej"), temp_name("csvscan")
    tbl = temp_name("csv")
    delim = ", delim='\\t'" if path.lower().endswith(".tsv") else ""
    try:
        con.raw_sql(
            f"""CREATE TEMP TABLE {tbl} AS
            SELECT *, CAST(row_number() OVER () AS BIGINT) AS _ordinal
            FROM read_csv({lit}, header=true, all_varchar=true, store_rejects=true,
                          rejects_table='{rej}', rejects_scan='{scan}'{delim})"""
        )
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: cannot read as CSV: {exc}", path=path) from exc
    bad = con.raw_sql(f"SELECT line, error_type, csv_line FROM {rej} ORDER BY line").fetchall()
    rows = [(path, int(line), f"CSV: {str(kind).lower()}", str(text or "")[:EXCERPT])
            for line, kind, text in bad]
    t = con.table(tbl)
    line = t["_ordinal"] + 1
    if len(bad) <= _MAX_LINE_CORRECTIONS:
        # the j-th rejected line (1-based) at line r shifts every data row k >= r - j by one
        for j, (r, _, _) in enumerate(bad, start=1):
            line = line + (t["_ordinal"] >= int(r) - j).cast("int64")
    table = t.mutate(_file=ibis.literal(path), _line=line.cast("int64")).drop("_ordinal")
    return RawSource(table, _rejects_table(con, rows), (path,))


@READERS.decorator("parquet")
def read_parquet(con: BaseBackend, path: str) -> RawSource:
    """Parquet; ``_line`` is the 1-based row number within the file."""
    lit = quote_literal(path)
    try:
        table = con.sql(
            f"SELECT *, {lit} AS _file, CAST(file_row_number + 1 AS BIGINT) AS _line "
            f"FROM read_parquet({lit}, file_row_number=true)"
        )
        table = table.drop("file_row_number")
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: cannot read as Parquet: {exc}", path=path) from exc
    return RawSource(table, _rejects_table(con, []), (path,))


def read_source(con: BaseBackend, spec: str) -> RawSource:
    """Read every file of a source spec and stack them (columns aligned by name)."""
    parts = [READERS.get(format_of(f))(con, f) for f in expand_paths(spec)]
    return RawSource(
        table=_union_by_name([p.table for p in parts]),
        rejects=ibis.union(*[p.rejects for p in parts]) if len(parts) > 1 else parts[0].rejects,
        files=tuple(f for p in parts for f in p.files),
    )


def _union_by_name(tables: list[ir.Table]) -> ir.Table:
    if len(tables) == 1:
        return tables[0]
    columns: dict[str, list] = {}
    for t in tables:
        for name, dtype in t.schema().items():
            columns.setdefault(name, []).append(dtype)
    target = {n: (ts[0] if all(d == ts[0] for d in ts) else ibis.dtype("string"))
              for n, ts in columns.items()}
    aligned = [
        t.select(**{
            n: (t[n].cast(dt) if n in t.columns else ibis.null().cast(dt))
            for n, dt in target.items()
        })
        for t in tables
    ]
    return ibis.union(*aligned)
