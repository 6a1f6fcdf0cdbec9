"""Config validation: every mistake names its key; paths resolve against the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from obskit.config import TOP_LEVEL_KEYS, load_config
from obskit.exceptions import ConfigError


def cfg(**raw):
    raw.setdefault("sources", {"current": "/logs/current.jsonl"})
    return load_config(overrides=raw)


def test_minimal_defaults():
    c = cfg()
    assert c.current == "/logs/current.jsonl"
    assert c.reference is None and c.labels is None and c.task is None
    assert c.window == "1d" and c.column("timestamp") == "timestamp"


def test_unknown_top_level_key_lists_known_keys():
    with pytest.raises(ConfigError) as err:
        cfg(colums={"timestamp": "ts"})
    msg = str(err.value)
    assert "'colums'" in msg and err.value.key == "colums"
    for key in TOP_LEVEL_KEYS:
        assert key in msg


def test_unknown_nested_keys():
    with pytest.raises(ConfigError) as err:
        cfg(sources={"current": "/a.jsonl", "refrence": "/b.jsonl"})
    assert "sources.refrence" in str(err.value)
    assert "reference" in str(err.value) and "labels" in str(err.value)
    with pytest.raises(ConfigError, match="columns.prediciton"):
        cfg(columns={"prediciton": "p"})
    with pytest.raises(ConfigError, match="features.inclde"):
        cfg(features={"inclde": ["a"]})


def test_missing_current_source():
    with pytest.raises(ConfigError, match="sources.current"):
        load_config(overrides={"task": "binary"})


@pytest.mark.parametrize("task", ["classification", "Binary", 3])
def test_bad_task(task):
    with pytest.raises(ConfigError) as err:
        cfg(task=task)
    assert err.value.key == "task"
    assert "'task'" in str(err.value) and "binary, multiclass, regression" in str(err.value)


@pytest.mark.parametrize("window", ["1 day", "0h", "rows", "-5 rows", "1q", ""])
def test_bad_window(window):
    with pytest.raises(ConfigError) as err:
        cfg(window=window)
    assert err.value.key == "window" and "'window'" in str(err.value)


def test_good_window_and_task():
    c = cfg(window="5000 rows", task="regression")
    assert c.window == "5000 rows" and c.task == "regression"


def test_bad_drift_method():
    pytest.importorskip("obskit.stattests.drift_rules")
    with pytest.raises(ConfigError) as err:
        cfg(drift={"numeric": {"method": "magic"}})
    assert err.value.key == "drift.numeric.method"
    assert "drift.numeric.method" in str(err.value) and "'magic'" in str(err.value)
    with pytest.raises(ConfigError, match="drift.features.age.method"):
        cfg(drift={"features": {"age": {"method": "nope", "threshold": 0.2}}})


def test_bad_feature_type_and_column_name():
    with pytest.raises(ConfigError, match="features.types.age"):
        cfg(features={"types": {"age": "integer"}})
    with pytest.raises(ConfigError, match="columns.timestamp"):
        cfg(columns={"timestamp": ""})


def test_features_list_shorthand():
    c = cfg(features=["a", "b"])
    assert c.features == ("a", "b") and c.exclude == ()


def test_relative_paths_resolve_against_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "obskit.yaml").write_text(
        "sources:\n  current: logs/current.jsonl\n  reference: ../ref/*.parquet\n"
        "  labels: /abs/labels.csv\nout: reports/x\nmodel: model.pkl\n"
    )
    monkeypatch.chdir(tmp_path)  # somewhere else than the config's folder
    c = load_config(folder / "obskit.yaml")
    assert c.current == str(folder / "logs" / "current.jsonl")
    assert Path(c.reference) == folder / ".." / "ref" / "*.parquet"
    assert c.labels == "/abs/labels.csv"
    assert c.out == str(folder / "reports" / "x")
    assert c.model == str(folder / "model.pkl")


def test_overrides_merge_into_file(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "obskit.yaml"
    path.write_text(
        "task: binary\nwindow: 1h\nsources:\n  current: cur.jsonl\n  reference: ref.jsonl\n"
        "columns:\n  timestamp: ts\n  score: p\n"
    )
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    c = load_config(path, overrides={"window": "1w", "sources": {"current": "new.jsonl"},
                                     "columns": {"score": "proba"}})
    assert c.task == "binary" and c.window == "1w"
    assert c.current == str(other / "new.jsonl")        # overrides: relative to the cwd
    assert c.reference == str(folder / "ref.jsonl")     # file: relative to its folder
    assert dict(c.columns) == {"timestamp": "ts", "score": "proba"}
    c = load_config(path, overrides={"sources": {"labels": "lab.csv"}}, base_dir=tmp_path)
    assert c.labels == str(tmp_path / "lab.csv") and c.current == str(folder / "cur.jsonl")


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(lst)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("sources:\n  current: a.jsonl\nwindw: 1h\n")
    with pytest.raises(ConfigError, match="'windw'"):
        load_config(unknown)


def test_engine_settings_sections(tmp_path):
    c = cfg()
    assert c.engine == "duckdb" and c.engine_settings() == {}
    c = cfg(duckdb={"memory_limit": "2GB", "threads": 2, "temp_directory": str(tmp_path)})
    assert c.engine_settings() == {"memory_limit": "2GB", "threads": 2,
                                   "temp_directory": str(tmp_path)}
    c = cfg(engine="spark", spark={"master": "spark://host:7077", "log_level": "warn",
                                   "conf": {"spark.executor.memory": "4g",
                                            "spark.sql.shuffle.partitions": 8}})
    assert c.engine_settings() == {"master": "spark://host:7077", "log_level": "WARN",
                                   "conf": {"spark.executor.memory": "4g",
                                            "spark.sql.shuffle.partitions": "8"}}


@pytest.mark.parametrize("raw, key", [
    ({"engine": "polars"}, "engine"),
    ({"duckdb": {"memory_limit": "lots"}}, "duckdb.memory_limit"),
    ({"duckdb": {"threads": 0}}, "duckdb.threads"),
    ({"duckdb": {"memory": "2GB"}}, "duckdb.memory"),
    ({"spark": {"master": ""}}, "spark.master"),
    ({"spark": {"conf": ["a"]}}, "spark.conf"),
    ({"spark": {"conf": {"spark.x": [1]}}}, "spark.conf.spark.x"),
    ({"spark": {"log_level": "LOUD"}}, "spark.log_level"),
])
def test_bad_engine_settings_name_the_key(raw, key):
    with pytest.raises(ConfigError) as err:
        cfg(**raw)
    assert err.value.key == key and repr(key) in str(err.value)


def test_duckdb_settings_apply_to_the_connection(tmp_path):
    from obskit.io.engine import connect

    con = connect("duckdb", {"memory_limit": "512MB", "threads": 1,
                             "temp_directory": str(tmp_path)})
    got = dict(con.raw_sql("SELECT name, value FROM duckdb_settings() WHERE name IN "
                           "('memory_limit', 'threads', 'temp_directory', 'TimeZone')")
               .fetchall())
    assert got["threads"] == "1" and got["TimeZone"] == "UTC"
    assert got["temp_directory"] == str(tmp_path)
    assert got["memory_limit"].startswith(("488", "512"))  # DuckDB shows MiB


def test_engine_flags_have_config_keys(tmp_path):
    from obskit.cli import build_parser
    from obskit.config.flags import overrides_from_flags

    args = build_parser().parse_args(["report", "--current", "x.jsonl", "--engine", "spark",
                                      "--spark-master", "local[2]"])
    c = cfg(**{k: v for k, v in overrides_from_flags(args).items() if k != "sources"})
    assert c.engine == "spark" and c.engine_settings() == {"master": "local[2]", "conf": {}}


# -- every section typed, parsed once, at load_config (before any logs are read) ----------


def test_window_is_parsed_once_at_load():
    from obskit.config import Config
    from obskit.windows import PeriodWindow, RowWindow, parse_window

    c = cfg(window="6h")
    assert c.window == "6h" and c.window_spec == parse_window("6h")
    assert isinstance(c.window_spec, PeriodWindow)
    assert isinstance(cfg(window="5000 rows").window_spec, RowWindow)
    assert cfg().window_spec == parse_window("1d")
    # built directly (tests, notebooks): the spec follows the text
    assert Config(current="/x", window="2h").window_spec == parse_window("2h")


def test_anomalies_section_is_typed_at_load():
    from obskit.config import AnomalyConfig

    assert cfg().anomalies == AnomalyConfig()
    c = cfg(anomalies={"top_n": 5, "score_quantiles": [0.01, 0.99]})
    assert isinstance(c.anomalies, AnomalyConfig)
    assert c.anomalies.top_n == 5 and c.anomalies.score_quantiles == (0.01, 0.99)


@pytest.mark.parametrize("section, key", [
    ({"top": 5}, "anomalies.top"),
    ({"top_n": 0}, "anomalies.top_n"),
    ({"score_quantiles": [0.9, 0.1]}, "anomalies.score_quantiles"),
])
def test_bad_anomalies_key_fails_at_load_naming_it(tmp_path, section, key):
    # the logs do not exist: the error can only come from load_config itself
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"sources": {"current": str(tmp_path / "missing.jsonl")},
                               "anomalies": section})
    assert err.value.key == key and key in str(err.value)


def test_sinks_section_is_typed_at_load(tmp_path):
    from obskit.config import SinksConfig

    assert cfg().sinks == SinksConfig()
    path = tmp_path / "config.yml"
    path.write_text("sources: {current: logs/}\n"
                    "sinks: {webhook: {url_env: HOOK}, prometheus: {textfile: out/m.prom}}\n")
    c = load_config(path)
    assert c.sinks.webhook is not None and c.sinks.webhook.url_env == "HOOK"
    assert c.sinks.prometheus is not None
    assert c.sinks.prometheus.textfile == str(tmp_path / "out" / "m.prom")


@pytest.mark.parametrize("section, key", [
    ({"webhook": {"url_env": "HOOK", "retry": 3}}, "sinks.webhook.retry"),
    ({"webhook": {"url": "https://hooks.example/x"}}, "sinks.webhook.url"),
    ({"prometheus": {"textfile": "metrics.txt"}}, "sinks.prometheus.textfile"),
    ({"slack": {}}, "sinks.slack"),
])
def test_bad_sinks_key_fails_at_load_naming_it(tmp_path, section, key):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"sources": {"current": str(tmp_path / "missing.jsonl")},
                               "sinks": section})
    assert err.value.key == key and key in str(err.value)


def test_schedule_section_is_typed_at_load(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("sources: {current: logs/}\n"
                    "schedule:\n"
                    "  lock_max_age_s: 60\n"
                    "  jobs: [{name: daily, cron: '0 6 * * *', window_offset: 1d}]\n")
    c = load_config(path)
    assert c.schedule is not None and c.schedule.lock_max_age_s == 60.0
    (job,) = c.schedule.jobs
    assert (job.name, job.cron, job.window_offset) == ("daily", "0 6 * * *", "1d")
    assert job.config == str(path.resolve())  # no config: the file itself
    assert cfg().schedule is None


@pytest.mark.parametrize("jobs, key", [
    ([{"name": "d", "cron": "every day"}], "schedule.jobs[0].cron"),
    ([{"name": "d", "cron": "0 6 * * *", "colour": "red"}], "schedule.jobs[0].colour"),
    ([{"name": "d", "cron": "0 6 * * *", "window_offset": "5000 rows"}],
     "schedule.jobs[0].window_offset"),
    ([{"name": "d", "cron": "0 6 * * *", "config": "missing.yml"}],
     "schedule.jobs[0].config"),
])
def test_bad_schedule_key_fails_at_load_naming_it(tmp_path, jobs, key):
    import yaml

    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"sources": {"current": "missing.jsonl"},
                                    "schedule": {"jobs": jobs}}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key and key in str(err.value)


def test_unknown_schedule_key_fails_at_load(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"sources": {"current": str(tmp_path / "missing.jsonl")},
                               "schedule": {"jobz": []}})
    assert err.value.key == "schedule.jobz"
