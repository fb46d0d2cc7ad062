"""Placement: gangs inside one node or on whole nodes, best fit, pod choice, GPU types, checks.

Most tests drive ``pack`` and ``ClusterState`` directly with plain data (no engine); a few
run the engine to see a placement's effect on start times. Node ids run pod by pod in
scenario order, so in a pod list ``a`` (4 nodes), ``b`` (2 nodes) ``a`` holds nodes 0-3
and ``b`` nodes 4-5.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import eight_gpu_nodes, occupy, pod, run_trace, state_of

from sim.cluster.state import ClusterState, Placement
from sim.errors import SimError
from sim.policies import PLACEMENTS

PACK = PLACEMENTS.create("pack")


def place(state: ClusterState, gpus: int, gpu_type: str = "g") -> Placement | None:
    """Where pack puts a job; checked by the state (as the engine would) and allocated."""
    placement = PACK.place(state, gpus, gpu_type)
    if placement is not None:
        state.check(placement, gpus, gpu_type)
        state.allocate(placement, gpu_type)
    return placement


# --- gang shape ---------------------------------------------------------------------------------


def test_small_job_never_spans_nodes() -> None:
    """A 4-GPU job on 8-GPU nodes runs inside one node, or waits; it never splits across nodes.

    3 nodes with 2, 3 and 4 free GPUs (9 free): the job lands on n2 alone.  Then 2 + 3 = 5
    GPUs are free but no node has 4: a second 4-GPU job gets no placement.
    """
    state = state_of(pod("a", 3))
    occupy(state, {0: 6, 1: 5, 2: 4})
    assert place(state, 4) == Placement((2,), 4)
    assert state.free == [2, 3, 0]
    assert place(state, 4) is None


def test_sixteen_gpu_job_takes_two_whole_nodes(tmp_path: Path) -> None:
    """A 16-GPU job on 8-GPU nodes takes 2 whole nodes and holds 16 GPUs."""
    state = state_of(pod("a", 3))
    placement = place(state, 16)
    assert placement == Placement((0, 1), 8)
    assert placement.gpus == 16
    jobs = run_trace(tmp_path, [("big", 0, 16, 10)], eight_gpu_nodes(3))
    assert jobs["big"].allocated_gpus == 16


def test_twelve_gpu_job_holds_two_whole_nodes(tmp_path: Path) -> None:
    """A 12-GPU job needs ceil(12 / 8) = 2 whole nodes and holds all 16 of their GPUs."""
    state = state_of(pod("a", 3))
    placement = place(state, 12)
    assert placement == Placement((0, 1), 8)
    assert state.free == [0, 0, 8]
    assert state.layout.allocated_gpus(12, "g") == 16
    jobs = run_trace(tmp_path, [("j", 0, 12, 10)], eight_gpu_nodes(3))
    assert (jobs["j"].gpus, jobs["j"].allocated_gpus) == (12, 16)


def test_whole_node_job_waits_for_whole_free_nodes() -> None:
    """A 16-GPU job gets no placement while 16 GPUs are free but spread over 3 nodes."""
    state = state_of(pod("a", 3))
    occupy(state, {0: 4, 1: 2, 2: 2})  # free 4 + 6 + 6 = 16, no whole node
    assert PACK.place(state, 16, "g") is None


def test_job_fitting_the_free_count_but_not_a_node_waits(tmp_path: Path) -> None:
    """With 2 nodes of 4 free GPUs each (8 free), an 8-GPU job waits for a whole node.

    2 x 8-GPU nodes, all at 0, best fit in row order:
        X1 4 GPUs n0 [0, 100)   X2 4 GPUs n0 [0, 10)   Y1 4 GPUs n1 [0, 200)   Y2 4 GPUs n1 [0, 10)
    At 10 X2 and Y2 end: 4 + 4 = 8 free.  Z (8 GPUs, at 10) must wait for X1 to free n0: 100.
    """
    rows = [("X1", 0, 4, 100), ("X2", 0, 4, 10), ("Y1", 0, 4, 200), ("Y2", 0, 4, 10), ("Z", 10, 8, 10)]
    for scheduler in ("fifo", "easy"):
        jobs = run_trace(tmp_path, rows, eight_gpu_nodes(2), scheduler)
        assert jobs["Z"].start_time == 100.0, scheduler
        assert jobs["Z"].allocated_gpus == 8


# --- best fit and pod choice --------------------------------------------------------------------


def test_best_fit_picks_the_fullest_node_that_fits() -> None:
    """A single-node job goes to the node with the fewest free GPUs that are still enough.

    Free: n0 6, n1 3, n2 8, n3 3.
      3 GPUs -> n1 (3 free, the fewest >= 3; n1 before n3 on the tie)  -> n1 0 free
      4 GPUs -> n0 (6 free; n3's 3 are too few)                        -> n0 2 free
      2 GPUs -> n0 (2 free)                                            -> n0 0 free
      1 GPU  -> n3 (3 free)
    """
    state = state_of(pod("a", 4))
    occupy(state, {0: 2, 1: 5, 3: 5})
    assert [place(state, g).nodes for g in (3, 4, 2, 1)] == [(1,), (0,), (0,), (3,)]
    assert state.free == [0, 0, 8, 2]


def test_whole_node_job_goes_to_the_pod_with_fewest_whole_free_nodes_that_fits() -> None:
    """A multi-node job takes the pod that can hold it with the fewest whole free nodes.

    Pods a (nodes 0-3), b (4-5), c (6-8): 4, 2 and 3 whole free nodes.
      16 GPUs (2 nodes): a, b, c all fit; b has the fewest -> nodes 4, 5.
      24 GPUs (3 nodes): a and c fit (b now has 0); c has 3 < 4 -> nodes 6, 7, 8.
      16 GPUs again: only a has any left -> its lowest ids, 0, 1.
    """
    state = state_of(pod("a", 4), pod("b", 2), pod("c", 3))
    assert place(state, 16) == Placement((4, 5), 8)
    assert place(state, 24) == Placement((6, 7, 8), 8)
    assert place(state, 16) == Placement((0, 1), 8)
    assert state.whole_free_by_pod == [2, 0, 0]


def test_pod_tie_goes_to_the_lowest_pod_index() -> None:
    """Pods with equal whole free nodes: the first in scenario order wins (a: nodes 0-2, b: 3-5)."""
    state = state_of(pod("a", 3), pod("b", 3))
    assert place(state, 16) == Placement((0, 1), 8)
    assert place(state, 16) == Placement((3, 4), 8)  # a has 1 whole node left, b has 3


def test_job_spans_pods_only_when_no_single_pod_can_hold_it() -> None:
    """A multi-node job stays in one pod if any can hold it; otherwise it spans, largest pods first.

    Pods a (nodes 0-1), b (2-4).  24 GPUs (3 nodes): b holds it alone -> 2, 3, 4.
    Fresh state, 32 GPUs (4 nodes): no pod has 4 -> b's 3 (most whole nodes first), then a's 0.
    """
    state = state_of(pod("a", 2), pod("b", 3))
    assert place(state, 24) == Placement((2, 3, 4), 8)
    state = state_of(pod("a", 2), pod("b", 3))
    assert place(state, 32) == Placement((2, 3, 4, 0), 8)


def test_spanning_job_lists_both_pods_in_its_record(tmp_path: Path) -> None:
    """Through the engine, a job that fits no single pod runs, and its record names both pods."""
    pods = [pod("a", 2), pod("b", 3)]
    jobs = run_trace(tmp_path, [("one-pod", 0, 24, 10), ("two-pods", 10, 32, 10)], pods)
    assert (jobs["one-pod"].pods, jobs["one-pod"].start_time) == ("b", 0.0)
    assert (jobs["two-pods"].pods, jobs["two-pods"].start_time) == ("b;a", 10.0)
    assert jobs["two-pods"].allocated_gpus == 32


# --- GPU types ----------------------------------------------------------------------------------


def test_gpu_type_is_respected() -> None:
    """A job of type B lands only on B nodes, even when A nodes are the better fit; none left -> None.

    Pods a (type A, nodes 0-1) and b (type B, nodes 2-3).  n0 has 2 free, a tighter fit for
    a 2-GPU job than anything in b, but the job is type B.
    """
    state = state_of(pod("a", 2, "A"), pod("b", 2, "B"))
    occupy(state, {0: 6}, "A")
    assert place(state, 2, "B") == Placement((2,), 2)
    assert place(state, 8, "B") == Placement((3,), 8)
    assert PACK.place(state, 8, "B") is None  # B has 6 free on n2 only; A's 10 free do not count
    assert place(state, 16, "A") is None  # n0 is not whole


def test_job_waits_for_its_own_gpu_type(tmp_path: Path) -> None:
    """Through the engine: a B job waits for the busy B pod while the A pod is idle.

    b (1 x 8 B GPUs): B1 [0, 50), then B2 [50, 60).   a (1 x 8 A GPUs): idle.
    """
    header = ("job_id", "submit_time", "gpus", "duration", "gpu_type")
    rows = [("B1", 0, 8, 50, "B"), ("B2", 0, 8, 10, "B"), ("A1", 0, 4, 10, "A")]
    pods = [pod("a", 1, "A"), pod("b", 1, "B")]
    jobs = run_trace(tmp_path, rows, pods, "easy", header=header)
    assert (jobs["B1"].pods, jobs["B2"].pods, jobs["A1"].pods) == ("b", "b", "a")
    assert (jobs["B2"].start_time, jobs["A1"].start_time) == (50.0, 0.0)


# --- ClusterState.check refuses invalid placements ----------------------------------------------


@pytest.mark.parametrize(
    ("placement", "gpus", "gpu_type", "why"),
    [
        (Placement((2,), 4), 4, "A", "wrong GPU type"),  # n2 is a B node
        (Placement((0,), 4), 4, "A", "over-allocation"),  # n0 has 2 free
        (Placement((0, 1), 2), 4, "A", "a small job split over two nodes"),
        (Placement((1,), 3), 4, "A", "fewer GPUs than the job asks"),
        (Placement((1,), 8), 16, "A", "a 16-GPU job on one node"),
        (Placement((1, 1), 8), 16, "A", "the same node twice"),
        (Placement((1, 3), 8), 16, "A", "one of the two nodes is a B node"),
        (Placement((1,), 6), 12, "A", "a multi-node job not on whole nodes"),
    ],
)
def test_check_refuses_invalid_placements(placement: Placement, gpus: int, gpu_type: str, why: str) -> None:
    """ClusterState.check raises SimError for a wrong type, an over-allocation or a non-gang."""
    state = state_of(pod("a", 2, "A"), pod("b", 2, "B"))  # A: n0, n1; B: n2, n3
    occupy(state, {0: 6}, "A")
    with pytest.raises(SimError):
        state.check(placement, gpus, gpu_type)


def test_check_accepts_a_valid_gang() -> None:
    """The same state accepts a right-typed, right-shaped placement (so the refusals above mean something)."""
    state = state_of(pod("a", 2, "A"), pod("b", 2, "B"))
    occupy(state, {0: 6}, "A")
    state.check(Placement((0,), 2), 2, "A")
    state.check(Placement((2, 3), 8), 16, "B")


def test_allocating_beyond_a_nodes_free_gpus_raises() -> None:
    """ClusterState refuses to take more GPUs than a node has free (SimError, not a negative count)."""
    state = state_of(pod("a", 1))
    state.allocate(Placement((0,), 6), "g")
    with pytest.raises(SimError):
        state.allocate(Placement((0,), 4), "g")
    assert state.free == [2]
