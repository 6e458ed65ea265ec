"""``shipyard demo``: fill a fresh home with real example work, then serve it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from shipyard.cli.common import console, progress_bar
from shipyard.core.errors import NotFound
from shipyard.core.settings import Settings
from shipyard.registry.schemas import Kind
from shipyard.sdk import Client

EXPERIMENT = "demo-breast-cancer"
MODEL = "breast-cancer-classifier"


@click.command("demo")
@click.option("--port", type=int, default=None, help="Port for the server (default 5757).")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--no-serve", is_flag=True, help="Only fill the home; do not start the server.")
def command(port: int | None, host: str | None, no_serve: bool) -> None:
    """Train and log example models, register them, then start the server and print its URL.

    Runs on the embedded defaults: everything goes to SHIPYARD_HOME (~/.shipyard).
    Running it again reuses what is already there.
    """
    settings = Settings.load()
    settings.client.url = ""  # the demo always fills the local store
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    console.print(f"Shipyard home: {settings.home}")
    client = Client(settings)
    try:
        if _already_filled(client):
            console.print("demo data already present; reusing it")
        else:
            fill(client)
    finally:
        client.close()
    if no_serve:
        return
    from shipyard.cli.server import serve

    shown = settings.server.host if ":" not in settings.server.host else f"[{settings.server.host}]"
    console.print(
        f"call the gateway with any OpenAI client: base_url=http://{shown}:"
        f"{settings.server.port}/v1, model='assistant', "
        f"api_key=$(cat {settings.home / DEMO_KEY_FILE})"
    )
    serve(settings)


GATEWAY = {
    "routes": {
        "assistant": {
            "description": "Support answers from the packaged Gemma 3 270M",
            "targets": [{"upstream": "local", "model": "gemma-3-270m",
                         # an internal charge-back price, so budgets and cost reports have
                         # something to count (the local model itself costs nothing)
                         "price": {"input": 0.10, "output": 0.40}}],
            "cache": {"exact": True, "ttl_s": 3600},
            "limits": {"max_input_tokens": 1500, "max_output_tokens": 48},
        },
        "embed": {
            "operation": "embeddings",
            "targets": [{"upstream": "local-embed", "model": "all-minilm-l6-v2"}],
        },
    }
}  # fmt: skip
DEMO_KEY_FILE = "demo-app.key"
GATEWAY_QUESTIONS = [
    ("acme", "What is the capital of France?"),
    ("acme", "Name three primary colors."),
    ("globex", "What is the boiling point of water in Celsius?"),
    ("acme", "What is the capital of France?"),  # answered from the cache
    ("globex", "Translate 'good morning' into Spanish."),
    ("initech", "What is 12 times 12?"),
    ("globex", "What is the boiling point of water in Celsius?"),  # cache again
    ("initech", "Who wrote Romeo and Juliet?"),
]


def gateway_demo(client: Client) -> dict[str, Any]:
    """The gateway on the local model: two routes, a key with a budget, traced traffic."""
    from shipyard.core.identity import Role
    from shipyard.gateway.config import LimitSpec

    gw = client.gateway
    gw.apply(GATEWAY)
    made = client.admin.create_key(role=Role.viewer, name="demo-app", tenant="acme")
    gw.set_limit("key", made.id, LimitSpec(rpm=60, tpm=20_000, daily_usd=0.05))
    key_file = client.settings.home / DEMO_KEY_FILE
    key_file.write_text(made.key + "\n")
    key_file.chmod(0o600)
    with progress_bar() as progress:
        task = progress.add_task("serving example requests through the gateway",
                                 total=len(GATEWAY_QUESTIONS) + 1)  # fmt: skip
        for tenant, question in GATEWAY_QUESTIONS:
            gw.chat(
                {"model": "assistant", "temperature": 0, "max_tokens": 32,
                 "messages": [{"role": "system", "content": "Answer in one short sentence."},
                              {"role": "user", "content": question}]},
                tenant=tenant, feature="help-center", user=f"{tenant}-user",
            )  # fmt: skip
            progress.advance(task)
        gw.embeddings({"model": "embed", "input": [q for _, q in GATEWAY_QUESTIONS]},
                      tenant="acme", feature="search")  # fmt: skip
        progress.advance(task)
    from shipyard.gateway.ledger import UsageQuery

    report = gw.usage(UsageQuery(group_by=["tenant"]))
    spent = ", ".join(f"{ln.group['tenant']} ${ln.cost_usd:.6f}" for ln in report.lines)
    console.print(
        f"gateway: routes 'assistant' (local Gemma 3 270M) and 'embed' (MiniLM); "
        f"{report.total.requests} traced calls, {report.total.cache_hits} from the cache; "
        f"cost by tenant: {spent}"
    )
    console.print(f"a key for tenant acme with a $0.05/day budget is in {key_file}")
    return {"key_file": str(key_file)}


def _already_filled(client: Client) -> bool:
    try:
        client.registry.get_entry(MODEL)
        return True
    except NotFound:
        return False


def fill(client: Client) -> dict[str, Any]:
    """Train a sweep of real models on scikit-learn's bundled data and register the best."""
    try:
        import joblib
        import numpy as np
        from sklearn.datasets import load_breast_cancer, load_diabetes
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.linear_model import Ridge
        from sklearn.metrics import log_loss, mean_absolute_error, r2_score, roc_auc_score
        from sklearn.model_selection import train_test_split
    except ImportError as exc:
        raise click.ClickException(
            f"the demo trains scikit-learn models: install the ml extra ({exc})"
        ) from None

    data = load_breast_cancer(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    grid = [(n, lr, d) for n in (60, 120) for lr in (0.05, 0.2) for d in (2, 3)]
    results: list[tuple[float, str, Any]] = []
    with progress_bar() as progress:
        task = progress.add_task("training gradient boosting sweep", total=len(grid))
        for n_estimators, lr, depth in grid:
            model = GradientBoostingClassifier(
                n_estimators=n_estimators, learning_rate=lr, max_depth=depth, random_state=0
            )
            with client.start_run(
                EXPERIMENT,
                run_name=f"gb-n{n_estimators}-lr{lr}-d{depth}",
                tags={"model_family": "gradient_boosting"},
            ) as run:
                run.log_params(
                    {
                        "model": "gradient_boosting",
                        "n_estimators": n_estimators,
                        "learning_rate": lr,
                        "max_depth": depth,
                    }
                )
                run.log_input(x_train.assign(target=y_train), name="breast_cancer", context="train")
                run.log_input(x_test.assign(target=y_test), name="breast_cancer", context="test")
                model.fit(x_train, y_train)
                for step, proba in enumerate(model.staged_predict_proba(x_test)):
                    run.log_metrics(
                        {
                            "test_auc": roc_auc_score(y_test, proba[:, 1]),
                            "test_logloss": log_loss(y_test, proba),
                        },
                        step=step,
                    )
                for step, loss in enumerate(model.train_score_):
                    run.log_metric("train_loss", float(loss), step=step)
                auc = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
                run.log_metric("final_auc", auc, step=0)
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "model.joblib"
                    joblib.dump(model, path)
                    run.log_artifact(path)
                results.append((auc, run.id, path.name))
            progress.advance(task)

        reg = load_diabetes(as_frame=True)
        rx_train, rx_test, ry_train, ry_test = train_test_split(
            reg.data, reg.target, test_size=0.25, random_state=0
        )
        alphas = np.logspace(-3, 1, 6)
        task = progress.add_task("training ridge regression sweep", total=len(alphas))
        for alpha in alphas:
            with client.start_run("demo-diabetes", run_name=f"ridge-alpha{alpha:.3g}") as run:
                run.log_params({"model": "ridge", "alpha": float(alpha)})
                run.log_input(rx_train.assign(target=ry_train), name="diabetes", context="train")
                ridge = Ridge(alpha=float(alpha)).fit(rx_train, ry_train)
                pred = ridge.predict(rx_test)
                run.log_metrics(
                    {
                        "test_mae": float(mean_absolute_error(ry_test, pred)),
                        "test_r2": float(r2_score(ry_test, pred)),
                    }
                )
            progress.advance(task)

    results.sort(reverse=True)
    best_auc, best_run, _ = results[0]
    second_auc, second_run, _ = results[1]
    _register(client, [(second_run, second_auc), (best_run, best_auc)])
    _trace_predictions(client, x_test.head(40))
    traced = trace_traffic(client)
    console.print(
        f"logged {len(grid) + len(alphas)} runs; best test AUC {best_auc:.4f} "
        f"→ registered as {MODEL}@champion; traced {traced} example requests"
    )
    gateway_demo(client)
    from shipyard.cli.demo_guardrails import guardrails_demo

    guards = guardrails_demo(client)
    from shipyard.cli.demo_evals import evals_demo

    evals = evals_demo(client, client.settings.home / "reports")
    from shipyard.cli.demo_rag import rag_demo

    rag = rag_demo(client, client.settings.home / "reports")
    from shipyard.cli.demo_ml import ml_demo

    ml = ml_demo(client, client.settings.home / "reports")
    return {"best_run": best_run, "best_auc": best_auc, **guards, **evals, **rag, **ml}


def _register(client: Client, ordered: list[tuple[str, float]]) -> None:
    versions = []
    for run_id, auc in ordered:
        with tempfile.TemporaryDirectory() as tmp:
            path = client.tracking.download_artifact(run_id, "model.joblib", Path(tmp))
            v = client.registry.create_version(
                MODEL,
                kind=Kind.model,
                payload={"flavor": "sklearn-joblib", "metrics": {"test_auc": auc}},
                artifact=path,
                source_run_id=run_id,
                description=f"gradient boosting, test AUC {auc:.4f}",
            )
        versions.append(v.version)
    reg = client.registry
    reg.set_alias(MODEL, "production", versions[0], "first model to ship")
    reg.set_alias(MODEL, "champion", versions[-1], "best test AUC of the sweep")
    reg.set_alias(MODEL, "production", versions[-1], "promote the champion")
    from shipyard.registry.schemas import UpdateEntry

    reg.update_entry(MODEL, UpdateEntry(protected=True))
    reg.approve(MODEL, versions[-1], "reviewed in the demo")

    reg.create_version(
        "support-answer",
        kind=Kind.prompt,
        payload={
            "template": "Answer the customer's question using the context.\n\n"
            "Context:\n{{context}}\n\nQuestion: {{question}}\nAnswer:",
            "variables": ["context", "question"],
            "model": "local",
            "temperature": 0.2,
        },
        description="first prompt",
    )
    reg.set_alias("support-answer", "production", 1)
    reg.create_version(
        "support-faq-evals",
        kind=Kind.evalset,
        payload={
            "cases": [
                {
                    "vars": {"question": "How do I reset my password?"},
                    "assert": [{"type": "contains", "value": "reset"}],
                }
            ],
        },
    )


def _trace_predictions(client: Client, rows: Any) -> None:
    """Real predictions of the champion, each traced as a ``model`` span."""
    import joblib

    version = client.registry.resolve(f"{MODEL}@champion")
    with tempfile.TemporaryDirectory() as tmp:
        path = client.registry.download_artifact(
            version.artifact_digest or "", Path(tmp) / "m.joblib"
        )
        model = joblib.load(path)

    @client.trace(name="predict breast-cancer-classifier", kind="model", project="demo-ml")
    def predict(features: dict[str, float]) -> float:
        import pandas as pd

        return float(model.predict_proba(pd.DataFrame([features]))[0, 1])

    for _, row in rows.iterrows():
        predict(row.to_dict())
    client.flush()


def trace_traffic(client: Client, n: int = 240, seed: int = 3) -> int:
    """Example LLM-app traffic over the last 24 hours: traces with retrieval, generation and a
    guardrail check, tokens, cost, some errors and user feedback."""
    import random

    from shipyard.core.ids import now_ms
    from shipyard.tracing.schemas import SpanIn

    rnd = random.Random(seed)
    end = now_ms()
    questions = [
        "How do I reset my password?",
        "Can I get a refund on an annual plan?",
        "Where do I download invoices?",
        "How do I add a team member?",
        "Why was my card declined?",
        "Do you support SSO?",
    ]
    spans: list[SpanIn] = []
    feedback: list[tuple[str, bool]] = []
    with progress_bar() as progress:
        task = progress.add_task("tracing example LLM traffic", total=n)
        for _ in range(n):
            trace_id = f"{rnd.getrandbits(128):032x}"
            root = f"{rnd.getrandbits(64):016x}"
            start = end - rnd.randint(0, 86_400_000)
            tenant = rnd.choice(["acme", "globex", "initech"])
            model = "gemma3-270m" if rnd.random() < 0.8 else "gpt-4o-mini"
            version = rnd.choice([1, 1, 2])
            tin, tout = rnd.randint(180, 900), rnd.randint(20, 160)
            price = (0.0, 0.0) if model == "gemma3-270m" else (0.15e-6, 0.6e-6)
            gen_ms = tout * rnd.uniform(25, 45)
            failed = rnd.random() < 0.04
            question = rnd.choice(questions)
            common = {
                "trace_id": trace_id,
                "project": "demo-support-bot",
                "tenant": tenant,
                "user_id": f"user-{rnd.randint(1, 40)}",
                "feature": "help-center",
                "session_id": f"session-{rnd.randint(1, 90)}",
            }
            spans += [
                SpanIn.model_validate({**common, "span_id": root, "name": "answer-question",
                    "kind": "chain", "start_time_ms": start,
                    "end_time_ms": start + 40 + gen_ms + 15,
                    "status": "error" if failed else "ok", "input": question,
                    "output": None if failed else "Here is how: ...", "tags": ["demo"]}),
                SpanIn.model_validate({**common, "span_id": f"{rnd.getrandbits(64):016x}",
                    "parent_id": root, "name": "retrieve help articles", "kind": "retrieval",
                    "start_time_ms": start + 1, "end_time_ms": start + 38,
                    "attributes": {"retrieval.documents.0.document.id": "kb-42#1",
                                   "retrieval.documents.0.document.score": 0.82}}),
                SpanIn.model_validate({**common, "span_id": f"{rnd.getrandbits(64):016x}",
                    "parent_id": root, "name": f"chat {model}", "kind": "llm",
                    "start_time_ms": start + 40, "end_time_ms": start + 40 + gen_ms,
                    "status": "error" if failed else "ok",
                    "status_message": "upstream timeout" if failed else None, "model": model,
                    "input_tokens": tin, "output_tokens": tout,
                    "cost_usd": tin * price[0] + tout * price[1],
                    "prompt_name": "support-answer", "prompt_version": version,
                    "attributes": {"gen_ai.operation.name": "chat",
                                   "gen_ai.request.temperature": 0.2}}),
                SpanIn.model_validate({**common, "span_id": f"{rnd.getrandbits(64):016x}",
                    "parent_id": root, "name": "pii check", "kind": "guardrail",
                    "start_time_ms": start + 40 + gen_ms + 1,
                    "end_time_ms": start + 40 + gen_ms + 3}),
            ]  # fmt: skip
            if not failed and rnd.random() < 0.3:
                feedback.append((trace_id, rnd.random() < (0.85 if version == 2 else 0.7)))
            progress.advance(task)
    client.tracing.ingest(spans)
    for trace_id, good in feedback:
        client.feedback(trace_id, "thumbs", good, source="human")
    return n
