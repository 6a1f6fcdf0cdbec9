"""The base of every result record, and the conversion between records and JSON values.

A record is a frozen dataclass (``@dataclass(frozen=True, kw_only=True, slots=True)``):
immutable, keyword-built, without a per-instance ``__dict__``. Each field is one key of
``summary.json`` with the same name. Two hidden fields keep a document exactly as it was
read:

- ``extra``: the keys this version does not know (a newer or older writer's), written
  back unchanged, so a key is never lost;
- ``layout``: the document's keys in their order, as read (``()`` for an empty object).
  None (a record built in code): every field is written, in the order the class
  declares them, then ``extra``.

A key missing from an older document takes the field's default and is not written back
(the document stays as it was).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import NoneType, UnionType
from typing import Any, Self, Union, get_args, get_origin, get_type_hints

__all__ = ["Record", "from_json", "to_json"]

#: field names that are not document keys
HIDDEN = frozenset({"extra", "layout"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Record:
    """A result record: typed fields, plus the document keys it does not know."""

    #: keys of the document this class does not know, with their values as read
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: the document's keys in order, as read (None: the declared order)
    layout: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The record of one JSON object (unknown keys land in ``extra``).

        Parameters
        ----------
        data : Mapping[str, Any]
            One object of ``summary.json`` (as parsed, or as built in memory).

        Returns
        -------
        Self
            The record; keys that are missing take the field defaults.
        """
        hints = _hints(cls)
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in hints and key not in HIDDEN:
                kwargs[key] = from_json(hints[key], value)
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra, layout=tuple(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this record: its keys in the order read, values as JSON
        values (lists, dicts, scalars; ``None`` for null).

        Returns
        -------
        dict[str, Any]
            A new dict (changing it does not change the record).
        """
        names = [f.name for f in fields(self) if f.name not in HIDDEN]
        keys = self.layout if self.layout is not None else (*names, *self.extra)
        out: dict[str, Any] = {}
        for key in keys:
            if key in names:
                out[key] = to_json(getattr(self, key))
            elif key in self.extra:
                out[key] = to_json(self.extra[key])
        return out


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a record class (computed once per class)."""
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def from_json(tp: Any, value: Any) -> Any:
    """``value`` (a JSON value) as the type ``tp``: records from objects, tuples from
    lists, mappings with their keys as ``tp`` says (``int`` keys from JSON's text keys).
    A value that does not fit ``tp`` is kept as it is."""
    if value is None or tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, UnionType):
        options = [a for a in get_args(tp) if a is not NoneType]
        return from_json(options[0], value) if len(options) == 1 else value
    if isinstance(tp, type) and is_dataclass(tp) and issubclass(tp, Record):
        return tp.from_dict(value) if isinstance(value, Mapping) else value
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "item_type"):
        if not isinstance(value, (list, tuple)):
            return value
        return tp(from_json(tp.item_type, v) for v in value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return value
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], v) for v in value)
        if len(args) == len(value):
            return tuple(from_json(a, v) for a, v in zip(args, value, strict=True))
        return tuple(value)
    if origin in (Mapping, dict) or (origin is not None and _is_mapping(origin)):
        if not isinstance(value, Mapping):
            return value
        key_type, value_type = get_args(tp) or (Any, Any)
        return {_key(key_type, k): from_json(value_type, v) for k, v in value.items()}
    return value


def _is_mapping(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _key(tp: Any, key: Any) -> Any:
    if tp is int and isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            return key
    return key


def to_json(value: Any) -> Any:
    """``value`` as a JSON value: records as dicts, tuples as lists, mappings as dicts with
    text keys (an integer key, such as a window index, is written as JSON writes it, so
    ``to_dict()`` equals the document read back from the file)."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: to_json(v)
                for k, v in value.items()}
    return value
