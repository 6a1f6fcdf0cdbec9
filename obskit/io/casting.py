"""Typing raw log columns for their role, with the rows that fail marked for quarantine.

Each caster returns ``(typed, bad)``: the typed expression, and a boolean expression true
where a present value could not be typed.
"""

from __future__ import annotations

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

__all__ = ["as_number", "as_label_text", "as_boolean", "as_text", "is_blank", "never",
           "normalise_label", "strip_text", "is_infinite", "ISO_DATE", "UTC"]

UTC = "timestamp('UTC')"
#: An ISO-8601 date, optionally with a time of day and an offset (``2024-03-01``,
#: ``2024-03-01 12:30``, ``2024-03-01T12:30:00.5+02:00``).
ISO_DATE = (r"^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*"
            r"([zZ]|[+-]\d{2}(:?\d{2})?)?)?$")
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")


def is_infinite(value: ir.NumericValue) -> ir.BooleanValue:
    """+inf or -inf, as an engine expression.

    Ibis's ``isinf()`` is always false on Spark (its PySpark compiler compares the
    expressions in Python), so the comparison is written out.

    Parameters
    ----------
    value : ibis numeric expression
        Any numeric column.

    Returns
    -------
    ibis boolean expression
        True where ``value`` is ±inf.
    """
    return value.abs() == ibis.literal(float("inf"), "float64")

def strip_text(text: ir.StringValue) -> ir.StringValue:
    """Text without leading and trailing white space.

    A regular expression rather than Ibis's ``strip()``, which on Spark also strips the
    letters ``v`` and ``f`` (Spark SQL reads the escapes ``\\v`` and ``\\f`` in its character
    list as plain letters, so ``"false"`` became ``"alse"``).

    Parameters
    ----------
    text : ibis string expression
        Any text column.

    Returns
    -------
    ibis string expression
        The stripped text.
    """
    return text.re_replace(r"^\s+|\s+$", "")


def is_blank(text: ir.StringValue) -> ir.BooleanValue:
    """Whether text is empty or white space only (``strip_text(text) == ""``), cheaply.

    The regular expression runs only on values whose first character is white space (a
    blank value starts with one, or is empty); every other value is decided by its first
    character, so most values cost no regular expression at all.

    Parameters
    ----------
    text : ibis string expression
        Any text column.

    Returns
    -------
    ibis boolean expression
        True where empty or blank (false where null).
    """
    return ibis.cases((text.length() == 0, True),
                      (text.ascii_str() <= 32, text.re_search(r"^\s*$")),
                      else_=False)


def never(bad: ir.BooleanValue) -> bool:
    """Whether a caster's ``bad`` expression is the constant false (a native column of the
    right type: nothing to check, so nothing to quarantine).

    Parameters
    ----------
    bad : ibis boolean expression
        The second value a caster returns.

    Returns
    -------
    bool
        True when ``bad`` is the literal ``False``.
    """
    op = bad.op()
    return isinstance(op, ops.Literal) and op.value is False


def as_number(col: ir.Value) -> tuple[ir.FloatingValue, ir.BooleanValue]:
    """Float64 of a raw column; text that does not parse as a number is bad.

    Parameters
    ----------
    col : ibis expression
        The raw column (numbers, booleans or text).

    Returns
    -------
    typed : ibis float expression
        The numbers (booleans as 0/1).
    bad : ibis boolean expression
        True where present, non-empty text does not parse.
    """
    if col.type().is_numeric():
        return col.cast("float64"), ibis.literal(False)
    if col.type().is_boolean():
        return col.cast("int64").cast("float64"), ibis.literal(False)
    text = strip_text(col.cast("string"))
    typed = text.try_cast("float64")
    return typed, text.notnull() & (text != "") & typed.isnull()


def as_text(col: ir.Value) -> ir.StringValue:
    """Text, with empty strings as missing.

    Parameters
    ----------
    col : ibis expression
        The raw column.

    Returns
    -------
    ibis string expression
        The text; null where empty or blank.
    """
    text = col.cast("string")
    if not col.type().is_string():  # a number, boolean or time written as text: never blank
        return text
    return ibis.ifelse(is_blank(text), ibis.null("string"), text)


def as_boolean(col: ir.Value) -> tuple[ir.BooleanValue, ir.BooleanValue]:
    """Boolean from booleans, 0/1 or true/false/yes/no text.

    Parameters
    ----------
    col : ibis expression
        The raw column.

    Returns
    -------
    typed : ibis boolean expression
        The booleans.
    bad : ibis boolean expression
        True where present, non-empty text is none of the accepted words.
    """
    if col.type().is_boolean():
        return col, ibis.literal(False)
    text = strip_text(col.cast("string")).lower()
    typed = ibis.cases((text.isin(_TRUE), True), (text.isin(_FALSE), False),
                       else_=ibis.null("boolean"))
    return typed, text.notnull() & (text != "") & typed.isnull()


def as_label_text(col: ir.Value) -> ir.StringValue:
    """Class labels as canonical text: whole numbers without ``.0``, booleans as 1/0.

    So ``1``, ``1.0``, ``"1"`` and ``true`` all become ``"1"``, whatever the source format.
    NaN (a float NaN, or text such as ``"nan"``) is a missing label: null, like a blank.

    Parameters
    ----------
    col : ibis expression
        The raw label or prediction column.

    Returns
    -------
    ibis string expression
        The canonical label text.
    """
    if col.type().is_boolean():
        return ibis.ifelse(col, "1", "0")
    if col.type().is_integer():  # whole numbers already: their text is the canonical one
        return col.cast("string")
    if col.type().is_string():
        stripped = strip_text(col)
        text = ibis.ifelse(stripped == "", ibis.null("string"), stripped)
        lowered = text.lower()
    else:  # a number's text: never blank, never padded, never true/false
        text = col.cast("string")
        lowered = ibis.null("string")
    number = text.try_cast("float64")
    # try_cast, not floor()/cast (which Ibis compiles to an int64 cast): the engine may
    # cast every row before a condition picks it, and NaN, ±inf or 1e20 ("nan" is a text
    # label like any other) do not fit an int64
    whole = number.try_cast("int64")
    integral = whole.notnull() & (whole.cast("float64") == number) & (number.abs() < 1e15)
    return ibis.cases(
        (lowered.isin(("true",)), "1"),
        (lowered.isin(("false",)), "0"),
        # NaN is no class: a missing label (a JSON null read as a float, or "nan" text)
        (number.isnan(), ibis.null("string")),
        (integral, whole.cast("string")),
        else_=text,
    )


def normalise_label(value: object) -> str:
    """The canonical text of a label given in Python (mirrors :func:`as_label_text`).

    Parameters
    ----------
    value : object
        A label (``1``, ``1.0``, ``"yes"``, ``True``...).

    Returns
    -------
    str
        ``"1"``/``"0"`` for booleans and true/false, integral numbers without ``.0``, other
        text stripped.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return "1" if text.lower() == "true" else "0"
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else text
