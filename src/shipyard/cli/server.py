"""``shipyard server``: run the HTTP server."""

from __future__ import annotations

import click

from shipyard.cli.common import console
from shipyard.core.settings import Settings, is_loopback


def serve(settings: Settings, *, log_level: str = "warning") -> None:
    """Open the platform, say where it listens and whether auth is on, then serve."""
    import uvicorn

    from shipyard.server.app import create_app

    app = create_app(settings)
    host, port = settings.server.host, settings.server.port
    shown = f"[{host}]" if ":" in host else host
    platform = app.state.platform
    console.print(f"Shipyard server on http://{shown}:{port}  (database: {platform.db.safe_url})")
    if app.state.auth_required:
        if not platform.admin.has_admin_key():
            console.print(
                "auth is required but no admin key exists: create one with "
                "`shipyard keys create --role admin`"
            )
        else:
            console.print("auth: API keys required")
    else:
        console.print(
            "auth is OFF: the server is open to anyone who can reach "
            f"{host} (loopback only). Set SHIPYARD_AUTH=required to require keys."
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


@click.command("server")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, or SHIPYARD_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 5757, or SHIPYARD_PORT).")
@click.option(
    "--auth",
    type=click.Choice(["auto", "required", "off"]),
    default=None,
    help="auto (default): keys required unless bound to loopback.",
)
@click.option("--log-level", default="warning", show_default=True)
def command(host: str | None, port: int | None, auth: str | None, log_level: str) -> None:
    """Run the Shipyard server (REST API, docs at /docs, health at /healthz)."""
    settings = Settings.load()
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    if auth:
        settings.server.auth = auth  # type: ignore[assignment]
    if settings.server.auth == "off" and not is_loopback(settings.server.host):
        raise click.UsageError(
            f"auth cannot be off on {settings.server.host}: it is mandatory off loopback"
        )
    serve(settings, log_level=log_level)
