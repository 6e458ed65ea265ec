"""``shipyard evalsets``: versioned eval sets, imported from and exported to JSONL, CSV, YAML,
and grown from production traces."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from shipyard.cli.common import console, fmt_time, get_client, json_option, print_json, since_ms
from shipyard.core.errors import InvalidInput, NotFound
from shipyard.evals.files import read_evalset_file, write_csv, write_jsonl
from shipyard.evals.from_traces import cases_from_traces
from shipyard.evals.runner import load_evalset
from shipyard.evals.schemas import EvalSetSpec
from shipyard.evals.store import PutEvalSet
from shipyard.tracing.schemas import TraceQuery


@click.group("evalsets")
def command() -> None:
    """Eval sets: versioned test cases (variables or messages, expected output, context,
    tags, assertions). NAME alone means the newest version; NAME@LABEL and NAME/3 work too."""


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Eval sets with their newest version."""
    sets = get_client(ctx).evals.list_evalsets()
    if as_json:
        print_json(sets)
        return
    table = Table("name", "latest", "labels", "updated", "description")
    for s in sets:
        labels = ", ".join(f"{k}→{v}" for k, v in s.labels.items())
        table.add_row(s.name, str(s.latest_version or "-"), labels, fmt_time(s.updated_at),
                      s.description)  # fmt: skip
    console.print(table)


@command.command("show")
@click.argument("ref")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Cases of an eval set version (JSON: the whole version)."""
    es = load_evalset(get_client(ctx), ref)
    if as_json:
        print_json(es)
        return
    kinds = ", ".join(str(a.get("type", "?")) for a in es.spec.assertions)
    console.print(f"{es.ref}: {len(es.spec.cases)} cases; shared assertions: {kinds or '-'}")
    table = Table("id", "input", "expected", "tags", "assertions")
    for c in es.spec.cases[:50]:
        shown = ", ".join(f"{k}={str(v)[:40]}" for k, v in c.vars.items()) or str(c.messages)[:80]
        table.add_row(c.id, shown, str(c.expected or "")[:40], ",".join(c.tags),
                      str(len(c.assertions)))  # fmt: skip
    console.print(table)
    if len(es.spec.cases) > 50:
        console.print(f"... and {len(es.spec.cases) - 50} more (--json for all)")


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The eval set (created on first import).")
@click.option("--description", default="")
@click.option("--assert", "assert_file", type=click.Path(exists=True, path_type=Path),
              help="A YAML/JSON file with a list of assertions applied to every case.")  # fmt: skip
@click.pass_context
def import_(ctx: click.Context, file: Path, name: str, description: str,
            assert_file: Path | None) -> None:  # fmt: skip
    """Add a version from a .jsonl, .csv, .yaml or .json file (unchanged: no new version)."""
    spec = read_evalset_file(file)
    if assert_file is not None:
        import yaml

        extra = yaml.safe_load(assert_file.read_text(encoding="utf-8"))
        if not isinstance(extra, list):
            raise InvalidInput(f"{assert_file}: expected a list of assertions")
        spec = EvalSetSpec.model_validate({**spec.model_dump(by_alias=True),
                                           "assert": [*spec.assertions, *extra]})  # fmt: skip
    es = get_client(ctx).evals.put_evalset(name, PutEvalSet(spec=spec, description=description))
    console.print(f"{es.ref}: {len(es.spec.cases)} cases")


@command.command("export")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")  # fmt: skip
@click.pass_context
def export(ctx: click.Context, ref: str, fmt: str, output: Path | None) -> None:
    """Write the cases of a version as JSONL or CSV (shared assertions are not in the file)."""
    es = load_evalset(get_client(ctx), ref)
    text = write_jsonl(es.spec.cases) if fmt == "jsonl" else write_csv(es.spec.cases)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(es.spec.cases)} cases to {output}")


@command.command("add-from-traces")
@click.argument("name")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="A trace filter: project, name, since (e.g. 24h), user_id, session_id, "
                   "tenant, feature, tag, status, model, prompt_name, prompt_version, "
                   "score_name, min_score, max_score, min_latency_ms, ...")  # fmt: skip
@click.option("--limit", default=100, show_default=True, help="At most this many traces.")
@click.option(
    "--expected-from-output",
    is_flag=True,
    help="Use each trace's answer as the expected output (regression tests).",
)
@click.pass_context
def add_from_traces(ctx: click.Context, name: str, filters: tuple[str, ...], limit: int,
                    expected_from_output: bool) -> None:  # fmt: skip
    """Add cases made from production traces to NAME (a new version; known traces skipped)."""
    query = _trace_query(filters)
    client = get_client(ctx)
    cases, skipped = cases_from_traces(client, query, expected_from_output=expected_from_output,
                                       limit=limit)  # fmt: skip
    try:
        current = load_evalset(client, name).spec
    except NotFound:
        current = EvalSetSpec()
    known = {c.id for c in current.cases}
    fresh = [c for c in cases if c.id not in known]
    for reason in skipped:
        console.print(f"skipped {reason}")
    if not fresh:
        console.print(f"no new cases ({len(cases)} matching traces are already in {name})")
        return
    spec = current.model_copy(update={"cases": [*current.cases, *fresh]})
    es = client.evals.put_evalset(name, PutEvalSet(spec=spec))
    console.print(f"{es.ref}: added {len(fresh)} case(s) from traces, {len(es.spec.cases)} in all")


def _trace_query(filters: tuple[str, ...]) -> TraceQuery:
    data: dict[str, object] = {"limit": 100}
    for item in filters:
        for part in item.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or not key:
                raise click.BadParameter(f"{part!r}: use KEY=VALUE", param_hint="--filter")
            if key == "since":
                data["since_ms"] = since_ms(value)
            elif key not in TraceQuery.model_fields or key in ("limit", "cursor"):
                raise click.BadParameter(f"unknown trace filter {key!r}", param_hint="--filter")
            else:
                data[key] = value.strip()
    try:
        return TraceQuery.model_validate(data)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--filter") from None
