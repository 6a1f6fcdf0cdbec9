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


def credit_log(start: str, days: int, rows_per_day: int, *, seed: int = 0) -> pd.DataFrame:
    """A binary classifier's log as issue 12 describes it: ``age``, ``income``,
    ``utilization``, ``region``, ``score``, ``prediction``, ``label``, ``latency_ms``,
    ``status``, ``rows_per_day`` rows a day from ``start`` (UTC), healthy and stationary."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = days * rows_per_day
    day = np.repeat(np.arange(days), rows_per_day)
    offset = pd.to_timedelta(day, unit="D") + pd.to_timedelta(
        rng.uniform(0, 86_400, n).round(), unit="s")
    age = rng.integers(18, 80, n).astype(float)
    income = rng.lognormal(10.5, 0.5, n)
    utilization = rng.beta(2, 5, n)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    logit = -1.0 + 3.0 * utilization - 0.00001 * income + 0.01 * (age - 45)
    score = 1 / (1 + np.exp(-logit))
    label = (rng.random(n) < score).astype(int)
    return pd.DataFrame({
        "timestamp": pd.Timestamp(start, tz="UTC") + offset,
        "request_id": [f"r{seed}-{i}" for i in range(n)],
        "age": age, "income": income, "utilization": utilization, "region": region,
        "score": score, "prediction": (score >= 0.5).astype(int), "label": label,
        "latency_ms": rng.lognormal(3.5, 0.3, n), "status": "ok",
    }).sort_values("timestamp", ignore_index=True)
