"""What tenants are billed: charges per job, SLA credits per inference service, bills, revenue.

A job's charges are its ``cost`` (the engine bills every segment per second, for the GPUs it
held, at the pricing policy's rates: ``Pricing.charge``). An inference service's charges
are those of its replica jobs (``<service>-r<k>``); when it misses its SLO it is credited
back a share of them (``Billing.credit_share``). Revenue is charges minus credits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.metrics.slo import GroupResult
from sim.records import RunRecords
from sim.scenario.market import Billing

BILL_COLUMNS = (
    "tenant",
    "tier",
    "jobs",
    "gpu_hours",
    "charges_eur",
    "sla_credit_eur",
    "total_eur",
    "kwh",
    "energy_eur",
    "co2_kg",
)

# service -> (tenant, charges, attainment, target, credit_eur)
Credits = Mapping[str, tuple[str, float, float, float, float]]


def sla_credits(
    records: RunRecords, services: list[GroupResult], billing: Billing
) -> dict[str, tuple[str, float, float, float, float]]:
    """Per inference service: (tenant, charges, attainment, target, credit_eur).

        charges = sum of ``cost`` over the service's replica jobs
        credit  = charges x Billing.credit_share(attainment, target)

    ``target`` is the group's ``slo.target``; ``credit_share`` is 0 when attainment >=
    target, else the largest share whose shortfall threshold the miss exceeds. A service
    with no requests (attainment NaN) has nothing to miss and gets no credit. Services in
    group order, then service order.
    """
    cost = {job.job_id: job.cost for job in records.jobs}
    credits: dict[str, tuple[str, float, float, float, float]] = {}
    for result in services:
        plan = result.plan
        target = float(plan.spec.slo.target)
        charges = [0.0] * len(plan.names)
        for job_id, service in plan.replica_service.items():
            charges[service] += cost.get(job_id, 0.0)
        attainment = result.totals.attainment
        for s, name in enumerate(plan.names):
            attained = float(attainment[s])
            share = 0.0 if math.isnan(attained) else billing.credit_share(attained, target)
            credits[name] = (plan.tenant[s], charges[s], attained, target, charges[s] * share)
    return credits


def _held_hours(records: RunRecords) -> dict[str, float]:
    """GPU-hours each job held over all its segments (allocated GPUs x segment length)."""
    hours: dict[str, float] = {}
    for segment in records.segments:
        held = segment.gpus * (segment.end_time - segment.start_time) / 3600.0
        hours[segment.job_id] = hours.get(segment.job_id, 0.0) + held
    return hours


def bill_rows(
    records: RunRecords,
    credits: Credits,
    energy_by_tenant: Mapping[str, tuple[float, float, float]],
) -> list[tuple[Any, ...]]:
    """One bill per tenant, sorted by tenant, columns ``BILL_COLUMNS``.

    ``tier``: the tenant's tiers, sorted and joined by ``;``. ``jobs``: its jobs that ran
    (at least one segment). ``gpu_hours`` = sum over its segments of allocated GPUs x
    (end - start) / 3600. ``charges_eur`` = sum of its jobs' ``cost``; ``sla_credit_eur`` =
    sum of its services' credits; ``total_eur = charges_eur - sla_credit_eur``. ``kwh``,
    ``energy_eur``, ``co2_kg``: its attributed energy (``sim.metrics.energy.energy_by_tenant``;
    0 if absent). Every tenant with a job record has a row, billed or not.
    """
    hours = _held_hours(records)
    tiers: dict[str, set[str]] = {}
    ran: dict[str, int] = {}
    gpu_hours: dict[str, float] = {}
    charges: dict[str, float] = {}
    for job in records.jobs:
        tenant = job.tenant
        tiers.setdefault(tenant, set()).add(job.tier)
        charges[tenant] = charges.get(tenant, 0.0) + job.cost
        held = hours.get(job.job_id)
        if held is not None:
            ran[tenant] = ran.get(tenant, 0) + 1
            gpu_hours[tenant] = gpu_hours.get(tenant, 0.0) + held
    credit: dict[str, float] = {}
    for tenant, _, _, _, amount in credits.values():
        credit[tenant] = credit.get(tenant, 0.0) + amount
    rows = []
    for tenant in sorted(set(tiers) | set(credit)):
        charged, credited = charges.get(tenant, 0.0), credit.get(tenant, 0.0)
        kwh, energy_eur, co2_kg = energy_by_tenant.get(tenant, (0.0, 0.0, 0.0))
        rows.append(
            (
                tenant,
                ";".join(sorted(tiers.get(tenant, ()))),
                ran.get(tenant, 0),
                gpu_hours.get(tenant, 0.0),
                charged,
                credited,
                charged - credited,
                kwh,
                energy_eur,
                co2_kg,
            )
        )
    return rows


def _service_of(job_id: str, credits: Credits) -> str | None:
    """The service a replica job ``<service>-r<k>`` belongs to, if it is one of ``credits``."""
    service, mark, number = job_id.rpartition("-r")
    return service if mark and number.isdigit() and service in credits else None


def revenue_summary(records: RunRecords, credits: Credits) -> dict[str, Any]:
    """Revenue = charges - SLA credits, overall, per tier and per job class.

        charges     = sum of ``cost`` over all jobs
        sla_credits = sum of the services' credits
        total       = charges - sla_credits
        by_tier[x]  = charges of tier-x jobs - credits attributed to them (likewise by_class)
        gpu_hours   = sum over segments of allocated GPUs x (end - start) / 3600 (all billed)
        mean_price_per_gpu_hour = charges / gpu_hours (None without GPU-hours)

    A service's credit is attributed to its replica jobs in proportion to their cost, so
    ``by_tier`` and ``by_class`` each add up to ``total`` (up to rounding).
    """
    service_charges = {name: entry[1] for name, entry in credits.items()}
    by_tier: dict[str, float] = {}
    by_class: dict[str, float] = {}
    for job in records.jobs:
        net = job.cost
        service = _service_of(job.job_id, credits)
        if service is not None and service_charges[service] > 0:
            net -= credits[service][4] * job.cost / service_charges[service]
        by_tier[job.tier] = by_tier.get(job.tier, 0.0) + net
        by_class[job.job_class] = by_class.get(job.job_class, 0.0) + net
    charges = sum(job.cost for job in records.jobs)
    credited = sum(entry[4] for entry in credits.values())
    gpu_hours = sum(_held_hours(records).values())
    return {
        "total": charges - credited,
        "charges": charges,
        "sla_credits": credited,
        "by_tier": dict(sorted(by_tier.items())),
        "by_class": dict(sorted(by_class.items())),
        "gpu_hours": gpu_hours,
        "mean_price_per_gpu_hour": charges / gpu_hours if gpu_hours > 0 else None,
    }
