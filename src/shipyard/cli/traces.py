"""``shipyard traces``: list traces with filters, show one as a tree."""

from __future__ import annotations

import click
from rich.table import Table
from rich.tree import Tree

from shipyard.cli.common import console, fmt_time, get_client, json_option, print_json, since_ms
from shipyard.tracing.schemas import Span, TraceQuery


@click.group("traces")
def command() -> None:
    """Traces of LLM and model calls: every span, its tokens, cost, latency and scores."""


@command.command("list")
@click.option("--since", default=None, help="Only traces newer than this: 30m, 24h, 7d.")
@click.option("--project", default=None)
@click.option("--name", default=None)
@click.option("--user", "user_id", default=None)
@click.option("--session", "session_id", default=None)
@click.option("--tenant", default=None)
@click.option("--feature", default=None)
@click.option("--tag", default=None)
@click.option("--status", type=click.Choice(["ok", "error"]), default=None)
@click.option("--model", default=None)
@click.option("--prompt", "prompt_name", default=None, help="Prompt name.")
@click.option("--prompt-version", type=int, default=None)
@click.option("--min-latency", "min_latency_ms", type=float, default=None, help="Milliseconds.")
@click.option("--max-latency", "max_latency_ms", type=float, default=None, help="Milliseconds.")
@click.option("--min-cost", "min_cost_usd", type=float, default=None, help="USD.")
@click.option("--max-cost", "max_cost_usd", type=float, default=None, help="USD.")
@click.option("--score", "score_name", default=None, help="Only traces with this score...")
@click.option("--min-score", type=float, default=None, help="...at least this value.")
@click.option("--max-score", type=float, default=None, help="...at most this value.")
@click.option("-n", "--limit", default=50, show_default=True)
@click.option("--cursor", default=None, help="The next_cursor of a previous page.")
@json_option
@click.pass_context
def list_(ctx: click.Context, since: str | None, as_json: bool, **filters: object) -> None:
    """List traces, newest first."""
    query = TraceQuery.model_validate(
        {
            **{k: v for k, v in filters.items() if v is not None},
            "since_ms": since_ms(since) if since else None,
        }
    )
    page = get_client(ctx).tracing.list_traces(query)
    if as_json:
        print_json(
            {"traces": [t.model_dump() for t in page.traces], "next_cursor": page.next_cursor}
        )
        return
    table = Table(
        "trace",
        "started (UTC)",
        "name",
        "status",
        "latency",
        "spans",
        "tokens in/out",
        "cost $",
        "model",
        "user",
    )
    for t in page.traces:
        table.add_row(
            t.trace_id,
            fmt_time(t.start_ms),
            t.name,
            t.status,
            f"{t.latency_ms} ms",
            str(t.span_count),
            f"{t.input_tokens}/{t.output_tokens}",
            f"{t.cost_usd:.6f}",
            t.model or "",
            t.user_id or "",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@command.command("show")
@click.argument("trace_id")
@json_option
@click.pass_context
def show(ctx: click.Context, trace_id: str, as_json: bool) -> None:
    """One trace as a tree of spans, with its scores."""
    detail = get_client(ctx).tracing.get_trace(trace_id)
    if as_json:
        print_json(detail)
        return
    t = detail.trace
    head = (
        f"{t.name}  {t.trace_id}  {t.status}  {t.latency_ms} ms  "
        f"tokens {t.input_tokens}/{t.output_tokens}  ${t.cost_usd:.6f}"
    )
    context = ", ".join(
        f"{k}={v}"
        for k, v in (
            ("project", t.project),
            ("user", t.user_id),
            ("session", t.session_id),
            ("tenant", t.tenant),
            ("feature", t.feature),
        )
        if v
    )
    tree = Tree(head + (f"\n{context}" if context else ""))
    nodes: dict[str, Tree] = {}
    for s in detail.spans:
        parent = nodes.get(s.parent_id or "", tree)
        nodes[s.span_id] = parent.add(_span_line(s))
    console.print(tree)
    if t.input:
        console.print(f"input:  {t.input[:500]}")
    if t.output:
        console.print(f"output: {t.output[:500]}")
    for sc in detail.scores:
        value = sc.label if sc.kind == "categorical" else sc.value
        console.print(
            f"score {sc.name} = {value} ({sc.source})" + (f": {sc.comment}" if sc.comment else "")
        )


def _span_line(s: Span) -> str:
    parts = [f"[{s.kind}] {s.name}", f"{s.duration_ms:.1f} ms"]
    if s.model:
        parts.append(s.model)
    if s.input_tokens is not None or s.output_tokens is not None:
        parts.append(f"tokens {s.input_tokens or 0}/{s.output_tokens or 0}")
    if s.cost_usd:
        parts.append(f"${s.cost_usd:.6f}")
    if s.prompt_name:
        parts.append(f"prompt {s.prompt_name}/{s.prompt_version}")
    if s.error:
        parts.append(f"ERROR {s.error}")
    return "  ".join(parts)
