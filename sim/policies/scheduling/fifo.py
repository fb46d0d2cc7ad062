"""``fifo``: strict first-come-first-served."""

from __future__ import annotations

from sim.policies import SCHEDULERS
from sim.policies.base import Scheduler, SchedulingContext


def start_heads(ctx: SchedulingContext) -> int | None:
    """Start queue heads while they fit; return the first that does not (None if the queue empties)."""
    queue = ctx.queue
    while queue.size:  # (not ``while queue``: no __bool__ call per start)
        head = queue.head()
        placement = ctx.place(head)
        if placement is None:
            return head
        ctx.start(head, placement)
    return None


@SCHEDULERS.register("fifo")
class Fifo(Scheduler):
    """Strict FCFS: start queue heads while they fit, stop at the first that does not.

    Algorithm: in queue order (submit time, ties in input order), ask placement for the
    head; start it if placed, else stop. No job ever passes the blocked head
    (head-of-line blocking), whatever its type or size.
    Tie-breaking: queue order only. Complexity: O(started + 1) placements per pass.
    """

    reads_views = False  # only the queue's head: the engine need not keep sorted views

    def select(self, ctx: SchedulingContext) -> None:
        start_heads(ctx)
