"""Drift statistics agree with scipy; the engine computation agrees with the pure one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from obskit.analysis.reference_cache import ReferenceCache
from obskit.config import DriftRule
from obskit.exceptions import ConfigError, NotFittedError
from obskit.monitors import DriftMonitor
from obskit.monitors.drift import COLUMNS
from obskit.profiles import wasserstein_by_window
from obskit.stattests import ReferenceECDF, wasserstein_ks
from obskit.stattests.drift_rules import (
    METHODS,
    NOT_JUDGED,
    cardinality_rule,
    chisquare_homogeneity_pvalue,
    jensenshannon_distance,
    population_stability_index,
    sturges_edges,
    wasserstein_distance_norm,
)
from obskit.thresholds import ConstantThreshold, ReferenceThreshold, benjamini_hochberg
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


@pytest.mark.parametrize("case", ["normal", "shifted", "ties", "disjoint", "one_value",
                                  "tiny"])
def test_reference_ecdf_wasserstein_and_ks_equal_scipy(case):
    rng = np.random.default_rng(len(case))
    for _ in range(40):
        n, k = rng.integers(1, 400, 2) if case != "tiny" else rng.integers(1, 4, 2)
        ref, cur = rng.normal(0, 1, n), rng.normal(0, 1, k)
        if case == "shifted":
            cur = cur * 1.7 + 0.4
        elif case == "ties":
            ref, cur = np.round(ref, 1), np.round(cur * 1.3, 1)
        elif case == "disjoint":
            cur = cur + rng.choice([-20, 20])
        elif case == "one_value":
            ref, cur = np.full(n, 2.0), np.round(cur)
        w1, ks = wasserstein_ks(ReferenceECDF.from_sorted(np.sort(ref)), np.sort(cur))
        assert w1 == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-9, abs=1e-12)
        assert ks == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=1e-12)


def _mixed_logs():
    rng = np.random.default_rng(7)
    n = 6000
    ref = pd.DataFrame({"x": rng.normal(0, 1, n), "t": np.round(rng.gamma(2, 1, n), 1),
                        "c": rng.choice(["a", "b", "c"], n)})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1.2, n), "t": np.round(rng.gamma(2, 1.2, n), 1),
                        "c": rng.choice(["a", "b", "d"], n),
                        "window_index": np.repeat(np.arange(4), n // 4)})
    for frame in (ref, cur):  # missing and infinite values are left out on both paths
        frame.loc[frame.index[::53], "x"] = np.nan
        frame.loc[frame.index[::71], "t"] = np.inf
    return engine_table(ref), engine_table(cur)


def test_numpy_and_engine_paths_agree_and_survive_the_reference_cache(tmp_path):
    ref, cur = _mixed_logs()
    features = {"x": "numeric", "t": "numeric", "c": "categorical"}
    rules = {"x": DriftRule("wasserstein", 0.1), "t": DriftRule("ks", 0.05),
             "c": DriftRule("jensenshannon", 0.1)}

    def monitor(**kw):
        return DriftMonitor(features, rules, **kw)

    local = monitor().fit(ref)  # both sides fit the default bound: sorted in numpy
    engine = monitor(fetch_values=0).fit(ref)  # everything sorted by the engine
    batched = monitor(fetch_values=6000).fit(ref)  # one column per query
    assert set(local.ecdf_) == {"x", "t"} and engine.ecdf_ == {}
    for f in ("x", "t"):
        assert local.std_[f] == pytest.approx(engine.std_[f], rel=1e-12)
        np.testing.assert_allclose(local.edges_[f], engine.edges_[f], rtol=1e-12)
        np.testing.assert_array_equal(local.reference_hist_[f]["counts"],
                                      engine.reference_hist_[f]["counts"])
    expected = engine.calculate(cur)
    for other in (local, batched):
        got = other.calculate(cur)
        assert len(got) == 12
        pd.testing.assert_frame_equal(got.drop(columns="value"),
                                      expected.drop(columns="value"))
        np.testing.assert_allclose(got.value, expected.value, rtol=1e-9, atol=1e-12)
    cache = ReferenceCache(tmp_path, "fingerprint")
    cache.fit(monitor(), ref)
    restored = cache.fit(monitor(), ref)  # the ECDFs come back from the .npz beside it
    assert cache.hits == 1 and set(restored.ecdf_) == {"x", "t"}
    assert len(list(tmp_path.glob("*.npz"))) == 1
    for f in ("x", "t"):  # exactly as fitted, not refetched
        for part in ("values", "shares", "integral", "rows"):
            np.testing.assert_array_equal(getattr(restored.ecdf_[f], part),
                                          getattr(local.ecdf_[f], part))
    pd.testing.assert_frame_equal(restored.calculate(cur), local.calculate(cur))
    np.testing.assert_allclose(restored.calculate(cur).value, expected.value, rtol=1e-9)
    engine_cache = ReferenceCache(tmp_path / "engine", "fingerprint")
    engine_cache.fit(monitor(fetch_values=0), ref)  # no ECDF: nothing beside the pickle
    assert not list((tmp_path / "engine").glob("*.npz"))
    assert getattr(engine_cache.fit(monitor(fetch_values=0), ref), "ecdf_", {}) == {}


def test_distributions_after_calculate_reuse_its_counts_and_equal_the_engine_queries():
    ref, cur = _mixed_logs()
    features = {"x": "numeric", "t": "numeric", "c": "categorical"}
    rules = {"x": DriftRule("wasserstein", 0.1), "t": DriftRule("ks", 0.05),
             "c": DriftRule("jensenshannon", 0.1)}
    monitor = DriftMonitor(features, rules).fit(ref)
    queried = monitor.distributions(cur)  # nothing counted yet: one engine query each
    monitor.calculate(cur)
    assert set(monitor.totals_[1]) == {"x", "t", "c"}
    assert monitor.distributions(cur) == queried
    other = cur.filter(cur.window_index > 0)  # another table: counted afresh
    assert monitor.distributions(other) != queried


def test_jensenshannon_equals_scipy_without_zero_fill():
    # Evidently 0.7 calls get_binned_data(..., feel_zeroes=False) for Jensen-Shannon
    ref = np.array([500, 300, 200, 0])
    cur = np.array([100, 300, 500, 100])
    assert jensenshannon_distance(ref, cur) == pytest.approx(
        distance.jensenshannon(ref / ref.sum(), cur / cur.sum()), rel=1e-12)


SYMMETRIC = {"wasserstein": False, "ks": True, "anderson": True, "cramer_von_mises": True,
             "psi": True, "jensenshannon": True, "hellinger": True, "kl_div": False,
             "chisquare": False, "chisquare_homogeneity": True, "z": True, "tvd": True,
             "linf": True}


def _call(method, counts_ref, counts_cur, values=None):
    if method.kind == "numeric":
        v = np.array([1.0, 2.0, 3.0, 4.0]) if values is None else values
        return method.function(v, counts_ref, counts_cur, reference_std=1.0)
    return method.function(counts_ref, counts_cur)


@pytest.mark.parametrize("name", METHODS.names())
def test_common_properties(name):
    method = METHODS.get(name)
    counts = np.array([5, 10, 20, 7])
    other = np.array([20, 7, 5, 10])
    same = _call(method, counts, counts)
    scaled = _call(method, counts * 10, counts * 30)
    shifted = _call(method, counts * 10, other * 10)
    if method.is_pvalue:  # identical samples: no evidence of drift
        assert same > 0.2  # (anderson_ksamp caps p at 0.25)
        assert shifted < method.default_threshold
    else:
        # Hellinger: sqrt(1 - (1 - 1e-16)) = 1e-8, as in Evidently
        assert same == pytest.approx(0.0, abs=1e-7)
        assert scaled == pytest.approx(0.0, abs=1e-7)  # only shares matter
        assert shifted > 0
    if SYMMETRIC[name] and method.kind == "categorical":
        assert shifted == pytest.approx(_call(method, other * 10, counts * 10), rel=1e-9)
    if method.kind == "categorical":  # row (category) order does not matter
        perm = np.array([2, 0, 3, 1])
        assert shifted == pytest.approx(_call(method, counts[perm] * 10, other[perm] * 10),
                                        rel=1e-9)
    else:  # NaN / infinite values are ignored
        values = np.array([1.0, 2.0, 3.0, 4.0, np.nan, np.inf])
        got = _call(method, np.r_[counts, 3, 3] * 10, np.r_[other, 9, 9] * 10, values)
        assert got == pytest.approx(shifted, rel=1e-9)
    empty = _call(method, counts, np.zeros(4, dtype=int))
    assert np.isnan(empty)  # nothing to compare: not judged


def test_unknown_method_lists_known():
    with pytest.raises(ConfigError, match="jensenshannon.*ks.*wasserstein"):
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


def ks_2samp_p(a, b):
    return stats.ks_2samp(np.asarray(a), np.asarray(b)).pvalue


def test_drift_monitor_columns_fdr_persistence_and_reference_threshold():
    rng = np.random.default_rng(1)
    rules = {"x": DriftRule("ks", 0.05), "c": DriftRule("chisquare", 0.05),
             "y": DriftRule("psi", 0.1, ReferenceThreshold(k=3, chunks=5))}
    ref = pd.DataFrame({"x": rng.normal(0, 1, 800), "y": rng.normal(0, 1, 800),
                        "c": rng.choice(list("abc"), 800)})
    cur = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 900), rng.normal(1, 1, 300)],
                        "y": np.r_[rng.normal(0, 1, 900), rng.normal(2, 1, 300)],
                        "c": rng.choice(list("abc"), 1200),
                        "window_index": np.repeat([0, 1, 2, 3], 300)})
    monitor = DriftMonitor({"x": "numeric", "y": "numeric", "c": "categorical"}, rules,
                           persistence=2, fdr=0.05).fit(engine_table(ref))
    out = monitor.calculate(engine_table(cur))
    assert list(out.columns) == COLUMNS
    res = out.set_index(["window_index", "feature"])
    assert res.loc[(3, "x"), "drifted"] and not res.loc[(0, "x"), "drifted"]
    assert res.loc[(3, "x"), "threshold_kind"] == "fdr"
    assert res.loc[(3, "y"), "threshold_kind"] == "reference"
    assert res.loc[(3, "x"), "p_value"] == pytest.approx(ks_2samp_p(ref.x, cur.x[900:]),
                                                         rel=1e-9)
    window = out[out.window_index == 3].set_index("feature")
    bh = benjamini_hochberg(window.loc[["c", "x"], "p_value"].astype(float))
    assert window.loc[["c", "x"], "adjusted"].astype(float).tolist() == pytest.approx(bh.tolist())
    assert res.loc[(3, "y"), "drifted"] and res.loc[(3, "y"), "p_value"] is None
    assert not res.loc[(3, "y"), "persistent"]  # drifted in one window only, k = 2
    assert res.loc[(3, "y"), "threshold"] > 0


def test_drift_monitor_all_nan_constant_and_sampled_tests():
    rng = np.random.default_rng(2)
    rules = {"n": DriftRule("wasserstein", 0.1), "k": DriftRule("wasserstein", 0.1),
             "a": DriftRule("anderson", 0.1), "v": DriftRule("cramer_von_mises", 0.1)}
    ref = pd.DataFrame({"n": [np.nan] * 300, "k": [1.0] * 300, "a": rng.normal(0, 1, 300),
                        "v": rng.normal(0, 1, 300)})
    cur = pd.DataFrame({"n": [np.nan] * 200, "k": [1.0] * 199 + [np.inf],
                        "a": rng.normal(0, 1, 200), "v": rng.normal(0.5, 1, 200),
                        "window_index": 0})
    monitor = DriftMonitor({f: "numeric" for f in rules}, rules).fit(engine_table(ref))
    res = monitor.calculate(engine_table(cur)).set_index("feature")
    assert "n" not in res.index or res.loc["n", "drifted"] is None
    assert res.loc["k", "value"] == 0.0 and not res.loc["k", "drifted"]
    assert res.loc["a", "value"] == pytest.approx(
        stats.anderson_ksamp([ref.a.to_numpy(), cur.a.to_numpy()])[2], rel=1e-9)
    assert res.loc["v", "value"] == pytest.approx(
        stats.cramervonmises_2samp(ref.v.to_numpy(), cur.v.to_numpy()).pvalue, rel=1e-9)


def test_binned_engine_uses_reference_edges():
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, 3000)
    cur = rng.normal(0.5, 1, 1000)
    monitor = DriftMonitor({"x": "numeric"}, {"x": DriftRule("psi", 0.1)}).fit(
        engine_table(pd.DataFrame({"x": ref})))
    frame = pd.DataFrame({"x": cur, "window_index": 0})
    value = monitor.calculate(engine_table(frame)).value[0]
    edges = sturges_edges(ref.min(), ref.max(), len(ref))
    inner = edges[1:-1]
    r = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=len(edges) - 1)
    c = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=len(edges) - 1)
    assert value == pytest.approx(population_stability_index(r, c), rel=1e-9)


def test_thresholds_config():
    from tests.test_config import cfg

    c = cfg(drift={"threshold": {"kind": "reference", "k": 2}, "persistence": 3, "fdr": False,
                   "features": {"x": {"method": "psi", "threshold": {"kind": "constant"}}}})
    assert c.drift_default["threshold"] == ReferenceThreshold(k=2.0)
    assert c.drift_default["persistence"] == 3 and c.drift_default["fdr"] is None
    assert c.drift_features["x"] == DriftRule("psi", 0.1, ConstantThreshold())
    assert c.drift_default["numeric"] is None  # per-feature Evidently default
    for bad, key in [({"persistence": 0}, "drift.persistence"), ({"fdr": 2}, "drift.fdr"),
                     ({"threshold": {"kind": "magic"}}, "drift.threshold.kind")]:
        with pytest.raises(ConfigError) as err:
            cfg(drift=bad)
        assert err.value.key == key


def test_feature_stats_counts_distinct_values_up_to_the_cap():
    from obskit.profiles.drift import UNIQUE_CAP, feature_stats

    n = 3000
    ref = pd.DataFrame({
        "wide": np.arange(n, dtype=float),  # many values, seen in the probe
        # the probe (first rows) sees 2 values; the whole reference has 4, current 2 more
        "late": np.r_[np.tile([1.0, 2.0], 50), np.tile([1.0, 2.0, 3.0, 4.0], (n - 100) // 4)],
        "few": np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) % 3).astype(float),
        "cat": np.array(["a", "b"] * (n // 2), dtype=object)})
    ref.loc[5, "wide"] = np.inf
    cur = ref.assign(late=np.r_[[5.0, 6.0], ref.late[2:]], cat="c")
    got = feature_stats(engine_table(ref), engine_table(cur),
                        {"wide": "numeric", "late": "numeric", "few": "numeric",
                         "cat": "categorical"}, probe_rows=100)
    assert got.n_unique.to_dict() == {"wide": UNIQUE_CAP, "late": 6, "few": 3, "cat": 3}
    assert got.reference_rows.to_dict() == {"wide": n - 1, "late": n,
                                            "few": n - len(range(0, n, 7)), "cat": n}
    # the categoricals' distinct reference values, in the same query: as category_cardinality
    from obskit.profiles.drift import category_cardinality
    ids = ref.assign(cat=[f"id{i}" for i in range(n)])
    both = feature_stats(engine_table(ids), engine_table(cur), {"late": "numeric",
                         "cat": "categorical"}, probe_rows=100, reference_unique=["cat"])
    alone, _ = category_cardinality(engine_table(ids), None, ["cat"])
    assert int(both.reference_unique["cat"]) == int(alone.reference_unique["cat"]) == n
    assert pd.isna(both.reference_unique["late"])


# --------------------------------------------------------------------------- id-like columns


def test_chisquare_homogeneity_equals_scipy_contingency():
    rng = np.random.default_rng(5)
    ref = rng.integers(0, 30, 40)
    cur = rng.integers(0, 30, 40)
    ref[3], cur[7] = 0, 12  # a category unseen in the reference
    ref[9], cur[9] = 0, 0  # a category in neither: left out, not a division by zero
    keep = (ref + cur) > 0
    want = stats.chi2_contingency(np.vstack([ref[keep], cur[keep]]), correction=False)[1]
    assert chisquare_homogeneity_pvalue(ref, cur) == pytest.approx(want, rel=1e-12)


def _ids(rng, p, rows):
    return np.bincount(rng.choice(len(p), rows, p=p), minlength=len(p))


def test_id_like_categorical_is_judged_by_a_test_that_accounts_for_sample_size():
    """400 merchant ids, 1,500 reference rows, 400-row windows, the same distribution:
    Jensen–Shannon sits near 0.45 (pure sampling noise, 100% false alarms); the rule chosen
    for such a column keeps false alarms near its 5% level across 200 draws, and a new
    dominant id or a shifted mix of ids is still caught."""
    rule = cardinality_rule("merchant_id", reference_rows=1500, reference_unique=400,
                            window_rows=400)
    assert rule.method == "chisquare_homogeneity" and "400 distinct values" in rule.note
    method = METHODS.get(rule.method)
    rng = np.random.default_rng(7)
    p = 1 / np.arange(1, 401) ** 0.8
    p /= p.sum()
    alarms, js = 0, []
    for _ in range(200):
        ref, cur = _ids(rng, p, 1500), _ids(rng, p, 400)
        alarms += method.drifted(method.function(ref, cur), rule.threshold)
        js.append(jensenshannon_distance(ref, cur))
    assert min(js) > 0.3  # the binned distance alarms on noise alone
    assert alarms <= 0.1 * 200  # binomial(200, 0.05): 10 expected, P(> 20) < 0.001
    ref = _ids(rng, p, 1500)
    dominant = np.r_[_ids(rng, p, 280), 0] + np.r_[np.zeros(400, int), 120]  # a new id: 30%
    assert method.drifted(method.function(np.r_[ref, 0], dominant), rule.threshold)
    shifted = _ids(rng, p[::-1], 400)  # the rare ids became the common ones
    assert method.drifted(method.function(ref, shifted), rule.threshold)


@pytest.mark.parametrize(("rows", "unique", "window", "want"), [
    (1500, 4, 400, None),  # a few regions: a binned distance is fine
    (1500, 30, 400, None),  # 2% distinct, 13 window rows per value
    (100_000, 100, 400, "chisquare_homogeneity"),  # rare share, but 4 window rows per value
    (1500, 400, 400, "chisquare_homogeneity"),  # 27% distinct
    (1500, 1500, 400, NOT_JUDGED),  # one value per row: an identifier
])
def test_cardinality_rule_from_distinct_share_and_window_size(rows, unique, window, want):
    rule = cardinality_rule("c", reference_rows=rows, reference_unique=unique,
                            window_rows=window)
    assert (rule.method if rule else None) == want



def test_sampled_tests_give_the_same_value_on_every_run():
    """Anderson-Darling and Cramér-von Mises run on samples of large windows: the sample is
    drawn by a hash of the rows, so two runs over one log agree to the last digit."""
    rng = np.random.default_rng(5)
    rules = {"a": DriftRule("anderson", 0.1), "v": DriftRule("cramer_von_mises", 0.1)}
    ref = pd.DataFrame({"a": rng.normal(0, 1, 3000), "v": rng.normal(0, 1, 3000)})
    cur = pd.DataFrame({"a": rng.normal(0.05, 1, 3000), "v": rng.normal(0.05, 1, 3000),
                        "window_index": 0})

    def run() -> pd.Series:
        monitor = DriftMonitor({f: "numeric" for f in rules}, rules, sample_rows=500)
        return monitor.fit(engine_table(ref)).calculate(engine_table(cur)) \
            .set_index("feature")["value"]

    first, second = run(), run()
    assert first.tolist() == second.tolist()
    full = stats.anderson_ksamp([ref.a.to_numpy(), cur.a.to_numpy()])[2]
    assert first["a"] != pytest.approx(full, rel=1e-9)  # a sample, not every row
