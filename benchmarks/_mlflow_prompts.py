"""The MLflow side of ``prompt_fetch.py``; runs inside the MLflow virtual environment.

    python _mlflow_prompts.py URL NAME TEMPLATE_FILE

Registers NAME (one version, alias ``production``) on the MLflow server at URL, prints one JSON
line, then answers commands read from stdin, one JSON line each, so that the caller can
interleave its rounds with Shipyard's:

* ``uncached N``: N calls of ``mlflow.genai.load_prompt(uri, cache_ttl_seconds=0)``,
  latencies in ms;
* ``raw N``: N calls of ``MlflowClient().get_prompt_version_by_alias`` (no cache layer), in ms;
* ``cached N BATCH``: N calls of ``mlflow.genai.load_prompt(uri)`` (default cache), timed in
  batches of BATCH; microseconds per call of each batch;
* ``quit``.
"""

from __future__ import annotations

import json
import sys
import time

import mlflow
from mlflow import MlflowClient


def main() -> None:
    url, name, template_file = sys.argv[1:4]
    out = sys.stdout
    sys.stdout = sys.stderr  # anything MLflow prints stays off the command channel
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    with open(template_file, encoding="utf-8") as f:
        template = f.read()
    version = mlflow.genai.register_prompt(
        name=name,
        template=template,
        commit_message="benchmark",
        model_config={"model_name": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 512},
    )
    mlflow.genai.set_prompt_alias(name, alias="production", version=version.version)
    uri = f"prompts:/{name}@production"
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    check = mlflow.genai.load_prompt(uri, cache_ttl_seconds=0)
    assert check.template == template, "MLflow returned another template"

    def uncached() -> object:
        return mlflow.genai.load_prompt(uri, cache_ttl_seconds=0)

    def raw() -> object:
        return client.get_prompt_version_by_alias(name, "production")

    def cached() -> object:
        return mlflow.genai.load_prompt(uri)

    def reply(obj: object) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    reply({"ready": True, "version": int(version.version), "mlflow": mlflow.__version__})
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "quit":
            break
        if cmd in ("uncached", "raw"):
            fn = uncached if cmd == "uncached" else raw
            ms = []
            for _ in range(int(args[0])):
                t0 = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t0) * 1000)
            reply({"ms": ms})
        elif cmd == "cached":
            n, batch = int(args[0]), int(args[1])
            us = []
            for _ in range(max(1, n // batch)):
                t0 = time.perf_counter()
                for _ in range(batch):
                    cached()
                us.append((time.perf_counter() - t0) * 1e6 / batch)
            reply({"us": us})
        else:
            reply({"error": f"unknown command {cmd!r}"})


if __name__ == "__main__":
    main()
