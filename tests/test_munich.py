"""The default scenario, one week: the AI-factory workload's acceptance checks (issue 3).

One run of ``scenarios/munich.yaml --set horizon=7d`` (about 15 s), read back from the files a
user gets: jobs.csv for classes, tenants and the arrival cycle, timeseries.csv for the
inference replicas, summary.json for utilisation and SLO attainment.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main

MUNICH = Path(__file__).resolve().parent.parent / "scenarios" / "munich.yaml"
DAY = 86400.0


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("munich") / "run"
    assert main(["run", str(MUNICH), "--set", "horizon=7d", "--out", str(out), "--quiet"]) == 0
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_cluster_classes_tenants_and_tiers(week: Path) -> None:
    summary = json.loads((week / "summary.json").read_text())
    assert summary["capacity_gpus"] == 14 * 90 * 8 == 10_080
    jobs = read_csv(week / "jobs.csv")
    assert {job["job_class"] for job in jobs} == {"training", "digital_twin", "inference"}
    assert len({job["tenant"] for job in jobs}) >= 1000
    assert {job["tier"] for job in jobs} == {"reserved", "on-demand", "spot"}
    assert {job["gpu_type"] for job in jobs if job["job_class"] == "training"} == {"B200"}
    # Every job is a row with a final status; none is lost.
    assert summary["jobs"]["total"] == len(jobs)
    assert {job["status"] for job in jobs} <= {"completed", "failed", "cancelled", "unfinished", "rejected"}


def test_weekday_business_hours_bring_more_arrivals(week: Path) -> None:
    """Arrivals per hour of training + digital twins: weekday 08-18 >= 1.5x the 22-06 rate.

    The run starts on Monday 2026-01-05 00:00 Europe/Berlin (UTC+1 all week, no DST), so
    local time is simulation time modulo a day.
    """
    submit = np.array(
        [float(j["submit_time"]) for j in read_csv(week / "jobs.csv") if j["job_class"] != "inference"]
    )
    day, hour = (submit // DAY) % 7, (submit % DAY) / 3600
    business = np.count_nonzero((day < 5) & (hour >= 8) & (hour < 18)) / (5 * 10)
    night = np.count_nonzero((hour >= 22) | (hour < 6)) / (7 * 8)
    assert business >= 1.5 * night


def test_inference_replicas_follow_the_day(week: Path) -> None:
    """Running inference replicas on a weekday: peak / trough >= 1.5 (timeseries.csv)."""
    rows = read_csv(week / "timeseries.csv")
    time = np.array([float(r["time"]) for r in rows])
    replicas = np.array([float(r["running_jobs.inference"]) for r in rows])
    for day in range(1, 5):  # Tuesday to Friday: whole days with services already up
        today = replicas[(time >= day * DAY) & (time < (day + 1) * DAY)]
        assert today.min() > 0
        assert today.max() / today.min() >= 1.5


def test_utilisation_and_slo_summary(week: Path) -> None:
    summary = json.loads((week / "summary.json").read_text())
    assert 0.60 <= summary["utilisation"] <= 0.95
    by_class = summary["utilisation_by_class"]
    assert sum(by_class.values()) == pytest.approx(summary["utilisation"], rel=1e-9)
    inference = summary["inference"]
    assert inference["services"] == 300
    assert sum(tier["services"] for tier in inference["by_tier"].values()) == 300
    assert 0 < inference["attainment"] <= 1
    services = read_csv(week / "services.csv")
    assert len(services) == 300
    requests = sum(float(s["requests"]) for s in services)
    assert requests == pytest.approx(inference["requests"], rel=1e-9)
