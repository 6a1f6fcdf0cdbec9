"""Health probes in a run: the probe results of ``sources.probes`` per window of the logs
(``windows[i].health.probes``) and their accounting (``probes`` of ``summary.json``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from obskit._format import finite
from obskit.config import Config
from obskit.io.paths import SkippedFile
from obskit.io.probes import load_probes
from obskit.profiles import W
from obskit.profiles.probes import probes_by_window
from obskit.results import ProbeCounts, ProbeSummary, Quarantine, Window, Windows
from obskit.windows import RowWindow, WindowSpec

__all__ = ["analyse_probes"]


def _summary(counts: Mapping[Any, Any] | None, failures: pd.DataFrame) -> ProbeSummary:
    if not counts:
        return ProbeSummary()
    sent, passed = int(counts["sent"]), int(counts["passed"] or 0)
    return ProbeSummary(
        sent=sent, passed=passed, failed=sent - passed, pass_rate=passed / sent,
        latency_p50_ms=finite(counts["latency_p50_ms"]),
        latency_p95_ms=finite(counts["latency_p95_ms"]),
        failures={str(reason): int(n) for reason, n in zip(failures["reason"],
                                                             failures["failed"], strict=True)})


def _with_probes(window: Window, probes: ProbeSummary) -> Window:
    health = window.health
    layout = None if health.layout is None else (*health.layout, "probes")
    return dataclasses.replace(window, health=dataclasses.replace(health, probes=probes,
                                                                  layout=layout))


def analyse_probes(config: Config, con: Any, spec: WindowSpec, windows: Windows
                   ) -> tuple[Windows, ProbeCounts | None, tuple[SkippedFile, ...]]:
    """The windows with their probe figures, and the probe accounting of the run.

    Parameters
    ----------
    config : Config
        Its ``probes`` (``sources.probes``); None leaves everything as it is.
    con : ibis backend
        The run's engine connection.
    spec : WindowSpec
        How the logs were cut into windows (the probes follow the same windows).
    windows : Windows
        The run's windows.

    Returns
    -------
    (Windows, ProbeCounts or None, tuple of SkippedFile)
        ``windows`` unchanged, None and ``()`` without ``sources.probes``; else every
        window with ``health.probes`` (``sent`` 0 when no probe fell in it), the
        accounting, and the unfinished probe result files skipped (``.part``).

    Raises
    ------
    obskit.exceptions.InputError
        The probe results cannot be read (:func:`obskit.io.probes.load_probes`).
    """
    if not config.probes:
        return windows, None, ()
    log = load_probes(con, config.probes)
    frames = probes_by_window(log.table, [(w.index, w.start, w.end) for w in windows],
                              row_windows=isinstance(spec, RowWindow))
    counts = {int(r[W]): r for r in frames.counts.to_dict("records")}
    failures = frames.failures
    out = Windows(_with_probes(w, _summary(counts.get(w.index),
                                           failures[failures[W] == w.index]))
                  for w in windows)
    accounting = ProbeCounts(files=tuple(log.files), read=log.rows_read, used=log.rows_used,
                             quarantined=log.rows_quarantined, outside_windows=frames.outside,
                             quarantine=Quarantine.from_dict(log.quarantine_summary()))
    return out, accounting, log.unfinished
