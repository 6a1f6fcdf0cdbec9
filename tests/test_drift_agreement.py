"""obskit's drift statistics agree with Evidently 0.7's stattests and with scipy.

The pure functions, given Evidently's own binning (:func:`evidently_binned_counts`), equal
Evidently's values within 1e-6. The engine differs in one documented way: binned methods
on a numeric feature with more than 20 unique reference values use Sturges edges fixed
once from the reference (so every window is compared on the same bins), where Evidently
bins reference and current together per comparison; those values are close but not equal
and are checked against the pure function on the reference bins in ``test_drift.py``.
The KS p-value is exact (same statistic and scipy's own exact/asymptotic routine).
Anderson–Darling and Cramér–von Mises are exact on windows and references of at most
10,000 rows; above that they use random samples of 10,000 rows per side.
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial import distance  # noqa: E402

from obskit.stattests.drift_rules import (  # noqa: E402
    METHODS,
    category_counts_from_samples,
    counts_from_samples,
    default_rule,
    evidently_binned_counts,
)

st = pytest.importorskip(
    "evidently.legacy.calculations.stattests",
    reason="Evidently 0.7 is not installed (pip install 'obskit[dev]')")
from evidently.legacy.calculations.stattests import (  # noqa: E402
    anderson_darling_stattest,
    chisquare_stattest,
    cramer_von_mises_stattest,
    hellinger_distance,
    jensenshannon,
    kl_div,
    ks_stattest,
    psi,
    tvd_stattest,
    wasserstein_distance_norm,
    z_stattest,
)
from evidently.legacy.calculations.stattests.registry import (  # noqa: E402
    _get_default_stattest,
)
from evidently.legacy.core import ColumnType  # noqa: E402

EVIDENTLY = {
    "psi": psi._psi,
    "ks": ks_stattest._ks_stat_test,
    "wasserstein": wasserstein_distance_norm._wasserstein_distance_norm,
    "jensenshannon": jensenshannon._jensenshannon,
    "hellinger": hellinger_distance._hellinger_distance,
    "kl_div": kl_div._kl_div,
    "chisquare": chisquare_stattest._chi_stat_test,
    "z": z_stattest._z_stat_test,
    "anderson": anderson_darling_stattest._anderson_darling,
    "cramer_von_mises": cramer_von_mises_stattest._cramer_von_mises,
}
NUMERIC = ("ks", "wasserstein", "anderson", "cramer_von_mises", "psi", "jensenshannon",
           "hellinger", "kl_div")
CATEGORICAL = ("psi", "jensenshannon", "hellinger", "kl_div", "chisquare", "tvd")
KINDS = ("numeric", "discrete", "categorical", "boolean")


def make(kind: str, n: int, *, nan: bool, seed: int) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    m = max(n // 2, 150)
    if kind == "numeric":
        ref, cur = rng.normal(0, 1, n), rng.normal(0.2, 1.2, m)
    elif kind == "discrete":
        ref, cur = rng.integers(0, 8, n).astype(float), rng.integers(1, 9, m).astype(float)
    elif kind == "categorical":
        ref = rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
        cur = rng.choice(list("abcde"), m, p=[0.3, 0.3, 0.2, 0.1, 0.1]).astype(object)
    else:
        ref, cur = rng.random(n) < 0.3, rng.random(m) < 0.4
        ref, cur = ref.astype(object), cur.astype(object)
    ref, cur = pd.Series(ref), pd.Series(cur)
    if nan:
        ref.iloc[::17] = np.nan
        cur.iloc[::13] = np.nan
    return ref, cur


def clean(s: pd.Series) -> pd.Series:
    """What Evidently's data drift passes to a stattest: no NaN, no infinities."""
    if s.dtype == object:
        return s.dropna().reset_index(drop=True)
    return s.replace([-np.inf, np.inf], np.nan).dropna().reset_index(drop=True)


def ours(name: str, ref: pd.Series, cur: pd.Series, *, numeric: bool) -> float:
    method = METHODS.get(name)
    if method.kind == "numeric":
        values, r, c = counts_from_samples(ref, cur)
        return method.function(values, r, c, reference_std=float(np.std(clean(ref))))
    if name in ("chisquare", "z", "tvd"):  # Evidently counts categories, never bins
        _, r, c = category_counts_from_samples(ref, cur)
    else:
        r, c = evidently_binned_counts(ref, cur, numeric=numeric,
                                       hellinger=name == "hellinger")
    return method.function(r, c)


def evidently(name: str, ref: pd.Series, cur: pd.Series, *, numeric: bool) -> float:
    ctype = ColumnType.Numerical if numeric else ColumnType.Categorical
    ref, cur = clean(ref), clean(cur)
    if name == "tvd":
        return float(tvd_stattest._total_variation_distance(ref, cur))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(EVIDENTLY[name](ref, cur, ctype, METHODS.get(name).default_threshold)[0])


CASES = [(kind, n, nan) for kind in KINDS for n in (200, 5000) for nan in (False, True)]


@pytest.mark.parametrize("kind,n,nan", CASES)
def test_pure_functions_equal_evidently(kind, n, nan):
    ref, cur = make(kind, n, nan=nan, seed=n + len(kind))
    numeric = kind in ("numeric", "discrete")
    names = list(NUMERIC if numeric else CATEGORICAL)
    if kind == "boolean":
        names.append("z")
    if kind == "discrete":
        names.append("chisquare")
    for name in names:
        got, want = ours(name, ref, cur, numeric=numeric), evidently(name, ref, cur,
                                                                     numeric=numeric)
        assert got == pytest.approx(want, abs=1e-6, rel=1e-6), name


@pytest.mark.parametrize("kind,n,nan", CASES)
def test_default_choice_equals_evidently(kind, n, nan):
    ref, cur = make(kind, n, nan=nan, seed=n)
    numeric = kind in ("numeric", "discrete")
    ref_c, cur_c = clean(ref), clean(cur)
    want = _get_default_stattest(ref_c, cur_c, ColumnType.Numerical if numeric
                                 else ColumnType.Categorical).name
    n_unique = pd.concat([ref_c, cur_c]).nunique()
    assert default_rule("numeric" if numeric else kind, len(ref_c), n_unique).method == want
    assert default_rule("numeric" if numeric else kind, len(ref_c),
                        n_unique).threshold == METHODS.get(want).default_threshold


@pytest.mark.parametrize("n", [200, 5000])
def test_pure_functions_equal_scipy(n):
    ref, cur = make("numeric", n, nan=True, seed=7)
    r, c = clean(ref).to_numpy(), clean(cur).to_numpy()
    values, rc, cc = counts_from_samples(ref, cur)
    call = {name: METHODS.get(name).function for name in METHODS.names()}
    assert call["ks"](values, rc, cc) == pytest.approx(stats.ks_2samp(r, c).pvalue, abs=1e-9)
    assert call["wasserstein"](values, rc, cc, reference_std=np.std(r)) == pytest.approx(
        stats.wasserstein_distance(r, c) / np.std(r), rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert call["anderson"](values, rc, cc) == pytest.approx(
            stats.anderson_ksamp([r, c])[2], rel=1e-9)
    assert call["cramer_von_mises"](values, rc, cc) == pytest.approx(
        stats.cramervonmises_2samp(r, c).pvalue, rel=1e-9)
    a, b = np.array([40, 30, 20, 10]), np.array([25, 30, 30, 15])
    assert call["chisquare"](a, b) == pytest.approx(
        stats.chisquare(b, a * b.sum() / a.sum()).pvalue, rel=1e-9)
    assert call["jensenshannon"](a, b) == pytest.approx(
        distance.jensenshannon(a / a.sum(), b / b.sum()), rel=1e-9)


def test_edge_cases():
    const = pd.Series([3.0] * 300)
    values, r, c = counts_from_samples(const, const)
    assert METHODS.get("wasserstein").function(values, r, c, reference_std=0.0) == 0.0
    shifted = counts_from_samples(const, const + 0.001)
    assert METHODS.get("wasserstein").function(*shifted, reference_std=0.0) == \
        pytest.approx(1.0)  # std floored at 0.001: no blow-up
    assert METHODS.get("ks").function(values, r, c) == 1.0
    nan = pd.Series([np.nan] * 50)
    for name in METHODS.names():
        method = METHODS.get(name)
        if method.kind == "numeric":
            got = method.function(*counts_from_samples(const, nan))
        else:
            got = method.function(*category_counts_from_samples(["a"] * 5, [None] * 5)[1:])
        assert np.isnan(got), name  # nothing to compare: not judged
    inf = pd.Series([1.0, 2.0, np.inf, -np.inf, 3.0])
    assert counts_from_samples(inf, inf)[0].tolist() == [1.0, 2.0, 3.0]
    keys, r, c = category_counts_from_samples(["a", "b"] * 50, ["a", "b", "new"] * 30)
    assert keys == ["a", "b", "new"]
    assert METHODS.get("chisquare").function(r, c) == 0.0  # unseen category
    assert np.isfinite(METHODS.get("psi").function(r, c))
    assert evidently("chisquare", pd.Series(["a", "b"] * 50),
                     pd.Series(["a", "b", "new"] * 30), numeric=False) == 0.0
