"""``summarize``: every headline metric of one run as a JSON-ready dict (summary.json).

Structure (seconds for times; None where a metric is undefined, e.g. no job started)::

    capacity_gpus            int
    jobs                     {completed, failed, rejected, unfinished, total}: int
    utilisation              float in [0, 1]
    utilisation_by_type      {gpu_type: float}
    wait                     {mean, p50, p95, p99, max}      jobs that started
    wait_by_class            {job_class: {mean, p50, p95, p99, max}}
    wait_by_tier             {tier: {...}}; wait_by_gpu_type {gpu_type: {...}} (bound type)
    utilisation_by_class     {job_class: share of the whole cluster's capacity}; also _by_tier
    inference                {services, services_meeting_slo, requests, attainment,
                             unserved_share, by_tier: {tier: {...}}, by_group: {...}} or None
    jct                      {mean, p50, p95}                completed and failed jobs
    bounded_slowdown         {mean, p50, p95}                completed jobs, tau = 10 s
    throughput_jobs_per_hour float
    makespan                 float
    fairness_jain            float in (0, 1]
    unfinished               {count, gpus}: int
    rejected                 {count: int, reasons: {reason: int}}
    preemptions              {count, jobs}: int
    restart_gpu_hours        float: GPU-hours spent on restart overhead
    revenue                  {total, charges, sla_credits, by_tier, by_class, gpu_hours,
                             mean_price_per_gpu_hour} EUR (sim.metrics.billing)
    energy                   {kwh, eur, co2_kg, busy_kwh, idle_kwh, node_kwh, ...} or None
                             without a scenario (sim.metrics.energy)
    demand                   {potential/submitted/balked_gpu_hours, price_ratio,
                             measured_elasticity, balked_jobs, deferred_jobs, by_rule} or
                             None without a demand section (sim.metrics.demand)

The formulas are in the docstrings of ``sim.metrics.waits`` and ``sim.metrics.usage``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, cast

import numpy as np

from sim.cluster.state import ClusterLayout
from sim.metrics.billing import revenue_summary, sla_credits
from sim.metrics.columns import shared
from sim.metrics.demand import demand_summary
from sim.metrics.energy import energy_summary
from sim.metrics.preemption import preemption_stats, restart_gpu_hours
from sim.metrics.slo import GroupResult, evaluate, inference_summary
from sim.metrics.usage import (
    makespan,
    rejected_stats,
    status_counts,
    throughput_jobs_per_hour,
    unfinished_stats,
    utilisation,
    utilisation_by_type,
    utilisation_share_by,
)
from sim.metrics.waits import (
    BSLD_TAU,
    bounded_slowdown_stats,
    fairness_jain,
    jct_stats,
    wait_stats,
    wait_stats_by,
)
from sim.records import RunRecords
from sim.scenario.market import Billing
from sim.scenario.schema import Scenario

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def json_ready(value: Any) -> JsonValue:
    """``value`` with only plain JSON types: NaN and +-inf -> None, numpy scalars and arrays ->
    Python numbers and lists, tuples -> lists, paths -> str, mapping keys -> str.

    Raises TypeError for anything else, so a stray object never reaches a file as its repr.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"json_ready: cannot convert {type(value).__name__} to JSON (got {value!r})")


def summarize(
    records: RunRecords, services: list[GroupResult] | None = None, scenario: Scenario | None = None
) -> dict[str, Any]:
    """Every headline metric of ``records`` as a JSON-ready dict (see the module docstring).

    ``services`` is ``sim.metrics.slo.evaluate(records)`` if the caller already has it.
    ``scenario`` gives the billing terms, energy figures, cluster and demand rules
    (without it: default billing terms, and no energy or demand section).
    """
    with shared(records):
        return _summarize(records, services, scenario)


def _summarize(
    records: RunRecords, services: list[GroupResult] | None, scenario: Scenario | None
) -> dict[str, Any]:
    jobs = records.jobs
    if services is None:
        services = evaluate(records)
    billing = scenario.billing if scenario is not None else Billing()
    credits = sla_credits(records, services, billing)
    energy = None
    if scenario is not None:
        energy = energy_summary(records, scenario.energy, ClusterLayout.from_scenario(scenario.cluster))
    summary = {
        "capacity_gpus": records.capacity_gpus,
        "jobs": status_counts(jobs),
        "utilisation": utilisation(records),
        "utilisation_by_type": utilisation_by_type(records),
        "wait": wait_stats(jobs),
        "wait_by_class": wait_stats_by(jobs, "job_class"),
        "wait_by_tier": wait_stats_by(jobs, "tier"),
        "wait_by_gpu_type": wait_stats_by(jobs, "gpu_type"),
        "utilisation_by_class": utilisation_share_by(records, "job_class"),
        "utilisation_by_tier": utilisation_share_by(records, "tier"),
        "inference": inference_summary(services),
        "jct": jct_stats(jobs),
        "bounded_slowdown": bounded_slowdown_stats(jobs, BSLD_TAU),
        "throughput_jobs_per_hour": throughput_jobs_per_hour(records),
        "makespan": makespan(jobs),
        "fairness_jain": fairness_jain(jobs, BSLD_TAU),
        "unfinished": unfinished_stats(jobs),
        "rejected": rejected_stats(jobs),
        "preemptions": preemption_stats(jobs),
        "restart_gpu_hours": restart_gpu_hours(records.segments),
        "revenue": revenue_summary(records, credits),
        "energy": energy,
        "demand": demand_summary(records, scenario.demand if scenario is not None else None),
    }
    return cast(dict[str, Any], json_ready(summary))
