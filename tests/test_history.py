"""The history page: every run (good and failed), key figures, everything escaped."""

from __future__ import annotations

import json
import re

from obskit.results import load, load_record
from obskit.runner.history import PastRun, collect_runs, history_html, key_figures


def _summary(status="ok", title="credit", at="2026-11-02T06:00:00Z", **extra):
    return {"status": status, "title": title, "generated_at": at, "task": "binary",
            "roles": ["timestamp", "score", "label", "latency_ms"], "window": "1d",
            "period": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
            "rows": {"current": 1234},
            "alerts": [{"rule": "drift_share"}],
            "windows": [{"drift_share": 0.25, "performance": {"roc_auc": 0.81},
                         "health": {"latency_p95_ms": 120.0}},
                        {"drift_share": 0.5, "performance": {"roc_auc": None},
                         "health": {"latency_p95_ms": 140.0}}], **extra}


def _past(name, summary):
    """A run of the history, read from its summary.json document."""
    return PastRun(name, load(summary), load_record(summary))


def test_key_figures():
    figures = key_figures(load(_summary()))
    assert figures == {"alerts": 1, "drift_share_max": 0.5, "primary_metric": "roc_auc",
                       "primary_metric_latest": 0.81, "latency_p95_latest": 140.0,
                       "rows": 1234}


def test_page_is_escaped_and_lists_failed_runs():
    planted = '<script>alert("x")</script>'
    page = history_html([
        _past("20261103T060000Z-failed", _summary("failed", title=planted,
                                                  error=f"cell failed: {planted}")),
        _past("20261102T060000Z", _summary("alert", title=planted)),
    ])
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "script-src" not in page and "default-src 'none'" in page  # CSP, no scripts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert '20261103T060000Z-failed/monitoring_report.ipynb' in page
    assert '<a href="20261102T060000Z/index.html">' in page
    assert page.index("20261103T060000Z-failed") < page.index("20261102T060000Z/")
    for text in ("failed", "2026-11-01", "50%", "roc_auc 0.810", "140", "1234"):
        assert text in page, text


def test_collect_runs_newest_first_skipping_tmp_and_latest(tmp_path):
    for name, at in (("2026-11-01", "2026-11-05T00:00:00Z"), ("b", "2026-11-04T00:00:00Z"),
                     (".tmp-c", "2026-11-09T00:00:00Z")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_summary(at=at)))
    (tmp_path / "latest").symlink_to("b")
    (tmp_path / "junk").mkdir()
    assert [r.path.name for r in collect_runs(tmp_path)] == ["2026-11-01", "b"]


def test_no_link_to_latest_until_a_run_succeeded():
    failed = [_past("r1-failed", _summary("failed", error="cell 3 failed"))]
    page = history_html(failed)
    assert "latest/" not in page
    assert "No good report yet: 1 of 1 run failed" in page
    assert 'href="r1-failed/monitoring_report.ipynb"' in page and "cell 3 failed" in page
    good = [_past("r2", _summary("ok")), *failed]
    assert '<a href="latest/index.html">Latest good report</a> · 2 runs' in history_html(good)
    # the folder's real state wins over what the summaries suggest
    assert "latest/" not in history_html(good, latest=False)
