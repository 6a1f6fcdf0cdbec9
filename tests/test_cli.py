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
