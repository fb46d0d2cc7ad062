"""``pack``: best fit inside a node, fewest free nodes for whole-node jobs."""

from __future__ import annotations

from sim.cluster.state import ClusterView, Placement, PodInfo
from sim.policies import PLACEMENTS
from sim.policies.base import Placer


@PLACEMENTS.register("pack")
class Pack(Placer):
    """Best fit: fill the fullest node that fits; whole-node jobs go to the fullest pod that fits.

    Algorithm. A job of g <= gpus_per_node GPUs takes one node: the node of its GPU type with
    the fewest free GPUs that are still >= g (best fit), lowest node id on ties. A larger job
    takes ceil(g / gpus_per_node) whole free nodes: from the pod of its type that has
    enough whole free nodes and the fewest of them (lowest pod index on ties), its
    lowest-id free nodes. Only when no single pod can hold the job does it span pods,
    taking pods with the most whole free nodes first (lowest index on ties) so it spans as
    few pods as it can.

    Complexity: O(gpus_per_node) for a small job (per-free-count node index); O(pods + nodes
    taken) for a whole-node job.
    """

    def place(self, cluster: ClusterView, gpus: int, gpu_type: str) -> Placement | None:
        layout = cluster.layout
        gpn = layout.gpus_per_node[gpu_type]
        by_free = cluster.nodes_by_free[gpu_type]
        if gpus <= gpn:
            for free in range(gpus, gpn + 1):
                if by_free[free]:
                    return Placement((by_free[free][0],), gpus)
            return None
        needed = -(-gpus // gpn)
        if len(by_free[gpn]) < needed:
            return None
        pods = layout.pods_by_type[gpu_type]
        whole = cluster.whole_free_by_pod
        best, fewest = None, 0  # the pod with the fewest whole free nodes that are enough
        for pod in pods:  # ascending index: the lowest wins a tie
            free = whole[pod.index]
            if free >= needed and (best is None or free < fewest):
                best, fewest = pod, free
        if best is not None:
            return Placement(tuple(cluster.free_whole_nodes(best, needed)), gpn)
        return whole_nodes_emptiest_pods_first(cluster, pods, needed, gpn)


def whole_nodes_emptiest_pods_first(
    cluster: ClusterView, pods: list[PodInfo], needed: int, gpn: int
) -> Placement:
    """``needed`` whole free nodes, taken from pods with the most whole free nodes first (lowest
    index on ties), lowest node ids within a pod. The caller has checked there are enough."""
    whole = cluster.whole_free_by_pod
    nodes: list[int] = []
    for pod in sorted(pods, key=lambda p: (-whole[p.index], p.index)):
        nodes.extend(cluster.free_whole_nodes(pod, needed - len(nodes)))
        if len(nodes) == needed:
            break
    return Placement(tuple(nodes), gpn)
