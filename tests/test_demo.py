"""Tests for obskit.demo: the offline demo scenario and its injected incidents."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score

from obskit.demo import DemoFiles, generate_demo

ROWS = 20_000
SEED = 7
START = pd.Timestamp("2026-11-01", tz="UTC")
ISO_US = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
COVERAGE = {d: 1.0 for d in range(1, 10)} | {10: 0.9, 11: 0.8, 12: 0.6, 13: 0.4, 14: 0.2}
FEATURES = [
    "age",
    "income",
    "debt_ratio",
    "credit_limit",
    "utilization",
    "num_late_payments",
    "account_age_months",
    "employment_type",
    "region",
    "home_ownership",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("demo"), rows=ROWS, seed=SEED)


@pytest.fixture(scope="module")
def reference(demo: DemoFiles) -> pd.DataFrame:
    return pd.read_parquet(demo.reference)


@pytest.fixture(scope="module")
def raw_lines(demo: DemoFiles) -> dict[str, list[dict]]:
    out = {}
    for path in sorted(demo.current.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            out[path.name] = [json.loads(line) for line in fh]
    return out


@pytest.fixture(scope="module")
def current(raw_lines: dict[str, list[dict]], demo: DemoFiles) -> pd.DataFrame:
    records = [r for lines in raw_lines.values() for r in lines]
    df = pd.DataFrame(records)
    feats = pd.DataFrame(df.pop("features").tolist())
    df = pd.concat([df, feats], axis=1)
    df["ts"] = pd.to_datetime(df["timestamp"], utc=True)
    df["day"] = (df["ts"] - START).dt.days + 1
    labels = pd.read_csv(demo.labels)
    return df.merge(labels, on="request_id", how="left")


def test_files_exist_and_config(demo: DemoFiles) -> None:
    assert demo.root.is_dir()
    for p in (demo.config, demo.reference, demo.labels, demo.incidents, demo.model, demo.golden):
        assert p.is_file() and p.parent == demo.root
    assert demo.current == demo.root / "logs" and demo.current.is_dir()
    names = sorted(p.name for p in demo.current.iterdir())
    expected = [f"predictions-2026-11-{d:02d}.jsonl" for d in range(1, 15)]
    assert names == expected
    assert demo.config.read_text(encoding="utf-8") == (
        "# obskit demo configuration (written by `obskit demo`)\n"
        "task: binary\n"
        "sources:\n"
        "  reference: reference.parquet\n"
        "  current: logs/\n"
        "  labels: labels.csv\n"
        "window: 1d\n"
        "model:\n"
        "  path: model.skops\n"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo.root = Path(".")  # frozen


def test_model_saved_and_reproduces_scores(
    demo: DemoFiles, reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    import skops.io as sio

    from obskit.config import load_config
    from obskit.io.model import load_model, prediction_function

    assert sio.get_untrusted_types(file=demo.model) == []  # no trusted_types in the config
    cfg = load_config(demo.config)
    assert Path(cfg.model) == demo.model.resolve()
    model = load_model(cfg.model, trusted_types=cfg.model_trusted_types, trust=cfg.model_trust)
    f = prediction_function(model, "binary")
    assert np.array_equal(np.round(f(reference[FEATURES]), 6), reference["score"].to_numpy())
    ok = current[current["status"] == 200]
    assert np.array_equal(np.round(f(ok[FEATURES]), 6), ok["score"].to_numpy(dtype=float))


def test_reference_schema_and_content(demo: DemoFiles, reference: pd.DataFrame) -> None:
    schema = pq.read_schema(demo.reference)
    ts_type = schema.field("timestamp").type
    assert pa.types.is_timestamp(ts_type) and ts_type.unit == "us" and ts_type.tz == "UTC"
    assert len(reference) == max(ROWS // 4, 1000)
    expected_cols = (
        ["timestamp", "request_id", "model_version"]
        + FEATURES
        + ["score", "prediction", "label", "latency_ms", "status", "error", "trace_id"]
    )
    assert list(reference.columns) == expected_cols
    ts = reference["timestamp"]
    assert (ts >= START - pd.Timedelta(days=7)).all() and (ts < START).all()
    assert ts.is_monotonic_increasing
    assert (reference["model_version"] == "v1").all()
    assert (reference["status"] == 200).all() and reference["error"].isna().all()
    assert reference["trace_id"].str.fullmatch(HEX32.pattern).all()
    assert ((reference["score"] >= 0.5).astype(int) == reference["prediction"]).all()
    assert set(reference["label"].unique()) <= {0, 1}
    assert 0.15 <= reference["label"].mean() <= 0.25
    assert reference["age"].between(18, 85).all()
    assert reference["utilization"].between(0, 1).all()
    assert reference["debt_ratio"].between(0, 1.5).all()
    assert (reference["num_late_payments"] >= 0).all()
    assert set(reference["employment_type"]) <= {
        "salaried", "self_employed", "unemployed", "retired", "student"
    }
    assert set(reference["region"]) <= {"north", "south", "east", "west", "central"}
    assert set(reference["home_ownership"]) <= {"rent", "own", "mortgage"}
    lat = reference["latency_ms"]
    assert 30 < lat.median() < 50 and 90 < lat.quantile(0.95) < 160


def test_logs_format(raw_lines: dict[str, list[dict]]) -> None:
    assert len(raw_lines) == 14
    assert sum(len(v) for v in raw_lines.values()) == ROWS
    keys = [
        "timestamp", "request_id", "model_version", "features", "score", "prediction",
        "latency_ms", "status", "error", "trace_id",
    ]
    for name, lines in raw_lines.items():
        day = name[len("predictions-") : -len(".jsonl")]
        stamps = [r["timestamp"] for r in lines]
        assert stamps == sorted(stamps)
        for r in lines:
            assert list(r) == keys
            assert ISO_US.match(r["timestamp"]) and r["timestamp"].startswith(day)
            assert r["model_version"] in ("v1", "v2")
            assert sorted(r["features"]) == sorted(FEATURES)
            assert HEX32.match(r["trace_id"])
            assert isinstance(r["status"], int)
            if r["status"] == 500:
                assert r["score"] is None and r["prediction"] is None
                assert isinstance(r["error"], str) and r["error"]
            else:
                assert r["status"] == 200 and r["error"] is None
                assert 0.0 <= r["score"] <= 1.0
                assert r["prediction"] == int(r["score"] >= 0.5)


def test_request_ids_unique(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    ids = pd.concat([reference["request_id"], current["request_id"]])
    assert ids.is_unique
    assert len(current) == ROWS


def test_label_coverage(demo: DemoFiles, current: pd.DataFrame) -> None:
    labels = pd.read_csv(demo.labels)
    assert list(labels.columns) == ["request_id", "label", "label_timestamp"]
    assert labels["request_id"].is_unique
    assert set(labels["label"].unique()) <= {0, 1}
    assert labels["label_timestamp"].str.match(ISO_Z.pattern).all()
    assert current.loc[current["status"] == 500, "label"].isna().all()
    ok = current[current["status"] == 200]
    coverage = ok["label"].notna().groupby(ok["day"]).mean()
    for day, expected in COVERAGE.items():
        assert coverage[day] == pytest.approx(expected, abs=0.05), day
    lab = current[current["label"].notna()]
    label_ts = pd.to_datetime(lab["label_timestamp"], utc=True)
    assert (label_ts > lab["ts"]).all()


def test_incidents(demo: DemoFiles) -> None:
    incidents = json.loads(demo.incidents.read_text(encoding="utf-8"))
    by_id = {i["id"]: i for i in incidents}
    assert set(by_id) == {
        "gradual_drift", "broken_upstream", "latency_spike", "error_burst", "concept_drift"
    }
    for inc in incidents:
        assert {"id", "kind", "feature", "start", "end", "segment", "description"} <= set(inc)
        assert ISO_Z.match(inc["start"]) and ISO_Z.match(inc["end"])
        assert pd.Timestamp(inc["start"]) < pd.Timestamp(inc["end"])
    assert by_id["gradual_drift"]["feature"] == "utilization"
    assert by_id["gradual_drift"]["start"].startswith("2026-11-05T00:00:00")
    assert by_id["gradual_drift"]["end"].startswith("2026-11-15T00:00:00")
    assert by_id["broken_upstream"]["segment"] == {"model_version": "v2"}
    assert by_id["broken_upstream"]["feature"] == "income"
    assert by_id["latency_spike"]["start"].startswith("2026-11-09T13:00:00")
    assert by_id["latency_spike"]["end"].startswith("2026-11-09T16:00:00")
    assert by_id["error_burst"]["start"].startswith("2026-11-10T08:00:00")
    assert by_id["concept_drift"]["start"].startswith("2026-11-11T00:00:00")


def test_gradual_drift_wasserstein(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    ref = reference["utilization"].to_numpy()
    scale = np.std(ref)
    for day, g in current.groupby("day"):
        w = wasserstein_distance(ref, g["utilization"].to_numpy()) / scale
        if day <= 4:
            assert w < 0.05, (day, w)
        elif day >= 6:
            assert w > 0.1, (day, w)


def test_latency_spike(current: pd.DataFrame) -> None:
    p95 = current.groupby("day")["latency_ms"].quantile(0.95)
    assert p95[9] > 500
    assert (p95.drop(9) < 500).all()
    spike = current[(current["ts"] >= "2026-11-09T13:00Z") & (current["ts"] < "2026-11-09T16:00Z")]
    assert spike["latency_ms"].median() > 400


def test_error_burst(current: pd.DataFrame) -> None:
    rate = (current["status"] == 500).groupby(current["day"]).mean()
    assert rate[10] > 0.05
    assert (rate.drop(10) < 0.02).all()
    burst = current[(current["ts"] >= "2026-11-10T08:00Z") & (current["ts"] < "2026-11-10T12:00Z")]
    msgs = burst.loc[burst["status"] == 500, "error"]
    assert msgs.str.contains("<script>", regex=False).mean() > 0.9


def test_broken_upstream(current: pd.DataFrame) -> None:
    assert (current.loc[current["day"] < 7, "model_version"] == "v1").all()
    late = current[current["day"] >= 7]
    share = (late["model_version"] == "v2").mean()
    assert share == pytest.approx(0.30, abs=0.03)
    med = late.groupby("model_version")["income"].median()
    assert 80 < med["v2"] / med["v1"] < 125


def test_concept_drift_auc(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    ref_auc = roc_auc_score(reference["label"], reference["score"])
    assert 0.72 <= ref_auc <= 0.9
    lab = current[(current["day"] >= 11) & current["label"].notna()]
    auc = roc_auc_score(lab["label"], lab["score"])
    assert auc <= ref_auc - 0.1
    # the concept drift alone (unbroken v1 rows) degrades the model too
    v1 = lab[lab["model_version"] == "v1"]
    before = current[current["day"].between(7, 10) & current["label"].notna()]
    before = before[before["model_version"] == "v1"]
    auc_v1 = roc_auc_score(v1["label"], v1["score"])
    assert auc_v1 <= roc_auc_score(before["label"], before["score"]) - 0.05


def _all_files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_golden_requests_are_the_models_answers(demo: DemoFiles,
                                                reference: pd.DataFrame) -> None:
    """golden.jsonl: 20 reference rows, both classes, with what the saved model answers
    to the decoded JSON features: the unrounded probability and the demo's 0.5 rule."""
    from obskit.io.model import load_model, prediction_function

    lines = demo.golden.read_text(encoding="utf-8").splitlines()
    golden = [json.loads(line) for line in lines]
    assert len(golden) == 20
    assert all(set(g) == {"features", "prediction", "score"} for g in golden)
    assert all(list(g["features"]) == FEATURES for g in golden)
    preds = [g["prediction"] for g in golden]
    assert sum(preds) == 10 and set(preds) == {0, 1}
    X = pd.DataFrame([g["features"] for g in golden])
    f = prediction_function(load_model(demo.model), "binary")
    got = f(X)
    assert got.tolist() == [g["score"] for g in golden]  # exact: JSON keeps every bit
    assert preds == (got >= 0.5).astype(int).tolist()
    assert np.all(np.abs(got - 0.5) > 0.01)  # never on the edge of the rule
    # they are reference rows: the logged (rounded) score and prediction agree
    merged = X.merge(reference, on=FEATURES, how="left")
    assert len(merged) == 20 and merged["score"].notna().all()
    assert np.abs(merged["score"].to_numpy() - got).max() <= 5e-7
    assert merged["prediction"].tolist() == preds


def test_deterministic(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", rows=3_000, seed=11)
    b = generate_demo(tmp_path / "b", rows=3_000, seed=11)
    c = generate_demo(tmp_path / "c", rows=3_000, seed=12)
    fa, fb, fc = _all_files(a.root), _all_files(b.root), _all_files(c.root)
    assert len(fa) == 20  # config, reference, labels, incidents, model, golden + 14 logs
    assert fa == fb
    assert fa["labels.csv"] != fc["labels.csv"]


def test_same_seed_matches_fixture(demo: DemoFiles, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", rows=ROWS, seed=SEED)
    assert _all_files(again.root) == _all_files(demo.root)


def test_rerun_removes_stale_logs(tmp_path: Path) -> None:
    generate_demo(tmp_path, rows=2_000, seed=1, start="2026-10-01")
    files = generate_demo(tmp_path, rows=2_000, seed=1)
    assert len(list(files.current.glob("*.jsonl"))) == 14


@pytest.mark.parametrize("rows", [0, 1_999, -5, 2_500.0, True])
def test_rows_validation(tmp_path: Path, rows: object) -> None:
    with pytest.raises(ValueError, match="rows"):
        generate_demo(tmp_path, rows=rows)  # type: ignore[arg-type]


@pytest.mark.parametrize("start", ["not a date", "2026-11-01T06:00"])
def test_start_validation(tmp_path: Path, start: str) -> None:
    with pytest.raises(ValueError, match="start"):
        generate_demo(tmp_path, rows=2_000, start=start)


def test_ensure_demo_writes_the_default_demo_only_when_missing(tmp_path, monkeypatch, capsys):
    from obskit.config import load_config
    from obskit.demo import NOTEBOOK_DEMO_CONFIG, ensure_demo

    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where a notebook's kernel runs
    assert ensure_demo("mine.yml") == "mine.yml" and not (tmp_path / "mine.yml").exists()
    assert ensure_demo(None) is None
    assert ensure_demo(NOTEBOOK_DEMO_CONFIG, rows=2000) == NOTEBOOK_DEMO_CONFIG
    config = tmp_path / "demo-data" / "config.yml"
    assert config.is_file() and "writing the demo (2,000 rows)" in capsys.readouterr().out
    assert load_config(NOTEBOOK_DEMO_CONFIG).current == str(tmp_path / "demo-data" / "logs")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    before = config.stat().st_mtime_ns
    ensure_demo(NOTEBOOK_DEMO_CONFIG, rows=2000)  # present: left alone
    assert config.stat().st_mtime_ns == before and capsys.readouterr().out == ""


@pytest.mark.parametrize("name", ["monitoring_report.ipynb", "explore.ipynb",
                                  "drift_deep_dive.ipynb", "anomaly_investigation.ipynb"])
def test_notebooks_default_to_the_demo_and_write_it_when_missing(name):
    import nbformat

    from obskit.demo import NOTEBOOK_DEMO_CONFIG
    from obskit.runner import notebook_path

    nb = nbformat.read(notebook_path(name), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    params: dict = {}
    exec(code[0], params)  # the parameters cell
    assert params["config_path"] == NOTEBOOK_DEMO_CONFIG
    body = code[1]
    assert body.index("ensure_demo(config_path)") < body.index("(config_path, overrides")
