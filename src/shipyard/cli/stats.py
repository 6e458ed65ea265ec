"""``shipyard stats``: requests, errors, latency, tokens, cost and feedback per group."""

from __future__ import annotations

import click
from rich.table import Table

from shipyard.cli.common import console, get_client, json_option, print_json, since_ms
from shipyard.tracing.stats import StatsQuery

BARS = "▁▂▃▄▅▆▇█"
DURATIONS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}


def sparkline(values: list[int]) -> str:
    top = max(values) if values else 0
    if not top:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, v * (len(BARS) - 1) // top)] for v in values)


@click.command("stats")
@click.option(
    "--by",
    type=click.Choice(["model", "prompt", "route", "tenant", "feature", "user", "project", "none"]),
    default="none",
    show_default=True,
)
@click.option("--since", default="24h", show_default=True, help="Window start: 30m, 24h, 7d.")
@click.option("--project", default=None)
@click.option("--bucket", default=None, help="Time-series bucket (e.g. 1h); default: window/24.")
@click.option("-n", "--limit", default=20, show_default=True, help="Busiest groups shown.")
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    by: str,
    since: str,
    project: str | None,
    bucket: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Requests, error rate, latency p50/p95/p99, tokens, cost and feedback per group, with a
    requests-over-time sparkline."""
    start = since_ms(since)
    from shipyard.core.ids import now_ms

    window = max(1000, now_ms() - start)
    bucket_ms = _duration(bucket) if bucket else max(60_000, window // 24)
    report = get_client(ctx).tracing.stats(
        StatsQuery.model_validate(
            {
                "by": by,
                "since_ms": start,
                "project": project,
                "bucket_ms": bucket_ms,
                "limit": limit,
            }
        )
    )
    if as_json:
        print_json(report)
        return
    buckets = sorted({p.bucket_ms for p in report.series})
    table = Table(
        by,
        "requests",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "tokens in/out",
        "cost $",
        "feedback +",
        "scores",
        "requests over time",
    )
    for g in report.groups:
        counts = {p.bucket_ms: p.requests for p in report.series if p.key == g.key}
        share = g.feedback_positive_share
        table.add_row(
            g.key or "(none)", str(g.requests), f"{g.error_rate:.1%}", _ms(g.latency_p50_ms),
            _ms(g.latency_p95_ms), _ms(g.latency_p99_ms), f"{g.input_tokens}/{g.output_tokens}",
            f"{g.cost_usd:.4f}",
            f"{share:.0%} of {g.feedback_count}" if share is not None else "-",
            ", ".join(f"{k} {v:.2f}" for k, v in sorted(g.scores.items())),
            sparkline([counts.get(b, 0) for b in buckets]),
        )  # fmt: skip
    console.print(table)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def _duration(text: str) -> int:
    t = text.strip().lower()
    try:
        return int(float(t[:-1]) * DURATIONS[t[-1]]) if t[-1:] in DURATIONS else int(t)
    except (ValueError, KeyError):
        raise click.BadParameter(f"{text!r}: use a duration like 5m, 1h or 1d") from None
