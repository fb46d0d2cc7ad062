"""What ``gpusim compare`` writes and prints.

comparison.csv   variant, metric, n, mean, ci_low, ci_high, diff_mean, diff_low, diff_high
                 (95% t-interval over replications; diff = variant - baseline, paired
                 by replication)
comparison.json  the same, with the scenario name, seed, replications, warm-up, the
                 baseline and each variant's overrides
runs.csv         one row per run: variant, replication, seed, then every metric
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.compare.runner import Comparison
from sim.compare.stats import Interval
from sim.report.writer import _csv_text, json_text
from sim.units import format_duration

COLUMNS = ("variant", "metric", "n", "mean", "ci_low", "ci_high", "diff_mean", "diff_low", "diff_high")

# Shown on stdout: (metric, label, kind)
HEADLINE = (
    ("wait_mean", "wait mean", "duration"),
    ("wait_p95", "wait p95", "duration"),
    ("wait_mean_censored", "wait mean, censored", "duration"),
    ("queued_at_end", "queued at end", "count"),
    ("utilisation", "utilisation", "percent"),
    ("bounded_slowdown_mean", "bounded slowdown", "number"),
    ("revenue_eur", "revenue EUR", "number"),
)


def comparison_rows(comparison: Comparison) -> list[tuple[Any, ...]]:
    rows = []
    for variant in comparison.variants:
        for metric in comparison.metrics:
            value = comparison.intervals[variant.label][metric]
            diff = comparison.differences[variant.label][metric]
            rows.append(
                (
                    variant.label,
                    metric,
                    value.n,
                    value.mean,
                    value.low,
                    value.high,
                    diff.mean,
                    diff.low,
                    diff.high,
                )
            )
    return rows


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    metrics: dict[str, dict[str, Any]] = {}
    for label, metric, n, mean, low, high, d_mean, d_low, d_high in comparison_rows(comparison):
        metrics.setdefault(label, {})[metric] = {
            "n": n, "mean": mean, "ci_low": low, "ci_high": high,
            "diff_mean": d_mean, "diff_low": d_low, "diff_high": d_high,
        }  # fmt: skip
    return {
        "scenario": comparison.scenario.name,
        "seed": comparison.scenario.seed,
        "replications": comparison.replications,
        "warmup_s": comparison.warmup,
        "baseline": comparison.variants[0].label,
        "variants": [{"label": v.label, "settings": list(v.settings)} for v in comparison.variants],
        "metrics": metrics,
    }


def runs_rows(comparison: Comparison) -> tuple[list[str], list[tuple[Any, ...]]]:
    header = ["variant", "replication", "seed", *comparison.metrics]
    order = sorted(comparison.cells, key=lambda c: (c.variant, c.replication))
    rows = [
        (
            comparison.variants[c.variant].label,
            c.replication,
            c.seed,
            *(c.metrics.get(m, math.nan) for m in header[3:]),
        )
        for c in order
    ]
    return header, rows


def write_comparison(comparison: Comparison, out: Path) -> None:
    """comparison.csv, comparison.json and runs.csv into ``out`` (which exists)."""
    (out / "comparison.csv").write_text(_csv_text(COLUMNS, comparison_rows(comparison)), encoding="utf-8")
    (out / "comparison.json").write_text(json_text(comparison_json(comparison)), encoding="utf-8")
    header, rows = runs_rows(comparison)
    (out / "runs.csv").write_text(_csv_text(header, rows), encoding="utf-8")


def _show(value: float, kind: str) -> str:
    if not math.isfinite(value):
        return "-"
    if kind == "duration":
        return format_duration(value) if value >= 0 else "-" + format_duration(-value)
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "points":  # a difference of two shares
        return f"{100 * value:.1f} pp"
    if kind == "count":
        return f"{value:.1f}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _cell(interval: Interval, kind: str, signed: bool = False) -> str:
    mean = _show(interval.mean, kind)
    if signed and math.isfinite(interval.mean) and interval.mean >= 0:
        mean = "+" + mean
    if not math.isfinite(interval.half_width):
        return mean
    return f"{mean} ± {_show(interval.half_width, kind)}"


def comparison_table(comparison: Comparison) -> str:
    """Headline metrics per variant: mean ± 95% half-width, and the paired difference to the baseline."""
    baseline = comparison.variants[0].label
    header = ["metric", *(v.label for v in comparison.variants)]
    lines = [header]
    for metric, label, kind in HEADLINE:
        if metric not in comparison.intervals[baseline]:
            continue
        row = [label]
        for index, variant in enumerate(comparison.variants):
            text = _cell(comparison.intervals[variant.label][metric], kind)
            if index > 0:
                diff_kind = "points" if kind == "percent" else kind
                text += f" (Δ {_cell(comparison.differences[variant.label][metric], diff_kind, signed=True)})"
            row.append(text)
        lines.append(row)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )
    note = (
        f"{comparison.replications} replications, 95% t-intervals; Δ = variant - {baseline}, paired by "
        f"replication (common random numbers); warm-up {format_duration(comparison.warmup)}"
    )
    return text + "\n" + note
