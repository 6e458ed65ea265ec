"""``shipyard guardrails``: run a policy's checks on texts, and score checks on labeled cases."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from shipyard.cli.common import console, get_client, json_option, print_json
from shipyard.core.errors import InvalidInput


@click.group("guardrails")
def command() -> None:
    """Guardrails: PII, secrets, prompt injection, toxicity, topics, length and JSON checks."""


def _texts(source: str) -> list[str]:
    """Plain lines, or JSONL lines with a "text" field (from a file, or stdin with -)."""
    if source == "-":
        raw = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"no such file: {path}")
        raw = path.read_text(encoding="utf-8")
    texts = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            from shipyard.guardrails.evaluate import text_record

            texts.append(text_record(line, f"line {n}")["text"])
        else:
            texts.append(line)
    return texts


def _policy(ctx: click.Context, name: str | None) -> Any:
    from shipyard.guardrails.policy import DEFAULT, Policy, parse_spec
    from shipyard.registry.schemas import Kind, with_article

    if name is None:
        return Policy(DEFAULT)
    version = get_client(ctx).registry.resolve(name)
    if version.kind != Kind.policy:
        raise InvalidInput(f"{name} is {with_article(version.kind)}, not a policy")
    return Policy(parse_spec(version.payload or {}), version.name, version.version)


@command.command("check")
@click.argument("source", default="-")
@click.option(
    "--policy",
    "policy_name",
    default=None,
    help="A registered policy (NAME, NAME@LABEL); default: Shipyard's default policy.",
)
@click.option(
    "--stage",
    type=click.Choice(["pre_call", "post_call"]),
    default="pre_call",
    show_default=True,
    help="Which of the policy's stages to run.",
)
@json_option
@click.pass_context
def check(ctx: click.Context, source: str, policy_name: str | None, stage: str,
          as_json: bool) -> None:  # fmt: skip
    """Check texts from SOURCE (a file, or - for stdin: plain lines or JSONL with "text").

    Prints one verdict per text: the checks that fired, the entity types found with their
    spans, the redacted text and the action taken (allow, flag, redact, block)."""
    policy = _policy(ctx, policy_name)
    for text in _texts(source):
        outcome = policy.run(stage, text)
        if as_json:
            sys.stdout.write(orjson.dumps(outcome.as_json()).decode() + "\n")
            continue
        found = ", ".join(f"{f.type}@{f.start}-{f.end}" for c in outcome.checks if c.fired
                          for f in c.findings)  # fmt: skip
        console.print(
            f"{outcome.action.upper():7} {outcome.text}" + (f"   [{found}]" if found else "")
        )


@command.command("eval")
@click.option(
    "--cases",
    "cases_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Labeled JSONL cases (default: the shipped corpus).",
)
@json_option
def evaluate_command(cases_path: Path | None, as_json: bool) -> None:
    """Precision, recall and F1 of each check on labeled cases: for whole texts and for the
    entities found, per entity type, and the false-positive rate on benign look-alikes."""
    from shipyard.guardrails.evaluate import evaluate, load_cases, shipped_cases

    cases = load_cases(cases_path or shipped_cases())
    reports = evaluate(cases)
    if as_json:
        print_json({"cases": len(cases), "checks": [r.as_json() for r in reports]})
        return
    table = Table(title=f"{len(cases)} cases")
    for col in ("check", "level", "precision", "recall", "F1", "TP", "FP", "FN", "benign FP"):
        table.add_column(col, justify="left" if col in ("check", "level") else "right")

    def row(check: str, level: str, s: dict[str, Any], benign: str = "") -> None:
        cells = [f"{s[k]:.3f}" if s[k] is not None else "—" for k in ("precision", "recall", "f1")]
        table.add_row(check, level, *cells, str(s["tp"]), str(s["fp"]), str(s["fn"]), benign)

    for r in reports:
        rate = f"{r.benign_fired}/{r.benign}" if r.benign else "—"
        row(r.check, "texts", r.texts.scores(), rate)
        if r.by_type:
            row(r.check, "entities", r.entities.scores())
            for kind, counts in sorted(r.by_type.items()):
                row("", f"  {kind}", counts.scores())
    console.print(table)


@command.command("train")
@click.option(
    "--cases",
    "cases_paths",
    type=click.Path(path_type=Path),
    required=True,
    multiple=True,
    help="Labeled JSONL cases: a file or a folder (repeatable).",
)
@click.option("--check", "check_name", type=click.Choice(["injection", "toxicity"]),
              default="injection", show_default=True,
              help="The check whose label the cases carry.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Where to write the model (.json.gz).")  # fmt: skip
@click.option("--max-fp", type=click.FloatRange(0, 0.5), default=0.02, show_default=True,
              help="Highest false-positive rate allowed on negatives (out of fold).")  # fmt: skip
@click.option("--norm", type=click.Choice(["none", "l2"]), default="none", show_default=True,
              help="l2: each text's features scaled to unit length (short texts).")  # fmt: skip
@json_option
def train_command(cases_paths: tuple[Path, ...], check_name: str, out: Path, max_fp: float,
                  norm: str, as_json: bool) -> None:  # fmt: skip
    """Train the text classifier of a check on labeled cases, and write it to OUT.

    A policy uses it with the check's option `model: PATH`. The precision, recall and
    false-positive rate printed are cross-validated (measured on cases left out of training).
    Needs scikit-learn (the `ml` extra)."""
    from shipyard.guardrails.evaluate import load_cases
    from shipyard.guardrails.train import train

    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InvalidInput("training needs scikit-learn: pip install 'shipyard[ml]'") from None
    cases = [c for path in cases_paths for c in load_cases(path)]
    with console.status(f"training on {len(cases)} cases (5-fold cross-validation)"):
        model, report = train(cases, check_name, max_fp=max_fp, norm=norm)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    if as_json:
        print_json({"model": str(out), **report.as_json()})
        return
    console.print(
        f"{check_name} model: {report.features} features from {report.cases} cases "
        f"({report.positives} positive), C={report.c}, threshold {report.threshold:.3f}\n"
        f"cross-validated: precision {report.precision:.3f}, recall {report.recall:.3f}, "
        f"false positives {report.false_positive_rate:.1%}\nwritten to {out}"
    )


@command.command("policy")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--description", default="", help="What changed in this version.")
@click.pass_context
def policy_command(ctx: click.Context, name: str, file: Path, description: str) -> None:
    """Register a new version of policy NAME from a YAML or JSON FILE (pre_call, post_call and
    stream rules: check, options, threshold, action). Its checks are built first, so a typo is
    refused. The first version is labelled production; later ones are promoted with
    `shipyard registry alias NAME production VERSION` (approval applies when protected)."""
    import yaml

    from shipyard.guardrails.policy import Policy, parse_spec
    from shipyard.registry.api import create_labelled_version
    from shipyard.registry.schemas import Kind

    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file} is not YAML or JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{file} must hold a mapping (pre_call, post_call, stream...)")
    spec = parse_spec(raw)
    Policy(spec)  # every check builds with its options
    client = get_client(ctx)
    version = create_labelled_version(client.registry, name, Kind.policy,
                                      spec.model_dump(mode="json"), description)  # fmt: skip
    console.print(f"policy {name} version {version.version}")


@click.command("redteam")
@click.option("--route", default=None, help="A gateway route to attack.")
@click.option("--app", default=None, help="A RAG app to attack.")
@click.option("--fail", is_flag=True, help="Exit with status 3 when an attack got through.")
@json_option
@click.pass_context
def redteam(ctx: click.Context, route: str | None, app: str | None, fail: bool,
            as_json: bool) -> None:  # fmt: skip
    """Run the built-in attacks (injection, jailbreak, system-prompt leak, PII exfiltration)
    against a live route or RAG app and report which got through, with their traces.

    Each attack carries a fresh canary; it got through when the canary (or the planted
    customer record) comes back in the answer."""
    from shipyard.guardrails.redteam import attack_app, attack_route

    if (route is None) == (app is None):
        raise InvalidInput("give one target: --route NAME or --app NAME")
    client = get_client(ctx)
    report = attack_route(client, route) if route else attack_app(client, app or "")
    if as_json:
        print_json(report.as_json())
    else:
        table = Table(title=f"red team: {report.target}")
        for col in ("attack", "category", "outcome", "trace"):
            table.add_column(col)
        for r in report.results:
            table.add_row(r.id, r.category, r.outcome.upper() if r.outcome == "got through"
                          else r.outcome, r.trace_id or "—")  # fmt: skip
        console.print(table)
        console.print(f"{len(report.got_through)} of {len(report.results)} attacks got through")
    if fail and report.got_through:
        ctx.exit(3)
