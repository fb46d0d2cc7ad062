"""The cluster's hardware and who holds which GPUs.

``ClusterLayout`` is the static part built from the scenario: pods, nodes, GPU types.
``ClusterState`` owns allocation (the engine alone mutates it): free GPUs per node, per pod
and per GPU type, plus per type an index ``nodes_by_free[k]`` of the node ids with exactly
``k`` free GPUs, each kept sorted so placement finds the best fit and the lowest id fast.
Policies receive the state but only read it (``ClusterView`` names what they may read).

Node ids run pod by pod in scenario order, so the nodes of one pod are a contiguous range.
"""

from __future__ import annotations

import bisect
from bisect import bisect_left, insort
from dataclasses import dataclass
from operator import itemgetter
from typing import Protocol

from sim.errors import SimError
from sim.scenario.schema import Cluster


@dataclass(frozen=True, slots=True)
class PodInfo:
    """One pod: its name, GPU type, GPUs per node and node id range ``[first_node, end_node)``."""

    index: int
    name: str
    gpu_type: str
    gpus_per_node: int
    first_node: int
    end_node: int
    power_w: float | None = None

    @property
    def nodes(self) -> int:
        return self.end_node - self.first_node

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a job runs: node ids and the GPUs it holds on each (gang: all or nothing)."""

    nodes: tuple[int, ...]
    gpus_per_node: int

    @property
    def gpus(self) -> int:
        return len(self.nodes) * self.gpus_per_node


class ClusterLayout:
    """Static hardware: pods in scenario order, node ids, GPU types and their node size."""

    def __init__(self, pods: list[PodInfo], speed: dict[str, float] | None = None) -> None:
        self.pods = pods
        self.node_count = pods[-1].end_node if pods else 0
        self.node_pod: list[int] = []
        for pod in pods:
            self.node_pod.extend([pod.index] * pod.nodes)
        self.gpu_types: list[str] = []
        self.gpus_per_node: dict[str, int] = {}
        self.capacity_by_type: dict[str, int] = {}
        for pod in pods:
            if pod.gpu_type not in self.gpus_per_node:
                self.gpu_types.append(pod.gpu_type)
                self.gpus_per_node[pod.gpu_type] = pod.gpus_per_node
                self.capacity_by_type[pod.gpu_type] = 0
            self.capacity_by_type[pod.gpu_type] += pod.gpus
        self.nodes_by_type = {t: sum(p.nodes for p in pods if p.gpu_type == t) for t in self.gpu_types}
        self.pods_by_type = {t: [p for p in pods if p.gpu_type == t] for t in self.gpu_types}
        self.capacity = sum(self.capacity_by_type.values())
        # Relative throughput per GPU type (1 unless the scenario says otherwise).
        self.speed = {t: (speed or {}).get(t, 1.0) for t in self.gpu_types}

    @classmethod
    def from_scenario(cls, cluster: Cluster) -> ClusterLayout:
        pods: list[PodInfo] = []
        node = 0
        for spec in cluster.pods:
            gpu_type, gpn = cluster.pod_hardware(spec)
            power = cluster.node_types[spec.node_type].power_w if spec.node_type else None
            for name in spec.pod_names():
                pods.append(PodInfo(len(pods), name, gpu_type, gpn, node, node + spec.nodes, power))
                node += spec.nodes
        return cls(pods, dict(cluster.speed))

    def nodes_needed(self, gpus: int, gpu_type: str) -> int:
        """Whole nodes a job of ``gpus`` needs: 0 if it fits inside one node."""
        gpn = self.gpus_per_node[gpu_type]
        return 0 if gpus <= gpn else -(-gpus // gpn)

    def allocated_gpus(self, gpus: int, gpu_type: str) -> int:
        """GPUs a job holds: its own count inside one node, else its whole nodes."""
        nodes = self.nodes_needed(gpus, gpu_type)
        return gpus if nodes == 0 else nodes * self.gpus_per_node[gpu_type]

    def rejection(self, gpus: int, gpu_type: str) -> str:
        """Why a job can never run here, or '' if it can."""
        if gpu_type not in self.gpus_per_node:
            return f"no {gpu_type} GPUs in the cluster"
        if self.nodes_needed(gpus, gpu_type) > self.nodes_by_type[gpu_type]:
            return f"needs {gpus} {gpu_type} GPUs, cluster has {self.capacity_by_type[gpu_type]}"
        return ""


# Moves of more whole nodes than this rebuild the index lists instead of editing them per node.
WHOLE_BATCH = 8


class ClusterView(Protocol):
    """What policies may read of the cluster (never mutate)."""

    layout: ClusterLayout
    free: list[int]
    free_by_type: dict[str, int]
    free_by_pod: list[int]
    whole_free_by_pod: list[int]
    nodes_by_free: dict[str, list[list[int]]]
    version_by_type: dict[str, int]

    def free_whole_nodes(self, pod: PodInfo, limit: int) -> list[int]: ...


class ClusterState:
    """Free GPUs per node, pod and type; the engine applies placements through it."""

    def __init__(self, layout: ClusterLayout) -> None:
        self.layout = layout
        self.free = [layout.pods[p].gpus_per_node for p in layout.node_pod]
        self.free_by_type = dict(layout.capacity_by_type)
        self.free_by_pod = [pod.gpus for pod in layout.pods]
        self.whole_free_by_pod = [pod.nodes for pod in layout.pods]
        self._gpn, self._node_pod = layout.gpus_per_node, layout.node_pod
        self._node_type = [layout.pods[p].gpu_type for p in layout.node_pod]
        self._nodes = len(self.free)
        # Bumped by every allocate and release of a type (and a running job's estimated end
        # moved by a notice): "has anything of it changed since?"
        self.version_by_type = dict.fromkeys(layout.gpu_types, 0)
        self.nodes_by_free = {}
        for gpu_type, gpn in layout.gpus_per_node.items():
            index: list[list[int]] = [[] for _ in range(gpn + 1)]
            for pod in layout.pods_by_type[gpu_type]:
                index[gpn].extend(range(pod.first_node, pod.end_node))
            self.nodes_by_free[gpu_type] = index

    @property
    def free_total(self) -> int:
        """Free GPUs of every type (summed when read: samples read it, every move would keep it)."""
        return sum(self.free_by_type.values())

    def free_whole_nodes(self, pod: PodInfo, limit: int) -> list[int]:
        """Ids of the first ``limit`` fully free nodes of ``pod``, ascending."""
        whole = self.nodes_by_free[pod.gpu_type][pod.gpus_per_node]
        first = bisect.bisect_left(whole, pod.first_node)
        taken = whole[first : first + limit]
        while taken and taken[-1] >= pod.end_node:
            taken.pop()
        return taken

    def check(self, placement: Placement, gpus: int, gpu_type: str) -> None:
        """Raise SimError unless ``placement`` is a valid gang for the job, right now."""
        layout = self.layout
        needed = layout.nodes_needed(gpus, gpu_type)
        gpn = layout.gpus_per_node[gpu_type]
        want = (1, gpus) if needed == 0 else (needed, gpn)
        if (len(placement.nodes), placement.gpus_per_node) != want or len(set(placement.nodes)) != want[0]:
            raise SimError(f"placement {placement} is not a gang of {want[0]} node(s) x {want[1]} GPUs")
        nodes = placement.nodes
        if len(nodes) > 1:  # the common case in C-level lookups; the loop below finds the culprit
            lookup = itemgetter(*nodes)
            if lookup(self._node_type).count(gpu_type) == len(nodes) and min(lookup(self.free)) >= want[1]:
                return
        for node in nodes:
            pod = layout.pods[layout.node_pod[node]]
            if pod.gpu_type != gpu_type or self.free[node] < placement.gpus_per_node:
                raise SimError(
                    f"placement on node {node} ({pod.name}) over-allocates or has the wrong GPU type"
                )

    def allocate_checked(self, placement: Placement, gpus: int, gpu_type: str) -> None:
        """``check``, then ``allocate``: the engine's one call per start (one walk for a one-node job)."""
        nodes, held = placement.nodes, placement.gpus_per_node
        gpn = self._gpn[gpu_type]
        if len(nodes) == 1 and held == gpus <= gpn:
            node = nodes[0]
            if 0 <= node < self._nodes and self._node_type[node] == gpu_type and self.free[node] >= held:
                self.move(placement, gpu_type, -held)
                return
        self.check(placement, gpus, gpu_type)
        self.move(placement, gpu_type, -held)

    def allocate(self, placement: Placement, gpu_type: str) -> None:
        self.move(placement, gpu_type, -placement.gpus_per_node)

    def release(self, placement: Placement, gpu_type: str) -> None:
        self.move(placement, gpu_type, placement.gpus_per_node)

    def move(self, placement: Placement, gpu_type: str, delta: int) -> None:
        """Add ``delta`` free GPUs on each node of ``placement`` (negative: allocate); indexes follow."""
        nodes = placement.nodes
        gpn = self._gpn[gpu_type]
        if len(nodes) > WHOLE_BATCH and (delta == gpn or delta == -gpn):
            self._move_whole(nodes, gpu_type, delta)
            return
        index, free, node_pod = self.nodes_by_free[gpu_type], self.free, self._node_pod
        free_by_pod, whole = self.free_by_pod, self.whole_free_by_pod
        for node in nodes:
            old = free[node]
            new = old + delta
            if new < 0 or new > gpn:
                raise SimError(f"node {node} would have {new} free GPUs of {gpn}")
            free[node] = new
            bucket = index[old]
            del bucket[bisect_left(bucket, node)]
            insort(index[new], node)
            pod = node_pod[node]
            free_by_pod[pod] += delta
            if old == gpn:
                whole[pod] -= 1
            elif new == gpn:
                whole[pod] += 1
        self.version_by_type[gpu_type] += 1
        self.free_by_type[gpu_type] += delta * len(nodes)

    def _move_whole(self, nodes: tuple[int, ...], gpu_type: str, delta: int) -> None:
        """``move`` of whole nodes (all free to all held, or back) without a search per node.

        The common case, ascending nodes of one pod that sit side by side in the list they
        leave (``pack`` takes the first free nodes of a pod), is slices: one ``del``, one
        insertion (or an in-place merge sort) and one free-count write per node (one slice
        write if the ids are consecutive); anything else rebuilds both lists."""
        gpn = abs(delta)
        index = self.nodes_by_free[gpu_type]
        was, becomes = (gpn, 0) if delta < 0 else (0, gpn)
        source, target = index[was], index[becomes]  # edited in place: views of them stay true
        free, node_pod = self.free, self.layout.node_pod
        count, first, last = len(nodes), nodes[0], nodes[-1]
        pod = node_pod[first]
        at = bisect_left(source, first)
        run = source[at : at + count]
        if node_pod[last] == pod and run == list(nodes) and itemgetter(*nodes)(free).count(was) == count:
            del source[at : at + count]
            if last - first + 1 == count:
                free[first : last + 1] = [becomes] * count
            else:
                for node in nodes:
                    free[node] = becomes
            self.free_by_pod[pod] += delta * count
            self.whole_free_by_pod[pod] += count if delta > 0 else -count
            at = bisect_left(target, first)
            if at == len(target) or target[at] > last:
                target[at:at] = nodes
            else:
                target += nodes
                target.sort()
        else:
            self._move_whole_any(nodes, source, target, was, becomes, delta)
        self.version_by_type[gpu_type] += 1
        self.free_by_type[gpu_type] += delta * count

    def _move_whole_any(
        self, nodes: tuple[int, ...], source: list[int], target: list[int], was: int, becomes: int, delta: int
    ) -> None:
        """``_move_whole`` for any nodes: a check per node, then both lists rebuilt (set
        difference, sorted merge)."""
        free, node_pod, whole = self.free, self.layout.node_pod, self.whole_free_by_pod
        for node in nodes:
            if free[node] != was:
                raise SimError(f"node {node} would have {free[node] + delta} free GPUs of {abs(delta)}")
            free[node] = becomes
            pod = node_pod[node]
            self.free_by_pod[pod] += delta
            whole[pod] += 1 if delta > 0 else -1
        taken = set(nodes)
        if len(taken) != len(nodes):
            raise SimError(f"placement {nodes} names a node twice")
        source[:] = sorted(set(source) - taken)
        target[:] = sorted(target + list(nodes))

    def busy_by_pod(self) -> list[int]:
        return [pod.gpus - free for pod, free in zip(self.layout.pods, self.free_by_pod, strict=True)]
