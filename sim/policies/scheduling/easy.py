"""``easy``: EASY backfilling (one reservation, for the blocked head)."""

from __future__ import annotations

from sim.policies import SCHEDULERS
from sim.policies.base import Renumbering, Scheduler, SchedulingContext
from sim.policies.scheduling.backfill import backfill_each_type
from sim.policies.scheduling.fifo import start_heads
from sim.policies.scheduling.reservation import HeadReservation
from sim.policies.scheduling.spot import preempt_spot_for_queue
from sim.workload.jobs import JobTable


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
    O(queued jobs of the GPU types that have free GPUs); a placement attempt is made only
    for a job whose shape (GPUs, type) was not refused at a shorter requested time since
    the last start in the pass (see ``backfill``). A pass after a pass that started nothing,
    with nothing started or ended since, no job queued out of order since (a requeue or a
    late quota admission) and the same head, looks only at the jobs that arrived in between
    (the others would be refused again).

    ``preempt_spot`` (default false): once a head is blocked, queued jobs of a tier other
    than spot take GPUs from running spot-tier jobs, in queue order
    (``spot.preempt_spot_for_queue``), then heads are started again and the backfill runs;
    the spot jobs requeue with their work left and pay the restart overhead. This can delay
    the head's reservation when the head is a spot job (spot capacity is not guaranteed).
    """

    def __init__(self, *, preempt_spot: bool = False) -> None:
        if not isinstance(preempt_spot, bool):
            raise ValueError(f"'preempt_spot' must be true or false (got {preempt_spot!r})")
        self.preempt_spot = self.reclaims = preempt_spot
        # Per GPU type: (type's cluster version, jobs inserted inside its queue, head, its
        # last job number) after a pass that started nothing of that type.
        self._quiet: dict[str, tuple[int, int, int, int]] = {}
        self._reservations: dict = {}  # HeadReservation's walk cache
        self._promised: list[tuple[int, float]] = []  # (head, shadow time) the last pass kept

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        # Caches only (the schedule is that of a full scan without them): start afresh.
        self._quiet, self._promised = {}, []
        self._reservations.clear()

    def violation(self, ctx: SchedulingContext) -> str:
        """The backfill of the last pass did not push its head's shadow time later: a fresh
        reservation for the still-blocked head is due no later than the one it kept."""
        for head, shadow in self._promised:
            if head in ctx.queue:
                fresh = HeadReservation(ctx, head).shadow
                if fresh > shadow:
                    return (
                        f"backfilling delayed the head {ctx.jobs.job_id[head]}: its reservation moved "
                        f"from {shadow!r} to {fresh!r}"
                    )
        return ""

    def select(self, ctx: SchedulingContext) -> None:
        versions = ctx.cluster.version_by_type
        before = dict(versions)
        head = start_heads(ctx)
        if head is not None and self.preempt_spot and preempt_spot_for_queue(ctx):
            head = start_heads(ctx)  # before backfilling: a spot job is never started and stopped at once
        self._promised = []
        if head is None:
            self._quiet = {}
            return
        # If the last pass started nothing of a type and nothing of it has started or ended
        # since, with the same head, every job of that type it saw would be refused again
        # (same nodes, same projection for the head's type; later, a job is only less likely
        # to be gone by the shadow time): only the jobs that arrived since need a look. The
        # schedule is exactly that of a full scan.
        after = {
            gpu_type: last
            for gpu_type, (version, inside, quiet_head, last) in self._quiet.items()
            if version == versions[gpu_type]
            and inside == ctx.queue_of_type(gpu_type).inserted_inside
            and quiet_head == head
        }
        used: list[HeadReservation] = []
        backfill_each_type(ctx, head, after, self._reservations, used)
        self._promised = [(head, r.shadow) for r in used if r.walked]
        # Each type's own last job: a job of this type admitted late (a quota, a deferral) can
        # be numbered below the whole queue's last one but above its type's, and must be seen.
        self._quiet = {}
        for gpu_type, version in versions.items():
            if version == before[gpu_type]:
                view = ctx.queue_of_type(gpu_type)
                self._quiet[gpu_type] = (version, view.inserted_inside, head, view.last())
