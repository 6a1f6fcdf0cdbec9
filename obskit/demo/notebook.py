"""The notebooks' demo: write it on first use when the default demo config is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from obskit.demo.scenario import DEMO_ROWS, generate_demo

#: the notebooks' default ``config_path``: the demo ``make report`` writes, seen from
#: ``notebooks/``
NOTEBOOK_DEMO_CONFIG = "../demo-data/config.yml"


def ensure_demo(config_path: str | Path | None, *, rows: int = DEMO_ROWS) -> str | None:
    """The notebooks' ``config_path``, with the demo written first when it is the default
    demo config (:data:`NOTEBOOK_DEMO_CONFIG`) and that file is missing.

    A notebook opened before ``make report`` then runs on the same demo ``make report``
    writes (same rows and seed), instead of stopping on a missing file. Any other path is
    returned unchanged (a missing config of the user's is an error of ``load_config``).
    A new demo folder is written beside its place and renamed into place, so two
    notebooks opened at once never read a half-written demo.

    Parameters
    ----------
    config_path : str, Path or None
        The notebook's ``config_path`` parameter.
    rows : int, default DEMO_ROWS
        Production log rows of a demo written here.

    Returns
    -------
    str or None
        ``config_path`` as a string (None stays None).
    """
    if config_path is None:
        return None
    path = Path(config_path)
    if str(config_path) != NOTEBOOK_DEMO_CONFIG or path.is_file():
        return str(config_path)
    root = path.parent.resolve()
    print(f"obskit: {config_path} is missing; writing the demo ({rows:,} rows) to {root}, "
          "as `make report` would (about half a minute)")
    if root.exists():  # a folder without its config: complete it in place
        generate_demo(root, rows=rows)
        return str(config_path)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    try:
        generate_demo(tmp, rows=rows)
        try:
            os.replace(tmp, root)
        except OSError:  # another notebook wrote it meanwhile
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(config_path)
