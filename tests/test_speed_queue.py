"""The wait queue (``JobQueue``) behaves as a sorted set of job numbers, whatever its lazy
upkeep (dead entries, per-entry alive flags, compaction) does inside.

The fuzz test drives a queue and a plain set with the same operations and compares
what they show: iteration order, ``after``, ``head``, ``last``, membership, size and
``inserted_inside``; iterations also remove jobs while they run (the current job or jobs
ahead of it), which the walk must see.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import fuzz_settings

from sim.engine.queue import JobQueue

JOBS = 40

operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove", "head", "compact", "walk", "after"]), st.integers(0, JOBS - 1)
    ),
    max_size=120,
)


@fuzz_settings(300)
@given(operations, st.data())
def test_queue_shows_the_same_jobs_as_a_sorted_set(steps: list[tuple[str, int]], data: st.DataObject) -> None:
    """Iteration, after, head, last, membership and size match a sorted set after any mix of
    adds, removals (also during a walk, behind or ahead of it), head() calls and compactions."""
    queue = JobQueue(JOBS)
    queued: set[int] = set()
    inside = 0  # adds of a job not above the last listed one, as ``inserted_inside`` counts
    for op, job in steps:
        if op == "add" and job not in queued:
            inside += job <= queue.last()
            queue.add(job)
            queued.add(job)
        elif op == "remove" and job in queued:
            queue.remove(job)
            queued.discard(job)
        elif op == "head" and queued:
            assert queue.head() == min(queued)
        elif op == "compact":
            queue.compact()
        elif op in ("walk", "after"):
            walk = queue.after(job) if op == "after" else iter(queue)
            expected = sorted(j for j in queued if op == "walk" or j > job)
            seen = []
            for current in walk:
                seen.append(current)
                for gone in data.draw(st.lists(st.sampled_from(sorted(queued)), max_size=2, unique=True)):
                    queue.remove(gone)
                    queued.discard(gone)
                    if gone > current:
                        expected.remove(gone)
            assert seen == expected
        assert list(queue) == sorted(queued)
        assert len(queue) == queue.size == len(queued)
        assert all((j in queue) == (j in queued) for j in range(JOBS))
        assert queue.inserted_inside == inside
        assert queue.last() >= max(queued, default=-1)


def test_a_requeued_job_comes_back_at_its_place() -> None:
    """A job removed and added again walks in job-number order, and counts as inserted inside."""
    queue = JobQueue(10)
    for job in (1, 3, 5, 7):
        queue.add(job)
    queue.remove(3)
    assert list(queue) == [1, 5, 7]
    queue.add(3)
    queue.add(2)
    assert list(queue) == [1, 2, 3, 5, 7]
    assert list(queue.after(2)) == [3, 5, 7]
    assert queue.inserted_inside == 2
