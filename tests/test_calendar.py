"""Hour-of-week rate profiles, local time across DST, and thinned Poisson arrivals."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.stats import kstest

from sim.workload.calendar import (
    PRESETS,
    Calendar,
    Levels,
    expected_arrivals,
    rate_multiplier,
    thinned_arrivals,
    week_profile,
)

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONDAY = datetime(2026, 1, 5)  # a Monday, winter time (UTC+1) for the next 4 weeks
BERLIN = ZoneInfo("Europe/Berlin")


def how(weekday: int, hour: int) -> int:
    return weekday * 24 + hour


# --- profiles ---------------------------------------------------------------------------


def test_presets_are_exactly_as_specified() -> None:
    expected = {
        "flat": Levels(1, 1, 1, 1),
        "office": Levels(business=2.0, shoulder=1.0, night=0.5, weekend=0.5),
        "workday": Levels(business=1, shoulder=0, night=0, weekend=0),
        "coding": Levels(business=10, shoulder=4, night=1, weekend=2),
        "chat": Levels(business=2, shoulder=1.6, night=1, weekend=1.4),
    }
    assert expected == PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_week_profile_has_mean_one(name: str) -> None:
    profile = week_profile(PRESETS[name])
    assert profile.shape == (168,)
    assert abs(profile.mean() - 1.0) < 1e-12


def test_office_profile_values_by_hand() -> None:
    # Weekday: 10 business, 6 shoulder, 8 night hours; weekend day: 16 weekend, 8 night.
    weekly_sum = 5 * (10 * 2.0 + 6 * 1.0 + 8 * 0.5) + 2 * (16 * 0.5 + 8 * 0.5)
    assert weekly_sum == 174
    mean = weekly_sum / 168
    profile = week_profile(PRESETS["office"])
    assert profile[how(0, 9)] == pytest.approx(2.0 / mean, rel=1e-12)
    assert profile[how(0, 9)] == pytest.approx(1.931, abs=1e-3)
    assert profile[how(2, 3)] == pytest.approx(0.5 / mean, rel=1e-12)
    assert profile[how(2, 3)] == pytest.approx(0.483, abs=1e-3)
    assert profile[how(0, 9)] / profile[how(2, 3)] == pytest.approx(4.0, rel=1e-12)
    assert profile[how(5, 12)] == pytest.approx(0.5 / mean, rel=1e-12)


def hours_where(levels: Levels) -> set[int]:
    return set(np.flatnonzero(week_profile(levels)).tolist())


def test_period_layout() -> None:
    weekdays = range(5)
    assert hours_where(Levels(1, 0, 0, 0)) == {how(d, h) for d in weekdays for h in range(8, 18)}
    shoulder = [6, 7, 18, 19, 20, 21]
    assert hours_where(Levels(0, 1, 0, 0)) == {how(d, h) for d in weekdays for h in shoulder}
    assert hours_where(Levels(0, 0, 0, 1)) == {how(d, h) for d in (5, 6) for h in range(6, 22)}
    night = [*range(6), 22, 23]
    assert hours_where(Levels(0, 0, 1, 0)) == {how(d, h) for d in range(7) for h in night}


@pytest.mark.parametrize(
    "levels",
    [(0, 0, 0, 0), (1, -0.5, 1, 1), (1, math.nan, 1, 1), (math.inf, 1, 1, 1)],
)
def test_invalid_levels_raise(levels: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="levels"):
        Levels(*levels)


# --- local time ---------------------------------------------------------------------------


def test_known_local_hours_in_winter() -> None:
    cal = Calendar(MONDAY)
    times = np.array([0.0, 9.5 * HOUR, 5 * DAY + HOUR, WEEK - 1.0, WEEK])
    assert cal.hour_of_week(times).tolist() == [0, 9, how(5, 1), 167, 0]
    assert cal.local(9.5 * HOUR) == datetime(2026, 1, 5, 9, 30, tzinfo=BERLIN)
    assert cal.epoch == datetime(2026, 1, 4, 23, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def test_spring_forward_skips_local_two_oclock() -> None:
    # Saturday 12:00 CET = 11:00 UTC; clocks jump 02:00 -> 03:00 at 01:00 UTC on Sunday 29 March.
    cal = Calendar(datetime(2026, 3, 28, 12, 0))
    times = np.array([13.0, 13.5, 13.999, 14.0, 15.0]) * HOUR
    assert cal.hour_of_week(times).tolist() == [how(6, 1), how(6, 1), how(6, 1), how(6, 3), how(6, 4)]
    assert cal.local(14 * HOUR).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)


def test_fall_back_repeats_local_two_oclock() -> None:
    # Saturday 12:00 CEST = 10:00 UTC; clocks go 03:00 -> 02:00 at 01:00 UTC on Sunday 25 October.
    cal = Calendar(datetime(2026, 10, 24, 12, 0))
    times = np.array([13.5, 14.0, 15.0, 15.999, 16.0]) * HOUR
    assert cal.hour_of_week(times).tolist() == [how(6, 1), how(6, 2), how(6, 2), how(6, 2), how(6, 3)]


def test_berlin_differs_from_utc_by_the_offset() -> None:
    berlin = Calendar(MONDAY)
    utc = Calendar(datetime(2026, 1, 4, 23, 0), "UTC")  # the same instant
    assert berlin.epoch == utc.epoch
    winter = np.arange(0, 2 * WEEK, 1234.5)
    assert np.array_equal(berlin.hour_of_week(winter), (utc.hour_of_week(winter) + 1) % 168)
    summer = winter + 20 * WEEK  # June: UTC+2
    assert np.array_equal(berlin.hour_of_week(summer), (utc.hour_of_week(summer) + 2) % 168)


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/St_Johns"]
)
def test_hour_of_week_matches_zoneinfo_over_a_year(zone: str) -> None:
    cal = Calendar(MONDAY, zone)
    times = np.random.default_rng(7).uniform(0, 400 * DAY, 1500)
    expected = [cal.local(t).weekday() * 24 + cal.local(t).hour for t in times]
    assert cal.hour_of_week(times).tolist() == expected


def test_half_hour_zone_changes_hour_on_local_boundaries() -> None:
    cal = Calendar(MONDAY, "Asia/Kolkata")  # UTC+05:30: local hours start at :30 UTC
    hours = np.arange(0, 4 * 168)
    assert np.array_equal(cal.hour_of_week(hours * HOUR), hours % 168)
    assert np.array_equal(cal.hour_of_week(hours[1:] * HOUR - 1e-3), (hours[1:] - 1) % 168)


def test_invalid_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        Calendar(MONDAY, "Mars/Olympus_Mons")


def test_start_in_dst_gap_raises_and_fold_takes_summer_time() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Calendar(datetime(2026, 3, 29, 2, 30))
    ambiguous = Calendar(datetime(2026, 10, 25, 2, 30))
    assert ambiguous.local(0).utcoffset() == timedelta(hours=2)
    assert ambiguous.hour_of_week(np.array([0.0, HOUR])).tolist() == [how(6, 2), how(6, 2)]


def test_aware_start_and_negative_times_raise() -> None:
    with pytest.raises(ValueError, match="naive"):
        Calendar(datetime(2026, 1, 5, tzinfo=BERLIN))
    with pytest.raises(ValueError):
        Calendar(MONDAY).hour_of_week(np.array([5.0, -1.0]))


def test_two_million_lookups() -> None:
    times = np.random.default_rng(0).uniform(0, 4 * WEEK, 2_000_000)
    hours = Calendar(MONDAY).hour_of_week(times)
    assert hours.shape == times.shape
    # No DST in these 4 weeks, so the local hour is plain arithmetic.
    assert np.array_equal(hours, (times // HOUR).astype(np.int64) % 168)


def test_rate_multiplier_looks_up_the_profile() -> None:
    profile = week_profile(PRESETS["coding"])
    times = np.array([3 * HOUR, 9 * HOUR, 7 * HOUR, 5 * DAY + 12 * HOUR])
    got = rate_multiplier(profile, Calendar(MONDAY), times)
    assert got.tolist() == [profile[3], profile[9], profile[7], profile[how(5, 12)]]
    assert got[1] / got[0] == pytest.approx(10.0)


# --- expected arrivals -------------------------------------------------------------------------


def test_expected_arrivals_flat_and_partial_hours() -> None:
    flat = week_profile(PRESETS["flat"])
    office = week_profile(PRESETS["office"])
    cal = Calendar(datetime(2026, 1, 5, 7, 17, 30))
    assert expected_arrivals(0.3, flat, cal, 12345.6) == pytest.approx(0.3 * 12345.6, rel=1e-12)
    # 42.5 min of shoulder (07:17:30-08:00), then 17.5 min of business.
    assert expected_arrivals(2.0, office, cal, HOUR) == pytest.approx(
        2.0 * (2550 * office[7] + 1050 * office[8]), rel=1e-12
    )
    assert expected_arrivals(2.0, office, cal, 0.0) == 0.0
    assert expected_arrivals(0.0, office, cal, HOUR) == 0.0


def test_expected_arrivals_over_a_week_is_the_mean_rate() -> None:
    office = week_profile(PRESETS["office"])
    cal = Calendar(datetime(2026, 1, 7, 13, 17))
    assert expected_arrivals(0.5, office, cal, WEEK) == pytest.approx(0.5 * WEEK, rel=1e-12)


def test_expected_arrivals_over_dst_weeks() -> None:
    office = week_profile(PRESETS["office"])
    spring = Calendar(datetime(2026, 3, 23))  # local week lasts 167 h, Sunday 02:00 missing
    assert expected_arrivals(1.0, office, spring, WEEK - HOUR) == pytest.approx(
        HOUR * (168 - office[how(6, 2)]), rel=1e-12
    )
    seen = set(spring.hour_of_week(np.arange(0, WEEK - HOUR, 600.0)).tolist())
    assert seen == set(range(168)) - {how(6, 2)}
    autumn = Calendar(datetime(2026, 10, 19))  # 169 h, Sunday 02:00 twice
    assert expected_arrivals(1.0, office, autumn, WEEK + HOUR) == pytest.approx(
        HOUR * (168 + office[how(6, 2)]), rel=1e-12
    )


# --- thinned arrivals -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def office_month() -> tuple[np.ndarray, float]:
    """Four weeks of office arrivals at 0.1/s (about 242 000 arrivals) and their expectation."""
    profile, cal = week_profile(PRESETS["office"]), Calendar(MONDAY)
    arrivals = thinned_arrivals(np.random.default_rng(2026), 0.1, profile, cal, 4 * WEEK)
    return arrivals, expected_arrivals(0.1, profile, cal, 4 * WEEK)


def test_arrivals_are_sorted_and_in_range(office_month: tuple[np.ndarray, float]) -> None:
    arrivals, _ = office_month
    assert np.all(np.diff(arrivals) >= 0)
    assert arrivals[0] >= 0 and arrivals[-1] < 4 * WEEK


def test_total_count_matches_expectation(office_month: tuple[np.ndarray, float]) -> None:
    arrivals, expected = office_month
    assert expected == pytest.approx(0.1 * 4 * WEEK, rel=1e-12)
    assert abs(len(arrivals) - expected) < 4 * math.sqrt(expected)


def test_business_rate_is_four_times_night_rate(office_month: tuple[np.ndarray, float]) -> None:
    arrivals, _ = office_month
    hours = Calendar(MONDAY).hour_of_week(arrivals)
    day, hour = hours // 24, hours % 24
    business = np.count_nonzero((day < 5) & (hour >= 8) & (hour < 18))
    night = np.count_nonzero((hour < 6) | (hour >= 22))
    # Per-hour rates: 4 weeks hold 4 * 50 business hours and 4 * 56 night hours.
    ratio = (business / 200) / (night / 224)
    assert ratio == pytest.approx(4.0, rel=0.10)


def test_arrivals_are_uniform_within_business_stretches(office_month: tuple[np.ndarray, float]) -> None:
    arrivals, _ = office_month
    time_of_day = arrivals % DAY  # no DST in these 4 weeks
    weekday = (arrivals // DAY) % 7 < 5
    inside = weekday & (time_of_day >= 8 * HOUR) & (time_of_day < 18 * HOUR)
    position = (time_of_day[inside] - 8 * HOUR) / (10 * HOUR)
    assert kstest(position, "uniform").pvalue > 0.01
    # Control: over whole days the rate is not constant, and the same test notices it.
    assert kstest(time_of_day / DAY, "uniform").pvalue < 1e-6


def test_workday_profile_only_in_office_hours() -> None:
    cal = Calendar(MONDAY)
    arrivals = thinned_arrivals(
        np.random.default_rng(5), 0.01, week_profile(PRESETS["workday"]), cal, 2 * WEEK
    )
    assert len(arrivals) > 1000
    hours = cal.hour_of_week(arrivals)
    assert np.all((hours // 24 < 5) & (hours % 24 >= 8) & (hours % 24 < 18))


def test_same_seed_same_arrivals_other_seed_differs() -> None:
    profile, cal = week_profile(PRESETS["chat"]), Calendar(MONDAY)

    def draw(seed: int) -> np.ndarray:
        return thinned_arrivals(np.random.default_rng(seed), 0.01, profile, cal, WEEK)

    assert np.array_equal(draw(11), draw(11))
    assert not np.array_equal(draw(11), draw(12))


def test_zero_rate_or_duration_is_empty() -> None:
    profile, cal = week_profile(PRESETS["office"]), Calendar(MONDAY)
    rng = np.random.default_rng(1)
    assert thinned_arrivals(rng, 0.0, profile, cal, WEEK).size == 0
    assert thinned_arrivals(rng, 1.0, profile, cal, 0.0).size == 0
    with pytest.raises(ValueError):
        thinned_arrivals(rng, -1.0, profile, cal, WEEK)
    with pytest.raises(ValueError):
        thinned_arrivals(rng, 1.0, profile[:100], cal, WEEK)


def test_arrivals_from_a_start_use_absolute_hours() -> None:
    """From ``start`` the arrivals lie in [start, start + duration), the hours looked up at the
    absolute time; the draws are those of a window from 0 (same count, uniforms, acceptances)."""
    cal = Calendar(MONDAY)
    start = 2 * WEEK + 2.5 * DAY  # Wednesday noon of the third week
    workday = thinned_arrivals(
        np.random.default_rng(8), 0.01, week_profile(PRESETS["workday"]), cal, WEEK, start
    )
    assert len(workday) > 1000 and workday.min() >= start and workday.max() < start + WEEK
    hours = cal.hour_of_week(workday)
    assert np.all((hours // 24 < 5) & (hours % 24 >= 8) & (hours % 24 < 18))
    flat = week_profile(PRESETS["flat"])
    shifted = thinned_arrivals(np.random.default_rng(9), 0.01, flat, cal, DAY, start)
    assert np.array_equal(shifted, thinned_arrivals(np.random.default_rng(9), 0.01, flat, cal, DAY) + start)
    with pytest.raises(ValueError):
        thinned_arrivals(np.random.default_rng(9), 0.01, flat, cal, DAY, -1.0)
