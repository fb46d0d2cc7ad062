"""Placement policies spread, pod_local and frag_aware, and the fragmentation metric.

Most tests drive the policies and ``ClusterState`` directly with plain data (no engine), as
tests/test_placement.py does for ``pack``; one end-to-end run per policy goes through
``sim.run``. Node ids run pod by pod in scenario order: pods ``a`` (4 nodes), ``b``
(2 nodes) hold nodes 0-3 and 4-5. Nodes have 8 GPUs unless a test says otherwise.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from helpers import eight_gpu_nodes, occupy, pod, run_trace, state_of

from sim.cluster.state import ClusterState, Placement
from sim.errors import PolicyError
from sim.metrics.fragmentation import fragmentation_ratio, stranded_gpus, stranded_gpus_by_count
from sim.policies import PLACEMENTS, Placer

PACK = PLACEMENTS.create("pack")
SPREAD = PLACEMENTS.create("spread")
STRICT = PLACEMENTS.create("pod_local")
LOOSE = PLACEMENTS.create("pod_local", {"strict": False, "span_slowdown": 1.5})
FRAG = PLACEMENTS.create("frag_aware")


def place(policy: Placer, state: ClusterState, gpus: int, gpu_type: str = "g") -> Placement | None:
    """Where ``policy`` puts a job; checked by the state (as the engine would) and allocated."""
    placement = policy.place(state, gpus, gpu_type)
    if placement is not None:
        state.check(placement, gpus, gpu_type)
        state.allocate(placement, gpu_type)
    return placement


def nodes_of(policy: Placer, state: ClusterState, sizes: list[int]) -> list[tuple[int, ...] | None]:
    """The nodes ``policy`` gives jobs of ``sizes`` GPUs, placed one after another."""
    placements = [place(policy, state, gpus) for gpus in sizes]
    return [None if p is None else p.nodes for p in placements]


# --- spread -------------------------------------------------------------------------------------


def test_spread_puts_a_small_job_on_the_emptiest_node() -> None:
    """A single-node job goes to the node with the most free GPUs; lowest id on ties.

    Free: n0 6, n1 3, n2 8, n3 3.
      3 GPUs -> n2 (8 free, the most)                          -> n2 5
      3 GPUs -> n0 (6 free)                                    -> n0 3
      2 GPUs -> n2 (5 free)                                    -> n2 3
      1 GPU  -> n0 (all four nodes have 3 free: lowest id)     -> n0 2
      4 GPUs -> no node has 4 free: None
    """
    state = state_of(pod("a", 4))
    occupy(state, {0: 2, 1: 5, 3: 5})
    assert nodes_of(SPREAD, state, [3, 3, 2, 1, 4]) == [(2,), (0,), (2,), (0,), None]
    assert state.free == [2, 3, 3, 3]


def test_spread_and_pack_choose_different_nodes_on_the_same_state() -> None:
    """On free counts n0 6, n1 3, n2 8, n3 3 a 3-GPU job goes to n1 under pack, n2 under spread."""
    state = state_of(pod("a", 4))
    occupy(state, {0: 2, 1: 5, 3: 5})
    assert PACK.place(state, 3, "g") == Placement((1,), 3)
    assert SPREAD.place(state, 3, "g") == Placement((2,), 3)


def test_spread_sends_a_whole_node_job_to_the_pod_with_most_whole_free_nodes() -> None:
    """A multi-node job takes the lowest-id whole free nodes of the pod with the most of them.

    Pods a (nodes 0-3), b (4-5), c (6-8): 4, 2, 3 whole free nodes.
      16 GPUs -> a (4, the most)                  -> 0, 1       whole a 2, b 2, c 3
      16 GPUs -> c (3)                            -> 6, 7       whole a 2, b 2, c 1
      24 GPUs -> no pod has 3: span, most first, a before b on the 2-2 tie -> 2, 3, then 4
    Pack on the fresh state puts the first 16-GPU job on b (4, 5), the fewest that fit.
    """
    state = state_of(pod("a", 4), pod("b", 2), pod("c", 3))
    assert nodes_of(SPREAD, state, [16, 16, 24]) == [(0, 1), (6, 7), (2, 3, 4)]
    assert state.whole_free_by_pod == [0, 1, 1]
    assert PACK.place(state_of(pod("a", 4), pod("b", 2), pod("c", 3)), 16, "g") == Placement((4, 5), 8)


def test_spread_pod_tie_goes_to_the_lowest_pod_index() -> None:
    """Pods a (0-2), b (3-5): 16 -> a (3-3 tie) 0, 1; 16 -> b (3 > 1) 3, 4;
    16 -> no pod has 2: span, a before b on the 1-1 tie: 2, 5."""
    state = state_of(pod("a", 3), pod("b", 3))
    assert nodes_of(SPREAD, state, [16, 16, 16]) == [(0, 1), (3, 4), (2, 5)]


def test_spread_spreads_small_jobs_where_pack_stacks_them() -> None:
    """Four 2-GPU jobs on 4 empty nodes: spread puts one on each node, pack all on n0."""
    spread, pack = state_of(pod("a", 4)), state_of(pod("a", 4))
    assert nodes_of(SPREAD, spread, [2, 2, 2, 2]) == [(0,), (1,), (2,), (3,)]
    assert nodes_of(PACK, pack, [2, 2, 2, 2]) == [(0,), (0,), (0,), (0,)]
    assert (spread.free, pack.free) == ([6, 6, 6, 6], [0, 8, 8, 8])


# --- pod_local ----------------------------------------------------------------------------------


def test_pod_local_strict_refuses_to_span_and_non_strict_spans() -> None:
    """Pods a (0-1), b (2-4); a 32-GPU job needs 4 nodes, no pod has 4.

    strict: None (it waits), although 5 whole nodes are free.
    non-strict: spans as pack does, most whole free nodes first: b's 2, 3, 4, then a's 0.
    """
    state = state_of(pod("a", 2), pod("b", 3))
    assert STRICT.place(state, 32, "g") is None
    assert LOOSE.place(state, 32, "g") == Placement((2, 3, 4, 0), 8)
    assert PACK.place(state, 32, "g") == Placement((2, 3, 4, 0), 8)


def test_pod_local_strict_waits_while_the_whole_free_nodes_lie_in_different_pods() -> None:
    """Pods a (0-1), b (2-3), 1 GPU busy on n0 and n2: whole free n1 (a) and n3 (b).

    A 16-GPU job: strict None; non-strict 1, 3 (a and b tie on 1 whole node: a first).
    """
    state = state_of(pod("a", 2), pod("b", 2))
    occupy(state, {0: 1, 2: 1})
    assert STRICT.place(state, 16, "g") is None
    assert LOOSE.place(state, 16, "g") == Placement((1, 3), 8)


def test_pod_local_places_jobs_that_fit_one_pod_as_pack_does() -> None:
    """Inside one pod pod_local is pack: best fit for small jobs, fewest whole free nodes for gangs.

    Pods a (0-3), b (4-5), c (6-8): 16 -> b (4, 5); 24 -> c (6, 7, 8); 16 -> a (0, 1);
    then with a 1-GPU job busy on n2: 3 GPUs -> n2 (7 free, the best fit).
    """
    for policy in (STRICT, LOOSE):
        state = state_of(pod("a", 4), pod("b", 2), pod("c", 3))
        assert nodes_of(policy, state, [16, 24, 16]) == [(4, 5), (6, 7, 8), (0, 1)]
        occupy(state, {2: 1})
        assert nodes_of(policy, state, [3]) == [(2,)]


def test_pod_local_slowdown_is_span_slowdown_only_for_a_placement_across_pods() -> None:
    """slowdown() is span_slowdown (1.5) for nodes 2, 3, 4, 0 (pods b and a), 1.0 within one pod."""
    layout = state_of(pod("a", 2), pod("b", 3)).layout
    assert LOOSE.slowdown(Placement((2, 3, 4, 0), 8), layout) == 1.5
    assert LOOSE.slowdown(Placement((2, 3, 4), 8), layout) == 1.0
    assert LOOSE.slowdown(Placement((1,), 3), layout) == 1.0
    assert STRICT.slowdown(Placement((2, 3, 4, 0), 8), layout) == 1.0  # default span_slowdown


def test_pod_local_strict_names_jobs_larger_than_any_pod() -> None:
    """rejection(): strict, a 32-GPU job (4 nodes) on pods of 2 and 3 nodes can never run; 24 can."""
    layout = state_of(pod("a", 2), pod("b", 3)).layout
    assert STRICT.rejection(layout, 32, "g") == "needs 4 g nodes in one pod, largest pod has 3"
    assert STRICT.rejection(layout, 24, "g") == ""
    assert STRICT.rejection(layout, 4, "g") == ""
    assert LOOSE.rejection(layout, 32, "g") == ""


def test_pod_local_parameters_are_listed_with_their_defaults() -> None:
    """``gpusim policies`` shows pod_local's keyword parameters strict=True, span_slowdown=1.0."""
    assert PLACEMENTS.params("pod_local") == {"strict": True, "span_slowdown": 1.0}
    assert (LOOSE.strict, LOOSE.span_slowdown) == (False, 1.5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"span_slowdown": 0.5}, "'span_slowdown' must be >= 1 (got 0.5)"),
        ({"span_slowdown": math.nan}, "'span_slowdown' must be >= 1 (got nan)"),
        ({"span_slowdown": math.inf}, "'span_slowdown' must be finite (got inf)"),
        ({"span_slowdown": "2"}, "'span_slowdown' must be a number (got '2')"),
        ({"span_slowdown": True}, "'span_slowdown' must be a number (got True)"),
        ({"strict": "yes"}, "'strict' must be true or false (got 'yes')"),
    ],
)
def test_pod_local_bad_parameters_raise_policy_error(params: dict[str, Any], message: str) -> None:
    """A bad parameter value is a PolicyError naming the parameter, its rule and the value."""
    with pytest.raises(PolicyError) as caught:
        PLACEMENTS.create("pod_local", params)
    assert caught.value.message == f"placement 'pod_local': {message}"
    assert caught.value.field == "placement.params"


def test_unknown_parameters_raise_policy_error() -> None:
    """spread and frag_aware take no parameters; pod_local refuses one it does not know."""
    for name, params in (("spread", {"x": 1}), ("frag_aware", {"strict": True}), ("pod_local", {"slow": 2})):
        with pytest.raises(PolicyError):
            PLACEMENTS.create(name, params)


# --- frag_aware ---------------------------------------------------------------------------------


def test_frag_aware_fills_partly_used_nodes_best_fit_first() -> None:
    """Partly used nodes first, fewest free GPUs that fit, lowest id on ties (as pack).

    Free: n0 6, n1 3, n2 8, n3 3.  3 -> n1 (3, before n3);  4 -> n0 (6);  2 -> n0 (2);
    1 -> n3 (3);  5 -> no partly used node has 5: the only whole free node, n2.
    """
    state = state_of(pod("a", 4))
    occupy(state, {0: 2, 1: 5, 3: 5})
    assert nodes_of(FRAG, state, [3, 4, 2, 1, 5]) == [(1,), (0,), (0,), (3,), (2,)]
    assert state.free == [0, 0, 3, 2]


def test_frag_aware_opens_a_free_node_in_the_pod_with_fewest_whole_free_nodes() -> None:
    """When no partly used node fits, a small job opens a node of the pod with the fewest whole free ones.

    Pods a (0-2), b (3), c (4-5): whole 3, 1, 2.
      1 GPU -> b (1 whole) -> n3       8 GPUs -> no partly used fits; c (2 < 3) -> n4
      1 GPU -> n3 (partly used, 7 free)        8 GPUs -> c (1 whole) -> n5
      8 GPUs -> a -> n0
    Pack opens the lowest-id node each time: n0, n1, n0, n2, n3.
    """
    sizes = [1, 8, 1, 8, 8]
    frag = state_of(pod("a", 3), pod("b", 1), pod("c", 2))
    assert nodes_of(FRAG, frag, sizes) == [(3,), (4,), (3,), (5,), (0,)]
    pack = state_of(pod("a", 3), pod("b", 1), pod("c", 2))
    assert nodes_of(PACK, pack, sizes) == [(0,), (1,), (0,), (2,), (3,)]


def test_frag_aware_pod_tie_goes_to_the_lowest_pod_index() -> None:
    """Pods a (0-1), b (2-3), both with 2 whole free nodes: a 1-GPU job opens a's n0."""
    assert FRAG.place(state_of(pod("a", 2), pod("b", 2)), 1, "g") == Placement((0,), 1)


def test_frag_aware_keeps_a_pod_whole_for_a_gang_where_pack_does_not() -> None:
    """Pods a (0-1), b (2). A 1-GPU job, then a 16-GPU job.

    frag_aware: the 1-GPU job opens b's n2 (b has 1 whole node, a 2); a keeps both nodes
    whole and the gang runs inside a on 0, 1.  pack: the 1-GPU job takes n0, each pod keeps
    1 whole node, and the gang must span: 1, 2 (strict pod_local would make it wait).
    """
    frag = state_of(pod("a", 2), pod("b", 1))
    assert nodes_of(FRAG, frag, [1]) == [(2,)]
    assert frag.whole_free_by_pod == [2, 0]
    assert nodes_of(FRAG, frag, [16]) == [(0, 1)]
    pack = state_of(pod("a", 2), pod("b", 1))
    assert nodes_of(PACK, pack, [1]) == [(0,)]
    assert pack.whole_free_by_pod == [1, 1]
    assert STRICT.place(pack, 16, "g") is None
    assert nodes_of(PACK, pack, [16]) == [(1, 2)]


def test_frag_aware_places_whole_node_jobs_as_pack() -> None:
    """Whole-node jobs go as pack: the pod that fits with the fewest whole free nodes.

    Pods a (0-3), b (4-5), c (6-8): 16 -> b (4, 5); 24 -> c (6, 7, 8); 16 -> a (0, 1);
    16 -> a (2, 3); then no node is free: an 8-GPU job gets None.
    """
    state = state_of(pod("a", 4), pod("b", 2), pod("c", 3))
    assert nodes_of(FRAG, state, [16, 24, 16, 16, 8]) == [(4, 5), (6, 7, 8), (0, 1), (2, 3), None]


# --- every policy: valid gangs, read-only, never refuses a job that fits ------------------------

POLICIES = {
    "pack": PACK,
    "spread": SPREAD,
    "pod_local": STRICT,
    "pod_local(strict=False)": LOOSE,
    "frag_aware": FRAG,
}


def random_cluster(rng: random.Random) -> ClusterState:
    """1 to 4 pods of 1 to 5 nodes, types A and B with 1, 2, 4 or 8 GPUs per node."""
    gpn = {"A": rng.choice([1, 2, 4, 8]), "B": rng.choice([1, 2, 4, 8])}
    pods = []
    for i in range(rng.randint(1, 4)):
        gpu_type = rng.choice("AB")
        pods.append(pod(f"p{i}", rng.randint(1, 5), gpu_type, gpn[gpu_type]))
    return state_of(*pods)


def fits(state: ClusterState, gpus: int, gpu_type: str, one_pod: bool) -> bool:
    """Whether some valid gang exists now (inside one pod if ``one_pod``), by brute force."""
    layout = state.layout
    pods = layout.pods_by_type[gpu_type]
    gpn = layout.gpus_per_node[gpu_type]
    needed = layout.nodes_needed(gpus, gpu_type)
    if needed == 0:
        return any(state.free[n] >= gpus for p in pods for n in range(p.first_node, p.end_node))
    whole = [sum(state.free[n] == gpn for n in range(p.first_node, p.end_node)) for p in pods]
    return max(whole) >= needed if one_pod else sum(whole) >= needed


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_policy_returns_valid_gangs_on_random_states(name: str) -> None:
    """On 300 random clusters x 40 random starts and ends, a placement always passes check,
    the policy leaves the state untouched and answers the same twice, and it returns None
    only when no gang fits (inside one pod, for strict pod_local)."""
    policy = POLICIES[name]
    rng = random.Random(20240611)
    one_pod = policy is STRICT
    for _ in range(300):
        state = random_cluster(rng)
        layout = state.layout
        running: list[tuple[Placement, str]] = []
        for _ in range(40):
            if running and rng.random() < 0.35:
                placement, gpu_type = running.pop(rng.randrange(len(running)))
                state.release(placement, gpu_type)
                continue
            gpu_type = rng.choice(layout.gpu_types)
            most = layout.nodes_by_type[gpu_type] * layout.gpus_per_node[gpu_type]
            gpus = rng.randint(1, most)
            before = (list(state.free), list(state.whole_free_by_pod))
            placement = policy.place(state, gpus, gpu_type)
            assert (list(state.free), list(state.whole_free_by_pod)) == before
            assert policy.place(state, gpus, gpu_type) == placement
            if placement is None:
                assert not fits(state, gpus, gpu_type, one_pod), (name, gpus, gpu_type, state.free)
                continue
            state.check(placement, gpus, gpu_type)
            if one_pod:
                assert len({layout.node_pod[n] for n in placement.nodes}) == 1
            state.allocate(placement, gpu_type)
            running.append((placement, gpu_type))


def test_every_policy_docstring_has_a_summary_algorithm_tie_breaking_and_complexity() -> None:
    """Each new policy's docstring: a one-line summary (``gpusim policies``), then the three sections."""
    for name in ("spread", "pod_local", "frag_aware"):
        doc = PLACEMENTS.get(name).__doc__ or ""
        assert PLACEMENTS.describe(name), name
        for section in ("Algorithm", "Tie-breaking", "Complexity"):
            assert section in doc, (name, section)


# --- end to end through sim.run -----------------------------------------------------------------


def test_spread_end_to_end_makes_a_full_node_job_wait(tmp_path: Path) -> None:
    """2 nodes; A, B (4 GPUs, [0, 100)), C (8 GPUs, at 1, 10 s).

    spread: A on n0, B on n1 (8 free > 4): no node is whole, C waits until 100.
    pack: A and B share n0, C starts at 1 on n1.
    """
    rows = [("A", 0, 4, 100), ("B", 0, 4, 100), ("C", 1, 8, 10)]
    spread = run_trace(tmp_path, rows, eight_gpu_nodes(2), placement="spread")
    pack = run_trace(tmp_path, rows, eight_gpu_nodes(2), placement="pack")
    assert (spread["C"].start_time, pack["C"].start_time) == (100.0, 1.0)
    assert spread["C"].end_time == 110.0


def test_pod_local_end_to_end_strict_waits_and_non_strict_spans(tmp_path: Path) -> None:
    """Pods a (1 node), b (1 node), c (2 nodes); X (16 GPUs, [0, 50)), Z (16 GPUs, at 1, 10 s).

    X takes c. At 1 the only whole free nodes are a's and b's: strict Z waits for c (50);
    non-strict Z spans a and b at 1 (span_slowdown is not applied by the engine yet).
    """
    rows = [("X", 0, 16, 50), ("Z", 1, 16, 10)]
    pods = [pod("a", 1), pod("b", 1), pod("c", 2)]
    strict = run_trace(tmp_path, rows, pods, placement="pod_local")
    assert (strict["X"].pods, strict["Z"].pods, strict["Z"].start_time) == ("c", "c", 50.0)
    loose_ref = {"name": "pod_local", "params": {"strict": False, "span_slowdown": 2.0}}
    loose = run_trace(tmp_path, rows, pods, placement=loose_ref)
    assert (loose["Z"].pods, loose["Z"].start_time) == ("a;b", 1.0)


def test_frag_aware_end_to_end_keeps_the_gang_in_one_pod(tmp_path: Path) -> None:
    """Pods a (2 nodes), b (1 node); S (1 GPU, [0, 100)), G (16 GPUs, at 1, 10 s).

    frag_aware: S opens b, G runs inside a.  pack: S takes n0 in a, G spans a and b.
    """
    rows = [("S", 0, 1, 100), ("G", 1, 16, 10)]
    pods = [pod("a", 2), pod("b", 1)]
    frag = run_trace(tmp_path, rows, pods, placement="frag_aware")
    assert (frag["S"].pods, frag["G"].pods, frag["G"].start_time) == ("b", "a", 1.0)
    pack = run_trace(tmp_path, rows, pods, placement="pack")
    assert (pack["S"].pods, pack["G"].pods, pack["G"].start_time) == ("a", "a;b", 1.0)


def test_bad_placement_parameter_fails_the_run(tmp_path: Path) -> None:
    """sim.run with pod_local span_slowdown 0.5 raises PolicyError before simulating."""
    ref = {"name": "pod_local", "params": {"span_slowdown": 0.5}}
    with pytest.raises(PolicyError, match=r"'span_slowdown' must be >= 1 \(got 0\.5\)"):
        run_trace(tmp_path, [("A", 0, 1, 10)], eight_gpu_nodes(1), placement=ref)


# --- fragmentation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free", "gpus_per_node", "stranded", "ratio"),
    [
        ([8, 3, 0, 5], 8, 8, 0.5),  # 3 + 0 + 5 stranded of 8 + 3 + 5 = 16 free
        ([8, 8], 8, 0, 0.0),  # every free GPU on a whole free node
        ([2, 2], 8, 4, 1.0),  # no whole node free
        ([0, 0], 8, 0, 0.0),  # nothing free: ratio 0 by definition
        ([], 8, 0, 0.0),  # no nodes
        ([1, 0, 1], 1, 0, 0.0),  # flat pool: nothing is ever stranded
        ([4, 1, 4, 3], 4, 4, 0.3333333333333333),  # 1 + 3 of 12
    ],
)
def test_fragmentation_by_hand(free: list[int], gpus_per_node: int, stranded: int, ratio: float) -> None:
    """stranded = sum of f_i over nodes with f_i < n; ratio = stranded / sum f_i (0 if nothing free)."""
    assert stranded_gpus(free, gpus_per_node) == stranded
    assert fragmentation_ratio(free, gpus_per_node) == ratio


def test_spread_strands_more_gpus_than_pack() -> None:
    """After four 2-GPU jobs on 4 empty nodes: pack [0, 8, 8, 8] strands 0; spread [6, 6, 6, 6] all 24."""
    spread, pack = state_of(pod("a", 4)), state_of(pod("a", 4))
    nodes_of(SPREAD, spread, [2, 2, 2, 2])
    nodes_of(PACK, pack, [2, 2, 2, 2])
    assert (stranded_gpus(pack.free, 8), fragmentation_ratio(pack.free, 8)) == (0, 0.0)
    assert (stranded_gpus(spread.free, 8), fragmentation_ratio(spread.free, 8)) == (24, 1.0)


def test_stranded_gpus_by_count_matches_the_per_node_sum() -> None:
    """The histogram form: [8, 3, 0, 5] on 8-GPU nodes is 1 node each at 0, 3, 5, 8 free -> 3 + 5 = 8;
    and on 200 random states it equals stranded_gpus of the free list (via nodes_by_free)."""
    assert stranded_gpus_by_count([1, 0, 0, 1, 0, 1, 0, 0, 1]) == 8
    assert stranded_gpus_by_count([3]) == 0  # flat pool, all 3 nodes busy
    rng = random.Random(7)
    for _ in range(200):
        state = random_cluster(rng)
        layout = state.layout
        for node in range(layout.node_count):
            gpu_type = layout.pods[layout.node_pod[node]].gpu_type
            used = rng.randint(0, layout.gpus_per_node[gpu_type])
            if used:
                state.allocate(Placement((node,), used), gpu_type)
        for gpu_type, gpn in layout.gpus_per_node.items():
            free = [
                state.free[n] for p in layout.pods_by_type[gpu_type] for n in range(p.first_node, p.end_node)
            ]
            histogram = [len(bucket) for bucket in state.nodes_by_free[gpu_type]]
            assert stranded_gpus_by_count(histogram) == stranded_gpus(free, gpn)


@pytest.mark.parametrize(("free", "gpus_per_node"), [([9], 8), ([-1], 8), ([0], 0)])
def test_fragmentation_refuses_impossible_free_counts(free: list[int], gpus_per_node: int) -> None:
    """A free count outside [0, n], or n < 1, is a ValueError, not a silent number."""
    with pytest.raises(ValueError):
        stranded_gpus(free, gpus_per_node)
    with pytest.raises(ValueError):
        fragmentation_ratio(free, gpus_per_node)


@pytest.mark.parametrize("histogram", [[], [1, -1]])
def test_stranded_gpus_by_count_refuses_a_bad_histogram(histogram: list[int]) -> None:
    """An empty histogram or a negative node count is a ValueError."""
    with pytest.raises(ValueError):
        stranded_gpus_by_count(histogram)


def test_engine_applies_the_span_slowdown(tmp_path: Path) -> None:
    """Non-strict pod_local, span_slowdown 1.5: a 3-GPU job spanning two 2-node pods runs 100 s x 1.5."""
    pods = [{"name": "a", "nodes": 2, "gpus_per_node": 1, "gpu_type": "g"},
            {"name": "b", "nodes": 2, "gpus_per_node": 1, "gpu_type": "g"}]  # fmt: skip
    placement = {"name": "pod_local", "params": {"strict": False, "span_slowdown": 1.5}}
    jobs = run_trace(tmp_path, [("S", 0, 3, 100), ("L", 0, 1, 100)], pods, "fifo", placement=placement)
    assert (jobs["S"].start_time, jobs["S"].end_time, jobs["S"].pods) == (0.0, 150.0, "a;b")
    assert jobs["L"].end_time == 100.0


def test_strict_pod_local_rejects_a_gang_no_pod_can_hold(tmp_path: Path) -> None:
    """Strict pod_local: a 3-node gang on two 2-node pods can never run: rejected, not queued forever."""
    pods = [{"name": "a", "nodes": 2, "gpus_per_node": 1, "gpu_type": "g"},
            {"name": "b", "nodes": 2, "gpus_per_node": 1, "gpu_type": "g"}]  # fmt: skip
    jobs = run_trace(tmp_path, [("S", 0, 3, 100), ("L", 1, 1, 10)], pods, "fifo", placement="pod_local")
    assert (jobs["S"].status, jobs["S"].reason) == (
        "rejected",
        "needs 3 g nodes in one pod, largest pod has 2",
    )
    assert jobs["L"].start_time == 1.0
