"""Compare two eval runs case by case: paired statistics per metric, the cases that got worse
or better, and reports as a rich table, Markdown and a self-contained HTML page.

Only cases with status ``"ok"`` in both runs are compared, matched by ``case_id``. Every
metric is "higher is better" and lies in [0, 1]: ``pass_rate`` (a case's pass as 0/1),
``score`` (the case score) and one metric per assertion name (its score; a case without that
assertion in either run is left out of that metric).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shipyard.evals.schemas import CaseResult
from shipyard.evals.stats import paired_bootstrap, wilcoxon_signed_rank

__all__ = [
    "CaseChange",
    "Comparison",
    "MetricDelta",
    "RunSide",
    "RunSummary",
    "compare",
    "print_comparison",
    "render_html",
    "render_markdown",
]

ALPHA = 0.05
OUTPUT_CHARS = 300
CONSOLE_CASES = 10


class RunSide(BaseModel):
    """One side of a comparison: an eval run, how it was made, and its case results."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    label: str = ""  # e.g. "prompt qa@production (v3)"
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    results: list[CaseResult] = Field(default_factory=list)


class RunSummary(BaseModel):
    """A :class:`RunSide` without its results, with case counts."""

    run_id: str
    label: str
    params: dict[str, str]
    metrics: dict[str, float]
    n_cases: int
    n_errors: int


class MetricDelta(BaseModel):
    """One metric over the common cases: means, ``diff = mean_b - mean_a``, the bootstrap
    CI of the diff and both p-values. ``significant`` needs both p-values below 0.05."""

    name: str
    kind: Literal["pass_rate", "score", "assertion"]
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_wilcoxon: float
    n: int
    significant: bool


class CaseChange(BaseModel):
    """A case that regressed or improved from run A to run B."""

    case_id: str
    score_a: float
    score_b: float
    passed_a: bool
    passed_b: bool
    output_a: str | None = None
    output_b: str | None = None
    failed_assertions_b: list[str] = Field(default_factory=list)  # "name: explanation"


class Comparison(BaseModel):
    a: RunSummary
    b: RunSummary
    n_common: int  # cases "ok" in both runs: the ones compared
    only_in_a: int
    only_in_b: int
    n_errored: int  # cases in both runs left out because one side errored
    metrics: list[MetricDelta]
    regressed: list[CaseChange]  # worst first
    improved: list[CaseChange]  # best first


def compare(
    a: RunSide, b: RunSide, *, resamples: int = 2000, seed: int = 0, tolerance: float = 1e-9
) -> Comparison:
    """Compare run B against run A (the baseline) on the cases both ran without error."""
    by_a = {r.case_id: r for r in a.results}
    by_b = {r.case_id: r for r in b.results}
    both = [cid for cid in by_a if cid in by_b]
    common = [cid for cid in both if by_a[cid].status == "ok" and by_b[cid].status == "ok"]
    pairs = [(by_a[cid], by_b[cid]) for cid in common]
    changes = [_change(ra, rb) for ra, rb in pairs]
    regressed = [c for c in changes if _direction(c, tolerance) < 0]
    improved = [c for c in changes if _direction(c, tolerance) > 0]
    regressed.sort(key=lambda c: (not (c.passed_a and not c.passed_b), c.score_b - c.score_a))
    improved.sort(key=lambda c: (not (c.passed_b and not c.passed_a), c.score_a - c.score_b))
    return Comparison(
        a=_summary(a),
        b=_summary(b),
        n_common=len(common),
        only_in_a=sum(1 for cid in by_a if cid not in by_b),
        only_in_b=sum(1 for cid in by_b if cid not in by_a),
        n_errored=len(both) - len(common),
        metrics=_metrics(pairs, resamples=resamples, seed=seed),
        regressed=regressed,
        improved=improved,
    )


def _summary(side: RunSide) -> RunSummary:
    n_errors = sum(1 for r in side.results if r.status != "ok")
    fields = side.model_dump(exclude={"results"})
    return RunSummary(**fields, n_cases=len(side.results), n_errors=n_errors)


def _change(ra: CaseResult, rb: CaseResult) -> CaseChange:
    failed = [
        f"{x.name}: {x.explanation}" if x.explanation else x.name
        for x in rb.assertions
        if not x.passed
    ]
    return CaseChange(
        case_id=ra.case_id,
        score_a=ra.score,
        score_b=rb.score,
        passed_a=ra.passed,
        passed_b=rb.passed,
        output_a=ra.output,
        output_b=rb.output,
        failed_assertions_b=failed,
    )


def _direction(change: CaseChange, tolerance: float) -> int:
    """-1 if the case got worse, 1 if better, 0 if neither. A flip of pass/fail decides;
    otherwise the score must move by more than ``tolerance``."""
    if change.passed_a != change.passed_b:
        return 1 if change.passed_b else -1
    delta = change.score_b - change.score_a
    if abs(delta) <= tolerance:
        return 0
    return 1 if delta > 0 else -1


def _metrics(
    pairs: list[tuple[CaseResult, CaseResult]], *, resamples: int, seed: int
) -> list[MetricDelta]:
    if not pairs:
        return []
    passes = ([float(ra.passed) for ra, _ in pairs], [float(rb.passed) for _, rb in pairs])
    scores = ([ra.score for ra, _ in pairs], [rb.score for _, rb in pairs])
    out = [
        _delta("pass_rate", "pass_rate", *passes, resamples=resamples, seed=seed),
        _delta("score", "score", *scores, resamples=resamples, seed=seed),
    ]
    for name, (xs, ys) in sorted(_assertion_pairs(pairs).items()):
        out.append(_delta(name, "assertion", xs, ys, resamples=resamples, seed=seed))
    return out


def _assertion_pairs(
    pairs: list[tuple[CaseResult, CaseResult]],
) -> dict[str, tuple[list[float], list[float]]]:
    """Per assertion name, the paired scores of the cases that have it in both runs (an
    assertion name repeated within a case counts as the mean of its scores)."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for ra, rb in pairs:
        sa, sb = _assertion_scores(ra), _assertion_scores(rb)
        for name in sa.keys() & sb.keys():
            xs, ys = out.setdefault(name, ([], []))
            xs.append(sa[name])
            ys.append(sb[name])
    return out


def _assertion_scores(result: CaseResult) -> dict[str, float]:
    grouped: dict[str, list[float]] = {}
    for x in result.assertions:
        grouped.setdefault(x.name, []).append(x.score)
    return {name: sum(v) / len(v) for name, v in grouped.items()}


def _delta(
    name: str,
    kind: Literal["pass_rate", "score", "assertion"],
    xs: list[float],
    ys: list[float],
    *,
    resamples: int,
    seed: int,
) -> MetricDelta:
    boot = paired_bootstrap(xs, ys, resamples=resamples, seed=seed)
    p_wil = wilcoxon_signed_rank(xs, ys).p_value
    mean_a, mean_b = sum(xs) / len(xs), sum(ys) / len(ys)
    return MetricDelta(
        name=name,
        kind=kind,
        mean_a=mean_a,
        mean_b=mean_b,
        diff=mean_b - mean_a,
        n=len(xs),
        ci_low=boot.ci_low,
        ci_high=boot.ci_high,
        p_bootstrap=boot.p_value,
        p_wilcoxon=p_wil,
        significant=boot.p_value < ALPHA and p_wil < ALPHA,
    )


# -- formatting ---------------------------------------------------------------------------------

_HEAD = ["Metric", "A", "B", "Diff", "95% CI", "p (bootstrap)", "p (Wilcoxon)", "n"]
_NOTE = "* significant at 0.05 (bootstrap and Wilcoxon)"


def _num(x: float) -> str:
    return f"{x:.3f}"


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _metric_row(m: MetricDelta) -> list[str]:
    """The cells of one metric, in the order of ``_HEAD``, as plain text."""
    diff = f"{m.diff:+.3f}" + (" *" if m.significant else "")
    ci = f"[{m.ci_low:+.3f}, {m.ci_high:+.3f}]"
    p_boot, p_wil = _p(m.p_bootstrap), _p(m.p_wilcoxon)
    return [m.name, _num(m.mean_a), _num(m.mean_b), diff, ci, p_boot, p_wil, str(m.n)]


def _case_line(c: CaseChange) -> str:
    return (
        f"{c.case_id}: score {_num(c.score_a)} → {_num(c.score_b)}, "
        f"{'pass' if c.passed_a else 'fail'} → {'pass' if c.passed_b else 'fail'}"
    )


def _name(side: RunSummary) -> str:
    return side.label or side.run_id


def _truncate(text: str | None, limit: int = OUTPUT_CHARS) -> str:
    if text is None:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _counts_line(comp: Comparison) -> str:
    return (
        f"{comp.n_common} cases compared, {comp.only_in_a} only in A, {comp.only_in_b} only "
        f"in B, {comp.n_errored} left out for errors; {len(comp.regressed)} regressed, "
        f"{len(comp.improved)} improved"
    )


# -- Markdown -----------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(comp: Comparison) -> str:
    lines = [
        "# Eval comparison",
        "",
        f"- **A**: {_md(_name(comp.a))} (`{_md(comp.a.run_id)}`)",
        f"- **B**: {_md(_name(comp.b))} (`{_md(comp.b.run_id)}`)",
        f"- {_counts_line(comp)}",
        "",
        "| " + " | ".join(_HEAD) + " |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join(_md(c) for c in _metric_row(m)) + " |" for m in comp.metrics]
    lines += ["", "\\" + _NOTE, "", "## Regressed cases", ""]  # not a list item
    if not comp.regressed:
        lines.append("None.")
    for c in comp.regressed:
        lines.append(f"- {_md(_case_line(c))}")
        lines += [f"  - {_md(f)}" for f in c.failed_assertions_b]
    return "\n".join(lines) + "\n"


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37}.down{color:#cf222e}.out{white-space:pre-wrap;max-width:28rem}
svg text{font-size:12px;fill:#222}
"""
_COLOR_A, _COLOR_B = "#8c9eb5", "#e07b39"


def render_html(comp: Comparison) -> str:
    """A self-contained page: inline CSS and SVG, no scripts, no external assets."""
    e = html.escape
    title = f"Eval comparison: {_name(comp.a)} vs {_name(comp.b)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>A: <code>{e(comp.a.run_id)}</code> · B: <code>{e(comp.b.run_id)}</code></p>",
        f"<p>{e(_counts_line(comp))}</p>",
        _html_runs(comp),
        "<h2>Metrics</h2>",
        _html_metrics(comp.metrics),
        _svg_chart(comp.metrics, _name(comp.a), _name(comp.b)),
        f"<h2>Regressed cases ({len(comp.regressed)})</h2>",
        _html_cases(comp.regressed),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _cell(text: str, cls: str = "", tag: str = "td") -> str:
    """A table cell holding ``text``, escaped."""
    attr = f' class="{cls}"' if cls else ""
    return f"<{tag}{attr}>{html.escape(text)}</{tag}>"


def _table(head: list[str], rows: Iterable[list[str]]) -> str:
    header = "".join(_cell(h, tag="th") for h in head)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _html_runs(comp: Comparison) -> str:
    a, b = comp.a, comp.b
    rows = [[_cell("label"), _cell(a.label), _cell(b.label)]]
    for key in sorted(a.params.keys() | b.params.keys()):
        rows.append([_cell(key), _cell(a.params.get(key, "")), _cell(b.params.get(key, ""))])
    for key in sorted(a.metrics.keys() | b.metrics.keys()):
        values = [f"{s.metrics[key]:.4g}" if key in s.metrics else "" for s in (a, b)]
        rows.append([_cell(key)] + [_cell(v, "num") for v in values])
    return _table(["", "A", "B"], rows)


def _html_metrics(metrics: list[MetricDelta]) -> str:
    rows = []
    for m in metrics:
        name, *cells = _metric_row(m)
        row = [_cell(name)] + [_cell(v, "num") for v in cells]
        trend = "up" if m.diff > 0 else "down" if m.diff < 0 else ""
        row[3] = _cell(cells[2], f"num {trend}".strip())
        rows.append(row)
    return _table(_HEAD, rows) + f"<p>{html.escape(_NOTE)}</p>"


def _html_cases(cases: list[CaseChange]) -> str:
    if not cases:
        return "<p>None.</p>"
    head = ["Case", "Score A → B", "Pass A → B", "Failing in B", "Output A", "Output B"]
    rows = [
        [
            _cell(c.case_id),
            _cell(f"{_num(c.score_a)} → {_num(c.score_b)}", "num"),
            _cell(f"{'pass' if c.passed_a else 'fail'} → {'pass' if c.passed_b else 'fail'}"),
            "<td>" + "<br>".join(html.escape(f) for f in c.failed_assertions_b) + "</td>",
            _cell(_truncate(c.output_a), "out"),
            _cell(_truncate(c.output_b), "out"),
        ]
        for c in cases
    ]
    return _table(head, rows)


def _svg_chart(metrics: list[MetricDelta], label_a: str, label_b: str) -> str:
    """Grouped horizontal bars, mean A over mean B per metric, on a 0–1 axis. The legend and
    axis use circles and lines, so every ``<rect>`` is a bar."""
    e = html.escape
    left, plot_w, bar_h, gap, top = 200, 420, 12, 10, 50
    height = top + len(metrics) * (2 * bar_h + gap) + 30
    width = left + plot_w + 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="mean per metric, A and B">'
    ]
    for k, (side, label, color) in enumerate((("A", label_a, _COLOR_A), ("B", label_b, _COLOR_B))):
        out.append(f'<circle cx="{left + 6}" cy="{10 + 18 * k}" r="6" fill="{color}"/>')
        out.append(
            f'<text x="{left + 16}" y="{14 + 18 * k}">{side}: {e(_truncate(label, 60))}</text>'
        )
    axis_y = height - 24
    for i in range(5):
        x = left + plot_w * i / 4
        out.append(f'<line x1="{x}" y1="{top - 4}" x2="{x}" y2="{axis_y}" stroke="#ddd"/>')
        out.append(f'<text x="{x}" y="{axis_y + 16}" text-anchor="middle">{i / 4:g}</text>')
    for i, m in enumerate(metrics):
        y = top + i * (2 * bar_h + gap)
        name = e(_truncate(m.name, 28))
        out.append(
            f'<text x="{left - 8}" y="{y + bar_h + 4}" text-anchor="end">{name}'
            f"<title>{e(m.name)}</title></text>"
        )
        for j, (value, color) in enumerate(((m.mean_a, _COLOR_A), (m.mean_b, _COLOR_B))):
            w = plot_w * min(1.0, max(0.0, value))
            by = y + j * bar_h
            out.append(
                f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" fill="{color}">'
                f"<title>{e(m.name)} {'AB'[j]}: {_num(value)}</title></rect>"
            )
            out.append(f'<text x="{left + w + 4:.1f}" y="{by + bar_h - 2}">{_num(value)}</text>')
    out.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#888"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


# -- console ------------------------------------------------------------------------------------


def print_comparison(console: Console, comp: Comparison) -> None:
    """The metrics as a table (diff green when B is better, red when worse), then up to ten
    regressed cases with the assertions they fail in B."""
    sides = [f"{k}: {_name(s)} ({s.run_id})" for k, s in (("A", comp.a), ("B", comp.b))]
    console.print(Text("\n".join([*sides, _counts_line(comp)])))
    table = Table(title="Metrics, B against A", caption=_NOTE)
    for col in _HEAD:
        table.add_column(col, justify="left" if col == "Metric" else "right")
    for m in comp.metrics:
        cells: list[str | Text] = [Text(c) for c in _metric_row(m)]
        style = "green" if m.diff > 0 else "red" if m.diff < 0 else ""
        cells[3] = Text(str(cells[3]), style=f"bold {style}" if m.significant else style)
        table.add_row(*cells)
    console.print(table)
    if not comp.regressed:
        return
    shown = comp.regressed[:CONSOLE_CASES]
    console.print(Text(f"Regressed cases ({len(comp.regressed)}, showing {len(shown)}):", "bold"))
    for c in shown:
        console.print(Text(f"  {_case_line(c)}", style="red"))
        for f in c.failed_assertions_b:
            console.print(Text(f"      ✗ {f}"))
