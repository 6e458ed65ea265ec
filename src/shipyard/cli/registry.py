"""``shipyard registry``: entries, versions, aliases, history, rollback, approvals."""

from __future__ import annotations

import click
from rich.table import Table

from shipyard.cli.common import (
    console,
    fmt_time,
    get_client,
    json_option,
    print_alias_events,
    print_json,
)
from shipyard.registry.schemas import Kind


@click.group("registry")
def command() -> None:
    """Versioned entries of every kind: model, prompt, index, evalset, policy, route."""


@command.command("list")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), default=None)
@json_option
@click.pass_context
def list_(ctx: click.Context, kind: str | None, as_json: bool) -> None:
    """List entries with their latest version and aliases."""
    entries = get_client(ctx).registry.list_entries(Kind(kind) if kind else None)
    if as_json:
        print_json(entries)
        return
    table = Table("name", "kind", "latest", "aliases", "protected", "updated")
    for e in entries:
        aliases = ", ".join(f"{a}→{v}" for a, v in e.aliases.items())
        table.add_row(
            e.name,
            e.kind.value,
            str(e.latest_version or "-"),
            aliases,
            "yes" if e.protected else "",
            fmt_time(e.updated_at),
        )
    console.print(table)


@command.command("show")
@click.argument("ref")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show an entry, or one version with NAME@ALIAS or NAME/VERSION."""
    client = get_client(ctx)
    if "@" in ref or "/" in ref:
        v = client.registry.resolve(ref)
        if as_json:
            print_json(v)
            return
        console.print(
            f"{v.name} version {v.version} ({v.kind.value})"
            + (f"  aliases: {', '.join(v.aliases)}" if v.aliases else "")
        )
        console.print(
            f"created {fmt_time(v.created_at)} by {v.created_by}  hash {v.content_hash[:16]}"
        )
        if v.approved_at:
            console.print(f"approved {fmt_time(v.approved_at)} by {v.approved_by}")
        if v.source_run_id:
            console.print(f"source run: {v.source_run_id}")
        if v.artifact_digest:
            console.print(f"artifact: {v.artifact_digest}")
        if v.payload:
            print_json(v.payload)
        return
    e = client.registry.get_entry(ref)
    if as_json:
        print_json(e)
        return
    console.print(
        f"{e.name} ({e.kind.value})  latest version {e.latest_version or '-'}"
        + ("  protected: " + ", ".join(e.protected_aliases) if e.protected else "")
    )
    if e.description:
        console.print(e.description)
    for alias, version in e.aliases.items():
        console.print(f"  @{alias} → {version}")


@command.command("versions")
@click.argument("name")
@json_option
@click.pass_context
def versions(ctx: click.Context, name: str, as_json: bool) -> None:
    """List an entry's versions, newest first."""
    vs = get_client(ctx).registry.list_versions(name)
    if as_json:
        print_json(vs)
        return
    table = Table("version", "aliases", "created", "by", "approved", "source run", "description")
    for v in vs:
        table.add_row(
            str(v.version),
            ", ".join(v.aliases),
            fmt_time(v.created_at),
            v.created_by,
            v.approved_by or "",
            v.source_run_id or "",
            v.description,
        )
    console.print(table)


@command.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--reason", default="", help="Why (kept in the alias history).")
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@click.pass_context
def alias(
    ctx: click.Context, name: str, alias: str, version: int | None, reason: str, delete: bool
) -> None:
    """Point ALIAS of NAME at VERSION (or --delete it)."""
    client = get_client(ctx)
    if delete:
        ev = client.registry.delete_alias(name, alias, reason)
        console.print(f"{name}@{alias} deleted (was {ev.from_version})")
        return
    if version is None:
        raise click.UsageError("give a VERSION, or --delete")
    ev = client.registry.set_alias(name, alias, version, reason)
    console.print(f"{name}@{alias}: {ev.from_version or '-'} → {ev.to_version}")


@command.command("history")
@click.argument("name")
@click.option("--alias", default=None, help="Only this alias.")
@json_option
@click.pass_context
def history(ctx: click.Context, name: str, alias: str | None, as_json: bool) -> None:
    """Every alias move: who, when, from, to, why."""
    events = get_client(ctx).registry.history(name, alias)
    if as_json:
        print_json(events)
        return
    print_alias_events(events)


@command.command("rollback")
@click.argument("name")
@click.option("--alias", default="production", show_default=True)
@click.option("--reason", default="", help="Why (kept in the alias history).")
@click.pass_context
def rollback(ctx: click.Context, name: str, alias: str, reason: str) -> None:
    """Move ALIAS back to the version it pointed at before."""
    ev = get_client(ctx).registry.rollback(name, alias, reason)
    console.print(f"{name}@{alias} rolled back: {ev.from_version} → {ev.to_version}")


@command.command("approve")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--comment", default="")
@click.pass_context
def approve(ctx: click.Context, name: str, version: int, comment: str) -> None:
    """Approve a version so protected aliases may point at it (admins only)."""
    v = get_client(ctx).registry.approve(name, version, comment)
    console.print(f"approved {v.name}/{v.version} ({v.approved_by})")


@command.command("protect")
@click.argument("name")
@click.option("--alias", "aliases", multiple=True, help="Protected aliases (default: production).")
@click.option("--off", is_flag=True, help="Remove the protection.")
@click.pass_context
def protect(ctx: click.Context, name: str, aliases: tuple[str, ...], off: bool) -> None:
    """Require approved versions behind protected aliases (admins only)."""
    from shipyard.registry.schemas import UpdateEntry

    req = UpdateEntry(protected=not off, protected_aliases=list(aliases) or None)
    e = get_client(ctx).registry.update_entry(name, req)
    state = "protected: " + ", ".join(e.protected_aliases) if e.protected else "not protected"
    console.print(f"{e.name} is {state}")


@command.command("lineage")
@click.argument("name")
@click.argument("version", type=int)
@json_option
@click.pass_context
def lineage(ctx: click.Context, name: str, version: int, as_json: bool) -> None:
    """Version → the run that produced it → the datasets that run read."""
    lin = get_client(ctx).registry.lineage(name, version)
    if as_json:
        print_json(lin)
        return
    console.print(f"{name}/{version}")
    if lin.run is None:
        console.print("  (no source run)")
        return
    console.print(f"  └─ run {lin.run.name} ({lin.run.id}) in experiment {lin.run.experiment_id}")
    for d in lin.datasets:
        console.print(
            f"      └─ dataset {d.name} [{d.context or 'input'}] sha256:{d.digest[:16]} "
            f"rows={d.num_rows}"
        )
