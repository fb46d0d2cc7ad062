"""Settings that cannot act on the run are named, one warning line each, and the run goes on.

Each case sets one such setting on a scenario that otherwise warns about nothing, and
checks the exact line (file, line, path, why) through ``load_scenario``; one test goes
through the command line (stderr, exit 0, manifest) and one through a ``--set``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_cli import gpusim

from sim.cli import main
from sim.scenario import load_scenario
from sim.scenario.no_effect import SAME_REPLICATIONS

BASE = """\
name: inert
cluster:
  pods:
    - {name: p, gpu_type: B200, nodes: 2, gpus_per_node: 8}
    - {name: q, gpu_type: RTXPRO6000, nodes: 1, gpus_per_node: 8}
workload:
  tenants:
    - {name: big, count: 2, tier: reserved}
    - {name: small, count: 5}
  synthetic:
    arrivals_for: 1h
    streams:
      - name: a
        rate_per_hour: 4
        gpus: {1: 1}
        duration: {median: 600, sigma: 1}
        gpu_type: [B200, RTXPRO6000]
        tenants: {small: 1, big: 1}
scheduler: {name: easy, params: {preempt_spot: true}}
preemption: {spot_notice: 5m}
horizon: 2h
"""
KUEUE = "quota: {name: kueue, params: {cluster_queues: %s}}"


def warnings_of(tmp_path: Path, text: str, *overrides: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    found: list[str] = []
    load_scenario(path, overrides, found)
    return [line.replace(str(path), "s.yaml") for line in found]


def test_the_base_scenario_warns_about_nothing(tmp_path: Path) -> None:
    """Every setting below acts here: the groups are drawn, the stream accepts two types, easy
    preempts spot jobs."""
    assert warnings_of(tmp_path, BASE) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("tenants: {small: 1, big: 1}", "tenants: {small: 1}"),
            ["s.yaml:8: workload.tenants.0: has no effect: no job stream or inference service draws "
             "tenants from group 'big'"],
        ),
        (
            ("gpu_type: [B200, RTXPRO6000]", "gpu_type: B200\ncluster_speed"),
            ["s.yaml:3: cluster.speed: has no effect: it scales only jobs that accept several GPU types; "
             "no stream or service gives a list of them"],
        ),
        (
            ("{name: easy, params: {preempt_spot: true}}", "fifo"),
            ["s.yaml:20: preemption.spot_notice: has no effect: scheduler 'fifo' never stops spot jobs for "
             "others (easy with preempt_spot: true does)"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\nplacement: {name: pod_local, params: {span_slowdown: 1.5}}"),
            ["s.yaml:22: placement.params.span_slowdown: has no effect: under strict: true no job spans "
             "pods, so none is slowed"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\n" + KUEUE % "[{name: a, nominal_quota: {B200: 8}, "
             "borrowing_limit: {B200: 4}, lending_limit: {B200: 2}}]"),
            ["s.yaml:22: quota.params.cluster_queues.0.borrowing_limit: has no effect: a queue without a "
             "cohort neither borrows nor lends",
             "s.yaml:22: quota.params.cluster_queues.0.lending_limit: has no effect: a queue without a "
             "cohort neither borrows nor lends"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\n" + KUEUE % "[{name: a, cohort: c, match: {tiers: [reserved]}}, "
             "{name: b, cohort: d}, {name: c, cohort: d}, {name: e, match: {tiers: [on-demand]}}]"),
            ["s.yaml:22: quota.params.cluster_queues.0.cohort: has no effect: no other ClusterQueue is in "
             "cohort 'c'",
             "s.yaml:22: quota.params.cluster_queues.2: has no effect: no job reaches it: the earlier queue "
             "'b' matches every job",
             "s.yaml:22: quota.params.cluster_queues.3: has no effect: no job reaches it: the earlier queue "
             "'b' matches every job"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\ndemand: {rules: [{tier: reserved, elasticity: 1}, {elasticity: 2}, "
             "{tier: reserved, job_class: batch, elasticity: 3}, {job_class: batch, elasticity: 4}]}"),
            ["s.yaml:22: demand.rules.2: has no effect: demand.rules.0 comes first and matches every job it "
             "would",
             "s.yaml:22: demand.rules.3: has no effect: demand.rules.1 comes first and matches every job it "
             "would"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\npricing: {name: flat, params: {discounts: {spot: 0.5, "
             "reserved: 0.2}}}\ndemand: {rules: [{tier: spot, elasticity: 1}]}\n"
             + KUEUE % "[{name: a, match: {tiers: [reserved, spot]}}]"),
            ["s.yaml:22: pricing.params.discounts.spot: has no effect: no job has tier 'spot' (the "
             "workload's jobs have tiers: on-demand, reserved)",
             "s.yaml:24: quota.params.cluster_queues.0.match.tiers.1: has no effect: no job has tier 'spot' "
             "(the workload's jobs have tiers: on-demand, reserved)",
             "s.yaml:23: demand.rules.0.tier: has no effect: no job has tier 'spot' (the workload's jobs "
             "have tiers: on-demand, reserved)"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\nquota: {name: caps, params: {per_tier: {spot: 4, reserved: 8}}}"),
            ["s.yaml:22: quota.params.per_tier.spot: has no effect: no job has tier 'spot' (the workload's "
             "jobs have tiers: on-demand, reserved)"],
        ),
        (
            ("horizon: 2h", "horizon: 2h\nquota: {name: reserved_share, params: {tier: spot, share: 0.5}}"),
            ["s.yaml:22: quota.params.tier: has no effect: no job has tier 'spot' (the workload's jobs have "
             "tiers: on-demand, reserved)"],
        ),
    ],
    ids=[
        "unused-tenant-group", "speed", "spot-notice", "span-slowdown", "kueue-limits", "kueue-queues",
        "demand-rules", "absent-tier", "caps-tier", "reserved-share-tier",
    ],
)  # fmt: skip
def test_a_setting_that_cannot_act_is_one_located_warning(
    tmp_path: Path, edit: tuple[str, str], expected: list[str]
) -> None:
    old, new = edit
    text = BASE.replace(old, new).replace("\ncluster_speed", "")
    if "cluster_speed" in new:  # the speed case: speeds for a cluster whose jobs each take one type
        text = text.replace("cluster:\n", "cluster:\n  speed: {B200: 2}\n")
    assert warnings_of(tmp_path, text) == expected


def test_a_setting_that_acts_is_not_named(tmp_path: Path) -> None:
    """The same settings where they act: a pod_local slowdown with strict false, limits and a
    cohort of two queues, a match-all queue last, speed with a trace (which may hold jobs of
    several types; it is not read for this)."""
    queues = (
        "[{name: a, cohort: c, match: {tiers: [reserved]}, borrowing_limit: {B200: 4}}, "
        "{name: b, cohort: c, lending_limit: {B200: 2}}]"
    )
    placement = "placement: {name: pod_local, params: {strict: false, span_slowdown: 1.5}}"
    text = BASE.replace("horizon: 2h", f"horizon: 2h\n{placement}\n{KUEUE % queues}")
    assert warnings_of(tmp_path, text) == []
    (tmp_path / "t.csv").write_text("job_id,submit_time,gpus,duration,gpu_type\nx,0,1,10,B200\n")
    data = yaml.safe_load(BASE)
    data["workload"] = {"trace": {"path": "t.csv"}}
    data["cluster"]["speed"] = {"B200": 2}
    data["preemption"] = {}
    assert warnings_of(tmp_path, yaml.safe_dump(data)) == []


def test_a_warning_names_where_the_setting_was_given(tmp_path: Path) -> None:
    """The file's line when the file gave it (though ``--set`` made it idle); ``--set`` when
    an override gave it."""
    why = (
        "has no effect: scheduler 'fifo' never stops spot jobs for others (easy with preempt_spot: true does)"
    )
    assert warnings_of(tmp_path, BASE, "scheduler=fifo") == [f"s.yaml:20: preemption.spot_notice: {why}"]
    assert warnings_of(tmp_path, BASE, "preemption.spot_notice=1m", "scheduler=fifo") == [
        f"--set: preemption.spot_notice: {why}"
    ]


def test_run_warns_on_stderr_goes_on_and_lists_them_in_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(BASE.replace("tenants: {small: 1, big: 1}", "tenants: {small: 1}"))
    done = gpusim(tmp_path, "run", "s.yaml", "--quiet", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "gpusim: warning: s.yaml:8: workload.tenants.0: has no effect: no job stream or inference service "
        "draws tenants from group 'big'\n"
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["warnings"] == [
        "workload.tenants.0: has no effect: no job stream or inference service draws tenants from group 'big'"
    ]
    validated = gpusim(tmp_path, "validate", "s.yaml")
    assert validated.returncode == 0 and validated.stderr == done.stderr


def test_compare_warns_about_its_base_scenario(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(BASE.replace("tenants: {small: 1, big: 1}", "tenants: {small: 1}"))
    done = gpusim(tmp_path, "compare", "s.yaml", "--schedulers", "fifo,easy", "--quiet", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "gpusim: warning: s.yaml:8: workload.tenants.0: has no effect: no job stream or inference service "
        "draws tenants from group 'big'\n"
    )


def test_replications_of_a_scenario_without_randomness_are_warned_about(tmp_path: Path, capsys: Any) -> None:
    """A trace alone draws no random number: every replication repeats the first (intervals 0
    wide). Compare and sweep say so and run; with a synthetic stream (BASE) they do not."""
    (tmp_path / "t.csv").write_text("job_id,submit_time,gpus,duration\na,0,1,100\nb,5,2,50\n")
    data = {
        "name": "t",
        "cluster": {"pods": [{"name": "p", "nodes": 2, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {"trace": {"path": "t.csv"}},
        "scheduler": "fifo",
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "s.yaml").write_text(BASE)
    compare = ["compare", "--schedulers", "fifo,easy", "--replications", "2", "--quiet"]
    assert main([*compare, str(tmp_path / "t.yaml"), "--out", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().err == f"gpusim: warning: --replications: {SAME_REPLICATIONS}\n"
    assert main([*compare, str(tmp_path / "s.yaml"), "--out", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().err == ""
    default = ["compare", str(tmp_path / "t.yaml"), "--schedulers", "fifo,easy", "--quiet"]
    assert main([*default, "--out", str(tmp_path / "e")]) == 0  # 5 by default: 0 wide is right
    assert capsys.readouterr().err == ""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: t.yaml\nreplications: 2\naxes:\n  scheduler: [fifo, easy]\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "w"), "--quiet", "--workers", "1"]) == 0
    assert capsys.readouterr().err == f"gpusim: warning: {sweep}:2: replications: {SAME_REPLICATIONS}\n"
    sweep.write_text("base: s.yaml\nreplications: 2\naxes:\n  scheduler: [fifo, easy]\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "x"), "--quiet", "--workers", "1"]) == 0
    assert capsys.readouterr().err == ""


def test_a_mistake_found_after_the_scenario_is_the_only_line(tmp_path: Path, capsys: Any) -> None:
    """Warnings are printed once a command's checks pass: an --out that cannot be made is then
    the one line on stderr, not the last of several."""
    (tmp_path / "s.yaml").write_text(BASE.replace("{name: easy, params: {preempt_spot: true}}", "fifo"))
    (tmp_path / "file").write_text("")
    under_a_file = str(tmp_path / "file" / "out")
    for argv in (
        ["run", str(tmp_path / "s.yaml"), "--out", under_a_file, "--quiet"],
        ["compare", str(tmp_path / "s.yaml"), "--schedulers", "fifo", "--out", under_a_file, "--quiet"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "warning" not in err and "file" in err, err
    assert main(["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "ok"), "--quiet"]) == 0
    assert capsys.readouterr().err.startswith("gpusim: warning: ")
