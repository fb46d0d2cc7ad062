"""The queue grouped by GPU count (sim/engine/shapes.py): what a backfill scan may skip unseen,
and the per-type ``QueueView`` it also is."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import fuzz_settings

from sim.engine.queue import JobQueue
from sim.engine.shapes import QueueByShape


def index_of(free: list[int], gpus_per_node: int) -> list[list[int]]:
    """nodes_by_free for nodes with these free counts."""
    index: list[list[int]] = [[] for _ in range(gpus_per_node + 1)]
    for node, count in enumerate(free):
        index[count].append(node)
    return index


def filled(jobs: dict[int, int]) -> QueueByShape:
    """Jobs -> GPUs; job k requests 100 k seconds."""
    queue = QueueByShape(8)
    for job, gpus in jobs.items():
        queue.add(job, gpus, 100.0 * job)
    return queue


def test_only_jobs_some_node_or_the_whole_free_nodes_could_hold() -> None:
    queue = filled({0: 8, 1: 1, 2: 3, 3: 16, 4: 4, 5: 2, 6: 24, 7: 3})
    # Nodes with 3, 1 and 0 free GPUs: the most on one node is 3, no whole node free.
    assert queue.could_fit(index_of([3, 1, 0], 8)) == [1, 2, 5, 7]
    # Two whole free nodes: every single-node job, and 16 GPUs (two nodes), not 24 (three).
    assert queue.could_fit(index_of([8, 8, 0], 8)) == [0, 1, 2, 3, 4, 5, 7]
    # Nothing free: nothing.
    assert queue.could_fit(index_of([0, 0], 8)) == []


def test_after_a_job_number_and_requeued_jobs_in_queue_order() -> None:
    queue = filled({2: 1, 5: 2, 9: 1})
    queue.add(3, 1, 300.0)  # requeued: back at its place
    assert queue.groups == {1: [2, 3, 9], 2: [5]}
    assert queue.could_fit(index_of([2], 8), after=3) == [5, 9]
    queue.remove(3, 1)
    queue.remove(5, 2)
    assert queue.groups == {1: [2, 9]}
    with pytest.raises(KeyError, match="job 5 is not queued with 2 GPUs"):
        queue.remove(5, 2)


def test_whole_node_jobs_over_a_size_only_if_short_enough() -> None:
    """A reservation refuses whole-node jobs above ``over`` GPUs requesting more than
    ``within`` s: they are left out; jobs inside a node never are."""
    queue = filled({0: 16, 1: 16, 2: 4, 3: 8, 4: 24, 5: 8})  # job k requests 100 k s
    free = index_of([8, 8, 8, 0], 8)  # three whole free nodes: up to 24 GPUs fit by count
    assert queue.could_fit(free) == [0, 1, 2, 3, 4, 5]
    # Over 8 GPUs (more than one spare node) only if requesting at most 150 s: not job 4.
    assert queue.could_fit(free, over=8, within=150.0) == [0, 1, 2, 3, 5]
    # Nothing to spare: every whole-node job must be short; the 4-GPU job 2 stays.
    assert queue.could_fit(free, over=0, within=250.0) == [0, 1, 2]


def test_a_new_list_each_time() -> None:
    """The caller starts (removes) jobs while it reads the list: the list must not change."""
    queue = filled({0: 1, 1: 1})
    listed = queue.could_fit(index_of([1], 8))
    queue.remove(0, 1)
    assert listed == [0, 1]


def test_agrees_with_a_scan_of_the_whole_queue() -> None:
    """Random queues and free counts: exactly the jobs a by-count scan would not rule out."""
    rng = random.Random(5)
    for _ in range(300):
        gpn = rng.choice([1, 4, 8])
        jobs = {job: rng.choice([1, 2, 3, 4, 5, 8, 12, 16, 32]) for job in rng.sample(range(200), 30)}
        requested = {job: float(rng.randint(1, 9)) for job in jobs}
        queue = QueueByShape(gpn)
        for job, gpus in jobs.items():
            queue.add(job, gpus, requested[job])
        for job in rng.sample(sorted(jobs), 5):  # removed and requeued: order and times kept
            queue.remove(job, jobs[job])
            queue.add(job, jobs[job], requested[job])
        free = [rng.randint(0, gpn) for _ in range(rng.randint(1, 6))]
        after = rng.choice([-1, 50, 150])
        over, within = rng.choice([(math.inf, math.inf), (gpn * rng.randint(0, 3), float(rng.randint(1, 9)))])
        most, whole = max(free), free.count(gpn)
        expected = sorted(
            job
            for job, gpus in jobs.items()
            if job > after
            and (gpus <= most if gpus <= gpn else -(-gpus // gpn) <= whole)
            and not (gpus >= gpn and gpus > over and requested[job] > within)
        )
        assert queue.could_fit(index_of(free, gpn), after, over, within) == expected


def test_as_a_queue_view_in_queue_order() -> None:
    """``queue_of_type`` hands out this structure: its walks merge the groups into queue order."""
    queue = filled({2: 1, 5: 2, 9: 1, 12: 16})
    assert list(queue) == [2, 5, 9, 12]
    assert list(queue.after(5)) == [9, 12]
    assert queue.head() == 2 and queue.last() == 12 and len(queue) == 4
    assert 9 in queue and 3 not in queue
    for job in queue:  # starting (removing) the job just yielded while walking is safe
        queue.remove(job, 16 if job == 12 else 2 if job == 5 else 1)
    assert not queue and len(queue) == 0 and list(queue) == []
    assert queue.last() == 12  # the highest ever added: what inserted_inside counts against
    with pytest.raises(IndexError):
        queue.head()
    queue.add(7, 1, 700.0)
    assert queue.inserted_inside == 1
    with pytest.raises(ValueError, match="job 7 is already queued"):
        queue.add(7, 1, 700.0)
    assert queue.groups == {1: [7]} and queue.inserted_inside == 1  # a refused add changes nothing


JOBS = 40


@fuzz_settings(300)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove", "compact", "walk", "after"]), st.integers(0, JOBS - 1)),
        max_size=120,
    ),
    st.lists(st.sampled_from([1, 2, 8, 16]), min_size=JOBS, max_size=JOBS),
)
def test_view_matches_a_sorted_set_and_counts_at_least_what_jobqueue_counts(
    steps: list[tuple[str, int]], sizes: list[int]
) -> None:
    """Walks, ``after``, ``head``, ``last``, membership and size match a sorted set; and
    ``inserted_inside`` moves whenever the ungrouped ``JobQueue`` of the same jobs would
    (whatever its lazy upkeep) and exactly at adds of a job not above the highest added,
    so a scan cached against it is never kept where it used to be dropped."""
    queue, ungrouped = QueueByShape(8), JobQueue(JOBS)
    queued: set[int] = set()
    highest = -1
    for op, job in steps:
        if op == "add" and job not in queued:
            before = queue.inserted_inside, ungrouped.inserted_inside
            queue.add(job, sizes[job], float(job))
            ungrouped.add(job)
            queued.add(job)
            moved = queue.inserted_inside - before[0]
            assert moved == (job <= highest)
            assert moved >= ungrouped.inserted_inside - before[1]
            highest = max(highest, job)
        elif op == "remove" and job in queued:
            queue.remove(job, sizes[job])
            ungrouped.remove(job)
            queued.discard(job)
        elif op == "compact":
            ungrouped.compact()
        elif op in ("walk", "after"):
            walk = iter(queue) if op == "walk" else queue.after(job)
            expected = sorted(j for j in queued if op == "walk" or j > job)
            seen = []
            for current in walk:  # remove the current job: the rest of the walk is unchanged
                seen.append(current)
                if current % 3 == 0:
                    queue.remove(current, sizes[current])
                    ungrouped.remove(current)
                    queued.discard(current)
            assert seen == expected
        assert list(queue) == sorted(queued)
        assert len(queue) == len(queued) and bool(queue) == bool(queued)
        assert all((j in queue) == (j in queued) for j in range(JOBS))
        assert queue.last() == highest >= max(queued, default=-1)
        if queued:
            assert queue.head() == min(queued)
