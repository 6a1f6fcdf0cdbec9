"""The demo's applicants, their true default risk and the serving noise.

Pure functions of a :class:`numpy.random.Generator`: feature draws, the true log-odds of
default before and after the concept drift, latency and trace ids. The constants here set
the population and the size of every injected incident.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NUMERIC_FEATURES: tuple[str, ...] = (
    "age",
    "income",
    "debt_ratio",
    "credit_limit",
    "utilization",
    "num_late_payments",
    "account_age_months",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("employment_type", "region", "home_ownership")
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

EMPLOYMENT = ("salaried", "self_employed", "unemployed", "retired", "student")
EMPLOYMENT_P = (0.64, 0.15, 0.06, 0.08, 0.07)
REGIONS = ("north", "south", "east", "west", "central")
REGION_P = (0.22, 0.24, 0.18, 0.20, 0.16)
HOME = ("rent", "own", "mortgage")
HOME_P = (0.40, 0.25, 0.35)

# utilization ~ Beta with mean m and concentration k (a = m k, b = (1 - m) k)
UTIL_CONCENTRATION = 6.0
UTIL_MEAN_BASE = 0.30
UTIL_MEAN_END = 0.70

LATENCY_MEDIAN_MS = 40.0
LATENCY_SIGMA = float(np.log(3.0) / 1.6448536)  # p95 = 3 x median = 120 ms
LATENCY_SPIKE_FACTOR = 20.0
BACKGROUND_FAILURE_RATE = 0.003
BURST_FAILURE_RATE = 0.6
V2_SHARE = 0.30
LABEL_COVERAGE = (1.0,) * 9 + (0.9, 0.8, 0.6, 0.4, 0.2)

BACKGROUND_ERRORS = ("upstream timeout", "internal server error", "model server overloaded")
BURST_ERROR = "feature store unavailable: <script>alert(1)</script>"


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def stratified_uniform(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """Uniforms stratified within each group: ``(random rank + U(0, 1)) / group size``."""
    n = len(groups)
    order = np.lexsort((rng.random(n), groups))
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    last = np.searchsorted(sorted_groups, sorted_groups, side="right")
    u = np.empty(n)
    u[order] = (np.arange(n) - first + rng.random(n)) / (last - first)
    return u


def draw_utilization(
    rng: np.random.Generator, util_mean: np.ndarray, groups: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """Utilization draws: Beta with per-row mean ``util_mean``.

    Rows at the undrifted mean are drawn by stratified inverse-CDF sampling within their
    ``groups`` (``table`` is a large sorted Beta sample used as the quantile function), so
    that undrifted daily windows do not show spurious sampling drift against the reference
    even for small demos. Drifted rows are plain Beta draws.
    """
    n = len(util_mean)
    out = rng.beta(util_mean * UTIL_CONCENTRATION, (1.0 - util_mean) * UTIL_CONCENTRATION, n)
    base = util_mean == UTIL_MEAN_BASE
    if base.any():
        u = stratified_uniform(rng, groups[base])
        out[base] = np.interp(u * (len(table) - 1), np.arange(len(table)), table)
    return np.round(out, 4)


def sample_features(
    rng: np.random.Generator, n: int, utilization: np.ndarray | None = None
) -> pd.DataFrame:
    """Draw ``n`` applicants; ``utilization`` is drawn from the base Beta unless given."""
    age = np.clip(np.rint(rng.normal(44.0, 14.0, n)), 18, 85).astype(np.int64)

    emp_idx = rng.choice(len(EMPLOYMENT), size=n, p=EMPLOYMENT_P)
    u = rng.random(n)
    emp_idx = np.where((age >= 67) & (u < 0.75), 3, emp_idx)  # mostly retired when old
    emp_idx = np.where((emp_idx == 4) & (age > 30), 0, emp_idx)  # students are young
    emp_idx = np.where((emp_idx == 3) & (age < 50), 0, emp_idx)  # retirees are not
    employment = np.asarray(EMPLOYMENT, dtype=object)[emp_idx]

    income_factor = np.array([1.0, 1.1, 0.35, 0.7, 0.4])[emp_idx]
    income = np.round(np.exp(rng.normal(np.log(55_000.0), 0.45, n)) * income_factor, 2)

    debt_ratio = np.round(np.clip(rng.gamma(2.0, 0.17, n), 0.0, 1.5), 4)
    credit_limit = np.round(np.maximum(income * rng.uniform(0.08, 0.35, n), 500.0), -2)

    if utilization is None:
        m = UTIL_MEAN_BASE * UTIL_CONCENTRATION
        utilization = np.round(rng.beta(m, UTIL_CONCENTRATION - m, n), 4)

    num_late = rng.poisson(0.6, n).astype(np.int64)
    max_months = np.minimum((age - 18) * 12 + 6, 480)
    account_age = np.floor(rng.random(n) * max_months).astype(np.int64) + 1

    region = np.asarray(REGIONS, dtype=object)[rng.choice(len(REGIONS), size=n, p=REGION_P)]
    home = np.asarray(HOME, dtype=object)[rng.choice(len(HOME), size=n, p=HOME_P)]

    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "debt_ratio": debt_ratio,
            "credit_limit": credit_limit,
            "utilization": utilization,
            "num_late_payments": num_late,
            "account_age_months": account_age,
            "employment_type": employment,
            "region": region,
            "home_ownership": home,
        }
    )


def logit_base(df: pd.DataFrame) -> np.ndarray:
    """True log-odds of default before the concept drift (without intercept)."""
    emp = df["employment_type"].to_numpy()
    return (
        3.2 * (df["utilization"].to_numpy() - 0.3)
        + 0.75 * df["num_late_payments"].to_numpy()
        + 1.8 * (df["debt_ratio"].to_numpy() - 0.34)
        - 0.9 * (np.log(df["income"].to_numpy()) - np.log(55_000.0))
        + 1.0 * (emp == "unemployed")
        + 0.25 * (emp == "self_employed")
        - 0.01 * (df["age"].to_numpy() - 44.0)
    )


def logit_concept(df: pd.DataFrame) -> np.ndarray:
    """True log-odds after the concept drift (without intercept).

    ``num_late_payments`` no longer matters, utilization matters less, and two drivers
    the model never learnt (renting, young accounts) take over.
    """
    emp = df["employment_type"].to_numpy()
    return (
        2.0 * (df["utilization"].to_numpy() - 0.3)
        + 1.8 * (df["debt_ratio"].to_numpy() - 0.34)
        - 0.9 * (np.log(df["income"].to_numpy()) - np.log(55_000.0))
        + 1.0 * (emp == "unemployed")
        + 0.25 * (emp == "self_employed")
        + 2.0 * (df["home_ownership"].to_numpy() == "rent")
        - 2.0 * (np.minimum(df["account_age_months"].to_numpy(), 120) / 120.0)
    )


def intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """Intercept ``b`` such that ``mean(sigmoid(logit + b)) == rate`` (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if sigmoid(logit + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)



def draw_latency(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` lognormal latencies in ms (median 40, p95 120)."""
    return rng.lognormal(np.log(LATENCY_MEDIAN_MS), LATENCY_SIGMA, n)


def trace_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random 32-hex-digit trace ids."""
    raw = rng.bytes(16 * n).hex()
    return [raw[i : i + 32] for i in range(0, 32 * n, 32)]
