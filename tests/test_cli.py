"""The command line maps flags onto config keys and errors onto exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from obskit.cli import EXIT_INPUT, build_parser, main
from obskit.config.flags import overrides_from_flags


def test_flags_become_config_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args([
        "report", "--current", "logs/", "--labels", "l.csv", "--task", "binary",
        "--window", "5000 rows", "--column", "latency_ms=lat", "--column", "label=y",
        "--out", "out", "--fail-on-alert", "--min-window-rows", "10",
    ])
    got = overrides_from_flags(args)
    assert got["sources"] == {"current": str(tmp_path / "logs/"),
                              "labels": str(tmp_path / "l.csv")}
    assert got["columns"] == {"latency_ms": "lat", "label": "y"}
    assert got["window"] == "5000 rows" and got["fail_on_alert"] is True
    assert got["min_window_rows"] == 10 and Path(got["out"]) == tmp_path / "out"


def test_unknown_role_and_bad_window_exit_2_naming_the_key(tmp_path, capsys):
    (tmp_path / "l.jsonl").write_text('{"timestamp": "2026-11-01T00:00:00Z"}\n')
    code = main(["report", "--current", str(tmp_path / "l.jsonl"), "--column", "lateny=x"])
    assert code == EXIT_INPUT
    assert "columns.lateny" in capsys.readouterr().err
    code = main(["report", "--current", str(tmp_path / "l.jsonl"), "--window", "daily"])
    assert code == EXIT_INPUT
    assert "'window'" in capsys.readouterr().err


def test_bad_config_file_exits_2(tmp_path, capsys):
    cfg = tmp_path / "c.yml"
    cfg.write_text("sources: {current: x.jsonl}\nwindw: 1d\n")
    assert main(["report", "--config", str(cfg)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "windw" in err and "window" in err


def test_model_flags_merge_with_the_config_file(tmp_path, monkeypatch):
    from obskit.config import load_config

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yml"
    cfg.write_text("sources: {current: x.jsonl}\nmodel: model.skops\n")
    args = build_parser().parse_args(["report", "--trust-type", "sklearn.tree._tree.Tree",
                                      "--trust-type", "numpy.dtype"])
    config = load_config(cfg, overrides=overrides_from_flags(args))
    assert config.model == str(tmp_path / "model.skops")
    assert config.model_trusted_types == ("sklearn.tree._tree.Tree", "numpy.dtype")
    assert config.model_trust is False


def _parsers(parser):
    """The parser and every sub-command parser, with their names."""
    import argparse

    yield "obskit", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"obskit {name}", p) for _, p in _parsers(sub))


def test_help_is_plain_text_and_every_flag_has_help():
    from obskit.cli import build_parser

    for name, parser in _parsers(build_parser()):
        text = parser.format_help()
        assert "`" not in text, f"{name} --help shows reST markup"
        for action in parser._actions:
            if action.option_strings:
                assert action.help, f"{name} {action.option_strings[0]} has no help"


def test_column_help_lists_every_role_of_the_schema():
    from obskit.cli import build_parser
    from obskit.schema import ROLES

    helps = dict(_parsers(build_parser()))
    for name in ("obskit report", "obskit deep-dive", "obskit backfill"):
        column = next(a for a in helps[name]._actions if "--column" in a.option_strings)
        listed = column.help.split("roles:")[1].split("(")[0]
        assert [r.strip() for r in listed.split(",")] == list(ROLES)
        assert "class_scores=PATTERN" in column.help


def _log_rows(n: int, day: str = "2026-11-01") -> str:
    lines = ["timestamp,request_id,x,score,prediction,label"]
    for i in range(n):
        lines.append(f"{day}T{i % 24:02d}:00:00Z,r{i},{i % 7},0.{i % 9 + 1},{i % 2},{i % 3 % 2}")
    return "\n".join(lines) + "\n"


def test_report_on_a_current_csv_without_rows_exits_2_naming_it(tmp_path, capsys):
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text(_log_rows(60))
    cur.write_text(_log_rows(0))
    code = main(["report", "--reference", str(ref), "--current", str(cur),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "sources.current" in err and str(cur) in err and "no rows" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_every_obskit_error_exits_2_and_a_bug_exits_4_never_1(tmp_path, capsys, monkeypatch):
    from obskit import cli
    from obskit.exceptions import NotFittedError

    def boom(exc):
        def handler(args):
            raise exc
        return handler

    for exc, code in ((NotFittedError("monitor not fitted"), EXIT_INPUT),
                      (AttributeError("'Table' object has no attribute 'score'"),
                       cli.EXIT_INTERNAL)):
        monkeypatch.setattr(cli, "_cmd_report", boom(exc))
        got = main(["report", "--current", str(tmp_path / "x.jsonl")])
        err = capsys.readouterr().err
        assert got == code and got != cli.EXIT_ALERT
        assert str(exc).strip("'\"") in err and "Traceback" not in err


def test_labels_without_prediction_for_an_explicit_task_exit_2_naming_the_role(tmp_path,
                                                                                capsys):
    cur = tmp_path / "cur.csv"
    text = _log_rows(30).splitlines()
    cur.write_text("\n".join(",".join(f for j, f in enumerate(line.split(",")) if j not in (3, 4))
                             for line in text) + "\n")  # no score, no prediction
    for task, role in (("binary", "prediction or score"), ("regression", "prediction"),
                       ("multiclass", "prediction")):
        code = main(["report", "--current", str(cur), "--task", task,
                     "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == EXIT_INPUT, err
        assert f"needs a {role} column" in err and "--column prediction=NAME" in err
        assert str(cur) in err and "Traceback" not in err


def test_window_help_lists_every_unit_the_parser_accepts():
    import re

    from obskit.windows import _MONTHS, _UNITS

    report = build_parser()._subparsers._group_actions[0].choices["report"]
    text = next(a.help for a in report._actions if "--window" in a.option_strings)
    for unit in [*_UNITS, *_MONTHS]:
        assert re.search(rf"\b{unit}\b", text), unit
    assert "rows" in text


def _bad_inputs(tmp_path):
    """name → (extra flags, words the message must hold) for `python -m obskit report`."""
    good = tmp_path / "ref.csv"
    good.write_text(_log_rows(60))
    empty = tmp_path / "empty.csv"
    empty.write_text(_log_rows(0))
    logits = tmp_path / "logits.csv"
    logits.write_text(_log_rows(30).replace(",0.", ",-3."))
    years = tmp_path / "years.csv"
    years.write_text("year,x\n" + "".join(f"{y},{y % 3}\n" for y in (3, 12, 99)))
    unpredicted = tmp_path / "unpredicted.csv"
    unpredicted.write_text("\n".join(",".join(f for j, f in enumerate(line.split(","))
                                              if j not in (3, 4))
                                     for line in _log_rows(30).splitlines()) + "\n")
    return {
        "empty current": (["--current", str(empty)], ["sources.current", str(empty)]),
        "logit scores": (["--current", str(logits)], ["'score'", "from -3.9 to -3.1",
                                                        "sigmoid"]),
        "implausible epoch": (["--current", str(years), "--column", "timestamp=year"],
                              ["'year'", "from 3 to 99", "epoch seconds"]),
        "task without prediction": (["--current", str(unpredicted), "--task", "regression"],
                                    ["needs a prediction column", str(unpredicted)]),
    }


def test_bad_input_through_python_m_obskit_exits_2_without_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for name, (flags, words) in _bad_inputs(tmp_path).items():
        done = subprocess.run([sys.executable, "-m", "obskit", "report", *flags,
                               "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == EXIT_INPUT, (name, done.stderr)
        assert "Traceback" not in done.stderr, name
        assert done.stderr.startswith("obskit: error: "), name
        for word in words:
            assert word in done.stderr, (name, word, done.stderr)


def test_class_scores_pattern_flag_is_the_config_key(tmp_path, monkeypatch, capsys):
    from obskit.config import load_config

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["report", "--current", "l.jsonl",
                                      "--column", "class_scores=p_{class}"])
    got = overrides_from_flags(args)
    assert load_config(overrides=got).class_scores == "p_{class}"
    (tmp_path / "l.jsonl").write_text('{"timestamp": "2026-11-01T00:00:00Z"}\n')
    code = main(["report", "--current", str(tmp_path / "l.jsonl"),
                 "--column", "class_scores=p_"])
    assert code == EXIT_INPUT
    assert "columns.class_scores" in capsys.readouterr().err


def test_positive_label_flag_is_the_config_key(tmp_path, capsys):
    args = build_parser().parse_args(["report", "--current", "x.csv", "--positive-label", "yes",
                                      "--segment", "region", "--segment", "plan",
                                      "--min-segment-rows", "30"])
    got = overrides_from_flags(args)
    assert got["positive_label"] == "yes" and got["segments"] == ["region", "plan"]
    assert got["min_segment_rows"] == 30
    log = tmp_path / "l.csv"
    log.write_text("timestamp,score,label,prediction\n2026-11-01T00:00:00Z,0.8,yes,yes\n"
                   "2026-11-01T01:00:00Z,0.2,no,no\n")
    assert main(["report", "--current", str(log), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "--positive-label" in err and "'yes'" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["inf", "2", "0.5", "yes"])
def test_binary_labels_with_a_third_class_exit_2_naming_the_column(tmp_path, capsys, bad):
    """A label no class of a binary task would be scored as a wrong answer: stop instead."""
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text(_log_rows(60))
    lines = _log_rows(60).splitlines()
    lines[7] = lines[7].rsplit(",", 1)[0] + f",{bad}"
    cur.write_text("\n".join(lines) + "\n")
    code = main(["report", "--reference", str(ref), "--current", str(cur), "--task", "binary",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert "column 'label' (role label) of a binary task holds 3 classes" in err
    assert repr(bad) in err and "sources.current" in err and "Traceback" not in err


def test_null_and_nan_labels_are_unlabelled_rows_not_a_class(tmp_path):
    """JSON null, a missing key and the text "nan" are missing labels: left out of the
    performance, never scored as a class."""
    import json

    from obskit import analyze, load_config

    keys = ["timestamp", "request_id", "x", "score", "prediction", "label"]
    rows = [dict(zip(keys, line.split(","), strict=True))
            for line in _log_rows(600).splitlines()[1:]]
    (tmp_path / "ref.csv").write_text(_log_rows(60))
    with open(tmp_path / "cur.jsonl", "w") as f:
        for i, r in enumerate(rows):
            r.update(x=int(r["x"]), score=float(r["score"]), prediction=int(r["prediction"]),
                     label=int(r["label"]))
            if i % 3 == 1:
                r["label"] = None
            elif i % 3 == 2:
                r["label"] = "nan" if i % 2 else float("nan")
            f.write(json.dumps(r) + "\n")
    got = analyze(load_config(None, overrides={
        "sources": {"reference": str(tmp_path / "ref.csv"),
                    "current": str(tmp_path / "cur.jsonl")},
        "task": "binary", "window": "1d", "out": str(tmp_path / "out")}))
    window = got.to_dict()["windows"][0]
    assert window["rows"] == 600 and window["labelled_rows"] == 200
    labelled = [r for i, r in enumerate(rows) if i % 3 == 0]
    right = sum(int(r["prediction"]) == int(r["label"]) for r in labelled)
    assert window["performance"]["accuracy"] == pytest.approx(right / 200)


def test_binary_labels_and_predictions_in_different_classes_exit_2(tmp_path, capsys):
    """Labels yes/no against predictions 0/1: every row would count as a mistake."""
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    for path in (ref, cur):
        lines = _log_rows(60).splitlines()
        path.write_text("\n".join([lines[0]] + [
            line.rsplit(",", 1)[0] + ("," + ("yes" if line.endswith("1") else "no"))
            for line in lines[1:]]) + "\n")
    code = main(["report", "--reference", str(ref), "--current", str(cur), "--task", "binary",
                 "--positive-label", "yes", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert "must name the same two classes" in err and "Traceback" not in err
    assert "column 'label' (role label) holds 'no', 'yes'" in err
    assert "column 'prediction' (role prediction) holds '0', '1'" in err
