"""A SimPy environment that schedules callbacks at absolute instants.

Why: ``Timeout(env, t - now)`` lands at ``now + (t - now)``, which can differ from ``t`` in
the last bit, so two events meant for one instant could land apart and get two decision
passes. Scheduling at ``t`` itself keeps trace times exact.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT
from simpy.events import Event

__all__ = ["NORMAL", "URGENT", "Clock"]


class Clock(simpy.Environment):
    """``simpy.Environment`` plus ``at``: run a callback at an absolute time."""

    def at(
        self, time: float, callback: Callable[[Event], Any], value: Any = None, priority: int = NORMAL
    ) -> Event:
        if time < self._now:
            raise ValueError(f"cannot schedule at {time}, before now ({self._now})")
        event = Event(self)
        # The same two fields Timeout sets: the event has triggered successfully with `value`.
        event._ok = True
        event._value = value
        event.callbacks.append(callback)  # type: ignore[union-attr]
        heappush(self._queue, (time, priority, next(self._eid), event))
        return event
