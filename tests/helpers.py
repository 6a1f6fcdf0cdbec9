"""Shared helpers for tests: small engine tables from pandas frames."""

from __future__ import annotations

import functools

import pandas as pd

from obskit.io.engine import connect, temp_name


@functools.cache
def shared_connection():
    """One engine connection for the helper tables, so they can be joined."""
    return connect()


def engine_table(frame: pd.DataFrame, con=None):
    """An engine table holding ``frame`` (with ``window_index`` if the frame has it)."""
    con = con or shared_connection()
    return con.create_table(temp_name("test"), frame, temp=True)
