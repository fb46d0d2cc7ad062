"""``sjf``: shortest (requested) job first, with EASY backfilling."""

from __future__ import annotations

from sim.policies import SCHEDULERS
from sim.policies.base import Scheduler, SchedulingContext
from sim.policies.scheduling.backfill import start_then_backfill


@SCHEDULERS.register("sjf")
class ShortestJobFirst(Scheduler):
    """Shortest job first by requested time, with EASY backfilling against the first blocked job.

    Algorithm: order the queued jobs by ``requested_time`` (the user's estimate, never the
    true duration), shortest first. Start jobs in that order while placement can place
    them. The first that does not fit gets an EASY reservation at its shadow time
    (``easy``'s ``HeadReservation``: running jobs' estimated ends ``max(start +
    requested_time, now)``, per-node projection), and the jobs after it in SJF order
    backfill exactly as in ``easy``: a job that fits now starts if
    ``now + requested_time <= shadow`` or if the blocked job still fits at the shadow time
    with its GPUs held. The order is recomputed on every pass, so a long job can starve
    while shorter ones keep arriving (backfilling does not protect it, only the job
    blocked in the current pass).

    Tie-breaking: equal requested times keep queue order (submit time, then input order,
    i.e. job index); the sort is stable.

    Complexity per pass: O(Q log Q) for the sort of Q queued jobs, O(running) for the
    shadow time, O(Q) placement attempts; the scan stops when no GPU is free.
    """

    def select(self, ctx: SchedulingContext) -> None:
        order = sorted(ctx.queue, key=ctx.jobs.requested.__getitem__)
        start_then_backfill(ctx, order)
