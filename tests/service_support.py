"""Shared by the service tests: demo inputs, golden files, log rows, parsed metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from obskit.demo.population import FEATURES

__all__ = ["feature_rows", "write_golden", "log_rows", "samples", "value", "wait_for",
           "check_histograms"]


def feature_rows(reference: Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` reference rows as ``{"features": …}`` payloads' feature dicts."""
    frame = pd.read_parquet(reference).head(n)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame[list(FEATURES)].to_dict(orient="records")]


def write_golden(reference: Path, path: Path, n: int = 5, *, flip: bool = False) -> Path:
    """Golden JSONL from reference rows (their logged score and prediction)."""
    frame = pd.read_parquet(reference).head(n)
    with open(path, "w", encoding="utf-8") as f:
        for features, (_, row) in zip(feature_rows(reference, n), frame.iterrows(), strict=True):
            prediction = int(row["prediction"])
            f.write(json.dumps({"features": features,
                                "prediction": 1 - prediction if flip else prediction,
                                "score": float(row["score"])}) + "\n")
    return path


def log_rows(directory: Path) -> list[dict[str, Any]]:
    """Every row of the finished JSONL files in ``directory`` (``.part`` files fail)."""
    assert not list(directory.glob("*.part")), sorted(directory.iterdir())
    rows = []
    for file in sorted(directory.glob("*.jsonl")):
        rows += [json.loads(line) for line in file.read_text().splitlines() if line]
    return rows


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` from Prometheus text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    """The sample ``name`` whose labels include ``labels``, summed over the others."""
    return sum(v for (n, ls), v in found.items()
               if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


def check_histograms(text: str) -> int:
    """Assert every histogram's buckets are monotonic and ``+Inf`` equals ``_count``;
    returns how many histogram series were checked."""
    checked = 0
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        series: dict[tuple, list[tuple[float, float]]] = {}
        counts: dict[tuple, float] = {}
        for s in family.samples:
            rest = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            if s.name.endswith("_bucket"):
                series.setdefault(rest, []).append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                counts[rest] = s.value
        for key, buckets in series.items():
            buckets.sort()
            values = [v for _, v in buckets]
            assert values == sorted(values), (family.name, key, buckets)
            assert buckets[-1][0] == float("inf")
            assert buckets[-1][1] == counts[key], (family.name, key)
            checked += 1
    return checked


def wait_for(fetch: Callable[[], Any], *, timeout_s: float = 30.0, every_s: float = 0.1,
             what: str = "condition") -> Any:
    """Call ``fetch()`` until truthy (OSError / ValueError count as not yet); bounded."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = fetch()
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(every_s)
    raise AssertionError(f"{what}: gave up after {timeout_s} s (last: {last!r})")
