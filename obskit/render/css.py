"""The report's stylesheet (scoped to ``.obskit``), shared by the report, the rich display
and the explorer."""

from __future__ import annotations

__all__ = ["report_css"]


def report_css() -> str:
    """The report's stylesheet, scoped to ``.obskit`` so it leaves the notebook's alone.

    Returns
    -------
    str
        A ``<style>`` block: system fonts, tiles, tables, badges, ``<details>``.
    """
    return """<style>
.obskit { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; line-height: 1.45; font-size: 15px; max-width: 1100px; }
.obskit h1 { font-size: 1.6em; margin: .2em 0 .4em; }
.obskit h3 { font-size: 1.1em; margin: 1.2em 0 .4em; }
.obskit p { margin: .35em 0; }
.obskit a { color: #0969da; }
.obskit code { background: #f6f8fa; padding: 0 .25em; border-radius: 3px; }
.obskit .muted { color: #57606a; font-size: .9em; }
.obskit-badge { display: inline-block; color: #fff; border-radius: .7em; padding: .05em .6em;
  font-size: .8em; font-weight: 600; vertical-align: middle; text-transform: uppercase;
  letter-spacing: .03em; }
.obskit-badge.ok { background: #1a7f37; } .obskit-badge.alert { background: #b35900; }
.obskit-badge.warning { background: #b35900; } .obskit-badge.failed { background: #cf222e; }
.obskit-badge.critical { background: #cf222e; } .obskit-badge.info { background: #0969da; }
.obskit-badge.na { background: #8c959f; }
.obskit .facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em;
  margin: .5em 0; }
.obskit .facts dt { color: #57606a; white-space: nowrap; } .obskit .facts dd { margin: 0; }
.obskit .error { border-left: 4px solid #cf222e; background: #fff5f5; padding: .4em .8em;
  white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: .9em; }
.obskit .notes { background: #f6f8fa; border-left: 4px solid #8c959f; padding: .3em .8em
  .3em 2em; }
.obskit .tiles { display: flex; flex-wrap: wrap; gap: .7em; margin: .8em 0; }
.obskit .tile { border: 1px solid #d0d7de; border-top: 4px solid #8c959f; border-radius: 6px;
  padding: .5em .8em; min-width: 9.5em; flex: 1 1 9.5em; }
.obskit .tile.ok { border-top-color: #1a7f37; } .obskit .tile.alert { border-top-color: #b35900; }
.obskit .tile .label { color: #57606a; font-size: .8em; text-transform: uppercase; }
.obskit .tile .value { font-size: 1.5em; font-weight: 600; }
.obskit .tile .sub { color: #57606a; font-size: .82em; }
.obskit table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
.obskit th, .obskit td { padding: .3em .7em; border-bottom: 1px solid #d0d7de;
  text-align: left; vertical-align: middle; }
.obskit th { background: #f6f8fa; font-weight: 600; }
.obskit td.num, .obskit th.num { text-align: right; font-variant-numeric: tabular-nums; }
.obskit tr.drifted td:first-child { border-left: 3px solid #b35900; }
.obskit ol.findings { padding-left: 1.6em; } .obskit ol.findings li { margin: .5em 0; }
.obskit ol.findings .next { color: #57606a; font-size: .92em; }
.obskit details { margin: .5em 0; } .obskit summary { cursor: pointer; color: #0969da; }
.obskit .swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px;
  vertical-align: middle; margin-right: .25em; }
.obskit img.spark { display: block; }
</style>
"""
