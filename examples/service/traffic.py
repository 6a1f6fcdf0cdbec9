"""Send traffic to the example service: the features of a reference's rows, as requests.

From the repository root::

    python -m examples.service.traffic http://127.0.0.1:8000 \\
        --reference demo-data/reference.parquet --requests 1000

Each request posts one row's features (the demo's features; the rows are taken in order and
repeated when there are fewer), with ``--concurrency`` requests in flight; the answers are
counted by HTTP status. Exit code 0 when every answer was 200, 1 otherwise, 2 for a
reference that cannot be read.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pandas as pd

from obskit.demo.population import FEATURES

__all__ = ["feature_rows", "send", "main"]


def feature_rows(reference: str, features: Sequence[str], n: int) -> list[dict[str, Any]]:
    """``n`` rows of the reference's ``features`` as JSON-ready dicts (repeated as needed)."""
    frame = pd.read_parquet(reference, columns=list(features))
    if frame.empty:
        raise ValueError(f"{reference}: no rows")
    records = frame.to_dict(orient="records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in itertools.islice(itertools.cycle(records), n)]


def send(url: str, rows: Sequence[dict[str, Any]], *, concurrency: int = 8,
         timeout_s: float = 30.0) -> Counter[int | str]:
    """POST each row as ``{"features": row}`` to ``url``/predict; answers by HTTP status
    (``"no answer"`` for a connection error or a timeout)."""
    target = url.rstrip("/") + "/predict"

    with httpx.Client(timeout=timeout_s) as client:
        def post(row: dict[str, Any]) -> int | str:
            try:
                return client.post(target, json={"features": row}).status_code
            except httpx.TransportError:
                return "no answer"

        with ThreadPoolExecutor(concurrency) as pool:
            return Counter(pool.map(post, rows))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.service.traffic",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("url", help="the service, e.g. http://127.0.0.1:8000")
    parser.add_argument("--reference", default="demo-data/reference.parquet",
                        help="Parquet file whose rows' features are sent")
    parser.add_argument("--requests", type=int, default=1000, help="requests to send")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    args = parser.parse_args(argv)
    try:
        rows = feature_rows(args.reference, FEATURES, args.requests)
    except (OSError, ValueError, KeyError) as exc:
        print(f"traffic: error: {exc}", file=sys.stderr)
        return 2
    counts = send(args.url, rows, concurrency=args.concurrency)
    print(", ".join(f"{n} answered {status}" for status, n in sorted(
        counts.items(), key=lambda kv: str(kv[0]))))
    return 0 if set(counts) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
