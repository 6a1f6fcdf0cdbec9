"""Interactive analysis in Jupyter: :class:`Explorer` and its cached state.

``obskit.widgets.explore(analysis)`` (or ``Explorer(analysis)``) shows a run with controls
for the window, the segment, the feature and the anomalous row. ipywidgets is imported
only when the explorer is first used, so ``import obskit`` stays cheap.
:class:`ExplorerState` (no widgets) is what the deep-dive notebooks use.
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
