"""A ClusterQueue's pending jobs grouped by shape (GPU type, GPUs), each group in queue order.

Queue order is (when the job joined pending, job number): its submit time, or for an
evicted job the time it was evicted, as Kueue requeues an evicted workload by its eviction
time. So an evicted job goes behind the jobs already waiting instead of being readmitted
first (and, as the latest admitted, evicted first again at the next reclaim).

Why groups: within one admission pass, once a job of a shape does not fit, no later job of
that shape will (admission only uses quota up), so a pass looks at the front job of each
group and drops the group at its first refusal. That costs O(admitted + groups) per pass
instead of O(pending jobs): a backlog of thousands of queued jobs stays cheap.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable

from sim.policies.base import Renumbering

Shape = tuple[str, float]
Key = tuple[float, int]  # (joined pending at, job)


class Backlog:
    """Pending jobs by shape; a group's front moves past jobs admitted or gone (lazily)."""

    def __init__(self) -> None:
        self._groups: dict[Shape, list[Key]] = {}
        self._first: dict[Shape, int] = {}

    def add(self, shape: Shape, key: Key) -> None:
        group = self._groups.setdefault(shape, [])
        first = self._first.setdefault(shape, 0)
        if first > 64 and first * 2 > len(group):  # drop the dead front once it dominates
            del group[:first]
            first = self._first[shape] = 0
        if not group or key > group[-1]:
            group.append(key)
        else:
            bisect.insort(group, key, lo=first)

    def jobs_dropped(self, renumber: Renumbering) -> None:
        """Renumber; entries of dropped jobs (ended: never pending again, so fronts would skip
        them) go, with the dead fronts."""
        new = renumber.new
        for shape, group in self._groups.items():
            first = self._first[shape]
            self._groups[shape] = [(at, new[job]) for at, job in group[first:] if new[job] >= 0]
            self._first[shape] = 0

    def front(self, shape: Shape, pending: Callable[[int], bool]) -> Key | None:
        """The first entry of the group still pending (skipping the others for good), or None."""
        group, first = self._groups[shape], self._first[shape]
        while first < len(group) and not pending(group[first][1]):
            first += 1
        self._first[shape] = first
        return group[first] if first < len(group) else None

    def fronts(self, pending: Callable[[int], bool]) -> list[tuple[Key, Shape]]:
        """(front entry, shape) of every non-empty group, as a heap in queue order."""
        heads = []
        for shape in self._groups:
            key = self.front(shape, pending)
            if key is not None:
                heads.append((key, shape))
        heapq.heapify(heads)
        return heads
