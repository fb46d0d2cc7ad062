"""``kueue``: ClusterQueues with nominal quotas, cohorts, borrowing, lending and reclaim."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sim.cluster.state import ClusterLayout
from sim.policies import QUOTAS
from sim.policies.base import Reference, Renumbering
from sim.policies.quota.base import Quota, QuotaContext
from sim.policies.quota.cluster_queue import ClusterQueue, parse_queue
from sim.scenario.base import NoEffect
from sim.workload.jobs import JobTable


@QUOTAS.register("kueue")
class Kueue(Quota):
    """ClusterQueues with a nominal quota per GPU type, borrowing within a cohort, and reclaim.

    Names and semantics follow Kueue's ClusterQueue. Each entry of ``cluster_queues`` has
    ``name``; ``match`` (``tiers``, ``job_classes``, ``tenants`` as glob patterns: a job
    goes to the first queue all of whose given lists match it; a job no queue matches is
    rejected); ``nominal_quota`` (GPUs per type; a type not named has 0); ``cohort``
    (queues of one cohort share unused quota); ``borrowing_limit`` (most GPUs per type
    the queue may use beyond its nominal quota; unset: no limit); ``lending_limit`` (most
    of its unused nominal quota others may borrow; unset: all of it, the rest is kept for
    itself); ``reclaim_within_cohort`` (``never``, ``lower_priority`` or ``any``: whether
    a job that fits in its queue's nominal quota may preempt jobs of queues that are
    borrowing); ``weight`` (fair sharing, default 1). ``fair_sharing: true`` orders
    admission and reclaim by share (below).

    Accounting per GPU type: a queue's usage counts the GPUs its admitted jobs hold (whole
    nodes for multi-node jobs). Its guaranteed part is nominal minus lending limit; usage
    above it draws on the cohort's pool, the sum of its queues' lendable quota. A job of g
    GPUs is admitted to queue Q if ``used(Q) + g <= nominal(Q) + borrowing_limit(Q)`` and
    the pool still has the GPUs its extra draw needs (a queue without a cohort: just
    ``used + g <= nominal``). So a queue exceeds its nominal quota only by borrowing, within
    its limit and what the others lend.

    Algorithm (best-effort FIFO): each pass tries the pending jobs of queues whose cohort
    freed quota and new pending jobs, in queue order: by when each joined pending (its
    submit time; an evicted job the time of its eviction, as Kueue requeues by eviction
    time), ties by job number. With ``fair_sharing`` it admits one
    job at a time, each from the queue of the lowest share that can admit one (ties: the
    order of ``cluster_queues``), the share being borrowed GPUs / pool GPUs, the largest
    over types, divided by weight (weight 0: an infinite share). A job that does not fit is skipped and later
    jobs are still tried; within a queue, once a job of g GPUs of a type does not fit, no
    job of >= g GPUs of that type is tried again in the pass. Reclaim: a job that would fit
    its queue's nominal quota but not the pool may evict admitted jobs of other queues of
    its cohort that are borrowing that type (``lower_priority``: only jobs of lower
    priority), lowest priority first, then latest admitted first (with ``fair_sharing``:
    from the queue of the highest share first), each only while its queue is still
    borrowing, until the job fits; if that cannot make it fit, nobody is evicted. Evicted
    jobs are preempted if running (paying the restart overhead) and wait for admission
    again. Not modelled: preemption within a queue, borrowWithinCohort, hierarchical
    cohorts, resource flavors beyond GPU types.
    Complexity per pass: O(pending jobs tried x queues) plus O(admitted jobs of the cohort)
    per reclaim.
    """

    def __init__(self, *, cluster_queues: Sequence[Mapping[str, Any]], fair_sharing: bool = False) -> None:
        if not isinstance(cluster_queues, list | tuple) or not cluster_queues:
            raise ValueError(f"'cluster_queues' must be a non-empty list (got {cluster_queues!r})")
        if not isinstance(fair_sharing, bool):
            raise ValueError(f"'fair_sharing' must be true or false (got {fair_sharing!r})")
        self.queues = [parse_queue(i, spec) for i, spec in enumerate(cluster_queues)]
        names = [q.name for q in self.queues]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"'cluster_queues' names must be unique (got {name!r} twice)")
        self.fair_sharing = fair_sharing
        self._queue_of: dict[int, ClusterQueue] = {}
        self._held: dict[int, tuple[str, float]] = {}
        self._admitted_at: dict[int, int] = {}
        self._admissions = 0
        self._dirty: set[str] = set()  # cohorts (or lone queue names) with quota freed
        self._new: list[int] = []
        self._requeued: dict[int, float] = {}  # evicted job -> when, for its place in line

    def references(self) -> list[Reference]:
        named = []
        for index, queue in enumerate(self.queues):
            where = f"cluster_queues.{index}"
            for key, per_type in (
                ("nominal_quota", queue.nominal),
                ("borrowing_limit", queue.borrowing_limit),
                ("lending_limit", queue.lending_limit),
            ):
                named += [Reference("gpu_type", f"{where}.{key}.{t}", t) for t in per_type]
            for kind, key, patterns in (
                ("tenant", "tenants", queue.tenants),
                ("job_class", "job_classes", queue.job_classes),
            ):
                named += [
                    Reference(kind, f"{where}.match.{key}.{k}", p, pattern=True)
                    for k, p in enumerate(patterns or ())
                ]
            tiers = enumerate(queue.tiers or ())
            named += [Reference("tier", f"{where}.match.tiers.{k}", tier) for k, tier in tiers]
        return named

    def settings_without_effect(self) -> list[NoEffect]:
        """Limits of a queue that cannot borrow or lend, and queues no job can reach."""
        found = []
        members = Counter(queue.cohort for queue in self.queues if queue.cohort is not None)
        for index, queue in enumerate(self.queues):
            where = f"cluster_queues.{index}"
            if queue.cohort is not None and members[queue.cohort] == 1:
                found.append(
                    NoEffect(f"{where}.cohort", f"no other ClusterQueue is in cohort {queue.cohort!r}")
                )
            elif queue.cohort is None:
                found += [
                    NoEffect(f"{where}.{key}", "a queue without a cohort neither borrows nor lends")
                    for key, limits in (
                        ("borrowing_limit", queue.borrowing_limit),
                        ("lending_limit", queue.lending_limit),
                    )
                    if limits
                ]
        first = next(
            (i for i, q in enumerate(self.queues) if q.tiers is q.job_classes is q.tenants is None),
            len(self.queues),
        )
        found += [
            NoEffect(
                f"cluster_queues.{index}",
                f"no job reaches it: the earlier queue {self.queues[first].name!r} matches every job",
            )
            for index in range(first + 1, len(self.queues))
        ]
        return found

    def bind(self, layout: ClusterLayout, jobs: JobTable) -> None:
        self.layout, self.jobs = layout, jobs
        self._cohorts: dict[str, list[ClusterQueue]] = {}
        for queue in self.queues:
            self._cohorts.setdefault(self._cohort_key(queue), []).append(queue)

    @staticmethod
    def _cohort_key(queue: ClusterQueue) -> str:
        return f"cohort:{queue.cohort}" if queue.cohort is not None else f"queue:{queue.name}"

    def _need(self, job: int) -> tuple[str, float]:
        gpu_type = self.jobs.gpu_type[job]
        return gpu_type, float(self.layout.allocated_gpus(self.jobs.gpus[job], gpu_type))

    def queue_of(self, job: int) -> ClusterQueue | None:
        queue = self._queue_of.get(job)
        if queue is None:
            jobs = self.jobs
            queue = next(
                (q for q in self.queues if q.matches(jobs.tier[job], jobs.job_class[job], jobs.tenant[job])),
                None,
            )
            if queue is not None:
                self._queue_of[job] = queue
        return queue

    def _ceiling(self, queue: ClusterQueue, gpu_type: str) -> float:
        """Most GPUs of a type the queue could ever hold."""
        nominal = queue.nominal.get(gpu_type, 0.0)
        if queue.cohort is None:
            return nominal
        pool_others = sum(
            min(q.lending_limit.get(gpu_type, q.nominal.get(gpu_type, 0.0)), q.nominal.get(gpu_type, 0.0))
            for q in self._cohorts[self._cohort_key(queue)]
            if q is not queue
        )
        return min(nominal + queue.borrowing_limit.get(gpu_type, math.inf), nominal + pool_others)

    def rejection(self, job: int) -> str:
        jobs = self.jobs
        queue = self.queue_of(job)
        if queue is None:
            return (
                f"no ClusterQueue matches tier {jobs.tier[job]!r}, class {jobs.job_class[job]!r}, "
                f"tenant {jobs.tenant[job]!r} (quota kueue)"
            )
        gpu_type, gpus = self._need(job)
        ceiling = self._ceiling(queue, gpu_type)
        if gpus > ceiling:
            return (
                f"holds {gpus:g} {gpu_type} GPUs, more than ClusterQueue {queue.name!r} can get ({ceiling:g})"
            )
        return ""

    # --- accounting ----------------------------------------------------------------------

    def pending_changed(self, job: int) -> None:
        self._new.append(job)  # into its queue's backlog at the next pass (not while one runs)

    def admitted(self, job: int) -> None:
        queue = self.queue_of(job)
        assert queue is not None
        gpu_type, gpus = self._need(job)
        queue.used[gpu_type] = queue.used.get(gpu_type, 0.0) + gpus
        self._held[job] = (gpu_type, gpus)
        self._admitted_at[job] = self._admissions
        self._admissions += 1

    def released(self, job: int) -> None:
        queue = self.queue_of(job)
        assert queue is not None
        gpu_type, gpus = self._held.pop(job)
        del self._admitted_at[job]
        queue.used[gpu_type] -= gpus
        self._dirty.add(self._cohort_key(queue))

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        for name in ("_queue_of", "_held", "_admitted_at", "_requeued"):
            setattr(self, name, renumber.keys(getattr(self, name)))
        self._new = renumber.jobs(self._new)
        for queue in self.queues:
            queue.backlog.jobs_dropped(renumber)

    def violation(self, admitted: list[int]) -> str:
        used: dict[tuple[str, str], float] = {}
        for job in admitted:
            queue = self.queue_of(job)
            if queue is None:
                return f"job {self.jobs.job_id[job]} is admitted but matches no ClusterQueue"
            gpu_type, gpus = self._need(job)
            used[queue.name, gpu_type] = used.get((queue.name, gpu_type), 0.0) + gpus
        for queue in self.queues:
            for gpu_type in self.layout.gpu_types:
                count = used.get((queue.name, gpu_type), 0.0)
                counted = queue.used.get(gpu_type, 0.0)
                if abs(counted - count) > 1e-9:
                    return (
                        f"ClusterQueue {queue.name!r} counts {counted:g} {gpu_type} GPUs; "
                        f"its jobs hold {count:g}"
                    )
                if count > self._ceiling(queue, gpu_type):
                    return (
                        f"ClusterQueue {queue.name!r} holds {count:g} {gpu_type} GPUs, above what it may get"
                    )
        for members in self._cohorts.values():
            for gpu_type in self.layout.gpu_types:
                pool = sum(q.nominal.get(gpu_type, 0.0) - q.guaranteed(gpu_type) for q in members)
                drawn = sum(q.drawn(gpu_type) for q in members)
                if drawn > pool + 1e-9:
                    return f"a cohort draws {drawn:g} {gpu_type} GPUs from a pool of {pool:g}"
        return ""

    def pool_room(self, queue: ClusterQueue, gpu_type: str, gpus: float) -> float:
        """Pool GPUs left after the queue takes ``gpus`` more (negative: short by that many)."""
        members = self._cohorts[self._cohort_key(queue)]
        pool = sum(q.nominal.get(gpu_type, 0.0) - q.guaranteed(gpu_type) for q in members)
        drawn = sum(q.drawn(gpu_type) for q in members if q is not queue)
        return pool - drawn - queue.drawn(gpu_type, queue.used.get(gpu_type, 0.0) + gpus)

    def fits(self, queue: ClusterQueue, gpu_type: str, gpus: float) -> bool:
        used = queue.used.get(gpu_type, 0.0)
        nominal = queue.nominal.get(gpu_type, 0.0)
        if queue.cohort is None:
            return used + gpus <= nominal
        if used + gpus > nominal + queue.borrowing_limit.get(gpu_type, math.inf):
            return False
        return self.pool_room(queue, gpu_type, gpus) >= 0

    def share(self, queue: ClusterQueue) -> float:
        """Fair-sharing value: borrowed / pool GPUs, the largest over types, over weight."""
        members = self._cohorts[self._cohort_key(queue)]
        value = 0.0
        for gpu_type in queue.used:
            pool = sum(q.nominal.get(gpu_type, 0.0) - q.guaranteed(gpu_type) for q in members)
            if pool > 0:
                value = max(value, queue.borrowing(gpu_type) / pool)
        if queue.weight == 0:
            return math.inf
        return value / queue.weight

    # --- admission -------------------------------------------------------------------------

    def admit(self, ctx: QuotaContext) -> None:
        dirty, self._dirty = self._dirty, set()
        new, self._new = self._new, []
        touched: set[int] = set()
        for job in new:
            queue = self.queue_of(job)
            assert queue is not None
            if ctx.is_pending(job):
                queue.backlog.add(self._need(job), (self._requeued.pop(job, self.jobs.submit[job]), job))
                touched.add(id(queue))
        tried = [
            queue
            for key, members in self._cohorts.items()
            for queue in members
            if key in dirty or id(queue) in touched
        ]
        if self.fair_sharing:
            self._admit_fairly(ctx, tried)
            return
        # All tried queues together, in queue order: a heap of each shape group's front entry.
        refused: dict[tuple[int, str], float] = {}
        heads = [
            (key, index, shape)
            for index, q in enumerate(tried)
            for key, shape in q.backlog.fronts(ctx.is_pending)
        ]
        heapq.heapify(heads)
        while heads:
            (_, job), index, shape = heapq.heappop(heads)
            queue = tried[index]
            if self._try(ctx, queue, job, refused):
                following = queue.backlog.front(shape, ctx.is_pending)
                if following is not None:
                    heapq.heappush(heads, (following, index, shape))

    def _admit_fairly(self, ctx: QuotaContext, tried: list[ClusterQueue]) -> None:
        """One job at a time from the queue of the lowest share that can admit one."""
        order = {id(q): i for i, q in enumerate(self.queues)}
        heads = {id(q): q.backlog.fronts(ctx.is_pending) for q in tried}
        refused: dict[tuple[int, str], float] = {}
        active = [q for q in tried if heads[id(q)]]
        while active:
            admitted = False
            for queue in sorted(active, key=lambda q: (self.share(q), order[id(q)])):
                fronts = heads[id(queue)]
                while fronts and not admitted:
                    (_, job), shape = heapq.heappop(fronts)
                    admitted = self._try(ctx, queue, job, refused)
                    if admitted:
                        following = queue.backlog.front(shape, ctx.is_pending)
                        if following is not None:
                            heapq.heappush(fronts, (following, shape))
                if admitted:
                    break  # shares changed: choose again
            if not admitted:
                return
            active = [q for q in active if heads[id(q)]]

    def _try(
        self, ctx: QuotaContext, queue: ClusterQueue, job: int, refused: dict[tuple[int, str], float]
    ) -> bool:
        """Admit ``job`` if it fits (or reclaim makes it fit); else refuse its shape and say False."""
        if not ctx.is_pending(job):  # admitted earlier in this pass (a list may hold it twice)
            return False
        gpu_type, gpus = self._need(job)
        key = (id(queue), gpu_type)
        if gpus >= refused.get(key, math.inf):
            return False
        if self.fits(queue, gpu_type, gpus) or self._reclaim(ctx, queue, job, gpu_type, gpus):
            ctx.admit(job)
            return True
        refused[key] = gpus
        return False

    def _reclaim(self, ctx: QuotaContext, queue: ClusterQueue, job: int, gpu_type: str, gpus: float) -> bool:
        """Evict borrowing jobs of the cohort so ``job`` fits its nominal quota (see the docstring)."""
        if queue.reclaim == "never" or queue.cohort is None:
            return False
        if queue.used.get(gpu_type, 0.0) + gpus > queue.nominal.get(gpu_type, 0.0):
            return False
        priority = self.jobs.priority[job]
        members = self._cohorts[self._cohort_key(queue)]
        candidates = []
        for victim, (held_type, _) in self._held.items():
            owner = self._queue_of[victim]
            if owner is queue or held_type != gpu_type or owner not in members:
                continue
            if queue.reclaim == "lower_priority" and self.jobs.priority[victim] >= priority:
                continue
            share = self.share(owner) if self.fair_sharing else 0.0
            candidates.append((-share, self.jobs.priority[victim], -self._admitted_at[victim], victim))
        candidates.sort()
        # Plan first on a copy of the usage: evict only if it makes the job fit.
        used = {id(q): q.used.get(gpu_type, 0.0) for q in members}
        short = -self.pool_room(queue, gpu_type, gpus)
        chosen = []
        for *_, victim in candidates:
            if short <= 0:
                break
            owner = self._queue_of[victim]
            before = used[id(owner)]
            if before <= owner.nominal.get(gpu_type, 0.0):
                continue  # its queue no longer borrows
            after = before - self._held[victim][1]
            used[id(owner)] = after
            short -= owner.drawn(gpu_type, before) - owner.drawn(gpu_type, after)
            chosen.append(victim)
        if short > 0:
            return False
        for victim in chosen:
            ctx.evict(victim, f"reclaimed by ClusterQueue {queue.name!r}")
            self._requeued[victim] = ctx.now  # back in line behind the jobs already waiting
        return self.fits(queue, gpu_type, gpus)
