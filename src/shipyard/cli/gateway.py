"""``shipyard gateway``: routes, upstreams, limits and budgets, usage and cost, test calls."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml
from rich.table import Table

from shipyard.cli.common import console, get_client, json_option, print_json, since_ms
from shipyard.gateway.config import LimitSpec
from shipyard.gateway.ledger import GROUPS, UsageQuery
from shipyard.gateway.routes import UpstreamIn


@click.group("gateway")
def command() -> None:
    """The OpenAI-compatible gateway: routes, upstreams, limits, budgets and usage.

    Applications call it at /v1 with any OpenAI client; these commands configure it.
    """


def _resolve_keys(doc: Any) -> Any:
    """``api_key_env: VAR`` in an upstream becomes the key read from that variable here, so
    gateway files never hold keys."""
    if not isinstance(doc, dict):
        return doc
    for name, spec in (doc.get("upstreams") or {}).items():
        if isinstance(spec, dict) and "api_key_env" in spec:
            var = spec.pop("api_key_env")
            value = os.environ.get(str(var))
            if not value:
                raise click.ClickException(f"upstream {name!r}: ${var} is not set")
            spec["api_key"] = value
    return doc


@command.command("apply")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def apply(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Apply a gateway file (YAML with ``upstreams:`` and ``routes:``).

    Changed routes get a new version and are deployed; unchanged ones are left alone, so
    the file can live in git and be applied on every deploy. Upstream keys come from the
    environment: ``api_key_env: OPENAI_API_KEY``.
    """
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{path} is not valid YAML: {exc}") from None
    report = get_client(ctx).gateway.apply(_resolve_keys(doc))
    if as_json:
        print_json(report)
        return
    for kind, items in (("upstream", report.upstreams), ("route", report.routes)):
        for name, what in items.items():
            console.print(f"{kind} {name}: {what}")


@command.command("routes")
@json_option
@click.pass_context
def routes(ctx: click.Context, as_json: bool) -> None:
    """Deployed routes (the version behind ``production``)."""
    items = get_client(ctx).gateway.list_routes()
    if as_json:
        print_json(items)
        return
    table = Table("route", "version", "serves", "strategy", "targets", "fallbacks", "cache")
    for r in items:
        c = r.config
        cache = ",".join(k for k in ("exact", "semantic") if getattr(c.cache, k)) or "-"
        table.add_row(
            r.name, str(r.version), c.operation, c.strategy,
            ", ".join(f"{t.key}×{t.weight:g}" for t in c.targets),
            ", ".join(t.key for t in c.fallbacks) or "-", cache,
        )  # fmt: skip
    console.print(table)


@command.command("upstreams")
@json_option
@click.pass_context
def upstreams(ctx: click.Context, as_json: bool) -> None:
    """Upstreams (keys are never shown, only whether one is set)."""
    items = get_client(ctx).gateway.list_upstreams()
    if as_json:
        print_json(items)
        return
    table = Table("upstream", "provider", "base url", "key", "updated by")
    for u in items:
        table.add_row(u.name, u.provider, str(u.options.get("base_url", "-")),
                      "set" if u.has_api_key else "-",
                      "built in" if u.builtin else u.updated_by)  # fmt: skip
    console.print(table)


@command.command("set-upstream")
@click.argument("name")
@click.option("--provider", required=True, help="openai, anthropic, local or local-embed.")
@click.option("--base-url", default=None, help="The upstream's API base URL.")
@click.option("--api-key-env", default=None, metavar="VAR",
              help="Read the upstream's API key from this environment variable.")  # fmt: skip
def set_upstream(name: str, provider: str, base_url: str | None, api_key_env: str | None) -> None:
    """Add or change an upstream. Its key is encrypted at rest and never shown again."""
    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise click.ClickException(f"${api_key_env} is not set")
    options = {"base_url": base_url} if base_url else {}
    ctx = click.get_current_context()
    out = get_client(ctx).gateway.put_upstream(
        name, UpstreamIn(provider=provider, options=options, api_key=key)
    )
    console.print(
        f"upstream {out.name} ({out.provider}) saved; key {'set' if out.has_api_key else 'not set'}"
    )


@command.command("limits")
@json_option
@click.pass_context
def limits(ctx: click.Context, as_json: bool) -> None:
    """Rate limits and budgets per key and per tenant."""
    items = get_client(ctx).gateway.list_limits()
    if as_json:
        print_json(items)
        return
    table = Table("scope", "subject", "req/min", "tokens/min", "USD/day", "USD/month")

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    for x in items:
        table.add_row(x.scope, x.subject, cell(x.rpm), cell(x.tpm), cell(x.daily_usd),
                      cell(x.monthly_usd))  # fmt: skip
    console.print(table)


@command.command("set-limit")
@click.option("--key", "key_id", default=None, help="An API key id.")
@click.option("--tenant", default=None, help="A tenant name.")
@click.option("--rpm", type=int, default=None, help="Requests per minute.")
@click.option("--tpm", type=int, default=None, help="Tokens per minute.")
@click.option("--daily-usd", type=float, default=None, help="USD per UTC day.")
@click.option("--monthly-usd", type=float, default=None, help="USD per UTC month.")
@click.option("--remove", is_flag=True, help="Remove every limit of the key or tenant.")
@click.pass_context
def set_limit(ctx: click.Context, key_id: str | None, tenant: str | None, rpm: int | None,
              tpm: int | None, daily_usd: float | None, monthly_usd: float | None,
              remove: bool) -> None:  # fmt: skip
    """Set the limits of one key (--key) or one tenant (--tenant); unset ones are lifted."""
    if (key_id is None) == (tenant is None):
        raise click.UsageError("give --key or --tenant")
    scope, subject = ("key", key_id) if key_id else ("tenant", tenant)
    assert subject is not None
    gw = get_client(ctx).gateway
    if remove:
        gw.delete_limit(scope, subject)  # type: ignore[arg-type]
        console.print(f"limits of {scope} {subject} removed")
        return
    spec = LimitSpec(rpm=rpm, tpm=tpm, daily_usd=daily_usd, monthly_usd=monthly_usd)
    gw.set_limit(scope, subject, spec)  # type: ignore[arg-type]
    console.print(f"limits of {scope} {subject}: {spec.model_dump(exclude_none=True)}")


@command.command("usage")
@click.option("--by", "group_by", default="tenant", show_default=True,
              help=f"Comma-separated: {', '.join(GROUPS)}.")  # fmt: skip
@click.option("--since", default="30d", show_default=True, help="How far back: 24h, 7d, ...")
@click.option("--tenant", default=None)
@click.option("--route", default=None)
@json_option
@click.pass_context
def usage(ctx: click.Context, group_by: str, since: str, tenant: str | None, route: str | None,
          as_json: bool) -> None:  # fmt: skip
    """Requests, tokens and cost from the usage ledger, with a bar per group."""
    groups = [g.strip() for g in group_by.split(",") if g.strip()]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise click.BadParameter(f"cannot group by {bad[0]!r}: use {', '.join(GROUPS)}")
    q = UsageQuery(since_ms=since_ms(since), group_by=groups, tenant=tenant, route=route)
    report = get_client(ctx).gateway.usage(q)
    if as_json:
        print_json(report)
        return
    table = Table(*groups, "requests", "errors", "cache hits", "tokens in", "tokens out",
                  "USD", "share of cost")  # fmt: skip
    total_cost = report.total.cost_usd or 1.0
    for line in report.lines:
        bar = "█" * round(20 * line.cost_usd / total_cost) if report.total.cost_usd else ""
        table.add_row(
            *[line.group.get(g) or "-" for g in groups], str(line.requests), str(line.errors),
            str(line.cache_hits), str(line.input_tokens), str(line.output_tokens),
            f"{line.cost_usd:.6f}", bar,
        )  # fmt: skip
    t = report.total
    table.add_row(*(["total"] + [""] * (len(groups) - 1)), str(t.requests), str(t.errors),
                  str(t.cache_hits), str(t.input_tokens), str(t.output_tokens),
                  f"{t.cost_usd:.6f}", "")  # fmt: skip
    console.print(table)


@command.command("chat")
@click.argument("model")
@click.argument("message")
@click.option("--system", default=None, help="A system message.")
@click.option("--max-tokens", type=int, default=128, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--tenant", default=None)
@click.option("--feature", default=None)
@json_option
@click.pass_context
def chat(
    ctx: click.Context, model: str, message: str, system: str | None, max_tokens: int,
    temperature: float, tenant: str | None, feature: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Ask MODEL (a route, or UPSTREAM/MODEL such as local/gemma-3-270m) one question."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": message}]  # fmt: skip
    out = get_client(ctx).gateway.chat(
        {"model": model, "messages": messages, "max_tokens": max_tokens,
         "temperature": temperature}, tenant=tenant, feature=feature,
    )  # fmt: skip
    if as_json:
        print_json(out)
        return
    for choice in out.get("choices", []):
        console.print((choice.get("message") or {}).get("content") or "")
    usage_ = out.get("usage") or {}
    console.print(f"[{out.get('model')}: {usage_.get('prompt_tokens')} tokens in, "
                  f"{usage_.get('completion_tokens')} out]")  # fmt: skip
