"""Metric and confidence-interval functions over window aggregates.

The modules here are private; the public names are re-exported by :mod:`obskit.performance`.
"""
