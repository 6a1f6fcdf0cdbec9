"""Tests for obskit.render: fragments escape data, stay offline, and never crash on gaps."""

from __future__ import annotations

import base64
import copy
import re

import pytest
from matplotlib.figure import Figure

from obskit import render
from obskit.results import Distribution, Window, load, load_record

XSS = "<script>alert(1)</script>"
FRAGMENTS = (
    render.header_html,
    render.summary_tiles_html,
    render.findings_html,
    render.drift_table_html,
    render.data_quality_html,
    render.data_quality_table_html,
    render.methods_html,
)
FIGURES = (render.health_figure, render.performance_figure, render.drift_figure,
           render.data_quality_figure)


def make_summary(n_windows: int = 4, *, hour: int = 0, evil: str = "") -> dict:
    """A small summary.json with ``n_windows`` daily windows; ``evil`` is planted in every
    string that comes from data (title, a feature, a category, quarantine, findings...)."""
    odd = f"odd{evil}"  # a feature name carrying the payload
    features = {"age": "numeric", "utilization": "numeric", "region": "categorical",
                odd: "categorical"}
    methods = {f: {"method": "wasserstein" if t == "numeric" else "jensenshannon",
                   "threshold": 0.1} for f, t in features.items()}
    # utilization drifts from window 1, odd from window 2 with a larger score, age never
    values = {"age": [0.01] * n_windows,
              "utilization": [0.02] + [0.5 + 0.1 * i for i in range(n_windows - 1)],
              "region": [0.02] * (n_windows - 1) + [0.3],
              odd: [0.0, 0.0] + [4.0] * (n_windows - 2)}
    windows = []
    for i in range(n_windows):
        start = f"2026-11-{i + 1:02d}T{hour:02d}:00:00Z"
        end = f"2026-11-{i + 2:02d}T{hour:02d}:00:00Z"
        drift = {f: {"method": methods[f]["method"], "value": values[f][i],
                     "threshold": 0.1, "drifted": values[f][i] > 0.1} for f in features}
        drifted = [f for f, d in drift.items() if d["drifted"]]
        missing = 0.5 if i == 2 else 0.01  # age goes half missing in window 2
        quality = {f: {"rows": 1000, "values": 990, "missing": int(1000 * missing),
                       "missing_share": missing, "reference_missing_share": 0.01,
                       "missing_increase": missing - 0.01} for f in features}
        quality["region"].update(unseen=5, unseen_share=0.005, reference_unseen_share=0.0,
                                 unseen_increase=0.005)
        windows.append({
            "index": 100 + i, "start": start, "end": end, "rows": 1000 + 10 * i,
            "status": "ok", "labelled_rows": 1000 - 200 * i,
            "label_coverage": (1000 - 200 * i) / (1000 + 10 * i), "mean_score": 0.2,
            "performance": {"accuracy": 0.8 - 0.05 * i, "roc_auc": 0.77 - 0.04 * i},
            "drift": drift, "drifted_features": drifted, "data_quality": quality,
            "drift_share": len(drifted) / len(features),
            "health": {"latency_p50_ms": 40.0, "latency_p95_ms": 120.0 + 500 * (i == 2),
                       "latency_p99_ms": 200.0 + 1500 * (i == 2), "errors": 3,
                       "error_rate": 0.003 + 0.1 * (i == 3)},
        })
    drift_summary = {}
    for f in features:
        drifted_at = [w["start"] for w in windows if w["drift"][f]["drifted"]]
        drift_summary[f] = {"type": features[f], "method": methods[f]["method"],
                            "threshold": 0.1, "windows": n_windows,
                            "drifted_windows": len(drifted_at),
                            "first_drifted": drifted_at[0] if drifted_at else None,
                            "max_value": max(values[f]), "last_value": values[f][-1]}
    return {
        "schema_version": "1.0", "obskit_version": "0.1.0",
        "generated_at": "2026-11-26T18:03:50.412844Z",
        "title": f"Credit model{evil}", "status": "alert", "task": "binary", "window": "1d",
        "period": {"start": windows[0]["start"] if windows else None,
                   "end": windows[-1]["end"] if windows else None},
        "rows": {"read": 4100, "current": 4060, "quarantined": 40, "reference": 2000,
                 "reference_quarantined": 1},
        "labels": {"read": 2000, "used": 1990, "quarantined": 5, "duplicates": 5,
                   "matched": 1980, "unmatched": 10},
        "quarantine": {"by_reason": {f"bad_timestamp{evil}": 30, "missing_score": 10},
                       "examples": [{"file": f"/data/logs/day1{evil}.jsonl", "line": 17,
                                     "reason": "bad_timestamp",
                                     "detail": f"could not parse {evil}"}]},
        "sources": {"current": ["/data/logs/day1.jsonl"], "reference": ["/data/ref.parquet"]},
        "features": features,
        "reference": {"performance": {"accuracy": 0.8, "roc_auc": 0.77}},
        "windows": windows,
        "drift_summary": drift_summary,
        "data_quality": {f: {"type": t, "rows": 1000 * n_windows, "values": 990 * n_windows,
                             "missing": {"count": 10, "share": 0.01, "reference_share": 0.01,
                                         "max_increase": 0.49,
                                         "worst_window": f"2026-11-03T{hour:02d}:00:00Z"}}
                         for f, t in features.items()},
        "distributions": {
            "age": {"kind": "numeric", "edges": [float("-inf"), 18.0, 40.0, 60.0, float("inf")],
                    "reference": [0, 40, 50, 10], "current": [0, 30, 50, 20]},
            "utilization": {"kind": "numeric", "edges": [float("-inf"), 0.0, 0.5, float("inf")],
                            "reference": [0, 70, 30], "current": [0, 20, 80]},
            "region": {"kind": "categorical", "categories": ["north", f"south{evil}"],
                       "reference": [60, 40], "current": [40, 60]},
            odd: {"kind": "categorical", "categories": [f"c{i}" for i in range(12)],
                  "reference": list(range(12)), "current": list(range(12, 0, -1))},
        },
        "alerts": [
            {"rule": "latency_p95", "metric": "health.latency_p95_ms", "window": 102,
             "window_start": windows[2]["start"] if n_windows > 2 else None,
             "window_end": None, "op": ">", "value": 620.0, "threshold": 500.0,
             "severity": "critical", "reference": None},
            {"rule": "performance_drop", "metric": "performance.roc_auc", "window": 101,
             "window_start": windows[1]["start"] if n_windows > 1 else None,
             "window_end": None, "op": "drop_pct", "value": 0.73, "threshold": 0.7315,
             "severity": "warning", "reference": 0.77},
        ],
        "insufficient_data": [{"rule": f"custom{evil}", "metric": "performance.f1",
                               "window": 100, "window_start": None, "window_end": None}],
        "alert_rules": [
            {"name": "drift_share", "metric": "drift_share", "op": ">", "value": 0.3,
             "severity": "warning"},
            {"name": "latency_p95", "metric": "health.latency_p95_ms", "op": ">",
             "value": 500.0, "severity": "critical"},
            {"name": "error_rate", "metric": "health.error_rate", "op": ">", "value": 0.05,
             "severity": "critical"},
            {"name": f"performance_drop{evil}", "metric": "performance.*", "op": "drop_pct",
             "value": 5.0, "severity": "warning"},
        ],
        "alert_rules_default": False,
        "findings": [
            {"severity": "critical", "kind": "latency_p95", "section": "health",
             "text": f"p95 latency > 500 ms{evil}", "next_step": f"Check traces{evil}"},
            {"severity": "warning", "kind": "feature_drift", "section": "drift",
             "text": "utilization drifted", "next_step": "Compare distributions."},
            {"severity": "info", "kind": "label_coverage", "section": "javascript:alert(1)",
             "text": "Few labels.", "next_step": None},
        ],
        "notes": [f"Timestamps without a time zone were taken as UTC.{evil}"],
        "methods": {"drift": methods, "min_window_rows": 50,
                    "latency_quantiles": "exact, linear interpolation"},
        "error": None,
    }


def all_fragments(summary: dict) -> dict[str, str]:
    run = load(summary)
    out = {fn.__name__: fn(run) for fn in FRAGMENTS}
    out["header_html"] = render.header_html(run, load_record(summary))  # with its error
    return out


def data_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# --------------------------------------------------------------------------- basics


def test_full_summary_renders():
    summary = make_summary()
    for name, out in all_fragments(summary).items():
        assert isinstance(out, str) and out.strip(), name
    for fn in FIGURES:
        assert isinstance(fn(load(summary)), Figure), fn.__name__
    css = render.report_css()
    assert css.startswith("<style>") and css.rstrip().endswith("</style>")


def test_summary_is_not_modified():
    summary = make_summary()
    before = copy.deepcopy(summary)
    all_fragments(summary)
    for fn in FIGURES:
        fn(load(summary))
    assert summary == before


def test_figure_to_data_uri_is_png():
    uri = render.figure_to_data_uri(render.health_figure(load(make_summary())))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def _axes_sparkline(dist):
    """The sparkline as first drawn, on an axis-less Axes (the reference for its pixels)."""
    import numpy as np

    from obskit.render.common import COLOR_CURRENT, COLOR_REFERENCE

    ref = np.asarray(dist.reference, dtype=float)
    cur = np.asarray(dist.current, dtype=float)
    ref, cur = ref / ref.sum(), cur / cur.sum()
    fig = Figure(figsize=(2.4, 0.8), dpi=72)
    ax = fig.add_axes((0.01, 0.04, 0.98, 0.92))
    if dist.kind == "categorical":
        top = np.argsort(-(ref + cur), kind="stable")[:8]
        x = np.arange(len(top))
        ax.bar(x - 0.2, ref[top], width=0.4, color=COLOR_REFERENCE)
        ax.bar(x + 0.2, cur[top], width=0.4, color=COLOR_CURRENT)
        ax.set_xlim(-0.6, len(top) - 0.4)
    else:
        edges = np.arange(len(ref) + 1) - 0.5
        ax.stairs(ref, edges, fill=True, color=COLOR_REFERENCE)
        ax.stairs(cur, edges, color=COLOR_CURRENT, lw=1.3)
        ax.set_xlim(-0.5, len(ref) - 0.5)
    ax.set_ylim(0, max(ref.max(), cur.max()) * 1.08)
    ax.set_axis_off()
    return fig


@pytest.mark.parametrize("dist", [
    Distribution(kind="numeric", edges=(None, 0.0, 1.0, 2.0, None), reference=(5, 40, 50, 5),
                 current=(0, 10, 60, 30)),
    Distribution(kind="categorical", categories=tuple("abcdefghij"),
                 reference=(9, 1, 30, 2, 2, 7, 0, 4, 8, 3),
                 current=(2, 2, 10, 40, 1, 0, 5, 6, 3, 9)),
])
def test_sparkline_has_the_pixels_of_an_axisless_axes(dist):
    """Drawn straight on its figure (no Axes to build), the sparkline keeps the pixels of
    the same bars and steps on an axis-less Axes."""
    from obskit.render.drift_figures import sparkline_figure

    got = base64.b64decode(render.figure_to_data_uri(sparkline_figure(dist)).split(",")[1])
    want = base64.b64decode(render.figure_to_data_uri(_axes_sparkline(dist)).split(",")[1])
    assert got == want


@pytest.mark.parametrize("dpi", [None, 50])
def test_figure_to_data_uri_has_savefig_pixels(dpi):
    """One layout and draw on an Agg canvas gives the pixels (and resolution) of
    ``savefig``, which lays a constrained figure out twice; the figure keeps its dpi."""
    import io

    import numpy as np
    from PIL import Image

    def pixels(png: bytes) -> tuple[np.ndarray, object]:
        image = Image.open(io.BytesIO(png))
        return np.asarray(image.convert("RGBA")), image.info.get("dpi")

    for fn in (*FIGURES, render.multivariate_figure):
        summary = load(make_summary())
        buf = io.BytesIO()
        fig = fn(summary)
        if fig is None:
            continue
        fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
        fig = fn(summary)
        uri = render.figure_to_data_uri(fig, dpi=dpi)
        assert fig.dpi == 100
        got, want = pixels(base64.b64decode(uri.split(",", 1)[1])), pixels(buf.getvalue())
        assert got[0].shape == want[0].shape and (got[0] == want[0]).all()
        assert got[1] == want[1]


# --------------------------------------------------------------------------- escaping


def test_planted_script_comes_out_escaped_only():
    summary = make_summary(evil=XSS)
    summary["status"] = "failed"
    summary["error"] = f"NotebookError: cell 3 failed {XSS}"
    fragments = all_fragments(summary)
    for name, out in fragments.items():
        assert "<script" not in out.lower(), name
    # each planted place shows up, escaped, in the fragment that shows it
    for name in ("header_html", "findings_html", "drift_table_html", "data_quality_html",
                 "methods_html"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragments[name], name
    header = fragments["header_html"]
    assert "Credit model&lt;script&gt;" in header  # title
    assert "NotebookError: cell 3 failed &lt;script&gt;" in header  # error message
    assert "UTC.&lt;script&gt;" in header  # notes
    table = fragments["drift_table_html"]
    assert "odd&lt;script&gt;" in table  # feature name
    assert "south&lt;script&gt;" in table  # category value (alt text)
    quality = fragments["data_quality_html"]
    assert "could not parse &lt;script&gt;" in quality  # detail
    assert "<td>script&gt;.jsonl</td>" in quality  # file basename (after the "/" of </script>)
    assert "bad_timestamp&lt;script&gt;" in quality  # reason
    assert "Check traces&lt;script&gt;" in fragments["findings_html"]
    assert "performance_drop&lt;script&gt;" in fragments["methods_html"]  # rule name


def test_quotes_in_data_cannot_break_attributes():
    summary = make_summary(evil='" onerror="x')
    for name, out in all_fragments(summary).items():
        assert 'onerror="x' not in out, name


def test_figures_accept_mathtext_and_markup_in_names():
    summary = make_summary(evil="$\\frac{<b>$")
    for fn in FIGURES:
        render.figure_to_data_uri(fn(load(summary)))  # would raise on unescaped mathtext


# --------------------------------------------------------------------------- offline


def test_no_network_no_scripts():
    summary = make_summary(evil=XSS)
    html = render.report_css() + "".join(all_fragments(summary).values())
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert "@import" not in html and "url(" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:image/png;base64,")
    assert set(re.findall(r'href="([^"]*)"', html)) <= {
        "summary.json", "../index.html", "#health", "#performance", "#drift", "#data-quality"}


def test_header_links_and_accounting():
    header = render.header_html(load(make_summary()))
    assert 'href="summary.json"' in header and 'href="../index.html"' in header
    assert "4,060 used + 40 quarantined = 4,100" in header
    assert "2,000 reference rows" in header
    assert "2026-11-01 to 2026-11-05" in header
    assert "4 windows" in header
    assert "2026-11-26 18:03 UTC" in header
    assert "Timestamps without a time zone were taken as UTC." in header
    assert 'obskit-badge alert' in header


# --------------------------------------------------------------------------- content


def test_findings_order_badges_and_links():
    summary = make_summary()
    summary["findings"] = list(reversed(summary["findings"]))  # robust to order
    out = render.findings_html(load(summary))
    assert out.index("critical") < out.index("warning") < out.index("info")
    assert 'href="#health"' in out and 'href="#drift"' in out
    assert "javascript" not in out  # an unknown section gets no link
    assert "Next step: Check traces" in out


def test_tiles_show_rounded_latest_values():
    out = render.summary_tiles_html(load(make_summary()))
    assert "3 / 4" in out  # utilization, region and odd drifted in some window
    assert "120 ms" in out  # latest p95 latency
    assert "10.3%" in out  # latest error rate
    assert "0.65" in out and "reference 0.77" in out  # latest ROC AUC vs reference
    assert ">2</div>" in out  # alerts fired


def test_drift_table_sorted_by_severity_with_sparklines():
    summary = make_summary()
    out = render.drift_table_html(load(summary))
    names = re.findall(r"<td><strong>(.*?)</strong></td>", out)
    # utilization: 3 drifted windows; odd: 2 (max 4.0); region: 1; age: 0
    assert names == ["utilization", "odd", "region", "age"]
    assert out.count('<img class="spark"') == 4
    assert 'src="data:image/png;base64,' in out
    assert "3 of 4" in out and "2026-11-02" in out
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', out):
        assert len(base64.b64decode(uri)) < 5000  # sparklines stay small


def test_drift_tables_quote_the_worst_value_in_the_method_direction():
    """A p-value method's headline is its smallest p-value (the drifted window), not the
    largest (``max_value``), in the report table, the rich repr's table and the order."""
    from obskit.render.rich import summary_html

    summary = make_summary()
    common = {"type": "numeric", "threshold": 0.05, "threshold_kind": "fdr", "windows": 4,
              "drifted_windows": 1, "first_drifted": "2026-11-03T00:00:00Z"}
    summary["drift_summary"] = {
        "mild": {**common, "method": "ks", "max_value": 0.9, "worst_value": 0.01,
                 "last_value": 0.3},
        "utilization": {**common, "method": "ks", "max_value": 0.756, "worst_value": 0.0,
                        "last_value": 0.0}}
    out = render.drift_table_html(load(summary))
    names = re.findall(r"<td><strong>(.*?)</strong></td>", out)
    assert names == ["utilization", "mild"]  # p = 0 is the more severe
    cells = re.findall(r"<td class=num>(.*?)</td>", out)
    assert "0.756" not in cells and "0.9" not in cells
    assert "Worst" in out
    rich = summary_html(load(summary))
    assert "0.756" not in re.findall(r"<td class=num>(.*?)</td>", rich)


def test_drift_table_collapses_long_tables():
    summary = make_summary()
    extra = {f"f{i:02d}": {"type": "numeric", "method": "wasserstein", "threshold": 0.1,
                           "windows": 4, "drifted_windows": 0, "first_drifted": None,
                           "max_value": 0.01, "last_value": 0.01} for i in range(30)}
    summary["drift_summary"].update(extra)
    out = render.drift_table_html(load(summary))
    assert "<details><summary>9 more features</summary>" in out


def test_hourly_windows_show_time():
    fig = render.health_figure(load(make_summary(hour=13)))
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert labels[0] == "2026-11-01 13:00"
    daily = render.health_figure(load(make_summary()))
    assert [t.get_text() for t in daily.axes[-1].get_xticklabels()][0] == "2026-11-01"


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize("fn", FIGURES, ids=lambda f: f.__name__)
def test_figures_have_titles_and_labels(fn):
    fig = fn(load(make_summary()))
    assert fig._suptitle is not None and fig._suptitle.get_text()
    axes = data_axes(fig)
    assert axes
    for ax in axes:
        assert ax.get_title(), ax
        assert ax.get_ylabel(), ax
    assert axes[-1].get_xlabel() == "Window start (UTC)"


def test_health_thresholds_dashed_and_units():
    fig = render.health_figure(load(make_summary()))
    rows, latency, errors = fig.axes[:3]
    assert [ax.get_title() for ax in (rows, latency, errors)] == [
        "Volume", "Latency quantiles", "Error rate"]
    assert "ms" in latency.get_ylabel() and "%" in errors.get_ylabel()

    def dashed_at(ax, y):
        return any(line.get_linestyle() == "--" and list(line.get_ydata()) == [y, y]
                   for line in ax.get_lines())

    assert dashed_at(latency, 500.0)
    assert dashed_at(errors, 5.0)  # 0.05 drawn as a percentage


def test_performance_reference_dashed_and_coverage_panel():
    fig = render.performance_figure(load(make_summary()))
    axes = data_axes(fig)
    assert [ax.get_title().split(" (")[0] for ax in axes] == [
        "ROC AUC", "Accuracy", "Label coverage"]  # the headline metric first
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == 0.77
               for line in axes[0].get_lines())
    assert "%" in axes[-1].get_ylabel()


def test_performance_draws_intervals_and_estimates():
    summary = make_summary()
    for i, w in enumerate(summary["windows"]):
        w["performance_ci"] = {"roc_auc": [0.7, 0.8]}
        w["estimated_performance"] = {"roc_auc": 0.74 - 0.01 * i}
        w["estimated_performance_ci"] = {"roc_auc": [0.7 - 0.01 * i, 0.78 - 0.01 * i]}
    fig = render.performance_figure(load(summary))
    auc = data_axes(fig)[0]
    labels = auc.get_legend_handles_labels()[1]
    assert "realized, 95% interval" in labels and "estimated (no labels)" in labels
    assert "estimated, sampling error" in labels


def test_drift_figure_has_threshold_and_heatmap():
    fig = render.drift_figure(load(make_summary()))
    share, heat = data_axes(fig)
    assert any(line.get_linestyle() == "--" for line in share.get_lines())
    assert heat.images and heat.images[0].get_array().max() <= 3.0
    assert [t.get_text() for t in heat.get_yticklabels()][0] == "utilization"


# --------------------------------------------------------------------------- edge cases


def test_no_windows():
    summary = make_summary()
    summary["windows"] = []
    summary["drift_summary"] = {}
    assert render.health_figure(load(summary)) is None
    assert render.performance_figure(load(summary)) is None
    assert render.drift_figure(load(summary)) is None
    for out in all_fragments(summary).values():
        assert isinstance(out, str)


def test_no_labels():
    summary = make_summary()
    summary["labels"] = None
    summary["reference"] = {"performance": {}}
    for w in summary["windows"]:
        w["performance"] = {}
        w["label_coverage"] = None
        w["labelled_rows"] = None
    assert render.performance_figure(load(summary)) is None
    fragments = all_fragments(summary)
    assert "no label source" in fragments["header_html"].lower()
    assert "No label source" in fragments["data_quality_html"]
    assert isinstance(render.health_figure(load(summary)), Figure)


def test_all_null_metrics():
    summary = make_summary()
    for w in summary["windows"]:
        w["rows"] = None
        w["drift_share"] = None
        w["performance"] = {"accuracy": None, "roc_auc": None}
        w["health"] = {k: None for k in w["health"]}
        w["drift"] = {f: {"method": None, "value": None, "threshold": None, "drifted": None}
                      for f in w["drift"]}
    for d in summary["drift_summary"].values():
        d.update(drifted_windows=None, max_value=None, last_value=None, first_drifted=None)
    summary["reference"] = None
    assert render.performance_figure(load(summary)) is None
    assert render.drift_figure(load(summary)) is None
    fig = render.health_figure(load(summary))
    render.figure_to_data_uri(fig)
    fragments = all_fragments(summary)
    assert "n/a" in fragments["summary_tiles_html"]
    assert "n/a" in fragments["drift_table_html"]


def test_empty_distributions():
    summary = make_summary()
    summary["distributions"] = {}
    out = render.drift_table_html(load(summary))
    assert "<img" not in out and "no data" in out


def test_degenerate_distributions():
    summary = make_summary()
    summary["distributions"]["age"] = {"kind": "numeric", "edges": None,
                                       "reference": None, "current": [0, 0]}
    summary["distributions"]["region"] = {"kind": "categorical", "categories": [],
                                          "reference": [], "current": []}
    assert "no data" in render.drift_table_html(load(summary))


@pytest.mark.parametrize("summary", [{}, {k: None for k in make_summary()}],
                         ids=["empty", "all-null"])
def test_empty_or_null_summary(summary):
    for out in all_fragments(summary).values():
        assert isinstance(out, str)
    for fn in FIGURES:
        assert fn(load(summary)) is None


def test_anomalies_fragment_escapes_and_bounds_rows():
    rows = [{"request_id": f"<script>r{i}</script>", "trace_id": "t", "window": 0,
             "window_start": "2026-11-01T00:00:00Z", "reasons": ["unseen_category:<b>c</b>"],
             "severity": 10 - i / 100, "score": 0.5, "latency_ms": 10.0,
             "model_version": "v1"} for i in range(300)]
    summary = {"anomalies": rows, "window_anomalies": [],
               "explanations": {"status": "explanations need a model"}}
    html = render.anomalies_html(load(summary), limit=20)
    assert "<script>" not in html and "&lt;script&gt;r0&lt;/script&gt;" in html
    assert "&lt;b&gt;c&lt;/b&gt;" in html
    assert html.count("<tr>") == 20 + 80 + 2  # shown, folded, two header rows
    assert "All 300 flagged predictions" in html and "need a model" in html


def test_findings_show_the_deep_dive_command_escaped():
    from obskit.findings import deep_dive_command
    from obskit.render import findings_html

    command = deep_dive_command({"config_path": "/d/config.yml"}, "deep-dive", "--feature",
                                "<b>x</b>")
    html = findings_html(load({"findings": [{"severity": "warning", "kind": "feature_drift",
                                             "text": "drifted", "command": command}]}))
    assert "Deep dive: <code>obskit deep-dive --config /d/config.yml --feature " \
           "&#x27;&lt;b&gt;x&lt;/b&gt;&#x27;</code>" in html


def test_health_leaves_out_series_the_logs_lack_and_says_why():
    summary = make_summary()
    summary["roles"] = ["timestamp", "score", "label", "status"]  # no latency_ms
    fig = render.health_figure(load(summary))
    assert [ax.get_title() for ax in fig.axes] == ["Volume", "Error rate"]
    assert fig.axes[-1].get_xlabel() == "Window start (UTC)"
    notes = render.health_notes_html(load(summary))
    assert "Latency not logged (no latency_ms column)" in notes and "Errors" not in notes
    assert "p95 latency" not in render.summary_tiles_html(load(summary))
    assert "Error rate, latest" in render.summary_tiles_html(load(summary))
    assert "Latency quantiles" not in render.methods_html(load(summary))
    summary["roles"].append("latency_ms")
    assert render.health_notes_html(load(summary)) == ""
    assert len(render.health_figure(load(summary)).axes) == 3


def test_latency_logged_without_values_draws_no_threshold_through_the_note():
    summary = make_summary()
    for w in summary["windows"]:
        w["health"] = {"errors": 0, "error_rate": 0.0}
    latency = render.health_figure(load(summary)).axes[1]
    assert [t.get_text() for t in latency.texts] == ["no latency values in these windows"]
    assert not [line for line in latency.get_lines() if line.get_linestyle() == "--"]


def test_anomaly_columns_of_roles_the_logs_lack_are_left_out():
    rows = [{"request_id": f"r{i}", "trace_id": None, "window_start": "2026-11-01T00:00:00Z",
             "reasons": ["score_outlier"], "severity": 3.0, "score": 0.9,
             "latency_ms": None, "model_version": None, "top_features": []}
            for i in range(3)]
    summary = {"anomalies": rows, "roles": ["timestamp", "request_id", "score", "label"],
               "explanations": {"status": "explanations need a model"}}
    html = render.anomalies_html(load(summary))
    header = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", html)
    assert header == ["Request", "Window", "Reasons", "Severity", "Score"]
    assert "n/a" not in html and "—" not in html
    summary["roles"] += ["trace_id", "model_version", "latency_ms"]
    rows[0]["top_features"] = ["income"]
    assert re.findall(r"<th(?: [^>]*)?>(.*?)</th>", render.anomalies_html(load(summary))) == [
        "Request", "Trace", "Window", "Version", "Reasons", "Severity", "Score", "Latency",
        "Top SHAP features"]


def test_explorer_window_view_leaves_out_health_the_logs_lack():
    from obskit.render.views import window_html

    summary = make_summary()
    summary["roles"] = ["timestamp", "score", "label"]
    window = dict(summary["windows"][0], health={})
    text = window_html(load(summary), Window.from_dict(window))
    assert "Latency" not in text and "Error rate" not in text and "Rows" in text
    summary["roles"] += ["latency_ms", "status"]
    text = window_html(load(summary), Window.from_dict(window))
    assert "Latency p50 / p95 / p99" in text and "Error rate" in text


def test_header_names_the_partial_windows():
    summary = make_summary()
    assert "partial" not in render.header_html(load(summary))
    summary["windows"][-1]["partial"] = True
    header = render.header_html(load(summary))
    assert "4 windows; 1 partial (2026-11-04)" in header and "volume not judged" in header


def test_estimation_html_names_the_method_or_says_why_not():
    from obskit.render import estimation_html

    cbpe = estimation_html(load({"estimation": {"method": "CBPE (one-vs-rest)", "reason": None}}))
    assert "one-vs-rest" in cbpe and "no concept drift" in cbpe
    why = estimation_html(load({"estimation": {"method": None, "reason": "no <labels>"}}))
    assert "not estimated without labels: no &lt;labels&gt;." in why and "CBPE" not in why
    assert estimation_html(load({})) == ""


def test_data_quality_heatmap_and_table_show_the_jump():
    summary = make_summary(evil=XSS)
    fig = render.data_quality_figure(load(summary))
    ax = data_axes(fig)[0]
    image = ax.get_images()[0].get_array()
    assert image[:, 2].max() == pytest.approx(49.0)  # the 0.49 rise, in points, window 2
    assert image[:, 0].max() == pytest.approx(0.5)  # region's 0.005 unseen rise
    assert ax.get_ylabel() == "Feature" and ax.get_xlabel() == "Window start (UTC)"
    table = render.data_quality_table_html(load(summary))
    assert "odd&lt;script&gt;" in table and "<script" not in table
    assert "worst +49.0 pts on 2026-11-03" in table


def test_data_quality_table_collapses_long_tables():
    summary = make_summary()
    entry = summary["data_quality"]["age"]
    summary["data_quality"] = {f"f{i:02d}": entry for i in range(40)}
    out = render.data_quality_table_html(load(summary))
    assert "<details><summary>15 more features</summary>" in out
    assert out.count("<tr>") == 40 + 2  # every feature, plus two header rows


def test_labels_in_the_log_itself_show_their_coverage_not_no_label_source():
    summary = make_summary()
    summary["labels"] = None  # no separate label source: the labels are in the log
    summary["roles"] = ["timestamp", "score", "label"]
    for w in summary["windows"]:
        w["labelled_rows"], w["rows"] = 50, 100
    header = render.header_html(load(summary))
    assert "no label source" not in header.lower()
    assert "50.0% of the rows in windows" in header or "50% of the rows in windows" in header


def test_header_of_one_window_says_window():
    header = render.header_html(load(make_summary(n_windows=1)))
    assert ", 1 window" in header and "1 windows" not in header


def test_rich_display_reads_the_run_without_rebuilding_the_summary():
    """``Analysis._repr_html_`` renders the run it is: no ``summary.json`` document is
    built again (``to_dict`` / ``to_summary``)."""
    import dataclasses

    from obskit.render.rich import analysis_html
    from obskit.results import Run

    class Guarded(Run):
        def to_dict(self):
            raise AssertionError("the rich display must not rebuild the summary")

        to_summary = to_dict

    run = load(make_summary())
    guarded = Guarded(**{f.name: getattr(run, f.name) for f in dataclasses.fields(run)
                         if f.init})
    html = analysis_html(guarded)
    assert "Credit model" in html and "utilization" in html


def test_render_takes_a_typed_run_not_a_summary_dict():
    from obskit.render.rich import summary_html

    with pytest.raises(TypeError, match="obskit.results.load"):
        summary_html(make_summary())
