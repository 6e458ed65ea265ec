"""Entry point of the ``shipyard`` command."""

from __future__ import annotations

import sys

import click

from shipyard import __version__
from shipyard.cli import (
    audit,
    demo,
    evals,
    evalsets,
    experiments,
    gateway,
    guardrails,
    keys,
    ml,
    prompts,
    rag,
    registry,
    runs,
    server,
    stats,
    traces,
)
from shipyard.cli.common import err_console
from shipyard.core.errors import ShipyardError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shipyard")
def cli() -> None:
    """Shipyard: tracking, registry, tracing and an LLM gateway for ML models and LLM apps.

    Works on the local store in SHIPYARD_HOME (default ~/.shipyard), or against a
    server when SHIPYARD_URL (and SHIPYARD_API_KEY) are set.
    """


for module in (
    server, demo, keys, audit, experiments, runs, registry, traces, stats, gateway, prompts,
    evalsets, evals, rag, ml, guardrails,
):  # fmt: skip
    cli.add_command(module.command)
cli.add_command(guardrails.redteam)


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)  # ctx.exit(N) comes back as N
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ShipyardError as exc:
        err_console.print(f"error: {exc.message}", style="bold red")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
