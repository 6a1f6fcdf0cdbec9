"""The interactive explorer: pick a window, a segment, a feature and an anomalous row.

Every view is an :class:`ipywidgets.HTML` whose value is static, escaped HTML with figures
as PNG ``data:`` URIs, so the explorer reads the same with or without a browser, and a test
can set a control's ``value`` and read what the views now say. Views are rendered once per
combination of the controls they depend on and kept; the data behind them comes from
:class:`~obskit.widgets.state.ExplorerState`, which queries the engine at most once per
feature and segment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from obskit._format import fmt_int, fmt_num, fmt_time
from obskit._text import plural
from obskit.render import escape, report_css
from obskit.render.requests import anomaly_table_html
from obskit.render.rich import summary_html
from obskit.results import AnomalousPrediction
from obskit.widgets.pages import feature_page, request_page, window_page
from obskit.widgets.state import ExplorerState, Segment, segment_label

__all__ = ["Explorer", "explore", "KERNEL_NOTE"]

#: what a static export (nbconvert, GitHub) shows in place of the live widgets
KERNEL_NOTE = ("The interactive explorer needs a running Jupyter kernel (with ipywidgets): "
               "open this notebook in JupyterLab and run it to pick windows, segments, "
               "features and anomalous rows. Below is a static snapshot of its first view.")
_ANY_WINDOW = "all windows"


def _window_options(state: ExplorerState) -> list[tuple[str, int]]:
    options, seen = [], set()
    for w in state.windows():
        label = fmt_time(w.start)
        if w.status != "ok":
            label += f" ({str(w.status).replace('_', ' ')})"
        if label in seen:
            label += f" #{w.index}"
        seen.add(label)
        options.append((label, int(w.index)))
    return options


def _feature_options(state: ExplorerState) -> list[tuple[str, str]]:
    out = []
    summary = state.drift_summary()
    for f in state.features():
        d = summary.get(f)
        drifted = (d.drifted_windows if d is not None else 0) or 0
        windows = (d.windows if d is not None else 0) or 0
        label = (f"{f} · drifted in {drifted} of {plural(windows, 'window')}"
                 if drifted
                 else f"{f} · stable")
        out.append((label, f))
    return out


class Explorer(widgets.VBox):
    """Explore a run: windows over time, segments, features and anomalous predictions.

    Parameters
    ----------
    source : Analysis, Run, ExplorerState, Mapping or path
        What to explore: an :class:`~obskit.analysis.Analysis` (what
        :func:`obskit.analyze` returns), a typed :class:`~obskit.results.Run`, a
        ``summary.json`` document or its path (read with :func:`obskit.results.load`).
    config : Config or path, optional
        With a summary: the run's config, to reach the logs for per-window distributions
        and full request rows (without it those views say they need the logs).

    Attributes
    ----------
    window, segment, feature, anomaly, only_window : ipywidgets controls
        Set their ``value`` to drive the explorer from code.
    window_view, feature_view, anomaly_table, anomaly_view : ipywidgets.HTML
        What the explorer shows; ``.value`` is the HTML.

    Examples
    --------
    >>> explorer = obskit.widgets.Explorer(obskit.analyze("demo-data/config.yml"))  # doctest: +SKIP
    >>> explorer.feature.value = "income"  # doctest: +SKIP
    """

    def __init__(self, source: Any, *, config: Any = None) -> None:
        try:
            state = ExplorerState.of(source, config=config)
        except TypeError as exc:
            raise TypeError(f"Explorer: {exc}") from None
        self.state = state
        self._views: dict[tuple[Any, ...], str] = {}
        #: views rendered so far (a view is rendered once per combination of controls)
        self.renders = 0
        self._quiet = False

        windows = _window_options(state)
        default = state.default_window()
        self.window = widgets.SelectionSlider(
            options=windows or [("no windows", -1)],
            value=default if default is not None else (windows[0][1] if windows else -1),
            description="Window", continuous_update=False,
            layout=widgets.Layout(width="60%"), style={"description_width": "initial"})
        self.segment = widgets.Dropdown(
            # index, not value=None: ipywidgets 8 shows value None as "nothing selected"
            options=[(segment_label(s), s) for s in state.segments()], index=0,
            description="Segment")
        features: list[tuple[str, str | None]] = [*_feature_options(state)]
        self.feature = widgets.Dropdown(
            options=features or [("no features", None)], index=0, description="Feature",
            layout=widgets.Layout(width="60%"))
        self.only_window = widgets.Checkbox(value=False, description="only the selected window",
                                            indent=False)
        self.anomaly = widgets.Select(options=[], rows=8, description="Row",
                                      layout=widgets.Layout(width="95%"))

        self.header = widgets.HTML(self._header())
        self.window_view = widgets.HTML()
        self.feature_view = widgets.HTML()
        self.anomaly_table = widgets.HTML()
        self.anomaly_view = widgets.HTML()

        self.tabs = widgets.Tab(
            children=[self.window_view, widgets.VBox([self.feature, self.feature_view]),
                      widgets.VBox([self.only_window, self.anomaly, self.anomaly_view,
                                    self.anomaly_table])],
            titles=("Window", "Feature drift", "Anomalies"))
        super().__init__([self.header, widgets.HBox([self.window, self.segment]), self.tabs])

        self.window.observe(self._on_window, names="value")
        self.segment.observe(self._on_segment, names="value")
        self.feature.observe(lambda _: self._show_feature(), names="value")
        self.only_window.observe(lambda _: self._refresh_anomalies(), names="value")
        self.anomaly.observe(self._on_anomaly, names="value")
        self._show_window()
        self._show_feature()
        self._refresh_anomalies()

    # ------------------------------------------------------------------ helpers

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any] | str | Path, *,
                     config: Any = None) -> Explorer:
        """Explore a published run: its ``summary.json`` (and its config for the logs)."""
        return cls(summary, config=config)

    def _view(self, key: tuple[Any, ...], render: Callable[[], str]) -> str:
        if key not in self._views:
            self._views[key] = render()
            self.renders += 1
        return self._views[key]

    def _header(self) -> str:
        return summary_html(self.state.run, findings=3, features=0, hint=False)

    @property
    def _segment_label(self) -> str:
        return segment_label(self.segment.value)

    # ------------------------------------------------------------------ events

    def _on_window(self, _: Any) -> None:
        self._show_window()
        self._show_feature()
        if self.only_window.value:
            self._refresh_anomalies()

    def _on_segment(self, _: Any) -> None:
        self._show_window()
        self._show_feature()
        self._refresh_anomalies()

    def _on_anomaly(self, _: Any) -> None:
        if not self._quiet:
            self._show_anomaly()

    def _show_window(self) -> None:
        index, segment = self.window.value, self.segment.value
        self.window_view.value = self._view(("window", index, segment),
                                            lambda: self._render_window(index, segment))

    def _render_window(self, index: int, segment: Segment) -> str:
        return window_page(self.state, index, segment)

    def _show_feature(self) -> None:
        feature, index, segment = self.feature.value, self.window.value, self.segment.value
        if feature is None:
            self.feature_view.value = "<p>No features in this run.</p>"
            return
        self.feature_view.value = self._view(
            ("feature", feature, index, segment),
            lambda: self._render_feature(feature, index, segment))

    def _render_feature(self, feature: str, index: int, segment: Segment) -> str:
        return feature_page(self.state, feature, index, segment)

    def _anomaly_rows(self) -> list[AnomalousPrediction]:
        window = self.window.value if self.only_window.value else None
        return self.state.anomalies(window=window, segment=self.segment.value)

    def _refresh_anomalies(self) -> None:
        rows = self._anomaly_rows()
        options = [(f"{r.request_id} · {fmt_time(r.window_start)} · "
                    f"severity {fmt_num(r.severity)} · "
                    f"{', '.join(map(str, r.reasons or ()))}", str(r.request_id))
                   for r in rows[:200]]
        previous = self.anomaly.value
        ids = [v for _, v in options]
        self._quiet = True  # one render of the row at the end, not one per trait change
        try:
            self.anomaly.options = options
            self.anomaly.value = previous if previous in ids else (ids[0] if ids else None)
        finally:
            self._quiet = False
        selected = self.state.window(self.window.value)
        where = (f"window {fmt_time(selected.start if selected is not None else None)}"
                 if self.only_window.value else _ANY_WINDOW)
        self.anomaly_table.value = report_css() + (
            f'<div class="obskit"><p>{escape(fmt_int(len(rows)))} flagged predictions in '
            f"{escape(where)}, {escape(self._segment_label)}; most severe first.</p></div>"
            + anomaly_table_html(list(rows), selected=self.anomaly.value, limit=25))
        self._show_anomaly()

    def _show_anomaly(self) -> None:
        request_id = self.anomaly.value
        if request_id is None:
            self.anomaly_view.value = ('<div class="obskit"><p>No flagged prediction to show '
                                       "here. Untick “only the selected window” or pick "
                                       "another window or segment.</p></div>")
            return
        self.anomaly_view.value = self._view(("request", request_id),
                                             lambda: self._render_request(request_id))

    def _render_request(self, request_id: str) -> str:
        return request_page(self.state, request_id)

    # ------------------------------------------------------------------ static export

    def snapshot_html(self) -> str:
        """Static HTML of the current view, with :data:`KERNEL_NOTE` on top."""
        return (f'{report_css()}<div class="obskit"><p class="notes">{escape(KERNEL_NOTE)}</p>'
                "</div>" + self.header.value + self.window_view.value
                + self.feature_view.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.snapshot_html()
        bundle["text/plain"] = KERNEL_NOTE
        return bundle


def explore(source: Any, *, config: Any = None) -> Explorer:
    """Open the interactive explorer on an Analysis, a summary mapping or a summary path
    (the shortcut behind ``Analysis.explore()``)."""
    return Explorer(source, config=config)
