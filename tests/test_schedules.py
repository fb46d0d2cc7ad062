"""Hand-computed schedules: fifo, EASY backfilling, simultaneous events, the horizon, rejection.

Every expected number below was worked out by hand from DESIGN.md ("Engine semantics")
and the docstring of ``sim/policies/scheduling/easy.py``; the timelines in the comments
show the working. ``req`` is a job's requested_time (its estimate); when left out it is
the true duration. Pools are flat (one GPU per node) unless a test says 8-GPU nodes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import eight_gpu_nodes, flat_pool, run_trace, starts, write_trace

from sim.api import resolve
from sim.cluster.state import ClusterLayout
from sim.engine.core import Engine
from sim.policies import PLACEMENTS, SchedulingContext
from sim.policies.scheduling.easy import Easy
from sim.workload.build import build_jobs

# --- fifo -------------------------------------------------------------------------------


def test_fifo_head_of_line_blocking(tmp_path: Path) -> None:
    """fifo never lets a job pass the blocked head, even one that fits right now.

    4 GPUs.  A 3 GPUs [0, 100)    B 4 GPUs submitted 1    C 1 GPU submitted 2, 10 s
    At 2 one GPU is free and C fits, but B heads the queue: C waits for B.
        A |0 ------------------------ 100|
        B                                |100 -- 110|
        C                                           |110 -- 120|
    """
    rows = [("A", 0, 3, 100), ("B", 1, 4, 10), ("C", 2, 1, 10)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "fifo")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 110.0}
    assert jobs["C"].end_time == 120.0


# --- easy: the shadow time and the two backfill conditions -------------------------------


def test_easy_shadow_time_uses_requested_time_not_duration(tmp_path: Path) -> None:
    """The head's shadow time comes from running jobs' requested times, not their true durations.

    4 GPUs, all submitted at 0.  A 2 GPUs, duration 50 but req 100.  B 4 GPUs (head, blocked).
    C 2 GPUs, 80 s.  Shadow = A's estimated end = 0 + 100; C ends at 80 <= 100 so it backfills.
    (Had the shadow been A's true end, 50, C would end after it and 2 > extra 0: C would wait.)
        A |0 ---- 50|             (true end)
        C |0 ---------- 80|
        B                 |80 -- 90|    (needs all 4: after C)
    """
    rows = [("A", 0, 2, 50, 100), ("B", 0, 4, 10), ("C", 0, 2, 80)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 80.0, "C": 0.0}
    assert jobs["A"].end_time == 50.0


def test_easy_condition_one_starts_a_job_that_ends_by_the_shadow_time(tmp_path: Path) -> None:
    """A job ending by the shadow time backfills even though its GPUs exceed ``extra``.

    4 GPUs.  A 3 GPUs [0, 100).  B 4 GPUs at 1: blocked, shadow 100, extra = 4 - 4 = 0.
    C 1 GPU at 2, 50 s: 1 > extra 0, but 2 + 50 = 52 <= 100, so C starts at 2.
    B still starts at its reservation, 100.
        A |0 ---------------- 100|
        C   |2 -- 52|
        B                        |100 -- 110|
    """
    rows = [("A", 0, 3, 100), ("B", 1, 4, 10), ("C", 2, 1, 50)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 2.0}
    assert jobs["C"].end_time == 52.0


def test_easy_condition_two_starts_a_long_job_within_extra(tmp_path: Path) -> None:
    """A job running past the shadow time backfills when its GPUs are <= ``extra``.

    4 GPUs.  A 2 GPUs [0, 100).  B 3 GPUs at 1: blocked; at the shadow time 100 there are
    4 free, so extra = 4 - 3 = 1.  C 1 GPU at 2 for 500 s: 2 + 500 > 100, but 1 <= extra 1.
    At 100: A frees 2, C holds 1, 3 free: B starts on time.
        A |0 ---------- 100|
        C   |2 ----------------------------- 502|
        B                  |100 - 110|
    """
    rows = [("A", 0, 2, 100), ("B", 1, 3, 10), ("C", 2, 1, 500)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 2.0}


def test_easy_extra_shrinks_so_a_second_long_job_is_refused(tmp_path: Path) -> None:
    """Each long backfill uses up ``extra``: a second job that fit the original extra waits.

    As above (extra = 1 at the shadow time 100), but C and D, 1 GPU x 500 s each, both
    arrive at 2, in one pass.  C: 1 <= extra 1, starts, extra becomes 0.  D: 2 + 500 > 100
    and 1 > 0: refused, though 1 GPU is still free now.  At 100 B takes A's 2 + the free 1.
    At 110 B ends and D starts.
        A |0 ---------- 100|
        C   |2 ------------------------------ 502|
        B                  |100 - 110|
        D                            |110 ---------------- 610|
    """
    rows = [("A", 0, 2, 100), ("B", 1, 3, 10), ("C", 2, 1, 500), ("D", 2, 1, 500)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 2.0, "D": 110.0}


@pytest.mark.parametrize(
    ("duration", "start"),
    [
        (98, 2.0),  # 2 + 98 = 100 <= shadow 100: gone by the shadow time, backfills at 2
        (99, 110.0),  # 2 + 99 = 101 > 100 and 1 > extra 0: waits for A (to 100), then B (to 110)
    ],
)
def test_easy_job_ending_exactly_at_the_shadow_time_backfills(
    tmp_path: Path, duration: int, start: float
) -> None:
    """Condition one is ``now + requested_time <= shadow``: ending exactly at the shadow time is allowed.

    4 GPUs.  A 3 GPUs [0, 100).  B 4 GPUs at 1 (shadow 100, extra 0).  C 1 GPU at 2.
    """
    rows = [("A", 0, 3, 100), ("B", 1, 4, 10), ("C", 2, 1, duration)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert jobs["B"].start_time == 100.0
    assert jobs["C"].start_time == start


def test_easy_estimate_longer_than_duration_can_start_a_backfill_early(tmp_path: Path) -> None:
    """A job's estimate, not its true length, decides condition one (a short job with a long req waits).

    4 GPUs.  A 3 GPUs [0, 100).  B 4 GPUs at 1 (shadow 100, extra 0).
    C 1 GPU at 2, true duration 10 but req 200: 2 + 200 > 100 and 1 > 0, refused though it
    would really end at 12.  It runs after B: [110, 120).
    """
    rows = [("A", 0, 3, 100), ("B", 1, 4, 10), ("C", 2, 1, 10, 200)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 110.0}
    assert jobs["C"].end_time == 120.0


def test_easy_job_overrunning_its_estimate_is_expected_to_end_now(tmp_path: Path) -> None:
    """A running job past its estimate counts as ending now: the shadow time is now, not its true end.

    4 GPUs.  A 2 GPUs, req 10 but true duration 100: it overruns from 10 to 100.
    At 20: B 4 GPUs arrives (blocked, 2 free), C 1 GPU x 50 s arrives.
    A's estimated end = max(0 + 10, 20) = 20 = shadow; extra = 4 - 4 = 0.
    C: 20 + 50 = 70 > 20 and 1 > 0: refused, although it would end before A really does.
    (Using A's true end 100 as the shadow would have started C at 20.)
        A |0 --(req 10)-------------- 100|
        B                                |100 - 110|
        C                                          |110 - 160|
    """
    rows = [("A", 0, 2, 100, 10), ("B", 20, 4, 10), ("C", 20, 1, 50)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 110.0}
    assert jobs["A"].end_time == 100.0  # jobs run for their true duration past the estimate


def test_easy_before_the_overrun_the_estimate_still_sets_the_shadow(tmp_path: Path) -> None:
    """While a job is within its estimate, the shadow is ``start + requested_time`` (here 10, not 100).

    4 GPUs.  A 2 GPUs, req 10, true duration 100.  At 5: B 4 GPUs (blocked; shadow 10,
    extra 0) and C 1 GPU x 5 s: 5 + 5 = 10 <= 10, C backfills [5, 10).  B waits for A's
    true end, 100: EASY's reservation is only as good as the estimates.
    """
    rows = [("A", 0, 2, 100, 10), ("B", 5, 4, 10), ("C", 5, 1, 5)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"A": 0.0, "B": 100.0, "C": 5.0}


# --- simultaneous events ---------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["fifo", "easy"])
def test_job_arriving_as_another_completes_starts_at_that_instant(tmp_path: Path, scheduler: str) -> None:
    """A completion releases its GPUs before the pass that sees an arrival at the same instant.

    4 GPUs.  A 4 GPUs [0, 10).  B 4 GPUs submitted at 10: starts at 10, not later.
    """
    rows = [("A", 0, 4, 10), ("B", 10, 4, 5)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), scheduler)
    assert starts(jobs) == {"A": 0.0, "B": 10.0}
    assert jobs["B"].end_time == 15.0


def test_easy_completion_at_an_arrival_instant_is_seen_by_the_one_pass(tmp_path: Path) -> None:
    """At one instant completions come first, then arrivals, then ONE pass, whatever the event order.

    Built so that S's arrival event is queued (at time 1) before A's completion event
    (queued when A starts at 2); both fall at 10.  4 GPUs:
        Y 2 GPUs [0, 2)     Z 1 GPU [0, 1000)     A 2 GPUs, true 8 s, req 100: waits for Y
        H 3 GPUs at 1 (100 s)    S 1 GPU at 10 (50 s)
      t=2  Y ends, A starts (free 1); H blocked: shadow = A's estimate 2 + 100 = 102, extra 0.
      t=10 A ends and S arrives.  Right: free 3, H starts at 10, S waits for H: [110, 160).
           Wrong (a pass between the arrival and the completion): free 1, S backfills
           (10 + 50 <= 102), then H must wait for S, to 60.
    """
    rows = [
        ("Y", 0, 2, 2),
        ("Z", 0, 1, 1000),
        ("A", 0, 2, 8, 100),
        ("H", 1, 3, 100),
        ("S", 10, 1, 50),
    ]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy")
    assert starts(jobs) == {"Y": 0.0, "Z": 0.0, "A": 2.0, "H": 10.0, "S": 110.0}


class _CountingEasy(Easy):
    """EASY that records the instant of every decision pass."""

    def __init__(self) -> None:
        super().__init__()
        self.passes: list[float] = []

    def select(self, ctx: SchedulingContext) -> None:
        self.passes.append(ctx.now)
        super().select(ctx)


def test_simultaneous_events_give_exactly_one_decision_pass(tmp_path: Path) -> None:
    """N completions and arrivals at one timestamp give one decision pass there, not N.

    4 GPUs.  A, B 1 GPU and C 2 GPUs [0, 10); D 4 GPUs waiting from 1 (100 s);
    E, F 1 GPU arriving at 10.  At 10: 3 completions + 2 arrivals -> one pass, D starts.
    Passes (the engine skips a pass when the queue is empty): 0 (A, B, C start),
    1 (D blocked), 10 (D starts; E, F wait), 110 (E, F start).
    """
    rows = [
        ("A", 0, 1, 10),
        ("B", 0, 1, 10),
        ("C", 0, 2, 10),
        ("D", 1, 4, 100),
        ("E", 10, 1, 5),
        ("F", 10, 1, 5),
    ]
    trace = write_trace(tmp_path / "trace.csv", rows)
    scenario = resolve(
        {
            "name": "t",
            "cluster": {"pods": flat_pool(4)},
            "workload": {"trace": {"path": str(trace)}},
            # Samples would add events; one sample at 0 only (interval longer than the run).
            "metrics": {"sample_interval": 10_000},
        }
    )
    layout = ClusterLayout.from_scenario(scenario.cluster)
    scheduler = _CountingEasy()
    engine = Engine(layout, build_jobs(scenario, layout), scheduler, PLACEMENTS.create("pack"))
    records = engine.run()
    assert scheduler.passes == [0.0, 1.0, 10.0, 110.0]
    assert {r.job_id: r.start_time for r in records.jobs} == {
        "A": 0.0,
        "B": 0.0,
        "C": 0.0,
        "D": 10.0,
        "E": 110.0,
        "F": 110.0,
    }


# --- easy on 8-GPU nodes: the reservation counts whole free nodes -----------------------------

# Both tests fragment one pod of 3 x 8-GPU nodes (n0, n1, n2) with jobs submitted at 0,
# placed best fit (pack) in row order, and short fillers that leave at 5:
#   A0 4 GPUs -> n0 (long)   A1 4 GPUs -> n0 (ends 5)
#   B0 .. -> n1 (long)       B1 .. -> n1 (ends 5)      R 8 GPUs -> n2, ends 100
# H, 16 GPUs (2 whole nodes), arrives at 1 and is the blocked head from then on.


def test_easy_whole_node_head_gets_the_later_node_aware_shadow(tmp_path: Path) -> None:
    """A multi-node head's shadow is when enough WHOLE nodes are free, later than when enough GPUs are.

    B0 is 4 GPUs to 1000.  At 5: n0 4 free, n1 4 free, n2 busy (R to 100): 8 free GPUs.
    GPU count: at 100 R frees 8, 16 free >= 16, so "shadow 100, extra 0".
    Whole nodes: at 100 only n2 is whole; at 1000 A0 frees n0: shadow 1000.
    C, 4 GPUs x 500 s, arrives at 5: 5 + 500 = 505 <= 1000, so it backfills (onto n0, best fit)
    -- refused under the GPU count (505 > 100, 4 > 0).  H still starts at 1000 on n0 + n2.
    """
    rows = [
        ("A0", 0, 4, 1000),
        ("A1", 0, 4, 5),
        ("B0", 0, 4, 1000),
        ("B1", 0, 4, 5),
        ("R", 0, 8, 100),
        ("H", 1, 16, 10),
        ("C", 5, 4, 500),
    ]
    jobs = run_trace(tmp_path, rows, eight_gpu_nodes(3), "easy")
    assert jobs["C"].start_time == 5.0
    assert jobs["H"].start_time == 1000.0
    assert jobs["H"].allocated_gpus == 16


def test_easy_whole_node_head_refuses_a_backfill_that_breaks_a_node_it_needs(tmp_path: Path) -> None:
    """A long backfill that fits the GPU-count ``extra`` is refused when it takes a node the head needs.

    B0 is 2 GPUs to 3000 and B1 6 GPUs to 5.  At 5: n0 4 free, n1 6 free, n2 busy (R to 100).
    GPU count: at 100, 4 + 6 + 8 = 18 >= 16: "shadow 100, extra 2", and a 2-GPU job fits extra.
    Whole nodes: n2 whole at 100, n0 whole at 1000 (A0 ends): shadow 1000, on n0 + n2.
    L, 2 GPUs x 5000 s, arrives at 5; pack puts it on n0 (4 free, the best fit), which would
    keep n0 from being whole at 1000 (H would wait for n1, to 3000): refused.
    At 1000 H starts on n0 + n2, then L on n1 (6 free).
    """
    rows = [
        ("A0", 0, 4, 1000),
        ("A1", 0, 4, 5),
        ("B0", 0, 2, 3000),
        ("B1", 0, 6, 5),
        ("R", 0, 8, 100),
        ("H", 1, 16, 10),
        ("L", 5, 2, 5000),
    ]
    jobs = run_trace(tmp_path, rows, eight_gpu_nodes(3), "easy")
    assert jobs["H"].start_time == 1000.0
    assert jobs["L"].start_time == 1000.0


# --- the horizon ------------------------------------------------------------------------------


def test_horizon_leaves_running_queued_and_unsubmitted_jobs_unfinished(tmp_path: Path) -> None:
    """At the horizon, running, queued and not-yet-submitted jobs are 'unfinished' rows with reasons.

    4 GPUs, horizon 100.
        A 4 GPUs [0, 50)               completed
        B 4 GPUs at 10, 200 s          starts 50, running at 100 -> unfinished
        C 2 GPUs at 20                 queued behind B -> unfinished
        D 1 GPU at 100 (= horizon)     events at the horizon do not run -> unfinished
        E 1 GPU at 150                 unfinished
    """
    rows = [("A", 0, 4, 50), ("B", 10, 4, 200), ("C", 20, 2, 10), ("D", 100, 1, 10), ("E", 150, 1, 10)]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "easy", horizon=100)
    assert [(j, r.status, r.reason) for j, r in jobs.items()] == [
        ("A", "completed", ""),
        ("B", "unfinished", "running at the horizon"),
        ("C", "unfinished", "queued at the horizon"),
        ("D", "unfinished", "not submitted before the horizon"),
        ("E", "unfinished", "not submitted before the horizon"),
    ]
    assert (jobs["A"].start_time, jobs["A"].end_time) == (0.0, 50.0)
    assert jobs["B"].start_time == 50.0
    assert math.isnan(jobs["B"].end_time)
    for job_id in "CDE":
        assert math.isnan(jobs[job_id].start_time)


# --- rejection -----------------------------------------------------------------------------------


def test_oversize_jobs_are_rejected_with_the_numbers(tmp_path: Path) -> None:
    """A job needing more GPUs than the cluster has, or a GPU type it lacks, is rejected, never dropped.

    Flat pool of 4 'g' GPUs.  X asks 5 > 4.  Y asks for type h100, absent.  Z (1 GPU at 1)
    starts at once under fifo: rejected jobs never block the queue.
    """
    header = ("job_id", "submit_time", "gpus", "duration", "gpu_type")
    rows = [("X", 0, 5, 10, "g"), ("Y", 0, 1, 10, "h100"), ("Z", 1, 1, 10, "")]
    jobs = run_trace(tmp_path, rows, flat_pool(4), "fifo", header=header)
    assert (jobs["X"].status, jobs["X"].reason) == ("rejected", "needs 5 g GPUs, cluster has 4")
    assert (jobs["Y"].status, jobs["Y"].reason) == ("rejected", "no h100 GPUs in the cluster")
    assert math.isnan(jobs["X"].start_time) and math.isnan(jobs["Y"].start_time)
    assert (jobs["Z"].status, jobs["Z"].start_time) == ("completed", 1.0)


def test_job_needing_more_whole_nodes_than_exist_is_rejected(tmp_path: Path) -> None:
    """On 2 x 8-GPU nodes (16 GPUs) a 17-GPU job needs 3 whole nodes: rejected, naming 17 and 16."""
    jobs = run_trace(tmp_path, [("big", 0, 17, 10), ("ok", 0, 16, 10)], eight_gpu_nodes(2), "easy")
    assert (jobs["big"].status, jobs["big"].reason) == ("rejected", "needs 17 g GPUs, cluster has 16")
    assert (jobs["ok"].status, jobs["ok"].start_time) == ("completed", 0.0)
