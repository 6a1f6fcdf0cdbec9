"""obskit.severity: the one severity order."""

from __future__ import annotations

from obskit.severity import SEVERITIES, SEVERITY_ORDER, severity_rank


def test_severities_least_severe_first_and_ranks_most_severe_first():
    assert SEVERITIES == ("info", "warning", "critical")
    assert SEVERITY_ORDER == {"critical": 0, "warning": 1, "info": 2}


def test_unknown_severities_sort_last():
    found = ["info", None, "critical", "bogus", "warning", "critical"]
    assert sorted(found, key=severity_rank) == ["critical", "critical", "warning", "info",
                                                None, "bogus"]


def test_config_validates_against_this_order():
    from obskit.config import sections as config

    assert config.SEVERITIES is SEVERITIES
