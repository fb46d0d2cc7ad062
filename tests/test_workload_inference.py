"""Inference plans (``sim.workload.inference``) checked against their laws at fixed seeds:
replica jobs against an independently computed autoscaler, the replica bounds, the demand
curve's profile, noise and base rates, and determinism.

Sample sizes are chosen so every tolerance is at least three standard errors wide; the
expected values come from the laws (closed forms, scipy distributions), not from the code.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from helpers import CLOCK, DAY, HOUR, SEED, WEEK
from scipy import stats

from sim.scenario.workload import DEFAULT_TENANTS, ServiceGroup
from sim.workload import inference
from sim.workload.inference import plan_services, replica_owners, replicas_of
from sim.workload.jobs import JobTable


def group(**fields: Any) -> ServiceGroup:
    data: dict[str, Any] = {"name": "svc", "services": 20, "replica_gpus": {1: 0.5, 2: 0.5}}
    return ServiceGroup.model_validate({**data, **fields})


def autoscaler_by_hand(rate: np.ndarray, spec: ServiceGroup) -> np.ndarray:
    """Desired replicas per service and interval, written out: observe the previous interval's
    rate (the first interval observes itself), ceil(rate / (target x capacity)), clamp, then
    the maximum over the last ceil(window / interval) recommendations."""
    scaler = spec.autoscaler
    per = scaler.target_utilisation * spec.replica_capacity
    window = max(1, math.ceil(scaler.scale_down_window / scaler.interval - 1e-9))
    services, intervals = rate.shape
    raw = np.zeros(rate.shape, dtype=int)
    for s in range(services):
        for k in range(intervals):
            observed = rate[s, max(k - 1, 0)]
            want = math.ceil(observed / per - 1e-9)
            raw[s, k] = min(max(want, scaler.min_replicas), scaler.max_replicas)
    out = np.zeros(rate.shape, dtype=int)
    for k in range(intervals):
        out[:, k] = raw[:, max(0, k - window + 1) : k + 1].max(axis=1)
    return out


def alive(table: JobTable, plan: Any, dt: float) -> np.ndarray:
    """Replicas alive in each interval, from the jobs' submit and end_by alone."""
    count = np.zeros((len(plan), plan.n_intervals), dtype=int)
    for job_id, submit, end_by in zip(table.job_id, table.submit, table.end_by, strict=True):
        service = plan.names.index(job_id.rsplit("-r", 1)[0])
        count[service, round(submit / dt) : round(end_by / dt)] += 1
    return count


def test_replica_jobs_follow_the_autoscaler() -> None:
    spec = group(
        rate={"median": 2.0, "sigma": 1.0},
        profile="chat",
        autoscaler={"min_replicas": 1, "max_replicas": 6, "scale_down_window": 900},
    )
    window = 2 * DAY
    plan = plan_services(spec, SEED, window, CLOCK, DEFAULT_TENANTS)
    table = replicas_of(plan, "B200").jobs()
    dt = 300.0
    assert plan.n_intervals == 576 and plan.dt == dt
    assert len(table) > 100
    assert set(table.job_class) == {"inference"} and set(table.gpu_type) == {"B200"}
    assert set(table.outcome) == {"completed"} and set(table.priority) == {100}
    submit, end_by = np.array(table.submit), np.array(table.end_by)
    assert np.all(np.diff(submit) >= 0)
    assert np.array_equal(end_by, submit + np.array(table.duration))
    assert table.requested == table.duration
    assert np.all(end_by % dt == 0) and np.all(submit % dt == 0)
    assert np.all(end_by > submit) and end_by.max() == plan.n_intervals * dt
    # Replica ids: <service>-r<n>, n = 0, 1, ... in submit order per service.
    seen: dict[str, int] = Counter()
    for job_id in table.job_id:
        service, number = job_id.rsplit("-r", 1)
        assert int(number) == seen[service]
        seen[service] += 1
    assert set(seen) <= set(plan.names) and plan.names[0] == "svc-00"
    # Each job's tenant, tier and GPUs are its service's.
    owners = replica_owners([plan], table.job_id)
    rows = zip(owners, table.job_id, table.tenant, table.tier, table.gpus, strict=True)
    for s, job_id, tenant, tier, gpus in rows:
        assert plan.names[s] == job_id.rsplit("-r", 1)[0]
        assert (tenant, tier, gpus) == (plan.tenant[s], plan.tier[s], plan.gpus[s])
    assert np.array_equal(plan.replica_counts, [seen[name] for name in plan.names])
    # The alive count per interval is exactly what the autoscaler wants.
    want = autoscaler_by_hand(plan.rates(0, len(plan)), spec)
    got = alive(table, plan, dt)
    assert np.array_equal(got, want)
    assert got.min() >= 1 and got.max() <= 6 and got.max() == 6


def test_min_and_max_replicas_bound_the_alive_count() -> None:
    spec = group(rate={"median": 3.0, "sigma": 1.5}, autoscaler={"min_replicas": 2, "max_replicas": 4})
    plan = plan_services(spec, SEED, DAY, CLOCK, DEFAULT_TENANTS)
    count = alive(replicas_of(plan, "g").jobs(), plan, 300.0)
    assert count.min() == 2 and count.max() == 4
    assert np.array_equal(count, autoscaler_by_hand(plan.rates(0, len(plan)), spec))


def test_autoscaler_follows_the_coding_profile_up_and_down() -> None:
    """Zero noise, coding profile: each service's rate is base x level, so the replicas rise in
    weekday business hours (level 10 x 168 / 740 = 2.27) and fall at night (0.23) every day."""
    spec = group(
        services=10,
        rate={"median": 4.0, "sigma": 0.3},
        profile="coding",
        noise={"sigma": 0, "phi": 0},
    )
    plan = plan_services(spec, SEED, WEEK, CLOCK, DEFAULT_TENANTS)
    rates = plan.rates(0, len(plan))
    level = rates / plan.base[:, None]
    assert np.allclose(np.unique(level.round(12)), np.array([1, 2, 4, 10]) * 168 / 740)
    table = replicas_of(plan, "g").jobs()
    total = alive(table, plan, 300.0).sum(axis=0)
    # Local hour of each interval's start (interval k covers [300 k, 300 k + 300)).
    hour_of = CLOCK.hour_of_week(np.arange(plan.n_intervals) * 300.0)
    for day in range(7):
        in_day = hour_of // 24 == day
        night = total[in_day & (hour_of % 24 >= 2) & (hour_of % 24 < 5)]
        assert night.max() == total[in_day].min()  # the day's trough is at night
        if day < 5:
            business = total[in_day & (hour_of % 24 >= 9) & (hour_of % 24 < 18)]
            assert business.min() >= 1.5 * night.max(), day
    # After each weekday's peak the count comes back to the night level.
    nights = [total[(hour_of // 24 == day) & (hour_of % 24 == 3)] for day in range(7)]
    assert all(np.array_equal(n, nights[0]) for n in nights)
    assert total.max() >= 3 * nights[0].max()


def test_flat_profile_without_noise_keeps_each_service_at_its_base_rate() -> None:
    spec = group(rate={"median": 1.5, "sigma": 1.0}, profile="flat", noise={"sigma": 0, "phi": 0})
    plan = plan_services(spec, SEED, DAY, CLOCK, DEFAULT_TENANTS)
    rates = plan.rates(0, len(plan))
    assert rates.shape == (20, 288)
    assert np.array_equal(rates, np.repeat(plan.base[:, None], 288, axis=1))
    # Hence a constant count per service, ceil(base / (0.7 x 2)) replicas, each alive all day.
    table = replicas_of(plan, "g").jobs()
    expected = np.clip(np.ceil(plan.base / 1.4 - 1e-9), 1, 32).astype(int)
    assert len(table) == expected.sum()
    assert set(table.submit) == {0.0} and set(table.end_by) == {DAY}


def test_noise_has_mean_one_so_the_mean_rate_is_the_base_rate() -> None:
    # Coding noise (0.5, 0.29) over 4 weeks (8,064 intervals) on a flat profile: each
    # service's time mean is its base within ~1.3% (SE); over 40 services within 0.2%.
    spec = group(services=40, profile="flat", noise={"sigma": 0.5, "phi": 0.29})
    plan = plan_services(spec, SEED, 4 * WEEK, CLOCK, DEFAULT_TENANTS)
    ratio = plan.rates(0, len(plan)).mean(axis=1) / plan.base
    assert abs(ratio.mean() - 1) < 0.01
    assert np.all(np.abs(ratio - 1) < 0.06)


def test_base_rates_are_lognormal_across_services() -> None:
    spec = group(services=2000, rate={"median": 3.0, "sigma": 0.5})
    plan = plan_services(spec, SEED, HOUR, CLOCK, DEFAULT_TENANTS)
    # Median SE ~ 1.25 x 0.5 / sqrt(2000) = 1.4% (5% allowed).
    assert abs(np.median(plan.base) / 3 - 1) < 0.05
    assert stats.kstest(np.log(plan.base), "norm", args=(math.log(3), 0.5)).pvalue > 0.01
    # Replica sizes follow replica_gpus {1: .5, 2: .5}; tenants come from the sme group.
    assert abs(np.mean(plan.gpus == 1) - 0.5) < 0.04
    assert set(plan.tier) == {"on-demand"} and all(t.startswith("sme-") for t in plan.tenant)
    assert plan.names[0] == "svc-0000" and plan.names[-1] == "svc-1999"


def test_a_services_curve_does_not_depend_on_group_size_or_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Base rates are drawn first (a prefix of the same normals) and each service's noise
    comes from its own stream, so services 0-4 of a group of 5 and of 12 have the same
    demand; replica jobs do not depend on how many services make a demand matrix."""
    small = plan_services(group(services=5), 3, DAY, CLOCK, DEFAULT_TENANTS)
    large = plan_services(group(services=12), 3, DAY, CLOCK, DEFAULT_TENANTS)
    assert np.array_equal(small.base, large.base[:5])
    assert np.array_equal(small.rates(0, 5), large.rates(0, 5))
    assert np.array_equal(large.rates(3, 7), large.rates(0, 12)[3:7])
    whole = replicas_of(large, "g").jobs()
    monkeypatch.setattr(inference, "CHUNK", 5)
    chunked = replicas_of(plan_services(group(services=12), 3, DAY, CLOCK, DEFAULT_TENANTS), "g").jobs()
    assert whole == chunked and len(whole) > 12


@pytest.mark.parametrize("seed", [1, 2])
def test_service_plans_are_deterministic(seed: int) -> None:
    spec = group(services=5)
    first = replicas_of(plan_services(spec, seed, DAY, CLOCK, DEFAULT_TENANTS), "g").jobs()
    again = replicas_of(plan_services(spec, seed, DAY, CLOCK, DEFAULT_TENANTS), "g").jobs()
    other = replicas_of(plan_services(spec, seed + 10, DAY, CLOCK, DEFAULT_TENANTS), "g").jobs()
    assert first == again and first != other


def test_replicas_made_a_slice_at_a_time_are_the_whole_table() -> None:
    """A run's windows take the replicas in slices: the slices one after another are the table."""
    replicas = replicas_of(plan_services(group(services=7), SEED, DAY, CLOCK, DEFAULT_TENANTS), "g")
    whole = replicas.jobs()
    cuts = [0, 1, 1, 40, len(replicas) // 2, len(replicas)]
    joined = JobTable.merge([replicas.jobs(lo, hi) for lo, hi in zip(cuts, cuts[1:], strict=False)])
    assert joined.compact() == whole and len(whole) > 40
    ends = map(float.__add__, whole.submit, whole.duration)
    assert replicas.extent() == (min(whole.submit), max(ends))


def test_replica_owners_know_exactly_the_replica_ids() -> None:
    """A job is a replica only if its id is one ``replicas_of`` made: a known service name,
    ``-r``, and a number in canonical form below that service's replica count. With two
    groups, service s of group g is s * 2 + g."""
    chat = plan_services(group(name="chat", services=3), SEED, DAY, CLOCK, DEFAULT_TENANTS)
    code = plan_services(group(name="code", services=2), SEED, DAY, CLOCK, DEFAULT_TENANTS)
    jobs = [replicas_of(plan, "g").jobs() for plan in (chat, code)]
    counts = chat.replica_counts
    assert counts.sum() == len(jobs[0]) and counts.min() >= 1
    ids = [*jobs[0].job_id, *jobs[1].job_id]
    owners = replica_owners([chat, code], ids).tolist()
    expected = [chat.names.index(i.rsplit("-r", 1)[0]) * 2 for i in jobs[0].job_id]
    expected += [code.names.index(i.rsplit("-r", 1)[0]) * 2 + 1 for i in jobs[1].job_id]
    assert owners == expected
    last = f"chat-00-r{counts[0] - 1}"
    strangers = [f"chat-00-r{counts[0]}", "chat-00-r01", "chat-00-r-1", "chat-00-r", "chat-00", "chat-07-r0",
                 "chat-00-r\N{SUPERSCRIPT TWO}", "x-chat-00-r0", "", "t1"]  # fmt: skip
    assert replica_owners([chat, code], [last, *strangers]).tolist() == [0] + [-1] * len(strangers)
    assert replica_owners([], ["chat-00-r0"]).tolist() == [-1]
