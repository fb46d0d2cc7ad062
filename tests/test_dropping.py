"""Dropping ended jobs (sim/engine/dropping.py) changes nothing a run writes.

The engine forgets ended jobs between passes and renumbers every job number still held
(its own structures and each policy's ``jobs_dropped``). Any number left wrong would
start, charge, admit or withdraw the wrong job: here every run is made twice, never
dropping and dropping every few passes (its records then spooled to disk and read back:
``spilling.py``), and every output file must be the same bytes. The runs cover every
scheduler, the quotas, spot preemption with a notice, dynamic prices with deferring demand
and inference services.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.engine import dropping
from sim.engine.dropping import EVERY_PASS, NEVER, DropRule
from sim.spool import TextColumn
from sim.workload.jobs import JobTable

HERE = Path(__file__).resolve().parent
SMALL = HERE / "data" / "small-munich.yaml"
SCENARIOS = HERE.parent / "scenarios"

DROP = dropping.drop  # the real one (the tests wrap it to count)
OFTEN = DropRule(min_jobs=40, share=0.0)  # every few passes (every pass costs a table copy each)

RUNS: dict[str, tuple[Path, dict[str, Any]]] = {
    "easy": (SMALL, {"horizon": "12h"}),
    "fifo": (SMALL, {"horizon": "12h", "scheduler": "fifo"}),
    "sjf": (SMALL, {"horizon": "12h", "scheduler": "sjf"}),
    "fairshare": (SMALL, {"horizon": "12h", "scheduler": "fairshare"}),
    "priority": (SMALL, {"horizon": "12h", "scheduler": "priority"}),
    "conservative": (SMALL, {"horizon": "4h", "scheduler": "conservative",
                             "scheduler.params.reservation_depth": 50}),
    "srtf": (SMALL, {"horizon": "4h", "scheduler": "srtf"}),
    "tiresias": (SMALL, {"horizon": "12h", "scheduler": "tiresias",
                         "scheduler.params.thresholds": [600, 3600]}),
    "caps": (SMALL, {"horizon": "12h", "quota": "caps", "quota.params.per_tenant": 32}),
    "pod_local": (SMALL, {"horizon": "12h", "placement": "pod_local", "placement.params.strict": False,
                          "placement.params.span_slowdown": 1.2}),
    "kueue": (SCENARIOS / "quota-kueue-cohorts.yaml", {"horizon": "12h"}),
    "reserved_share": (SCENARIOS / "sme-reserved-share.yaml", {"horizon": "4h"}),
    "spot_notice": (SCENARIOS / "pricing-spot-market.yaml",
                    {"horizon": "12h", "preemption.spot_notice": "10m"}),
    "dynamic_prices": (SCENARIOS / "pricing-spot-market.yaml", {"horizon": "12h", "pricing": "dynamic"}),
    "inference": (SCENARIOS / "sme-inference-surge.yaml", {"horizon": "4h"}),
}  # fmt: skip


def outputs(folder: Path) -> dict[str, str]:
    """sha256 of every file a run wrote, but its manifest (which holds the wall time)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != "manifest.json"
    }


def run_counting(
    monkeypatch: pytest.MonkeyPatch, rule: DropRule, path: Path, out: Path, **overrides: Any
) -> tuple[sim.Result, list[int]]:
    """A run under ``rule`` and the count of each drop it made."""
    counts: list[int] = []

    def counted(engine: Any, ended: Any) -> None:
        counts.append(len(ended))
        DROP(engine, ended)

    monkeypatch.setattr(dropping, "DEFAULT", rule)
    monkeypatch.setattr(dropping, "FED", rule)  # (sim.run feeds the engine week by week)
    monkeypatch.setattr(dropping, "drop", counted)
    return sim.run(path, out=out, plots=False, **overrides), counts


@pytest.mark.parametrize("name", list(RUNS))
def test_dropping_at_every_pass_writes_the_same_bytes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, overrides = RUNS[name]
    kept, none = run_counting(monkeypatch, NEVER, path, tmp_path / "never", **overrides)
    dropped, counts = run_counting(monkeypatch, OFTEN, path, tmp_path / "often", **overrides)
    assert not none
    assert len(counts) >= 10 and sum(counts) > len(kept.records.jobs) // 10, (len(counts), sum(counts))
    assert outputs(tmp_path / "often") == outputs(tmp_path / "never")
    assert kept.records.jobs == dropped.records.jobs
    spooled = [dropped.records.jobs.column("job_id"), dropped.records.segments.column("job_id")]
    assert all(isinstance(column, TextColumn) for column in spooled)  # read back from disk (spilling.py)


@pytest.mark.parametrize("name", ["easy", "kueue", "spot_notice"])
def test_invariants_hold_while_dropping(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``check`` the engine recomputes its state after every event and pass: every
    arrived job still in the table is in exactly one state, the counters match."""
    path, overrides = RUNS[name]
    overrides = {**overrides, "horizon": "3h"}
    result, counts = run_counting(monkeypatch, EVERY_PASS, path, None, check=True, **overrides)  # type: ignore[arg-type]
    assert counts and result.summary["jobs"]["total"] == len(result.records.jobs)


def test_a_drop_waits_for_its_share_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the whole workload in the table, a drop waits until the ended jobs are a share of
    it, so the rows copied stay in proportion to the rows freed: a handful of drops a run."""
    path, overrides = RUNS["easy"]
    rule = DropRule(min_jobs=500, share=0.25)
    result, counts = run_counting(monkeypatch, rule, path, None, **overrides)  # type: ignore[arg-type]
    assert 1 <= len(counts) <= 8, counts
    table = len(result.records.jobs)
    for count in counts:
        assert count >= 500 and count >= 0.25 * table, (count, table)
        table -= count


def test_the_callers_table_is_left_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine drops rows from its own table object, never from the workload it was given."""
    from sim.api import resolve, run_workload
    from sim.cluster.state import ClusterLayout
    from sim.workload.build import build_workload

    monkeypatch.setattr(dropping, "DEFAULT", OFTEN)
    scenario = resolve(SMALL, {"horizon": "6h"})
    layout = ClusterLayout.from_scenario(scenario.cluster)
    workload = build_workload(scenario, layout)
    before = {name: list(getattr(workload.jobs, name)) for name in JobTable.__slots__}
    records = run_workload(scenario, layout, workload)
    assert {name: list(getattr(workload.jobs, name)) for name in JobTable.__slots__} == before
    assert [job.job_id for job in records.jobs] == before["job_id"]


def test_a_claimant_dropped_once_stays_gone() -> None:
    """A spot notice whose claimant was dropped keeps -1 (never queued) through later drops:
    renumbering -1 as a job number would make it the last job's claim."""
    import numpy as np

    from sim.engine.notice import Notices
    from sim.policies.base import Renumbering

    notices = Notices(None, 60.0)  # type: ignore[arg-type]
    notices.leaving = {5: 2, 7: -1}
    notices.claims = {2, 6}
    keep = np.ones(8, dtype=bool)
    keep[[1, 2]] = False  # jobs 1 and 2 ended; 0, 3, 4, 5, 6, 7 become 0 .. 5
    notices.jobs_dropped(Renumbering(keep))
    assert notices.leaving == {3: -1, 5: -1}
    assert notices.claims == {4}
