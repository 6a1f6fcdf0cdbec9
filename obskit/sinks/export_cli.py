"""``obskit export evidently`` and ``obskit export parquet``: hand a written run
(``summary.json``) to another tool: an Evidently workspace, or Parquet for Arize."""

from __future__ import annotations

import argparse
from typing import Any

from obskit._text import plural

__all__ = ["add_parser", "run"]

_SUMMARY_HELP = "the run's summary.json, or its run folder (e.g. REPORTS/latest)"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand (``evidently``, ``parquet``) to ``subparsers``."""
    p = subparsers.add_parser(
        "export", help="export a run (summary.json) to Evidently or to Parquet for Arize",
        description="Export a written run: its windows into an Evidently workspace, or its "
                    "flagged predictions as Parquet in Arize's column layout.")
    sub = p.add_subparsers(dest="export_target", required=True)
    e = sub.add_parser(
        "evidently", help="one Evidently snapshot per window (drift, performance, rows)",
        description="Write the run's windows into a project of an Evidently 0.7 workspace "
                    "(evidently ui --workspace DIR shows them). One snapshot per window: "
                    "a window the project holds already is replaced by a newer run's "
                    "judgement; exporting the same run again changes nothing.")
    e.add_argument("--summary", required=True, metavar="RUN/summary.json",
                   help=_SUMMARY_HELP)
    e.add_argument("--workspace", required=True, metavar="DIR",
                   help="an Evidently workspace folder; an empty or missing folder is "
                        "created, any other folder is refused")
    e.add_argument("--project", default=None, metavar="NAME",
                   help="the project (found by name, else created; default: the run's "
                        "title)")
    q = sub.add_parser(
        "parquet", help="flagged predictions with reasons and SHAP values, for Arize",
        description="Write DIR/predictions.parquet (the run's flagged predictions, their "
                    "anomaly reasons, features and SHAP values) and DIR/arize_schema.json "
                    "(the arguments of Arize's Schema). Nothing is uploaded.")
    q.add_argument("--summary", required=True, metavar="RUN/summary.json",
                   help=_SUMMARY_HELP)
    q.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    for parser in (e, q):
        parser.add_argument("--include-failed", action="store_true",
                            help="export a run whose status is failed (its report failed); "
                                 "refused by default")
    return p


def _note(note: str, status: str) -> str:
    if status == "failed":
        return f"note: {note}; exported as asked (--include-failed)"
    return note


def _evidently(args: argparse.Namespace) -> int:
    from obskit.sinks.export_evidently import export_evidently

    result = export_evidently(args.summary, args.workspace, project=args.project,
                              include_failed=args.include_failed)
    print(f"workspace: {result['workspace']}")
    print(f"project: {result['project']} ({result['project_id']}"
          + (", created)" if result["project_created"] else ")"))
    print(_note(result["status_note"], result["run_status"]))
    print(f"windows: {result['added']} added, {result['replaced']} replaced, "
          f"{result['unchanged']} unchanged (one snapshot per window; a newer run's "
          f"replaces an older one's)")
    if result["kept_newer"]:
        print(f"kept: {plural(result['kept_newer'], 'window')} held by a newer run")
    if result["duplicates_removed"]:
        print(f"removed: {plural(result['duplicates_removed'], 'older duplicate snapshot')}")
    print(f"project now holds {plural(result['snapshots'], 'snapshot')}")
    if result["not_exported"]:
        print("not exported (no Evidently metric type): "
              + ", ".join(result["not_exported"]))
    return 0


def _parquet(args: argparse.Namespace) -> int:
    from obskit.sinks.export_parquet import export_parquet

    result = export_parquet(args.summary, args.out, include_failed=args.include_failed)
    print(_note(result["status_note"], result["run_status"]))
    print(f"data: {result['data']} ({plural(result['rows'], 'flagged prediction')}, "
          f"{result['explained']} with SHAP values)")
    if result["left_out"]:
        print(f"left out: {plural(result['left_out'], 'flagged prediction')} without "
              f"prediction, label or SHAP values (Arize rejects all-null rows)")
    print(f"schema: {result['schema']} (Arize Schema(**json); "
          f"model_type=ModelTypes.{result['model_type']})")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``obskit export <target>``; prints what was written."""
    return {"evidently": _evidently, "parquet": _parquet}[args.export_target](args)
