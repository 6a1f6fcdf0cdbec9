"""The MLflow model registry behind the alias store API.

MLflow's own terms (https://mlflow.org/docs/latest/model-registry.html): a *registered
model* has numbered *model versions*; an *alias* (``set_registered_model_alias``) points to
one of them. A model file (``.skops``, ``.joblib``, …) is registered as it is, not as an
MLflow ``MLmodel`` flavour: it is logged as an artifact of a run in the experiment
``obskit-models`` (under ``model/<file name>``), and the version's source is that file's
artifact URI. MLflow's SQL registry stores the source as given and never reads an
``MLmodel`` file (``SqlAlchemyStore.create_model_version`` in MLflow 3), so
:meth:`MlflowAliasStore.local_path` downloads the file itself back with
``mlflow.artifacts.download_artifacts``.

MLflow keeps no history of an alias; the store keeps one as a registered-model tag,
``obskit.alias_history.<alias>``: a JSON list of ``{time, alias, from, to, reason}``, the
newest :data:`~obskit.instrument._alias_base.HISTORY_LIMIT` changes. Changes made outside
obskit (the MLflow UI) are not in it; :meth:`MlflowAliasStore.previous` then falls back to
the highest version below the current one that the history does not mark as rolled back
from.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._optional import require
from obskit.exceptions import ConfigError, InputError
from obskit.instrument._alias_base import (
    HISTORY_LIMIT,
    ModelVersion,
    check_alias,
    check_model_file,
    previous_from_history,
    version_key,
)

__all__ = ["MlflowAliasStore", "EXPERIMENT", "HISTORY_TAG", "default_artifact_location"]

#: the experiment whose runs hold the registered model files
EXPERIMENT = "obskit-models"
#: registered-model tag holding an alias's history (``.<alias>`` appended)
HISTORY_TAG = "obskit.alias_history"


def default_artifact_location(tracking_uri: str) -> str | None:
    """Where a new experiment keeps its artifacts when nobody said.

    Parameters
    ----------
    tracking_uri : str
        An MLflow tracking URI.

    Returns
    -------
    str or None
        ``<folder>/mlartifacts`` (a file URI) for ``sqlite:///<folder>/<file>``, as
        ``mlflow server`` does; None (MLflow's own default, ``./mlruns`` of the working
        directory for a local store, the server's for a remote one) otherwise.
    """
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri[len("sqlite:///"):]).expanduser().absolute()
    return (database.parent / "mlartifacts").as_uri()


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


class MlflowAliasStore:
    """Versions and aliases of one registered model in an MLflow registry.

    Parameters
    ----------
    tracking_uri : str
        MLflow tracking (and registry) URI: ``sqlite:///…``, ``http(s)://…``,
        ``databricks``.
    model_name : str
        The registered model's name (created by the first :meth:`register`).
    experiment : str, default :data:`EXPERIMENT`
        Experiment of the runs that hold registered model files.
    artifact_location : str, optional
        Where that experiment keeps its artifacts when this store creates it. Default: for
        a ``sqlite:///<folder>/<file>`` store, ``<folder>/mlartifacts`` (beside the
        database, not MLflow's ``./mlruns`` in whatever directory the process runs
        in); for a tracking server, the server's artifact root.

    Raises
    ------
    ConfigError
        MLflow is not installed (``pip install "obskit[mlflow]"``), or no model name.
    """

    def __init__(self, tracking_uri: str, model_name: str, *, experiment: str = EXPERIMENT,
                 artifact_location: str | None = None) -> None:
        if not model_name:
            raise ConfigError(f"an MLflow alias store ({tracking_uri}) needs a registered "
                              "model name")
        self._mlflow = require("mlflow", "mlflow", purpose="an MLflow model alias store")
        self.tracking_uri = tracking_uri
        self.name = model_name
        self.experiment = experiment
        self.artifact_location = artifact_location or default_artifact_location(tracking_uri)
        self._client = self._mlflow.MlflowClient(tracking_uri=tracking_uri,
                                                 registry_uri=tracking_uri)
        self._cache: Path | None = None

    def __repr__(self) -> str:
        return f"MlflowAliasStore({self.name!r})"

    def _version(self, mv: Any) -> ModelVersion:
        return ModelVersion(name=mv.name, version=str(mv.version), source=str(mv.source),
                            tags=dict(mv.tags or {}))

    def _missing(self, exc: Exception) -> bool:
        return _error_code(exc) == "RESOURCE_DOES_NOT_EXIST"

    def versions(self) -> list[ModelVersion]:
        """Every version, ascending by version number."""
        name = self.name.replace("'", "\\'")
        found = [self._version(mv) for mv in
                 self._client.search_model_versions(f"name = '{name}'")]
        return sorted(found, key=lambda v: version_key(v.version))

    def get_version(self, version: str) -> ModelVersion:
        """The version ``version``; InputError naming it when the registry has none."""
        try:
            return self._version(self._client.get_model_version(self.name, str(version)))
        except self._mlflow.MlflowException as exc:  # unknown, or not a number
            if self._missing(exc) or _error_code(exc) == "INVALID_PARAMETER_VALUE":
                raise InputError(f"registered model {self.name!r} has no version "
                                 f"{str(version)!r}") from exc
            raise

    def get(self, alias: str) -> ModelVersion | None:
        """The version ``alias`` points to; None when the alias (or the model) is not set."""
        try:
            mv = self._client.get_model_version_by_alias(self.name, check_alias(alias))
        except self._mlflow.MlflowException as exc:
            if self._missing(exc) or _error_code(exc) == "INVALID_PARAMETER_VALUE":
                return None
            raise
        return self._version(mv)

    def _history(self, alias: str) -> list[dict[str, Any]]:
        try:
            model = self._client.get_registered_model(self.name)
        except self._mlflow.MlflowException as exc:
            if self._missing(exc):
                return []
            raise
        try:
            history = json.loads(model.tags.get(f"{HISTORY_TAG}.{alias}", "[]"))
        except json.JSONDecodeError:
            return []
        return [h for h in history if isinstance(h, dict)] if isinstance(history, list) \
            else []

    def set_alias(self, alias: str, version: str, *, reason: str = "") -> ModelVersion:
        """Point ``alias`` at ``version`` and append the change to the alias history tag.

        Setting an alias to the version it already points to changes nothing.
        """
        check_alias(alias)
        target = self.get_version(str(version))
        before = self.get(alias)
        if before is not None and before.version == target.version:
            return target
        self._client.set_registered_model_alias(self.name, alias, target.version)
        history = self._history(alias)
        history.append({"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "alias": alias, "from": None if before is None else before.version,
                        "to": target.version, "reason": reason})
        self._client.set_registered_model_tag(self.name, f"{HISTORY_TAG}.{alias}",
                                              json.dumps(history[-HISTORY_LIMIT:]))
        return target

    def previous(self, alias: str) -> ModelVersion | None:
        """The version a rollback of ``alias`` moves to, from the history tag.

        The most recent earlier version of the alias that is not the current one and was
        not rolled back from (:func:`~obskit.instrument._alias_base.previous_from_history`);
        when the alias was moved outside obskit, the highest version below the current one
        that was not rolled back from. None when there is none.
        """
        current = self.get(alias)
        if current is None:
            return None
        known = [v.version for v in self.versions()]
        before = previous_from_history(self._history(alias), alias, current.version, known)
        return None if before is None or before not in known else self.get_version(before)

    def _experiment_id(self) -> str:
        found = self._client.get_experiment_by_name(self.experiment)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(self._client.create_experiment(
                self.experiment, artifact_location=self.artifact_location))
        except self._mlflow.MlflowException:  # created meanwhile by another process
            again = self._client.get_experiment_by_name(self.experiment)
            if again is None:
                raise
            return str(again.experiment_id)

    def register(self, path: str | Path, *,
                 tags: Mapping[str, str] | None = None) -> ModelVersion:
        """A new model version for the model file ``path``, logged as a run artifact."""
        model = check_model_file(path)
        try:
            self._client.create_registered_model(self.name)
        except self._mlflow.MlflowException as exc:
            if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
        run = self._client.create_run(self._experiment_id(),
                                      tags={"obskit.model_file": model.name},
                                      run_name=f"register-{self.name}")
        run_id = run.info.run_id
        try:
            self._client.log_artifact(run_id, str(model), artifact_path="model")
        except BaseException:
            self._client.set_terminated(run_id, status="FAILED")
            raise
        self._client.set_terminated(run_id)
        source = f"{run.info.artifact_uri.rstrip('/')}/model/{model.name}"
        mv = self._client.create_model_version(self.name, source, run_id=run_id,
                                               tags=dict(tags or {}))
        return self._version(mv)

    def local_path(self, version: ModelVersion) -> Path:
        """The model file of ``version``, downloaded once into a temporary folder."""
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="obskit-models-"))
        folder = self._cache / version.version
        name = version.source.rstrip("/").rsplit("/", 1)[-1]
        if (folder / name).is_file():
            return folder / name
        folder.mkdir(parents=True, exist_ok=True)
        got = self._mlflow.artifacts.download_artifacts(
            artifact_uri=version.source, dst_path=str(folder),
            tracking_uri=self.tracking_uri)
        return Path(got)
