"""The ``obskit`` command line. Exit codes: 0 ok, 1 alerts fired with --fail-on-alert,
2 bad input or configuration, 3 a notebook failed, 4 an internal error (a bug in obskit)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from obskit._text import plural
from obskit.exceptions import ConfigError, InputError, NotebookError, ObskitError
from obskit.schema import ROLES

__all__ = ["main", "EXIT_OK", "EXIT_ALERT", "EXIT_INPUT", "EXIT_NOTEBOOK", "EXIT_INTERNAL"]

EXIT_OK, EXIT_ALERT, EXIT_INPUT, EXIT_NOTEBOOK, EXIT_INTERNAL = 0, 1, 2, 3, 4
#: set to 1 to see the traceback of an internal error
DEBUG_ENV = "OBSKIT_DEBUG"
#: ``obskit --help``: plain text (the module docstring is reST)
DESCRIPTION = ("Monitor a model from its prediction logs. Exit codes: 0 ok, 1 alerts fired "
               "with --fail-on-alert, 2 bad input or configuration, 3 a notebook failed, "
               "4 an internal error (a bug: OBSKIT_DEBUG=1 shows its traceback).")


def _column(text: str) -> tuple[str, str]:
    role, sep, name = text.partition("=")
    if not sep or not role or not name:
        raise argparse.ArgumentTypeError(f"expected ROLE=NAME, got {text!r}")
    return role.strip(), name.strip()


def add_report_flags(p: argparse.ArgumentParser) -> None:
    """The flags of ``obskit report`` (shared with ``obskit backfill``)."""
    p.add_argument("--config", help="YAML config file (every flag below has a key there)")
    p.add_argument("--reference", help="reference logs: file, glob or directory "
                                       "(config: sources.reference)")
    p.add_argument("--current", help="production logs: file, glob or directory "
                                     "(config: sources.current)")
    p.add_argument("--labels", help="late labels joined on request_id (config: sources.labels)")
    p.add_argument("--task", choices=("binary", "multiclass", "regression"),
                   help="config: task (default: inferred)")
    p.add_argument("--window", help="a period: N followed by min or m (minutes), h (hours), "
                                    "d (days), w (weeks, from Monday), mo (calendar months) "
                                    "or y (calendar years), e.g. '30min', '1d', '30d', '1mo'; "
                                    "or a row count, e.g. '5000 rows' (config: window)")
    p.add_argument("--column", action="append", type=_column, default=[], metavar="ROLE=NAME",
                   help="map a role onto a log column, repeatable; roles: "
                        f"{', '.join(ROLES)} (config: columns.ROLE)")
    p.add_argument("--engine", choices=("duckdb", "spark"),
                   help="config: engine (default duckdb)")
    p.add_argument("--spark-master", metavar="URL",
                   help="Spark master with --engine spark, e.g. 'local[*]' or "
                        "'spark://host:7077' (config: spark.master)")
    p.add_argument("--model", help="model file: .skops (safe) or pickle/joblib "
                                   "(config: model.path)")
    p.add_argument("--trust-type", action="append", default=[], metavar="TYPE",
                   help="a type to trust when loading a .skops model, repeatable, e.g. "
                        "sklearn.tree._tree.Tree (config: model.trusted_types)")
    p.add_argument("--trust-model", action="store_true", default=None,
                   help="allow loading a pickle/joblib model, which runs code from the file "
                        "(config: model.trust)")
    p.add_argument("--positive-label", metavar="CLASS",
                   help="binary: the positive class, e.g. 'yes' (config: positive_label; "
                        "default 1)")
    p.add_argument("--segment", action="append", default=[], metavar="COLUMN",
                   help="a column whose values split the logs into segments, repeatable "
                        "(config: segments)")
    p.add_argument("--min-segment-rows", type=int, help="config: min_segment_rows")
    p.add_argument("--title", help="report title (config: title)")
    p.add_argument("--min-window-rows", type=int, help="config: min_window_rows")
    p.add_argument("--out", help="reports folder; each run gets a sub-folder (config: out)")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--reference-cache", metavar="DIR",
                       help="keep fitted reference statistics in DIR (default "
                            "<out>/.cache/reference; config: reference_cache)")
    cache.add_argument("--no-reference-cache", dest="reference_cache", action="store_false",
                       help="fit on the reference afresh every run "
                            "(config: reference_cache: false)")
    p.add_argument("--dry-run", action="store_true", default=None,
                   help="alert sinks and rule actions say what they would do, and do nothing "
                        "(config: dry_run)")
    p.add_argument("--fail-on-alert", action="store_true", default=None,
                   help="exit 1 when an alert fires (config: fail_on_alert)")


def overrides_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    cwd = Path.cwd()
    out: dict[str, Any] = {}
    sources = {k: str(cwd / v) for k in ("reference", "current", "labels")
               if (v := getattr(args, k))}
    if sources:
        out["sources"] = sources
    if args.column:
        out["columns"] = dict(args.column)
    if getattr(args, "segment", None):
        out["segments"] = list(args.segment)
    if getattr(args, "spark_master", None):
        out["spark"] = {"master": args.spark_master}
    for key, attr in (("task", "task"), ("window", "window"), ("engine", "engine"),
                      ("title", "title"), ("min_window_rows", "min_window_rows"),
                      ("fail_on_alert", "fail_on_alert"), ("dry_run", "dry_run"),
                      ("positive_label", "positive_label"),
                      ("min_segment_rows", "min_segment_rows")):
        if getattr(args, attr) is not None:
            out[key] = getattr(args, attr)
    if args.model or args.trust_type or args.trust_model:
        model: dict[str, Any] = {}
        if args.model:
            model["path"] = str(cwd / args.model)
        if args.trust_type:
            model["trusted_types"] = list(args.trust_type)
        if args.trust_model:
            model["trust"] = True
        out["model"] = model
    if args.out:
        out["out"] = str(cwd / args.out)
    if args.reference_cache is not None:
        out["reference_cache"] = (str(cwd / args.reference_cache)
                                  if isinstance(args.reference_cache, str) else False)
    return out


def _cmd_report(args: argparse.Namespace) -> int:
    from obskit.config import load_config
    from obskit.runner import run_report

    config = load_config(args.config, overrides=overrides_from_flags(args))
    outcome = run_report(config, config_path=args.config)
    alerts = outcome.summary["alerts"]
    print(f"status: {outcome.status} ({plural(len(alerts), 'alert')})")
    print(f"report: {outcome.html}")
    timings = outcome.summary.get("timings") or {}
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
    from obskit import backfill, schedule
    from obskit.sinks import exporter

    schedule.add_parser(sub)  # schedule and run-due
    backfill.add_parser(sub)
    exporter.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from obskit import backfill, schedule
    from obskit.sinks import exporter

    handler = {"report": _cmd_report, "deep-dive": _cmd_deep_dive,
               "investigate": _cmd_deep_dive, "demo": _cmd_demo, "schedule": schedule.run,
               "run-due": schedule.run, "backfill": backfill.run,
               "exporter": exporter.run}[args.command]
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
