"""The typed run configuration: :class:`Config` and the rules it holds.

Built and validated by :func:`obskit.config.load_config` (:mod:`obskit.config.load`);
every section is typed here, parsed once, before any data is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from obskit.config.anomalies import AnomalyConfig
from obskit.config.remediation import RemediationConfig
from obskit.config.schedule import ScheduleConfig
from obskit.config.sinks import SinksConfig
from obskit.stattests.registry import DriftRule
from obskit.thresholds import (
    DEFAULT_FDR,
    DEFAULT_PERSISTENCE,
    ConstantThreshold,
)
from obskit.windows import WindowSpec, parse_window

__all__ = ["Config", "DriftRule", "AlertRuleConfig", "DEFAULT_DRIFT", "DEFAULT_ALERTS",
           "TASKS", "ENGINES"]

TASKS = ("binary", "multiclass", "regression")
ENGINES = ("duckdb", "spark")
#: the window of a config that does not set one
DEFAULT_WINDOW = "1d"
_DEFAULT_WINDOW_SPEC = parse_window(DEFAULT_WINDOW)


@dataclass(frozen=True)
class AlertRuleConfig:
    """An alert rule: ``metric`` (a window key of ``summary.json``) ``op`` ``value``.

    ``op`` is a comparison, or ``drop_pct``: the metric fell more than ``value`` percent
    below its reference value, or ``significant_drop``: the metric is worse than its
    reference value beyond both 95% intervals and by more than ``value`` percent
    (:func:`obskit.findings.alert_rules.significant_drop`).
    """

    name: str
    metric: str
    op: str
    value: float
    severity: str = "warning"
    #: fire only after this many consecutive breaching windows
    persistence: int = 1
    #: judge only this segment (``{column: value}``); None: the whole log
    segment: Mapping[str, str] | None = None
    #: a command (argv list, no shell) run when the rule fires, e.g. a rollback script
    action: tuple[str, ...] | None = None
    action_timeout_s: float = 60.0


#: ``numeric`` / ``categorical``: optional rules for every feature of that type (None: the
#: per-feature default of :func:`obskit.stattests.drift_rules.default_rule`, Evidently
#: 0.7's choice);
#: ``threshold``: constant or reference-derived; ``persistence``: consecutive drifted
#: windows before a feature is ``persistent``; ``fdr``: Benjamini–Hochberg level or None.
DEFAULT_DRIFT: Mapping[str, Any] = {
    "numeric": None,
    "categorical": None,
    "threshold": ConstantThreshold(),
    "persistence": DEFAULT_PERSISTENCE,
    "fdr": DEFAULT_FDR,
}

DEFAULT_ALERTS = (
    AlertRuleConfig("drift_share", "drift_share", ">", 0.10, "warning"),
    AlertRuleConfig("latency_p95", "health.latency_p95_ms", ">", 500.0, "critical"),
    AlertRuleConfig("error_rate", "health.error_rate", ">", 0.05, "critical"),
    AlertRuleConfig("performance_drop", "performance.*", "significant_drop", 1.0, "warning"),
    # data quality: a feature's share of bad values above what the reference leads to expect
    AlertRuleConfig("missing_values", "data_quality.*.missing_increase", ">", 0.10, "warning"),
    AlertRuleConfig("non_finite_values", "data_quality.*.non_finite_increase", ">", 0.01,
                    "warning"),
    AlertRuleConfig("out_of_range_values", "data_quality.*.out_of_range_increase", ">", 0.10,
                    "warning"),
    AlertRuleConfig("unseen_categories", "data_quality.*.unseen_increase", ">", 0.10,
                    "warning"),
    AlertRuleConfig("wrong_type_values", "data_quality.*.wrong_type_increase", ">", 0.01,
                    "warning"),
)


@dataclass(frozen=True)
class Config:
    """Everything a report run needs. Paths are absolute (resolved against ``base_dir``)."""

    current: str
    reference: str | None = None
    labels: str | None = None
    #: ``obskit probe --results`` JSON lines (``sources.probes``): the health section's
    #: probe pass rate and latency per window
    probes: str | None = None
    #: OTLP JSON traces (``sources.traces``): spans joined to predictions on ``trace_id``
    traces: str | None = None
    title: str = "obskit monitoring report"
    task: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    #: per-class probability columns of a multiclass model (``columns.class_scores``): a
    #: mapping class → column, a name pattern with ``{class}``, or None (the default
    #: patterns of :data:`obskit.schema.CLASS_SCORE_PATTERNS`)
    class_scores: Mapping[str, str] | str | None = None
    features: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    feature_types: Mapping[str, str] = field(default_factory=dict)
    #: the window as written (``summary.json``'s ``window``), e.g. ``"1d"`` or ``"5000 rows"``
    window: str = DEFAULT_WINDOW
    #: ``window`` parsed once (:func:`obskit.windows.parse_window`), by ``load_config``;
    #: derived from ``window`` when not given (``dataclasses.replace`` of ``window`` must
    #: give the new spec too)
    window_spec: WindowSpec = _DEFAULT_WINDOW_SPEC
    min_window_rows: int = 50
    engine: str = "duckdb"
    #: DuckDB settings: ``memory_limit`` (e.g. "2GB"), ``threads``, ``temp_directory``
    duckdb: Mapping[str, Any] = field(default_factory=dict)
    #: Spark settings: ``master`` (default "local[*]"), ``app_name``, ``conf`` (Spark
    #: properties), ``log_level``
    spark: Mapping[str, Any] = field(default_factory=dict)
    positive_label: Any = 1
    #: drift rules for numeric / categorical features (None: Evidently's default per
    #: feature), plus the ``threshold`` rule, ``persistence`` and ``fdr`` in force
    drift_default: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_DRIFT))
    drift_features: Mapping[str, DriftRule] = field(default_factory=dict)
    alerts: tuple[AlertRuleConfig, ...] = DEFAULT_ALERTS
    alerts_default: bool = True
    model: str | None = None
    out: str = "reports/latest"
    fail_on_alert: bool = False
    #: columns whose values split the logs into segments (None: model_version when logged)
    segments: tuple[str, ...] | None = None
    min_segment_rows: int = 200
    #: multivariate drift: on/off, rows sampled per window, domain-classifier AUC threshold
    multivariate: Mapping[str, Any] = field(
        default_factory=lambda: {"enabled": True, "sample_rows": 5000, "threshold": 0.55})
    #: estimate performance without labels (CBPE for classification, DLE for regression)
    estimation: bool = True
    #: skops types to trust beyond skops' defaults; ``model_trust`` allows pickle/joblib
    model_trusted_types: tuple[str, ...] = ()
    model_trust: bool = False
    #: options of the anomaly findings (the ``anomalies`` section)
    anomalies: AnomalyConfig = field(default_factory=AnomalyConfig)
    #: scheduled jobs (the ``schedule`` section; None: not configured)
    schedule: ScheduleConfig | None = None
    #: where alerts and metrics go (the ``sinks`` section; empty: nowhere)
    sinks: SinksConfig = field(default_factory=SinksConfig)
    #: guarded self-healing (the ``remediation`` section; None: not configured)
    remediation: RemediationConfig | None = None
    #: keep at most this many runs in a report folder (None: all)
    keep: int | None = None
    #: fitted reference statistics on disk (:mod:`obskit.analysis.reference_cache`): True keeps them
    #: in ``<out>/.cache/reference``, a path keeps them there, False turns the cache off
    reference_cache: bool | str = True
    #: per-window results on disk (:mod:`obskit.analysis.window_cache`): True keeps them in
    #: ``<out>/.cache/windows``, a path keeps them there, False turns the cache off
    window_cache: bool | str = True
    notebook_timeout_s: float = 1800.0
    #: sinks and rule actions report what they would do, and do nothing
    dry_run: bool = False
    #: analyse only current rows with start <= timestamp < end (UTC ISO-8601; None: open)
    period_start: str | None = None
    period_end: str | None = None

    def __post_init__(self) -> None:
        if self.window_spec is _DEFAULT_WINDOW_SPEC and self.window != DEFAULT_WINDOW:
            object.__setattr__(self, "window_spec", parse_window(self.window))

    def column(self, role: str) -> str:
        """The log column that plays a role.

        Parameters
        ----------
        role : str
            A role of :data:`~obskit.schema.ROLES`.

        Returns
        -------
        str
            The mapped column (``columns.ROLE``), else the role's own name.
        """
        return self.columns.get(role, role)

    def engine_settings(self) -> Mapping[str, Any]:
        """The settings section of the configured engine.

        Returns
        -------
        mapping
            The ``spark`` section when ``engine`` is ``spark``, else the ``duckdb`` one.
        """
        return self.spark if self.engine == "spark" else self.duckdb

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-friendly view (for ``summary.json``).

        Returns
        -------
        dict
            Every field of the config (``dataclasses.asdict``).
        """
        return dataclasses.asdict(self)
