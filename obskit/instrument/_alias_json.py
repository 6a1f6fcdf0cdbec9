"""A model registry in one JSON file, for teams without MLflow.

The file (``format: obskit-aliases/1``)::

    {"format": "obskit-aliases/1", "model_name": "churn",
     "versions": {"1": {"source": "models/v1.skops", "created": "2026-11-30T22:00:00Z",
                        "tags": {}}},
     "aliases": {"champion": "1"},
     "history": [{"time": "2026-11-30T22:01:00Z", "alias": "champion", "from": null,
                  "to": "1", "reason": "first release"}]}

A relative ``source`` is resolved against the file's folder. Every change is a
read-modify-write under an exclusive :func:`fcntl.flock` on ``<file>.lock``, written to a
temporary file in the same folder and moved over the file with :func:`os.replace`, so a
reader (which takes no lock) always sees a whole file, the old one or the new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit.exceptions import ConfigError, InputError
from obskit.instrument._alias_base import (
    ModelVersion,
    check_alias,
    check_model_file,
    previous_from_history,
    version_key,
)

__all__ = ["JsonAliasStore", "FORMAT"]

#: the ``format`` field of an alias file
FORMAT = "obskit-aliases/1"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items())


class JsonAliasStore:
    """Versions and aliases of one model, kept in a JSON file.

    Parameters
    ----------
    path : str or Path
        The alias file (``.json``); created by the first :meth:`register` when missing.
    model_name : str, optional
        The registered model's name: needed to create the file; when the file exists it
        must match the file's ``model_name``.

    Raises
    ------
    InputError
        The file exists but is not a valid alias file.
    ConfigError
        ``model_name`` differs from the file's.
    """

    def __init__(self, path: str | Path, *, model_name: str | None = None) -> None:
        self.path = Path(path).expanduser().absolute()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self.name: str = model_name or ""
        data = self._read() if self.path.exists() else None
        if data is not None and model_name and model_name != data["model_name"]:
            raise ConfigError(f"alias file {str(self.path)!r} is for model "
                              f"{data['model_name']!r}, not {model_name!r}")
        if data is not None:
            self.name = data["model_name"]

    def __repr__(self) -> str:
        return f"JsonAliasStore({str(self.path)!r}, model_name={self.name!r})"

    # reading ------------------------------------------------------------------------

    def _broken(self, what: str) -> InputError:
        return InputError(f"alias file {str(self.path)!r}: {what}", path=str(self.path))

    def _read(self) -> dict[str, Any]:
        """The file's content, checked; a missing file is an empty registry.

        Text that is not JSON is read again twice, 50 ms apart, before it is an error: an
        editor that writes in place (not obskit, which replaces the file) may be halfway.
        """
        for attempt in range(3):
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return {"format": FORMAT, "model_name": self.name, "versions": {},
                        "aliases": {}, "history": []}
            except OSError as exc:
                raise self._broken(f"cannot be read: {exc}") from exc
            try:
                data = json.loads(text)
                break
            except json.JSONDecodeError as exc:
                if attempt == 2:
                    raise self._broken(f"is not valid JSON ({exc})") from exc
                time.sleep(0.05)
        self._check(data)
        return data

    def _check(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise self._broken("expected a JSON object")
        if data.get("format") != FORMAT:
            raise self._broken(f"'format' must be {FORMAT!r}, got {data.get('format')!r}")
        if not isinstance(data.get("model_name"), str) or not data["model_name"]:
            raise self._broken("'model_name' must be a non-empty string")
        versions = data.get("versions")
        if not isinstance(versions, dict):
            raise self._broken("'versions' must be an object of version -> "
                               "{source, created, tags}")
        for number, entry in versions.items():
            if (not isinstance(entry, dict) or not isinstance(entry.get("source"), str)
                    or not _strings(entry.get("tags", {}))):
                raise self._broken(f"version {number!r} must be an object with a string "
                                   "'source' and string 'tags'")
        aliases = data.get("aliases")
        if not isinstance(aliases, dict) or not _strings(aliases):
            raise self._broken("'aliases' must be an object of alias -> version")
        for alias, number in aliases.items():
            if number not in versions:
                raise self._broken(f"alias {alias!r} points to version {number!r}, which "
                                   "is not in 'versions'")
        history = data.get("history")
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise self._broken("'history' must be a list of objects")

    def _version(self, data: Mapping[str, Any], number: str) -> ModelVersion:
        entry = data["versions"][number]
        source = Path(entry["source"]).expanduser()
        if not source.is_absolute():
            source = self.path.parent / source
        return ModelVersion(name=data["model_name"], version=number, source=str(source),
                            tags=dict(entry.get("tags", {})))

    # writing ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the lock; yield the current content; write it back when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp",
                                           dir=self.path.parent)
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as f:
                        json.dump(data, f, indent=1)
                        f.write("\n")
                        f.flush()
                        os.fsync(f.fileno())
                    os.replace(tmp, self.path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    # the AliasStore API ---------------------------------------------------------------

    def versions(self) -> list[ModelVersion]:
        """Every version, ascending by version number."""
        data = self._read()
        return [self._version(data, n) for n in sorted(data["versions"], key=version_key)]

    def get_version(self, version: str) -> ModelVersion:
        """The version ``version``; InputError naming it when the file has no such version."""
        data = self._read()
        if str(version) not in data["versions"]:
            known = ", ".join(sorted(data["versions"], key=version_key)) or "none"
            raise InputError(f"model {self.name!r} has no version {str(version)!r} in "
                             f"{str(self.path)!r} (versions: {known})", path=str(self.path))
        return self._version(data, str(version))

    def get(self, alias: str) -> ModelVersion | None:
        """The version ``alias`` points to; None when the alias is not set."""
        data = self._read()
        number = data["aliases"].get(check_alias(alias))
        return None if number is None else self._version(data, number)

    def set_alias(self, alias: str, version: str, *, reason: str = "") -> ModelVersion:
        """Point ``alias`` at ``version`` and append the change to the history.

        Setting an alias to the version it already points to changes nothing.
        """
        check_alias(alias)
        version = str(version)
        with self._locked() as data:
            if version not in data["versions"]:
                raise InputError(f"model {self.name!r} has no version {version!r} in "
                                 f"{str(self.path)!r}", path=str(self.path))
            before = data["aliases"].get(alias)
            if before != version:
                data["aliases"][alias] = version
                data["history"].append({"time": _now(), "alias": alias, "from": before,
                                        "to": version, "reason": reason})
            return self._version(data, version)

    def previous(self, alias: str) -> ModelVersion | None:
        """The version a rollback of ``alias`` moves to, from the file's history.

        The most recent earlier version of the alias that is not the current one and was
        not rolled back from (:func:`~obskit.instrument._alias_base.previous_from_history`);
        None when there is none.
        """
        data = self._read()
        current = data["aliases"].get(check_alias(alias))
        before = previous_from_history(data["history"], alias, current,
                                       list(data["versions"]))
        return None if before is None or before not in data["versions"] else \
            self._version(data, before)

    def register(self, path: str | Path, *,
                 tags: Mapping[str, str] | None = None) -> ModelVersion:
        """A new version (the highest number + 1) for the model file ``path``.

        The file is referenced, not copied: relative to the alias file's folder when it is
        inside it, else by its absolute path.
        """
        model = check_model_file(path)
        if not _strings(dict(tags or {})):
            raise ConfigError("tags must map strings to strings")
        if not self.name:
            raise ConfigError(f"alias file {str(self.path)!r} does not exist yet: give "
                              "model_name to create it")
        with self._locked() as data:
            data["model_name"] = data["model_name"] or self.name
            numbers = [int(n) for n in data["versions"] if n.isdigit()]
            number = str(max(numbers, default=0) + 1)
            try:
                source = str(model.relative_to(self.path.parent))
            except ValueError:
                source = str(model)
            data["versions"][number] = {"source": source, "created": _now(),
                                        "tags": dict(tags or {})}
            return self._version(data, number)

    def local_path(self, version: ModelVersion) -> Path:
        """The model file of ``version`` (InputError when it is gone)."""
        path = Path(version.source)
        if not path.is_file():
            raise InputError(f"model {version.name!r} version {version.version}: model file "
                             f"{str(path)!r} does not exist", path=str(path))
        return path

