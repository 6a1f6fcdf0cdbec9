"""How numbers, rates, durations and times read in every report, page and finding.

Foundation module (anyone may import it): one home for "a finite number or nothing"
and for the text a number is shown as. Every formatter returns ``"n/a"`` for a missing,
non-finite or non-numeric value and never raises.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

__all__ = ["finite", "json_safe", "fmt_int", "fmt_metric", "fmt_ms", "fmt_num", "fmt_pct",
           "fmt_time", "parse_time"]


def finite(value: Any) -> float | None:
    """A finite float, or ``None`` for null, NaN, infinities, booleans and non-numbers.

    Parameters
    ----------
    value : Any
        A Python, numpy or ``Decimal`` number, or anything else (read from
        ``summary.json`` or an engine row).

    Returns
    -------
    float or None
        ``float(value)`` when it is a real, finite, non-boolean number; strings are not
        numbers here.

    Examples
    --------
    >>> finite(2), finite(float("nan")), finite(True), finite("1")
    (2.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON can hold it: NaN and infinities become null (receivers
    and ``json.loads(..., parse_constant=...)`` reject them), mappings and sequences are
    converted throughout, other odd types (dates, paths, numpy scalars) become strings.

    >>> json_safe({"a": float("nan"), "b": (1, "x")})
    {'a': None, 'b': [1, 'x']}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string as a naive UTC datetime (``None`` when it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def fmt_time(value: Any) -> str:
    """``2026-11-09`` at midnight, else ``2026-11-09 13:00`` (unescaped; may echo input).

    Examples
    --------
    >>> fmt_time("2026-11-09T13:00:00Z"), fmt_time("2026-11-09T00:00:00Z"), fmt_time(None)
    ('2026-11-09 13:00', '2026-11-09', 'n/a')
    """
    parsed = parse_time(value)
    if parsed is None:
        return "n/a" if value is None else str(value)
    if (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
        return parsed.strftime("%Y-%m-%d")
    return parsed.strftime("%Y-%m-%d %H:%M")


def fmt_int(value: Any) -> str:
    """A count with thousands separators: ``12345.0`` → ``12,345``."""
    v = finite(value)
    return "n/a" if v is None else f"{v:,.0f}"


def fmt_ms(value: Any) -> str:
    """Milliseconds, whole: ``412.6`` → ``413 ms``."""
    v = finite(value)
    return "n/a" if v is None else f"{v:,.0f} ms"


def fmt_pct(value: Any) -> str:
    """A rate (0–1) as a percentage: ``0.1056`` → ``10.6%``, small rates keep 2 decimals."""
    v = finite(value)
    if v is None:
        return "n/a"
    return f"{v:.2%}" if 0 < abs(v) < 0.01 else f"{v:.1%}"


def fmt_num(value: Any) -> str:
    """Three significant digits: ``0.76529`` → ``0.765``, ``58.367`` → ``58.4``; from 1000
    on, whole with thousands separators (``12,345``)."""
    v = finite(value)
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def fmt_metric(metric: Any, value: Any) -> str:
    """A value the way its metric reads: ``*_ms`` in ms; error rates, probe pass rates,
    drift shares, label coverage and ``data_quality.*`` as percentages; anything else by
    :func:`fmt_num`."""
    name = str(metric or "")
    if name.endswith("_ms"):
        return fmt_ms(value)
    if name.endswith("error_rate") or name.endswith("drift_share") \
            or name.endswith("pass_rate") \
            or name.endswith("label_coverage") or name.startswith("data_quality."):
        return fmt_pct(value)
    return fmt_num(value)
