"""The service's configuration, read from the environment (the contract in README).

================================  ==========================================================
``OBSKIT_MODEL``                  model file (default ``demo-data/model.skops``, from cwd)
``OBSKIT_TRUST_TYPES``            comma-separated skops types to trust (default none)
``OBSKIT_MODEL_NAME``             model name (default the model file's stem)
``OBSKIT_MODEL_VERSION``          model version (default ``sha256-`` + the first 12 hex
                                  digits of the model file's SHA-256, so a changed file
                                  is a new version)
``OBSKIT_LOG_DIR``                prediction log directory (default ``./prediction-logs``)
``OBSKIT_LOG_FORMAT``             ``jsonl`` (default) or ``parquet``
``OBSKIT_TRACES``                 ``http(s)://…`` OTLP/HTTP endpoint, else a file for OTLP
                                  JSON lines; unset: spans made (trace ids) but not exported
``OBSKIT_GOLDEN``                 golden JSONL checked by ``/readyz`` (default
                                  ``golden.jsonl`` beside the model; when that default file
                                  does not exist the check is skipped and says so; a file
                                  named here must exist)
``OBSKIT_FAULT_INJECTION``        ``1`` enables the ``X-Obskit-Delay-Ms`` and
                                  ``X-Obskit-Fail`` request headers (off by default)
================================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from obskit.exceptions import ConfigError

__all__ = ["Settings"]

_FORMATS = ("jsonl", "parquet")


@dataclass(frozen=True)
class Settings:
    """What the service serves and where it writes.

    Attributes
    ----------
    model : Path
        The model file.
    trust_types : tuple of str
        skops types to trust.
    model_name : str
        The model's name (metric label, span attribute).
    model_version : str or None
        None: derived from the file's SHA-256 when the model loads.
    log_dir : Path
        Where prediction logs go.
    log_format : str
        ``jsonl`` or ``parquet``.
    traces : str or None
        OTLP/HTTP URL or OTLP JSON lines file; None: no export.
    golden : Path or None
        Golden requests for ``/readyz``.
    golden_required : bool
        True when ``golden`` was named explicitly (a missing file is then not ready).
    fault_injection : bool
        Honour the fault injection headers.
    """

    model: Path = Path("demo-data/model.skops")
    trust_types: tuple[str, ...] = ()
    model_name: str = "model"
    model_version: str | None = None
    log_dir: Path = Path("prediction-logs")
    log_format: str = "jsonl"
    traces: str | None = None
    golden: Path | None = None
    golden_required: bool = False
    fault_injection: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the ``OBSKIT_*`` variables (see the module docstring).

        Parameters
        ----------
        env : mapping, optional
            Default :data:`os.environ`.

        Returns
        -------
        Settings

        Raises
        ------
        ConfigError
            If ``OBSKIT_LOG_FORMAT`` or ``OBSKIT_FAULT_INJECTION`` has an unknown value.
        """
        env = os.environ if env is None else env
        model = Path(env.get("OBSKIT_MODEL") or "demo-data/model.skops")
        fmt = env.get("OBSKIT_LOG_FORMAT") or "jsonl"
        if fmt not in _FORMATS:
            raise ConfigError(f"OBSKIT_LOG_FORMAT must be jsonl or parquet, got {fmt!r}",
                              key="OBSKIT_LOG_FORMAT")
        fault = (env.get("OBSKIT_FAULT_INJECTION") or "0").strip().lower()
        if fault not in ("0", "1", "true", "false", ""):
            raise ConfigError(f"OBSKIT_FAULT_INJECTION must be 1 or 0, got {fault!r}",
                              key="OBSKIT_FAULT_INJECTION")
        golden = env.get("OBSKIT_GOLDEN")
        trust = env.get("OBSKIT_TRUST_TYPES") or ""
        return cls(
            model=model,
            trust_types=tuple(t.strip() for t in trust.split(",") if t.strip()),
            model_name=env.get("OBSKIT_MODEL_NAME") or model.stem,
            model_version=env.get("OBSKIT_MODEL_VERSION") or None,
            log_dir=Path(env.get("OBSKIT_LOG_DIR") or "prediction-logs"),
            log_format=fmt,
            traces=env.get("OBSKIT_TRACES") or None,
            golden=Path(golden) if golden else model.parent / "golden.jsonl",
            golden_required=bool(golden),
            fault_injection=fault in ("1", "true"),
        )
