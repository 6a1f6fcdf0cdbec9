"""Serve the version a model alias points to, and follow the alias without a restart.

With ``OBSKIT_MODEL_ALIAS`` the service resolves the alias (``champion``, …) at start and
re-reads it every ``OBSKIT_ALIAS_REFRESH_S`` seconds in a background thread. When the
alias points to another version, that version is fetched and loaded (and checked against
``OBSKIT_GOLDEN`` when set) in that thread, off the request path, then swapped in with one
assignment: a request uses the model and the version it read together, never a mix.

A version that cannot be fetched, loaded or fails the golden check is not served: the
version served before stays, the service log says why, ``/readyz`` stays ready and
``obskit_model_reload_failures_total{reason}`` counts it (``alias``: the alias could not
be read or is not set, counted at every read; ``load``; ``golden``). Model versions do not
change once registered, so a version that failed is not tried again until the alias
moves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from examples.service.model import ServedModel, check_golden
from obskit.instrument.aliases import AliasStore, ModelVersion

__all__ = ["Served", "AliasFollower", "REASONS"]

_log = logging.getLogger("uvicorn.error")

#: the ``reason`` label of ``obskit_model_reload_failures_total``
REASONS = ("alias", "load", "golden")


@dataclass(frozen=True)
class Served:
    """A loaded model and the version it is: read together, swapped together."""

    model: ServedModel
    version: str


class AliasFollower:
    """Resolve ``alias`` in ``store`` now and every ``interval_s``; load what it points to.

    Parameters
    ----------
    store : AliasStore
        Where the alias lives (:func:`obskit.instrument.aliases.open_alias_store`).
    alias : str
        The alias followed, e.g. ``champion``.
    trust_types : tuple of str
        skops types to trust (``OBSKIT_TRUST_TYPES``).
    golden : Path or None
        Golden requests every candidate version must answer (``OBSKIT_GOLDEN``).
    interval_s : float
        Seconds between two reads of the alias.
    registry : CollectorRegistry
        The app's registry (gets the reload counters).
    """

    def __init__(self, store: AliasStore, alias: str, *, trust_types: tuple[str, ...],
                 golden: Path | None, interval_s: float, registry: CollectorRegistry) -> None:
        self.store, self.alias = store, alias
        self.trust_types, self.golden, self.interval_s = trust_types, golden, interval_s
        self.served: Served | None = None
        self.model_check = f"loading: resolving alias {alias!r}"
        self.golden_check = ("pending" if golden is not None
                             else "skipped: OBSKIT_GOLDEN not set (model alias)")
        self.last_error: str | None = None
        self._failed: str | None = None  # the version that failed, not tried again
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: called with the new :class:`Served` after each swap
        self.on_swap: list[Callable[[Served], None]] = []
        labels = ("model_name",)
        self.failures = Counter(
            "obskit_model_reload_failures", "Model versions an alias pointed to that "
            "could not be served (reason: alias unreadable, version not loadable, golden "
            "check failed); the version served before stays.", (*labels, "reason"),
            registry=registry)
        self.reloads = Counter(
            "obskit_model_reloads", "Model versions swapped in because the alias moved.",
            labels, registry=registry)
        for reason in REASONS:
            self.failures.labels(store.name, reason)
        self.reloads.labels(store.name)

    def describe(self) -> dict[str, str | None]:
        """What ``/readyz`` shows: the alias, the version served, the last error."""
        return {"alias": self.alias, "model": self.store.name,
                "version": None if self.served is None else self.served.version,
                "last_error": self.last_error}

    def _fail(self, reason: str, message: str) -> None:
        self.failures.labels(self.store.name, reason).inc()
        message = f"model alias {self.alias!r} of {self.store.name!r}: {message}"
        if self.served is None:
            self.model_check = f"failed: {message}"
        if message == self.last_error:  # the same failure again: counted, logged once
            return
        self.last_error = message
        _log.error("%s; %s", message, "still serving version " + self.served.version
                   if self.served else "no model is served")

    def _load(self, version: ModelVersion) -> Served | None:
        origin = f"version {version.version} of {version.name!r}"
        try:
            path = self.store.local_path(version)
            model = ServedModel(path, self.trust_types, origin=origin)
        except Exception as exc:  # any failure keeps the old model: log and count it
            self._fail("load", f"version {version.version} did not load: {exc}")
            return None
        if self.golden is not None:
            problem = (f"golden file {self.golden} does not exist"
                       if not self.golden.exists() else check_golden(model, self.golden))
            if problem is not None:
                self._fail("golden", f"version {version.version} failed the golden "
                           f"check: {problem}")
                if self.served is None:
                    self.golden_check = f"failed: {problem}"
                return None
            self.golden_check = "ok"
        return Served(model, version.version)

    def check(self) -> Served | None:
        """Read the alias once; load and swap in the version it points to if new.

        Returns
        -------
        Served or None
            The model served after the check.
        """
        try:
            target = self.store.get(self.alias)
        except Exception as exc:  # an unreadable store: keep serving, try again later
            self._fail("alias", f"cannot be read: {exc}")
            return self.served
        if target is None:  # not set yet, or deleted: keep serving what is served
            self._fail("alias", "is not set")
            return self.served
        if (self.served is not None and target.version == self.served.version) \
                or target.version == self._failed:
            return self.served
        before = self.served
        loaded = self._load(target)
        if loaded is None:
            self._failed = target.version
            return self.served
        self.served, self._failed, self.last_error = loaded, None, None
        self.model_check = "ok"
        if before is not None:
            self.reloads.labels(self.store.name).inc()
        _log.info("model alias %r: serving version %s of %r (was %s)", self.alias,
                  loaded.version, self.store.name, before.version if before else "none")
        for callback in self.on_swap:
            callback(loaded)
        return loaded

    def run(self) -> None:
        """Check now, then every ``interval_s`` until :meth:`stop`."""
        while True:
            self.check()
            if self._stop.wait(self.interval_s):
                return

    def start(self) -> None:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="model-alias", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (bounded wait: a load in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
