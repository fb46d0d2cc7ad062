"""Queued jobs of one GPU type grouped by GPU count: what a backfill scan can skip unseen.

A backfill scan after a blocked head looks at every queued job of a type, in queue order,
but on a busy cluster most of them ask for more than any node (or the whole free nodes)
could give right now: placement would refuse them whatever the policy. Grouping the queue
by GPU count lets ``could_fit`` hand the scan only the groups that might fit, merged back
into queue order, so the others cost nothing.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from itertools import chain, compress, repeat
from operator import ge


class QueueByShape:
    """The queued jobs of one GPU type: per GPU count, their job numbers ascending (queue order)."""

    def __init__(self, gpus_per_node: int) -> None:
        self.gpus_per_node = gpus_per_node
        self.groups: dict[int, list[int]] = {}
        self._requested: dict[int, list[float]] = {}  # per group, each job's requested time
        self._sizes: list[int] = []  # the groups' GPU counts, ascending

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
            group.insert(index, job)
            self._requested[gpus].insert(index, requested)

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
