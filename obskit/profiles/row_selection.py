"""The rows of each window that come back to Python for the row anomalies: the most
severe ones and a deterministic sample (:func:`select_rows`), in one ranking pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.io.engine import engine_name, fetch_frame, materialize
from obskit.profiles._common import W
from obskit.profiles.row_anomaly_reasons import Reason

__all__ = ["PARTIAL", "complete_rows", "select_rows"]

#: the columns that mark a row whose other columns :func:`complete_rows` fetches
PARTIAL = ("_partial", "_row_file", "_row_line")

#: the columns that identify a row of a loaded log (its file and line)
_ROW_ID = ("_file", "_line")


def select_rows(table: ir.Table, reasons: Sequence[Reason], columns: Sequence[str], *,
                top: int, sample: int, key: ir.StringValue,
                sample_columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per window: the most severe rows and a deterministic sample.

    The windows are ranked on a narrow table (window, key, severity and the row's file
    and line): the sorts carry a few columns, not every column and reason. The kept rows
    then come back in two parts: those with a reason, with every flag and severity, and
    the sampled rows without one, whose flags are all false and severities 0 (filled in
    here, not sent), with only ``sample_columns`` when given (the other columns then hold
    placeholders until :func:`complete_rows` fetches them for the rows a caller keeps). A
    table without ``_file`` and ``_line``, or on Spark (where every query is a job), is
    ranked whole, in one query.

    Parameters
    ----------
    table : ibis Table
        A typed log with ``window_index``.
    reasons : sequence of Reason
        From :func:`~obskit.profiles.row_anomaly_reasons.row_reasons`.
    columns : sequence of str
        The columns returned.
    top : int
        The rows of highest engine severity (> 0) kept per window.
    sample : int
        The rows of smallest ``key`` kept per window.
    key : ibis string expression
        The sample key (:func:`~obskit.profiles.row_anomaly_reasons.row_hash`).
    sample_columns : sequence of str, optional
        The columns the sampled rows without a reason need now (default: ``columns``).

    Returns
    -------
    DataFrame
        Columns ``window_index``, ``columns``, ``_severity`` (engine severity), ``_key``,
        ``_sampled`` (the row is in the sample), ``_a0…`` (each reason's flag) and ``_s0…``
        (each reason's severity, 0 where it does not hold), sorted by window and key; with
        ``sample_columns``, also :data:`PARTIAL` (``_partial``: the row's other columns are
        placeholders; ``_row_file``, ``_row_line``: where it is).
    """
    flags = {f"_a{i}": r.flag for i, r in enumerate(reasons)}
    flags.update({f"_s{i}": r.severity for i, r in enumerate(reasons)})
    wide = table.mutate(_key=key, **flags)
    # the sum of the severity columns, not of their expressions again: each expression is
    # written once in the query (Spark's planner slows badly on repeated large expressions)
    wide = wide.mutate(_severity=sum((wide[f"_s{i}"] for i in range(len(reasons))),
                                     ibis.literal(0.0)))
    returned = [W, *columns, "_severity", "_key", "_sampled", *flags]
    # on Spark each extra query costs a job: one query (measured on the 200k demo: 9.3 s
    # whole, 11.8 s in parts); DuckDB gains from the narrow sorts
    if set(_ROW_ID) <= set(table.columns) and not set(_KEPT) & set(table.columns) and \
            engine_name(ibis.get_backend(table)) == "duckdb":
        flagged = ibis.literal(False)
        for i in range(len(reasons)):
            flagged = flagged | wide[f"_a{i}"]
        narrow = wide.select(W, *_ROW_ID, "_key", "_severity", _flagged=flagged)
        kept = materialize(_ranked(narrow, top=top, sample=sample).select(
            _kept_file="_file", _kept_line="_line", _kept_sampled="_sampled",
            _kept_flagged="_flagged"))
        try:
            if _unique_rows(kept):
                light = [c for c in columns if sample_columns is None or c in sample_columns]
                ids = dict(zip(PARTIAL[1:], _ROW_ID, strict=True)) \
                    if len(light) < len(columns) else {}
                full = _joined(wide, kept, flagged=True, columns=returned, ids=ids)
                rest = _joined(table.mutate(_key=key), kept, flagged=False,  # no reasons
                               columns=[W, *light, "_key", "_sampled"], ids=ids)
                return _stacked(full, _unflagged(rest, full, reasons), partial=bool(ids))
        finally:
            kept.release()
    out = fetch_frame(_ranked(wide, top=top, sample=sample).select(*returned))
    return out.sort_values([W, "_key"], kind="stable").reset_index(drop=True)


#: the columns of the kept rows' table (a log holding one is ranked whole)
_KEPT = ("_kept_file", "_kept_line", "_kept_sampled", "_kept_flagged")


def _ranked(t: ir.Table, *, top: int, sample: int) -> ir.Table:
    """The rows of ``t`` (with ``_key``, ``_severity``) in their window's sample or among
    its ``top`` most severe, with ``_sampled``."""
    t = t.mutate(_srank=ibis.row_number().over(group_by=W, order_by=t._key))
    # the severity rank over the rows left once the unsampled severity-0 rows are gone:
    # those rank after every row of severity > 0, so the ranks of the rows it keeps are
    # the ranks over the whole window (one window sort over the whole table, not two)
    t = t.filter((t._severity > 0) | (t._srank < sample))
    t = t.mutate(
        _rank=ibis.row_number().over(group_by=W, order_by=[ibis.desc(t._severity), t._key]))
    t = t.filter(((t._severity > 0) & (t._rank < top)) | (t._srank < sample))
    return t.mutate(_sampled=t._srank < sample)


def _unique_rows(kept: ir.Table) -> bool:
    """Whether file and line name one kept row each (a log read from files: always)."""
    ids = kept.select("_kept_file", "_kept_line").distinct()
    return int(kept.count().execute()) == int(ids.count().execute())


def _joined(wide: ir.Table, kept: ir.Table, *, flagged: bool, columns: list[str],
            ids: dict[str, str]) -> pd.DataFrame:
    """The kept rows with (or without) a reason: their ``columns``, and ``ids`` (new
    name → column) when asked."""
    rows = kept.filter(kept._kept_flagged == flagged)
    rows = wide.inner_join(rows, [wide._file == rows._kept_file, wide._line == rows._kept_line])
    rows = rows.mutate(_sampled=rows._kept_sampled)
    return fetch_frame(rows.select(*columns, **{k: rows[v] for k, v in ids.items()}))


def _stacked(full: pd.DataFrame, rest: pd.DataFrame, *, partial: bool) -> pd.DataFrame:
    """Both parts in one frame sorted by window and key; ``_partial`` marks ``rest``."""
    if partial:  # before the concatenation, in place: no copy of a frame
        full[PARTIAL[0]] = np.zeros(len(full), bool)
        rest[PARTIAL[0]] = np.ones(len(rest), bool)
    out = pd.concat([full, rest], ignore_index=True)
    # the order from the two sort columns alone, then one take (no copy of the whole
    # frame per step)
    keys = pd.DataFrame({"w": out[W].to_numpy(), "k": out["_key"].to_numpy()})
    out = out.take(keys.sort_values(["w", "k"], kind="stable").index.to_numpy())
    out.index = pd.RangeIndex(len(out))
    return out


def _unflagged(rows: pd.DataFrame, like: pd.DataFrame, reasons: Sequence[Reason]
               ) -> pd.DataFrame:
    """Kept rows without a reason, in ``like``'s columns: every flag false, every
    severity 0 (what the engine gives such a row); a column not fetched holds ``like``'s
    first value (its type kept; :func:`complete_rows` replaces it) or None."""
    n = len(rows)
    zeros = {"_severity": 0.0, **{f"_a{i}": False for i in range(len(reasons))},
             **{f"_s{i}": 0.0 for i in range(len(reasons))}}
    filled = {k: np.full(n, v, dtype=bool if isinstance(v, bool) else "float64")
              for k, v in zeros.items()}
    data: dict[str, Any] = {}
    for c in like.columns:
        if c in rows:
            data[c] = rows[c]
        elif c in filled:
            data[c] = filled[c]
        else:
            data[c] = (like[c].iloc[np.zeros(n, dtype=np.intp)].set_axis(rows.index)
                       if len(like) else np.full(n, None, dtype=object))
    return pd.DataFrame(data, index=rows.index, copy=False)


def complete_rows(table: ir.Table, rows: pd.DataFrame, columns: Sequence[str]
                  ) -> pd.DataFrame:
    """``rows`` from :func:`select_rows` (a subset of them) with the ``columns`` of its
    partial rows fetched (one query, by file and line), and without :data:`PARTIAL`.

    Parameters
    ----------
    table : ibis Table
        The table the rows were selected from.
    rows : DataFrame
        Rows of :func:`select_rows`'s result, with :data:`PARTIAL` when it has them.
    columns : sequence of str
        The columns the partial rows lack.

    Returns
    -------
    DataFrame
        ``rows``, in their order and index.
    """
    if PARTIAL[0] not in rows:
        return rows
    partial = rows[PARTIAL[0]].to_numpy(dtype=bool)
    out = rows.drop(columns=list(PARTIAL))
    if not partial.any() or not columns:
        return out
    where = pd.DataFrame({"_want_file": rows[PARTIAL[1]].to_numpy()[partial],
                          "_want_line": rows[PARTIAL[2]].to_numpy()[partial].astype("int64")})
    want = ibis.memtable(where)
    got = fetch_frame(table.inner_join(want, [table._file == want._want_file,
                                              table._line == want._want_line])
                      .select("_want_file", "_want_line", *columns))
    got = where.merge(got, on=["_want_file", "_want_line"], how="left")
    if partial.all():
        for c in columns:
            out[c] = got[c].set_axis(out.index)
    else:
        at = out.index[partial]
        for c in columns:
            out.loc[at, c] = got[c].set_axis(at)
    return out
