"""Turn a finished engine's state into records: one JobRecord per job, one Segment per run.

A job's ``cost`` is what the pricing policy charges for every segment it ran, for the
GPUs it held (whole nodes for multi-node jobs), per second (``Pricing.charge``).
A job's ``pods`` lists every pod it ever ran in (segment order); ``allocated_gpus`` is
what its last segment held. Jobs still running at the horizon get a last segment that ends
at the horizon with reason ``horizon`` (``stopped`` when a stop request ended the run).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sim.records import JobRecord, RunRecords, Segment

if TYPE_CHECKING:
    from sim.engine.core import Engine

WITHDRAWN = "withdrawn at its end_by while queued"
# Why a job is unfinished: (at the horizon, when a stop request ended the run).
NOT_SUBMITTED = ("not submitted before the horizon", "not submitted before the run was stopped")
QUEUED = ("queued at the horizon", "queued when the run was stopped")
RUNNING = ("running at the horizon", "running when the run was stopped")
PENDING = ("waiting for quota admission at the horizon", "waiting for quota admission when the run was stopped")
DEFERRED = ("deferred for a cheaper price at the horizon", "deferred for a cheaper price when the run was stopped")


def collect(engine: Engine) -> RunRecords:
    """The records of a run that has ended (at the horizon or with no event left)."""
    jobs, layout = engine.jobs, engine.layout
    pod_names = [pod.name for pod in layout.pods]
    node_pod = layout.node_pod
    label = [
        f"{pod.name}/{node - pod.first_node}"
        for pod in layout.pods
        for node in range(pod.first_node, pod.end_node)
    ]
    raw = list(engine.segments)
    for job, placement in enumerate(engine.placements):
        if placement is not None:
            raw.append(
                (
                    job,
                    engine._segment_start[job],
                    engine.clock.now,
                    placement,
                    "horizon" if engine.stopped_at is None else "stopped",
                    engine._overhead[job],
                )
            )
    pods_of: dict[int, str] = {}
    held: dict[int, int] = {}
    cost = [0.0] * len(jobs)
    rate, charge = _price_functions(engine)
    segments = []
    for job, start, end, placement, reason, overhead in raw:
        if charge is not None:
            cost[job] += charge(jobs.gpu_type[job], jobs.tier[job], placement.gpus, start, end)
        nodes = placement.nodes
        if len(nodes) == 1:
            pods = pod_names[node_pod[nodes[0]]]
        else:
            pods = ";".join(dict.fromkeys(pod_names[node_pod[node]] for node in nodes))
        earlier = pods_of.get(job)
        pods_of[job] = (
            pods if earlier is None else ";".join(dict.fromkeys((*earlier.split(";"), *pods.split(";"))))
        )
        held[job] = placement.gpus
        labels = label[nodes[0]] if len(nodes) == 1 else ";".join(label[node] for node in nodes)
        segments.append(
            Segment(
                jobs.job_id[job],
                start,
                end,
                jobs.gpu_type[job],
                placement.gpus_per_node,
                labels,
                pods,
                reason,
                overhead,
            )
        )
    records = []
    market = engine.market

    def quote(i: int) -> float:
        if rate is None or i >= engine._next_arrival:
            return math.nan
        return rate(jobs.gpu_type[i], jobs.tier[i], jobs.submit[i])

    stopped = int(engine.stopped_at is not None)
    balked = market.balked if market is not None else {}
    deferred = market.deferred if market is not None else {}
    for i in range(len(jobs)):
        start, end = engine.start_time[i], engine.end_time[i]
        if i in engine.rejected:
            status, reason = "rejected", engine.rejected[i]
        elif balked and i in balked:
            status, (end, reason) = "balked", balked[i]
        elif not math.isnan(end):
            status, reason = jobs.outcome[i], ""
        elif i in engine.withdrawn:
            status, reason, end = "cancelled", WITHDRAWN, engine.withdrawn[i]
        elif engine.placements[i] is not None:
            status, reason = "unfinished", RUNNING[stopped]
        elif i in engine._pending:
            status, reason = "unfinished", PENDING[stopped]
        elif deferred and i in deferred:
            status, reason = "unfinished", DEFERRED[stopped]
        elif i < engine._next_arrival:
            status, reason = "unfinished", QUEUED[stopped]
        else:
            status, reason = "unfinished", NOT_SUBMITTED[stopped]
        records.append(
            JobRecord(
                jobs.job_id[i], jobs.tenant[i], jobs.job_class[i], jobs.gpu_type[i], jobs.gpus[i],
                jobs.submit[i], jobs.duration[i], jobs.requested[i], jobs.priority[i], start, end,
                status, reason, engine.preemptions.get(i, 0), pods_of.get(i, ""), held.get(i, 0),
                cost[i], jobs.tier[i], quote(i),
            )
        )  # fmt: skip
    return RunRecords(
        jobs=records,
        timeseries=engine._samples,
        capacity_gpus=layout.capacity,
        capacity_by_type=dict(layout.capacity_by_type),
        capacity_by_pod={pod.name: pod.gpus for pod in layout.pods},
        end_time=engine.clock.now if engine.horizon is not None or stopped else engine.last_event_time,
        horizon=engine.horizon,
        events=engine.events,
        segments=segments,
        extra=_market_extra(engine),
        stopped_at=engine.stopped_at,
    )


def _price_functions(engine: Engine) -> tuple[Any, Any]:
    """(rate, charge) of the run's pricing, or (None, None) without one.

    Prices that never change over the run (``flat``, ``tiered``) are looked up once per
    (GPU type, tier) and a segment's charge is one product, the same number
    ``Pricing.charge`` gives for a single piece: a million segments cost no method calls.
    """
    pricing = engine.pricing
    if pricing is None:
        return None, None
    jobs = engine.jobs
    first = jobs.submit[0] if len(jobs) else 0.0
    if pricing.interval or pricing.next_change(first) != math.inf:
        return pricing.rate, pricing.charge
    rates: dict[tuple[str, str], float] = {}

    def rate(gpu_type: str, tier: str, t: float) -> float:
        value = rates.get((gpu_type, tier))
        if value is None:
            value = rates[gpu_type, tier] = pricing.rate(gpu_type, tier, t)
        return value

    def charge(gpu_type: str, tier: str, gpus: int, start: float, end: float) -> float:
        return rate(gpu_type, tier, start) * (end - start) * gpus / 3600.0

    return rate, charge


def _market_extra(engine: Engine) -> dict[str, float]:
    """Deferral counts for the summary (deferred jobs that were later submitted)."""
    market = engine.market
    if market is None or not market.responds:
        return {}
    waits = list(market.deferrals.values())
    return {"deferred_jobs": len(waits), "deferred_mean_s": sum(waits) / len(waits) if waits else math.nan}
