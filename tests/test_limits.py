"""Limits that keep a run finite: a workload without a horizon is sampled until its last
job ends, so neither a trace nor a heavy-tailed synthetic stream may make that endless."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.cluster.state import ClusterLayout
from sim.errors import PolicyError, ScenarioError
from sim.scenario import load_scenario, scenario_from_data
from sim.workload.build import build_workload
from sim.workload.trace_csv import MAX_SECONDS

MUNICH = Path(__file__).parent.parent / "scenarios" / "munich.yaml"
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
    trace limit, 3,155,760,000 s, so a run without a horizon ends too. A job passes the limit
    with probability P(Z > ln(876,600) / 10) = 8.6%: of ~200 jobs some do, and not all (with
    20 jobs, none does with probability 17%)."""
    data = {
        "name": "tail",
        "cluster": POOL,
        "workload": {
            "synthetic": {
                "arrivals_for": "1h",
                "streams": [{"name": "s", "rate_per_hour": 200, "duration": {"median": "1h", "sigma": 10}}],
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


def test_the_job_limit_counts_the_whole_week_a_short_window_draws() -> None:
    """Arrivals are drawn a week at a time: 1 h at 1e6 jobs an hour draws 1.68e8 (refused, it
    would exhaust memory), 2e5 an hour draws 3.36e7 (accepted)."""
    DURATION = {"median": "1h", "sigma": 1}

    def stream(rate: float) -> dict[str, object]:
        streams = [{"name": "s", "rate_per_hour": rate, "duration": DURATION}]
        synthetic = {"arrivals_for": "1h", "streams": streams}
        return {"name": "short", "cluster": POOL, "workload": {"synthetic": synthetic}}

    with pytest.raises(ScenarioError, match=r"over whole weeks \(got about 1\.68e\+08, 1\.68e\+08 from"):
        scenario_from_data(stream(1e6))
    assert scenario_from_data(stream(2e5)).workload.synthetic is not None


def _error(overrides: tuple[str, ...]) -> str:
    with pytest.raises((ScenarioError, PolicyError)) as caught:
        load_scenario(MUNICH, overrides)
    return str(caught.value)


def test_settings_that_would_exhaust_memory_or_never_end_are_one_line() -> None:
    """Found by probing (each was a MemoryError, a math domain error or a run that never
    ended): a stream's jobs at its peak rate, the autoscaler's and dynamic pricing's steps."""
    rate = ("workload.synthetic.streams.0.load=null", "workload.synthetic.streams.0.rate_per_hour=1e9")
    # Located at the stream (the file's line): the rule weighs all of its settings.
    assert _error(rate).endswith(
        ":29: workload.synthetic.streams.0: the streams must draw at most 50,000,000 jobs at their peak "
        "rate over whole weeks (got about 1.3e+12, 1.3e+12 from this one)"
    )
    refused = {
        "workload.synthetic.streams.0.duration.max=0": (
            "--set: workload.synthetic.streams.0.duration.max: max must be > 0 (got 0)"
        ),
        "workload.inference.0.autoscaler.interval=1": (
            "--set: workload.inference.0.autoscaler.interval: interval must be at least the services' "
            "window / 1,000,000 = 2.4192 s (got 1 s for 2.4192e+06 s)"
        ),
        "pricing={name: dynamic, params: {interval: 2}}": (
            "--set: pricing.params.interval: interval must be at least horizon / 1,000,000 = 2.4192 s "
            "(got 2 s for a horizon of 2.4192e+06 s)"
        ),
        "workload.inference.0.slo.latency=0": (
            "--set: workload.inference.0.slo.latency: latency must be > 0 (got 0)"
        ),
        "scheduler={name: tiresias, params: {thresholds: '36'}}": (
            "--set: scheduler.params: scheduler 'tiresias': 'thresholds' must be a list of GPU-seconds "
            "(got '36')"
        ),
    }
    for override, message in refused.items():
        assert _error((override,)) == message
    # Just inside the limits: the default munich month, an interval of 3 s.
    assert load_scenario(MUNICH, ("workload.inference.0.autoscaler.interval=3",)).horizon == 28 * 86400


def test_a_warmup_past_the_horizon_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every metric would be empty: compare and sweep say so instead of printing dashes."""
    out = str(tmp_path / "c")
    args = ["compare", str(MUNICH), "--schedulers", "easy,fifo", "--warmup", "1d", "--set", "horizon=2h"]
    assert main([*args, "--out", out, "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "gpusim: --warmup: --warmup must be shorter than the horizon, or no job is measured (got 86400 s "
        "for a horizon of 7200 s)\n"
    )
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"name: s\nbase: {MUNICH}\nset: {{horizon: 2h}}\naxes:\n  scheduler: [easy, fifo]\nwarmup: 3h\n"
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"gpusim: {sweep}:6: warmup: warmup must be shorter than the horizon, or no job is measured "
        "(got 10800 s for scheduler=easy, whose horizon is 7200 s)\n"
    )
    assert not (tmp_path / "c").exists() and not (tmp_path / "s").exists()


def test_a_sample_interval_as_long_as_the_horizon_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """timeseries.csv would hold one row, the empty cluster at t = 0 (the sample at the horizon
    is not taken). Only a given interval: the default hour with a 30-minute horizon still runs."""
    (tmp_path / "t.csv").write_text("job_id,submit_time,gpus,duration\na,0,1,600\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nhorizon: 1d\ncluster: {pods: [{name: p, nodes: 1, gpus_per_node: 1, gpu_type: g}]}\n"
        "workload: {trace: {path: t.csv}}\nmetrics: {sample_interval: 2d}\n"
    )
    assert main(["validate", str(scenario)]) == 2
    assert capsys.readouterr().err == (
        f"gpusim: {scenario}:5: metrics.sample_interval: sample_interval must be shorter than the horizon, "
        "or the run samples only t = 0 (got 172800 s for a horizon of 86400 s)\n"
    )
    assert main(["validate", str(scenario), "--set", "metrics.sample_interval=1d"]) == 2
    assert capsys.readouterr().err == (
        "gpusim: --set: metrics.sample_interval: sample_interval must be shorter than the horizon, "
        "or the run samples only t = 0 (got 86400 s for a horizon of 86400 s)\n"
    )
    assert main(["validate", str(scenario), "--set", "metrics.sample_interval=12h"]) == 0
    assert main(["validate", str(scenario), "--set", "metrics={}", "--set", "horizon=30m"]) == 0
