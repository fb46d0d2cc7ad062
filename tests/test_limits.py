"""Limits that keep a run finite: a workload without a horizon is sampled until its last
job ends, so neither a trace nor a heavy-tailed synthetic stream may make that endless."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError
from sim.scenario import scenario_from_data
from sim.workload.build import build_workload
from sim.workload.trace_csv import MAX_SECONDS

POOL = {"pods": [{"name": "p", "nodes": 4, "gpus_per_node": 8, "gpu_type": "g"}]}


def test_no_horizon_and_more_than_a_million_samples_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job of 3e9 s (95 years, within the trace limit) sampled each minute: 50M samples."""
    (tmp_path / "long.csv").write_text("job_id,submit_time,gpus,duration\na,0,1,3000000000\n")
    scenario = tmp_path / "long.yaml"
    scenario.write_text(
        "name: long\ncluster: {pods: [{name: p, nodes: 1, gpus_per_node: 1, gpu_type: g}]}\n"
        "workload: {trace: {path: long.csv}}\nmetrics: {sample_interval: 60}\n"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"gpusim: {scenario}: metrics.sample_interval: must be at least the workload's span / "
        "1,000,000 = 3000 s when there is no horizon (its jobs span 3e+09 s; or set a horizon) (got 60 s)\n"
    )
    assert not (tmp_path / "out").exists()
    # With a horizon the same workload runs (sampled up to the horizon only).
    args = ["run", str(scenario), "--set", "horizon=1d", "--out", str(tmp_path / "day"), "--quiet"]
    assert main(args) == 0


def test_a_heavy_tail_is_cut_at_100_years() -> None:
    """sigma 10 around a median of 1 h draws durations of 1e10 s and more: they end at the
    trace limit, 3,155,760,000 s, so a run without a horizon ends too."""
    data = {
        "name": "tail",
        "cluster": POOL,
        "workload": {
            "synthetic": {
                "arrivals_for": "1h",
                "streams": [{"name": "s", "rate_per_hour": 20, "duration": {"median": "1h", "sigma": 10}}],
            }
        },
    }
    scenario = scenario_from_data(data)
    jobs = build_workload(scenario, ClusterLayout.from_scenario(scenario.cluster)).jobs
    assert max(jobs.duration) == MAX_SECONDS
    assert 0 < sum(d == MAX_SECONDS for d in jobs.duration) < len(jobs.duration)


def test_gpu_counts_of_a_stream_at_most_a_billion() -> None:
    duration = {"median": "1h", "sigma": 1}
    stream = {"name": "s", "rate_per_hour": 1, "gpus": {10**12: 1.0}, "duration": duration}
    data = {"name": "big", "cluster": POOL, "workload": {"synthetic": {"streams": [stream]}}}
    with pytest.raises(ScenarioError, match=r"gpus must map counts from 1 to 1,000,000,000 to weights"):
        scenario_from_data(data)
