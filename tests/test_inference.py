"""Inference-service model: demand noise, autoscaler, replica lifetimes, M/M/c latency, SLO totals.

Expected values are computed independently here (exact fractions, hand-worked cases, a
Monte-Carlo M/M/3 queue, brute-force loops) rather than with the formulas under test.
"""

from __future__ import annotations

import heapq
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from sim.metrics import inference
from sim.metrics.inference import (
    erlang_c,
    mean_wait,
    ready_replicas,
    response_within,
    slo_by_interval,
    summarise_services,
)
from sim.workload.services import (
    MEASURED_NOISE,
    ar1_lognormal,
    calibrate,
    demand_rates,
    desired_replicas,
    replica_lifetimes,
)

AZURE = Path(__file__).resolve().parents[1].parent / "shared" / "traces" / "azure-llm"


def erlang_c_exact(c: int, a: Fraction) -> float:
    """Textbook Erlang C as a ratio of sums, in exact rational arithmetic."""
    last = a**c / math.factorial(c) * Fraction(c) / (c - a)
    head = sum(a**k / math.factorial(k) for k in range(c))
    return float(last / (head + last))


def erlang_c_logspace(c: int, a: float) -> float:
    """Erlang C from log terms k log a - log k! with a hand-rolled log-sum-exp."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    log_last = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    top = max(*logs, log_last)
    head = math.fsum(math.exp(v - top) for v in logs)
    last = math.exp(log_last - top)
    return last / (head + last)


# --- Erlang C -------------------------------------------------------------------------------


def test_erlang_c_mm1_and_two_servers():
    a = np.array([0.0, 0.1, 0.5, 0.9, 0.999])
    assert np.allclose(erlang_c(1, a), a, rtol=1e-13, atol=0)
    assert float(erlang_c(2, 1.0)) == pytest.approx(1 / 3, rel=1e-13)


@pytest.mark.parametrize(
    ("c", "a"), [(10, Fraction(8)), (32, Fraction(32 * 85, 100)), (5, Fraction(9, 2)), (100, Fraction(95))]
)
def test_erlang_c_textbook_values(c, a):
    assert float(erlang_c(c, float(a))) == pytest.approx(erlang_c_exact(c, a), rel=1e-11)


def test_erlang_c_known_call_centre_value():
    # 10 agents, 8 Erlang: the classic ~40.9% probability of waiting.
    assert float(erlang_c(10, 8.0)) == pytest.approx(0.4092, abs=5e-4)


def test_erlang_c_large_and_edges():
    value = float(erlang_c(1500, 1450.0))
    assert 0 < value < 1
    assert value == pytest.approx(erlang_c_logspace(1500, 1450.0), rel=1e-9)
    out = erlang_c(np.array([0, 0, 3, 3, 3, 2000]), np.array([0.0, 2.0, 0.0, 3.0, 4.0, 1999.9]))
    assert out[:5].tolist() == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert 0.9 < out[5] < 1
    with pytest.raises(ValueError):
        erlang_c(-1, 0.5)


def test_mean_wait():
    # M/M/1: E[W] = rho / (mu - lam).
    assert float(mean_wait(1, 0.5, 1.0)) == pytest.approx(1.0)
    # M/M/2, a = 1: C = 1/3, theta = 1.
    assert float(mean_wait(2, 1.0, 1.0)) == pytest.approx(1 / 3)
    assert mean_wait(np.array([0, 2, 3]), np.array([0.1, 2.0, 0.0]), 1.0).tolist() == [
        math.inf,
        math.inf,
        0.0,
    ]


# --- response time --------------------------------------------------------------------------


def test_response_within_mm1_is_exponential():
    x = np.array([0.0, 0.1, 1.0, 5.0, 40.0])
    for lam, mu in ((0.2, 1.0), (0.9, 1.0), (3.0, 7.5)):
        assert np.allclose(
            response_within(x, 1, lam, mu), 1 - np.exp(-(mu - lam) * x), rtol=1e-12, atol=1e-15
        )


def test_response_within_theta_equals_mu_is_continuous():
    # c = 2, mu = 1, lam = 1: theta = c mu - lam = 1 = mu, C = 1/3.
    x = 2.0
    exact = 1 - ((2 / 3) * math.exp(-2) + (1 / 3) * (1 + 2) * math.exp(-2))
    assert float(response_within(x, 2, 1.0, 1.0)) == pytest.approx(exact, rel=1e-13)
    for eps in (1e-12, 1e-9, 1e-7, 1e-5):
        for lam in (1 - eps, 1 + eps):
            assert float(response_within(x, 2, lam, 1.0)) == pytest.approx(exact, abs=10 * eps)


def test_response_within_extremes():
    assert response_within(1.0, np.array([0, 2, 2]), np.array([0.0, 2.0, 5.0]), 1.0).tolist() == [0, 0, 0]
    # Far-apart rates and long x: no overflow, a probability.
    value = response_within(2000.0, 1000, 1.0, 1.0)
    assert float(value) == pytest.approx(1.0)
    value = response_within(1e4, 2, 1.9999, 1.0)  # theta = 1e-4 << mu
    assert float(value) == pytest.approx(1 - math.exp(-1), rel=1e-3)
    value = response_within(np.array([1e-3, 1.0, 50.0]), 40, 39.99, 1.0)
    assert np.all((value >= 0) & (value <= 1)) and np.all(np.diff(value) > 0)


def test_response_within_matches_simulated_mm3():
    rng = np.random.default_rng(12345)
    lam, mu, c, n, warm = 2.4, 1.0, 3, 200_000, 10_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    services = rng.exponential(1 / mu, n)
    free = [0.0] * c  # FCFS: each customer takes the server that frees first
    response = np.empty(n)
    for i in range(n):
        start = max(arrivals[i], free[0])
        finish = start + services[i]
        heapq.heapreplace(free, finish)
        response[i] = finish - arrivals[i]
    response = response[warm:]
    for x in (0.25, 1.0, 2.0, 4.0):
        assert np.mean(response <= x) == pytest.approx(float(response_within(x, c, lam, mu)), abs=0.01)


# --- demand ---------------------------------------------------------------------------------


def test_ar1_lognormal_moments():
    sigma, phi = 0.8, 0.6
    x = ar1_lognormal(np.random.default_rng(7), 1_000_000, sigma, phi)
    assert x.shape == (1_000_000,)
    assert x.mean() == pytest.approx(1.0, rel=0.02)
    y = np.log(x)
    assert y.std() == pytest.approx(sigma, rel=0.02)
    assert np.corrcoef(y[:-1], y[1:])[0, 1] == pytest.approx(phi, abs=0.02)
    white = np.log(ar1_lognormal(np.random.default_rng(8), 200_000, 0.5, 0.0))
    assert abs(np.corrcoef(white[:-1], white[1:])[0, 1]) < 0.01


def test_ar1_lognormal_edges():
    assert np.array_equal(ar1_lognormal(np.random.default_rng(1), 5, 0.0, 0.5), np.ones(5))
    assert ar1_lognormal(np.random.default_rng(1), 0, 1.0, 0.5).shape == (0,)
    for phi in (1.0, -0.1):
        with pytest.raises(ValueError):
            ar1_lognormal(np.random.default_rng(1), 5, 1.0, phi)


def test_demand_rates():
    rate = demand_rates(
        np.array([2.0, 10.0]), np.array([[1.0, 0.5], [2.0, 1.0]]), np.array([[1.0, 2.0], [0.5, 3.0]])
    )
    assert rate.tolist() == [[2.0, 2.0], [10.0, 30.0]]


def test_desired_replicas_spike_and_window():
    # One replica serves target * capacity = 0.5 * 10 = 5 requests/s.
    observed = np.array([[0.0, 5.0, 15.0, 40.0, 10.0, 0.0, 0.0, 0.0, 0.0]])
    raw = desired_replicas(observed, 10.0, 0.5, 1, 6, window=1)
    assert raw.tolist() == [[1, 1, 3, 6, 2, 1, 1, 1, 1]]  # 40 / 5 = 8 clamps to 6, 0 clamps to 1
    held = desired_replicas(observed, 10.0, 0.5, 1, 6, window=3)
    # The spike raises to 6 at once and holds it for 3 intervals (k = 3, 4, 5).
    assert held.tolist() == [[1, 1, 3, 6, 6, 6, 2, 1, 1]]
    assert held.dtype.kind == "i"


def test_desired_replicas_boundary_and_per_service_capacity():
    target, capacity = 0.7, 3.0
    exact = target * capacity * 3  # a float product, not exactly 3 units after division
    out = desired_replicas(np.array([[exact, exact * (1 + 1e-6)]]), capacity, target, 0, 100, 1)
    assert out.tolist() == [[3, 4]]
    out = desired_replicas(np.array([[10.0], [10.0]]), np.array([1.0, 4.0]), 1.0, 0, 100, 1)
    assert out.tolist() == [[10], [3]]


def test_desired_replicas_matches_brute_force():
    rng = np.random.default_rng(3)
    observed = rng.gamma(1.0, 10.0, size=(5, 60))
    for window in (1, 2, 3, 4, 7, 60, 100):
        out = desired_replicas(observed, 4.0, 0.8, 0, 20, window)
        raw = np.clip(np.ceil(observed / 3.2 - 1e-9), 0, 20)
        expected = [[raw[s, max(0, k - window + 1) : k + 1].max() for k in range(60)] for s in range(5)]
        assert out.tolist() == expected


def test_replica_lifetimes_hand_example():
    desired = np.array([[0, 2, 3, 1, 0, 2, 2], [1, 1, 0, 0, 1, 1, 1]])
    rows = list(zip(*(a.tolist() for a in replica_lifetimes(desired)), strict=True))
    assert rows == [
        (1, 1, 0, 2),
        (0, 1, 1, 4),
        (0, 2, 1, 3),
        (0, 3, 2, 3),
        (1, 1, 4, 7),
        (0, 1, 5, 7),
        (0, 2, 5, 7),
    ]


def test_replica_lifetimes_reconstructs_desired():
    rng = np.random.default_rng(11)
    desired = np.maximum(0, np.cumsum(rng.integers(-2, 3, size=(6, 80)), axis=1) // 2)
    service, slot, first, end = replica_lifetimes(desired)
    count = np.zeros_like(desired)
    for s, j, a, b in zip(service, slot, first, end, strict=True):
        assert a < b and np.all(desired[s, a:b] >= j)  # slot j lives only while d >= j (LIFO)
        assert (a == 0 or desired[s, a - 1] < j) and (b == 80 or desired[s, b] < j)  # maximal runs
        count[s, a:b] += 1
    assert np.array_equal(count, desired)
    keys = list(zip(first.tolist(), service.tolist(), slot.tolist(), strict=True))
    assert keys == sorted(keys)
    empty = replica_lifetimes(np.zeros((3, 4), dtype=int))
    assert all(a.size == 0 for a in empty)
    assert all(a.size == 0 for a in replica_lifetimes(np.zeros((0, 4), dtype=int)))


# --- ready replicas and SLO -----------------------------------------------------------------


def test_ready_replicas_boundaries():
    service = np.array([0, 0, 1, 1, 1, 1, 2])
    ready = np.array([600.0, 599.9, 0.0, 300.1, 500.0, 900.0, -50.0])
    end = np.array([1200.0, 1199.9, 300.0, 600.0, 400.0, 5000.0, np.nan])
    out = ready_replicas(service, ready, end, 3, 300.0, 4)
    assert out.tolist() == [[0, 0, 2, 1], [1, 0, 0, 1], [0, 0, 0, 0]]
    # Float interval edges: ready exactly 3 * 0.1 is ready for interval 3.
    out = ready_replicas(np.array([0]), np.array([3 * 0.1]), np.array([7 * 0.1]), 1, 0.1, 10)
    assert out.tolist() == [[0, 0, 0, 1, 1, 1, 1, 0, 0, 0]]


def hand_case():
    """Two services, dt 10 s, mu 1/s, SLO 2 s; rates and ready counts chosen to hit every rule."""
    rate = np.array([[0.5, 3.0, 1.0], [1.0, 1.0, 0.0]])
    ready = np.array([[1, 2, 0], [2, 1, 0]])
    attained_00 = 5 * (1 - math.exp(-1))  # M/M/1, T ~ Exp(0.5)
    attained_10 = 10 * (1 - (5 / 3) * math.exp(-2))  # M/M/2, a = 1, theta == mu
    return rate, ready, attained_00, attained_10


def test_slo_by_interval_hand_case():
    rate, ready, attained_00, attained_10 = hand_case()
    out = slo_by_interval(rate, ready, np.array([1.0, 1.0]), 10.0, 2.0)
    assert out["requests"].tolist() == [[5.0, 30.0, 10.0], [10.0, 10.0, 0.0]]
    assert np.allclose(out["attained"], [[attained_00, 0, 0], [attained_10, 0, 0]], rtol=1e-12, atol=0)
    # Overload unserves the excess; no replica unserves everything; critical load loses nothing.
    assert out["unserved"].tolist() == [[0.0, 10.0, 10.0], [0.0, 0.0, 0.0]]
    assert out["overloaded"].tolist() == [[False, True, True], [False, True, False]]
    latency = out["latency_mean"]
    assert latency[0, 0] == pytest.approx(2.0) and latency[1, 0] == pytest.approx(4 / 3)
    assert np.isnan(latency[0, 1:]).all() and np.isnan(latency[1, 1:]).all()


def test_summarise_services_hand_case():
    rate, _, attained_00, attained_10 = hand_case()
    # Segments giving ready = [[1, 2, 0], [2, 1, 0]] at dt 10 (the last one is never fully ready).
    service = np.array([0, 0, 1, 1, 1])
    ready = np.array([0.0, 10.0, 0.0, 0.0, 25.0])
    end = np.array([20.0, 20.0, 20.0, 10.0, 30.0])
    out = summarise_services(lambda lo, hi: rate[lo:hi], service, ready, end, np.ones(2), 10.0, 3, 2.0)
    assert out.requests.tolist() == [45.0, 20.0]
    assert out.attained == pytest.approx([attained_00, attained_10], rel=1e-12)
    assert out.unserved.tolist() == [20.0, 0.0]
    assert out.replica_seconds_ready.tolist() == [30.0, 30.0]
    assert out.intervals_overloaded.tolist() == [2, 1]
    assert out.interval_requests.tolist() == [15.0, 40.0, 10.0]
    assert out.interval_unserved.tolist() == [0.0, 10.0, 10.0]
    assert out.interval_ready.tolist() == [3, 3, 0]
    assert out.interval_attained == pytest.approx([attained_00 + attained_10, 0, 0], rel=1e-12)
    assert out.attainment == pytest.approx([attained_00 / 45, attained_10 / 20], rel=1e-12)


def test_summarise_services_chunking_is_invisible(monkeypatch):
    rng = np.random.default_rng(5)
    n, t, dt = 23, 150, 60.0
    rates = rng.gamma(2.0, 1.5, size=(n, t))
    rates[:, 40:50] = 0.0
    count = 400
    service = rng.integers(0, n, count)
    ready = rng.uniform(-100, t * dt, count)
    end = ready + rng.uniform(0, 3000, count)
    mu = rng.uniform(0.5, 2.0, n)
    slo = rng.uniform(0.5, 5.0, n)

    def run(chunk):
        return summarise_services(lambda lo, hi: rates[lo:hi], service, ready, end, mu, dt, t, slo, chunk)

    big, one, odd = run(256), run(1), run(7)
    monkeypatch.setattr(inference, "_COLUMNS", 37)
    narrow = run(5)
    for other in (one, odd, narrow):
        for name in ("requests", "attained", "unserved", "replica_seconds_ready", "intervals_overloaded"):
            assert np.allclose(getattr(big, name), getattr(other, name), rtol=1e-13, atol=0), name
        assert np.array_equal(big.interval_ready, other.interval_ready)
        for name in ("interval_requests", "interval_attained", "interval_unserved"):
            assert np.allclose(getattr(big, name), getattr(other, name), rtol=1e-12, atol=1e-12), name
    for name in ("requests", "attained", "unserved", "intervals_overloaded"):
        assert np.array_equal(getattr(big, name), getattr(one, name)), name
    # And against the unchunked matrices.
    full = slo_by_interval(rates, ready_replicas(service, ready, end, n, dt, t), mu, dt, slo)
    assert np.allclose(big.attained, full["attained"].sum(axis=1), rtol=1e-12)
    assert np.allclose(big.unserved, full["unserved"].sum(axis=1), rtol=1e-12)
    assert big.unserved.sum() > 0 and big.attained.sum() > 0


# --- calibration ----------------------------------------------------------------------------


def test_calibrate_synthetic():
    counts = np.array([100, 200, 100, 200, 100, 200])
    out = calibrate(counts, 60.0)
    assert out["mean_rate"] == pytest.approx(150 / 60)
    assert out["cv"] == pytest.approx(50 / 150)
    assert out["log_sigma"] == pytest.approx(math.log(2) / 2)
    assert out["phi"] == pytest.approx(-1.0)
    assert out["peak_to_trough"] == pytest.approx(2.0)
    flat = calibrate(np.array([0, 0, 5, 5]), 1.0)
    assert flat["peak_to_trough"] == pytest.approx(5.0)  # trough floored at 1


def test_calibrate_azure_traces():
    paths = {name: AZURE / f"AzureLLMInferenceTrace_{name}.csv" for name in ("code", "conv")}
    if not all(path.exists() for path in paths.values()):
        pytest.skip(f"Azure LLM traces not present under {AZURE}")
    from sim.workload.readers.azure_llm import read_azure_llm

    stats = {}
    for name, path in paths.items():
        requests = read_azure_llm(path, bin=300).notes["series"].requests[:-1]  # last bin partial
        stats[name] = calibrate(np.array(requests), 300.0)
    assert stats["code"]["log_sigma"] > stats["conv"]["log_sigma"]
    assert stats["conv"]["phi"] > stats["code"]["phi"]
    assert (round(stats["code"]["log_sigma"], 2), round(stats["code"]["phi"], 2)) == MEASURED_NOISE["coding"]
    assert (round(stats["conv"]["log_sigma"], 2), round(stats["conv"]["phi"], 2)) == MEASURED_NOISE["chat"]
