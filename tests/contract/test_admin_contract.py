"""Keys and the audit log through the SDK, embedded and remote."""

from __future__ import annotations

import pytest

from shipyard import NotFound
from shipyard.core.identity import AuditQuery, Role
from shipyard.sdk import Client
from tests.conftest import unique


def test_keys_are_shown_once_and_listed_without_secret(client: Client) -> None:
    key = client.admin.create_key(Role.editor, name=unique("ci"), tenant="acme")
    assert key.key.startswith("shy_") and key.role == Role.editor and key.tenant == "acme"
    listed = {k.id: k for k in client.admin.list_keys()}
    assert key.id in listed and not hasattr(listed[key.id], "key")
    client.admin.revoke_key(key.id)
    assert key.id not in {k.id for k in client.admin.list_keys()}
    assert key.id in {k.id for k in client.admin.list_keys(include_revoked=True)}
    with pytest.raises(NotFound):
        client.admin.revoke_key("nope")


def test_every_write_is_audited(client: Client) -> None:
    name = unique("audited")
    client.registry.create_version(name, kind="model", payload={})
    client.registry.set_alias(name, "production", 1, "ship it")
    with client.start_run(unique("e")) as run:
        run.log_params({"a": 1})
    events = client.admin.audit(AuditQuery(target=f"{name}@production")).events
    assert len(events) == 1
    ev = events[0]
    assert ev.action == "registry.alias.set"
    assert ev.before == {"version": None} and ev.after == {"version": 1, "reason": "ship it"}
    run_events = [e.action for e in client.admin.audit(AuditQuery(target=run.id)).events]
    assert run_events == ["run.update", "run.log_params", "run.create"]  # newest first
    page = client.admin.audit(AuditQuery(action="registry.*", limit=1))
    assert len(page.events) == 1 and page.next_cursor
    nxt = client.admin.audit(AuditQuery(action="registry.*", limit=1, cursor=page.next_cursor))
    assert nxt.events[0].id < page.events[0].id
    assert client.admin.whoami()["role"] == "admin"
