"""Parsers of the config sections with rules of their own: drift, alerts, engines.

Each takes the raw value (as read from YAML) and its dotted key, and returns the typed
value or raises :class:`~obskit.exceptions.ConfigError` naming ``section.key``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obskit.config.checks import check_keys, expect, resolve_path
from obskit.config.model import AlertRuleConfig, DriftRule
from obskit.severity import SEVERITIES
from obskit.stattests.registry import METHODS
from obskit.thresholds import ConstantThreshold, ReferenceThreshold

__all__ = ["class_scores", "threshold_rule", "drift_rule", "alert_rule", "duckdb_settings",
           "spark_settings", "DUCKDB_KEYS", "SPARK_KEYS", "SPARK_LOG_LEVELS", "DRIFT_RULE_KEYS",
           "THRESHOLD_KEYS", "ALERT_KEYS", "ALERT_OPS", "SEVERITIES"]

#: engine settings sections (see the README, "Spark and big logs")
DUCKDB_KEYS = ("memory_limit", "threads", "temp_directory")
SPARK_KEYS = ("master", "app_name", "conf", "log_level")
SPARK_LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG")
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.I)
DRIFT_RULE_KEYS = ("method", "threshold")
THRESHOLD_KEYS = ("kind", "k", "chunks")
ALERT_KEYS = ("name", "metric", "op", "value", "severity", "persistence", "segment",
              "action", "action_timeout_s")
ALERT_OPS = (">", ">=", "<", "<=", "drop_pct", "significant_drop")


def class_scores(value: Any) -> Mapping[str, str] | str:
    """The ``columns.class_scores`` key of a multiclass model.

    Parameters
    ----------
    value : Any
        A name pattern with ``{class}`` (``proba_{class}``), or a mapping of at least two
        class labels to their probability columns.

    Returns
    -------
    str or Mapping
        The pattern, or class (as text) → column.

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``columns.class_scores`` and what it takes.
    """

    key = "columns.class_scores"
    expected = ("a column-name pattern containing '{class}' (such as 'proba_{class}') or a "
                "mapping of at least two classes to their probability columns")
    if isinstance(value, str):
        expect(value.count("{class}") == 1, key, expected, value)
        return value
    expect(isinstance(value, Mapping) and len(value) >= 2, key, expected, value)
    for cls, name in value.items():
        expect(isinstance(name, str) and name != "", f"{key}.{cls}", "a column name", name)
    expect(len(set(value.values())) == len(value), key, "a different column per class",
           value)
    return {str(cls): name for cls, name in value.items()}


def threshold_rule(value: Any, key: str) -> ConstantThreshold | ReferenceThreshold:
    """A drift threshold rule: ``{kind: constant}`` or ``{kind: reference, k, chunks}``.

    Parameters
    ----------
    value : Any
        The mapping found at ``key``.
    key : str
        Its dotted key (``drift.threshold``, ``drift.features.F.threshold``).

    Returns
    -------
    ConstantThreshold or ReferenceThreshold
        ``k`` (reference standard deviations, default 3) and ``chunks`` (default 10).

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``key`` and what it takes.
    """
    check_keys(value, THRESHOLD_KEYS, key)
    kind = value.get("kind", "constant")
    expect(kind in ("constant", "reference"), f"{key}.kind", "constant or reference", kind)
    if kind == "constant":
        return ConstantThreshold()
    k = value.get("k", 3.0)
    expect(isinstance(k, (int, float)) and not isinstance(k, bool) and k >= 0, f"{key}.k",
           "a non-negative number", k)
    chunks = value.get("chunks", 10)
    expect(isinstance(chunks, int) and not isinstance(chunks, bool) and chunks >= 2,
           f"{key}.chunks", "an integer >= 2", chunks)
    return ReferenceThreshold(k=float(k), chunks=chunks)


def drift_rule(value: Any, key: str) -> DriftRule:
    """A drift rule: ``{method, threshold}``, the method one of
    :data:`obskit.stattests.METHODS`.

    Parameters
    ----------
    value : Any
        The mapping found at ``key``.
    key : str
        Its dotted key (``drift.numeric``, ``drift.features.F``).

    Returns
    -------
    DriftRule
        The method, its constant threshold (the method's default unless given) and the
        threshold rule when ``threshold`` is a mapping.

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``key`` and what it takes.
    """
    check_keys(value, DRIFT_RULE_KEYS, key)
    method = value.get("method")
    expect(method in METHODS.names(), f"{key}.method", "one of " + ", ".join(METHODS.names()),
           method)
    threshold = value.get("threshold", METHODS.get(method).default_threshold)
    rule = None
    if isinstance(threshold, Mapping):
        rule = threshold_rule(threshold, f"{key}.threshold")
        threshold = METHODS.get(method).default_threshold
    expect(isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
           and threshold >= 0, f"{key}.threshold",
           "a non-negative number or {kind: constant|reference, k: ...}", threshold)
    return DriftRule(method, float(threshold), rule)


def alert_rule(value: Any, key: str, index: int) -> AlertRuleConfig:
    """An alert rule of the ``alerts`` list.

    Parameters
    ----------
    value : Any
        The mapping found at ``key``.
    key : str
        Its key (``alerts[i]``).
    index : int
        Its position in the list.

    Returns
    -------
    AlertRuleConfig
        The rule; its ``name`` defaults to ``"<metric> <op> <value>"``.

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``key`` and what it takes.
    """
    check_keys(value, ALERT_KEYS, key)
    for required in ("metric", "op", "value"):
        expect(required in value, f"{key}.{required}", "a value (required)", None)
    expect(isinstance(value["metric"], str), f"{key}.metric", "a string", value["metric"])
    expect(value["op"] in ALERT_OPS, f"{key}.op", "one of " + ", ".join(ALERT_OPS),
           value["op"])
    expect(isinstance(value["value"], (int, float)), f"{key}.value", "a number", value["value"])
    severity = value.get("severity", "warning")
    expect(severity in SEVERITIES, f"{key}.severity", "one of " + ", ".join(SEVERITIES),
           severity)
    name = value.get("name", f"{value['metric']} {value['op']} {value['value']}")
    persistence = value.get("persistence", 1)
    expect(isinstance(persistence, int) and not isinstance(persistence, bool)
           and persistence >= 1, f"{key}.persistence", "an integer >= 1", persistence)
    segment = value.get("segment")
    expect(segment is None or (isinstance(segment, Mapping) and len(segment) == 1),
           f"{key}.segment", "a mapping of one column to one value, e.g. {model_version: v2}",
           segment)
    action = value.get("action")
    expect(action is None or (isinstance(action, list) and len(action) > 0
                              and all(isinstance(a, str) for a in action)),
           f"{key}.action", "a command as a list of strings (no shell)", action)
    timeout = value.get("action_timeout_s", 60.0)
    expect(isinstance(timeout, (int, float)) and timeout > 0, f"{key}.action_timeout_s",
           "a positive number of seconds", timeout)
    return AlertRuleConfig(
        str(name), value["metric"], value["op"], float(value["value"]), severity,
        persistence=persistence,
        segment={str(k): str(v) for k, v in segment.items()} if segment else None,
        action=tuple(action) if action else None, action_timeout_s=float(timeout))


def duckdb_settings(value: Any, base: Path) -> dict[str, Any]:
    """The ``duckdb`` section: ``memory_limit`` (e.g. ``"2GB"``), ``threads``,
    ``temp_directory``.

    Parameters
    ----------
    value : Any
        The section (None: empty).
    base : Path
        Folder a relative ``temp_directory`` is taken from.

    Returns
    -------
    dict
        The settings given, ``temp_directory`` made absolute.

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``duckdb`` and what it takes.
    """
    settings = dict(check_keys(value or {}, DUCKDB_KEYS, "duckdb"))
    limit = settings.get("memory_limit")
    expect(limit is None or (isinstance(limit, str) and bool(_MEMORY.match(limit))),
           "duckdb.memory_limit", "a size such as '2GB' or '512MB'", limit)
    threads = settings.get("threads")
    expect(threads is None or (isinstance(threads, int) and not isinstance(threads, bool)
                                and threads >= 1), "duckdb.threads", "an integer >= 1",
           threads)
    if settings.get("temp_directory") is not None:
        settings["temp_directory"] = resolve_path(settings["temp_directory"],
                                           "duckdb.temp_directory", base)
    return settings


def spark_settings(value: Any) -> dict[str, Any]:
    """The ``spark`` section: ``master``, ``app_name``, ``conf``, ``log_level``.

    Parameters
    ----------
    value : Any
        The section (None: empty).

    Returns
    -------
    dict
        The settings given; ``conf`` values as Spark's text (booleans lower-case),
        ``log_level`` upper-case.

    Raises
    ------
    ConfigError
        Naming the first wrong key under ``spark`` and what it takes.
    """
    settings = dict(check_keys(value or {}, SPARK_KEYS, "spark"))
    for key in ("master", "app_name"):
        v = settings.get(key)
        expect(v is None or (isinstance(v, str) and v.strip() != ""), f"spark.{key}",
               "a non-empty string, e.g. 'local[*]' or 'spark://host:7077'"
               if key == "master" else "a non-empty string", v)
    conf = settings.get("conf") or {}
    expect(isinstance(conf, Mapping), "spark.conf",
           "a mapping of Spark properties, e.g. {spark.executor.memory: 4g}", conf)
    for k, v in conf.items():
        expect(isinstance(v, (str, int, float, bool)), f"spark.conf.{k}",
               "a string, number or boolean", v)
    settings["conf"] = {str(k): (str(v).lower() if isinstance(v, bool) else str(v))
                        for k, v in conf.items()}
    level = settings.get("log_level")
    expect(level is None or str(level).upper() in SPARK_LOG_LEVELS, "spark.log_level",
           "one of " + ", ".join(SPARK_LOG_LEVELS), level)
    if level is not None:
        settings["log_level"] = str(level).upper()
    return settings
