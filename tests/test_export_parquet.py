"""``obskit export parquet``: a real run's flagged predictions as Parquet in the column
layout of Arize's ``Schema``, and that schema as JSON."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from obskit.cli import main
from obskit.results import load
from tests.demo_run import demo_run

#: the ``Schema`` fields of the Arize SDK 8.61.0 (``arize/ml/types.py``, class ``Schema``,
#: https://github.com/Arize-ai/client_python) this export may name
ARIZE_SCHEMA_FIELDS = {
    "prediction_id_column_name", "feature_column_names", "tag_column_names",
    "timestamp_column_name", "prediction_label_column_name",
    "prediction_score_column_name", "actual_label_column_name", "actual_score_column_name",
    "shap_values_column_names", "embedding_feature_column_names"}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    _, _, summary = demo_run()
    out = tmp_path_factory.mktemp("arize")
    assert main(["export", "parquet", "--summary", str(summary), "--out", str(out)]) == 0
    frame = pd.read_parquet(out / "predictions.parquet")
    schema = json.loads((out / "arize_schema.json").read_text())
    return load(summary), frame, schema


def _kept(row, explained):
    shap = explained.get(str(row.request_id))
    return (row.prediction is not None or row.score is not None or row.label is not None
            or bool(shap and any(v is not None for v in shap.shap.values())))


def test_schema_names_arize_fields_and_the_file_columns(export):
    run, frame, schema = export
    assert set(schema) <= ARIZE_SCHEMA_FIELDS
    named = [schema[k] for k in schema if k.endswith("_column_name")]
    named += schema["feature_column_names"] + schema["tag_column_names"]
    named += list(schema["shap_values_column_names"].values())
    assert sorted(named) == sorted(frame.columns)  # every column named once, none missing
    assert schema["feature_column_names"] == list(run.features)
    assert schema["shap_values_column_names"] == {f: f"{f}_shap" for f in run.features}
    assert "anomaly_reasons" in schema["tag_column_names"]
    assert str(frame[schema["timestamp_column_name"]].dtype) == "datetime64[us, UTC]"
    assert frame[schema["prediction_id_column_name"]].map(type).eq(str).all()
    assert frame[schema["prediction_id_column_name"]].is_unique


def test_rows_and_values_equal_the_summary(export):
    run, frame, schema = export
    explained = {str(r.request_id): r for r in run.explanations.rows}
    kept = [a for a in run.anomalies if _kept(a, explained)]
    assert 0 < len(kept) < len(run.anomalies)  # the demo has failed, unexplained requests
    assert len(frame) == len(kept)
    with_shap = 0
    for row, (_, got) in zip(kept, frame.iterrows(), strict=True):
        assert got["prediction_id"] == str(row.request_id)
        assert got["prediction_ts"] == pd.Timestamp(row.timestamp or row.window_start)
        assert got["anomaly_reasons"].split(";") == list(row.reasons)
        assert got["anomaly_severity"] == row.severity
        assert got["prediction_label"] == (None if row.prediction is None
                                           else str(row.prediction))
        assert got["actual_label"] == (None if row.label is None else str(row.label))
        score = got["prediction_score"]
        assert (math.isnan(score) if row.score is None else score == row.score)
        shap = explained.get(str(row.request_id))
        for feature, kind in run.features.items():
            value, attribution = got[feature], got[f"{feature}_shap"]
            if shap is None:
                assert pd.isna(value) and pd.isna(attribution)
                continue
            assert attribution == shap.shap[feature]
            assert value == (shap.values[feature] if kind == "categorical"
                             else float(shap.values[feature]))
        with_shap += shap is not None
    assert with_shap == len(explained)  # every explained row is a flagged one


def test_arize_validates_it_when_installed(export, tmp_path):
    """With the Arize SDK installed, its own ``Schema`` and batch validator accept the
    export offline (obskit's environment cannot install arize 8.61.0: it pins an older
    protobuf)."""
    types = pytest.importorskip("arize.ml.types")
    validator = pytest.importorskip("arize.ml.batch_validation.validator").Validator
    import pyarrow as pa

    _, frame, schema = export
    arize_schema = types.Schema(**schema)
    model, env = types.ModelTypes.BINARY_CLASSIFICATION, types.Environments.PRODUCTION
    assert not validator.validate_required_checks(
        dataframe=frame, model_id="credit", environment=env, schema=arize_schema,
        model_version="v2", batch_id="")
    assert not validator.validate_params(
        dataframe=frame, model_id="credit", model_type=model, environment=env,
        schema=arize_schema, metric_families=None, model_version="v2", batch_id="")
    assert not validator.validate_types(model_type=model, schema=arize_schema,
                                        pyarrow_schema=pa.Table.from_pandas(frame).schema)
    assert not validator.validate_values(dataframe=frame, environment=env,
                                         schema=arize_schema, model_type=model,
                                         max_past_years=5)


@pytest.mark.parametrize("content, expected", [
    (None, "summary file not found (flag --summary)"),
    ("[1, 2]", "not a readable summary.json: expected a JSON object"),
    ('{"windows": {}}', "not a summary.json: expected a JSON object with a 'windows' list"),
])
def test_bad_summary_exits_2_naming_the_flag(tmp_path, capsys, content, expected):
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content)
    code = main(["export", "parquet", "--summary", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_run_folder_status_note_and_failed_runs(export, tmp_path, capsys):
    """``--summary`` takes a run folder; the status is printed; a failed run is refused
    unless ``--include-failed``, then exported with a note."""
    run, frame, _ = export
    _, _, summary = demo_run()
    code = main(["export", "parquet", "--summary", str(summary.parent), "--out",
                 str(tmp_path / "folder")])
    out = capsys.readouterr().out
    assert code == 0 and f"status {run.status}" in out
    assert len(pd.read_parquet(tmp_path / "folder" / "predictions.parquet")) == len(frame)

    doc = json.loads(summary.read_text())
    doc.update(status="failed", error="notebook failed: CellExecutionError", run_id="r1")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text(json.dumps(doc))
    args = ["export", "parquet", "--summary", str(tmp_path / "run"), "--out",
            str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "run r1: status failed (its report failed: notebook failed" in err
    assert "--include-failed" in err and not (tmp_path / "o").exists()
    assert main([*args, "--include-failed"]) == 0
    assert "note: run r1: status failed" in capsys.readouterr().out
    assert len(pd.read_parquet(tmp_path / "o" / "predictions.parquet")) == len(frame)


def test_out_under_a_file_exits_2(tmp_path, capsys):
    _, _, summary = demo_run()
    (tmp_path / "day0.jsonl").write_text("{}\n")
    out = tmp_path / "day0.jsonl" / "sub"
    assert main(["export", "parquet", "--summary", str(summary), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: cannot write the export" in err and "(flag --out)" in err
    assert "Traceback" not in err and "internal error" not in err
