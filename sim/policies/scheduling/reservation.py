"""The blocked job's reservation, shared by every EASY-style backfilling scheduler."""

from __future__ import annotations

from sim.cluster.state import Placement
from sim.policies.base import SchedulingContext


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
        for estimated_end, _, job in ctx.running_of_type(self.gpu_type):
            if self.fits >= self.needed:
                break
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
