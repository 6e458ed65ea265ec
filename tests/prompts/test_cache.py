"""The SDK's prompt cache against a real server process: fresh copies come from memory, expired
ones answer at once while a background re-read fetches the new one, pinned versions never
expire, and during an outage cached copies (or a fallback) keep the application running."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import shipyard
from shipyard import NotFound
from shipyard.core.errors import RemoteError
from shipyard.core.settings import Settings
from shipyard.sdk import Client
from tests.conftest import ServerProcess, unique

FETCH_METRIC = 'shipyard_http_requests_total{method="GET",route="/api/v1/prompts/{name}",'

Connect = Callable[..., Client]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("prompt-cache")).start()
    yield s
    s.stop()


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Connect]:
    """Remote clients with a given cache TTL (closed at the end of the test)."""
    made: list[Client] = []

    def make(server: ServerProcess, ttl_s: float) -> Client:
        home = tmp_path / f"client-{uuid.uuid4().hex[:6]}"
        c = Client(Settings.load(home=home, prompts_cache_ttl_s=ttl_s), url=server.url)
        made.append(c)
        return c

    yield make
    for c in made:
        c.prompts.cache.wait_idle()
        c.close()


def fetches(server: ServerProcess) -> int:
    """How many prompt fetches (GET /api/v1/prompts/{name}) the server has answered."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith(FETCH_METRIC)
    )


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def two_versions(writer: Client) -> str:
    """A prompt whose production label points at version 1, with a version 2 beside it."""
    name = unique("cached")
    writer.prompts.create(name, "v1: hello {{ name }}", labels=["production"])
    writer.prompts.create(name, "v2: hello {{ name }}")
    return name


def test_a_fresh_copy_does_not_go_back_to_the_server(
    server: ServerProcess, connect: Connect
) -> None:
    reader, writer = connect(server, 30.0), connect(server, 0)
    name = two_versions(writer)
    assert reader.prompts.get(name).version == 1
    before = fetches(server)
    for _ in range(20):
        assert reader.prompts.get(name).render(name="Ada") == "v1: hello Ada"
    assert fetches(server) == before
    writer.prompts.set_label(name, "production", 2)
    assert writer.prompts.get(name).version == 2  # the server moved on...
    assert reader.prompts.get(name).version == 1  # ...this process serves its copy until TTL
    assert fetches(server) == before + 1  # only the writer's read
    # labels are cached apart: another label is its own fetch
    assert reader.prompts.get(name, "latest").version == 2
    assert fetches(server) == before + 2


def test_an_expired_copy_answers_at_once_and_is_refreshed_behind(
    server: ServerProcess, connect: Connect
) -> None:
    ttl = 0.3
    reader, writer = connect(server, ttl), connect(server, 0)
    name = two_versions(writer)
    assert reader.prompts.get(name).version == 1
    fetched_at = time.monotonic()  # the copy expires ttl after it arrived
    writer.prompts.set_label(name, "production", 2)
    wait_until(lambda: time.monotonic() > fetched_at + ttl)
    before = fetches(server)
    stale = [reader.prompts.get(name) for _ in range(5)]
    assert [p.version for p in stale] == [1] * 5  # the stale copy, without waiting
    assert reader.prompts.cache.wait_idle()
    assert fetches(server) == before + 1  # one background re-read, however many gets
    fresh = reader.prompts.get(name)
    assert fresh.version == 2 and fresh.render(name="Ada") == "v2: hello Ada"
    assert fetches(server) == before + 1  # the refreshed copy is fresh again


def test_a_deleted_label_is_dropped_after_expiry(server: ServerProcess, connect: Connect) -> None:
    ttl = 0.3
    reader, writer = connect(server, ttl), connect(server, 0)
    name = two_versions(writer)
    writer.prompts.set_label(name, "canary", 2)
    assert reader.prompts.get(name, "canary").version == 2
    fetched_at = time.monotonic()
    writer.prompts.delete_label(name, "canary")
    wait_until(lambda: time.monotonic() > fetched_at + ttl)
    assert reader.prompts.get(name, "canary").version == 2  # stale, while it is re-read
    assert reader.prompts.cache.wait_idle()
    with pytest.raises(NotFound):
        reader.prompts.get(name, "canary")


def test_a_pinned_version_is_never_fetched_again(server: ServerProcess, connect: Connect) -> None:
    ttl = 0.3
    reader, writer = connect(server, ttl), connect(server, 0)
    name = two_versions(writer)
    assert reader.prompts.get(name, version=1).render(name="x") == "v1: hello x"
    fetched_at = time.monotonic()
    before = fetches(server)
    wait_until(lambda: time.monotonic() > fetched_at + 2 * ttl)
    for _ in range(5):
        assert reader.prompts.get(name, version=1).version == 1
    assert reader.prompts.get(name, version=1, cache_ttl_s=0).version == 1
    assert reader.prompts.cache.wait_idle()
    assert fetches(server) == before


def test_ttl_zero_always_fetches(server: ServerProcess, connect: Connect) -> None:
    reader, writer = connect(server, 30.0), connect(server, 0)
    name = two_versions(writer)
    assert reader.prompts.get(name).version == 1  # cached for 30 s
    writer.prompts.set_label(name, "production", 2)
    before = fetches(server)
    assert reader.prompts.get(name, cache_ttl_s=0).version == 2  # not the cached copy
    assert reader.prompts.get(name, cache_ttl_s=0).version == 2
    assert fetches(server) == before + 2
    # what a fresh read showed, a later cached read does not take back
    assert reader.prompts.get(name).version == 2

    off = connect(server, 0)  # SHIPYARD_PROMPTS_CACHE_TTL_S=0: the cache is off
    assert off.prompts.get(name).version == 2
    writer.prompts.set_label(name, "production", 1)
    before = fetches(server)
    assert off.prompts.get(name).version == 1
    assert off.prompts.get(name).version == 1
    assert fetches(server) == before + 2


def test_the_module_shortcut_uses_the_default_client(
    server: ServerProcess, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = connect(server, 0)
    name = two_versions(writer)
    monkeypatch.setenv("SHIPYARD_URL", server.url)
    monkeypatch.setenv("SHIPYARD_PROMPTS_CACHE_TTL_S", "30")
    try:
        assert shipyard.prompts.get(name).version == 1
        assert shipyard.prompts.get(name, "latest").version == 2
        assert shipyard.prompts.get(name, version=2).render(name="Bo") == "v2: hello Bo"
        before = fetches(server)
        writer.prompts.set_label(name, "production", 2)
        assert shipyard.prompts.get(name).version == 1  # cached by the default client
        assert shipyard.prompts.get(name, cache_ttl_s=0).version == 2
        assert fetches(server) == before + 1
        with pytest.raises(NotFound):
            shipyard.prompts.get(name, "nope", fallback="Hi")
    finally:
        shipyard.sdk.get_client().close()


def test_not_found_beats_a_fallback(server: ServerProcess, connect: Connect) -> None:
    reader, writer = connect(server, 30.0), connect(server, 0)
    name = two_versions(writer)
    with pytest.raises(NotFound):
        reader.prompts.get(unique("typo"), fallback="Hi {{ name }}")
    with pytest.raises(NotFound):
        reader.prompts.get(name, "stagign", fallback="Hi {{ name }}")
    with pytest.raises(NotFound):
        reader.prompts.get(name, version=7, fallback="Hi {{ name }}")
    real = reader.prompts.get(name, fallback="Hi {{ name }}")
    assert not real.is_fallback and real.version == 1


# -- during an outage ---------------------------------------------------------------------------


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of this test's own, to be stopped in the middle of it."""
    s = ServerProcess(tmp_path / "doomed").start()
    yield s
    s.stop()


def test_an_outage_is_served_from_the_cache_or_a_fallback(
    doomed: ServerProcess, connect: Connect
) -> None:
    ttl = 0.3
    reader, writer = connect(doomed, ttl), connect(doomed, 0)
    name = two_versions(writer)
    assert reader.prompts.get(name).version == 1
    assert reader.prompts.get(name, version=2).version == 2
    fetched_at = time.monotonic()
    doomed.stop()

    # a cached prompt keeps answering, fresh or expired (its re-read fails quietly)
    wait_until(lambda: time.monotonic() > fetched_at + ttl)
    for _ in range(3):
        p = reader.prompts.get(name)
        assert (p.version, p.is_fallback) == (1, False)
        assert p.render(name="Ada") == "v1: hello Ada"
        assert reader.prompts.cache.wait_idle()
    assert reader.prompts.get(name, fallback="Hi {{ name }}").version == 1  # not the fallback
    assert reader.prompts.get(name, version=2).render(name="Ada") == "v2: hello Ada"

    # an uncached one needs a fallback; without one the outage is an error
    with pytest.raises(RemoteError):
        reader.prompts.get(name, "latest")
    p = reader.prompts.get(name, "latest", fallback="Hi {{ name }}")
    assert p.is_fallback and p.name == name and p.version == 0
    assert p.render(name="Bob") == "Hi Bob"
    chat = reader.prompts.get(
        name, "canary", fallback=[{"role": "user", "content": "Hey {{ name }}"}]
    )
    assert chat.is_fallback and chat.render(name="Bob") == [{"role": "user", "content": "Hey Bob"}]
    with pytest.raises(RemoteError):  # a fallback is not cached in place of the real prompt
        reader.prompts.get(name, "latest")
