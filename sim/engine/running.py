"""The running jobs in the orders reservations read: by estimated end, and per node.

A job's key is ``(estimated end, start order, job)``, the estimated end being the start plus
its requested time as placed (a spot notice can bring it forward). ``by_type`` keeps each
GPU type's running jobs sorted by key (``running_of_type``). ``free_at`` keeps, per type,
every node that holds a running job as ``(estimated end, start order, node)`` of the last
job on it (the largest key): the order in which nodes come fully free if every job ends
when estimated. A head wanting whole nodes reads its shadow time there (the k-th entry)
instead of walking the running jobs (``HeadReservation``). Not kept for types of one GPU
per node: there every job frees whole nodes, so the walk is as short as the list is costly.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from itertools import repeat

from sim.cluster.state import Placement

Key = tuple[float, int, int]


class RunningIndex:
    """Running jobs by key per GPU type, and busy nodes by when their last job ends."""

    def __init__(self, gpus_per_node: dict[str, int], nodes: int) -> None:
        self.by_type: dict[str, list[Key]] = {gpu_type: [] for gpu_type in gpus_per_node}
        self._gpus_per_node = gpus_per_node
        self.free_at: dict[str, list[Key]] = {t: [] for t, size in gpus_per_node.items() if size > 1}
        # Per node shared by several jobs (each holding part of it): their keys, and the largest.
        self._on_node: list[list[Key]] = [[] for _ in range(nodes)]
        self._last: list[Key | None] = [None] * nodes
        self.changes = 0  # starts, stops and re-keys: when a merged list is stale

    def add(self, key: Key, gpu_type: str, placement: Placement) -> None:
        """A job starts on ``placement``."""
        insort(self.by_type[gpu_type], key)
        self.changes += 1
        free_at, on_node, last_of = self.free_at.get(gpu_type), self._on_node, self._last
        if free_at is None:
            return
        nodes = placement.nodes
        if placement.gpus_per_node == self._gpus_per_node[gpu_type]:
            # Whole nodes: idle before, the job's alone now: one block of entries, no per-node lists.
            at = bisect_left(free_at, (key[0], key[1], -1))
            free_at[at:at] = zip(repeat(key[0]), repeat(key[1]), sorted(nodes))
            return
        for node in nodes:
            on_node[node].append(key)
            last = last_of[node]
            if last is None or key > last:
                if last is not None:
                    del free_at[bisect_left(free_at, (last[0], last[1], node))]
                insort(free_at, (key[0], key[1], node))
                last_of[node] = key

    def remove(self, key: Key, gpu_type: str, placement: Placement) -> bool:
        """A job stops; False (nothing changed) if ``key`` is not listed."""
        of_type = self.by_type[gpu_type]
        index = bisect_left(of_type, key)
        if index == len(of_type) or of_type[index] != key:
            return False
        del of_type[index]
        self.changes += 1
        free_at, on_node, last_of = self.free_at.get(gpu_type), self._on_node, self._last
        if free_at is None:
            return True
        nodes = placement.nodes
        if placement.gpus_per_node == self._gpus_per_node[gpu_type]:
            at = bisect_left(free_at, (key[0], key[1], -1))
            del free_at[at : at + len(nodes)]
            return True
        for node in nodes:
            jobs = on_node[node]
            jobs.remove(key)
            if last_of[node] == key:
                del free_at[bisect_left(free_at, (key[0], key[1], node))]
                last = last_of[node] = max(jobs) if jobs else None
                if last is not None:
                    insort(free_at, (last[0], last[1], node))
        return True

    def rekey(self, keys: dict[Key, Key]) -> None:
        """Replace every listed key by ``keys[key]`` (``dropping``: the job numbers moved down,
        so the order is unchanged). The busy nodes are listed by node, not job: they stay."""
        for gpu_type, listed in self.by_type.items():
            self.by_type[gpu_type] = [keys[key] for key in listed]
        self._on_node = [[keys[key] for key in on_node] for on_node in self._on_node]
        self._last = [None if key is None else keys[key] for key in self._last]
        self.changes += 1
