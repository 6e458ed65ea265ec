"""``shipyard prompts``: versions, labels, rollback, diffs, rendering, and YAML files in git."""

from __future__ import annotations

from pathlib import Path

import click
from rich.syntax import Syntax
from rich.table import Table

from shipyard.cli.common import (
    console,
    fmt_time,
    get_client,
    json_option,
    print_alias_events,
    print_json,
)
from shipyard.core.errors import InvalidInput
from shipyard.prompts.files import pull as pull_files
from shipyard.prompts.files import push as push_files
from shipyard.prompts.files import read_prompt_file, render_file
from shipyard.registry.schemas import parse_ref


@click.group("prompts")
def command() -> None:
    """Prompt templates in the registry: versions, labels (production, staging...), diffs.

    A label points at one version; `latest` moves by itself; asking without a label gives
    `production`. Keep prompts in git as YAML files and sync them with push and pull.
    """


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Prompts with their newest version and labels."""
    prompts = get_client(ctx).prompts.list()
    if as_json:
        print_json(prompts)
        return
    table = Table("name", "latest", "labels", "protected", "updated")
    for p in prompts:
        labels = ", ".join(f"{k}→{v}" for k, v in p.labels.items())
        table.add_row(p.name, str(p.latest_version or "-"), labels, "yes" if p.protected else "",
                      fmt_time(p.updated_at))  # fmt: skip
    console.print(table)


@command.command("show")
@click.argument("ref")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show NAME (production), NAME@LABEL or NAME/VERSION as its YAML file."""
    name, label, version = parse_ref(ref)
    p = get_client(ctx).prompts.get(name, label, version, cache_ttl_s=0)
    if as_json:
        print_json(p.data)
        return
    text = render_file(p.name, p.version, p.labels, p.spec, p.data.description)
    console.print(Syntax(text, "yaml", theme="ansi_dark", word_wrap=True))


@command.command("versions")
@click.argument("name")
@json_option
@click.pass_context
def versions(ctx: click.Context, name: str, as_json: bool) -> None:
    """Every version of a prompt, newest first."""
    items = get_client(ctx).prompts.versions(name)
    if as_json:
        print_json(items)
        return
    table = Table("version", "labels", "type", "model", "approved", "created", "by")
    for v in items:
        table.add_row(str(v.version), ", ".join(v.labels), v.spec.type or "",
                      v.spec.target or "-", "yes" if v.approved else "", fmt_time(v.created_at),
                      v.created_by)  # fmt: skip
    console.print(table)


@command.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", "labels", multiple=True, help="Move this label to the new version.")
@click.pass_context
def create(ctx: click.Context, file: Path, labels: tuple[str, ...]) -> None:
    """Add a version from one prompt YAML file (unchanged content: no new version)."""
    f = read_prompt_file(file)
    p = get_client(ctx).prompts.create(
        f.name, spec=f.spec, labels=[*f.labels, *labels], description=f.description
    )
    console.print(f"{p.ref}  labels: {', '.join(p.labels) or '-'}")


@command.command("render")
@click.argument("ref")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A variable.")
@click.pass_context
def render(ctx: click.Context, ref: str, variables: tuple[str, ...]) -> None:
    """Print a prompt with its variables filled in (nothing is sent to a model)."""
    name, label, version = parse_ref(ref)
    values = {}
    for item in variables:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use NAME=VALUE", param_hint="--var")
        values[key] = value
    out = get_client(ctx).prompts.get(name, label, version, cache_ttl_s=0).render(**values)
    if isinstance(out, str):
        click.echo(out)
        return
    for m in out:
        console.print(f"[{m['role']}]", style="bold")
        click.echo(m["content"])


@command.command("label")
@click.argument("name")
@click.argument("label")
@click.argument("version", type=int)
@click.option("--reason", default="", help="Why (kept in the label's history).")
@click.pass_context
def label(ctx: click.Context, name: str, label: str, version: int, reason: str) -> None:
    """Point LABEL at VERSION (a protected label needs an approved version)."""
    ev = get_client(ctx).prompts.set_label(name, label, version, reason)
    console.print(f"{name}@{label}: {ev.from_version or '-'} → {ev.to_version}")


@command.command("rollback")
@click.argument("name")
@click.argument("label", default="production")
@click.option("--reason", default="", help="Why (kept in the label's history).")
@click.pass_context
def rollback(ctx: click.Context, name: str, label: str, reason: str) -> None:
    """Move LABEL (default production) back to the version it pointed at before."""
    ev = get_client(ctx).prompts.rollback(name, label, reason)
    console.print(f"{name}@{label}: {ev.from_version} → {ev.to_version} (rolled back)")


@command.command("history")
@click.argument("name")
@click.option("--label", default=None, help="Only this label's moves.")
@json_option
@click.pass_context
def history(ctx: click.Context, name: str, label: str | None, as_json: bool) -> None:
    """Every label move: when, who, from, to, why."""
    events = get_client(ctx).prompts.history(name, label)
    if as_json:
        print_json(events)
        return
    print_alias_events(events, "label")


@command.command("approve")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--comment", default="")
@click.pass_context
def approve(ctx: click.Context, name: str, version: int, comment: str) -> None:
    """Approve a version, so protected labels may point at it (admins only)."""
    v = get_client(ctx).prompts.approve(name, version, comment)
    console.print(f"{v.name}/{v.version} approved")


@command.command("diff")
@click.argument("name")
@click.argument("from_version", type=int)
@click.argument("to_version", type=int)
@json_option
@click.pass_context
def diff(ctx: click.Context, name: str, from_version: int, to_version: int, as_json: bool) -> None:
    """What changed between two versions (template, variables, model, parameters)."""
    d = get_client(ctx).prompts.diff(name, from_version, to_version)
    if as_json:
        print_json(d)
        return
    if not d.diff:
        console.print(f"{name}: versions {from_version} and {to_version} are the same")
        return
    console.print(Syntax(d.diff, "diff", theme="ansi_dark", word_wrap=True))
    console.print(f"changed: {', '.join(d.changed)}")


@command.command("push")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--label", "labels", multiple=True, help="Move this label to each pushed version.")
@click.pass_context
def push(ctx: click.Context, path: Path, labels: tuple[str, ...]) -> None:
    """Add a version for every prompt file under PATH whose content changed."""
    results = push_files(get_client(ctx).prompts, path, list(labels))
    if not results:
        raise InvalidInput(f"no .yaml prompt files under {path}")
    for r in results:
        state = "new version" if r.created else "unchanged"
        tail = f"  labels: {', '.join(r.labels)}" if r.labels else ""
        console.print(f"{r.name}/{r.version}  {state}  ({r.path}){tail}")


@command.command("pull")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
@click.option("--label", default="production", show_default=True)
@click.pass_context
def pull(ctx: click.Context, folder: Path, names: tuple[str, ...], label: str) -> None:
    """Write NAME.yaml into FOLDER for each prompt's LABEL (all prompts unless NAMES)."""
    written, skipped = pull_files(get_client(ctx).prompts, folder, list(names) or None, label)
    for path in written:
        console.print(f"wrote {path}")
    for reason in skipped:
        console.print(f"skipped {reason}")
