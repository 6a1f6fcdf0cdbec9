"""Row-level reads the explorer asks for: the rows of one segment, one request's full
row, the quantiles of numeric columns. Each is one engine expression (or one query)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir

from obskit._format import finite
from obskit.io.casting import is_infinite

__all__ = ["segment_rows", "first_row", "numeric_quantiles"]


def segment_rows(table: ir.Table, column: str, value: str) -> ir.Table:
    """The rows of ``table`` whose ``column``, as text, equals ``value``.

    Parameters
    ----------
    table : ibis.Table
    column : str
        A column of ``table``.
    value : str
        The segment's value as text.

    Returns
    -------
    ibis.Table
        An expression (not executed).
    """
    return table.filter(table[column].cast("string") == value)


def first_row(table: ir.Table, column: str, value: str) -> dict[str, Any] | None:
    """The first row whose ``column``, as text, equals ``value`` (one engine query).

    Returns
    -------
    dict or None
        Column → value as the engine returns it (pandas / numpy scalars); ``None`` when
        no row matches.
    """
    rows = segment_rows(table, column, value).limit(1).execute()
    if not len(rows):
        return None
    return {str(k): v for k, v in rows.iloc[0].items()}


def numeric_quantiles(table: ir.Table, columns: Sequence[str],
                      quantiles: Sequence[float]) -> dict[str, dict[float, float]]:
    """Quantiles of numeric columns over their finite values (one engine query).

    Parameters
    ----------
    table : ibis.Table
    columns : sequence of str
        Numeric columns of ``table``.
    quantiles : sequence of float
        Probabilities in [0, 1].

    Returns
    -------
    dict
        Column → {probability → quantile}; a quantile that is not finite (a column
        without finite values) is left out. ``{}`` without columns (no query).
    """
    if not columns:
        return {}
    aggs = {}
    for i, name in enumerate(columns):
        col = table[name].cast("float64")
        ok = col.notnull() & ~col.isnan() & ~is_infinite(col)
        for j, q in enumerate(quantiles):
            aggs[f"q{i}_{j}"] = col.quantile(q, where=ok)
    row = table.aggregate(**aggs).execute().iloc[0]
    out: dict[str, dict[float, float]] = {}
    for i, name in enumerate(columns):
        values = {q: finite(row[f"q{i}_{j}"]) for j, q in enumerate(quantiles)}
        out[name] = {q: v for q, v in values.items() if v is not None}
    return out
