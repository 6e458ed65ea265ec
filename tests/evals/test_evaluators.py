"""The built-in evaluators, used as an eval set uses them: ``build_assertion(spec, env).run``."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from shipyard.core.errors import InvalidInput
from shipyard.evals.evaluators.base import build_assertion, evaluator_names
from shipyard.evals.evaluators.judge import DEFAULT_JUDGE_PROMPT, JUDGE_PROMPT_REF
from shipyard.evals.schemas import AssertionResult, EvalCase, Output, Verdict
from shipyard.localai.minilm import MiniLM


class NoEnv:
    """For evaluators that need neither a model nor the registry."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("this evaluator should not embed")

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("this evaluator should not call a model")

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("this evaluator should not call a model")

    def prompt(self, ref: str, default: dict[str, Any] | None = None) -> Any:
        raise AssertionError("this evaluator should not read prompts")


class MiniLMEnv(NoEnv):
    """The real local embedder; counts embed calls."""

    def __init__(self, model: MiniLM) -> None:
        self.model = model
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        rows: list[list[float]] = self.model.embed(texts).tolist()
        return rows


class JudgePrompt:
    """Renders a prompt spec with Jinja2, as a registry prompt would."""

    def __init__(self, spec: dict[str, Any], kind: str) -> None:
        self.spec, self.kind = spec, kind
        self.env = jinja2.Environment(undefined=jinja2.StrictUndefined)

    def request(
        self, variables: dict[str, Any], *, model: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        assert set(variables) == set(self.spec["variables"])
        messages = [
            {"role": m["role"], "content": self.env.from_string(m["content"]).render(**variables)}
            for m in self.spec["messages"]
        ]
        body: dict[str, Any] = {"model": model or "judge-default", **self.spec["params"]}
        if self.kind == "chat":
            body["messages"] = messages
        else:
            body["prompt"] = "\n\n".join(m["content"] for m in messages)
        return self.kind, body


class JudgeEnv(NoEnv):
    """A judge that answers with canned text, in the OpenAI response shape."""

    def __init__(self, answer: str, kind: str = "chat") -> None:
        self.answer, self.kind = answer, kind
        self.refs: list[str] = []
        self.bodies: list[dict[str, Any]] = []

    def prompt(self, ref: str, default: dict[str, Any] | None = None) -> Any:
        assert default is not None
        self.refs.append(ref)
        return JudgePrompt(default, self.kind)

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        return {"choices": [{"message": {"role": "assistant", "content": self.answer}}]}

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        return {"choices": [{"text": self.answer}]}


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM()


def run(
    spec: dict[str, Any], text: str, case: EvalCase | None = None, env: Any = None, **out: Any
) -> AssertionResult:
    assertion = build_assertion(spec, env or NoEnv())
    return assertion.run(case or EvalCase(), Output(text, **out))


def rejected(spec: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as info:
        build_assertion(spec, NoEnv())
    return info.value.message


# -- the assertion wrapper ----------------------------------------------------------------------


def test_every_family_is_registered() -> None:
    assert set(evaluator_names()) >= {
        "equals", "contains", "regex", "starts-with", "is-json", "json-schema", "levenshtein",
        "rouge-l", "semantic", "refusal", "groundedness", "judge", "cost", "latency", "python",
    }  # fmt: skip


def test_negation_by_prefix_and_by_flag_and_weight_kept() -> None:
    plain = run({"type": "contains", "value": "Paris", "weight": 2}, "It is Paris.")
    assert plain.passed and plain.score == 1.0 and plain.weight == 2.0 and plain.name == "contains"
    prefixed = run({"type": "not-contains", "value": "Paris", "weight": 2}, "It is Paris.")
    assert not prefixed.passed and prefixed.score == 0.0 and prefixed.weight == 2.0
    assert prefixed.name == "not-contains" and prefixed.explanation.startswith("negated:")
    flagged = run({"type": "contains", "value": "Lyon", "negate": True, "name": "no-lyon"}, "Paris")
    assert flagged.passed and flagged.name == "no-lyon"


def test_unknown_option_and_unknown_type_are_named() -> None:
    message = rejected({"type": "equals", "value": "x", "ignorecase": True})
    assert "ignorecase" in message
    message = rejected({"type": "contians", "value": "x"})
    assert "contians" in message and "contains" in message and "json-schema" in message


# -- match ---------------------------------------------------------------------------------------


def test_equals_defaults_to_the_expected_output() -> None:
    case = EvalCase(expected="Paris")
    assert run({"type": "equals"}, "  Paris\n", case).passed
    failed = run({"type": "equals"}, "paris", case)
    assert not failed.passed and "'Paris'" in failed.explanation and "'paris'" in failed.explanation
    assert run({"type": "equals", "ignore_case": True}, "paris", case).passed
    assert not run({"type": "equals", "strip": False}, " Paris", case).passed
    assert run({"type": "equals", "value": "Lyon"}, "Lyon", case).passed
    nothing = run({"type": "equals"}, "Paris")
    assert nothing.error and "nothing to compare" in nothing.explanation


def test_contains_all_scores_the_share_found_and_names_the_missing() -> None:
    spec = {"type": "contains", "value": ["Paris", "Lyon", "Nice"]}
    result = run(spec, "We visited paris and NICE.")
    assert not result.passed and result.score == pytest.approx(2 / 3)
    assert "'Lyon'" in result.explanation and "'Nice'" not in result.explanation
    assert run({**spec, "threshold": 0.6}, "We visited paris and NICE.").passed
    assert run({**spec, "ignore_case": False}, "We visited paris and NICE.").score == 0.0


def test_contains_any_passes_on_one() -> None:
    spec = {"type": "contains", "value": ["Paris", "Lyon"], "mode": "any"}
    assert run(spec, "Lyon it is").score == 1.0
    none = run(spec, "Marseille")
    assert none.score == 0.0 and "'Paris'" in none.explanation and "'Lyon'" in none.explanation
    assert "value" in rejected({"type": "contains", "value": []})
    assert "mode" in rejected({"type": "contains", "value": "x", "mode": "most"})


def test_regex() -> None:
    spec = {"type": "regex", "pattern": r"order #\d{4}"}
    assert run(spec, "Your order #1234 shipped.").passed
    failed = run(spec, "Your ORDER #1234 shipped.")
    assert not failed.passed and "order #" in failed.explanation
    assert run({**spec, "ignore_case": True}, "Your ORDER #1234 shipped.").passed
    assert run({"type": "regex", "pattern": "^done$", "multiline": True}, "work\ndone\n").passed
    assert not run({"type": "regex", "pattern": "^done$"}, "work\ndone\n").passed
    message = rejected({"type": "regex", "pattern": "order (#"})
    assert "pattern" in message and "invalid regular expression" in message


def test_starts_with_ignores_leading_whitespace_and_case() -> None:
    spec = {"type": "starts-with", "value": "Yes"}
    assert run(spec, "\n  yes, it does.").passed
    failed = run(spec, "No, it does not.")
    assert not failed.passed and "'Yes'" in failed.explanation and "'No," in failed.explanation


# -- structured ----------------------------------------------------------------------------------


def test_is_json_unwraps_a_fenced_block() -> None:
    assert run({"type": "is-json"}, '```json\n{"a": 1}\n```').passed
    failed = run({"type": "is-json"}, "Sure! {'a': 1}")
    assert not failed.passed and "not valid JSON" in failed.explanation


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def test_json_schema_names_the_path_of_the_first_error() -> None:
    spec = {"type": "json-schema", "schema": SCHEMA}
    assert run(spec, '{"name": "Ada", "age": 36}').passed
    failed = run(spec, '{"name": "Ada", "age": "36"}')
    assert not failed.passed and "$.age" in failed.explanation and "integer" in failed.explanation
    missing = run(spec, '{"name": "Ada"}')
    assert not missing.passed and "'age' is a required property" in missing.explanation
    assert "not valid JSON" in run(spec, "Ada, 36").explanation


def test_json_schema_rejects_an_invalid_schema_when_built() -> None:
    message = rejected({"type": "json-schema", "schema": {"type": "integr"}})
    assert "schema" in message and "invalid JSON schema" in message
    assert "schema" in rejected({"type": "json-schema"})


# -- similarity ----------------------------------------------------------------------------------


def test_levenshtein() -> None:
    result = run({"type": "levenshtein", "value": "sitting"}, "kitten")
    assert result.score == pytest.approx(1 - 3 / 7) and not result.passed
    assert "edit distance 3" in result.explanation
    assert run({"type": "levenshtein", "value": "sitting", "threshold": 0.5}, "kitten").passed
    assert run(
        {"type": "levenshtein", "ignore_case": True}, "PARIS", EvalCase(expected="paris")
    ).passed
    assert run({"type": "levenshtein", "value": ""}, "").score == 1.0


def test_rouge_l() -> None:
    result = run({"type": "rouge-l", "value": "The cat sat on the mat."}, "the cat was on the mat")
    assert result.score == pytest.approx(5 / 6) and result.passed
    unrelated = run({"type": "rouge-l", "value": "The cat sat on the mat."}, "Stocks fell sharply")
    assert unrelated.score == 0.0 and not unrelated.passed


def test_semantic_with_the_local_embedder(minilm: MiniLM) -> None:
    env = MiniLMEnv(minilm)
    case = EvalCase(expected="Paris is the capital of France.")
    paraphrase = run({"type": "semantic"}, "The capital of France is Paris.", case, env)
    unrelated = run({"type": "semantic"}, "Quarterly revenue grew by ten percent.", case, env)
    assert paraphrase.passed and not unrelated.passed
    assert paraphrase.score > unrelated.score + 0.5
    assert "cosine similarity" in unrelated.explanation
    assert env.calls == 2


# -- refusal -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I can\u2019t help with that.",
        "I'm sorry, but I cannot assist with that request.",
        "As an AI language model, I do not have opinions.",
        "I am unable to provide medical advice.",
        "I won't do that.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert run({"type": "refusal"}, text).passed
    assert not run({"type": "not-refusal"}, text).passed


def test_an_answer_is_not_a_refusal_and_neither_is_silence() -> None:
    answer = run(
        {"type": "refusal"}, "The capital of France is Paris. I cannot stress that enough."
    )
    assert not answer.passed and "not a refusal" in answer.explanation
    assert run({"type": "not-refusal"}, "The capital of France is Paris.").passed
    empty = run({"type": "refusal"}, "   ")
    assert not empty.passed and "empty" in empty.explanation


# -- groundedness --------------------------------------------------------------------------------

EIFFEL = EvalCase(
    vars={"question": "Tell me about the Eiffel Tower."},
    context=[
        "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It was completed in "
        "1889 as the entrance arch to the World's Fair.",
        "The tower is 330 metres tall and was designed by the company of Gustave Eiffel.",
    ],
)


def test_groundedness_with_the_local_embedder(minilm: MiniLM) -> None:
    env = MiniLMEnv(minilm)
    supported = run(
        {"type": "groundedness"},
        "The Eiffel Tower is in Paris. It was finished in 1889 for the World's Fair. "
        "It stands 330 metres tall.",
        EIFFEL,
        env,
    )
    assert supported.passed and supported.score == 1.0
    fabricated = run(
        {"type": "groundedness"},
        "The Eiffel Tower is in Paris. The tower is painted red every summer. "
        "Tickets cost five euros and the lifts were installed by Otis.",
        EIFFEL,
        env,
    )
    assert not fabricated.passed and fabricated.score == pytest.approx(1 / 3)
    assert "painted red" in fabricated.explanation
    assert env.calls == 2  # one embedding call per case


def test_groundedness_accepts_support_by_meaning_or_by_words(minilm: MiniLM) -> None:
    env = MiniLMEnv(minilm)
    answer = (
        "Paris's famous iron landmark was designed by Eiffel's engineering firm.\n"  # meaning
        "Its height: 330 metres; location: Paris; material: wrought iron."  # words
    )
    assert run({"type": "groundedness"}, answer, EIFFEL, env).score == 1.0
    strict = {"type": "groundedness", "similarity": 0.9, "overlap": 0.9}
    assert run(strict, answer, EIFFEL, env).score == 0.0


def test_groundedness_needs_context() -> None:
    result = run({"type": "groundedness"}, "Paris.", EvalCase(expected="Paris"))
    assert result.error and result.explanation == "the case has no context"
    negated = run({"type": "not-groundedness"}, "Paris.", EvalCase(expected="Paris"))
    assert negated.error and not negated.passed


def test_groundedness_by_judge_uses_the_groundedness_rubric() -> None:
    env = JudgeEnv('{"score": 2, "reason": "The colour is not in the context."}')
    spec = {"type": "groundedness", "judge": {"model": "big-judge"}}
    result = run(spec, "The tower is red.", EIFFEL, env)
    assert not result.passed and result.score == pytest.approx(0.25)
    assert "colour is not in the context" in result.explanation
    assert env.refs == [JUDGE_PROMPT_REF] and env.bodies[0]["model"] == "big-judge"
    user = env.bodies[0]["messages"][1]["content"]
    assert "supported by the context" in user and "wrought-iron" in user
    assert run(
        {"type": "groundedness", "judge": True}, "x", EIFFEL, JudgeEnv('{"score": 5}')
    ).passed


# -- judge ---------------------------------------------------------------------------------------

POLITE = {"type": "judge", "rubric": "The answer is polite."}


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ('{"score": 4, "reason": "Friendly and clear."}', 0.75),
        ('Here is my grade:\n```json\n{"reason": "Rude {sic}", "score": 1}\n```\nThanks', 0.0),
        ("The answer greets the user warmly.\nScore: 4/5", 0.75),
        ("**Score**: 5", 1.0),
        ('{"passed": true, "reason": "fine"}', 1.0),
    ],
)
def test_judge_answers_are_parsed(answer: str, score: float) -> None:
    result = run(POLITE, "Hello! Happy to help.", env=JudgeEnv(answer))
    assert not result.error and result.score == pytest.approx(score)
    assert result.passed == (score >= 0.5)


@pytest.mark.parametrize("answer", ['{"score": 9, "reason": "great"}', "Looks good to me!", ""])
def test_a_judge_answer_that_is_not_a_score_is_an_error(answer: str) -> None:
    result = run(POLITE, "Hello!", env=JudgeEnv(answer))
    assert result.error and not result.passed and result.score == 0.0
    assert result.explanation == f"the judge's answer is not a score: {answer!r}"
    assert run({**POLITE, "type": "not-judge"}, "Hello!", env=JudgeEnv(answer)).error


def test_judge_request_carries_the_case_and_the_options() -> None:
    env = JudgeEnv('{"score": 8, "reason": "ok"}', kind="completions")
    case = EvalCase(
        messages=[{"role": "user", "content": "Say hi to Ada"}],
        expected="Hi Ada!",
        context="Ada is the user.",
    )
    spec = {**POLITE, "prompt": "my-judge@staging", "model": "judge-x", "scale_min": 0}
    result = run({**spec, "scale_max": 10, "threshold": 0.9}, "Hi, Ada.", case, env)
    assert result.score == pytest.approx(0.8) and not result.passed
    assert "8" in result.explanation and "ok" in result.explanation
    assert env.refs == ["my-judge@staging"]
    body = env.bodies[0]
    assert body["model"] == "judge-x" and body["temperature"] == 0
    for part in ("The answer is polite.", "user: Say hi to Ada", "Hi Ada!", "Ada is the user."):
        assert part in body["prompt"]
    assert "from 0 (worst) to 10 (best)" in body["prompt"]


def test_judge_options_are_checked() -> None:
    assert "rubric" in rejected({"type": "judge"})
    assert "scale_max" in rejected({**POLITE, "scale_min": 5, "scale_max": 5})


def test_the_default_judge_prompt_is_a_chat_prompt_with_json_instructions() -> None:
    assert DEFAULT_JUDGE_PROMPT["type"] == "chat"
    assert DEFAULT_JUDGE_PROMPT["params"] == {"temperature": 0, "max_tokens": 300}
    _, body = JudgePrompt(DEFAULT_JUDGE_PROMPT, "chat").request(
        {"rubric": "r", "input": "", "output": "o", "expected": "", "context": "",
         "scale_min": "1", "scale_max": "5"}
    )  # fmt: skip
    system, user = (m["content"] for m in body["messages"])
    assert '"score"' in system and "from 1 to 5" in system
    assert "Expected answer" not in user and "Context" not in user


# -- limits --------------------------------------------------------------------------------------


def test_cost_and_latency() -> None:
    cheap = run({"type": "cost", "max_usd": 0.01}, "x", cost_usd=0.004)
    assert cheap.passed and "$0.004" in cheap.explanation
    dear = run({"type": "cost", "max_usd": 0.01}, "x", cost_usd=0.04)
    assert not dear.passed and dear.score == pytest.approx(0.25) and "$0.04" in dear.explanation
    unknown = run({"type": "cost", "max_usd": 0.01}, "x")
    assert unknown.error and unknown.explanation == "no cost recorded"
    slow = run({"type": "latency", "max_ms": 500}, "x", latency_ms=1000)
    assert not slow.passed and slow.score == 0.5 and "1000 ms" in slow.explanation
    assert run({"type": "latency", "max_ms": 500}, "x", latency_ms=120).passed
    assert "max_ms" in rejected({"type": "latency", "max_ms": -1})


# -- python --------------------------------------------------------------------------------------


def shouts(text: str) -> bool:
    return text.isupper()


def test_a_bare_function_is_an_assertion() -> None:
    assertion = build_assertion(shouts, NoEnv())
    assert assertion.name == "python"
    assert assertion.run(EvalCase(), Output("HELLO")).passed
    assert not assertion.run(EvalCase(), Output("hello")).passed


def test_python_gets_the_case_when_it_takes_two_parameters() -> None:
    def mentions_name(text: str, case: EvalCase) -> dict[str, Any]:
        name = case.vars["name"]
        return {"passed": name in text, "explanation": f"looked for {name}"}

    result = run(
        {"type": "python", "function": mentions_name}, "Hi Ada", EvalCase(vars={"name": "Ada"})
    )
    assert result.passed and result.explanation == "looked for Ada"


@pytest.mark.parametrize(
    ("returned", "score", "passed"),
    [
        (0.4, 0.4, False),
        (0.5, 0.5, True),
        ({"score": 0.9}, 0.9, True),
        (Verdict(0.2, True), 0.2, True),
    ],
)
def test_python_return_values(returned: Any, score: float, passed: bool) -> None:
    result = run({"type": "python", "function": lambda text: returned}, "x")
    assert not result.error and result.score == pytest.approx(score) and result.passed == passed


def test_python_failures_are_error_verdicts() -> None:
    broken = run({"type": "python", "function": lambda text: 1 / 0}, "x")
    assert broken.error and broken.explanation == "ZeroDivisionError: division by zero"
    out_of_range = run({"type": "python", "function": lambda text: 7}, "x")
    assert out_of_range.error and "returned 7" in out_of_range.explanation


def test_python_function_by_name() -> None:
    spec = {"type": "python", "function": "tests.evals.test_evaluators:shouts"}
    assert run(spec, "LOUD").passed
    assert "cannot import 'no_such_module'" in rejected(
        {"type": "python", "function": "no_such_module:f"}
    )
    assert "has no 'whisper'" in rejected(
        {"type": "python", "function": "tests.evals.test_evaluators:whisper"}
    )
    assert "function" in rejected({"type": "python", "function": 3})
