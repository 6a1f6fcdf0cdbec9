"""Counted nouns: "1 window", never "1 windows"."""

from __future__ import annotations

import pytest

from obskit._text import plural, word


@pytest.mark.parametrize(("count", "noun", "want"), [
    (0, "window", "0 windows"), (1, "window", "1 window"), (2, "window", "2 windows"),
    (1, "value of the wrong type", "1 value of the wrong type"),
    (3, "value of the wrong type", "3 values of the wrong type"),
    (1200, "row", "1,200 rows"), (1, "non-finite value", "1 non-finite value"),
    (9, "more feature", "9 more features"),
])
def test_plural(count, noun, want):
    assert plural(count, noun) == want


def test_irregular_plural_and_verbs():
    assert plural(2, "category", "categories") == "2 categories"
    assert (word(1, "is", "are"), word(4, "is", "are")) == ("is", "are")
