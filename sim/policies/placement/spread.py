"""``spread``: worst fit inside a node, most whole free nodes for whole-node jobs."""

from __future__ import annotations

from sim.cluster.state import ClusterView, Placement
from sim.policies import PLACEMENTS
from sim.policies.base import Placer
from sim.policies.placement.pack import whole_nodes_emptiest_pods_first


@PLACEMENTS.register("spread")
class Spread(Placer):
    """Worst fit: put a job on the emptiest node that fits; whole-node jobs go to the emptiest pod.

    Algorithm. A job of g <= gpus_per_node GPUs takes one node: the node of its GPU type with
    the most free GPUs (>= g), so load spreads evenly over the nodes. A larger job takes
    ceil(g / gpus_per_node) whole free nodes: from the pod of its type with the most whole
    free nodes (if that pod holds enough), its lowest-id free nodes. Only when no single pod
    can hold the job does it span pods, taking pods with the most whole free nodes first,
    so it spans as few pods as it can (the same spanning rule as ``pack``).

    Tie-breaking. Nodes with equal free GPUs: the lowest node id. Pods with equal whole free
    nodes: the lowest pod index (scenario order).

    Complexity: O(gpus_per_node) for a small job (per-free-count node index, scanned from
    gpus_per_node down to g); O(pods log pods + nodes taken) for a whole-node job.
    """

    def place(self, cluster: ClusterView, gpus: int, gpu_type: str) -> Placement | None:
        layout = cluster.layout
        gpn = layout.gpus_per_node[gpu_type]
        by_free = cluster.nodes_by_free[gpu_type]  # by_free[k]: sorted ids of nodes with k free GPUs
        if gpus <= gpn:
            for free in range(gpn, gpus - 1, -1):
                if by_free[free]:
                    return Placement((by_free[free][0],), gpus)
            return None
        needed = -(-gpus // gpn)
        if len(by_free[gpn]) < needed:
            return None
        # The first pod alone holds the job whenever any single pod can.
        return whole_nodes_emptiest_pods_first(cluster, layout.pods_by_type[gpu_type], needed, gpn)
