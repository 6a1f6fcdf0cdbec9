"""``obskit probe URL --golden FILE``: the health-probe command (README, "Serve and
instrument").

Exit codes follow the CLI's: 0 every request passed, 1 a check failed (like "alerts
fired": the service is up to the probe, the answers are not), 2 bad input (golden file,
URL or flags).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from obskit._format import fmt_num
from obskit.exceptions import ConfigError
from obskit.instrument.probe import (
    ProbeResult,
    append_results,
    predict_url,
    probe_round,
    read_golden,
)

__all__ = ["add_parser", "run", "parse_interval", "format_table", "EXIT_PASSED",
           "EXIT_FAILED"]

#: exit codes (the CLI's 0 ok and 1 "checks failed", like alerts fired)
EXIT_PASSED, EXIT_FAILED = 0, 1
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """``"30s"`` → 30.0 seconds; units ms, s, m/min, h (a bare number is seconds).

    Raises
    ------
    argparse.ArgumentTypeError
        When ``text`` is not a positive duration.

    Examples
    --------
    >>> parse_interval("2m"), parse_interval("1.5")
    (120.0, 1.5)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(ms|s|min|m|h)?\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 30s, 5m or 1h, "
                                         f"got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _timeout(text: str) -> float:
    value = _positive(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number of seconds > 0, got 0")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``probe`` subcommand to ``subparsers`` (dispatch with :func:`run`)."""
    p = subparsers.add_parser(
        "probe", help="send golden requests to a live /predict and check the answers",
        description="POST each golden request to URL's /predict; check HTTP 200, latency "
                    "within the budget, the prediction and the score. Exit 0 all passed, "
                    "1 a check failed, 2 bad golden file or flags.")
    p.add_argument("url", metavar="URL", help="the service (http://127.0.0.1:8000) or its "
                                              "/predict URL; /predict is appended to a "
                                              "path that does not end with it")
    p.add_argument("--golden", required=True, metavar="FILE",
                   help='JSON lines {"features": {...}, "prediction": ..., "score": ...} '
                        "(score optional), e.g. the demo's golden.jsonl")
    p.add_argument("--tolerance", type=_positive, default=1e-6,
                   help="largest accepted |score - expected| (default 1e-6)")
    p.add_argument("--budget-ms", type=_positive, default=500.0,
                   help="largest accepted latency in ms (default 500)")
    p.add_argument("--timeout-s", type=_timeout, default=5.0,
                   help="give up on a request after this many seconds (default 5)")
    p.add_argument("--results", metavar="FILE",
                   help="append one JSON line per request and round (what a report's "
                        "sources.probes reads)")
    p.add_argument("--every", type=parse_interval, metavar="INTERVAL",
                   help="probe again every INTERVAL (e.g. 30s, 5m) until Ctrl-C")
    p.add_argument("--count", type=_count, metavar="N",
                   help="stop after N rounds (default 1, or unbounded with --every)")
    return p


def _expected(r: ProbeResult) -> str:
    g = r.golden
    return json.dumps(g.prediction) + ("" if g.score is None else f" ({g.score:.6f})")


def _got(r: ProbeResult) -> str:
    if r.status is None:
        return "-"
    score = r.score if isinstance(r.score, (int, float)) and not isinstance(r.score, bool) \
        else None
    return json.dumps(r.prediction) + ("" if score is None else f" ({score:.6f})")


def format_table(results: Sequence[ProbeResult]) -> str:
    """A plain-text table: request, status, latency, expected, got, verdict, reason."""
    head = ("request", "status", "latency", "expected", "got", "verdict", "reason")
    rows = [(str(r.golden.line), "-" if r.status is None else str(r.status),
             "-" if r.latency_ms is None else f"{fmt_num(r.latency_ms)} ms",
             _expected(r), _got(r), "pass" if r.passed else "FAIL", r.reason or "")
            for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (head, *rows)]
    return "\n".join(lines)


def _features_summary(features: dict[str, Any], limit: int = 100) -> str:
    text = ", ".join(f"{k}={json.dumps(v)}" for k, v in features.items())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _report_round(url: str, results: Sequence[ProbeResult], round_no: int) -> None:
    passed = sum(r.passed for r in results)
    print(f"probe round {round_no}: POST {url} ({passed} of {len(results)} passed)")
    print(format_table(results))
    for r in results:
        if not r.passed:
            print(f"request {r.golden.line}: {r.reason} [features: "
                  f"{_features_summary(r.golden.features)}]")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    """Probe, print a table per round, append results; returns the exit code.

    Raises
    ------
    InputError
        A bad golden file (the CLI exits 2).
    ConfigError
        A bad URL (the CLI exits 2).
    """
    url = predict_url(args.url)
    golden = read_golden(args.golden)
    rounds = args.count if args.count is not None else (None if args.every else 1)
    sent = failed = done = 0
    try:
        while rounds is None or done < rounds:
            started = time.monotonic()
            results = probe_round(url, golden, tolerance=args.tolerance,
                                  budget_ms=args.budget_ms, timeout_s=args.timeout_s)
            done += 1
            sent += len(results)
            failed += sum(not r.passed for r in results)
            if args.results:
                try:
                    append_results(args.results, url, results)
                except OSError as exc:
                    raise ConfigError(f"{args.results}: cannot append the probe results: "
                                      f"{exc.strerror or exc}", key="results") from exc
            _report_round(url, results, done)
            if rounds is not None and done >= rounds:
                break
            time.sleep(max(0.0, (args.every or 0.0) - (time.monotonic() - started)))
    except KeyboardInterrupt:
        print("probe: stopped")
    if done != 1:
        print(f"probe: {done} rounds, {sent - failed} of {sent} requests passed")
    return EXIT_FAILED if failed else EXIT_PASSED
