"""The run filter language on both dialects, through the tracking service."""

from __future__ import annotations

import pytest

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor, Role
from shipyard.platform import Platform
from shipyard.tracking.schemas import CreateRun, MetricPoint, SearchRuns

ACTOR = Actor("tester", Role.admin)


@pytest.fixture
def runs(platform: Platform) -> Platform:
    svc = platform.tracking
    rows = [
        ("a", {"lr": "0.1", "opt": "adam", "name-with-dash": "x"}, {"val auc": 0.9, "loss": -1.5}),
        ("b", {"lr": "0.01", "opt": "sgd"}, {"val auc": 0.7, "loss": 2.5e-3}),
        ("c", {"lr": "1e-3", "opt": "Adam"}, {"loss": float("nan")}),
    ]
    for name, params, metrics in rows:
        run = svc.create_run(ACTOR, CreateRun(experiment="s", name=name, tags={"t.x": name}))
        svc.log_params(ACTOR, run.id, params)
        svc.log_metrics(ACTOR, run.id, [MetricPoint(key=k, value=v) for k, v in metrics.items()])
    return platform


def _names(p: Platform, flt: str, order: list[str] | None = None) -> list[str]:
    page = p.tracking.search_runs(SearchRuns(experiments=["s"], filter=flt, order_by=order or []))
    return [r.name for r in page.runs]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("metrics.loss < 0", ["a"]),
        ("metrics.loss <= -1.5", ["a"]),
        ("metrics.loss > 0 AND metrics.loss < 1e-2", ["b"]),
        ("metrics.`val auc` >= 0.7", ["a", "b"]),
        ('metrics."val auc" = 0.9', ["a"]),
        ("metrics.loss IS NULL", ["c"]),  # NaN is stored as "not a number"
        ("params.`name-with-dash` = 'x'", ["a"]),
        ("params.opt ILIKE 'adam'", ["a", "c"]),
        ("params.opt LIKE 'A%'", ["c"]),
        ("params.opt NOT IN ('sgd')", ["a", "c"]),
        ("params.opt <> 'sgd' and not params.opt = 'Adam'", ["a"]),
        ("params.lr > 0.005", ["a", "b"]),
        ("params.lr = '0.01'", ["b"]),
        ("tags.`t.x` = 'b' OR tags.`t.x` = 'c'", ["b", "c"]),
        ("(metrics.loss < 0 or params.opt = 'sgd') and tags.`t.x` != 'a'", ["b"]),
        ("run_name IN ('a', 'c')", ["a", "c"]),
        ("status = 'running'", ["a", "b", "c"]),
        ("params.missing IS NOT NULL", []),
        ("", ["a", "b", "c"]),
    ],
)
def test_filters(runs: Platform, flt: str, expected: list[str]) -> None:
    assert sorted(_names(runs, flt)) == expected


def test_ordering_puts_missing_values_last(runs: Platform) -> None:
    assert _names(runs, "", ["metrics.`val auc` ASC"]) == ["b", "a", "c"]
    assert _names(runs, "", ["metrics.`val auc` DESC"]) == ["a", "b", "c"]
    assert _names(runs, "", ["name DESC"]) == ["c", "b", "a"]


@pytest.mark.parametrize(
    "bad",
    [
        "metrics.loss >",
        "metrics.loss 5",
        "bogus.x = 1",
        "nosuchattr = 1",
        "metrics.loss = 'a'",
        "params.a IN ()",
        "params.a = 1)",
        "(params.a = 1",
        "params.a = 'unterminated",
        "= 1",
        "metrics.loss > 1 and",
        "params.a LIKE",
        "params.a IS 5",
    ],
)
def test_malformed_filters_are_clear_errors(runs: Platform, bad: str) -> None:
    with pytest.raises(InvalidInput):
        _names(runs, bad)


def test_bad_order_by(runs: Platform) -> None:
    for bad in ("metrics.loss sideways", "nosuch DESC", "x.y"):
        with pytest.raises(InvalidInput):
            _names(runs, "", [bad])
