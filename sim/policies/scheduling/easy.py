"""``easy``: EASY backfilling (one reservation, for the blocked head)."""

from __future__ import annotations

from sim.cluster.state import Placement
from sim.policies import SCHEDULERS
from sim.policies.base import Scheduler, SchedulingContext
from sim.policies.scheduling.fifo import start_heads


class HeadReservation:
    """The blocked head's reservation: its shadow time and the cluster projected to then.

    The projection is ``free`` per node at the shadow time, kept only for nodes whose free
    count differs from now (``changed``); ``fits`` counts the nodes at which the head's
    shape fits at the shadow time: whole free nodes for a multi-node head, nodes with
    enough free GPUs for a single-node head.
    """

    def __init__(self, ctx: SchedulingContext, head: int) -> None:
        jobs, cluster = ctx.jobs, ctx.cluster
        self.gpu_type = jobs.gpu_type[head]
        layout = cluster.layout
        gpn = layout.gpus_per_node[self.gpu_type]
        needed = layout.nodes_needed(jobs.gpus[head], self.gpu_type)
        # Single-node head: a node must reach `gpus` free; multi-node: `needed` nodes reach gpn.
        self.gpus_per_node = gpn
        self.threshold = gpn if needed else jobs.gpus[head]
        self.needed = max(needed, 1)
        self.free = cluster.free
        self.changed: dict[int, int] = {}
        self.fits = len(cluster.nodes_by_free[self.gpu_type][gpn]) if needed else 0
        self.shadow = ctx.now
        for estimated_end, _, job in ctx.running:
            if self.fits >= self.needed:
                break
            if jobs.gpu_type[job] != self.gpu_type:
                continue
            placement = ctx.placement_of(job)
            if placement.gpus_per_node == gpn:
                # Whole nodes go from 0 to gpn free; no later candidate can sit on them now.
                self.fits += len(placement.nodes)
                self.shadow = max(estimated_end, ctx.now)
                continue
            for node in placement.nodes:
                before = self.changed.get(node, self.free[node])
                after = before + placement.gpus_per_node
                self.changed[node] = after
                if before < self.threshold <= after:
                    self.fits += 1
            self.shadow = max(estimated_end, ctx.now)

    def admits(self, placement: Placement, gpu_type: str, gone_by_shadow: bool) -> bool:
        """May a job start now on ``placement`` without delaying the head?

        Call before the job starts. A job gone by the shadow time always may; the projection
        then pins its nodes' shadow-time free counts, which its start must not lower. A job
        still running then may if the head still fits with its GPUs held; the projection
        then takes them.
        """
        if gpu_type != self.gpu_type:
            return True
        held = placement.gpus_per_node
        if held == self.gpus_per_node:
            # Whole free nodes: each one is lost to the head, and none can host a later job now.
            if gone_by_shadow:
                return True
            if self.fits - len(placement.nodes) < self.needed:
                return False
            self.fits -= len(placement.nodes)
            return True
        changed, free = self.changed, self.free
        if gone_by_shadow:
            for node in placement.nodes:
                changed.setdefault(node, free[node])
            return True
        lost = 0
        for node in placement.nodes:
            before = changed.get(node, free[node])
            if before >= self.threshold > before - held:
                lost += 1
        if self.fits - lost < self.needed:
            return False
        for node in placement.nodes:
            changed[node] = changed.get(node, free[node]) - held
        self.fits -= lost
        return True


@SCHEDULERS.register("easy")
class Easy(Scheduler):
    """EASY backfilling: FCFS, then backfill jobs that do not delay the blocked head.

    Algorithm: start queue heads while they fit (as fifo). The first head that does not fit
    gets a reservation at the shadow time: walk running jobs by estimated end
    (``max(start + requested_time, now)``, ties by start order), releasing their GPUs in a
    projection of the cluster, until the head's shape fits. Then scan the rest of the queue
    in order; a job that placement can put somewhere now starts if
    ``now + requested_time <= shadow`` (it is gone by then), or else if the head still fits
    at the shadow time with this job's GPUs held ("extra" GPUs: on a flat pool this is
    exactly ``gpus <= extra`` and extra then shrinks by its GPUs).

    Node-granular clusters: the projection is per node, so "fits" respects node
    structure: a multi-node head needs that many whole free nodes at the shadow time, a
    single-node head one node with enough free GPUs. Jobs of another GPU type never
    affect the head's reservation.

    Tie-breaking: queue order. Complexity per pass: O(running) for the shadow time plus
    O(queue) placement attempts; the scan stops when no GPU is free.
    """

    def select(self, ctx: SchedulingContext) -> None:
        head = start_heads(ctx)
        if head is None:
            return
        reservation = HeadReservation(ctx, head)
        jobs, cluster, now = ctx.jobs, ctx.cluster, ctx.now
        free_by_type = cluster.free_by_type
        behind_head = iter(ctx.queue)
        next(behind_head)
        for job in behind_head:
            gpu_type = jobs.gpu_type[job]
            if jobs.gpus[job] > free_by_type[gpu_type]:
                if not any(free_by_type.values()):
                    return
                continue
            placement = ctx.place(job)
            if placement is None:
                continue
            gone_by_shadow = now + jobs.requested[job] * ctx.slowdown(placement) <= reservation.shadow
            if reservation.admits(placement, gpu_type, gone_by_shadow):
                ctx.start(job, placement)
