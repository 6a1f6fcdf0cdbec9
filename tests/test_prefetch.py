"""Background imports: the module is imported once, a missing one is skipped silently."""

from __future__ import annotations

import sys

from obskit._prefetch import prefetch


def test_prefetch_imports_in_the_background_and_skips_missing_modules(tmp_path, monkeypatch):
    (tmp_path / "obskit_prefetch_probe.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "obskit_prefetch_probe", raising=False)
    thread = prefetch(["obskit_no_such_module_here", "obskit_prefetch_probe"])
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert thread.daemon
    assert sys.modules["obskit_prefetch_probe"].LOADED is True
    assert "obskit_no_such_module_here" not in sys.modules


def test_analysis_prefetches_the_explainers_only_for_a_model(monkeypatch):
    from dataclasses import replace

    from obskit.analysis import preflight, run
    from obskit.config import load_config

    asked: list[tuple[str, ...]] = []
    monkeypatch.setattr(preflight, "prefetch", lambda modules: asked.append(tuple(modules)))

    class Stop(Exception):
        pass

    def stop(config):
        raise Stop

    monkeypatch.setattr(run, "load_logs", stop)
    config = load_config(overrides={"sources": {"current": "x.jsonl"}})
    monkeypatch.setattr(preflight, "check_model_file", lambda path, trust, key: None)
    for model, expected in ((None, []),
                            ("m.skops", [("skops.io", "shap", "lime.lime_tabular")]),
                            ("m.pkl", [("shap", "lime.lime_tabular")])):
        asked.clear()
        try:
            run._analyze(replace(config, model=model), None)
        except Stop:
            pass
        assert asked == expected, model
