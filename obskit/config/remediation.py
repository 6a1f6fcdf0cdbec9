"""The ``remediation:`` section: guarded self-healing rules (rollback, retrain, webhook).

Validated once, at :func:`obskit.config.load_config`, with errors naming
``remediation.rules[i].key``; :attr:`obskit.config.Config.remediation` holds the
:class:`RemediationConfig` (None: not configured)::

    remediation:
      dry_run: true                 # default: decisions are audited and printed only
      audit_log: remediation.jsonl  # default <out>/remediation.jsonl (append-only)
      registry: {alias_file: models.json}   # or {tracking_uri: sqlite:///mlflow.db,
                                            #     model_name: churn}
      alias: champion
      max_actions_per_day: 2        # optional cap over all rules (UTC day)
      rules:
        - alert: drift_share        # a rule of the config's `alerts:`
          action: rollback          # rollback | retrain | webhook
          consecutive_windows: 3
          cooldown: 1d
          max_per_day: 1            # cap of this rule (UTC day)
        - alert: performance_drop
          action: retrain
          entry_point: mypkg.train:make_candidate
          gate: {metric: roc_auc, windows: 3, min_improvement: 0.0, max_rows: 50000}

The guards follow Argo Rollouts' analysis (``failureLimit`` consecutive measurements,
dry-run metrics) and KServe's canary practice (promote a challenger only on evidence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from obskit.config.checks import check_keys, expect, resolve_path
from obskit.config.entry_points import import_folders, load_entry_point
from obskit.config.schedule import parse_duration
from obskit.exceptions import ConfigError

__all__ = ["RemediationConfig", "RemediationRule", "GateConfig", "load_remediation",
           "REMEDIATION_KEYS", "RULE_KEYS", "GATE_KEYS", "REGISTRY_KEYS", "ACTIONS"]

REMEDIATION_KEYS = ("dry_run", "audit_log", "registry", "alias", "max_actions_per_day",
                    "rules")
RULE_KEYS = ("alert", "action", "consecutive_windows", "cooldown", "max_per_day",
             "entry_point", "gate")
GATE_KEYS = ("metric", "windows", "min_improvement", "max_rows")
REGISTRY_KEYS = ("alias_file", "tracking_uri", "model_name")
ACTIONS = ("rollback", "retrain", "webhook")
_ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_ALIAS = re.compile(r"^[A-Za-z_][\w-]*$")


@dataclass(frozen=True)
class GateConfig:
    """When a retrained challenger replaces the champion: ``metric`` (a scikit-learn scorer
    name, higher is better) on the last ``windows`` labelled windows (at most ``max_rows``
    rows) is at least the champion's plus ``min_improvement``."""

    metric: str = "roc_auc"
    windows: int = 3
    min_improvement: float = 0.0
    max_rows: int = 50_000


@dataclass(frozen=True)
class RemediationRule:
    """One rule: act on ``alert`` with ``action`` after ``consecutive_windows`` breaching
    windows, at most once per ``cooldown`` and ``max_per_day`` times a UTC day."""

    alert: str
    action: str
    consecutive_windows: int = 3
    cooldown: timedelta = timedelta(days=1)
    #: the text of ``cooldown`` as written (for messages)
    cooldown_text: str = "1d"
    max_per_day: int = 1
    #: ``module:function`` returning a candidate model (``retrain`` only)
    entry_point: str | None = None
    #: folders searched for the entry point's module before ``sys.path`` (the config's
    #: folder, then the working directory at load time; see obskit.config.entry_points)
    entry_point_folders: tuple[str, ...] = ()
    gate: GateConfig = field(default_factory=GateConfig)

    @property
    def key(self) -> str:
        """``alert/action``: the rule's name in the state file and the audit log."""
        return f"{self.alert}/{self.action}"


@dataclass(frozen=True)
class RemediationConfig:
    """The ``remediation`` section: the registry, the serving alias and the rules."""

    rules: tuple[RemediationRule, ...]
    dry_run: bool = True
    #: the audit log (None: ``<out>/remediation.jsonl``)
    audit_log: str | None = None
    #: a JSON alias file (absolute path), or None with ``tracking_uri``
    alias_file: str | None = None
    tracking_uri: str | None = None
    model_name: str | None = None
    alias: str = "champion"
    #: a cap over all rules per UTC day (None: only the rules' own caps)
    max_actions_per_day: int | None = None

    @property
    def registry_target(self) -> str | None:
        """What :func:`obskit.instrument.aliases.open_alias_store` opens."""
        return self.alias_file or self.tracking_uri


def _positive_int(value: Any, key: str) -> int:
    expect(isinstance(value, int) and not isinstance(value, bool) and value >= 1, key,
           "an integer >= 1", value)
    return int(value)


def _gate(value: Any, key: str) -> GateConfig:
    from sklearn.metrics import get_scorer_names

    gate = check_keys(value if value is not None else {}, GATE_KEYS, key)
    metric = gate.get("metric", "roc_auc")
    names = sorted(get_scorer_names())
    expect(isinstance(metric, str) and metric in names, f"{key}.metric",
           "a scikit-learn scorer name (higher is better), e.g. roc_auc, accuracy, "
           "average_precision, neg_log_loss, r2", metric)
    improvement = gate.get("min_improvement", 0.0)
    expect(isinstance(improvement, (int, float)) and not isinstance(improvement, bool),
           f"{key}.min_improvement", "a number", improvement)
    return GateConfig(metric, _positive_int(gate.get("windows", 3), f"{key}.windows"),
                      float(improvement),
                      _positive_int(gate.get("max_rows", 50_000), f"{key}.max_rows"))


def _rule(value: Any, key: str, alerts: tuple[str, ...], base_dir: Path) -> RemediationRule:
    rule = check_keys(value, RULE_KEYS, key)
    for required in ("alert", "action"):
        expect(required in rule, f"{key}.{required}", "a value (required)", None)
    alert = rule["alert"]
    expect(isinstance(alert, str) and alert in alerts, f"{key}.alert",
           "the name of an alert rule of the config (" + ", ".join(alerts) + ")", alert)
    action = rule["action"]
    expect(action in ACTIONS, f"{key}.action", "one of " + ", ".join(ACTIONS), action)
    cooldown = rule.get("cooldown", "1d")
    entry = rule.get("entry_point")
    if action == "retrain":
        expect(isinstance(entry, str) and bool(_ENTRY_POINT.match(entry)),
               f"{key}.entry_point", "module:function (e.g. mypkg.train:make_candidate)",
               entry)
    else:
        expect(entry is None and rule.get("gate") is None,
               f"{key}.entry_point" if entry is not None else f"{key}.gate",
               "no value: only a retrain rule takes entry_point and gate",
               entry if entry is not None else rule.get("gate"))
    gate = _gate(rule.get("gate"), f"{key}.gate") if action == "retrain" else GateConfig()
    folders = import_folders(base_dir) if action == "retrain" else ()
    if action == "retrain":  # a missing module or function stops the config, not the run
        load_entry_point(str(entry), f"{key}.entry_point", folders)
    return RemediationRule(
        alert, action,
        consecutive_windows=_positive_int(rule.get("consecutive_windows", 3),
                                          f"{key}.consecutive_windows"),
        cooldown=parse_duration(cooldown, f"{key}.cooldown"), cooldown_text=str(cooldown),
        max_per_day=_positive_int(rule.get("max_per_day", 1), f"{key}.max_per_day"),
        entry_point=entry, entry_point_folders=folders, gate=gate)


def load_remediation(raw: Any, *, alerts: Iterable[str], base_dir: Path,
                     webhook: bool = False) -> RemediationConfig | None:
    """The ``remediation`` section, validated.

    Parameters
    ----------
    raw : Any
        The section as read from YAML (None: not configured).
    alerts : iterable of str
        The names of the config's alert rules (``alerts:``, or the default rules).
    base_dir : Path
        The folder relative ``audit_log`` and ``alias_file`` paths are taken from; a
        retrain ``entry_point`` module is searched there, then in the working directory.
    webhook : bool
        Whether ``sinks.webhook`` is configured (a ``webhook`` action needs it).

    Returns
    -------
    RemediationConfig or None

    Raises
    ------
    ConfigError
        The first mistake, naming its key (``remediation.rules[0].action``): also an
        ``alias_file`` that does not exist, and a retrain ``entry_point`` whose module or
        function cannot be imported.
    """
    if raw is None:
        return None
    section = check_keys(raw, REMEDIATION_KEYS, "remediation")
    names = tuple(alerts)
    rules_raw = section.get("rules")
    expect(isinstance(rules_raw, list) and len(rules_raw) > 0, "remediation.rules",
           "a non-empty list of rules", rules_raw)
    rules = tuple(_rule(r, f"remediation.rules[{i}]", names, base_dir)
                  for i, r in enumerate(rules_raw or ()))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        expect(rule.key not in seen, f"remediation.rules[{i}]",
               "one rule per alert and action", rule.key)
        seen.add(rule.key)
        expect(rule.action != "webhook" or webhook, f"remediation.rules[{i}].action",
               "a configured sinks.webhook for the webhook action", rule.action)
    dry = section.get("dry_run", True)
    expect(isinstance(dry, bool), "remediation.dry_run", "true or false", dry)
    alias = section.get("alias", "champion")
    expect(isinstance(alias, str) and bool(_ALIAS.match(alias)) and alias != "challenger",
           "remediation.alias", "an alias name other than 'challenger' (e.g. champion)",
           alias)
    cap = section.get("max_actions_per_day")
    if cap is not None:
        cap = _positive_int(cap, "remediation.max_actions_per_day")
    registry = check_keys(section.get("registry") or {}, REGISTRY_KEYS, "remediation.registry")
    needs = any(r.action in ("rollback", "retrain") for r in rules)
    alias_file = resolve_path(registry.get("alias_file"), "remediation.registry.alias_file",
                              base_dir)
    if alias_file and not Path(alias_file).is_file():  # not "nothing to do": a mistake
        raise ConfigError("config key 'remediation.registry.alias_file': no alias file "
                          f"{alias_file!r} (create it with obskit.instrument.aliases."
                          "open_alias_store(PATH, model_name=...).register(...))",
                          key="remediation.registry.alias_file")
    uri, model = registry.get("tracking_uri"), registry.get("model_name")
    expect(not (alias_file and uri), "remediation.registry",
           "either alias_file or tracking_uri, not both", dict(registry))
    expect(uri is None or (isinstance(uri, str) and uri != ""),
           "remediation.registry.tracking_uri", "an MLflow tracking URI", uri)
    expect(uri is None or (isinstance(model, str) and model != ""),
           "remediation.registry.model_name", "the registered model name (with tracking_uri)",
           model)
    expect(not needs or bool(alias_file or uri), "remediation.registry",
           "{alias_file: PATH.json} or {tracking_uri: URI, model_name: NAME} for a rollback "
           "or retrain rule", section.get("registry"))
    return RemediationConfig(
        rules, dry_run=dry,
        audit_log=resolve_path(section.get("audit_log"), "remediation.audit_log", base_dir),
        alias_file=alias_file, tracking_uri=uri, model_name=model, alias=alias,
        max_actions_per_day=cap)
