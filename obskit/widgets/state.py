"""What the explorer and the deep-dive notebooks show, computed once and cached.

:class:`ExplorerState` holds a run's typed results (:class:`obskit.results.Run`: an
:class:`~obskit.analysis.Analysis`, or a published ``summary.json`` read with
:func:`obskit.results.load`) and answers the questions the views ask. What the results
hold is read from them (:class:`~obskit.widgets.run_view.RunView`); what they do not
(per-window distributions, one request's full row, the reference's quantiles) is asked of
:mod:`obskit.profiles` on first use, one engine query per feature and segment, and kept
(:class:`~obskit.widgets.log_view.LogView`).

Without access to the logs (a summary alone), the data-level answers are ``None`` and
:attr:`ExplorerState.data_note` says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from obskit.results import Run, load, require_run
from obskit.widgets.log_view import LogView
from obskit.widgets.run_view import RunView, Segment, segment_label

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from obskit.config import Config
    from obskit.io.logs import LoadedLogs

__all__ = ["ExplorerState", "Segment", "load_state", "segment_label"]


def _config(config: Any, overrides: Mapping[str, Any] | None = None) -> Config | None:
    """A :class:`~obskit.config.Config` from a config or a config file path (``None``
    stays ``None`` unless there are overrides)."""
    if config is None and not overrides:
        return None
    if hasattr(config, "current"):
        loaded: Config = config
        return loaded
    from obskit.config import load_config

    return load_config(config, overrides=overrides)


class ExplorerState(RunView):
    """A run's results with lazily computed, cached data-level views.

    Parameters
    ----------
    run : Run
        The run's typed results.
    config : Config, optional
        The config whose logs the run describes (the logs are loaded on first use).
    logs : LoadedLogs, optional
        The run's loaded logs (an analysis has them).
    table : ibis.Table, optional
        The run's analysed rows with ``window_index`` (an analysis has them).

    Examples
    --------
    >>> from obskit.results import load
    >>> state = ExplorerState(load({"windows": [], "drift_summary": {}}))
    >>> state.features(), state.data_available
    ([], False)
    """

    def __init__(self, run: Run, *, config: Config | None = None,
                 logs: LoadedLogs | None = None, table: ir.Table | None = None) -> None:
        super().__init__(run)
        self.config = config
        self.log_view = LogView(run, config=config, logs=logs, table=table)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_analysis(cls, analysis: Any) -> ExplorerState:
        """From an :class:`~obskit.analysis.Analysis` (what :func:`obskit.analyze`
        returns): its run, config, logs and analysed rows."""
        return cls(require_run(analysis), config=analysis.config, logs=analysis.logs,
                   table=getattr(analysis, "table", None))

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any] | str | Path, *,
                     config: Any = None) -> ExplorerState:
        """From a ``summary.json`` document or path (read with
        :func:`obskit.results.load`), and optionally the config (or config file path)
        to reach its logs.

        Raises
        ------
        OSError, ValueError
            The summary cannot be read (see :func:`obskit.results.load`).
        """
        return cls(load(summary), config=_config(config))

    @classmethod
    def of(cls, source: Any, *, config: Any = None) -> ExplorerState:
        """The state of anything the explorer opens.

        Parameters
        ----------
        source : ExplorerState, Analysis, Run, Mapping or path
            A state (returned as it is), an analysis, a typed run, a ``summary.json``
            document or its path.
        config : Config or path, optional
            With a run or a summary: the run's config, to reach the logs.

        Raises
        ------
        TypeError
            ``source`` is none of these.
        """
        if isinstance(source, ExplorerState):
            return source
        if isinstance(source, (Mapping, str, Path)):
            return cls.from_summary(source, config=config)
        if hasattr(source, "logs") and hasattr(source, "config"):
            return cls.from_analysis(source)
        if isinstance(source, Run):
            return cls(source, config=_config(config))
        raise TypeError(f"expected an Analysis, a Run, a summary mapping or a path to "
                        f"summary.json, got {type(source).__name__}")

    # ------------------------------------------------------------------ the logs

    @property
    def queries(self) -> int:
        """Engine queries run so far (each is cached afterwards)."""
        return self.log_view.queries

    @property
    def data_available(self) -> bool:
        """Whether the logs can be reached (for per-window distributions and full rows)."""
        return self.log_view.data_available

    @property
    def data_note(self) -> str:
        """Why the views that need the logs are missing (``""`` when they are not)."""
        return self.log_view.data_note

    def window_counts(self, feature: str, segment: Segment = None
                      ) -> dict[int, np.ndarray] | None:
        """See :meth:`LogView.window_counts`."""
        return self.log_view.window_counts(feature, segment)

    def reference_counts(self, feature: str, segment: Segment = None) -> np.ndarray | None:
        """The reference's counts in the bins / categories of :meth:`window_counts` (the
        segment's own reference when the run compared the segment with it)."""
        return self.log_view.reference_counts(feature, segment,
                                          basis=self.reference_basis(segment))

    def distribution(self, feature: str, index: int, segment: Segment = None
                     ) -> dict[str, Any] | None:
        """Reference vs window ``index`` for ``feature`` (see
        :meth:`LogView.distribution`)."""
        return self.log_view.distribution(feature, index, segment,
                                      basis=self.reference_basis(segment))

    def request_row(self, request_id: str) -> dict[str, Any] | None:
        """Every logged column of one request (see :meth:`LogView.request_row`)."""
        return self.log_view.request_row(request_id)

    def reference_quantiles(self) -> dict[str, dict[float, float]] | None:
        """Reference quantiles of every numeric feature (one engine query, cached)."""
        return self.log_view.reference_quantiles()

    # ------------------------------------------------------------------ targets

    def resolve_target(self, *, window_start: str | None = None,
                       request_id: str | None = None) -> tuple[int | None, str | None]:
        """``(window index, request id)`` to investigate: the request's window, the window
        starting at (or containing) ``window_start`` with its most severe flagged request,
        or by default the most anomalous request of the run.

        Raises
        ------
        ValueError
            ``window_start`` matches no window (the message names the windows).
        """
        if request_id is not None:
            return self.window_of_request(str(request_id)), str(request_id)
        if window_start is not None:
            index = self.window_of(str(window_start))
            if index is None:
                starts = ", ".join(str(w.start)[:16] for w in self.windows())
                raise ValueError(f"window_start {window_start!r}: no window starts at or "
                                 f"contains it; windows start at {starts}")
            rows = self.anomalies(window=index)
            return index, (str(rows[0].request_id) if rows else None)
        rows = self.anomalies()
        if rows:
            return rows[0].window, str(rows[0].request_id)
        return self.default_window(), None

    def window_of_request(self, request_id: str) -> int | None:
        """The window of a request: its flagged row's, else its logged row's."""
        anomaly = self.anomaly(request_id)
        if anomaly is not None:
            return int(anomaly.window)
        index = (self.request_row(request_id) or {}).get("window_index")
        return int(index) if index is not None else None


def load_state(source: Any, *, config: Any = None,
               overrides: Mapping[str, Any] | None = None) -> ExplorerState:
    """The state the deep-dive notebooks start from.

    Parameters
    ----------
    source : Analysis, Run, Mapping or path
        The run: an analysis (what :func:`obskit.analyze` returns), a typed run, or a
        ``summary.json`` (its results are read, nothing is recomputed).
    config : Config or path, optional
        The run's config (a config file path is loaded with ``overrides``): gives
        access to the logs. An analysis brings its own.
    overrides : Mapping, optional
        Config overrides, same structure as the YAML file.

    Returns
    -------
    ExplorerState

    Raises
    ------
    TypeError
        ``source`` is none of these.
    """
    return ExplorerState.of(source, config=_config(config, overrides))
