"""Pricing policies: rates, change instants and per-second charges, each worked out by hand.

Times are seconds since the scenario start, a Monday 00:00 local time in Europe/Berlin.
List prices (EUR per GPU-hour): B200 6.5, RTXPRO6000 2.5, other types 2.0.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pytest

import sim
from sim.errors import PolicyError
from sim.policies import PRICINGS
from sim.policies.pricing.dynamic import Dynamic
from sim.policies.pricing.time_of_day import TimeOfDay
from sim.workload.calendar import Calendar

HOUR = 3600.0
DAY = 86400.0
WINTER_MONDAY = datetime(2026, 1, 5)  # no DST change within three weeks
SPRING_MONDAY = datetime(2026, 3, 23)  # clocks go 02:00 -> 03:00 on Sunday 29 March
AUTUMN_MONDAY = datetime(2026, 10, 19)  # clocks go 03:00 -> 02:00 on Sunday 25 October


def time_of_day(start: datetime = WINTER_MONDAY, **params: object) -> TimeOfDay:
    policy = PRICINGS.create("time_of_day", params)
    assert isinstance(policy, TimeOfDay)
    policy.bind(Calendar(start, "Europe/Berlin"), ["B200", "RTXPRO6000"])
    return policy


def dynamic(**params: object) -> Dynamic:
    policy = PRICINGS.create("dynamic", params)
    assert isinstance(policy, Dynamic)
    policy.bind(Calendar(WINTER_MONDAY), ["B200", "RTXPRO6000"])
    return policy


def changes(policy: TimeOfDay | Dynamic, until: float) -> list[float]:
    """Every change instant in (0, until]."""
    found, t = [], 0.0
    while (t := policy.next_change(t)) <= until:
        found.append(t)
    return found


# --- flat and tiered --------------------------------------------------------------------


def test_flat_is_the_list_price_times_the_tier_factor() -> None:
    """flat: B200 6.5, RTXPRO6000 2.5, unknown types other_price; discounts only when given."""
    flat = PRICINGS.create("flat", {"discounts": {"spot": 0.5}, "prices": {"H100": 4.0}})
    assert flat.rate("B200", "on-demand", 0) == 6.5
    assert flat.rate("B200", "reserved", 0) == 6.5
    assert flat.rate("B200", "spot", 1e9) == 3.25
    assert flat.rate("H100", "on-demand", 0) == 4.0
    assert flat.rate("MI300", "on-demand", 0) == 2.0


def test_tiered_defaults_are_40_and_65_percent_off() -> None:
    """tiered: reserved pays 0.60 and spot 0.35 of the list price; on-demand the list price."""
    tiered = PRICINGS.create("tiered")
    assert tiered.rate("B200", "on-demand", 0) == 6.5
    assert tiered.rate("B200", "reserved", 0) == pytest.approx(3.9, rel=1e-15)
    assert tiered.rate("B200", "spot", 0) == pytest.approx(2.275, rel=1e-15)
    assert tiered.rate("RTXPRO6000", "spot", 0) == pytest.approx(0.875, rel=1e-15)
    assert tiered.rate("other", "reserved", 0) == pytest.approx(1.2, rel=1e-15)


def test_tiered_discounts_given_replace_only_their_tiers() -> None:
    """A given spot discount replaces 0.65; reserved keeps its default 0.40."""
    tiered = PRICINGS.create("tiered", {"discounts": {"spot": 0.7}})
    assert tiered.rate("B200", "spot", 0) == pytest.approx(6.5 * 0.3, rel=1e-15)
    assert tiered.rate("B200", "reserved", 0) == pytest.approx(3.9, rel=1e-15)


def test_flat_charge_is_per_second_for_every_gpu() -> None:
    """tiered: 16 spot B200 GPUs for 90 s cost 16 x 90/3600 h x 2.275 = 0.91 EUR."""
    tiered = PRICINGS.create("tiered")
    assert tiered.charge("B200", "spot", 16, 10.0, 100.0) == pytest.approx(0.91, rel=1e-12)


# --- time_of_day ------------------------------------------------------------------------


def test_peak_is_weekdays_eight_to_twenty_local() -> None:
    """Mon 07:59:59 off-peak, 08:00 peak, 19:59:59 peak, 20:00 off-peak; Saturday noon off-peak."""
    policy = time_of_day()
    assert [policy.is_peak(t) for t in (8 * HOUR - 1, 8 * HOUR, 20 * HOUR - 1, 20 * HOUR)] == [
        False,
        True,
        True,
        False,
    ]
    assert not policy.is_peak(5 * DAY + 12 * HOUR)
    assert policy.rate("B200", "on-demand", 9 * HOUR) == 6.5 * 1.25
    assert policy.rate("B200", "on-demand", 21 * HOUR) == 6.5 * 0.75


def test_next_change_crosses_the_weekend() -> None:
    """From Friday noon: Friday 20:00, then Monday 08:00 of the next week."""
    policy = time_of_day()
    friday_noon = 4 * DAY + 12 * HOUR
    assert policy.next_change(friday_noon) == 4 * DAY + 20 * HOUR
    assert policy.next_change(4 * DAY + 20 * HOUR) == 7 * DAY + 8 * HOUR


def test_changes_in_the_spring_forward_week() -> None:
    """Ten weekday flips at the local hours; Monday 08:00 CEST comes one real hour early."""
    policy = time_of_day(SPRING_MONDAY)
    weekdays = [d * DAY + h * HOUR for d in range(5) for h in (8, 20)]
    # 7 days 8 hours of wall-clock time, of which 02:00-03:00 on Sunday never happened.
    assert changes(policy, 7 * DAY + 9 * HOUR) == [*weekdays, 7 * DAY + 7 * HOUR]


def test_changes_in_the_autumn_week() -> None:
    """Monday 08:00 CET after the fall-back comes one real hour late (02:00-03:00 twice)."""
    policy = time_of_day(AUTUMN_MONDAY)
    weekdays = [d * DAY + h * HOUR for d in range(5) for h in (8, 20)]
    assert changes(policy, 7 * DAY + 10 * HOUR) == [*weekdays, 7 * DAY + 9 * HOUR]
    assert not policy.is_peak(7 * DAY + 9 * HOUR - 1)
    assert policy.is_peak(7 * DAY + 9 * HOUR)


def test_charge_across_a_peak_boundary_is_the_sum_of_its_pieces() -> None:
    """2 reserved B200 GPUs, Mon 07:30-08:45: 0.5 h at 6.5 x 0.6 x 0.75 and 0.75 h at x 1.25.

    Per GPU 0.5 x 2.925 + 0.75 x 4.875 = 1.4625 + 3.65625 = 5.11875 EUR; two GPUs 10.2375.
    """
    policy = time_of_day(discounts={"reserved": 0.4})
    cost = policy.charge("B200", "reserved", 2, 7.5 * HOUR, 8.75 * HOUR)
    assert cost == pytest.approx(10.2375, rel=1e-12)


def test_charge_over_the_spring_forward_weekend_bills_real_hours() -> None:
    """Fri 20:00 to Mon 08:00 around the DST change is 59 real hours off-peak: 6.5 x 0.75 x 59."""
    policy = time_of_day(SPRING_MONDAY)
    start, end = 4 * DAY + 20 * HOUR, 7 * DAY + 7 * HOUR
    assert end - start == 59 * HOUR
    assert policy.charge("B200", "on-demand", 1, start, end) == pytest.approx(287.625, rel=1e-12)


def test_charge_over_a_winter_weekend_with_an_hour_of_peak_on_each_side() -> None:
    """RTXPRO6000, Fri 19:00 to Mon 09:00: 1 h + 1 h at 2.5 x 1.25 and 60 h at 2.5 x 0.75 = 118.75."""
    policy = time_of_day()
    cost = policy.charge("RTXPRO6000", "on-demand", 1, 4 * DAY + 19 * HOUR, 7 * DAY + 9 * HOUR)
    assert cost == pytest.approx(118.75, rel=1e-12)


def test_peak_hours_may_wrap_past_midnight() -> None:
    """peak_hours [22, 6] on every day: 23:00 and 05:59 peak, 06:00 and 21:59 off-peak."""
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    policy = time_of_day(peak_hours=[22, 6], peak_days=every_day, peak_factor=2.0, off_peak_factor=1.0)
    assert [policy.is_peak(t) for t in (23 * HOUR, DAY + 6 * HOUR - 1, DAY + 6 * HOUR, 22 * HOUR - 1)] == [
        True,
        True,
        False,
        False,
    ]
    assert policy.next_change(0) == 6 * HOUR


def test_no_peak_days_means_a_constant_price() -> None:
    """With peak_days [] nothing ever changes: next_change is inf and the rate is off-peak."""
    policy = time_of_day(peak_days=[])
    assert policy.next_change(0) == math.inf
    assert policy.charge("B200", "on-demand", 1, 0, 10 * DAY) == pytest.approx(6.5 * 0.75 * 240, rel=1e-12)


# --- dynamic ----------------------------------------------------------------------------


def test_dynamic_factor_follows_utilisation_and_is_clipped() -> None:
    """factor = clip(1 + 2 (u - 0.8), 0.5, 1.5); a type missing from an observation keeps its factor."""
    policy = dynamic(sensitivity=2.0, max_factor=1.5)
    policy.observe(0.0, {"B200": 0.9, "RTXPRO6000": 0.1}, {})  # 1.2; -0.4 -> 0.5
    policy.observe(HOUR, {"B200": 1.0, "RTXPRO6000": 0.8}, {})  # 1.4; 1.0
    policy.observe(2 * HOUR, {"B200": 0.0}, {})  # -0.6 -> 0.5; RTXPRO6000 keeps 1.0
    policy.observe(3 * HOUR, {"B200": 1.2}, {})  # 1.8 -> 1.5
    times, factors = policy.factor_history()
    assert times == [0.0, HOUR, 2 * HOUR, 3 * HOUR]
    assert factors["B200"] == pytest.approx([1.2, 1.4, 0.5, 1.5], rel=1e-12)
    assert factors["RTXPRO6000"] == pytest.approx([0.5, 1.0, 1.0, 1.0], rel=1e-12)


def test_dynamic_rates_of_the_past_use_the_factor_then() -> None:
    """rate(t) after the run is the rate in effect at t; before any observation the factor is 1."""
    policy = dynamic(discounts={"spot": 0.5})
    assert policy.rate("B200", "spot", 100.0) == 3.25
    policy.observe(0.0, {"B200": 0.9}, {})
    policy.observe(HOUR, {"B200": 0.3}, {})
    assert policy.rate("B200", "spot", HOUR - 1) == pytest.approx(3.25 * 1.1, rel=1e-12)
    assert policy.rate("B200", "spot", HOUR) == pytest.approx(3.25 * 0.5, rel=1e-12)
    assert policy.rate("B200", "spot", 100 * HOUR) == pytest.approx(3.25 * 0.5, rel=1e-12)


def test_dynamic_charge_integrates_over_intervals() -> None:
    """B200 0:30-2:30 with factors 1.2, 1.4, 0.5: 6.5 x (0.5 x 1.2 + 1 x 1.4 + 0.5 x 0.5) = 14.625."""
    policy = dynamic(sensitivity=2.0)
    for k, u in enumerate((0.9, 1.0, 0.0)):
        policy.observe(k * HOUR, {"B200": u}, {})
    assert policy.charge("B200", "on-demand", 1, 0.5 * HOUR, 2.5 * HOUR) == pytest.approx(14.625, rel=1e-12)


def test_dynamic_next_change_is_the_next_multiple_of_the_interval() -> None:
    """interval "15m": from 0, 899.5 and 900 the next change is 900, 900 and 1800."""
    policy = dynamic(interval="15m")
    assert policy.interval == 900.0
    assert [policy.next_change(t) for t in (0.0, 899.5, 900.0)] == [900.0, 900.0, 1800.0]


def test_dynamic_queue_signal() -> None:
    """signal queue, target 0.2: queued 0.7 per GPU gives 1.5; 3.0 gives 3.8, clipped to 2.0."""
    policy = dynamic(signal="queue", target=0.2)
    policy.observe(0.0, {"B200": 0.0}, {"B200": 0.7})
    policy.observe(HOUR, {"B200": 0.0}, {"B200": 3.0})
    assert policy.factor_history()[1]["B200"] == pytest.approx([1.5, 2.0], rel=1e-12)


def test_dynamic_type_first_seen_later_paid_factor_one_before() -> None:
    """A type not bound and first observed at the second observation has factor 1 at the first."""
    policy = dynamic()
    policy.observe(0.0, {"B200": 0.8}, {})
    policy.observe(HOUR, {"B200": 0.8, "H100": 1.3}, {})
    assert policy.factor_history()[1]["H100"] == pytest.approx([1.0, 1.5], rel=1e-12)


def test_dynamic_repeat_observation_replaces_and_past_ones_are_refused() -> None:
    """A second observation at one instant replaces the first; an earlier instant is an error."""
    policy = dynamic()
    policy.observe(HOUR, {"B200": 0.9}, {})
    policy.observe(HOUR, {"B200": 0.7}, {})
    times, factors = policy.factor_history()
    assert times == [HOUR] and factors["B200"] == pytest.approx([0.9], rel=1e-12)
    with pytest.raises(ValueError, match="time order"):
        policy.observe(0.0, {"B200": 0.9}, {})


# --- parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("time_of_day", {"peak_hour": [8, 20]}, "pricing 'time_of_day' has parameters prices, discounts"),
        ("time_of_day", {"peak_hours": [20, 20]}, "'peak_hours' must be [start, end]"),
        ("time_of_day", {"peak_hours": [8, 20.5]}, "(got [8, 20.5])"),
        ("time_of_day", {"peak_days": ["monday"]}, "'peak_days' must be a list of days (mon, "),
        ("time_of_day", {"peak_days": "mon"}, "'peak_days' must be a list of days"),
        ("time_of_day", {"peak_factor": -1}, "'peak_factor' must be a number >= 0 (got -1)"),
        ("dynamic", {"signal": "price"}, "'signal' must be one of utilisation, queue (got 'price')"),
        ("dynamic", {"interval": "soon"}, "'interval' must be seconds >= 1 or a duration"),
        ("dynamic", {"interval": 0}, "(got 0)"),
        ("dynamic", {"interval": 0.001}, "'interval' must be seconds >= 1 or a duration like '15m'"),
        ("dynamic", {"target": 80}, "'target' must be a busy share in [0, 1] with signal utilisation"),
        ("dynamic", {"min_factor": 3.0}, "'min_factor' must be <= 'max_factor' (got 3.0 > 2.0)"),
        ("dynamic", {"sensitivity": float("nan")}, "'sensitivity' must be a finite number"),
        ("tiered", {"discounts": {"spot": 1.2}}, "'discounts.spot' must be a share in [0, 1) (got 1.2)"),
        ("tiered", {"discounts": {"gold": 0.1}}, "'discounts' keys must be tiers"),
        ("flat", {"other_price": -1}, "pricing 'flat': 'other_price' must be a number >= 0 (got -1)"),
        ("flat", {"prices": {"B200": math.nan}}, "'prices.B200' must be a number >= 0 (got nan)"),
    ],
)
def test_bad_parameters_name_the_rule(name: str, params: dict[str, object], message: str) -> None:
    """The registry turns a policy's ValueError into a PolicyError with its message."""
    with pytest.raises(PolicyError) as raised:
        PRICINGS.create(name, params)
    assert message in str(raised.value)


def test_time_of_day_needs_a_calendar() -> None:
    """Used before bind, time_of_day fails loudly instead of guessing a start date."""
    with pytest.raises(RuntimeError, match="bind"):
        PRICINGS.create("time_of_day").rate("B200", "on-demand", 0.0)


def test_dynamic_prices_follow_the_simulated_utilisation(tmp_path: Path) -> None:
    """End to end: the engine shows ``dynamic`` the cluster every hour. A 9-GPU job runs
    [0, 7200) on 10 GPUs (type G: list price 2.0). The observation at 0 comes before the
    arrival: utilisation 0, factor clip(1 + (0 - 0.8)) = 0.5 for the first hour; at 3600
    utilisation 0.9 gives 1.1. Cost = 9 x 2.0 x (0.5 + 1.1) = 28.8 EUR. timeseries.csv's
    price.G samples the rate just before each hour's events: 2.0 (no observation yet),
    1.0, 2.2."""
    trace = tmp_path / "trace.csv"
    trace.write_text("job_id,submit_time,gpus,duration\nbig,0,9,7200\n")
    scenario = {
        "name": "dynamic",
        "cluster": {"pods": [{"name": "p", "nodes": 10, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {"trace": {"path": str(trace)}},
        "pricing": {"name": "dynamic", "params": {"interval": "1h"}},
    }
    result = sim.run(scenario)
    (job,) = result.jobs
    assert job.cost == pytest.approx(28.8)
    assert result.records.timeseries["price.G"][:3] == pytest.approx([2.0, 1.0, 2.2])
    assert result.summary["revenue"]["mean_price_per_gpu_hour"] == pytest.approx(1.6)
