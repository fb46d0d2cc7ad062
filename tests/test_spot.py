"""Spot-tier preemption (``easy`` with ``preempt_spot``): exact small schedules."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

HEADER = "job_id,submit_time,gpus,duration,tenant,tier\n"


def schedule(tmp_path: Path, rows: str, preempt_spot: bool, nodes: int = 2) -> dict[str, tuple]:
    trace = tmp_path / "trace.csv"
    trace.write_text(HEADER + rows)
    scenario = {
        "name": "spot",
        "cluster": {"pods": [{"name": "p", "nodes": nodes, "gpus_per_node": 4, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": {"name": "easy", "params": {"preempt_spot": preempt_spot}},
        "preemption": {"restart_overhead": 60},
    }
    jobs = sim.run(scenario).jobs
    return {job.job_id: (job.start_time, job.end_time, job.preemptions, job.status) for job in jobs}


SPOT_FULL = "s1,0,4,1000,a,spot\ns2,0,4,1000,b,spot\n"


def test_on_demand_job_takes_gpus_from_the_spot_job_on_the_lowest_node(tmp_path: Path) -> None:
    """Two spot jobs fill both 4-GPU nodes; d (2 GPUs, 50 s) arrives at 100. Both nodes need 2
    GPUs freed: node 0 wins the tie, so s1 is preempted and d runs [100, 150) there. s1 comes
    back at 150 (2 GPUs stay free on node 0 until d ends) with 900 s left + 60 s restart:
    [0, 1110) with one preemption. s2 is untouched."""
    runs = schedule(tmp_path, SPOT_FULL + "d,100,2,50,c,on-demand\n", preempt_spot=True)
    assert runs["d"] == (100.0, 150.0, 0, "completed")
    assert runs["s1"] == (0.0, 1110.0, 1, "completed")
    assert runs["s2"] == (0.0, 1000.0, 0, "completed")


def test_without_preempt_spot_the_job_waits(tmp_path: Path) -> None:
    runs = schedule(tmp_path, SPOT_FULL + "d,100,2,50,c,on-demand\n", preempt_spot=False)
    assert runs["d"] == (1000.0, 1050.0, 0, "completed")
    assert runs["s1"][2] == runs["s2"][2] == 0


def test_spot_jobs_never_preempt_and_whole_node_jobs_take_whole_nodes(tmp_path: Path) -> None:
    """A spot job arriving to a full cluster waits (no preemption among spot jobs). A reserved
    8-GPU job needs both nodes whole: both spot jobs are preempted, it runs [200, 300); they
    restart at 300 with 800 s + 60 s left each: end 1160."""
    runs = schedule(tmp_path, SPOT_FULL + "s3,100,1,10,c,spot\nr,200,8,100,d,reserved\n", preempt_spot=True)
    assert runs["r"] == (200.0, 300.0, 0, "completed")
    assert runs["s1"] == (0.0, 1160.0, 1, "completed")
    assert runs["s2"] == (0.0, 1160.0, 1, "completed")
    assert runs["s3"][2] == 0 and runs["s3"][0] >= 300.0


def test_no_preemption_when_spot_gpus_cannot_make_room(tmp_path: Path) -> None:
    """On-demand o holds node 0; spot s holds node 1; a reserved 8-GPU job needs two whole
    nodes, which preempting s alone cannot give: nothing is preempted."""
    rows = "o,0,4,1000,a,on-demand\ns,0,4,1000,b,spot\nr,10,8,100,c,reserved\n"
    runs = schedule(tmp_path, rows, preempt_spot=True)
    assert runs["s"] == (0.0, 1000.0, 0, "completed")
    assert runs["r"] == (1000.0, 1100.0, 0, "completed")


def test_preempt_spot_must_be_a_boolean() -> None:
    from sim.errors import PolicyError
    from sim.policies import SCHEDULERS

    with pytest.raises(PolicyError, match="'preempt_spot' must be true or false"):
        SCHEDULERS.create("easy", {"preempt_spot": "yes"})


def test_spot_notice_delays_the_preemption_and_saves_the_work(tmp_path: Path) -> None:
    """With a 30 s notice, s1 is told at 100 and runs on to 130, then stops with its work
    saved (no restart overhead); d, which claimed its GPUs, starts at 130 and ends at 180.
    s1 needs its whole node back: it resumes at 180 with 870 s left and ends at 1050."""
    trace = tmp_path / "trace.csv"
    trace.write_text(HEADER + SPOT_FULL + "d,100,2,50,c,on-demand\n")
    scenario = {
        "name": "notice",
        "cluster": {"pods": [{"name": "p", "nodes": 2, "gpus_per_node": 4, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": {"name": "easy", "params": {"preempt_spot": True}},
        "preemption": {"restart_overhead": 60, "spot_notice": "30s"},
    }
    result = sim.run(scenario)
    runs = {job.job_id: (job.start_time, job.end_time, job.preemptions) for job in result.jobs}
    assert runs == {"s1": (0.0, 1050.0, 1), "s2": (0.0, 1000.0, 0), "d": (130.0, 180.0, 0)}
    segments = result.records.segments
    s1 = [(s.start_time, s.end_time, s.reason, s.restart_overhead) for s in segments if s.job_id == "s1"]
    assert s1 == [(0.0, 130.0, "preempted by a higher tier", 0.0), (180.0, 1050.0, "completed", 0.0)]


def test_no_preemption_for_a_job_that_fits_now(tmp_path: Path) -> None:
    """Regression: two 8-GPU nodes; spot S (1 GPU) and reserved R0 (7) fill node 0, R1 (7)
    leaves one GPU free on node 1; H (8 GPUs) is the blocked head at 1. C (1 GPU, 5000 s,
    on-demand) arrives at 2 and fits node 1 now: it is backfilled there (it ends before
    H's shadow time 10000) and S is not preempted (it used to be, for nothing)."""
    trace = tmp_path / "trace.csv"
    trace.write_text(
        HEADER + "S,0,1,10000,a,spot\nR0,0,7,10000,b,reserved\nR1,0,7,10000,b,reserved\n"
        "H,1,8,1000,b,reserved\nC,2,1,5000,c,on-demand\n"
    )
    scenario = {
        "name": "fits",
        "cluster": {"pods": [{"name": "p", "nodes": 2, "gpus_per_node": 8, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": {"name": "easy", "params": {"preempt_spot": True}},
    }
    runs = {j.job_id: (j.start_time, j.preemptions) for j in sim.run(scenario).jobs}
    assert runs["C"] == (2.0, 0) and runs["S"] == (0.0, 0)


def test_a_notice_is_withdrawn_when_the_claimant_starts_elsewhere(tmp_path: Path) -> None:
    """Spot s1, s2 fill both 4-GPU nodes; on-demand d (2 GPUs) arrives at 100 and gives s1
    (node 0 wins the tie) a 60 s notice. s2 ends at 120 and d, the queue head, starts on
    its node at once; at 160 s1's notice is withdrawn: s1 is never preempted."""
    trace = tmp_path / "trace.csv"
    trace.write_text(HEADER + "s1,0,4,1000,a,spot\ns2,0,4,120,b,spot\nd,100,2,50,c,on-demand\n")
    scenario = {
        "name": "withdrawn",
        "cluster": {"pods": [{"name": "p", "nodes": 2, "gpus_per_node": 4, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": {"name": "easy", "params": {"preempt_spot": True}},
        "preemption": {"spot_notice": "60s"},
    }
    runs = {j.job_id: (j.start_time, j.end_time, j.preemptions) for j in sim.run(scenario).jobs}
    assert runs == {"s1": (0.0, 1000.0, 0), "s2": (0.0, 120.0, 0), "d": (120.0, 170.0, 0)}
