"""One small demo analysis per test session, shared by the widget and notebook tests."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

ROWS = 20_000


@functools.cache
def demo_run():
    """``(demo files, Analysis, summary path)`` of a 20,000-row demo, computed once."""
    import obskit
    from obskit.demo import generate_demo

    root = Path(tempfile.mkdtemp(prefix="obskit-demo-"))
    files = generate_demo(root / "data", rows=ROWS)
    analysis = obskit.analyze(str(files.config))
    summary_path = root / "summary.json"
    summary_path.write_text(json.dumps(analysis.to_summary(), default=str))
    return files, analysis, summary_path
