"""Workload generators checked against their laws at fixed seeds.

Synthetic streams (``sim.workload.synthetic``): lognormal durations (cap, size exponent),
GPU-count mix, outcomes, estimate factors, job arrays, load sizing and weekly profiles.
Tenants (``sim.workload.tenants``): names, Zipf activity, group shares. Determinism and common
random numbers. Inference plans are in ``test_workload_inference.py``.

Sample sizes are chosen so every tolerance is at least three standard errors wide; the
expected values come from the laws (closed forms, scipy distributions), not from the code.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from helpers import CLOCK, HOUR, SEED, WEEK
from scipy import stats

from sim.cluster.state import ClusterLayout
from sim.scenario import scenario_from_data
from sim.scenario.schema import Cluster
from sim.scenario.workload import DEFAULT_TENANTS, Stream, TenantGroup
from sim.workload.build import build_workload
from sim.workload.jobs import JobTable
from sim.workload.synthetic import generate
from sim.workload.tenants import draw_tenants, tenant_names

# 10 nodes x 8 GPUs of B200 (capacity 80): a 12-GPU job holds 2 whole nodes = 16 GPUs.
LAYOUT = ClusterLayout.from_scenario(
    Cluster.model_validate({"pods": [{"name": "p", "nodes": 10, "gpus_per_node": 8, "gpu_type": "B200"}]})
)


def stream(**fields: Any) -> Stream:
    data: dict[str, Any] = {"name": "s", "rate_per_hour": 100, "duration": {"median": 600, "sigma": 1.0}}
    return Stream.model_validate({**data, **fields})


def jobs_of(spec: Stream, window: float, seed: int = SEED, groups: tuple[TenantGroup, ...] = ()) -> JobTable:
    return generate(spec, window, seed, LAYOUT, "B200", CLOCK, groups or DEFAULT_TENANTS)


def arrays(table: JobTable) -> dict[str, list[int]]:
    """Rows of each arrival, keyed by the id without the task suffix."""
    rows: dict[str, list[int]] = defaultdict(list)
    for i, job_id in enumerate(table.job_id):
        rows[job_id.split("_")[0]].append(i)
    return rows


# --- durations ---------------------------------------------------------------------------


def test_lognormal_durations_median_and_shape() -> None:
    # 100/h for 200 h: ~20,000 jobs. Median SE ~ 1.25 * sigma / sqrt(n) = 1.3% (5% allowed).
    table = jobs_of(stream(duration={"median": 600, "sigma": 1.5}), 200 * HOUR)
    duration = np.array(table.duration)
    assert 19_000 < len(duration) < 21_000
    assert abs(np.median(duration) / 600 - 1) < 0.05
    assert stats.kstest(np.log(duration), "norm", args=(math.log(600), 1.5)).pvalue > 0.01
    # No outcomes, factor 1: every job completes and asks for exactly its duration.
    assert set(table.outcome) == {"completed"}
    assert table.requested == table.duration


def test_capped_durations_put_the_lognormal_tail_at_the_cap() -> None:
    # P(X >= 3000) for median 600, sigma 1.5: 1 - Phi(ln(5) / 1.5) = 1 - Phi(1.0730) = 0.1417.
    tail = float(stats.norm.sf(math.log(5) / 1.5))
    assert abs(tail - 0.1417) < 1e-4
    table = jobs_of(stream(duration={"median": 600, "sigma": 1.5, "max": 3000}), 200 * HOUR)
    duration = np.array(table.duration)
    assert duration.max() == 3000.0
    at_cap = float(np.mean(duration == 3000.0))
    assert abs(at_cap - tail) < 0.01
    # Below the cap the law is untouched: the median is still 600.
    assert abs(np.median(duration) / 600 - 1) < 0.05


def test_size_exponent_scales_the_median_by_gpus_to_the_power() -> None:
    # size_exponent 0.5: median(4 GPUs) = 600 * 4^0.5 = 1200 = 2x median(1 GPU).
    spec = stream(gpus={1: 0.5, 4: 0.5}, size_exponent=0.5)
    table = jobs_of(spec, 400 * HOUR)
    gpus, duration = np.array(table.gpus), np.array(table.duration)
    one, four = np.median(duration[gpus == 1]), np.median(duration[gpus == 4])
    assert (gpus == 1).sum() > 15_000 and (gpus == 4).sum() > 15_000
    assert abs(one / 600 - 1) < 0.05
    assert abs(four / one / 2 - 1) < 0.07
    # Each size keeps the lognormal shape around its own median.
    assert stats.kstest(np.log(duration[gpus == 4]), "norm", args=(math.log(1200), 1.0)).pvalue > 0.01


def test_gpu_counts_follow_the_configured_mix() -> None:
    # The training mix of scenarios/munich.yaml; 500/h for 200 h: ~100,000 jobs.
    mix = {1: 0.72, 2: 0.08, 4: 0.07, 8: 0.12, 16: 0.004, 32: 0.003, 64: 0.0015, 128: 0.001}
    mix |= {256: 0.0003, 512: 0.0002}
    assert abs(sum(mix.values()) - 1) < 1e-12
    table = jobs_of(stream(rate_per_hour=500, gpus=mix), 200 * HOUR)
    counts = Counter(table.gpus)
    assert set(counts) <= set(mix)
    for gpus, weight in mix.items():
        assert abs(counts[gpus] / len(table) - weight) < 0.02, gpus
    # The rare big gangs occur too: 256 or 512 GPUs have weight 0.0005 together, ~50 jobs.
    assert counts[256] + counts[512] > 0


# --- outcomes and estimates --------------------------------------------------------------


def test_outcomes_end_failed_and_cancelled_jobs_after_a_uniform_fraction() -> None:
    spec = stream(outcomes={"failed": 0.2, "cancelled": 0.1}, estimate_factor=1)
    table = jobs_of(spec, 200 * HOUR)
    n = len(table)
    share = Counter(table.outcome)
    assert set(share) == {"completed", "failed", "cancelled"}
    # SE of a 20% share over 20,000 jobs: 0.28 points (1.5 allowed).
    assert abs(share["failed"] / n - 0.2) < 0.015
    assert abs(share["cancelled"] / n - 0.1) < 0.015
    duration, requested = np.array(table.duration), np.array(table.requested)
    outcome = np.array(table.outcome)
    done = outcome == "completed"
    # Factor 1: requested = full duration; a completed job runs it all.
    assert np.array_equal(duration[done], requested[done])
    early = ~done
    assert np.all(duration[early] < requested[early])
    fraction = duration[early] / requested[early]
    assert stats.kstest(fraction, "uniform").pvalue > 0.01
    # Failed and cancelled jobs stop at the same law.
    for kind in ("failed", "cancelled"):
        part = duration[outcome == kind] / requested[outcome == kind]
        assert abs(part.mean() - 0.5) < 0.02, kind


def test_lognormal_estimate_factor() -> None:
    spec = stream(estimate_factor={"median": 3, "sigma": 0.8}, outcomes={"failed": 0.3})
    table = jobs_of(spec, 200 * HOUR)
    done = np.array(table.outcome) == "completed"
    factor = np.array(table.requested)[done] / np.array(table.duration)[done]
    assert done.sum() > 12_000
    assert abs(np.median(factor) / 3 - 1) < 0.05
    assert abs(np.log(factor).std() / 0.8 - 1) < 0.05
    assert stats.kstest(np.log(factor), "norm", args=(math.log(3), 0.8)).pvalue > 0.01


def test_uniform_estimate_factor() -> None:
    table = jobs_of(stream(estimate_factor=[1, 4]), 100 * HOUR)
    factor = np.array(table.requested) / np.array(table.duration)
    assert factor.min() >= 1 and factor.max() <= 4
    assert stats.kstest(factor, "uniform", args=(1, 3)).pvalue > 0.01


# --- arrays ------------------------------------------------------------------------------


def test_job_arrays_share_submit_tenant_gpus_and_factor() -> None:
    spec = stream(
        array_size={1: 0.5, 10: 0.5},
        gpus={1: 0.5, 2: 0.3, 8: 0.2},
        tenants={"sme": 0.5, "industry": 0.5},
        estimate_factor=[1, 4],
        duration={"median": 600, "sigma": 1.0},
    )
    table = jobs_of(spec, 100 * HOUR)
    groups = arrays(table)
    sizes = Counter(len(rows) for rows in groups.values())
    assert set(sizes) == {1, 10}
    for key, rows in groups.items():
        assert re.fullmatch(r"s-\d+", key)
        ids = [table.job_id[i] for i in rows]
        if len(rows) == 1:
            assert ids == [key]
        else:
            assert ids == [f"{key}_{task}" for task in range(10)]
        for column in (table.submit, table.tenant, table.gpus, table.tier):
            assert len({column[i] for i in rows}) == 1
        # One estimate factor per arrival: requested / full duration is shared (no outcomes here).
        ratios = [table.requested[i] / table.duration[i] for i in rows]
        assert max(ratios) - min(ratios) < 1e-9 * max(ratios)
    # Arrival numbers run 0, 1, 2, ... in submit order.
    numbers = [int(key.split("-")[1]) for key in groups]
    assert numbers == list(range(len(groups)))
    # Mean array size 0.5 * 1 + 0.5 * 10 = 5.5; ~10,000 arrivals (SE 0.8%).
    assert abs(len(table) / len(groups) / 5.5 - 1) < 0.05
    # Tasks of an array differ in duration (each job draws its own).
    big = next(rows for rows in groups.values() if len(rows) == 10)
    assert len({table.duration[i] for i in big}) == 10


# --- load sizing -------------------------------------------------------------------------


def test_load_sizes_the_rate_to_keep_that_share_busy() -> None:
    """Delivered GPU-seconds per second = load x capacity (whole-node rounding, arrays, early ends).

    Mix {1: .5, 4: .3, 12: .2}: a 12-GPU job holds 2 nodes = 16 GPUs on 8-GPU nodes. The
    realised sum over jobs of allocated GPUs x duration, divided by the window, must be
    load x capacity = 0.5 x 80 = 40 GPUs. ~40,000 jobs; the per-job CV is about 2, so the
    SE is about 1% (5% allowed).
    """
    spec = stream(
        rate_per_hour=None,
        load=0.5,
        gpus={1: 0.5, 4: 0.3, 12: 0.2},
        size_exponent=0.5,
        duration={"median": 600, "sigma": 1.0, "max": 3000},
        outcomes={"failed": 0.2, "cancelled": 0.1},
        array_size={1: 0.5, 3: 0.5},
    )
    window = 2000 * HOUR
    table = jobs_of(spec, window)
    assert 35_000 < len(table) < 45_000
    held = {g: LAYOUT.allocated_gpus(g, "B200") for g in spec.gpus}
    assert held == {1: 1, 4: 4, 12: 16}
    delivered = sum(held[g] * d for g, d in zip(table.gpus, table.duration, strict=True)) / window
    assert abs(delivered / 40 - 1) < 0.05


# --- profiles ----------------------------------------------------------------------------


def period_rates(times: np.ndarray, window: float) -> dict[str, float]:
    """Arrivals per hour in weekday 08-18 ("business") and weekday 22-06 ("night")."""

    def period(hours: np.ndarray) -> np.ndarray:
        weekday, hour = hours // 24 < 5, hours % 24
        return np.where(
            weekday & (hour >= 8) & (hour < 18), 0, np.where(weekday & ((hour >= 22) | (hour < 6)), 1, 2)
        )

    of_arrival = period(CLOCK.hour_of_week(times))
    of_hour = period(CLOCK.hour_of_week(np.arange(0.0, window, HOUR)))
    return {
        name: (of_arrival == k).sum() / (of_hour == k).sum() for k, name in enumerate(("business", "night"))
    }


def test_office_profile_puts_four_times_the_night_rate_in_business_hours() -> None:
    # office levels 2 / 1 / 0.5 / 0.5: business / night = 4. 4 weeks at 100/h: ~38,900
    # business and ~7,700 weekday-night arrivals (ratio SE ~1.3%, 10% allowed).
    window = 4 * WEEK
    table = jobs_of(stream(profile="office"), window)
    submit = np.array(table.submit)
    rates = period_rates(submit, window)
    assert abs(rates["business"] / rates["night"] / 4 - 1) < 0.10
    # And the weekly mean rate is kept: 100/h x 672 h = 67,200 arrivals (SE 0.4%).
    assert abs(len(submit) / 67_200 - 1) < 0.02
    # Normalised business level 2 x 168 / 174 = 1.931 per hour.
    assert abs(rates["business"] / (100 * 2 * 168 / 174) - 1) < 0.03


def test_workday_profile_only_in_weekday_office_hours() -> None:
    table = jobs_of(stream(profile="workday"), 2 * WEEK)
    hours = CLOCK.hour_of_week(np.array(table.submit))
    assert len(hours) > 30_000
    assert np.all(hours // 24 < 5)
    assert np.all((hours % 24 >= 8) & (hours % 24 < 18))
    # Every one of the 100 office hours gets arrivals (3.36x the mean rate of 100/h).
    assert len(set(hours.tolist())) == 50


# --- tenants -----------------------------------------------------------------------------


def test_tenant_names_are_zero_padded_ranks() -> None:
    names = tenant_names(TenantGroup(name="sme", count=3000))
    assert names[:2] == ["sme-0001", "sme-0002"] and names[-1] == "sme-3000" and len(names) == 3000
    assert tenant_names(TenantGroup(name="lab", count=3)) == ["lab-01", "lab-02", "lab-03"]
    assert tenant_names(TenantGroup(name="big", count=100))[-1] == "big-100"


def harmonic(n: int, skew: float = 1.0) -> float:
    return math.fsum(k**-skew for k in range(1, n + 1))


def test_zipf_activity_within_the_sme_group() -> None:
    # Top 30 of 3,000 SMEs at skew 1: H(30) / H(3000) = 3.9950 / 8.5837 = 0.4654.
    top = harmonic(30) / harmonic(3000)
    assert abs(top - 0.4654) < 1e-4
    rng = np.random.default_rng(5)
    tenants, tiers = draw_tenants(rng, 200_000, {"sme": 1.0}, DEFAULT_TENANTS, "unused")
    counts = Counter(tenants)
    ranked = counts.most_common()
    assert abs(sum(c for _, c in ranked[:30]) / 200_000 - top) < 0.015
    # The most active tenant is rank 1 with 1 / H(3000) = 11.65% of the draws.
    assert ranked[0][0] == "sme-0001"
    assert abs(ranked[0][1] / 200_000 - 1 / harmonic(3000)) < 0.005
    assert set(tiers) == {"on-demand"}
    assert set(tenants) <= set(tenant_names(DEFAULT_TENANTS[0]))


def test_group_shares_and_tiers() -> None:
    rng = np.random.default_rng(6)
    shares = {"sme": 0.3, "industry": 0.5, "research": 0.2}
    tenants, tiers = draw_tenants(rng, 100_000, shares, DEFAULT_TENANTS, "unused")
    by_group = Counter(name.split("-")[0] for name in tenants)
    for group, share in shares.items():
        assert abs(by_group[group] / 100_000 - share) < 0.01, group
    tier_of = {"sme": "on-demand", "industry": "reserved", "research": "spot"}
    assert all(tier == tier_of[name.split("-")[0]] for name, tier in zip(tenants, tiers, strict=True))
    # Skew 0.5 among 20 firms: industry-01 gets 1 / sum(k^-0.5, k <= 20) = 13.2% of its group.
    industry = Counter(name for name in tenants if name.startswith("industry"))
    assert abs(industry["industry-01"] / by_group["industry"] - 1 / harmonic(20, 0.5)) < 0.01
    assert len(industry) == 20


def test_integer_tenants_are_anonymous_and_on_demand() -> None:
    table = jobs_of(stream(name="train", tenants=7), 20 * HOUR)
    assert set(table.tenant) == {f"train-t{k}" for k in range(7)}
    assert set(table.tier) == {"on-demand"}
    table = jobs_of(stream(name="train", tenants=12), 20 * HOUR)
    assert set(table.tenant) == {f"train-t{k:02d}" for k in range(12)}


def test_stream_tenants_draw_from_the_named_groups() -> None:
    groups = (TenantGroup(name="acme", count=4, tier="spot", skew=0.0),)
    table = jobs_of(stream(tenants={"acme": 1.0}), 20 * HOUR, groups=groups)
    counts = Counter(table.tenant)
    assert set(counts) == {"acme-01", "acme-02", "acme-03", "acme-04"}
    assert set(table.tier) == {"spot"}
    # Skew 0: equally active, 2,000 jobs: each ~25% (SE 1 point).
    assert all(abs(c / len(table) - 0.25) < 0.04 for c in counts.values())


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_jobs_other_seed_other_jobs() -> None:
    spec = stream(outcomes={"failed": 0.2}, array_size={1: 0.7, 5: 0.3}, tenants={"sme": 1.0})
    first, again = jobs_of(spec, 50 * HOUR, seed=3), jobs_of(spec, 50 * HOUR, seed=3)
    assert first == again
    other = jobs_of(spec, 50 * HOUR, seed=4)
    assert other.submit != first.submit and other.duration[:10] != first.duration[:10]


def scenario(streams: list[dict[str, Any]], services: list[dict[str, Any]] | None = None) -> Any:
    return scenario_from_data(
        {
            "name": "crn",
            "seed": 9,
            "horizon": "2d",
            "cluster": {"pods": [{"name": "p", "nodes": 4, "gpus_per_node": 8, "gpu_type": "B200"}]},
            "workload": {"synthetic": {"streams": streams}, "inference": services or []},
        }
    )


def jobs_built(streams: list[dict[str, Any]], services: list[dict[str, Any]] | None = None) -> JobTable:
    built = scenario(streams, services)
    return build_workload(built, ClusterLayout.from_scenario(built.cluster)).jobs


def rows_of(table: JobTable, prefix: str) -> list[tuple[Any, ...]]:
    columns = [getattr(table, name) for name in JobTable.__slots__]
    return [row for row in zip(*columns, strict=True) if row[0].startswith(prefix)]


def test_changing_one_stream_leaves_the_others_jobs_unchanged() -> None:
    a = {"name": "a", "rate_per_hour": 20, "duration": {"median": 600, "sigma": 1.0}, "tenants": {"sme": 1}}
    b = {"name": "b", "rate_per_hour": 10, "duration": {"median": 60, "sigma": 0.5}}
    c = {"name": "c", "services": 3, "profile": "coding"}
    before = jobs_built([a, b], [c])
    b2 = {**b, "rate_per_hour": 40, "gpus": {2: 1.0}, "outcomes": {"failed": 0.5}}
    after = jobs_built([a, b2], [c])
    for prefix in ("a-", "c-"):
        assert rows_of(before, prefix) and rows_of(before, prefix) == rows_of(after, prefix), prefix
    assert rows_of(before, "b-") != rows_of(after, "b-")
    # Removing a stream does not change the others either.
    alone = jobs_built([a])
    assert rows_of(alone, "a-") == rows_of(before, "a-")
