"""One monitoring run, from logs to the typed result: :func:`analyze` returns an
:class:`Analysis`, which is an :class:`obskit.results.Run`.

Modules, one job each:

- :mod:`~obskit.analysis.run`: :func:`analyze` (orchestration) and :class:`Analysis`;
- :mod:`~obskit.analysis.table`: every monitor on one windowed table (the whole log, or
  one segment);
- :mod:`~obskit.analysis.assemble`: the monitors' frames as window records;
- :mod:`~obskit.analysis.drift_rules`: each feature's drift rule and drift summary;
- :mod:`~obskit.analysis.judge`: the alert rules in force, judged on the windows;
- :mod:`~obskit.analysis.segments`: the segments against their own references;
- :mod:`~obskit.analysis.anomalies`: the anomalies section (flagged rows, anomalous
  windows, SHAP / LIME explanations);
- :mod:`~obskit.analysis.reference_cache`: fitted reference statistics kept on disk.
"""

from obskit.analysis.run import SCHEMA_VERSION, Analysis, analyze

__all__ = ["Analysis", "SCHEMA_VERSION", "analyze"]
