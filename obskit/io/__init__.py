"""Reading prediction logs into an engine: sources, typing, quarantine and the label join."""

from obskit.io.logs import LoadedLogs, load_logs

__all__ = ["LoadedLogs", "load_logs"]
