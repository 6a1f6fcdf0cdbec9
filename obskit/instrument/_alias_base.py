"""What both alias store backends share: a model version, the store protocol, checks.

An *alias* is MLflow's term (https://mlflow.org/docs/latest/model-registry.html): a
mutable, named reference (``champion``, ``challenger``) to one version of a registered
model. The names follow MLflow's rules so that a JSON alias file can move to MLflow as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from obskit.exceptions import ConfigError, InputError

__all__ = ["ModelVersion", "AliasStore", "MODEL_SUFFIXES", "HISTORY_LIMIT", "check_alias",
           "check_model_file", "version_key", "previous_from_history", "rolled_back_from"]

#: model files obskit loads (obskit.io.model): skops, and pickles loaded only when trusted
MODEL_SUFFIXES: tuple[str, ...] = (".skops", ".pkl", ".pickle", ".joblib")
#: alias history entries kept per alias in an MLflow registered-model tag
HISTORY_LIMIT = 50

_ALIAS = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model.

    Attributes
    ----------
    name : str
        The registered model's name.
    version : str
        ``"1"``, ``"2"``, … (a string, as in MLflow).
    source : str
        JSON store: the absolute path of the model file; MLflow: the version's source URI.
    tags : mapping of str to str
        The version's tags.
    """

    name: str
    version: str
    source: str
    tags: Mapping[str, str] = field(default_factory=dict)


class AliasStore(Protocol):
    """A registry of a model's versions and its aliases (see :mod:`obskit.instrument.aliases`)."""

    name: str

    def versions(self) -> list[ModelVersion]: ...  # pragma: no cover
    def get_version(self, version: str) -> ModelVersion: ...  # pragma: no cover
    def get(self, alias: str) -> ModelVersion | None: ...  # pragma: no cover
    def set_alias(self, alias: str, version: str, *,
                  reason: str = "") -> ModelVersion: ...  # pragma: no cover
    def previous(self, alias: str) -> ModelVersion | None: ...  # pragma: no cover
    def register(self, path: str | Path, *,
                 tags: Mapping[str, str] | None = None) -> ModelVersion: ...  # pragma: no cover
    def local_path(self, version: ModelVersion) -> Path: ...  # pragma: no cover


def check_alias(alias: str) -> str:
    """``alias`` if MLflow accepts it as an alias name, else ConfigError.

    MLflow's rules (``mlflow.utils.validation``): alphanumerics, ``_`` and ``-``, at most
    255 characters, and neither ``latest`` nor ``v<number>`` (they name versions).
    """
    if (not isinstance(alias, str) or not _ALIAS.match(alias) or len(alias) > 255
            or alias.lower() == "latest" or _VERSION_ALIAS.match(alias)):
        raise ConfigError(f"alias {alias!r}: an alias is letters, digits, '_' and '-' "
                          "(not 'latest' nor 'v<number>', which name versions)")
    return alias


def check_model_file(path: str | Path) -> Path:
    """The absolute path of a model file that exists and has a suffix obskit loads."""
    p = Path(path).expanduser().absolute()
    if p.suffix.lower() not in MODEL_SUFFIXES:
        raise InputError(f"model file {str(p)!r}: expected one of "
                         f"{', '.join(MODEL_SUFFIXES)}", path=str(p))
    if not p.is_file():
        raise InputError(f"model file {str(p)!r} does not exist", path=str(p))
    return p


def version_key(version: str) -> tuple[int, str]:
    """Sort key of a version string: by number ("10" after "9"), then by text."""
    return (int(version), "") if version.isdigit() else (1 << 62, version)


def rolled_back_from(history: Sequence[Mapping[str, object]], alias: str) -> set[str]:
    """The versions ``alias`` was rolled back from, walking its history in order.

    A move ``A -> B`` where ``B`` had been the alias's version before is a rollback away
    from ``A``: ``A`` is *rolled back from* until a later move points the alias at ``A``
    again. That later move is a deliberate re-promotion (by hand or by a retrain; obskit's
    rollback never picks a version rolled back from), not a rollback of its ``from``.
    """
    seen: set[str] = set()
    rolled: set[str] = set()
    for entry in history:
        if entry.get("alias") != alias or entry.get("to") is None:
            continue
        before, to = entry.get("from"), str(entry.get("to"))
        if before is not None:
            seen.add(str(before))
        if to in rolled:  # pointed at again on purpose: a re-promotion, not a rollback
            rolled.discard(to)
        elif before is not None and to in seen and str(before) != to:
            rolled.add(str(before))
        seen.add(to)
    return rolled


def previous_from_history(history: Sequence[Mapping[str, object]], alias: str,
                          current: str | None, known: Sequence[str]) -> str | None:
    """The version a rollback of ``alias`` moves to: "the previous version".

    Walking the alias's history in order (see :func:`rolled_back_from`), the most recent
    earlier version of the alias that is neither ``current`` nor rolled back from. So a
    second rollback never puts back the version the first one rolled away from: after
    ``2 -> 1`` (by obskit or by hand), version 2 is not "previous" until someone points
    the alias at 2 again.

    When the newest history entry did not lead to ``current`` (no history, or the alias was
    moved by something that keeps none, such as the MLflow UI), the fallback is the highest
    known version below ``current`` that the history does not mark as rolled back from.

    Returns
    -------
    str or None
        None when there is none (or ``current`` is None).
    """
    if current is None:
        return None
    entries = [e for e in history if e.get("alias") == alias and e.get("to") is not None]
    rolled = rolled_back_from(entries, alias)
    if entries and str(entries[-1].get("to")) == current:
        visits: list[str] = []
        for entry in entries:
            before = entry.get("from")
            if before is not None and (not visits or visits[-1] != str(before)):
                visits.append(str(before))  # the first entry, or a move outside obskit
            visits.append(str(entry["to"]))
        for version in reversed(visits):
            if version != current and version not in rolled:
                return version
        return None
    below = [v for v in known if version_key(v) < version_key(current) and v not in rolled]
    return max(below, key=version_key) if below else None
