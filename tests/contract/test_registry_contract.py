"""The registry SDK behaves the same embedded and remote, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import ApprovalRequired, Conflict, InvalidInput, NotFound
from shipyard.registry.schemas import CreateEntry, Kind, UpdateEntry
from shipyard.sdk import Client
from tests.conftest import unique


def test_versions_are_numbered_and_immutable(client: Client, tmp_path: Path) -> None:
    name = unique("model")
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"w" * 10_000)
    v1 = client.registry.create_version(
        name,
        kind=Kind.model,
        payload={"lr": 0.1},
        artifact=blob,
        description="first",
        tags={"team": "ml"},
    )
    v2 = client.registry.create_version(name, payload={"lr": 0.2})
    assert (v1.version, v2.version) == (1, 2)
    assert v1.kind == Kind.model and v1.artifact_digest and v2.artifact_digest is None
    assert v1.content_hash != v2.content_hash
    got = client.registry.get_version(name, version=1)
    assert got.payload == {"lr": 0.1} and got.description == "first" and got.tags == {"team": "ml"}
    out = client.registry.download_artifact(got.artifact_digest or "", tmp_path / "out.bin")
    assert out.read_bytes() == blob.read_bytes()
    assert [v.version for v in client.registry.list_versions(name)] == [2, 1]
    # unchanged content with dedupe returns the newest version instead of a new one
    again = client.registry.create_version(name, payload={"lr": 0.2}, dedupe=True)
    assert again.version == 2
    assert client.registry.create_version(name, payload={"lr": 0.2}).version == 3
    with pytest.raises(Conflict):
        client.registry.create_version(name, kind=Kind.prompt, payload={})
    with pytest.raises(NotFound):
        client.registry.create_version(unique("nokind"), payload={})


def test_aliases_resolve_and_unknown_alias_is_an_error(client: Client) -> None:
    name = unique("clf")
    for i in range(3):
        client.registry.create_version(name, kind="model", payload={"i": i})
    client.registry.set_alias(name, "champion", 2, "best AUC")
    assert client.registry.resolve(f"{name}@champion").version == 2
    assert client.registry.resolve(f"models:/{name}@champion").version == 2
    assert client.registry.resolve(f"{name}/3").payload == {"i": 2}
    assert client.registry.resolve(f"{name}@latest").version == 3
    client.registry.create_version(name, payload={"i": 3})
    assert client.registry.resolve(f"{name}@latest").version == 4  # latest moves by itself
    with pytest.raises(NotFound) as info:
        client.registry.resolve(f"{name}@staging")
    assert "champion" in str(info.value)  # the error lists what exists
    with pytest.raises(NotFound):
        client.registry.resolve(name)  # no production alias yet: no silent fallback
    client.registry.set_alias(name, "production", 1)
    assert client.registry.resolve(name).version == 1
    assert client.registry.get_version(name).version == 1
    entry = client.registry.get_entry(name)
    assert entry.aliases == {"champion": 2, "production": 1} and entry.latest_version == 4
    assert client.registry.get_version(name, version=2).aliases == ["champion"]
    with pytest.raises(NotFound):
        client.registry.set_alias(name, "production", 99)
    with pytest.raises(InvalidInput):
        client.registry.set_alias(name, "latest", 1)
    with pytest.raises(InvalidInput):
        client.registry.resolve("bad name@x")


def test_alias_history_and_rollback(client: Client) -> None:
    name = unique("prompt")
    for i in range(3):
        client.registry.create_version(name, kind="prompt", payload={"t": f"v{i + 1}"})
    reg = client.registry
    reg.set_alias(name, "production", 1, "launch")
    reg.set_alias(name, "production", 2, "better tone")
    reg.set_alias(name, "production", 3, "shorter")
    ev = reg.rollback(name, "production", "v3 regressed")
    assert (ev.from_version, ev.to_version, ev.action) == (3, 2, "rollback")
    assert reg.resolve(f"{name}@production").version == 2
    ev = reg.rollback(name, "production")
    assert (ev.from_version, ev.to_version) == (2, 1)  # rolling back again goes further back
    with pytest.raises(Conflict):
        reg.rollback(name, "production")
    history = reg.history(name, "production")
    assert [(e.action, e.from_version, e.to_version) for e in history] == [
        ("set", None, 1),
        ("set", 1, 2),
        ("set", 2, 3),
        ("rollback", 3, 2),
        ("rollback", 2, 1),
    ]
    assert history[3].reason == "v3 regressed" and history[0].reason == "launch"
    assert all(e.actor for e in history) and all(e.time_ms > 0 for e in history)
    reg.delete_alias(name, "production", "retired")
    with pytest.raises(NotFound):
        reg.resolve(f"{name}@production")
    with pytest.raises(NotFound):
        reg.delete_alias(name, "production")


def test_protected_alias_needs_an_approved_version(client: Client) -> None:
    name = unique("fraud")
    reg = client.registry
    reg.create_entry(CreateEntry(name=name, kind=Kind.model, protected=True))
    reg.create_version(name, payload={"v": 1})
    reg.create_version(name, payload={"v": 2})
    reg.set_alias(name, "staging", 2)  # unprotected aliases move freely
    with pytest.raises(ApprovalRequired) as info:
        reg.set_alias(name, "production", 2)
    assert "approve" in str(info.value)
    approved = reg.approve(name, 2, "reviewed")
    assert approved.approved_by and approved.approval_comment == "reviewed"
    reg.set_alias(name, "production", 2)
    assert reg.resolve(f"{name}@production").version == 2
    reg.update_entry(name, UpdateEntry(protected=False))
    reg.set_alias(name, "production", 1)


def test_lineage_version_to_run_to_datasets(client: Client) -> None:
    import pandas as pd

    df = pd.DataFrame({"x": range(10), "y": range(10)})
    with client.start_run(unique("e")) as run:
        run.log_input(df, name="train", context="training")
    name = unique("m")
    client.registry.create_version(name, kind="model", payload={}, source_run_id=run.id)
    lin = client.registry.lineage(name, 1)
    assert lin.run is not None and lin.run.id == run.id
    assert [(d.name, d.num_rows, d.context) for d in lin.datasets] == [("train", 10, "training")]
    with pytest.raises(NotFound):
        client.registry.create_version(name, payload={}, source_run_id="0" * 32)


def test_list_entries_by_kind(client: Client) -> None:
    a, b = unique("aa-model"), unique("bb-prompt")
    client.registry.create_version(a, kind="model", payload={})
    client.registry.create_version(b, kind="prompt", payload={})
    models = {e.name for e in client.registry.list_entries(Kind.model)}
    assert a in models and b not in models
    assert [e.name for e in client.registry.list_entries(search=b)] == [b]
    with pytest.raises(Conflict):
        client.registry.create_entry(CreateEntry(name=a, kind=Kind.model))
