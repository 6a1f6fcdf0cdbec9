"""The measurements behind ``bench_targets.py``: one function per target of issue 17.

Each returns table rows (dicts): the figure obskit reached, the peer's or the limit, their
ratio, the goal, PASS / MISSED, the commands run and the raw results. Every ``obskit
report`` runs as a user runs it (``python -m obskit report``, a fresh process under
``/usr/bin/time -v``, :func:`bench_report.run_report`); every peer in its own fresh process
(:mod:`bench_drift`'s children), one after the other.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_drift
import bench_report
from _common import DATA, RESULTS, rows_label

HERE = Path(__file__).resolve().parent
FEATURES, CATEGORICAL = 20, 6
BYTES_PER_ROW = 80  # the generated Parquet (zstd), to check the disk before 100M rows
GIB = 1024.0

ONE_WINDOW = """\
# one window over the whole log, no model (benchmarks/bench_targets.py)
title: "obskit benchmark: {label} rows x {features} features, one window, no model"
task: binary
sources:
  reference: reference/
  current: current/
window: 1y
"""


@dataclass
class Settings:
    """What the targets run on: sizes, incremental days, time limits, where to write."""

    sizes: dict[str, int]
    days: tuple[int, ...] = (7, 28)
    day_rows: int = 20_000
    timeout: float = 3600.0
    spark_timeout: float = 1200.0
    huge_reference_rows: int = 1_000_000
    huge_memory_limit: str | None = "1GB"
    out: Path = field(default_factory=lambda: RESULTS / "targets")


def row(target: str, label: str, *, obskit: str, peer: str, ratio: float | None,
        ratio_text: str, goal: str, passed: bool | None, commands: list[str],
        raw: dict[str, Any], note: str | None = None) -> dict[str, Any]:
    """One line of the table; ``passed`` None means the measurement failed (ERROR)."""
    return {"target": target, "label": label, "obskit": obskit, "peer": peer,
            "ratio": None if ratio is None else round(ratio, 3), "ratio_text": ratio_text,
            "goal": goal, "result": "ERROR" if passed is None else
            ("PASS" if passed else "MISSED"), "commands": commands, "note": note, "raw": raw}


def times(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×"


def _cmd(argv: list[str]) -> str:
    return " ".join(str(a) for a in argv).replace(sys.executable, "python")


def _child_cmd(tool: str, data: Path) -> str:
    return f"python benchmarks/bench_drift.py _child {tool} {data}"


def _error_text(res: dict[str, Any]) -> str:
    return str(res.get("error", "")).strip().splitlines()[-1][:120] if res.get("error") else ""


def _run(config: Path, out: Path, timeout: float, extra: tuple[str, ...] = (),
         fresh: bool = True) -> tuple[dict[str, Any], str]:
    argv = bench_report.report_command(config, out, extra)
    print(f"  $ {_cmd(argv)}", flush=True)
    res = bench_report.run_report(config, out, timeout=timeout, extra=extra, fresh=fresh)
    brief = (f"ERROR {_error_text(res)}" if "error" in res else
             f"wall {res['wall_s']:.1f} s, CPU {res.get('cpu_s')} s, max RSS "
             f"{res.get('max_rss_mib')} MiB, windows {res.get('windows')}")
    print(f"    {brief}", flush=True)
    return res, _cmd(argv)


# --------------------------------------------------------------------------- targets


def whole_report(name: str, rows: int, goal: float, s: Settings, *,
                 features: int = FEATURES) -> list[dict[str, Any]]:
    """``obskit report`` end to end (one window, no model) vs Evidently's drift compute."""
    data = bench_drift.ensure_data(rows, features, CATEGORICAL)
    config = data / "one-window.yml"
    config.write_text(ONE_WINDOW.format(label=rows_label(rows), features=features),
                      encoding="utf-8")
    ours, cmd = _run(config, s.out / name, s.timeout)
    print(f"  $ {_child_cmd('evidently', data)}", flush=True)
    peer = bench_drift.run_json_child([bench_drift.__file__, "_child", "evidently", str(data)],
                                      timeout=s.timeout)
    print(f"    Evidently drift {peer.get('drift_s')} s {_error_text(peer)}", flush=True)
    label = f"whole `obskit report` vs Evidently drift, {rows_label(rows)} × {features}"
    raw = {"obskit": ours, "evidently": peer, "data": str(data)}
    cmds = [cmd, _child_cmd("evidently", data)]
    if "error" in ours or "error" in peer:
        return [row(name, label, obskit=_error_text(ours) or f"{ours['wall_s']:.2f} s",
                    peer=_error_text(peer) or f"Evidently {peer['drift_s']:.2f} s",
                    ratio=None, ratio_text="–", goal=f"≥ {goal:g}×", passed=None,
                    commands=cmds, raw=raw)]
    ratio = peer["drift_s"] / ours["wall_s"]
    note = "" if ours.get("windows") == 1 else f"{ours.get('windows')} windows, not one; "
    if ours.get("cpu_s") and peer.get("drift_cpu_s"):
        note += (f"CPU seconds: obskit {ours['cpu_s']:.1f} (process tree), Evidently "
                 f"{peer['drift_cpu_s']:.1f}: {times(peer['drift_cpu_s'] / ours['cpu_s'])}")
    return [row(name, label, obskit=f"{ours['wall_s']:.2f} s (CPU {ours.get('cpu_s')} s)",
                peer=f"Evidently {peer['drift_s']:.2f} s", ratio=ratio, ratio_text=times(ratio),
                goal=f"≥ {goal:g}×", passed=ratio >= goal, commands=cmds, raw=raw,
                note=note or None)]


def drift_with_load(name: str, rows: int, goal: float, s: Settings) -> list[dict[str, Any]]:
    """``bench_drift``'s obskit and Evidently children: load + drift, values equal."""
    res = bench_drift.run_size(rows, FEATURES, CATEGORICAL, ["evidently"], s.timeout, {})
    data = Path(res["data"])
    ours, peer = res["tools"].get("obskit", {}), res["tools"].get("evidently", {})
    check = (res.get("checks") or {}).get("evidently")
    label = f"drift incl. load vs Evidently, {rows_label(rows)} × {FEATURES}, values equal"
    cmds = [_child_cmd("obskit", data), _child_cmd("evidently", data)]
    if "error" in ours or "error" in peer or check is None:
        return [row(name, label, obskit=_error_text(ours) or "–", peer=_error_text(peer) or "–",
                    ratio=None, ratio_text="–", goal=f"≥ {goal:g}×, equal", passed=None,
                    commands=cmds, raw=res)]
    a, b = ours["load_s"] + ours["drift_s"], peer["load_s"] + peer["drift_s"]
    ratio = b / a
    equal = not check["problems"]
    return [row(name, label, obskit=f"{a:.2f} s (load {ours['load_s']:.2f} + drift "
                f"{ours['drift_s']:.2f})", peer=f"Evidently {b:.2f} s (load "
                f"{peer['load_s']:.2f} + drift {peer['drift_s']:.2f})", ratio=ratio,
                ratio_text=times(ratio), goal=f"≥ {goal:g}×, equal",
                passed=None if not equal else ratio >= goal, commands=cmds, raw=res,
                note=(f"{check['compared']} features equal (largest relative difference "
                      f"{check['max_rel_diff']:.1e})" if equal else
                      "VALUES DIFFER: " + "; ".join(check["problems"])))]


def demo_report(name: str, rows: int, limit: float, s: Settings) -> list[dict[str, Any]]:
    """The demo-style full report (daily windows, model) under ``limit`` seconds."""
    config, how = bench_report.prepare("synthetic", rows, reference_rows=None,
                                       memory_limit=None)
    ours, cmd = _run(config, s.out / name, s.timeout)
    label = f"full report (daily windows, model, SHAP/LIME), {rows_label(rows)} rows"
    raw = {"obskit": ours, "data": how}
    if "error" in ours:
        return [row(name, label, obskit=_error_text(ours), peer=f"limit {limit:g} s",
                    ratio=None, ratio_text="–", goal=f"< {limit:g} s", passed=None,
                    commands=[cmd], raw=raw)]
    ratio = ours["wall_s"] / limit
    return [row(name, label, obskit=f"{ours['wall_s']:.2f} s (CPU {ours.get('cpu_s')} s)",
                peer=f"limit {limit:g} s", ratio=ratio, ratio_text=f"{ratio:.2f}× limit",
                goal=f"< {limit:g} s", passed=ours["wall_s"] < limit, commands=[cmd], raw=raw)]


def spark_report(name: str, rows: int, goal: float, s: Settings) -> list[dict[str, Any]]:
    """``obskit report --engine spark`` on the built-in demo, no Spark settings, vs DuckDB."""
    config, how = bench_report.prepare("demo", rows, reference_rows=None, memory_limit=None)
    text = config.read_text(encoding="utf-8")
    if "\nspark:" in "\n" + text or "\nengine:" in "\n" + text:
        raise RuntimeError(f"{config} has Spark or engine settings: not the user's run")
    duck, cmd_duck = _run(config, s.out / f"{name}-duckdb", s.timeout)
    spark, cmd_spark = _run(config, s.out / f"{name}-spark", s.spark_timeout,
                            extra=("--engine", "spark"))
    label = f"`--engine spark` vs DuckDB, demo {rows_label(rows)} rows, no Spark settings"
    raw = {"duckdb": duck, "spark": spark, "data": how}
    cmds = [cmd_duck, cmd_spark]
    if "error" in duck or ("error" in spark and not spark.get("timed_out")):
        return [row(name, label, obskit=_error_text(spark) or f"Spark {spark['wall_s']:.1f} s",
                    peer=_error_text(duck) or f"DuckDB {duck['wall_s']:.1f} s", ratio=None,
                    ratio_text="–", goal=f"≤ {goal:g}× DuckDB", passed=None, commands=cmds,
                    raw=raw)]
    if spark.get("timed_out"):
        ratio = s.spark_timeout / duck["wall_s"]
        return [row(name, label, obskit=f"Spark timed out after {s.spark_timeout:.0f} s",
                    peer=f"DuckDB {duck['wall_s']:.1f} s", ratio=ratio,
                    ratio_text=f"> {times(ratio)}", goal=f"≤ {goal:g}× DuckDB",
                    passed=False, commands=cmds, raw=raw)]
    ratio = spark["wall_s"] / duck["wall_s"]
    return [row(name, label, obskit=f"Spark {spark['wall_s']:.1f} s",
                peer=f"DuckDB {duck['wall_s']:.1f} s", ratio=ratio, ratio_text=times(ratio),
                goal=f"≤ {goal:g}× DuckDB", passed=ratio <= goal, commands=cmds, raw=raw)]


def huge_report(name: str, rows: int, limit_gib: float, s: Settings) -> list[dict[str, Any]]:
    """The whole report on ``rows`` rows (engine-generated) with its peak RSS recorded."""
    need = (rows + s.huge_reference_rows) * BYTES_PER_ROW
    DATA.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(DATA).free
    label = f"whole report, {rows_label(rows)} rows: peak RSS (`/usr/bin/time -v`)"
    goal = f"< {limit_gib:g} GiB"
    if free < 1.2 * need:
        raise RuntimeError(f"{free / 2**30:.0f} GiB free under {DATA}, the data needs about "
                           f"{need / 2**30:.0f} GiB")
    config, how = bench_report.prepare("synthetic", rows, reference_rows=s.huge_reference_rows,
                                       memory_limit=s.huge_memory_limit)
    ours, cmd = _run(config, s.out / name, s.timeout)
    raw = {"obskit": ours, "data": how}
    if "error" in ours or "max_rss_mib" not in ours:
        return [row(name, label, obskit=_error_text(ours) or "no /usr/bin/time -v",
                    peer=f"limit {limit_gib * GIB:,.0f} MiB", ratio=None, ratio_text="–",
                    goal=goal, passed=None, commands=[cmd], raw=raw)]
    rss = ours["max_rss_mib"]
    ratio = rss / (limit_gib * GIB)
    return [row(name, label, obskit=f"{rss:,.0f} MiB (wall {ours['wall_s']:,.0f} s)",
                peer=f"limit {limit_gib * GIB:,.0f} MiB", ratio=ratio,
                ratio_text=f"{ratio:.2f}× limit", goal=goal, passed=ratio < 1.0,
                commands=[cmd], raw=raw,
                note=f"reference {rows_label(s.huge_reference_rows)} rows, DuckDB "
                     f"memory_limit {s.huge_memory_limit or 'default'}; CPU "
                     f"{ours.get('cpu_s')} s" + (f"; data generated by the engine in "
                                                 f"{how['generate_s']:,.0f} s"
                                                 if how.get("generate_s") else ""))]
