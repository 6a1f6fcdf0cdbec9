"""Loading the config: the YAML file, overrides (CLI flags), validation, the :class:`Config`.

Validation happens here, once, before any data is read: every mistake names the key
(``section.key``) and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from obskit.config.anomalies import AnomalyConfig
from obskit.config.checks import check_keys, expect, resolve_path
from obskit.config.model import (
    DEFAULT_ALERTS,
    DEFAULT_DRIFT,
    DEFAULT_WINDOW,
    ENGINES,
    TASKS,
    Config,
)
from obskit.config.remediation import load_remediation
from obskit.config.schedule import schedule_section
from obskit.config.sections import (
    alert_rule,
    class_scores,
    drift_rule,
    duckdb_settings,
    spark_settings,
    threshold_rule,
)
from obskit.config.sinks import load_sinks
from obskit.exceptions import ConfigError
from obskit.schema import FEATURE_TYPES, ROLES
from obskit.thresholds import DEFAULT_FDR, DEFAULT_PERSISTENCE
from obskit.windows import parse_window

__all__ = ["load_config", "config_from_dict", "read_config_file", "TOP_LEVEL_KEYS",
           "MODEL_KEYS", "MULTIVARIATE_KEYS", "SOURCE_KEYS", "FEATURE_KEYS", "DRIFT_KEYS"]

TOP_LEVEL_KEYS = (
    "title", "task", "sources", "columns", "features", "window", "min_window_rows",
    "engine", "duckdb", "spark", "positive_label", "drift", "alerts", "model", "out",
    "fail_on_alert", "segments", "min_segment_rows", "multivariate", "estimation",
    "anomalies", "schedule", "sinks", "keep", "notebook_timeout_s", "period",
    "dry_run", "reference_cache", "window_cache", "remediation",
)
MODEL_KEYS = ("path", "trusted_types", "trust")
MULTIVARIATE_KEYS = ("enabled", "sample_rows", "threshold")
SOURCE_KEYS = ("reference", "current", "labels", "probes", "traces")
FEATURE_KEYS = ("include", "exclude", "types")
DRIFT_KEYS = ("numeric", "categorical", "features", "threshold", "persistence", "fdr")


def config_from_dict(raw: Mapping[str, Any], *, base_dir: Path | None = None,
                     source: Path | None = None) -> Config:
    """Validate a config mapping (as read from YAML) and build a :class:`Config`.

    Parameters
    ----------
    raw : Mapping
        The config, with the structure of the YAML file.
    base_dir : Path or None
        Folder relative paths are taken from (default: the working directory).
    source : Path or None
        The config file ``raw`` came from: the default ``config`` of a scheduled job and
        the prefix of the ``schedule`` section's errors.

    Returns
    -------
    Config
        Every section typed and validated; no data is read.

    Raises
    ------
    ConfigError
        The first mistake, naming its key (``section.key``) and what was expected.
    """
    base = (base_dir or Path.cwd()).resolve()
    check_keys(raw, TOP_LEVEL_KEYS, "")
    kwargs: dict[str, Any] = {}

    sources = check_keys(raw.get("sources") or {}, SOURCE_KEYS, "sources")
    expect(sources.get("current") is not None, "sources.current",
           "the path of the production prediction logs (file, glob or directory)", None)
    for key in SOURCE_KEYS:
        kwargs[key] = resolve_path(sources.get(key), f"sources.{key}", base)

    if raw.get("title") is not None:
        kwargs["title"] = str(raw["title"])
    task = raw.get("task")
    expect(task is None or task in TASKS, "task", "one of " + ", ".join(TASKS), task)
    kwargs["task"] = task

    columns = dict(check_keys(raw.get("columns") or {}, ROLES + ("class_scores",), "columns"))
    if "class_scores" in columns:
        kwargs["class_scores"] = class_scores(columns.pop("class_scores"))
    for role, name in columns.items():
        expect(isinstance(name, str) and name != "", f"columns.{role}", "a column name", name)
    kwargs["columns"] = columns

    feats = raw.get("features") or {}
    if isinstance(feats, list):
        feats = {"include": feats}
    feats = check_keys(feats, FEATURE_KEYS, "features")
    for key in ("include", "exclude"):
        val = feats.get(key)
        expect(val is None or (isinstance(val, list) and all(isinstance(v, str) for v in val)),
               f"features.{key}", "a list of column names", val)
    kwargs["features"] = tuple(feats["include"]) if feats.get("include") else None
    kwargs["exclude"] = tuple(feats.get("exclude") or ())
    types = check_keys(feats.get("types") or {}, tuple(feats.get("types") or {}), "features.types")
    for name, kind in types.items():
        expect(kind in FEATURE_TYPES, f"features.types.{name}",
               "one of " + ", ".join(FEATURE_TYPES), kind)
    kwargs["feature_types"] = dict(types)

    window = raw.get("window", DEFAULT_WINDOW)
    try:
        kwargs["window_spec"] = parse_window(window)
    except ValueError as exc:
        raise ConfigError(f"config key 'window': {exc}", key="window") from exc
    kwargs["window"] = str(window)

    mwr = raw.get("min_window_rows", 50)
    expect(isinstance(mwr, int) and mwr >= 1, "min_window_rows", "a positive integer", mwr)
    kwargs["min_window_rows"] = mwr

    engine = raw.get("engine", "duckdb")
    expect(engine in ENGINES, "engine", "one of " + ", ".join(ENGINES), engine)
    kwargs["engine"] = engine
    kwargs["duckdb"] = duckdb_settings(raw.get("duckdb"), base)
    kwargs["spark"] = spark_settings(raw.get("spark"))

    if "positive_label" in raw:
        kwargs["positive_label"] = raw["positive_label"]

    drift = check_keys(raw.get("drift") or {}, DRIFT_KEYS, "drift")
    defaults = dict(DEFAULT_DRIFT)
    for kind in ("numeric", "categorical"):
        if drift.get(kind) is not None:
            defaults[kind] = drift_rule(drift[kind], f"drift.{kind}")
    if drift.get("threshold") is not None:
        defaults["threshold"] = threshold_rule(drift["threshold"], "drift.threshold")
    persistence = drift.get("persistence", DEFAULT_PERSISTENCE)
    expect(isinstance(persistence, int) and not isinstance(persistence, bool)
           and persistence >= 1, "drift.persistence", "an integer >= 1", persistence)
    defaults["persistence"] = persistence
    fdr = drift.get("fdr", DEFAULT_FDR)
    fdr = DEFAULT_FDR if fdr is True else fdr
    expect(fdr is False or fdr is None or (isinstance(fdr, (int, float)) and 0 < fdr < 1),
           "drift.fdr", "a false discovery rate between 0 and 1, or false", fdr)
    defaults["fdr"] = float(fdr) if fdr not in (False, None) else None
    kwargs["drift_default"] = defaults
    per_feature = drift.get("features") or {}
    expect(isinstance(per_feature, Mapping), "drift.features", "a mapping", per_feature)
    kwargs["drift_features"] = {
        name: drift_rule(rule, f"drift.features.{name}") for name, rule in per_feature.items()
    }

    if raw.get("alerts") is not None:
        alerts = raw["alerts"]
        expect(isinstance(alerts, list), "alerts", "a list of rules", alerts)
        kwargs["alerts"] = tuple(alert_rule(a, f"alerts[{i}]", i) for i, a in enumerate(alerts))
        kwargs["alerts_default"] = False

    model = raw.get("model")
    if isinstance(model, Mapping):
        check_keys(model, MODEL_KEYS, "model")
        trusted = model.get("trusted_types") or []
        expect(isinstance(trusted, list) and all(isinstance(t, str) for t in trusted),
               "model.trusted_types", "a list of type names", trusted)
        expect(isinstance(model.get("trust", False), bool), "model.trust", "true or false",
               model.get("trust"))
        kwargs["model_trusted_types"] = tuple(trusted)
        kwargs["model_trust"] = bool(model.get("trust", False))
        model = model.get("path")
    kwargs["model"] = resolve_path(model, "model", base)
    for section in ("anomalies", "schedule", "sinks"):
        value = raw.get(section)
        expect(value is None or isinstance(value, (Mapping, list)), section,
               "a mapping (see the README)", value)
    kwargs["anomalies"] = AnomalyConfig.from_config(raw.get("anomalies"))
    kwargs["sinks"] = load_sinks(raw.get("sinks"), base_dir=base)
    kwargs["remediation"] = load_remediation(
        raw.get("remediation"), base_dir=base, webhook=kwargs["sinks"].webhook is not None,
        alerts=(a.name for a in kwargs.get("alerts", DEFAULT_ALERTS)))
    if raw.get("schedule") is not None:
        kwargs["schedule"] = schedule_section(raw["schedule"], base_dir=base, source=source)
    keep = raw.get("keep")
    expect(keep is None or (isinstance(keep, int) and not isinstance(keep, bool)
                             and keep >= 1), "keep", "a number of runs >= 1", keep)
    kwargs["keep"] = keep
    for key in ("reference_cache", "window_cache"):
        cache = raw.get(key, True)
        expect(isinstance(cache, (bool, str)) and cache != "", key,
               "true, false or a directory", cache)
        kwargs[key] = resolve_path(cache, key, base) if isinstance(cache, str) else cache
    period = check_keys(raw.get("period") or {}, ("start", "end"), "period")
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
    expect(isinstance(nb_timeout, (int, float)) and nb_timeout > 0, "notebook_timeout_s",
           "a positive number of seconds", nb_timeout)
    kwargs["notebook_timeout_s"] = float(nb_timeout)

    if raw.get("out") is not None:
        kwargs["out"] = resolve_path(raw["out"], "out", base) or "reports/latest"
    segments = raw.get("segments")
    expect(segments is None or (isinstance(segments, list)
                                 and all(isinstance(v, str) for v in segments)),
           "segments", "a list of column names", segments)
    kwargs["segments"] = tuple(segments) if segments is not None else None
    msr = raw.get("min_segment_rows", 200)
    expect(isinstance(msr, int) and msr >= 1, "min_segment_rows", "a positive integer", msr)
    kwargs["min_segment_rows"] = msr
    mv = check_keys(raw.get("multivariate") or {}, MULTIVARIATE_KEYS, "multivariate")
    merged = {"enabled": True, "sample_rows": 5000, "threshold": 0.55, **mv}
    expect(isinstance(merged["enabled"], bool), "multivariate.enabled", "true or false",
           merged["enabled"])
    expect(isinstance(merged["sample_rows"], int) and merged["sample_rows"] >= 100,
           "multivariate.sample_rows", "an integer >= 100", merged["sample_rows"])
    expect(isinstance(merged["threshold"], (int, float)) and 0.5 <= merged["threshold"] <= 1,
           "multivariate.threshold", "a ROC AUC between 0.5 and 1", merged["threshold"])
    kwargs["multivariate"] = merged
    est = raw.get("estimation", True)
    expect(isinstance(est, bool), "estimation", "true or false", est)
    kwargs["estimation"] = est
    dry = raw.get("dry_run", False)
    expect(isinstance(dry, bool), "dry_run", "true or false", dry)
    kwargs["dry_run"] = dry
    fail = raw.get("fail_on_alert", False)
    expect(isinstance(fail, bool), "fail_on_alert", "true or false", fail)
    kwargs["fail_on_alert"] = fail
    return Config(**kwargs)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, with errors naming the file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    dict
        Its top-level mapping (empty for an empty file).

    Raises
    ------
    ConfigError
        The file cannot be read, is not YAML, or is not a mapping (``key="config"``).
    """
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

    Parameters
    ----------
    path : str, Path or None
        The YAML config file (None: ``overrides`` only).
    overrides : Mapping or None
        Keys that replace the file's, merged section by section (CLI flags).
    base_dir : Path or None
        Folder relative paths of ``overrides`` are taken from.

    Returns
    -------
    Config
        Every section typed and validated, before any data is read.

    Raises
    ------
    ConfigError
        An unreadable or invalid file, or a wrong key (named ``section.key``).
    """
    raw: dict[str, Any] = {}
    file_base = Path.cwd()
    if path is not None:
        raw = read_config_file(path)
        file_base = Path(path).resolve().parent
        raw = _absolutise(raw, file_base)
    if overrides:
        raw = _merge(raw, _absolutise(dict(overrides), (base_dir or Path.cwd()).resolve()))
    return config_from_dict(raw, base_dir=file_base,
                            source=Path(path) if path is not None else None)


def _absolutise(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the path-valued keys of ``raw`` absolute against ``base``."""
    out = dict(raw)
    if isinstance(out.get("sources"), Mapping):
        out["sources"] = {k: resolve_path(v, f"sources.{k}", base) if isinstance(v, str) else v
                          for k, v in out["sources"].items()}
    for key in ("out",):
        if isinstance(out.get(key), str):
            out[key] = resolve_path(out[key], key, base)
    sinks = out.get("sinks")
    if isinstance(sinks, Mapping) and isinstance(sinks.get("prometheus"), Mapping) and \
            isinstance(sinks["prometheus"].get("textfile"), str):
        prom = dict(sinks["prometheus"])
        prom["textfile"] = resolve_path(prom["textfile"], "sinks.prometheus.textfile", base)
        out["sinks"] = {**sinks, "prometheus": prom}
    if isinstance(out.get("model"), str):  # a bare path: the mapping form, to merge
        out["model"] = {"path": resolve_path(out["model"], "model", base)}
    elif isinstance(out.get("model"), Mapping) and isinstance(out["model"].get("path"), str):
        out["model"] = {**out["model"],
                        "path": resolve_path(out["model"]["path"], "model.path", base)}
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged
