"""What a Parquet file's own metadata says: its schema (to read files of one schema in
one scan), its dictionary (category) columns and the index columns pandas wrote."""

from __future__ import annotations

from collections.abc import Sequence

from obskit.io.paths import format_of

__all__ = ["dictionary_columns", "pandas_index_columns", "schema_runs"]

#: columns of a scan that obskit adds or DuckDB provides: a file holding one is read alone
_SCAN_COLUMNS = frozenset({"filename", "file_row_number", "_file", "_line"})


def _fields(path: str) -> tuple[tuple[str, str], ...] | None:
    """The file's columns as (name, Arrow type), None when it is not a readable Parquet
    file or holds a column named like one of the scan's own."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:  # noqa: BLE001  (read alone: the reader names the file and the fault)
        return None
    fields = tuple((f.name, str(f.type)) for f in schema)
    return None if _SCAN_COLUMNS & {name for name, _ in fields} else fields


def schema_runs(files: Sequence[str]) -> list[list[str]]:
    """``files`` cut into runs, in order: consecutive Parquet files with the same columns
    (names and Arrow types, in order) share a run; every other file is a run of its own.

    Parameters
    ----------
    files : sequence of str
        Local paths, in the order they are read.

    Returns
    -------
    list of list of str
        The runs; concatenated, ``files`` again.

    Examples
    --------
    >>> schema_runs(["a.jsonl", "b.csv"])
    [['a.jsonl'], ['b.csv']]
    """
    runs: list[list[str]] = []
    last: tuple[tuple[str, str], ...] | None = None
    for path in files:
        fields = _fields(path) if format_of(path) == "parquet" else None
        if fields is not None and fields == last:
            runs[-1].append(path)
        else:
            runs.append([path])
        last = fields
    return runs


def pandas_index_columns(path: str) -> set[str]:
    """The columns pandas stored as the index of the frame it wrote (``__index_level_0__``
    and named indexes), from the file's metadata; empty when there is none."""
    import json

    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata.metadata or {}
        names = json.loads(meta[b"pandas"]).get("index_columns", []) if b"pandas" in meta \
            else []
        return {n for n in names if isinstance(n, str)}  # a RangeIndex is a dict: no column
    except Exception:  # noqa: BLE001
        return set()


def dictionary_columns(path: str) -> set[str]:
    """The columns a Parquet file's writer declared as categories: dictionary fields of
    the Arrow schema it stored, and pandas ``category`` columns. Empty when unreadable (the
    engine read the data; this metadata is a bonus)."""
    import base64
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata.metadata or {}
        out: set[str] = set()
        if b"ARROW:schema" in meta:
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(meta[b"ARROW:schema"])))
            out |= {f.name for f in schema if pa.types.is_dictionary(f.type)}
        if b"pandas" in meta:
            out |= {c["name"] for c in json.loads(meta[b"pandas"]).get("columns", [])
                    if c.get("pandas_type") == "categorical" and isinstance(c.get("name"), str)}
        return out
    except Exception:  # noqa: BLE001
        return set()
