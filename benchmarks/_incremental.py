"""Incremental daily runs: a log of D days reported once (cold), then one more day's file
added and the report run again into the same ``--out`` (warm), for two values of D.

The log is written by the engine (:mod:`generate_engine`) one file a day
(``current/day-0000.parquet`` …), 7 reference days before it, with ``generate.py``'s
schema, drift, model and config (daily windows). Day ``d`` holds rows ``d × R … (d + 1) ×
R - 1`` of the same endless log, so the added day continues the data. Each invocation
resets the log to D days first (a later day's file is removed), and the cold run starts
from an empty ``--out`` (no reference or window cache).

The target: the warm run's time does not grow with D (``warm(D_max) / warm(D_min) ≤
1.3``) and is below the cold run's. When ``summary.json`` reports ``window_cache`` (hits
and misses of the per-window result cache), the rows say so; else "no window cache".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from _common import DATA, rows_label
from _targets import CATEGORICAL, FEATURES, Settings, _run, row, times

FORMAT = 1


def _day_path(root: Path, day: int) -> Path:
    return root / "current" / f"day-{day:04d}.parquet"


class DailyLog:
    """Daily logs of ``day_rows`` rows a day: reference, day files, model and config."""

    def __init__(self, day_rows: int, seed: int = 0) -> None:
        from generate import feature_names, fit_model

        self.day_rows, self.seed = day_rows, seed
        self.numeric, self.categorical = feature_names(FEATURES, CATEGORICAL)
        self.model = fit_model(self.numeric, self.categorical, seed)  # ~1 s, deterministic

    def prepare(self, root: Path, days: int) -> Path:
        """Exactly ``days`` day files under ``root`` (missing ones written, later ones
        removed); the config's path."""
        import generate_engine as ge
        import skops.io as sio
        from generate import CONFIG, REFERENCE_DAYS, START, US_PER_DAY

        stamp = {"format": FORMAT, "day_rows": self.day_rows, "seed": self.seed,
                 "features": FEATURES, "categorical": CATEGORICAL}
        meta = root / "meta.json"
        if meta.exists() and json.loads(meta.read_text()) != stamp:
            shutil.rmtree(root)
        if not meta.exists():
            root.mkdir(parents=True, exist_ok=True)
            sio.dump(self.model, root / "model.skops")
            start = START.value // 1000
            ge.write_log(root / "reference", REFERENCE_DAYS * self.day_rows,
                         days=REFERENCE_DAYS, t_start=start - REFERENCE_DAYS * US_PER_DAY,
                         prefix="ref-", seed=self.seed, numeric=self.numeric,
                         categorical=self.categorical, model=self.model, drifted=False,
                         chunk_rows=1_000_000, file_rows=10_000_000, us_per_day=US_PER_DAY)
            (root / "config.yml").write_text(CONFIG.format(
                rows=f"{self.day_rows}/day", label=f"{rows_label(self.day_rows)}/day",
                features=FEATURES, duckdb=""), encoding="utf-8")
            meta.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
        (root / "current").mkdir(exist_ok=True)
        for path in (root / "current").glob("day-*.parquet"):
            if int(path.stem.split("-")[1]) >= days:
                path.unlink()
        for day in range(days):
            if not _day_path(root, day).exists():
                self.add_day(root, day)
        return root / "config.yml"

    def add_day(self, root: Path, day: int) -> None:
        """Write day ``day``'s file under ``root`` (rows continue the log), atomically."""
        import generate_engine as ge
        from generate import START, US_PER_DAY

        target = _day_path(root, day)
        partial = root / f".day-{day:04d}.parquet"
        con = ge.connect()
        ge.write_rows(con, partial, day * self.day_rows, (day + 1) * self.day_rows,
                      chunk_rows=self.day_rows, t_start=START.value // 1000,
                      step_us=US_PER_DAY / self.day_rows, prefix="req-", side=1,
                      seed=self.seed, numeric=self.numeric, categorical=self.categorical,
                      model=self.model, drifted=True)
        con.close()
        partial.replace(target)


def _cache_text(res: dict[str, Any]) -> str:
    cache = res.get("window_cache")
    if cache is None:
        return "no window cache"
    if isinstance(cache, dict) and {"hits", "misses"} <= set(cache):
        return f"window cache {cache['hits']} hits, {cache['misses']} misses"
    return f"window cache {json.dumps(cache)}"


def incremental(name: str, ratio_goal: float, s: Settings) -> list[dict[str, Any]]:
    """Cold and warm (+1 day) runs for each D in ``s.days``; rows per D and the summary."""
    runs: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    log: DailyLog | None = None
    for days in s.days:
        root = DATA / f"daily-{rows_label(s.day_rows)}x{days}"
        log = log or DailyLog(s.day_rows)
        config = log.prepare(root, days)
        out = s.out / f"{name}-{days}d"
        print(f"  D = {days} days of {s.day_rows:,} rows: cold", flush=True)
        cold, cmd = _run(config, out, s.timeout, fresh=True)
        log.add_day(root, days)
        print(f"  D = {days}: warm, + day {days + 1}, same --out", flush=True)
        warm, _ = _run(config, out, s.timeout, fresh=False)
        runs[days] = {"cold": cold, "warm": warm}
        cmds = [f"{cmd}  (cold: empty --out, {days} days)",
                f"{cmd}  (warm: + day {days + 1}, same --out)"]
        label = f"incremental, D = {days} days × {rows_label(s.day_rows)} rows: warm (+1 day)"
        raw = runs[days]
        if "error" in cold or "error" in warm:
            err = (cold.get("error") or warm.get("error") or "").strip().splitlines()[-1:]
            rows.append(row(name, label, obskit=" ".join(err)[:120], peer="–", ratio=None,
                            ratio_text="–", goal="warm < cold", passed=None, commands=cmds,
                            raw=raw))
            continue
        ratio = warm["wall_s"] / cold["wall_s"]
        rows.append(row(name, label, obskit=f"warm {warm['wall_s']:.2f} s (CPU "
                        f"{warm.get('cpu_s')} s)", peer=f"cold {cold['wall_s']:.2f} s (CPU "
                        f"{cold.get('cpu_s')} s)", ratio=ratio,
                        ratio_text=f"{ratio:.2f}× cold", goal="warm < cold",
                        passed=warm["wall_s"] < cold["wall_s"], commands=cmds, raw=raw,
                        note=f"cold: {_cache_text(cold)}; warm: {_cache_text(warm)}"))
    ok = {d: r for d, r in runs.items() if "error" not in r["cold"] and "error" not in r["warm"]}
    if len(s.days) >= 2:
        lo, hi = min(s.days), max(s.days)
        label = f"incremental: warm({hi} days) / warm({lo} days)"
        if lo in ok and hi in ok:
            a, b = ok[hi]["warm"]["wall_s"], ok[lo]["warm"]["wall_s"]
            ratio = a / b
            faster = all(r["warm"]["wall_s"] < r["cold"]["wall_s"] for r in ok.values())
            rows.append(row(name, label, obskit=f"warm({hi}) {a:.2f} s",
                            peer=f"warm({lo}) {b:.2f} s", ratio=ratio, ratio_text=times(ratio),
                            goal=f"≤ {ratio_goal:g}× and warm < cold",
                            passed=ratio <= ratio_goal and faster, commands=[], raw={}))
        else:
            rows.append(row(name, label, obskit="–", peer="–", ratio=None, ratio_text="–",
                            goal=f"≤ {ratio_goal:g}× and warm < cold", passed=None,
                            commands=[], raw={}))
    return rows
