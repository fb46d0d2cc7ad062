"""Energy, its cost and its CO2: of the whole cluster over a run, and of each tenant's jobs.

The model (defaults and sources in docs/pricing.md): a GPU draws ``busy_w`` while it is
allocated to a job and ``idle_w`` otherwise; the rest of every node (CPUs, memory, NICs,
fans) draws ``Energy.node_power`` all the time, whether or not its GPUs are busy; the
facility draws ``pue`` times the IT power. Energy costs ``price_eur_per_kwh`` and emits
``co2_g_per_kwh``. Allocated GPUs count as busy (a job holding whole nodes keeps all their
GPUs), and so do restart overheads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.cluster.state import ClusterLayout
from sim.metrics.columns import Columns, first_appearance
from sim.records import RunRecords
from sim.scenario.market import Energy

_JOULES_PER_KWH = 3.6e6


def _held_seconds(columns: Columns, window: float) -> np.ndarray:
    """Per segment: the length of its part inside [0, window] (0 when it lies outside)."""
    length = np.minimum(columns.seg("end_time"), window) - np.maximum(columns.seg("start_time"), 0.0)
    return np.maximum(length, 0.0)


def energy_summary(records: RunRecords, energy: Energy, layout: ClusterLayout) -> dict[str, Any]:
    """Facility energy, cost and CO2 of the cluster over the window [0, W], W = ``records.end_time``.

    Per GPU type g with capacity C_g GPUs, busy/idle GPU power B_g, I_g watts:

        busy_s_g = sum over g's segments of allocated GPUs x (end - start)   (clipped to [0, W])
        idle_s_g = C_g x W - busy_s_g
        node_J_g = sum over g's pods of nodes x node_power(pod) x W
        IT_J_g   = busy_s_g x B_g + idle_s_g x I_g + node_J_g
        kwh_g    = IT_J_g / 3.6e6 x PUE

    ``node_power(pod)`` is ``Energy.node_power(g, gpus_per_node, pod's node type power_w)``.
    ``busy_kwh``, ``idle_kwh`` and ``node_kwh`` are the three terms, each times PUE, so they
    add up to ``kwh``; ``it_kwh = kwh / PUE``. ``eur = kwh x price_eur_per_kwh``,
    ``co2_kg = kwh x co2_g_per_kwh / 1000``. The same keys appear per type in
    ``by_gpu_type``, with ``busy_gpu_hours`` and ``idle_gpu_hours``.
    """
    window = max(records.end_time, 0.0)
    busy_seconds = dict.fromkeys(layout.gpu_types, 0.0)
    if records.segments:
        columns = Columns.of_records(records)
        codes, labels = columns.seg_codes("gpu_type")
        held = columns.seg_gpus() * _held_seconds(columns, window)
        sums = np.bincount(codes, weights=held, minlength=len(labels)).tolist()
        for k in first_appearance(codes).tolist():
            busy_seconds[labels[k]] = busy_seconds.get(labels[k], 0.0) + sums[k]
    node_joules = dict.fromkeys(layout.gpu_types, 0.0)
    for pod in layout.pods:
        watts = energy.node_power(pod.gpu_type, pod.gpus_per_node, pod.power_w)
        node_joules[pod.gpu_type] += pod.nodes * watts * window
    pue = energy.pue
    by_type: dict[str, dict[str, float]] = {}
    for gpu_type, busy in busy_seconds.items():
        busy_w, idle_w = energy.gpu_power(gpu_type)
        idle = layout.capacity_by_type.get(gpu_type, 0) * window - busy
        parts = {
            "busy_kwh": busy * busy_w / _JOULES_PER_KWH * pue,
            "idle_kwh": idle * idle_w / _JOULES_PER_KWH * pue,
            "node_kwh": node_joules.get(gpu_type, 0.0) / _JOULES_PER_KWH * pue,
        }
        by_type[gpu_type] = {
            "busy_gpu_hours": busy / 3600.0,
            "idle_gpu_hours": idle / 3600.0,
            **_priced(sum(parts.values()), energy),
            **parts,
        }
    totals = {key: sum(row[key] for row in by_type.values()) for key in ("busy_kwh", "idle_kwh", "node_kwh")}
    kwh = sum(totals.values())
    return {
        **_priced(kwh, energy),
        **totals,
        "pue": pue,
        "window_s": window,
        "by_gpu_type": by_type,
    }


def _priced(kwh: float, energy: Energy) -> dict[str, float]:
    return {
        "kwh": kwh,
        "it_kwh": kwh / energy.pue,
        "eur": kwh * energy.price_eur_per_kwh,
        "co2_kg": kwh * energy.co2_g_per_kwh / 1000.0,
    }


def energy_by_tenant(
    records: RunRecords, energy: Energy, layout: ClusterLayout
) -> dict[str, tuple[float, float, float]]:
    """(kwh, eur, co2_kg) per tenant: the facility energy of the GPUs its jobs held.

    A tenant is attributed, per segment of its jobs on a node of pod p with GPU type g,

        kwh = allocated GPUs x (end - start) x (B_g + node_power(p) / gpus_per_node) x PUE / 3.6e6

    i.e. its GPUs at busy power plus their share of the node overhead, clipped to [0, W] as
    in ``energy_summary``. Idle energy (idle GPUs, the overhead of idle GPUs' share of their
    nodes) is not attributed to anyone, so the tenants' kwh add up to less than the
    cluster's. ``eur`` and ``co2_kg`` as in ``energy_summary``. Tenants with no segment are
    absent.
    """
    window = max(records.end_time, 0.0)
    # Watts of one busy GPU in each pod, its node's overhead share included.
    pod_watts = {
        pod.name: energy.gpu_power(pod.gpu_type)[0]
        + energy.node_power(pod.gpu_type, pod.gpus_per_node, pod.power_w) / pod.gpus_per_node
        for pod in layout.pods
    }
    if not records.segments:
        return {}
    columns = Columns.of_records(records)
    job = columns.seg_job_known()
    pod_codes, pods = columns.seg_codes("pods")
    watts = columns.seg_gpus() * np.array([pod_watts.get(pod, np.nan) for pod in pods])[pod_codes]
    for k, pod in enumerate(pods):
        if ";" in pod:  # nodes in several pods: each node's GPUs at its own pod's power
            for i in np.flatnonzero(pod_codes == k).tolist():
                segment = records.segments[i]
                watts[i] = sum(
                    segment.gpus_per_node * pod_watts[node.split("/")[0]] for node in segment.nodes.split(";")
                )
        elif pod not in pod_watts:
            raise KeyError(pod)
    tenant_codes, tenants = columns.job_codes("tenant")
    codes = tenant_codes[job]
    joules = np.bincount(codes, weights=watts * _held_seconds(columns, window), minlength=len(tenants))
    result = {}
    for k in first_appearance(codes).tolist():
        kwh = float(joules[k]) / _JOULES_PER_KWH * energy.pue
        result[tenants[k]] = (kwh, kwh * energy.price_eur_per_kwh, kwh * energy.co2_g_per_kwh / 1000.0)
    return result
