"""Model versions and serving aliases (``champion``, ``challenger``): one API, two backends.

An *alias* is MLflow's term (https://mlflow.org/docs/latest/model-registry.html): a named,
movable reference to one version of a registered model. A service that serves an alias
rather than a file (``OBSKIT_MODEL_ALIAS``) follows a promotion or a rollback without a
restart. Two backends behind one :class:`AliasStore` API:

* :class:`JsonAliasStore`: a ``.json`` file, for teams without MLflow
  (:mod:`obskit.instrument._alias_json` describes the file);
* :class:`MlflowAliasStore`: MLflow's model registry (the ``mlflow`` extra).

Examples
--------
>>> store = open_alias_store(tmp / "models.json", model_name="churn")  # doctest: +SKIP
>>> v1 = store.register("models/v1.skops")  # doctest: +SKIP
>>> store.set_alias("champion", v1.version, reason="first release")  # doctest: +SKIP
>>> parse_model_ref("models.json#champion")
('models.json', None, 'champion')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from obskit.exceptions import ConfigError
from obskit.instrument._alias_base import AliasStore, ModelVersion, check_alias
from obskit.instrument._alias_json import JsonAliasStore
from obskit.instrument._alias_mlflow import MlflowAliasStore, default_artifact_location

__all__ = ["ModelVersion", "AliasStore", "JsonAliasStore", "MlflowAliasStore",
           "open_alias_store", "parse_model_ref", "is_tracking_uri",
           "default_artifact_location"]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^databricks(-uc)?(://.*)?$")
_MODELS_URI = re.compile(r"^models:/([^/@]+)@([^/@]+)$")
_FORMS = ("'<file>.json#<alias>' (a JSON alias file) or 'models:/<name>@<alias>' "
          "(MLflow's registry at MLFLOW_TRACKING_URI)")


def is_tracking_uri(target: str | Path) -> bool:
    """True for an MLflow tracking URI (``sqlite:///…``, ``http(s)://…``, ``databricks``)."""
    return isinstance(target, str) and bool(_URI.match(target))


def open_alias_store(target: str | Path, *, model_name: str | None = None) -> AliasStore:
    """The alias store at ``target``.

    Parameters
    ----------
    target : str or Path
        A path ending in ``.json``: a :class:`JsonAliasStore` (created by the first
        ``register`` when missing; ``model_name`` is needed then). An MLflow tracking URI
        (``sqlite:///…``, ``http(s)://…``, ``databricks…``): a :class:`MlflowAliasStore`.
    model_name : str, optional
        The registered model's name; required for MLflow.

    Returns
    -------
    AliasStore

    Raises
    ------
    ConfigError
        ``target`` is neither, or MLflow without ``model_name``.
    InputError
        The JSON file exists but is broken (the message names the file and the problem).
    """
    if is_tracking_uri(target):
        if not model_name:
            raise ConfigError(f"alias store {target!r}: an MLflow registry needs the "
                              "registered model's name (model_name)")
        return MlflowAliasStore(str(target), model_name)
    if str(target).lower().endswith(".json"):
        return JsonAliasStore(target, model_name=model_name)
    raise ConfigError(f"alias store {str(target)!r}: expected a .json file or an MLflow "
                      "tracking URI (sqlite:///…, http(s)://…, databricks)")


def parse_model_ref(ref: str) -> tuple[str, str | None, str]:
    """Split a reference to an aliased model into (store, model name, alias).

    Parameters
    ----------
    ref : str
        ``<file>.json#<alias>`` or ``models:/<name>@<alias>`` (MLflow's model URI for an
        alias; the registry is the one ``MLFLOW_TRACKING_URI`` names, as for MLflow).

    Returns
    -------
    tuple of (str, str or None, str)
        The JSON file or the tracking URI; the registered model name (None for a JSON
        file, which names its model); the alias.

    Raises
    ------
    ConfigError
        ``ref`` has neither form, the alias is not a valid alias name, or a ``models:/``
        reference without ``MLFLOW_TRACKING_URI`` set.

    >>> parse_model_ref("/srv/models.json#champion")
    ('/srv/models.json', None, 'champion')
    """
    found = _MODELS_URI.match(ref.strip())
    if found:
        uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        if not uri:
            raise ConfigError(f"model reference {ref!r} names MLflow's registry: set "
                              "MLFLOW_TRACKING_URI to its tracking URI")
        name, alias = found.groups()
    else:
        path, sep, alias = ref.strip().rpartition("#")
        if not sep or not path.lower().endswith(".json") or not alias:
            raise ConfigError(f"model reference {ref!r}: expected {_FORMS}")
        uri, name = path, None
    try:
        check_alias(alias)
    except ConfigError as exc:
        raise ConfigError(f"model reference {ref!r}: {exc}") from exc
    return uri, name, alias
