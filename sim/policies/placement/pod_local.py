"""``pod_local``: ``pack``, with multi-node jobs kept inside one pod (strict) or slowed when they span."""

from __future__ import annotations

import math

from sim.cluster.state import ClusterLayout, ClusterView, Placement
from sim.errors import show
from sim.policies import PLACEMENTS
from sim.policies.base import Placer
from sim.policies.placement.pack import Pack
from sim.scenario.base import NoEffect


@PLACEMENTS.register("pod_local")
class PodLocal(Placer):
    """Pod-local best fit: multi-node jobs run inside one pod (strict), or pay a slowdown to span.

    Algorithm. Every job is placed as ``pack`` places it, except that a whole-node job
    (g > gpus_per_node, needing k = ceil(g / gpus_per_node) whole free nodes) that no
    single pod of its type can hold (every pod has fewer than k whole free nodes):

    * ``strict=True`` (default): gets no placement and waits, even if k whole free nodes
      exist across pods. A job needing more nodes than the largest pod of its type has
      can therefore never start (the ``rejection`` method names such jobs).
    * ``strict=False``: spans pods as ``pack`` does (pods with the most whole free nodes
      first). Such a job runs ``span_slowdown`` times slower than its duration.

    So a single-node job takes the node with the fewest free GPUs >= g, and a whole-node job
    that fits in one pod takes the lowest-id whole free nodes of the pod with enough whole
    free nodes and the fewest of them: exactly ``pack``. With ``strict=False`` and
    ``span_slowdown=1`` this policy places every job exactly as ``pack`` does.

    Parameters. ``strict`` (bool, default True); ``span_slowdown`` (finite number >= 1,
    default 1.0): the factor on the run time of a job whose nodes span pods. It never
    applies under ``strict=True`` (no placement spans). It is read by the engine through
    ``slowdown(placement, layout)``; the placement itself ignores it.

    Tie-breaking: as ``pack`` (lowest node id among equal fits; lowest pod index among pods
    with equal whole free nodes).

    Complexity: as ``pack``: O(gpus_per_node) for a small job; O(pods + nodes taken) for a
    whole-node job. ``slowdown`` is O(nodes of the placement).
    """

    def __init__(self, *, strict: bool = True, span_slowdown: float = 1.0) -> None:
        if not isinstance(strict, bool):
            raise ValueError(f"'strict' must be true or false (got {show(strict)})")
        if isinstance(span_slowdown, bool) or not isinstance(span_slowdown, int | float):
            raise ValueError(f"'span_slowdown' must be a number (got {show(span_slowdown)})")
        if not span_slowdown >= 1:  # also refuses NaN
            raise ValueError(f"'span_slowdown' must be >= 1 (got {show(span_slowdown)})")
        if math.isinf(span_slowdown):
            raise ValueError(f"'span_slowdown' must be finite (got {show(span_slowdown)})")
        self.strict = strict
        self.span_slowdown = float(span_slowdown)
        self._pack = Pack()

    def settings_without_effect(self) -> list[NoEffect]:
        if self.strict and self.span_slowdown != 1:
            return [NoEffect("span_slowdown", "under strict: true no job spans pods, so none is slowed")]
        return []

    def place(self, cluster: ClusterView, gpus: int, gpu_type: str) -> Placement | None:
        if self.strict:
            gpn = cluster.layout.gpus_per_node[gpu_type]
            if gpus > gpn:
                needed = -(-gpus // gpn)
                whole = cluster.whole_free_by_pod
                if all(whole[pod.index] < needed for pod in cluster.layout.pods_by_type[gpu_type]):
                    return None
        return self._pack.place(cluster, gpus, gpu_type)

    def slowdown(self, placement: Placement, layout: ClusterLayout) -> float:
        """Factor on the run time of a job on ``placement``: ``span_slowdown`` if it spans pods, else 1.

        Read by the engine when the job starts (run time = duration x this factor).
        """
        node_pod = layout.node_pod
        first = node_pod[placement.nodes[0]]
        if any(node_pod[node] != first for node in placement.nodes):
            return self.span_slowdown
        return 1.0

    def rejection(self, layout: ClusterLayout, gpus: int, gpu_type: str) -> str:
        """Why this policy can never place the job, or '' if it can (read by the engine at submit).

        Under ``strict=True`` a whole-node job needing more nodes than the largest pod of its
        type has would wait forever; with ``strict=False`` every job the layout accepts fits.
        """
        if not self.strict or gpu_type not in layout.gpus_per_node:
            return ""
        needed = layout.nodes_needed(gpus, gpu_type)
        largest = max(pod.nodes for pod in layout.pods_by_type[gpu_type])
        if needed > largest:
            return f"needs {needed} {gpu_type} nodes in one pod, largest pod has {largest}"
        return ""
