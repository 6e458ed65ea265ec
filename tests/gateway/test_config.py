"""Gateway configuration: upstream keys encrypted at rest and never shown, YAML files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM

SECRET = "sk-live-abcdefghijklmnop-0123456789"
X = [{"role": "user", "content": "x"}]


def test_upstream_keys_are_encrypted_and_never_returned(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("prod", fake, api_key=SECRET)
    listed = gw.http.get("/api/v1/gateway/upstreams").text
    assert SECRET not in listed and '"has_api_key":true' in listed
    with gw.platform.db.read() as s:
        stored = s.execute(text("SELECT api_key_enc FROM gateway_upstreams")).scalar_one()
        audit = " ".join(str(r) for r in s.execute(text("SELECT * FROM audit_events")).all())
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert SECRET not in audit
    # and the key still works: the upstream receives it
    gw.route("r", targets=[{"upstream": "prod", "model": "m"}])
    gw.openai().chat.completions.create(model="r", messages=[{"role": "user", "content": "x"}])
    assert fake.headers[-1]["Authorization"] == f"Bearer {SECRET}"


def test_an_upstream_needs_a_key_and_a_known_provider(gw: Gateway) -> None:
    r = gw.http.put("/api/v1/gateway/upstreams/x", json={"provider": "openai"})
    assert r.status_code == 400 and "needs an api_key" in r.text
    r = gw.http.put("/api/v1/gateway/upstreams/x", json={"provider": "nope", "api_key": "k"})
    assert r.status_code == 404 and "unknown provider" in r.text
    r = gw.http.put("/api/v1/gateway/upstreams/x", json={"provider": "openai", "api_key": "k",
                                                          "options": {"bogus": 1}})  # fmt: skip
    assert r.status_code == 400 and "bogus" in r.text


def test_apply_a_gateway_file_twice(gw: Gateway, fake: FakeLLM, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    doc = {
        "upstreams": {"fake": {"provider": "openai", "options": {"base_url": fake.url + "/v1"},
                               "api_key": "k"}},
        "routes": {"chat": {"targets": [{"upstream": "fake", "model": "a"}]},
                   "emb": {"operation": "embeddings",
                           "targets": [{"upstream": "local-embed", "model": "all-minilm-l6-v2"}]}},
    }  # fmt: skip
    first = gw.http.post("/api/v1/gateway/apply", json=doc).json()
    assert first["routes"] == {"chat": "v1 deployed", "emb": "v1 deployed"}
    del doc["upstreams"]["fake"]["api_key"]
    second = gw.http.post("/api/v1/gateway/apply", json=doc).json()
    assert second == {"upstreams": {"fake": "unchanged"},
                      "routes": {"chat": "unchanged", "emb": "unchanged"}}  # fmt: skip
    doc["routes"]["chat"]["targets"][0]["model"] = "b"
    third = gw.http.post("/api/v1/gateway/apply", json=doc).json()
    assert third["routes"]["chat"] == "v2 deployed"
    out = gw.openai().chat.completions.create(model="chat", messages=X)
    assert out.choices[0].message.content == "Hello from b."


def test_server_applies_a_routes_file_at_start(tmp_path: Path, database_url: str,
                                               fake: FakeLLM) -> None:  # fmt: skip
    from tests.gateway.conftest import make_gateway

    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump({
        "upstreams": {"fake": {"provider": "openai", "options": {"base_url": fake.url + "/v1"},
                               "api_key": "k"}},
        "routes": {"chat": {"targets": [{"upstream": "fake", "model": "from-file"}]}},
    }))  # fmt: skip
    g = make_gateway(tmp_path, database_url, gateway_routes_file=path)
    try:
        out = g.openai().chat.completions.create(model="chat", messages=X)
        assert out.choices[0].message.content == "Hello from from-file."
    finally:
        g.stop()


@pytest.mark.parametrize("bad", [{"routes": {"x": {"targets": "nope"}}}, {"other": {}}, [1]])
def test_bad_gateway_files_are_refused(gw: Gateway, bad: object) -> None:
    r = gw.http.post("/api/v1/gateway/apply", json=bad)
    assert 400 <= r.status_code < 500 and "error" in r.json()
