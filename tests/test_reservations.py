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
