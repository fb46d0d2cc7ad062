"""Spot notice: jobs preempted for another get a warning period before they stop.

``Notices.reclaim`` is the engine's ``SchedulingContext.reclaim``. With a notice of 0 the
victims stop at once. Otherwise each victim keeps running until the notice ends (its
estimated end moves there, so reservations see it), then stops with its work saved (no
restart overhead: it checkpointed during the notice). The job that asked has a claim:
when the notice ends, right after the victims stop and before the decision pass, it is
started if it is still queued and placement fits it. If by then that job is no longer
queued (it started elsewhere, or was withdrawn), the notice is withdrawn: the victims
run on with their old estimated ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.policies.base import Renumbering

if TYPE_CHECKING:
    from sim.engine.core import Engine


class Notices:
    """Running jobs under notice and the queued jobs waiting for their GPUs."""

    def __init__(self, engine: Engine, notice: float) -> None:
        self.engine = engine
        self.notice = notice
        self.leaving: dict[int, int] = {}  # running jobs given notice -> the job they make room for
        self.claims: set[int] = set()  # queued jobs waiting for the GPUs of leaving jobs

    def reclaim(self, job: int, victims: list[int], reason: str) -> bool:
        """Preempt ``victims`` to make room for queued ``job``; True if they stopped now.

        With ``spot_notice`` > 0 the victims keep running that long (their estimated end
        becomes the notice's end, so reservations see it), then stop with their work saved
        (no restart overhead), and ``job`` is started on the freed GPUs if it is still
        queued and fits: returns False, ``job`` has a claim until then.
        """
        engine, notice = self.engine, self.notice
        if notice <= 0:
            for victim in victims:
                engine.preempt(victim, reason)
            return True
        until = engine.now + notice
        for victim in victims:
            if victim in self.leaving:
                continue
            self.leaving[victim] = job
            old = engine._running_key[victim]
            assert old is not None
            self._rekey(victim, min(old[0], until))
            engine.clock.at(until, self._on_notice_end, (victim, reason, old[0]))
        self.claims.add(job)
        engine.clock.at(until, self._on_claim, job)
        return False

    def _rekey(self, victim: int, estimated_end: float) -> None:
        """Move a running job to another estimated end in the engine's sorted running lists."""
        engine = self.engine
        old = engine._running_key[victim]
        assert old is not None
        new = (estimated_end, old[1], victim)
        gpu_type, placement = engine.jobs.gpu_type[victim], engine.placement_of(victim)
        engine._running.remove(old, gpu_type, placement)
        engine._running.add(new, gpu_type, placement)
        engine._running_key[victim] = new
        # What reservations project changed, as if the type's GPUs had moved.
        engine.cluster.version_by_type[gpu_type] += 1

    def _on_notice_end(self, value: tuple[int, str, float]) -> None:
        victim, reason, estimated_end = value
        engine = self.engine
        claimant = self.leaving.pop(victim, None)
        if claimant is None or engine.placements[victim] is None:
            return  # it ended (or was stopped) before the notice ran out
        if claimant >= 0 and claimant in engine.queue:
            engine.preempt(victim, reason, overhead=0.0)
            engine._after_event()
        else:  # the job it made room for started elsewhere or left: the notice is withdrawn
            self._rekey(victim, estimated_end)
            engine._after_event()

    def _on_claim(self, job: int) -> None:
        engine = self.engine
        self.claims.discard(job)
        if job in engine.queue:
            placement = engine.place(job)
            if placement is not None:
                engine.start(job, placement)
                engine._after_event()

    def jobs_dropped(self, renumber: Renumbering) -> None:
        """Renumber (``dropping``). A dropped victim's notice is over (its heap entry goes
        too); a dropped claimant has ended, so it stays as -1, a job that is never queued:
        the notice is withdrawn when it ends."""
        new = renumber.new
        self.leaving = {
            new[victim]: new[claimant] if claimant >= 0 else -1  # (-1: dropped at an earlier drop)
            for victim, claimant in self.leaving.items()
            if new[victim] >= 0
        }
        self.claims = set(renumber.jobs(self.claims))
