"""Quota policies (``caps``, ``kueue``, ``reserved_share``): exact small schedules and limits
checked from the segments of each run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sim
from sim.cli import main
from sim.errors import PolicyError

HEADER = "job_id,submit_time,gpus,duration,tenant,tier,priority\n"


def run(
    tmp_path: Path, rows: str, quota: dict[str, Any], nodes: int = 8, out: Path | None = None, **extra: Any
) -> sim.Result:
    trace = tmp_path / "trace.csv"
    trace.write_text(HEADER + rows)
    scenario = {
        "name": "quota",
        "cluster": {"pods": [{"name": "p", "nodes": nodes, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "quota": quota,
        "preemption": {"restart_overhead": 0},
        **extra,
    }
    return sim.run(scenario, out=out, plots=False)


def runs(result: sim.Result) -> dict[str, tuple]:
    return {j.job_id: (j.start_time, j.end_time, j.preemptions, j.status) for j in result.jobs}


def peak_usage_in_files(out: Path, column: str) -> dict[str, int]:
    """Largest GPUs held at once per value of a jobs.csv ``column``, from segments.csv."""
    import csv

    with open(out / "jobs.csv") as jobs_file:
        group = {row["job_id"]: row[column] for row in csv.DictReader(jobs_file)}
    changes: dict[str, list[tuple[float, int]]] = {}
    with open(out / "segments.csv") as segments_file:
        for row in csv.DictReader(segments_file):
            gpus = int(row["gpus_per_node"]) * (row["nodes"].count(";") + 1)
            changes.setdefault(group[row["job_id"]], []).extend(
                [(float(row["start_time"]), gpus), (float(row["end_time"]), -gpus)]
            )
    peaks = {}
    for name, events in changes.items():
        held = peak = 0
        for _, delta in sorted(events):  # at one instant, ends (negative) before starts
            held += delta
            peak = max(peak, held)
        peaks[name] = peak
    return peaks


def peak_usage(result: sim.Result, key: Any) -> dict[str, float]:
    """Largest GPUs held at once per group ``key(job record)``, from the segments."""
    jobs = {j.job_id: j for j in result.jobs}
    events: dict[str, list[tuple[float, int]]] = {}
    for s in result.records.segments:
        group = key(jobs[s.job_id])
        events.setdefault(group, []).extend([(s.start_time, s.gpus), (s.end_time, -s.gpus)])
    peaks = {}
    for group, changes in events.items():
        held = peak = 0
        for _, delta in sorted(changes, key=lambda e: (e[0], e[1])):  # ends before starts
            held += delta
            peak = max(peak, held)
        peaks[group] = peak
    return peaks


# --- caps ------------------------------------------------------------------------------------

CAPS_ROWS = (
    "x1,0,2,100,x,on-demand,0\nx2,0,2,100,x,on-demand,0\nx3,0,2,100,x,on-demand,0\ny1,0,2,100,y,on-demand,0\n"
)


def test_caps_holds_each_tenant_to_its_cap(tmp_path: Path) -> None:
    """Tenant x may hold 4 GPUs: x1, x2 run at 0, x3 waits for one to end although 2 GPUs
    stay free; y is not held back by x."""
    result = run(tmp_path, CAPS_ROWS, {"name": "caps", "params": {"per_tenant": 4}})
    assert runs(result) == {
        "x1": (0.0, 100.0, 0, "completed"),
        "x2": (0.0, 100.0, 0, "completed"),
        "x3": (100.0, 200.0, 0, "completed"),
        "y1": (0.0, 100.0, 0, "completed"),
    }
    assert peak_usage(result, lambda j: j.tenant) == {"x": 4, "y": 2}


def test_caps_per_tier_and_named_tenants(tmp_path: Path) -> None:
    """The on-demand tier may hold 6: x1, x2, x3 take it at 0 in queue order; y1 waits. A
    named limit of 2 for x lets only x1 run at first."""
    tier = run(tmp_path, CAPS_ROWS, {"name": "caps", "params": {"per_tier": {"on-demand": 6}}})
    assert peak_usage(tier, lambda j: j.tier) == {"on-demand": 6}
    assert [runs(tier)[j][0] for j in ("x1", "x2", "x3", "y1")] == [0.0, 0.0, 0.0, 100.0]
    named = run(tmp_path, CAPS_ROWS, {"name": "caps", "params": {"per_tenant": 8, "tenants": {"x": 2}}})
    assert [runs(named)[j][0] for j in ("x1", "x2", "x3", "y1")] == [0.0, 100.0, 200.0, 0.0]


def test_caps_reject_a_job_above_its_cap_alone(tmp_path: Path) -> None:
    result = run(tmp_path, "big,0,6,10,x,on-demand,0\n", {"name": "caps", "params": {"per_tenant": {"G": 4}}})
    (job,) = result.jobs
    assert job.status == "rejected"
    assert job.reason == "holds 6 GPUs, above the tenant x cap of 4 (quota caps)"


def test_caps_hold_under_a_random_load(tmp_path: Path) -> None:
    """Invariant on a busier trace, read from segments.csv: no tenant ever holds more than
    its cap (each reaches it), every job ends."""
    import numpy as np

    rng = np.random.default_rng(7)
    rows = "".join(
        f"j{i},{t:.1f},{g},{d:.1f},t{k},on-demand,0\n"
        for i, (t, g, d, k) in enumerate(
            zip(
                np.sort(rng.uniform(0, 2000, 300)),
                rng.choice([1, 2, 4], 300),
                rng.exponential(100, 300),
                rng.integers(0, 5, 300),
                strict=True,
            )
        )
    )
    result = run(
        tmp_path, rows, {"name": "caps", "params": {"per_tenant": 5}}, nodes=16, out=tmp_path / "out"
    )
    peaks = peak_usage_in_files(tmp_path / "out", "tenant")
    assert max(peaks.values()) == 5 and len(peaks) == 5
    assert {j.status for j in result.jobs} == {"completed"}


# --- kueue -----------------------------------------------------------------------------------


def kueue(a: dict[str, Any] | None = None, b: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    """ClusterQueues A (reserved tier) and B (on-demand) of 4 GPUs each, in cohort c."""
    queue_a = {"name": "A", "match": {"tiers": ["reserved"]}, "cohort": "c", "nominal_quota": {"G": 4},
               "reclaim_within_cohort": "any", **(a or {})}  # fmt: skip
    queue_b = {"name": "B", "match": {"tiers": ["on-demand"]}, "cohort": "c", "nominal_quota": {"G": 4},
               "reclaim_within_cohort": "any", **(b or {})}  # fmt: skip
    return {"name": "kueue", "params": {"cluster_queues": [queue_a, queue_b], **params}}


BORROW = "b1,0,4,100,u,on-demand,0\nb2,0,4,100,u,on-demand,0\na1,10,4,50,v,reserved,0\n"


def test_kueue_borrower_is_reclaimed_when_the_lender_returns(tmp_path: Path) -> None:
    """B runs b1 in its quota and b2 on A's idle quota from 0. A's a1 arrives at 10: it fits
    A's nominal quota but the pool is lent out, so A reclaims: b2 (admitted last) is evicted
    at 10, a1 runs [10, 60); b2 is admitted again when a1 ends and runs its 90 s left
    [60, 150)."""
    result = run(tmp_path, BORROW, kueue())
    assert runs(result) == {
        "b1": (0.0, 100.0, 0, "completed"),
        "b2": (0.0, 150.0, 1, "completed"),
        "a1": (10.0, 60.0, 0, "completed"),
    }
    b2 = [(s.start_time, s.end_time, s.reason) for s in result.records.segments if s.job_id == "b2"]
    assert b2 == [(0.0, 10.0, "reclaimed by ClusterQueue 'A'"), (60.0, 150.0, "completed")]


def test_kueue_without_reclaim_the_lender_waits(tmp_path: Path) -> None:
    result = run(tmp_path, BORROW, kueue(a={"reclaim_within_cohort": "never"}))
    assert runs(result)["a1"] == (100.0, 150.0, 0, "completed")
    assert runs(result)["b2"] == (0.0, 100.0, 0, "completed")


def test_kueue_lower_priority_reclaims_only_lower_priority_jobs(tmp_path: Path) -> None:
    rows = "b1,0,4,100,u,on-demand,5\nb2,0,4,100,u,on-demand,5\na1,10,4,50,v,reserved,1\n"
    result = run(tmp_path, rows, kueue(a={"reclaim_within_cohort": "lower_priority"}))
    assert runs(result)["a1"] == (100.0, 150.0, 0, "completed")  # b2's priority is higher: no reclaim
    rows = "b1,0,4,100,u,on-demand,0\nb2,0,4,100,u,on-demand,0\na1,10,4,50,v,reserved,1\n"
    result = run(tmp_path, rows, kueue(a={"reclaim_within_cohort": "lower_priority"}))
    assert runs(result)["a1"] == (10.0, 60.0, 0, "completed")


@pytest.mark.parametrize("limit", [{"a": {"lending_limit": {"G": 0}}}, {"b": {"borrowing_limit": {"G": 2}}}])
def test_kueue_lending_and_borrowing_limits_stop_borrowing(tmp_path: Path, limit: dict) -> None:
    """A lends nothing, or B may borrow only 2: b2 (4 GPUs) waits for b1 although 4 GPUs
    are idle, and a1 starts at once in A's quota."""
    result = run(tmp_path, BORROW, kueue(**limit))
    assert runs(result) == {
        "b1": (0.0, 100.0, 0, "completed"),
        "b2": (100.0, 200.0, 0, "completed"),
        "a1": (10.0, 60.0, 0, "completed"),
    }


def test_kueue_queues_stay_within_nominal_plus_what_they_borrow(tmp_path: Path) -> None:
    """Invariant on a random load, read from segments.csv: per queue, usage <= nominal +
    borrowing limit, and the queues together never hold more than the cohort's quota."""
    import numpy as np

    rng = np.random.default_rng(3)
    tiers = np.array(["reserved", "on-demand"])
    rows = "".join(
        f"j{i},{t:.1f},{g},{d:.1f},t{i % 3},{tiers[k]},0\n"
        for i, (t, g, d, k) in enumerate(
            zip(
                np.sort(rng.uniform(0, 3000, 400)),
                rng.choice([1, 2, 3], 400),
                rng.exponential(80, 400),
                rng.integers(0, 2, 400),
                strict=True,
            )
        )
    )
    result = run(tmp_path, rows, kueue(b={"borrowing_limit": {"G": 2}}), nodes=12, out=tmp_path / "out")
    peaks = peak_usage_in_files(tmp_path / "out", "tier")
    assert peaks["on-demand"] <= 4 + 2
    assert peaks["reserved"] <= 8  # nominal 4 + B's whole lendable 4
    assert max(peak_usage(result, lambda j: "all").values()) <= 8  # the cohort's quota, of 12 GPUs
    assert peaks["reserved"] > 4  # A did borrow
    assert {j.status for j in result.jobs} == {"completed"}


def test_kueue_rejects_unmatched_jobs_and_bad_params(tmp_path: Path) -> None:
    result = run(tmp_path, "s,0,1,10,w,spot,0\n", kueue())
    (job,) = result.jobs
    assert job.status == "rejected"
    assert job.reason == "no ClusterQueue matches tier 'spot', class 'default', tenant 'w' (quota kueue)"
    with pytest.raises(PolicyError, match="reclaim_within_cohort' must be one of never, lower_priority, any"):
        run(tmp_path, "s,0,1,10,w,spot,0\n", kueue(a={"reclaim_within_cohort": "Always"}))
    with pytest.raises(
        PolicyError,
        match=r"'cluster_queues.0.match.tiers' must be tiers \(reserved, on-demand, spot\) \(got 'gold'\)",
    ):
        run(tmp_path, "s,0,1,10,w,spot,0\n", kueue(a={"match": {"tiers": ["spot", "gold"]}}))


# --- reserved_share --------------------------------------------------------------------------


def test_reserved_share_lends_the_share_and_reclaims_it(tmp_path: Path) -> None:
    """Half of 8 GPUs is kept for on-demand. Reserved-tier r1, r2 (4 GPUs each) fill the
    cluster at 0, r2 on the idle share. On-demand o1 arrives at 10 and reclaims: r2 is
    evicted, o1 runs [10, 60), r2 resumes at 60 with 90 s left."""
    rows = "r1,0,4,100,u,reserved,0\nr2,0,4,100,u,reserved,0\no1,10,4,50,v,on-demand,0\n"
    result = run(tmp_path, rows, {"name": "reserved_share", "params": {"tier": "on-demand", "share": 0.5}})
    assert runs(result) == {
        "r1": (0.0, 100.0, 0, "completed"),
        "r2": (0.0, 150.0, 1, "completed"),
        "o1": (10.0, 60.0, 0, "completed"),
    }
    with pytest.raises(PolicyError, match=r"'share' must be a number in \(0, 1\] \(got 1.5\)"):
        run(tmp_path, rows, {"name": "reserved_share", "params": {"share": 1.5}})


def test_reserved_share_of_0_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """share 0 reserved nothing, yet put the tier in a queue of no quota: every other tier's
    job could evict its jobs (an on-demand job of 8 GPUs was preempted by a reserved one of 4),
    which is not 'no reservation'. It is refused, pointing to quota none."""
    (tmp_path / "t.csv").write_text(HEADER + "o1,0,8,100,v,on-demand,0\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\ncluster: {pods: [{name: p, nodes: 8, gpus_per_node: 1, gpu_type: G}]}\n"
        "workload: {trace: {path: t.csv}}\nquota:\n  name: reserved_share\n  params: {share: 0}\n"
    )
    assert main(["validate", str(scenario)]) == 2
    assert capsys.readouterr().err == (
        f"gpusim: {scenario}:6: quota.params: quota 'reserved_share': 'share' must be > 0: at 0 every other "
        "tier evicts the tier's jobs; for no reservation use quota none (got 0)\n"
    )
    assert main(["validate", str(scenario), "--set", "quota.params.share=0.5"]) == 0


def test_kueue_fair_sharing_splits_borrowed_quota_by_weight(tmp_path: Path) -> None:
    """L lends its 8 GPUs and runs nothing; A (weight 1) and B (weight 3) have no quota of
    their own and queue eight 1-GPU jobs each at 0, A's first. With fair sharing the lowest
    share (borrowed / 8 / weight) admits next, ties to A: A1 B1 B2 B3 A2 B4 B5 B6, so A
    runs 2 and B 6 at first, 1:3 as the weights. Without it, queue order gives A all 8."""
    rows = "".join(f"a{i},0,1,100,x,on-demand,0\n" for i in range(8))
    rows += "".join(f"b{i},0,1,100,y,spot,0\n" for i in range(8))

    def queues(fair: bool) -> dict[str, Any]:
        return {"name": "kueue", "params": {"fair_sharing": fair, "cluster_queues": [
            {"name": "L", "match": {"tiers": ["reserved"]}, "cohort": "c", "nominal_quota": {"G": 8}},
            {"name": "A", "match": {"tiers": ["on-demand"]}, "cohort": "c", "weight": 1},
            {"name": "B", "match": {"tiers": ["spot"]}, "cohort": "c", "weight": 3},
        ]}}  # fmt: skip

    for fair, expected in ((True, (2, 6)), (False, (8, 0))):
        started = [j.job_id[0] for j in run(tmp_path, rows, queues(fair)).jobs if j.start_time == 0.0]
        assert (started.count("a"), started.count("b")) == expected


def test_kueue_job_admitted_then_reclaimed_in_one_pass_is_admitted_once_later(tmp_path: Path) -> None:
    """Regression: B (nominal 4) admits b1 and b2 (borrowing) at 0, and in the same pass A's
    a1 reclaims b2. b2 is pending again, listed twice, and must be admitted once when a1
    ends at 50 (it used to crash: 'job 1 is not queued'). 16 GPUs, A nominal 8."""
    rows = "b1,0,4,100,u,on-demand,0\nb2,0,4,100,u,on-demand,0\na1,0,8,50,v,reserved,0\n"
    quota = kueue(a={"nominal_quota": {"G": 8}})
    result = run(tmp_path, rows, quota, nodes=16)
    assert {j.job_id: j.status for j in result.jobs} == dict.fromkeys(("b1", "b2", "a1"), "completed")
    rows = "b1,0,8,100,u,reserved,0\nb2,0,4,100,u,reserved,0\na1,0,8,50,v,on-demand,0\n"
    share = {"name": "reserved_share", "params": {"share": 0.5, "shared_reclaim": "never"}}
    shared = run(tmp_path, rows, share, nodes=16)
    assert {j.status for j in shared.jobs} == {"completed"}
