"""``gpusim compare``: common random numbers, intervals, warm-up and censoring, the command."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli import main
from sim.compare.metrics import comparison_metrics
from sim.compare.runner import compare, make_variants, replication_seed
from sim.compare.stats import t_interval
from sim.scenario import given_data, scenario_from_data

SMALL = Path(__file__).parent / "data" / "small-munich.yaml"


def queue(load: float = 0.7, days: str = "1d") -> dict[str, Any]:
    """A 16-GPU flat pool fed about 1,000 jobs a day at the given load."""
    return {
        "name": "queue",
        "horizon": days,
        "cluster": {"pods": [{"name": "p", "nodes": 16, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {
            "synthetic": {
                "streams": [
                    {
                        "name": "s",
                        "load": load,
                        "gpus": {1: 0.7, 2: 0.3},
                        "duration": {"median": 600, "sigma": 1},
                    }
                ]
            }
        },
        "scheduler": "fifo",
    }


def test_a_variant_against_itself_differs_by_exactly_zero() -> None:
    """Common random numbers: easy twice sees the same workloads, so every paired difference
    (mean and half-width) is exactly 0, while easy vs fifo differ."""
    base = scenario_from_data(queue(load=0.9))
    result = compare(base, make_variants(["fifo", "easy", "easy"], []), 3, workers=1)
    assert [v.label for v in result.variants] == ["fifo", "easy", "easy #2"]
    for metric, diff in result.differences["fifo"].items():
        assert (diff.mean, diff.half_width) == (0.0, 0.0), metric
    twin = result.intervals["easy #2"]
    for metric, interval in result.intervals["easy"].items():
        assert twin[metric] == interval, metric
    easy_vs_fifo = result.differences["easy"]["wait_mean"]
    assert easy_vs_fifo.mean < 0 and easy_vs_fifo.half_width > 0  # backfilling waits less here
    assert result.differences["fifo"]["jobs"].mean == 0.0


def test_interval_half_width_shrinks_like_one_over_root_r() -> None:
    """256 replications of utilisation: the t-interval over the first R has half-width
    t_{R-1} s_R / sqrt(R). Going from 16 to 64 to 256 replications, the standard deviation
    estimate s_R stays put (within 40%) and the half-width falls close to sqrt(R) x the
    t-quantile ratio (about 2.1 per step)."""
    from scipy import stats

    base = scenario_from_data(queue(days="6h"))
    cells = compare(base, make_variants([], []), 256, workers=2).cells
    values = [c.metrics["utilisation"] for c in sorted(cells, key=lambda c: c.replication)]
    widths = {r: t_interval(values[:r]).half_width for r in (16, 64, 256)}
    spread = {r: widths[r] * math.sqrt(r) / stats.t.ppf(0.975, r - 1) for r in widths}
    assert max(spread.values()) / min(spread.values()) < 1.4
    for small, large in ((16, 64), (64, 256)):
        expected = math.sqrt(large / small) * stats.t.ppf(0.975, small - 1) / stats.t.ppf(0.975, large - 1)
        assert widths[small] / widths[large] == pytest.approx(expected, rel=0.4)


def test_replication_zero_is_the_plain_run_and_seeds_are_independent() -> None:
    base = scenario_from_data(queue())
    (cell,) = compare(base, make_variants([], []), 1, workers=1).cells
    assert cell.seed == base.seed == 0
    assert cell.metrics == comparison_metrics(sim.run(base).records)
    seeds = [replication_seed(0, r) for r in range(50)]
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert replication_seed(7, 3) != replication_seed(0, 3)


def test_warmup_and_censored_waits(tmp_path: Path) -> None:
    """1 GPU; a runs [0, 1000); b (submitted 10) never starts before the horizon 500: wait
    mean 0 over started jobs, (0 + 490) / 2 = 245 censored at the horizon; b is queued at
    the end. A warm-up of 5 s leaves only b."""
    trace = tmp_path / "t.csv"
    trace.write_text("job_id,submit_time,gpus,duration\na,0,1,1000\nb,10,1,100\n")
    data = {
        "name": "censor",
        "horizon": 500,
        "cluster": {"pods": [{"name": "p", "nodes": 1, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
    }
    records = sim.run(data).records
    full = comparison_metrics(records)
    assert (full["jobs"], full["unfinished"], full["queued_at_end"]) == (2, 2, 1)
    assert (full["wait_mean"], full["wait_mean_censored"]) == (0.0, 245.0)
    late = comparison_metrics(records, warmup=5)
    assert (late["jobs"], late["queued_at_end"], late["wait_mean_censored"]) == (1, 1, 490.0)
    assert math.isnan(late["wait_mean"])
    assert late["utilisation"] == pytest.approx(1.0)  # a holds the GPU over [5, 500]


def test_compare_command_writes_everything_and_is_deterministic(tmp_path: Path, capsys: Any) -> None:
    args = ["compare", str(SMALL), "--schedulers", "fifo,easy", "--replications", "2", "--set", "horizon=4h",
            "--warmup", "30m", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--workers", "2"]) == 0
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("comparison.csv", "comparison.json", "runs.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert sorted(p.name for p in (a / "runs").iterdir()) == ["easy", "fifo"]
    assert (a / "runs" / "easy" / "rep-1" / "jobs.csv").is_file()
    assert (a / "report.html").is_file() and (a / "plots" / "queue_delay_cdf.png").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    assert main([*args[:-1], "--out", str(tmp_path / "c")]) == 0  # not quiet: the table
    shown = capsys.readouterr().out
    assert "wait mean" in shown and "Δ" in shown and "2 replications, 95% t-intervals" in shown


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--schedulers", "fifo,esay"], "gpusim: --schedulers/--vary: scheduler: scheduler must be one of"),
        (["--vary", "cluster.pods.0.nodes=2,-1"], "gpusim: --schedulers/--vary: cluster.pods.0.nodes: nodes"),
        (["--vary", "horizon"], "--vary must be PATH=V1,V2,... (got 'horizon')"),
        (["--replications", "0"], "--replications must be >= 1 (got 0)"),
        (["--warmup", "soon"], "--warmup must be a duration"),
    ],
)
def test_compare_mistakes_are_one_line_exit_2(
    tmp_path: Path, capsys: Any, extra: list[str], message: str
) -> None:
    assert main(["compare", str(SMALL), "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpusim: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_a_default_kept_by_the_base_stays_a_default_in_its_variants(tmp_path: Path) -> None:
    """A 1 h horizon with the default 1 h sample interval is accepted (only a given interval must
    be shorter), so its variants, built from the resolved base, must be accepted too: they
    were refused before the base kept what was given apart from the defaults."""
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(queue(days="1h")), encoding="utf-8")
    base = sim.api.resolve(path)
    assert "sample_interval" not in base.metrics.model_fields_set
    assert sim.api.resolve(base, {"scheduler": "easy"}).scheduler.name == "easy"
    out = str(tmp_path / "c")
    assert main(["compare", str(path), "--schedulers", "fifo,easy", "--out", out, "--quiet"]) == 0
    assert given_data(scenario_from_data(given_data(base))) == given_data(base)


def test_vary_makes_every_combination_on_the_same_workload(tmp_path: Path) -> None:
    """--schedulers x --vary gives all combinations in order; placement does not change the
    workload, so every variant counts the same jobs in each replication (difference 0)."""
    variants = make_variants(["fifo", "easy"], [("placement", ["pack", "spread"])])
    assert [v.label for v in variants] == ["fifo, placement=pack", "fifo, placement=spread",
                                           "easy, placement=pack", "easy, placement=spread"]  # fmt: skip
    assert variants[1].settings == ("scheduler=fifo", "placement=spread")
    result = compare(scenario_from_data(queue(load=0.9)), variants, 2, workers=2)
    assert all(result.differences[v.label]["jobs"].mean == 0.0 for v in variants)


def test_plot_command_redraws_a_comparison(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "c"
    assert main(["compare", str(SMALL), "--schedulers", "fifo", "--replications", "2", "--set", "horizon=2h",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    report = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    for png in (out / "plots").iterdir():
        png.unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "report.html").read_bytes() == report
    assert (out / "plots" / "queue_delay_cdf.png").is_file()
    assert main(["plot", str(tmp_path)]) == 2
    assert "gpusim results directory" in capsys.readouterr().err


SCHEDULER_TOO = (
    "--vary: --vary must not change scheduler when --schedulers is given, or one overrides the other"
)
OVERLAP = "--vary: --vary must give each path once and none inside another, or one overrides the other"
REFUSED_VARIANTS = [
    (
        ["--schedulers", "fifo,easy", "--vary", "scheduler=conservative,sjf"],
        f"{SCHEDULER_TOO} (got 'scheduler')",
    ),
    (
        ["--schedulers", "easy", "--vary", "scheduler.params.depth=1,2"],
        f"{SCHEDULER_TOO} (got 'scheduler.params.depth')",
    ),
    (
        ["--vary", "horizon=1d,2d", "--vary", "horizon=3d"],
        f"{OVERLAP} (got 'horizon' twice)",
    ),
    (
        ["--vary", "pricing.params.discounts.spot=0.5,0.8", "--vary", "pricing=flat,tiered"],
        f"{OVERLAP} (got 'pricing.params.discounts.spot' and 'pricing')",
    ),
    (["--vary", "seed=1,2"], "--vary: --vary must not change seed: each replication sets it (got 'seed')"),
    (
        ["--vary", "horizon=1h,3600"],
        "--vary: variants must run different scenarios, or a label names a setting that did not run "
        "(got 'horizon=1h' and 'horizon=3600', one scenario)",
    ),
    (
        ["--schedulers", "easy,{name: easy}"],
        "--schedulers/--vary: variants must run different scenarios, or a label names a setting that did "
        "not run (got 'easy' and '{name: easy}', one scenario)",
    ),
]


VARIANT_IDS = [
    "schedulers-and-vary",
    "scheduler-child",
    "twice",
    "inside",
    "seed",
    "same-scenario",
    "same-name",
]


@pytest.mark.parametrize(("extra", "message"), REFUSED_VARIANTS, ids=VARIANT_IDS)
def test_variants_whose_labels_would_name_settings_that_did_not_run_are_refused(
    tmp_path: Path, capsys: Any, extra: list[str], message: str
) -> None:
    """A setting that another overrides, or two labels for one scenario, is one line, exit 2,
    before any run (no directory is made)."""
    out = tmp_path / "x"
    assert main(["compare", str(SMALL), "--set", "horizon=2h", "--out", str(out), "--quiet", *extra]) == 2
    assert capsys.readouterr().err == f"gpusim: {message}\n"
    assert not out.exists() and list(tmp_path.iterdir()) == []
