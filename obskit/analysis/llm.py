"""LLM calls in a run: the spans of ``sources.traces`` that are LLM calls, per window and
model (``windows[i].health.llm``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from obskit._format import finite
from obskit.profiles import W
from obskit.profiles.llm import llm_by_window
from obskit.results import LlmCalls, Window, Windows

__all__ = ["window_llm"]


def _with_llm(window: Window, llm: dict[str, LlmCalls]) -> Window:
    health = window.health
    layout = None if health.layout is None else (*health.layout, "llm")
    return dataclasses.replace(window, health=dataclasses.replace(health, llm=llm,
                                                                  layout=layout))


def _calls(r: Mapping[Any, Any]) -> LlmCalls:
    calls, errors = int(r["calls"]), int(r["errors"])
    return LlmCalls(calls=calls, errors=errors, error_rate=errors / calls if calls else None,
                    p50_ms=finite(r["p50_ms"]), p95_ms=finite(r["p95_ms"]),
                    input_tokens=int(r["input_tokens"]), output_tokens=int(r["output_tokens"]),
                    total_tokens=int(r["total_tokens"]),
                    mean_input_tokens=finite(r["mean_input_tokens"]),
                    mean_output_tokens=finite(r["mean_output_tokens"]),
                    mean_total_tokens=finite(r["mean_total_tokens"]))


def window_llm(windows: Windows, spans: Any, *, row_windows: bool = False) -> Windows:
    """``windows`` with ``health.llm``: model → the LLM calls that start in the window.

    Parameters
    ----------
    windows : Windows
        The run's windows.
    spans : ibis Table
        The used spans (:func:`obskit.io.traces.load_traces`).
    row_windows : bool, default False
        The windows are row blocks (:func:`obskit.profiles.llm.llm_by_window`).

    Returns
    -------
    Windows
        Every window with its ``health.llm`` (empty when no call starts in it), models by
        most calls.
    """
    frame = llm_by_window(spans, [(w.index, w.start, w.end) for w in windows],
                          row_windows=row_windows)
    by_window: dict[int, dict[str, LlmCalls]] = {}
    for r in frame.to_dict("records"):
        by_window.setdefault(int(r[W]), {})[str(r["model"])] = _calls(r)
    return Windows(_with_llm(w, by_window.get(w.index, {})) for w in windows)
