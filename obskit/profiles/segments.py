"""Segments: the values of ``model_version`` (or configured columns) that split the logs.

Every finding is also computed per segment. A segment with fewer than
``min_segment_rows`` rows is listed as ``insufficient_data`` and not analysed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from obskit.config import Config
from obskit.exceptions import ConfigError
from obskit.schema import visible_columns

__all__ = ["Segment", "segment_columns", "find_segments", "MAX_SEGMENT_VALUES", "segment_label",
           "segment_key"]

#: At most this many values per segment column are analysed (the most frequent ones).
MAX_SEGMENT_VALUES = 20


def segment_label(column: object, value: object) -> str:
    """How one segment reads everywhere: ``column=value``.

    Parameters
    ----------
    column : object
        The segment column.
    value : object
        Its value (shown with ``str``).

    Returns
    -------
    str

    Examples
    --------
    >>> segment_label("model_version", "v2")
    'model_version=v2'
    """
    return f"{column}={value}"


def segment_key(segment: Mapping[Any, Any] | None) -> str:
    """An alert's ``segment`` mapping as one stable string: ``col=value`` pairs sorted by
    column, joined by commas; ``""`` for the whole log (``None`` or empty).

    Parameters
    ----------
    segment : Mapping or None
        ``{column: value}`` as alerts carry it in ``summary.json``.

    Returns
    -------
    str

    Examples
    --------
    >>> segment_key({"region": "eu", "model_version": "v2"})
    'model_version=v2,region=eu'
    >>> segment_key(None)
    ''
    """
    if not segment:
        return ""
    return ",".join(segment_label(k, v) for k, v in sorted(dict(segment).items()))


@dataclass(frozen=True)
class Segment:
    """One segment: ``column == value`` in the current logs."""

    column: str
    value: str
    rows: int
    enough: bool

    def filter(self, table: ir.Table) -> ir.Table:
        """The rows of a table in this segment.

        Parameters
        ----------
        table : ibis Table
            A typed log holding the segment's column.

        Returns
        -------
        ibis Table
            The rows whose column has the segment's value.
        """
        return table.filter(table[self.column].cast("string") == self.value)

    @property
    def label(self) -> str:
        """The segment's label (:func:`segment_label`).

        Returns
        -------
        str
            ``column=value``.
        """
        return segment_label(self.column, self.value)


def segment_columns(config: Config, columns: list[str]) -> list[str]:
    """The columns a run is segmented by.

    Parameters
    ----------
    config : Config
        The validated config (``segments``).
    columns : list of str
        The log's columns.

    Returns
    -------
    list of str
        The configured segment columns; without a ``segments`` key, ``["model_version"]``
        when the logs carry it (else none).

    Raises
    ------
    ConfigError
        A configured column the logs lack.
    """
    if config.segments is None:
        return ["model_version"] if "model_version" in columns else []
    missing = [c for c in config.segments if c not in columns]
    if missing:
        raise ConfigError(
            f"config key 'segments': column {missing[0]!r} is not in the logs; "
            f"columns: {', '.join(visible_columns(columns))}", key="segments")
    return list(config.segments)


def find_segments(table: ir.Table, columns: list[str], *, min_rows: int) -> list[Segment]:
    """The segments of a table: per column, its most frequent values (from the engine).

    Parameters
    ----------
    table : ibis Table
        The typed current log.
    columns : list of str
        The segment columns.
    min_rows : int
        The fewest rows a segment needs.

    Returns
    -------
    list of Segment
        Per column with at least two values, its :data:`MAX_SEGMENT_VALUES` most frequent
        values (most frequent first, ties by value so that every run agrees), each marked
        ``enough`` when it has ``min_rows`` rows.
    """
    segments = []
    for col in columns:
        values = table[col].cast("string")
        counts = (table.filter(values.notnull()).group_by(value=values)
                  .aggregate(rows=ibis._.count())
                  .order_by([ibis.desc("rows"), ibis.asc("value")])
                  .limit(MAX_SEGMENT_VALUES).execute())
        if len(counts) < 2:
            continue  # one value is the whole log: nothing to compare
        segments += [Segment(col, str(r.value), int(r.rows), int(r.rows) >= min_rows)
                     for r in counts.itertuples()]
    return segments
