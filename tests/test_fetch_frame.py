"""fetch_frame gives exactly the frame Ibis's execute() gives (values, dtypes, order),
on every column type and null pattern, whichever path it takes."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from obskit.io.engine import fetch_frame


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def _typed(con, rows: int):
    """A DuckDB table of every plain type, with and without nulls, ``rows`` rows."""
    con.raw_sql(f"""
        CREATE OR REPLACE TABLE typed AS
        SELECT i AS "int",
               CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS "int with nulls",
               i::INTEGER AS int32, (i % 100)::TINYINT AS int8,
               i / 7 AS float,
               CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN 'NaN'::DOUBLE
                    ELSE i / 3 END AS "float with nulls",
               i % 2 = 0 AS bool,
               CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS "bool with nulls",
               'v' || i AS string,
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'é"<' || i END AS "string with nulls",
               TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 61 SECOND AS ts_utc,
               CASE WHEN i % 3 = 0 THEN NULL ELSE
                    TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 HOUR END
                    AS "ts_utc with nulls",
               TIMESTAMP '2024-01-01' + i * INTERVAL 1 MINUTE AS ts_naive,
               CASE WHEN i % 2 = 0 THEN NULL ELSE TIMESTAMP '2024-01-01' END
                    AS "ts_naive with nulls",
               (TIMESTAMP '2024-01-01' + i * INTERVAL 1 MINUTE)::TIMESTAMP_NS AS ts_ns,
               (TIMESTAMP '2024-01-01' + i * INTERVAL 1 MINUTE)::TIMESTAMP_S AS ts_s,
               CASE WHEN i % 2 = 0 THEN NULL ELSE
                    (TIMESTAMP '2024-01-01')::TIMESTAMP_MS END AS "ts_ms with nulls"
        FROM range({rows}) t(i) ORDER BY i""")
    return con.table("typed")


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 1000])
def test_equals_execute_on_every_plain_type(con, rows):
    table = _typed(con, rows)
    expected = table.execute()
    got = fetch_frame(table)
    pd.testing.assert_frame_equal(got, expected, check_dtype=True)
    assert list(got.columns) == list(table.columns)


def test_an_expression_with_order_and_limit(con):
    table = _typed(con, 1000)
    expr = table.filter(table.int % 5 == 0).order_by(ibis.desc("int")).limit(17)
    pd.testing.assert_frame_equal(fetch_frame(expr), expr.execute(), check_dtype=True)


def test_other_types_take_ibis_path(con):
    con.raw_sql("""CREATE OR REPLACE TABLE other AS
        SELECT DATE '2024-01-01' + i::INTEGER AS day, (i / 3)::DECIMAL(10, 2) AS money,
               [i, i + 1] AS pair
        FROM range(5) t(i)""")
    table = con.table("other")
    pd.testing.assert_frame_equal(fetch_frame(table), table.execute(), check_dtype=True)


def test_a_pandas_table_with_awkward_names(con):
    frame = pd.DataFrame({"a b": [1.5, np.nan], "select": ["x", None], "Ünï": [True, False]})
    table = ibis.memtable(frame)
    pd.testing.assert_frame_equal(fetch_frame(table), table.execute(), check_dtype=True)
