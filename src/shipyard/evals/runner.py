"""Eval runs: an eval set against a target, in parallel, each case traced, results stored
case by case, so an interrupted run resumes where it stopped.

A run is a tracking run (experiment ``evals/<eval set>``): its params say what was asked
(prompt version, model, temperature...), its metrics what came back (pass rate, the mean of
each assertion, cost, p95 latency), and its tag ``shipyard.eval.fingerprint`` ties it to the
exact eval set version and target, so running the same thing again resumes an unfinished run.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import InvalidInput, ShipyardError
from shipyard.evals.env import ClientEnv
from shipyard.evals.evaluators.base import Assertion, EvalEnv, build_assertion
from shipyard.evals.schemas import AssertionResult, CaseResult, EvalCase, Output
from shipyard.evals.store import EvalSet
from shipyard.evals.targets import EvalTarget, _digest
from shipyard.registry.schemas import parse_ref
from shipyard.tracing.sdk import propagate
from shipyard.tracking.schemas import RunStatus, UpdateRun

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.sdk import Client

FINGERPRINT_TAG = "shipyard.eval.fingerprint"
FLUSH_EVERY = 25
FLUSH_INTERVAL_S = 1.0
TRACE_PROJECT = "evals"


class EvalInterrupted(ShipyardError):
    """The run was stopped part-way; what finished is stored and a re-run resumes."""

    status = 409


@dataclass(slots=True)
class EvalReport:
    run_id: str
    experiment: str
    evalset: str
    target: str
    status: str
    metrics: dict[str, float]
    params: dict[str, str]
    cases: int
    passed: int
    errors: int
    ran: int  # cases run by this call (the rest were done before)
    elapsed_s: float
    reused: bool = False  # a finished run with the same fingerprint was returned as it was
    error_samples: list[str] = field(default_factory=list)

    def params_version(self) -> int:
        """The prompt version the run used (prompt targets)."""
        return int(self.params["prompt_version"])


def load_evalset(client: Client, ref: str) -> EvalSet:
    """``name`` (the newest version), ``name@label`` or ``name/3``."""
    name, label, version = parse_ref(ref)
    return client.evals.get_evalset(name, label, version)


class _Plan:
    """The assertions of every case, built (and so checked) before anything runs."""

    def __init__(self, evalset: EvalSet, env: EvalEnv, extra: list[Any]) -> None:
        shared = [
            build_assertion(spec, env, where=f"eval set assertion {i + 1}")
            for i, spec in enumerate([*evalset.spec.assertions, *extra])
        ]
        self.by_case: dict[str, list[Assertion]] = {}
        bare = []
        for case in evalset.spec.cases:
            own = [
                build_assertion(spec, env, where=f"case {case.id}, assertion {i + 1}")
                for i, spec in enumerate(case.assertions)
            ]
            self.by_case[case.id] = shared + own
            if not self.by_case[case.id]:
                bare.append(case.id)
        if bare:
            raise InvalidInput(
                f"{len(bare)} case(s) have no assertions (first: {bare[0]}); add `assert:` "
                "to the eval set or to the cases"
            )


def run_eval(
    client: Client,
    evalset: EvalSet | str,
    target: EvalTarget,
    *,
    experiment: str | None = None,
    concurrency: int | None = None,
    assertions: list[Any] | None = None,
    judge_model: str | None = None,
    fresh: bool = False,
    reuse_finished: bool = False,
    console: Console | None = None,
    limit: int | None = None,
) -> EvalReport:
    """Run (or resume) ``evalset`` against ``target``; ``console`` shows a progress bar."""
    es = load_evalset(client, evalset) if isinstance(evalset, str) else evalset
    if limit is not None:
        es = es.model_copy(deep=True)
        es.spec.cases = es.spec.cases[:limit]
    if not es.spec.cases:
        raise InvalidInput(f"eval set {es.ref} has no cases")
    env = ClientEnv(client, judge_model)
    plan = _Plan(es, env, list(assertions or []))
    target.check(es.spec.cases)
    experiment = experiment or f"evals/{es.name}"
    fp = _digest(es.content_hash, target.fingerprint(), [repr(a) for a in assertions or []],
                 limit)  # fmt: skip
    run_id, previous = _find_run(client, experiment, fp, fresh)
    if run_id is not None and previous == RunStatus.finished.value and reuse_finished:
        return _report(client, run_id, experiment, es, target, 0, 0.0, reused=True)
    if run_id is None:
        run_id = _start_run(client, experiment, es, target, fp, concurrency)
    else:
        client.tracking.update_run(run_id, _status(RunStatus.running))
    done = {r.case_id for r in client.evals.results(run_id) if r.status == "ok"}
    todo = [(i, c) for i, c in enumerate(es.spec.cases) if c.id not in done]
    workers = max(1, concurrency or client.settings.prompts.eval_concurrency)
    start = time.perf_counter()
    case_fn = _case_runner(client, run_id, es, target, plan)
    try:
        _execute(client, run_id, todo, case_fn, workers, console, len(es.spec.cases) - len(todo))
    except KeyboardInterrupt:
        client.tracking.update_run(run_id, _status(RunStatus.killed))
        finished = len({r.case_id for r in client.evals.results(run_id) if r.status == "ok"})
        raise EvalInterrupted(
            f"interrupted after {finished} of {len(es.spec.cases)} cases of run {run_id}; "
            "run the same command again to resume"
        ) from None
    return _report(client, run_id, experiment, es, target, len(todo),
                   time.perf_counter() - start)  # fmt: skip


def _status(status: RunStatus) -> UpdateRun:
    return UpdateRun(status=status)


def _find_run(client: Client, experiment: str, fp: str, fresh: bool) -> tuple[str | None, str]:
    if fresh:
        return None, ""
    try:
        page = client.search_runs(
            f"tags.`{FINGERPRINT_TAG}` = '{fp}'",
            experiments=[experiment],
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    except ShipyardError:  # e.g. the experiment does not exist yet
        return None, ""
    if not page.runs:
        return None, ""
    run = page.runs[0]
    return run.id, run.status.value


def _start_run(
    client: Client, experiment: str, es: EvalSet, target: EvalTarget, fp: str,
    concurrency: int | None,
) -> str:  # fmt: skip
    run = client.start_run(
        experiment,
        run_name=f"{es.name} v{es.version} · {target.label}",
        tags={FINGERPRINT_TAG: fp, "shipyard.kind": "eval", "shipyard.eval.evalset": es.name,
              "shipyard.eval.target": target.label},
    )  # fmt: skip
    params = {"evalset": es.name, "evalset_version": str(es.version),
              "cases": str(len(es.spec.cases)), **target.params()}  # fmt: skip
    if concurrency:
        params["concurrency"] = str(concurrency)
    run.log_params(params)
    return run.id


def _case_runner(
    client: Client, run_id: str, es: EvalSet, target: EvalTarget, plan: _Plan
) -> Callable[[int, EvalCase], CaseResult]:
    def run_case(index: int, case: EvalCase) -> CaseResult:
        with client.span(
            f"eval {es.name} {case.id}", kind="evaluator", project=TRACE_PROJECT,
            session_id=run_id, tags=["eval", es.name],
        ) as span:  # fmt: skip
            span.set_attributes({"shipyard.eval.run_id": run_id, "shipyard.eval.case_id": case.id,
                                 "shipyard.eval.evalset": es.ref})  # fmt: skip
            span.set_input(case.vars or case.messages)
            base = {"run_id": run_id, "case_id": case.id, "index": index,
                    "trace_id": span.trace_id}  # fmt: skip
            try:
                out = target.run(case)
                results = [a.run(case, out) for a in plan.by_case[case.id]]
            except Exception as exc:  # the case failed to run: stored as an error, re-run later
                span.record_exception(exc)
                message = exc.message if isinstance(exc, ShipyardError) else str(exc)
                return CaseResult(**base, status="error", passed=False, score=0.0,
                                  error=f"{type(exc).__name__}: {message}"[:2000])  # fmt: skip
            result = _scored(base, out, results)
            span.set_output(out.text)
            span.set_attributes({"shipyard.eval.passed": result.passed,
                                 "shipyard.eval.score": result.score})  # fmt: skip
            return result

    return run_case


def _scored(base: dict[str, Any], out: Output, results: list[AssertionResult]) -> CaseResult:
    weight = sum(r.weight for r in results)
    score = (
        sum(r.score * r.weight for r in results) / weight
        if weight > 0
        else (sum(r.score for r in results) / len(results) if results else 1.0)
    )
    passed = all(r.passed for r in results if r.weight > 0)
    return CaseResult(
        **base, status="ok", passed=passed, score=score, output=out.text,
        assertions=results, latency_ms=out.latency_ms, cost_usd=out.cost_usd,
        input_tokens=out.input_tokens, output_tokens=out.output_tokens,
    )  # fmt: skip


def _execute(
    client: Client, run_id: str, todo: list[tuple[int, EvalCase]],
    case_fn: Callable[[int, EvalCase], CaseResult], workers: int, console: Console | None,
    already: int,
) -> None:  # fmt: skip
    pending: list[CaseResult] = []
    last_flush = time.monotonic()
    progress = _Progress(console, already + len(todo), already)

    def flush() -> None:
        nonlocal last_flush
        if pending:
            client.evals.record(run_id, pending[:])
            pending.clear()
        last_flush = time.monotonic()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipyard-eval")
    queue = iter(todo)
    running: set[Future[CaseResult]] = set()
    try:
        with progress:
            for index, case in _take(queue, workers * 2):
                running.add(pool.submit(propagate(case_fn), index, case))
            while running:
                finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                _harvest(finished, pending, progress)
                for index, case in _take(queue, len(finished)):
                    running.add(pool.submit(propagate(case_fn), index, case))
                if len(pending) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_INTERVAL_S:
                    flush()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        # cases that finished while the run was being stopped are kept too
        _harvest({f for f in running if f.done() and not f.cancelled()}, pending, progress, True)
        flush()
        client.flush()


def _harvest(
    finished: set[Future[CaseResult]], pending: list[CaseResult], progress: _Progress,
    quiet: bool = False,
) -> None:  # fmt: skip
    """Keep every finished case's result; an interrupt from one case is raised only after
    the others that finished with it are kept (else an acknowledged result could be lost)."""
    error: BaseException | None = None
    for fut in finished:
        try:
            result = fut.result()
        except BaseException as exc:  # KeyboardInterrupt from a case
            error = error or exc
            continue
        pending.append(result)
        progress.advance(result)
    if error is not None and not quiet:
        raise error


def _take(queue: Iterable[tuple[int, EvalCase]], n: int) -> list[tuple[int, EvalCase]]:
    out = []
    for item in queue:
        out.append(item)
        if len(out) >= n:
            break
    return out


class _Progress:
    """A rich progress bar with the running pass count (nothing without a console)."""

    def __init__(self, console: Console | None, total: int, done: int) -> None:
        self.passed = 0
        self.errors = 0
        self.bar: Any = None
        if console is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=console, transient=False,
            )  # fmt: skip
            self.task = self.bar.add_task("eval", total=total, completed=done, status="")

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, result: CaseResult) -> None:
        self.passed += result.passed
        self.errors += result.status == "error"
        if self.bar is not None:
            status = f"[green]{self.passed} passed"
            if self.errors:
                status += f" [red]{self.errors} errors"
            self.bar.update(self.task, advance=1, status=status)


def summarize(results: list[CaseResult]) -> dict[str, float]:
    """The run's metrics from its case results."""
    ok = [r for r in results if r.status == "ok"]
    metrics: dict[str, float] = {"cases": float(len(results)),
                                 "errors": float(len(results) - len(ok))}  # fmt: skip
    if not ok:
        return metrics
    metrics["pass_rate"] = sum(r.passed for r in ok) / len(ok)
    metrics["score"] = sum(r.score for r in ok) / len(ok)
    by_name: dict[str, list[AssertionResult]] = defaultdict(list)
    for r in ok:
        for a in r.assertions:
            by_name[a.name].append(a)
    for name, items in sorted(by_name.items()):
        metrics[f"{name}/mean"] = sum(a.score for a in items) / len(items)
        metrics[f"{name}/pass_rate"] = sum(a.passed for a in items) / len(items)
        if any(a.error for a in items):
            metrics[f"{name}/errors"] = float(sum(a.error for a in items))
    costs = [r.cost_usd for r in ok if r.cost_usd is not None]
    if costs:
        metrics["cost_usd"] = sum(costs)
    latencies = sorted(r.latency_ms for r in ok if r.latency_ms is not None)
    if latencies:
        metrics["latency_p50_ms"] = _quantile(latencies, 0.5)
        metrics["latency_p95_ms"] = _quantile(latencies, 0.95)
    tokens = [r.output_tokens for r in ok if r.output_tokens is not None]
    if tokens:
        metrics["output_tokens"] = float(sum(tokens))
    return metrics


def _quantile(values: list[float], q: float) -> float:
    pos = (len(values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _report(
    client: Client, run_id: str, experiment: str, es: EvalSet, target: EvalTarget, ran: int,
    elapsed_s: float, *, reused: bool = False,
) -> EvalReport:  # fmt: skip
    results = client.evals.results(run_id)
    metrics = summarize(results)
    if ran and elapsed_s > 0:
        metrics["cases_per_s"] = ran / elapsed_s
    errors = [r for r in results if r.status == "error"]
    if not reused:
        run = client.run(run_id)
        run.log_metrics(metrics)
        run.end(RunStatus.failed if errors else RunStatus.finished)
    info = client.tracking.get_run(run_id)
    return EvalReport(
        run_id=run_id, experiment=experiment, evalset=es.ref, target=target.label,
        status=info.status.value, metrics=metrics, params=dict(info.params),
        cases=len(results), passed=sum(r.passed for r in results), errors=len(errors),
        ran=ran, elapsed_s=elapsed_s, reused=reused,
        error_samples=[f"{r.case_id}: {r.error}" for r in errors[:5]],
    )  # fmt: skip
