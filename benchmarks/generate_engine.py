"""The benchmark logs generated straight into Parquet by DuckDB, not row by row in Python.

``generate.py`` (the default ``--generator engine``) calls :func:`write_log`; the incremental
target of ``bench_targets.py`` calls :func:`write_rows` to add one day's file to a log.

One ``COPY (SELECT … FROM range(i0, i1)) TO 'part-….parquet'`` per file: every random draw
is a hash of the row's index and a stream number, so a row's values depend only on its
index, the side (reference or current) and the seed — never on the file or chunk layout,
and a log extended by one day continues the same log. The columns reproduce
``generate.py``'s schema and distributions (numpy draws replaced by inverse transforms):

- normal: Box–Muller on two uniforms; money amount: ``exp`` of a normal; ratio: uniform;
  count: Poisson by its inverse CDF (a sum of comparisons with the CDF's steps); duration:
  Gamma(2, 1.5) as the sum of two exponentials; categories: the inverse CDF of the Zipf-like
  shares;
- the injected drift of the current log, with the reference's analytic mean and standard
  deviation (numpy's generator uses the sample's): ``x00`` mean + 0.5 sd, ``x01`` scale
  × 1.5 around the mean, ``x02`` mean + 0.02 sd, ``c00`` shares reversed, ``c01`` a new
  category on 2% of rows;
- ``score`` is the scoring model's ``predict_proba`` computed in SQL (scaler + one-hot +
  logistic regression is linear), rounded to 6 decimals as numpy's generator does;
  ``label`` follows the true relation on the reference scale;
- ``timestamp`` is ``TIMESTAMP WITH TIME ZONE`` in **microseconds**, UTC (Spark cannot read
  nanoseconds), increasing with the row index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STREAMS = 256  # hash streams per row: 16 for the role columns, then the features
ROLE_STREAMS = {"jitter": 0, "version": 1, "label": 2, "failed": 3, "latency": 4, "new": 6}
TWO53 = 9007199254740992.0


def _d(x: float) -> str:
    """A DOUBLE literal (``0.49`` alone is a DECIMAL in DuckDB: slower arithmetic)."""
    return f"{float(x)!r}::DOUBLE"


def _u(k: int) -> str:
    """The row's uniform draw in (0, 1) from stream ``k`` (a column of ``base``)."""
    return f"_u{k}"


def _uniforms(streams: Sequence[int]) -> str:
    return ", ".join(f"((hash(_key + {k}) >> 11)::DOUBLE + 0.5) / {_d(TWO53)} AS _u{k}"
                     for k in streams)


def _normal(k: int) -> str:
    return f"(sqrt(-2.0 * ln({_u(k)})) * cos(2.0 * pi() * {_u(k + 1)}))"


def _steps(u: str, cdf: Sequence[float], first: int = 0) -> str:
    """The inverse CDF of a discrete law: how many of ``cdf``'s steps ``u`` exceeds.

    A balanced tree of ``CASE`` (``log2`` comparisons a row, ten times faster in DuckDB
    than summing one comparison per step).
    """
    if not cdf:
        return str(first)
    m = len(cdf) // 2
    return (f"CASE WHEN {u} > {_d(cdf[m])} THEN {_steps(u, cdf[m + 1:], first + m + 1)} "
            f"ELSE {_steps(u, cdf[:m], first)} END")


def _poisson_cdf(lam: float, tail: float = 1e-13) -> list[float]:
    out, p, total, k = [], math.exp(-lam), 0.0, 0
    while True:
        total += p
        if 1.0 - total < tail:
            return out
        out.append(total)
        k += 1
        p *= lam / k


def moments(i: int) -> tuple[str, float, float]:
    """Kind, analytic mean and standard deviation of numeric feature ``i`` (reference)."""
    from generate import NUMERIC_KINDS

    kind = NUMERIC_KINDS[i % len(NUMERIC_KINDS)]
    if kind == "normal":
        return kind, 10.0 * i, 1.0 + i % 3
    if kind == "amount":
        return kind, math.exp(4.0 + 0.32), math.sqrt((math.exp(0.64) - 1) * math.exp(8.64))
    if kind == "ratio":
        return kind, 0.5, math.sqrt(1 / 12)
    if kind == "count":
        lam = 3.0 + i % 5
        return kind, lam, math.sqrt(lam)
    if kind == "measure":
        return kind, 100.0, 15.0
    return kind, 3.0, math.sqrt(2.0) * 1.5


def _numeric(i: int, drifted: bool) -> str:
    kind, mean, sd = moments(i)
    k = 16 + 2 * i
    x = {"normal": f"({_d(10.0 * i)} + {_d(1.0 + i % 3)} * {_normal(k)})",
         "amount": f"round(exp(4.0 + 0.8 * {_normal(k)}), 2)",
         "ratio": f"round({_u(k)}, 4)",
         "count": f"({_steps(_u(k), _poisson_cdf(3.0 + i % 5))})::BIGINT",
         "measure": f"round(100.0 + 15.0 * {_normal(k)}, 3)",
         "duration": f"(-1.5 * (ln({_u(k)}) + ln({_u(k + 1)})))"}[kind]
    if drifted and i in (0, 1, 2):
        x = (f"({x} + {_d(0.5 * sd)})" if i == 0 else
             f"({_d(mean)} + ({x} - {_d(mean)}) * 1.5)" if i == 1 else
             f"({x} + {_d(0.02 * sd)})")
        x = {"amount": f"round({x}, 2)", "ratio": f"round({x}, 4)"}.get(kind, x)
    return x


def _category_index(j: int, numeric: int, drifted: bool) -> str:
    from generate import _categories, _category_shares

    p = _category_shares(len(_categories(j)))
    if drifted and j == 0:
        p = p[::-1]
    cdf = [float(c) for c in p.cumsum()[:-1]]
    return _steps(_u(16 + 2 * numeric + j), cdf)


def _sql_list(values: Sequence[Any]) -> str:
    """A list literal: strings quoted, numbers as DOUBLE (a literal like ``0.49`` is a
    DECIMAL in DuckDB, and decimal arithmetic is several times slower)."""
    if all(isinstance(v, str) for v in values):
        return "[" + ", ".join(f"'{v}'" for v in values) + "]"
    return "(" + "[" + ", ".join(repr(float(v)) for v in values) + "]::DOUBLE[])"


def _model_terms(model: Any, numeric: list[str], categorical: list[str]) -> str:
    """The logistic regression's linear predictor over the generated columns."""
    from generate import _categories

    pre, clf = model.named_steps["pre"], model.named_steps["clf"]
    coef, const = clf.coef_[0], float(clf.intercept_[0])
    scaler = pre.named_transformers_["num"]
    terms = []
    for j, name in enumerate(numeric):
        a = float(coef[j] / scaler.scale_[j])
        const -= a * float(scaler.mean_[j])
        terms.append(f"{_d(a)} * {name}")
    pos = len(numeric)
    if categorical:
        enc = pre.named_transformers_["cat"]
        for j, cats in enumerate(enc.categories_):
            weight = {str(c): float(coef[pos + m]) for m, c in enumerate(cats)}
            pos += len(cats)
            values = [weight.get(c, 0.0) for c in _categories(j)]
            new = f"_ci{j} + 1" if j != 1 else f"CASE WHEN c{j:02d} = 'c01_new' THEN 0 " \
                f"ELSE _ci{j} + 1 END"
            terms.append(f"coalesce({_sql_list(values)}[{new}], 0.0::DOUBLE)")
    return f"{_d(const)} + " + " + ".join(terms)


def _true_logit(numeric: list[str], categorical: list[str]) -> str:
    terms = []
    for i, name in enumerate(numeric[:6]):
        _, mean, sd = moments(i)
        terms.append(f"{_d(0.8 if i % 2 == 0 else -0.5)} * ({name} - {_d(mean)}) / {_d(sd)}")
    if categorical:
        terms.append("(_ci0 = 0)::DOUBLE")
    return " + ".join(terms + ["-1.5::DOUBLE"])


def select_rows(i0: int, i1: int, *, t_start: int, step_us: float, prefix: str, side: int,
                seed: int, numeric: list[str], categorical: list[str], model: Any,
                drifted: bool) -> str:
    """The ``SELECT`` of rows ``i0 … i1 - 1`` of a log whose rows are ``step_us`` apart."""
    from generate import _categories

    if 16 + 2 * len(numeric) + len(categorical) > STREAMS:
        raise ValueError(f"at most {STREAMS - 16} streams of features")
    base = ((seed * 4 + side) << 48)
    s = ROLE_STREAMS
    feats = [f"{_numeric(i, drifted)} AS {n}" for i, n in enumerate(numeric)]
    index = [f"{_category_index(j, len(numeric), drifted)} AS _ci{j}"
             for j in range(len(categorical))] or ["0 AS _none"]
    for j, name in enumerate(categorical):
        value = f"{_sql_list(_categories(j))}[_ci{j} + 1]"
        if drifted and j == 1:
            value = f"CASE WHEN {_u(s['new'])} < 0.02 THEN 'c01_new' ELSE {value} END"
        feats.append(f"{value} AS {name}")
    logit = _true_logit(numeric, categorical)
    lat = f"round(exp({_d(math.log(40.0))} + 0.6 * {_normal(s['latency'])}), 2)"
    failed = f"({_u(s['failed'])} < 0.003)"
    cols = ", ".join(numeric + categorical)
    streams = [*range(8), *range(16, 16 + 2 * len(numeric) + len(categorical))]
    return f"""
WITH keys AS (SELECT i, i * {STREAMS} + {base} AS _key FROM range({i0}, {i1}) t(i)),
base AS (SELECT i, {_uniforms(streams)} FROM keys),
indexed AS (SELECT *, {", ".join(index)} FROM base),
feats AS (SELECT *, {", ".join(feats) or "0 AS _nofeat"} FROM indexed),
scored AS (SELECT *, round(1.0 / (1.0 + exp(-({_model_terms(model, numeric, categorical)}))),
                           6) AS score FROM feats)
SELECT
  make_timestamp(({t_start} + floor(i * {_d(step_us)}) + floor({_u(s['jitter'])} *
                  {_d(step_us)}))::BIGINT)::TIMESTAMPTZ AS timestamp,
  '{prefix}' || i::VARCHAR AS request_id,
  CASE WHEN {_u(s['version'])} < 0.3 THEN 'v2' ELSE 'v1' END AS model_version,
  (score >= 0.5)::BIGINT AS prediction,
  score,
  ({_u(s['label'])} < 1.0 / (1.0 + exp(-({logit}))))::BIGINT AS label,
  {lat} AS latency_ms,
  CASE WHEN {failed} THEN 500 ELSE 200 END::BIGINT AS status,
  CASE WHEN {failed} THEN 'upstream timeout' END::VARCHAR AS error,
  {cols}
FROM scored"""


def connect(memory_limit: str = "1GB") -> Any:
    """A DuckDB connection for writing: UTC, bounded memory."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def write_rows(con: Any, path: Path, i0: int, i1: int, *, chunk_rows: int,
               **select: Any) -> None:
    """Rows ``i0 … i1 - 1`` into one Parquet file (zstd, row groups of ``chunk_rows``)."""
    sql = select_rows(i0, i1, **select)
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, "
                f"ROW_GROUP_SIZE {max(chunk_rows, 2048)})")


def write_log(folder: Path, rows: int, *, days: int, t_start: int, prefix: str, seed: int,
              numeric: list[str], categorical: list[str], model: Any, drifted: bool,
              chunk_rows: int, file_rows: int, us_per_day: int) -> None:
    """``generate.py``'s log: ``rows`` rows over ``days`` days, ``file_rows`` per file."""
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("part-*.parquet"):
        stale.unlink()
    con = connect()
    step = days * us_per_day / rows
    files = max(1, -(-rows // file_rows))
    for f in range(files):
        i0, i1 = f * file_rows, min(rows, (f + 1) * file_rows)
        write_rows(con, folder / f"part-{f:05d}.parquet", i0, i1, chunk_rows=chunk_rows,
                   t_start=t_start, step_us=step, prefix=prefix, side=int(drifted),
                   seed=seed, numeric=numeric, categorical=categorical, model=model,
                   drifted=drifted)
        if files > 2:
            print(f"  {folder.name}: {i1:,}/{rows:,} rows", file=sys.stderr, flush=True)
    con.close()
