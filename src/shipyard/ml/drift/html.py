"""A drift report as one self-contained HTML page: the verdict, a row per column and a small
bar chart of reference against current shares. Only the binned shares go in; never a row."""

from __future__ import annotations

from html import escape

from shipyard.ml.drift.compare import Chart, ColumnDrift, DriftReport

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330}
h1{font-size:20px;margin:0 0 4px} .muted{color:#667085}
table{border-collapse:collapse;margin-top:16px}
td,th{padding:6px 10px;border-bottom:1px solid #e4e7ec;text-align:left;vertical-align:middle}
th{font-weight:600;background:#f8f9fb}
.drift{color:#b42318;font-weight:600} .ok{color:#067647} .legend span{display:inline-block;
width:10px;height:10px;margin:0 4px 0 12px} svg{display:block}
"""
REF, CUR = "#98a2b3", "#2e90fa"


def _bars(chart: Chart, width: int = 260, height: int = 54) -> str:
    n = len(chart.labels)
    if not n:
        return ""
    top = max(max(chart.reference, default=0), max(chart.current, default=0)) or 1.0
    slot = width / n
    bar = max(slot / 2 - 1, 1)
    parts = [f'<svg width="{width}" height="{height}" role="img">']
    for i, label in enumerate(chart.labels):
        for j, (share, colour) in enumerate(((chart.reference[i], REF), (chart.current[i], CUR))):
            h = share / top * (height - 2)
            x = i * slot + j * bar
            side = "reference" if j == 0 else "current"
            parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: '
                         f"{side} {share:.1%}</title></rect>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _row(c: ColumnDrift) -> str:
    verdict = ('<span class="drift">drift</span>' if c.drifted
               else '<span class="ok">no drift</span>')  # fmt: skip
    if not c.method:
        verdict = f'<span class="muted">{escape(c.note)}</span>'
    stat = "∞" if c.statistic is None and c.method else (
        f"{c.statistic:.4g}" if c.statistic is not None else "")  # fmt: skip
    shown = f"{c.p_value:.3g}" if c.p_value is not None else stat
    chart = _bars(c.chart) if c.chart else ""
    missing = f"{c.current_missing_share:.1%}"
    return (f"<tr><td>{escape(c.column)}</td><td>{escape(c.kind)}</td>"
            f"<td>{escape(c.label or c.method)}</td><td>{shown}</td><td>{c.threshold:g}</td>"
            f"<td>{verdict}</td><td>{missing}</td><td>{chart}</td></tr>")  # fmt: skip


def render(report: DriftReport, title: str = "Data drift") -> str:
    verdict = "drift" if report.dataset_drift else "no drift"
    css = "drift" if report.dataset_drift else "ok"
    rows = "".join(_row(c) for c in report.columns)
    skipped = "".join(f"<li>{escape(n)}: {escape(why)}</li>" for n, why in report.skipped)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{_STYLE}</style></head><body>
<h1>{escape(title)}: <span class="{css}">{verdict}</span></h1>
<div class="muted">{report.drifted} of {report.tested} columns drifted ({report.share:.0%}; the
table drifts at {report.drift_share:.0%}) · reference {report.reference_rows:,} rows · current
{report.current_rows:,} rows</div>
<div class="legend muted"><span style="background:{REF}"></span>reference
<span style="background:{CUR}"></span>current</div>
<table><thead><tr><th>column</th><th>kind</th><th>method</th><th>p-value / statistic</th>
<th>threshold</th><th>verdict</th><th>missing</th><th>distribution</th></tr></thead>
<tbody>{rows}</tbody></table>
{f"<p>Not compared:</p><ul>{skipped}</ul>" if skipped else ""}
</body></html>
"""
