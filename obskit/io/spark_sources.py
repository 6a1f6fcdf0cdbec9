"""The reading step on Spark: JSONL, CSV and Parquet into the same
:class:`~obskit.io.raw.RawSource` as the DuckDB readers of :mod:`obskit.io.sources` (same
columns, line numbers and rejects).

Text files are read as lines with Spark's text source. A line's number comes from where
Spark read it: the file (``_metadata.file_path``), the start of the file split it belongs
to (``_metadata.file_block_start``: a line belongs to the split it starts in) and its
position within the partition that read the split (``monotonically_increasing_id``, which
increases by one per line within a partition). A split's lines are consecutive in its
partition, so one small aggregate (each split's first id and line count, collected to the
driver) gives every line its exact 1-based number: its id less its split's first id, plus
the lines of the file's earlier splits. No sort of the lines, however the file is split.
The JSON-lines files of one source are read together, in one Spark plan.

Each line is then parsed in Spark SQL: JSON with ``try_parse_json`` (strict, Spark 4.0 or
later) and ``from_json`` into a map of strings; CSV with ``from_csv`` into strings, a field
count that is not the header's being a reject. Every value comes out as text, as from the
DuckDB readers, and is typed by the same Ibis expressions afterwards.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from obskit.exceptions import InputError
from obskit.io.engine import temp_name
from obskit.io.raw import EXCERPT, RawSource, json_columns

__all__ = ["spark_read_jsonl", "spark_read_csv", "spark_read_parquet", "is_remote"]

_REJECT_SCHEMA = "_file STRING, _line BIGINT, reason STRING, detail STRING"


def is_remote(spec: str) -> bool:
    """Whether a spec is a URI that Spark lists and reads itself.

    Parameters
    ----------
    spec : str
        A source spec.

    Returns
    -------
    bool
        True for a URI such as ``s3a://bucket/logs/*.jsonl``.
    """
    scheme, sep, _ = spec.partition("://")
    return bool(sep) and scheme.lower() != "file" and scheme.isidentifier()


def _session(con: BaseBackend) -> Any:
    return con._session  # the SparkSession the Ibis backend runs on


def _register(con: BaseBackend, df: Any, prefix: str, *, cache: bool = True) -> ir.Table:
    name = temp_name(prefix)
    (df.persist() if cache else df).createOrReplaceTempView(name)
    return con.table(name)


def _file_column(path: str, remote: bool) -> Any:
    from pyspark.sql import functions as F

    # a local file keeps the name DuckDB reports; a remote one the URI Spark read
    return F.col("_metadata.file_path") if remote else F.lit(path)


def _lines(con: BaseBackend, paths: Sequence[str], remote: bool) -> Any:
    """``_file``, ``_line`` (1-based, exact) and ``raw`` for every line of the file(s), read
    in one Spark plan; persisted."""
    from pyspark.sql import functions as F

    session = _session(con)
    scans = [session.read.text(p).select(
        F.col("value").alias("raw"), _file_column(p, remote).alias("_file"),
        F.col("_metadata.file_block_start").alias("_start"),
        F.monotonically_increasing_id().alias("_id")) for p in paths]
    text = functools.reduce(lambda a, b: a.unionAll(b), scans).persist()
    # a split's lines are consecutive in the partition that read it, so a line's number is
    # its id less the split's first id, plus the lines of the file's earlier splits: one
    # small aggregate instead of sorting every line of a file
    splits = sorted((r[0], r[1], r[2], r[3]) for r in text.groupBy("_file", "_start").agg(
        F.min("_id"), F.count(F.lit(1))).collect())
    bases, before, last = [], 0, None
    for file, start, first_id, n in splits:
        before = 0 if file != last else before
        bases.append((file, start, before - first_id + 1))
        before, last = before + n, file
    base = session.createDataFrame(bases, "_file STRING, _start BIGINT, _base BIGINT")
    return text.join(F.broadcast(base), ["_file", "_start"]).select(
        "_file", (F.col("_id") + F.col("_base")).alias("_line"), "raw")


def _rejects(bad: Any) -> Any:
    from pyspark.sql import functions as F

    return bad.select("_file", "_line", F.col("_bad").alias("reason"),
                      F.substring("raw", 1, EXCERPT).alias("detail"))


def _read_error(path: str, kind: str, exc: Exception) -> InputError:
    return InputError(f"{path}: cannot read as {kind}: {exc}", path=path)


def _json_keys(good: Any) -> dict[str, tuple[list[str], list[str]]]:
    """Per file, the top-level keys (of ``_m``) and the keys under ``features`` (of ``_n``),
    in one Spark job: each key tagged with where it was found."""
    from pyspark.sql import functions as F

    none = F.array().cast("array<string>")
    tagged = F.concat(
        F.transform(F.coalesce(F.map_keys("_m"), none), lambda k: F.concat(F.lit("m"), k)),
        F.transform(F.coalesce(F.map_keys("_n"), none), lambda k: F.concat(F.lit("n"), k)))
    found: dict[str, tuple[list[str], list[str]]] = {}
    for file, key in good.select("_file", F.explode(tagged)).distinct().collect():
        found.setdefault(file, ([], []))[key[0] == "n"].append(key[1:])
    return found


def _json_select(found: dict[str, tuple[list[str], list[str]]], files: Sequence[str],
                 remote: bool) -> list[Any]:
    """The row columns: as if each file had been read alone (:func:`json_columns`) and
    the files stacked by column name, in the files' order."""
    from pyspark.sql import functions as F

    if remote:  # one spec, listed by Spark: its keys over all files, as one file
        found = {"": (sorted({k for t, _ in found.values() for k in t}),
                      sorted({k for _, n in found.values() for k in n}))}
        files = [""]
    sources: dict[str, dict[tuple[bool, str], list[str]]] = {}
    for file in files:
        keys, nested = found.get(file, ([], []))
        for name, is_nested, key in json_columns(keys, nested):
            sources.setdefault(name, {}).setdefault((is_nested, key), []).append(file)
    columns = [F.col("_file"), F.col("_line")]
    for name, by_source in sources.items():
        free, only = [], []  # sources of this name in every file that has the key
        for (is_nested, key), naming in by_source.items():
            col = F.col("_n" if is_nested else "_m")[key]
            holders = [f for f in files if key in found.get(f, ([], []))[is_nested]]
            if holders == naming:
                free.append(col)  # the files holding these keys are disjoint
            else:  # another file names this key otherwise: only these files' rows
                only.append((F.col("_file").isin(naming), col))
        value = F.coalesce(*free) if len(free) > 1 else free[0] if free else F.lit(None)
        for when, col in reversed(only):
            value = F.when(when, col).otherwise(value)
        columns.append(value.cast("string").alias(name))
    return columns


def spark_read_jsonl(con: BaseBackend, path: str | Sequence[str], *,
                     remote: bool = False) -> RawSource:
    """Newline-delimited JSON on Spark; see :func:`obskit.io.sources.read_jsonl`.

    Several files are read in one Spark plan, their columns as when each file is read
    alone and the files are stacked by column name.

    Parameters
    ----------
    con : ibis backend
        The Spark connection.
    path : str or sequence of str
        One file, several files, or (``remote``) a URI Spark lists itself.
    remote : bool, default False
        ``path`` is a URI, possibly a glob.

    Returns
    -------
    RawSource
        The untyped table with ``_file`` and ``_line``, and its rejected lines.

    Raises
    ------
    InputError
        The file cannot be read in its format.
    """
    from pyspark.sql import functions as F

    paths = [path] if isinstance(path, str) else list(path)
    try:
        lines = _lines(con, paths, remote).filter(
            F.col("raw").isNotNull() & (F.trim("raw") != ""))
        parsed = F.expr("try_parse_json(raw)")
        lines = lines.withColumn("_bad", F.when(parsed.isNull(), F.lit("invalid JSON")).when(
            ~F.startswith(F.expr("schema_of_variant(try_parse_json(raw))"), F.lit("OBJECT")),
            F.lit("not a JSON object")))
        lines = lines.persist()
        good = lines.filter(F.col("_bad").isNull()).withColumn(
            "_m", F.from_json("raw", "MAP<STRING, STRING>"))
        good = good.withColumn("_n", F.from_json(F.col("_m")["features"],
                                                 "MAP<STRING, STRING>"))
        columns = _json_select(_json_keys(good), paths, remote)
    except Exception as exc:  # noqa: BLE001 - Spark's own message says why
        if isinstance(exc, InputError):
            raise
        raise _read_error(paths[0], "JSON lines", exc) from exc
    rows = _register(con, good.select(*columns), "jsonrows")
    rejects = _register(con, _rejects(lines.filter(F.col("_bad").isNotNull())), "jsonrej")
    return RawSource(rows, rejects, tuple(paths))


def spark_read_csv(con: BaseBackend, path: str, *, remote: bool = False) -> RawSource:
    """CSV with a header row on Spark; see :func:`obskit.io.sources.read_csv`.

    Fields are split with ``from_csv`` (comma, or tab for ``.tsv``; double quotes). A line
    with fewer fields than the header is rejected as ``CSV: missing columns``, one with more
    as ``CSV: too many columns``; blank lines are not rows. Empty fields are missing values.

    Parameters
    ----------
    con : ibis backend
        The Spark connection.
    path : str
        One file, or (``remote``) a URI Spark lists itself.
    remote : bool, default False
        ``path`` is a URI, possibly a glob.

    Returns
    -------
    RawSource
        The untyped table with ``_file`` and ``_line``, and its rejected lines.

    Raises
    ------
    InputError
        The file cannot be read in its format.
    """
    from pyspark.sql import functions as F

    sep = "\t" if path.lower().endswith(".tsv") else ","
    try:
        lines = _lines(con, [path], remote)
        first = lines.filter(F.col("_line") == 1).select("raw").collect()
    except Exception as exc:  # noqa: BLE001
        raise _read_error(path, "CSV", exc) from exc
    if not first or first[0][0] is None or not first[0][0].strip():
        raise InputError(f"{path}: cannot read as CSV: no header row", path=path)
    header = next(csv.reader([first[0][0]], delimiter=sep))
    n = len(header)
    schema = ", ".join(f"c{i} STRING" for i in range(n))
    data = lines.filter((F.col("_line") > 1) & (F.trim("raw", F.lit(" \t\r")) != ""))
    data = data.withColumn("_f", F.from_csv("raw", schema, {"sep": sep, "mode": "PERMISSIVE"}))
    # fields = separators outside double quotes + 1 (from_csv pads and drops silently)
    fields = F.size(F.split(F.regexp_replace("raw", '"([^"]|"")*"', ""), sep, -1))
    data = data.withColumn("_bad", F.when(fields > n, F.lit("CSV: too many columns"))
                           .when(fields < n, F.lit("CSV: missing columns")))
    columns = [F.nullif(F.col("_f")[f"c{i}"], F.lit("")).alias(name)
               for i, name in enumerate(header)]
    rows = _register(con, data.filter(F.col("_bad").isNull()).select(
        *columns, "_file", "_line"), "csv")
    rejects = _register(con, _rejects(data.filter(F.col("_bad").isNotNull())), "csvrej")
    return RawSource(rows, rejects, (path,))


def spark_read_parquet(con: BaseBackend, path: str, *, remote: bool = False) -> RawSource:
    """Parquet on Spark; ``_line`` is the 1-based row number within the file.

    Spark reads timestamps of microsecond precision or coarser: write Parquet timestamps as
    ``timestamp[us]`` (pandas: ``df.astype({"ts": "datetime64[us, UTC]"})``).

    Parameters
    ----------
    con : ibis backend
        The Spark connection.
    path : str
        One file, or (``remote``) a URI Spark lists itself.
    remote : bool, default False
        ``path`` is a URI, possibly a glob.

    Returns
    -------
    RawSource
        The untyped table with ``_file`` and ``_line``, and its rejected lines.

    Raises
    ------
    InputError
        The file cannot be read in its format.
    """
    from pyspark.sql import functions as F

    session = _session(con)
    try:
        df = session.read.parquet(path)
        df = df.select("*", _file_column(path, remote).alias("_file"),
                       (F.col("_metadata.row_index") + 1).cast("bigint").alias("_line"))
        rows = _register(con, df, "parquet", cache=False)
        # Spark's TimestampType is an instant (Parquet isAdjustedToUTC), as DuckDB's
        # TIMESTAMPTZ; Ibis calls it naive, so say UTC (TimestampNTZType stays naive)
        aware = [f.name for f in df.schema.fields if type(f.dataType).__name__ ==
                 "TimestampType"]
        if aware:
            rows = rows.mutate(**{c: rows[c].cast("timestamp('UTC')") for c in aware})
    except Exception as exc:  # noqa: BLE001
        hint = (" (Spark reads timestamps of microsecond precision at most: write them as "
                "timestamp[us])") if "NANOS" in str(exc).upper() else ""
        raise InputError(f"{path}: cannot read as Parquet{hint}: {exc}", path=path) from exc
    empty = session.createDataFrame([], _REJECT_SCHEMA)
    return RawSource(rows, _register(con, empty, "parquetrej", cache=False), (path,))
