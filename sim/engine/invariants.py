"""Engine invariants: the expensive checks run under ``--check`` (and by the test suite).

Cheap invariants are always on where they cost nothing extra: placements are validated and
no node goes below 0 or above its GPUs (``ClusterState``), nothing is scheduled in the past
and the clock never runs backwards (the engine's loop), and every job ends as exactly one
record with a known status (``collect``). Under ``check`` the engine also calls, after
every event, ``check_state`` (the cluster's counters recomputed from the running jobs'
placements, every job in exactly one state), and after every decision pass the quota's and
the scheduler's own ``violation`` (quota limits recomputed from the admitted jobs; EASY's
reservation never pushed later by its backfilling). A broken invariant raises
``InvariantError`` naming the time and what broke: it is a bug in gpusim or in a policy,
never the user's input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import SimError

if TYPE_CHECKING:
    from sim.engine.core import Engine


class InvariantError(SimError):
    """An engine invariant does not hold (see the module docstring)."""


def fail(engine: Engine, what: str) -> None:
    raise InvariantError(f"invariant broken at t={engine.now!r}: {what}")


def check_state(engine: Engine) -> None:
    """The cluster's free counts and indexes, and the jobs' states, recomputed from scratch."""
    cluster, layout, jobs = engine.cluster, engine.layout, engine.jobs
    size = [layout.pods[pod].gpus_per_node for pod in layout.node_pod]
    held = [0] * layout.node_count
    running = [job for job, placement in enumerate(engine.placements) if placement is not None]
    for job in running:
        placement = engine.placements[job]
        assert placement is not None
        for node in placement.nodes:
            held[node] += placement.gpus_per_node
    for node, (free, total) in enumerate(zip(cluster.free, size, strict=True)):
        if free != total - held[node]:
            fail(engine, f"node {node} has {free} free GPUs, but running jobs hold {held[node]} of {total}")
    for gpu_type in layout.gpu_types:
        nodes = [n for n, pod in enumerate(layout.node_pod) if layout.pods[pod].gpu_type == gpu_type]
        free = sum(cluster.free[n] for n in nodes)
        if cluster.free_by_type[gpu_type] != free:
            fail(engine, f"free_by_type[{gpu_type}] is {cluster.free_by_type[gpu_type]}, nodes say {free}")
        for count, bucket in enumerate(cluster.nodes_by_free[gpu_type]):
            if bucket != sorted(n for n in nodes if cluster.free[n] == count):
                fail(engine, f"the index of {gpu_type} nodes with {count} free GPUs is out of date")
    for pod in layout.pods:
        free = cluster.free[pod.first_node : pod.end_node]
        whole = sum(1 for f in free if f == pod.gpus_per_node)
        if cluster.free_by_pod[pod.index] != sum(free) or cluster.whole_free_by_pod[pod.index] != whole:
            fail(engine, f"pod {pod.name}'s free counts are out of date")
    if cluster.free_total != sum(cluster.free):
        fail(engine, f"free_total is {cluster.free_total}, nodes say {sum(cluster.free)}")
    listed = sorted(key[2] for keys in engine._running.by_type.values() for key in keys)
    if listed != running:
        fail(engine, "the running lists and the placements disagree")
    for job in running:
        if jobs.gpu_type[job] not in engine._running.by_type or engine._running_key[job] is None:
            fail(engine, f"job {jobs.job_id[job]} runs without a running key")
    last: dict[int, tuple[float, int, int]] = {}  # node -> the key of its job ending last
    for job in running:
        key = engine._running_key[job]
        for node in engine.placements[job].nodes:  # type: ignore[union-attr]
            last[node] = max(last.get(node, key), key)  # type: ignore[arg-type]
    for gpu_type, free_at in engine._running.free_at.items():
        expected = sorted(
            (key[0], key[1], node)
            for node, key in last.items()
            if layout.pods[layout.node_pod[node]].gpu_type == gpu_type
        )
        if free_at != expected:
            fail(engine, f"the {gpu_type} nodes ordered by when they come free are out of date")
    _check_job_states(engine, set(running))


def _check_job_states(engine: Engine, running: set[int]) -> None:
    """Every arrived job is in exactly one state; the queue counters match the queue."""
    jobs, market = engine.jobs, engine.market
    queued = set(engine.queue)
    pending = set(engine._pending)
    _check_queues_by_shape(engine)
    ended = {job for job in range(engine._next_arrival) if engine.end_time[job] == engine.end_time[job]}
    states = [
        ("queued", queued), ("pending", pending), ("running", running), ("ended", ended),
        ("rejected", set(engine.rejected)), ("withdrawn", set(engine.withdrawn)),
        ("balked", set(market.balked) if market else set()),
        ("deferred", set(market.deferred) if market else set()),
    ]  # fmt: skip
    seen: dict[int, str] = {}
    for name, members in states:
        for job in members:
            if job in seen:
                fail(engine, f"job {jobs.job_id[job]} is both {seen[job]} and {name}")
            if job >= engine._next_arrival:
                fail(engine, f"job {jobs.job_id[job]} is {name} before its submit time")
            seen[job] = name
    if len(seen) != engine._next_arrival:
        lost = next(job for job in range(engine._next_arrival) if job not in seen)
        fail(engine, f"job {jobs.job_id[lost]} arrived but is in no state")
    gpus = sum(jobs.gpus[job] for job in queued)
    if sum(engine._queued_gpus.values()) != gpus or sum(engine._queued_by_type.values()) != gpus:
        fail(engine, f"queued GPU counters say {sum(engine._queued_gpus.values())}, the queue holds {gpus}")


def _check_queues_by_shape(engine: Engine) -> None:
    """Each type's queue grouped by GPU count (also its ``queue_of_type`` view) holds exactly
    the queued jobs of that type, each in the group of its GPU count, groups ascending with
    their requested times; its walk is the queue's jobs of that type in queue order."""
    jobs, shapes_by_type = engine.jobs, engine._queue_by_shape
    by_type: dict[str, list[int]] = {gpu_type: [] for gpu_type in shapes_by_type}
    for job in engine.queue:
        if jobs.gpu_type[job] not in by_type:
            fail(engine, f"queued job {jobs.job_id[job]} has a GPU type the cluster lacks")
        by_type[jobs.gpu_type[job]].append(job)
    for gpu_type, shapes in shapes_by_type.items():
        expected = by_type[gpu_type]
        grouped = sorted((job, gpus) for gpus, group in shapes.groups.items() for job in group)
        if grouped != [(job, jobs.gpus[job]) for job in expected]:
            fail(engine, f"the queue of {gpu_type} grouped by GPU count disagrees with the queue")
        if shapes._sizes != sorted(shapes.groups) or not all(shapes.groups.values()):
            fail(engine, f"the GPU counts of the queued {gpu_type} jobs are out of date")
        for gpus, group in shapes.groups.items():
            if group != sorted(group):  # (a job twice is caught above)
                fail(engine, f"the queued {gpu_type} jobs of {gpus} GPUs are not in queue order")
            if shapes._requested[gpus] != [jobs.requested[job] for job in group]:
                fail(engine, f"the requested times of queued {gpu_type} jobs of {gpus} GPUs are out of date")
        walk, last = list(shapes), shapes.last()
        if walk != expected or len(shapes) != len(expected) or last < max(expected, default=-1):
            fail(engine, f"the view of the queued {gpu_type} jobs disagrees with the queue")


def check_pass(engine: Engine) -> None:
    """After a decision pass: the quota's limits and the scheduler's promises."""
    if engine.quota is not None:
        admitted = sorted(set(engine.queue) | {j for j, p in enumerate(engine.placements) if p is not None})
        broken = engine.quota.violation(admitted)
        if broken:
            fail(engine, broken)
    broken = engine.scheduler.violation(engine)
    if broken:
        fail(engine, broken)
