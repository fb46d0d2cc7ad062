"""Spot-tier preemption: queued jobs of a higher tier take GPUs from running spot jobs.

Used by schedulers with ``preempt_spot: true`` after their normal pass (``easy``).
"""

from __future__ import annotations

from sim.policies.base import SchedulingContext

SPOT = "spot"


def preempt_spot_for_queue(ctx: SchedulingContext) -> list[int]:
    """Start queued non-spot jobs, in queue order, on GPUs taken from running spot jobs.

    For each queued job whose tier is not spot and that placement cannot put anywhere now
    (per GPU type, in queue order): if preempting
    spot jobs of its type can make room (``victims``), preempt them (they requeue with the
    work they have left, ``SchedulingContext.reclaim``) and start the job where placement
    puts it. With a spot notice period the victims run on until the notice ends and the
    job starts then (the engine's claim); a job with such a claim is skipped, and spot jobs
    under notice are not victims again. A shape (GPUs, type) found impossible is not tried
    again in the pass.
    Returns the jobs started. Complexity: O(queued non-spot jobs x running jobs of the type).
    """
    jobs = ctx.jobs
    started: list[int] = []
    for gpu_type in ctx.cluster.layout.gpu_types:
        impossible: set[int] = set()
        for job in list(ctx.queue_of_type(gpu_type)):
            if jobs.tier[job] == SPOT or jobs.gpus[job] in impossible or job not in ctx.queue:
                continue
            if ctx.has_claim(job) or ctx.place(job) is not None:
                continue  # waits for GPUs under notice, or fits now: the backfill's to decide
            chosen = victims(ctx, jobs.gpus[job], gpu_type)
            if chosen is None:
                impossible.add(jobs.gpus[job])
                continue
            if not ctx.reclaim(job, chosen, "preempted by a higher tier"):
                continue  # the victims have notice; the job starts when it ends
            placement = ctx.place(job)
            if placement is None:  # the placer cannot use the freed GPUs (e.g. a strict pod rule)
                impossible.add(jobs.gpus[job])
                continue
            ctx.start(job, placement)
            started.append(job)
    return started


def victims(ctx: SchedulingContext, gpus: int, gpu_type: str) -> list[int] | None:
    """The running spot jobs to preempt so that a job of ``gpus`` GPUs of ``gpu_type`` fits,
    or None if preempting every spot job of that type would not make room.

    Per node, reclaimable = free GPUs + GPUs spot jobs hold there. A job that fits in one
    node takes the node needing the fewest GPUs preempted (ties: lowest node id) and on it
    preempts the spot jobs started last first, until enough are free. A larger job needs
    ``nodes_needed`` whole nodes: the wholly reclaimable nodes needing the fewest GPUs
    preempted (ties: node id), every spot job on them preempted. A spot job spanning nodes
    frees all its nodes; only the GPUs on chosen nodes count. Spot jobs that started at
    this instant are not candidates.
    """
    layout, cluster, jobs = ctx.cluster.layout, ctx.cluster, ctx.jobs
    gpn = layout.gpus_per_node[gpu_type]
    held: dict[int, list[tuple[float, int, int]]] = {}  # node -> (elapsed, job, GPUs) of spot jobs
    for _, _, job in ctx.running_of_type(gpu_type):
        # A spot job started in this very pass is left alone: stopping it at once wastes nothing
        # less than not starting it, and a zero-length run says nothing.
        if jobs.tier[job] == SPOT and ctx.running_since(job) < ctx.now and not ctx.is_leaving(job):
            placement, elapsed = ctx.placement_of(job), ctx.elapsed(job)
            for node in placement.nodes:
                held.setdefault(node, []).append((elapsed, job, placement.gpus_per_node))
    if not held:
        return None
    free = cluster.free
    reclaimable = {node: free[node] + sum(g for _, _, g in spots) for node, spots in held.items()}
    needed = layout.nodes_needed(gpus, gpu_type)
    if needed == 0:
        best: tuple[int, int] | None = None
        for node in held:
            shortfall = gpus - free[node]
            if shortfall > 0 and reclaimable[node] >= gpus and (best is None or (shortfall, node) < best):
                best = (shortfall, node)
        if best is None:
            return None
        shortfall, node = best
        chosen = []
        for _, job, held_gpus in sorted(held[node], key=lambda item: (item[0], -item[1])):  # newest first
            chosen.append(job)
            shortfall -= held_gpus
            if shortfall <= 0:
                return chosen
        return None
    whole = sorted((gpn - free[node], node) for node in held if reclaimable[node] == gpn)
    idle = len(cluster.nodes_by_free[gpu_type][gpn])
    if idle + len(whole) < needed:
        return None
    chosen_nodes = [node for _, node in whole[: max(needed - idle, 0)]]
    return list(dict.fromkeys(job for node in chosen_nodes for _, job, _ in sorted(held[node])))
