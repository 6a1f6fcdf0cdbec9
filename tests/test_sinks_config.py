"""``sinks:`` validation: defaults, and errors naming ``sinks.<key>``."""

from __future__ import annotations

import pytest

from obskit.exceptions import ConfigError
from obskit.results import load
from obskit.sinks import SinksConfig, dispatch, load_sinks


def test_defaults_and_paths(tmp_path):
    cfg = load_sinks({"webhook": {"url_env": "HOOK_URL"},
                      "prometheus": {"textfile": "metrics/obskit.prom"}}, base_dir=tmp_path)
    assert cfg.webhook.url_env == "HOOK_URL"
    assert (cfg.webhook.timeout_s, cfg.webhook.retries, cfg.webhook.backoff_s) == (5.0, 3, 0.5)
    assert cfg.prometheus.textfile == str(tmp_path / "metrics" / "obskit.prom")
    assert cfg.prometheus.job == "obskit" and cfg.prometheus.pushgateway is None
    assert load_sinks(None) == SinksConfig()
    assert load_sinks({"webhook": None}) == SinksConfig()


@pytest.mark.parametrize(("raw", "key", "text"), [
    ({"slack": {}}, "sinks.slack", "known keys of sinks: mlflow, otlp, prometheus, webhook"),
    ({"webhook": {"url_env": "X", "retry": 2}}, "sinks.webhook.retry",
     "url_env, timeout_s, retries, backoff_s"),
    ({"webhook": {}}, "sinks.webhook.url_env", "environment variable"),
    ({"webhook": {"url": "https://hooks.example/T0KEN"}}, "sinks.webhook.url", "url_env"),
    ({"webhook": {"url_env": "not a name"}}, "sinks.webhook.url_env", "variable name"),
    ({"webhook": {"url_env": "X", "timeout_s": 0}}, "sinks.webhook.timeout_s", "positive"),
    ({"webhook": {"url_env": "X", "retries": -1}}, "sinks.webhook.retries", "integer"),
    ({"webhook": {"url_env": "X", "backoff_s": "1s"}}, "sinks.webhook.backoff_s", "number"),
    ({"webhook": "X"}, "sinks.webhook", "a mapping"),
    ({"prometheus": {}}, "sinks.prometheus", "textfile, pushgateway"),
    ({"prometheus": {"textfile": "out.txt"}}, "sinks.prometheus.textfile", ".prom"),
    ({"prometheus": {"pushgateway": ""}}, "sinks.prometheus.pushgateway", "Pushgateway"),
    ({"prometheus": {"pushgateway": "h:9091", "job": "a/b"}}, "sinks.prometheus.job", "job"),
    ({"prometheus": {"textfile": "a.prom", "port": 1}}, "sinks.prometheus.port",
     "textfile, pushgateway, job"),
    (["webhook"], "sinks", "a mapping"),
])
def test_errors_name_the_key(raw, key, text):
    with pytest.raises(ConfigError) as info:
        load_sinks(raw)
    assert info.value.key == key
    assert text in str(info.value)
    assert "T0KEN" not in str(info.value)


def test_dispatch_validates_before_sending():
    with pytest.raises(ConfigError, match="sinks.bogus"):
        dispatch({"bogus": 1}, run=load({}), events={}, run_dir=None)


def test_dispatch_without_sinks_or_events_does_nothing():
    assert dispatch(None, run=load({}), events=None, run_dir=None) == []
