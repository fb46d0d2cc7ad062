"""The engine on the new job fields: multi-type binding, end_by, outcomes, tiers, inference SLOs.

Small scenarios run through ``sim.api.run``; every expected number is worked out by hand in
the comments from the rules in ``sim/engine/core.py`` (module docstring: binding, end_by),
``sim/workload/inference.py`` (autoscaler) and ``sim/metrics/inference.py`` (M/M/c).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import write_trace

import sim
from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError
from sim.records import JobRecord
from sim.report.writer import jobs_csv
from sim.workload.build import build_workload
from sim.workload.inference import replica_owners

TYPED = ("job_id", "submit_time", "gpus", "duration", "gpu_type")


def two_types(a_nodes: int = 1, b_nodes: int = 2) -> dict[str, Any]:
    """Pods of 4-GPU nodes: ``a`` of type A (speed 1.0) and ``b`` of type B (speed 0.5)."""
    return {
        "pods": [
            {"name": "a", "nodes": a_nodes, "gpus_per_node": 4, "gpu_type": "A"},
            {"name": "b", "nodes": b_nodes, "gpus_per_node": 4, "gpu_type": "B"},
        ],
        "speed": {"A": 1.0, "B": 0.5},
    }


def run_typed(tmp_path: Path, rows: list[tuple[object, ...]], **settings: Any) -> sim.Result:
    trace = write_trace(tmp_path / "trace.csv", rows, TYPED)
    scenario = {
        "name": "types",
        "cluster": two_types(),
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": "easy",
        **settings,
    }
    return sim.run(scenario)


def by_id(result: sim.Result) -> dict[str, JobRecord]:
    jobs = {job.job_id: job for job in result.jobs}
    assert len(jobs) == len(result.jobs), "one record per job"
    return jobs


def span(job: JobRecord) -> tuple[str, float, float, float]:
    return job.gpu_type, job.duration, job.start_time, job.end_time


# --- multi-type jobs ---------------------------------------------------------------------


def test_multi_type_jobs_bind_first_free_type_else_least_queued_per_gpu(tmp_path: Path) -> None:
    """A: 1 node x 4 GPUs (speed 1.0). B: 2 nodes x 4 GPUs = 8 (speed 0.5). EASY, pack.

    j1 0   4 GPUs A|B 100: A can place it               -> A, [0, 100)
    j2 10  4 GPUs A|B 100: A full, B can                -> B, 100 x 1.0/0.5 = 200, [10, 210)
    j3 20  4 GPUs A|B 100: A full, B's 2nd node free    -> B, 200, [20, 220)
    j4 30  4 GPUs A   100: queued on A (A demand 4)     -> A, [100, 200) after j1
    j5 40  2 GPUs A|B  50: nothing fits; queued per GPU A 4/4 = 1, B 0/8 = 0 -> B, 100
    j6 50  4 GPUs B    10: queued on B (B demand 2 + 4 = 6)
    j7 60  2 GPUs A|B  30: nothing fits; A 4/4 = 1.0, B 6/8 = 0.75 -> B, 60
       (by raw queued GPUs, 4 < 6, it would have gone to A: the rule is per GPU of capacity)
    At 210 j2 frees node b/0: head j5 starts [210, 310); head j6 (4 GPUs) does not fit:
    shadow = j3's end 220 frees b/1. j7 (2 GPUs, 210 + 60 > 220) fits on b/0 beside j5 and
    leaves b/1 to j6: it backfills, [210, 270). At 220 j6 starts on b/1, [220, 230).
    """
    rows = [
        ("j1", 0, 4, 100, "A|B"),
        ("j2", 10, 4, 100, "A|B"),
        ("j3", 20, 4, 100, "A|B"),
        ("j4", 30, 4, 100, "A"),
        ("j5", 40, 2, 50, "A|B"),
        ("j6", 50, 4, 10, "B"),
        ("j7", 60, 2, 30, "A|B"),
    ]
    result = run_typed(tmp_path, rows)
    jobs = by_id(result)
    assert {job_id: span(job) for job_id, job in jobs.items()} == {
        "j1": ("A", 100.0, 0.0, 100.0),
        "j2": ("B", 200.0, 10.0, 210.0),
        "j3": ("B", 200.0, 20.0, 220.0),
        "j4": ("A", 100.0, 100.0, 200.0),
        "j5": ("B", 100.0, 210.0, 310.0),
        "j6": ("B", 10.0, 220.0, 230.0),
        "j7": ("B", 60.0, 210.0, 270.0),
    }
    # The estimate scales with the duration (no requested_time column: estimate = duration).
    assert all(job.requested_time == job.duration for job in jobs.values())
    assert {job.status for job in jobs.values()} == {"completed"}
    # jobs.csv shows the bound type.
    rows_out = list(csv.DictReader(io.StringIO(jobs_csv(result.jobs))))
    assert {row["job_id"]: row["gpu_type"] for row in rows_out} == {
        "j1": "A", "j2": "B", "j3": "B", "j4": "A", "j5": "B", "j6": "B", "j7": "B"
    }  # fmt: skip
    assert set(result.summary["wait_by_gpu_type"]) == {"A", "B"}


def test_simultaneous_arrivals_bind_without_seeing_each_other(tmp_path: Path) -> None:
    """Binding does not count the arrivals queued in the same instant.

    k1, k2 at 0, 4 GPUs A|B, 100 s: each sees A empty, so both bind A although B is idle:
        k1 A [0, 100)    k2 A [100, 200)
    """
    rows = [("k1", 0, 4, 100, "A|B"), ("k2", 0, 4, 100, "A|B")]
    jobs = by_id(run_typed(tmp_path, rows))
    assert {job_id: span(job) for job_id, job in jobs.items()} == {
        "k1": ("A", 100.0, 0.0, 100.0),
        "k2": ("A", 100.0, 100.0, 200.0),
    }


def test_binding_counts_the_completions_of_the_instant(tmp_path: Path) -> None:
    """k1 at 0, 4 GPUs A|B, 100 s -> A [0, 100). k2 at 100, 4 GPUs A|B, 50 s: k1 completes at
    100, and completions of the instant count, so A can place k2 -> A, 50 s, [100, 150).
    (Bound to B it would run 50 x 2 = 100 s, [100, 200).)
    """
    rows = [("k1", 0, 4, 100, "A|B"), ("k2", 100, 4, 50, "A|B")]
    jobs = by_id(run_typed(tmp_path, rows))
    assert span(jobs["k1"]) == ("A", 100.0, 0.0, 100.0)
    assert span(jobs["k2"]) == ("A", 50.0, 100.0, 150.0)


def test_queued_demand_counts_same_instant_arrivals_and_ties_go_to_the_first_type(tmp_path: Path) -> None:
    """f1 fills A, f2 (8 GPUs, 2 nodes) fills B, both [0, 100). At 10, m1..m3: 2 GPUs A|B, 20 s.

    m1: A 0/4 = B 0/8 = 0, a tie -> listed order: A, 20 s.
    m2: A 2/4 = 0.5 > B 0 -> B, 20 x 2 = 40 s.
    m3: A 0.5 > B 2/8 = 0.25 -> B, 40 s.
    n1: 2 GPUs B|A, 20 s: B 4/8 = 0.5 = A 2/4: a tie -> B, listed first here; 20 s (speed
        of its first type, B).
    At 100 f1 and f2 end and all start: m1 A [100, 120); on B (pack) m2 and m3 share node
    b/0 [100, 140), n1 takes b/1 [100, 120).
    """
    rows = [
        ("f1", 0, 4, 100, "A"),
        ("f2", 0, 8, 100, "B"),
        ("m1", 10, 2, 20, "A|B"),
        ("m2", 10, 2, 20, "A|B"),
        ("m3", 10, 2, 20, "A|B"),
        ("n1", 10, 2, 20, "B|A"),
    ]
    jobs = by_id(run_typed(tmp_path, rows))
    assert {job_id: span(job) for job_id, job in jobs.items()} == {
        "f1": ("A", 100.0, 0.0, 100.0),
        "f2": ("B", 100.0, 0.0, 100.0),
        "m1": ("A", 20.0, 100.0, 120.0),
        "m2": ("B", 40.0, 100.0, 140.0),
        "m3": ("B", 40.0, 100.0, 140.0),
        "n1": ("B", 20.0, 100.0, 120.0),
    }


def test_duration_is_for_the_first_listed_type(tmp_path: Path) -> None:
    """Speed factor speed[first] / speed[bound], whatever the order of the list.

    b1 at 0: 8 GPUs B, 100 s, fills B.  b2 at 1: 4 GPUs B|A, 100 s: B full, A can place it
    -> A, 100 x 0.5 / 1.0 = 50 s, [1, 51).  b3 at 2: 8 GPUs A|B: A (one 4-GPU node) can never
    host 8 GPUs, so only B is hostable -> B, 2 x 30 = 60 s, after b1: [100, 160).
    b4 at 3: 12 GPUs A|B fits neither (B has 8): rejected with the first type's reason.
    """
    rows = [
        ("b1", 0, 8, 100, "B"),
        ("b2", 1, 4, 100, "B|A"),
        ("b3", 2, 8, 30, "A|B"),
        ("b4", 3, 12, 30, "A|B"),
    ]
    jobs = by_id(run_typed(tmp_path, rows))
    assert span(jobs["b2"]) == ("A", 50.0, 1.0, 51.0)
    assert span(jobs["b3"]) == ("B", 60.0, 100.0, 160.0)
    assert jobs["b4"].status == "rejected"
    assert jobs["b4"].gpu_type == "A"
    assert jobs["b4"].reason == "needs 12 A GPUs, cluster has 4"


# --- end_by, through an inference group ----------------------------------------------------

# Levels 3/1/1/1: weekly sum 50 x 3 + 30 + 56 + 32 = 268 over 168 h, so business is
# 3 x 168 / 268 and shoulder 168 / 268. With base rate 2 req/s the service wants
# 2 x 504 / 268 = 3.761 req/s in business hours and 336 / 268 = 1.254 in the shoulder.
RATE_BUSINESS = 2 * 3 * 168 / 268
RATE_SHOULDER = 2 * 168 / 268


def end_by_scenario(trace: Path) -> dict[str, Any]:
    """Monday 17:00, 1 node x 3 GPUs, fifo. A trace job ``blocker`` (1 GPU, [0, 1000)) and one
    service of 1-GPU replicas, target 1.0 x capacity 1 req/s: ceil(3.761) = 4 replicas
    while the autoscaler observes business hours (17:00-18:00, intervals 0-11, and
    interval 12, which observes interval 11), ceil(1.254) = 2 from interval 13 (18:05) on.
    No stabilisation (window 300 s = 1 interval). So r0..r3 are submitted at 0; r2 and r3
    (slots 3, 4) have end_by 13 x 300 = 3900, r0 and r1 end_by 24 x 300 = 7200.

    The service window is the synthetic arrival window (2 h, no horizon, so the run goes on
    until every job is done); the filler stream (1e-6 arrivals/h) brings no job.
    """
    return {
        "name": "end-by",
        "start": "2026-01-05T17:00",
        "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 3, "gpu_type": "g"}]},
        "workload": {
            "trace": {"path": str(trace)},
            "synthetic": {
                "arrivals_for": "2h",
                "streams": [{"name": "filler", "rate_per_hour": 1e-6, "duration": {"median": 1, "sigma": 0}}],
            },
            "inference": [
                {
                    "name": "web",
                    "services": 1,
                    "replica_gpus": {1: 1.0},
                    "rate": {"median": 2, "sigma": 0},
                    "profile": {"business": 3, "shoulder": 1, "night": 1, "weekend": 1},
                    "noise": {"sigma": 0, "phi": 0},
                    "replica_capacity": 1.0,
                    "slo": {"latency": 5},
                    "autoscaler": {
                        "target_utilisation": 1.0,
                        "interval": 300,
                        "scale_down_window": 300,
                        "scale_up_delay": 0,
                    },
                }
            ],
        },
        "scheduler": "fifo",
        "metrics": {"sample_interval": 600},
    }


@pytest.fixture(scope="module")
def end_by_run(tmp_path_factory: pytest.TempPathFactory) -> sim.Result:
    trace = write_trace(tmp_path_factory.mktemp("end_by") / "trace.csv", [("blocker", 0, 1, 1000)])
    return sim.run(end_by_scenario(trace))


def test_replicas_end_at_end_by_or_are_withdrawn(end_by_run: sim.Result) -> None:
    """fifo, queue order blocker, r0, r1, r2, r3 (trace rows first among ties).

    0: blocker, r0, r1 start (3 GPUs); r2 heads the queue, r3 behind it.
    1000: blocker ends; r2 starts. 3900: r2 ends at its end_by (not at 1000 + 3900 = 4900);
    r3, still queued, is withdrawn: cancelled. 7200: r0 and r1 end at their end_by, which is
    submit + duration since they started at once.
    """
    jobs = by_id(end_by_run)
    assert sorted(jobs) == ["blocker", "web-00-r0", "web-00-r1", "web-00-r2", "web-00-r3"]
    assert {job_id: (job.end_time, job.status) for job_id, job in jobs.items()} == {
        "blocker": (1000.0, "completed"),
        "web-00-r0": (7200.0, "completed"),
        "web-00-r1": (7200.0, "completed"),
        "web-00-r2": (3900.0, "completed"),
        "web-00-r3": (3900.0, "cancelled"),
    }
    starts = [jobs[name].start_time for name in ("blocker", "web-00-r0", "web-00-r1", "web-00-r2")]
    assert starts == [0.0, 0.0, 0.0, 1000.0] and math.isnan(jobs["web-00-r3"].start_time)
    assert jobs["web-00-r3"].reason == "withdrawn at its end_by while queued"
    assert {job.submit_time for job in jobs.values()} == {0.0}
    for name in ("web-00-r0", "web-00-r1"):
        assert jobs[name].end_time == jobs[name].submit_time + jobs[name].duration
    assert jobs["web-00-r2"].duration == 3900.0  # its lifetime; it ran only 2900 s of it
    inference = [job for job in jobs.values() if job.job_class == "inference"]
    assert {(job.priority, job.tier, job.gpus) for job in inference} == {(100, "on-demand", 1)}
    assert len({job.tenant for job in inference}) == 1 and inference[0].tenant.startswith("sme-")
    assert end_by_run.summary["jobs"] == {
        "completed": 4, "failed": 0, "cancelled": 1, "rejected": 0, "balked": 0, "unfinished": 0,
        "total": 5,
    }  # fmt: skip
    # One segment per started job, each ending with reason completed.
    segments = {(s.job_id, s.start_time, s.end_time, s.reason) for s in end_by_run.records.segments}
    assert segments == {
        ("blocker", 0.0, 1000.0, "completed"),
        ("web-00-r0", 0.0, 7200.0, "completed"),
        ("web-00-r1", 0.0, 7200.0, "completed"),
        ("web-00-r2", 1000.0, 3900.0, "completed"),
    }


def test_running_inference_in_the_timeseries(end_by_run: sim.Result) -> None:
    """A sample at t is the state just before t's events, so a segment [s, e) counts at t iff
    s < t <= e. Samples every 600 s from 0; the last one, at 7800, comes after the last end.
    """
    series = end_by_run.records.timeseries
    times = series["time"]
    assert times == [600.0 * k for k in range(14)]
    assert series["running_jobs.inference"] == [0, 2, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 0]
    assert series["running_jobs.default"] == [0, 1] + [0] * 12
    # Queued replica GPUs: r2 and r3 until 1000, then r3 until 3900.
    assert series["queue_gpus.inference"] == [0, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    segments = [s for s in end_by_run.records.segments if s.job_id.startswith("web-")]
    for t, running in zip(times, series["running_jobs.inference"], strict=True):
        assert running == sum(1 for s in segments if s.start_time < t <= s.end_time), t


def mmc_within(c: int, lam: float, mu: float, x: float) -> float:
    """P(response <= x) of M/M/c FCFS, textbook: Erlang C as a ratio of sums, then
    P(T > x) = (1 - C) e^(-mu x) + C (theta e^(-mu x) - mu e^(-theta x)) / (theta - mu),
    theta = c mu - lam (theta != mu in every use below)."""
    a = lam / mu
    last = a**c / math.factorial(c) * c / (c - a)
    erlang = last / (sum(a**k / math.factorial(k) for k in range(c)) + last)
    theta = c * mu - lam
    tail = (1 - erlang) * math.exp(-mu * x) + erlang * (
        theta * math.exp(-mu * x) - mu * math.exp(-theta * x)
    ) / (theta - mu)
    return 1 - tail


def test_slo_of_the_end_by_run_by_hand(end_by_run: sim.Result) -> None:
    """Ready replicas per interval (scale_up_delay 0): r0, r1 in all 24 intervals; r2 from
    1000 to 3900 is ready for the whole of intervals 4..12 ([1200, 3900)). mu = 1 req/s.

    k 0-3   c = 2, lam 3.761 > 2: overloaded, unserved (3.761 - 2) x 300 each
    k 4-11  c = 3, lam 3.761 > 3: overloaded, unserved (3.761 - 3) x 300 each
    k 12    c = 3, lam 1.254: M/M/3        k 13-23 c = 2, lam 1.254: M/M/2
    requests = 3600 x (3.761 + 1.254); unserved share = (12 x 1008/268 - 32) / (12 x 1344/268)
    = 3520 / 16128 = 55 / 252 = 0.2183.
    """
    summary = end_by_run.summary["inference"]
    requests = 3600 * (RATE_BUSINESS + RATE_SHOULDER)
    assert summary["requests"] == pytest.approx(requests, rel=1e-12)
    assert summary["unserved_share"] == pytest.approx(55 / 252, rel=1e-12)
    per_request = mmc_within(3, RATE_SHOULDER, 1, 5) + 11 * mmc_within(2, RATE_SHOULDER, 1, 5)
    attained = 300 * RATE_SHOULDER * per_request
    assert summary["attainment"] == pytest.approx(attained / requests, rel=1e-9)
    assert summary["services"] == 1 and summary["services_meeting_slo"] == 0


# --- outcomes and tiers ----------------------------------------------------------------------


def test_outcomes_become_statuses_and_tiers_come_from_the_groups() -> None:
    """Ample capacity (80 GPUs for ~2 concurrent jobs per stream): every job starts at its
    submit time and runs exactly its drawn duration; the status is its drawn outcome."""
    scenario = {
        "name": "outcomes",
        "seed": 4,
        "cluster": {"pods": [{"name": "p", "nodes": 10, "gpus_per_node": 8, "gpu_type": "g"}]},
        "workload": {
            "tenants": [
                {"name": "acme", "count": 2, "tier": "reserved"},
                {"name": "lab", "count": 3, "tier": "spot", "skew": 0},
                {"name": "smb", "count": 40},
            ],
            "synthetic": {
                "arrivals_for": "1d",
                "streams": [
                    {
                        "name": "train",
                        "job_class": "training",
                        "tenants": {"acme": 1},
                        "rate_per_hour": 10,
                        "duration": {"median": 600, "sigma": 0.5},
                        "outcomes": {"failed": 0.5},
                    },
                    {
                        "name": "sweep",
                        "tenants": {"lab": 0.5, "smb": 0.5},
                        "rate_per_hour": 10,
                        "duration": {"median": 600, "sigma": 0.5},
                        "outcomes": {"cancelled": 0.3},
                        "estimate_factor": 2,
                    },
                ],
            },
        },
    }
    result = sim.run(scenario)
    jobs = by_id(result)
    table = build_workload(result.scenario, ClusterLayout.from_scenario(result.scenario.cluster)).jobs
    outcome = dict(zip(table.job_id, table.outcome, strict=True))
    for job in jobs.values():
        assert job.status == outcome[job.job_id]
        assert job.start_time == job.submit_time
        assert job.end_time == job.start_time + job.duration
    train = Counter(job.status for job in jobs.values() if job.job_class == "training")
    sweep = Counter(job.status for job in jobs.values() if job.job_class == "batch")
    assert set(train) == {"completed", "failed"} and set(sweep) == {"completed", "cancelled"}
    # ~240 jobs per stream: the shares within 4 SE.
    assert abs(train["failed"] / train.total() - 0.5) < 0.13
    assert abs(sweep["cancelled"] / sweep.total() - 0.3) < 0.12
    counts = result.summary["jobs"]
    assert counts["completed"] == train["completed"] + sweep["completed"]
    assert counts["failed"] == train["failed"] and counts["cancelled"] == sweep["cancelled"]
    assert counts["total"] == len(jobs) == train.total() + sweep.total()
    tier_of = {"acme": "reserved", "lab": "spot", "smb": "on-demand"}
    assert {job.tenant for job in jobs.values()} <= {"acme-01", "acme-02", "lab-01", "lab-02", "lab-03"} | {
        f"smb-{k:02d}" for k in range(1, 41)
    }
    assert all(job.tier == tier_of[job.tenant.split("-")[0]] for job in jobs.values())
    assert {job.tier for job in jobs.values()} == {"reserved", "spot", "on-demand"}
    assert set(result.summary["wait_by_tier"]) == {"reserved", "spot", "on-demand"}
    # A cancelled job ends early: shorter than its estimate (full duration x 2) by more than 2x.
    for job in jobs.values():
        if job.status == "cancelled":
            assert job.duration < job.requested_time / 2


# --- inference summary ----------------------------------------------------------------------


def constant_service(name: str, replicas: int, delay: float, tenants: dict[str, float]) -> dict[str, Any]:
    """One service at exactly 1 req/s (sigma 0, flat, no noise), mu = 2, ``replicas`` fixed."""
    return {
        "name": name,
        "services": 1,
        "tenants": tenants,
        "replica_gpus": {1: 1.0},
        "rate": {"median": 1, "sigma": 0},
        "profile": "flat",
        "noise": {"sigma": 0, "phi": 0},
        "replica_capacity": 2.0,
        "slo": {"latency": 5, "target": 0.95},
        "autoscaler": {
            "min_replicas": replicas,
            "max_replicas": replicas,
            "interval": 300,
            "scale_up_delay": delay,
        },
    }


def test_attainment_equals_erlang_c_by_hand() -> None:
    """Horizon 1 h = 12 intervals of 300 s, ample GPUs: every replica runs [0, 3600).

    one:  c = 1, lam 1, mu 2, delay 0: M/M/1, T ~ Exp(mu - lam): P(T <= 5) = 1 - e^-5
          = 0.993262 in all 12 intervals.
    two:  c = 2: a = 0.5, C = (0.25/2 x 2/1.5) / (1 + 0.5 + 1/6) = 0.1, theta = 3:
          P(T > 5) = 0.9 e^-10 + 0.1 (3 e^-10 - 2 e^-15) = 1.2 e^-10 - 0.2 e^-15.
    late: c = 1, delay 60: ready at 60 > 0, so interval 0 has no ready replica (its 300
          requests are unserved); 11 intervals at 1 - e^-5: attainment 11/12 (1 - e^-5) =
          0.910490 < target 0.95, unserved share 1/12.
    """
    scenario = {
        "name": "slo",
        "horizon": "1h",
        "cluster": {"pods": [{"name": "p", "nodes": 2, "gpus_per_node": 8, "gpu_type": "g"}]},
        "workload": {
            "inference": [
                constant_service("one", 1, 0, {"industry": 1}),
                constant_service("two", 2, 0, {"research": 1}),
                constant_service("late", 1, 60, {"sme": 1}),
            ]
        },
    }
    result = sim.run(scenario)
    mm1 = 1 - math.exp(-5)
    mm2 = 1 - 1.2 * math.exp(-10) + 0.2 * math.exp(-15)
    assert abs(mm1 - 0.993262) < 1e-6 and abs(mm2 - 0.9999456) < 1e-7
    assert mm2 == pytest.approx(mmc_within(2, 1, 2, 5), rel=1e-14)
    summary = result.summary["inference"]
    groups = summary["by_group"]
    assert groups["one"]["attainment"] == pytest.approx(mm1, rel=1e-12)
    assert groups["two"]["attainment"] == pytest.approx(mm2, rel=1e-12)
    assert groups["late"]["attainment"] == pytest.approx(11 / 12 * mm1, rel=1e-12)
    assert groups["late"]["unserved_share"] == pytest.approx(1 / 12, rel=1e-12)
    assert groups["one"]["unserved_share"] == 0 and groups["two"]["unserved_share"] == 0
    assert all(group["requests"] == pytest.approx(3600.0, rel=1e-12) for group in groups.values())
    # Tiers from the tenant groups: industry reserved, research spot, sme on-demand.
    by_tier = summary["by_tier"]
    assert by_tier["reserved"]["attainment"] == groups["one"]["attainment"]
    assert by_tier["spot"]["attainment"] == groups["two"]["attainment"]
    assert by_tier["on-demand"]["attainment"] == groups["late"]["attainment"]
    assert summary["services_meeting_slo"] == 2 and by_tier["on-demand"]["services_meeting_slo"] == 0
    assert summary["attainment"] == pytest.approx((mm1 + mm2 + 11 / 12 * mm1) / 3, rel=1e-12)
    # The replicas still run at the horizon (their end_by is the horizon): unfinished.
    assert {job.status for job in result.jobs} == {"unfinished"}
    assert len(result.jobs) == 4


def test_a_horizon_inside_an_interval_does_not_count_demand_past_it() -> None:
    """Horizon 1000 s, interval 300 s: one replica (c = 1, lam 1, mu 2) runs [0, 1000), the
    whole run. It serves every request of the run; attainment 1 - e^-5 and nothing unserved.
    (Today: 4 intervals = 1200 requests, the last 300 unserved: 0.75 (1 - e^-5), 25%.)
    """
    scenario = {
        "name": "cut",
        "horizon": 1000,
        "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 8, "gpu_type": "g"}]},
        "workload": {"inference": [constant_service("one", 1, 0, {"industry": 1})]},
    }
    summary = sim.run(scenario).summary["inference"]
    assert summary["unserved_share"] == 0
    assert summary["attainment"] == pytest.approx(1 - math.exp(-5), rel=1e-12)


def test_inference_summary_by_tier_adds_up() -> None:
    scenario = {
        "name": "tiers",
        "seed": 2,
        "horizon": "6h",
        "cluster": {"pods": [{"name": "p", "nodes": 8, "gpus_per_node": 8, "gpu_type": "g"}]},
        "workload": {
            "inference": [
                {"name": "chat", "services": 6, "tenants": {"sme": 0.5, "industry": 0.5}},
                {"name": "code", "services": 4, "tenants": {"research": 1}, "profile": "coding"},
            ]
        },
    }
    result = sim.run(scenario)
    summary = result.summary["inference"]
    assert summary["services"] == 10
    assert {name: group["services"] for name, group in summary["by_group"].items()} == {"chat": 6, "code": 4}
    by_tier = summary["by_tier"]
    assert sum(tier["services"] for tier in by_tier.values()) == 10
    plans = result.records.services
    assert {tier: block["services"] for tier, block in by_tier.items()} == Counter(
        tier for plan in plans for tier in plan.tier
    )
    assert by_tier["spot"]["services"] == 4
    for block in [summary, *by_tier.values(), *summary["by_group"].values()]:
        assert 0 <= block["attainment"] <= 1 and 0 <= block["unserved_share"] <= 1
        assert 0 <= block["services_meeting_slo"] <= block["services"]
    # The overall attainment is the request-weighted mean of the tiers'.
    weighted = sum(b["attainment"] * b["requests"] for b in by_tier.values()) / summary["requests"]
    assert summary["attainment"] == pytest.approx(weighted, rel=1e-12)
    assert summary["requests"] == pytest.approx(sum(b["requests"] for b in by_tier.values()), rel=1e-12)
    # Every inference job is a replica of a planned service and has the inference class.
    ids = [job.job_id for job in result.jobs]
    assert len(ids) == sum(plan.replica_counts.sum() for plan in plans) == len(set(ids))
    assert min(replica_owners(plans, ids)) >= 0
    assert {job.job_class for job in result.jobs} == {"inference"}


# --- user errors ---------------------------------------------------------------------------


def erroneous(workload: dict[str, Any], **settings: Any) -> str:
    scenario = {
        "name": "bad",
        "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 8, "gpu_type": "B200"}]},
        "workload": workload,
        **settings,
    }
    with pytest.raises(ScenarioError) as caught:
        sim.run(scenario)
    return str(caught.value)


STREAM = {"name": "t", "rate_per_hour": 1, "duration": {"median": 60, "sigma": 1}}


def test_unknown_tenant_group_lists_the_valid_groups() -> None:
    message = erroneous({"synthetic": {"streams": [{**STREAM, "tenants": {"acme": 1}}]}}, horizon=100)
    assert "workload.synthetic.streams.0.tenants" in message
    assert "(sme, industry, research)" in message and "'acme'" in message
    custom = [{"name": "one", "count": 2}, {"name": "two", "count": 3}]
    message = erroneous(
        {"tenants": custom, "inference": [{"name": "i", "services": 1, "tenants": {"sme": 1}}]}, horizon=100
    )
    assert "workload.inference.0.tenants" in message
    assert "(one, two)" in message and "'sme'" in message


def test_unknown_gpu_type_in_a_list_is_named() -> None:
    message = erroneous({"synthetic": {"streams": [{**STREAM, "gpu_type": ["B200", "XYZ"]}]}}, horizon=100)
    assert "workload.synthetic.streams.0.gpu_type" in message
    assert "GPU type of the cluster (B200)" in message and "'XYZ'" in message
    message = erroneous({"inference": [{"name": "i", "services": 1, "gpu_type": ["XYZ"]}]}, horizon=100)
    assert "workload.inference.0.gpu_type" in message and "'XYZ'" in message


def test_synthetic_or_inference_without_a_window_needs_a_horizon() -> None:
    message = erroneous({"synthetic": {"streams": [STREAM]}})
    assert "horizon" in message and "arrivals_for" in message
    message = erroneous({"inference": [{"name": "i", "services": 1}]})
    assert "horizon" in message and "workload.inference" in message


@pytest.mark.parametrize("tenants", [0, -3])
def test_service_group_with_no_tenants_is_a_scenario_error(tenants: int) -> None:
    message = erroneous({"inference": [{"name": "i", "services": 2, "tenants": tenants}]}, horizon=600)
    assert "tenants" in message


def test_stream_with_no_tenants_is_a_scenario_error() -> None:
    message = erroneous({"synthetic": {"streams": [{**STREAM, "tenants": 0}]}}, horizon=600)
    assert "tenants must be a number > 0" in message and "(got 0)" in message
