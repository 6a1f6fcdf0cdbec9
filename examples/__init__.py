"""Runnable examples (importable from the repository root: ``examples.service.app``)."""
