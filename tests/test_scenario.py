"""Loading scenarios: YAML with located errors, --set overrides, and the Python API."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import PolicyError, ScenarioError
from sim.scenario import load_scenario, parse_override, scenario_from_data
from sim.scenario.loader import check_set_once

MINIMAL = """\
name: kth-replay
horizon: 7d
cluster:
  pods:
    - {name: pool, nodes: 100, gpus_per_node: 1, gpu_type: generic}
workload:
  trace: {path: traces/kth.csv, format: csv}
metrics:
  sample_interval: 2h
scheduler: easy
"""

BLOCK_PODS = """\
name: factory
cluster:
  pods:
    - name: gb200
      nodes: 18
      gpus_per_node: 4
      gpu_type: b200
      count: 3
    - name: solo
      nodes: 2
      gpus_per_node: 4
      gpu_type: b200
workload:
  trace:
    path: traces/kth.csv
scheduler: fifo
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    """Write ``text`` as a scenario next to a one-job trace in ``traces/kth.csv``."""
    traces = tmp_path / "traces"
    traces.mkdir(exist_ok=True)
    (traces / "kth.csv").write_text("job_id,submit_time,gpus,duration\n1,0,4,3600\n")
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, overrides: tuple[str, ...] = ()) -> str:
    """The one-line message that loading ``path`` fails with."""
    with pytest.raises((ScenarioError, PolicyError)) as caught:
        load_scenario(path, overrides)
    return str(caught.value)


def test_minimal_scenario_loads_with_durations_in_seconds(tmp_path: Path) -> None:
    """The minimal flat-pool replay loads; '7d' and '2h' become seconds."""
    scenario = load_scenario(write(tmp_path, MINIMAL))
    assert scenario.name == "kth-replay"
    assert scenario.horizon == 604800.0
    assert scenario.metrics.sample_interval == 7200.0
    assert scenario.scheduler.name == "easy"
    assert scenario.scheduler.params == {}
    assert scenario.placement.name == "pack"
    assert scenario.cluster.pods[0].nodes == 100


def test_trace_path_is_relative_to_the_yaml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trace path resolves from the scenario file's folder, not the working directory."""
    path = write(tmp_path, MINIMAL)
    monkeypatch.chdir(tmp_path / "traces")
    scenario = load_scenario(path)
    assert scenario.workload.trace is not None
    assert Path(scenario.workload.trace.path) == tmp_path / "traces" / "kth.csv"


def test_pod_count_repeats_a_pod_with_numbered_names(tmp_path: Path) -> None:
    """`count: 3` expands to name-01..name-03; a pod without count keeps its name."""
    scenario = load_scenario(write(tmp_path, BLOCK_PODS))
    names = [name for pod in scenario.cluster.pods for name in pod.pod_names()]
    assert names == ["gb200-01", "gb200-02", "gb200-03", "solo"]


def test_parse_override_reads_yaml_values() -> None:
    """--set values are YAML: ints, strings, duration strings and flow lists."""
    assert parse_override("seed=3") == ("seed", 3)
    assert parse_override("scheduler=fifo") == ("scheduler", "fifo")
    assert parse_override("horizon=2d") == ("horizon", "2d")
    assert parse_override("x=[1,2]") == ("x", [1, 2])
    assert parse_override("description=a=b") == ("description", "a=b")


def test_check_set_once_allows_refining_an_earlier_set() -> None:
    """A later path inside an earlier one refines it; other paths are independent."""
    check_set_once(["pricing=flat", "pricing.params.prices={B200: 3}", "seed=2", "horizon=1d"])
    with pytest.raises(ScenarioError, match=r"\(given again\) \(got 'seed = 3'\)"):
        check_set_once(["seed=2", "seed = 3"])


def test_a_bare_pricing_or_quota_name_takes_params_from_set(tmp_path: Path) -> None:
    """``pricing: flat`` in the file (or from an earlier --set) is promoted to {name: flat} for
    ``--set pricing.params.x=...``, as scheduler and placement are."""
    text = MINIMAL + "pricing: flat\nquota: caps\n"
    scenario = load_scenario(
        write(tmp_path, text), ["pricing.params.prices={generic: 3}", "quota.params.per_tenant=4"]
    )
    assert scenario.pricing.params == {"prices": {"generic": 3}}
    assert scenario.quota.params == {"per_tenant": 4}


def test_overrides_change_values_and_types(tmp_path: Path) -> None:
    """Overrides replace values, index lists, create missing levels and promote bare policy names."""
    scenario = load_scenario(
        write(tmp_path, MINIMAL),
        [
            "seed=3",
            "horizon=2d",
            "cluster.pods.0.nodes=7",
            "scheduler=fifo",
            "scheduler.params={}",
            "description=what if",
        ],
    )
    assert scenario.seed == 3
    assert scenario.horizon == 172800.0
    assert scenario.cluster.pods[0].nodes == 7
    assert scenario.scheduler.name == "fifo"
    assert scenario.scheduler.params == {}
    assert scenario.description == "what if"


def test_later_override_wins_and_data_is_not_mutated(tmp_path: Path) -> None:
    """Overrides apply in order, on a copy of the caller's data."""
    data = {
        "name": "api",
        "cluster": {"pods": [{"name": "p", "nodes": 4, "gpus_per_node": 8, "gpu_type": "h100"}]},
        "workload": {"trace": {"path": "traces/kth.csv"}},
    }
    write(tmp_path, MINIMAL)
    scenario = scenario_from_data(data, base_dir=tmp_path, overrides=["seed=1", "seed=2"])
    assert scenario.seed == 2
    assert "seed" not in data


def test_unknown_key_lists_the_valid_keys(tmp_path: Path) -> None:
    """An unknown key is located at its line and the keys allowed there are listed."""
    text = MINIMAL.replace("{name: pool,", "{colour: red, name: pool,")
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:5: cluster.pods.0.colour: unknown key; valid keys here: "
        "name, nodes, node_type, gpus_per_node, gpu_type, count"
    )


def test_negative_gpus_per_node_is_located(tmp_path: Path) -> None:
    """gpus_per_node must be > 0; the error names the line, path, rule and value."""
    text = BLOCK_PODS.replace("nodes: 18\n      gpus_per_node: 4", "nodes: 18\n      gpus_per_node: -4")
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:6: cluster.pods.0.gpus_per_node: gpus_per_node must be greater than 0 (got -4)"
    )


def test_bad_duration_string_is_located(tmp_path: Path) -> None:
    """A duration must be seconds or a number with a unit; '3 fortnights' is neither."""
    text = MINIMAL.replace("horizon: 7d", "horizon: 3 fortnights")
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:2: horizon: duration must be a number of seconds or a string like "
        "'90s', '15m', '2h', '7d' (got '3 fortnights')"
    )


def test_missing_trace_file_is_located(tmp_path: Path) -> None:
    """A trace path that names no file is an error at the path's line."""
    text = BLOCK_PODS.replace("traces/kth.csv", "traces/missing.csv")
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:15: workload.trace.path: trace file must exist (got 'traces/missing.csv')"
    )


def test_bad_mapping_key_is_named_as_a_key(tmp_path: Path) -> None:
    """A GPU-count law whose key is not an integer blames the key, at the stream's line."""
    text = BLOCK_PODS.replace(
        "workload:\n",
        "workload:\n  synthetic:\n    arrivals_for: 1d\n    streams:\n"
        "      - {name: s, load: 0.5, duration: {median: 1h, sigma: 1}, gpus: {x: 1}}\n",
    )
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:17: workload.synthetic.streams.0.gpus.x: gpus key must be a valid integer, "
        "unable to parse string as an integer (got 'x')"
    )


def test_missing_required_key_is_located_at_its_parent(tmp_path: Path) -> None:
    """A required key that is absent is reported at the line of the mapping that lacks it."""
    text = BLOCK_PODS.replace("      nodes: 2\n", "")
    assert error_of(write(tmp_path, text)).endswith(
        "scenario.yaml:9: cluster.pods.1.nodes: nodes is required"
    )


def test_unknown_scheduler_suggests_the_closest_name(tmp_path: Path) -> None:
    """An unknown scheduler name is located at its line and a close valid name is suggested."""
    policies = pytest.importorskip("sim.policies")
    if not hasattr(policies, "SCHEDULERS"):
        pytest.skip("the scheduler registry is not written yet")
    text = MINIMAL.replace("scheduler: easy", "scheduler: fifoo")
    message = error_of(write(tmp_path, text))
    assert message.startswith(f"{tmp_path / 'scenario.yaml'}:10: scheduler: scheduler must be one of ")
    assert "easy" in message
    assert message.endswith("(got 'fifoo'); did you mean 'fifo'?")


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    """Malformed YAML is reported at the line where the parser gave up."""
    text = MINIMAL.replace("  pods:\n", "  pods: [\n")
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:5: YAML must be well-formed: expected the node content, but found '-'"


REPEATED = "keys must be unique in a mapping; YAML keeps only the last value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "horizon: 1d\n", f"11: horizon: {REPEATED} (got 'horizon' again, first at line 2)"),
        (
            MINIMAL.replace("gpu_type: generic}", "gpu_type: generic, nodes: 5}"),
            f"5: cluster.pods.0.nodes: {REPEATED} (got 'nodes' again, first at line 5)",
        ),
        (
            MINIMAL.replace("metrics:\n", "metrics:\n  sample_interval: 1h\n"),
            f"10: metrics.sample_interval: {REPEATED} (got 'sample_interval' again, first at line 9)",
        ),
    ],
    ids=["top-level", "flow-mapping-in-a-list", "nested"],
)
def test_a_repeated_key_is_refused_at_its_second_line(tmp_path: Path, text: str, expected: str) -> None:
    """PyYAML keeps a repeated key's last value: the first would be lost without a word."""
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{expected}"


def test_keys_merged_from_an_anchor_may_be_overridden(tmp_path: Path) -> None:
    """`<<: *anchor` then the same key is YAML's way to override, not a repeat."""
    text = MINIMAL.replace(
        "  pods:\n    - {name: pool,",
        "  pods:\n    - &base {name: other, nodes: 1, gpus_per_node: 1, gpu_type: generic}\n"
        "    - {<<: *base, name: pool,",
    )
    scenario = load_scenario(write(tmp_path, text))
    assert [(p.name, p.nodes) for p in scenario.cluster.pods] == [("other", 1), ("pool", 100)]


def test_missing_scenario_file(tmp_path: Path) -> None:
    """A scenario path that names no file is a one-line error naming it."""
    path = tmp_path / "nope.yaml"
    assert error_of(path) == f"{path}: scenario file must exist (got '{path}')"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    """A scenario whose top level is a list is rejected with its type."""
    path = write(tmp_path, "- a\n- b\n")
    assert error_of(path) == f"{path}: scenario must be a mapping of keys to values (got list)"


def test_override_without_equals_sign(tmp_path: Path) -> None:
    """An override must be dotted.path=value."""
    assert error_of(write(tmp_path, MINIMAL), ("seed",)) == (
        "--set: override must look like dotted.path=value (got 'seed')"
    )


def test_override_index_out_of_range(tmp_path: Path) -> None:
    """An override cannot index past the end of a list."""
    assert error_of(write(tmp_path, MINIMAL), ("cluster.pods.3.nodes=1",)) == (
        "--set: cluster.pods.3.nodes: list index must be an integer from 0 to 0 (got '3')"
    )


def test_override_through_a_scalar(tmp_path: Path) -> None:
    """An override path cannot continue below a plain value."""
    assert error_of(write(tmp_path, MINIMAL), ("name.first=x",)) == (
        "--set: name.first: override path must go through mappings and lists (name is 'kth-replay')"
    )


def test_override_to_unknown_key_is_reported_as_set(tmp_path: Path) -> None:
    """A schema error caused by an override names --set, not a line of the file."""
    assert error_of(write(tmp_path, MINIMAL), ("metrics.colour=red",)) == (
        "--set: metrics.colour: unknown key; valid keys here: sample_interval"
    )


def test_override_that_creates_an_incomplete_level_is_reported_as_set(tmp_path: Path) -> None:
    """A level created by an override is blamed on --set, even for a sibling key it lacks."""
    assert error_of(write(tmp_path, MINIMAL), ("placement.params={}",)) == (
        "--set: placement.name: name is required"
    )


PRIORITY = MINIMAL.replace("scheduler: easy", "scheduler:\n  name: priority\n  params: {bf_max_job_test: %s}")


def test_a_bad_policy_parameter_set_inside_the_params_is_reported_as_set(tmp_path: Path) -> None:
    """A policy refuses its params as a whole (located at ``params``): --set is blamed when the
    file's own policy is accepted, and the file's line when the file's policy is refused too."""
    rule = "scheduler 'priority': 'bf_max_job_test' must be an integer >= 1 or null for no bound (got 0)"
    assert error_of(write(tmp_path, PRIORITY % 5), ("scheduler.params.bf_max_job_test=0",)) == (
        f"--set: scheduler.params: {rule}"
    )
    # The file's policy is refused whatever --set changed elsewhere in it: the file's line.
    path = write(tmp_path, PRIORITY % 0)
    assert error_of(path, ("scheduler.params.priority_weight_age=1",)) == (
        f"{path}:12: scheduler.params: {rule}"
    )
    assert error_of(path) == f"{path}:12: scheduler.params: {rule}"


def test_a_sweep_file_given_as_a_scenario_points_to_gpusim_sweep(tmp_path: Path) -> None:
    """A sweep file (base and axes) read as a scenario says what it is, at its base line."""
    sweep = "name: s\nbase: scenario.yaml\naxes:\n  scheduler: [easy, fifo]\n"
    path = write(tmp_path, sweep, "sweep.yaml")
    assert error_of(path) == (
        f"{path}:2: base: a scenario has no base: this file is a sweep (base and axes); run it with"
        " 'gpusim sweep' (got 'scenario.yaml')"
    )


TYPED = """\
name: typed
cluster:
  pods:
    - {name: a, nodes: 2, gpus_per_node: 8, gpu_type: B200}
    - {name: b, nodes: 2, gpus_per_node: 4, gpu_type: RTXPRO6000}
workload:
  trace: {path: traces/kth.csv}
quota:
  name: kueue
  params:
    cluster_queues:
      - name: q
        nominal_quota: {B200: 8, %s: 4}
"""


def test_a_price_or_limit_for_a_gpu_type_the_cluster_lacks_is_refused(tmp_path: Path) -> None:
    """A policy parameter or a per-type setting naming a GPU type the cluster lacks would
    silently do nothing (a typo leaves the real type unlimited or at list price): refused,
    at the file's line or at --set, naming the cluster's types."""
    types = "(B200, RTXPRO6000)"
    path = write(tmp_path, TYPED % "RTX")
    assert error_of(path) == (
        f"{path}:13: quota.params.cluster_queues.0.nominal_quota.RTX: RTX must be a GPU type of the "
        f"cluster {types} (got 'RTX')"
    )
    fine = write(tmp_path, TYPED % "RTXPRO6000")
    assert load_scenario(fine).quota.name == "kueue"
    refused = {
        "quota.params.cluster_queues.0.lending_limit.B2=4": "quota.params.cluster_queues.0.lending_limit.B2",
        "quota={name: caps, params: {per_tenant: {B200: 8, H100: 8}}}": "quota.params.per_tenant.H100",
        "quota={name: caps, params: {tenants: {default: {H100: 8}}}}": "quota.params.tenants.default.H100",
        "quota={name: caps, params: {per_tier: {spot: {H100: 8}}}}": "quota.params.per_tier.spot.H100",
        "pricing={name: tiered, params: {prices: {H100: 3}}}": "pricing.params.prices.H100",
        "energy.power.H100.busy_w=700": "energy.power.H100",
        "demand={reference_price: {H100: 3}, rules: [{elasticity: 1}]}": "demand.reference_price.H100",
    }
    for override, field in refused.items():
        gpu_type = field.rpartition(".")[2]
        assert error_of(fine, (override,)) == (
            f"--set: {field}: {gpu_type} must be a GPU type of the cluster {types} (got '{gpu_type}')"
        )
    # A limit on all types together ('*', a number) names no type.
    assert load_scenario(fine, ("quota={name: caps, params: {per_tenant: 8, per_tier: {spot: {'*': 4}}}}",))


SYNTHETIC = """\
name: named
horizon: 1d
cluster:
  pods:
    - {name: a, nodes: 2, gpus_per_node: 8, gpu_type: B200}
workload:
  tenants:
    - {name: sme, count: 12}
    - {name: lab, count: 1, tier: spot}
  synthetic:
    streams:
      - name: train
        job_class: training
        tenants: {sme: 1, lab: 1}
        rate_per_hour: 1
        duration: {median: 1h, sigma: 1}
      - {name: misc, tenants: 3, rate_per_hour: 1, duration: {median: 1h, sigma: 1}}
"""


def test_a_tenant_or_job_class_no_job_can_have_is_refused(tmp_path: Path) -> None:
    """Tenant names are zero-padded (sme-01): a cap on sme-1 would cap nobody. Names and kueue
    patterns must match a tenant or class the workload can produce, a trace's included."""
    path = write(tmp_path, SYNTHETIC)
    tenants = "(sme-01 .. sme-12, lab-01, misc-t0 .. misc-t2)"
    refused = {
        "quota={name: caps, params: {tenants: {sme-1: 4}}}": ("quota.params.tenants.sme-1", "sme-1 must be"),
        "quota={name: kueue, params: {cluster_queues: [{name: q, match: {tenants: [lab-*, acme*]}}]}}": (
            "quota.params.cluster_queues.0.match.tenants.1",
            "pattern acme* must match",
        ),
    }
    for override, (field, subject) in refused.items():
        got = subject.split()[-3 if subject.startswith("pattern") else 0]
        assert error_of(path, (override,)) == (
            f"--set: {field}: {subject} a tenant of the workload {tenants} (got '{got}')"
        )
    kueue = "quota={name: kueue, params: {cluster_queues: [{name: q, match: {job_classes: [trainer*]}}]}}"
    assert error_of(path, (kueue,)) == (
        "--set: quota.params.cluster_queues.0.match.job_classes.0: pattern trainer* must match a job "
        "class of the workload (training, batch) (got 'trainer*')"
    )
    demand = "demand={rules: [{job_class: inference, elasticity: 1}]}"
    assert error_of(path, (demand,)) == (
        "--set: demand.rules.0.job_class: job_class must be a job class of the workload (training, batch) "
        "(got 'inference')"
    )
    accepted = (
        "quota={name: caps, params: {tenants: {sme-01: 4, misc-t2: 8}}}",
        "quota={name: kueue, params: {cluster_queues: [{name: q, match: {tenants: ['*-t?', lab-*]}}]}}",
        "demand={rules: [{job_class: training, tier: spot, elasticity: 1}]}",
    )
    for override in accepted:
        assert load_scenario(path, (override,))
    # A trace's tenants and classes count too; it is read when a policy names some.
    trace = write(tmp_path, MINIMAL, "trace.yaml")
    (tmp_path / "traces" / "kth.csv").write_text(
        "job_id,submit_time,gpus,duration,tenant\n1,0,4,3600,alice\n"
    )
    assert load_scenario(trace, ("quota={name: caps, params: {tenants: {alice: 4}}}",))
    assert error_of(trace, ("quota={name: caps, params: {tenants: {alicia: 4}}}",)) == (
        "--set: quota.params.tenants.alicia: alicia must be a tenant of the workload (alice) (got 'alicia')"
    )
