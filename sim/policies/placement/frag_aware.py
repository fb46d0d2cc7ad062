"""``frag_aware``: fill partly used nodes first; open a free node in the pod with the fewest."""

from __future__ import annotations

from sim.cluster.state import ClusterView, Placement
from sim.policies import PLACEMENTS
from sim.policies.base import Placer
from sim.policies.placement.pack import Pack


@PLACEMENTS.register("frag_aware")
class FragAware(Placer):
    """Fragmentation-aware: fill partly used nodes first, and keep the pods with the most free nodes whole.

    Algorithm. A job of g <= gpus_per_node GPUs takes one node of its GPU type:

    1. a partly used node (0 < free < gpus_per_node) with free >= g, best fit: the fewest
       free GPUs, lowest node id on ties;
    2. only if no partly used node fits, a wholly free node: from the pod of its type with
       the fewest whole free nodes (at least one), its lowest-id whole free node. Small
       jobs thus eat into the pods that are already broken up, and the pods with many whole
       free nodes stay intact for multi-node jobs, which then need not span pods.

    A larger job (ceil(g / gpus_per_node) whole free nodes) is placed exactly as ``pack``
    places it: the pod that holds it with the fewest whole free nodes, its lowest-id whole
    free nodes; it spans pods (most whole free nodes first) only when no pod can hold it.

    Step 1 is the same choice as ``pack``'s best fit (a wholly free node is always the
    worst fit), so ``frag_aware`` differs from ``pack`` only in which wholly free node a
    small job opens: ``pack`` takes the lowest node id, ``frag_aware`` the pod with the
    fewest whole free nodes. The number of whole free nodes after each placement is the
    same; where they lie (how many per pod) is not.

    Tie-breaking. Nodes: lowest node id. Pods with equal whole free nodes: lowest pod index.

    Complexity: O(gpus_per_node) for a small job on a partly used node, plus O(pods) when it
    opens a free node; O(pods + nodes taken) for a whole-node job.
    """

    def __init__(self) -> None:
        self._pack = Pack()

    def place(self, cluster: ClusterView, gpus: int, gpu_type: str) -> Placement | None:
        layout = cluster.layout
        gpn = layout.gpus_per_node[gpu_type]
        if gpus > gpn:
            return self._pack.place(cluster, gpus, gpu_type)
        by_free = cluster.nodes_by_free[gpu_type]  # by_free[k]: sorted ids of nodes with k free GPUs
        for free in range(gpus, gpn):
            if by_free[free]:
                return Placement((by_free[free][0],), gpus)
        if not by_free[gpn]:
            return None
        whole = cluster.whole_free_by_pod
        open_pods = [pod for pod in layout.pods_by_type[gpu_type] if whole[pod.index] > 0]
        pod = min(open_pods, key=lambda p: (whole[p.index], p.index))
        return Placement(tuple(cluster.free_whole_nodes(pod, 1)), gpus)
