"""Fragmentation of free GPUs: how many free GPUs cannot host a whole-node job.

Pure functions of plain data (free GPUs per node), for the engine's sampler to call at each
sample instant, once per GPU type (every node of a type has the same ``gpus_per_node``).
With ``f_i`` the free GPUs of node i and n the GPUs per node:

    stranded = sum over nodes with f_i < n of f_i
    fragmentation_ratio = stranded / sum_i f_i        (0 when sum_i f_i = 0)

A stranded GPU is free but sits on a partly used node, so no job of n or more GPUs (one
that needs whole nodes) can use it. On a flat pool (n = 1) nothing is ever stranded.

``stranded_gpus_by_count`` gives the same number from a histogram of free counts (how many
nodes have k free GPUs, k = 0..n), in O(n) instead of O(nodes): the engine's per-type
index ``nodes_by_free`` is such a histogram once each bucket is replaced by its length.
"""

from __future__ import annotations

from collections.abc import Sequence


def _checked(free_per_node: Sequence[int], gpus_per_node: int) -> None:
    if gpus_per_node < 1:
        raise ValueError(f"'gpus_per_node' must be >= 1 (got {gpus_per_node!r})")
    for node, free in enumerate(free_per_node):
        if not 0 <= free <= gpus_per_node:
            raise ValueError(f"free GPUs of node {node} must be in [0, {gpus_per_node}] (got {free!r})")


def stranded_gpus(free_per_node: Sequence[int], gpus_per_node: int) -> int:
    """Free GPUs on nodes that are not wholly free: ``sum of f_i over nodes with f_i < n``.

    ``free_per_node`` holds ``f_i`` for nodes of one GPU type, ``gpus_per_node`` is their n.
    Raises ValueError if n < 1 or some ``f_i`` lies outside [0, n].
    """
    _checked(free_per_node, gpus_per_node)
    return sum(free for free in free_per_node if free < gpus_per_node)


def stranded_gpus_by_count(nodes_with_free: Sequence[int]) -> int:
    """``stranded_gpus`` from a histogram: ``sum over k = 1..n-1 of k * nodes_with_free[k]``.

    ``nodes_with_free[k]`` is the number of nodes (of one GPU type) with exactly k free GPUs,
    for k = 0..n, so n = ``len(nodes_with_free) - 1``. Raises ValueError if it is empty or
    has a negative count.
    """
    if not nodes_with_free:
        raise ValueError("'nodes_with_free' must have an entry for 0..gpus_per_node free GPUs (got [])")
    if min(nodes_with_free) < 0:
        raise ValueError(f"node counts must be >= 0 (got {list(nodes_with_free)!r})")
    return sum(free * count for free, count in enumerate(nodes_with_free[:-1]))


def fragmentation_ratio(free_per_node: Sequence[int], gpus_per_node: int) -> float:
    """Share of the free GPUs that are stranded: ``stranded / sum_i f_i``, 0 when nothing is free.

    0 means every free GPU lies on a wholly free node; 1 means no node is wholly free
    although some GPUs are. Same arguments and errors as ``stranded_gpus``.
    """
    total = sum(free_per_node)
    stranded = stranded_gpus(free_per_node, gpus_per_node)
    return stranded / total if total else 0.0
