"""The wait queue: job numbers in queue order, with O(1) removal from anywhere.

Job numbers are assigned in queue order (submit time, ties in input order), so the queue
is simply its job numbers in ascending order, also when a preempted job comes back.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from itertools import compress

from sim.policies.base import Renumbering


class JobQueue:
    """Queued jobs in ascending job number; removal marks a job gone, entries drop lazily.

    ``_order`` is sorted and may hold dead entries (removed jobs) from ``_first`` on;
    ``_alive[i]`` says whether ``_order[i]`` is queued (the same flag as ``_queued`` by
    job, kept by position so iteration reads it without a call per entry);
    ``_listed[job]`` says whether ``job`` has an entry there, so a requeued job whose old
    entry is still listed just comes alive again, at its right place. Why not an
    insertion-ordered dict: popping the front of a dict over and over leaves dead slots
    that every ``next(iter(d))`` walks again.
    """

    def __init__(self, jobs: int) -> None:
        self._order: list[int] = []
        self._alive = bytearray()  # per entry of _order: 1 if its job is queued
        self._first = 0
        self._queued = bytearray(jobs)
        self._listed = bytearray(jobs)
        self.size = 0  # queued jobs (what len() gives, without a call in hot loops)
        # Jobs added before the last listed one (requeued or admitted late): a scan that
        # looked only at jobs after a remembered last one must look again when this moves.
        self.inserted_inside = 0

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def __contains__(self, job: int) -> bool:
        return bool(self._queued[job])

    def __iter__(self) -> Iterator[int]:
        """Queued jobs in order. Adding to the queue while iterating is not supported."""
        return self._from(self._first)

    def after(self, job: int) -> Iterator[int]:
        """Queued jobs with a number above ``job``, in order (removing while iterating is fine)."""
        return self._from(bisect.bisect_right(self._order, job, lo=self._first))

    def _from(self, start: int) -> Iterator[int]:
        # Lazy and without a Python step per entry: a removal during the walk is seen, since
        # ``compress`` reads each entry's alive flag only when it gets there. The two list
        # iterators are set to ``start`` directly (``islice`` would step through the skipped
        # entries; a call per entry to read a flag by job cost 3x the whole walk).
        entries, flags = iter(self._order), iter(self._alive)
        entries.__setstate__(start)
        flags.__setstate__(start)
        return compress(entries, flags)

    def last(self) -> int:
        """The highest job number listed (queued or not yet dropped), -1 if none."""
        return self._order[-1] if self._order else -1

    def head(self) -> int:
        """The first queued job (IndexError if none)."""
        order, alive = self._order, self._alive
        while not alive[self._first]:
            self._listed[order[self._first]] = 0
            self._first += 1
        return order[self._first]

    def add(self, job: int) -> None:
        if self._queued[job]:
            raise ValueError(f"job {job} is already queued")
        self._queued[job] = 1
        self.size += 1
        order = self._order
        if self._listed[job]:
            self.inserted_inside += 1
            self._alive[bisect.bisect_left(order, job, self._first)] = 1
            return
        self._listed[job] = 1
        if not order or job > order[-1]:
            order.append(job)
            self._alive.append(1)
        else:
            self.inserted_inside += 1
            at = bisect.bisect_left(order, job, self._first)
            order.insert(at, job)
            self._alive.insert(at, 1)

    def remove(self, job: int) -> None:
        if not self._queued[job]:
            raise KeyError(f"job {job} is not queued")
        self._queued[job] = 0
        first = self._first
        # The head, most often (fifo): no search.
        at = first if self._order[first] == job else bisect.bisect_left(self._order, job, first)
        self._alive[at] = 0
        self.size -= 1

    def compact(self) -> None:
        """Drop dead entries once they outnumber live ones (never call during a pass)."""
        order = self._order
        if len(order) - self._first <= 2 * self.size + 64 and self._first < 4096:
            return
        queued, listed = self._queued, self._listed
        live = []
        for job in order[self._first :]:
            if queued[job]:
                live.append(job)
            else:
                listed[job] = 0
        self._order, self._alive, self._first = live, bytearray(b"\x01") * len(live), 0

    def grow(self, jobs: int) -> None:
        """Room for ``jobs`` more job numbers (``feeding``: a window's jobs appended)."""
        self._queued += bytes(jobs)
        self._listed += bytes(jobs)

    def jobs_dropped(self, renumber: Renumbering, keep: Sequence[bool]) -> None:
        """Ended jobs (never queued) are gone and the others renumbered in order (``dropping``;
        ``keep`` flags the kept old numbers). The dropped jobs' dead entries go too."""
        new, first = renumber.new, self._first
        entries = zip(self._order[first:], self._alive[first:], strict=True)
        kept = [(new[job], alive) for job, alive in entries if new[job] >= 0]
        self._order = [job for job, _ in kept]
        self._alive = bytearray(alive for _, alive in kept)
        self._first = 0
        self._queued = bytearray(compress(self._queued, keep))
        self._listed = bytearray(compress(self._listed, keep))
