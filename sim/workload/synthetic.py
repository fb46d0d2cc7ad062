"""Synthetic job streams: time-varying Poisson arrivals of jobs or job arrays.

Per stream (docs/workload.md): arrivals by thinning over the hour-of-week profile
(``sim.workload.calendar``); each arrival brings an array of ``array_size`` jobs with one
tenant, GPU count and estimate factor; each job draws a lognormal duration (median growing
with its GPU count by ``size_exponent``), an outcome (failed and cancelled jobs end after a
uniform fraction of their full duration) and a requested time = full duration x factor.

A stream is drawn window by window (``WINDOW``, a week, counted from t = 0), each window
from its own named random stream (``sim.rng``) and always as a whole week, the arrivals
past the arrival window then dropped: the jobs of a week depend only on the seed, the
stream and the week, so a longer arrival window keeps every earlier job (ids included),
and ``stream_windows`` hands them out a week at a time. Streams are independent of each
other and of the scheduler. All draws are vectorised with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from sim.cluster.state import ClusterLayout
from sim.rng import stream as random_stream
from sim.scenario.workload import Factor, Levels, Stream, TenantGroup
from sim.workload import calendar
from sim.workload.calendar import Calendar
from sim.workload.jobs import JobTable, floats
from sim.workload.tenants import TenantDraw
from sim.workload.trace_csv import MAX_SECONDS

OUTCOMES = ("completed", "failed", "cancelled")

WINDOW = 7 * 24 * 3600.0
"""Seconds per generation window: a week, the period of the hour-of-week profile, so each
window's thinning covers the profile once; and long enough that the fixed cost of a window
(about 0.1 ms of numpy calls) stays small even for a century-long arrival window (5,218
windows, 0.6 s)."""


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


def stream_windows(
    spec: Stream,
    arrivals_for: float,
    seed: int,
    layout: ClusterLayout,
    gpu_type: str,
    clock: Calendar,
    groups: Sequence[TenantGroup] = (),
) -> Iterator[JobTable]:
    """The jobs of one stream arriving in ``[0, arrivals_for)``, one table per window.

    Window k covers ``[k * WINDOW, min((k + 1) * WINDOW, arrivals_for))``. It draws a whole
    week from the random stream ``workload/synthetic/<stream>/window/<k>`` (arrivals, then
    their jobs) and keeps the arrivals before ``arrivals_for``: a window cut short holds a
    prefix of the full week's jobs, so a longer window never changes an earlier job. Each
    table is in submit order (a window without arrivals gives an empty one); arrivals are
    numbered from the start of the run across windows. ``gpu_type`` is one type or
    acceptable types joined by ``|``; the load is sized on the first.
    """
    if not (math.isfinite(arrivals_for) and arrivals_for >= 0):
        raise ValueError(f"arrivals_for must be finite and >= 0, got {arrivals_for}")
    rate = arrival_rate(spec, layout, gpu_type.split("|")[0])
    profile = profile_array(spec.profile)
    tenants = TenantDraw(spec.tenants, groups, spec.name)
    numbered = 0  # arrivals in the windows before this one
    for k in range(math.ceil(arrivals_for / WINDOW)):
        rng = random_stream(seed, "workload", "synthetic", spec.name, "window", str(k))
        arrivals = calendar.thinned_arrivals(rng, rate, profile, clock, WINDOW, k * WINDOW)
        kept = int(np.searchsorted(arrivals, arrivals_for, side="left"))
        yield _window_jobs(spec, rng, arrivals, kept, numbered, gpu_type, tenants)
        numbered += kept


def generate(
    spec: Stream,
    arrivals_for: float,
    seed: int,
    layout: ClusterLayout,
    gpu_type: str,
    clock: Calendar,
    groups: Sequence[TenantGroup] = (),
) -> JobTable:
    """The jobs of one stream arriving in ``[0, arrivals_for)``, in submit order: the windows of
    ``stream_windows`` one after another. Job ids: ``<stream>-<n>`` for single jobs,
    ``<stream>-<n>_<task>`` in arrays, n the arrival's number from 0.
    """
    windows = stream_windows(spec, arrivals_for, seed, layout, gpu_type, clock, groups)
    tables = [table for table in windows if table]
    return tables[0] if len(tables) == 1 else JobTable.concat(tables)


def longest_duration(spec: Stream) -> float:
    """The longest duration a job of the stream can have: its ``max``, else 100 years (the
    trace limit): a heavy tail must not make a run without a horizon sample hourly for ages."""
    return MAX_SECONDS if spec.duration.max is None else spec.duration.max


def _window_jobs(
    spec: Stream,
    rng: np.random.Generator,
    arrivals: np.ndarray,
    kept: int,
    numbered: int,
    gpu_type: str,
    tenants: TenantDraw,
) -> JobTable:
    """The jobs of the first ``kept`` of a window's sorted ``arrivals``, numbered from
    ``numbered``. Every draw is made for all the arrivals, as if none were cut: per arrival
    the array size, GPU count, estimate factor and tenant, then per job the duration, outcome
    and stop fraction; then the kept arrivals' jobs (a prefix) are taken.
    """
    count = len(arrivals)
    sizes = _choice(rng, spec.array_size, count)
    gpus = _choice(rng, spec.gpus, count)
    factor = _factors(rng, spec.estimate_factor, count)
    tenant, tier = tenants.draw(rng, count)
    # Per job (arrays expanded): duration, outcome, and where a failed job stops.
    drawn = int(sizes.sum())
    full = np.exp(rng.normal(0.0, spec.duration.sigma, drawn))
    outcome_draw = rng.random(drawn)
    stop_at = rng.random(drawn)
    # Only the kept arrivals' jobs from here on.
    sizes = sizes[:kept]
    n = int(sizes.sum())
    of = np.repeat(np.arange(kept), sizes)
    full, outcome_draw, stop_at = full[:n], outcome_draw[:n], stop_at[:n]
    full *= spec.duration.median * gpus[of].astype(float) ** spec.size_exponent
    full = np.minimum(full, longest_duration(spec))
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
    job_id = [
        f"{name}-{numbered + a}" if single[a] else f"{name}-{numbered + a}_{t}"
        for a, t in zip(of_list, task, strict=True)
    ]
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
