"""Synthetic streams drawn week by week (``sim.workload.synthetic.stream_windows``).

Each week of a stream draws from its own random stream and a cut week keeps a prefix of its
full draws, so the jobs before any time T are the same in every run whose arrival window
reaches T: a longer horizon only adds jobs at the end. Windows neither lose nor double an
arrival at their boundaries, and arrivals follow the calendar at their absolute times.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import CLOCK, DAY, HOUR, SEED, WEEK, write_trace

from sim.cluster.state import ClusterLayout
from sim.scenario import scenario_from_data
from sim.scenario.schema import Cluster
from sim.scenario.workload import DEFAULT_TENANTS, Stream
from sim.workload.build import Workload, build_workload
from sim.workload.calendar import Calendar
from sim.workload.jobs import JobTable
from sim.workload.synthetic import WINDOW, generate, stream_windows

LAYOUT = ClusterLayout.from_scenario(
    Cluster.model_validate({"pods": [{"name": "p", "nodes": 10, "gpus_per_node": 8, "gpu_type": "B200"}]})
)
# Arrays, two tenant groups, outcomes and a random estimate factor: every kind of draw.
MIXED: dict[str, Any] = {
    "name": "mix",
    "rate_per_hour": 30,
    "profile": "office",
    "array_size": {1: 0.7, 4: 0.3},
    "gpus": {1: 0.6, 2: 0.3, 8: 0.1},
    "tenants": {"sme": 0.6, "industry": 0.4},
    "outcomes": {"failed": 0.1, "cancelled": 0.05},
    "estimate_factor": {"median": 2, "sigma": 0.5},
    "duration": {"median": 1800, "sigma": 1.2},
}


def stream(**fields: Any) -> Stream:
    return Stream.model_validate({**MIXED, **fields})


def jobs_of(spec: Stream, window: float, clock: Calendar = CLOCK) -> JobTable:
    return generate(spec, window, SEED, LAYOUT, "B200", clock, DEFAULT_TENANTS)


def rows(table: JobTable, before: float = math.inf) -> list[tuple[Any, ...]]:
    """Every column of the jobs submitted before ``before``, in table order."""
    columns = [getattr(table, name) for name in JobTable.__slots__]
    return [row for row in zip(*columns, strict=True) if row[1] < before]


def test_window_is_a_week() -> None:
    assert WINDOW == WEEK == 604_800


# --- the prefix property -------------------------------------------------------------------


@pytest.mark.parametrize("short", [10 * DAY, 3 * DAY + 5 * HOUR, 2 * WEEK])
def test_a_longer_arrival_window_keeps_every_earlier_job(short: float) -> None:
    """Jobs submitted before T are identical, in the same order, for arrival windows A2 > A1 >= T
    (A1 mid-week, shorter than a week, or on a week boundary; A2 crosses three more weeks)."""
    long = 24 * DAY
    first, longer = jobs_of(stream(), short), jobs_of(stream(), long)
    kept = rows(first)
    assert max(row[1] for row in kept) < short <= max(longer.submit)
    assert kept == rows(longer, before=short)
    # And for an earlier T, in both.
    assert rows(first, before=short / 2) == rows(longer, before=short / 2)


def test_job_numbers_run_on_across_windows() -> None:
    """Arrival numbers count from the run's start across windows: 0, 1, 2, ... with no reuse."""
    table = jobs_of(stream(), 24 * DAY)
    numbers = [int(job_id.split("-")[1].split("_")[0]) for job_id in table.job_id]
    assert len(set(table.job_id)) == len(table)
    assert sorted(set(numbers)) == list(range(numbers[-1] + 1)) and numbers == sorted(numbers)


def scenario(arrivals_for: str, trace: Path, horizon: str = "24d") -> Any:
    """Two streams, a trace, tenant groups, an inference group and a demand section."""
    lab = {"name": "lab", "count": 12, "tier": "spot", "skew": 0.8}
    plain = {"name": "plain", "rate_per_hour": 8, "tenants": 5, "duration": {"median": 600, "sigma": 1}}
    return scenario_from_data(
        {
            "name": "prefix",
            "seed": 5,
            "horizon": horizon,
            "cluster": {"pods": [{"name": "p", "nodes": 8, "gpus_per_node": 8, "gpu_type": "B200"}]},
            "workload": {
                "tenants": [*(g.model_dump() for g in DEFAULT_TENANTS), lab],
                "trace": {"path": str(trace)},
                "synthetic": {
                    "arrivals_for": arrivals_for,
                    "streams": [{**MIXED, "tenants": {"sme": 0.5, "lab": 0.5}}, plain],
                },
                "inference": [{"name": "chat", "services": 3, "profile": "chat"}],
            },
            "demand": {
                "rules": [
                    {"tier": "on-demand", "elasticity": 1.5, "deferrable": 0.3},
                    {"tier": "spot", "elasticity": 0.8},
                ]
            },
        }
    )


def built(arrivals_for: str, trace: Path) -> Workload:
    chosen = scenario(arrivals_for, trace)
    return build_workload(chosen, ClusterLayout.from_scenario(chosen.cluster))


def test_build_workload_keeps_the_earlier_jobs_and_their_willingness(tmp_path: Path) -> None:
    """The whole built table of a scenario with a trace, two streams, tenant groups, services and
    demand: the rows before T and their willingness are the same for arrival windows 10 and 24
    days (the horizon, so the services' window, fixed)."""
    trace = write_trace(tmp_path / "t.csv", [(f"t{i}", i * 40_000.0, 1, 3600) for i in range(50)])
    short, long = built("10d", trace), built("24d", trace)
    cut = 10 * DAY
    prefix = rows(short.jobs, before=cut)
    n = len(prefix)
    assert prefix == rows(long.jobs, before=cut) == rows(long.jobs)[:n]
    assert {row[0][:2] for row in prefix} >= {"t1", "mi", "pl", "ch"}  # every source is in it
    assert len(long.jobs) > len(short.jobs)
    assert short.willingness is not None and long.willingness is not None
    for name in ("multiplier", "deferrable", "rule"):
        assert getattr(short.willingness, name)[:n] == getattr(long.willingness, name)[:n], name
    # The demand draws act: some jobs are deferrable, some spot jobs match the second rule.
    assert any(short.willingness.deferrable[:n]) and 1 in short.willingness.rule[:n]


# --- window boundaries ---------------------------------------------------------------------


def test_each_window_holds_only_its_own_arrivals() -> None:
    """Window k's arrivals lie in [k W, min((k + 1) W, A)); concatenated they are sorted."""
    window = 5 * WEEK + 2.5 * DAY
    tables = list(stream_windows(stream(), window, SEED, LAYOUT, "B200", CLOCK, DEFAULT_TENANTS))
    assert len(tables) == 6
    for k, table in enumerate(tables):
        submit = np.asarray(table.submit)
        assert len(submit) > 0 and submit.min() >= k * WEEK and submit.max() < min((k + 1) * WEEK, window)
    times = np.concatenate([np.asarray(table.submit) for table in tables])
    assert np.all(np.diff(times) >= 0)
    # generate is the windows one after another.
    assert rows(jobs_of(stream(), window)) == [row for table in tables for row in rows(table)]


def test_arrival_count_over_many_windows_matches_the_poisson_mean() -> None:
    """A flat 20/h over 30 weeks and 3.5 days: the arrival count is Poisson(20 x 5,124 h =
    102,480), SD 320; within 4 SD (1,280), so a lost or doubled week (3,360) or a cut week
    counted whole (+1,680) shows. Each full week holds Poisson(3,360): within 5 SD (290)."""
    window = 30 * WEEK + 3.5 * DAY
    spec = stream(profile="flat", rate_per_hour=20, array_size={1: 1.0})
    tables = list(stream_windows(spec, window, SEED, LAYOUT, "B200", CLOCK, DEFAULT_TENANTS))
    counts = np.array([len(table) for table in tables])
    mean = 20 * window / HOUR
    assert mean == pytest.approx(102_480)
    assert abs(counts.sum() - mean) < 4 * math.sqrt(mean)
    assert np.all(np.abs(counts[:-1] - 3360) < 5 * math.sqrt(3360))
    # The last window is 3.5 days: half a week's mean.
    assert abs(counts[-1] - 1680) < 5 * math.sqrt(1680)


@pytest.mark.parametrize(("window", "weeks"), [(0.0, 0), (1.0, 1), (3 * DAY, 1), (WEEK, 1), (WEEK + 1.0, 2)])
def test_window_count_and_bounds(window: float, weeks: int) -> None:
    """ceil(A / week) windows; no arrival at or after A; A = 0 gives no jobs."""
    spec = stream(rate_per_hour=3600)  # one a second: the 1 s window gets some
    tables = list(stream_windows(spec, window, SEED, LAYOUT, "B200", CLOCK, DEFAULT_TENANTS))
    assert len(tables) == weeks
    table = jobs_of(spec, window)
    assert (len(table) > 0) == (window > 0)
    assert all(t < window for t in table.submit)


def test_arrivals_follow_the_local_calendar_across_weeks_and_dst() -> None:
    """Windows look the hour up at absolute time: with the workday profile every arrival of
    four weeks around the spring DST change (29 March 2026) is in weekday 08-18 local time."""
    clock = Calendar(datetime(2026, 3, 16), "Europe/Berlin")
    table = jobs_of(stream(profile="workday"), 4 * WEEK - DAY, clock)
    hours = clock.hour_of_week(np.asarray(table.submit))
    assert len(hours) > 2_000
    assert np.all((hours // 24 < 5) & (hours % 24 >= 8) & (hours % 24 < 18))
    # Arrivals in every week, also after the change.
    assert {int(t // WEEK) for t in table.submit} == {0, 1, 2, 3}


def test_an_arrival_window_of_0_builds_no_jobs() -> None:
    """``arrivals_for: 0`` (no horizon): no window, no job, and the build still succeeds."""
    stream = {"name": "s", "rate_per_hour": 5, "duration": {"median": 60, "sigma": 1}}
    chosen = scenario_from_data(
        {
            "name": "empty",
            "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 8, "gpu_type": "B200"}]},
            "workload": {"synthetic": {"arrivals_for": 0, "streams": [stream]}},
        }
    )
    assert len(build_workload(chosen, ClusterLayout.from_scenario(chosen.cluster)).jobs) == 0
