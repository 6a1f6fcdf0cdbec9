"""The retrain flow: train a challenger, register it, and promote it only past the gate
(see :mod:`obskit.remediation.retrain` for each step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from obskit.config import Config
from obskit.config.entry_points import load_entry_point
from obskit.config.remediation import RemediationRule
from obskit.remediation.retrain import (
    CHALLENGER,
    RetrainContext,
    gate_score,
    gate_windows,
    labelled_rows,
)
from obskit.results import Run

__all__ = ["retrain"]


def _candidate_file(candidate: Any, path: Path) -> tuple[Path, Any | None]:
    """The candidate's model file, and the model object when the entry point returned
    one (saved with ``skops.io.dump``)."""
    if isinstance(candidate, (str, Path)):
        return Path(candidate), None
    if not callable(getattr(candidate, "predict", None)):
        raise TypeError(f"the entry point returned a {type(candidate).__name__}, expected a "
                        "fitted model (with predict) or a model file path")
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(candidate, path)
    return path, candidate


def _load(path: Path, config: Config) -> Any:
    from obskit.io.model import load_model

    return load_model(path, trusted_types=config.model_trusted_types, trust=config.model_trust)


def retrain(rule: RemediationRule, *, store: Any, alias: str, config: Config, run: Run,
            run_dir: Path, run_id: str, work_dir: Path, dry_run: bool) -> dict[str, Any]:
    """Run a retrain rule: the entry point's candidate becomes ``challenger`` and is
    promoted to ``alias`` only when it beats the champion on the gate.

    Parameters
    ----------
    rule : RemediationRule
        Its ``entry_point`` and ``gate``.
    store : AliasStore
        The registry (:func:`obskit.instrument.aliases.open_alias_store`).
    alias : str
        The serving alias.
    config, run : Config, Run
        The run's config (sources, model trust) and typed results (its windows).
    run_dir : Path
        The published run folder.
    run_id : str
        Tags the registered candidate.
    work_dir : Path
        Where a candidate returned as an object is saved before registering.
    dry_run : bool
        Describe what would happen; call nothing, register nothing.

    Returns
    -------
    dict
        The decision's fields: ``decision``, ``reason``, ``from_version``, ``to_version``
        (set only when promoted), ``challenger``, ``promoted``, ``scores``. A candidate
        that is not promoted is still ``acted`` (reason ``challenger not promoted: …``): the
        attempt counts toward the rule's cooldown and caps, so a rejected candidate is not
        retrained every run.
    """
    gate = rule.gate
    champion = store.get(alias)
    base: dict[str, Any] = {"from_version": champion.version if champion else None,
                            "to_version": None, "challenger": None, "promoted": False,
                            "scores": None}
    windows = gate_windows(run, gate.windows)
    if len(windows) < gate.windows:
        return {**base, "decision": "skipped",
                "reason": f"{len(windows)} labelled window(s), the gate needs {gate.windows}"}
    if dry_run:
        return {**base, "decision": "dry_run",
                "reason": f"would call {rule.entry_point}, register the candidate as "
                          f"{CHALLENGER} and promote it if {gate.metric} >= champion + "
                          f"{gate.min_improvement:.2f} on {gate.windows} window(s)"}
    from obskit.io import load_logs

    logs = load_logs(config)
    start, end = str(windows[0].start), str(windows[-1].end)
    held_out = labelled_rows(logs, start=start, end=end, max_rows=gate.max_rows)
    if held_out.empty or (held_out["label"].nunique() < 2 and logs.task != "regression"):
        return {**base, "decision": "skipped",
                "reason": f"the gate windows from {start} hold too few labelled rows"}
    reference = None
    if logs.reference is not None:
        ref_cols = [c for c in (*logs.features, "label") if c in logs.reference.table.columns]
        reference = logs.reference.table.select(*ref_cols).limit(gate.max_rows).execute()
    champion_path = store.local_path(champion) if champion else None
    context = RetrainContext(
        data=labelled_rows(logs, end=start, max_rows=gate.max_rows),
        features=tuple(logs.features), task=logs.task, reference=reference,
        champion=champion, champion_path=champion_path, holdout_start=start, run=run,
        run_dir=run_dir, config=config)
    candidate = load_entry_point(rule.entry_point or "", f"remediation rule {rule.key}: "
                                 "entry_point", rule.entry_point_folders)(context)
    path, model = _candidate_file(candidate, work_dir / f"{run_id}-{rule.alert}.skops")
    version = store.register(path, tags={"obskit.rule": rule.key, "obskit.run_id": run_id,
                                         "obskit.gate": gate.metric})
    store.set_alias(CHALLENGER, version.version,
                    reason=f"obskit remediation {rule.key}, run {run_id}")
    base["challenger"] = version.version
    if champion is None or champion_path is None:
        return {**base, "decision": "acted",
                "reason": f"challenger not promoted: version {version.version} registered, "
                          f"no {alias} to compare with"}
    args = {"metric": gate.metric, "features": tuple(logs.features), "task": logs.task,
            "positive": config.positive_label}
    theirs = gate_score(_load(Path(champion_path), config), held_out, **args)
    ours = gate_score(model if model is not None else _load(path, config), held_out, **args)
    base["scores"] = {"metric": gate.metric, "champion": theirs, "challenger": ours,
                      "min_improvement": gate.min_improvement, "rows": len(held_out),
                      "windows": [str(w.start) for w in windows]}
    passed = ours >= theirs + gate.min_improvement
    comparison = (f"challenger {gate.metric} {ours:.4f} {'>=' if passed else '<'} champion "
                  f"{theirs:.4f} + {gate.min_improvement:.2f}")
    if not passed:
        return {**base, "decision": "acted", "reason": f"challenger not promoted: {comparison}"}
    store.set_alias(alias, version.version,
                    reason=f"obskit remediation {rule.key}, run {run_id}: {comparison}")
    return {**base, "decision": "acted", "to_version": version.version, "promoted": True,
            "reason": f"{comparison}: promoted"}
