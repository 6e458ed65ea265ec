"""``shipyard audit``: read the append-only audit log."""

from __future__ import annotations

import json

import click
from rich.table import Table

from shipyard.cli.common import console, fmt_time, get_client, json_option, print_json
from shipyard.core.identity import AuditQuery


@click.command("audit")
@click.option("--actor", default=None, help="Only events by this actor.")
@click.option("--action", default=None, help="Only these actions; '*' is a wildcard (registry.*).")
@click.option(
    "--target", default=None, help="Only events on this target (a run id, name@alias...)."
)
@click.option("--limit", default=50, show_default=True)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    actor: str | None,
    action: str | None,
    target: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show who changed what and when, newest first."""
    query = AuditQuery(actor=actor, action=action, target=target, limit=limit)
    page = get_client(ctx).admin.audit(query)
    if as_json:
        print_json(page.events)
        return
    table = Table("time (UTC)", "actor", "action", "target", "change")
    for e in page.events:
        change = ""
        if e.before is not None:
            change += f"{json.dumps(e.before, default=str)[:60]} → "
        if e.after is not None:
            change += json.dumps(e.after, default=str)[:80]
        table.add_row(fmt_time(e.time_ms), e.actor, e.action, e.target, change)
    console.print(table)
