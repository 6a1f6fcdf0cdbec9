"""The ground truth of the demo: the incidents injected, as written to ``incidents.json``."""

from __future__ import annotations

from typing import Any

from obskit.demo.files import iso_seconds
from obskit.demo.population import (
    BURST_ERROR,
    BURST_FAILURE_RATE,
    LATENCY_SPIKE_FACTOR,
    UTIL_CONCENTRATION,
    UTIL_MEAN_BASE,
    UTIL_MEAN_END,
    V2_SHARE,
)


def injected_incidents(
    *,
    drift_start: int,
    v2_start: int,
    spike_start: int,
    spike_end: int,
    burst_start: int,
    burst_end: int,
    concept_start: int,
    end_us: int,
    base_rate: float,
) -> list[dict[str, Any]]:
    """The five injected incidents, their bounds given in epoch microseconds (UTC).

    Parameters
    ----------
    drift_start, v2_start, spike_start, spike_end, burst_start, burst_end, concept_start : int
        Start (and end, exclusive) of each incident, epoch microseconds.
    end_us : int
        End of the current period (exclusive), epoch microseconds.
    base_rate : float
        Default rate of the undrifted population (kept by the concept drift).

    Returns
    -------
    list of dict
        ``id``, ``kind``, ``feature``, ``start``, ``end``, ``segment``, ``description``,
        ``params`` per incident, bounds as ``YYYY-MM-DDTHH:MM:SSZ``.
    """
    end_iso = iso_seconds(end_us)
    incidents: list[dict[str, Any]] = [
        {
            "id": "gradual_drift",
            "kind": "feature_drift",
            "feature": "utilization",
            "start": iso_seconds(drift_start),
            "end": end_iso,
            "segment": None,
            "description": (
                "utilization drifts upward linearly in time: Beta mean from "
                f"{UTIL_MEAN_BASE:.2f} at the start of day 5 to {UTIL_MEAN_END:.2f} at the "
                "end of day 14; labels follow the unchanged relation (covariate shift)"
            ),
            "params": {
                "distribution": "beta",
                "concentration": UTIL_CONCENTRATION,
                "mean_from": UTIL_MEAN_BASE,
                "mean_to": UTIL_MEAN_END,
            },
        },
        {
            "id": "broken_upstream",
            "kind": "data_quality",
            "feature": "income",
            "start": iso_seconds(v2_start),
            "end": end_iso,
            "segment": {"model_version": "v2"},
            "description": (
                f"model version v2 takes {V2_SHARE:.0%} of traffic and its upstream logs "
                "income in cents (x100); the model scores the broken inputs, labels come "
                "from the true income"
            ),
            "params": {"traffic_share": V2_SHARE, "income_factor": 100.0},
        },
        {
            "id": "latency_spike",
            "kind": "latency",
            "feature": None,
            "start": iso_seconds(spike_start),
            "end": iso_seconds(spike_end),
            "segment": None,
            "description": f"latency x{LATENCY_SPIKE_FACTOR:g} on day 9 from 13:00 to 16:00 UTC",
            "params": {"factor": LATENCY_SPIKE_FACTOR},
        },
        {
            "id": "error_burst",
            "kind": "errors",
            "feature": None,
            "start": iso_seconds(burst_start),
            "end": iso_seconds(burst_end),
            "segment": None,
            "description": (
                f"{BURST_FAILURE_RATE:.0%} of requests fail with status 500 on day 10 from "
                "08:00 to 12:00 UTC (feature store unavailable); score and prediction null"
            ),
            "params": {"failure_rate": BURST_FAILURE_RATE, "status": 500, "error": BURST_ERROR},
        },
        {
            "id": "concept_drift",
            "kind": "concept_drift",
            "feature": None,
            "start": iso_seconds(concept_start),
            "end": end_iso,
            "segment": None,
            "description": (
                "the true relation changes from the start of day 11: num_late_payments is no "
                "longer predictive, utilization matters less, renting and young accounts raise "
                "the default risk; base rate unchanged, input distribution unchanged"
            ),
            "params": {"base_rate": round(base_rate, 4)},
        },
    ]
    return incidents
