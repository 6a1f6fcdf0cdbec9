"""Spark parity: the same logs read and analysed by Spark (local mode) give what DuckDB gives.

The readers must agree exactly (rows, line numbers, quarantine); the whole analysis must
give the same ``summary.json`` up to :data:`REL` / :data:`ABS` on floats (the engines sum
floats in different orders) and for the keys in :data:`EXCLUDED`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from obskit.config import load_config
from obskit.io import load_logs
from obskit.io.engine import SPARK_DEFAULT_CONF, connect, spark_conf

pytestmark = pytest.mark.spark

if shutil.which("java") is None:
    pytest.skip("Spark tests need Java 17+ on PATH (CI installs it)", allow_module_level=True)
pytest.importorskip("pyspark", reason="Spark tests need pip install 'obskit[spark]'")

#: local mode, two cores, nothing else: obskit's own defaults (partitions, AQE, no UI)
SPARK = {"master": "local[2]"}
#: float tolerance of the summary comparison (relative, absolute)
REL, ABS = 1e-6, 1e-9
#: summary keys that legitimately differ between two runs, with why
EXCLUDED = {
    "generated_at",  # the wall-clock time of each run
    "timings",  # seconds per stage: Spark's differ from DuckDB's
    "run_id", "run_dir",  # each run's folder: named by its start time, under its own --out
}
ROWS = 4_000


@pytest.fixture(scope="module")
def spark_con():
    con = connect("spark", SPARK)
    yield con
    con._session.stop()


def _load(con, current, **overrides):
    cfg = load_config(overrides={"sources": {"current": current}, "task": "binary",
                                 **overrides})
    return load_logs(cfg, con=con)


def _accounting(log_table):
    """Everything the readers decide: counts, typed rows in line order, the quarantine."""
    rows = log_table.table.execute().sort_values(["_file", "_line"]).reset_index(drop=True)
    return ((log_table.rows_read, log_table.rows_used, log_table.rows_quarantined),
            rows, log_table.quarantine_summary(limit=1000))


def assert_same_reading(current, spark_con, **overrides):
    duck = _load(None, current, **overrides)
    spark = _load(spark_con, current, **overrides)
    assert spark.features == duck.features and spark.task == duck.task
    d_counts, d_rows, d_quarantine = _accounting(duck.current)
    s_counts, s_rows, s_quarantine = _accounting(spark.current)
    assert s_counts == d_counts
    assert s_quarantine == d_quarantine
    pd.testing.assert_frame_equal(s_rows[list(d_rows.columns)], d_rows, check_dtype=False)
    return duck


def test_jsonl_quarantine_matches_duckdb(write, spark_con):
    p = write("a.jsonl", [
        {"timestamp": "2024-01-01T00:00:00Z", "score": 0.2, "x": 1.5, "c": "a"},
        "{not json",                                                       # 2 invalid
        "",                                                                # 3 blank
        "[1, 2]",                                                          # 4 not an object
        {"timestamp": "2024-01-01T01:00:00Z", "score": 0.4, "x": "zz", "c": "b"},  # 5 x bad
        "null",                                                            # 6 not an object
        {"score": 0.1, "x": 2, "c": "b"},                                  # 7 no timestamp
        {"timestamp": "garbage", "score": 0.3, "x": 2, "c": "b"},          # 8 bad timestamp
        {"timestamp": 1704070800, "score": "0.9", "x": 3, "c": None},      # 9 ok, epoch
        "   ",                                                             # 10 blank
        {"timestamp": "2024-01-01T03:00:00Z", "score": 0.7, "x": 4e3, "c": "a"},  # 11 ok
    ])
    duck = assert_same_reading(p, spark_con, features={"types": {"x": "numeric"}})
    assert (duck.current.rows_read, duck.current.rows_quarantined) == (9, 6)


def test_data_quality_counts_infinities_on_spark_as_on_duckdb(tmp_path, spark_con):
    """Ibis's ``isinf()`` is always false on Spark: +inf/-inf must still be counted as
    non-finite (and left out of the statistics) there."""
    from obskit.monitors import DataQualityMonitor
    from obskit.profiles import clean_numeric

    lines = "".join(f'{{"timestamp": "2026-01-01T00:00:{i:02d}Z", "x": {v}}}\n'
                    for i, v in enumerate(["1.5", '"inf"', '"-inf"', "null", "2"]))
    path = tmp_path / "x.jsonl"
    path.write_text(lines)
    got = {}
    for name, con in (("duckdb", connect()), ("spark", spark_con)):
        table = _load(con, str(path), features={"types": {"x": "numeric"}}).current.table
        frame = DataQualityMonitor({"x": "numeric"}).fit(table).calculate(table)
        got[name] = (frame[["missing", "non_finite", "values"]].iloc[0].tolist(),
                     int(clean_numeric(table, "x").count().execute()))
    assert got["spark"] == got["duckdb"] == ([1, 2, 2], 2)


def test_jsonl_nested_features_match_duckdb(write, spark_con):
    p = write("a.jsonl", [
        {"timestamp": "2024-01-01T00:00:00Z", "score": 0.2, "x": 9,
         "features": {"x": 1, "c": "a", "flag": True}},
        {"timestamp": "2024-01-01T01:00:00Z", "score": 0.9,
         "features": {"x": 3.25, "c": "b", "flag": False}},
    ])
    duck = assert_same_reading(p, spark_con)
    assert set(duck.features) == {"x", "features.x", "c", "flag"}


def test_jsonl_files_read_together_match_duckdb(write, tmp_path, spark_con):
    """A directory of JSON-lines files is read in one Spark plan: its columns are those of
    the files stacked by name (a nested key named ``features.x`` in one file, ``x`` in
    another), and line numbers stay exact when Spark splits files and packs splits of
    several files into one partition."""
    write("logs/a.jsonl", [{"timestamp": "2024-01-01T00:00:00Z", "score": 0.2, "x": 9,
                            "features": {"x": 1, "c": "a"}}, "{bad", ""])
    write("logs/b.jsonl", [{"timestamp": "2024-01-02T00:00:00Z", "score": 0.3,
                            "features": {"x": 2, "c": "b", "z": 3}}])
    write("logs/c.jsonl", [{"timestamp": "2024-01-03T00:00:00Z", "x": 7, "features": "no"}])
    write("logs/d.jsonl", ["" if i % 97 == 5 else "{oops" if i % 131 == 7 else
                           {"timestamp": f"2024-01-04T00:00:{i % 60:02d}Z", "score": 0.5,
                            "x": i} for i in range(3000)])
    session = spark_con._session
    try:
        session.conf.set("spark.sql.files.maxPartitionBytes", "20000")
        session.conf.set("spark.sql.files.openCostInBytes", "1")
        duck = assert_same_reading(str(tmp_path / "logs"), spark_con)
    finally:
        session.conf.unset("spark.sql.files.maxPartitionBytes")
        session.conf.unset("spark.sql.files.openCostInBytes")
    assert duck.current.table.columns[:8] == (
        "_file", "_line", "timestamp", "score", "x", "c", "features.x", "z")


def test_csv_rejects_and_blank_lines_match_duckdb(write, spark_con):
    p = write("a.csv",
              "timestamp,x,c\n"                      # 1 header
              "2024-01-01T00:00:00Z,1,a\n"           # 2 ok
              "2024-01-01T00:00:00Z,2,a,extra\n"     # 3 too many fields
              "\n"                                   # 4 blank
              "2024-01-01T00:00:00Z,zz,b\n"          # 5 x not numeric
              "2024-01-01T00:00:00Z\n"               # 6 missing fields
              "   \n"                                # 7 blank
              "garbage,3,c\n"                        # 8 bad timestamp
              '2024-01-01T00:00:00Z,,"d, e"\n'       # 9 ok, x missing, quoted comma
              "2024-01-01T00:00:00Z,4,d\n")          # 10 ok
    duck = assert_same_reading(p, spark_con, features={"types": {"x": "numeric"}})
    assert duck.current.rows_quarantined == 4


def test_tsv_csv_directory_and_parquet_match_duckdb(write, tmp_path, spark_con):
    write("logs/a.tsv", "timestamp\tx\tc\n2024-01-01T00:00:00Z\t1.5\ta\n"
                        "2024-01-02T00:00:00Z\t2\n")
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(["2024-01-03", "2024-01-04"], utc=True)
        .astype("datetime64[us, UTC]"),  # Spark reads microseconds, not nanoseconds
        "x": [3.0, float("nan")], "c": ["b", None], "flag": [True, False]})
    write("logs/b.csv", "timestamp,x,c\n2024-01-03T00:00:00Z,3,b\n2024-01-04T00:00:00Z,,\n")
    assert_same_reading(str(tmp_path / "logs"), spark_con)
    assert_same_reading(write("c.parquet", frame), spark_con)


def test_labels_join_matches_duckdb(write, spark_con):
    cur = write("cur.jsonl", [
        {"timestamp": f"2024-01-01T0{i}:00:00Z", "request_id": f"r{i}", "score": i / 10,
         "x": float(i)} for i in range(6)])
    labels = write("labels.csv", "request_id,label,timestamp\nr1,1,2024-01-02T00:00:00Z\n"
                                 "r1,0,2024-01-03T00:00:00Z\nr2,1,2024-01-02T00:00:00Z\n"
                                 "r9,1,2024-01-02T00:00:00Z\nr3,oops\n")
    cfg = load_config(overrides={"sources": {"current": cur, "labels": labels},
                                 "task": "binary"})
    duck, spark = load_logs(cfg), load_logs(cfg, con=spark_con)
    assert spark.labels == duck.labels
    cols = ["request_id", "label"]
    assert (spark.current.table.execute().sort_values("request_id")[cols].values.tolist()
            == duck.current.table.execute().sort_values("request_id")[cols].values.tolist())


# ---- the whole report


def _compare(spark, duck, path="$"):
    """Assert two summary documents equal: floats within REL/ABS, the rest exactly."""
    if isinstance(duck, dict):
        assert isinstance(spark, dict), path
        keys = set(duck) - (EXCLUDED if path == "$" else set())
        assert set(spark) - (EXCLUDED if path == "$" else set()) == keys, path
        for k in sorted(keys, key=str):
            _compare(spark[k], duck[k], f"{path}.{k}")
    elif isinstance(duck, list):
        assert isinstance(spark, list) and len(spark) == len(duck), path
        for i, (s, d) in enumerate(zip(spark, duck, strict=True)):
            _compare(s, d, f"{path}[{i}]")
    elif isinstance(duck, float) and not isinstance(spark, bool) and \
            isinstance(spark, (int, float)):
        if math.isnan(duck):
            assert math.isnan(spark), path
        else:
            assert spark == pytest.approx(duck, rel=REL, abs=ABS), path
    else:
        assert spark == duck, path


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from obskit.demo import generate_demo

    root = tmp_path_factory.mktemp("spark-demo")
    # the demo's config as written: no Spark settings, so obskit's defaults apply
    return root, generate_demo(root / "data", rows=ROWS, seed=7)


@pytest.mark.e2e
def test_report_on_spark_equals_duckdb(demo):
    """`obskit report` (papermill) with DuckDB, then with `--engine spark` and no Spark
    setting at all (obskit's defaults, as a user runs it): both publish index.html, and
    their summary.json documents are equal."""
    root, files = demo
    env = {**os.environ, "DO_NOT_TRACK": "1", "ITERATIVE_DO_NOT_TRACK": "1",
           "NML_DISABLE_USAGE_LOGGING": "1", "MPLBACKEND": "Agg"}
    runs = {}
    for engine in ("duckdb", "spark"):
        extra = ["--engine", "spark"] if engine == "spark" else []
        proc = subprocess.run(
            [sys.executable, "-m", "obskit", "report", "--config", str(files.config),
             "--out", f"reports-{engine}", *extra],
            cwd=root, capture_output=True, text=True, timeout=1800, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        run_dir = (root / f"reports-{engine}" / "latest").resolve()
        assert (run_dir / "index.html").is_file()
        text = (run_dir / "summary.json").read_text()
        # the findings' commands name the run's own summary.json: the same up to its folder
        runs[engine] = json.loads(text.replace(str(run_dir), "<run_dir>"))
    assert runs["spark"]["rows"]["read"] == ROWS
    _compare(runs["spark"], runs["duckdb"])


def test_spark_settings_are_validated():
    from obskit.exceptions import ConfigError

    with pytest.raises(ConfigError, match="spark.master"):
        load_config(overrides={"sources": {"current": "x.jsonl"}, "spark": {"master": ""}})
    cfg = load_config(overrides={"sources": {"current": "x.jsonl"}, "engine": "spark",
                                 "spark": {"master": "local[2]",
                                           "conf": {"spark.ui.enabled": False}}})
    assert cfg.engine_settings() == {"master": "local[2]",
                                     "conf": {"spark.ui.enabled": "false"}}
    assert Path(cfg.current).name == "x.jsonl"


def test_spark_defaults_apply_when_the_config_says_nothing(spark_con):
    """The session started with ``{"master": "local[2]"}`` runs with obskit's defaults:
    adaptive execution, partitions from the two cores, no UI, driver memory and the JVM's
    quick compiler set."""
    expected = spark_conf("local[2]")
    assert expected["spark.sql.shuffle.partitions"] == "4"
    assert expected["spark.default.parallelism"] == "2"
    assert expected["spark.sql.adaptive.enabled"] == "true"
    assert expected["spark.ui.enabled"] == "false"
    assert "spark.driver.memory" in expected and "spark.driver.extraJavaOptions" in expected
    conf = spark_con._session.conf
    for key, value in expected.items():
        assert conf.get(key) == value, key
    # the JVM itself started with them (they must be set before it starts)
    runtime = spark_con._session._jvm.java.lang.management.ManagementFactory
    args = str(runtime.getRuntimeMXBean().getInputArguments())
    assert "-XX:TieredStopAtLevel=1" in args
    assert f"-Xmx{expected['spark.driver.memory']}" in args


def test_spark_user_conf_wins_over_each_default():
    for master in ("local[2]", "local[*]", "local", "spark://host:7077", "yarn"):
        defaults = spark_conf(master)
        assert set(SPARK_DEFAULT_CONF) <= set(defaults)
        user = {key: f"user-{i}" for i, key in enumerate(defaults)}
        assert spark_conf(master, user) == user
    assert spark_conf("local[*]")["spark.sql.shuffle.partitions"] == \
        str(2 * (os.cpu_count() or 1))
    assert spark_conf("local")["spark.default.parallelism"] == "1"
    cluster = spark_conf("spark://host:7077")  # the cluster's own memory, cores and UI
    assert not {"spark.driver.memory", "spark.sql.shuffle.partitions", "spark.ui.enabled",
                "spark.default.parallelism", "spark.driver.extraJavaOptions"} & set(cluster)
    assert cluster["spark.sql.adaptive.coalescePartitions.parallelismFirst"] == "false"
    assert spark_conf("local[2]", {"spark.ui.enabled": True})["spark.ui.enabled"] == "true"


def test_spark_user_conf_wins_in_the_session(spark_con):
    """On a session that already runs, the user's properties are set; obskit's defaults
    that do not depend on the machine are set again, the machine's (partitions) are not:
    a session started elsewhere (Databricks, a kernel) keeps its own."""
    session = spark_con._session
    try:
        connect("spark", {"master": "local[2]",
                          "conf": {"spark.sql.shuffle.partitions": 7,
                                   "spark.sql.adaptive.enabled": False}})
        assert session.conf.get("spark.sql.shuffle.partitions") == "7"
        assert session.conf.get("spark.sql.adaptive.enabled") == "false"
        connect("spark", SPARK)
        assert session.conf.get("spark.sql.shuffle.partitions") == "7"
        assert session.conf.get("spark.sql.adaptive.enabled") == "true"
    finally:
        session.conf.set("spark.sql.shuffle.partitions", "4")


def test_traces_read_the_same_on_spark(spark_con, tmp_path):
    from obskit.io.traces import load_traces
    from tests.test_io_traces import _export, _span, _write

    one = _export(_span(), _span(sid="0000000000000002", parentSpanId="eee19b7ec3c1b174"))
    path = _write(tmp_path / "t.jsonl", one, one, "{oops", _export(_span(sid="00" * 8)))
    got = {}
    for name, con in (("duckdb", connect()), ("spark", spark_con)):
        t = load_traces(con, str(path))
        got[name] = ((t.rows_read, t.rows_used, t.rows_quarantined, t.duplicates),
                     sorted(t.table.execute().span_id),
                     t.quarantine_summary()["by_reason"])
    assert got["spark"] == got["duckdb"]
    assert got["spark"][0] == (6, 2, 2, 2)


def test_trace_links_the_same_on_spark(spark_con, tmp_path):
    from tests.test_trace_links import check_links

    check_links(spark_con, tmp_path)
