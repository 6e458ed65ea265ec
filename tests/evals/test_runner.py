"""Eval runs through the SDK, embedded and remote, on SQLite and PostgreSQL: results stored
case by case, interrupted runs resumed, failed cases retried, bad input refused up front."""

from __future__ import annotations

import threading

import pytest

from shipyard import InvalidInput, NotFound
from shipyard.evals.runner import EvalInterrupted, run_eval
from shipyard.evals.schemas import EvalSetSpec
from shipyard.evals.store import PutEvalSet
from shipyard.evals.targets import CallableTarget, PromptTarget
from shipyard.sdk import Client
from tests.conftest import unique

CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Peru": "Lima", "Kenya": "Nairobi",
            "Chile": "Santiago", "Egypt": "Cairo", "Spain": "Madrid", "Italy": "Rome"}  # fmt: skip


def _evalset(client: Client, name: str) -> None:
    spec = EvalSetSpec.model_validate({
        "assert": [{"type": "equals"}, {"type": "levenshtein", "weight": 0.5}],
        "cases": [{"id": c.lower(), "vars": {"country": c}, "expected": city}
                  for c, city in CAPITALS.items()],
    })  # fmt: skip
    client.evals.put_evalset(name, PutEvalSet(spec=spec))


def test_a_run_scores_every_case_and_logs_a_tracking_run(client: Client) -> None:
    name = unique("capitals")
    _evalset(client, name)
    wrong = {"Peru", "Chile"}

    def answer(country: str) -> str:
        return "Nowhere" if country in wrong else CAPITALS[country]

    r = run_eval(client, name, CallableTarget(answer), concurrency=3)
    assert r.status == "FINISHED" and r.cases == 8 and r.passed == 6 and r.errors == 0
    assert r.metrics["pass_rate"] == pytest.approx(0.75)
    assert r.metrics["equals/mean"] == pytest.approx(0.75)
    run = client.tracking.get_run(r.run_id)
    assert run.params["evalset"] == name and run.params["target"] == "callable"
    assert run.metrics["pass_rate"] == pytest.approx(0.75)
    results = {x.case_id: x for x in client.evals.results(r.run_id)}
    assert not results["peru"].passed and results["peru"].output == "Nowhere"
    eq = next(a for a in results["peru"].assertions if a.name == "equals")
    assert "Lima" in eq.explanation
    assert all(x.trace_id for x in results.values())


def test_an_interrupted_run_resumes_without_redoing_finished_cases(client: Client) -> None:
    name = unique("capitals")
    _evalset(client, name)
    calls: list[str] = []
    lock = threading.Lock()
    stop_at = {"value": 5}

    def answer(country: str) -> str:
        with lock:
            calls.append(country)
            if len(calls) == stop_at["value"]:
                raise KeyboardInterrupt
        return CAPITALS[country]

    with pytest.raises(EvalInterrupted, match="run the same command again to resume"):
        run_eval(client, name, CallableTarget(answer), concurrency=1)
    first = list(calls)
    killed = client.search_runs("", experiments=[f"evals/{name}"]).runs
    assert len(killed) == 1 and killed[0].status.value == "KILLED"
    done_before = {x.case_id for x in client.evals.results(killed[0].id) if x.status == "ok"}
    # cases finished before the interrupt are kept (one already running may finish too)
    assert 4 <= len(done_before) <= 5

    stop_at["value"] = -1
    r = run_eval(client, name, CallableTarget(answer), concurrency=2)
    assert r.run_id == killed[0].id and r.status == "FINISHED" and r.cases == 8
    rerun = calls[len(first) :]
    assert sorted(rerun) == sorted(c for c in CAPITALS if c.lower() not in done_before)
    assert r.ran == 8 - len(done_before) and r.passed == 8


def test_failed_cases_are_errors_and_a_rerun_retries_only_them(client: Client) -> None:
    name = unique("capitals")
    _evalset(client, name)
    broken = {"Kenya"}

    def answer(country: str) -> str:
        if country in broken:
            raise ConnectionError("upstream went away")
        return CAPITALS[country]

    r = run_eval(client, name, CallableTarget(answer))
    assert r.status == "FAILED" and r.errors == 1
    assert "ConnectionError: upstream went away" in r.error_samples[0]
    broken.clear()
    again = run_eval(client, name, CallableTarget(answer))
    assert again.run_id == r.run_id and again.ran == 1 and again.status == "FINISHED"
    assert again.passed == 8
    fresh = run_eval(client, name, CallableTarget(answer), fresh=True)
    assert fresh.run_id != r.run_id and fresh.ran == 8


def test_missing_variables_and_bad_assertions_are_refused_before_anything_runs(
    client: Client,
) -> None:
    name = unique("capitals")
    _evalset(client, name)
    prompt = unique("capital-prompt")
    client.prompts.create(prompt, "The capital of {{ country }} in {{ language }} is",
                          model="local/gemma-3-270m", labels=["production"])  # fmt: skip
    with pytest.raises(InvalidInput, match=r"8 case\(s\) miss variables .* lacks language"):
        run_eval(client, name, PromptTarget(client, prompt))
    bad = unique("bad")
    spec = EvalSetSpec.model_validate({"assert": [{"type": "contains", "vaule": "x"}],
                                       "cases": [{"vars": {"country": "France"}}]})  # fmt: skip
    client.evals.put_evalset(bad, PutEvalSet(spec=spec))
    with pytest.raises(InvalidInput, match="vaule"):
        run_eval(client, bad, CallableTarget(lambda country: country))
    with pytest.raises(NotFound):  # nothing ran: not even the run's experiment exists
        client.search_runs("", experiments=[f"evals/{bad}"])
