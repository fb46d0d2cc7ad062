"""The simulation clock: a heap of callbacks at absolute instants.

Why absolute: scheduling at ``now + (t - now)`` can land a last bit away from ``t``, so two
events meant for one instant could land apart and get two decision passes. Scheduling at
``t`` itself keeps trace times exact.

Why not SimPy's ``Environment``: the engine needs nothing of it but a time-ordered heap,
and its per-event ``step`` (an ``Event`` object, a callbacks list, ok/defused checks) cost
more than the rest of a job's handling: a heap entry here is one tuple,
``(time, priority, sequence, callback, value)``, and the engine's own loop pops it and calls
``callback(value)``. Entries of one instant run by priority, then in scheduling order, as
SimPy orders them.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from itertools import count
from typing import Any

URGENT = 0  # before anything else at its instant (samples, price observations)
NORMAL = 1  # completions, withdrawals, notices

__all__ = ["NORMAL", "URGENT", "Clock"]


class Clock:
    """The current time and the heap of scheduled callbacks (the engine runs the loop)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.queue: list[tuple[float, int, int, Callable[[Any], Any], Any]] = []
        self.sequence = count()  # ties at one instant and priority run in scheduling order

    def at(
        self, time: float, callback: Callable[[Any], Any], value: Any = None, priority: int = NORMAL
    ) -> None:
        """Call ``callback(value)`` at ``time`` (never before now)."""
        if time < self.now:
            raise ValueError(f"cannot schedule at {time}, before now ({self.now})")
        heappush(self.queue, (time, priority, next(self.sequence), callback, value))
