"""The HTTP surface of a real server process: errors, limits, auth and roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard import PermissionDenied, Unauthenticated
from shipyard.core.identity import AuditQuery, Role
from shipyard.core.settings import Settings
from shipyard.registry.schemas import CreateEntry, Kind
from shipyard.sdk import Client
from tests.conftest import ServerProcess, unique


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("open")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("locked"), auth="required").start()
    yield server
    server.stop()


def _error(resp: httpx.Response) -> dict[str, str]:
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    body = resp.json()
    assert set(body) == {"error"} and {"type", "message"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


def test_runs_listed_with_query_parameters(open_server: ServerProcess) -> None:
    exp = unique("q")
    for auc in (0.7, 0.95):
        run = httpx.post(f"{open_server.url}/api/v1/runs", json={"experiment": exp}).json()
        httpx.post(
            f"{open_server.url}/api/v1/runs/{run['id']}/metrics",
            json={"metrics": [{"key": "auc", "value": auc}]},
        )
    resp = httpx.get(
        f"{open_server.url}/api/v1/runs", params={"experiment": exp, "filter": "metrics.auc > 0.9"}
    )
    assert [r["metrics"]["auc"] for r in resp.json()["runs"]] == [0.95]
    bad = httpx.get(f"{open_server.url}/api/v1/runs", params={"filter": "metrics.auc >"})
    assert bad.status_code == 400 and _error(bad)["type"] == "InvalidInput"
    root = httpx.get(open_server.url + "/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/docs"


def test_health_and_openapi(open_server: ServerProcess) -> None:
    assert httpx.get(f"{open_server.url}/healthz").json()["status"] == "ok"
    spec = httpx.get(f"{open_server.url}/openapi.json").json()
    assert "/api/v1/runs/{run_id}/metrics" in spec["paths"]
    assert "/api/v1/registry/{name}/aliases/{alias}/rollback" in spec["paths"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "etype"),
    [
        ("GET", "/api/v1/nowhere", {}, 404, "NotFound"),
        ("GET", "/api/v1/runs/abc", {}, 404, "NotFound"),
        ("DELETE", "/healthz", {}, 405, "MethodNotAllowed"),
        (
            "POST",
            "/api/v1/runs",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "InvalidInput",
        ),
        ("POST", "/api/v1/runs", {"json": {"experiment": ["x"]}}, 422, "ValidationFailed"),
        ("POST", "/api/v1/runs", {"json": {}}, 422, "ValidationFailed"),
        ("POST", "/api/v1/runs/search", {"json": {"filter": "metrics.x >"}}, 400, "InvalidInput"),
        ("POST", "/api/v1/runs/search", {"json": {"max_results": -1}}, 422, "ValidationFailed"),
        ("GET", "/api/v1/registry-resolve?ref=bad%20name", {}, 400, "InvalidInput"),
        ("GET", "/api/v1/artifacts/nothex", {}, 400, "InvalidInput"),
        ("GET", "/api/v1/registry/x/versions/notanumber", {}, 422, "ValidationFailed"),
        ("POST", "/api/v1/keys", {"json": {"role": "god"}}, 422, "ValidationFailed"),
        ("GET", "/api/v1/prompts/nothere", {}, 404, "NotFound"),
        ("GET", "/api/v1/prompts/x?version=abc", {}, 422, "ValidationFailed"),
        ("GET", "/api/v1/prompts/x?version=0", {}, 422, "ValidationFailed"),
        ("GET", "/api/v1/prompts/x?version=99999999999", {}, 422, "ValidationFailed"),
        ("GET", "/api/v1/prompts/bad%20name", {}, 404, "NotFound"),
    ],
)
def test_bad_requests_get_json_4xx(
    open_server: ServerProcess,
    method: str,
    path: str,
    kwargs: dict[str, object],
    status: int,
    etype: str,
) -> None:
    resp = httpx.request(method, open_server.url + path, **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == status, resp.text
    assert _error(resp)["type"] == etype


def test_metric_batch_validation(open_server: ServerProcess) -> None:
    run = httpx.post(f"{open_server.url}/api/v1/runs", json={"experiment": unique("e")}).json()
    url = f"{open_server.url}/api/v1/runs/{run['id']}/metrics"
    for body in (
        b"[]",
        b'{"metrics": [{"key": "a", "value": "x"}]}',
        b'{"metrics": 3}',
        b'{"metrics": [{"key": "", "value": 1}]}',
        b"\xff\xfe",
    ):
        resp = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert 400 <= resp.status_code < 500, (body, resp.text)
        _error(resp)
    ok = httpx.post(url, json={"metrics": [{"key": "a", "value": None, "step": 1}]})
    assert ok.json() == {"stored": 1}


def test_body_over_limit_is_413(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "small")
    server.env["SHIPYARD_MAX_BODY_BYTES"] = "1000"
    server.env["SHIPYARD_MAX_ARTIFACT_BYTES"] = "5000"
    server.start()
    try:
        big = {"experiment": "x" * 2000}
        resp = httpx.post(f"{server.url}/api/v1/runs", json=big)
        assert resp.status_code == 413 and _error(resp)["type"] == "PayloadTooLarge"

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b"x" * 1000

        resp = httpx.post(f"{server.url}/api/v1/artifacts", content=chunked())
        assert resp.status_code == 413
        ok = httpx.post(f"{server.url}/api/v1/artifacts", content=b"y" * 4000)
        assert ok.status_code == 201 and ok.json()["size"] == 4000
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()


def test_no_request_gets_a_500(open_server: ServerProcess) -> None:
    """Every route of the OpenAPI spec, fed junk: always a JSON 4xx, never a 500."""
    spec = httpx.get(f"{open_server.url}/openapi.json").json()
    junk_bodies = [
        b"",
        b"null",
        b"[]",
        b'{"a": 1}',
        b"\x00\x01",
        b'{"name": 5, "version": "x"}',
        b'{"payload": "x", "kind": "robot", "version": 0}',
    ]
    with httpx.Client(base_url=open_server.url) as http:
        for path, ops in spec["paths"].items():
            filled = path
            for part in (
                "{run_id}",
                "{name}",
                "{alias}",
                "{version}",
                "{key_id}",
                "{digest}",
                "{path}",
            ):
                filled = filled.replace(part, "zz%20..%2F" if part != "{version}" else "-1")
            for method in ops:
                for body in junk_bodies:
                    resp = http.request(
                        method.upper(),
                        filled,
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    assert resp.status_code < 500, (method, filled, body, resp.text)
                    if resp.status_code >= 400:
                        _error(resp)


def test_roles_are_enforced(locked_server: ServerProcess) -> None:
    # bootstrap: the first admin key is made on the server's own store, as `shipyard keys create`
    local = Client(Settings.load(home=locked_server.home))
    admin_key = local.admin.create_key(Role.admin, name="root").key
    local.close()
    url = locked_server.url

    resp = httpx.get(f"{url}/api/v1/experiments")
    assert resp.status_code == 401 and _error(resp)["type"] == "Unauthenticated"
    assert resp.headers["www-authenticate"] == "Bearer"
    bad = httpx.get(f"{url}/api/v1/experiments", headers={"Authorization": "Bearer shy_x_y"})
    assert bad.status_code == 401
    assert httpx.get(f"{url}/healthz").status_code == 200  # health needs no key
    resp = httpx.get(f"{url}/api/v1/prompts/anything")
    assert resp.status_code == 401 and _error(resp)["type"] == "Unauthenticated"

    with locked_server.client(admin_key) as admin:
        viewer_key = admin.admin.create_key(Role.viewer, name="dash").key
        editor = admin.admin.create_key(Role.editor, name="trainer", tenant="acme")
        name = unique("m")
        admin.registry.create_version(name, kind="model", payload={})
    with locked_server.client(viewer_key) as viewer:
        assert viewer.tracking.list_experiments() is not None
        assert viewer.registry.get_entry(name).name == name
        with pytest.raises(PermissionDenied):
            viewer.start_run(unique("e"))
        with pytest.raises(PermissionDenied):
            viewer.registry.set_alias(name, "production", 1)
    with locked_server.client(editor.key) as ed:
        assert ed.admin.whoami() == {
            "name": "trainer",
            "role": "editor",
            "tenant": "acme",
            "key_id": editor.id,
        }
        with ed.start_run(unique("e")) as run:
            run.log_metric("x", 1.0)
        ed.registry.set_alias(name, "production", 1)
        with pytest.raises(PermissionDenied):
            ed.registry.approve(name, 1)
        with pytest.raises(PermissionDenied):
            ed.registry.create_entry(CreateEntry(name=unique("p"), kind=Kind.model, protected=True))
        with pytest.raises(PermissionDenied):
            ed.admin.create_key(Role.admin)
        with pytest.raises(PermissionDenied):
            ed.admin.audit()
    with locked_server.client(admin_key) as admin:
        guarded = unique("guarded")
        admin.registry.create_entry(CreateEntry(name=guarded, kind=Kind.model, protected=True))
        admin.registry.create_version(guarded, payload={})
        admin.registry.approve(guarded, 1)
        admin.registry.set_alias(guarded, "production", 1)
    with locked_server.client(editor.key) as ed, pytest.raises(PermissionDenied):
        ed.registry.delete_alias(guarded, "production")  # only admins remove a protected alias
    with locked_server.client(admin_key) as admin:
        events = admin.admin.audit(AuditQuery(target=f"{name}@production")).events
        assert events[0].actor == "trainer" and events[0].tenant == "acme"
        used = {k.id: k.last_used_at for k in admin.admin.list_keys()}
        assert used[editor.id] is not None  # keys show when they were last used
        admin.admin.revoke_key(editor.id)
    with locked_server.client(editor.key) as ed, pytest.raises(Unauthenticated):
        ed.tracking.list_experiments()


def test_auth_is_mandatory_off_loopback(tmp_path: Path) -> None:
    import asyncio

    from shipyard.server.app import create_app

    settings = Settings.load(home=tmp_path / "h", host="0.0.0.0", auth="off")
    assert settings.auth_required()
    app = create_app(settings)

    async def call() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return (await http.get("/api/v1/experiments")).status_code

    assert asyncio.run(call()) == 401
    app.state.platform.close()
    loop = Settings.load(home=tmp_path / "h", host="127.0.0.1")
    assert not loop.auth_required()
    assert Settings.load(home=tmp_path / "h", host="::1", auth="required").auth_required()


def test_open_server_says_so_at_start(open_server: ServerProcess) -> None:
    assert "auth is OFF" in open_server.log.read_text()


def test_mlflow_routes_take_the_same_keys_and_roles(locked_server: ServerProcess) -> None:
    """MLFLOW_TRACKING_TOKEN carries a Shipyard key; errors come in MLflow's shape."""
    local = Client(Settings.load(home=locked_server.home))
    viewer_key = local.admin.create_key(Role.viewer, name="mlflow-viewer").key
    editor_key = local.admin.create_key(Role.editor, name="mlflow-editor").key
    local.close()
    search = f"{locked_server.url}/api/2.0/mlflow/experiments/search"
    create = f"{locked_server.url}/api/2.0/mlflow/experiments/create"
    anonymous = httpx.post(search, json={})
    assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "UNAUTHENTICATED"
    as_viewer = {"Authorization": f"Bearer {viewer_key}"}
    assert httpx.post(search, json={}, headers=as_viewer).status_code == 200
    denied = httpx.post(create, json={"name": unique("mlf")}, headers=as_viewer)
    assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"
    made = httpx.post(create, json={"name": unique("mlf")},
                      headers={"Authorization": f"Bearer {editor_key}"})  # fmt: skip
    assert made.status_code == 200 and made.json()["experiment_id"]


def test_every_caller_has_a_request_rate(tmp_path: Path) -> None:
    """Past SHIPYARD_RATE_LIMIT_RPM a caller gets 429 with Retry-After (health checks aside);
    another caller has its own allowance; MLflow routes answer in MLflow's shape."""
    server = ServerProcess(tmp_path / "rated")
    server.env["SHIPYARD_RATE_LIMIT_RPM"] = "20"
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            codes = [http.get("/api/v1/experiments").status_code for _ in range(25)]
            assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
            limited = http.get("/api/v1/experiments")
            assert _error(limited)["type"] == "RateLimited"
            assert int(limited.headers["retry-after"]) >= 1
            assert http.get("/healthz").status_code == 200
            mlflow = http.post("/api/2.0/mlflow/experiments/search", json={})
            assert (
                mlflow.status_code == 429
                and mlflow.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
            )
            other = http.get("/api/v1/experiments", headers={"Authorization": "Bearer other"})
            assert (
                other.status_code != 429
            )  # its own allowance (the key itself is not checked here)
    finally:
        server.stop()
