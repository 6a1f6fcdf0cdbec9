"""Synthetic prediction logs for the benchmarks, written to Parquet in bounded chunks.

``python benchmarks/generate.py --rows 1M [--features 20] [--categorical 6]`` writes, under
``benchmarks/data/n<rows>-f<features>/`` (or ``--out``):

- ``reference/part-*.parquet``: the reference period (7 days; ``--reference-rows``, by
  default as many rows as the current log),
- ``current/part-*.parquet``: the production log (14 days after the reference),
- ``model.skops``: the scoring model (scikit-learn Pipeline: scaler + one-hot encoder +
  logistic regression, trained on 20,000 reference-like rows), so a report explains rows,
- ``config.yml``: an obskit config for it (daily windows, the model, and an optional
  ``duckdb:`` section with ``--memory-limit`` / ``--temp-directory``),
- ``meta.json``: what was generated (and the injected drift).

Every file is in obskit's log schema (timestamp in **microseconds**, UTC — Spark cannot read
nanoseconds; request_id, model_version, prediction, score, label, latency_ms, status,
error, then the features). A file holds at most ``--file-rows`` (10M) rows, in row groups
of ``--chunk-rows`` (1M). Two generators, same schema, distributions and drift:

- ``--engine`` (the default): DuckDB writes each file with one ``COPY (SELECT … FROM
  range(…)) TO`` (``generate_engine.py``); every draw is a hash of the row's index, so the
  values do not depend on the file layout, and 100M rows never pass through Python;
- ``--numpy``: rows generated and written one chunk at a time, each chunk from its own
  seed, so a 100-million-row log never sits in memory.

The peers read the very same Parquet files into pandas, so every tool sees the same
numbers.

Features (F total, C categorical, numeric first):

- numeric ``x00``…: cycling through full-precision normal, a money amount (log-normal,
  cents), a ratio (uniform, 4 decimals), a count (Poisson, integer), a measurement
  (normal, 3 decimals) and a duration (gamma, full precision);
- categorical ``c00``…: 3, 5, 8, 12, 20, 50, … categories with Zipf-like shares.

Injected drift in the current log: ``x00`` mean + 0.5 sd, ``x01`` scale × 1.5, ``x02``
mean + 0.02 sd (real, below the default thresholds), ``c00`` shares reversed, ``c01``
a new category on 2% of rows. Every other feature has the reference distribution.
No feature has missing values (the scoring model would need an imputer; the unit tests
cover NaN handling). Re-running with the same arguments is a no-op (``meta.json``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, parse_rows, rows_label  # noqa: E402

US_PER_DAY = 86_400 * 1_000_000
START = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday
REFERENCE_DAYS, CURRENT_DAYS = 7, 14
CATEGORY_SIZES = (3, 5, 8, 12, 20, 50)
NUMERIC_KINDS = ("normal", "amount", "ratio", "count", "measure", "duration")
TRAIN_ROWS = 20_000
GENERATORS = ("engine", "numpy")
FORMAT_VERSION = 1

CONFIG = """\
# obskit benchmark log: {rows} current rows x {features} features (benchmarks/generate.py)
title: "obskit benchmark: {label} rows x {features} features"
task: binary
sources:
  reference: reference/
  current: current/
window: 1d
model:
  path: model.skops
{duckdb}"""


def feature_names(features: int, categorical: int) -> tuple[list[str], list[str]]:
    if not 0 <= categorical <= features:
        raise ValueError(f"--categorical must be between 0 and --features, got {categorical}")
    return ([f"x{i:02d}" for i in range(features - categorical)],
            [f"c{i:02d}" for i in range(categorical)])


def _category_shares(k: int) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** 0.8
    return p / p.sum()


def _categories(j: int) -> list[str]:
    k = CATEGORY_SIZES[j % len(CATEGORY_SIZES)] + 10 * (j // len(CATEGORY_SIZES))
    return [f"c{j:02d}_v{v:02d}" for v in range(k)]


def sample_features(rng: np.random.Generator, n: int, numeric: list[str],
                    categorical: list[str], *, drifted: bool) -> pd.DataFrame:
    """``n`` rows of features; with ``drifted`` the current log's distribution."""
    out: dict[str, Any] = {}
    for i, name in enumerate(numeric):
        kind = NUMERIC_KINDS[i % len(NUMERIC_KINDS)]
        if kind == "normal":
            x = rng.normal(10.0 * i, 1.0 + i % 3, n)
        elif kind == "amount":
            x = np.round(np.exp(rng.normal(4.0, 0.8, n)), 2)
        elif kind == "ratio":
            x = np.round(rng.uniform(0.0, 1.0, n), 4)
        elif kind == "count":
            x = rng.poisson(3.0 + i % 5, n).astype(np.int64)
        elif kind == "measure":
            x = np.round(rng.normal(100.0, 15.0, n), 3)
        else:
            x = rng.gamma(2.0, 1.5, n)
        if drifted and i in (0, 1, 2):
            mean, sd = float(np.mean(x[:10_000])), float(np.std(x[:10_000]))
            x = x.astype(float)
            if i == 0:
                x = x + 0.5 * sd
            elif i == 1:
                x = mean + (x - mean) * 1.5
            else:
                x = x + 0.02 * sd
            if kind in ("amount",):
                x = np.round(x, 2)
            elif kind == "ratio":
                x = np.round(x, 4)
        out[name] = x
    for j, name in enumerate(categorical):
        cats = _categories(j)
        p = _category_shares(len(cats))
        if drifted and j == 0:
            p = p[::-1]
        values = np.asarray(cats, dtype=object)[rng.choice(len(cats), size=n, p=p)]
        if drifted and j == 1:
            values[rng.random(n) < 0.02] = f"c{j:02d}_new"
        out[name] = values
    return pd.DataFrame(out)


def true_logit(df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> np.ndarray:
    z = np.zeros(len(df))
    for i, name in enumerate(numeric[:6]):
        x = df[name].to_numpy(dtype=float)
        z += (0.8 if i % 2 == 0 else -0.5) * (x - x.mean()) / (x.std() or 1.0)
    if categorical:
        first = _categories(0)[0]
        z += 1.0 * (df[categorical[0]].to_numpy() == first)
    return z - 1.5


def fit_model(numeric: list[str], categorical: list[str], seed: int):  # type: ignore[no-untyped-def]
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng([seed, 999])
    X = sample_features(rng, TRAIN_ROWS, numeric, categorical, drifted=False)
    y = (rng.random(TRAIN_ROWS) < 1 / (1 + np.exp(-true_logit(X, numeric, categorical))))
    parts = [("num", StandardScaler(), numeric)]
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    model = Pipeline([("pre", ColumnTransformer(parts)),
                      ("clf", LogisticRegression(max_iter=1000))])
    model.fit(X[numeric + categorical], y.astype(np.int64))
    return model


def _chunk(rng: np.random.Generator, n: int, t0: int, t1: int, first_id: int, prefix: str,
           numeric: list[str], categorical: list[str], model: Any, *, drifted: bool
           ) -> pa.Table:
    feats = sample_features(rng, n, numeric, categorical, drifted=drifted)
    ts = np.sort(rng.integers(t0, t1, n))
    with np.errstate(over="ignore", under="ignore"):
        score = np.round(model.predict_proba(feats[numeric + categorical])[:, 1], 6)
    # the truth: the true relation, computed on the reference scale (covariate shift only)
    label = (rng.random(n) < 1 / (1 + np.exp(-true_logit(feats, numeric, categorical))))
    failed = rng.random(n) < 0.003
    ids = pc.binary_join_element_wise(
        pa.scalar(prefix), pc.cast(pa.array(np.arange(first_id, first_id + n)), pa.string()),
        "")
    cols: dict[str, pa.Array] = {
        "timestamp": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
        "request_id": ids,
        "model_version": pa.array(np.where(rng.random(n) < 0.3, "v2", "v1")),
        "prediction": pa.array((score >= 0.5).astype(np.int64)),
        "score": pa.array(score),
        "label": pa.array(label.astype(np.int64)),
        "latency_ms": pa.array(np.round(np.exp(rng.normal(np.log(40.0), 0.6, n)), 2)),
        "status": pa.array(np.where(failed, 500, 200).astype(np.int64)),
        "error": pa.array(np.where(failed, "upstream timeout", None), type=pa.string()),
    }
    for name in numeric:
        cols[name] = pa.array(feats[name].to_numpy())
    for name in categorical:
        cols[name] = pa.array(feats[name].to_numpy(), type=pa.string())
    return pa.table(cols)


def write_log(folder: Path, rows: int, *, days: int, t_start: int, prefix: str, seed: int,
              numeric: list[str], categorical: list[str], model: Any, drifted: bool,
              chunk_rows: int, file_rows: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("part-*.parquet"):
        stale.unlink()
    chunks = max(1, -(-rows // chunk_rows))
    span = days * US_PER_DAY
    writer: pq.ParquetWriter | None = None
    written_in_file, file_no, done = 0, 0, 0
    for k in range(chunks):
        n = min(chunk_rows, rows - done)
        t0 = t_start + span * done // rows
        t1 = t_start + span * (done + n) // rows
        rng = np.random.default_rng([seed, 1 if drifted else 0, k])
        table = _chunk(rng, n, t0, max(t1, t0 + 1), done, prefix, numeric, categorical,
                       model, drifted=drifted)
        if writer is None or written_in_file + n > file_rows:
            if writer is not None:
                writer.close()
            writer = pq.ParquetWriter(folder / f"part-{file_no:05d}.parquet", table.schema,
                                      compression="zstd")
            file_no += 1
            written_in_file = 0
        writer.write_table(table, row_group_size=n)
        written_in_file += n
        done += n
        if chunks > 4:
            print(f"  {folder.name}: {done:,}/{rows:,} rows", file=sys.stderr, flush=True)
    if writer is not None:
        writer.close()


def generate(out: Path, *, rows: int, features: int = 20, categorical: int = 6,
             reference_rows: int | None = None, seed: int = 0, chunk_rows: int = 1_000_000,
             file_rows: int = 10_000_000, memory_limit: str | None = None,
             temp_directory: str | None = None, force: bool = False,
             generator: str = "engine") -> dict[str, Any]:
    """Write the log, the model and the config under ``out``; return ``meta.json``'s content.

    Skipped (the existing ``meta.json`` returned) when ``out`` already holds the same data.
    """
    numeric, cats = feature_names(features, categorical)
    reference_rows = rows if reference_rows is None else reference_rows
    if generator not in GENERATORS:
        raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
    meta = {"format": FORMAT_VERSION, "generator": generator, "rows": rows,
            "reference_rows": reference_rows,
            "features": features, "numeric": numeric, "categorical": cats, "seed": seed,
            "drift": {"x00": "mean + 0.5 sd", "x01": "scale x 1.5",
                      "x02": "mean + 0.02 sd", "c00": "shares reversed",
                      "c01": "new category on 2% of rows"}}
    out = Path(out)
    meta_path = out / "meta.json"
    duckdb = {k: v for k, v in (("memory_limit", memory_limit),
                                ("temp_directory", temp_directory)) if v}
    config_text = CONFIG.format(
        rows=rows, label=rows_label(rows), features=features,
        duckdb=("duckdb:\n" + "".join(f"  {k}: {json.dumps(str(v))}\n"
                                      for k, v in duckdb.items())) if duckdb else "")
    if not force and meta_path.exists():
        old = json.loads(meta_path.read_text())
        if {k: old.get(k) for k in meta} == meta:
            (out / "config.yml").write_text(config_text, encoding="utf-8")
            return old
    out.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    started = time.perf_counter()
    model = fit_model(numeric, cats, seed)
    import skops.io as sio

    sio.dump(model, out / "model.skops")
    start_us = START.value // 1000
    common = dict(seed=seed, numeric=numeric, categorical=cats, model=model,
                  chunk_rows=chunk_rows, file_rows=file_rows)
    if generator == "engine":
        import generate_engine

        writer: Any = functools.partial(generate_engine.write_log, us_per_day=US_PER_DAY)
    else:
        writer = write_log
    writer(out / "reference", reference_rows, days=REFERENCE_DAYS,
           t_start=start_us - REFERENCE_DAYS * US_PER_DAY, prefix="ref-", drifted=False,
           **common)
    writer(out / "current", rows, days=CURRENT_DAYS, t_start=start_us, prefix="req-",
           drifted=True, **common)
    (out / "config.yml").write_text(config_text, encoding="utf-8")
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def default_dir(rows: int, features: int, categorical: int) -> Path:
    return DATA / f"n{rows_label(rows)}-f{features}c{categorical}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=parse_rows, required=True, help="current rows, e.g. 1M")
    p.add_argument("--reference-rows", type=parse_rows, help="default: --rows")
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--categorical", type=int, default=None,
                   help="categorical features (default: 30%% of --features, 6 of 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-rows", type=parse_rows, default=1_000_000)
    p.add_argument("--file-rows", type=parse_rows, default=10_000_000)
    p.add_argument("--memory-limit", help="duckdb.memory_limit in the config, e.g. 1GB")
    p.add_argument("--temp-directory", help="duckdb.temp_directory in the config")
    p.add_argument("--out", type=Path, help="default: benchmarks/data/n<rows>-f<F>c<C>/")
    p.add_argument("--force", action="store_true", help="regenerate even if present")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--engine", dest="generator", action="store_const", const="engine",
                     default="engine", help="DuckDB SQL straight into Parquet (default)")
    how.add_argument("--numpy", dest="generator", action="store_const", const="numpy",
                     help="numpy chunks in Python (the generator before issue 17)")
    args = p.parse_args(argv)
    cats = round(args.features * 0.3) if args.categorical is None else args.categorical
    out = args.out or default_dir(args.rows, args.features, cats)
    meta = generate(out, rows=args.rows, features=args.features, categorical=cats,
                    reference_rows=args.reference_rows, seed=args.seed,
                    chunk_rows=args.chunk_rows, file_rows=args.file_rows,
                    memory_limit=args.memory_limit, temp_directory=args.temp_directory,
                    force=args.force, generator=args.generator)
    print(json.dumps({"out": str(out), **meta}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
