"""Typed settings, one class per concern, all read from ``SHIPYARD_*`` environment variables.

``Settings.load()`` is the one place that reads the environment; everything else
receives a ``Settings`` object (``create_app(settings)``, ``Client(settings)``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ENV = SettingsConfigDict(env_prefix="SHIPYARD_", extra="ignore")


class HomeSettings(BaseSettings):
    model_config = _ENV
    home: Path = Field(default_factory=lambda: Path.home() / ".shipyard")

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()


class StoreSettings(BaseSettings):
    """Where metadata and artifacts live. Empty values mean "inside the home"."""

    model_config = _ENV
    database_url: str = ""
    artifacts: str = ""
    sqlite_busy_timeout_s: float = 60.0
    pool_size: int = 10


class ServerSettings(BaseSettings):
    model_config = _ENV
    host: str = "127.0.0.1"
    port: int = 5757
    # Keys are always required off loopback; "required" asks for them on loopback too.
    auth: Literal["auto", "required", "off"] = "auto"
    max_body_bytes: int = 32 * 1024 * 1024
    max_artifact_bytes: int = 2 * 1024 * 1024 * 1024
    # Requests a minute per caller (API key, else address) on every route but health checks;
    # 0 turns the limit off; unset: 6000 when the server listens beyond loopback, else off.
    # The gateway's per-key and per-tenant limits come on top.
    rate_limit_rpm: int | None = None


class ClientSettings(BaseSettings):
    """How the SDK reaches a server. Without ``url`` the SDK works on the local store."""

    model_config = _ENV
    url: str = ""
    api_key: str = ""
    timeout_s: float = 30.0


class TrackingSettings(BaseSettings):
    model_config = _ENV
    # Metric points are sent in the background: at most this many per request ...
    metrics_batch_size: int = 5000
    # ... and at least this often while points are waiting.
    metrics_flush_interval_s: float = 0.5
    capture_packages: bool = True


class TracingSettings(BaseSettings):
    model_config = _ENV
    # Key for hashing user ids (projects with hash_user_ids). Empty: a key file in the home.
    hash_key: str = ""
    # How often the retention job deletes traces older than their project allows.
    retention_interval_s: float = 3600.0
    # Inputs and outputs longer than this are cut before storage.
    max_io_chars: int = 32_000
    # Processes that decode OTLP payloads beside the server (-1: one per spare core).
    decode_workers: int = -1

    def decode_worker_count(self) -> int:
        if self.decode_workers >= 0:
            return self.decode_workers
        import os

        return min(4, max(0, (os.cpu_count() or 1) - 1))


class GatewaySettings(BaseSettings):
    """The OpenAI-compatible gateway (``SHIPYARD_GATEWAY_*``)."""

    model_config = _ENV
    # Trace project the gateway's calls are recorded in (a request may name another).
    gateway_project: str = "gateway"
    # How often routes, upstreams and limits are re-read, so changes reach every replica.
    gateway_refresh_s: float = 2.0
    # Key that encrypts upstream API keys at rest (Fernet, urlsafe base64 of 32 bytes).
    # Empty: a key file in the home. Replicas sharing a database must share this key.
    gateway_secret_key: str = ""
    # A YAML price table merged over the shipped defaults.
    gateway_prices_file: Path | None = None
    # A YAML file of routes applied when the server starts (a new version where changed).
    gateway_routes_file: Path | None = None
    # The local generation model: a GGUF path (empty: the packaged Gemma 3 270M).
    gateway_local_model: str = ""
    gateway_local_threads: int = 0  # 0: every core
    gateway_local_context: int = 2048
    # Requests waiting for the local model beyond this are refused with 429.
    gateway_local_max_queue: int = 64
    gateway_cache_max_entries: int = 10_000
    gateway_timeout_s: float = 60.0
    gateway_max_connections: int = 200
    # Reach upstreams through HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment.
    gateway_use_env_proxy: bool = False
    # Record prompts and completions in traces (the project's privacy settings still apply).
    gateway_trace_content: bool = True


class PromptSettings(BaseSettings):
    """The prompt SDK and eval runs (``SHIPYARD_PROMPTS_*``, ``SHIPYARD_EVAL_*``)."""

    model_config = _ENV
    # How long a fetched prompt is served from the process's cache before it is re-read (in
    # the background: the stale copy answers meanwhile). 0 turns the cache off.
    prompts_cache_ttl_s: float = 60.0
    # Cases an eval run works on at once.
    eval_concurrency: int = 4
    # Where the default LLM judge sends its calls (a gateway route or upstream/model).
    eval_judge_model: str = "local/gemma-3-270m"


class RagSettings(BaseSettings):
    """Indexes, retrieval and RAG apps (``SHIPYARD_RAG_*``)."""

    model_config = _ENV
    # How long an alias → version lookup is reused by a running server or client: moving an
    # alias (a rollback included) reaches queries within this many seconds.
    rag_alias_ttl_s: float = 2.0
    # Index versions kept loaded in memory at once (least recently used ones are dropped).
    rag_max_loaded: int = 4
    # Queries whose embedding is kept in memory (per process).
    rag_query_cache_entries: int = 10_000
    # A retrieval "covers" a request when its best cosine score reaches this (for stats).
    rag_score_threshold: float = 0.5


class MlSettings(BaseSettings):
    """Model serving (``SHIPYARD_ML_*``)."""

    model_config = _ENV
    # How long an endpoint's alias → model version lookup is reused: moving the alias (a
    # promotion or a rollback) reaches a running server within this many seconds.
    ml_alias_ttl_s: float = 2.0
    # Model versions kept loaded at once per process (least recently used ones are dropped).
    ml_max_loaded: int = 8
    # How often the server looks for monitored endpoints whose check is due (0: never; each
    # endpoint's own ``monitor.every_s`` says how often it is checked).
    ml_monitor_tick_s: float = 5.0


class Settings:
    """All settings, grouped by concern."""

    def __init__(
        self,
        home: HomeSettings | None = None,
        store: StoreSettings | None = None,
        server: ServerSettings | None = None,
        client: ClientSettings | None = None,
        tracking: TrackingSettings | None = None,
        tracing: TracingSettings | None = None,
        gateway: GatewaySettings | None = None,
        prompts: PromptSettings | None = None,
        rag: RagSettings | None = None,
        ml: MlSettings | None = None,
    ) -> None:
        self.home = (home or HomeSettings()).home
        self.store = store or StoreSettings()
        self.server = server or ServerSettings()
        self.client = client or ClientSettings()
        self.tracking = tracking or TrackingSettings()
        self.tracing = tracing or TracingSettings()
        self.gateway = gateway or GatewaySettings()
        self.prompts = prompts or PromptSettings()
        self.rag = rag or RagSettings()
        self.ml = ml or MlSettings()

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment; keyword overrides win (``home=``, ``database_url=``, ...)."""
        groups: dict[str, type[BaseSettings]] = {
            "store": StoreSettings,
            "server": ServerSettings,
            "client": ClientSettings,
            "tracking": TrackingSettings,
            "tracing": TracingSettings,
            "gateway": GatewaySettings,
            "prompts": PromptSettings,
            "rag": RagSettings,
            "ml": MlSettings,
        }
        kwargs: dict[str, object] = {}
        home_kw = {k: v for k, v in overrides.items() if k == "home"}
        kwargs["home"] = HomeSettings(**home_kw)  # type: ignore[arg-type]
        for group, klass in groups.items():
            fields = {k: v for k, v in overrides.items() if k in klass.model_fields}
            kwargs[group] = klass(**fields)  # type: ignore[arg-type]
        unknown = set(overrides) - {"home"} - {f for k in groups.values() for f in k.model_fields}
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def database_url(self) -> str:
        return self.store.database_url or f"sqlite:///{self.home / 'shipyard.db'}"

    @property
    def artifacts_location(self) -> str:
        return self.store.artifacts or str(self.home / "artifacts")

    def hash_key(self) -> bytes:
        """The key user ids are hashed with: SHIPYARD_HASH_KEY, else one kept in the home."""
        if self.tracing.hash_key:
            return self.tracing.hash_key.encode()
        import secrets

        return self._home_secret("hash.key", lambda: secrets.token_hex(32)).encode()

    def secret_key(self) -> str:
        """The key upstream credentials are encrypted with (Fernet format)."""
        if self.gateway.gateway_secret_key:
            return self.gateway.gateway_secret_key
        import base64
        import secrets

        return self._home_secret(
            "secret.key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        )

    def _home_secret(self, name: str, make: Callable[[], str]) -> str:
        """A secret kept in a file of the home (mode 0600), created on first use."""
        path = self.home / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(make())
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)  # first writer wins; a racing one reads the winner's
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    @property
    def remote(self) -> bool:
        return bool(self.client.url)

    def request_rate_limit(self) -> int:
        """Requests a minute per caller on the API (0: none)."""
        if self.server.rate_limit_rpm is not None:
            return self.server.rate_limit_rpm
        return 0 if is_loopback(self.server.host) else 6000

    def auth_required(self) -> bool:
        """Keys are mandatory off loopback; on loopback only when asked for."""
        if not is_loopback(self.server.host):
            return True
        return self.server.auth == "required"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
