"""Demand side of the inference-service model: request rates and the replicas they ask for.

Pure numerical functions on numpy arrays (services x intervals matrices, interval ``k`` is
``[k * dt, (k + 1) * dt)``); nothing here knows the scenario schema or the engine.

* ``ar1_lognormal``: mean-1 multiplicative burst noise (stationary AR(1) in log space).
* ``demand_rates``: rate = base x level x noise, requests per second.
* ``desired_replicas``: an HPA-like autoscaler (ceil of load over target, clamp, scale-down
  stabilisation window).
* ``replica_lifetimes``: desired replica counts -> one (service, slot, first, end) row per
  replica, last-in-first-out.
* ``calibrate``: burst statistics of a request-count series (to set ``NOISE``).
"""

from __future__ import annotations

import math

import numpy as np

# (log_sigma, phi) of the noise, measured with ``calibrate`` on the Azure LLM inference traces
# (AzurePublicDataset) AzureLLMInferenceTrace_code.csv ("coding") and AzureLLMInferenceTrace_conv.csv
# ("chat"), one hour each, at 300 s bins with the final partial bin dropped (11 bins: rough).
# Measured: coding (0.98, 0.29), chat (0.18, 0.74). Coding's 0.98 rests on one near-empty bin
# (32 requests; 0.33 without it), so its default sigma is 0.5, between the two readings.
MEASURED_NOISE: dict[str, tuple[float, float]] = {"coding": (0.98, 0.29), "chat": (0.18, 0.74)}
NOISE: dict[str, tuple[float, float]] = {"coding": (0.5, 0.29), "chat": (0.18, 0.74)}

# Elements of a services x intervals temporary allowed at once in ``replica_lifetimes``.
_BLOCK_ELEMENTS = 1 << 22


def ar1_lognormal(rng: np.random.Generator, n: int, sigma: float, phi: float) -> np.ndarray:
    """Mean-1 lognormal burst noise of length ``n`` with AR(1) log-correlation ``phi``.

    ``y_0 = sigma e_0``, ``y_k = phi y_{k-1} + sqrt(1 - phi^2) sigma e_k`` with ``e ~ N(0, 1)``
    i.i.d., so ``y`` is stationary with ``Var y_k = sigma^2`` and ``corr(y_k, y_{k+1}) = phi``;
    returns ``x = exp(y - sigma^2 / 2)`` so ``E[x] = 1``. The recursion runs as a linear
    filter (``scipy.signal.lfilter``). Always draws ``n`` normals, so the stream consumed does
    not depend on ``sigma`` (``sigma = 0`` gives exact ones).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if not 0 <= phi < 1:
        raise ValueError(f"phi must be in [0, 1), got {phi}")
    e = rng.standard_normal(n)
    u = math.sqrt(1.0 - phi * phi) * sigma * e
    if n:
        u[0] = sigma * e[0]
    from scipy.signal import lfilter  # here: scipy.signal is slow and big to import

    y = lfilter([1.0], [1.0, -phi], u) if phi > 0 else u
    return np.exp(y - 0.5 * sigma * sigma)


def demand_rates(base: np.ndarray, level: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Request rate in requests per second: ``rate[s, k] = base[s] * level[s, k] * noise[s, k]``.

    ``base`` (S,) is each service's mean rate (requests/s); ``level`` (S, T) the dimensionless
    deterministic profile (diurnal, growth) and ``noise`` (S, T) the mean-1 bursts (both
    broadcast). Returns a float (S, T) matrix.
    """
    base = np.asarray(base, dtype=float)
    return base.reshape(base.shape + (1,) * (np.ndim(level) - base.ndim)) * level * noise


def desired_replicas(
    observed: np.ndarray,
    capacity: float | np.ndarray,
    target: float,
    min_replicas: int,
    max_replicas: int,
    window: int,
) -> np.ndarray:
    """Replicas the autoscaler asks for in each interval, an int (S, T) matrix.

    ``observed[s, k]`` is the request rate (requests/s) the autoscaler sees at the start of
    interval ``k``; ``capacity`` (scalar or (S,)) what one replica serves (requests/s) and
    ``target`` the utilisation aimed at. Recommendation
    ``raw = clip(ceil(observed / (target * capacity) - 1e-9), min_replicas, max_replicas)``
    (the ``1e-9`` keeps an exact multiple from rounding up). Scale-down stabilisation as in the
    Kubernetes HPA: ``desired_k = max(raw_{k-window+1}, ..., raw_k)`` (the window truncated
    at ``k = 0``), so a rise acts at once and a fall only once the higher recommendations
    have left the ``window`` intervals (``window = 1``: no stabilisation). Computed with a
    trailing running maximum (``scipy.ndimage.maximum_filter1d``), exact.
    """
    observed = np.asarray(observed, dtype=float)
    if observed.ndim != 2:
        raise ValueError(f"observed must be (services, intervals), got shape {observed.shape}")
    capacity = np.asarray(capacity, dtype=float)
    if np.any(capacity <= 0) or not target > 0:
        raise ValueError("capacity and target must be > 0")
    if not 0 <= min_replicas <= max_replicas:
        raise ValueError(f"need 0 <= min_replicas <= max_replicas, got {min_replicas}, {max_replicas}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if capacity.ndim == 1:
        capacity = capacity[:, None]
    raw = np.ceil(observed / (target * capacity) - 1e-9)
    raw = np.clip(raw, min_replicas, max_replicas).astype(np.int64)
    if window == 1 or raw.shape[1] == 0:
        return raw
    # origin (window - 1) // 2 shifts the filter so its footprint is [k - window + 1, k];
    # mode "nearest" pads the left edge with raw[:, 0], which leaves a maximum unchanged.
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(raw, size=window, axis=1, mode="nearest", origin=(window - 1) // 2)


def replica_lifetimes(desired: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replicas implied by a desired-count matrix: ``(service, slot, first_interval, end_interval)``.

    Slot ``j`` (1-based) of service ``s`` is alive over every maximal run of consecutive
    intervals with ``desired[s, k] >= j``; one row per such run, ``end_interval`` exclusive
    (``T`` if alive at the end). So scaling is last-in-first-out: on a fall the highest slots
    end. Algorithm: with ``d_{-1} = d_T = 0``, each step ``d_{k-1} -> d_k`` starts slots
    ``d_{k-1}+1 .. d_k`` at ``k`` (rise) or ends slots ``d_k+1 .. d_{k-1}`` at ``k`` (fall);
    per (service, slot) starts and ends alternate, so sorting both by (service, slot, k)
    pairs them. Rows are ordered by ``(first_interval, service, slot)``: the order in which
    the replicas, as jobs submitted at ``first_interval * dt``, should be submitted.
    """
    d = np.asarray(desired)
    if d.ndim != 2:
        raise ValueError(f"desired must be (services, intervals), got shape {d.shape}")
    if d.size and d.min() < 0:
        raise ValueError("desired must be >= 0")
    n_services, n_intervals = d.shape
    width = int(d.max()) + 1 if d.size else 1
    rows = max(1, _BLOCK_ELEMENTS // (n_intervals + 1))
    parts: list[tuple[np.ndarray, ...]] = []
    for lo in range(0, n_services, rows):
        block = d[lo : lo + rows].astype(np.int64)
        zero = np.zeros((block.shape[0], 1), dtype=np.int64)
        before = np.concatenate([zero, block], axis=1)  # d_{k-1}, k = 0..T
        after = np.concatenate([block, zero], axis=1)  # d_k
        s, k = np.nonzero(before != after)  # steps in (service, k) order
        a, b = before[s, k], after[s, k]
        rise, fall = a < b, a > b
        s0, j0, k0 = _expand(s[rise], k[rise], a[rise], b[rise])
        s1, j1, k1 = _expand(s[fall], k[fall], b[fall], a[fall])
        # A stable sort on (service, slot) keeps k ascending: starts and ends then pair up.
        i0 = np.argsort(s0 * width + j0, kind="stable")
        i1 = np.argsort(s1 * width + j1, kind="stable")
        parts.append((s0[i0] + lo, j0[i0], k0[i0], k1[i1]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    service, slot, first, end = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort((first * n_services + service) * width + slot)
    return service[order], slot[order], first[order], end[order]


def _expand(
    s: np.ndarray, k: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row (s, slot, k) per slot ``low+1 .. high`` of each step, in (s, k, slot) order."""
    count = high - low
    which = np.repeat(np.arange(count.size), count)
    offset = np.arange(which.size) - np.repeat(np.cumsum(count) - count, count)
    return s[which].astype(np.int64), low[which] + 1 + offset, k[which].astype(np.int64)


def calibrate(requests: np.ndarray, bin_seconds: float) -> dict[str, float]:
    """Burst statistics of a series of request counts per bin of ``bin_seconds`` (complete bins).

    ``mean_rate = mean(n) / bin_seconds`` (requests/s); ``cv = std(n) / mean(n)``;
    with ``y = log(max(n, 1))``: ``log_sigma = std(y)`` and ``phi`` the lag-1 autocorrelation,
    the Pearson correlation of the pairs ``(y_k, y_{k+1})`` (0 when either side is constant);
    ``peak_to_trough = P95(n) / max(P5(n), 1)`` (linear-interpolated percentiles). Standard
    deviations are population (ddof 0). ``log_sigma`` and ``phi`` feed ``ar1_lognormal``
    (which needs ``0 <= phi < 1``: clip a negative estimate).
    """
    n = np.asarray(requests, dtype=float)
    if n.ndim != 1 or n.size < 2:
        raise ValueError("requests must be a 1-D series of at least 2 bins")
    if not bin_seconds > 0:
        raise ValueError(f"bin_seconds must be > 0, got {bin_seconds}")
    mean = float(n.mean())
    y = np.log(np.maximum(n, 1.0))
    head, tail = y[:-1] - y[:-1].mean(), y[1:] - y[1:].mean()
    ss = float(np.sqrt((head @ head) * (tail @ tail)))
    return {
        "mean_rate": mean / bin_seconds,
        "cv": float(n.std()) / mean if mean > 0 else math.nan,
        "log_sigma": float(y.std()),
        "phi": float(head @ tail) / ss if ss > 0 else 0.0,
        "peak_to_trough": float(np.percentile(n, 95)) / max(float(np.percentile(n, 5)), 1.0),
    }
