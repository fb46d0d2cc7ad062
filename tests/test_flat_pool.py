"""A flat pool (one GPU per node) must schedule exactly like an ideal flat-pool scheduler.

``tests/reference.py`` is that scheduler, written from DESIGN.md alone. Real logs (the
Parallel Workloads Archive's SWF files) and random small traces are replayed through
gpusim and the reference; every start time must be equal (==, not approximately).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from reference import read_swf, reference_starts
from strategies import FlatTrace, flat_traces

import sim

Replay = Callable[..., sim.Result]  # the type of conftest's `replay` fixture

SWF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "traces" / "swf"
# name: (file, processors of the machine, a split of them into two pods)
LOGS = {
    "lublin": ("lublin_256.swf", 256, (100, 156)),
    "nasa": ("NASA-iPSC-1993-3.1-cln.swf.gz", 128, (50, 78)),
}


def load_log(name: str) -> tuple[list[float], list[int], list[float], list[float]]:
    """(submit, gpus, duration, requested) of an SWF log in submit order, or skip the test."""
    path = SWF_DIR / LOGS[name][0]
    if not path.is_file():
        pytest.skip(f"SWF log {path} is absent (the shared traces are not checked out here)")
    _, submit, procs, run, requested = read_swf(str(path))
    order = sorted(range(len(submit)), key=submit.__getitem__)  # stable: ties keep row order
    return (
        [submit[i] for i in order],
        [procs[i] for i in order],
        [run[i] for i in order],
        [requested[i] for i in order],
    )


def mismatches(result: sim.Result, expected: Sequence[float]) -> list[str]:
    """Jobs whose start time differs from ``expected`` (NaN equals NaN), as readable lines."""
    return [
        f"{job.job_id}: gpusim {job.start_time!r}, reference {want!r}"
        for job, want in zip(result.jobs, expected, strict=True)
        if not (job.start_time == want or (math.isnan(job.start_time) and math.isnan(want)))
    ]


@pytest.mark.parametrize("scheduler", ["fifo", "easy"])
@pytest.mark.parametrize("log", ["lublin", "nasa"])
def test_swf_log_starts_equal_reference(replay: Replay, log: str, scheduler: str) -> None:
    """Replaying an SWF log on a flat pool gives exactly the reference scheduler's start times."""
    submit, gpus, duration, requested = load_log(log)
    capacity = LOGS[log][1]
    result = replay(submit, gpus, duration, requested, pods=(capacity,), scheduler=scheduler)
    expected = reference_starts(submit, gpus, duration, requested, capacity, scheduler)
    assert mismatches(result, expected) == []
    assert result.summary["jobs"]["completed"] == len(submit)


def test_easy_with_inexact_estimates_equals_reference_on_lublin(replay: Replay) -> None:
    """EASY on Lublin with estimates of 0.5-4 x the true duration gives the reference's start times.

    The log has no estimates (they equal the durations); these make backfilled jobs outlive
    their estimates and the shadow time fall on ``now``.
    """
    submit, gpus, duration, _ = load_log("lublin")
    factor = np.random.default_rng(256).uniform(0.5, 4.0, len(duration))
    requested = [max(1.0, float(round(d * f))) for d, f in zip(duration, factor, strict=True)]
    result = replay(submit, gpus, duration, requested, pods=(256,), scheduler="easy")
    expected = reference_starts(submit, gpus, duration, requested, 256, "easy")
    assert mismatches(result, expected) == []


@pytest.mark.parametrize("scheduler", ["fifo", "easy"])
@pytest.mark.parametrize("log", ["lublin", "nasa"])
def test_pod_boundaries_do_not_change_a_flat_pool(replay: Replay, log: str, scheduler: str) -> None:
    """A flat pool split into two pods schedules exactly as one pod (jobs span the boundary)."""
    submit, gpus, duration, requested = load_log(log)
    _, capacity, split = LOGS[log]
    one_pod = replay(submit, gpus, duration, requested, pods=(capacity,), scheduler=scheduler)
    two_pods = replay(submit, gpus, duration, requested, pods=split, scheduler=scheduler)
    assert [job.start_time for job in two_pods.jobs] == [job.start_time for job in one_pod.jobs]
    assert any(";" in job.pods for job in two_pods.jobs), "no job spanned both pods"


@settings(max_examples=100, deadline=None)
@given(trace=flat_traces())
def test_random_traces_start_as_reference(replay: Replay, trace: FlatTrace) -> None:
    """On random small traces, fifo and easy start every job when the reference does;
    jobs larger than the pool are rejected and never start."""
    order = sorted(range(len(trace.submit)), key=trace.submit.__getitem__)  # queue order
    columns = [trace.submit, trace.gpus, trace.duration, trace.requested]
    submit, gpus, duration, requested = ([column[i] for i in order] for column in columns)
    for scheduler in ("fifo", "easy"):
        result = replay(
            trace.submit,
            trace.gpus,
            trace.duration,
            trace.requested,
            pods=(trace.capacity,),
            scheduler=scheduler,
        )
        assert [job.job_id for job in result.jobs] == [f"j{i}" for i in order]
        expected = reference_starts(submit, gpus, duration, requested, trace.capacity, scheduler)
        assert mismatches(result, expected) == [], scheduler
        too_big = [job for job in result.jobs if job.gpus > trace.capacity]
        assert all(job.status == "rejected" and math.isnan(job.start_time) for job in too_big)
        assert all(job.status == "completed" for job in result.jobs if job.gpus <= trace.capacity)


@pytest.mark.parametrize("pods", [(256,), (100, 156)], ids=["one-pod", "two-pods"])
def test_running_gpus_never_exceed_capacity(replay: Replay, pods: tuple[int, ...]) -> None:
    """EASY on Lublin: at no instant do running jobs hold more GPUs than the pool has."""
    submit, gpus, duration, requested = load_log("lublin")
    result = replay(submit, gpus, duration, requested, pods=pods, scheduler="easy")
    # (time, 0 = end before 1 = start at a tie, GPU change): GPUs freed at t are reusable at t.
    events = sorted(
        [(job.end_time, 0, -job.allocated_gpus) for job in result.jobs]
        + [(job.start_time, 1, job.allocated_gpus) for job in result.jobs]
    )
    in_use = peak = 0
    for _, _, change in events:
        in_use += change
        peak = max(peak, in_use)
    assert in_use == 0
    assert peak <= 256  # and it does reach 256: the pool fills up
    assert all(job.allocated_gpus == job.gpus for job in result.jobs)
