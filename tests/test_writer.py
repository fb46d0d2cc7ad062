"""The results directory: file set, CSV format, byte-for-byte reproducibility, atomic writes, plots."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import pytest

from sim.metrics import summarize
from sim.records import JOB_COLUMNS, JobRecord, RunRecords, Segment
from sim.report import plot_all, queue_delay_cdf, utilisation_heatmap, wait_by_class, write_results
from sim.scenario.schema import Scenario

NAN = math.nan
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "writer-test",
            "seed": 7,
            "cluster": {
                "pods": [{"name": "p", "nodes": 2, "gpus_per_node": 4, "gpu_type": "b200", "count": 2}]
            },
            "workload": {
                "synthetic": {
                    "arrivals_for": "1h",
                    "streams": [{"name": "s", "rate_per_hour": 10, "duration": {"median": "5m", "sigma": 1}}],
                }
            },
        }
    )


def records() -> RunRecords:
    base = {"gpu_type": "b200", "requested_time": NAN, "priority": 0}
    jobs = [
        JobRecord(
            job_id="a",
            tenant="t1",
            job_class="train",
            gpus=4,
            submit_time=0.1,
            duration=1 / 3,
            start_time=0.3,
            end_time=0.3 + 1 / 3,
            status="completed",
            pods="p-01",
            allocated_gpus=4,
            cost=1e-17,
            **base,
        ),
        JobRecord(
            job_id="b",
            tenant="t2",
            job_class="infer",
            gpus=2,
            submit_time=5.0,
            duration=7200.0,
            start_time=3600.25,
            end_time=NAN,
            status="unfinished",
            pods="p-01,p-02",
            allocated_gpus=2,
            reason="running at horizon",
            **base,
        ),
        JobRecord(
            job_id="c",
            tenant="t2",
            job_class="train",
            gpus=64,
            submit_time=9.0,
            duration=60.0,
            start_time=NAN,
            end_time=NAN,
            status="rejected",
            reason="needs 64 b200, cluster has 16",
            **base,
        ),
    ]
    timeseries = {
        "utilisation.pod.p-02": [0.0, 0.5, 0.25],
        "time": [0.0, 3600.0, 7200.0],
        "utilisation": [0.0, 0.375, 0.1 + 0.2],
        "utilisation.pod.p-01": [0.0, 0.25, 0.35],
        "queue_jobs": [0.0, 1.0, 0.0],
    }
    segments = [
        Segment(j.job_id, j.start_time, 7200.0 if math.isnan(j.end_time) else j.end_time, j.gpu_type,
                j.allocated_gpus, "p-01/0", "p-01", j.status, 0.0)
        for j in jobs
        if j.started
    ]  # fmt: skip
    return RunRecords(
        segments=segments,
        jobs=jobs,
        timeseries=timeseries,
        capacity_gpus=16,
        capacity_by_type={"b200": 16},
        capacity_by_pod={"p-01": 8, "p-02": 8},
        end_time=7200.0,
        horizon=7200.0,
        events=12,
    )


def write(out: Path, plots: bool = False) -> Path:
    recs = records()
    manifest = {"seed": 7, "version": "0.1.0", "events": recs.events}
    return write_results(
        out, scenario=scenario(), records=recs, summary=summarize(recs), manifest=manifest, plots=plots
    )


def test_results_directory_holds_every_output(tmp_path: Path) -> None:
    """A results directory has manifest.json, jobs.csv, segments.csv, timeseries.csv,
    summary.json, bills.csv, plots/."""
    out = write(tmp_path / "run", plots=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "bills.csv",
        "jobs.csv",
        "manifest.json",
        "plots",
        "segments.csv",
        "summary.json",
        "timeseries.csv",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary sibling left behind


def test_manifest_adds_scenario_and_complete(tmp_path: Path) -> None:
    """manifest.json = the given dict + the resolved scenario + complete: true, keys sorted."""
    text = (write(tmp_path / "run") / "manifest.json").read_text()
    manifest = json.loads(text)
    assert manifest["complete"] is True
    assert manifest["seed"] == 7
    assert manifest["scenario"]["name"] == "writer-test"
    assert manifest["scenario"]["cluster"]["pods"][0]["count"] == 2
    assert list(manifest) == sorted(manifest)
    assert text.endswith("}\n") and '\n  "complete": true,' in text


def test_manifest_complete_comes_from_the_caller_or_the_records(tmp_path: Path) -> None:
    """complete: the caller's value if given, else false exactly when the run was stopped early."""
    recs = records()
    stopped = dataclasses.replace(recs, stopped_at=3600.0)

    def complete(name: str, run: RunRecords, **given: bool) -> bool:
        out = write_results(
            tmp_path / name, scenario=scenario(), records=run, summary={}, manifest={}, plots=False, **given
        )
        return json.loads((out / "manifest.json").read_text())["complete"]

    assert complete("normal", recs) is True
    assert complete("stopped", stopped) is False
    assert complete("told-false", recs, complete=False) is False
    assert complete("told-true", stopped, complete=True) is True


def test_failure_in_the_plots_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plots go into the temporary directory with the rest: a failure there removes everything."""
    import sim.report.plots

    def broken(run: RunRecords, plots_dir: Path) -> list[Path]:
        plot_all(run, plots_dir)
        raise OSError("disk full")

    monkeypatch.setattr(sim.report.plots, "plot_all", broken)
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path / "run", plots=True)
    assert list(tmp_path.iterdir()) == []


def test_jobs_csv_columns_rows_and_fields(tmp_path: Path) -> None:
    """jobs.csv: JOB_COLUMNS in order, rows in record order, NaN empty, wait_time computed."""
    raw = (write(tmp_path / "run") / "jobs.csv").read_bytes()
    assert b"\r" not in raw
    rows = list(csv.DictReader(raw.decode().splitlines()))
    header = raw.decode().split("\n", 1)[0]
    assert header == ",".join(JOB_COLUMNS)
    assert [row["job_id"] for row in rows] == ["a", "b", "c"]
    assert rows[1]["end_time"] == "" and rows[2]["start_time"] == "" and rows[2]["wait_time"] == ""
    assert rows[0]["requested_time"] == ""
    assert rows[1]["wait_time"] == repr(3600.25 - 5.0)
    assert rows[1]["pods"] == "p-01,p-02"  # quoted in the file, one field when read
    assert rows[0]["gpus"] == "4" and rows[0]["preemptions"] == "0"
    assert rows[2]["reason"] == "needs 64 b200, cluster has 16"


def test_jobs_csv_floats_round_trip_exactly(tmp_path: Path) -> None:
    """Floats are written with repr, so reading them back gives the very same doubles."""
    rows = list(csv.DictReader((write(tmp_path / "run") / "jobs.csv").read_text().splitlines()))
    first = records().jobs[0]
    assert float(rows[0]["end_time"]) == first.end_time == 0.3 + 1 / 3
    assert float(rows[0]["duration"]) == 1 / 3
    assert float(rows[0]["wait_time"]) == 0.3 - 0.1
    assert float(rows[0]["cost"]) == 1e-17
    assert rows[0]["submit_time"] == "0.1"


def test_timeseries_csv_time_first_then_sorted(tmp_path: Path) -> None:
    """timeseries.csv starts with time, then the other columns in name order."""
    lines = (write(tmp_path / "run") / "timeseries.csv").read_text().splitlines()
    assert lines[0] == "time,queue_jobs,utilisation,utilisation.pod.p-01,utilisation.pod.p-02"
    assert lines[1] == "0.0,0.0,0.0,0.0,0.0"
    assert lines[3] == f"7200.0,0.0,{0.1 + 0.2!r},0.35,0.25"


def test_summary_json_sorted_with_nulls(tmp_path: Path) -> None:
    """summary.json: sorted keys, indent 2, undefined metrics as null."""
    text = (write(tmp_path / "run") / "summary.json").read_text()
    summary = json.loads(text)
    assert summary["jct"]["mean"] == pytest.approx(1 / 3 + 0.2)
    assert summary["bounded_slowdown"] == {"mean": 1.0, "p50": 1.0, "p95": 1.0}
    assert summary["fairness_jain"] == 1.0  # one tenant with a completed job
    assert '"makespan": ' in text and "NaN" not in text
    assert list(summary) == sorted(summary)
    # a's 4 GPUs for 1/3 s + b's 2 GPUs from 3600.25 to the 7200 s horizon, over 16 GPUs x 7199.9 s
    assert summary["utilisation"] == pytest.approx((4 / 3 + 2 * 3599.75) / (16 * 7199.9))


def test_identical_inputs_give_identical_bytes(tmp_path: Path) -> None:
    """Writing the same run twice gives byte-identical jobs.csv, timeseries.csv, summary.json, manifest."""
    one, two = write(tmp_path / "one", plots=True), write(tmp_path / "two", plots=True)
    for name in ("jobs.csv", "timeseries.csv", "summary.json", "manifest.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_non_empty_target_raises_and_leaves_no_temp_dir(tmp_path: Path) -> None:
    """An existing non-empty results directory is never overwritten, and no temp dir remains."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_empty_target_is_replaced(tmp_path: Path) -> None:
    """An existing empty directory is replaced by the results."""
    out = tmp_path / "run"
    out.mkdir()
    write(out)
    assert (out / "jobs.csv").is_file()


def test_failure_midway_leaves_nothing(tmp_path: Path) -> None:
    """If writing fails, neither the target nor the temporary directory is left behind."""
    recs = records()
    bad = RunRecords(
        jobs=recs.jobs,
        timeseries={"time": [0.0, 1.0], "x": [1.0]},
        capacity_gpus=16,
        capacity_by_type={},
        capacity_by_pod={},
        end_time=1.0,
        horizon=None,
        events=0,
    )
    with pytest.raises(ValueError, match="equal lengths"):
        write_results(tmp_path / "run", scenario=scenario(), records=bad, summary={}, manifest={})
    assert list(tmp_path.iterdir()) == []


def test_plots_are_non_empty_pngs(tmp_path: Path) -> None:
    """plot_all writes the three plots as PNG files."""
    paths = plot_all(records(), tmp_path / "plots")
    assert sorted(p.name for p in paths) == [
        "queue_delay_cdf.png",
        "utilisation_heatmap.png",
        "wait_by_class.png",
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, path.name
        assert b"Software" not in data and b"matplotlib" not in data.lower()


def test_plots_handle_empty_inputs(tmp_path: Path) -> None:
    """With no started jobs and no samples each plot still writes a PNG (with a note)."""
    rejected = [records().jobs[2]]
    for path in (
        queue_delay_cdf(rejected, tmp_path / "cdf.png"),
        wait_by_class([], tmp_path / "wait.png"),
        utilisation_heatmap({}, tmp_path / "heat.png"),
        utilisation_heatmap({"time": [5.0], "utilisation.pod.x": [0.5]}, tmp_path / "one.png"),
    ):
        assert path.read_bytes().startswith(PNG_MAGIC)
