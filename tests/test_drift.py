"""Drift statistics agree with scipy; the engine computation agrees with the pure one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from obskit.config import DriftRule
from obskit.drift import METHODS, jensenshannon_distance, wasserstein_distance_norm
from obskit.exceptions import ConfigError, NotFittedError
from obskit.monitors import DriftMonitor
from obskit.profiles import wasserstein_by_window
from tests.helpers import engine_table

RNG = np.random.default_rng(0)


def _counts(ref, cur):
    values = np.union1d(ref, cur)
    r = pd.Series(ref).value_counts().reindex(values, fill_value=0).to_numpy()
    c = pd.Series(cur).value_counts().reindex(values, fill_value=0).to_numpy()
    return values, r, c


@pytest.mark.parametrize("shift,scale,ties", [(0.0, 1, False), (0.3, 1, False),
                                              (2.0, 3, False), (0.5, 1, True)])
def test_wasserstein_norm_equals_scipy(shift, scale, ties):
    ref = RNG.normal(0, 1, 3000)
    cur = RNG.normal(shift, scale, 2000)
    if ties:
        ref, cur = np.round(ref, 1), np.round(cur, 1)
    values, r, c = _counts(ref, cur)
    ours = wasserstein_distance_norm(values, r, c, reference_std=float(np.std(ref)))
    expected = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_engine_wasserstein_and_ks_equal_scipy_per_window():
    ref = RNG.normal(0, 1, 5000)
    cur = np.concatenate([RNG.normal(0, 1, 1500), RNG.normal(1, 2, 1500)])
    cur[::97] = np.nan  # missing values are left out, as Evidently does
    windows = np.repeat([0, 1], 1500)
    con_ref = engine_table(pd.DataFrame({"x": ref}))
    con_cur = engine_table(pd.DataFrame({"x": cur, "window_index": windows}))
    got = wasserstein_by_window(con_ref, con_cur, "x").set_index("window_index")
    for w in (0, 1):
        sample = cur[windows == w]
        sample = sample[~np.isnan(sample)]
        assert got.wasserstein[w] == pytest.approx(stats.wasserstein_distance(ref, sample),
                                                   rel=1e-9)
        assert got.ks[w] == pytest.approx(stats.ks_2samp(ref, sample).statistic, rel=1e-9)


def test_jensenshannon_equals_scipy_with_evidently_zero_fill():
    ref = np.array([500, 300, 200, 0])
    cur = np.array([100, 300, 500, 100])
    r = np.where(ref == 0, 0.0001, ref / ref.sum())
    c = np.where(cur == 0, 0.0001, cur / cur.sum())
    assert jensenshannon_distance(ref, cur) == pytest.approx(distance.jensenshannon(r, c),
                                                             rel=1e-12)


@pytest.mark.parametrize("name", METHODS.names())
def test_common_properties(name):
    method = METHODS.get(name)
    counts = np.array([5, 10, 20, 7])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    if method.kind == "numeric":
        same = method.function(values, counts, counts, reference_std=1.0)
        scaled = method.function(values, counts, counts * 3, reference_std=1.0)
        shifted = method.function(values, counts, counts[::-1], reference_std=1.0)
    else:
        same = method.function(counts, counts)
        scaled = method.function(counts, counts * 3)
        shifted = method.function(counts, counts[::-1])
        assert shifted == pytest.approx(method.function(counts[::-1], counts))  # symmetric
    assert same == pytest.approx(0.0, abs=1e-12)
    assert scaled == pytest.approx(0.0, abs=1e-12)  # only shares matter
    assert shifted > 0


def test_unknown_method_lists_known():
    with pytest.raises(ConfigError, match="jensenshannon.*wasserstein"):
        METHODS.get("psi-typo")


def test_drift_monitor_verdicts_and_unfitted_error():
    rules = {"x": DriftRule("wasserstein", 0.1), "c": DriftRule("jensenshannon", 0.1)}
    monitor = DriftMonitor({"x": "numeric", "c": "categorical"}, rules)
    cur = pd.DataFrame({"x": np.r_[RNG.normal(0, 1, 1000), RNG.normal(3, 1, 1000)],
                        "c": ["a", "b"] * 500 + ["a"] * 900 + ["z"] * 100,
                        "window_index": np.repeat([0, 1], 1000)})
    with pytest.raises(NotFittedError):
        monitor.calculate(engine_table(cur))
    ref = pd.DataFrame({"x": RNG.normal(0, 1, 4000), "c": ["a", "b"] * 2000})
    monitor.fit(engine_table(ref))
    result = monitor.calculate(engine_table(cur)).set_index(["window_index", "feature"])
    assert not result.loc[(0, "x"), "drifted"] and result.loc[(1, "x"), "drifted"]
    assert not result.loc[(0, "c"), "drifted"] and result.loc[(1, "c"), "drifted"]
    expected = stats.wasserstein_distance(ref.x, cur.x[1000:]) / np.std(ref.x)
    assert result.loc[(1, "x"), "value"] == pytest.approx(expected, rel=1e-9)
