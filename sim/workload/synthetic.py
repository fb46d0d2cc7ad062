"""Synthetic job streams: Poisson arrivals, a GPU-count law, lognormal durations.

Each stream draws from its own named random stream (``sim.rng``), so streams are
independent of each other and of the scheduler. All draws are vectorised with numpy.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from sim.cluster.state import ClusterLayout
from sim.rng import stream as random_stream
from sim.scenario.schema import Lognormal, Stream
from sim.workload.jobs import JobTable


def mean_duration(law: Lognormal) -> float:
    """E[min(X, max)] for X lognormal with median m and log-sigma s.

    Untruncated: m * exp(s^2 / 2). With a cap c: E[X; X < c] + c * P(X >= c), where
    E[X; X < c] = m * exp(s^2 / 2) * Phi((ln c - ln m - s^2) / s).
    """
    mu, s = math.log(law.median), law.sigma
    if law.max is None:
        return math.exp(mu + s * s / 2)
    cap = law.max
    if s == 0:
        return min(law.median, cap)
    z = (math.log(cap) - mu) / s
    return math.exp(mu + s * s / 2) * float(norm.cdf(z - s)) + cap * float(norm.sf(z))


def mean_allocated_gpus(spec: Stream, layout: ClusterLayout, gpu_type: str) -> float:
    """Expected GPUs a job of the stream holds (whole-node rounding included)."""
    weights = np.array(list(spec.gpus.values()), dtype=float)
    held = np.array([layout.allocated_gpus(g, gpu_type) for g in spec.gpus], dtype=float)
    return float(held @ weights / weights.sum())


def arrival_rate(spec: Stream, layout: ClusterLayout, gpu_type: str) -> float:
    """Jobs per second: given, or ``load * capacity / (E[held GPUs] * E[duration])``."""
    if spec.rate_per_hour is not None:
        return spec.rate_per_hour / 3600.0
    assert spec.load is not None
    capacity = layout.capacity_by_type[gpu_type]
    return spec.load * capacity / (mean_allocated_gpus(spec, layout, gpu_type) * mean_duration(spec.duration))


def generate(spec: Stream, arrivals_for: float, seed: int, layout: ClusterLayout, gpu_type: str) -> JobTable:
    """The jobs of one stream arriving in ``[0, arrivals_for)``, in submit order."""
    rng = random_stream(seed, "workload", "synthetic", spec.name)
    count = int(rng.poisson(arrival_rate(spec, layout, gpu_type) * arrivals_for))
    submit = np.sort(rng.uniform(0.0, arrivals_for, count))
    sizes = np.array(list(spec.gpus), dtype=np.int64)
    weights = np.array(list(spec.gpus.values()), dtype=float)
    gpus = rng.choice(sizes, size=count, p=weights / weights.sum())
    duration = np.exp(rng.normal(math.log(spec.duration.median), spec.duration.sigma, count))
    if spec.duration.max is not None:
        duration = np.minimum(duration, spec.duration.max)
    factor = spec.estimate_factor
    if isinstance(factor, tuple):
        requested = duration * rng.uniform(factor[0], factor[1], count)
    else:
        requested = duration * factor
    tenant = rng.integers(0, spec.tenants, count)
    width = len(str(spec.tenants))
    tenants = [f"{spec.name}-t{k:0{width}d}" for k in range(spec.tenants)]
    return JobTable(
        job_id=[f"{spec.name}-{i}" for i in range(count)],
        submit=submit.tolist(),
        gpus=gpus.tolist(),
        duration=duration.tolist(),
        requested=requested.tolist(),
        gpu_type=[gpu_type] * count,
        tenant=[tenants[k] for k in tenant.tolist()],
        job_class=[spec.job_class] * count,
        priority=[spec.priority] * count,
    )
