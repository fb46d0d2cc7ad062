"""Queued jobs of one GPU type grouped by GPU count: what a backfill scan can skip unseen.

A backfill scan after a blocked head looks at every queued job of a type, in queue order,
but on a busy cluster most of them ask for more than any node (or the whole free nodes)
could give right now: placement would refuse them whatever the policy. Grouping the queue
by GPU count lets ``could_fit`` hand the scan only the groups that might fit, merged back
into queue order, so the others cost nothing.

The same structure is the type's ``QueueView`` (``ctx.queue_of_type``): the groups hold
every queued job of the type, so a second, ungrouped per-type queue would only repeat them
(and cost its upkeep at every enqueue and dequeue). Its reads merge the groups back into
queue order; they are rare (spot preemption walks a type's queue once per pass), the upkeep
is per job.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import chain, compress, repeat
from operator import ge

from sim.policies.base import Renumbering


class QueueByShape:
    """The queued jobs of one GPU type: per GPU count, their job numbers ascending (queue order).

    Also a ``QueueView`` of the type's queue. Its walks (``iter``, ``after``) are snapshots
    taken when they start, merged from the groups (sorted runs: timsort merges them in
    O(n log groups)); starting the job just yielded is safe, and a walk does not see later
    changes. ``last()`` is the highest job number ever added (a high-water mark: nothing is
    listed after removal here, so this is what "listed" means), and ``inserted_inside``
    counts the adds of a job numbered at most that: a scan that remembered ``last()`` and
    later looks only at higher numbers misses a job added since only if the counter moved.
    Requeued and late-admitted jobs are such adds; arrivals come in job-number order and
    never are.
    """

    def __init__(self, gpus_per_node: int) -> None:
        self.gpus_per_node = gpus_per_node
        self.groups: dict[int, list[int]] = {}
        self._requested: dict[int, list[float]] = {}  # per group, each job's requested time
        self._sizes: list[int] = []  # the groups' GPU counts, ascending
        self._last = -1  # the highest job number ever added
        self.inserted_inside = 0  # adds of a job numbered at most _last

    def add(self, job: int, gpus: int, requested: float) -> None:
        group = self.groups.get(gpus)
        if group is None:
            self.groups[gpus] = [job]
            self._requested[gpus] = [requested]
            insort(self._sizes, gpus)
        elif job > group[-1]:
            group.append(job)
            self._requested[gpus].append(requested)
        else:  # a requeued or late-admitted job: back at its queue-order place
            index = bisect_left(group, job)
            if group[index] == job:
                raise ValueError(f"job {job} is already queued")
            group.insert(index, job)
            self._requested[gpus].insert(index, requested)
        if job > self._last:
            self._last = job
        else:
            self.inserted_inside += 1

    def remove(self, job: int, gpus: int) -> None:
        group = self.groups.get(gpus, [])
        index = bisect_left(group, job)
        if index == len(group) or group[index] != job:
            raise KeyError(f"job {job} is not queued with {gpus} GPUs")
        del group[index]
        del self._requested[gpus][index]
        if not group:
            del self.groups[gpus]
            del self._requested[gpus]
            del self._sizes[bisect_left(self._sizes, gpus)]

    # --- QueueView -----------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(map(len, self.groups.values()))

    def __bool__(self) -> bool:
        return bool(self.groups)  # an emptied group is dropped

    @property
    def size(self) -> int:
        return len(self)

    def __contains__(self, job: int) -> bool:
        for group in self.groups.values():
            index = bisect_left(group, job)
            if index < len(group) and group[index] == job:
                return True
        return False

    def __iter__(self) -> Iterator[int]:
        """The queued jobs in queue order (a snapshot)."""
        return self.after(-1)

    def after(self, job: int) -> Iterator[int]:
        """The queued jobs numbered above ``job``, in queue order (a snapshot)."""
        groups = self.groups.values()
        if len(groups) == 1:
            group = next(iter(groups))
            return iter(group[bisect_right(group, job) :])
        return iter(sorted(chain.from_iterable(group[bisect_right(group, job) :] for group in groups)))

    def head(self) -> int:
        """The first queued job (IndexError if none)."""
        if not self.groups:
            raise IndexError("no job of this type is queued")
        return min(group[0] for group in self.groups.values())

    def last(self) -> int:
        """The highest job number ever added, -1 if none (see the class docstring)."""
        return self._last

    def could_fit(
        self,
        nodes_by_free: list[list[int]],
        after: int = -1,
        over: float = math.inf,
        within: float = math.inf,
    ) -> list[int]:
        """The jobs numbered above ``after`` that a placement could find room for now, ascending.

        A job within one node needs a node with that many free GPUs; a larger one needs
        ``ceil(gpus / gpus_per_node)`` whole free nodes (``nodes_by_free`` is the type's index
        of node ids by free count). The others cannot be placed by any placement policy, so a
        scan would refuse them unseen. Of the jobs holding whole nodes with more than ``over``
        GPUs, only those requesting at most ``within`` seconds are kept (a reservation's
        refusal, see ``HeadReservation.refuses_whole``). A new list: the caller may start
        jobs while reading it.
        """
        gpn = self.gpus_per_node
        # With a whole free node every single-node job fits by count, and a larger one if it
        # needs no more whole nodes than are free: at most whole x gpn GPUs. Without one, at
        # most the free GPUs of the freest node.
        limit = len(nodes_by_free[gpn]) * gpn
        if not limit:
            limit = gpn - 1
            while limit and not nodes_by_free[limit]:
                limit -= 1
        groups, requested = self.groups, self._requested
        runs: list[Iterable[int]] = []
        for gpus in self._sizes[: bisect_right(self._sizes, limit)]:
            group = groups[gpus]
            first = bisect_right(group, after) if after >= 0 else 0
            if gpus > over and gpus >= gpn:  # in C: requested times against the bound
                runs.append(compress(group[first:], map(ge, repeat(within), requested[gpus][first:])))
            else:
                runs.append(group[first:] if first else group)
        if len(runs) == 1:
            return list(runs[0])
        return sorted(chain.from_iterable(runs))  # sorted runs: timsort merges them

    def jobs_dropped(self, renumber: Renumbering) -> None:
        """Renumber (``dropping``: no queued job is dropped). The high-water mark goes to the
        last kept job at or below it, so it compares with every kept job as before."""
        new = renumber.new
        for gpus, group in self.groups.items():
            self.groups[gpus] = [new[job] for job in group]
        self._last = renumber.floor(self._last)
