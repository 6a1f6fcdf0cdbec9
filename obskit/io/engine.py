"""Engine connections: DuckDB (embedded, the default) or Spark, through Ibis.

Every finding is an Ibis expression that runs unchanged on either backend. The few things
that differ between the engines live here (connecting, materialising a table) and in the
reading step of :mod:`obskit.io.sources`.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from obskit.exceptions import ConfigError

__all__ = [
    "connect",
    "engine_name",
    "fetch_frame",
    "materialize",
    "stable_hash",
    "temp_name",
    "quote_ident",
    "quote_literal",
    "SPARK_DEFAULT_CONF",
    "spark_conf",
]

_counter = itertools.count()

#: Spark settings obskit applies unless ``spark.conf`` says otherwise. ANSI mode off: a
#: value that does not cast is null (as in DuckDB's ``TRY_CAST``), not a failed job.
SPARK_DEFAULT_CONF: Mapping[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
    "spark.ui.showConsoleProgress": "false",
    # Catalyst's constraint propagation grows with the square of an expression's size and
    # stalled for over 20 minutes on the anomaly severity query of a 4,000-row log; the
    # rewrite it enables (inferring filters) gains nothing on obskit's queries
    "spark.sql.constraintPropagation.enabled": "false",
    # adaptive execution: shuffle partitions coalesced to the data's size at run time, so
    # a small query does not pay for Spark's fixed 200 partitions
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
}

_LOCAL = re.compile(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?")
#: the driver's share of the machine's memory in local mode, and its bounds in MiB
_DRIVER_SHARE, _DRIVER_MIN_MB, _DRIVER_MAX_MB = 0.25, 1024, 32 * 1024


def _machine_memory_mb() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def spark_conf(master: str, conf: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The Spark properties obskit starts a session with: its defaults for ``master``,
    overridden by the user's ``spark.conf``.

    Every master gets :data:`SPARK_DEFAULT_CONF` (adaptive execution among them). A local
    master (``local``, ``local[N]``, ``local[*]``) also gets settings from this machine:
    shuffle partitions twice its cores and parallelism its cores (Spark's 200 partitions
    make every small query slow), a quarter of its memory for the driver (1 to 32 GiB;
    Spark's default is 1 GiB), the JVM's quick compiler only (``-XX:TieredStopAtLevel=1``)
    and no web UI. A cluster master keeps Spark's partition
    count as an upper bound that adaptive execution coalesces by size
    (``parallelismFirst`` off: about 64 MiB a partition), and its memory and cores are the
    cluster's to set.

    Parameters
    ----------
    master : str
        The Spark master URL.
    conf : mapping, optional
        The user's ``spark.conf``: each of its properties wins over obskit's.

    Returns
    -------
    dict
        Property name to value, as strings.

    Examples
    --------
    >>> spark_conf("local[2]")["spark.sql.shuffle.partitions"]
    '4'
    >>> spark_conf("local[2]", {"spark.sql.shuffle.partitions": 8})["spark.sql.shuffle.partitions"]
    '8'
    """
    out = dict(SPARK_DEFAULT_CONF)
    local = _LOCAL.fullmatch(master.strip())
    if local:
        n = local.group(1)
        cores = (os.cpu_count() or 1) if n == "*" else int(n or 1)
        out.update({"spark.sql.shuffle.partitions": str(max(2, 2 * cores)),
                    "spark.default.parallelism": str(max(1, cores)),
                    "spark.ui.enabled": "false",
                    # a report's many short queries each generate new classes: the JVM's
                    # optimising compiler cost more CPU than it saved (a third of the JVM's
                    # CPU on 40 aggregate queries over 20,000 rows)
                    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"})
        memory = _machine_memory_mb()
        if memory:
            mb = min(_DRIVER_MAX_MB, max(_DRIVER_MIN_MB, int(memory * _DRIVER_SHARE)))
            out["spark.driver.memory"] = f"{mb}m"
    else:
        out["spark.sql.adaptive.coalescePartitions.parallelismFirst"] = "false"
    out.update({str(k): _conf_value(v) for k, v in (conf or {}).items()})
    return out


def _conf_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def connect(engine: str = "duckdb", settings: Mapping[str, Any] | None = None) -> BaseBackend:
    """Open an engine connection with UTC as its time zone.

    Parameters
    ----------
    engine : {"duckdb", "spark"}
        The engine.
    settings : mapping, optional
        The engine's config section (already validated by :mod:`obskit.config`): DuckDB
        ``memory_limit``, ``threads``, ``temp_directory``; Spark ``master``, ``app_name``,
        ``conf``.

    Returns
    -------
    ibis backend
        The open connection.

    Raises
    ------
    ConfigError
        An unknown engine, or a Spark session that cannot be started.
    """
    settings = settings or {}
    if engine == "duckdb":
        return _connect_duckdb(settings)
    if engine == "spark":
        return _connect_spark(settings)
    raise ConfigError(f"config key 'engine': expected one of duckdb, spark, got {engine!r}",
                      key="engine")


def _connect_duckdb(settings: Mapping[str, Any]) -> BaseBackend:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    if settings.get("memory_limit") is not None:
        con.raw_sql(f"SET memory_limit = {quote_literal(str(settings['memory_limit']))}")
    if settings.get("threads") is not None:
        con.raw_sql(f"SET threads = {int(settings['threads'])}")
    if settings.get("temp_directory") is not None:
        con.raw_sql(f"SET temp_directory = {quote_literal(str(settings['temp_directory']))}")
    return con


def _connect_spark(settings: Mapping[str, Any]) -> BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "config key 'engine': engine 'spark' needs PySpark; install it with "
            "pip install 'obskit[spark]' (and Java 17 or later)", key="engine") from exc
    master = str(settings.get("master") or "local[*]")
    builder = SparkSession.builder.master(master).appName(
        str(settings.get("app_name") or "obskit"))
    user = settings.get("conf") or {}
    if SparkSession.getActiveSession() is None:
        conf = spark_conf(master, user)
    else:  # a session started elsewhere (Databricks, a kernel): its resources are its own
        conf = {**SPARK_DEFAULT_CONF, **{str(k): _conf_value(v) for k, v in user.items()}}
    if master.startswith("local"):  # Python workers: this interpreter, not `python3`
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Java missing, bad master URL...
        raise ConfigError(f"config key 'spark.master': cannot start Spark at {master!r}: "
                          f"{exc}", key="spark.master") from exc
    session.sparkContext.setLogLevel(str(settings.get("log_level") or "ERROR"))
    for key, value in conf.items():  # an existing session: apply what can change at runtime
        if not session.conf.isModifiable(key):
            continue
        session.conf.set(key, value)
    return ibis.pyspark.connect(session)


def engine_name(con: BaseBackend) -> str:
    """The engine behind a connection.

    Parameters
    ----------
    con : ibis backend
        An open connection.

    Returns
    -------
    str
        ``"duckdb"`` or ``"spark"``.
    """
    return "spark" if con.name == "pyspark" else con.name


def _arrow_converts_like_ibis(dtype: dt.DataType) -> bool:
    """Types whose pyarrow → pandas conversion is the frame Ibis's ``execute()`` gives
    (for timestamps, after :func:`fetch_frame`'s nanosecond cast of columns with nulls)."""
    return (dtype.is_integer() or dtype.is_floating() or dtype.is_boolean()
            or dtype.is_string() or dtype.is_timestamp())


def fetch_frame(table: ir.Table) -> pd.DataFrame:
    """The rows of ``table`` as a pandas DataFrame: the frame ``table.execute()`` gives,
    fetched faster where the engine allows.

    Ibis's ``execute()`` converts each column through its own pandas type rules; for a
    sample of a few hundred thousand rows that costs more than the query. On DuckDB, a
    table of plain columns (integers, floats, booleans, strings, timestamps) is fetched as
    Arrow and converted by pyarrow in one pass (``split_blocks``, ``self_destruct``): the
    same frame (dtypes included, e.g. a timestamp column with nulls in nanoseconds as Ibis
    gives it), 250,000 rows × 32 columns in 0.3 s instead of 1.1 s (``benchmarks/``).
    Other types (dates, decimals, nested), a column that is all null, and Spark use
    ``execute()``.

    Parameters
    ----------
    table : ibis Table
        Any table expression.

    Returns
    -------
    DataFrame
        One row per row of ``table``, in its order; its columns in its order.
    """
    schema = table.schema()
    if engine_name(ibis.get_backend(table)) != "duckdb" or \
            not all(_arrow_converts_like_ibis(t) for t in schema.types):
        return table.execute()
    arrow = table.to_pyarrow()
    if arrow.num_rows and any(c.null_count == arrow.num_rows for c in arrow.columns):
        return table.execute()  # Ibis types an all-null column its own way; rare
    with_nulls = {name for name, dtype in schema.items()
                  if dtype.is_timestamp() and arrow.column(name).null_count}
    frame = arrow.to_pandas(split_blocks=True, self_destruct=True)
    del arrow
    for name in with_nulls:
        tz = getattr(frame[name].dtype, "tz", None)
        frame[name] = frame[name].astype(pd.DatetimeTZDtype("ns", tz) if tz is not None
                                         else "datetime64[ns]")
    return frame


def materialize(table: ir.Table) -> ir.Table:
    """Compute a table once and keep the result in the engine.

    Parameters
    ----------
    table : ibis Table
        Any expression.

    Returns
    -------
    ibis Table
        The same rows, held as a temporary DuckDB table or a cached Spark view (Ibis's
        ``cache()``, the same call on both).
    """
    return table.cache()


#: hex digits of the MD5 kept: 13 × 4 = 52 bits
_HASH_DIGITS = 13


def stable_hash(text: ir.StringValue) -> ir.StringValue:
    """A deterministic pseudo-random sort key for each value of ``text``: the first 52
    bits of its MD5 as lowercase hex, the same key on every engine.

    The engines' own ``hash()`` functions differ (DuckDB's and Spark's give other
    numbers), so samples drawn by hash would differ between engines; this one does not.
    Fixed-width lowercase hex sorts as the number it spells, so ordering by it is ordering
    by that number, without converting every row's digits (which cost more than the MD5).

    Parameters
    ----------
    text : ibis string expression
        The values to key.

    Returns
    -------
    ibis string expression
        13 lowercase hex digits per value.
    """
    return text.hexdigest("md5").substr(0, _HASH_DIGITS)


def temp_name(prefix: str) -> str:
    """A fresh table name for this process.

    Parameters
    ----------
    prefix : str
        The name's start.

    Returns
    -------
    str
        ``obskit_{prefix}_{n}``, ``n`` counting up in this process.
    """
    return f"obskit_{prefix}_{next(_counter)}"


def quote_ident(name: str) -> str:
    """Quote an SQL identifier.

    Parameters
    ----------
    name : str
        A column or table name.

    Returns
    -------
    str
        The name in double quotes, inner quotes doubled.
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote an SQL string literal.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text in single quotes, inner quotes doubled.
    """
    return "'" + text.replace("'", "''") + "'"
