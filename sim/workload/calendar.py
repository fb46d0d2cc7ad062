"""Arrival rates that vary with the local hour of the week, and arrivals drawn from them.

Periods (local wall-clock time, Monday = day 0): on Monday-Friday 00-06 and 22-24 are
``night``, 06-08 and 18-22 ``shoulder``, 08-18 ``business``; on Saturday and Sunday 00-06
and 22-24 are ``night``, 06-22 ``weekend``. ``Levels`` gives each period a relative level;
``week_profile`` turns it into 168 hourly multipliers whose mean is 1, so a stream keeps
its configured mean rate and only its shape over the week changes.

Arrivals are a non-homogeneous Poisson process drawn by thinning (Lewis-Shedler): draw a
homogeneous process at the peak rate, keep each candidate with probability rate(t) / peak.
It is exact for a piecewise-constant rate, fully vectorised, and needs no inverse of the
integrated rate.

Simulation time is float seconds since the start instant. Local hours follow the zone's
daylight-saving rules: ``Calendar`` tabulates the local hour of week once per UTC cell
(an hour when every offset is whole hours, as in Europe/Berlin; a quarter hour otherwise,
e.g. Asia/Kolkata) and lookups are one array index. In the spring-forward week a local
hour is skipped; in the autumn week one local hour lasts two real hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

HOURS_PER_WEEK = 168
_HOUR = 3600
_QUARTER = 900
_PERIODS = ("business", "shoulder", "night", "weekend")


@dataclass(frozen=True, slots=True)
class Levels:
    """Relative rate level of each period (each >= 0, not all 0)."""

    business: float
    shoulder: float
    night: float
    weekend: float

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in _PERIODS]
        if not all(math.isfinite(v) and v >= 0 for v in values) or max(values) == 0:
            raise ValueError(f"levels must be finite, >= 0 and not all 0, got {self}")


PRESETS: dict[str, Levels] = {
    "flat": Levels(business=1.0, shoulder=1.0, night=1.0, weekend=1.0),
    # Normalised (weekly level sum 174 over 168 h): business 336/174 ~ 1.93x the weekly
    # mean, shoulder ~0.97x, nights and weekends 84/174 ~ 0.48x.
    "office": Levels(business=2.0, shoulder=1.0, night=0.5, weekend=0.5),
    # Interactive sessions: only in weekday office hours.
    "workday": Levels(business=1.0, shoulder=0.0, night=0.0, weekend=0.0),
    # Coding assistants: peak / trough 10x.
    "coding": Levels(business=10.0, shoulder=4.0, night=1.0, weekend=2.0),
    # Chat: peak / trough 2x.
    "chat": Levels(business=2.0, shoulder=1.6, night=1.0, weekend=1.4),
}


def _period_of_hour() -> np.ndarray:
    """Index into ``_PERIODS`` of each hour of the week."""
    weekday = [2] * 6 + [1] * 2 + [0] * 10 + [1] * 4 + [2] * 2
    weekend = [2] * 6 + [3] * 16 + [2] * 2
    return np.array(weekday * 5 + weekend * 2, dtype=np.int64)


_PERIOD_OF_HOUR = _period_of_hour()


def week_profile(levels: Levels) -> np.ndarray:
    """Rate multiplier per hour of week (index ``weekday * 24 + hour``), mean exactly 1."""
    values = np.array([getattr(levels, name) for name in _PERIODS], dtype=float)
    profile = values[_PERIOD_OF_HOUR]
    return profile / profile.mean()


class Calendar:
    """Maps simulation time (seconds since ``start``) to local time in ``timezone``.

    ``start`` is a naive local wall-clock time. A time in the spring-forward gap raises
    ValueError; an ambiguous time in the autumn fold takes fold=0 (the first occurrence,
    still on summer time).
    """

    def __init__(self, start: datetime, timezone: str = "Europe/Berlin") -> None:
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        if start.tzinfo is not None:
            raise ValueError(f"start must be a naive local time, got {start.isoformat()}")
        aware = start.replace(tzinfo=self._tz, fold=0)
        # A wall time in the gap does not survive the round trip through UTC.
        if datetime.fromtimestamp(aware.timestamp(), self._tz).replace(tzinfo=None) != start:
            raise ValueError(f"{start.isoformat()} does not exist in {timezone} (DST gap)")
        self.timezone = timezone
        self._epoch = aware.timestamp()
        self._set_step(_HOUR)

    @property
    def epoch(self) -> float:
        """UTC timestamp of the start instant."""
        return self._epoch

    def local(self, t: float) -> datetime:
        """Aware local datetime of simulation time ``t``."""
        return datetime.fromtimestamp(self._epoch + t, self._tz)

    def hour_of_week(self, times: np.ndarray) -> np.ndarray:
        """Local hour of week (0..167, Monday 00-01 is 0) of each time (seconds >= 0)."""
        times = np.asarray(times, dtype=float)
        if times.size == 0:
            return np.zeros(times.shape, dtype=np.int64)
        if not times.min() >= 0:  # also rejects NaN
            raise ValueError("times must be >= 0 seconds since the start")
        self._cover(float(times.max()))
        return self._table[self._cells(times)]

    def pieces(self, duration: float) -> tuple[np.ndarray, np.ndarray]:
        """Hour of week and length (seconds) of each constant-hour piece of [0, duration)."""
        if not duration > 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=float)
        self._cover(duration)
        count = math.floor((self._epoch + duration) / self._step) - self._base + 1
        # Pieces are the UTC cells, the first and last clipped to [0, duration].
        lows = (self._base + np.arange(count)) * float(self._step) - self._epoch
        lengths = np.clip(lows + self._step, 0.0, duration) - np.clip(lows, 0.0, duration)
        return self._table[:count].copy(), lengths

    def _set_step(self, step: int) -> None:
        self._step = step
        self._base = math.floor(self._epoch / step)  # UTC cell holding the start instant
        self._table = np.zeros(0, dtype=np.int64)

    def _cells(self, times: np.ndarray) -> np.ndarray:
        """Index of the UTC cell holding each time, relative to the start's cell."""
        return (np.floor((self._epoch + times) / self._step) - self._base).astype(np.int64)

    def _cover(self, t_end: float) -> None:
        """Extend the table to the cell holding ``t_end`` (doubling, so growth is cheap)."""
        needed = math.floor((self._epoch + t_end) / self._step) - self._base + 1
        have = len(self._table)
        if needed <= have:
            return
        stop = max(needed, 2 * have, HOURS_PER_WEEK)
        starts = [(self._base + k) * self._step for k in range(have, stop + 1)]
        local = [datetime.fromtimestamp(s, self._tz) for s in starts]
        if not self._aligned(local):
            if self._step == _QUARTER:
                raise ValueError(f"{self.timezone}: UTC offsets or changes not on quarter hours")
            self._set_step(_QUARTER)  # e.g. Asia/Kolkata (+05:30): local hours start at :30 UTC
            self._cover(t_end)
            return
        new = np.array([d.weekday() * 24 + d.hour for d in local[:-1]], dtype=np.int64)
        self._table = np.concatenate([self._table, new])

    def _aligned(self, local: list[datetime]) -> bool:
        """True if every cell lies within one local hour: offsets and their changes on cells."""
        offsets = [_offset(d) for d in local]
        if any(off % self._step for off in offsets):
            return False
        # Where the offset changes, it must change exactly at the cell boundary.
        for k in range(len(local) - 1):
            if offsets[k] != offsets[k + 1]:
                before = datetime.fromtimestamp(local[k + 1].timestamp() - 1, self._tz)
                if _offset(before) != offsets[k]:
                    return False
        return True


def _offset(moment: datetime) -> int:
    return int((moment.utcoffset() or timedelta(0)).total_seconds())


def rate_multiplier(profile: np.ndarray, calendar: Calendar, times: np.ndarray) -> np.ndarray:
    """Profile value at each time's local hour of week."""
    return profile[calendar.hour_of_week(times)]


def _check(mean_rate: float, profile: np.ndarray, duration: float) -> None:
    if not (math.isfinite(mean_rate) and mean_rate >= 0):
        raise ValueError(f"mean_rate must be finite and >= 0, got {mean_rate}")
    if not (math.isfinite(duration) and duration >= 0):
        raise ValueError(f"duration must be finite and >= 0, got {duration}")
    if profile.shape != (HOURS_PER_WEEK,) or not np.all(profile >= 0):
        raise ValueError("profile must be 168 values >= 0")


def thinned_arrivals(
    rng: np.random.Generator,
    mean_rate: float,
    profile: np.ndarray,
    calendar: Calendar,
    duration: float,
    start: float = 0.0,
) -> np.ndarray:
    """Sorted arrival times in [start, start + duration) at rate ``mean_rate * profile[hour]``
    per second, the hour looked up at the absolute time (so a window drawn from ``start``
    follows the calendar as if the process had run since 0).

    Always the same draws (a Poisson count, that many uniform times, that many uniform
    acceptance draws), even for a flat profile, so results never depend on a special case.
    """
    _check(mean_rate, profile, duration)
    if not (math.isfinite(start) and start >= 0):
        raise ValueError(f"start must be finite and >= 0, got {start}")
    peak = float(profile.max())
    if mean_rate == 0 or duration == 0 or peak == 0:
        return np.zeros(0, dtype=float)
    end = start + duration
    count = rng.poisson(mean_rate * peak * duration)
    times = start + np.sort(rng.uniform(0.0, duration, count))
    accept = rng.uniform(0.0, 1.0, count)
    # u < p / peak has probability exactly p / peak; the bound guards against a time rounded
    # up to the end (it belongs to the next window).
    keep = (accept * peak < rate_multiplier(profile, calendar, times)) & (times < end)
    return times[keep]


def expected_arrivals(mean_rate: float, profile: np.ndarray, calendar: Calendar, duration: float) -> float:
    """Exact integral of ``mean_rate * profile[hour_of_week(t)]`` over [0, duration)."""
    _check(mean_rate, profile, duration)
    if mean_rate == 0 or duration == 0:
        return 0.0
    hours, lengths = calendar.pieces(duration)
    return float(mean_rate * np.dot(profile[hours], lengths))
