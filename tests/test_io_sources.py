"""Source formats and paths: JSONL (flat / nested), CSV, Parquet; file, glob, directory."""

from __future__ import annotations

import pandas as pd
import pytest

from obskit.config import load_config
from obskit.exceptions import InputError
from obskit.io import load_logs


def load(current, **overrides):
    cfg = load_config(overrides={"sources": {"current": current}, "task": "binary",
                                 **overrides})
    return load_logs(cfg)


def rows(log_table, *cols):
    df = log_table.table.execute().sort_values(["_file", "_line"])
    return [tuple(r) for r in df[list(cols)].itertuples(index=False)]


def test_jsonl_flat(write):
    p = write("a.jsonl", [
        {"timestamp": "2024-01-01T00:00:00Z", "x": 1.5, "c": "a"},
        {"timestamp": "2024-01-01T01:00:00Z", "x": 2, "c": "b"},
    ])
    logs = load(p)
    assert logs.features == {"x": "numeric", "c": "categorical"}
    assert rows(logs.current, "_file", "_line", "x", "c") == [(p, 1, 1.5, "a"), (p, 2, 2.0, "b")]
    assert logs.current.files == (p,)


def test_jsonl_nested_features(write):
    p = write("a.jsonl", [
        {"timestamp": "2024-01-01T00:00:00Z", "score": 0.2, "features": {"x": 1, "c": "a"}},
        {"timestamp": "2024-01-01T01:00:00Z", "score": 0.9, "features": {"x": 3, "c": "b"}},
    ])
    logs = load(p)
    assert logs.features == {"x": "numeric", "c": "categorical"}
    assert "features" not in logs.current.table.columns
    assert rows(logs.current, "_line", "score", "x", "c") == [(1, 0.2, 1.0, "a"),
                                                               (2, 0.9, 3.0, "b")]


def test_csv(write):
    p = write("a.csv", "timestamp,x,c\n2024-01-01T00:00:00Z,1.5,a\n2024-01-01T01:00:00Z,2,b\n")
    logs = load(p)
    assert logs.features == {"x": "numeric", "c": "categorical"}
    assert rows(logs.current, "_file", "_line", "x", "c") == [(p, 2, 1.5, "a"), (p, 3, 2.0, "b")]


def test_parquet(write):
    df = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
                       "x": [1.5, 2.0], "c": ["a", "b"], "flag": [True, False]})
    p = write("a.parquet", df)
    logs = load(p)
    assert logs.features == {"x": "numeric", "c": "categorical", "flag": "boolean"}
    assert rows(logs.current, "_file", "_line", "x", "c", "flag") == [
        (p, 1, 1.5, "a", True), (p, 2, 2.0, "b", False)]


def test_glob_stacks_matching_files(write, tmp_path):
    a = write("logs/a.jsonl", [{"timestamp": "2024-01-01T00:00:00Z", "x": 1}])
    b = write("logs/b.jsonl", [{"timestamp": "2024-01-02T00:00:00Z", "x": 2},
                               {"timestamp": "2024-01-02T01:00:00Z", "x": 3}])
    write("logs/other.csv", "timestamp,x\n2024-01-03T00:00:00Z,9\n")
    logs = load(str(tmp_path / "logs" / "*.jsonl"))
    assert logs.current.files == (a, b)
    assert logs.current.rows_read == 3
    assert rows(logs.current, "_file", "_line", "x") == [(a, 1, 1.0), (b, 1, 2.0), (b, 2, 3.0)]


def test_directory_mixed_formats_stacked_by_column_name(write, tmp_path):
    a = write("d/a.jsonl", [{"x": 1, "timestamp": "2024-01-01T00:00:00Z", "c": "j"}])
    b = write("d/b.csv", "c,timestamp,x\ncsv,2024-01-02T00:00:00Z,2\n")
    c = write("d/sub/c.parquet", pd.DataFrame({
        "timestamp": ["2024-01-03T00:00:00Z"], "x": [3.0], "only_pq": ["p"]}))
    write("d/notes.txt", "ignored: unsupported extension inside a directory")
    logs = load(str(tmp_path / "d"))
    assert logs.current.files == (a, b, c)
    assert logs.current.rows_read == 3 and logs.current.rows_quarantined == 0
    assert rows(logs.current, "_file", "_line", "x", "c") == [
        (a, 1, 1.0, "j"), (b, 2, 2.0, "csv"), (c, 1, 3.0, None)]
    got = logs.current.table.execute().set_index("_file")
    assert got.loc[c, "only_pq"] == "p" and pd.isna(got.loc[a, "only_pq"])


def test_parquet_files_of_one_schema_read_in_one_scan_as_each_alone(write, tmp_path,
                                                                     monkeypatch):
    """Consecutive Parquet files of one schema are read in one scan, with the rows, file,
    line, types and category columns that reading each alone gives; a file of another
    schema, or with a column named like the scan's own, is read alone."""
    import obskit.io.sources as sources

    def day(d, n, **extra):
        return pd.DataFrame({"timestamp": pd.date_range(f"2024-01-0{d + 1}", periods=n,
                                                        freq="h", tz="UTC"),
                             "x": [float(d * 10 + i) for i in range(n)],
                             "c": pd.Categorical([f"k{i % 2}" for i in range(n)]), **extra})

    paths = [write("d/a.parquet", day(0, 3)), write("d/b.parquet", day(1, 2)),
             write("d/c.parquet", day(2, 2, x2=[1, 2])),  # another schema: a run of its own
             write("d/d.parquet", day(3, 2, filename=["f", "g"])),  # a scan column's name
             write("d/e.parquet", day(4, 1)), write("d/f.parquet", day(5, 4))]
    from obskit.io.parquet_meta import schema_runs
    assert schema_runs(paths) == [paths[:2], [paths[2]], [paths[3]], paths[4:]]
    scans: list[int] = []
    one_scan = sources.read_parquet_files
    monkeypatch.setattr(sources, "read_parquet_files",
                        lambda con, run: scans.append(len(run)) or one_scan(con, run))
    logs = load(str(tmp_path / "d"))
    assert scans == [2, 2]
    monkeypatch.setattr(sources, "schema_runs", lambda files: [[f] for f in files])
    alone = load(str(tmp_path / "d"))
    assert logs.current.files == alone.current.files == tuple(paths)
    assert logs.features == alone.features and logs.features["c"] == "categorical"
    cols = ["_file", "_line", "timestamp", "x", "c", "x2", "filename"]
    got, want = (log.current.table.execute()[cols].sort_values(["_file", "_line"])
                 .reset_index(drop=True) for log in (logs, alone))
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == 14 and got.filename.notna().sum() == 2
    assert rows(logs.current, "_file", "_line")[:5] == [
        (paths[0], 1), (paths[0], 2), (paths[0], 3), (paths[1], 1), (paths[1], 2)]


def test_unknown_extension(write):
    p = write("a.txt", "timestamp\n")
    with pytest.raises(InputError, match="unknown file type") as err:
        load(p)
    assert p in str(err.value)


def test_missing_path(tmp_path):
    p = str(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="no such file") as err:
        load(p)
    assert p in str(err.value)


def test_empty_directory(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    with pytest.raises(InputError, match="matched no log files") as err:
        load(str(d))
    assert str(d) in str(err.value)


def test_glob_matching_nothing(tmp_path):
    spec = str(tmp_path / "*.jsonl")
    with pytest.raises(InputError) as err:
        load(spec)
    assert spec in str(err.value)


def test_tsv(write):
    p = write("a.tsv", "timestamp\tx\n2024-01-01T00:00:00Z\t1,5\n2024-01-01T00:00:00Z\t2\n")
    logs = load(p)
    assert logs.features == {"x": "categorical"}
    assert rows(logs.current, "_line", "x") == [(2, "1,5"), (3, "2")]


def test_csv_rejected_lines_and_line_number_correction(write):
    p = write("a.csv",
              "timestamp,x,c\n"                      # 1 header
              "2024-01-01T00:00:00Z,1,a\n"           # 2 ok
              "2024-01-01T00:00:00Z,2,a,extra\n"     # 3 too many fields
              "2024-01-01T00:00:00Z,zz,b\n"          # 4 x not numeric (after a reject)
              "2024-01-01T00:00:00Z\n"               # 5 missing fields
              "garbage,3,c\n"                        # 6 bad timestamp
              "2024-01-01T00:00:00Z,4,d\n")          # 7 ok
    logs = load(p, features={"types": {"x": "numeric"}})
    cur = logs.current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (6, 2, 4)
    assert rows(cur, "_line", "x") == [(2, 1.0), (7, 4.0)]
    ex = cur.quarantine_summary()["examples"]
    assert [(e["file"], e["line"], e["reason"]) for e in ex] == [
        (p, 3, "CSV: too many columns"),
        (p, 4, "feature x is not a number"),
        (p, 5, "CSV: missing columns"),
        (p, 6, "timestamp is not a timestamp"),
    ]
    assert ex[1]["detail"] == "zz" and ex[3]["detail"] == "garbage"


def test_csv_blank_lines_are_not_rows(write):
    p = write("a.csv",
              "timestamp,x\n"                  # 1
              "\n"                             # 2 blank
              "2024-01-01T00:00:00Z,1\n"       # 3
              "   \n"                          # 4 blank (spaces)
              "2024-01-01T00:00:00Z,1,2\n"     # 5 too many fields
              "\n"                             # 6 blank
              "2024-01-01T00:00:00Z,oops\n"    # 7 not a number
              "2024-01-01T00:00:00Z,2\n"       # 8
              "\n")                            # 9 blank
    logs = load(p, features={"types": {"x": "numeric"}})
    cur = logs.current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (4, 2, 2)
    assert rows(cur, "_line", "x") == [(3, 1.0), (8, 2.0)]
    ex = cur.quarantine_summary()["examples"]
    assert [(e["line"], e["reason"]) for e in ex] == [
        (5, "CSV: too many columns"), (7, "feature x is not a number")]


def test_csv_many_rejects_keep_exact_line_numbers(write):
    lines = ["timestamp,x"]
    for i in range(1100):
        lines.append("2024-01-01T00:00:00Z,1,extra" if i % 2 else f"2024-01-01T00:00:00Z,{i}")
    p = write("a.csv", "\n".join(lines) + "\n")
    cur = load(p).current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (1100, 550, 550)
    got = rows(cur, "_line", "x")
    assert got == [(i + 2, float(i)) for i in range(0, 1100, 2)]


def test_single_column_csv_blank_lines(write):
    p = write("a.csv", "timestamp\n2024-01-01T00:00:00Z\n   \n\n2024-01-02T00:00:00Z\n")
    cur = load(p).current
    assert (cur.rows_read, cur.rows_used, cur.rows_quarantined) == (2, 2, 0)
    assert rows(cur, "_line") == [(2,), (5,)]


# ---------------------------------------------------------------- empty sources (issue 12)

_HEADER = "timestamp,request_id,x,score,label\n"
_ROW = {"timestamp": "2024-01-01T00:00:00Z", "request_id": "a", "x": 1, "score": 0.5,
        "label": 1}


def _empty_file(write, kind: str, name: str = "empty") -> str:
    if kind == "csv":
        return write(f"{name}.csv", _HEADER)
    if kind == "jsonl":
        return write(f"{name}.jsonl", "")
    if kind == "blank-jsonl":
        return write(f"{name}.jsonl", "\n  \n")
    if kind == "zero-csv":
        return write(f"{name}.csv", "")
    return write(f"{name}.parquet", pd.DataFrame({"timestamp": pd.Series([], dtype="string"),
                                                   "x": pd.Series([], dtype="float64")}))


@pytest.mark.parametrize("kind", ["csv", "jsonl", "blank-jsonl", "zero-csv", "parquet"])
@pytest.mark.parametrize("source", ["current", "reference", "labels"])
def test_every_empty_source_stops_naming_the_source_and_file(write, kind, source):
    good = write("good.jsonl", [_ROW, {**_ROW, "request_id": "b"}])
    empty = _empty_file(write, kind)
    sources = {"current": good, **({"reference": good} if source == "reference" else {}),
               **({"labels": good} if source == "labels" else {}), source: empty}
    with pytest.raises(InputError) as err:
        load_logs(load_config(overrides={"sources": sources, "task": "binary"}))
    msg = str(err.value)
    assert f"sources.{source}" in msg and empty in msg and "no rows" in msg
    assert err.value.path == empty


def test_a_directory_of_empty_files_stops_naming_each(write, tmp_path):
    a = _empty_file(write, "csv", "d/a")
    b = _empty_file(write, "jsonl", "d/b")
    with pytest.raises(InputError) as err:
        load(str(tmp_path / "d"))
    msg = str(err.value)
    assert "sources.current" in msg and a in msg and b in msg and "no rows" in msg


def test_one_empty_file_among_others_is_fine(write, tmp_path):
    write("d/a.jsonl", [_ROW])
    _empty_file(write, "csv", "d/b")
    assert load(str(tmp_path / "d")).current.rows_used == 1


def test_empty_glob_names_the_source(tmp_path):
    spec = str(tmp_path / "*.jsonl")
    with pytest.raises(InputError) as err:
        load(spec)
    assert "sources.current" in str(err.value) and spec in str(err.value)


def test_a_source_whose_every_row_is_quarantined_loads_but_does_not_run(write):
    from obskit.analysis import analyze

    p = write("a.jsonl", [{"timestamp": "2024-01-01T00:00:00Z", "x": "abc"},
                          {"timestamp": "2024-01-01T01:00:00Z", "x": "def"}, "{bad json"])
    logs = load(p, features={"types": {"x": "numeric"}})  # kept, to inspect the quarantine
    assert (logs.current.rows_read, logs.current.rows_used) == (3, 0)
    with pytest.raises(InputError) as err:
        analyze(load_config(overrides={"sources": {"current": p}, "task": "binary",
                                       "features": {"types": {"x": "numeric"}}}))
    msg = str(err.value)
    assert "sources.current" in msg and p in msg and "none of the 3 rows" in msg
    assert "feature x is not a number" in msg
