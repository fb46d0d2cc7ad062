"""``tiresias``: discretised two-dimensional least-attained-service (2D-LAS)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from sim.policies import SCHEDULERS
from sim.policies.base import Scheduler, SchedulingContext
from sim.policies.scheduling.preemptive import run_best
from sim.units import parse_duration


@SCHEDULERS.register("tiresias")
class Tiresias(Scheduler):
    """2D-LAS: queues by attained GPU-seconds, preempting lower queues, with a starvation guard.

    Algorithm: a job's attained service is GPUs x seconds run so far. ``thresholds``
    (GPU-seconds, ascending) split jobs into ``len(thresholds) + 1`` priority queues: queue
    0 holds jobs below the first threshold. A queued job that has waited ``promote_after``
    seconds since it last joined the queue is promoted to queue 0 (the starvation guard).
    Jobs are ranked by (queue, running before queued, queue order): within a queue jobs
    run first-come-first-served and a running job is never preempted for a job of its own
    queue; a queued job in a higher queue preempts running jobs of lower queues as far as
    it needs their GPUs (``sim.policies.scheduling.preemptive.run_best``).
    Tie-breaking: queue order (job number) within a queue.
    Complexity: O((queued + running) log(queued + running)) per pass.
    Defaults: thresholds 1 and 10 GPU-hours, promote after 1 day.
    """

    def __init__(
        self, *, thresholds: Sequence[float] = (3600.0, 36000.0), promote_after: float | str = 86400.0
    ) -> None:
        try:
            if isinstance(thresholds, str | bytes):  # '36' would read as [3, 6]
                raise TypeError
            self.thresholds = [float(t) for t in thresholds]
        except (TypeError, ValueError):
            raise ValueError(f"'thresholds' must be a list of GPU-seconds (got {thresholds!r})") from None
        if any(not t > 0 for t in self.thresholds) or self.thresholds != sorted(self.thresholds):  # NaN too
            raise ValueError(f"'thresholds' must be ascending GPU-seconds > 0 (got {list(thresholds)})")
        try:
            self.promote_after = parse_duration(promote_after)
        except ValueError as error:
            raise ValueError(f"'promote_after': {error} (got {promote_after!r})") from None
        if self.promote_after <= 0:
            raise ValueError(f"'promote_after' must be > 0 seconds (got {promote_after!r})")

    def select(self, ctx: SchedulingContext) -> None:
        jobs, thresholds, now = ctx.jobs, self.thresholds, ctx.now

        def rank(job: int, running: bool) -> tuple[int, int, int]:
            if not running and now - ctx.queued_since(job) >= self.promote_after:
                level = 0
            else:
                level = bisect.bisect_right(thresholds, ctx.elapsed(job) * jobs.gpus[job])
            return (level, 0 if running else 1, job)

        run_best(ctx, rank)
