"""``SegmentLog.record`` names a segment's nodes and pods as it always did, whatever the
shortcut it takes: node labels in placement order, pods in order of first appearance
(each once), and a job's ``pods`` across segments in the order it first ran in them.
"""

from __future__ import annotations

from types import SimpleNamespace

from helpers import pod

from sim.cluster.state import ClusterLayout, Placement
from sim.engine.results import SegmentLog
from sim.scenario.schema import Cluster


class Jobs:
    """The job table's columns a segment log reads, for two jobs."""

    job_id = ["j0", "j1"]
    submit = [0.0, 0.0]
    gpu_type = ["g", "g"]
    tier = ["", ""]

    def __len__(self) -> int:
        return 2


def segment_log() -> SegmentLog:
    """A log for two jobs on pods a (3 nodes), b (2 nodes) and c (2 nodes), without pricing."""
    layout = ClusterLayout.from_scenario(
        Cluster.model_validate({"pods": [pod("a", 3), pod("b", 2), pod("c", 2)]})
    )
    engine = SimpleNamespace(jobs=Jobs(), layout=layout, pricing=None)
    return SegmentLog(engine)  # type: ignore[arg-type]


def test_segment_nodes_and_pods_keep_placement_order() -> None:
    """Labels follow the placement's node order; pods are listed once, by first appearance."""
    log = segment_log()
    log.record(0, 0.0, 1.0, Placement((5, 3, 0, 4, 6, 1), 8), "preempted", 0.0)
    log.record(0, 1.0, 2.0, Placement((1,), 8), "completed", 0.0)
    log.record(1, 0.0, 1.0, Placement((0, 1, 2), 8), "completed", 0.0)
    nodes, pods = log.columns[5], log.columns[6]
    assert nodes == ["c/0;b/0;a/0;b/1;c/1;a/1", "a/1", "a/0;a/1;a/2"]
    assert pods == ["c;b;a", "a", "a"]
    assert log.pods_of == ["c;b;a", "a"]
    assert log.held == [8, 24]
