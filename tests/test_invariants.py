"""Engine invariants under ``check=True`` (``--check``): they hold on busy runs of every
kind of feature, and a policy that breaks one is caught with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers import flat_pool

import sim
from sim.cluster.state import ClusterLayout
from sim.engine.core import Engine
from sim.engine.invariants import InvariantError
from sim.policies import PLACEMENTS, QUOTAS, SCHEDULERS
from sim.policies.quota.caps import Caps
from sim.policies.scheduling.easy import Easy
from sim.records import STATUSES
from sim.scenario.schema import Cluster
from sim.workload.jobs import JobTable

SMALL_MUNICH = Path(__file__).resolve().parent / "data" / "small-munich.yaml"
HEADER = "job_id,submit_time,gpus,duration,requested_time,tenant,tier,priority\n"


def random_trace(path: Path, jobs: int, seed: int, sizes: list[int], span: float) -> Path:
    """A busy trace: uniform arrivals over ``span``, exponential durations, estimates 1-3x."""
    rng = np.random.default_rng(seed)
    tiers = np.array(["reserved", "on-demand", "spot"])
    submit = np.sort(rng.uniform(0, span, jobs))
    duration = rng.exponential(300, jobs) + 1
    rows = [
        f"j{i},{submit[i]:.1f},{rng.choice(sizes)},{duration[i]:.1f},{duration[i] * rng.uniform(1, 3):.1f},"
        f"t{rng.integers(0, 6)},{tiers[rng.integers(0, 3)]},{rng.integers(0, 3)}\n"
        for i in range(jobs)
    ]
    path.write_text(HEADER + "".join(rows))
    return path


def scenario(trace: Path, nodes: int = 6, gpus_per_node: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "name": "checked",
        "cluster": {"pods": [{"name": "p", "nodes": nodes, "gpus_per_node": gpus_per_node, "gpu_type": "G"},
                             {"name": "q", "nodes": nodes, "gpus_per_node": gpus_per_node, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": "easy",
        **extra,
    }  # fmt: skip


def assert_whole(result: sim.Result, jobs: int) -> None:
    """Every job is one record with a known status."""
    assert len(result.jobs) == jobs
    assert len({job.job_id for job in result.jobs}) == jobs
    assert {job.status for job in result.jobs} <= set(STATUSES)


@pytest.mark.parametrize("scheduler", ["fifo", "easy", "sjf", "conservative"])
def test_invariants_hold_on_a_busy_trace(tmp_path: Path, scheduler: str) -> None:
    trace = random_trace(tmp_path / "t.csv", 600, 1, [1, 2, 3, 4, 8, 12], 20_000)
    result = sim.run(scenario(trace, scheduler=scheduler), plots=False, check=True)
    assert_whole(result, 600)
    assert sum(job.status == "completed" for job in result.jobs) == 600


def test_invariants_hold_with_spot_preemption_notice_and_dynamic_prices(tmp_path: Path) -> None:
    trace = random_trace(tmp_path / "t.csv", 500, 2, [1, 2, 4, 8], 15_000)
    extra = {
        "scheduler": {"name": "easy", "params": {"preempt_spot": True}},
        "preemption": {"spot_notice": 30, "restart_overhead": 20},
        "pricing": {"name": "dynamic", "params": {"interval": "10m"}},
    }
    result = sim.run(scenario(trace, **extra), plots=False, check=True)
    assert_whole(result, 500)
    assert sum(job.preemptions for job in result.jobs) > 0  # the checks saw preemptions


@pytest.mark.parametrize(
    "quota",
    [
        {"name": "caps", "params": {"per_tenant": 8}},
        {"name": "reserved_share", "params": {"share": 0.5}},
        {
            "name": "kueue",
            "params": {
                "cluster_queues": [
                    {"name": "A", "match": {"tiers": ["reserved"]}, "cohort": "c", "nominal_quota": {"G": 24},
                     "reclaim_within_cohort": "any"},
                    {"name": "B", "match": {"tiers": ["on-demand", "spot"]}, "cohort": "c",
                     "nominal_quota": {"G": 24}, "borrowing_limit": {"G": 12}},
                ]
            },
        },
    ],
    ids=["caps", "reserved_share", "kueue"],
)  # fmt: skip
def test_invariants_hold_under_quotas(tmp_path: Path, quota: dict[str, Any]) -> None:
    trace = random_trace(tmp_path / "t.csv", 500, 3, [1, 2, 4, 8], 12_000)
    result = sim.run(scenario(trace, quota=quota), plots=False, check=True)
    assert_whole(result, 500)


def test_invariants_hold_on_the_small_factory(tmp_path: Path) -> None:
    """Two synthetic classes, inference services, 2,160 GPUs, a 6-hour horizon."""
    data = yaml.safe_load(SMALL_MUNICH.read_text(encoding="utf-8"))
    result = sim.run(data, plots=False, check=True, horizon="6h")
    assert {job.status for job in result.jobs} >= {"completed", "unfinished"}


def test_a_corrupted_cluster_count_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler that marks a GPU busy behind the engine's back breaks 'free = capacity -
    held' on that node at once."""

    class Corrupting(Easy):
        def select(self, ctx: Any) -> None:
            super().select(ctx)
            ctx.cluster.free[0] -= 1 if ctx.cluster.free[0] else 0

    monkeypatch.setitem(SCHEDULERS._classes, "corrupting-test", Corrupting)
    trace = random_trace(tmp_path / "t.csv", 50, 4, [1, 2], 1_000)
    with pytest.raises(InvariantError, match=r"invariant broken at t=.*: node 0 has \d+ free GPUs"):
        sim.run(scenario(trace, scheduler="corrupting-test"), plots=False, check=True)


def test_a_type_queue_out_of_step_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler that drops a job from its type's view (the queue grouped by GPU count)
    behind the engine's back: the check compares that view with the queue at once."""

    class Dropping(Easy):
        def select(self, ctx: Any) -> None:
            super().select(ctx)
            for job in ctx.queue_of_type("G"):
                ctx.queue_of_type("G").remove(job, ctx.jobs.gpus[job])
                return

    monkeypatch.setitem(SCHEDULERS._classes, "dropping-test", Dropping)
    trace = random_trace(tmp_path / "t.csv", 200, 4, [4, 8], 1_000)
    with pytest.raises(InvariantError, match=r"the queue of G grouped by GPU count disagrees with the queue"):
        sim.run(scenario(trace, scheduler="dropping-test"), plots=False, check=True)


def test_a_backfill_that_delays_the_head_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EASY with a reservation that admits everything: some backfilled job pushes the
    blocked head's shadow time later, and the check names the head."""
    from sim.policies.scheduling import reservation

    monkeypatch.setattr(reservation.HeadReservation, "admits", lambda self, p, t, gone: True)
    trace = random_trace(tmp_path / "t.csv", 400, 5, [1, 4, 8, 24], 5_000)
    with pytest.raises(InvariantError, match=r"backfilling delayed the head j\d+: its reservation moved"):
        sim.run(scenario(trace), plots=False, check=True)


def test_broken_quota_accounting_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caps policy that forgets to count admissions over-admits a tenant: the check
    recomputes the tenant's GPUs from the admitted jobs and reports the cap."""

    class Forgetful(Caps):
        def admitted(self, job: int) -> None:
            gpu_type, gpus = self._need(job)
            self._held[job] = (gpu_type, gpus)  # held, but never added to the usage

    monkeypatch.setitem(QUOTAS._classes, "forgetful-test", Forgetful)
    trace = random_trace(tmp_path / "t.csv", 300, 6, [1, 2, 4], 3_000)
    quota = {"name": "forgetful-test", "params": {"per_tenant": 4}}
    broken = r"invariant broken at t=[\d.]+: tenant:t\d holds \d+ GPUs, above its cap 4"
    with pytest.raises(InvariantError, match=broken):
        sim.run(scenario(trace, quota=quota), plots=False, check=True)


def test_the_clock_refuses_the_past() -> None:
    from sim.engine.clock import Clock

    clock = Clock()
    clock.now = 10.0
    with pytest.raises(ValueError, match="cannot schedule at 5.0, before now"):
        clock.at(5.0, print)


def test_check_is_off_by_default_and_recorded_in_the_manifest(tmp_path: Path) -> None:
    import json

    trace = random_trace(tmp_path / "t.csv", 40, 7, [1, 2], 500)
    sim.run(scenario(trace), out=tmp_path / "plain", plots=False)
    sim.run(scenario(trace), out=tmp_path / "checked", plots=False, check=True)
    assert "checked" not in json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert json.loads((tmp_path / "checked" / "manifest.json").read_text())["checked"] is True
    for name in ("jobs.csv", "segments.csv"):  # checking changes nothing
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "checked" / name).read_bytes()


def test_regression_huge_times_end_instead_of_sampling_forever() -> None:
    """A job at 1e300 s: an hourly sample no longer moves the clock there (1e300 + 3600 ==
    1e300), which used to loop forever; sampling stops and the job completes. (Trace readers
    and scenarios now refuse times past 100 years; the engine keeps its own guard, since a
    job table can come from the API.)"""
    table = JobTable(
        job_id=["a"], submit=[1e300], gpus=[1], duration=[1e300], requested=[1e300], gpu_type=["g"],
        tenant=["t"], job_class=["c"], priority=[0],
    )  # fmt: skip
    layout = ClusterLayout.from_scenario(Cluster.model_validate({"pods": flat_pool(2)}))
    (job,) = (
        Engine(layout, table, SCHEDULERS.create("fifo"), PLACEMENTS.create("pack"), check=True).run().jobs
    )
    assert (job.status, job.start_time, job.end_time) == ("completed", 1e300, 2e300)


def test_regression_an_empty_scenario_argument_is_not_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gpusim run ""` ran scenarios/munich.yaml (an empty name read as "none given")."""
    from sim.cli import main

    assert main(["run", "", "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert capsys.readouterr().err == "gpusim: : scenario file must exist (got '')\n"
