"""The result collections a notebook user turns into tables: ``to_df()`` and
``_repr_html_`` (from the frame; pandas escapes the text) on windows, the long drift
table, data quality, anomalies and alerts. Everything is read from the records: nothing
is recomputed. pandas is imported by ``to_df()``, not with the results (the report
notebook reads them without it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from obskit.results.alerts import Alert
from obskit.results.anomalies import AnomalousPrediction
from obskit.results.record import HIDDEN, Record
from obskit.results.windows import FeatureDrift, FeatureQuality, Window

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Alerts", "Anomalies", "DriftTable", "QualityTable", "Windows"]

#: rows shown by ``_repr_html_`` (the frame from ``to_df()`` has them all)
HTML_ROWS = 60


def _html(frame: pd.DataFrame) -> str:
    return str(frame.to_html(max_rows=HTML_ROWS, escape=True, na_rep="—"))


def _names(cls: type[Record]) -> list[str]:
    return [f.name for f in fields(cls) if f.name not in HIDDEN]


def _record_frame(records: tuple[Record, ...], cls: type[Record]) -> pd.DataFrame:
    import pandas as pd

    names = _names(cls)
    return pd.DataFrame([[getattr(r, n) for n in names] for r in records], columns=names)


class Windows(tuple[Window, ...]):
    """The windows of a run (or a segment), in time order."""

    item_type: ClassVar[type] = Window
    __slots__ = ()

    def to_df(self) -> pd.DataFrame:
        """Windows × metrics: one row per window.

        Returns
        -------
        pandas.DataFrame
            Columns ``index``, ``start``, ``end`` (ISO-8601 UTC text), ``rows``,
            ``status``, ``partial``, ``labelled_rows``, ``label_coverage`` (0-1),
            ``drift_share`` (0-1); per realized metric ``<m>``, ``<m>_lower``,
            ``<m>_upper`` (the 95% interval, None without one); per estimated metric
            ``estimated_<m>`` with ``_lower`` / ``_upper``. One row per window.
        """
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for w in self:
            row: dict[str, Any] = {
                "index": w.index, "start": w.start, "end": w.end, "rows": w.rows,
                "status": w.status, "partial": w.partial, "labelled_rows": w.labelled_rows,
                "label_coverage": w.label_coverage, "drift_share": w.drift_share}
            for prefix, values, intervals in (
                    ("", w.performance, w.performance_ci),
                    ("estimated_", w.estimated_performance, w.estimated_performance_ci)):
                for metric, value in values.items():
                    lower, upper = intervals.get(metric, (None, None))
                    row[f"{prefix}{metric}"] = value
                    row[f"{prefix}{metric}_lower"] = lower
                    row[f"{prefix}{metric}_upper"] = upper
            rows.append(row)
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return _html(self.to_df())

    @property
    def drift(self) -> DriftTable:
        """The long drift table of these windows."""
        return DriftTable(windows=tuple(self))

    @property
    def quality(self) -> QualityTable:
        """The data quality of these windows, per feature."""
        return QualityTable(windows=tuple(self))


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftTable:
    """Feature drift per window, one row per (window, feature)."""

    windows: tuple[Window, ...]
    #: the fields of :class:`FeatureDrift` as columns, after ``window`` and ``feature``
    columns: ClassVar[tuple[str, ...]] = ("window", "window_start", "feature",
                                          *_names(FeatureDrift))

    def to_df(self) -> pd.DataFrame:
        """The long drift table.

        Returns
        -------
        pandas.DataFrame
            Columns ``window`` (index), ``window_start``, ``feature``, ``method``,
            ``value`` (the statistic), ``threshold``, ``drifted`` (None: not judged),
            ``threshold_kind``, ``p_value``, ``adjusted``, ``persistent``, ``values_used``,
            ``reason``; one row per window and feature.
        """
        import pandas as pd

        rows = [[w.index, w.start, feature, *(getattr(d, n) for n in self.columns[3:])]
                for w in self.windows for feature, d in w.drift.items()]
        return pd.DataFrame(rows, columns=list(self.columns))

    def _repr_html_(self) -> str:
        return _html(self.to_df())


@dataclass(frozen=True, kw_only=True, slots=True)
class QualityTable:
    """Data quality per window, one row per (window, feature)."""

    windows: tuple[Window, ...]
    columns: ClassVar[tuple[str, ...]] = ("window", "window_start", "feature",
                                          *_names(FeatureQuality))

    def to_df(self) -> pd.DataFrame:
        """The data quality table.

        Returns
        -------
        pandas.DataFrame
            Columns ``window``, ``window_start``, ``feature``, ``rows``, ``values`` and
            per measure (missing, non_finite, out_of_range, unseen, wrong_type) its count,
            ``_share`` (0-1), ``reference_<m>_share`` and ``_increase`` (None where the
            measure does not apply); one row per window and feature.
        """
        import pandas as pd

        rows = [[w.index, w.start, feature, *(getattr(q, n) for n in self.columns[3:])]
                for w in self.windows for feature, q in w.data_quality.items()]
        return pd.DataFrame(rows, columns=list(self.columns))

    def _repr_html_(self) -> str:
        return _html(self.to_df())


class Anomalies(tuple[AnomalousPrediction, ...]):
    """The flagged predictions of a run, most severe unusual ones first."""

    item_type: ClassVar[type] = AnomalousPrediction
    __slots__ = ()

    def to_df(self) -> pd.DataFrame:
        """One row per flagged prediction.

        Returns
        -------
        pandas.DataFrame
            The fields of :class:`~obskit.results.anomalies.AnomalousPrediction` as
            columns (``reasons`` and ``top_features`` as tuples).
        """
        return _record_frame(tuple(self), AnomalousPrediction)

    def _repr_html_(self) -> str:
        return _html(self.to_df())


class Alerts(tuple[Alert, ...]):
    """The alerts of a run (whole log first, then segments)."""

    item_type: ClassVar[type] = Alert
    __slots__ = ()

    def to_df(self) -> pd.DataFrame:
        """One row per alert.

        Returns
        -------
        pandas.DataFrame
            The fields of :class:`~obskit.results.alerts.Alert` as columns (``segment``
            as a ``{column: value}`` mapping, None for the whole log).
        """
        return _record_frame(tuple(self), Alert)

    def _repr_html_(self) -> str:
        return _html(self.to_df())
