"""Fitted monitors: ``fit(reference) -> self``, then ``calculate(current) -> frame``.

Each monitor reads an engine table whose rows carry a ``window_index`` and returns one
small pandas frame indexed by window. Reference statistics are computed once, in ``fit``.
"""

from obskit.monitors._base import with_window
from obskit.monitors.data_quality import DataQualityMonitor
from obskit.monitors.drift import HISTOGRAM_BINS, DriftMonitor
from obskit.monitors.estimation import EstimatedPerformanceMonitor
from obskit.monitors.multivariate import DomainClassifierMonitor
from obskit.monitors.pca_reconstruction import PCAReconstructionMonitor
from obskit.monitors.performance import PerformanceMonitor
from obskit.monitors.row_anomalies import RowAnomalyMonitor

__all__ = [
    "DataQualityMonitor",
    "DomainClassifierMonitor",
    "DriftMonitor",
    "EstimatedPerformanceMonitor",
    "HISTOGRAM_BINS",
    "PCAReconstructionMonitor",
    "PerformanceMonitor",
    "RowAnomalyMonitor",
    "with_window",
]
