"""Importing slow optional modules in the background while other work runs.

``import shap`` costs 1.5–3 s and ``import skops.io`` 2–4 s on a 2-core machine (mostly
pure-Python module execution); the run needs them only after loading and drift. A daemon
thread imports them meanwhile; the later ``import`` in the main thread then waits for that
import to finish (Python's per-module import lock) and never imports twice.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Sequence

__all__ = ["prefetch"]


def prefetch(modules: Sequence[str]) -> threading.Thread:
    """Import ``modules`` in a daemon thread, in order; a module that fails to import is
    skipped silently (the main thread's own import later raises the error where it is
    handled).

    Parameters
    ----------
    modules : sequence of str
        Dotted module names.

    Returns
    -------
    threading.Thread
        The started thread (callers need not join it).
    """
    def work() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = threading.Thread(target=work, name="obskit-prefetch", daemon=True)
    thread.start()
    return thread
