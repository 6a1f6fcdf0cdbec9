"""obskit.instrument.aliases: the JSON and the MLflow backends pass the same tests."""

from __future__ import annotations

import json
import multiprocessing
import re
import threading
from pathlib import Path

import pytest

from obskit.exceptions import ConfigError, InputError
from obskit.instrument.aliases import (
    JsonAliasStore,
    MlflowAliasStore,
    ModelVersion,
    open_alias_store,
    parse_model_ref,
)


def model_files(folder: Path, n: int = 3) -> list[Path]:
    """``n`` model files with different bytes (the stores never load them)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(1, n + 1):
        path = folder / f"v{k}.skops"
        path.write_bytes(f"model {k}".encode() * 10)
        files.append(path)
    return files


@pytest.fixture(params=["json", "mlflow"])
def store(request, tmp_path):
    if request.param == "json":
        return open_alias_store(tmp_path / "registry" / "models.json", model_name="churn")
    return open_alias_store(f"sqlite:///{tmp_path}/mlflow.db", model_name="churn")


@pytest.fixture
def three(store, tmp_path):
    files = model_files(tmp_path / "registry" / "models")
    versions = [store.register(f, tags={"file": f.name}) for f in files]
    return store, files, versions


def test_register_numbers_versions_and_keeps_the_file(three, tmp_path):
    store, files, versions = three
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert store.versions() == versions
    assert [v.tags["file"] for v in store.versions()] == ["v1.skops", "v2.skops", "v3.skops"]
    assert all(v.name == "churn" for v in versions) and store.name == "churn"
    for version, file in zip(versions, files, strict=True):
        assert store.local_path(version).read_bytes() == file.read_bytes()
    if isinstance(store, MlflowAliasStore):  # artifacts beside the database, not ./mlruns
        assert versions[0].source.startswith((tmp_path / "mlartifacts").as_uri())
    assert store.get_version("2") == versions[1]


def test_alias_moves_forward_and_back_with_its_history(three):
    store, _, versions = three
    assert store.get("champion") is None and store.previous("champion") is None
    assert store.set_alias("champion", "1", reason="first") == versions[0]
    assert store.previous("champion") is None  # nothing before the first version
    store.set_alias("champion", "2")
    store.set_alias("champion", "3", reason="better AUC")
    assert store.get("champion") == versions[2]
    assert store.previous("champion") == versions[1]
    store.set_alias("champion", store.previous("champion").version, reason="rollback")
    assert store.get("champion") == versions[1]
    # 3 was rolled back from: a second rollback goes further back, never to 3 again
    assert store.previous("champion") == versions[0]
    store.set_alias("champion", "2")  # no change: no history entry
    assert store.previous("champion") == versions[0]
    store.set_alias("challenger", "3")
    assert store.get("challenger") == versions[2] and store.get("champion") == versions[1]


def test_previous_never_points_back_at_a_version_rolled_back_from(three):
    store, _, versions = three
    store.set_alias("champion", "1", reason="first")
    store.set_alias("champion", "2", reason="release 2")
    store.set_alias("champion", "1", reason="rollback")  # by hand: 2 is rolled back from
    assert store.get("champion") == versions[0]
    assert store.previous("champion") is None  # not 2, the version rolled away from
    store.set_alias("challenger", "2")  # another alias's moves do not count
    assert store.previous("champion") is None
    # pointing the alias at 2 again on purpose re-promotes it (1 is no rollback victim)
    store.set_alias("champion", "2", reason="fixed, release 2 again")
    assert store.previous("champion") == versions[0]
    store.set_alias("champion", "3", reason="release 3")
    store.set_alias("champion", "2", reason="rollback")  # 3 rolled back from
    assert store.previous("champion") == versions[0]
    store.set_alias("champion", "1", reason="rollback")  # 2 rolled back from too
    assert store.previous("champion") is None
    store.set_alias("champion", "3", reason="release 3 again")  # 3 re-promoted
    assert store.previous("champion") == versions[0]


def test_mlflow_alias_moved_outside_obskit_falls_back_below_skipping_rolled_back(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    store = open_alias_store(uri, model_name="churn")
    for f in model_files(tmp_path / "models"):
        store.register(f)
    store.set_alias("champion", "1")
    store.set_alias("champion", "2")
    store.set_alias("champion", "1", reason="rollback")  # 2 rolled back from
    # the MLflow UI (or any client) moves the alias: no obskit history entry
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        "churn", "champion", "3")
    assert store.get("champion").version == "3"
    assert store.previous("champion").version == "1"  # the highest below 3, but not 2


def test_versions_sort_by_number_not_text(store, tmp_path):
    files = model_files(tmp_path / "many", 11)
    for f in files:
        store.register(f)
    assert [v.version for v in store.versions()] == [str(k) for k in range(1, 12)]


def test_unknown_version_and_bad_alias_are_named(three):
    store, _, _ = three
    with pytest.raises(InputError, match="no version '7'"):
        store.get_version("7")
    with pytest.raises(InputError, match="no version '7'"):
        store.set_alias("champion", "7")
    with pytest.raises(InputError, match="no version 'None'"):
        store.get_version("None")
    for bad in ("latest", "v2", "no spaces", ""):
        with pytest.raises(ConfigError, match="alias"):
            store.set_alias(bad, "1")
    assert store.get("champion") is None


def test_register_refuses_a_missing_or_unknown_file(store, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        store.register(tmp_path / "nope.skops")
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(InputError, match=r"\.skops"):
        store.register(tmp_path / "model.txt")
    assert store.versions() == []


def test_json_file_layout_and_relative_sources(tmp_path):
    store = JsonAliasStore(tmp_path / "models.json", model_name="churn")
    (v1,) = [store.register(f) for f in model_files(tmp_path / "models", 1)]
    outside = model_files(tmp_path.parent / f"{tmp_path.name}-elsewhere", 1)[0]
    v2 = store.register(outside)
    store.set_alias("champion", "1", reason="first release")
    data = json.loads((tmp_path / "models.json").read_text())
    assert data["format"] == "obskit-aliases/1" and data["model_name"] == "churn"
    assert data["versions"]["1"]["source"] == "models/v1.skops"  # relative to the file
    assert data["versions"]["2"]["source"] == str(outside)
    assert data["aliases"] == {"champion": "1"}
    (entry,) = data["history"]
    assert entry["alias"] == "champion" and entry["from"] is None and entry["to"] == "1"
    assert entry["reason"] == "first release" and entry["time"].endswith("Z")
    assert v1.source == str(tmp_path / "models" / "v1.skops") and v2.source == str(outside)
    # the file moves with its models: relative sources follow it
    moved = tmp_path / "moved"
    (tmp_path / "models").rename(tmp_path / "m")
    moved.mkdir()
    (tmp_path / "m").rename(moved / "models")
    (tmp_path / "models.json").rename(moved / "models.json")
    reopened = open_alias_store(moved / "models.json")
    assert reopened.name == "churn"
    assert reopened.get("champion").source == str(moved / "models" / "v1.skops")


@pytest.mark.parametrize("content, says", [
    ("{not json", "not valid JSON"),
    ('["a list"]', "expected a JSON object"),
    ('{"format": "other/1"}', "'format' must be 'obskit-aliases/1'"),
    ('{"format": "obskit-aliases/1", "model_name": "m", "versions": {}, '
     '"aliases": {"champion": "4"}, "history": []}', "alias 'champion' points to version '4'"),
    ('{"format": "obskit-aliases/1", "model_name": "m", "versions": {"1": {}}, '
     '"aliases": {}, "history": []}', "version '1' must be an object with a string 'source'"),
])
def test_broken_json_file_is_named(tmp_path, content, says):
    path = tmp_path / "models.json"
    path.write_text(content)
    with pytest.raises(InputError, match=says) as caught:
        open_alias_store(path)
    assert str(path) in str(caught.value) and caught.value.path == str(path)


def test_json_store_needs_a_model_name_to_start_and_keeps_its_own(tmp_path):
    files = model_files(tmp_path / "models", 1)
    with pytest.raises(ConfigError, match="model_name"):
        open_alias_store(tmp_path / "models.json").register(files[0])
    open_alias_store(tmp_path / "models.json", model_name="churn").register(files[0])
    with pytest.raises(ConfigError, match="is for model 'churn', not 'fraud'"):
        open_alias_store(tmp_path / "models.json", model_name="fraud")


def test_open_alias_store_dispatch(tmp_path):
    assert isinstance(open_alias_store(str(tmp_path / "a.json")), JsonAliasStore)
    mlflow_store = open_alias_store(f"sqlite:///{tmp_path}/m.db", model_name="churn")
    assert isinstance(mlflow_store, MlflowAliasStore)
    with pytest.raises(ConfigError, match="model_name"):
        open_alias_store(f"sqlite:///{tmp_path}/m.db")
    with pytest.raises(ConfigError, match=r"expected a \.json file or an MLflow"):
        open_alias_store(tmp_path / "models.yaml")


def test_parse_model_ref(monkeypatch):
    assert parse_model_ref("models.json#champion") == ("models.json", None, "champion")
    assert parse_model_ref("/srv/a#b/models.json#chall-1") == (
        "/srv/a#b/models.json", None, "chall-1")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ConfigError, match="MLFLOW_TRACKING_URI"):
        parse_model_ref("models:/churn@champion")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///x.db")
    assert parse_model_ref("models:/churn@champion") == ("sqlite:///x.db", "churn", "champion")
    for bad in ("models.json", "model.skops#champion", "models:/churn/3", "models.json#",
                "models.json#latest"):
        with pytest.raises(ConfigError, match=re.escape(repr(bad))) as caught:
            parse_model_ref(bad)
        assert "models:/<name>@<alias>" in str(caught.value) or "alias" in str(caught.value)


def _flip(path: str, rounds: int, barrier) -> None:
    store = open_alias_store(path)
    barrier.wait()
    for k in range(rounds):
        store.set_alias("champion", str(1 + k % 3), reason=f"round {k}")
        assert store.get("champion") is not None  # a reader never sees a torn file


def test_concurrent_writers_never_corrupt_the_file(tmp_path):
    path = tmp_path / "models.json"
    store = JsonAliasStore(path, model_name="churn")
    for f in model_files(tmp_path / "models"):
        store.register(f)
    rounds, n = 30, 3
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2 * n)
    procs = [ctx.Process(target=_flip, args=(str(path), rounds, barrier)) for _ in range(n)]
    for p in procs:
        p.start()
    errors: list[BaseException] = []

    def flip_in_thread() -> None:
        try:
            _flip(str(path), rounds, barrier)
        except BaseException as exc:  # reported below: a thread's failure is not raised
            errors.append(exc)

    threads = [threading.Thread(target=flip_in_thread) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for p in procs:
        p.join(timeout=120)
    assert all(not t.is_alive() for t in threads) and errors == []
    assert [p.exitcode for p in procs] == [0] * n
    data = json.loads(path.read_text())
    history = data["history"]
    # every change is recorded and the records chain: each starts where the last ended
    assert all(h["from"] != h["to"] for h in history)
    assert all(a["to"] == b["from"] for a, b in zip(history, history[1:], strict=False))
    assert history[-1]["to"] == data["aliases"]["champion"]
    assert len(history) >= 2 * n * rounds // 3  # most rounds change the alias
    assert len(store.versions()) == 3
    assert not list(tmp_path.glob("models.json.*.tmp"))


def test_model_version_is_a_frozen_value():
    v = ModelVersion(name="m", version="1", source="/x.skops", tags={})
    with pytest.raises(AttributeError):
        v.version = "2"  # type: ignore[misc]
