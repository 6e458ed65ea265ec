"""Comparing two eval runs: which cases moved, the metric deltas, and the three reports."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from rich.console import Console

from shipyard.evals.compare import (
    Comparison,
    RunSide,
    compare,
    print_comparison,
    render_html,
    render_markdown,
)
from shipyard.evals.schemas import AssertionResult, CaseResult

Assertion = tuple[str, float, bool, str]  # name, score, passed, explanation


def _case(
    run: str,
    case_id: str,
    passed: bool,
    score: float,
    assertions: list[Assertion] | None = None,
    *,
    output: str = "",
    status: str = "ok",
) -> CaseResult:
    return CaseResult.model_validate(
        {
            "run_id": run,
            "case_id": case_id,
            "index": 0,
            "status": status,
            "passed": passed,
            "score": score,
            "output": output or f"answer {case_id} from {run}",
            "assertions": [
                AssertionResult(name=n, type="contains", score=s, passed=p, explanation=x)
                for n, s, p, x in assertions or []
            ],
        }
    )


def _sides() -> tuple[RunSide, RunSide]:
    a = [
        _case("ra", "c1", True, 1.0, [("exact", 1.0, True, ""), ("tone", 1.0, True, "")]),
        _case("ra", "c2", True, 0.9, [("exact", 1.0, True, "")]),
        _case("ra", "c3", True, 0.9, [("tone", 0.8, True, "")]),
        _case("ra", "c4", True, 0.8),
        _case("ra", "c5", False, 0.3),
        _case("ra", "c6", False, 0.2),
        _case("ra", "only-a", True, 1.0),
        _case("ra", "err", True, 1.0),
    ]
    b = [
        _case(
            "rb",
            "c1",
            False,
            0.2,
            [("exact", 0.0, False, "missing 'Paris'"), ("tone", 0.4, True, "")],
        ),
        _case("rb", "c2", False, 0.7, [("exact", 0.0, False, "")]),
        _case("rb", "c3", True, 0.5, [("tone", 0.5, True, "")]),
        _case("rb", "c4", True, 0.8 - 1e-12),
        _case("rb", "c5", True, 0.9),
        _case("rb", "c6", False, 0.6),
        _case("rb", "only-b1", True, 1.0),
        _case("rb", "only-b2", True, 1.0),
        _case("rb", "err", False, 0.0, status="error"),
    ]
    return (
        RunSide(run_id="ra", label="prompt qa@production (v3)", params={"model": "m1"}, results=a),
        RunSide(run_id="rb", label="prompt qa@candidate (v4)", params={"model": "m2"}, results=b),
    )


@pytest.fixture
def comp() -> Comparison:
    a, b = _sides()
    return compare(a, b, resamples=500)


def test_regressions_and_improvements_are_found_and_ordered(comp: Comparison) -> None:
    # pass→fail first (biggest drop first), then score drops; c4's drop is within tolerance
    assert [c.case_id for c in comp.regressed] == ["c1", "c2", "c3"]
    assert [c.case_id for c in comp.improved] == ["c5", "c6"]
    c1 = comp.regressed[0]
    assert (c1.score_a, c1.score_b, c1.passed_a, c1.passed_b) == (1.0, 0.2, True, False)
    assert c1.failed_assertions_b == ["exact: missing 'Paris'"]
    assert comp.regressed[1].failed_assertions_b == ["exact"]
    assert c1.output_b == "answer c1 from rb"


def test_tolerance_decides_what_a_score_change_is() -> None:
    a, b = _sides()
    loose = compare(a, b, resamples=100, tolerance=0.5)
    assert [c.case_id for c in loose.regressed] == ["c1", "c2"]  # pass flips count regardless
    strict = compare(a, b, resamples=100, tolerance=0.0)
    assert [c.case_id for c in strict.regressed] == ["c1", "c2", "c3", "c4"]


def test_case_counts(comp: Comparison) -> None:
    assert comp.n_common == 6
    assert (comp.only_in_a, comp.only_in_b, comp.n_errored) == (1, 2, 1)
    assert (comp.a.n_cases, comp.a.n_errors, comp.b.n_cases, comp.b.n_errors) == (8, 0, 9, 1)
    assert comp.a.label == "prompt qa@production (v3)"
    assert comp.b.params == {"model": "m2"}


def test_metric_means(comp: Comparison) -> None:
    by_name = {m.name: m for m in comp.metrics}
    assert [m.name for m in comp.metrics] == ["pass_rate", "score", "exact", "tone"]
    pass_rate = by_name["pass_rate"]
    assert (pass_rate.mean_a, pass_rate.mean_b, pass_rate.n) == pytest.approx((4 / 6, 3 / 6, 6))
    score = by_name["score"]
    assert score.mean_a == pytest.approx((1.0 + 0.9 + 0.9 + 0.8 + 0.3 + 0.2) / 6)
    assert score.mean_b == pytest.approx((0.2 + 0.7 + 0.5 + 0.8 - 1e-12 + 0.9 + 0.6) / 6)
    assert score.diff == pytest.approx(score.mean_b - score.mean_a)
    assert score.ci_low <= score.diff <= score.ci_high
    # assertion metrics only over cases that have the assertion in both runs
    assert (by_name["exact"].n, by_name["exact"].mean_a, by_name["exact"].mean_b) == (2, 1.0, 0.0)
    assert by_name["tone"].n == 2
    assert by_name["tone"].mean_b == pytest.approx(0.45)
    assert by_name["tone"].kind == "assertion"
    assert not any(m.significant for m in comp.metrics)  # six cases cannot show much


def test_a_large_consistent_drop_is_significant() -> None:
    a = [_case("ra", f"c{i}", True, 0.9 + (i % 3) / 100) for i in range(40)]
    b = [_case("rb", f"c{i}", i % 4 != 0, 0.5 + (i % 5) / 100) for i in range(40)]
    comp = compare(RunSide(run_id="ra", results=a), RunSide(run_id="rb", results=b))
    score = next(m for m in comp.metrics if m.name == "score")
    assert score.significant
    assert score.ci_high < 0
    assert score.p_bootstrap < 0.05 and score.p_wilcoxon < 0.05
    assert len(comp.regressed) == 40


def test_no_common_cases() -> None:
    a = RunSide(run_id="ra", results=[_case("ra", "x", True, 1.0)])
    b = RunSide(run_id="rb", results=[_case("rb", "y", True, 1.0)])
    comp = compare(a, b)
    assert (comp.n_common, comp.only_in_a, comp.only_in_b, comp.metrics) == (0, 1, 1, [])
    assert "<svg" in render_html(comp)
    assert "None." in render_markdown(comp)


class _Checker(HTMLParser):
    """Records start tags and fails on an end tag that does not close the open element."""

    VOID = frozenset({"meta", "br", "circle", "line", "link", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.starts: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker


def test_html_is_well_formed_with_one_rect_per_bar(comp: Comparison) -> None:
    page = render_html(comp)
    checker = _parse(page)
    assert checker.starts.count("svg") == 1
    assert checker.starts.count("rect") == 2 * len(comp.metrics)
    assert "script" not in checker.starts
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    text = "".join(checker.text)
    for case_id in ("c1", "c2", "c3"):
        assert case_id in text
    assert "prompt qa@production (v3)" in text


def test_html_escapes_case_outputs_and_truncates_them() -> None:
    a, b = _sides()
    hostile = "<script>alert('x')</script>" + "y" * 1000
    b.results[0] = b.results[0].model_copy(update={"output": hostile})
    b.label = 'v4 <b>"bold"</b>'
    page = render_html(compare(a, b, resamples=100))
    checker = _parse(page)
    assert "script" not in checker.starts and "b" not in checker.starts
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "y" * 400 not in page
    assert "y" * 200 in page


def test_markdown_has_the_table_and_the_regressed_cases(comp: Comparison) -> None:
    md = render_markdown(comp)
    assert "| Metric | A | B | Diff | 95% CI | p (bootstrap) | p (Wilcoxon) | n |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(comp.metrics)
    assert rows[1].startswith("| pass_rate | 0.667 | 0.500 | -0.167 |")
    regressed = md.split("## Regressed cases", 1)[1]
    assert [line.split(":")[0] for line in regressed.splitlines() if line.startswith("- ")] == [
        "- c1",
        "- c2",
        "- c3",
    ]
    assert "exact: missing 'Paris'" in regressed


def test_markdown_escapes_pipes_in_names() -> None:
    a, b = _sides()
    a.results[0].assertions[0].name = b.results[0].assertions[0].name = "a|b"
    md = render_markdown(compare(a, b, resamples=100))
    assert "| a\\|b |" in md


def test_console_table_colours_the_diff_and_lists_regressions(comp: Comparison) -> None:
    console = Console(record=True, width=160, force_terminal=True, color_system="standard")
    print_comparison(console, comp)
    out = console.export_text(styles=True, clear=False)
    plain = console.export_text()
    for header in ("Metric", "95% CI", "p (bootstrap)", "p (Wilcoxon)"):
        assert header in plain
    assert "\x1b[31m-0.167" in out  # pass_rate fell: red
    assert "\x1b[31m-1.000" in out  # exact fell
    assert "c1: score 1.000 → 0.200, pass → fail" in plain
    assert "✗ exact: missing 'Paris'" in plain


def test_console_diff_is_green_when_b_is_better() -> None:
    a, b = _sides()
    console = Console(record=True, width=160, force_terminal=True, color_system="standard")
    print_comparison(console, compare(b, a, resamples=100))
    out = console.export_text(styles=True)
    assert "\x1b[32m+0.167" in out
    assert "\x1b[31m" not in out.split("Regressed cases")[0]


def test_console_shows_at_most_ten_regressed_cases() -> None:
    a = [_case("ra", f"c{i:02}", True, 1.0) for i in range(14)]
    b = [_case("rb", f"c{i:02}", True, 0.5 + i / 100) for i in range(14)]
    b[0] = _case("rb", "c00", True, 0.9)  # the smallest drop goes last
    console = Console(record=True, width=160)
    print_comparison(
        console, compare(RunSide(run_id="ra", results=a), RunSide(run_id="rb", results=b))
    )
    plain = console.export_text()
    assert "Regressed cases (14, showing 10)" in plain
    assert "c01: score" in plain
    assert "c00: score" not in plain
    assert "[green]" not in plain
