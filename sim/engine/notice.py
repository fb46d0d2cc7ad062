"""Spot notice: jobs preempted for another get a warning period before they stop.

``Notices.reclaim`` is the engine's ``SchedulingContext.reclaim``. With a notice of 0 the
victims stop at once. Otherwise each victim keeps running until the notice ends (its
estimated end moves there, so reservations see it), then stops with its work saved (no
restart overhead: it checkpointed during the notice). The job that asked has a claim:
when the notice ends, right after the victims stop and before the decision pass, it is
started if it is still queued and placement fits it.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from sim.engine.clock import Call

if TYPE_CHECKING:
    from sim.engine.core import Engine


class Notices:
    """Running jobs under notice and the queued jobs waiting for their GPUs."""

    def __init__(self, engine: Engine, notice: float) -> None:
        self.engine = engine
        self.notice = notice
        self.leaving: dict[int, float] = {}  # running jobs given notice -> when they stop
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
            self.leaving[victim] = until
            old = engine._running_key[victim]
            assert old is not None
            new = (min(old[0], until), old[1], victim)
            for running in (engine.running, engine._running_by_type[engine.jobs.gpu_type[victim]]):
                del running[bisect.bisect_left(running, old)]
                bisect.insort(running, new)
            engine._running_key[victim] = new
            engine.clock.at(until, self._on_notice_end, (victim, reason))
        self.claims.add(job)
        engine.clock.at(until, self._on_claim, job)
        return False

    def _on_notice_end(self, event: Call) -> None:
        victim, reason = event.value
        engine = self.engine
        engine.now = engine.clock.now
        if self.leaving.pop(victim, None) is not None and engine.placements[victim] is not None:
            engine.preempt(victim, reason, overhead=0.0)
            engine._after_event()
        else:
            engine._pass_if_last()

    def _on_claim(self, event: Call) -> None:
        job: int = event.value
        engine = self.engine
        engine.now = engine.clock.now
        self.claims.discard(job)
        if job in engine.queue:
            placement = engine.place(job)
            if placement is not None:
                engine.start(job, placement)
                engine._after_event()
                return
        engine._pass_if_last()
