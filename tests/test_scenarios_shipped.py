"""Every shipped scenario validates and opens with its question; quick facts of two of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim
from sim.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_validates_and_opens_with_a_question(path: Path) -> None:
    load_scenario(path)
    text = path.read_text()
    opening = text.split("\nname:", 1)[0]
    assert opening.startswith("# ") and "?" in opening
    assert not re.search(r"(^|\s)/(work|root|home|tmp)/", text)


def test_digital_twin_interactive_sessions_arrive_only_in_weekday_office_hours() -> None:
    """Start Monday 2026-01-05 00:00 Europe/Berlin (UTC+1, no DST in January): sim time modulo a
    day is local time."""
    path = next(p for p in SCENARIOS if p.name == "digital-twin-workday.yaml")
    jobs = sim.run(path, horizon="2d", metrics__sample_interval="1h").jobs
    interactive = [job.submit_time for job in jobs if job.job_class == "twin_interactive"]
    assert len(interactive) > 100
    assert all(8 * 3600 <= t % 86400 < 18 * 3600 and t // 86400 < 5 for t in interactive)


def test_ramp_up_has_7920_gpus_and_a_reserved_third() -> None:
    path = next(p for p in SCENARIOS if p.name == "ramp-up-2026.yaml")
    result = sim.run(path, horizon="2d")
    assert result.summary["capacity_gpus"] == 11 * 90 * 8 == 7920
    tiers = {job.tier for job in result.jobs if job.job_class == "training"}
    assert tiers == {"reserved", "on-demand", "spot"}
