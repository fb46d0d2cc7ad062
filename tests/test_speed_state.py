"""``ClusterState`` moves of many whole nodes (the sliced fast path and the general rebuild)
leave the same state as a recount from the free GPUs per node, and refuse what they must.

Nodes come in any order, from one pod or several, side by side in the index or not; the
state is compared after each move with one recomputed from ``free`` alone.
"""

from __future__ import annotations

import pytest
from helpers import pod, state_of
from hypothesis import given
from hypothesis import strategies as st
from strategies import fuzz_settings

from sim.cluster.state import WHOLE_BATCH, ClusterState, Placement
from sim.errors import SimError

GPN = 2  # GPUs per node in these clusters: a move of whole nodes is +-2 per node


def cluster() -> ClusterState:
    """Three pods of one type (12, 20 and 8 nodes) and one of another type."""
    return state_of(pod("a", 12, gpus_per_node=GPN), pod("b", 20, gpus_per_node=GPN),
                    pod("c", 8, gpus_per_node=GPN), pod("x", 4, "h", gpus_per_node=GPN))  # fmt: skip


def assert_consistent(state: ClusterState) -> None:
    """Every count and index of ``state`` equals its recount from ``state.free``."""
    layout = state.layout
    for gpu_type in layout.gpu_types:
        nodes = [n for n, p in enumerate(layout.node_pod) if layout.pods[p].gpu_type == gpu_type]
        index = state.nodes_by_free[gpu_type]
        assert index == [[n for n in nodes if state.free[n] == k] for k in range(len(index))]
        assert state.free_by_type[gpu_type] == sum(state.free[n] for n in nodes)
    for p in layout.pods:
        free = state.free[p.first_node : p.end_node]
        assert state.free_by_pod[p.index] == sum(free)
        assert state.whole_free_by_pod[p.index] == free.count(p.gpus_per_node)
    assert state.free_total == sum(state.free)


@fuzz_settings(200)
@given(st.data())
def test_whole_node_moves_keep_every_index_true(data: st.DataObject) -> None:
    """Allocating and releasing whole nodes (runs of the free list, scattered ones, across
    pods, in any order) keeps the indexes equal to a recount, and the index lists stay the
    same list objects."""
    state = cluster()
    lists = [id(bucket) for bucket in state.nodes_by_free["g"]]
    held: list[tuple[int, ...]] = []
    for _ in range(data.draw(st.integers(1, 25))):
        free_nodes = state.nodes_by_free["g"][GPN]
        if held and (data.draw(st.booleans()) or len(free_nodes) <= WHOLE_BATCH):
            state.release(Placement(held.pop(data.draw(st.integers(0, len(held) - 1))), GPN), "g")
        else:
            count = data.draw(st.integers(WHOLE_BATCH + 1, len(free_nodes)))
            if data.draw(st.booleans()):  # a run of the free list, as pack takes it
                at = data.draw(st.integers(0, len(free_nodes) - count))
                nodes = tuple(free_nodes[at : at + count])
            else:
                nodes = tuple(data.draw(st.permutations(free_nodes))[:count])
            state.allocate(Placement(nodes, GPN), "g")
            held.append(nodes)
        assert_consistent(state)
    assert [id(bucket) for bucket in state.nodes_by_free["g"]] == lists


def test_allocating_a_busy_node_among_many_is_refused() -> None:
    """A whole-node move naming a node that is already held raises SimError naming it."""
    state = cluster()
    state.allocate(Placement(tuple(range(10)), GPN), "g")
    with pytest.raises(SimError, match="node 9 would have -2 free GPUs of 2"):
        state.allocate(Placement(tuple(range(9, 19)), GPN), "g")


def test_a_node_named_twice_is_refused() -> None:
    """A whole-node move naming one node twice raises SimError (at its second mention)."""
    state = cluster()
    with pytest.raises(SimError, match="node 8 would have -2 free GPUs of 2"):
        state.allocate(Placement((0, 1, 2, 3, 4, 5, 6, 7, 8, 8), GPN), "g")


def test_releasing_free_nodes_is_refused() -> None:
    """Releasing whole nodes that are free raises SimError."""
    state = cluster()
    with pytest.raises(SimError, match="node 0 would have 4 free GPUs of 2"):
        state.release(Placement(tuple(range(10)), GPN), "g")


def test_check_names_the_node_a_gang_cannot_have() -> None:
    """``check`` of a multi-node gang names the first node that is held or of another type."""
    state = cluster()
    state.allocate(Placement((3,), GPN), "g")
    with pytest.raises(SimError, match=r"node 3 \(a\) over-allocates or has the wrong GPU type"):
        state.check(Placement((1, 2, 3, 4), GPN), 4 * GPN, "g")
    with pytest.raises(SimError, match=r"node 40 \(x\) over-allocates or has the wrong GPU type"):
        state.check(Placement((38, 39, 40), GPN), 3 * GPN, "g")
    state.check(Placement((4, 5, 6), GPN), 3 * GPN, "g")  # free nodes of its type: no error
