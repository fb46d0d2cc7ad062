"""A ClusterQueue's pending jobs grouped by shape (GPU type, GPUs), each group in job order.

Why groups: within one admission pass, once a job of a shape does not fit, no later job of
that shape will (admission only uses quota up), so a pass looks at the front job of each
group and drops the group at its first refusal. That costs O(admitted + groups) per pass
instead of O(pending jobs): a backlog of thousands of queued jobs stays cheap.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable

Shape = tuple[str, float]


class Backlog:
    """Pending jobs by shape; a group's front moves past jobs admitted or gone (lazily)."""

    def __init__(self) -> None:
        self._groups: dict[Shape, list[int]] = {}
        self._first: dict[Shape, int] = {}

    def add(self, shape: Shape, job: int) -> None:
        group = self._groups.setdefault(shape, [])
        first = self._first.setdefault(shape, 0)
        if first > 64 and first * 2 > len(group):  # drop the dead front once it dominates
            del group[:first]
            first = self._first[shape] = 0
        if not group or job > group[-1]:
            group.append(job)
        else:
            bisect.insort(group, job, lo=first)

    def front(self, shape: Shape, pending: Callable[[int], bool]) -> int | None:
        """The first job of the group still pending (skipping the others for good), or None."""
        group, first = self._groups[shape], self._first[shape]
        while first < len(group) and not pending(group[first]):
            first += 1
        self._first[shape] = first
        return group[first] if first < len(group) else None

    def fronts(self, pending: Callable[[int], bool]) -> list[tuple[int, Shape]]:
        """(front job, shape) of every non-empty group, as a heap by job number."""
        heads = []
        for shape in self._groups:
            job = self.front(shape, pending)
            if job is not None:
                heads.append((job, shape))
        heapq.heapify(heads)
        return heads
