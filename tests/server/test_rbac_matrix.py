"""Every HTTP route × every role, against a real server that requires keys: anonymous callers
get 401 (health aside), callers below a route's role get 403, callers at or above it get past
the check. Which role a route needs is read from the route itself and held to the house rule:
anything that changes state needs an editor, and the listed admin routes need an admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from shipyard.core.identity import Role
from shipyard.core.settings import Settings
from shipyard.sdk import Client
from tests.conftest import ServerProcess

PUBLIC = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/v2/health/live"),
    ("GET", "/v2/health/ready"),
}
READ_ONLY_POSTS = {  # POST for its body, but reads only
    "/api/2.0/mlflow/experiments/search",
    "/api/2.0/mlflow/logged-models/search",
    "/api/2.0/mlflow/registered-models/get-latest-versions",
    "/api/2.0/mlflow/runs/search",
    "/api/v1/endpoints/{name}/predict",
    "/api/v1/rag/apps/{name}/ask",
    "/api/v1/rag/indexes/{name}/search",
    "/api/v1/runs/search",
    "/v2/models/{name}/infer",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",  # model calls: any key
}
ADMIN = {  # keys, audit, upstream credentials, spending limits, approvals, trace privacy
    "/api/v1/keys",
    "/api/v1/keys/{key_id}",
    "/api/v1/audit",
    "/api/v1/gateway/limits",
    "/api/v1/gateway/limits/{scope}/{subject}",
    "/api/v1/gateway/upstreams/{name}",
    "/api/v1/registry/{name}/versions/{version}/approve",
    "/api/v1/trace-projects/{project:path}",
}
ADMIN_READS = {
    "/api/v1/keys",
    "/api/v1/audit",
    "/api/v1/gateway/limits",
}  # who may spend, who did what
GATEWAY_FAST_PATH = [("POST", "/v1/chat/completions"), ("POST", "/v1/completions"),
                     ("POST", "/v1/embeddings")]  # fmt: skip
RANK = {"anonymous": -1, "viewer": 0, "editor": 1, "admin": 2}


def _routes() -> list[tuple[str, str, str]]:
    """(method, path, the role its dependencies require) for every route of the app."""
    import tempfile

    from shipyard.server.app import create_app

    app = create_app(Settings.load(home=Path(tempfile.mkdtemp(prefix="shipyard-rbac-"))))

    def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[APIRoute, str]]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r, prefix
            elif hasattr(r, "original_router"):
                ctx = getattr(r, "include_context", None)
                yield from walk(
                    r.original_router.routes, prefix + (getattr(ctx, "prefix", "") or "")
                )
            elif hasattr(r, "routes"):
                yield from walk(r.routes, prefix)

    def needs(dep: Any) -> set[str]:
        found = set()
        for d in dep.dependencies:
            name = getattr(d.call, "__name__", "")
            if name.startswith("require_"):
                found.add(name.removeprefix("require_"))
            found |= needs(d)
        return found

    rows = []
    for route, prefix in walk(app.routes):
        roles = needs(route.dependant)
        role = max(roles, key=RANK.__getitem__) if roles else "anonymous"
        rows.extend((m, prefix + route.path, role) for m in sorted(route.methods))
    rows.extend((m, p, "viewer") for m, p in GATEWAY_FAST_PATH)
    return rows


ROUTES = _routes()


def test_every_route_asks_for_the_role_the_house_rule_gives_it() -> None:
    assert len(ROUTES) > 100
    for method, path, role in ROUTES:
        if (method, path) in PUBLIC:
            assert role == "anonymous", (method, path)
            continue
        writes = method in ("POST", "PUT", "PATCH", "DELETE") and path not in READ_ONLY_POSTS
        admin = path in ADMIN and (method != "GET" or path in ADMIN_READS)
        expected = "admin" if admin else "editor" if writes else "viewer"
        assert role == expected, f"{method} {path} needs {role}, the rule says {expected}"


@pytest.fixture(scope="module")
def locked(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    server = ServerProcess(tmp_path_factory.mktemp("rbac"), auth="required").start()
    local = Client(Settings.load(home=server.home))
    keys = {role.value: local.admin.create_key(role, name=f"rbac-{role.value}").key
            for role in (Role.viewer, Role.editor, Role.admin)}  # fmt: skip
    local.close()
    yield server, keys
    server.stop()


def test_every_route_and_every_role(locked: tuple[ServerProcess, dict[str, str]]) -> None:
    server, keys = locked
    wrong = []
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for method, path, role in ROUTES:
            url = re.sub(r"\{[^}]+\}", "x", path)
            for caller in ("anonymous", "viewer", "editor", "admin"):
                headers = {"Authorization": f"Bearer {keys[caller]}"} if caller in keys else {}
                resp = http.request(
                    method, url, headers=headers, json={} if method != "GET" else None
                )
                if role == "anonymous":
                    ok = resp.status_code not in (401, 403)
                elif caller == "anonymous":
                    ok = resp.status_code == 401
                elif RANK[caller] < RANK[role]:
                    ok = resp.status_code == 403
                else:
                    ok = resp.status_code not in (401, 403)
                if not ok or resp.status_code >= 500:
                    wrong.append(f"{caller:9} {method} {url} -> {resp.status_code} (needs {role})")
    assert wrong == []
