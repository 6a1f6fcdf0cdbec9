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
    pytest.importorskip("obskit.drift")
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
    from obskit.cli import build_parser, overrides_from_flags

    args = build_parser().parse_args(["report", "--current", "x.jsonl", "--engine", "spark",
                                      "--spark-master", "local[2]"])
    c = cfg(**{k: v for k, v in overrides_from_flags(args).items() if k != "sources"})
    assert c.engine == "spark" and c.engine_settings() == {"master": "local[2]", "conf": {}}
