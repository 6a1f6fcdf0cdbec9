"""The ``obskit`` command line. Exit codes: 0 ok, 1 alerts fired with --fail-on-alert
(``obskit probe``: a check failed), 2 bad input or configuration, 3 a notebook failed,
4 an internal error (a bug in obskit)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from obskit._text import plural
from obskit.config.flags import add_report_flags, overrides_from_flags
from obskit.exceptions import (
    EXIT_ALERT,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NOTEBOOK,
    EXIT_OK,
    ConfigError,
    InputError,
    NotebookError,
    ObskitError,
)

__all__ = ["main", "EXIT_OK", "EXIT_ALERT", "EXIT_INPUT", "EXIT_NOTEBOOK", "EXIT_INTERNAL"]

#: set to 1 to see the traceback of an internal error
DEBUG_ENV = "OBSKIT_DEBUG"
#: ``obskit --help``: plain text (the module docstring is reST)
DESCRIPTION = ("Monitor a model from its prediction logs. Exit codes: 0 ok, 1 alerts fired "
               "with --fail-on-alert (probe: a check failed), 2 bad input or configuration, "
               "3 a notebook failed, "
               "4 an internal error (a bug: OBSKIT_DEBUG=1 shows its traceback).")


def _cmd_report(args: argparse.Namespace) -> int:
    from obskit.config import load_config
    from obskit.runner import run_report

    config = load_config(args.config, overrides=overrides_from_flags(args))
    outcome = run_report(config, config_path=args.config)
    alerts = outcome.run.alerts
    # "ok" with nothing judged is no all-clear: say so where the status is read
    unjudged = any(f.kind == "nothing_judged" for f in outcome.run.findings)
    print(f"status: {outcome.status} ({plural(len(alerts), 'alert')}"
          + ("; no window had enough rows to be judged" if unjudged else "") + ")")
    print(f"report: {outcome.html}")
    for decision in outcome.remediation:
        print(decision["line"])
    timings = outcome.timings
    if timings:
        print("timings: " + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s"
                                      for k, v in timings.items()))
    if alerts and config.fail_on_alert:
        return EXIT_ALERT
    return EXIT_OK


#: deep-dive command → (notebook, run folder prefix)
DEEP_DIVES = {"deep-dive": ("drift_deep_dive.ipynb", "drift"),
              "investigate": ("anomaly_investigation.ipynb", "investigate")}


def _cmd_deep_dive(args: argparse.Namespace) -> int:
    """``obskit deep-dive`` / ``obskit investigate``: run a parameterised deep-dive notebook
    into ``<out>/<name>-<time>/index.html`` (default out: ``<config out>/deep-dives``)."""
    from obskit.config import load_config
    from obskit.runner import run_notebook

    overrides = overrides_from_flags(args)
    config = load_config(args.config, overrides=overrides)
    summary = str(Path(args.summary).resolve()) if args.summary else None
    if summary and not Path(summary).is_file():
        raise InputError(f"{args.summary}: summary file not found (flag --summary)",
                         path=args.summary)
    notebook, prefix = DEEP_DIVES[args.command]
    params: dict[str, Any] = {
        "config_path": str(Path(args.config).resolve()) if args.config else None,
        "overrides": overrides, "summary_path": summary}
    if args.command == "deep-dive":
        params["feature"] = args.feature
        subject = args.feature or "top-feature"
        title = f"{config.title}: drift of {args.feature or 'the most drifted feature'}"
    else:
        params.update(window_start=args.window_start, request_id=args.request_id)
        subject = args.request_id or args.window_start or "top-request"
        title = (f"{config.title}: request {args.request_id}" if args.request_id else
                 f"{config.title}: window {args.window_start}" if args.window_start else
                 f"{config.title}: the most anomalous request")
    out = Path(args.out).resolve() if args.out else Path(config.out) / "deep-dives"
    run_dir = run_notebook(config, notebook, parameters=params, out=out,
                           name=f"{prefix}-{subject}", title=title)
    print(f"report: {run_dir / 'index.html'}")
    return EXIT_OK


def _add_deep_dive_parsers(sub: Any) -> None:
    for name, text in (("deep-dive", "study one feature's drift over windows and segments "
                                     "(drift_deep_dive.ipynb) as an HTML page"),
                       ("investigate", "investigate one window or one request "
                                       "(anomaly_investigation.ipynb) as an HTML page")):
        p = sub.add_parser(name, help=text)
        add_report_flags(p)
        p.add_argument("--summary", help="a run's summary.json: reuse its results instead of "
                                         "analysing the logs again")
        if name == "deep-dive":
            p.add_argument("--feature", help="the feature (default: the most drifted)")
        else:
            which = p.add_mutually_exclusive_group()
            which.add_argument("--window-start", metavar="TIME",
                               help="the window starting at (or containing) this UTC "
                                    "date/time, e.g. 2026-11-09")
            which.add_argument("--request-id", metavar="ID",
                               help="one request (default: the most anomalous one)")


def _cmd_demo(args: argparse.Namespace) -> int:
    from obskit.demo import generate_demo

    try:
        files = generate_demo(args.out, rows=args.rows, seed=args.seed)
    except ValueError as exc:
        raise ConfigError(str(exc), key="rows") from exc
    print(f"demo data: {files.root}")
    print(f"config: {files.config}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="obskit", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    add_report_flags(sub.add_parser(
        "report", help="analyse prediction logs and publish an HTML report"))
    _add_deep_dive_parsers(sub)
    d = sub.add_parser("demo", help="write the built-in demo scenario (logs, labels, config)")
    d.add_argument("--out", default="demo-data", help="folder to write (default demo-data)")
    d.add_argument("--rows", type=int, default=200_000,
                   help="production log rows (default 200000)")
    d.add_argument("--seed", type=int, default=7,
                   help="random seed: the same seed writes the same data (default 7)")
    from obskit.instrument import probe_cli
    from obskit.runner import backfill, schedule
    from obskit.sinks import dashboard, export_cli, exporter, rules

    schedule.add_parser(sub)  # schedule and run-due
    backfill.add_parser(sub)
    exporter.add_parser(sub)
    dashboard.add_parser(sub)
    rules.add_parser(sub)
    export_cli.add_parser(sub)
    probe_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # sqlglot warns, on every report, that EXTRACT from a TIMESTAMPTZ "may produce
    # different results" when Snowflake SQL is transpiled to DuckDB (server vs session time
    # zone); obskit writes DuckDB SQL for a session in UTC (io.engine): not a user's concern
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    from obskit.instrument import probe_cli
    from obskit.runner import backfill, schedule
    from obskit.sinks import dashboard, export_cli, exporter, rules

    handler = {"report": _cmd_report, "deep-dive": _cmd_deep_dive,
               "investigate": _cmd_deep_dive, "demo": _cmd_demo, "schedule": schedule.run,
               "run-due": schedule.run, "backfill": backfill.run,
               "exporter": exporter.run, "probe": probe_cli.run, "dashboard": dashboard.run,
               "alert-rules": rules.run, "export": export_cli.run}[args.command]
    try:
        return handler(args)
    except NotebookError as exc:
        print(f"obskit: report failed: {exc}\nexecuted notebook kept at {exc.notebook}",
              file=sys.stderr)
        return EXIT_NOTEBOOK
    except ObskitError as exc:  # bad input or configuration (ConfigError, InputError, ...)
        print(f"obskit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - a bug: never exit 1, which means "alerts"
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        print(f"obskit: internal error: {type(exc).__name__}: {exc}\n"
              f"This is a bug in obskit, not in your input; please report it with the "
              f"traceback ({DEBUG_ENV}=1 shows it).", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
