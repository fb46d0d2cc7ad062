"""``dynamic``: prices that follow the cluster's utilisation or queue, interval by interval."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

from sim.policies import PRICINGS
from sim.policies.pricing.base import Pricing
from sim.scenario.market import OTHER_PRICE
from sim.units import parse_duration
from sim.workload.calendar import Calendar

SIGNALS = ("utilisation", "queue")


def _number(value: object, what: str, low: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'{what}' must be a finite number (got {value!r})")
    if value < low:
        raise ValueError(f"'{what}' must be a number >= {low:g} (got {value!r})")
    return float(value)


@PRICINGS.register("dynamic")
class Dynamic(Pricing):
    """Prices follow the cluster's state each interval: list price x tier factor x a bounded factor.

    Algorithm: the engine calls ``observe`` at t = 0, interval, 2 interval, ... with each GPU
    type's utilisation (busy GPUs / capacity) and queued GPUs per GPU of capacity. Per type,
    ``signal`` picks one of them and ``factor = clip(1 + sensitivity * (signal - target),
    min_factor, max_factor)`` holds from the observation until the next one; before the
    first observation, and for a type never observed, the factor is 1; a type missing
    from an observation keeps its previous factor. ``rate = prices[type] * (1 -
    discounts[tier]) * factor``. Every observation is kept, so segments billed after the
    run pay the factors in effect while they ran. Ties: a second observation at the same
    instant replaces the first; an observation instant belongs to the interval it starts.
    Complexity: O(types) per observation, O(log n) per rate (bisection over n observations).
    """

    def __init__(
        self,
        *,
        prices: Mapping[str, float] | None = None,
        discounts: Mapping[str, float] | None = None,
        other_price: float = OTHER_PRICE,
        signal: str = "utilisation",
        interval: float | str = 3600.0,
        target: float = 0.8,
        sensitivity: float = 1.0,
        min_factor: float = 0.5,
        max_factor: float = 2.0,
    ) -> None:
        super().__init__(prices=prices, discounts=discounts, other_price=other_price)
        if signal not in SIGNALS:
            raise ValueError(f"'signal' must be one of {', '.join(SIGNALS)} (got {signal!r})")
        self.signal = signal
        # At least a second, as metrics.sample_interval: each interval is an engine event.
        rule = f"'interval' must be seconds >= 1 or a duration like '15m', '1h' (got {interval!r})"
        try:
            seconds = parse_duration(interval)
        except ValueError:
            raise ValueError(rule) from None
        if not seconds >= 1:
            raise ValueError(rule)
        self.interval = seconds
        self.target = _number(target, "target", 0.0)
        if signal == "utilisation" and self.target > 1:
            rule = "must be a busy share in [0, 1] with signal utilisation"
            raise ValueError(f"'target' {rule} (got {target!r})")
        self.sensitivity = _number(sensitivity, "sensitivity", 0.0)
        self.min_factor = _number(min_factor, "min_factor", 0.0)
        self.max_factor = _number(max_factor, "max_factor", 0.0)
        if self.min_factor > self.max_factor:
            raise ValueError(f"'min_factor' must be <= 'max_factor' (got {min_factor!r} > {max_factor!r})")
        self._times: list[float] = []
        self._factors: dict[str, list[float]] = {}  # per type, one factor per observation

    def bind(self, calendar: Calendar, gpu_types: Sequence[str]) -> None:
        self._times = []
        self._factors = {gpu_type: [] for gpu_type in gpu_types}

    def factor(self, signal: float) -> float:
        """The price factor a signal value sets: ``clip(1 + sensitivity * (signal - target))``."""
        raw = 1.0 + self.sensitivity * (signal - self.target)
        return min(max(raw, self.min_factor), self.max_factor)

    def observe(self, t: float, utilisation: Mapping[str, float], queued: Mapping[str, float]) -> None:
        signals = utilisation if self.signal == "utilisation" else queued
        if self._times and t < self._times[-1]:
            raise ValueError(f"observations must come in time order ({t} after {self._times[-1]})")
        if self._times and t == self._times[-1]:
            # The state at one instant is observed once; a repeat replaces it.
            self._times.pop()
            for factors in self._factors.values():
                factors.pop()
        count = len(self._times)
        for gpu_type in signals:
            # A type first seen now paid factor 1 at the earlier observations.
            self._factors.setdefault(gpu_type, [1.0] * count)
        for gpu_type, factors in self._factors.items():
            value = signals.get(gpu_type)
            if value is not None:
                factors.append(self.factor(float(value)))
            else:
                factors.append(factors[-1] if factors else 1.0)
        self._times.append(float(t))

    def current_factor(self, gpu_type: str, t: float) -> float:
        """The factor in effect for ``gpu_type`` at instant ``t`` (1 before any observation)."""
        index = bisect.bisect_right(self._times, t) - 1
        factors = self._factors.get(gpu_type)
        if index < 0 or factors is None:
            return 1.0
        return factors[index]

    def rate(self, gpu_type: str, tier: str, t: float) -> float:
        return self.list_price(gpu_type) * self.tier_factor(tier) * self.current_factor(gpu_type, t)

    def next_change(self, t: float) -> float:
        interval = self.interval
        following = (math.floor(t / interval) + 1) * interval
        if following <= t:  # t / interval rounded down across a multiple
            following += interval
        # An observation off the interval grid still starts a new price.
        index = bisect.bisect_right(self._times, t)
        if index < len(self._times):
            following = min(following, self._times[index])
        return following

    def factor_history(self) -> tuple[list[float], dict[str, list[float]]]:
        """Observation times and, per GPU type, the factor set at each (copies)."""
        return list(self._times), {gpu_type: list(f) for gpu_type, f in self._factors.items()}
