"""``srtf``: preemptive shortest remaining (estimated) time first."""

from __future__ import annotations

from sim.policies import SCHEDULERS
from sim.policies.base import Scheduler, SchedulingContext
from sim.policies.scheduling.preemptive import run_best


@SCHEDULERS.register("srtf")
class Srtf(Scheduler):
    """Preemptive shortest remaining time first, by the user's estimate.

    Algorithm: rank queued and running jobs together by remaining estimated time
    (requested time minus time already run; a preempted job's estimate also carries the
    restart overhead); keep the best-ranked jobs that fit each GPU type's capacity;
    preempt running jobs left out, worst first, only as far as the chosen queued jobs
    need their GPUs; start the chosen queued jobs in rank order where placement can put
    them now (``sim.policies.scheduling.preemptive.run_best``).
    Tie-breaking: equal remaining times go by queue order (job number).
    Complexity: O((queued + running) log(queued + running)) per pass.
    """

    def select(self, ctx: SchedulingContext) -> None:
        run_best(ctx, lambda job, running: (ctx.remaining_estimate(job), job))
