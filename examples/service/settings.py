"""The service's configuration, read from the environment (the contract in README).

================================  ==========================================================
``OBSKIT_MODEL``                  model file (default ``demo-data/model.skops``, from cwd)
``OBSKIT_TRUST_TYPES``            comma-separated skops types to trust (default none)
``OBSKIT_MODEL_NAME``             model name (default the model file's stem, or the
                                  registered model's name with ``OBSKIT_MODEL_ALIAS``)
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
``OBSKIT_MODEL_ALIAS``            serve the version a model alias points to, instead of
                                  ``OBSKIT_MODEL``: ``<file>.json#<alias>`` (a JSON alias
                                  file) or ``models:/<name>@<alias>`` (MLflow's registry at
                                  ``MLFLOW_TRACKING_URI``); the served version is the
                                  alias's (so ``OBSKIT_MODEL_VERSION`` must not be set) and
                                  the golden check runs only when ``OBSKIT_GOLDEN`` is set
``OBSKIT_ALIAS_REFRESH_S``        seconds between two reads of the alias (default 30; > 0)
================================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from obskit.exceptions import ConfigError
from obskit.instrument.aliases import parse_model_ref

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
        The model's name (metric label, span attribute); empty with a model alias unless
        ``OBSKIT_MODEL_NAME`` is set: the registered model's name is used.
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
    model_alias : str or None
        ``OBSKIT_MODEL_ALIAS`` as given; None: serve ``model``.
    alias_refresh_s : float
        Seconds between two reads of the alias.
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
    model_alias: str | None = None
    alias_refresh_s: float = 30.0

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
            If ``OBSKIT_LOG_FORMAT`` or ``OBSKIT_FAULT_INJECTION`` has an unknown value,
            ``OBSKIT_MODEL_ALIAS`` is not a model reference or comes with
            ``OBSKIT_MODEL`` or ``OBSKIT_MODEL_VERSION``, or ``OBSKIT_ALIAS_REFRESH_S`` is
            not a number above 0.
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
        alias = (env.get("OBSKIT_MODEL_ALIAS") or "").strip() or None
        refresh = _refresh_s(env.get("OBSKIT_ALIAS_REFRESH_S"))
        if alias is not None:
            _check_alias_setting(alias, env)
            return cls(
                model_alias=alias, alias_refresh_s=refresh,
                trust_types=tuple(t.strip() for t in trust.split(",") if t.strip()),
                model_name=env.get("OBSKIT_MODEL_NAME") or "",
                log_dir=Path(env.get("OBSKIT_LOG_DIR") or "prediction-logs"),
                log_format=fmt, traces=env.get("OBSKIT_TRACES") or None,
                golden=Path(golden) if golden else None, golden_required=bool(golden),
                fault_injection=fault in ("1", "true"))
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


def _refresh_s(text: str | None) -> float:
    """``OBSKIT_ALIAS_REFRESH_S`` as seconds (default 30)."""
    if not (text or "").strip():
        return 30.0
    try:
        seconds = float(text)  # type: ignore[arg-type]
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"OBSKIT_ALIAS_REFRESH_S must be a number of seconds above 0, "
                          f"got {text!r}", key="OBSKIT_ALIAS_REFRESH_S")
    return seconds


def _check_alias_setting(alias: str, env: Mapping[str, str]) -> None:
    """``OBSKIT_MODEL_ALIAS`` is a model reference, and nothing else names the model."""
    try:
        parse_model_ref(alias)
    except ConfigError as exc:
        raise ConfigError(f"OBSKIT_MODEL_ALIAS: {exc}", key="OBSKIT_MODEL_ALIAS") from exc
    for other in ("OBSKIT_MODEL", "OBSKIT_MODEL_VERSION"):
        if env.get(other):
            what = "file" if other == "OBSKIT_MODEL" else "version"
            raise ConfigError(f"OBSKIT_MODEL_ALIAS and {other} are both set: with an alias "
                              f"the model {what} is the alias's; unset {other}", key=other)
