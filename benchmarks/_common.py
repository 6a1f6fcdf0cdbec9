"""What the benchmark scripts share: the machine header, timers, peak memory, tables."""

from __future__ import annotations

import os

# The peers phone home unless told not to; set before anything imports them.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: generated logs and results (git-ignored); the environment can move them (tests do)
DATA = Path(os.environ.get("OBSKIT_BENCH_DATA") or HERE / "data")
RESULTS = Path(os.environ.get("OBSKIT_BENCH_RESULTS") or HERE / "results")

PACKAGES = ("obskit", "duckdb", "ibis-framework", "pandas", "numpy", "pyarrow", "scipy",
            "scikit-learn", "shap", "evidently", "nannyml")


def parse_rows(text: str) -> int:
    """``100k`` / ``1M`` / ``10m`` / ``2500`` → rows."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*", text)
    if not m:
        raise ValueError(f"not a row count: {text!r} (e.g. 100k, 1M, 10M)")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def rows_label(n: int) -> str:
    for unit, size in (("M", 10**6), ("k", 10**3)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python and the versions of the packages measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "packages": versions,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def machine_header(info: dict[str, Any]) -> str:
    pk = ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v)
    load = info.get("load_average")
    load_text = f"; load average at start {load[0]:.1f}" if load else ""
    return (f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB RAM, "
            f"{info['os']}, Python {info['python']}{load_text}\n"
            f"packages: {pk}\ndate: {info['date']}")


@contextmanager
def timer(out: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        out[key] = round(time.perf_counter() - start, 3)


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured child process: the obskit it imports is the one on
    ``PYTHONPATH`` when that is set, else this checkout's.

    Python puts the working directory first on ``sys.path`` for ``python -m`` (and the
    script's directory for a script), ahead of ``PYTHONPATH``: a child started in a
    checkout imported that checkout's obskit even when ``PYTHONPATH`` named an older one,
    so a side-by-side run compared a commit with itself. ``PYTHONSAFEPATH=1`` (Python
    3.11's ``-P``) stops that; this checkout and ``benchmarks/`` are then appended to
    ``PYTHONPATH`` explicitly.

    Parameters
    ----------
    extra : dict of str to str, optional
        Variables set on top.

    Returns
    -------
    dict of str to str
        ``os.environ`` with ``PYTHONSAFEPATH``, ``PYTHONPATH`` and ``extra``.
    """
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONSAFEPATH": "1",
            "PYTHONPATH": os.pathsep.join([*path, str(ROOT), str(HERE)]), **(extra or {})}


def run_json_child(argv: Sequence[str], *, timeout: float | None = None,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python argv...`` whose last stdout line is a JSON object; return it.

    Each measurement runs in its own process so that one tool's imports, caches and peak
    memory never count against another's; its obskit is chosen by :func:`child_env`.
    """
    cmd = [sys.executable, *argv]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=child_env(env), cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def write_results(name: str, payload: dict[str, Any], markdown: str) -> Path:
    """``results/<name>-<timestamp>.json`` and ``results/<name>-latest.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    (RESULTS / f"{name}-latest.md").write_text(markdown + "\n", encoding="utf-8")
    return path
