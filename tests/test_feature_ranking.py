"""obskit.results.ranking: the one order of features, most drifted first."""

from __future__ import annotations


def _entry(drifted, worst, threshold, method, **extra):
    return {"drifted_windows": drifted, "worst_value": worst, "threshold": threshold,
            "method": method, **extra}


def test_rank_features_drifted_windows_then_ratio_in_the_method_direction_then_name():
    from obskit.results.ranking import rank_features

    summary = {
        "psi_far": _entry(2, 0.4, 0.1, "psi"),          # ratio 4
        "ks_far": _entry(2, 0.001, 0.05, "ks"),          # ratio 50: p-values, smaller first
        "ks_near": _entry(2, 0.04, 0.05, "ks"),          # ratio 1.25
        "most_windows": _entry(3, 0.11, 0.1, "psi"),
        "b_quiet": _entry(0, 0.01, 0.1, "psi"),
        "a_quiet": _entry(0, 0.01, 0.1, "psi"),
        "no_worst": _entry(0, None, 0.1, "psi"),
    }
    assert rank_features(summary) == ["most_windows", "ks_far", "psi_far", "ks_near",
                                      "a_quiet", "b_quiet", "no_worst"]
    # names without an entry rank as undrifted; summaries without worst_value use max_value
    old = {"x": {"drifted_windows": 1, "max_value": 0.3, "threshold": 0.1, "method": "psi"}}
    assert rank_features(old, ["new", "x"]) == ["x", "new"]


def test_summary_worst_value_falls_back_to_max_value():
    from obskit.results.ranking import summary_worst_value

    assert summary_worst_value({"worst_value": 0.0, "max_value": 0.7}) == 0.0
    assert summary_worst_value({"worst_value": None, "max_value": 0.7}) is None
    assert summary_worst_value({"max_value": 0.7}) == 0.7
    assert summary_worst_value({}) is None


def test_rank_window_drift_drifted_first_then_ratio_then_name():
    from obskit.results.ranking import rank_window_drift

    window = {
        "quiet": {"method": "psi", "value": 0.09, "threshold": 0.1, "drifted": False},
        "ks_small_p": {"method": "ks", "value": 0.0001, "threshold": 0.05, "drifted": True},
        "ks_large_p": {"method": "ks", "value": 0.04, "threshold": 0.05, "drifted": True},
        "psi": {"method": "psi", "value": 0.3, "threshold": 0.1, "drifted": True},
        "unjudged": {"method": "psi", "value": None, "threshold": 0.1, "drifted": None},
    }
    assert rank_window_drift(window) == ["ks_small_p", "psi", "ks_large_p", "quiet",
                                         "unjudged"]
