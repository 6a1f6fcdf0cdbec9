"""Fitted reference statistics are cached on disk and reused only for the same data and
settings."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import obskit
from obskit.analysis.reference_cache import ReferenceCache, data_fingerprint
from obskit.config import DriftRule, load_config
from obskit.monitors import DriftMonitor
from tests.helpers import engine_table

RNG = np.random.default_rng(11)


def _frame(n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"x": RNG.normal(shift, 1, n), "c": RNG.choice(["a", "b", "c"], n),
                         "window_index": RNG.integers(0, 3, n)})


FEATURES = {"x": "numeric", "c": "categorical"}
RULES = {"x": DriftRule("wasserstein", 0.1), "c": DriftRule("jensenshannon", 0.1)}


def _counting_fit(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = DriftMonitor.fit

    def fit(self, reference):
        calls.append(1)
        return original(self, reference)

    monkeypatch.setattr(DriftMonitor, "fit", fit)
    return calls


def test_second_fit_restores_state_and_gives_the_same_results(tmp_path, monkeypatch):
    ref, cur = engine_table(_frame(2000)), engine_table(_frame(900, 0.5))
    calls = _counting_fit(monkeypatch)
    cache = ReferenceCache(tmp_path, "data-key")
    first = cache.fit(DriftMonitor(FEATURES, RULES), ref)
    second = cache.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 1 and (cache.misses, cache.hits) == (1, 1)
    assert second.reference_ is ref  # the table is re-attached, not stored
    pd.testing.assert_frame_equal(first.calculate(cur), second.calculate(cur))
    assert first.distributions(cur) == second.distributions(cur)


def test_other_settings_scope_or_data_fit_afresh(tmp_path, monkeypatch):
    ref = engine_table(_frame(500))
    calls = _counting_fit(monkeypatch)
    ReferenceCache(tmp_path, "k1").fit(DriftMonitor(FEATURES, RULES), ref)
    ReferenceCache(tmp_path, "k1").fit(
        DriftMonitor(FEATURES, {**RULES, "x": DriftRule("ks", 0.05)}), ref)
    ReferenceCache(tmp_path, "k1").fit(DriftMonitor(FEATURES, RULES), ref, scope="seg=1")
    ReferenceCache(tmp_path, "k2").fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 4
    ReferenceCache(tmp_path, "k1").fit(DriftMonitor(FEATURES, RULES), ref, scope="seg=1")
    assert len(calls) == 4


def test_disabled_or_unreadable_cache_fits(tmp_path, monkeypatch, caplog):
    ref = engine_table(_frame(500))
    calls = _counting_fit(monkeypatch)
    off = ReferenceCache(None, "k")
    off.fit(DriftMonitor(FEATURES, RULES), ref)
    off.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 2 and not off.enabled
    cache = ReferenceCache(tmp_path / "c", "k")
    cache.fit(DriftMonitor(FEATURES, RULES), ref)
    (entry,) = (tmp_path / "c").glob("*.pkl")
    entry.write_bytes(b"not a pickle")
    monitor = cache.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 4 and monitor.std_["x"] > 0
    assert "unreadable" in caplog.text
    (arrays,) = (tmp_path / "c").glob("*.npz")  # the sorted reference, beside the pickle
    arrays.write_bytes(b"torn")
    monitor = cache.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 5 and set(monitor.ecdf_) == {"x"}
    arrays.unlink()
    cache.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 6
    restored = cache.fit(DriftMonitor(FEATURES, RULES), ref)
    assert len(calls) == 6 and set(restored.ecdf_) == {"x"}


def test_fingerprint_follows_the_files(tmp_path):
    path = tmp_path / "ref.parquet"
    _frame(100).to_parquet(path)
    key = dict(rows_used=100, rows_quarantined=0, features=FEATURES)
    a = data_fingerprint([path], **key)
    assert a == data_fingerprint([str(path)], **key)
    assert a != data_fingerprint([path], **{**key, "features": {"x": "numeric"}})
    _frame(101).to_parquet(path)
    os.utime(path, ns=(1, 1))
    assert data_fingerprint([path], **key) != a
    assert data_fingerprint([tmp_path / "missing"], **key) is None
    assert data_fingerprint([], **key) is None


def _logs(times, shift=0.0):
    n = len(times)
    return pd.DataFrame({
        "timestamp": times, "request_id": [f"r{shift}-{i}" for i in range(n)],
        "model_version": RNG.choice(["v1", "v2"], n), "x": RNG.normal(shift, 1, n),
        "c": RNG.choice(["a", "b"], n), "score": RNG.random(n),
        "label": RNG.integers(0, 2, n), "latency_ms": RNG.lognormal(3, 0.3, n),
        "status": 200,
    })


@pytest.fixture()
def config_factory(tmp_path):
    _logs(pd.date_range("2026-10-01", periods=1500, freq="30min", tz="UTC")).to_parquet(
        tmp_path / "ref.parquet")
    _logs(pd.date_range("2026-11-01", periods=900, freq="9min", tz="UTC"), 0.4).to_parquet(
        tmp_path / "cur.parquet")

    def make(**extra):
        return load_config(overrides={
            "sources": {"reference": str(tmp_path / "ref.parquet"),
                        "current": str(tmp_path / "cur.parquet")},
            "out": str(tmp_path / "reports"), "min_window_rows": 50, **extra})

    return make


def _comparable(summary: dict) -> dict:
    return {k: v for k, v in summary.items()
            if k not in ("generated_at", "timings", "reference_cache", "window_cache")}


def test_a_second_run_reuses_every_fit_and_reports_the_same(config_factory, tmp_path):
    first = obskit.analyze(config_factory())
    second = obskit.analyze(config_factory())
    s1, s2 = first.to_summary(), second.to_summary()
    assert s1["reference_cache"]["hits"] == 0 and s1["reference_cache"]["misses"] > 0
    assert s2["reference_cache"] == {**s1["reference_cache"], "hits": s1["reference_cache"][
        "misses"], "misses": 0}
    assert _comparable(s1) == _comparable(s2)
    assert any((tmp_path / "reports" / ".cache" / "reference").iterdir())


def test_cache_can_be_turned_off_or_moved(config_factory, tmp_path):
    off = obskit.analyze(config_factory(reference_cache=False)).to_summary()
    assert off["reference_cache"]["enabled"] is False
    assert not (tmp_path / "reports" / ".cache" / "reference").exists()
    moved = obskit.analyze(config_factory(reference_cache=str(tmp_path / "elsewhere")))
    assert moved.to_summary()["reference_cache"]["misses"] > 0
    assert any((tmp_path / "elsewhere").iterdir())


def test_cli_flags_map_onto_the_config_key(tmp_path, monkeypatch):
    from obskit.cli import build_parser
    from obskit.config.flags import overrides_from_flags

    monkeypatch.chdir(tmp_path)
    parse = build_parser().parse_args
    assert "reference_cache" not in overrides_from_flags(parse(["report", "--config", "c"]))
    off = overrides_from_flags(parse(["report", "--config", "c", "--no-reference-cache"]))
    assert off["reference_cache"] is False
    moved = overrides_from_flags(parse(["report", "--config", "c", "--reference-cache", "d"]))
    assert moved["reference_cache"] == str(tmp_path / "d")
    config = load_config(overrides={**moved, "sources": {"current": "logs.jsonl"}})
    assert config.reference_cache == str(tmp_path / "d")


def test_a_fresh_out_counts_hits_for_segments_compared_with_the_whole_reference(
        config_factory, tmp_path, monkeypatch):
    """A segment the reference lacks (v2 here) is compared with the whole reference: its
    fits have the whole log's key, so a first run into an empty ``out`` restores them from
    the entries it has just written (hits), and reports what fitting afresh reports."""
    from obskit.analysis import reference_cache as rc

    ref = pd.read_parquet(tmp_path / "ref.parquet").assign(model_version="v1")
    ref.to_parquet(tmp_path / "ref.parquet")
    fits: list[tuple[str, str, bool]] = []
    original = rc.ReferenceCache.fit

    def fit(self, monitor, reference, *, scope="all", **options):
        hits = self.hits
        original(self, monitor, reference, scope=scope, **options)
        fits.append((type(monitor).__name__, scope, self.hits > hits))
        return monitor

    monkeypatch.setattr(rc.ReferenceCache, "fit", fit)
    assert not (tmp_path / "reports").exists()
    cached = obskit.analyze(config_factory()).to_summary()
    segments = {s["value"]: s["reference_basis"]
                for s in cached["segments"]["model_version"]}
    assert segments == {"v1": "same segment", "v2": "whole reference"}
    hits = [(name, scope) for name, scope, hit in fits if hit]
    misses = [(name, scope) for name, scope, hit in fits if not hit]
    # the data quality's scope also names the reference quarantine it counted against
    assert hits and all(scope.split("|")[0] == "all" for _, scope in hits)
    assert set(hits) <= set(misses)  # each restored from this run's own earlier fit
    assert cached["reference_cache"] == {"enabled": True, "hits": len(hits),
                                         "misses": len(misses)}
    fresh = obskit.analyze(config_factory(reference_cache=False)).to_summary()
    assert _comparable(cached) == _comparable(fresh)
