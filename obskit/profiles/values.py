"""Engine values as JSON-friendly Python scalars (what a result record holds).

An engine row gives numpy and pandas scalars (``numpy.int64``, ``pandas.Timestamp``,
``NaN``); a record holds ``int``, ``float``, ``bool``, ``str``, ISO-8601 text or None.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from obskit._format import finite

__all__ = ["iso", "plain"]


def iso(ts: Any) -> str | None:
    """A moment as ISO-8601 UTC text with a ``Z``.

    Parameters
    ----------
    ts : Any
        A datetime, ``pandas.Timestamp``, ``numpy.datetime64`` or ISO text (naive: UTC).

    Returns
    -------
    str or None
        None for a missing value (None, NaN, NaT).
    """
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or pd.isna(ts):
        return None
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return str(ts.isoformat()).replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """A JSON-friendly scalar: None for missing, bool, int, ISO time, str, or a finite
    float (None for a non-finite one or a value that is none of these).

    Parameters
    ----------
    value : Any
        One value of an engine row.

    Returns
    -------
    None, bool, int, str or float
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return iso(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return value if isinstance(value, str) else finite(value)
