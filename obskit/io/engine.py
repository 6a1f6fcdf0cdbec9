"""Engine connections. DuckDB (embedded) is the default; all findings use Ibis expressions."""

from __future__ import annotations

import itertools

import ibis
from ibis.backends import BaseBackend

from obskit.exceptions import ConfigError

__all__ = ["connect", "temp_name", "quote_ident", "quote_literal"]

_counter = itertools.count()


def connect(engine: str = "duckdb") -> BaseBackend:
    """Open an engine connection with UTC as its time zone."""
    if engine != "duckdb":
        raise ConfigError(f"config key 'engine': expected 'duckdb', got {engine!r}", key="engine")
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def temp_name(prefix: str) -> str:
    """A fresh table name for this process."""
    return f"obskit_{prefix}_{next(_counter)}"


def quote_ident(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
