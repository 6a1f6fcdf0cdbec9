"""The reading step on Spark: JSONL, CSV and Parquet into the same
:class:`~obskit.io.raw.RawSource` as the DuckDB readers of :mod:`obskit.io.sources` (same
columns, line numbers and rejects).

Text files are read as lines with Spark's text source. A line's number comes from where
Spark read it: the file (``_metadata.file_path``), the start of the file split it belongs
to (``_metadata.file_block_start``: a line belongs to the split it starts in) and its
position within the partition that read the split (``monotonically_increasing_id``, which
increases in read order). Numbering the lines of each file in that order gives the exact
1-based line number, with no pass through Python, however the file is split.

Each line is then parsed in Spark SQL: JSON with ``try_parse_json`` (strict, Spark 4.0 or
later) and ``from_json`` into a map of strings; CSV with ``from_csv`` into strings, a field
count that is not the header's being a reject. Every value comes out as text, as from the
DuckDB readers, and is typed by the same Ibis expressions afterwards.
"""

from __future__ import annotations

import csv
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


def _lines(con: BaseBackend, path: str, remote: bool) -> Any:
    """``_file``, ``_line`` (1-based, exact) and ``raw`` for every line of the file(s)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    text = _session(con).read.text(path)
    text = text.select(
        F.col("value").alias("raw"),
        F.col("_metadata.file_path").alias("_path"),
        F.col("_metadata.file_block_start").alias("_start"),
        F.monotonically_increasing_id().alias("_id"),
        _file_column(path, remote).alias("_file"),
    )
    order = Window.partitionBy("_path").orderBy("_start", "_id")
    return text.select("_file", F.row_number().over(order).cast("bigint").alias("_line"), "raw")


def _rejects(bad: Any) -> Any:
    from pyspark.sql import functions as F

    return bad.select("_file", "_line", F.col("_bad").alias("reason"),
                      F.substring("raw", 1, EXCERPT).alias("detail"))


def _read_error(path: str, kind: str, exc: Exception) -> InputError:
    return InputError(f"{path}: cannot read as {kind}: {exc}", path=path)


def _json_keys(good: Any) -> tuple[list[str], list[str]]:
    """The top-level keys (of ``_m``) and the keys under ``features`` (of ``_n``), in one
    Spark job: each key tagged with where it was found."""
    from pyspark.sql import functions as F

    none = F.array().cast("array<string>")
    tagged = F.concat(
        F.transform(F.coalesce(F.map_keys("_m"), none), lambda k: F.concat(F.lit("m"), k)),
        F.transform(F.coalesce(F.map_keys("_n"), none), lambda k: F.concat(F.lit("n"), k)))
    found = [r[0] for r in good.select(F.explode(tagged)).distinct().collect()]
    return ([k[1:] for k in found if k[0] == "m"], [k[1:] for k in found if k[0] == "n"])


def spark_read_jsonl(con: BaseBackend, path: str, *, remote: bool = False) -> RawSource:
    """Newline-delimited JSON on Spark; see :func:`obskit.io.sources.read_jsonl`.

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

    try:
        lines = _lines(con, path, remote).filter(
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
        keys, nested = _json_keys(good)
    except Exception as exc:  # noqa: BLE001 - Spark's own message says why
        if isinstance(exc, InputError):
            raise
        raise _read_error(path, "JSON lines", exc) from exc
    columns = [F.col("_file"), F.col("_line")]
    for name, is_nested, key in json_columns(keys, nested):
        columns.append(F.col("_n" if is_nested else "_m")[key].alias(name))
    rows = _register(con, good.select(*columns), "jsonrows")
    rejects = _register(con, _rejects(lines.filter(F.col("_bad").isNotNull())), "jsonrej")
    return RawSource(rows, rejects, (path,))


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
        lines = _lines(con, path, remote).persist()
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
