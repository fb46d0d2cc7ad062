"""``report.html`` of a comparison directory: one self-contained file to read or mail around.

Everything is inside the file: the plots as base64 ``data:`` URIs, the CSS inline, no
script, no link to anything outside (a Content-Security-Policy forbids the browser to
load any), so it opens the same offline, from a mail or from an archive. Every text that
comes from a file (labels, settings, the scenario) is escaped with ``html.escape``. The
output depends only on the directory's files: no timestamp, so re-writing it gives the
same bytes.

Sections: the scenario (name, description, seed, replications, warm-up, each variant's
settings, the resolved scenario as YAML), the headline metrics with their intervals and
paired differences, how to read those, then each plot with a caption on how to read it.
"""

from __future__ import annotations

import base64
import math
import struct
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import yaml

from sim.report.compare_plots import CompareDir, plot_comparison
from sim.report.results_files import read_json
from sim.units import format_duration


@dataclass(frozen=True, slots=True)
class Row:
    """A metric of the table: its comparison.json key, what to call it, how to show it,
    and which direction is better (None: neither)."""

    metric: str
    label: str
    kind: str  # duration | percent | count | number
    better: str | None  # "lower" | "higher" | None


ROWS = (
    Row("wait_mean", "mean wait", "duration", "lower"),
    Row("wait_p50", "median wait", "duration", "lower"),
    Row("wait_p95", "p95 wait", "duration", "lower"),
    Row("wait_p99", "p99 wait", "duration", "lower"),
    Row("wait_mean_censored", "mean wait, incl. jobs still queued", "duration", "lower"),
    Row("wait_p95_censored", "p95 wait, incl. jobs still queued", "duration", "lower"),
    Row("queued_at_end", "jobs still queued at the end", "count", "lower"),
    Row("unfinished", "unfinished jobs", "count", "lower"),
    Row("utilisation", "utilisation", "percent", "higher"),
    Row("bounded_slowdown_mean", "mean bounded slowdown", "number", "lower"),
    Row("throughput_jobs_per_hour", "throughput (jobs/h)", "number", "higher"),
    Row("revenue_eur", "revenue (EUR)", "number", "higher"),
    Row("jobs", "jobs in the window", "count", None),
)

# (file, title, how to read it); missing files are left out (the Gantt chart is optional).
PLOTS = (
    (
        "queue_delay_cdf.png",
        "Queue delay CDF",
        "Each line gives, for a wait x (log axis), the share of jobs that waited at most x before "
        "starting, pooled over all replications after the warm-up. Higher and further left is better; "
        "where a line reaches 1 is the longest wait. Dashed lines also count the jobs still queued "
        "at the horizon, with their wait so far: a gap between a solid and a dashed line means "
        "jobs were starved, not served.",
    ),
    (
        "wait_percentiles_by_class.png",
        "Wait percentiles by job class",
        "Median (p50), p95 and p99 wait of each job class, a bar per variant (log axis; waits under "
        "1 s drawn at 1 s). Error bars are 95% confidence intervals over the replications: bars whose "
        "error bars overlap a lot may not differ at all.",
    ),
    (
        "wait_by_tier.png",
        "Mean wait by tenant tier",
        "Mean wait of the jobs of each tenant tier, a bar per variant, with 95% confidence intervals "
        "(cut at 0). A scheduler can help one tier at the expense of another: compare the bars "
        "within a tier.",
    ),
    (
        "queue_over_time.png",
        "Queue over time",
        "Jobs waiting (top) and the GPUs they ask for (bottom) at each sample, replication 0 of each "
        "variant (one sample path, not an average). The grey band is the warm-up, excluded from the "
        "metrics. A queue that keeps growing means the cluster is overloaded under that variant.",
    ),
    (
        "utilisation_heatmap.png",
        "Utilisation per pod",
        "Share of each pod's GPUs allocated over time (yellow = full, dark = idle), one panel per "
        "variant, replication 0. Dark stripes next to a long queue are capacity a scheduler failed "
        "to use (head-of-line blocking, fragmentation, or a GPU type nobody asked for).",
    ),
    (
        "occupancy_gantt.png",
        "Node occupancy (baseline)",
        "Each row is a node, each bar a job's run on it, coloured by job class, as tall as the share "
        "of the node's GPUs it held (the position within the row is illustrative). Gaps are idle "
        "GPUs; bars across several rows at once are multi-node jobs.",
    ),
)

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 1180px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.lead { color: #444; margin-top: 0; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: .8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d5d5d5; padding: .35em .6em; text-align: right; vertical-align: top; }
th { background: #f3f3f5; } td.name, th.name { text-align: left; }
td code, li code { font-size: .92em; }
.diff { display: block; font-size: .86em; color: #555; }
.sig { font-weight: 700; } .better { color: #11703a; } .worse { color: #b3261e; }
.tag { font-size: .78em; font-weight: 600; margin-left: .3em; }
.note { background: #f7f7f9; border-left: 4px solid #8a8fa0; padding: .6em 1em; }
pre { background: #f7f7f9; padding: 1em; overflow-x: auto; font-size: .85em; }
figure { margin: 1.6em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { color: #333; max-width: 60em; } figcaption b { display: block; margin-bottom: .2em; }
"""


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, so the page does not jump while images decode."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _show(value: float, kind: str, *, signed: bool = False) -> str:
    """A number for the table; a percent difference is in percentage points."""
    if not math.isfinite(value):
        return "–"
    sign = "+" if signed and value > 0 else ("−" if value < 0 else "")
    size = abs(value)
    if kind == "duration":
        text = format_duration(size)
    elif kind == "percent":
        text = f"{100 * size:.1f}" + (" pp" if signed else "%")
    elif kind == "count":
        text = f"{size:,.1f}"
    else:
        text = f"{size:,.3g}" if size < 1000 else f"{size:,.0f}"
    return sign + text


def _interval(mean: float, low: float, high: float, kind: str, *, signed: bool = False) -> str:
    text = _show(mean, kind, signed=signed)
    if math.isfinite(low) and math.isfinite(high) and math.isfinite(mean):
        half = _show((high - low) / 2, kind, signed=signed)  # same unit as the mean (pp for a Δ)
        text += " ± " + half.lstrip("+")
    return text


def _entry(data: dict[str, Any], label: str, metric: str) -> dict[str, float]:
    raw = data.get("metrics", {}).get(label, {}).get(metric, {})
    return {key: math.nan if value is None else float(value) for key, value in raw.items()}


def _cell(data: dict[str, Any], label: str, row: Row, baseline: bool, replications: int) -> str:
    """One table cell: mean ± half-width, and (not for the baseline) the paired difference."""
    entry = _entry(data, label, row.metric)
    if not entry:
        return "<td>–</td>"
    mean = entry.get("mean", math.nan)
    text = escape(_interval(mean, entry.get("ci_low", math.nan), entry.get("ci_high", math.nan), row.kind))
    n = int(entry.get("n", replications))
    if n < replications:  # some replications had no value (e.g. no job of the window started)
        text += f' <span class="tag">n={n}</span>'
    if baseline:
        return f"<td>{text}</td>"
    d_mean, d_low, d_high = (entry.get(k, math.nan) for k in ("diff_mean", "diff_low", "diff_high"))
    diff = escape(_interval(d_mean, d_low, d_high, row.kind, signed=True))
    classes, tag = ["diff"], ""
    if math.isfinite(d_low) and math.isfinite(d_high) and (d_low > 0 or d_high < 0):
        classes.append("sig")
        if row.better is not None:
            good = (d_high < 0) == (row.better == "lower")
            classes.append("better" if good else "worse")
            tag = f'<span class="tag">{"better" if good else "worse"}</span>'
    return f'<td>{text}<span class="{" ".join(classes)}">Δ {diff}{tag}</span></td>'


def _metrics_table(data: dict[str, Any], labels: list[str], rows: list[Row], replications: int) -> str:
    head = "".join(
        f"<th>{escape(label)}{' (baseline)' if i == 0 else ''}</th>" for i, label in enumerate(labels)
    )
    body = []
    for row in rows:
        if not any(_entry(data, label, row.metric) for label in labels):
            continue
        cells = "".join(_cell(data, label, row, i == 0, replications) for i, label in enumerate(labels))
        body.append(
            f'<tr><td class="name">{escape(row.label)}<br><code>{escape(row.metric)}</code></td>{cells}</tr>'
        )
    return (
        f'<table class="metrics"><thead><tr><th class="name">metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _other_rows(data: dict[str, Any]) -> list[Row]:
    """Every metric of comparison.json the headline table leaves out (per class, per tier)."""
    known = {row.metric for row in ROWS}
    names = sorted({m for block in data.get("metrics", {}).values() for m in block} - known)
    return [Row(m, m, "duration" if m.startswith("wait_") else "number", None) for m in names]


def _scenario_section(cmp: CompareDir) -> str:
    data, manifest_path = cmp.data, cmp.run_dir(cmp.variants[0]) / "manifest.json"
    scenario = read_json(manifest_path).get("scenario", {}) if manifest_path.is_file() else {}
    warmup = cmp.warmup
    facts = [
        ("scenario", str(data.get("scenario", scenario.get("name", "")))),
        ("seed", f"{data.get('seed')} (replication 0; the others use seeds spawned from it)"),
        ("replications", str(cmp.replications)),
        ("warm-up", f"{format_duration(warmup)} ({warmup:g} s): jobs submitted earlier are not counted"),
        ("baseline", str(data.get("baseline", cmp.variants[0].label))),
    ]
    if scenario.get("horizon") is not None:
        facts.insert(4, ("horizon", format_duration(float(scenario["horizon"]))))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    variants = "".join(
        f'<tr><td class="name">{escape(v.label)}</td><td class="name">'
        f"{', '.join(f'<code>{escape(s)}</code>' for s in v.settings) or 'the scenario as is'}</td></tr>"
        for v in cmp.variants
    )
    resolved = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return (
        '<section id="scenario"><h2>Scenario</h2>'
        f'<dl class="facts">{items}</dl>'
        '<table class="variants"><thead><tr><th class="name">variant</th>'
        '<th class="name">settings (overrides of the scenario)</th></tr></thead>'
        f"<tbody>{variants}</tbody></table>"
        "<details><summary>Resolved scenario (YAML, as the baseline's replication 0 ran it)</summary>"
        f"<pre>{escape(resolved)}</pre></details></section>"
    )


def _note(cmp: CompareDir) -> str:
    baseline = escape(cmp.variants[0].label)
    return (
        '<div class="note"><p><b>Reading the intervals.</b> Each cell is the mean over '
        f"{cmp.replications} replications ± the half-width of its 95% t-interval. "
        f"Δ is the paired difference to {baseline}: in each replication every variant ran the same "
        "workload (same seed), so the difference is taken replication by replication, and its "
        "interval is usually much narrower than the two intervals apart. "
        "<b>Bold</b> marks a Δ whose interval excludes 0: a difference unlikely to be chance, marked "
        "<span class='better'>better</span> or <span class='worse'>worse</span> where the metric has a "
        "direction. An interval that includes 0 means these replications cannot tell the variants "
        "apart; run more replications to narrow it. With one replication there is no interval.</p>"
        "<p>Waits count jobs submitted after the warm-up that started; the rows “incl. jobs still queued” "
        "also count jobs still waiting at the end, their wait cut there (a lower bound). "
        "The intervals of a wait can reach below 0: the t-interval is symmetric, waits are not. "
        "All numbers are also in comparison.csv, per run in runs.csv.</p></div>"
    )


def _figures(plots: Path) -> str:
    parts = []
    for name, title, caption in PLOTS:
        path = plots / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        width, height = _png_size(data)
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(
            f'<figure id="{escape(name.removesuffix(".png"))}"><img src="{uri}" alt="{escape(title)}" '
            f'width="{width}" height="{height}"><figcaption><b>{escape(title)}</b>{escape(caption)}'
            "</figcaption></figure>"
        )
    if not (plots / "occupancy_gantt.png").is_file():
        parts.append(
            "<p>No node occupancy chart: the run has too many nodes or segments for one to be readable.</p>"
        )
    return "".join(parts)


def write_report(compare_dir: Path) -> Path:
    """Write ``compare_dir/report.html`` (module docstring) and return its path.

    Draws the plots first if ``compare_dir/plots`` lacks any of the ones always drawn.
    """
    cmp = CompareDir.read(Path(compare_dir))
    plots = cmp.path / "plots"
    if any(not (plots / name).is_file() for name, _, _ in PLOTS if name != "occupancy_gantt.png"):
        plot_comparison(cmp.path)
    labels = [v.label for v in cmp.variants]
    name = str(cmp.data.get("scenario", ""))
    manifest = cmp.run_dir(cmp.variants[0]) / "manifest.json"
    description = (
        str(read_json(manifest).get("scenario", {}).get("description") or "") if manifest.is_file() else ""
    )
    title = f"gpusim comparison: {name}"
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f'<title>{escape(title)}</title><link rel="icon" href="data:,"><style>{CSS}</style></head>\n<body>'
        f"<h1>{escape(title)}</h1>"
        f'<p class="lead">{escape(description) or "Schedulers and settings side by side."} '
        f"{len(labels)} variants × {cmp.replications} replications, on the same workloads.</p>"
        + _scenario_section(cmp)
        + '<section id="results"><h2>Headline metrics</h2>'
        + _metrics_table(cmp.data, labels, list(ROWS), cmp.replications)
        + _note(cmp)
        + "<details><summary>Per job class and tier</summary>"
        + _metrics_table(cmp.data, labels, _other_rows(cmp.data), cmp.replications)
        + "</details></section>"
        + '<section id="plots"><h2>Plots</h2>'
        + _figures(plots)
        + "</section></body></html>\n"
    )
    out = cmp.path / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
