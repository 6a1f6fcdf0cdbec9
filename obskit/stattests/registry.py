"""The drift methods by name: each statistic of :mod:`obskit.stattests`, its input, its
default threshold and which side of it means drift (Evidently 0.7's, see
:mod:`obskit.stattests.drift_rules`).

The registry lives with the statistics so that the config can validate a method name
without importing the monitors.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from obskit._registry import Registry
from obskit.stattests._distances import (
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    linf_distance,
    population_stability_index,
    total_variation_distance,
    wasserstein_distance_norm,
)
from obskit.stattests._tests import (
    anderson_pvalue,
    chisquare_homogeneity_pvalue,
    chisquare_pvalue,
    cramer_von_mises_pvalue,
    ks_pvalue,
    z_pvalue,
)
from obskit.thresholds import ConstantThreshold, ReferenceThreshold

__all__ = ["DriftMethod", "DriftRule", "METHODS"]

_COMPARE = {"ge": operator.ge, "lt": operator.lt, "le": operator.le}


@dataclass(frozen=True)
class DriftMethod:
    """A drift statistic: its input, default threshold and which side means drift.

    ``kind`` is ``"numeric"`` (the function takes sorted values and their counts in each
    sample, plus ``reference_std=``) or ``"categorical"`` (aligned counts per category or
    bin). ``binned``: the method also applies to a numeric feature through its histogram.
    ``is_pvalue``: the value is a p-value and lower means more drift; ``drifted_when`` is
    the comparison with the threshold (``ge``, ``lt`` or ``le``), Evidently's per method.
    """

    name: str
    kind: str
    default_threshold: float
    label: str
    description: str
    function: Callable[..., float]
    is_pvalue: bool = False
    binned: bool = False
    drifted_when: str = "ge"
    needs_sample: bool = False

    def drifted(self, value: float, threshold: float) -> bool:
        """The verdict for one value against one threshold.

        Parameters
        ----------
        value : float
            The statistic (p-value or distance).
        threshold : float
            Its threshold.

        Returns
        -------
        bool
            Drifted: ``value`` compared with ``threshold`` by the method's ``drifted_when``
            (``ge``, ``lt`` or ``le``).
        """
        return bool(_COMPARE[self.drifted_when](value, threshold))


METHODS: Registry[DriftMethod] = Registry("drift method")


def _register(name: str, kind: str, threshold: float, label: str, description: str,
              function: Callable[..., float], **kw: object) -> None:
    METHODS.register(name, DriftMethod(name, kind, threshold, label, description, function,
                                       **kw))  # type: ignore[arg-type]


_register("wasserstein", "numeric", 0.1, "Wasserstein (normed)",
          "Wasserstein distance normed by the reference standard deviation",
          wasserstein_distance_norm)
_register("ks", "numeric", 0.05, "Kolmogorov–Smirnov p-value",
          "two-sample Kolmogorov–Smirnov test", ks_pvalue, is_pvalue=True, drifted_when="le")
_register("anderson", "numeric", 0.1, "Anderson–Darling p-value",
          "Anderson–Darling k-sample test (on bounded samples)", anderson_pvalue,
          is_pvalue=True, drifted_when="lt", needs_sample=True)
_register("cramer_von_mises", "numeric", 0.1, "Cramér–von Mises p-value",
          "two-sample Cramér–von Mises test (on bounded samples)", cramer_von_mises_pvalue,
          is_pvalue=True, drifted_when="le", needs_sample=True)
_register("psi", "categorical", 0.1, "PSI", "population stability index",
          population_stability_index, binned=True)
_register("jensenshannon", "categorical", 0.1, "Jensen–Shannon",
          "Jensen–Shannon distance between shares", jensenshannon_distance, binned=True)
_register("hellinger", "categorical", 0.1, "Hellinger", "Hellinger distance between shares",
          hellinger_distance, binned=True)
_register("kl_div", "categorical", 0.1, "Kullback–Leibler",
          "Kullback–Leibler divergence of the current shares from the reference",
          kl_divergence, binned=True)
_register("chisquare", "categorical", 0.05, "chi-square p-value", "chi-square test",
          chisquare_pvalue, is_pvalue=True, drifted_when="lt")
_register("chisquare_homogeneity", "categorical", 0.05, "chi-square homogeneity p-value",
          "chi-square test of homogeneity of reference and window counts",
          chisquare_homogeneity_pvalue, is_pvalue=True, drifted_when="lt")
_register("z", "categorical", 0.05, "Z-test p-value", "Z-test for two proportions",
          z_pvalue, is_pvalue=True, drifted_when="lt")
_register("tvd", "categorical", 0.1, "total variation",
          "total variation distance between shares", total_variation_distance)
_register("linf", "categorical", 0.1, "L-infinity", "L-infinity distance between shares",
          linf_distance)


@dataclass(frozen=True)
class DriftRule:
    """The drift method and threshold applied to a feature (or a feature type).

    ``threshold`` is the constant threshold (the method's default unless configured);
    ``threshold_rule`` says how the threshold in force is found: ``None`` (the global
    ``drift.threshold``), :class:`~obskit.thresholds.ConstantThreshold` or
    :class:`~obskit.thresholds.ReferenceThreshold`.
    """

    method: str
    threshold: float
    threshold_rule: ConstantThreshold | ReferenceThreshold | None = None
    #: why this rule was chosen over the default, for readers (e.g. an id-like column)
    note: str | None = None
