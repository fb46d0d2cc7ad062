"""EASY's guarantee on node-granular clusters: with exact estimates, backfilling never
delays the blocked head's reservation (README, "EASY on node-granular clusters")."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cluster.state import ClusterLayout
from sim.engine.core import Engine
from sim.policies import PLACEMENTS
from sim.policies.base import SchedulingContext
from sim.policies.scheduling.easy import Easy
from sim.policies.scheduling.reservation import HeadReservation
from sim.scenario.schema import Cluster
from sim.workload.jobs import JobTable

LAYOUT = ClusterLayout.from_scenario(
    Cluster.model_validate(
        {
            "pods": [
                {"name": "a", "nodes": 3, "gpus_per_node": 4, "gpu_type": "g"},
                {"name": "b", "nodes": 2, "gpus_per_node": 4, "gpu_type": "g"},
            ]
        }  # fmt: skip
    )
)


class RecordingEasy(Easy):
    """EASY that remembers the first shadow time each blocked head was given."""

    def __init__(self) -> None:
        super().__init__()
        self.first_shadow: dict[int, float] = {}

    def select(self, ctx: SchedulingContext) -> None:
        super().select(ctx)
        if ctx.queue:
            head = ctx.queue.head()
            self.first_shadow.setdefault(head, HeadReservation(ctx, head).shadow)


jobs_strategy = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from([1, 2, 3, 4, 5, 8, 12, 20]), st.integers(1, 40)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(jobs_strategy)
def test_backfill_never_delays_the_heads_reservation(rows: list[tuple[int, int, int]]) -> None:
    """With exact estimates, every job that was a blocked head starts no later than its first shadow time."""
    rows = sorted(rows, key=lambda row: row[0])
    n = len(rows)
    table = JobTable(
        job_id=[str(i) for i in range(n)], submit=[float(r[0]) for r in rows], gpus=[r[1] for r in rows],
        duration=[float(r[2]) for r in rows], requested=[float(r[2]) for r in rows], gpu_type=["g"] * n,
        tenant=["t"] * n, job_class=["c"] * n, priority=[0] * n,
    )  # fmt: skip
    scheduler = RecordingEasy()
    records = Engine(LAYOUT, table, scheduler, PLACEMENTS.create("pack")).run()
    for job, shadow in scheduler.first_shadow.items():
        assert records.jobs[job].start_time <= shadow, (job, shadow, records.jobs[job])


class ComparingEasy(Easy):
    """EASY that, before each pass, reserves for the queue's head both ways where the head
    wants whole nodes: off the busy nodes sorted by when they come free, and by the walk."""

    def __init__(self) -> None:
        super().__init__()
        self.compared = 0

    def select(self, ctx: SchedulingContext) -> None:
        if ctx.queue:
            reservation = HeadReservation(ctx, ctx.queue.head())
            gpn, needed = reservation.gpus_per_node, reservation._nodes_needed
            if reservation.threshold == gpn:
                walked, walk_fits, walk_end = reservation._walk(ctx, needed)
                nodes, fits, end = reservation._whole_nodes(ctx, needed)
                assert (fits, end) == (walk_fits, walk_end)
                free = ctx.cluster.free
                shared = {node for node in range(len(free)) if 0 < free[node] < gpn}
                # A node shared now is whole at the shadow time in both answers, or in neither.
                assert {n for n in shared if walked.get(n, free[n]) >= gpn} == shared & {n for *_, n in nodes}
                self.compared += 1
        super().select(ctx)


@settings(max_examples=100, deadline=None)
@given(jobs_strategy)
def test_whole_node_reservations_agree_with_the_walk(rows: list[tuple[int, int, int]]) -> None:
    """The shadow time, the nodes fitting the head and the shared nodes whole at the shadow
    time, read off ``nodes_free_at``, are the walk's, at every pass of random busy runs."""
    rows = sorted(rows, key=lambda row: row[0])
    n = len(rows)
    table = JobTable(
        job_id=[str(i) for i in range(n)], submit=[float(r[0]) for r in rows], gpus=[r[1] for r in rows],
        duration=[float(r[2]) for r in rows], requested=[float(r[2] * 2) for r in rows], gpu_type=["g"] * n,
        tenant=["t"] * n, job_class=["c"] * n, priority=[0] * n,
    )  # fmt: skip
    scheduler = ComparingEasy()
    Engine(LAYOUT, table, scheduler, PLACEMENTS.create("pack"), check=True).run()


def test_whole_node_reservations_are_compared_on_a_busy_run() -> None:
    """The comparison above is not vacuous: a fixed busy run compares at many passes."""
    sizes = [1, 3, 4, 8, 2, 12, 4, 1, 5, 8] * 6
    n = len(sizes)
    table = JobTable(
        job_id=[str(i) for i in range(n)], submit=[float(i // 3) for i in range(n)], gpus=sizes,
        duration=[float(5 + 7 * i % 23) for i in range(n)],
        requested=[float(9 + 7 * i % 23) for i in range(n)],
        gpu_type=["g"] * n, tenant=["t"] * n, job_class=["c"] * n, priority=[0] * n,
    )  # fmt: skip
    scheduler = ComparingEasy()
    Engine(LAYOUT, table, scheduler, PLACEMENTS.create("pack"), check=True).run()
    assert scheduler.compared >= 20
