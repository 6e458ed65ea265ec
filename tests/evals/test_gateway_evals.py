"""Evals against a real server whose gateway calls a fake provider over HTTP: prompt targets,
the LLM judge, the CLI's run / compare / gate (exit codes), and cases made from traces."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.evals.runner import run_eval
from shipyard.evals.schemas import EvalSetSpec
from shipyard.evals.store import PutEvalSet
from shipyard.evals.targets import PromptTarget
from shipyard.sdk import Client
from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM

CITIES = {"France": "Paris", "Japan": "Tokyo", "Peru": "Lima", "Kenya": "Nairobi"}


def _setup(gw: Gateway, fake: FakeLLM) -> Client:
    gw.upstream("fake", fake)
    gw.route("echo", targets=[{"upstream": "fake", "model": "echo"}])
    gw.route("judge-good", targets=[{"upstream": "fake", "model": "judge-4"}])
    gw.route("judge-babble", targets=[{"upstream": "fake", "model": "babble"}])
    client = Client(url=gw.url)
    spec = EvalSetSpec.model_validate({
        "assert": [{"type": "contains", "name": "has-city"}],
        "cases": [{"id": c.lower(), "vars": {"country": c, "city": city}, "expected": city}
                  for c, city in CITIES.items()],
    })  # fmt: skip
    client.evals.put_evalset("capitals", PutEvalSet(spec=spec))
    params = {"temperature": 0}
    client.prompts.create("capital", "The capital of {{ country }} is {{ city }}.",
                          model="echo", params=params, labels=["production"])  # fmt: skip
    client.prompts.create("capital", "Name the capital of {{ country }}.",
                          variables=["country", "city"], model="echo", params=params,
                          labels=["candidate"])  # fmt: skip
    return client


def test_prompt_runs_are_traced_through_the_gateway_and_judged(gw: Gateway, fake: FakeLLM) -> None:
    client = _setup(gw, fake)
    try:
        judge = [
            {"type": "judge", "rubric": "Names the right capital.", "model": "judge-good"},
            {"type": "judge", "name": "babble", "rubric": "x", "model": "judge-babble"},
        ]
        r = run_eval(client, "capitals", PromptTarget(client, "capital@production"),
                     assertions=judge)  # fmt: skip
        assert r.status == "FINISHED", r.error_samples
        assert r.metrics["has-city/pass_rate"] == 1.0
        assert r.metrics["judge/mean"] == 0.75  # a 4 on the 1-5 scale
        assert r.metrics["babble/errors"] == 4.0 and r.metrics["pass_rate"] == 0.0
        res = client.evals.results(r.run_id)[0]
        babble = next(a for a in res.assertions if a.name == "babble")
        assert babble.error and "not a score" in babble.explanation
        assert res.output and res.output.startswith("echo: The capital of")
        # the text prompt went to /v1/completions, the judge to /v1/chat/completions
        assert any(c.get("prompt", "").startswith("The capital of") for c in fake.calls)
        judged = [c for c in fake.calls if c.get("model") == "judge-4"]
        assert len(judged) == 4 and "Names the right capital." in json.dumps(judged[0])
        # the judge prompt is a registry prompt like any other
        assert client.prompts.get("shipyard-judge").version == 1
        client.flush()
        trace = gw.trace(res.trace_id or "")
        kinds = {s["name"]: s["kind"] for s in trace["spans"]}
        assert kinds[f"eval capitals {res.case_id}"] == "evaluator"
        assert kinds["prompt capital"] == "chain" and "llm" in kinds.values()
        assert trace["trace"]["prompt_name"] == "capital" and trace["trace"]["prompt_version"] == 1
    finally:
        client.close()


def test_cli_run_compare_and_gate(gw: Gateway, fake: FakeLLM, tmp_path: Path) -> None:
    client = _setup(gw, fake)
    client.close()
    env = {"SHIPYARD_URL": gw.url}
    runner = CliRunner()
    ok = runner.invoke(cli, ["eval", "run", "--evalset", "capitals", "--prompt",
                             "capital@production", "--json"], env=env)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    good = json.loads(ok.stdout.strip().splitlines()[-1])
    assert good["metrics"]["pass_rate"] == 1.0
    bad = json.loads(runner.invoke(cli, ["eval", "run", "--evalset", "capitals", "--prompt",
                                         "capital@candidate", "--json"], env=env
                                   ).stdout.strip().splitlines()[-1])  # fmt: skip
    assert bad["metrics"]["pass_rate"] == 0.0

    out = tmp_path / "reports"
    cmp = runner.invoke(cli, ["eval", "compare", good["run_id"], bad["run_id"], "--out",
                              str(out)], env=env)  # fmt: skip
    assert cmp.exit_code == 0, cmp.output
    assert "pass_rate" in cmp.output and "peru" in cmp.output  # a regressed case
    html = next(out.glob("*.html")).read_text()
    assert "<svg" in html and "france" in html
    assert "| pass_rate" in next(out.glob("*.md")).read_text()

    gate = ["eval", "gate", "--evalset", "capitals", "--max-regression", "0.02"]
    worse = runner.invoke(cli, [*gate, "--candidate", "capital@candidate", "--baseline",
                                "capital@production"], env=env)  # fmt: skip
    assert worse.exit_code == 1, worse.output
    assert "FAIL" in worse.output and "pass_rate fell from 1.000 to 0.000" in worse.output
    args = ["--candidate", "capital@production", "--baseline", "capital@candidate"]
    better = runner.invoke(cli, [*gate, *args, "--min-pass-rate", "0.9"], env=env)
    assert better.exit_code == 0, better.output
    assert "PASS" in better.output
    args = ["--candidate", "capital@candidate", "--baseline", "capital@candidate"]
    floor = runner.invoke(cli, [*gate, *args, "--min-pass-rate", "0.5"], env=env)
    assert floor.exit_code == 1 and "under the minimum 0.500" in floor.output
    # the gate reused the finished runs of `eval run` instead of running them again
    assert len([c for c in fake.calls if c.get("model") == "echo"]) == 8


def test_cases_from_production_traces(gw: Gateway, fake: FakeLLM) -> None:
    client = _setup(gw, fake)
    try:
        prompt = client.prompts.get("capital")
        done = [prompt.complete(country=c, city=city) for c, city in list(CITIES.items())[:3]]
        assert done[0].text == "echo: The capital of France is Paris."
        client.flush()
        gw.flush()
        result = CliRunner().invoke(cli, ["evalsets", "add-from-traces", "regressions",
                                          "--filter", "prompt_name=capital",
                                          "--expected-from-output"],
                                    env={"SHIPYARD_URL": gw.url})  # fmt: skip
        assert result.exit_code == 0, result.output
        es = client.evals.get_evalset("regressions")
        assert len(es.spec.cases) == 3
        by_country = {c.vars["country"]: c for c in es.spec.cases}
        assert by_country["France"].vars["city"] == "Paris"
        assert by_country["France"].expected == "echo: The capital of France is Paris."
        assert by_country["France"].metadata["source_trace_id"] in {d.trace_id for d in done}
        again = CliRunner().invoke(cli, ["evalsets", "add-from-traces", "regressions",
                                         "--filter", "prompt_name=capital"],
                                   env={"SHIPYARD_URL": gw.url})  # fmt: skip
        assert "no new cases" in again.output
        assert client.evals.get_evalset("regressions").version == 1
    finally:
        client.close()
