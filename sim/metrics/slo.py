"""Inference SLO attainment and unserved demand, per service, per tier and over time.

For each service group in ``records.services``: a replica serves from its segment's start
plus the group's ``scale_up_delay`` (cold start) to the segment's end; the requests of
interval k are judged against the replicas ready for the whole interval, by M/M/c
(``sim.metrics.inference.slo_by_interval``); a last interval cut by the horizon is not
judged. The demand is regenerated from the plan,
chunk by chunk, so memory stays bounded.

attainment = attained requests / requests; unserved share = unserved requests / requests;
a service meets its SLO when its attainment >= its group's ``slo.target``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.metrics.columns import Columns, values_of
from sim.metrics.inference import ServiceSummary, summarise_services
from sim.records import RunRecords
from sim.workload.inference import replica_owners

SERVICE_COLUMNS = (
    "service",
    "group",
    "tenant",
    "tier",
    "replica_gpus",
    "mean_rate",
    "requests",
    "attained",
    "unserved",
    "attainment",
    "meets_slo",
    "replica_hours_ready",
    "intervals_overloaded",
)


@dataclass(frozen=True)
class GroupResult:
    """One service group's plan and its per-service / per-interval totals."""

    plan: Any  # sim.workload.inference.ServicePlan
    totals: ServiceSummary


def evaluate(records: RunRecords) -> list[GroupResult]:
    """Per service group, the SLO totals of its services (see the module docstring)."""
    plans = records.services
    if not plans:
        return []
    # Service s of group g as the int s * groups + g, -1 for a segment of no service's replica.
    groups = len(plans)
    segments = records.segments
    found = replica_owners(plans, values_of(segments, "job_id"))
    columns = Columns.of_segments(segments)
    runs = []
    for g, plan in enumerate(plans):
        mine = np.flatnonzero((found >= 0) & (found % groups == g))
        ready = columns.seg("start_time")[mine] + plan.spec.autoscaler.scale_up_delay
        runs.append((found[mine] // groups, ready, columns.seg("end_time")[mine]))
    results = []
    for plan, (service, ready, end) in zip(plans, runs, strict=True):
        judged = plan.judged_intervals
        totals = summarise_services(
            lambda lo, hi, plan=plan, judged=judged: plan.rates(lo, hi)[:, :judged],
            service,
            np.asarray(ready, dtype=float),
            end,
            np.full(len(plan), plan.spec.replica_capacity),
            plan.dt,
            judged,
            plan.spec.slo.latency,
        )
        results.append(GroupResult(plan, totals))
    return results


def service_rows(results: list[GroupResult]) -> list[tuple[Any, ...]]:
    """One row per service, columns ``SERVICE_COLUMNS`` (services.csv)."""
    rows = []
    for result in results:
        plan, totals = result.plan, result.totals
        attainment = totals.attainment
        for s in range(len(plan)):
            rows.append(
                (
                    plan.names[s],
                    plan.spec.name,
                    plan.tenant[s],
                    plan.tier[s],
                    int(plan.gpus[s]),
                    float(plan.base[s]),
                    float(totals.requests[s]),
                    float(totals.attained[s]),
                    float(totals.unserved[s]),
                    float(attainment[s]),
                    bool(attainment[s] >= plan.spec.slo.target),
                    float(totals.replica_seconds_ready[s]) / 3600.0,
                    int(totals.intervals_overloaded[s]),
                )
            )
    return rows


def _block(requests: float, attained: float, unserved: float, services: int, meeting: int) -> dict[str, Any]:
    return {
        "services": services,
        "services_meeting_slo": meeting,
        "requests": requests,
        "attainment": attained / requests if requests > 0 else None,
        "unserved_share": unserved / requests if requests > 0 else None,
    }


def inference_summary(results: list[GroupResult]) -> dict[str, Any] | None:
    """Overall and per-tier request totals, attainment, unserved share; None without services."""
    if not results:
        return None
    rows = service_rows(results)
    index = {name: i for i, name in enumerate(SERVICE_COLUMNS)}

    def block(selected: list[tuple[Any, ...]]) -> dict[str, Any]:
        return _block(
            sum(r[index["requests"]] for r in selected),
            sum(r[index["attained"]] for r in selected),
            sum(r[index["unserved"]] for r in selected),
            len(selected),
            sum(1 for r in selected if r[index["meets_slo"]]),
        )

    tiers = sorted({r[index["tier"]] for r in rows})
    groups = sorted({r[index["group"]] for r in rows})
    return {
        **block(rows),
        "by_tier": {tier: block([r for r in rows if r[index["tier"]] == tier]) for tier in tiers},
        "by_group": {group: block([r for r in rows if r[index["group"]] == group]) for group in groups},
    }


def interval_series(results: list[GroupResult]) -> dict[str, dict[str, np.ndarray]]:
    """Per group: interval start times and the per-interval totals (for plots and reports)."""
    series = {}
    for result in results:
        plan, totals = result.plan, result.totals
        series[plan.spec.name] = {
            "time": np.arange(plan.judged_intervals) * plan.dt,
            "requests": totals.interval_requests,
            "attained": totals.interval_attained,
            "unserved": totals.interval_unserved,
            "ready_replicas": totals.interval_ready,
        }
    return series
