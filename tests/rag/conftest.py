"""RAG app tests reuse the gateway's fixtures: a fake provider over HTTP and a real server."""

from tests.gateway.conftest import fake, gw  # noqa: F401
