"""Source formats: JSONL, CSV and Parquet files, read lazily into the engine.

Each reader returns a :class:`~obskit.io.raw.RawSource`: an engine table with the file's
columns plus ``_file`` and ``_line`` (1-based line of a text file, row number of a Parquet
file), and a table of the lines the format itself rejected (bad JSON, wrong number of CSV
fields) with file, line and reason. Readers hold the only engine-specific SQL of obskit:
DuckDB's here, Spark's in :mod:`obskit.io.spark_sources`; everything after them is the same
Ibis expressions on both engines.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from obskit._registry import Registry
from obskit.exceptions import InputError
from obskit.io.engine import engine_name, quote_ident, quote_literal, temp_name
from obskit.io.parquet_meta import dictionary_columns, pandas_index_columns, schema_runs
from obskit.io.paths import format_of, resolve_source
from obskit.io.raw import EXCERPT, RawSource, json_columns

__all__ = ["READERS", "SPARK_READERS", "read_source"]


Reader = Callable[[BaseBackend, str], RawSource]
READERS: Registry[Reader] = Registry("source format")
#: the same formats read by Spark (registered at the end of this module)
SPARK_READERS: Registry[Callable[..., RawSource]] = Registry("source format (Spark)")


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
    return ibis.memtable(arrow)


@READERS.decorator("jsonl")
def read_jsonl(con: BaseBackend, path: str) -> RawSource:
    """Read newline-delimited JSON; features may be flat or nested under ``features``.

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    path : str
        One JSON-lines file.

    Returns
    -------
    RawSource
        The untyped table with ``_file`` and ``_line`` (1-based), and its rejected lines.

    Raises
    ------
    InputError
        The file cannot be read as JSON lines.
    """
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
    names, paths = [], []
    for name, is_nested, key in json_columns(keys, nested):
        names.append(name)
        paths.append(("$.features." + _json_key(key)) if is_nested else _json_path(key))
    # one parse per line: extract every path at once into a list, then take its items
    path_list = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
    exprs = [f"{lit} AS _file", "_line"] + [
        f"_v[{i + 1}] AS {quote_ident(name)}" for i, name in enumerate(names)
    ]
    source = (f"(SELECT _line, json_extract_string(raw, {path_list}) AS _v FROM {lines} "
              "WHERE _bad IS NULL)") if paths else f"(SELECT _line FROM {lines} WHERE _bad IS NULL)"
    rows, rejects = temp_name("jsonrows"), temp_name("jsonrej")
    # extracted once into a table: every later pass reads typed columns, not JSON text
    con.raw_sql(f"CREATE TEMP TABLE {rows} AS SELECT {', '.join(exprs)} FROM {source}")
    con.raw_sql(
        f"""CREATE TEMP TABLE {rejects} AS SELECT {lit} AS _file, _line, _bad AS reason,
        left(raw, {EXCERPT}) AS detail FROM {lines} WHERE _bad IS NOT NULL"""
    )
    con.raw_sql(f"DROP TABLE {lines}")
    return RawSource(con.table(rows), con.table(rejects), (path,))


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_path(key: str) -> str:
    return "$." + _json_key(key)


@READERS.decorator("csv")
def read_csv(con: BaseBackend, path: str) -> RawSource:
    """Read a CSV file with a header row; every value is read as text and typed later.

    Lines with the wrong number of fields are rejected with their line number; blank lines
    are not rows. Data rows get the line number they start on, assuming one line per record.

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    path : str
        One CSV file.

    Returns
    -------
    RawSource
        The untyped table with ``_file`` and ``_line`` (1-based), and its rejected lines.

    Raises
    ------
    InputError
        The file cannot be read as CSV.
    """
    lit = quote_literal(path)
    rej, scan = temp_name("csvrej"), temp_name("csvscan")
    tbl, skips = temp_name("csv"), temp_name("csvskip")
    delim = ", delim='\\t'" if path.lower().endswith(".tsv") else ""
    try:
        con.raw_sql(
            f"""CREATE TEMP TABLE {tbl} AS
            SELECT *, CAST(row_number() OVER () AS BIGINT) AS _ordinal
            FROM read_csv({lit}, header=true, all_varchar=true, store_rejects=true,
                          rejects_table='{rej}', rejects_scan='{scan}'{delim})"""
        )
        # blank lines: the CSV reader skips empty ones and rejects whitespace-only ones
        blank = {int(r[0]) for r in con.raw_sql(
            f"""SELECT _line FROM (
                SELECT CAST(row_number() OVER () AS BIGINT) AS _line, raw
                FROM read_csv({lit}, columns={{'raw': 'VARCHAR'}}, header=false,
                              delim=chr(31), quote='', escape='', auto_detect=false,
                              max_line_size=16777216))
            WHERE raw IS NULL OR trim(raw, ' \t\r') = ''"""
        ).fetchall()}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: cannot read as CSV: {exc}", path=path) from exc
    # one reject row per missing column: keep one per line
    bad = con.raw_sql(
        f"""SELECT line, arg_min(error_type, column_idx), arg_min(csv_line, column_idx)
        FROM {rej} GROUP BY line ORDER BY line"""
    ).fetchall()
    bad = [b for b in bad if int(b[0]) not in blank]
    rows = [(path, int(line), f"CSV: {str(kind).lower()}", str(text or "")[:EXCERPT])
            for line, kind, text in bad]
    # the j-th skipped line (rejected or blank, 1-based) at line r shifts every data row of
    # ordinal k >= r - j by one: data row k is on line k + 1 + max{j : r_j - j <= k}
    data_cols = [c for c in con.table(tbl).columns if c != "_ordinal"]
    single = len(data_cols) == 1  # then the reader keeps blank lines as rows: drop them below
    skipped = sorted((set() if single else blank) | {int(b[0]) for b in bad})
    shifts: dict[int, int] = {}
    for j, r in enumerate(skipped, start=1):
        shifts[r - j] = j
    import pyarrow as pa

    con.create_table(skips, pa.table({"_thr": pa.array(list(shifts), pa.int64()),
                                      "_shift": pa.array(list(shifts.values()), pa.int64())}),
                     temp=True)
    table = con.sql(
        f"""SELECT t.* EXCLUDE (_ordinal), {lit} AS _file,
               CAST(t._ordinal + 1 + coalesce(s._shift, 0) AS BIGINT) AS _line
        FROM {tbl} t ASOF LEFT JOIN {skips} s ON t._ordinal >= s._thr"""
        + (f" WHERE trim(t.{quote_ident(data_cols[0])}) <> ''" if single else "")
    )
    return RawSource(table, _rejects_table(con, rows), (path,))


@READERS.decorator("parquet")
def read_parquet(con: BaseBackend, path: str) -> RawSource:
    """Read a Parquet file; ``_line`` is the 1-based row number within the file.

    Parameters
    ----------
    con : ibis backend
        The engine connection.
    path : str
        One Parquet file.

    Returns
    -------
    RawSource
        The table with ``_file`` and ``_line`` (no rejects: Parquet rows are whole).

    Raises
    ------
    InputError
        The file cannot be read as Parquet.
    """
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


def read_parquet_files(con: BaseBackend, paths: list[str]) -> RawSource:
    """Read Parquet files of one schema in one scan (DuckDB); as :func:`read_parquet`
    on each, stacked in their order.

    Parameters
    ----------
    con : ibis backend
        A DuckDB connection.
    paths : list of str
        Parquet files whose columns have the same names and types
        (:func:`obskit.io.parquet_meta.schema_runs`).

    Returns
    -------
    RawSource

    Raises
    ------
    InputError
        The files cannot be read as Parquet (the message names the first).
    """
    files = ", ".join(quote_literal(p) for p in paths)
    try:
        table = con.sql(  # filename, file_row_number: DuckDB's virtual columns of the scan
            f"SELECT *, filename AS _file, CAST(file_row_number + 1 AS BIGINT) AS _line "
            f"FROM read_parquet([{files}])")
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{paths[0]} (and {len(paths) - 1} more files): cannot read as "
                         f"Parquet: {exc}", path=paths[0]) from exc
    return RawSource(table, _rejects_table(con, []), tuple(paths))


def read_source(con: BaseBackend, spec: str) -> RawSource:
    """Read every file of a source spec and stack them (columns aligned by name).

    On Spark, a URI (``s3a://bucket/logs/*.jsonl``) is listed and read by Spark itself, its
    format taken from the extension of the spec; local paths are expanded here on both
    engines, so both name the same files.

    Parameters
    ----------
    con : ibis backend
        The engine connection (DuckDB or Spark).
    spec : str
        A file, glob, directory or (Spark) URI.

    Returns
    -------
    RawSource
        The stacked untyped table, its rejected lines, the files read and the unfinished
        log files skipped (:func:`obskit.io.paths.resolve_source`).

    Raises
    ------
    InputError
        No file matches (the message names any unfinished file skipped), or a file
        cannot be read in its format.
    """
    if engine_name(con) == "spark":
        from obskit.io.spark_sources import is_remote

        if is_remote(spec):
            fmt = format_of(spec.rstrip("/"))
            return _declare(SPARK_READERS.get(fmt)(con, spec, remote=True), fmt)
    resolved = resolve_source(spec)  # unfinished log files (.part) are never read
    if engine_name(con) == "spark" and {format_of(f) for f in resolved.files} == {"jsonl"}:
        # JSON-lines files in one Spark plan: a few jobs for all, not a few for each
        parts = [SPARK_READERS.get("jsonl")(con, resolved.files)]
    elif engine_name(con) == "spark":
        parts = [_declare(SPARK_READERS.get(format_of(f))(con, f), format_of(f))
                 for f in resolved.files]
    else:  # consecutive Parquet files of one schema in one scan (faster than a union)
        parts = [_declare(READERS.get(format_of(run[0]))(con, run[0]) if len(run) == 1
                          else read_parquet_files(con, run), format_of(run[0]))
                 for run in schema_runs(resolved.files)]
    return RawSource(
        table=_union_by_name([p.table for p in parts]),
        rejects=ibis.union(*[p.rejects for p in parts]) if len(parts) > 1 else parts[0].rejects,
        files=tuple(f for p in parts for f in p.files),
        declared_text=frozenset().union(*[p.declared_text for p in parts]),
        index_columns=frozenset().union(*[p.index_columns for p in parts]),
        unfinished=tuple(resolved.unfinished),
    )


def _declare(raw: RawSource, fmt: str) -> RawSource:
    """``raw`` with its declared text columns: the string columns of a Parquet file, and
    its dictionary columns (a pandas ``category``, whatever the values' type: the engine
    reads them as their values, the file's own schema says they are categories); none for
    text formats."""
    if fmt != "parquet":
        return raw
    text = {n for n, t in raw.table.schema().items()
            if t.is_string() and n not in ("_file", "_line")}
    index: set[str] = set()
    for path in raw.files:
        if os.path.isfile(path):
            text |= dictionary_columns(path)
            index |= pandas_index_columns(path)
    return RawSource(raw.table, raw.rejects, raw.files, frozenset(text), frozenset(index))


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


def _register_spark_readers() -> None:
    from obskit.io import spark_sources as sp  # imports no PySpark until a reader runs

    SPARK_READERS.register("jsonl", sp.spark_read_jsonl)
    SPARK_READERS.register("csv", sp.spark_read_csv)
    SPARK_READERS.register("parquet", sp.spark_read_parquet)


_register_spark_readers()
