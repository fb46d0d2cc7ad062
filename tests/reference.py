"""An independent flat-pool FIFO/EASY scheduler, written from DESIGN.md's words alone.

No SimPy, no cluster model, no code shared with ``sim``: a heap of completions and a list
queue. Tests compare gpusim's start times on a flat pool (``gpus_per_node: 1``) to it.
"""

from __future__ import annotations

import heapq
import math


def reference_starts(
    submit: list[float],
    gpus: list[int],
    duration: list[float],
    requested: list[float],
    capacity: int,
    policy: str,
) -> list[float]:
    """Start time of every job (NaN if rejected), jobs given in queue order."""
    n = len(submit)
    start = [math.nan] * n
    free = capacity
    completions: list[tuple[float, int]] = []
    running: list[tuple[float, int, int]] = []  # (start + requested, start order, job)
    queue: list[int] = []
    order = 0
    i = 0
    while i < n or completions:
        now = min(submit[i] if i < n else math.inf, completions[0][0] if completions else math.inf)
        while completions and completions[0][0] == now:
            _, job = heapq.heappop(completions)
            free += gpus[job]
            running[:] = [r for r in running if r[2] != job]
        while i < n and submit[i] == now:
            if gpus[i] <= capacity:
                queue.append(i)
            i += 1

        def begin(job: int, now: float = now) -> None:
            nonlocal free, order
            free -= gpus[job]
            start[job] = now
            heapq.heappush(completions, (now + duration[job], job))
            running.append((now + requested[job], order, job))
            order += 1
            queue.remove(job)

        while queue and gpus[queue[0]] <= free:
            begin(queue[0])
        if policy == "easy" and queue:
            head = queue[0]
            available = free
            shadow = now
            for estimated_end, _, job in sorted(running):
                if available >= gpus[head]:
                    break
                available += gpus[job]
                shadow = max(estimated_end, now)
            extra = available - gpus[head]
            for job in list(queue[1:]):
                if gpus[job] > free:
                    continue
                if now + requested[job] <= shadow:
                    begin(job)
                elif gpus[job] <= extra:
                    begin(job)
                    extra -= gpus[job]
    return start


def read_swf(path: str) -> tuple[list[str], list[float], list[int], list[float], list[float]]:
    """(ids, submit, procs, run time, requested time) of an SWF log's usable jobs.

    Requested processors, else allocated; requested time, else the run time. Jobs with a
    non-positive run time or processor count are dropped.
    """
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    ids, submit, procs, run, req = [], [], [], [], []
    with opener(path, "rt") as handle:
        for line in handle:
            fields = line.split()
            if not fields or fields[0].startswith(";"):
                continue
            p = int(fields[7]) if int(fields[7]) > 0 else int(fields[4])
            r = float(fields[3])
            if p <= 0 or r <= 0:
                continue
            q = float(fields[8])
            ids.append(fields[0])
            submit.append(float(fields[1]))
            procs.append(p)
            run.append(r)
            req.append(q if q > 0 else r)
    return ids, submit, procs, run, req
