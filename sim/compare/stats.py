"""Confidence intervals over replications, and paired differences between variants.

With replications x_1..x_R of a metric (independent seeds), the 95% t-interval of the mean
is ``mean +- t_{0.975, R-1} * s / sqrt(R)`` (s the sample standard deviation). Variants of
one replication share its workload (common random numbers), so a variant is compared
with the baseline through the per-replication differences d_r = x_r - b_r, whose t-interval
is usually much narrower than the two intervals apart. A variant against itself gives
d_r = 0 exactly, hence the interval [0, 0].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    """Mean of the finite values, the half-width of its t-interval, and how many there were."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def t_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The t-interval of the mean of the finite ``values`` (NaN ones are left out).

    No value: mean and half-width NaN. One value: half-width NaN (no spread to estimate).
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return Interval(math.nan, math.nan, 0)
    mean = math.fsum(finite) / n
    if n == 1:
        return Interval(mean, math.nan, 1)
    variance = math.fsum((v - mean) ** 2 for v in finite) / (n - 1)
    quantile = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return Interval(mean, quantile * math.sqrt(variance / n), n)


def paired_difference(values: Sequence[float], baseline: Sequence[float], level: float = LEVEL) -> Interval:
    """The t-interval of the mean of ``values[r] - baseline[r]`` over replications where both are finite."""
    if len(values) != len(baseline):
        raise ValueError(f"paired samples must have the same length (got {len(values)} and {len(baseline)})")
    return t_interval([v - b for v, b in zip(values, baseline, strict=True)], level)
