"""``obskit export parquet``: a run's flagged predictions, with their anomaly reasons,
features and SHAP values, as a Parquet file in the column layout Arize's ``Schema``
expects, and that schema as JSON. Nothing is uploaded.

Which rows: the flagged predictions ``summary.json`` holds (``anomalies``: the run keeps
the most unusual predictions, not every prediction), one row each, in its order, but for
those with neither a prediction, a score, a label nor SHAP values (failed requests the run
did not explain), which Arize's validator rejects ("Prediction and actual columns cannot
be all null"): they are counted as ``left_out``. Feature values and SHAP values come from
``explanations.rows`` (matched by request id): rows the run did not explain have them
empty.

The keys of ``arize_schema.json`` are argument names of ``arize.ml.types.Schema``
(Arize SDK 8.61.0, ``arize/ml/types.py``; 7.x: ``arize.utils.types.Schema``)::

    import json, pandas as pd
    from arize import ArizeClient
    from arize.ml.types import Environments, ModelTypes, Schema

    frame = pd.read_parquet("DIR/predictions.parquet")
    schema = Schema(**json.load(open("DIR/arize_schema.json")))
    ArizeClient(api_key="...").ml.log(
        space_id="...", model_name="credit", model_type=ModelTypes.BINARY_CLASSIFICATION,
        environment=Environments.PRODUCTION, dataframe=frame, schema=schema)

Columns: ``prediction_id`` (text: the request id, else ``<run id>:<position>``),
``prediction_ts`` (timestamp, microseconds, UTC; the window's start when the row has
none), ``prediction_label`` / ``actual_label`` (text; numbers for regression),
``prediction_score``, one column per feature, ``<feature>_shap`` per feature (Arize's
naming, ``shap_values_column_names``), and the tags ``anomaly_reasons`` (reasons joined
with ``;``), ``anomaly_severity``, ``anomaly_routine``, ``window_start``, ``model_version``,
``latency_ms``, ``status``, ``error``, ``trace_id``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from obskit.exceptions import InputError
from obskit.results import AnomalousPrediction, ExplainedRow
from obskit.sinks.export_common import SummaryFile, read_summary, refuse_failed, status_note

__all__ = ["DATA_FILE", "SCHEMA_FILE", "SHAP_SUFFIX", "TAGS", "arize_frame",
           "export_parquet"]

DATA_FILE = "predictions.parquet"
SCHEMA_FILE = "arize_schema.json"
#: Arize's convention: ``{"feat_A": "feat_A_shap"}`` (``Schema`` docstring)
SHAP_SUFFIX = "_shap"
ID, TS, LABEL, SCORE, ACTUAL = ("prediction_id", "prediction_ts", "prediction_label",
                                "prediction_score", "actual_label")
#: tag column → the flagged prediction's field it holds
TAGS = {"anomaly_reasons": "reasons", "anomaly_severity": "severity",
        "anomaly_routine": "routine", "window_start": "window_start",
        "model_version": "model_version", "latency_ms": "latency_ms", "status": "status",
        "error": "error", "trace_id": "trace_id"}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _tag(row: AnomalousPrediction, field: str) -> Any:
    value = getattr(row, field)
    if field == "reasons":
        return ";".join(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)


def arize_frame(summary: SummaryFile) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The flagged predictions of a run as an Arize-ready frame, and its schema.

    Parameters
    ----------
    summary : SummaryFile
        The run (:func:`obskit.sinks.export_common.read_summary`).

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per ``anomalies`` entry; the ``Schema`` keyword arguments naming its
        columns (keys absent when the column is: no score, no label, no SHAP).

    Raises
    ------
    InputError
        A feature's name is also the name of a prediction or tag column.
    """
    run = summary.run
    features = list(run.features)
    clash = sorted(set(features) & ({ID, TS, LABEL, SCORE, ACTUAL} | set(TAGS)
                                    | {f + SHAP_SUFFIX for f in features}))
    if clash:
        raise InputError(f"{summary.path}: feature(s) {', '.join(clash)} have the name of an "
                         f"Arize column this export writes", path=str(summary.path))
    explained: dict[str, ExplainedRow] = {}
    if run.explanations is not None:
        explained = {str(r.request_id): r for r in run.explanations.rows or ()
                     if r.request_id is not None}
    regression = run.task == "regression"
    label = _number if regression else _text
    records = []
    for position, row in enumerate(run.anomalies):
        rid = _text(row.request_id)
        shap = explained.get(rid) if rid is not None else None
        if row.prediction is None and row.score is None and row.label is None and not (
                shap and any(v is not None for v in shap.shap.values())):
            continue  # Arize rejects a row whose prediction, actual and SHAP are all null
        record: dict[str, Any] = {
            ID: rid if rid is not None else f"{summary.run_id}:{position}",
            TS: row.timestamp or row.window_start, LABEL: label(row.prediction),
            SCORE: row.score, ACTUAL: label(row.label)}
        for feature in features:
            value = shap.values.get(feature) if shap else None
            record[feature] = (_text(value) if run.features[feature] == "categorical"
                               else _number(value))
        for feature in features:
            record[feature + SHAP_SUFFIX] = shap.shap.get(feature) if shap else None
        record.update({tag: _tag(row, field) for tag, field in TAGS.items()})
        records.append(record)
    columns = [ID, TS, LABEL, SCORE, ACTUAL, *features,
               *(f + SHAP_SUFFIX for f in features), *TAGS]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame[TS] = pd.to_datetime(frame[TS], utc=True, format="ISO8601").astype(
        "datetime64[us, UTC]")
    frame[SCORE] = frame[SCORE].astype("float64")
    for feature in features:
        frame[feature + SHAP_SUFFIX] = frame[feature + SHAP_SUFFIX].astype("float64")
    has_shap = bool(explained) and any(r.shap for r in explained.values())
    if not has_shap:
        frame = frame.drop(columns=[f + SHAP_SUFFIX for f in features])
    schema: dict[str, Any] = {
        "prediction_id_column_name": ID, "timestamp_column_name": TS,
        "prediction_label_column_name": LABEL}
    if frame[SCORE].notna().any() and not regression:
        schema["prediction_score_column_name"] = SCORE
    else:
        frame = frame.drop(columns=[SCORE])
    if frame[ACTUAL].notna().any():
        schema["actual_label_column_name"] = ACTUAL
    else:
        frame = frame.drop(columns=[ACTUAL])
    schema["feature_column_names"] = features
    if has_shap:
        schema["shap_values_column_names"] = {f: f + SHAP_SUFFIX for f in features}
    schema["tag_column_names"] = list(TAGS)
    return frame, schema


def export_parquet(summary: str | Path, out: str | Path, *,
                   include_failed: bool = False) -> dict[str, Any]:
    """Write ``<out>/predictions.parquet`` and ``<out>/arize_schema.json``.

    Parameters
    ----------
    summary : str or Path
        The run's ``summary.json`` or its run folder.
    out : str or Path
        The folder to write (created; the two files are replaced).
    include_failed : bool
        Export a run whose status is ``failed`` (refused by default).

    Returns
    -------
    dict
        ``data`` and ``schema`` (paths), ``rows`` (flagged predictions written),
        ``left_out`` (flagged predictions with nothing Arize accepts),
        ``explained`` (rows with SHAP values), ``run_id`` and ``model_type`` (Arize's
        ``ModelTypes`` member to log them with), ``run_status`` and ``status_note``.

    Raises
    ------
    InputError
        ``summary`` is not a run's ``summary.json``, or a failed run without
        ``include_failed``; ``out`` is not a writable folder.
    """
    run = read_summary(summary)
    refuse_failed(run, include_failed=include_failed)
    frame, schema = arize_frame(run)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{out}: not a folder (flag --out)", path=str(out))
    data, schema_file = folder / DATA_FILE, folder / SCHEMA_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(data, index=False)
        schema_file.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the export: {exc.strerror or exc} "
                         f"(flag --out)",
                         path=str(folder)) from exc
    shap_columns = [c for c in frame.columns if c.endswith(SHAP_SUFFIX)]
    explained = int(frame[shap_columns].notna().any(axis=1).sum()) if shap_columns else 0
    model_type = {"binary": "BINARY_CLASSIFICATION", "multiclass": "MULTI_CLASS",
                  "regression": "REGRESSION"}.get(run.run.task or "", "BINARY_CLASSIFICATION")
    return {"data": str(data), "schema": str(schema_file), "rows": len(frame),
            "left_out": len(run.run.anomalies) - len(frame),
            "explained": explained, "run_id": run.run_id, "model_type": model_type,
            "run_status": run.run.status or "unknown", "status_note": status_note(run)}
