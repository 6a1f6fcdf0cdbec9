"""The engine side of :mod:`obskit.monitors.estimation`: calibration in the engine (a
range join), deterministic samples, and each window's expected confusion counts and
expected ROC AUC — from every scored row fetched once and calibrated in numpy, or by the
engine's aggregates when the rows are too many to fetch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from obskit.io.casting import as_label_text
from obskit.metrics import estimation as est
from obskit.metrics import ranking_auc
from obskit.metrics.performance import macro_roc_auc
from obskit.profiles import FETCH_VALUES, W, fetch_by_window

__all__: list[str] = []  # private helpers of obskit.monitors.estimation


#: the most distinct labels mapped to their canonical text one value at a time
MAX_LABEL_VALUES = 1_000


def _label_texts(t: ir.Table, columns: list[str]) -> dict[str, ir.Value]:
    """``as_label_text(t[c])`` of each of ``columns``, worked out once per distinct value
    instead of once per row (a handful of classes; the row-wise expression is a chain of
    regular expressions), the distinct values of every column in one engine query.

    A column whose text is already canonical — a typed log's — is used as it is; other
    values are replaced by their canonical text. Boolean columns, more than
    ``MAX_LABEL_VALUES`` distinct values, or a value whose text is blank keep the row-wise
    expression. The labels are the same either way.
    """
    out: dict[str, ir.Value] = {}
    texts: dict[str, ir.StringValue] = {}
    for c in columns:
        col = t[c]
        if col.type().is_boolean():
            out[c] = as_label_text(col)
        else:
            texts[c] = col if col.type().is_string() else col.cast("string")
    if not texts:
        return out
    parts = []
    for i, text in enumerate(texts.values()):
        v = t.select(_v=text).filter(lambda r: r._v.notnull()).distinct()
        parts.append(v.mutate(_i=i, _c=as_label_text(v._v)).limit(MAX_LABEL_VALUES + 1))
    got = (ibis.union(*parts) if len(parts) > 1 else parts[0]).execute()
    for i, (c, text) in enumerate(texts.items()):
        mine = got[got._i == i]
        if len(mine) > MAX_LABEL_VALUES or mine._c.isna().any():
            out[c] = as_label_text(t[c])
            continue
        changed = {v: k for v, k in zip(mine._v, mine._c, strict=True) if v != k}
        out[c] = text.substitute(changed) if changed else text
    return out


def _calibrate(t: ir.Table, column: str, seg: pd.DataFrame, name: str) -> ir.Table:
    """``t`` with ``name``: the isotonic map ``seg`` applied to ``t[column]`` (clipped to
    the map's range), bit for bit as ``calibrator.predict``."""
    t = t.mutate(_cs=t[column].cast("float64").clip(lower=float(seg.lo.iloc[0]),
                                                    upper=float(seg.lo.iloc[-1])))
    # each segment covers [lo, next lo); a range join, as Spark has no as-of join
    segs = seg.assign(hi=seg.lo.shift(-1, fill_value=float("inf")))
    segs = ibis.memtable(segs.rename(columns=lambda c: f"_cal_{c}"))
    j = t.left_join(segs, (t._cs >= segs._cal_lo) & (t._cs < segs._cal_hi))
    return j.mutate(**{name: j._cal_slope * (j._cs - j._cal_lo) + j._cal_y0}).drop(
        *[c for c in segs.columns], "_cs")


#: the multiplier and modulus of the sample key (an affine map of the row's number modulo
#: 2**32: a bijection, so keys never tie). The multiplier is above 2**31, so every engine
#: multiplies in int64 (Spark's row_number is a 32-bit int, and so would be its product
#: with a smaller literal); the products stay within int64 up to 2**31 rows per window.
_KEY_MULTIPLIER, _KEY_MODULUS = 2_654_435_761, 2**32


def _sample(t: ir.Table, cap: int) -> ir.Table:
    """At most ``cap`` rows per window, the same rows in the same order on every run.

    Rows are numbered in a total order of their columns (equal rows are interchangeable),
    then the ``cap`` with the smallest key ``(number × a + 12345) mod 2**32`` are kept, in
    key order. The key is integer arithmetic, the same on every engine and cheaper than a
    text hash: a fixed scramble of the numbers that spreads the sample evenly over the
    rows' order.
    """
    cols = [c for c in t.columns if c != W]
    num = ibis.row_number().over(group_by=W, order_by=[t[c] for c in cols])
    t = t.mutate(_num=num, _key=(num * _KEY_MULTIPLIER + 12_345) % _KEY_MODULUS)
    # the number breaks ties (none below 2**32 rows a window)
    rank = ibis.row_number().over(group_by=W, order_by=[t._key, t._num])
    kept = t.mutate(_rank=rank).filter(lambda s: s._rank < cap)
    return kept.order_by([W, "_key", "_num"]).drop("_num", "_key", "_rank")


def _expected(roc_auc: float, P: float, N: float) -> float | None:
    return float(roc_auc) if P > 0 and N > 0 else None


def _counts(s: np.ndarray, pw: np.ndarray, yw: np.ndarray) -> dict[str, Any]:
    """Rows, expected confusion counts and expected ROC AUC of one window's rows."""
    tp, fp = float((pw * yw).sum()), float(((1.0 - pw) * yw).sum())
    auc, _, P, N = ranking_auc(s, pw, 1.0 - pw)
    return {"n": pw.size, "tp": tp, "fp": fp, "fn": float(pw.sum()) - tp,
            "tn": float((1.0 - pw).sum()) - fp, "roc_auc": _expected(auc, P, N)}


def _local_expected_counts(t: ir.Table, segments: pd.DataFrame,
                           fetch_values: int = FETCH_VALUES
                           ) -> dict[int, dict[str, Any]] | None:
    """Per window: rows, expected confusion counts (tp = Σ p over predicted positives, …)
    and the area under the expected ROC curve (weights p and 1 − p), from every scored
    row (``score``, ``_yhat``) in one query, calibrated in numpy by ``segments``; None
    above ``fetch_values`` values."""
    windows = fetch_by_window(t, {"s": t.score, "yhat": t._yhat}, fetch_values=fetch_values)
    if windows is None:
        return None
    return {w: _counts(c["s"], est.calibrate_scores(c["s"], segments), c["yhat"])
            for w, c in windows}


def _local_class_counts(t: ir.Table, class_scores: Mapping[str, str],
                        segments: Mapping[str, pd.DataFrame], fetch_values: int = FETCH_VALUES
                        ) -> list[dict[int, dict[str, Any]]] | None:
    """Per class, :func:`_local_expected_counts` of its calibrated, renormalised probability
    (ranked by it), from one query of every class column; None above ``fetch_values``."""
    cols: dict[str, ir.Value] = {}
    for i, (cls, col) in enumerate(class_scores.items()):
        cols[f"s{i}"], cols[f"y{i}"] = t[col], t._yhat == cls
    windows = fetch_by_window(t, cols, fetch_values=fetch_values)
    if windows is None:
        return None
    k = len(class_scores)
    per_class: list[dict[int, dict[str, Any]]] = [{} for _ in range(k)]
    for w, c in windows:
        cal = [est.calibrate_scores(c[f"s{i}"], segments[cls])
               for i, cls in enumerate(class_scores)]
        total = cal[0]
        for x in cal[1:]:
            total = total + x
        with np.errstate(invalid="ignore", divide="ignore"):
            for i in range(k):
                p = np.where(total > 0, cal[i] / total, 1.0 / k)
                per_class[i][w] = _counts(p, p, c[f"y{i}"])
    return per_class


def _engine_expected_counts(t: ir.Table) -> dict[int, dict[str, Any]]:
    """:func:`_local_expected_counts` by the engine's aggregates and window functions."""
    pos = ibis.ifelse(t._yhat, t._p, 0.0)
    neg = ibis.ifelse(t._yhat, 1.0 - t._p, 0.0)
    counts = t.group_by(W).aggregate(
        n=t.count(), tp=pos.sum(), fp=neg.sum(),
        fn=(t._p - pos).sum(), tn=((1.0 - t._p) - neg).sum(),
    ).execute()
    levels = t.group_by([W, "score"]).aggregate(pos=t._p.sum(), neg=(1.0 - t._p).sum())
    upto = ibis.cumulative_window(group_by=W, order_by="score")
    whole = ibis.window(group_by=W)
    levels = levels.mutate(neg_below=levels.neg.sum().over(upto) - levels.neg,
                           P=levels.pos.sum().over(whole), N=levels.neg.sum().over(whole))
    term = levels.pos * (levels.neg_below + 0.5 * levels.neg)
    auc = levels.group_by(W).aggregate(won=term.sum(), P=levels.P.max(),
                                       N=levels.N.max()).execute().set_index(W)
    out = {}
    for r in counts.itertuples():
        a = auc.loc[r.window_index]
        out[int(r.window_index)] = {
            "n": int(r.n), "tp": float(r.tp), "fp": float(r.fp), "fn": float(r.fn),
            "tn": float(r.tn),
            "roc_auc": float(a.won / (a.P * a.N)) if a.P > 0 and a.N > 0 else None}
    return out


def _multiclass_rows(per_class: list[dict[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The estimated multiclass metrics per window from each class's expected counts."""
    rows = []
    for w in sorted(per_class[0]):
        counts = [c[w] for c in per_class]
        n = int(counts[0]["n"])
        f1s = [2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"])
               if (2 * c["tp"] + c["fp"] + c["fn"]) else 0.0 for c in counts]
        rows.append({W: w, "n": n,
                     "accuracy": sum(c["tp"] for c in counts) / n if n else None,
                     "f1_macro": float(np.mean(f1s)),
                     "roc_auc": macro_roc_auc([c["roc_auc"] for c in counts])})
    return rows
