"""Turn a finished engine's state into records: one JobRecord per job, one Segment per run.

A job's ``cost`` is what the pricing policy charges for every segment it ran, for the
GPUs it held (whole nodes for multi-node jobs), per second (``Pricing.charge``).
A job's ``pods`` lists every pod it ever ran in (segment order); ``allocated_gpus`` is
what its last segment held. Jobs still running at the horizon get a last segment that ends
at the horizon with reason ``horizon`` (``stopped`` when a stop request ended the run).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.cluster.state import Placement
from sim.engine.feeding import take_window
from sim.engine.spilling import sealed_records
from sim.records import JobRecords, RunRecords, Segment, SegmentRows
from sim.workload.jobs import compact, filled, floats

if TYPE_CHECKING:
    from sim.engine.core import Engine

WITHDRAWN = "withdrawn at its end_by while queued"
SEGMENT_TIMES = (Segment._fields.index("start_time"), Segment._fields.index("end_time"))
# Why a job is unfinished: (at the horizon, when a stop request ended the run).
NOT_SUBMITTED = ("not submitted before the horizon", "not submitted before the run was stopped")
QUEUED = ("queued at the horizon", "queued when the run was stopped")
RUNNING = ("running at the horizon", "running when the run was stopped")
PENDING = (
    "waiting for quota admission at the horizon",
    "waiting for quota admission when the run was stopped",
)
DEFERRED = (
    "deferred for a cheaper price at the horizon",
    "deferred for a cheaper price when the run was stopped",
)


def collect(engine: Engine) -> RunRecords:
    """The records of a run that has ended (at the horizon, on a stop request or with no event left).

    Jobs dropped during the run (``dropping``) left their record columns in the spool
    (``spilling``; the records are then read back from it, memory-mapped) or in
    ``engine.finished``, with their workload rows; the records of all jobs are put back in
    workload order (as if none had been dropped). Built column by column: the per-job rules
    below run only for jobs that did not end (few), and the records are made from zipped
    columns (a million jobs: no Python call each). An engine runs once: its per-job working
    state is released first, and each column is replaced by its compact form as it goes, so
    the records are built in the memory the run held (a year of the Munich scenario: ~1 GB less at the peak).
    """
    while take_window(engine):  # jobs never fed (after the horizon, or a stop): rows too
        pass
    layout = engine.layout
    stopped = int(engine.stopped_at is not None)
    log = engine.segment_log
    end_reason = "stopped" if stopped else "horizon"
    for job, placement in enumerate(engine.placements):  # still running: a last segment to the end
        if placement is not None:
            start = engine._segment_start[job]
            log.record(job, start, engine.clock.now, placement, end_reason, engine._overhead[job])
    for working in (
        engine.work_left, engine.estimate_left, engine._running_key, engine._slowdown,
        engine._segment_start, engine._overhead,
    ):  # fmt: skip
        del working[:]  # (a list or an array)
    last = job_columns(engine, None, stopped)
    spooled = sealed_records(engine, last)
    if spooled is not None:
        jobs, segments = spooled
    else:
        jobs, segments = _records_in_memory(engine, last)
    return RunRecords(
        jobs=jobs,
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


def _records_in_memory(engine: Engine, last: Sequence[Sequence[Any]]) -> tuple[JobRecords, SegmentRows]:
    """The records kept in memory: the segment log, and the table's jobs' ``last`` with
    those of dropped jobs (``engine.finished``) put back in workload order."""
    log = engine.segment_log
    columns = list(log.columns)
    log.columns = ()
    for k in SEGMENT_TIMES:  # each list goes as its array comes (the other fields hold shared objects)
        columns[k] = compact(columns[k])
    segments = SegmentRows(columns)
    chunks, engine.finished = engine.finished, []
    if chunks:  # jobs dropped during the run: every row back to its place in the workload
        order = np.argsort(np.concatenate([*(rows for rows, _ in chunks), engine.rows]), kind="stable")
        pieces = [list(columns) for _, columns in chunks] + [list(last)]
        del chunks, last
        joined = []
        for k in range(len(pieces[0])):  # each field's pieces released as its column is made
            parts = [piece[k] for piece in pieces]
            for piece in pieces:
                piece[k] = None
            joined.append(compact(_permuted(parts, order)))
        jobs = JobRecords(joined)
    else:
        jobs = JobRecords([compact(column) for column in last])
    return jobs, segments


def job_columns(
    engine: Engine, picked: list[int] | None = None, stopped: int = 0
) -> tuple[Sequence[Any], ...]:
    """The ``JobRecord`` columns of the table's jobs ``picked`` (ascending; None: every job),
    in field order.

    ``collect`` asks for every job at the end; ``dropping`` for jobs that have all ended (so
    none is unfinished). Float columns are ``compact`` where they can be.
    """
    jobs = engine.jobs
    whole = picked is None
    n = len(jobs) if picked is None else len(picked)

    def pick(column: Sequence[Any]) -> Sequence[Any]:
        if picked is None:
            return column
        if isinstance(column, array):
            return floats(np.frombuffer(column)[picked])
        return [column[i] for i in picked]

    status, reason = list(pick(jobs.outcome)), [""] * n
    end = pick(engine.end_time)
    market = engine.market
    balked = market.balked if market is not None else {}
    deferred = market.deferred if market is not None else {}
    number = range(n) if picked is None else picked  # the job number of each row here
    for i in [i for i, t in enumerate(end) if t != t]:  # NaN: did not end
        job = number[i]
        if job in engine.rejected:
            status[i], reason[i] = "rejected", engine.rejected[job]
        elif balked and job in balked:
            status[i], (end[i], reason[i]) = "balked", balked[job]
        elif job in engine.withdrawn:
            status[i], reason[i], end[i] = "cancelled", WITHDRAWN, engine.withdrawn[job]
        else:
            status[i] = "unfinished"
            if engine.placements[job] is not None:
                reason[i] = RUNNING[stopped]
            elif job in engine._pending:
                reason[i] = PENDING[stopped]
            elif deferred and job in deferred:
                reason[i] = DEFERRED[stopped]
            elif job < engine._next_arrival:
                reason[i] = QUEUED[stopped]
            else:
                reason[i] = NOT_SUBMITTED[stopped]
    log = engine.segment_log
    if whole:  # the engine's own columns go as their compact forms come
        engine.start_time = start_time = compact(engine.start_time)
        engine.end_time = end = compact(end)
        log.cost = cost = compact(log.cost)
    else:
        start_time, end, cost = compact(pick(engine.start_time)), compact(end), compact(pick(log.cost))
    rate = log.rate
    arrived = engine._next_arrival
    if rate is None:
        price: Sequence[float] = [math.nan] * n  # one shared NaN: nothing to compact
    else:
        price = compact([
            rate(t, tier, at) if job < arrived else math.nan
            for job, t, tier, at in zip(
                number, pick(jobs.gpu_type), pick(jobs.tier), pick(jobs.submit), strict=True
            )
        ])  # fmt: skip
    preempted = engine.preemptions
    preemptions = [preempted.get(job, 0) for job in number] if preempted else [0] * n
    return (
        pick(jobs.job_id), pick(jobs.tenant), pick(jobs.job_class), pick(jobs.gpu_type), pick(jobs.gpus),
        compact(pick(jobs.submit)), compact(pick(jobs.duration)), compact(pick(jobs.requested)),
        pick(jobs.priority), start_time, end, status, reason, preemptions, pick(log.pods_of), pick(log.held),
        cost, pick(jobs.tier), price,
    )  # fmt: skip


def _permuted(parts: list[Sequence[Any]], order: np.ndarray) -> Sequence[Any]:
    """One column from its parts joined and put in ``order``: an ``array("d")`` if every part
    is one, else a list (each part is released as it is read)."""
    if all(isinstance(part, array) for part in parts):
        return floats(np.concatenate([np.frombuffer(part) for part in parts])[order])
    values = np.concatenate([np.fromiter(part, object, len(part)) for part in parts])
    del parts[:]
    return values[order].tolist()


class SegmentLog:
    """Segments recorded as they end, with what each job's record needs of them.

    ``record`` appends the final ``Segment`` fields at once (node labels and pod names looked
    up per node) to one list per field, so a run keeps no placement of a finished job; per
    job it keeps the pods it ran in (segment order, each once), the GPUs its last segment
    held and its cost so far.
    """

    def __init__(self, engine: Engine) -> None:
        jobs, layout = engine.jobs, engine.layout
        n = len(jobs)
        self._jobs = jobs
        self._pod_of_node = [layout.pods[pod].name for pod in layout.node_pod]
        self._label = [
            f"{pod.name}/{node - pod.first_node}"
            for pod in layout.pods
            for node in range(pod.first_node, pod.end_node)
        ]
        self.rate, self._charge = _price_functions(engine)  # the rate also prices jobs.csv's quotes
        self.columns = self.empty_columns()  # Segment fields as columns (SegmentRows at the end)
        self.pods_of = [""] * n
        self.held = [0] * n
        self.cost = filled(0.0, n, jobs.submit)

    def empty_columns(self) -> tuple[Any, ...]:
        """One list per Segment field (no tuple per segment); the times as arrays of floats
        if the table's are (no float object each)."""
        columns: list[Any] = [[] for _ in Segment._fields]
        for k in SEGMENT_TIMES:
            columns[k] = filled(0.0, 0, self._jobs.submit)
        return tuple(columns)

    def record(
        self, job: int, start: float, end: float, placement: Placement, reason: str, overhead: float
    ) -> None:
        nodes, jobs = placement.nodes, self._jobs
        if len(nodes) == 1:
            pods, labels = self._pod_of_node[nodes[0]], self._label[nodes[0]]
        else:  # itemgetter: one C call per lookup list (jobs here may hold hundreds of nodes)
            names = itemgetter(*nodes)(self._pod_of_node)
            pod = names[0]
            pods = pod if names.count(pod) == len(names) else ";".join(dict.fromkeys(names))
            labels = ";".join(itemgetter(*nodes)(self._label))
        earlier = self.pods_of[job]
        if not earlier:
            self.pods_of[job] = pods
        elif earlier != pods:
            self.pods_of[job] = ";".join(dict.fromkeys((*earlier.split(";"), *pods.split(";"))))
        gpu_type, gpus = jobs.gpu_type[job], placement.gpus
        self.held[job] = gpus
        if self._charge is not None:
            self.cost[job] += self._charge(gpu_type, jobs.tier[job], gpus, start, end)
        columns = self.columns  # Segment fields, in order
        columns[0].append(jobs.job_id[job])
        columns[1].append(start)
        columns[2].append(end)
        columns[3].append(gpu_type)
        columns[4].append(placement.gpus_per_node)
        columns[5].append(labels)
        columns[6].append(pods)
        columns[7].append(reason)
        columns[8].append(overhead)


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
    waits = market.deferrals
    return {"deferred_jobs": len(waits), "deferred_mean_s": sum(waits) / len(waits) if waits else math.nan}
