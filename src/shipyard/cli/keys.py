"""``shipyard keys``: create, list and revoke API keys."""

from __future__ import annotations

import click
from rich.table import Table

from shipyard.cli.common import console, fmt_time, get_client, json_option, print_json
from shipyard.core.identity import Role


@click.group("keys")
def command() -> None:
    """API keys. Roles: viewer (read), editor (write), admin (keys, approvals, settings)."""


@command.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--tenant", default=None, help="Tenant the key's usage is attributed to.")
@click.option("--name", default=None, help="A name to recognise the key by.")
@json_option
@click.pass_context
def create(
    ctx: click.Context, role: str, tenant: str | None, name: str | None, as_json: bool
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    key = get_client(ctx).admin.create_key(Role(role), name=name, tenant=tenant)
    if as_json:
        print_json(key)
        return
    console.print(
        f"created key {key.name} (id {key.id}, role {key.role.value}"
        + (f", tenant {key.tenant}" if key.tenant else "")
        + ")"
    )
    console.print("store it now; it cannot be shown again:")
    click.echo(key.key)


@command.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@json_option
@click.pass_context
def list_(ctx: click.Context, include_revoked: bool, as_json: bool) -> None:
    """List keys (never their secrets)."""
    keys = get_client(ctx).admin.list_keys(include_revoked)
    if as_json:
        print_json(keys)
        return
    table = Table("id", "name", "role", "tenant", "created", "created by", "revoked")
    for k in keys:
        table.add_row(
            k.id,
            k.name,
            k.role.value,
            k.tenant or "-",
            fmt_time(k.created_at),
            k.created_by,
            fmt_time(k.revoked_at) if k.revoked_at else "",
        )
    console.print(table)


@command.command("revoke")
@click.argument("key_id")
@click.pass_context
def revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by its id; requests with it get 401 from then on."""
    key = get_client(ctx).admin.revoke_key(key_id)
    console.print(f"revoked {key.id} ({key.name})")
