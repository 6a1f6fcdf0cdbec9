"""Univariate drift: obskit vs Evidently's ``DataDriftPreset`` vs NannyML's
``UnivariateDriftCalculator``, on the same Parquet logs, in one invocation.

``python benchmarks/bench_drift.py [--sizes 100k,1M,10M] [--features 20] [--budget 600]``

For each size (N current rows and N reference rows, F features) every tool runs in its own
fresh process, one after the other, so imports, caches and peak memory never mix:

- **obskit**: ``load_logs`` reads and types the Parquet files into DuckDB (timed as
  ``load``); then drift = Evidently's default method per feature (``drift_rules``) +
  ``DriftMonitor.fit(reference)`` + ``calculate(current)`` with one window covering the
  whole current log, as the peers compare one reference with one current set.
  ``--fetch-values 0`` keeps every sort in the engine (the path obskit takes for sides
  above its fetch bound, 20 million values by default).
- **Evidently 0.7**: ``pd.read_parquet`` of the feature columns (``load``), then
  ``Report([DataDriftPreset()]).run(current, reference)`` on pandas frames (``drift``:
  ``Dataset.from_pandas`` + run + reading the snapshot).
- **NannyML**: ``pd.read_parquet`` (``load``), then ``UnivariateDriftCalculator`` with
  continuous ``kolmogorov_smirnov, jensen_shannon`` and categorical ``chi2, jensen_shannon``,
  one chunk = the whole current log: ``fit(reference)`` + ``calculate(current)``.

Import time is measured and reported apart. The **equality check** fails the run (exit 1)
when obskit's per-feature value differs from a peer's where the methods coincide:

- Evidently: same method name (obskit must also *choose* the same method per feature);
  relative tolerance 1e-6 (absolute 1e-9 near zero). A binned method on a numeric feature
  with more than 20 unique values would be compared within 0.01 absolute, the documented
  difference of obskit's fixed reference bins (none in this data).
- NannyML, Kolmogorov–Smirnov statistic: obskit's exact engine statistic. NannyML is exact
  below 10,000 reference rows (tolerance 1e-6 relative); from 10,000 it estimates on
  10,000 equal-width reference bins, and the check is that obskit's value lies within the
  largest reference + current mass of one such bin (the bound of that estimate).
- NannyML, categorical Jensen–Shannon: NannyML uses log base 2, obskit (as Evidently) the
  natural log: ``nannyml == obskit / sqrt(ln 2)`` within 1e-6 relative.
- NannyML's ``chi2`` is the contingency-table statistic, obskit's ``chisquare`` Evidently's
  goodness-of-fit p-value: they do not coincide and are not compared.

A peer is skipped at a size when the time extrapolated linearly from its previous size
exceeds ``--budget`` seconds, or when its extrapolated peak memory exceeds 70% of the
memory available; the output says which and why.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import _common  # noqa: E402,F401 - sets the no-telemetry environment first
from _common import (  # noqa: E402
    machine,
    machine_header,
    markdown_table,
    parse_rows,
    peak_rss_mib,
    rows_label,
    run_json_child,
    timer,
    write_results,
)

TOOLS = ("obskit", "evidently", "nannyml")
REL_TOL, ABS_TOL = 1e-6, 1e-9
BINNED_ABS_TOL = 0.01
NANNYML_EXACT_BELOW = 10_000
NANNYML_KS_BINS = 10_000


# --------------------------------------------------------------------------- children


def _meta(data: Path) -> dict[str, Any]:
    return json.loads((data / "meta.json").read_text())


def child_obskit(data: Path, with_ks: bool) -> dict[str, Any]:
    t: dict[str, float] = {}
    with timer(t, "import_s"):
        from obskit.analysis.drift_rules import drift_rules
        from obskit.config import load_config
        from obskit.io.logs import load_logs
        from obskit.monitors import DriftMonitor, with_window
        from obskit.profiles import wasserstein_by_window
    config = load_config(str(data / "config.yml"))
    with timer(t, "load_s"):
        logs = load_logs(config)
    reference, current = logs.reference.table, with_window(logs.current.table)
    options = {k: config.drift_default[k] for k in ("threshold", "persistence", "fdr")}
    start = time.perf_counter()
    with timer(t, "rules_s"):
        rules = drift_rules(config, logs.features, reference, current)
    fetch = os.environ.get("OBSKIT_BENCH_FETCH_VALUES")
    if fetch:
        options["fetch_values"] = int(fetch)
    with timer(t, "fit_s"):
        monitor = DriftMonitor(logs.features, rules, **options).fit(reference)
    with timer(t, "calculate_s"):
        frame = monitor.calculate(current)
    t["drift_s"] = round(time.perf_counter() - start, 3)
    values = {r.feature: {"method": r.method, "value": float(r.value),
                          "binned": r.feature in monitor.bins_}
              for r in frame.itertuples()}
    ks = {}
    if with_ks:  # not timed: the KS statistic of the same engine aggregate, for NannyML
        for f, kind in logs.features.items():
            if kind == "numeric":
                ks[f] = float(wasserstein_by_window(reference, current, f).ks.iloc[0])
    return {**t, "values": values, "ks": ks, "features": dict(logs.features),
            "rows": logs.current.rows_used, "reference_rows": logs.reference.rows_used,
            "peak_rss_mib": peak_rss_mib()}


def _read_frames(data: Path, meta: dict[str, Any]):  # type: ignore[no-untyped-def]
    import pandas as pd

    cols = meta["numeric"] + meta["categorical"]
    return (pd.read_parquet(data / "reference", columns=cols),
            pd.read_parquet(data / "current", columns=cols))


def child_evidently(data: Path) -> dict[str, Any]:
    meta = _meta(data)
    t: dict[str, float] = {}
    with timer(t, "import_s"):
        from evidently import DataDefinition, Dataset, Report
        from evidently.legacy.calculations import stattests
        from evidently.legacy.calculations.stattests.registry import StatTest
        from evidently.presets import DataDriftPreset
    names = {v.display_name: v.name for v in vars(stattests).values()
             if isinstance(v, StatTest)}
    with timer(t, "load_s"):
        ref, cur = _read_frames(data, meta)
    start, cpu = time.perf_counter(), time.process_time()
    with timer(t, "dataset_s"):
        definition = DataDefinition(numerical_columns=meta["numeric"],
                                    categorical_columns=meta["categorical"])
        cur_ds = Dataset.from_pandas(cur, data_definition=definition)
        ref_ds = Dataset.from_pandas(ref, data_definition=definition)
    with timer(t, "run_s"):
        snapshot = Report([DataDriftPreset()]).run(cur_ds, ref_ds)
        result = snapshot.dict()
    t["drift_s"] = round(time.perf_counter() - start, 3)
    t["drift_cpu_s"] = round(time.process_time() - cpu, 3)  # all threads: a shared machine
    values = {}
    for m in result["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            values[cfg["column"]] = {"method": names.get(cfg["method"], cfg["method"]),
                                     "value": float(m["value"])}
    return {**t, "values": values, "peak_rss_mib": peak_rss_mib()}


def child_nannyml(data: Path) -> dict[str, Any]:
    meta = _meta(data)
    t: dict[str, float] = {}
    # NannyML imports flaml, whose import starts a Spark session (a JVM, ~25 s, ~1 GB)
    # whenever pyspark is installed (it is: obskit's Spark extra). NannyML does not use it.
    sys.modules["pyspark"] = None  # type: ignore[assignment]
    with timer(t, "import_s"):
        import nannyml as nml
        import numpy as np
    with timer(t, "load_s"):
        ref, cur = _read_frames(data, meta)
    numeric, cats = meta["numeric"], meta["categorical"]
    start = time.perf_counter()
    with timer(t, "fit_s"):
        calc = nml.UnivariateDriftCalculator(
            column_names=numeric + cats, treat_as_categorical=cats,
            continuous_methods=["kolmogorov_smirnov", "jensen_shannon"],
            categorical_methods=["chi2", "jensen_shannon"], chunk_number=1)
        calc.fit(ref)
    with timer(t, "calculate_s"):
        res = calc.calculate(cur).filter(period="analysis").to_df()
    t["drift_s"] = round(time.perf_counter() - start, 3)
    row = res.iloc[-1]
    values: dict[str, dict[str, float]] = {}
    for f in numeric + cats:
        methods = ["kolmogorov_smirnov", "jensen_shannon"] if f in numeric else \
            ["chi2", "jensen_shannon"]
        values[f] = {m: float(row[(f, m, "value")]) for m in methods}
    bounds = {}  # not timed: the bin-mass bound of NannyML's estimated KS
    for f in numeric:
        r = ref[f].to_numpy(dtype=float)
        c = cur[f].to_numpy(dtype=float)
        if len(r) >= NANNYML_EXACT_BELOW:
            edges = np.linspace(r.min(), r.max(), NANNYML_KS_BINS + 1)
            bounds[f] = float(np.histogram(r, edges)[0].max() / len(r)
                              + np.histogram(c, edges)[0].max() / len(c))
    return {**t, "values": values, "ks_bound": bounds, "peak_rss_mib": peak_rss_mib()}


# --------------------------------------------------------------------------- checks


def _close(a: float, b: float, rel: float = REL_TOL, abs_: float = ABS_TOL) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def check_evidently(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    compared, problems, worst = 0, [], 0.0
    for f, o in ours["values"].items():
        e = theirs["values"].get(f)
        if e is None:
            problems.append(f"{f}: Evidently reported no value")
            continue
        if e["method"] != o["method"]:
            problems.append(f"{f}: obskit chose {o['method']}, Evidently {e['method']}")
            continue
        tol = BINNED_ABS_TOL if o["binned"] else None
        ok = (abs(o["value"] - e["value"]) <= tol) if tol else _close(o["value"], e["value"])
        compared += 1
        if not (math.isnan(o["value"]) and math.isnan(e["value"])):
            worst = max(worst, abs(o["value"] - e["value"]) / max(abs(e["value"]), 1e-12))
        if not ok:
            problems.append(f"{f} ({o['method']}): obskit {o['value']!r} != Evidently "
                            f"{e['value']!r}")
    return {"compared": compared, "max_rel_diff": worst, "problems": problems}


def check_nannyml(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    compared, problems, worst_ks, worst_js = 0, [], 0.0, 0.0
    for f, o in ours["values"].items():
        n = theirs["values"].get(f, {})
        if ours["features"][f] == "numeric" and f in ours["ks"]:
            a, b = ours["ks"][f], n["kolmogorov_smirnov"]
            bound = theirs["ks_bound"].get(f)
            ok = abs(a - b) <= bound + ABS_TOL if bound is not None else _close(a, b)
            worst_ks = max(worst_ks, abs(a - b))
            compared += 1
            if not ok:
                problems.append(f"{f} (KS statistic): obskit {a!r}, NannyML {b!r}, allowed "
                                f"{bound if bound is not None else REL_TOL!r}")
        elif ours["features"][f] != "numeric" and o["method"] == "jensenshannon":
            a, b = o["value"] / math.sqrt(math.log(2)), n["jensen_shannon"]
            worst_js = max(worst_js, abs(a - b) / max(abs(b), 1e-12))
            compared += 1
            if not _close(a, b):
                problems.append(f"{f} (Jensen-Shannon, base 2): obskit {a!r}, NannyML {b!r}")
    return {"compared": compared, "max_abs_diff_ks": worst_ks, "max_rel_diff_js": worst_js,
            "problems": problems}


# --------------------------------------------------------------------------- driver


def _available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def ensure_data(rows: int, features: int, categorical: int) -> Path:
    from generate import default_dir, generate

    out = default_dir(rows, features, categorical)
    started = time.perf_counter()
    meta = generate(out, rows=rows, features=features, categorical=categorical)
    took = time.perf_counter() - started
    if took > 5:
        print(f"  generated {out.name} in {took:.0f} s", flush=True)
    return out if meta else out


def run_size(rows: int, features: int, categorical: int, peers: list[str], budget: float,
             previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
    data = ensure_data(rows, features, categorical)
    out: dict[str, Any] = {"rows": rows, "features": features, "categorical": categorical,
                           "data": str(data), "tools": {}, "skipped": {}}
    here = str(Path(__file__).resolve())
    ours = run_json_child([here, "_child", "obskit", str(data)]
                          + (["--ks"] if "nannyml" in peers else []))
    out["tools"]["obskit"] = ours
    print(f"  obskit: {_brief(ours)}", flush=True)
    for peer in peers:
        prev = previous.get(peer)
        if prev and "drift_s" in prev:
            scale = rows / prev["rows"]
            predicted = (prev["drift_s"] + prev["load_s"]) * scale
            predicted_mib = prev["peak_rss_mib"] * scale
            if predicted > budget:
                out["skipped"][peer] = (f"predicted {predicted:,.0f} s (linear from "
                                        f"{prev['drift_s'] + prev['load_s']:.0f} s at "
                                        f"{rows_label(prev['rows'])}) > budget {budget:.0f} s")
            elif predicted_mib > 0.7 * _available_mib():
                out["skipped"][peer] = (f"predicted peak memory {predicted_mib / 1024:.1f} GiB "
                                        f"> 70% of the {_available_mib() / 1024:.1f} GiB "
                                        f"available")
        if peer in out["skipped"]:
            print(f"  {peer}: SKIPPED, {out['skipped'][peer]}", flush=True)
            continue
        res = run_json_child([here, "_child", peer, str(data)], timeout=3 * budget + 120)
        res["rows"] = rows
        out["tools"][peer] = res
        print(f"  {peer}: {_brief(res)}", flush=True)
        if "error" in res:
            continue
        previous[peer] = res
        if "error" not in ours:
            check = (check_evidently if peer == "evidently" else check_nannyml)(ours, res)
            out.setdefault("checks", {})[peer] = check
            state = "OK" if not check["problems"] else "MISMATCH"
            print(f"  equality vs {peer}: {state}, {check['compared']} features compared"
                  + "".join(f"\n    {p}" for p in check["problems"]), flush=True)
    return out


def _brief(res: dict[str, Any]) -> str:
    if "error" in res:
        return "ERROR " + res["error"]
    return (f"drift {res['drift_s']:.2f} s (load {res['load_s']:.2f} s, import "
            f"{res['import_s']:.2f} s), peak RSS {res['peak_rss_mib']:,.0f} MiB")


def _ratio(x: float | None) -> str | None:
    if x is None:
        return None
    return f"{x:.0f}×" if x >= 10 else f"{x:.2g}×"


def speed_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        tools = r["tools"]
        o = tools.get("obskit", {})
        line: list[Any] = [f"{rows_label(r['rows'])} × {r['features']}"]
        line += [o.get("drift_s"), o.get("load_s")]
        for peer in ("evidently", "nannyml"):
            p = tools.get(peer)
            if p is None or "error" in p:
                reason = r["skipped"].get(peer) or (p or {}).get("error", "not run")
                status = ("skipped" if peer in r["skipped"] else
                          "not run" if p is None else "error")
                line += [status, None, None]
                line[-1] = reason.split("\n")[0][:60]
                continue
            ratio = p["drift_s"] / o["drift_s"] if o.get("drift_s") else None
            e2e = ((p["drift_s"] + p["load_s"]) / (o["drift_s"] + o["load_s"])
                   if o.get("drift_s") else None)
            line += [p["drift_s"], _ratio(ratio), _ratio(e2e)]
        line += [o.get("peak_rss_mib"), (tools.get("evidently") or {}).get("peak_rss_mib"),
                 (tools.get("nannyml") or {}).get("peak_rss_mib")]
        rows.append(line)
    return markdown_table(
        ["rows × features", "obskit drift s", "obskit load s", "Evidently drift s",
         "obskit faster (drift)", "(incl. load)", "NannyML drift s", "obskit faster (drift)",
         "(incl. load)", "obskit peak MiB", "Evidently peak MiB", "NannyML peak MiB"], rows)


def checks_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for peer, c in (r.get("checks") or {}).items():
            worst = (f"{c['max_rel_diff']:.1e} rel" if peer == "evidently" else
                     f"KS {c['max_abs_diff_ks']:.1e} abs, JS {c['max_rel_diff_js']:.1e} rel")
            rows.append([f"{rows_label(r['rows'])} × {r['features']}", peer, c["compared"],
                         worst, "OK" if not c["problems"] else
                         f"{len(c['problems'])} MISMATCH"])
    return markdown_table(["size", "peer", "features compared", "largest difference",
                           "result"], rows)


def curve_table(results: list[dict[str, Any]], tool: str = "obskit") -> str:
    rows = []
    for r in results:
        res = r["tools"].get(tool)
        if not res or "error" in res:
            continue
        cells = r["rows"] * r["features"] / 1e6
        rows.append([rows_label(r["rows"]), r["features"], res["drift_s"],
                     round(res["drift_s"] / cells, 4), res["load_s"],
                     round(res["load_s"] / cells, 4)])
    return markdown_table(["rows", "features", f"{tool} drift s", "s per M cells",
                           "load s", "load s per M cells"], rows)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "_child":
        tool, data = argv[1], Path(argv[2])
        fn = {"obskit": lambda: child_obskit(data, "--ks" in argv),
              "evidently": lambda: child_evidently(data),
              "nannyml": lambda: child_nannyml(data)}[tool]
        print(json.dumps(fn(), default=float))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100k,1M,10M", help="current (= reference) rows")
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--categorical", type=int, default=None, help="default 30%% of features")
    p.add_argument("--peers", default="evidently,nannyml", help="comma list, or 'none'")
    p.add_argument("--budget", type=float, default=600.0,
                   help="skip a peer whose extrapolated time exceeds this many seconds")
    p.add_argument("--sweep-features", default="5,10,20,40",
                   help="feature counts for the linearity sweep (obskit), or 'none'")
    p.add_argument("--sweep-rows", type=parse_rows, default=1_000_000)
    p.add_argument("--no-fail", action="store_true", help="exit 0 even on a mismatch")
    p.add_argument("--fetch-values", type=int, default=None,
                   help="obskit's DriftMonitor fetch_values (0: every sort in the engine)")
    args = p.parse_args(argv)
    if args.fetch_values is not None:
        os.environ["OBSKIT_BENCH_FETCH_VALUES"] = str(args.fetch_values)
    sizes = [parse_rows(s) for s in args.sizes.split(",") if s.strip()]
    peers = [] if args.peers == "none" else [s for s in args.peers.split(",") if s]
    cats = round(args.features * 0.3) if args.categorical is None else args.categorical
    info = machine()
    print("# obskit drift benchmark\n" + machine_header(info), flush=True)
    print(f"data: N current rows + N reference rows, {args.features} features "
          f"({args.features - cats} numeric, {cats} categorical); peer time budget "
          f"{args.budget:.0f} s" + ("" if args.fetch_values is None else
                                    f"; obskit fetch_values={args.fetch_values}") + "\n",
          flush=True)
    results: list[dict[str, Any]] = []
    previous: dict[str, dict[str, Any]] = {}
    for rows in sizes:
        print(f"## {rows_label(rows)} × {args.features}", flush=True)
        results.append(run_size(rows, args.features, cats, peers, args.budget, previous))
    sweep: list[dict[str, Any]] = []
    if args.sweep_features != "none":
        for f in [int(x) for x in args.sweep_features.split(",")]:
            c = round(f * 0.3)
            done = next((r for r in results if r["rows"] == args.sweep_rows
                         and r["features"] == f and r["categorical"] == c), None)
            if done:
                sweep.append(done)
                continue
            print(f"## sweep {rows_label(args.sweep_rows)} × {f} (obskit only)", flush=True)
            sweep.append(run_size(args.sweep_rows, f, c, [], args.budget, {}))
    md = ["# obskit drift benchmark", "", "```", machine_header(info)
          + ("" if args.fetch_values is None else f"\nobskit fetch_values={args.fetch_values}"),
          "```", "",
          "## Drift: obskit vs Evidently DataDriftPreset vs NannyML UnivariateDriftCalculator",
          "", speed_table(results), "",
          "Times in seconds, measured in the same invocation, each tool in its own process. "
          "\"drift\" excludes import and reading the data; \"incl. load\" adds obskit's "
          "`load_logs` (Parquet → typed DuckDB tables) and the peers' `pd.read_parquet`.",
          "", "## Equality of values where the methods coincide", "", checks_table(results),
          "", "## Cost against rows (obskit)", "", curve_table(results)]
    if sweep:
        md += ["", f"## Cost against features (obskit, {rows_label(args.sweep_rows)} rows)",
               "", curve_table(sweep)]
    skipped = [f"- {rows_label(r['rows'])} × {r['features']}: {peer} skipped: {why}"
               for r in results for peer, why in r["skipped"].items()]
    if skipped:
        md += ["", "## Skipped", "", *skipped]
    text = "\n".join(md)
    print("\n" + text)
    path = write_results("drift", {"machine": info, "results": results, "sweep": sweep,
                                   "fetch_values": args.fetch_values,
                                   "tolerance": {"rel": REL_TOL, "abs": ABS_TOL,
                                                 "binned_abs": BINNED_ABS_TOL}}, text)
    print(f"\nresults: {path}")
    problems = [p for r in results for c in (r.get("checks") or {}).values()
                for p in c["problems"]]
    errors = [f"{t}: {v['error']}" for r in results + sweep for t, v in r["tools"].items()
              if "error" in v]
    if problems or errors:
        print("\nFAILED: " + "; ".join(problems + errors), file=sys.stderr)
        return 0 if args.no_fail else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
