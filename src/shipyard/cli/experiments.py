"""``shipyard experiments``: list and create experiments."""

from __future__ import annotations

import click
from rich.table import Table

from shipyard.cli.common import console, fmt_time, get_client, json_option, print_json


@click.group("experiments")
def command() -> None:
    """Experiments group the runs of one modelling task."""


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List experiments."""
    client = get_client(ctx)
    exps = client.tracking.list_experiments()
    if as_json:
        print_json(exps)
        return
    table = Table("name", "id", "created", "created by", "description")
    for e in exps:
        table.add_row(e.name, e.id, fmt_time(e.created_at), e.created_by, e.description)
    console.print(table)


@command.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.pass_context
def create(ctx: click.Context, name: str, description: str) -> None:
    """Create an experiment."""
    exp = get_client(ctx).tracking.create_experiment(name, description)
    console.print(f"created experiment {exp.name} ({exp.id})")
