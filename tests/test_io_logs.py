"""Loading logs: roles, feature typing, quarantine with exact lines, the label join."""

from __future__ import annotations

import pandas as pd
import pytest

from obskit.config import load_config
from obskit.exceptions import InputError
from obskit.io import load_logs
from obskit.schema import infer_feature_type

T0 = "2024-01-01T00:00:00Z"


def load(current, reference=None, labels=None, task="binary", **overrides):
    sources = {"current": current}
    if reference:
        sources["reference"] = reference
    if labels:
        sources["labels"] = labels
    cfg = load_config(overrides={"sources": sources, "task": task, **overrides})
    return load_logs(cfg)


def frame(log_table):
    return log_table.table.execute().sort_values(["_file", "_line"]).reset_index(drop=True)


def accounting(log_table):
    return log_table.rows_read, log_table.rows_used, log_table.rows_quarantined


# --- roles and features -------------------------------------------------------------------

def test_roles_mapped_by_columns(write):
    p = write("a.jsonl", [
        {"ts": T0, "rid": "r1", "ver": "v1", "pred": 1, "p": 0.7, "y": 0, "lat": 12,
         "x": 1.0},
    ])
    logs = load(p, columns={"timestamp": "ts", "request_id": "rid", "model_version": "ver",
                            "prediction": "pred", "score": "p", "label": "y",
                            "latency_ms": "lat"})
    assert logs.features == {"x": "numeric"}
    assert set(logs.roles) == {"timestamp", "request_id", "model_version", "prediction",
                               "score", "label", "latency_ms"}
    row = frame(logs.current).iloc[0]
    assert (row.request_id, row.model_version, row.prediction, row.score, row.label,
            row.latency_ms) == ("r1", "v1", "1", 0.7, "0", 12.0)
    assert row.timestamp == pd.Timestamp(T0)
    for raw in ("ts", "rid", "pred", "p", "y", "lat"):
        assert raw not in logs.current.table.columns


def test_default_role_names_are_not_features(write):
    p = write("a.jsonl", [{"timestamp": T0, "request_id": "r", "prediction": "cat",
                           "score": 0.1, "label": "dog", "latency_ms": 3, "status": "ok",
                           "error": None, "trace_id": "t", "model_version": "m", "f": "v"}])
    logs = load(p, task="multiclass")
    assert logs.features == {"f": "categorical"}
    assert logs.task == "multiclass"


def test_features_include_exclude_and_types(write):
    p = write("a.jsonl", [{"timestamp": T0, "a": 1, "b": "x", "c": 2, "d": 3}])
    assert load(p, features={"include": ["a", "c"]}).features == {"a": "numeric",
                                                                  "c": "numeric"}
    assert load(p, features={"exclude": ["b", "d"]}).features == {"a": "numeric",
                                                                  "c": "numeric"}
    logs = load(p, features={"types": {"a": "categorical", "c": "boolean"}})
    assert logs.features == {"a": "categorical", "b": "categorical", "c": "boolean",
                             "d": "numeric"}
    with pytest.raises(InputError) as err:
        load(p, features={"include": ["a", "zz"]})
    assert "zz" in str(err.value) and p in str(err.value)


def test_feature_typing_rule(write):
    # 20 values per column; "most" has 19 numbers + 1 word (95%) → numeric, 1 quarantined
    recs = []
    for i in range(20):
        recs.append({"timestamp": T0, "num": i, "numstr": str(i), "boo": bool(i % 2),
                     "boostr": "TRUE" if i % 2 else "false", "most": "n/a" if i == 7 else i,
                     "few": "n/a" if i < 2 else i, "cat": "abc"[i % 3]})
    p = write("a.jsonl", recs)
    logs = load(p)
    assert logs.features == {"boo": "boolean", "boostr": "boolean", "cat": "categorical",
                             "few": "categorical", "most": "numeric", "num": "numeric",
                             "numstr": "numeric"}
    assert accounting(logs.current) == (20, 19, 1)
    ex = logs.current.quarantine_summary()["examples"]
    assert [(e["line"], e["reason"], e["detail"]) for e in ex] == [
        (8, "feature most is not a number", "n/a")]
    df = frame(logs.current)
    assert df["boostr"].tolist()[:3] == [False, True, False]
    assert df["few"].tolist()[:3] == ["n/a", "n/a", "2"]


def test_feature_typing_rule_function():
    assert infer_feature_type(dtype="numeric", non_null=0, numeric=0, boolean=0) == "numeric"
    assert infer_feature_type(dtype="boolean", non_null=5, numeric=0, boolean=0) == "boolean"
    assert infer_feature_type(dtype="string", non_null=4, numeric=0, boolean=4) == "boolean"
    assert infer_feature_type(dtype="string", non_null=100, numeric=95, boolean=0) == "numeric"
    assert infer_feature_type(dtype="string", non_null=100, numeric=94, boolean=0) \
        == "categorical"
    assert infer_feature_type(dtype="string", non_null=0, numeric=0, boolean=0) \
        == "categorical"
    assert infer_feature_type(dtype="string", non_null=100, numeric=0, boolean=0,
                              dates=95) == "datetime"
    assert infer_feature_type(dtype="string", non_null=100, numeric=0, boolean=0,
                              dates=94) == "categorical"
    assert infer_feature_type(dtype="datetime", non_null=0, numeric=0, boolean=0) \
        == "datetime"
    assert infer_feature_type(dtype="string", non_null=10, numeric=10, boolean=0,
                              declared=True) == "categorical"
    assert infer_feature_type(dtype="numeric", non_null=10, numeric=10, boolean=0,
                              declared=True) == "categorical"
    assert infer_feature_type(dtype="string", non_null=10, numeric=0, boolean=0, dates=10,
                              declared=True) == "datetime"


def test_types_inferred_from_reference(write):
    ref = write("ref.jsonl", [{"timestamp": T0, "x": 1}, {"timestamp": T0, "x": 2}])
    cur = write("cur.jsonl", [{"timestamp": T0, "x": "a"}, {"timestamp": T0, "x": 3}])
    logs = load(cur, reference=ref)
    assert logs.features == {"x": "numeric"}
    assert accounting(logs.reference) == (2, 2, 0)
    assert accounting(logs.current) == (2, 1, 1)
    assert logs.current.quarantine_summary()["examples"][0]["line"] == 1


def test_missing_timestamp_column(write):
    p = write("a.csv", "time,x,y\n2024-01-01,1,2\n")
    with pytest.raises(InputError) as err:
        load(p)
    msg = str(err.value)
    assert p in msg and "'timestamp'" in msg and "time, x, y" in msg
    assert err.value.column == "timestamp"


def test_missing_mapped_timestamp_column(write):
    p = write("a.jsonl", [{"timestamp": T0, "x": 1}])
    with pytest.raises(InputError) as err:
        load(p, columns={"timestamp": "event_time"})
    msg = str(err.value)
    assert p in msg and "event_time" in msg and "timestamp, x" in msg


def test_request_id_required_with_labels(write):
    cur = write("cur.jsonl", [{"timestamp": T0, "x": 1}])
    lab = write("labels.csv", "request_id,label\nr1,1\n")
    with pytest.raises(InputError) as err:
        load(cur, labels=lab)
    msg = str(err.value)
    assert cur in msg and "'request_id'" in msg and "timestamp, x" in msg
    # without a label source, request_id is not required
    assert load(cur).current.rows_used == 1


def test_label_source_missing_label_column(write):
    cur = write("cur.jsonl", [{"timestamp": T0, "request_id": "r1"}])
    lab = write("labels.csv", "request_id,outcome\nr1,1\n")
    with pytest.raises(InputError) as err:
        load(cur, labels=lab)
    msg = str(err.value)
    assert lab in msg and "'label'" in msg and "request_id, outcome" in msg


# --- quarantine ---------------------------------------------------------------------------

def test_jsonl_quarantine_exact_lines(write):
    p = write("a.jsonl", [
        {"timestamp": T0, "latency_ms": 5, "score": 0.5, "x": 1},          # 1 ok
        "",                                                                 # 2 blank
        "{not json",                                                        # 3
        "[1, 2]",                                                           # 4
        "   ",                                                              # 5 blank
        '"just a string"',                                                  # 6
        {"timestamp": T0, "latency_ms": "slow", "score": 0.5, "x": 1},      # 7
        {"timestamp": T0, "latency_ms": 5, "score": "x", "x": 1},           # 8
        {"timestamp": "garbage", "latency_ms": 5, "score": 0.5, "x": 1},    # 9
        {"timestamp": T0, "latency_ms": 5, "score": 0.5, "x": "seven"},     # 10
        {"timestamp": None, "latency_ms": 5, "score": 0.5, "x": 1},         # 11
        {"timestamp": T0, "latency_ms": None, "score": 0.5, "x": 2},        # 12 ok
        "",                                                                 # 13 blank
    ])
    logs = load(p, features={"types": {"x": "numeric"}})
    cur = logs.current
    assert accounting(cur) == (10, 2, 8)
    assert frame(cur)["_line"].tolist() == [1, 12]
    summary = cur.quarantine_summary()
    got = [(e["file"], e["line"], e["reason"], e["detail"]) for e in summary["examples"]]
    assert got == [
        (p, 3, "invalid JSON", "{not json"),
        (p, 4, "not a JSON object", "[1, 2]"),
        (p, 6, "not a JSON object", '"just a string"'),
        (p, 7, "latency_ms is not a number", "slow"),
        (p, 8, "score is not a number", "x"),
        (p, 9, "timestamp is not a timestamp", "garbage"),
        (p, 10, "feature x is not a number", "seven"),
        (p, 11, "missing timestamp", None),
    ]
    assert summary["by_reason"]["not a JSON object"] == 2
    assert sum(summary["by_reason"].values()) == 8


def test_quarantine_summary_limit(write):
    p = write("a.jsonl", ["nope"] * 5 + [{"timestamp": T0}])
    cur = load(p).current
    s = cur.quarantine_summary(limit=2)
    assert [e["line"] for e in s["examples"]] == [1, 2]
    assert s["by_reason"] == {"invalid JSON": 5}


def test_accounting_across_files(write, tmp_path):
    write("d/a.jsonl", [{"timestamp": T0, "x": 1}, "bad", "", {"timestamp": "zz", "x": 1}])
    write("d/b.csv", f"timestamp,x\n\n{T0},1\n{T0},1,1\n")
    cur = load(str(tmp_path / "d"), features={"types": {"x": "numeric"}}).current
    assert accounting(cur) == (5, 2, 3)
    ex = cur.quarantine_summary()["examples"]
    assert [(e["file"].rsplit("/", 1)[1], e["line"]) for e in ex] == [
        ("a.jsonl", 2), ("a.jsonl", 4), ("b.csv", 4)]
    df = frame(cur)
    assert sorted(zip(df["_file"].str.rsplit("/", n=1).str[1], df["_line"], strict=True)) == [
        ("a.jsonl", 1), ("b.csv", 3)]


def test_regression_prediction_not_a_number(write):
    p = write("a.jsonl", [{"timestamp": T0, "prediction": 1.5, "label": 2},
                          {"timestamp": T0, "prediction": "high", "label": 2}])
    cur = load(p, task="regression").current
    assert accounting(cur) == (2, 1, 1)
    e = cur.quarantine_summary()["examples"][0]
    assert (e["line"], e["reason"], e["detail"]) == (2, "prediction is not a number", "high")


# --- labels -------------------------------------------------------------------------------

def _current(write, n=4, **extra):
    return write("cur.jsonl", [
        {"timestamp": f"2024-01-01T0{i}:00:00Z", "request_id": f"r{i}", "prediction": 1,
         **{k: v[i] for k, v in extra.items()}}
        for i in range(n)
    ])


def _labels_by_id(logs):
    df = frame(logs.current)
    return {r: (None if pd.isna(v) else v) for r, v in zip(df.request_id, df.label, strict=True)}


def test_label_join_partial_and_unmatched(write):
    cur = _current(write)
    lab = write("labels.csv", "request_id,label\nr0,1\nr2,0\nzz,1\nyy,0\n")
    logs = load(cur, labels=lab)
    assert _labels_by_id(logs) == {"r0": "1", "r1": None, "r2": "0", "r3": None}
    s = logs.labels
    assert (s.read, s.used, s.quarantined, s.duplicates, s.matched, s.unmatched) == \
        (4, 4, 0, 0, 2, 2)
    assert "label" in logs.roles
    assert logs.current.rows_used == 4


def test_label_duplicates_keep_latest_by_timestamp(write):
    cur = _current(write)
    lab = write("labels.jsonl", [
        {"request_id": "r0", "label": 0, "timestamp": "2024-01-03T00:00:00Z"},
        {"request_id": "r0", "label": 1, "timestamp": "2024-01-05T00:00:00Z"},
        {"request_id": "r0", "label": 0, "timestamp": "2024-01-04T00:00:00Z"},
        {"request_id": "r1", "label": 1, "timestamp": "2024-01-02T00:00:00Z"},
        {"request_id": "r1", "label": 0, "timestamp": "2024-01-01T00:00:00Z"},
    ])
    logs = load(cur, labels=lab)
    assert _labels_by_id(logs) == {"r0": "1", "r1": "1", "r2": None, "r3": None}
    s = logs.labels
    assert (s.read, s.used, s.duplicates, s.matched, s.unmatched) == (5, 5, 3, 2, 0)
    assert logs.current.rows_used == 4  # the join does not duplicate log rows


def test_label_source_quarantine(write):
    cur = _current(write)
    lab = write("labels.jsonl", [{"request_id": "r0", "label": 1}, "oops",
                                 {"request_id": None, "label": 1},
                                 {"request_id": "r1", "label": None}])
    logs = load(cur, labels=lab)
    s = logs.labels
    assert (s.read, s.used, s.quarantined, s.matched) == (4, 1, 3, 1)
    ex = logs.label_quarantine.quarantine_summary()["examples"]
    assert [(e["line"], e["reason"]) for e in ex] == [
        (2, "invalid JSON"), (3, "missing request_id"), (4, "missing label")]


def test_labels_coalesce_with_labels_in_log(write):
    cur = _current(write, label=[1, None, None, 0])
    lab = write("labels.csv", "request_id,label\nr1,0\nr2,1\n")
    logs = load(cur, labels=lab)
    assert _labels_by_id(logs) == {"r0": "1", "r1": "0", "r2": "1", "r3": "0"}
    assert logs.labels.matched == 2


def test_current_rows_without_request_id_quarantined_when_labels_given(write):
    cur = write("cur.jsonl", [{"timestamp": T0, "request_id": "r0"},
                              {"timestamp": T0, "request_id": ""}])
    lab = write("labels.csv", "request_id,label\nr0,1\n")
    logs = load(cur, labels=lab)
    assert accounting(logs.current) == (2, 1, 1)
    e = logs.current.quarantine_summary()["examples"][0]
    assert (e["line"], e["reason"]) == (2, "missing request_id")


def test_label_duplicates_without_timestamp_keep_last_line(write):
    cur = _current(write)
    lab = write("labels.csv", "request_id,label\nr0,0\nr1,1\nr0,1\n")
    logs = load(cur, labels=lab)
    assert _labels_by_id(logs) == {"r0": "1", "r1": "1", "r2": None, "r3": None}
    assert logs.labels.duplicates == 1


def test_feature_missing_from_current_is_named_not_fatal(tmp_path):
    import pandas as pd

    from obskit.config import load_config
    from obskit.io import load_logs

    times = pd.date_range("2026-11-01", periods=20, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": times, "a": range(20), "b": ["x"] * 20}).to_parquet(
        tmp_path / "ref.parquet")
    pd.DataFrame({"timestamp": times, "a": range(20)}).to_parquet(tmp_path / "cur.parquet")
    logs = load_logs(load_config(overrides={"sources": {
        "reference": str(tmp_path / "ref.parquet"), "current": str(tmp_path / "cur.parquet")}}))
    assert logs.missing_features == ["b"]
    assert logs.current.rows_used == 20


# --- scores that are not probabilities (issue 12) ------------------------------------------

def _scored(write, name, scores, col="score"):
    return write(name, [{"timestamp": T0, "request_id": f"r{i}", col: s, "label": i % 2,
                         "x": float(i)} for i, s in enumerate(scores)])


@pytest.mark.parametrize("source", ["current", "reference"])
def test_logits_as_score_are_an_error_naming_column_and_range(write, source):
    logits = [-4.0, -1.5, 0.0, 0.3, 3.75, None]
    bad = _scored(write, "bad.jsonl", logits, col="logit")
    good = _scored(write, "good.jsonl", [0.1, 0.9, 0.5, 0.2], col="logit")
    cur, ref = (bad, good) if source == "current" else (good, bad)
    with pytest.raises(InputError) as err:
        load(cur, reference=ref, columns={"score": "logit"})
    msg = str(err.value)
    assert f"sources.{source}" in msg and "'logit'" in msg and "role score" in msg
    assert "from -4 to 3.75" in msg and "3 of 6 rows" in msg and "[0, 1]" in msg
    assert "sigmoid" in msg and "--column score=" in msg
    assert err.value.column == "logit"


def test_infinite_score_is_an_error(write):
    p = write("a.csv", "timestamp,score,label\n" + f"{T0},0.5,1\n{T0},inf,0\n")
    with pytest.raises(InputError, match=r"1 infinite value; 1 of 2 rows"):
        load(p)


def test_regression_score_is_not_a_probability_and_may_be_any_number(write):
    p = write("a.jsonl", [{"timestamp": T0, "score": 700.0 + i, "prediction": 1.5 * i,
                           "label": float(i)} for i in range(30)])
    assert load(p, task="regression").current.rows_used == 30


def test_null_scores_are_counted_in_a_note(write):
    p = _scored(write, "a.jsonl", [0.1, None, 0.7, None, 0.4, float("nan")])
    logs = load(p)
    assert logs.current.rows_used == 6
    assert any(n.startswith("3 of 6 current rows (50.0%) have no score") for n in logs.notes)


# --- dates and declared types (issue 12, section 3) ---------------------------------------

def test_iso_date_strings_are_a_datetime_feature_held_as_days(write):
    dates = ["2024-03-01", "2024-03-02T12:00:00Z", "2024-03-01T02:00:00+02:00", "oops"]
    dates += [f"2023-01-{d:02d}" for d in range(1, 21)]  # 23 of 24 parse: >= 95%
    p = write("a.jsonl", [{"timestamp": T0, "signup_date": d, "code": "2024"}
                          for d in dates])
    logs = load(p)
    assert logs.features == {"code": "numeric", "signup_date": "datetime"}
    df = frame(logs.current)
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    expected = [(pd.Timestamp(d) if pd.Timestamp(d).tzinfo else pd.Timestamp(d, tz="UTC"))
                for d in dates[:3]]
    assert df.signup_date.tolist()[:3] == [(t - epoch) / pd.Timedelta(days=1)
                                           for t in expected]
    ex = logs.current.quarantine_summary()["examples"]
    assert [(e["line"], e["reason"], e["detail"]) for e in ex] == [
        (4, "feature signup_date is not a date", "oops")]


def test_native_dates_are_datetime_and_types_override(write):
    days = pd.to_datetime(["2024-01-01", "2024-01-03"])
    p = write("a.parquet", pd.DataFrame({
        "timestamp": pd.to_datetime([T0, T0]), "d": days.date, "ts": days,
        "when": ["2024-01-01", "2024-01-03"]}))
    logs = load(p)
    assert logs.features == {"d": "datetime", "ts": "datetime", "when": "datetime"}
    assert frame(logs.current).d.tolist() == [19723.0, 19725.0]
    logs = load(p, features={"types": {"when": "categorical"}})
    assert logs.features["when"] == "categorical"
    assert frame(logs.current)["when"].tolist() == ["2024-01-01", "2024-01-03"]
    # numbers declared datetime are epoch seconds (or milliseconds from 1e11)
    q = write("b.jsonl", [{"timestamp": T0, "born": 86400 * 3}, {"timestamp": T0,
                                                                "born": 1704067200000}])
    logs = load(q, features={"types": {"born": "datetime"}})
    assert frame(logs.current).born.tolist() == [3.0, 19723.0]  # 2024-01-01 in ms


def test_parquet_declared_text_types_are_kept(write):
    n = 20
    df = pd.DataFrame({"timestamp": pd.to_datetime([T0] * n),
                       "zip": pd.Categorical([f"{10000 + i % 4}" for i in range(n)]),
                       "plain": [str(i) for i in range(n)],
                       "grade": pd.Categorical([i % 3 for i in range(n)]),
                       "num": [float(i) for i in range(n)]})
    p = write("a.parquet", df)
    logs = load(p)
    assert logs.features == {"grade": "categorical", "num": "numeric",
                             "plain": "categorical", "zip": "categorical"}
    assert sorted(set(frame(logs.current).zip)) == ["10000", "10001", "10002", "10003"]
    assert sorted(set(frame(logs.current).grade)) == ["0", "1", "2"]
    # the same values as text in a CSV or JSON log are numbers
    csv = write("a.csv", df.to_csv(index=False))
    assert load(csv).features == {"grade": "numeric", "num": "numeric", "plain": "numeric",
                                  "zip": "numeric"}
    # an override still wins
    assert load(p, features={"types": {"zip": "numeric"}}).features["zip"] == "numeric"


# --- one probability column per class (issue 12, section 3) -------------------------------

def _multiclass_rows(prefix="proba_", n=6):
    rows = []
    for i in range(n):
        p = [0.7, 0.2, 0.1] if i % 3 == 0 else [0.1, 0.6, 0.3] if i % 3 == 1 else [0.2, 0.2, 0.6]
        rows.append({"timestamp": T0, "x": i, "prediction": "abc"[i % 3], "label": "abc"[i % 3],
                     **{f"{prefix}{c}": v for c, v in zip("abc", p, strict=True)}})
    return rows


@pytest.mark.parametrize("prefix", ["proba_", "y_pred_proba_"])
def test_class_probability_columns_recognised_not_features(write, prefix):
    p = write("a.jsonl", _multiclass_rows(prefix))
    cfg = load_config(overrides={"sources": {"current": p}})  # task inferred
    logs = load_logs(cfg)
    assert logs.task == "multiclass"
    assert logs.features == {"x": "numeric"}
    assert logs.class_scores == {c: f"{prefix}{c}" for c in "abc"}
    assert frame(logs.current)[f"{prefix}a"].tolist() == [0.7, 0.1, 0.2] * 2


def test_class_scores_mapped_in_the_config(write):
    rows = [{**{k: v for k, v in r.items() if not k.startswith("proba_")},
             "p_cat": r["proba_a"], "p_dog": r["proba_b"], "p_eel": r["proba_c"]}
            for r in _multiclass_rows()]
    p = write("a.jsonl", rows)
    by_pattern = load(p, task="multiclass", columns={"class_scores": "p_{class}"})
    assert by_pattern.class_scores == {"cat": "p_cat", "dog": "p_dog", "eel": "p_eel"}
    assert by_pattern.features == {"x": "numeric"}
    by_map = load(p, task="multiclass",
                  columns={"class_scores": {"a": "p_cat", "b": "p_dog", "c": "p_eel"}})
    assert by_map.class_scores == {"a": "p_cat", "b": "p_dog", "c": "p_eel"}
    with pytest.raises(InputError, match="p_fox"):
        load(p, columns={"class_scores": {"a": "p_cat", "b": "p_fox"}})
    with pytest.raises(InputError, match="q_\\{class\\}"):
        load(p, columns={"class_scores": "q_{class}"})


@pytest.mark.parametrize("value", ["proba", {"a": "p_a"}, {"a": "p", "b": "p"}, 3])
def test_class_scores_config_validated(value):
    from obskit.exceptions import ConfigError

    with pytest.raises(ConfigError, match="columns.class_scores"):
        load_config(overrides={"sources": {"current": "x.jsonl"},
                               "columns": {"class_scores": value}})


def test_class_probabilities_outside_unit_interval_are_an_error(write):
    rows = _multiclass_rows()
    rows[2]["proba_b"] = 3.5
    p = write("a.jsonl", rows)
    with pytest.raises(InputError) as err:
        load(p, task="multiclass")
    assert "'proba_b'" in str(err.value) and "3.5" in str(err.value) and p in str(err.value)


def test_two_class_probabilities_make_a_binary_score(write):
    rows = [{"timestamp": T0, "x": i, "label": i % 2, "proba_0": 1 - p, "proba_1": p}
            for i, p in enumerate([0.2, 0.9, 0.4, 0.7])]
    logs = load(write("a.jsonl", rows), task=None)
    assert logs.task == "binary" and "score" in logs.roles
    assert logs.features == {"x": "numeric"}
    assert frame(logs.current).score.tolist() == [0.2, 0.9, 0.4, 0.7]
    assert "probability of class '1' is the score" in " ".join(logs.notes)


def test_pandas_index_written_to_parquet_is_not_a_feature(tmp_path):
    df = pd.DataFrame({"timestamp": pd.to_datetime([T0] * 4), "x": [1.0, 2.0, 3.0, 4.0]},
                      index=[10, 11, 12, 13])
    for name, frame_ in (("a", df), ("b", df.rename_axis("row_id"))):
        path = tmp_path / f"{name}.parquet"
        frame_.to_parquet(path)  # pandas stores the index as a column
        assert len(pd.read_parquet(path, engine="pyarrow").reset_index().columns) == 3
        assert load(str(path)).features == {"x": "numeric"}
    assert load(str(tmp_path / "b.parquet"), features={"include": ["row_id", "x"]}
                ).features == {"row_id": "numeric", "x": "numeric"}


def test_class_probabilities_without_prediction_note_the_most_probable_class(write):
    """New-user report: class probabilities and labels, no ``prediction`` (in the current
    log only, or in both): performance is measured, and a note says the predicted class is
    the most probable one."""
    rows = _multiclass_rows()
    cur = write("cur.jsonl", [{k: v for k, v in r.items() if k != "prediction"} for r in rows])
    ref = write("ref.jsonl", rows)
    for sources in ({"current": cur}, {"current": cur, "reference": ref}):
        logs = load_logs(load_config(overrides={"sources": sources}))
        assert logs.task == "multiclass"
        assert not any("not measured" in n for n in logs.notes)
        assert [n for n in logs.notes if "most probable" in n] == [
            "No prediction column: the predicted class is the most probable one (the "
            "largest of proba_a, proba_b, proba_c; a tie goes to the first of them in this "
            "order)."]
    logs = load_logs(load_config(overrides={"sources": {"current": ref}}))
    assert not any("most probable" in n for n in logs.notes)


# --- the positive class of a binary task (new-user report) ---------------------------------

def _yes_no_log(write, name="yn.csv", n=60, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    p = np.clip(np.where(y, 0.7, 0.3) + rng.normal(0, 0.2, n), 0.01, 0.99)
    df = pd.DataFrame({"timestamp": pd.date_range(T0, periods=n, freq="h"),
                       "x": rng.normal(size=n), "score": p,
                       "prediction": np.where(p >= 0.5, "yes", "no"),
                       "label": np.where(y, "yes", "no")})
    path = write(name, df.to_csv(index=False))
    return path, df


def test_text_labels_without_positive_label_are_an_error(write):
    path, _ = _yes_no_log(write)
    with pytest.raises(InputError) as err:
        load(path)
    msg = str(err.value)
    assert "positive_label" in msg and "'label'" in msg and "'yes'" in msg and "'no'" in msg
    assert "--positive-label" in msg


def test_text_labels_with_positive_label_load(write):
    path, _ = _yes_no_log(write)
    logs = load(path, positive_label="yes")
    assert set(frame(logs.current).label) == {"yes", "no"}


@pytest.mark.parametrize("values", [(0, 1), ("false", "true"), (0, 0)])
def test_zero_one_and_boolean_labels_need_no_positive_label(write, values):
    rows = [{"timestamp": T0, "score": 0.5, "label": v, "prediction": v} for v in values]
    logs = load(write("a.jsonl", rows))
    assert logs.current.rows_used == 2


def test_positive_label_not_among_zero_one_labels_is_an_error(write):
    rows = [{"timestamp": T0, "score": 0.5, "label": v, "prediction": v} for v in (0, 1)]
    with pytest.raises(InputError, match="'yes'"):
        load(write("a.jsonl", rows), positive_label="yes")


# --- a role mapped onto another column than its default name --------------------------------

def test_mapped_role_uses_its_column_not_the_one_named_like_the_role(write):
    p = write("a.csv", "timestamp,score,prob,x\n2024-01-01,3.5,0.9,1\n2024-01-02,-2,0.1,2\n")
    logs = load(p, columns={"score": "prob"})
    assert sorted(frame(logs.current).score) == [0.1, 0.9]
    assert "score" not in logs.features and "x" in logs.features
    assert any("'score'" in n and "'prob'" in n for n in logs.notes)


@pytest.mark.parametrize("role", ["score", "label", "prediction", "latency_ms", "timestamp",
                                  "request_id", "model_version", "status"])
def test_mapped_column_that_does_not_exist_is_an_error(write, role):
    p = write("a.csv", "timestamp,score,label,prediction,latency_ms,status,request_id,"
                       "model_version,x\n2024-01-01,0.5,1,1,3,ok,r,m,1\n")
    with pytest.raises(InputError) as err:
        load(p, columns={role: "nonexistent"})
    msg = str(err.value)
    assert f"role {role}" in msg and "'nonexistent'" in msg and "timestamp, score" in msg
    assert "_file" not in msg


def test_text_labels_with_positive_label_give_scikit_learn_metrics(write):
    from sklearn.metrics import accuracy_score, f1_score, precision_score, roc_auc_score

    from obskit.monitors.performance import PerformanceMonitor

    path, df = _yes_no_log(write, n=200)
    logs = load(path, positive_label="yes")
    got = PerformanceMonitor("binary", positive_label="yes").fit(logs.current.table).reference_
    y, pred = df.label == "yes", df.prediction == "yes"
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(precision_score(y, pred))
    assert got["f1"] == pytest.approx(f1_score(y, pred))
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y, df.score))


def test_positive_label_yes_unquoted_in_yaml_is_explained(write, tmp_path):
    path, _ = _yes_no_log(write)
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"sources: {{current: {path}}}\ntask: binary\npositive_label: yes\n")
    with pytest.raises(InputError, match="quote"):
        load_logs(load_config(str(cfg)))
    cfg.write_text(f"sources: {{current: {path}}}\ntask: binary\npositive_label: 'yes'\n")
    assert load_logs(load_config(str(cfg))).current.rows_used == 60


def test_class_values_one_query_per_table_for_both_class_checks(write, monkeypatch):
    """The positive-class check (while loading) and the binary-class check read the label
    and prediction classes of each table from one engine query, kept with the log."""
    import ibis.expr.types as ir

    from obskit.io.checks import class_values
    from obskit.io.logs import check_predictions

    rows = [{"timestamp": T0, "prediction": p, "label": y, "score": 0.4, "x": 1.0}
            for p, y in ((1, 0), (0, 0), (1, 1), (None, 1))]
    logs = load(write("cur.jsonl", rows), write("ref.jsonl", rows))
    assert class_values(logs.current) == {"label": ["0", "1"], "prediction": ["0", "1"]}
    calls = []
    real = ir.Table.execute
    monkeypatch.setattr(ir.Table, "execute",
                        lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    check_predictions(load_config(overrides={"sources": {"current": "x"}, "task": "binary"}),
                      logs)
    assert calls == []  # both tables' classes were read while loading
    logs.current.table = logs.current.table.filter(logs.current.table.x > 0)
    assert class_values(logs.current)["label"] == ["0", "1"] and len(calls) == 1
