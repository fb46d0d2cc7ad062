"""What tenants are billed: charges per job, SLA credits per inference service, bills, revenue.

A job's charges are its ``cost`` (the engine bills every segment per second, for the GPUs it
held, at the pricing policy's rates: ``Pricing.charge``). An inference service's charges
are those of its replica jobs (``<service>-r<k>``); when it misses its SLO it is credited
back a share of them (``Billing.credit_share``). Revenue is charges minus credits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import compress, repeat
from typing import Any

import numpy as np

from sim.metrics.columns import Columns, first_appearance, sequential_sum
from sim.metrics.slo import GroupResult
from sim.records import RunRecords
from sim.scenario.market import Billing
from sim.workload.inference import replica_owners

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
    credits: dict[str, tuple[str, float, float, float, float]] = {}
    if not services:
        return credits
    plans = [result.plan for result in services]
    columns = Columns.of_records(records)
    owner = replica_owners(plans, columns.job_values("job_id"))
    cost = np.asarray(columns.job("cost"), dtype=float)
    for g, result in enumerate(services):
        plan = result.plan
        target = float(plan.spec.slo.target)
        mine = np.flatnonzero((owner >= 0) & (owner % len(plans) == g))
        # bincount adds in job order: a service's replicas' costs in the order they were submitted.
        charges = np.bincount(owner[mine] // len(plans), cost[mine], len(plan.names)).tolist()
        attainment = result.totals.attainment
        for s, name in enumerate(plan.names):
            attained = float(attainment[s])
            share = 0.0 if math.isnan(attained) else billing.credit_share(attained, target)
            credits[name] = (plan.tenant[s], charges[s], attained, target, charges[s] * share)
    return credits


def _held_hours(columns: Columns) -> np.ndarray:
    """GPU-hours each job held over all its segments (allocated GPUs x segment length),
    indexed like ``Columns.seg_job`` (job ids without a record after the jobs)."""
    held = columns.seg_gpus() * (columns.seg("end_time") - columns.seg("start_time")) / 3600.0
    return np.bincount(columns.seg_job(), weights=held, minlength=len(columns.jobs))


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
    tenants: list[str] = []
    tiers: dict[str, set[str]] = {}
    ran: list[int] = []
    gpu_hours: list[float] = []
    charges: list[float] = []
    if records.jobs:
        columns = Columns.of_records(records)
        n = len(records.jobs)
        job = columns.seg_job()
        held = np.zeros(n, dtype=bool)
        held[job[job < n]] = True
        codes, tenants = columns.job_codes("tenant")
        tier_codes, tier_labels = columns.job_codes("tier")
        count, kinds = len(tenants), len(tier_labels)
        for pair in np.unique(codes.astype(np.int64) * kinds + tier_codes).tolist():
            tiers.setdefault(tenants[pair // kinds], set()).add(tier_labels[pair % kinds])
        ran = np.bincount(codes[held], minlength=count).tolist()
        gpu_hours = np.bincount(codes[held], weights=_held_hours(columns)[:n][held], minlength=count).tolist()
        charges = np.bincount(codes, weights=columns.job("cost"), minlength=count).tolist()
    number = {tenant: k for k, tenant in enumerate(tenants)}
    credit: dict[str, float] = {}
    for tenant, _, _, _, amount in credits.values():
        credit[tenant] = credit.get(tenant, 0.0) + amount
    rows = []
    for tenant in sorted(set(tiers) | set(credit)):
        k = number.get(tenant)
        charged, credited = (0.0 if k is None else charges[k]), credit.get(tenant, 0.0)
        kwh, energy_eur, co2_kg = energy_by_tenant.get(tenant, (0.0, 0.0, 0.0))
        rows.append(
            (
                tenant,
                ";".join(sorted(tiers.get(tenant, ()))),
                0 if k is None else ran[k],
                0.0 if k is None else gpu_hours[k],
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
    jobs = records.jobs
    by_tier: dict[str, float] = {}
    by_class: dict[str, float] = {}
    charges: float = 0
    if jobs:
        columns = Columns.of_records(records)
        cost = columns.job("cost")
        net = cost
        if credits:
            net = cost.copy()
            ids = columns.job_values("job_id")
            for k in compress(range(len(ids)), map(str.__contains__, ids, repeat("-r"))):
                service = _service_of(ids[k], credits)
                if service is not None and service_charges[service] > 0:
                    job_cost = float(cost[k])
                    net[k] = job_cost - credits[service][4] * job_cost / service_charges[service]
        for key, totals in (("tier", by_tier), ("job_class", by_class)):
            codes, labels = columns.job_codes(key)
            sums = np.bincount(codes, weights=net, minlength=len(labels)).tolist()
            totals.update(zip(labels, sums, strict=True))
        charges = sequential_sum(cost)
    credited = sum(entry[4] for entry in credits.values())
    gpu_hours: float = 0
    if records.segments:
        columns = Columns.of_records(records)
        gpu_hours = sequential_sum(_held_hours(columns)[first_appearance(columns.seg_job())])
    return {
        "total": charges - credited,
        "charges": charges,
        "sla_credits": credited,
        "by_tier": dict(sorted(by_tier.items())),
        "by_class": dict(sorted(by_class.items())),
        "gpu_hours": gpu_hours,
        "mean_price_per_gpu_hour": charges / gpu_hours if gpu_hours > 0 else None,
    }
