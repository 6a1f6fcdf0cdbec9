"""What every fitted monitor shares."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from obskit.exceptions import NotFittedError
from obskit.profiles import W


def check_fitted(monitor: Any, attr: str) -> None:
    if not hasattr(monitor, attr):
        raise NotFittedError(
            f"{type(monitor).__name__} is not fitted; call fit(reference) first"
        )


def with_window(table: ir.Table) -> ir.Table:
    return table if W in table.columns else table.mutate(window_index=0)
