"""The demo scenario end to end: :func:`generate_demo` draws every row and writes the folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from obskit.demo.files import (
    CONFIG_TEXT,
    DemoFiles,
    iso_us,
    parse_start,
    write_jsonl,
    write_reference,
)
from obskit.demo.golden import write_golden
from obskit.demo.incidents import injected_incidents
from obskit.demo.model import dump_model, fit_model, probability
from obskit.demo.population import (
    BACKGROUND_ERRORS,
    BACKGROUND_FAILURE_RATE,
    BURST_ERROR,
    BURST_FAILURE_RATE,
    FEATURES,
    LABEL_COVERAGE,
    LATENCY_SPIKE_FACTOR,
    UTIL_CONCENTRATION,
    UTIL_MEAN_BASE,
    UTIL_MEAN_END,
    V2_SHARE,
    draw_latency,
    draw_utilization,
    intercept_for_rate,
    logit_base,
    logit_concept,
    sample_features,
    sigmoid,
    trace_ids,
)

#: rows of the default demo (``obskit demo`` and ``make report``)
DEMO_ROWS = 200_000


US_PER_HOUR = 3_600 * 1_000_000
US_PER_DAY = 24 * US_PER_HOUR
N_DAYS = 14
REF_DAYS = 7
N_TRAIN = 20_000
MIN_ROWS = 2_000


def generate_demo(
    out_dir: str | Path,
    *,
    rows: int = DEMO_ROWS,
    seed: int = 7,
    start: str = "2026-11-01",
) -> DemoFiles:
    """Generate the offline demo scenario into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Output folder; created if missing. Existing demo files in it are overwritten and
        stale ``logs/predictions-*.jsonl`` files from an earlier run are removed.
    rows : int, default 200_000
        Number of prediction log lines over the 14-day current period (at least 2000).
        The reference period holds ``max(rows // 4, 1000)`` rows.
    seed : int, default 7
        Seed for :func:`numpy.random.default_rng`; the output is deterministic per seed.
    start : str, default "2026-11-01"
        First day of the current period (UTC date). The reference period is the 7 days
        before it.

    Returns
    -------
    DemoFiles
        Paths of the written files.

    Raises
    ------
    ValueError
        If ``rows`` is not an integer >= 2000 or ``start`` is not a date.

    Notes
    -----
    Files written:

    ``reference.parquet``
        Flat columns ``timestamp`` (``timestamp[us, UTC]``), ``request_id``,
        ``model_version``, the features, ``score``, ``prediction``, ``label``,
        ``latency_ms``, ``status``, ``error``, ``trace_id``.
    ``logs/predictions-YYYY-MM-DD.jsonl``
        One object per line: ``timestamp`` (ISO-8601, ``Z``), ``request_id``,
        ``model_version``, ``features`` (object), ``score``, ``prediction``,
        ``latency_ms``, ``status``, ``error``, ``trace_id``. Failed requests (status 500)
        have ``score`` and ``prediction`` null.
    ``labels.csv``
        ``request_id,label,label_timestamp`` for the labelled part of the current period.
    ``incidents.json``
        List of the injected incidents (``id``, ``kind``, ``feature``, ``start``, ``end``
        (exclusive), ``segment``, ``description``, ``params``).
    ``model.skops``
        The scoring model, a scikit-learn Pipeline; it reproduces ``score`` from the
        logged features (rounded to 6 decimals).
    ``golden.jsonl``
        20 golden requests from the reference rows, ``{"features", "prediction",
        "score"}`` per line, with the model's unrounded probability as ``score`` and
        ``prediction = int(score >= 0.5)`` (rows within 0.01 of 0.5 are skipped), for
        ``obskit probe`` and a service's ``/readyz``.
    ``config.yml``
        obskit configuration with paths relative to ``out_dir``.

    Examples
    --------
    >>> files = generate_demo("demo-data", rows=20_000)  # doctest: +SKIP
    >>> files.config.name  # doctest: +SKIP
    'config.yml'
    """
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < MIN_ROWS:
        raise ValueError(f"rows must be an integer >= {MIN_ROWS}, got {rows!r}")
    rows = int(rows)
    start_ts = parse_start(start)
    rng = np.random.default_rng(seed)

    root = Path(out_dir)
    logs_dir = root / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)

    start_us = int(start_ts.value // 1_000)
    end_us = start_us + N_DAYS * US_PER_DAY

    def day_at(day: int, hour: int = 0) -> int:  # day is 1-based
        return start_us + (day - 1) * US_PER_DAY + hour * US_PER_HOUR

    drift_start = day_at(5)
    v2_start = day_at(7)
    spike_start, spike_end = day_at(9, 13), day_at(9, 16)
    burst_start, burst_end = day_at(10, 8), day_at(10, 12)
    concept_start = day_at(11)

    # ---- training sample and model (undrifted distribution, base relation)
    train = sample_features(rng, N_TRAIN)
    logit_train = logit_base(train)
    b0 = intercept_for_rate(logit_train, 0.20)
    base_rate = float(sigmoid(logit_train + b0).mean())
    b1 = intercept_for_rate(logit_concept(train), base_rate)
    y_train = (rng.random(N_TRAIN) < sigmoid(logit_train + b0)).astype(np.int64)
    model = fit_model(train, y_train)

    # ---- reference period
    n_ref = max(rows // 4, 1_000)
    ref_us = np.sort(rng.integers(start_us - REF_DAYS * US_PER_DAY, start_us, n_ref))
    m = UTIL_MEAN_BASE * UTIL_CONCENTRATION
    util_table = np.sort(rng.beta(m, UTIL_CONCENTRATION - m, 200_000))
    ref_util = draw_utilization(
        rng, np.full(n_ref, UTIL_MEAN_BASE), np.zeros(n_ref, dtype=np.int64), util_table
    )
    ref = sample_features(rng, n_ref, ref_util)
    ref_label = (rng.random(n_ref) < sigmoid(logit_base(ref) + b0)).astype(np.int64)
    ref_proba = probability(model, ref)
    ref_score = np.round(ref_proba, 6)
    ref_latency = np.round(draw_latency(rng, n_ref), 2)
    ref_trace = trace_ids(rng, n_ref)
    width = max(6, len(str(n_ref)))
    ref_df = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(ref_us, unit="us", utc=True).astype("datetime64[us, UTC]"),
            "request_id": [f"ref-{i:0{width}d}" for i in range(1, n_ref + 1)],
            "model_version": "v1",
        }
    )
    for name in FEATURES:
        ref_df[name] = ref[name].to_numpy()
    ref_df["score"] = ref_score
    ref_df["prediction"] = (ref_score >= 0.5).astype(np.int64)
    ref_df["label"] = ref_label
    ref_df["latency_ms"] = ref_latency
    ref_df["status"] = np.full(n_ref, 200, dtype=np.int64)
    ref_df["error"] = pd.Series([None] * n_ref, dtype=object)
    ref_df["trace_id"] = ref_trace
    ref_path = root / "reference.parquet"
    write_reference(ref_df, ref_path)

    # ---- current period
    cur_us = np.sort(rng.integers(start_us, end_us, rows))
    day_idx = ((cur_us - start_us) // US_PER_DAY).astype(np.int64)  # 0-based
    frac = np.clip((cur_us - drift_start) / (end_us - drift_start), 0.0, 1.0)
    util_mean = UTIL_MEAN_BASE + (UTIL_MEAN_END - UTIL_MEAN_BASE) * frac
    cur_util = draw_utilization(rng, util_mean, day_idx, util_table)
    cur = sample_features(rng, rows, cur_util)  # true inputs

    concept = cur_us >= concept_start
    logit = np.where(concept, logit_concept(cur) + b1, logit_base(cur) + b0)
    label = (rng.random(rows) < sigmoid(logit)).astype(np.int64)

    v2 = (cur_us >= v2_start) & (rng.random(rows) < V2_SHARE)
    logged = cur.copy()
    logged.loc[v2, "income"] = np.round(cur.loc[v2, "income"].to_numpy() * 100.0, 2)
    score = np.round(probability(model, logged), 6)

    latency = draw_latency(rng, rows)
    in_spike = (cur_us >= spike_start) & (cur_us < spike_end)
    latency = np.where(in_spike, latency * LATENCY_SPIKE_FACTOR, latency)

    u_fail = rng.random(rows)
    in_burst = (cur_us >= burst_start) & (cur_us < burst_end)
    burst_fail = in_burst & (u_fail < BURST_FAILURE_RATE)
    bg_fail = ~burst_fail & (rng.random(rows) < BACKGROUND_FAILURE_RATE)
    bg_kind = rng.integers(0, len(BACKGROUND_ERRORS), rows)
    failed = burst_fail | bg_fail
    error = np.full(rows, None, dtype=object)
    error[bg_fail] = np.asarray(BACKGROUND_ERRORS, dtype=object)[bg_kind[bg_fail]]
    error[burst_fail] = BURST_ERROR
    timeout = bg_fail & (bg_kind == 0)
    latency = np.where(timeout, rng.uniform(2_000.0, 3_000.0, rows), latency)
    latency = np.where(burst_fail, latency * 0.2, latency)  # fail fast
    latency = np.round(latency, 2)
    status = np.where(failed, 500, 200).astype(np.int64)
    trace = trace_ids(rng, rows)

    coverage = np.asarray(LABEL_COVERAGE)[day_idx]
    labelled = ~failed & (rng.random(rows) < coverage)
    # labels arrive between 20% and 100% of the way to the end of the current period
    delay = np.floor((end_us - 1 - cur_us) * rng.uniform(0.2, 1.0, rows)).astype(np.int64)
    label_us = cur_us + delay

    cw = max(7, len(str(rows)))
    request_id = np.array([f"req-{i:0{cw}d}" for i in range(1, rows + 1)], dtype=object)
    ts_iso = iso_us(cur_us)

    missing = np.full(rows, None, dtype=object)
    score_list = np.where(failed, missing, score.astype(object)).tolist()
    pred_list = np.where(failed, missing, (score >= 0.5).astype(np.int64).astype(object)).tolist()
    feature_lists = {name: logged[name].tolist() for name in FEATURES}
    columns = {
        "timestamp": ts_iso.tolist(),
        "request_id": request_id.tolist(),
        "model_version": np.where(v2, "v2", "v1").tolist(),
        "score": score_list,
        "prediction": pred_list,
        "latency_ms": latency.tolist(),
        "status": status.tolist(),
        "error": error.tolist(),
        "trace_id": trace,
    }

    wanted: set[str] = set()
    bounds = np.searchsorted(day_idx, np.arange(N_DAYS + 1))
    for d in range(N_DAYS):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        name = f"predictions-{(start_ts + pd.Timedelta(days=d)).strftime('%Y-%m-%d')}.jsonl"
        wanted.add(name)
        write_jsonl(
            logs_dir / name,
            {k: v[lo:hi] for k, v in columns.items()},
            {k: v[lo:hi] for k, v in feature_lists.items()},
        )
    for stale in logs_dir.glob("predictions-*.jsonl"):
        if stale.name not in wanted:
            stale.unlink()

    # ---- labels
    labels_path = root / "labels.csv"
    pd.DataFrame(
        {
            "request_id": request_id[labelled],
            "label": label[labelled],
            "label_timestamp": iso_us(label_us[labelled]),
        }
    ).to_csv(labels_path, index=False, lineterminator="\n")

    incidents = injected_incidents(
        drift_start=drift_start, v2_start=v2_start, spike_start=spike_start,
        spike_end=spike_end, burst_start=burst_start, burst_end=burst_end,
        concept_start=concept_start, end_us=end_us, base_rate=base_rate,
    )
    incidents_path = root / "incidents.json"
    incidents_path.write_text(json.dumps(incidents, indent=2) + "\n", encoding="utf-8")

    golden_path = root / "golden.jsonl"
    write_golden(golden_path, ref, ref_proba)

    model_path = root / "model.skops"
    dump_model(model, model_path)

    config_path = root / "config.yml"
    config_path.write_text(CONFIG_TEXT, encoding="utf-8")

    return DemoFiles(
        root=root,
        config=config_path,
        reference=ref_path,
        current=logs_dir,
        labels=labels_path,
        incidents=incidents_path,
        model=model_path,
        golden=golden_path,
    )
