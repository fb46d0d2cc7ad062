"""Shared step of the preemptive schedulers: run the best jobs that fit, preempt the rest.

``run_best(ctx, key)`` ranks queued and running jobs together by ``key`` (lower first),
picks greedily the ranked prefix that fits each GPU type's capacity (in allocated GPUs,
whole nodes for multi-node jobs; a job that does not fit is skipped and the walk goes
on), preempts the running jobs left out, then starts the chosen queued jobs in rank
order wherever placement can put them now. Because node structure can stop a chosen job
from being placed, a running job is only preempted when the GPUs it frees are needed by
a higher-ranked queued job of its type (so no preemption is wasted on a job that could
not be placed anyway by count).
"""

from __future__ import annotations

from collections.abc import Callable

from sim.policies.base import SchedulingContext


def run_best(ctx: SchedulingContext, key: Callable[[int, bool], tuple]) -> None:
    """Rank jobs by ``key(job, running)``; keep the best that fit; preempt, then start."""
    jobs, layout = ctx.jobs, ctx.cluster.layout
    queued = list(ctx.queue)
    running = [job for _, _, job in ctx.running]
    ranked = sorted(
        [(key(job, False), job, False) for job in queued] + [(key(job, True), job, True) for job in running]
    )
    budget = dict(layout.capacity_by_type)
    chosen_queued: list[int] = []
    keep: set[int] = set()
    for _, job, is_running in ranked:
        gpu_type = jobs.gpu_type[job]
        held = ctx.placement_of(job).gpus if is_running else layout.allocated_gpus(jobs.gpus[job], gpu_type)
        if held <= budget[gpu_type]:
            budget[gpu_type] -= held
            if is_running:
                keep.add(job)
            else:
                chosen_queued.append(job)
    # Free, per type, only what the chosen queued jobs need beyond the free GPUs now.
    need = {t: 0 for t in budget}
    for job in chosen_queued:
        gpu_type = jobs.gpu_type[job]
        need[gpu_type] += layout.allocated_gpus(jobs.gpus[job], gpu_type)
    short = {t: need[t] - ctx.cluster.free_by_type[t] for t in need}
    for _, job, is_running in reversed(ranked):  # the worst-ranked running jobs go first
        if not is_running or job in keep:
            continue
        gpu_type = jobs.gpu_type[job]
        if short[gpu_type] > 0:
            short[gpu_type] -= ctx.placement_of(job).gpus
            ctx.preempt(job)
    for job in chosen_queued:
        placement = ctx.place(job)
        if placement is not None:
            ctx.start(job, placement)
