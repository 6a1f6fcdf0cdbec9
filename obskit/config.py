"""The run configuration: one YAML file, every key also a CLI flag.

Validation happens here, once: every mistake names the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from obskit.exceptions import ConfigError
from obskit.schema import FEATURE_TYPES, ROLES
from obskit.severity import SEVERITIES
from obskit.thresholds import (
    DEFAULT_FDR,
    DEFAULT_PERSISTENCE,
    ConstantThreshold,
    ReferenceThreshold,
)
from obskit.windows import parse_window

__all__ = ["Config", "DriftRule", "AlertRuleConfig", "load_config", "TASKS", "ENGINES"]

TASKS = ("binary", "multiclass", "regression")
ENGINES = ("duckdb", "spark")
#: engine settings sections (see the README, "Spark and big logs")
DUCKDB_KEYS = ("memory_limit", "threads", "temp_directory")
SPARK_KEYS = ("master", "app_name", "conf", "log_level")
SPARK_LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG")
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.I)
TOP_LEVEL_KEYS = (
    "title", "task", "sources", "columns", "features", "window", "min_window_rows",
    "engine", "duckdb", "spark", "positive_label", "drift", "alerts", "model", "out",
    "fail_on_alert", "segments", "min_segment_rows", "multivariate", "estimation",
    # sections validated by the modules that own them (see Config docs)
    "anomalies", "schedule", "sinks", "keep", "notebook_timeout_s", "period",
    "dry_run", "reference_cache",
)
MODEL_KEYS = ("path", "trusted_types", "trust")
MULTIVARIATE_KEYS = ("enabled", "sample_rows", "threshold")
SOURCE_KEYS = ("reference", "current", "labels")
FEATURE_KEYS = ("include", "exclude", "types")
DRIFT_KEYS = ("numeric", "categorical", "features", "threshold", "persistence", "fdr")
DRIFT_RULE_KEYS = ("method", "threshold")
THRESHOLD_KEYS = ("kind", "k", "chunks")
ALERT_KEYS = ("name", "metric", "op", "value", "severity", "persistence", "segment",
              "action", "action_timeout_s")
ALERT_OPS = (">", ">=", "<", "<=", "drop_pct", "significant_drop")


@dataclass(frozen=True)
class DriftRule:
    """The drift method and threshold applied to a feature (or a feature type).

    ``threshold`` is the constant threshold (the method's default unless configured);
    ``threshold_rule`` says how the threshold in force is found: ``None`` (the global
    ``drift.threshold``), :class:`~obskit.thresholds.ConstantThreshold` or
    :class:`~obskit.thresholds.ReferenceThreshold`.
    """

    method: str
    threshold: float
    threshold_rule: ConstantThreshold | ReferenceThreshold | None = None
    #: why this rule was chosen over the default, for readers (e.g. an id-like column)
    note: str | None = None


@dataclass(frozen=True)
class AlertRuleConfig:
    """An alert rule: ``metric`` (a window key of ``summary.json``) ``op`` ``value``.

    ``op`` is a comparison, or ``drop_pct``: the metric fell more than ``value`` percent
    below its reference value, or ``significant_drop``: the metric is worse than its
    reference value beyond both 95% intervals and by more than ``value`` percent
    (:func:`obskit.alerts.significant_drop`).
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
#: per-feature default of :func:`obskit.drift.default_rule`, Evidently 0.7's choice);
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
    window: str = "1d"
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
    #: sections validated by their own modules: ``obskit.anomalies``, ``obskit.schedule``,
    #: ``obskit.sinks`` (raw mappings here)
    anomalies: Any = None
    schedule: Any = None
    sinks: Any = None
    #: keep at most this many runs in a report folder (None: all)
    keep: int | None = None
    #: fitted reference statistics on disk (:mod:`obskit.reference_cache`): True keeps them
    #: in ``<out>/.cache/reference``, a path keeps them there, False turns the cache off
    reference_cache: bool | str = True
    notebook_timeout_s: float = 1800.0
    #: sinks and rule actions report what they would do, and do nothing
    dry_run: bool = False
    #: analyse only current rows with start <= timestamp < end (UTC ISO-8601; None: open)
    period_start: str | None = None
    period_end: str | None = None

    def column(self, role: str) -> str:
        """The log column that plays ``role``."""
        return self.columns.get(role, role)

    def engine_settings(self) -> Mapping[str, Any]:
        """The settings section of the configured engine."""
        return self.spark if self.engine == "spark" else self.duckdb

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-friendly view (for ``summary.json``)."""
        return dataclasses.asdict(self)


def _expect(cond: bool, key: str, expected: str, got: Any) -> None:
    if not cond:
        raise ConfigError(f"config key {key!r}: expected {expected}, got {got!r}", key=key)


def _check_keys(mapping: Any, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    _expect(isinstance(mapping, Mapping), where or "config", "a mapping", mapping)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else str(unknown[0])
        raise ConfigError(
            f"unknown config key {key!r}; known keys{' of ' + where if where else ''}: "
            + ", ".join(allowed),
            key=key,
        )
    return mapping


def _class_scores(value: Any) -> Mapping[str, str] | str:
    """``columns.class_scores``: a name pattern with ``{class}`` (``proba_{class}``) or a
    mapping of at least two class labels to their probability columns."""
    key = "columns.class_scores"
    expected = ("a column-name pattern containing '{class}' (such as 'proba_{class}') or a "
                "mapping of at least two classes to their probability columns")
    if isinstance(value, str):
        _expect(value.count("{class}") == 1, key, expected, value)
        return value
    _expect(isinstance(value, Mapping) and len(value) >= 2, key, expected, value)
    for cls, name in value.items():
        _expect(isinstance(name, str) and name != "", f"{key}.{cls}", "a column name", name)
    _expect(len(set(value.values())) == len(value), key, "a different column per class",
            value)
    return {str(cls): name for cls, name in value.items()}


def _path(value: Any, key: str, base: Path) -> str | None:
    if value is None:
        return None
    _expect(isinstance(value, str) and value != "", key, "a path string", value)
    text = str(value)
    if any(ch in text for ch in "*?["):  # a glob: resolve its directory part only
        return str(base / text) if not Path(text).is_absolute() else text
    return str((base / text).resolve()) if not Path(text).is_absolute() else text


def _threshold_rule(value: Any, key: str) -> ConstantThreshold | ReferenceThreshold:
    _check_keys(value, THRESHOLD_KEYS, key)
    kind = value.get("kind", "constant")
    _expect(kind in ("constant", "reference"), f"{key}.kind", "constant or reference", kind)
    if kind == "constant":
        return ConstantThreshold()
    k = value.get("k", 3.0)
    _expect(isinstance(k, (int, float)) and not isinstance(k, bool) and k >= 0, f"{key}.k",
            "a non-negative number", k)
    chunks = value.get("chunks", 10)
    _expect(isinstance(chunks, int) and not isinstance(chunks, bool) and chunks >= 2,
            f"{key}.chunks", "an integer >= 2", chunks)
    return ReferenceThreshold(k=float(k), chunks=chunks)


def _drift_rule(value: Any, key: str) -> DriftRule:
    from obskit.drift import METHODS  # registry of methods, validated here once

    _check_keys(value, DRIFT_RULE_KEYS, key)
    method = value.get("method")
    _expect(method in METHODS.names(), f"{key}.method", "one of " + ", ".join(METHODS.names()),
            method)
    threshold = value.get("threshold", METHODS.get(method).default_threshold)
    rule = None
    if isinstance(threshold, Mapping):
        rule = _threshold_rule(threshold, f"{key}.threshold")
        threshold = METHODS.get(method).default_threshold
    _expect(isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
            and threshold >= 0, f"{key}.threshold",
            "a non-negative number or {kind: constant|reference, k: ...}", threshold)
    return DriftRule(method, float(threshold), rule)


def _alert_rule(value: Any, key: str, index: int) -> AlertRuleConfig:
    _check_keys(value, ALERT_KEYS, key)
    for required in ("metric", "op", "value"):
        _expect(required in value, f"{key}.{required}", "a value (required)", None)
    _expect(isinstance(value["metric"], str), f"{key}.metric", "a string", value["metric"])
    _expect(value["op"] in ALERT_OPS, f"{key}.op", "one of " + ", ".join(ALERT_OPS),
            value["op"])
    _expect(isinstance(value["value"], (int, float)), f"{key}.value", "a number", value["value"])
    severity = value.get("severity", "warning")
    _expect(severity in SEVERITIES, f"{key}.severity", "one of " + ", ".join(SEVERITIES),
            severity)
    name = value.get("name", f"{value['metric']} {value['op']} {value['value']}")
    persistence = value.get("persistence", 1)
    _expect(isinstance(persistence, int) and not isinstance(persistence, bool)
            and persistence >= 1, f"{key}.persistence", "an integer >= 1", persistence)
    segment = value.get("segment")
    _expect(segment is None or (isinstance(segment, Mapping) and len(segment) == 1),
            f"{key}.segment", "a mapping of one column to one value, e.g. {model_version: v2}",
            segment)
    action = value.get("action")
    _expect(action is None or (isinstance(action, list) and action
                               and all(isinstance(a, str) for a in action)),
            f"{key}.action", "a command as a list of strings (no shell)", action)
    timeout = value.get("action_timeout_s", 60.0)
    _expect(isinstance(timeout, (int, float)) and timeout > 0, f"{key}.action_timeout_s",
            "a positive number of seconds", timeout)
    return AlertRuleConfig(
        str(name), value["metric"], value["op"], float(value["value"]), severity,
        persistence=persistence,
        segment={str(k): str(v) for k, v in segment.items()} if segment else None,
        action=tuple(action) if action else None, action_timeout_s=float(timeout))


def _duckdb_settings(value: Any, base: Path) -> dict[str, Any]:
    settings = dict(_check_keys(value or {}, DUCKDB_KEYS, "duckdb"))
    limit = settings.get("memory_limit")
    _expect(limit is None or (isinstance(limit, str) and bool(_MEMORY.match(limit))),
            "duckdb.memory_limit", "a size such as '2GB' or '512MB'", limit)
    threads = settings.get("threads")
    _expect(threads is None or (isinstance(threads, int) and not isinstance(threads, bool)
                                and threads >= 1), "duckdb.threads", "an integer >= 1",
            threads)
    if settings.get("temp_directory") is not None:
        settings["temp_directory"] = _path(settings["temp_directory"],
                                           "duckdb.temp_directory", base)
    return settings


def _spark_settings(value: Any) -> dict[str, Any]:
    settings = dict(_check_keys(value or {}, SPARK_KEYS, "spark"))
    for key in ("master", "app_name"):
        v = settings.get(key)
        _expect(v is None or (isinstance(v, str) and v.strip() != ""), f"spark.{key}",
                "a non-empty string, e.g. 'local[*]' or 'spark://host:7077'"
                if key == "master" else "a non-empty string", v)
    conf = settings.get("conf") or {}
    _expect(isinstance(conf, Mapping), "spark.conf",
            "a mapping of Spark properties, e.g. {spark.executor.memory: 4g}", conf)
    for k, v in conf.items():
        _expect(isinstance(v, (str, int, float, bool)), f"spark.conf.{k}",
                "a string, number or boolean", v)
    settings["conf"] = {str(k): (str(v).lower() if isinstance(v, bool) else str(v))
                        for k, v in conf.items()}
    level = settings.get("log_level")
    _expect(level is None or str(level).upper() in SPARK_LOG_LEVELS, "spark.log_level",
            "one of " + ", ".join(SPARK_LOG_LEVELS), level)
    if level is not None:
        settings["log_level"] = str(level).upper()
    return settings


def config_from_dict(raw: Mapping[str, Any], *, base_dir: Path | None = None) -> Config:
    """Validate a config mapping (as read from YAML) and build a :class:`Config`."""
    base = (base_dir or Path.cwd()).resolve()
    _check_keys(raw, TOP_LEVEL_KEYS, "")
    kwargs: dict[str, Any] = {}

    sources = _check_keys(raw.get("sources") or {}, SOURCE_KEYS, "sources")
    _expect(sources.get("current") is not None, "sources.current",
            "the path of the production prediction logs (file, glob or directory)", None)
    for key in SOURCE_KEYS:
        kwargs[key] = _path(sources.get(key), f"sources.{key}", base)

    if raw.get("title") is not None:
        kwargs["title"] = str(raw["title"])
    task = raw.get("task")
    _expect(task is None or task in TASKS, "task", "one of " + ", ".join(TASKS), task)
    kwargs["task"] = task

    columns = dict(_check_keys(raw.get("columns") or {}, ROLES + ("class_scores",), "columns"))
    if "class_scores" in columns:
        kwargs["class_scores"] = _class_scores(columns.pop("class_scores"))
    for role, name in columns.items():
        _expect(isinstance(name, str) and name != "", f"columns.{role}", "a column name", name)
    kwargs["columns"] = columns

    feats = raw.get("features") or {}
    if isinstance(feats, list):
        feats = {"include": feats}
    feats = _check_keys(feats, FEATURE_KEYS, "features")
    for key in ("include", "exclude"):
        val = feats.get(key)
        _expect(val is None or (isinstance(val, list) and all(isinstance(v, str) for v in val)),
                f"features.{key}", "a list of column names", val)
    kwargs["features"] = tuple(feats["include"]) if feats.get("include") else None
    kwargs["exclude"] = tuple(feats.get("exclude") or ())
    types = _check_keys(feats.get("types") or {}, tuple(feats.get("types") or {}), "features.types")
    for name, kind in types.items():
        _expect(kind in FEATURE_TYPES, f"features.types.{name}",
                "one of " + ", ".join(FEATURE_TYPES), kind)
    kwargs["feature_types"] = dict(types)

    window = raw.get("window", "1d")
    try:
        parse_window(window)
    except ValueError as exc:
        raise ConfigError(f"config key 'window': {exc}", key="window") from exc
    kwargs["window"] = str(window)

    mwr = raw.get("min_window_rows", 50)
    _expect(isinstance(mwr, int) and mwr >= 1, "min_window_rows", "a positive integer", mwr)
    kwargs["min_window_rows"] = mwr

    engine = raw.get("engine", "duckdb")
    _expect(engine in ENGINES, "engine", "one of " + ", ".join(ENGINES), engine)
    kwargs["engine"] = engine
    kwargs["duckdb"] = _duckdb_settings(raw.get("duckdb"), base)
    kwargs["spark"] = _spark_settings(raw.get("spark"))

    if "positive_label" in raw:
        kwargs["positive_label"] = raw["positive_label"]

    drift = _check_keys(raw.get("drift") or {}, DRIFT_KEYS, "drift")
    defaults = dict(DEFAULT_DRIFT)
    for kind in ("numeric", "categorical"):
        if drift.get(kind) is not None:
            defaults[kind] = _drift_rule(drift[kind], f"drift.{kind}")
    if drift.get("threshold") is not None:
        defaults["threshold"] = _threshold_rule(drift["threshold"], "drift.threshold")
    persistence = drift.get("persistence", DEFAULT_PERSISTENCE)
    _expect(isinstance(persistence, int) and not isinstance(persistence, bool)
            and persistence >= 1, "drift.persistence", "an integer >= 1", persistence)
    defaults["persistence"] = persistence
    fdr = drift.get("fdr", DEFAULT_FDR)
    fdr = DEFAULT_FDR if fdr is True else fdr
    _expect(fdr is False or fdr is None or (isinstance(fdr, (int, float)) and 0 < fdr < 1),
            "drift.fdr", "a false discovery rate between 0 and 1, or false", fdr)
    defaults["fdr"] = float(fdr) if fdr not in (False, None) else None
    kwargs["drift_default"] = defaults
    per_feature = drift.get("features") or {}
    _expect(isinstance(per_feature, Mapping), "drift.features", "a mapping", per_feature)
    kwargs["drift_features"] = {
        name: _drift_rule(rule, f"drift.features.{name}") for name, rule in per_feature.items()
    }

    if raw.get("alerts") is not None:
        alerts = raw["alerts"]
        _expect(isinstance(alerts, list), "alerts", "a list of rules", alerts)
        kwargs["alerts"] = tuple(_alert_rule(a, f"alerts[{i}]", i) for i, a in enumerate(alerts))
        kwargs["alerts_default"] = False

    model = raw.get("model")
    if isinstance(model, Mapping):
        _check_keys(model, MODEL_KEYS, "model")
        types = model.get("trusted_types") or []
        _expect(isinstance(types, list) and all(isinstance(t, str) for t in types),
                "model.trusted_types", "a list of type names", types)
        _expect(isinstance(model.get("trust", False), bool), "model.trust", "true or false",
                model.get("trust"))
        kwargs["model_trusted_types"] = tuple(types)
        kwargs["model_trust"] = bool(model.get("trust", False))
        model = model.get("path")
    kwargs["model"] = _path(model, "model", base)
    for section in ("anomalies", "schedule", "sinks"):
        value = raw.get(section)
        _expect(value is None or isinstance(value, (Mapping, list)), section,
                "a mapping (see the README)", value)
        kwargs[section] = value
    keep = raw.get("keep")
    _expect(keep is None or (isinstance(keep, int) and not isinstance(keep, bool)
                             and keep >= 1), "keep", "a number of runs >= 1", keep)
    kwargs["keep"] = keep
    cache = raw.get("reference_cache", True)
    _expect(isinstance(cache, (bool, str)) and cache != "", "reference_cache",
            "true, false or a directory", cache)
    kwargs["reference_cache"] = _path(cache, "reference_cache", base) \
        if isinstance(cache, str) else cache
    period = _check_keys(raw.get("period") or {}, ("start", "end"), "period")
    for bound in ("start", "end"):
        value = period.get(bound)
        if value is not None:
            try:
                parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError as exc:
                raise ConfigError(f"config key 'period.{bound}': expected an ISO-8601 date or "
                                  f"time, got {value!r}", key=f"period.{bound}") from exc
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            kwargs[f"period_{bound}"] = parsed.astimezone(timezone.utc).isoformat()
    nb_timeout = raw.get("notebook_timeout_s", 1800)
    _expect(isinstance(nb_timeout, (int, float)) and nb_timeout > 0, "notebook_timeout_s",
            "a positive number of seconds", nb_timeout)
    kwargs["notebook_timeout_s"] = float(nb_timeout)

    if raw.get("out") is not None:
        kwargs["out"] = _path(raw["out"], "out", base) or "reports/latest"
    segments = raw.get("segments")
    _expect(segments is None or (isinstance(segments, list)
                                 and all(isinstance(v, str) for v in segments)),
            "segments", "a list of column names", segments)
    kwargs["segments"] = tuple(segments) if segments is not None else None
    msr = raw.get("min_segment_rows", 200)
    _expect(isinstance(msr, int) and msr >= 1, "min_segment_rows", "a positive integer", msr)
    kwargs["min_segment_rows"] = msr
    mv = _check_keys(raw.get("multivariate") or {}, MULTIVARIATE_KEYS, "multivariate")
    merged = {"enabled": True, "sample_rows": 5000, "threshold": 0.55, **mv}
    _expect(isinstance(merged["enabled"], bool), "multivariate.enabled", "true or false",
            merged["enabled"])
    _expect(isinstance(merged["sample_rows"], int) and merged["sample_rows"] >= 100,
            "multivariate.sample_rows", "an integer >= 100", merged["sample_rows"])
    _expect(isinstance(merged["threshold"], (int, float)) and 0.5 <= merged["threshold"] <= 1,
            "multivariate.threshold", "a ROC AUC between 0.5 and 1", merged["threshold"])
    kwargs["multivariate"] = merged
    est = raw.get("estimation", True)
    _expect(isinstance(est, bool), "estimation", "true or false", est)
    kwargs["estimation"] = est
    dry = raw.get("dry_run", False)
    _expect(isinstance(dry, bool), "dry_run", "true or false", dry)
    kwargs["dry_run"] = dry
    fail = raw.get("fail_on_alert", False)
    _expect(isinstance(fail, bool), "fail_on_alert", "true or false", fail)
    kwargs["fail_on_alert"] = fail
    return Config(**kwargs)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, with errors naming the file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(p)!r}: {exc.strerror}", key="config") \
            from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid YAML: {exc}", key="config") \
            from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(p)!r}: expected a mapping at the top level",
                          key="config")
    return raw


def load_config(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None,
                base_dir: Path | None = None) -> Config:
    """Load a config file (optional) and apply ``overrides`` (same structure as the YAML).

    Relative paths in the file are taken relative to the file's folder; relative paths in
    ``overrides`` relative to ``base_dir`` (default: the working directory).
    """
    raw: dict[str, Any] = {}
    file_base = Path.cwd()
    if path is not None:
        raw = read_config_file(path)
        file_base = Path(path).resolve().parent
        raw = _absolutise(raw, file_base)
    if overrides:
        raw = _merge(raw, _absolutise(dict(overrides), (base_dir or Path.cwd()).resolve()))
    return config_from_dict(raw, base_dir=file_base)


def _absolutise(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the path-valued keys of ``raw`` absolute against ``base``."""
    out = dict(raw)
    if isinstance(out.get("sources"), Mapping):
        out["sources"] = {k: _path(v, f"sources.{k}", base) if isinstance(v, str) else v
                          for k, v in out["sources"].items()}
    for key in ("out",):
        if isinstance(out.get(key), str):
            out[key] = _path(out[key], key, base)
    sinks = out.get("sinks")
    if isinstance(sinks, Mapping) and isinstance(sinks.get("prometheus"), Mapping) and \
            isinstance(sinks["prometheus"].get("textfile"), str):
        prom = dict(sinks["prometheus"])
        prom["textfile"] = _path(prom["textfile"], "sinks.prometheus.textfile", base)
        out["sinks"] = {**sinks, "prometheus": prom}
    if isinstance(out.get("model"), str):  # a bare path: the mapping form, to merge
        out["model"] = {"path": _path(out["model"], "model", base)}
    elif isinstance(out.get("model"), Mapping) and isinstance(out["model"].get("path"), str):
        out["model"] = {**out["model"], "path": _path(out["model"]["path"], "model.path", base)}
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged
