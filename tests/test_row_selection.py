"""The rows each window sends back for the row anomalies: ranked on a narrow table and
fetched in two parts, they are the rows (and values) one query over the whole table gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from obskit.profiles.row_anomaly_reasons import RowRules, row_hash, row_reasons
from obskit.profiles.row_selection import PARTIAL, complete_rows, select_rows
from tests.helpers import engine_table

META = ["request_id", "timestamp", "score", "status"]
FEATURES = ["x", "c"]


def _log(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "_file": np.where(np.arange(n) < n // 2, "/logs/a.parquet", "/logs/b.parquet"),
        "_line": np.r_[np.arange(n // 2), np.arange(n - n // 2)] + 1,
        "window_index": rng.integers(0, 3, n),
        "request_id": [f"r{i}" for i in range(n)],
        "timestamp": pd.date_range("2026-11-01", periods=n, freq="min", tz="UTC"),
        "score": rng.random(n), "status": rng.choice(["ok", "error"], n, p=[0.97, 0.03]),
        "x": rng.normal(0, 1, n), "c": rng.choice(["a", "b", "z"], n, p=[0.5, 0.49, 0.01])})
    frame.loc[rng.choice(n, 40, replace=False), "x"] = 9.0  # out of range
    return frame


RULES = RowRules(ranges={"x": (-4.0, 4.0)}, categories={"c": ["a", "b"]},
                 score_range=(0.001, 0.999))


def _select(table, **options):
    reasons = row_reasons(table, RULES)
    assert len(reasons) >= 3
    return select_rows(table, reasons, [*META, *FEATURES], top=25, sample=300,
                       key=row_hash(table, FEATURES, "seed"), **options)


def test_two_part_fetch_equals_one_query_over_the_whole_table():
    frame = _log()
    split = _select(engine_table(frame))
    whole = _select(engine_table(frame.drop(columns=["_file", "_line"])))  # one query
    pd.testing.assert_frame_equal(split, whole)
    assert split._sampled.sum() == 900 and (split._severity > 0).sum() > 40
    assert split[W_KEY].equals(split.sort_values(W_KEY)[W_KEY].reset_index(drop=True))


W_KEY = ["window_index", "_key"]


def test_sampled_rows_without_a_reason_come_light_and_are_completed_on_demand():
    frame = _log()
    table = engine_table(frame)
    whole = _select(engine_table(frame.drop(columns=["_file", "_line"])))
    light = _select(table, sample_columns=FEATURES)
    partial = light[PARTIAL[0]].to_numpy()
    assert partial.any() and not partial.all()
    assert (light._severity[partial] == 0).all() and (light._severity[~partial] > 0).all()
    pd.testing.assert_frame_equal(light.drop(columns=[*META, *PARTIAL]),
                                  whole.drop(columns=META))
    # some of each kind, in a shuffled order: completed as the whole query has them
    rng = np.random.default_rng(0)
    pick = np.r_[rng.choice(np.flatnonzero(partial), 30, replace=False),
                 rng.choice(np.flatnonzero(~partial), 10, replace=False)]
    rng.shuffle(pick)
    done = complete_rows(table, light.iloc[pick], META)
    assert not set(PARTIAL) & set(done.columns)
    pd.testing.assert_frame_equal(done, whole.iloc[pick])
    only = np.flatnonzero(partial)[:5]  # every row partial: whole columns replaced
    pd.testing.assert_frame_equal(complete_rows(table, light.iloc[only], META),
                                  whole.iloc[only])


def test_a_log_whose_file_and_line_repeat_is_ranked_whole():
    frame = _log()
    frame["_line"] = 1  # two rows can no longer be told apart by file and line
    got = _select(engine_table(frame), sample_columns=FEATURES)
    assert PARTIAL[0] not in got
    pd.testing.assert_frame_equal(
        got, _select(engine_table(frame.drop(columns=["_file", "_line"]))))


@pytest.mark.parametrize("sample", [0, 5000])
def test_no_sample_or_a_sample_larger_than_the_window(sample):
    frame = _log(600)
    table = engine_table(frame)
    reasons = row_reasons(table, RULES)
    key = row_hash(table, FEATURES, "seed")
    got = select_rows(table, reasons, [*META, *FEATURES], top=5, sample=sample, key=key,
                      sample_columns=FEATURES)
    got = complete_rows(table, got, META)
    plain = engine_table(frame.drop(columns=["_file", "_line"]))
    want = select_rows(plain, row_reasons(plain, RULES), [*META, *FEATURES], top=5,
                       sample=sample, key=row_hash(plain, FEATURES, "seed"))
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == (600 if sample else (want._severity > 0).sum())
