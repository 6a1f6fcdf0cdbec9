"""The command line maps flags onto config keys and errors onto exit codes."""

from __future__ import annotations

from pathlib import Path

from obskit.cli import EXIT_INPUT, build_parser, main, overrides_from_flags


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
