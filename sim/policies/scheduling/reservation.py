"""The blocked job's reservation, shared by every EASY-style backfilling scheduler."""

from __future__ import annotations

import math
from bisect import bisect_right

from sim.cluster.state import Placement
from sim.policies.base import SchedulingContext


class HeadReservation:
    """The blocked head's reservation: its shadow time and the cluster projected to then.

    The projection is ``free`` per node at the shadow time, kept only for nodes whose free
    count differs from now (``changed``); ``fits`` counts the nodes at which the head's
    shape fits at the shadow time: whole free nodes for a multi-node head, nodes with
    enough free GPUs for a single-node head.
    """

    def __init__(self, ctx: SchedulingContext, head: int, cache: dict | None = None) -> None:
        """The head's reservation; the walk over running jobs waits until a candidate needs it.

        Lazy because most backfill scans place no candidate of the head's type, and the walk
        (running jobs by estimated end until the head fits) is the costly part. ``cache`` (a
        dict the scheduler keeps) remembers the walk per (head, type, the type's cluster
        version): it depends only on the running jobs of that type and the nodes' free
        counts, which stay while the version does, so a pass that started and ended nothing
        of the type reuses it. Nothing of the type starts before the walk (a start needs
        ``admits``), so a late walk sees the state at construction.
        """
        jobs, cluster = ctx.jobs, ctx.cluster
        gpu_type = self.gpu_type = jobs.gpu_type[head]
        layout = cluster.layout
        gpn = self.gpus_per_node = layout.gpus_per_node[gpu_type]
        self._nodes_needed = layout.nodes_needed(jobs.gpus[head], gpu_type)
        # Single-node head: a node must reach `gpus` free; multi-node: `needed` nodes reach gpn.
        self.threshold = gpn if self._nodes_needed else jobs.gpus[head]
        self.needed = max(self._nodes_needed, 1)
        self.free = cluster.free
        self._ctx, self._head, self._cache = ctx, head, cache
        self._shadow: float | None = None
        self.changed: dict[int, int] = {}
        self._whole_at_shadow: list[tuple[float, int, int]] = []  # for `changed`, when first needed
        self.fits = 0

    @property
    def walked(self) -> bool:
        """Whether the walk happened (a candidate of the head's type needed the reservation)."""
        return self._shadow is not None

    @property
    def shadow(self) -> float:
        """When the head is sure to fit (the last walked job's estimated end, or now)."""
        if self._shadow is None:
            self._walk_once()
        return self._shadow  # type: ignore[return-value]

    def _walk_once(self) -> None:
        ctx, cache = self._ctx, self._cache
        if self.threshold == self.gpus_per_node > 1:  # whole nodes: no walk (RunningIndex)
            self._whole_at_shadow, self.fits, last_end = self._whole_nodes(ctx, self._nodes_needed)
            self._shadow = max(last_end, ctx.now)
            return
        key = (self._head, self.gpu_type, ctx.cluster.version_by_type[self.gpu_type])
        walked = cache.get(key) if cache is not None else None
        if walked is None:
            walked = self._walk(ctx, self._nodes_needed)
            if cache is not None:
                cache.clear()  # one entry: the next pass's head and version
                cache[key] = walked
        changed, self.fits, last_end = walked
        self.changed = dict(changed)  # admits() edits it
        self._shadow = max(last_end, ctx.now)

    def _whole_nodes(
        self, ctx: SchedulingContext, needed: int
    ) -> tuple[list[tuple[float, int, int]], int, float]:
        """``_walk``'s answer for a head that wants whole nodes, read off the busy nodes sorted
        by when their last job ends (``nodes_free_at``): the walk would stop at the job that
        frees the k-th of them, k being the nodes still missing, and every node whose last
        job comes no later is whole then. Those nodes are returned (``changed`` marks them
        all free when a job wanting part of a node first asks); a node left out is short of a
        whole node at the shadow time, all ``admits`` asks of it."""
        goal = self.needed
        fits = len(ctx.cluster.nodes_by_free[self.gpu_type][self.gpus_per_node]) if needed else 0
        free_at = ctx.nodes_free_at(self.gpu_type)
        if fits >= goal or not free_at:
            return [], fits, -math.inf
        end, order, _ = free_at[min(goal - fits, len(free_at)) - 1]
        whole = bisect_right(free_at, (end, order, math.inf))  # the k-th and any freed with it
        return free_at[:whole], fits + whole, end

    def _walk(self, ctx: SchedulingContext, needed: int) -> tuple[dict[int, int], int, float]:
        """(projected free counts of changed nodes, nodes fitting the head, last estimated end walked)."""
        gpn, threshold, goal, free = self.gpus_per_node, self.threshold, self.needed, self.free
        fits = len(ctx.cluster.nodes_by_free[self.gpu_type][gpn]) if needed else 0
        changed: dict[int, int] = {}
        last_end = -math.inf
        placements = ctx.placements
        if fits < goal:
            for estimated_end, _, job in ctx.running_of_type(self.gpu_type):
                placement = placements[job]
                held = placement.gpus_per_node  # type: ignore[union-attr]
                if held == gpn:
                    # Whole nodes go from 0 to gpn free; no later candidate can sit on them now.
                    fits += len(placement.nodes)  # type: ignore[union-attr]
                else:  # fewer GPUs than a node: always inside one node (the engine checks)
                    node = placement.nodes[0]  # type: ignore[union-attr]
                    before = changed.get(node, -1)
                    if before < 0:
                        before = free[node]
                    after = changed[node] = before + held
                    if before < threshold <= after:
                        fits += 1
                last_end = estimated_end
                if fits >= goal:
                    break
        return changed, fits, last_end

    def refuses_whole(self, now: float) -> tuple[float, float]:
        """``(over, within)``: a job holding whole nodes with more than ``over`` GPUs that
        requests more than ``within`` seconds is refused (``backfill``'s whole-node rule: it
        needs more nodes than the head can spare and is not gone by the shadow time). A few
        ulps of slack on ``within``: a job this lets through is judged exactly by the scan."""
        shadow = self.shadow  # walks, if not yet
        slack = 4 * math.ulp(max(abs(shadow), abs(now), 1.0))
        return (self.fits - self.needed) * self.gpus_per_node, shadow - now + slack

    def admits(self, placement: Placement, gpu_type: str, gone_by_shadow: bool) -> bool:
        """May a job start now on ``placement`` without delaying the head?

        Call before the job starts. A job gone by the shadow time always may; the projection
        then pins its nodes' shadow-time free counts, which its start must not lower. A job
        still running then may if the head still fits with its GPUs held; the projection
        then takes them.
        """
        if gpu_type != self.gpu_type:
            return True
        if self._shadow is None:
            self._walk_once()
        held = placement.gpus_per_node
        if held == self.gpus_per_node:
            # Whole free nodes: each one is lost to the head, and none can host a later job now.
            if gone_by_shadow:
                return True
            if self.fits - len(placement.nodes) < self.needed:
                return False
            self.fits -= len(placement.nodes)
            return True
        if self._whole_at_shadow:
            self.changed = {node: self.gpus_per_node for _, _, node in self._whole_at_shadow}
            self._whole_at_shadow = []
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
