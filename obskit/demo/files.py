"""Writing the demo's files: the paths record, config text, reference parquet and log lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CONFIG_TEXT = """\
# obskit demo configuration (written by `obskit demo`)
task: binary
sources:
  reference: reference.parquet
  current: logs/
  labels: labels.csv
window: 1d
model:
  path: model.skops
"""


#: column types of ``reference.parquet``
REFERENCE_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("model_version", pa.string()),
        ("age", pa.int64()),
        ("income", pa.float64()),
        ("debt_ratio", pa.float64()),
        ("credit_limit", pa.float64()),
        ("utilization", pa.float64()),
        ("num_late_payments", pa.int64()),
        ("account_age_months", pa.int64()),
        ("employment_type", pa.string()),
        ("region", pa.string()),
        ("home_ownership", pa.string()),
        ("score", pa.float64()),
        ("prediction", pa.int64()),
        ("label", pa.int64()),
        ("latency_ms", pa.float64()),
        ("status", pa.int64()),
        ("error", pa.string()),
        ("trace_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class DemoFiles:
    """Paths of a generated demo scenario.

    Attributes
    ----------
    root : Path
        The output folder.
    config : Path
        ``config.yml`` (paths inside are relative to ``root``).
    reference : Path
        ``reference.parquet`` (reference period, labelled).
    current : Path
        The ``logs/`` folder with one ``predictions-YYYY-MM-DD.jsonl`` file per day.
    labels : Path
        ``labels.csv`` with late-arriving labels for the current period.
    incidents : Path
        ``incidents.json``, the ground truth of the injected incidents.
    model : Path
        ``model.skops``, the scoring Pipeline (loads with skops' default trusted types).
    golden : Path
        ``golden.jsonl``, golden requests with the model's answers (``obskit probe``).
    """

    root: Path
    config: Path
    reference: Path
    current: Path
    labels: Path
    incidents: Path
    model: Path
    golden: Path



def iso_us(us: np.ndarray) -> np.ndarray:
    """Epoch microseconds -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` strings."""
    s = np.datetime_as_string(np.asarray(us, dtype=np.int64).astype("datetime64[us]"), unit="us")
    return np.char.add(s, "Z")


def iso_seconds(us: int) -> str:
    """Epoch microseconds -> ``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds, for incident bounds)."""
    return str(np.datetime64(int(us), "us").astype("datetime64[s]")) + "Z"


def parse_start(start: str) -> pd.Timestamp:
    """``start`` as a UTC midnight timestamp; ValueError when it is not a date."""
    try:
        ts = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start must be a date such as '2026-11-01', got {start!r}") from exc
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts != ts.normalize():
        raise ValueError(
            f"start must be a date at midnight UTC such as '2026-11-01', got {start!r}"
        )
    return ts


def write_jsonl(path: Path, cols: dict[str, list], features: dict[str, list]) -> None:
    """One JSON object per line from the columns ``cols`` and the ``features`` columns."""
    names = list(features)
    fcols = [features[k] for k in names]
    dumps = json.dumps
    lines = []
    for i, (ts, rid, mv, score, pred, lat, status, err, tid) in enumerate(
        zip(
            cols["timestamp"],
            cols["request_id"],
            cols["model_version"],
            cols["score"],
            cols["prediction"],
            cols["latency_ms"],
            cols["status"],
            cols["error"],
            cols["trace_id"],
            strict=True,
        )
    ):
        lines.append(
            dumps(
                {
                    "timestamp": ts,
                    "request_id": rid,
                    "model_version": mv,
                    "features": {k: c[i] for k, c in zip(names, fcols, strict=True)},
                    "score": score,
                    "prediction": pred,
                    "latency_ms": lat,
                    "status": status,
                    "error": err,
                    "trace_id": tid,
                }
            )
        )
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        if lines:
            fh.write("\n".join(lines))
            fh.write("\n")



def write_reference(ref_df: pd.DataFrame, path: Path) -> None:
    """Write the reference frame to ``path`` as parquet with :data:`REFERENCE_SCHEMA`."""
    pq.write_table(pa.Table.from_pandas(ref_df, schema=REFERENCE_SCHEMA, preserve_index=False),
                   path)
