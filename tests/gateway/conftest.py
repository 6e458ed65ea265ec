"""Gateway fixtures: a fake provider over real HTTP, and a real Shipyard server (uvicorn in a
thread of the test process, so tests can also look at its services) on each dialect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from shipyard.core.settings import Settings
from shipyard.platform import Platform
from shipyard.server.app import create_app
from tests.conftest import free_port
from tests.helpers.fake_llm import FakeLLM


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    f = FakeLLM().start()
    yield f
    f.stop()


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform = Platform(settings, serving=True)
        self.app = create_app(settings, platform=self.platform)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self._clients: list[openai.OpenAI] = []

    def start(self) -> Gateway:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.http.close()
        for c in self._clients:
            c.close()
        self.server.should_exit = True
        self.thread.join(15)
        self.platform.close()

    @property
    def gateway(self) -> Any:
        return self.platform.gateway

    def openai(self, api_key: str = "sk-placeholder", **kw: Any) -> openai.OpenAI:
        """An OpenAI client for this server (one per key, closed with the server)."""
        for c in self._clients:
            if c.api_key == api_key and not kw:
                return c
        client = openai.OpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0, **kw)
        self._clients.append(client)
        return client

    def upstream(self, name: str, fake: FakeLLM, provider: str = "openai",
                 api_key: str = "sk-upstream-secret") -> None:  # fmt: skip
        base = f"{fake.url}/v1" if provider == "openai" else fake.url
        r = self.http.put(
            f"/api/v1/gateway/upstreams/{name}",
            json={"provider": provider, "options": {"base_url": base}, "api_key": api_key},
        )
        assert r.status_code == 200, r.text

    def route(self, name: str, **config: Any) -> dict[str, Any]:
        r = self.http.put(f"/api/v1/gateway/routes/{name}", json=config)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def flush(self) -> None:
        done = self.gateway.recorder.flush()
        if done is not None:
            done.result(10)

    def traces(self, **params: Any) -> list[dict[str, Any]]:
        self.flush()
        r = self.http.get("/api/v1/traces", params={"limit": 100, **params})
        assert r.status_code == 200, r.text
        return r.json()["traces"]  # type: ignore[no-any-return]

    def trace(self, trace_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while True:
            self.flush()
            r = self.http.get(f"/api/v1/traces/{trace_id}")
            if r.status_code == 200 or time.monotonic() > deadline:
                assert r.status_code == 200, r.text
                return r.json()  # type: ignore[no-any-return]
            time.sleep(0.02)


def make_gateway(tmp_path: Path, database_url: str, **overrides: Any) -> Gateway:
    settings = Settings.load(
        home=tmp_path / "home",
        database_url=database_url,
        artifacts=str(tmp_path / "artifacts"),
        gateway_refresh_s=0.2,
        decode_workers=0,
        **overrides,
    )
    return Gateway(settings).start()


@pytest.fixture
def gw(tmp_path: Path, database_url: str) -> Iterator[Gateway]:
    g = make_gateway(tmp_path, database_url)
    yield g
    g.stop()
