"""Thresholds, Benjamini–Hochberg and persistence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from obskit.thresholds import ReferenceThreshold, benjamini_hochberg, persistent_runs


def test_benjamini_hochberg_equals_scipy_and_keeps_nan():
    p = np.random.default_rng(0).random(50) ** 3
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p, method="bh"))
    got = benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(got[1]) and got[[0, 2]].tolist() == pytest.approx([0.02, 0.04])
    assert benjamini_hochberg([]).shape == (0,)


def test_two_hundred_null_features_rarely_alarm():
    rng = np.random.default_rng(1)
    raw = bh = 0
    for _ in range(50):
        p = rng.random(200)  # no drift anywhere
        raw += int((p < 0.05).sum())
        bh += int((benjamini_hochberg(p) <= 0.05).sum())
    assert raw > 300 and bh <= 5


def test_persistence_and_reference_threshold():
    assert persistent_runs([True, None, True, True], 2) == [False, False, False, True]
    assert persistent_runs([True, False], 1) == [True, False]
    t = ReferenceThreshold(k=3)
    assert t.derive([0.1, 0.1, 0.1], lower=False) == pytest.approx(0.1)
    assert t.derive([0.5, 0.7], lower=True) == pytest.approx(0.6 - 0.3)
    assert np.isnan(t.derive([np.nan], lower=False))
