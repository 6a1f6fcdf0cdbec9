"""The speed targets of issue 17, each measured side by side in one invocation.

``python benchmarks/bench_targets.py [--targets report300k,report1M,drift1M,demo1M,
incremental,spark] [--huge] [--size NAME=ROWS] [--days 7,28]``

Prints (and writes to ``results/targets-latest.md``, raw figures to
``results/targets-<UTC>.json``) one table ``| target | obskit | peer/reference | ratio |
goal | result |``, the command line, the machine and every command run. Each side runs in
a fresh process, one after the other:

- ``report300k`` / ``report1M``: the whole ``obskit report`` (CLI end to end: interpreter
  start, load, analysis, notebook, HTML; one window over the data, no model) against
  Evidently 0.7's ``DataDriftPreset`` compute alone (``Dataset.from_pandas`` × 2 + run +
  reading the snapshot; imports and ``pd.read_parquet`` excluded: ``bench_drift.py``'s
  child). Goals ≥ 4× and ≥ 10×.
- ``drift1M``: obskit load + drift against Evidently load + drift, values equal
  (``bench_drift.py``'s run and check). Goal ≥ 30×.
- ``demo1M``: the demo-style full report (daily windows, segments, estimation, anomalies,
  SHAP and LIME, notebook, HTML) on ``generate.py``'s log with its model. Goal < 20 s.
- ``incremental``: a daily log of D days, cold run, one more day, warm run into the same
  ``--out``; for D = 7 and 28 (``_incremental.py``). Goal: warm(28) / warm(7) ≤ 1.3 and
  warm < cold.
- ``spark``: ``obskit report --engine spark`` on the 200,000-row ``obskit demo`` (no Spark
  settings in its config) against the same report on DuckDB; Spark stopped after
  ``--spark-timeout`` (20 min), then MISSED. Goal ≤ 5×.
- ``100M`` (opt-in: ``--huge`` or in ``--targets``): the whole report on 100M current rows
  (1M reference rows, DuckDB ``memory_limit`` 1GB in the config), generated straight into
  Parquet by DuckDB; maximum resident set size from ``/usr/bin/time -v``. Goal < 2 GiB.

A ratio is the peer's time over obskit's (×), a time over its limit, or a warm time over a
cold one. Data is generated under ``benchmarks/data`` (``OBSKIT_BENCH_DATA``) when missing.
Exit 1 when a measurement failed (ERROR) or the drift values differ; a MISSED target does
not fail the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import argparse  # noqa: E402
import functools  # noqa: E402
import shlex  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

import _common  # noqa: E402,F401 - no-telemetry environment first
import _incremental  # noqa: E402
import _targets  # noqa: E402
from _common import (  # noqa: E402
    machine,
    machine_header,
    markdown_table,
    parse_rows,
    rows_label,
    write_results,
)
from _targets import Settings, row  # noqa: E402

#: name: (default rows, goal, what measures it)
TARGETS: dict[str, tuple[int, float, Any]] = {
    # issue 17 measured the whole report at 300k x 21 and 1M x 20 features
    "report300k": (300_000, 4.0, functools.partial(_targets.whole_report, features=21)),
    "report1M": (1_000_000, 10.0, functools.partial(_targets.whole_report, features=20)),
    "drift1M": (1_000_000, 30.0, _targets.drift_with_load),
    "demo1M": (1_000_000, 20.0, _targets.demo_report),
    "incremental": (20_000, 1.3, None),  # rows per day
    "spark": (200_000, 5.0, _targets.spark_report),
    "100M": (100_000_000, 2.0, _targets.huge_report),
}
DEFAULT = ("report300k", "report1M", "drift1M", "demo1M", "incremental", "spark")
OPT_IN = ("100M",)


def _size(text: str) -> tuple[str, int]:
    name, _, rows = text.partition("=")
    if name not in TARGETS or not rows:
        raise argparse.ArgumentTypeError(f"--size NAME=ROWS, NAME one of {', '.join(TARGETS)}")
    return name, parse_rows(rows)


def run_target(name: str, s: Settings) -> list[dict[str, Any]]:
    """The rows of one target; an exception becomes an ERROR row."""
    rows, goal, measure = s.sizes[name], TARGETS[name][1], TARGETS[name][2]
    try:
        if name == "incremental":
            return _incremental.incremental(name, goal, s)
        return measure(name, rows, goal, s)
    except Exception as exc:  # one failed target must not hide the others
        traceback.print_exc()
        return [row(name, f"{name} ({rows_label(rows)} rows)", obskit=f"{type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:100] if str(exc) else ''}", peer="–",
                    ratio=None, ratio_text="–", goal="–", passed=None, commands=[],
                    raw={"error": traceback.format_exc()})]


def not_run(name: str, s: Settings) -> dict[str, Any]:
    again = f"python benchmarks/bench_targets.py --targets {name}"
    if s.sizes[name] != TARGETS[name][0]:
        again += f" --size {name}={s.sizes[name]}"
    return {"target": name, "label": f"{name} ({rows_label(s.sizes[name])} rows)",
            "obskit": "–", "peer": "–", "ratio": None, "ratio_text": "–", "goal": "–",
            "result": f"not run (opt-in: `make bench TARGETS={','.join(DEFAULT)},{name}` or "
                      f"`{again}`)", "commands": [], "note": None, "raw": {}}


def render(rows: list[dict[str, Any]], info: dict[str, Any], command: str) -> str:
    table = markdown_table(
        ["target", "obskit", "peer/reference", "ratio", "goal", "result"],
        [[f"**{r['target']}**: {r['label']}", r["obskit"], r["peer"], r["ratio_text"],
          r["goal"], r["result"]] for r in rows])
    md = ["# obskit speed targets (issue 17)", "", "```", f"command: {command}",
          machine_header(info), "```", "", table, "",
          "Each side in a fresh process, one after the other, in this one invocation. "
          "Times are wall seconds (CPU = user + system of the process tree from "
          "`/usr/bin/time -v`; the machine may be shared: compare CPU too).", "",
          "## Commands", ""]
    for r in rows:
        for c in r["commands"]:
            md.append(f"- {r['target']}: `{c}`")
    notes = [f"- {r['target']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        md += ["", "## Notes", "", *notes]
    return "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default=",".join(DEFAULT),
                   help=f"comma list of {', '.join(TARGETS)} (default: all but "
                        f"{', '.join(OPT_IN)})")
    p.add_argument("--huge", action="store_true", help="add the opt-in 100M target")
    p.add_argument("--size", type=_size, action="append", default=[], metavar="NAME=ROWS",
                   help="rows of a target (incremental: rows per day), e.g. report300k=3000")
    p.add_argument("--days", default="7,28", help="incremental: log lengths in days")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per report run")
    p.add_argument("--spark-timeout", type=float, default=1200.0,
                   help="seconds before the Spark run counts as MISSED (default 1200)")
    p.add_argument("--huge-reference-rows", type=parse_rows, default=1_000_000,
                   help="reference rows of the opt-in 100M run (default 1M)")
    p.add_argument("--huge-memory-limit", default="1GB",
                   help="DuckDB memory_limit in the 100M config ('none': DuckDB's default)")
    args = p.parse_args(argv)
    chosen = [t.strip() for t in args.targets.split(",") if t.strip()]
    if args.huge and "100M" not in chosen:
        chosen.append("100M")
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown:
        p.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    sizes = {name: spec[0] for name, spec in TARGETS.items()}
    sizes.update(dict(args.size))
    s = Settings(sizes=sizes, days=tuple(int(d) for d in args.days.split(",") if d.strip()),
                 day_rows=sizes["incremental"], timeout=args.timeout,
                 spark_timeout=args.spark_timeout, huge_reference_rows=args.huge_reference_rows,
                 huge_memory_limit=None if args.huge_memory_limit == "none"
                 else args.huge_memory_limit)
    command = "python benchmarks/bench_targets.py " + shlex.join(argv)
    info = machine()
    print(f"# obskit speed targets (issue 17)\ncommand: {command}\n{machine_header(info)}\n",
          flush=True)
    rows: list[dict[str, Any]] = []
    for name in TARGETS:
        if name not in chosen:
            if name in OPT_IN:
                rows.append(not_run(name, s))
            continue
        print(f"## {name}", flush=True)
        rows.extend(run_target(name, s))
    text = render(rows, info, command)
    print("\n" + text)
    path = write_results("targets", {"machine": info, "command": command, "targets": chosen,
                                     "settings": {**vars(s), "out": str(s.out)},
                                     "rows": rows}, text)
    print(f"\nresults: {path}")
    failed = [r for r in rows if r["result"] == "ERROR"]
    if failed:
        print("\nFAILED: " + "; ".join(f"{r['target']}: {r['obskit']}" for r in failed),
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
