"""Timeseries sampling: one row of the cluster's state per sample instant (timeseries.csv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.metrics.fragmentation import stranded_gpus_by_count

if TYPE_CHECKING:
    from sim.engine.core import Engine


def record_sample(engine: Engine, now: float) -> None:
    """Append one row of timeseries samples: the state at ``now`` before its events."""
    layout, cluster, samples = engine.layout, engine.cluster, engine._samples
    free_total = cluster.free_total  # a sum over the types: read once
    busy = layout.capacity - free_total
    row: dict[str, float] = {"time": now, "busy_gpus": busy, "utilisation": busy / layout.capacity}
    for gpu_type, capacity in layout.capacity_by_type.items():
        row[f"utilisation.{gpu_type}"] = 1 - cluster.free_by_type[gpu_type] / capacity
    for pod, free in zip(layout.pods, cluster.free_by_pod, strict=True):
        row[f"utilisation.pod.{pod.name}"] = 1 - free / pod.gpus
    stranded_total = 0
    for gpu_type in layout.gpu_types:
        stranded = stranded_gpus_by_count([len(nodes) for nodes in cluster.nodes_by_free[gpu_type]])
        free = cluster.free_by_type[gpu_type]
        row[f"stranded_gpus.{gpu_type}"] = stranded
        row[f"fragmentation.{gpu_type}"] = stranded / free if free else 0.0
        stranded_total += stranded
    row["stranded_gpus"] = stranded_total
    row["fragmentation"] = stranded_total / free_total if free_total else 0.0
    row["queue_jobs"] = len(engine.queue)
    row["queue_gpus"] = sum(engine._queued_gpus.values())
    for job_class, gpus in engine._queued_gpus.items():
        row[f"queue_gpus.{job_class}"] = gpus
    for job_class, count in engine._running_jobs.items():
        row[f"running_jobs.{job_class}"] = count
    market = engine.market
    if market is not None and (market.pricing.interval or market.pricing.next_change(now) < float("inf")):
        for gpu_type in layout.gpu_types:  # time-varying prices: the on-demand rate per type
            row[f"price.{gpu_type}"] = market.pricing.rate(gpu_type, "on-demand", now)
    if engine.quota is not None:
        row["pending_jobs"] = len(engine._pending)
    if market is not None and market.responds:
        row["deferred_jobs"] = len(market.deferred)
    for key, value in row.items():
        samples.setdefault(key, []).append(value)
