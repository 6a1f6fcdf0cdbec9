"""Counted nouns in messages: "1 window", "2 windows" — never "1 windows"."""

from __future__ import annotations

__all__ = ["plural", "word"]


def word(count: object, noun: str, many: str | None = None) -> str:
    """The form of ``noun`` that goes with ``count`` (``many``: an irregular plural).

    >>> word(1, "window"), word(2, "window"), word(0, "category", "categories")
    ('window', 'windows', 'categories')
    """
    return noun if count == 1 else (many or noun + "s")


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` (with thousands separators) and the noun that goes with it.

    >>> plural(1, "window"), plural(1200, "more row"), plural(2, "value of the wrong type")
    ('1 window', '1,200 more rows', '2 values of the wrong type')
    """
    if " of " in noun and many is None:  # "value of the wrong type": the head takes -s
        head, _, tail = noun.partition(" of ")
        many = f"{head}s of {tail}"
    return f"{count:,} {word(count, noun, many)}"
