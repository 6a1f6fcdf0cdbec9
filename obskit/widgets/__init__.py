"""Interactive analysis in Jupyter: :class:`Explorer` and its cached state.

``obskit.widgets.explore(analysis)`` (or ``Explorer(analysis)``, or a published
``summary.json``) shows a run with controls for the window, the segment, the feature and
the anomalous row. ipywidgets is imported only when the explorer is first used, so
``import obskit`` stays cheap. :class:`ExplorerState` (no widgets) is what the deep-dive
notebooks use.

Modules: :mod:`~obskit.widgets.run_view` (typed reads of the :class:`obskit.results.Run`),
:mod:`~obskit.widgets.log_view` (what needs the logs, asked of :mod:`obskit.profiles` and
cached), :mod:`~obskit.widgets.state` (the two together), :mod:`~obskit.widgets.pages`
(HTML views), :mod:`~obskit.widgets.explorer` (the ipywidgets explorer). Widgets read the
run and ask the profiles; they import neither :mod:`obskit.analysis` nor the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from obskit.widgets.state import ExplorerState, load_state

if TYPE_CHECKING:
    from obskit.widgets.explorer import Explorer, explore

__all__ = ["Explorer", "ExplorerState", "explore", "load_state"]


def __getattr__(name: str) -> Any:
    if name in ("Explorer", "explore", "KERNEL_NOTE"):
        from obskit.widgets import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module 'obskit.widgets' has no attribute {name!r}")
