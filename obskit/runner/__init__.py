"""The runner: reports published as folders, on a schedule, for past periods.

Modules, one job each:

- :mod:`~obskit.runner.report`: :func:`run_report` (analyse → execute the notebook →
  render → publish; alerts and sinks) and :class:`RunOutcome`;
- :mod:`~obskit.runner.notebook`: :func:`run_notebook`, a deep-dive notebook as a page;
- :mod:`~obskit.runner.execute`: papermill execution, the kernel's settings, the
  notebooks obskit ships;
- :mod:`~obskit.runner.page`: an executed notebook as one offline HTML page;
- :mod:`~obskit.runner.publish`: atomic run folders, ``latest``, retention, run ids;
- :mod:`~obskit.runner.history`: the history page of a report folder;
- :mod:`~obskit.runner.alert_state`: which alerts are new, ongoing or resolved;
- :mod:`~obskit.runner.schedule`, :mod:`~obskit.runner.cron`,
  :mod:`~obskit.runner.lock`: ``obskit schedule`` / ``run-due``, cron ticks and periods,
  one run at a time per folder;
- :mod:`~obskit.runner.backfill`: ``obskit backfill``.

The runner reads the typed :class:`~obskit.results.Run` of an analysis and keeps its own
facts in a :class:`~obskit.results.RunRecord` beside it. It never imports
:mod:`obskit.cli` (the layer above it).
"""

from obskit.runner.execute import NOTEBOOK, notebook_path
from obskit.runner.notebook import run_notebook
from obskit.runner.page import to_html
from obskit.runner.publish import (
    OWNER_FILE,
    apply_retention,
    clean_stale_tmp,
    process_alive,
    write_history,
)
from obskit.runner.report import REPORT_FAILED_RULE, RunOutcome, run_report
from obskit.runner.warm_kernel import kernel_config

__all__ = ["NOTEBOOK", "OWNER_FILE", "REPORT_FAILED_RULE", "RunOutcome", "apply_retention",
           "clean_stale_tmp", "kernel_config", "notebook_path", "process_alive",
           "run_notebook", "run_report", "to_html", "write_history"]
