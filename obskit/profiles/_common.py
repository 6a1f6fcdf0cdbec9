"""Helpers shared by the window profiles."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

W = "window_index"


def clean_numeric(table: ir.Table, col: str) -> ir.Table:
    """Rows where ``col`` is a finite number."""
    c = table[col]
    return table.filter(c.notnull() & ~c.isnan() & ~c.isinf())


def window_overview(table: ir.Table) -> pd.DataFrame:
    """Rows, first and last timestamp, label coverage and mean score per window."""
    aggs = {"rows": table.count(), "first": table.timestamp.min(), "last": table.timestamp.max()}
    if "label" in table.columns:
        aggs["labelled"] = table.label.notnull().sum()
    if "score" in table.columns:
        aggs["mean_score"] = table.score.mean()
    return table.group_by(W).aggregate(**aggs).order_by(W).execute()
