"""Inference-service metrics: request latency and SLO attainment from the replicas actually ready.

Per service ``s`` and interval ``k`` (``[k * dt, (k + 1) * dt)``) the service is an M/M/c
queue, FCFS, with ``c`` the replicas ready for the whole interval, arrival rate ``lam`` (the
demand rate, requests/s) and service rate ``mu`` per replica (requests/s), in steady state
within the interval. Pure functions on numpy arrays; services are processed in chunks by
``summarise_services`` so no full services x intervals matrix is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincc, gammaln, xlogy

# Columns of a chunk handled at once inside ``summarise_services`` (bounds temporaries).
_COLUMNS = 8192


def erlang_c(c: np.ndarray | int, a: np.ndarray | float) -> np.ndarray:
    """Erlang C: probability an arrival waits in M/M/c with offered load ``a = lam / mu``.

    ``C(c, a) = X / (Q + X)`` with ``Q = P(Poisson(a) <= c - 1) = gammaincc(c, a)`` (the
    regularised upper incomplete gamma) and ``X = P(Poisson(a) = c) * c / (c - a)``, the pmf
    taken in log space (``c log a - a - log c!``): the textbook ratio of sums divided through
    by ``e^a``, so no factorial overflows (stable for ``c`` in the thousands, ``a`` near ``c``).
    1.0 where ``c == 0`` or ``a >= c`` (unstable), 0.0 where ``a == 0`` and ``c >= 1``.
    Broadcasts ``c`` (integers >= 0) against ``a`` (>= 0).
    """
    c, a = np.broadcast_arrays(np.asarray(c), np.asarray(a, dtype=float))
    if np.any(c < 0) or np.any(a < 0):
        raise ValueError("erlang_c needs c >= 0 and a >= 0")
    c = c.astype(float)
    out = np.ones(c.shape)
    live = (c >= 1) & (a < c) & (a > 0)
    out[(c >= 1) & (a == 0)] = 0.0
    out[live] = _erlang_c(c[live], a[live])
    return out


def _erlang_c(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``erlang_c`` for float arrays with ``0 < a < c`` everywhere (no checks)."""
    x = np.exp(xlogy(c, a) - a - gammaln(c + 1.0)) * c / (c - a)
    return x / (gammaincc(c, a) + x)


def mean_wait(c: np.ndarray | int, lam: np.ndarray | float, mu: np.ndarray | float) -> np.ndarray:
    """Mean queueing delay of M/M/c: ``E[W] = C(c, lam/mu) / (c mu - lam)``; inf when unstable
    (``c == 0`` or ``lam >= c mu``)."""
    c, lam, mu = np.broadcast_arrays(np.asarray(c), np.asarray(lam, dtype=float), np.asarray(mu, dtype=float))
    out = np.full(c.shape, np.inf)
    live = (c > 0) & (lam < c * mu)
    cl, ll, ml = c[live], lam[live], mu[live]
    out[live] = erlang_c(cl, ll / ml) / (cl * ml - ll)
    return out


def _tail(x: np.ndarray, c: np.ndarray, lam: np.ndarray, mu: np.ndarray, wait: np.ndarray) -> np.ndarray:
    """``P(T > x)`` of ``response_within`` for stable elements, given ``wait = erlang_c``."""
    theta = c * mu - lam
    low, high = np.minimum(mu, theta), np.maximum(mu, theta)
    z = (high - low) * x
    safe = np.where(z > 1e-8, z, 1.0)
    h = np.where(z > 1e-8, -np.expm1(-safe) / safe, 1.0 - 0.5 * z)
    return (1.0 - wait) * np.exp(-mu * x) + wait * np.exp(-low * x) * (1.0 + low * x * h)


def response_within(
    x: float | np.ndarray, c: np.ndarray | int, lam: np.ndarray | float, mu: np.ndarray | float
) -> np.ndarray:
    """P(T <= x) for the FCFS response time ``T = W + S`` of M/M/c.

    ``S ~ Exp(mu)``; ``W = 0`` with probability ``1 - C`` (``C = erlang_c(c, lam/mu)``), else
    ``Exp(theta)``, ``theta = c mu - lam``. So
    ``P(T > x) = (1 - C) e^{-mu x} + C P(S + E > x)`` with
    ``P(S + E > x) = (theta e^{-mu x} - mu e^{-theta x}) / (theta - mu)`` (``(1 + mu x) e^{-mu x}``
    when ``theta == mu``). Symmetric in (mu, theta), it is evaluated as
    ``e^{-m x} (1 + m x h((M - m) x))`` with ``m = min``, ``M = max`` and
    ``h(z) = (1 - e^{-z}) / z`` (``h(0) = 1``, via ``expm1``): no cancellation near
    ``theta == mu`` and no overflow. 0 where ``c == 0`` or ``lam >= c mu``.
    """
    x, c, lam, mu = np.broadcast_arrays(
        np.asarray(x, dtype=float), np.asarray(c), np.asarray(lam, dtype=float), np.asarray(mu, dtype=float)
    )
    if np.any(x < 0) or np.any(mu <= 0) or np.any(lam < 0):
        raise ValueError("response_within needs x >= 0, mu > 0 and lam >= 0")
    out = np.zeros(x.shape)
    live = (c > 0) & (lam < c * mu)
    xl, cl, ll, ml = x[live], c[live], lam[live], mu[live]
    out[live] = 1.0 - _tail(xl, cl, ll, ml, erlang_c(cl, ll / ml))
    return out


def ready_replicas(
    service: np.ndarray, ready: np.ndarray, end: np.ndarray, n_services: int, dt: float, n_intervals: int
) -> np.ndarray:
    """Replicas of each service ready for the whole of each interval, an int (S, T) matrix.

    A run segment (``service``, ``ready`` = its start plus the cold-start delay, ``end``)
    counts in interval ``k`` iff ``ready <= k dt`` and ``end >= (k + 1) dt``, i.e. for
    ``k0 <= k < k1`` with ``k0`` the least ``k`` with ``k dt >= ready`` and ``k1`` the greatest
    ``m`` with ``m dt <= end`` (both clipped to ``[0, T]``; ``ceil``/``floor`` of the ratio,
    then corrected by one so the comparisons hold exactly for the float products ``k * dt``).
    A segment with ``k0 >= k1`` (e.g. never ready, ``ready >= end``) or a nan time counts nowhere.
    ``+1`` at ``k0``, ``-1`` at ``k1`` on a difference array (``np.add.at``), then ``cumsum``.
    """
    service = np.asarray(service, dtype=np.int64)
    ready = np.asarray(ready, dtype=float)
    end = np.asarray(end, dtype=float)
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    if service.size and (service.min() < 0 or service.max() >= n_services):
        raise ValueError("service index out of range")
    first = np.ceil(ready / dt)
    first -= (first - 1) * dt >= ready
    first += first * dt < ready
    stop = np.floor(end / dt)
    stop -= stop * dt > end
    stop += (stop + 1) * dt <= end
    first, stop = np.clip(first, 0, n_intervals), np.clip(stop, 0, n_intervals)
    keep = first < stop  # False for nan times too
    rows, first, stop = service[keep], first[keep].astype(np.int64), stop[keep].astype(np.int64)
    diff = np.zeros((n_services, n_intervals + 1), dtype=np.int64)
    np.add.at(diff, (rows, first), 1)
    np.add.at(diff, (rows, stop), -1)
    return np.cumsum(diff[:, :n_intervals], axis=1)


def _column(value: np.ndarray | float, rows: int) -> np.ndarray:
    """A per-service (S,) array as an (S, 1) column; scalars and matrices unchanged."""
    value = np.asarray(value, dtype=float)
    return value[:, None] if value.ndim == 1 and value.size == rows else value


def slo_by_interval(
    rate: np.ndarray, ready: np.ndarray, mu: np.ndarray | float, dt: float, slo_latency: np.ndarray | float
) -> dict[str, np.ndarray]:
    """Requests, SLO-attaining and unserved requests per service and interval ((S, T) each).

    ``requests = rate * dt``. Stable intervals (``ready > 0`` and ``rate < ready * mu``):
    ``attained = requests * P(T <= slo_latency)`` (``response_within``), ``unserved = 0``,
    ``latency_mean = 1/mu + mean_wait``. Otherwise (overload, or no replica ready):
    ``unserved = max(rate - ready * mu, 0) * dt`` (all of it when ``ready == 0``),
    ``attained = 0`` (the part served queues without bound and misses the SLO),
    ``latency_mean = nan``. ``overloaded`` (bool) marks the unstable intervals with demand.
    ``mu`` and ``slo_latency`` are scalars or per service ((S,)).
    """
    rate = np.asarray(rate, dtype=float)
    ready = np.asarray(ready)
    if np.any(np.asarray(mu) <= 0) or np.any(np.asarray(slo_latency) < 0):
        raise ValueError("slo_by_interval needs mu > 0 and slo_latency >= 0")
    rows = rate.shape[0]
    mu_b, slo_b = (np.broadcast_to(_column(v, rows), rate.shape) for v in (mu, slo_latency))
    requests = rate * dt
    capacity = ready * mu_b
    stable = (ready > 0) & (rate < capacity)
    attained = np.zeros(rate.shape)
    latency = np.full(rate.shape, np.nan)
    c, lam, m = ready[stable].astype(float), rate[stable], mu_b[stable]
    wait = np.zeros(c.shape)  # Erlang C, 0 without arrivals
    busy = lam > 0
    wait[busy] = _erlang_c(c[busy], lam[busy] / m[busy])
    attained[stable] = requests[stable] * (1.0 - _tail(slo_b[stable], c, lam, m, wait))
    latency[stable] = 1.0 / m + wait / (c * m - lam)
    unserved = np.where(stable, 0.0, np.maximum(rate - capacity, 0.0) * dt)
    return {
        "requests": requests,
        "attained": attained,
        "unserved": unserved,
        "latency_mean": latency,
        "overloaded": ~stable & (rate > 0),
    }


@dataclass(frozen=True)
class ServiceSummary:
    """Totals per service ((S,) arrays) and per interval over all services ((T,) arrays)."""

    requests: np.ndarray
    attained: np.ndarray
    unserved: np.ndarray
    replica_seconds_ready: np.ndarray
    intervals_overloaded: np.ndarray
    interval_requests: np.ndarray
    interval_attained: np.ndarray
    interval_unserved: np.ndarray
    interval_ready: np.ndarray

    @property
    def attainment(self) -> np.ndarray:
        """Per service ``attained / requests`` (nan without requests)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.requests > 0, self.attained / self.requests, np.nan)


def summarise_services(
    rate_chunk: Callable[[int, int], np.ndarray],
    service: np.ndarray,
    ready: np.ndarray,
    end: np.ndarray,
    mu: np.ndarray,
    dt: float,
    n_intervals: int,
    slo_latency: np.ndarray | float,
    chunk: int = 32,
) -> ServiceSummary:
    """Run ``ready_replicas`` and ``slo_by_interval`` over services in chunks and total them.

    ``S = len(mu)``; ``rate_chunk(lo, hi)`` returns the (hi - lo, T) demand rates of services
    ``lo .. hi-1``; ``service, ready, end`` are all run segments (see ``ready_replicas``).
    Per service: sums over intervals of requests, attained, unserved,
    ``replica_seconds_ready = sum_k ready[s, k] * dt`` and the count of overloaded intervals.
    Per interval: sums over services of requests, attained, unserved and ready replicas.
    Per-service totals do not depend on ``chunk``; per-interval float totals only up to
    rounding. Peak memory is about two (chunk, T) matrices plus some twenty (chunk, min(T, 8192))
    temporaries: with 32 services a chunk, 18 MB on a week of the Munich scenario (256: 64 MB,
    and no faster).
    """
    mu = np.asarray(mu, dtype=float).ravel()
    n_services = mu.size
    slo = np.broadcast_to(np.asarray(slo_latency, dtype=float), (n_services,))
    service = np.asarray(service, dtype=np.int64)
    order = np.argsort(service, kind="stable")
    service, ready, end = service[order], np.asarray(ready, float)[order], np.asarray(end, float)[order]
    per = {name: np.zeros(n_services) for name in ("requests", "attained", "unserved", "ready")}
    overloaded = np.zeros(n_services, dtype=np.int64)
    series = {name: np.zeros(n_intervals) for name in ("requests", "attained", "unserved")}
    series_ready = np.zeros(n_intervals, dtype=np.int64)
    for lo in range(0, n_services, max(1, chunk)):
        hi = min(lo + max(1, chunk), n_services)
        rate = np.asarray(rate_chunk(lo, hi), dtype=float)
        if rate.shape != (hi - lo, n_intervals):
            raise ValueError(f"rate_chunk({lo}, {hi}) gave shape {rate.shape}, want {(hi - lo, n_intervals)}")
        a, b = np.searchsorted(service, [lo, hi])
        count = ready_replicas(service[a:b] - lo, ready[a:b], end[a:b], hi - lo, dt, n_intervals)
        per["ready"][lo:hi] = count.sum(axis=1) * dt
        series_ready += count.sum(axis=0)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in (*series, "overloaded")}
        for k in range(0, n_intervals, _COLUMNS):
            cols = slice(k, k + _COLUMNS)
            out = slo_by_interval(rate[:, cols], count[:, cols], mu[lo:hi], dt, slo[lo:hi])
            for name in parts:
                parts[name].append(out[name].sum(axis=1))
                if name in series:
                    series[name][cols] += out[name].sum(axis=0)
        for name in series:
            per[name][lo:hi] = np.sum(parts[name], axis=0) if parts[name] else 0.0
        overloaded[lo:hi] = np.sum(parts["overloaded"], axis=0) if parts["overloaded"] else 0
    return ServiceSummary(
        requests=per["requests"],
        attained=per["attained"],
        unserved=per["unserved"],
        replica_seconds_ready=per["ready"],
        intervals_overloaded=overloaded,
        interval_requests=series["requests"],
        interval_attained=series["attained"],
        interval_unserved=series["unserved"],
        interval_ready=series_ready,
    )
