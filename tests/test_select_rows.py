"""select_rows: each window's most severe rows and its key sample, as a plain sort in
pandas picks them, in both formulations (DuckDB's cut-offs from a narrow ranking, which
never sorts the rows; Spark's ranking in place, run here on DuckDB)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from obskit.profiles.row_anomaly_reasons import Reason, select_rows
from tests.helpers import engine_table


def _log(seed: int = 0) -> pd.DataFrame:
    """Five windows: 400 rows, 30 rows (fewer than the sample), 250 rows of which only
    three are severe (fewer than ``top``), 300 rows with no severe row, and 200 rows whose
    severities tie in large groups (the cut-off falls inside a tie of severity)."""
    rng = np.random.default_rng(seed)
    sizes = [400, 30, 250, 300, 200]
    window = np.repeat(np.arange(len(sizes)), sizes)
    n = len(window)
    x = rng.normal(size=n)
    y = rng.normal(size=n)
    x[(window == 2) | (window == 3)] = 0.0
    y[window == 2] = 0.0
    y[np.flatnonzero(window == 2)[:3]] = 5.0
    y[window == 3] = 0.0
    y[window == 4] = np.where(rng.random(sizes[4]) < 0.5, 3.0, 0.0)
    keys = [f"{v:013x}" for v in rng.choice(2**52, size=n, replace=False)]
    return pd.DataFrame({"window_index": window, "request_id": [f"r{i}" for i in range(n)],
                         "x": x, "y": y, "k": keys})


def _reasons(t) -> list[Reason]:
    high_x, high_y = t.x > 1.0, t.y > 2.0
    return [Reason("high_x", high_x, (high_x.ifelse(t.x, 0.0)).cast("float64")),
            Reason("high_y", high_y, (high_y.ifelse(1.5, 0.0)).cast("float64"))]


def _expected(frame: pd.DataFrame, *, top: int, sample: int) -> pd.DataFrame:
    f = frame.assign(_severity=np.where(frame.x > 1.0, frame.x, 0.0)
                     + np.where(frame.y > 2.0, 1.5, 0.0))
    picked = []
    for _, w in f.groupby("window_index"):
        by_key = w.sort_values("k")
        sampled = set(by_key.index[:sample])
        severe = w[w._severity > 0].sort_values(["_severity", "k"],
                                                ascending=[False, True])
        keep = sampled | set(severe.index[:top])
        picked.append(w.loc[sorted(keep)].assign(_sampled=[i in sampled for i in sorted(keep)]))
    out = pd.concat(picked)
    return out.sort_values(["window_index", "k"]).reset_index(drop=True)


@pytest.fixture(params=["cut_offs", "in_place"])
def formulation(request, monkeypatch):
    if request.param == "in_place":
        monkeypatch.setattr("obskit.profiles.row_anomaly_reasons.engine_name",
                            lambda con: "spark")
    return request.param


@pytest.mark.parametrize(("top", "sample"), [(5, 50), (1, 10), (0, 40), (20, 0), (0, 0)])
def test_rows_equal_a_sort_of_every_row(top, sample, formulation):
    frame = _log()
    t = engine_table(frame)
    got = select_rows(t, _reasons(t), ["request_id", "x", "y"], top=top, sample=sample,
                      key=t.k)
    want = _expected(frame, top=top, sample=sample)
    assert list(got.request_id) == list(want.request_id)
    assert list(got._sampled) == list(want._sampled)
    np.testing.assert_allclose(got._severity, want._severity)
    assert list(got._key) == list(want.k)
    # the flags and per-reason severities come along
    assert list(got._a0) == list(want.x > 1.0)
    np.testing.assert_allclose(got._s1, np.where(want.y > 2.0, 1.5, 0.0))
    per_window = got.groupby("window_index")._sampled.sum()
    sizes = frame.groupby("window_index").size()
    assert (per_window.reindex(sizes.index, fill_value=0)
            == np.minimum(sizes, sample)).all()


def test_window_with_few_severe_rows_keeps_them_all_and_ties_cut_by_key(formulation):
    frame = _log(seed=3)
    t = engine_table(frame)
    got = select_rows(t, _reasons(t), ["request_id"], top=4, sample=0, key=t.k)
    w2 = got[got.window_index == 2]
    assert len(w2) == 3  # only three severe rows: fewer than top, all kept
    w4 = got[got.window_index == 4]
    # window 4: most rows tie at severity 1.5 (y) and some add x; the cut-off falls in a
    # tie, which the key decides
    want = _expected(frame, top=4, sample=0)
    assert list(w4.request_id) == list(want[want.window_index == 4].request_id)
    assert len(w4) == 4
    assert not (got.window_index == 3).any()  # no severe row and no sample: nothing
