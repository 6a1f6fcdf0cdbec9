"""What a source reader returns (:class:`RawSource`), shared by the DuckDB readers of
:mod:`obskit.io.sources` and the Spark readers of :mod:`obskit.io.spark_sources`."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis.expr.types as ir

from obskit.io.paths import SkippedFile

__all__ = ["RawSource", "json_columns", "EXCERPT"]

#: Longest excerpt of a bad line kept in the quarantine.
EXCERPT = 200


@dataclass
class RawSource:
    """Rows as read (``table``) and lines the format rejected (``rejects``).

    ``declared_text``: the columns the file declares as text or as categories (Parquet
    string and dictionary columns), as opposed to formats where every value is text (CSV,
    JSON lines): feature inference keeps a declared type (:mod:`obskit.schema`).
    """

    table: ir.Table
    rejects: ir.Table
    files: tuple[str, ...]
    declared_text: frozenset[str] = field(default_factory=frozenset)
    #: columns the writer stored as the data frame's index (pandas), not as data
    index_columns: frozenset[str] = field(default_factory=frozenset)
    #: unfinished log files the source spec matched but that were not read (``.part``)
    unfinished: tuple[SkippedFile, ...] = ()


def json_columns(keys: list[str], nested: list[str]) -> list[tuple[str, bool, str]]:
    """The columns of a JSON-lines source, shared by the DuckDB and Spark readers.

    Parameters
    ----------
    keys : list of str
        The top-level keys found.
    nested : list of str
        The keys found under ``features``.

    Returns
    -------
    list of (str, bool, str)
        ``(name, under features, key)``: top-level keys sorted, then the nested keys (named
        ``features.KEY`` when a top-level key has the same name).
    """
    has_nested = "features" in keys and bool(nested)
    top = sorted(k for k in keys if not (has_nested and k == "features"))
    return [(k, False, k) for k in top] + [
        (k if k not in top else f"features.{k}", True, k) for k in sorted(nested)]
