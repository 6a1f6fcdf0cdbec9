"""Shared fixtures: write small log files into ``tmp_path``."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture
def write(tmp_path):
    """``write(name, content)`` → absolute path of a new file under ``tmp_path``.

    ``content``: text (written as is), a list of dicts/strings (JSON lines; strings are
    written verbatim as lines) or a pandas DataFrame (Parquet).
    """

    def _write(name: str, content) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            content.to_parquet(path, index=False)
        elif isinstance(content, list):
            path.write_text("".join(
                (row if isinstance(row, str) else json.dumps(row)) + "\n" for row in content
            ))
        else:
            path.write_text(content)
        return str(path)

    return _write
