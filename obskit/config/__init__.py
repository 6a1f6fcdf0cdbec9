"""The run configuration: one YAML file, every key also a CLI flag.

Parsed and validated once, by :func:`load_config`, before any data is read; every mistake
names its key (``section.key``) and what was expected. Modules:

- :mod:`obskit.config.model`: :class:`Config` and the rules it holds (typed, frozen);
- :mod:`obskit.config.load`: reading the file, merging overrides, validating;
- :mod:`obskit.config.sections`: drift rules, alert rules and engine settings;
- :mod:`obskit.config.anomalies`, :mod:`obskit.config.sinks`,
  :mod:`obskit.config.schedule`: the ``anomalies``, ``sinks`` and ``schedule`` sections;
- :mod:`obskit.config.flags`: the report flags of the CLI and the overrides they make;
- :mod:`obskit.config.checks`: the validation helpers every parser uses.
"""

from __future__ import annotations

from obskit.config.anomalies import AnomalyConfig
from obskit.config.checks import check_keys, expect, resolve_path
from obskit.config.load import TOP_LEVEL_KEYS, config_from_dict, load_config, read_config_file
from obskit.config.model import (
    DEFAULT_ALERTS,
    DEFAULT_DRIFT,
    ENGINES,
    TASKS,
    AlertRuleConfig,
    Config,
    DriftRule,
)
from obskit.config.schedule import JobConfig, ScheduleConfig, parse_duration
from obskit.config.sections import DUCKDB_KEYS, SPARK_KEYS, SPARK_LOG_LEVELS
from obskit.config.sinks import PrometheusConfig, SinksConfig, WebhookConfig, load_sinks

__all__ = [
    "Config", "DriftRule", "AlertRuleConfig", "AnomalyConfig", "SinksConfig", "WebhookConfig",
    "PrometheusConfig", "ScheduleConfig", "JobConfig",
    "load_config", "config_from_dict", "read_config_file", "load_sinks", "parse_duration",
    "expect", "check_keys", "resolve_path",
    "TASKS", "ENGINES", "TOP_LEVEL_KEYS", "DEFAULT_DRIFT", "DEFAULT_ALERTS",
    "DUCKDB_KEYS", "SPARK_KEYS", "SPARK_LOG_LEVELS",
]
