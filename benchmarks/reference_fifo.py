"""The bare reference for ``bench.py``: strict FIFO in a plain heapq loop (reference, not gpusim).

It makes exactly gpusim ``fifo`` + ``pack``'s decisions on the same job table, so the two
schedules are identical (``bench.py`` checks a hash of the start times), with nothing but
what that needs: a list of arrivals, a heap of completions, a deque as the queue, free GPUs
per node with ``pack``'s per-free-count node index, and one (start, end, nodes) record per
job. No events, policies, checks, records or samples: the floor a Python engine can reach.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections import deque

from sim.cluster.state import ClusterLayout
from sim.workload.jobs import JobTable


def reference_fifo(jobs: JobTable, layout: ClusterLayout) -> list[tuple[float, float, tuple[int, ...]]]:
    """(start, end, nodes) per job under strict FIFO with best-fit placement; NaN if never run."""
    kinds = {gpu_type: k for k, gpu_type in enumerate(layout.gpu_types)}
    node_size = [layout.gpus_per_node[t] for t in layout.gpu_types]
    by_free: list[list[list[int]]] = []  # per type, per free count: sorted node ids
    for gpu_type, size in zip(layout.gpu_types, node_size, strict=True):
        index: list[list[int]] = [[] for _ in range(size + 1)]
        for pod in layout.pods_by_type[gpu_type]:
            index[size].extend(range(pod.first_node, pod.end_node))
        by_free.append(index)
    pods = [[(p.index, p.first_node, p.end_node) for p in layout.pods_by_type[t]] for t in layout.gpu_types]
    free = [layout.pods[p].gpus_per_node for p in layout.node_pod]
    whole = [p.nodes for p in layout.pods]
    node_pod = layout.node_pod
    kind = [kinds[t] for t in jobs.gpu_type]
    gpus, submit, duration = jobs.gpus, jobs.submit, jobs.duration
    # A job larger than its type's nodes can never run (gpusim rejects it on arrival).
    nodes_of_type = [layout.nodes_by_type[t] for t in layout.gpu_types]
    hostable = [
        need <= node_size[k] or -(-need // node_size[k]) <= nodes_of_type[k]
        for need, k in zip(gpus, kind, strict=True)
    ]

    def move(k: int, nodes: tuple[int, ...], delta: int) -> None:
        index, size = by_free[k], node_size[k]
        for node in nodes:
            old = free[node]
            new = free[node] = old + delta
            bucket = index[old]
            del bucket[bisect_left(bucket, node)]
            insort(index[new], node)
            if old == size:
                whole[node_pod[node]] -= 1
            elif new == size:
                whole[node_pod[node]] += 1

    def place(job: int) -> tuple[tuple[int, ...], int] | None:
        k, need = kind[job], gpus[job]
        size, index = node_size[k], by_free[k]
        if need <= size:
            for count in range(need, size + 1):
                if index[count]:
                    return (index[count][0],), need
            return None
        nodes = -(-need // size)
        empty = index[size]
        if len(empty) < nodes:
            return None
        fits = [(whole[i], i, lo) for i, lo, _ in pods[k] if whole[i] >= nodes]
        if fits:
            lo = min(fits)[2]
            first = bisect_left(empty, lo)
            return tuple(empty[first : first + nodes]), size
        taken: list[int] = []
        for _, _, lo, hi in sorted((-whole[i], i, lo, hi) for i, lo, hi in pods[k]):
            first = bisect_left(empty, lo)
            for node in empty[first : first + nodes - len(taken)]:
                if node >= hi:
                    break
                taken.append(node)
            if len(taken) == nodes:
                break
        return tuple(taken), size

    n = len(submit)
    records: list[tuple[float, float, tuple[int, ...]]] = [(math.nan, math.nan, ())] * n
    held: list[tuple[tuple[int, ...], int] | None] = [None] * n
    ends: list[tuple[float, int]] = []
    queue: deque[int] = deque()
    i = 0
    while i < n or ends:
        now = submit[i] if i < n else math.inf
        if ends and ends[0][0] < now:
            now = ends[0][0]
        while ends and ends[0][0] == now:
            job = heapq.heappop(ends)[1]
            nodes, per = held[job]  # type: ignore[misc]
            move(kind[job], nodes, per)
        while i < n and submit[i] == now:
            if hostable[i]:
                queue.append(i)
            i += 1
        while queue:
            job = queue[0]
            placement = place(job)
            if placement is None:
                break
            queue.popleft()
            held[job] = placement
            move(kind[job], placement[0], -placement[1])
            end = now + duration[job]
            records[job] = (now, end, placement[0])
            heapq.heappush(ends, (end, job))
    return records
