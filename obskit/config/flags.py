"""The report flags of the command line, and the config overrides they make.

Every flag of ``obskit report`` (shared by ``deep-dive``, ``investigate`` and ``backfill``)
has a config key; :func:`overrides_from_flags` turns the flags given into a mapping with
the structure of the YAML file, for :func:`obskit.config.load_config`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from obskit.config.model import ENGINES, TASKS
from obskit.schema import ROLES

__all__ = ["add_report_flags", "overrides_from_flags"]


def _column(text: str) -> tuple[str, str]:
    role, sep, name = text.partition("=")
    if not sep or not role or not name:
        raise argparse.ArgumentTypeError(f"expected ROLE=NAME, got {text!r}")
    return role.strip(), name.strip()


def add_report_flags(p: argparse.ArgumentParser) -> None:
    """Add the flags of ``obskit report`` to ``p`` (shared with ``obskit backfill``).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The (sub)command's parser.
    """
    p.add_argument("--config", help="YAML config file (every flag below has a key there)")
    p.add_argument("--reference", help="reference logs: file, glob or directory "
                                       "(config: sources.reference)")
    p.add_argument("--current", help="production logs: file, glob or directory "
                                     "(config: sources.current)")
    p.add_argument("--labels", help="late labels joined on request_id (config: sources.labels)")
    p.add_argument("--probes", help="obskit probe --results JSON lines: file, glob or "
                                    "directory (config: sources.probes)")
    p.add_argument("--traces", help="OTLP JSON traces (lines or whole-file exports, .gz "
                                    "allowed): file, glob or directory, joined to predictions "
                                    "on trace_id (config: sources.traces)")
    p.add_argument("--task", choices=TASKS,
                   help="config: task (default: inferred)")
    p.add_argument("--window", help="a period: N followed by min or m (minutes), h (hours), "
                                    "d (days), w (weeks, from Monday), mo (calendar months) "
                                    "or y (calendar years), e.g. '30min', '1d', '30d', '1mo'; "
                                    "or a row count, e.g. '5000 rows' (config: window)")
    p.add_argument("--column", action="append", type=_column, default=[], metavar="ROLE=NAME",
                   help="map a role onto a log column, repeatable; roles: "
                        f"{', '.join(ROLES)} (config: columns.ROLE); also "
                        "class_scores=PATTERN, a multiclass model's probability columns, "
                        "e.g. class_scores=p_{class}")
    p.add_argument("--engine", choices=ENGINES,
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
    windows = p.add_mutually_exclusive_group()
    windows.add_argument("--window-cache", metavar="DIR",
                         help="keep per-window results in DIR (default <out>/.cache/windows; "
                              "config: window_cache)")
    windows.add_argument("--no-window-cache", dest="window_cache", action="store_false",
                         help="compute every window afresh every run "
                              "(config: window_cache: false)")
    p.add_argument("--dry-run", action="store_true", default=None,
                   help="alert sinks and rule actions say what they would do, and do nothing "
                        "(config: dry_run)")
    p.add_argument("--fail-on-alert", action="store_true", default=None,
                   help="exit 1 when an alert fires (config: fail_on_alert)")


def overrides_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The config overrides the report flags in ``args`` make (unset flags: none).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags of :func:`add_report_flags`.

    Returns
    -------
    dict
        A mapping with the structure of the YAML file; paths made absolute against the
        working directory.
    """
    cwd = Path.cwd()
    out: dict[str, Any] = {}
    sources = {k: str(cwd / v) for k in ("reference", "current", "labels", "probes",
                                          "traces")
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
    if getattr(args, "window_cache", None) is not None:
        out["window_cache"] = (str(cwd / args.window_cache)
                               if isinstance(args.window_cache, str) else False)
    return out
