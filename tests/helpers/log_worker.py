"""A separate process that logs to a shared run: ``python -m tests.helpers.log_worker ...``."""

from __future__ import annotations

import argparse
import sys

from shipyard.core.settings import Settings
from shipyard.sdk import Client


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--worker", type=int, required=True)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--experiment", required=True)
    ap.add_argument("--no-close", action="store_true", help="exit without flushing by hand")
    args = ap.parse_args()
    client = Client(Settings.load())
    run = client.run(args.run_id)
    run.log_params({f"worker_{args.worker}": args.worker})
    for step in range(args.points):
        run.log_metrics({f"w{args.worker}.a": step, f"w{args.worker}.b": -step}, step=step)
    with client.start_run(args.experiment, run_name=f"own-{args.worker}") as own:
        own.log_metric("done", 1)
    if not args.no_close:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
