"""Contracts every registered scheduler and placement keeps, checked from segments.csv data.

Parametrised over the registries, so a new policy is checked as soon as it is registered.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

import sim
from sim.policies import PLACEMENTS, SCHEDULERS

PODS = [
    {"name": "b200", "nodes": 6, "gpus_per_node": 8, "gpu_type": "B200", "count": 2},
    {"name": "rtx", "nodes": 4, "gpus_per_node": 4, "gpu_type": "RTX"},
]
GPUS_PER_NODE = {"B200": 8, "RTX": 4}


def scenario(scheduler: str, placement: str = "pack", seed: int = 3) -> dict[str, Any]:
    """Two GPU types, two B200 pods, load ~0.95 of gangs up to 3 nodes, ending at a horizon."""
    law = {"median": "20m", "sigma": 1.5, "max": "2d"}
    big = {1: 0.4, 3: 0.2, 8: 0.2, 12: 0.1, 24: 0.1}
    small = {1: 0.6, 2: 0.3, 4: 0.1}
    return {
        "name": "contract",
        "seed": seed,
        "horizon": "2d",
        "cluster": {"pods": PODS},
        "workload": {
            "synthetic": {
                "arrivals_for": "2d",
                "streams": [
                    {"name": "big", "gpu_type": "B200", "load": 0.95, "duration": law, "gpus": big,
                     "estimate_factor": [0.5, 3.0]},
                    {"name": "small", "gpu_type": "RTX", "load": 0.9, "duration": law, "gpus": small},
                ],
            }
        },
        "scheduler": scheduler,
        "placement": placement,
    }  # fmt: skip


def check_segments(result: sim.Result) -> None:
    """No node over-allocated at any instant; every gang whole; every GPU type respected."""
    jobs = {job.job_id: job for job in result.jobs}
    pod_type = {pod["name"] if pod.get("count", 1) == 1 else f"{pod['name']}-{i:02d}": pod["gpu_type"]
                for pod in PODS for i in range(1, pod.get("count", 1) + 1)}  # fmt: skip
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for segment in result.records.segments:
        job = jobs[segment.job_id]
        nodes = segment.nodes.split(";")
        gpn = GPUS_PER_NODE[job.gpu_type]
        if job.gpus <= gpn:
            assert (len(nodes), segment.gpus_per_node) == (1, job.gpus), segment
        else:
            assert (len(nodes), segment.gpus_per_node) == (-(-job.gpus // gpn), gpn), segment
        assert len(set(nodes)) == len(nodes), segment
        for node in nodes:
            assert pod_type[node.split("/")[0]] == job.gpu_type, segment
            # Ends sort before starts at one instant: a node freed at t can be reused at t.
            events[node] += [
                (segment.start_time, segment.gpus_per_node),
                (segment.end_time, -segment.gpus_per_node),
            ]
    for node, changes in events.items():
        held = 0
        for _, change in sorted(changes):
            held += change
            assert 0 <= held <= GPUS_PER_NODE[pod_type[node.split("/")[0]]], node


@pytest.mark.parametrize("name", SCHEDULERS.names())
def test_scheduler_contract(name: str) -> None:
    """Every scheduler: no over-allocation, whole gangs, right GPU type, one row per job, deterministic."""
    first, second = sim.run(scenario(name)), sim.run(scenario(name))
    check_segments(first)
    assert len(first.jobs) == len({job.job_id for job in first.jobs}) > 500
    assert first.jobs == second.jobs
    assert first.records.segments == second.records.segments
    assert first.summary["jobs"]["completed"] > 0


@pytest.mark.parametrize("name", PLACEMENTS.names())
def test_placement_contract(name: str) -> None:
    """Every placement (under easy): no over-allocation, whole gangs, right GPU type, deterministic."""
    first, second = sim.run(scenario("easy", name)), sim.run(scenario("easy", name))
    check_segments(first)
    assert first.jobs == second.jobs


def test_spot_preemption_and_multi_type_jobs_keep_the_contract() -> None:
    """easy with preempt_spot, tenants of all three tiers and a stream accepting both GPU
    types: still no over-allocation, whole gangs, the bound type respected, deterministic;
    and spot jobs (only they) were preempted."""
    data = scenario({"name": "easy", "params": {"preempt_spot": True}})
    streams = data["workload"]["synthetic"]["streams"]
    for stream in streams:
        stream["tenants"] = {"sme": 0.4, "industry": 0.3, "research": 0.3}  # tiers on-demand/reserved/spot
    streams.append(
        {"name": "either", "gpu_type": ["RTX", "B200"], "load": 0.2, "duration": streams[1]["duration"],
         "gpus": {1: 0.5, 4: 0.5}, "tenants": {"research": 1.0}}
    )  # fmt: skip
    first, second = sim.run(data), sim.run(data)
    check_segments(first)
    assert first.jobs == second.jobs and first.records.segments == second.records.segments
    preempted = [job for job in first.jobs if job.preemptions]
    assert preempted and all(job.tier == "spot" for job in preempted)
    assert {job.gpu_type for job in first.jobs if job.job_id.startswith("either")} == {"RTX", "B200"}
