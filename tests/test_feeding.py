"""Feeding the engine a week at a time (sim/engine/feeding.py) gives the records of the whole table.

``simulate(fed=True)`` feeds the engine the workload's weekly windows and drops ended jobs as
it goes; ``run_workload`` hands it the whole table and never drops. On a small copy of the spot
market scenario (tiers, demand that defers and balks, time-of-day prices, inference
services with deadlines) over several weeks, every record must be the same, and the
engine must never hold more than a few weeks of jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.api import resolve, run_workload, simulate
from sim.cluster.state import ClusterLayout
from sim.engine import dropping, feeding
from sim.records import RunRecords
from sim.spool import TextColumn
from sim.workload.build import build_workload

SPOT = Path(__file__).resolve().parent.parent / "scenarios" / "pricing-spot-market.yaml"
SMALL = {
    "cluster.pods.0.nodes": 6, "cluster.pods.0.count": 1,
    "cluster.pods.1.nodes": 6, "cluster.pods.1.count": 1,
    "workload.inference.0.services": 4, "workload.inference.1.services": 3,
}  # fmt: skip
TAKE = feeding.take_window  # the real one (tests wrap it)


def whole(overrides: dict[str, Any]) -> RunRecords:
    scenario = resolve(SPOT, {**SMALL, **overrides})
    layout = ClusterLayout.from_scenario(scenario.cluster)
    return run_workload(scenario, layout, build_workload(scenario, layout))


def fed(overrides: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[RunRecords, list[int], int]:
    """The records of a fed run, the table's length after each window came, the jobs dropped."""
    sizes: list[int] = []
    dropped = [0]
    drop = dropping.drop

    def take(engine: Any) -> bool:
        came = TAKE(engine)
        sizes.append(len(engine.jobs))
        return came

    def counted(engine: Any, ended: Any) -> None:
        dropped[0] += len(ended)
        drop(engine, ended)

    monkeypatch.setattr(feeding, "take_window", take)
    monkeypatch.setattr("sim.engine.arrivals.take_window", take)
    monkeypatch.setattr("sim.engine.results.take_window", take)
    monkeypatch.setattr(dropping, "drop", counted)
    monkeypatch.setattr(dropping, "FED", dropping.DropRule(min_jobs=200, share=0.5))
    return simulate(resolve(SPOT, {**SMALL, **overrides}), fed=True), sizes, dropped[0]


def same(a: RunRecords, b: RunRecords) -> None:
    assert a.jobs == b.jobs
    assert a.segments == b.segments
    assert a.timeseries == b.timeseries
    assert (a.end_time, a.events, a.extra, a.dropped, len(a.services)) == (
        b.end_time, b.events, b.extra, b.dropped, len(b.services),
    )  # fmt: skip


def test_fed_week_by_week_the_records_are_the_whole_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = {"horizon": "35d"}
    expected = whole(overrides)  # (before fed's wrappers are in place)
    records, sizes, dropped = fed(overrides, monkeypatch)
    same(records, expected)
    total = len(records.jobs)
    assert len(sizes) >= 4 and dropped > total // 2, (sizes, dropped, total)
    # Never more than about a week and a half of the five held at once.
    assert max(sizes) < 0.3 * total, (sizes, total)
    assert isinstance(records.jobs.column("job_id"), TextColumn)  # read back from the spool
    statuses = set(records.jobs.column("status"))
    assert {"completed", "balked", "unfinished"} <= statuses, statuses


def test_jobs_never_fed_before_the_horizon_are_rows_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrivals for three weeks, a horizon after 9 days: the later weeks are never fed to the
    run, yet each of their jobs is a row, not submitted, as with the whole table."""
    overrides = {"horizon": "9d", "workload.synthetic.arrivals_for": "21d"}
    expected = whole(overrides)
    records, _, _ = fed(overrides, monkeypatch)
    same(records, expected)
    reasons = records.jobs.column("reason")
    assert sum(reason == "not submitted before the horizon" for reason in reasons) > 1_000
