"""Names in the config that the data must have: a misspelt alert metric, feature type or
per-feature drift rule stops the run with exit 2 naming the key, instead of a rule never
judged or a setting silently ignored (and a run ending "ok"). A model the run would refuse
stops it before the analysis."""

from __future__ import annotations

import json

import numpy as np
import pytest

from obskit.cli import EXIT_INPUT, main
from obskit.config import DEFAULT_ALERTS, AlertRuleConfig
from obskit.exceptions import ConfigError
from obskit.findings.alert_rules import check_alert_metrics


@pytest.fixture
def logs(tmp_path):
    rng = np.random.default_rng(0)
    lines = [json.dumps({"timestamp": f"2026-11-0{1 + i // 50}T{i % 24:02d}:00:00Z",
                         "score": float(rng.random()), "label": int(rng.random() < 0.5),
                         "mean_radius": float(rng.normal()), "colour": "red"})
             for i in range(200)]
    path = tmp_path / "current.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _report(tmp_path, logs, extra: str, *flags: str) -> int:
    config = tmp_path / "c.yml"
    config.write_text(f"sources: {{current: {logs}}}\nout: {tmp_path / 'out'}\n{extra}")
    return main(["report", "--config", str(config), *flags])


@pytest.mark.parametrize(("extra", "key", "named"), [
    ("alerts:\n  - {name: x, metric: drift_shar, op: '>', value: 0.1}\n",
     "alerts[0].metric", "drift_share"),
    ("alerts:\n  - {name: x, metric: health.latency_p59_ms, op: '>', value: 1}\n",
     "alerts[0].metric", "latency_p95_ms"),
    ("alerts:\n  - {name: x, metric: drift.mean_radus, op: '>', value: 0.1}\n",
     "alerts[0].metric", "mean_radius"),
    ("alerts:\n  - {name: x, metric: performance.roc_uac, op: '<', value: 0.7}\n",
     "alerts[0].metric", "roc_auc"),
    ("features:\n  types: {mean_radus: categorical}\n", "features.types", "mean_radius"),
    ("drift:\n  features: {mean_radus: {method: psi, threshold: 0.2}}\n", "drift.features",
     "mean_radius"),
])
def test_a_misspelt_name_exits_2_naming_the_key_and_the_choices(tmp_path, logs, capsys,
                                                                 extra, key, named):
    assert _report(tmp_path, logs, extra) == EXIT_INPUT
    err = capsys.readouterr().err
    assert key in err and named in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_names_that_exist_pass_the_checks():
    rules = [*DEFAULT_ALERTS,
             AlertRuleConfig("d", "drift.mean_radius", ">", 0.1),
             AlertRuleConfig("q", "data_quality.*.missing_increase", ">", 0.1),
             AlertRuleConfig("a", "performance.roc_auc", "drop_pct", 5.0),
             AlertRuleConfig("m", "multivariate_drift.domain_classifier.value", ">", 0.6),
             AlertRuleConfig("h", "health.error_rate", ">", 0.05)]
    check_alert_metrics(rules)
    check_alert_metrics(rules, features=["mean_radius", "colour"], task="binary")
    check_alert_metrics([AlertRuleConfig("r", "performance.recall[cat]", "<", 0.5)],
                        features=[], task="multiclass")
    with pytest.raises(ConfigError, match="binary model"):
        check_alert_metrics([AlertRuleConfig("r", "performance.recall[cat]", "<", 0.5)],
                            features=[], task="binary")


def test_a_pickle_without_trust_stops_before_the_analysis(tmp_path, logs, capsys):
    model = tmp_path / "model.pkl"
    model.write_bytes(b"not read")
    assert _report(tmp_path, logs, f"model: {model}\n") == EXIT_INPUT
    err = capsys.readouterr().err
    assert "--trust-model" in err and str(model) in err
    # nothing was analysed: no cache, no run folder
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
