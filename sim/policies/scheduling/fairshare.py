"""``fairshare``: tenants ordered by decayed dominant-resource usage, with EASY backfilling.

Also holds ``UsageTracker``, the decayed per-tenant GPU usage that ``priority`` reuses for
its fair-share factor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter

from sim.policies import SCHEDULERS
from sim.policies.base import Renumbering, Scheduler, SchedulingContext
from sim.policies.scheduling.backfill import check_duration, start_then_backfill
from sim.workload.jobs import JobTable

WEEK = 7 * 86400.0


class UsageTracker:
    """Exponentially decayed GPU-seconds per (tenant, GPU type), and per GPU type over all tenants.

    Usage at time T is ``sum over held GPUs of integral 2^(-(T - t) / half_life) dt`` over
    the instants t they were held (allocated GPUs: whole nodes for multi-node jobs). It is
    kept exactly, not sampled: each (tenant, type) stores its value at a stamp and the GPUs
    it holds since; between changes the value follows the closed form
    ``v * 2^(-dt/h) + held * (h / ln 2) * (1 - 2^(-dt/h))``, so passes can be far apart
    without error. A tenant holding all ``C`` GPUs of a type forever tends to
    ``C * h / ln 2`` GPU-seconds.

    Feeding it: call ``observe(ctx)`` at the start of a pass and ``after_pass(ctx, started)``
    at its end. Starts are exact (jobs start only in passes). A job that left
    ``ctx.running`` since the previous pass ended at an instant the tracker did not see:

    * if the queue was non-empty after the previous pass, every completion since then
      triggered a pass, so the job ended exactly now (exact);
    * otherwise (the queue was empty, so completions ran no pass) it ended somewhere in
      ``(previous pass, now]``; it is charged until its estimated end
      ``start + requested_time`` clipped to that interval: exact with exact estimates,
      otherwise off by at most the gap between the passes, during which nobody waited.

    The tracker never reads true durations. It assumes jobs leave ``running`` only by
    ending (a preempted job would be charged as if it ended).
    """

    def __init__(self, half_life: float) -> None:
        self.half_life = half_life
        self._decay = math.log(2) / half_life  # per second
        # key -> [decayed GPU-seconds at stamp, stamp, GPUs held since the stamp]
        self._by_tenant: dict[str, dict[str, list[float]]] = {}
        self._by_type: dict[str, list[float]] = {}
        # job -> tenant, type, GPUs, start, requested time (so an ended job needs no table row)
        self._held: dict[int, tuple[str, str, int, float, float]] = {}
        self._last_pass = -math.inf
        self._queue_was_empty = True

    # --- feeding -------------------------------------------------------------------------

    def observe(self, ctx: SchedulingContext) -> None:
        """Charge the jobs that left ``ctx.running`` since the previous pass (see the class doc)."""
        held = self._held
        if len(ctx.running) == len(held):
            return  # nothing started outside a pass, so nothing ended
        now = ctx.now
        ends = []
        for job in held.keys() - set(map(itemgetter(2), ctx.running)):
            start, requested = held[job][3:]
            if self._queue_was_empty:
                estimate = start + requested
                end = min(max(estimate, self._last_pass), now)
            else:
                end = now
            ends.append((end, job))
        ends.sort()  # by time (then job number): the lazy updates below must go forward in time
        for end, job in ends:
            tenant, gpu_type, gpus, _, _ = held.pop(job)
            self._change(tenant, gpu_type, end, -gpus)

    def after_pass(self, ctx: SchedulingContext, started: Iterable[int]) -> None:
        """Record the jobs started in this pass (they hold their allocated GPUs from now)."""
        now, jobs = ctx.now, ctx.jobs
        for job in started:
            gpus = ctx.placement_of(job).gpus
            tenant, gpu_type = jobs.tenant[job], jobs.gpu_type[job]
            self._held[job] = (tenant, gpu_type, gpus, now, jobs.requested[job])
            self._change(tenant, gpu_type, now, gpus)
        self._last_pass = now
        self._queue_was_empty = not ctx.queue

    def jobs_dropped(self, renumber: Renumbering) -> None:
        """Renumber the held jobs. A dropped job still held ended since the last pass and is
        charged at the next: it stays, numbered below 0 (never a running job's number). Its
        place among jobs ending at the same instant does not matter: those charges commute."""
        held, gone = {}, -1
        for job, entry in self._held.items():
            new = renumber[job] if job >= 0 else -1
            if new < 0:
                new, gone = gone, gone - 1
            held[new] = entry
        self._held = held

    def _change(self, tenant: str, gpu_type: str, time: float, gpus: int) -> None:
        by_type = self._by_tenant.setdefault(tenant, {})
        for entry in (
            by_type.setdefault(gpu_type, [0.0, time, 0.0]),
            self._by_type.setdefault(gpu_type, [0.0, time, 0.0]),
        ):
            entry[0] = self._value(entry, time)
            entry[1] = time
            entry[2] += gpus

    def _value(self, entry: list[float], time: float) -> float:
        value, stamp, held = entry
        elapsed = time - stamp
        if elapsed <= 0:
            return value
        rate = self._decay
        return value * math.exp(-rate * elapsed) - held * math.expm1(-rate * elapsed) / rate

    # --- reading -------------------------------------------------------------------------

    def usage(self, tenant: str, gpu_type: str, now: float) -> float:
        """Decayed GPU-seconds of ``tenant`` on ``gpu_type`` at ``now`` (running jobs included)."""
        entry = self._by_tenant.get(tenant, {}).get(gpu_type)
        return 0.0 if entry is None else self._value(entry, now)

    def total(self, gpu_type: str, now: float) -> float:
        """Decayed GPU-seconds of all tenants on ``gpu_type`` at ``now``."""
        entry = self._by_type.get(gpu_type)
        return 0.0 if entry is None else self._value(entry, now)

    def dominant_share(self, tenant: str, now: float, capacity_by_type: dict[str, int]) -> float:
        """max over GPU types of usage / (capacity * half_life / ln 2), in [0, 1] (1: a whole type always)."""
        share = 0.0
        for gpu_type, entry in self._by_tenant.get(tenant, {}).items():
            share = max(share, self._value(entry, now) * self._decay / capacity_by_type[gpu_type])
        return share

    def usage_share(self, tenant: str, now: float) -> float:
        """max over GPU types of the tenant's fraction of all tenants' usage of that type (0 if none)."""
        share = 0.0
        for gpu_type, entry in self._by_tenant.get(tenant, {}).items():
            total = self.total(gpu_type, now)
            if total > 0:
                share = max(share, self._value(entry, now) / total)
        return share


@SCHEDULERS.register("fairshare")
class Fairshare(Scheduler):
    """Fair share: tenants with the least decayed dominant-resource usage go first; EASY backfilling.

    Algorithm: a ``UsageTracker`` keeps each tenant's GPU-seconds per GPU type, allocated
    GPUs (whole nodes for multi-node jobs), decayed with half-life ``half_life``: usage
    from ``half_life`` ago counts half. A tenant's dominant share is the largest, over GPU
    types, of ``usage / (capacity of the type * half_life / ln 2)`` (Dominant Resource
    Fairness over GPU types; 1 would be holding the whole type forever). Each pass orders
    the queue by its owner's dominant share at ``now``, lowest first, starts jobs in that
    order while they fit, and EASY-backfills the rest against the first blocked job, as
    ``sjf`` does. Running jobs accrue usage continuously, so the order shifts as they run;
    within one pass it is fixed (jobs started now have accrued nothing yet).

    Usage accounting: exact at every pass (closed form between passes), with one
    approximation, documented on ``UsageTracker``: a job that ended while the queue was
    empty (no pass ran then) is charged until its estimated end clipped to the gap between
    passes; exact with exact estimates.

    Tie-breaking: equal shares (e.g. two tenants with no usage yet, or two jobs of one
    tenant) keep queue order (submit time, then input order, i.e. job index).

    Complexity per pass: O(Q log Q) for the sort plus O(tenants in the queue x GPU types)
    for the shares; O(running) when a job ended since the previous pass (to find which);
    then as ``easy``: O(running) shadow time and O(Q) placement attempts.
    """

    def __init__(self, *, half_life: float | str = WEEK) -> None:
        self.half_life = check_duration("half_life", half_life)
        self.usage = UsageTracker(self.half_life)

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        self.usage.jobs_dropped(renumber)

    def select(self, ctx: SchedulingContext) -> None:
        tracker = self.usage
        tracker.observe(ctx)
        now, tenants = ctx.now, ctx.jobs.tenant
        capacity = ctx.cluster.layout.capacity_by_type
        shares: dict[str, float] = {}

        def share(job: int) -> float:
            tenant = tenants[job]
            value = shares.get(tenant)
            if value is None:
                value = shares[tenant] = tracker.dominant_share(tenant, now, capacity)
            return value

        order = sorted(ctx.queue, key=share)
        started = start_then_backfill(ctx, order)
        tracker.after_pass(ctx, started)
