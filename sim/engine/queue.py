"""The wait queue: job numbers in queue order, with O(1) removal from anywhere."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator


class JobQueue:
    """Queued jobs in arrival order; removal marks a job gone and the deque drops it lazily.

    Why not an insertion-ordered dict: popping the front of a dict over and over leaves
    dead slots that every ``next(iter(d))`` walks again. Compaction happens only in ``add``
    (never during a decision pass), so iterating while a pass starts jobs is safe.
    """

    def __init__(self, jobs: int) -> None:
        self._order: deque[int] = deque()
        self._queued = bytearray(jobs)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __contains__(self, job: int) -> bool:
        return bool(self._queued[job])

    def __iter__(self) -> Iterator[int]:
        queued = self._queued
        return (job for job in self._order if queued[job])

    def head(self) -> int:
        """The first queued job (IndexError if none)."""
        order, queued = self._order, self._queued
        while not queued[order[0]]:
            order.popleft()
        return order[0]

    def add(self, job: int) -> None:
        if len(self._order) > 2 * self._size + 64:
            queued = self._queued
            self._order = deque(job for job in self._order if queued[job])
        self._order.append(job)
        self._queued[job] = 1
        self._size += 1

    def remove(self, job: int) -> None:
        if not self._queued[job]:
            raise KeyError(f"job {job} is not queued")
        self._queued[job] = 0
        self._size -= 1
