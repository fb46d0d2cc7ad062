"""``time_of_day``: a peak and an off-peak price by local wall-clock time (DST-correct)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

import numpy as np

from sim.policies import PRICINGS
from sim.policies.pricing.base import Pricing
from sim.scenario.market import OTHER_PRICE
from sim.workload.calendar import HOURS_PER_WEEK, Calendar

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Local hours start on a UTC quarter hour in every zone a Calendar accepts (it refuses the
# others), so sampling each quarter hour's start sees every change of the peak state.
_QUARTER = 900
_WEEK = 7 * 86400
_CHUNK = 4 * _WEEK  # how far ahead each extension of the change list reaches


def _factor(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"'{what}' must be a number >= 0 (got {value!r})")
    return float(value)


def _hours(value: object) -> tuple[int, int]:
    rule = (
        "'peak_hours' must be [start, end], local hours with 0 <= start <= 23, 1 <= end <= 24, start != end"
    )
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{rule} (got {value!r})")
    start, end = value
    whole = all(isinstance(h, int) and not isinstance(h, bool) for h in (start, end))
    if not (whole and 0 <= start <= 23 and 1 <= end <= 24 and start != end):
        raise ValueError(f"{rule} (got {list(value)!r})")
    return start, end


def _days(value: object) -> frozenset[int]:
    rule = f"'peak_days' must be a list of days ({', '.join(DAYS)})"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{rule} (got {value!r})")
    days = set()
    for day in value:
        if not isinstance(day, str) or day.lower() not in DAYS:
            raise ValueError(f"{rule} (got {day!r})")
        days.add(DAYS.index(day.lower()))
    return frozenset(days)


@PRICINGS.register("time_of_day")
class TimeOfDay(Pricing):
    """Peak and off-peak prices by local time: list price x tier factor x peak or off-peak factor.

    Algorithm: an hour of the week is peak when its local weekday is in ``peak_days`` and its
    local hour ``h`` satisfies ``start <= h < end`` for ``peak_hours = [start, end]`` (with
    ``start > end`` the peak wraps past midnight: ``h >= start or h < end``, each hour judged
    by its own weekday). ``rate = prices[type] * (1 - discounts[tier]) * (peak_factor or
    off_peak_factor)``. Local time follows the scenario's calendar, so in the spring-forward
    week one local hour is skipped and in the autumn week one lasts two real hours.
    The instants the peak state flips are listed once (from the local hour at the start of
    every UTC quarter hour, four weeks at a time, extended on demand); ``rate`` and
    ``next_change`` are a bisection into that list. Ties: a change instant belongs to the
    period it starts. Complexity: O(log n) per rate and per change, n = changes listed.
    """

    def __init__(
        self,
        *,
        prices: Mapping[str, float] | None = None,
        discounts: Mapping[str, float] | None = None,
        other_price: float = OTHER_PRICE,
        peak_factor: float = 1.25,
        off_peak_factor: float = 0.75,
        peak_hours: Sequence[int] = (8, 20),
        peak_days: Sequence[str] = ("mon", "tue", "wed", "thu", "fri"),
    ) -> None:
        super().__init__(prices=prices, discounts=discounts, other_price=other_price)
        self.peak_factor = _factor(peak_factor, "peak_factor")
        self.off_peak_factor = _factor(off_peak_factor, "off_peak_factor")
        self.peak_hours = _hours(peak_hours)
        days = _days(peak_days)
        start, end = self.peak_hours
        hours = set(range(start, end)) if start < end else set(range(start, 24)) | set(range(end))
        self._peak_of_hour = np.array(
            [how // 24 in days and how % 24 in hours for how in range(HOURS_PER_WEEK)], dtype=bool
        )
        # All peak or all off-peak: the price never changes.
        self._constant = bool(self._peak_of_hour.all() or not self._peak_of_hour.any())
        self._calendar: Calendar | None = None
        self._changes: list[float] = []  # instants the peak state flips, ascending
        self._covered = 0.0  # changes are listed for [0, _covered)
        self._peak_at_zero = False

    def bind(self, calendar: Calendar, gpu_types: Sequence[str]) -> None:
        self._calendar = calendar
        self._changes = []
        self._covered = 0.0
        self._peak_at_zero = bool(self._peak_of_hour[calendar.hour_of_week(np.zeros(1))[0]])

    def is_peak(self, t: float) -> bool:
        """True if instant ``t`` (seconds since the start) falls in a peak hour."""
        self._cover(t)
        flips = bisect.bisect_right(self._changes, t)
        return self._peak_at_zero != (flips % 2 == 1)

    def rate(self, gpu_type: str, tier: str, t: float) -> float:
        factor = self.peak_factor if self.is_peak(t) else self.off_peak_factor
        return self.list_price(gpu_type) * self.tier_factor(tier) * factor

    def next_change(self, t: float) -> float:
        if self._constant:
            return math.inf
        # The state flips at least twice a week, so a week and a day always holds the next flip.
        self._cover(max(t, 0.0) + _WEEK + 86400)
        return self._changes[bisect.bisect_right(self._changes, t)]

    def _cover(self, t: float) -> None:
        """List the changes up to at least ``t``."""
        calendar = self._calendar
        if calendar is None:
            raise RuntimeError("time_of_day pricing used before bind(calendar, gpu_types)")
        while self._covered < t:
            low, high = self._covered, self._covered + _CHUNK
            # Quarter-hour starts in (low, high], on the UTC grid.
            first = math.floor((calendar.epoch + low) / _QUARTER) + 1
            last = math.floor((calendar.epoch + high) / _QUARTER)
            starts = np.arange(first, last + 1, dtype=float) * _QUARTER - calendar.epoch
            peak = self._peak_of_hour[calendar.hour_of_week(np.concatenate([[low], starts]))]
            flips = np.flatnonzero(peak[1:] != peak[:-1])
            self._changes.extend(float(s) for s in starts[flips])
            self._covered = float(starts[-1])
