"""The full ``obskit report``: wall time and peak memory, as a user runs it.

``python benchmarks/bench_report.py [--sizes 100k,1M] [--source synthetic|demo]
[--memory-limit 1GB] [--reference-rows 1M]``

Each size runs ``/usr/bin/time -v obskit report --config <data>/config.yml --out <dir>``
as a subprocess, everything included: interpreter start and imports, reading and typing
the logs, windows, drift, performance, estimation, multivariate drift, segments,
anomalies, SHAP and LIME on the flagged rows (the data comes with a model), executing the
report notebook in a fresh Jupyter kernel, and converting it to HTML.

Data:

- ``synthetic`` (default): ``generate.py``'s Parquet logs, N current + N reference rows
  (``--reference-rows`` to change), 20 features, daily windows, a scikit-learn model;
- ``demo``: ``obskit demo --rows N`` (JSON-lines logs with nested features, late labels in
  a CSV, 10 features, the five injected incidents); its generation time is reported apart.

Memory, two figures:

- ``max RSS (time -v)``: GNU time's "Maximum resident set size": the largest *single*
  process among the CLI and the children it waited for (the CLI, which runs the whole
  analysis in-process with DuckDB, or the notebook kernel, whichever is larger) — not a
  sum;
- ``peak tree RSS``: the largest *sum* of resident memory over the CLI and all its
  descendants (the kernel included), sampled every 0.2 s with psutil.

Per-stage seconds come from the run's ``summary.json`` ``timings`` when present.

``--memory-limit 1GB`` writes ``duckdb: {memory_limit, temp_directory}`` into the config
(DuckDB spills to the temp directory under the data folder). That is the 100M-rows run:
``python benchmarks/bench_report.py --sizes 100M --reference-rows 1M --memory-limit 1GB``
(generating 100M rows takes a while and about 9 GB of disk; never committed).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import _common  # noqa: E402,F401 - no-telemetry environment first
from _common import (  # noqa: E402
    DATA,
    RESULTS,
    ROOT,
    child_env,
    machine,
    machine_header,
    markdown_table,
    parse_rows,
    rows_label,
    write_results,
)

#: the CLI as a user runs it, from this interpreter (``python -m obskit``; the package on
#: ``PYTHONPATH`` wins over this checkout's, as for every other script here: ``child_env``)
OBSKIT = (sys.executable, "-m", "obskit")
GNU_TIME = Path("/usr/bin/time")


def _tree_sampler(pid: int, peak: dict[str, float], stop: threading.Event) -> None:
    try:
        import psutil
    except ImportError:
        return
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak["tree_mib"] = max(peak.get("tree_mib", 0.0), total / 2**20)
        except psutil.Error:
            return
        stop.wait(0.2)


def _parse_time_v(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["max_rss_mib"] = round(int(m.group(1)) / 1024, 1)
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if m:
        parts = [float(x) for x in m.group(1).split(":")]
        secs = 0.0
        for x in parts:
            secs = secs * 60 + x
        out["time_v_wall_s"] = round(secs, 2)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text)]
    if len(cpu) == 2:
        out["cpu_s"] = round(sum(cpu), 2)
    m = re.search(r"Percent of CPU this job got: (\d+)%", text)
    if m:
        out["cpu_percent"] = int(m.group(1))
    return out


def report_command(config: Path, out: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """``python -m obskit report --config … --out …`` (and ``extra`` flags)."""
    return [*OBSKIT, "report", "--config", str(config), "--out", str(out), *extra]


def run_report(config: Path, out: Path, *, timeout: float, extra: tuple[str, ...] = (),
               fresh: bool = True) -> dict[str, Any]:
    """One ``obskit report`` under ``/usr/bin/time -v``; wall time, memory, timings.

    ``fresh`` removes ``out`` first (no cached results from an earlier run); ``extra`` adds
    flags (``--engine spark``).
    """
    if fresh and out.exists():
        shutil.rmtree(out)
    cmd = report_command(config, out, extra)
    if GNU_TIME.exists():
        cmd = [str(GNU_TIME), "-v", *cmd]
    peak: dict[str, float] = {}
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=child_env(), start_new_session=True)
    sampler = threading.Thread(target=_tree_sampler, args=(proc.pid, peak, stop), daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # the whole session: time, the CLI, its notebook kernel or Spark's JVM
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = proc.communicate()
        stop.set()
        return {"error": f"timed out after {timeout:.0f} s", "timed_out": True}
    wall = time.perf_counter() - start
    stop.set()
    sampler.join(1)
    res: dict[str, Any] = {"wall_s": round(wall, 2), "exit": proc.returncode,
                           "peak_tree_mib": round(peak.get("tree_mib", 0.0), 1),
                           **_parse_time_v(stderr)}
    if proc.returncode not in (0, 1):
        tail = "\n".join(stderr.strip().splitlines()[-30:])
        res["error"] = f"obskit report exited {proc.returncode}: {tail}"
        return res
    summary_path = out / "latest" / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        res["timings"] = summary.get("timings") or {}
        res["status"] = summary.get("status")
        res["rows"] = summary.get("rows")
        res["windows"] = len(summary.get("windows") or [])
        expl = summary.get("explanations") or {}
        res["explained_rows"] = expl.get("rows_explained")
        res["explainer"] = expl.get("explainer")
        html = out / "latest" / "index.html"
        res["html_mib"] = round(html.stat().st_size / 2**20, 2) if html.exists() else None
        if "window_cache" in summary:
            res["window_cache"] = summary["window_cache"]
    res["stdout"] = stdout.strip().splitlines()[-2:]
    return res


def prepare(source: str, rows: int, *, reference_rows: int | None, memory_limit: str | None
            ) -> tuple[Path, dict[str, Any]]:
    """The config of the data for one size (generated when missing) and how it was made."""
    if source == "demo":
        root = DATA / f"demo-{rows_label(rows)}"
        config = root / "config.yml"
        info: dict[str, Any] = {"source": "obskit demo"}
        if not config.exists():
            start = time.perf_counter()
            subprocess.run([*OBSKIT, "demo", "--out", str(root), "--rows", str(rows)],
                           check=True, cwd=ROOT, env=child_env(),
                           stdout=subprocess.DEVNULL)
            info["generate_s"] = round(time.perf_counter() - start, 1)
        return config, info
    from generate import default_dir, generate

    out = default_dir(rows, 20, 6)
    if reference_rows is not None and reference_rows != rows:
        out = out.with_name(out.name + f"-ref{rows_label(reference_rows)}")
    temp = str(out / "duckdb-tmp") if memory_limit else None
    start = time.perf_counter()
    meta = generate(out, rows=rows, reference_rows=reference_rows,
                    memory_limit=memory_limit, temp_directory=temp)
    took = time.perf_counter() - start
    info = {"source": "generate.py", "reference_rows": meta["reference_rows"],
            "memory_limit": memory_limit}
    if took > 5:
        info["generate_s"] = round(took, 1)
    return out / "config.yml", info


STAGE_KEYS = ("load_s", "profile_s", "drift_s", "performance_s", "segments_s", "anomalies_s",
              "explanations_s", "render_s", "total_s")


def table(results: list[dict[str, Any]]) -> str:
    have_timings = any(r.get("timings") for r in results)
    headers = ["data", "rows", "wall s", "max RSS MiB (time -v)", "peak tree RSS MiB",
               "CPU %", "exit"]
    if have_timings:
        headers += [k[:-2] + " s" for k in STAGE_KEYS]
    rows = []
    for r in results:
        line: list[Any] = [r["source"], rows_label(r["size"]), r.get("wall_s"),
                           r.get("max_rss_mib"), r.get("peak_tree_mib"), r.get("cpu_percent"),
                           r.get("exit") if "error" not in r else "error"]
        if have_timings:
            t = r.get("timings") or {}
            line += [t.get(k) for k in STAGE_KEYS]
        rows.append(line)
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100k,1M", help="current rows per run, e.g. 100k,1M,10M")
    p.add_argument("--source", choices=("synthetic", "demo"), default="synthetic")
    p.add_argument("--reference-rows", type=parse_rows,
                   help="synthetic reference rows (default: as many as current)")
    p.add_argument("--memory-limit", help="duckdb.memory_limit, e.g. 1GB (spills to disk)")
    p.add_argument("--timeout", type=float, default=7200.0)
    p.add_argument("--target-s", type=float, default=30.0,
                   help="the 1M-row wall-time target (reported, not enforced)")
    args = p.parse_args(argv)
    sizes = [parse_rows(s) for s in args.sizes.split(",") if s.strip()]
    info = machine()
    print("# obskit report benchmark\n" + machine_header(info), flush=True)
    results: list[dict[str, Any]] = []
    for rows in sizes:
        config, how = prepare(args.source, rows, reference_rows=args.reference_rows,
                              memory_limit=args.memory_limit)
        out = RESULTS / "reports" / f"{args.source}-{rows_label(rows)}"
        print(f"## {args.source} {rows_label(rows)}: obskit report --config {config}",
              flush=True)
        res = run_report(config, out, timeout=args.timeout)
        res.update(size=rows, source=args.source, data=how)
        results.append(res)
        if "error" in res:
            print(f"  ERROR {res['error']}", flush=True)
        else:
            print(f"  wall {res['wall_s']:.1f} s, max RSS {res.get('max_rss_mib')} MiB, "
                  f"peak tree RSS {res['peak_tree_mib']} MiB, exit {res['exit']}, "
                  f"timings {res.get('timings')}", flush=True)
    md = ["# obskit report benchmark", "", "```", machine_header(info), "```", "",
          table(results), "",
          "Wall time of `obskit report` end to end (process start to HTML written). "
          "max RSS: the largest single process (GNU time); peak tree RSS: the largest sum "
          "over the CLI and its children (the notebook kernel), sampled every 0.2 s. "
          "Stage seconds from the run's summary.json `timings`."]
    for r in results:
        if r.get("size") == 1_000_000 and "wall_s" in r:
            verdict = "met" if r["wall_s"] < args.target_s else "MISSED"
            md.append(f"\nTarget: full report on 1M rows under {args.target_s:.0f} s: "
                      f"{verdict} ({r['wall_s']:.1f} s, {r['source']}).")
    text = "\n".join(md)
    print("\n" + text)
    path = write_results(f"report-{args.source}", {"machine": info, "results": results},
                         text)
    print(f"\nresults: {path}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
