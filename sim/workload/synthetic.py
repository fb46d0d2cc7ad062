"""Synthetic job streams: time-varying Poisson arrivals of jobs or job arrays.

Per stream (docs/workload.md): arrivals by thinning over the hour-of-week profile
(``sim.workload.calendar``); each arrival brings an array of ``array_size`` jobs with one
tenant, GPU count and estimate factor; each job draws a lognormal duration (median growing
with its GPU count by ``size_exponent``), an outcome (failed and cancelled jobs end after a
uniform fraction of their full duration) and a requested time = full duration x factor.

Each stream draws from its own named random stream (``sim.rng``), so streams are
independent of each other and of the scheduler. All draws are vectorised with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.cluster.state import ClusterLayout
from sim.rng import stream as random_stream
from sim.scenario.workload import Factor, Levels, Stream, TenantGroup
from sim.workload import calendar
from sim.workload.calendar import Calendar
from sim.workload.jobs import JobTable, floats
from sim.workload.tenants import draw_tenants
from sim.workload.trace_csv import MAX_SECONDS

OUTCOMES = ("completed", "failed", "cancelled")


def profile_array(profile: str | Levels) -> np.ndarray:
    """The 168 hourly multipliers (mean 1) of a named preset or of explicit levels."""
    if isinstance(profile, str):
        return calendar.week_profile(calendar.PRESETS[profile])
    return calendar.week_profile(calendar.Levels(**profile.model_dump()))


def capped_lognormal_mean(median: float, sigma: float, cap: float | None) -> float:
    """E[min(X, cap)] for X lognormal with median m and log-sigma s.

    Untruncated: m * exp(s^2 / 2). With a cap c: E[X; X < c] + c * P(X >= c), where
    E[X; X < c] = m * exp(s^2 / 2) * Phi((ln c - ln m - s^2) / s).
    """
    mu, s = math.log(median), sigma
    if cap is None:
        return math.exp(mu + s * s / 2)
    if s == 0:
        return min(median, cap)
    z = (math.log(cap) - mu) / s
    from scipy.stats import norm  # here: scipy.stats costs ~0.2 s and ~20 MB to import

    return math.exp(mu + s * s / 2) * float(norm.cdf(z - s)) + cap * float(norm.sf(z))


def mean_gpu_seconds(spec: Stream, layout: ClusterLayout, gpu_type: str) -> float:
    """Expected GPU-seconds one job of the stream holds: sum over sizes g of
    P(g) * held(g) * E[duration | g] * (1 - ended_early / 2), held(g) with whole-node rounding,
    ended_early the failed + cancelled share (they run a uniform fraction, mean 1/2).
    """
    weights = np.array(list(spec.gpus.values()), dtype=float)
    weights /= weights.sum()
    law = spec.duration
    total = 0.0
    for gpus, weight in zip(spec.gpus, weights.tolist(), strict=True):
        median = law.median * gpus**spec.size_exponent
        total += (
            weight * layout.allocated_gpus(gpus, gpu_type) * capped_lognormal_mean(median, law.sigma, law.max)
        )
    return total * (1 - sum(spec.outcomes.values()) / 2)


def mean_array_size(spec: Stream) -> float:
    sizes = np.array(list(spec.array_size), dtype=float)
    weights = np.array(list(spec.array_size.values()), dtype=float)
    return float(sizes @ weights / weights.sum())


def arrival_rate(spec: Stream, layout: ClusterLayout, gpu_type: str) -> float:
    """Arrivals (arrays) per second at the weekly mean: given, or from the load:
    ``load * capacity / (E[GPU-seconds per job] * E[array size])``.
    """
    if spec.rate_per_hour is not None:
        return spec.rate_per_hour / 3600.0
    assert spec.load is not None
    capacity = layout.capacity_by_type[gpu_type]
    return spec.load * capacity / (mean_gpu_seconds(spec, layout, gpu_type) * mean_array_size(spec))


def _choice(rng: np.random.Generator, law: dict[int, float], n: int) -> np.ndarray:
    values = np.array(list(law), dtype=np.int64)
    weights = np.array(list(law.values()), dtype=float)
    return rng.choice(values, size=n, p=weights / weights.sum())


def _factors(rng: np.random.Generator, factor: float | tuple[float, float] | Factor, n: int) -> np.ndarray:
    if isinstance(factor, Factor):
        return np.exp(rng.normal(math.log(factor.median), factor.sigma, n))
    if isinstance(factor, tuple):
        return rng.uniform(factor[0], factor[1], n)
    return np.full(n, float(factor))


def generate(
    spec: Stream,
    arrivals_for: float,
    seed: int,
    layout: ClusterLayout,
    gpu_type: str,
    clock: Calendar,
    groups: Sequence[TenantGroup] = (),
) -> JobTable:
    """The jobs of one stream arriving in ``[0, arrivals_for)``, in submit order.

    ``gpu_type`` is one type or acceptable types joined by ``|``; the load is sized on the
    first. Job ids: ``<stream>-<n>`` for single jobs, ``<stream>-<n>_<task>`` in arrays.
    """
    rng = random_stream(seed, "workload", "synthetic", spec.name)
    first_type = gpu_type.split("|")[0]
    arrivals = calendar.thinned_arrivals(
        rng, arrival_rate(spec, layout, first_type), profile_array(spec.profile), clock, arrivals_for
    )
    count = len(arrivals)
    sizes = _choice(rng, spec.array_size, count)
    gpus = _choice(rng, spec.gpus, count)
    factor = _factors(rng, spec.estimate_factor, count)
    tenant, tier = draw_tenants(rng, count, spec.tenants, groups, spec.name)
    # Per job (arrays expanded): duration, outcome, and where a failed job stops.
    n = int(sizes.sum())
    of = np.repeat(np.arange(count), sizes)
    median = spec.duration.median * gpus[of].astype(float) ** spec.size_exponent
    full = median * np.exp(rng.normal(0.0, spec.duration.sigma, n))
    # At most 100 years (the trace limit) even without a max: a heavy tail must not make a
    # run without a horizon sample hourly for ages.
    full = np.minimum(full, MAX_SECONDS if spec.duration.max is None else spec.duration.max)
    outcome_draw = rng.random(n)
    stop_at = rng.random(n)
    failed = spec.outcomes.get("failed", 0.0)
    cancelled = failed + spec.outcomes.get("cancelled", 0.0)
    early = outcome_draw < cancelled
    duration = np.where(early, full * stop_at, full)
    # One shared string per outcome (numpy's tolist would make a new one per job).
    outcome_code = np.where(outcome_draw < failed, 1, np.where(early, 2, 0))
    of_list = of.tolist()
    task = (np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)).tolist()
    single = (sizes == 1).tolist()
    name = spec.name
    job_id = [f"{name}-{a}" if single[a] else f"{name}-{a}_{t}" for a, t in zip(of_list, task, strict=True)]
    return JobTable(
        job_id=job_id,
        submit=floats(arrivals[of]),
        gpus=gpus[of].tolist(),
        duration=floats(duration),
        requested=floats(full * factor[of]),
        gpu_type=[gpu_type] * n,
        tenant=[tenant[a] for a in of_list],
        job_class=[spec.job_class] * n,
        priority=[spec.priority] * n,
        tier=[tier[a] for a in of_list],
        outcome=[OUTCOMES[k] for k in outcome_code.tolist()],
    )
