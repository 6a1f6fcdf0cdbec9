"""Broken input never ends in "ok": the verdicts of `obskit report` on logs a producer got
wrong (found by a new-user trial)."""

from __future__ import annotations

import json

from obskit.cli import main

HEADER = "timestamp,request_id,x,score,prediction,label"


def _day(day: str, n: int, *, prefix: str, x: str = "{v}") -> list[str]:
    return [f"{day}T{i % 24:02d}:{i % 60:02d}:00Z,{prefix}{i},{x.format(v=i % 7)},"
            f"0.{i % 9 + 1},{i % 2},{i % 3 % 2}" for i in range(n)]


def _write(path, lines: list[str], header: str = HEADER) -> str:
    path.write_text("\n".join([header, *lines]) + "\n")
    return str(path)


def _unlabelled(path, lines: list[str]) -> str:
    """Prediction logs without the label column (the labels come late, in their own file)."""
    return _write(path, [line.rsplit(",", 1)[0] for line in lines],
                  header=HEADER.rsplit(",", 1)[0])


def _report(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = main(["report", "--reference", str(tmp_path / "ref.csv"),
                 "--current", str(tmp_path / "logs"), "--window", "1d",
                 "--fail-on-alert", "--out", str(out), *args])
    return code, json.loads((out / "latest" / "summary.json").read_text())


def test_a_last_day_whose_every_row_is_quarantined_alerts_naming_the_column(tmp_path):
    """Day 2 logs x as "3 mm" in every row: no row is used, but the day keeps its window
    and the wrong-type rule fires on it (it read as `status: ok` before)."""
    _write(tmp_path / "ref.csv", _day("2026-10-01", 300, prefix="ref"))
    (tmp_path / "logs").mkdir()
    _write(tmp_path / "logs" / "day1.csv", _day("2026-11-01", 300, prefix="a"))
    _write(tmp_path / "logs" / "day2.csv", _day("2026-11-02", 300, prefix="b", x="{v} mm"))
    code, summary = _report(tmp_path)
    assert code == 1 and summary["status"] == "alert"
    windows = summary["windows"]
    assert [(w["start"][:10], w["rows"]) for w in windows] == [
        ("2026-11-01", 300), ("2026-11-02", 0)]
    assert windows[1]["data_quality"]["x"]["wrong_type_share"] == 1.0
    fired = [(a["rule"], a["metric"], a["window_start"][:10]) for a in summary["alerts"]]
    assert ("wrong_type_values", "data_quality.x.wrong_type_increase", "2026-11-02") in fired
    assert summary["data_quality"]["x"]["wrong_type"]["max_increase"] == 1.0
    [text] = [f["text"] for f in summary["findings"]
              if f["kind"] == "data_quality" and f.get("feature") == "x"]
    assert "on 2026-11-02" in text and "1 of 2 windows" in text


def test_a_prediction_reusing_a_request_id_gets_no_label_of_the_earlier_one(tmp_path):
    """Day 2 reuses 100 of day 1's request ids, with the opposite prediction: the label of
    day 1's request must not be joined onto them (a false performance drop before), and
    the label counts add up (matched + unmatched = the distinct labels)."""
    _write(tmp_path / "ref.csv", _day("2026-10-01", 300, prefix="ref"))
    (tmp_path / "logs").mkdir()
    day1 = _day("2026-11-01", 300, prefix="a")
    day2 = _day("2026-11-02", 300, prefix="b")
    for i in range(100):  # reused id, opposite prediction
        cells = day2[i].split(",")
        cells[1], cells[4] = f"a{i}", str(1 - int(cells[4]))
        day2[i] = ",".join(cells)
    _unlabelled(tmp_path / "logs" / "day1.csv", day1)
    _unlabelled(tmp_path / "logs" / "day2.csv", day2)
    labels = ["request_id,label"] + [f"{p}{i},{i % 2}" for p in "ab" for i in range(300)]
    (tmp_path / "labels.csv").write_text("\n".join(labels) + "\n")
    # predictions equal the labels: every labelled row is right
    code, summary = _report(tmp_path, "--labels", str(tmp_path / "labels.csv"))
    assert summary["labels"]["matched"] == 500 and summary["labels"]["unmatched"] == 100
    assert summary["labels"]["matched"] + summary["labels"]["unmatched"] == 600
    assert [w["labelled_rows"] for w in summary["windows"]] == [300, 200]
    assert [w["performance"]["accuracy"] for w in summary["windows"]] == [1.0, 1.0]
    assert not [a for a in summary["alerts"] if a["rule"] == "performance_drop"]
    assert any("reuse the request_id" in n and "day2.csv line" in n for n in summary["notes"])


def test_an_empty_file_among_others_is_a_warning_naming_it(tmp_path):
    _write(tmp_path / "ref.csv", _day("2026-10-01", 300, prefix="ref"))
    (tmp_path / "logs").mkdir()
    _write(tmp_path / "logs" / "day1.csv", _day("2026-11-01", 300, prefix="a"))
    (tmp_path / "logs" / "day2.csv").write_text("")
    code, summary = _report(tmp_path)
    empty = str(tmp_path / "logs" / "day2.csv")
    assert any(empty in n and "no rows" in n for n in summary["notes"])
    assert [f["severity"] for f in summary["findings"]
            if f["kind"] == "empty_files" and empty in f["text"]] == ["warning"]


def test_labels_in_other_classes_than_the_predictions_name_the_label_file(tmp_path, capsys):
    _write(tmp_path / "ref.csv", _day("2026-10-01", 100, prefix="ref"))
    (tmp_path / "logs").mkdir()
    _unlabelled(tmp_path / "logs" / "day1.csv", _day("2026-11-01", 100, prefix="a"))
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,label\n" + "".join(
        f"a{i},{'yes' if i % 2 else 'no'}\n" for i in range(100)))
    code = main(["report", "--reference", str(tmp_path / "ref.csv"), "--current",
                 str(tmp_path / "logs"), "--labels", str(labels), "--task", "binary",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"obskit: error: {labels}: the labels and predictions")
    assert "holds 'no', 'yes' in sources.labels" in err
    assert "day1.csv" not in err.split(":", 3)[2]


def test_naive_and_aware_timestamps_name_the_file_of_each(tmp_path, capsys):
    _write(tmp_path / "ref.csv", _day("2026-10-01", 100, prefix="ref"))
    (tmp_path / "logs").mkdir()
    _write(tmp_path / "logs" / "day1.csv", _day("2026-11-01", 100, prefix="a"))
    _write(tmp_path / "logs" / "day2.csv", [line.replace("Z,", ",", 1).replace("T", " ", 1)
                                            for line in _day("2026-11-02", 100, prefix="b")])
    code = main(["report", "--reference", str(tmp_path / "ref.csv"), "--current",
                 str(tmp_path / "logs"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    day2 = str(tmp_path / "logs" / "day2.csv")
    assert "mixes timezone-aware and naive values" in err
    naive = err.split(" and '2026-11-02 ", 1)[1]  # the naive example, then its file
    assert naive.split("'", 1)[1].startswith(f" (in {day2})")
