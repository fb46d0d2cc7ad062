"""The workload window by window (``sim.workload.windows``): the weeks one after another are
the whole workload, every column's values, their types and the column's kind, and the
willingness to pay; each window holds only its own week's jobs; and the weeks of a stream
are drawn only when a window is asked for.

The whole workload is compared with ``build_workload`` (which joins the windows) and with
``merged_at_once``, the workload as built before the windows: every source whole, one merge.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import DAY, HOUR, WEEK, write_trace

from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError
from sim.scenario import load_scenario, scenario_from_data
from sim.scenario.schema import Scenario
from sim.workload import synthetic
from sim.workload.build import build_workload
from sim.workload.demand import Willingness, WillingnessDraw, draw_willingness
from sim.workload.inference import plan_services, replicas_of
from sim.workload.jobs import JobTable
from sim.workload.readers import TraceResult
from sim.workload.synthetic import generate
from sim.workload.trace_csv import MAX_SECONDS
from sim.workload.windows import (
    Window,
    WorkloadWindows,
    calendar_of,
    default_gpu_type,
    gpu_type_text,
    read_scenario_trace,
    workload_windows,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED = sorted(path for path in SCENARIOS.glob("*.yaml") if not path.stem.endswith("-sweep"))
WILLINGNESS = ("multiplier", "deferrable", "rule")


def merged_at_once(scenario: Scenario, layout: ClusterLayout) -> tuple[JobTable, Willingness | None]:
    """The workload as ``build_workload`` built it before the windows: the trace, each stream
    (all its weeks) and each group's replicas whole, merged at once, then the willingness of
    the whole table."""
    fallback, clock, workload = default_gpu_type(scenario, layout), calendar_of(scenario), scenario.workload
    tables = []
    if workload.trace is not None:
        trace = read_scenario_trace(workload.trace).jobs
        trace.gpu_type = [gpu_type or fallback for gpu_type in trace.gpu_type]
        tables.append(trace)
    for spec in workload.synthetic.streams if workload.synthetic is not None else []:
        gpu_type = gpu_type_text(spec.gpu_type, fallback)
        window = scenario.arrival_window() or 0.0
        tables.append(generate(spec, window, scenario.seed, layout, gpu_type, clock, workload.tenants))
    for group in workload.inference:
        service_window = scenario.service_window()
        assert service_window is not None
        plan = plan_services(group, scenario.seed, service_window, clock, workload.tenants)
        tables.append(replicas_of(plan, gpu_type_text(group.gpu_type, fallback)).jobs())
    jobs = (tables[0] if len(tables) == 1 else JobTable.merge(tables)).compact()
    demand = scenario.demand
    return jobs, None if demand is None else draw_willingness(demand, jobs, scenario.seed)


def assert_joined_equal(windows: list[Window], jobs: JobTable, willingness: Willingness | None) -> None:
    """The windows' rows one after another are ``jobs``: per column the same values of the
    same types (1 == 1.0, so types apart), an ``array("d")`` where every window's is one;
    and their willingness is ``willingness``."""
    for name in JobTable.__slots__:
        parts = [getattr(window.jobs, name) for window in windows]
        column = getattr(jobs, name)
        values = [value for part in parts for value in part]
        assert values == list(column), name
        if all(isinstance(part, array) for part in parts):
            assert isinstance(column, array), name
        else:
            assert type(column) is list and list(map(type, values)) == list(map(type, column)), name
    if willingness is None:
        assert all(window.willingness is None for window in windows)
        return
    for name in WILLINGNESS:
        joined = [value for window in windows for value in getattr(window.willingness, name)]
        assert joined == getattr(willingness, name), name


def assert_in_their_windows(windows: list[Window]) -> None:
    """Each window's jobs were submitted in it (window 0 from any time before), its rows in
    submit order; windows are non-empty and in order; its willingness is one per job."""
    assert [w.index for w in windows] == sorted({w.index for w in windows})
    for window in windows:
        submit = list(window.jobs.submit)
        assert submit and submit == sorted(submit)
        assert window.start == window.index * WEEK and window.end == window.start + WEEK
        assert (window.index == 0 or submit[0] >= window.start) and submit[-1] < window.end
        if window.willingness is not None:
            assert len(window.willingness.multiplier) == len(window.jobs)


def check(scenario: Scenario) -> list[Window]:
    """Every property above for a scenario; returns its windows."""
    layout = ClusterLayout.from_scenario(scenario.cluster)
    windows = list(workload_windows(scenario, layout))
    assert_in_their_windows(windows)
    assert_joined_equal(windows, *merged_at_once(scenario, layout))
    built = build_workload(scenario, layout)
    assert_joined_equal(windows, built.jobs, built.willingness)
    return windows


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_scenarios_are_their_windows_joined(path: Path) -> None:
    """8 days of each shipped scenario: two windows, which joined are the whole workload."""
    windows = check(load_scenario(path, ("horizon=8d",)))
    assert [window.index for window in windows] == [0, 1]


# --- a trace, two streams, services and demand --------------------------------------------


def mixed(trace: Path, **top: Any) -> Scenario:
    """A trace, two streams (one of job arrays, with tenant groups), an inference group and
    a demand section over 16 days; the streams arrive over the first 10."""
    lab = {"name": "lab", "count": 12, "tier": "spot", "skew": 0.8}
    arrays = {
        "name": "arrays",
        "rate_per_hour": 20,
        "array_size": {1: 0.7, 4: 0.3},
        "gpus": {1: 0.6, 2: 0.3, 8: 0.1},
        "tenants": {"sme": 0.5, "lab": 0.5},
        "outcomes": {"failed": 0.1, "cancelled": 0.05},
        "duration": {"median": 1800, "sigma": 1.2},
        "job_class": "training",
    }
    plain = {"name": "plain", "rate_per_hour": 8, "tenants": 5, "duration": {"median": 600, "sigma": 1}}
    data = {
        "name": "mixed",
        "seed": 3,
        "horizon": "16d",
        "cluster": {"pods": [{"name": "p", "nodes": 8, "gpus_per_node": 8, "gpu_type": "B200"}]},
        "workload": {
            "tenants": [{"name": "sme", "count": 40, "tier": "on-demand"}, lab],
            "trace": {"path": str(trace)},
            "synthetic": {"arrivals_for": "10d", "streams": [arrays, plain]},
            "inference": [{"name": "chat", "services": 3, "profile": "chat"}],
        },
        "demand": {
            "rules": [
                {"tier": "on-demand", "elasticity": 1.5, "deferrable": 0.3},
                {"tier": "spot", "elasticity": 0.8},
            ]
        },
        **top,
    }
    return scenario_from_data(data)


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """Rows every 7 h over 22 days, some on the replicas' 5-minute grid and on week
    boundaries (ties with replicas: the trace's rows come first), one at 40 days (window 4
    has no job), a tenant, class and tier of their own."""
    rows: list[tuple[object, ...]] = [(f"t{i}", i * 7 * HOUR, 1 + i % 3, 3600) for i in range(76)]
    rows += [("edge1", WEEK, 2, 600), ("edge2", 2 * WEEK, 1, 600), ("late", 40 * DAY, 4, 60)]
    rows.append(("own", 3 * DAY, 1, 600, "", "acme", "eval", "", "", "spot"))
    header = ("job_id", "submit_time", "gpus", "duration", "requested_time", "tenant", "job_class")
    return write_trace(tmp_path / "t.csv", rows, (*header, "gpu_type", "priority", "tier"))


def test_a_trace_two_streams_services_and_demand_are_their_windows_joined(trace: Path) -> None:
    """The trace's rows past the services and streams come in windows of their own; a week
    without a job is skipped; ties at a week's first instant stay in source order."""
    windows = check(mixed(trace))
    assert [window.index for window in windows] == [0, 1, 2, 3, 5]
    first = windows[1].jobs
    # t24 (7 h x 24) and edge1 at the week's first instant, in row order.
    assert first.job_id[:2] == ["t24", "edge1"] and first.submit[:2] == array("d", [WEEK] * 2)
    # Trace rows and replicas submitted at one instant (the replicas' 5-minute grid): the
    # trace's first, as the whole merge has them.
    joined = [(t, job_id) for w in windows for t, job_id in zip(w.jobs.submit, w.jobs.job_id, strict=True)]
    rows = [(t, job_id[0] == "t") for t, job_id in joined]
    tied = {t for t, from_trace in rows if from_trace} & {t for t, from_trace in rows if not from_trace}
    assert tied
    for t in tied:
        from_trace = [source for u, source in rows if u == t]
        assert from_trace == sorted(from_trace, reverse=True)
    assert {job_id.split("-")[0] for job_id in windows[0].jobs.job_id} >= {"t0", "arrays", "plain", "chat"}
    assert windows[-1].jobs.job_id == ["late"] and windows[-1].willingness is not None


def test_what_is_known_before_the_first_window(trace: Path) -> None:
    """The drops, the service plans, and every job class, tier, tenant and GPU type a job can
    have (the trace's first): a superset of the table's, known before any week is drawn."""
    scenario = mixed(trace)
    layout = ClusterLayout.from_scenario(scenario.cluster)
    windows = WorkloadWindows(scenario, layout)
    assert windows.drops == {} and [plan.spec.name for plan in windows.services] == ["chat"]
    assert windows.job_classes == ["default", "eval", "training", "batch", "inference"]
    assert windows.tiers == ["on-demand", "spot"]
    assert windows.gpu_types == ["B200"]
    jobs = build_workload(scenario, layout).jobs
    for name, possible in [("job_class", windows.job_classes), ("tier", windows.tiers)]:
        assert set(getattr(jobs, name)) == set(possible), name
    assert set(jobs.tenant) <= set(windows.tenants) and set(jobs.gpu_type) <= set(windows.gpu_types)
    assert windows.tenants[:2] == ["default", "acme"] and "plain-t4" in windows.tenants


def test_jobs_before_0_land_in_the_first_window(trace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No reader gives a submit time below 0 today; a table that has one (an API or a future
    reader) still has it first in window 0, as the whole merge orders it."""

    def early(_: object) -> TraceResult:
        columns = {"job_id": ["early", "zero"], "submit": [-5.0, 0.0], "gpus": [1, 2], "gpu_type": ["", ""]}
        times = {"duration": [60.0, 60.0], "requested": [60.0, 60.0], "priority": [0, 0]}
        return TraceResult(JobTable(**columns, **times, tenant=["x", "x"], job_class=["default"] * 2))

    monkeypatch.setattr("sim.workload.windows.read_scenario_trace", early)
    monkeypatch.setitem(globals(), "read_scenario_trace", early)  # merged_at_once's too
    windows = check(mixed(trace))
    assert windows[0].jobs.job_id[0] == "early" and windows[0].jobs.submit[0] == -5.0


# --- lazily --------------------------------------------------------------------------------


@pytest.fixture
def weeks_drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(stream, week) of each week a stream draws, in order: its random stream is made then."""
    drawn: list[tuple[str, int]] = []
    make = synthetic.random_stream

    def counting(seed: int, *names: str) -> Any:
        if names[:2] == ("workload", "synthetic"):
            drawn.append((names[2], int(names[4])))
        return make(seed, *names)

    monkeypatch.setattr(synthetic, "random_stream", counting)
    return drawn


def test_a_window_draws_only_its_own_week(trace: Path, weeks_drawn: list[tuple[str, int]]) -> None:
    """Opening the workload draws no week; each window draws the next week of each stream,
    and nothing past the arrival window (10 days: two weeks) is drawn."""
    scenario = mixed(trace)
    windows = workload_windows(scenario, ClusterLayout.from_scenario(scenario.cluster))
    assert weeks_drawn == []
    each: Iterator[Window] = iter(windows)
    next(each)
    assert weeks_drawn == [("arrays", 0), ("plain", 0)]
    next(each)
    assert weeks_drawn[2:] == [("arrays", 1), ("plain", 1)]
    assert [window.index for window in each] == [2, 3, 5] and len(weeks_drawn) == 4


def test_each_iteration_draws_the_same_windows(trace: Path) -> None:
    """The windows can be drawn again (a second iteration starts from week 0): the same jobs."""
    scenario = mixed(trace, horizon="8d")
    windows = WorkloadWindows(scenario, ClusterLayout.from_scenario(scenario.cluster))
    first, again = list(windows), list(windows)
    willingness = Willingness.concat([w.willingness for w in first if w.willingness is not None])
    assert_joined_equal(again, JobTable.concat([w.jobs for w in first]), willingness)


def test_willingness_drawn_in_pieces_is_the_same() -> None:
    """Two uniforms per job from one generator: slices of any size (empty ones included)
    give the whole table's willingness."""
    stream = {"name": "s", "rate_per_hour": 1, "duration": {"median": 60, "sigma": 1}}
    demand = scenario_from_data(
        {
            "name": "w",
            "horizon": "1d",
            "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 8, "gpu_type": "g"}]},
            "workload": {"synthetic": {"streams": [stream]}},
            "demand": {"rules": [{"tier": "on-demand", "elasticity": 1.2, "deferrable": 0.5}]},
        }
    ).demand
    assert demand is not None
    n = 1000
    tiers = ["on-demand", "spot"] * (n // 2)
    jobs = JobTable(job_id=[str(i) for i in range(n)], tier=tiers, job_class=["c"] * n)
    whole = draw_willingness(demand, jobs, 7)
    draw = WillingnessDraw(demand, 7)
    cuts = [0, 0, 1, 334, 334, 999, n]
    pieces = [draw(jobs.rows(lo, hi)) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    assert Willingness.concat(pieces) == whole
    assert any(whole.deferrable) and math.inf in whole.multiplier


# --- the limits, before the first window ----------------------------------------------------


def no_horizon(stream: dict[str, Any], **metrics: Any) -> Scenario:
    synthetic_part = {"arrivals_for": "1h", "streams": [{"name": "s", **stream}]}
    return scenario_from_data(
        {
            "name": "nohorizon",
            "cluster": {"pods": [{"name": "p", "nodes": 4, "gpus_per_node": 8, "gpu_type": "g"}]},
            "workload": {"synthetic": synthetic_part},
            "metrics": metrics,
        }
    )


def refusal(scenario: Scenario, build: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        build(scenario, ClusterLayout.from_scenario(scenario.cluster))
    return str(caught.value)


def test_the_sample_count_is_refused_before_the_first_window() -> None:
    """A heavy tail (durations cut at 100 years) sampled each minute without a horizon:
    refused before any window, with the whole build's message (the span of the jobs drawn)."""
    heavy = no_horizon({"rate_per_hour": 200, "duration": {"median": "1h", "sigma": 10}}, sample_interval=60)
    message = refusal(heavy, workload_windows)
    assert message == refusal(heavy, build_workload)
    assert f"its jobs span {MAX_SECONDS:g} s" in message


def test_the_sample_count_draws_the_weeks_only_when_a_bound_does_not_pass(
    weeks_drawn: list[tuple[str, int]],
) -> None:
    """Without a ``max`` a stream's durations are bounded by 100 years: sampled hourly that
    passes without drawing a week; sampled each minute the bound does not, so the check
    draws the week, whose jobs (sigma 1 around 1 h) span far less: no refusal."""
    stream = {"rate_per_hour": 20, "duration": {"median": "1h", "sigma": 1}}
    hourly, each_minute = no_horizon(stream), no_horizon(stream, sample_interval=60)
    workload_windows(hourly, ClusterLayout.from_scenario(hourly.cluster))
    assert weeks_drawn == []
    windows = workload_windows(each_minute, ClusterLayout.from_scenario(each_minute.cluster))
    assert weeks_drawn == [("s", 0)]
    assert len(list(windows)) == 1
