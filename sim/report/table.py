"""A short, aligned text table of a run's summary, for the terminal.

``summary_table`` reads the dict from ``sim.metrics.summarize`` (or summary.json loaded
back) and returns text; it never prints. Missing or None values show as ``-``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.records import STATUSES
from sim.units import format_duration

MISSING = "-"


def _number(value: Any, fmt: str) -> str:
    return MISSING if value is None else format(value, fmt)


def _duration(value: Any) -> str:
    return MISSING if value is None else format_duration(float(value))


def _percent(value: Any) -> str:
    return MISSING if value is None else f"{100.0 * value:.1f}%"


def _section(summary: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}


def summary_table(summary: Mapping[str, Any]) -> str:
    """Rows: jobs by status, utilisation %, wait mean/p50/p95/p99 (humanised), bounded
    slowdown mean, throughput (jobs/h), makespan, inference SLO attainment overall and
    per tier when the run has services, revenue (EUR, mean price per GPU-hour), energy
    (kWh, EUR, kg CO2) and balked demand when present; labels left, values aligned after them.
    """
    jobs = _section(summary, "jobs")
    statuses = [*STATUSES, *sorted(key for key in jobs if key not in STATUSES and key != "total")]
    shown = [s for s in statuses if s == "completed" or jobs.get(s, 0)]  # zero counts are noise
    job_cells = [f"{jobs.get('total', 0)} total"] + [f"{jobs.get(s, 0)} {s}" for s in shown]
    utilisation = summary.get("utilisation")
    wait = _section(summary, "wait")
    slowdown = _section(summary, "bounded_slowdown")
    rows = [
        ("jobs", ", ".join(job_cells)),
        ("utilisation", MISSING if utilisation is None else f"{100.0 * utilisation:.1f}%"),
        ("wait", "  ".join(f"{key} {_duration(wait.get(key))}" for key in ("mean", "p50", "p95", "p99"))),
        ("bounded slowdown", f"mean {_number(slowdown.get('mean'), '.3g')}"),
        ("throughput", f"{_number(summary.get('throughput_jobs_per_hour'), '.4g')} jobs/h"),
        ("makespan", _duration(summary.get("makespan"))),
    ]
    inference = _section(summary, "inference")
    if inference:
        tiers = _section(inference, "by_tier")
        per_tier = ", ".join(f"{tier} {_percent(block.get('attainment'))}" for tier, block in tiers.items())
        rows.append(("inference SLO", f"{_percent(inference.get('attainment'))} of requests ({per_tier})"))
    revenue = _section(summary, "revenue")
    if revenue:
        price = _number(revenue.get("mean_price_per_gpu_hour"), ".2f")
        rows.append(("revenue", f"EUR {_number(revenue.get('total'), ',.0f')} ({price} EUR/GPU-h)"))
    energy = _section(summary, "energy")
    if energy:
        cells = f"{_number(energy.get('kwh'), ',.0f')} kWh, EUR {_number(energy.get('eur'), ',.0f')}"
        rows.append(("energy", f"{cells}, {_number(energy.get('co2_kg'), ',.0f')} kg CO2"))
    demand = _section(summary, "demand")
    if demand:
        balked = _number(demand.get("balked_gpu_hours"), ",.0f")
        rows.append(
            ("demand", f"{balked} of {_number(demand.get('potential_gpu_hours'), ',.0f')} GPU-h balked")
        )
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
