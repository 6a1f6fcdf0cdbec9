"""What a run does before it reads the logs: the checks that need no data, and the
background imports of what it will need later."""

from __future__ import annotations

from obskit._prefetch import prefetch
from obskit.config import Config
from obskit.findings.alert_rules import check_alert_metrics
from obskit.io.model import check_model_file

__all__ = ["EXPLAIN_MODULES", "check_config", "preflight"]

#: the explainers' modules, imported in the background while the logs load and the drift
#: is computed (:mod:`obskit._prefetch`): they are needed only for the anomalies' SHAP and
#: LIME, after the drift
EXPLAIN_MODULES = ("shap", "lime.lime_tabular")


def check_config(config: Config) -> None:
    """Stop a run that would fail later, before any work (and before ``obskit report``
    starts its notebook's kernel).

    Parameters
    ----------
    config : Config
        The run's configuration.

    Raises
    ------
    ConfigError
        An alert rule's metric that no window can have (``alerts[i].metric``).
    InputError
        A model file the run would refuse (unknown type, missing, a pickle without trust);
        the message names the config key ``model``.
    """
    check_alert_metrics(config.alerts)
    if config.model:
        check_model_file(config.model, trust=config.model_trust, key="model")


def preflight(config: Config) -> None:
    """:func:`check_config`, then start the slow imports the run will need.

    Parameters
    ----------
    config : Config
        The run's configuration.

    Raises
    ------
    ConfigError, InputError
        As :func:`check_config`.
    """
    check_config(config)
    if config.model and config.anomalies.explain_rows:
        skops = ("skops.io",) if str(config.model).endswith(".skops") else ()
        prefetch((*skops, *EXPLAIN_MODULES))
