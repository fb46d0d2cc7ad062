"""The engine's market side: demand response at submission and dynamic price updates.

At a job's arrival (after its GPU type is bound) ``Market.accepts`` quotes its price
(``pricing.rate`` of its type and tier, now). A job willing to pay at least that much is
submitted. Otherwise a deferrable job waits: at every instant the price may change
(``pricing.next_change``) it is submitted if the price is then within its willingness,
and it balks once ``max_defer`` has passed since its arrival without that. A job that is
not deferrable balks at once. Balked jobs are rows of jobs.csv with status ``balked``.

A pricing policy with an ``interval`` (``dynamic``) observes the cluster at 0, interval,
2 interval, ... (before the other events of that instant): per GPU type the busy share
and the queued GPUs per GPU of capacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import compress
from typing import TYPE_CHECKING

from sim.engine.clock import NORMAL, URGENT
from sim.policies.base import Renumbering
from sim.policies.pricing.base import Pricing
from sim.scenario.market import Demand
from sim.workload.demand import Willingness

if TYPE_CHECKING:
    from sim.engine.core import Engine

# Deferred jobs are looked at after the arrivals of their instant, like an arrival.
RELEASES = NORMAL + 2


class Market:
    """Quotes, balks and deferrals of one run, and the dynamic price clock."""

    def __init__(
        self, engine: Engine, pricing: Pricing, demand: Demand | None, willingness: Willingness | None
    ) -> None:
        self.engine = engine
        self.pricing = pricing
        self.demand = demand
        self.willingness = willingness
        self.deferred: dict[int, float] = {}  # job -> instant it gives up
        self.balked: dict[int, tuple[float, str]] = {}  # job -> (when, why)
        self.deferrals: list[float] = []  # seconds each released deferred job waited, in release order
        self._recheck_at = math.inf

    @property
    def responds(self) -> bool:
        """Whether any job may turn away on price."""
        return self.willingness is not None

    def limit(self, job: int) -> float:
        """EUR per GPU-hour the job is willing to pay on its bound GPU type."""
        assert self.willingness is not None and self.demand is not None
        multiplier = self.willingness.multiplier[job]
        if multiplier == math.inf:
            return math.inf
        return self.demand.reference(self.engine.jobs.gpu_type[job]) * multiplier

    def quote(self, job: int, t: float) -> float:
        jobs = self.engine.jobs
        return self.pricing.rate(jobs.gpu_type[job], jobs.tier[job], t)

    def accepts(self, job: int) -> bool:
        """At arrival: True to submit the job now; else it is deferred or has balked."""
        limit = self.limit(job)
        if limit == math.inf:
            return True
        now = self.engine.now
        quote = self.quote(job, now)
        if quote <= limit:
            return True
        assert self.willingness is not None and self.demand is not None
        if self.willingness.deferrable[job]:
            self.deferred[job] = now + self.demand.max_defer
            self._schedule_recheck(now)
        else:
            self.balked[job] = (now, f"price {quote:.2f} EUR/GPU-h above its willingness {limit:.2f}")
        return False

    def _schedule_recheck(self, now: float) -> None:
        # Jobs are deferred in time order with the same max_defer, so the first gives up first.
        give_up = next(iter(self.deferred.values()))
        at = min(self.pricing.next_change(now), give_up)
        if at < self._recheck_at:
            self._recheck_at = at
            self.engine.clock.at(at, self._on_recheck, priority=RELEASES)

    def _on_recheck(self, _: None) -> None:
        engine = self.engine
        now = engine.now
        if now != self._recheck_at:  # superseded by an earlier recheck
            return
        self._recheck_at = math.inf
        released = False
        for job in sorted(self.deferred):
            give_up = self.deferred[job]
            limit = self.limit(job)
            if self.quote(job, now) <= limit:
                del self.deferred[job]
                self.deferrals.append(now - engine.jobs.submit[job])
                engine._submit(job)
                released = True
            elif give_up <= now:
                del self.deferred[job]
                self.balked[job] = (
                    now,
                    f"no price within its willingness {limit:.2f} EUR/GPU-h for max_defer",
                )
        if self.deferred:
            self._schedule_recheck(now)
        if released:
            engine._after_event()

    def withdraw(self, job: int) -> bool:
        """A deferred job's end_by came: drop it (True if it was deferred)."""
        return self.deferred.pop(job, None) is not None

    # --- dynamic prices ------------------------------------------------------------------

    def start_observing(self, first: float) -> None:
        interval = self.pricing.interval
        if interval:
            self.engine.clock.at(first - first % interval, self._on_observe, priority=URGENT)

    def _on_observe(self, _: None) -> None:
        engine = self.engine
        now = engine.now
        cluster, capacity = engine.cluster, engine.layout.capacity_by_type
        utilisation = {t: 1 - cluster.free_by_type[t] / c for t, c in capacity.items()}
        queued = {t: engine._queued_by_type[t] / c for t, c in capacity.items()}
        self.pricing.observe(now, utilisation, queued)
        interval = self.pricing.interval
        assert interval
        if engine._next_arrival < len(engine.jobs) or engine._running_count or self.deferred:
            engine.clock.at(now + interval, self._on_observe, priority=URGENT)

    def take(self, more: Willingness) -> None:
        """The willingness of a window's jobs, appended (``feeding``)."""
        w = self.willingness
        self.willingness = more if w is None else Willingness.concat([w, more])

    def jobs_dropped(self, renumber: Renumbering, keep: Sequence[bool]) -> None:
        """Renumber (``dropping``; deferred jobs are never dropped)."""
        self.deferred = renumber.keys(self.deferred)
        self.balked = renumber.keys(self.balked)
        w = self.willingness
        if w is not None:  # a copy: the workload's own stays whole
            self.willingness = Willingness(
                *(list(compress(column, keep)) for column in (w.multiplier, w.deferrable, w.rule))
            )
