"""A SimPy environment that schedules callbacks at absolute instants.

Why absolute: ``Timeout(env, t - now)`` lands at ``now + (t - now)``, which can differ from
``t`` in the last bit, so two events meant for one instant could land apart and get two
decision passes. Scheduling at ``t`` itself keeps trace times exact.

Why not ``simpy.Event``: the engine schedules two events per job, and SimPy's loop
(``Environment.step``) reads only ``callbacks``, ``_ok`` and ``_value`` of what it pops.
A slotted ``Call`` with those fields costs a third of an ``Event`` to create.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT

from sim.engine import stopping

__all__ = ["NORMAL", "URGENT", "Call", "Clock"]


class Call:
    """A scheduled callback: what ``Environment.step`` needs of an event, nothing more."""

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self, callback: Callable[[Call], Any], value: Any) -> None:
        self._ok = True
        self._value = value
        self.callbacks: list[Callable[[Call], Any]] | None = [callback]

    @property
    def value(self) -> Any:
        return self._value


class Clock(simpy.Environment):
    """``simpy.Environment`` plus ``at``: run a callback at an absolute time."""

    def at(
        self, time: float, callback: Callable[[Call], Any], value: Any = None, priority: int = NORMAL
    ) -> Call:
        if time < self._now:
            raise ValueError(f"cannot schedule at {time}, before now ({self._now})")
        call = Call(callback, value)
        heappush(self._queue, (time, priority, next(self._eid), call))
        return call

    def run_events(self, until: float = math.inf) -> bool:
        """Run the events before ``until`` (then stand at ``until`` if finite).

        Returns True if it stopped early on ``stopping.request_stop``: after the last event
        of an instant, never inside one. SimPy's ``run`` would do the rest, but its
        per-event ``step`` (and its stop-event machinery) cost more than this loop.
        """
        queue = self._queue
        while queue:
            if queue[0][0] >= until:
                break
            self._now, _, _, call = heappop(queue)
            callbacks, call.callbacks = call.callbacks, None
            for callback in callbacks:
                callback(call)
            if stopping.requested and (not queue or queue[0][0] != self._now):
                return True
        if until != math.inf:
            self._now = until
        return False
