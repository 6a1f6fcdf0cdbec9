"""Validation helpers shared by every section parser: each mistake names its key.

Used by the parsers of :mod:`obskit.config` and by any module that validates a
config-like mapping of its own (errors read ``config key 'section.key': expected ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obskit.exceptions import ConfigError

__all__ = ["expect", "check_keys", "resolve_path"]


def expect(cond: bool, key: str, expected: str, got: Any) -> None:
    """Raise unless ``cond`` holds, naming ``key`` and what was expected.

    Parameters
    ----------
    cond : bool
        Whether the value is acceptable.
    key : str
        The dotted config key (``section.key``), also the error's ``key``.
    expected : str
        What the key takes, for the reader ("a positive integer").
    got : Any
        The value found (shown with ``repr``).

    Raises
    ------
    ConfigError
        ``config key 'KEY': expected EXPECTED, got GOT`` when ``cond`` is false.
    """
    if not cond:
        raise ConfigError(f"config key {key!r}: expected {expected}, got {got!r}", key=key)


def check_keys(mapping: Any, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    """``mapping`` itself, after checking it is a mapping with only ``allowed`` keys.

    Parameters
    ----------
    mapping : Any
        The section as read from YAML.
    allowed : tuple of str
        Its known keys (listed in the error).
    where : str
        The section's dotted key (``""``: the top level).

    Returns
    -------
    Mapping
        ``mapping``, unchanged.

    Raises
    ------
    ConfigError
        When ``mapping`` is not a mapping, or has a key not in ``allowed`` (the error names
        ``where.key`` and lists the known keys).
    """
    expect(isinstance(mapping, Mapping), where or "config", "a mapping", mapping)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else str(unknown[0])
        raise ConfigError(
            f"unknown config key {key!r}; known keys{' of ' + where if where else ''}: "
            + ", ".join(allowed),
            key=key,
        )
    return mapping


def resolve_path(value: Any, key: str, base: Path) -> str | None:
    """A path-valued key made absolute against ``base`` (a glob: its text joined only).

    Parameters
    ----------
    value : Any
        The value found (None: not set).
    key : str
        The dotted config key, for the error.
    base : Path
        The folder relative paths are taken from.

    Returns
    -------
    str or None
        The absolute path (None when ``value`` is None).

    Raises
    ------
    ConfigError
        When ``value`` is not a non-empty string.
    """
    if value is None:
        return None
    expect(isinstance(value, str) and value != "", key, "a path string", value)
    text = str(value)
    if any(ch in text for ch in "*?["):  # a glob: resolve its directory part only
        return str(base / text) if not Path(text).is_absolute() else text
    return str((base / text).resolve()) if not Path(text).is_absolute() else text
