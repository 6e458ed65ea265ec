"""The prompts-and-evals part of ``shipyard demo``: two versions of a prompt, one eval set,
an eval run of each, their comparison, and the gate that decides which one ships."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from shipyard.cli.common import console, err_console
from shipyard.evals.compare import render_html, render_markdown
from shipyard.evals.files import read_evalset_file
from shipyard.evals.gate import decide, run_side
from shipyard.evals.runner import run_eval
from shipyard.evals.schemas import EvalSetSpec
from shipyard.evals.store import PutEvalSet
from shipyard.evals.targets import PromptTarget
from shipyard.sdk import Client

PROMPT = "docs-answer"
EVALSET = "shipyard-docs"
DEMO_CASES = 16  # of the 120 shipped: two runs of these take well under a minute when idle
MODEL = "local/gemma-3-270m"
PARAMS = {"temperature": 0, "max_tokens": 32, "stop": ["\n"]}
ASSERTIONS = [
    {"type": "groundedness"},  # the answer must stay within the documentation excerpt
    {"type": "not-refusal", "weight": 0.2},
]
V1 = """A user asked a question about Shipyard, a platform for ML models and LLM apps.
Question: {{ question }}
Answer in one sentence:"""
V2 = """Answer the user's question about Shipyard from the documentation excerpt.
Use only facts from the excerpt.

Excerpt: {{ context }}
Question: {{ question }}
Answer in one sentence:"""


def evals_demo(client: Client, reports: Path) -> dict[str, Any]:
    """Returns the two run ids, the gate's decision and the report paths."""
    client.prompts.create(PROMPT, V1, variables=["question", "context"], model=MODEL,
                          params=PARAMS, labels=["production"],
                          description="answers without the docs")  # fmt: skip
    client.prompts.create(PROMPT, V2, model=MODEL, params=PARAMS, labels=["candidate"],
                          description="answers from the documentation excerpt")  # fmt: skip
    data = Path(str(files("shipyard") / "demo_data" / "docs_questions.jsonl"))
    cases = read_evalset_file(data).cases
    spec = EvalSetSpec.model_validate({"assert": ASSERTIONS, "cases": cases})
    es = client.evals.put_evalset(EVALSET, PutEvalSet(
        spec=spec, description="questions about Shipyard with the documentation that answers them",
    ))  # fmt: skip
    n = len(es.spec.cases)
    console.print(f"prompts: {PROMPT} v1 (production) and v2 (candidate); eval set {es.ref} "
                  f"with {n} cases (the demo runs the first {DEMO_CASES})")  # fmt: skip
    reports_ = []
    for label in ("production", "candidate"):
        target = PromptTarget(client, f"{PROMPT}@{label}")
        reports_.append(run_eval(client, es, target, limit=DEMO_CASES, concurrency=2,
                                 console=err_console, reuse_finished=True))  # fmt: skip
    base, cand = reports_
    decision = decide(run_side(client, base), run_side(client, cand), min_pass_rate=None,
                      max_regression=0.02)  # fmt: skip
    reports.mkdir(parents=True, exist_ok=True)
    paths = []
    if decision.comparison is not None:
        md, html = reports / "eval-compare.md", reports / "eval-compare.html"
        md.write_text(render_markdown(decision.comparison), encoding="utf-8")
        html.write_text(render_html(decision.comparison), encoding="utf-8")
        paths = [md, html]
    for r in reports_:
        console.print(f"eval run {r.run_id}: {r.target}: pass rate "
                      f"{r.metrics.get('pass_rate', 0):.2f}, groundedness "
                      f"{r.metrics.get('groundedness/mean', 0):.2f}, "
                      f"{r.metrics.get('cases_per_s', 0):.2f} cases/s")  # fmt: skip
    if decision.passed:
        client.prompts.set_label(PROMPT, "production", cand.params_version(),
                                 "the eval gate passed")  # fmt: skip
        console.print(f"gate: PASS — {PROMPT}@candidate is not worse; production now points "
                      f"at v{cand.params_version()}")  # fmt: skip
    else:
        console.print(f"gate: FAIL — {'; '.join(decision.reasons)}; production stays at v1")
    console.print("comparison report: " + ", ".join(str(p) for p in paths))
    return {"baseline_run": base.run_id, "candidate_run": cand.run_id,
            "gate_passed": decision.passed, "reports": [str(p) for p in paths]}  # fmt: skip
