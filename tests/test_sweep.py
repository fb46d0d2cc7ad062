"""``gpusim sweep``: the grid and its rows, resuming, atomic cells, mistakes, and Dask.

The Dask tests start a real scheduler and two single-threaded workers as separate
processes on 127.0.0.1 (``dask_cluster``) and stop them in the fixture's finalizer.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli import main
from sim.compare.metrics import comparison_metrics
from sim.compare.runner import replication_seed
from sim.sweep import make_plan, read_sweep, run_sweep
from sim.sweep.cell import CellTask, is_complete, publish, run_cell
from sim.sweep.plan import run_key

REPO = Path(__file__).resolve().parents[1]


def pool(gpus: int = 16, median: float = 600, horizon: str = "1d") -> dict[str, Any]:
    """A flat pool of ``gpus`` GPUs fed jobs of 1-2 GPUs at load 0.8 (about 900 jobs a day
    with the defaults; 128 GPUs and 2-minute jobs make about 70,000 in two days)."""
    return {
        "name": "pool",
        "horizon": horizon,
        "cluster": {"pods": [{"name": "p", "nodes": gpus, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {
            "synthetic": {
                "streams": [
                    {
                        "name": "s",
                        "load": 0.8,
                        "gpus": {1: 0.7, 2: 0.3},
                        "duration": {"median": median, "sigma": 1},
                    }
                ]
            }
        },
        "scheduler": "fifo",
    }


def grid(base: dict[str, Any] | None = None, replications: int = 2, **extra: Any) -> dict[str, Any]:
    """Loads 0.5 / 0.9 x fifo / easy on ``base`` (default: the small pool)."""
    return {
        "name": "grid",
        "base": base or pool(),
        "axes": {"workload.synthetic.streams.0.load": [0.5, 0.9], "scheduler": ["fifo", "easy"]},
        "replications": replications,
        "warmup": "1h",
        **extra,
    }


def write_sweep(folder: Path, sweep: dict[str, Any] | str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(
        sweep if isinstance(sweep, str) else yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8"
    )
    return path


def rows(out: Path) -> list[dict[str, str]]:
    with open(out / "sweep.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def cell_dirs(out: Path) -> list[str]:
    return sorted(entry.name for entry in (out / "cells").iterdir())


def test_grid_rows_come_in_axis_order_then_replication_with_compare_seeds(tmp_path: Path) -> None:
    """Every combination, the last axis fastest, then replication; replication 0 has the
    scenario's seed and r > 0 replication_seed; a row's numbers are those of that run."""
    plan = make_plan(read_sweep(write_sweep(tmp_path, grid())))
    result = run_sweep(plan, tmp_path / "out", workers=1)
    table = rows(tmp_path / "out")
    load, scheduler = "workload.synthetic.streams.0.load", "scheduler"
    assert [(r[load], r[scheduler], r["replication"]) for r in table] == [
        (x, s, r) for x in ("0.5", "0.9") for s in ("fifo", "easy") for r in ("0", "1")
    ]
    assert [int(r["seed"]) for r in table[:2]] == [0, replication_seed(0, 1)]
    assert len({r["cell"] for r in table}) == 8 == len(result.ran)
    assert cell_dirs(tmp_path / "out") == sorted(r["cell"] for r in table)
    # The last row, rerun by hand: easy at load 0.9, replication 1, warm-up 1 h.
    base = pool()
    base["workload"]["synthetic"]["streams"][0]["load"] = 0.9
    direct = sim.run(base, scheduler="easy", seed=replication_seed(0, 1))
    expected = comparison_metrics(direct.records, 3600.0)
    for name in ("utilisation", "wait_mean", "wait_p95", "wait_mean_censored", "unfinished", "revenue_eur"):
        assert float(table[-1][name]) == pytest.approx(expected[name], rel=1e-12), name
    assert float(table[-1]["energy_kwh"]) == pytest.approx(direct.summary["energy"]["kwh"], rel=1e-12)
    assert float(table[2]["wait_mean"]) < float(table[6]["wait_mean"])  # fifo waits more at 0.9


def test_a_cells_list_leaves_unset_paths_empty(tmp_path: Path) -> None:
    """``cells:`` runs exactly the listed points; a path a cell leaves out is an empty field."""
    sweep = {"base": pool(), "cells": [{"scheduler": "easy"}, {"scheduler": "fifo", "horizon": "12h"}]}
    run_sweep(make_plan(read_sweep(write_sweep(tmp_path, sweep))), tmp_path / "out", workers=1)
    table = rows(tmp_path / "out")
    assert [(r["scheduler"], r["horizon"]) for r in table] == [("easy", ""), ("fifo", "12h")]
    assert float(table[1]["jobs"]) < float(table[0]["jobs"])  # half the window, about half the jobs
    meta = json.loads((tmp_path / "out" / "sweep.json").read_text(encoding="utf-8"))
    assert [a["path"] for a in meta["axes"]] == ["scheduler", "horizon"]


def test_rerun_runs_nothing_and_a_deleted_cell_alone_is_rerun(tmp_path: Path) -> None:
    """A finished sweep rerun touches no cell; delete one cell and only it runs again, giving
    the identical sweep.csv."""
    plan = make_plan(read_sweep(write_sweep(tmp_path, grid())))
    out = tmp_path / "out"
    first = run_sweep(plan, out, workers=2)
    table = (out / "sweep.csv").read_bytes()
    stamps = {key: (out / "cells" / key / "manifest.json").stat().st_mtime_ns for key in first.ran}
    again = run_sweep(plan, out, workers=2)
    assert again.ran == [] and sorted(again.done_before) == sorted(first.ran)
    assert {key: (out / "cells" / key / "manifest.json").stat().st_mtime_ns for key in first.ran} == stamps
    victim = plan.runs[5].key
    for entry in (out / "cells" / victim).iterdir():
        entry.unlink()
    (out / "cells" / victim).rmdir()
    third = run_sweep(plan, out, workers=2)
    assert third.ran == [victim]
    assert (out / "sweep.csv").read_bytes() == table


def test_a_run_finished_twice_at_once_leaves_one_directory(tmp_path: Path) -> None:
    """Two attempts of one run in parallel: one publishes, the other keeps the first's
    directory and discards its own; nothing temporary is left."""
    plan = make_plan(read_sweep(write_sweep(tmp_path, grid(base=pool(64, 120, "1d"), replications=1))))
    run = plan.runs[0]
    cells = tmp_path / "cells"
    cells.mkdir()
    task = CellTask(run.key, run.scenario, plan.warmup, str(cells))
    with ProcessPoolExecutor(max_workers=2) as workers:
        outcomes = list(workers.map(run_cell, [task, task]))
    assert sorted(published for _, published in outcomes) == [False, True]
    assert cell_dirs(tmp_path) == [run.key] and is_complete(cells / run.key)


def test_publishing_onto_a_finished_cell_keeps_it(tmp_path: Path) -> None:
    """A complete directory is never replaced; an incomplete one under the name is."""
    final = tmp_path / "abc"
    final.mkdir()
    (final / "manifest.json").write_text('{"complete": true}', encoding="utf-8")
    (final / "metrics.json").write_text("{}", encoding="utf-8")
    late = tmp_path / ".tmp-late"
    late.mkdir()
    (late / "manifest.json").write_text('{"complete": true, "late": 1}', encoding="utf-8")
    assert publish(late, final) is False
    assert json.loads((final / "manifest.json").read_text(encoding="utf-8")) == {"complete": True}
    (final / "metrics.json").unlink()  # now incomplete: a late attempt may take its place
    assert publish(late, final) is True
    assert json.loads((final / "manifest.json").read_text(encoding="utf-8"))["late"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc"]


def test_run_key_follows_the_resolved_scenario_and_the_warmup(tmp_path: Path) -> None:
    """Two spellings of one scenario share a key; a seed or a warm-up changes it."""
    spelled = [grid(), {**grid(), "set": {"scheduler": {"name": "fifo"}}}]
    keys = [[r.key for r in make_plan(read_sweep(write_sweep(tmp_path, s))).runs] for s in spelled]
    assert keys[0] == keys[1] and len(set(keys[0])) == 8
    data = make_plan(read_sweep(write_sweep(tmp_path, grid()))).runs[0].scenario
    assert run_key(data, 0.0) != run_key(data, 3600.0) != run_key({**data, "seed": 7}, 3600.0)


def test_the_shipped_munich_sweep_is_valid() -> None:
    """scenarios/munich-sweep.yaml: 3 loads x 2 schedulers x 3 replications, the two
    schedulers of a load and replication on one seed (common random numbers)."""
    plan = make_plan(read_sweep(REPO / "scenarios" / "munich-sweep.yaml"))
    assert len(plan.values) == 6 and plan.replications == 3 and len({r.key for r in plan.runs}) == 18
    assert {r.scenario["horizon"] for r in plan.runs} == {7 * 86400.0}
    seeds = {(r.cell // 2, r.replication): set() for r in plan.runs}
    for r in plan.runs:
        seeds[(r.cell // 2, r.replication)].add(r.seed)
    assert all(len(s) == 1 for s in seeds.values())


MISTAKES = [
    # (sweep file text, expected "line: field: message" fragment)
    (
        "base: {}\naxes: {scheduler: [easy]}\nreplicas: 2\n",
        ":3: replicas: unknown key; valid keys here: name, base",
    ),
    ("base: b.yaml\naxes:\n  scheduler: [easy, nope]\n", ":3: axes.scheduler: scheduler must be one of"),
    (
        "base: b.yaml\naxes:\n  scheduler: [easy]\n  workload.synthetic.streams.4.load: [0.5]\n",
        ":4: axes.workload.synthetic.streams.4.load: list index must be an integer from 0 to 0 (got '4')",
    ),
    (
        "base: b.yaml\naxes:\n  clusterr.pods.0.nodes: [1]\n",
        ":3: axes.clusterr.pods.0.nodes: clusterr: unknown key",
    ),
    ("base: b.yaml\naxes:\n  'a..b': [1]\n", ":3: axes.a..b: axis path must be dotted keys"),
    ("base: b.yaml\naxes: {scheduler: []}\n", ":2: axes.scheduler: axis must list at least one value"),
    ("base: b.yaml\naxes: {seed: [1, 2]}\n", ":2: axes.seed: axis path must not be a column of sweep.csv"),
    (
        "base: b.yaml\naxes: {scheduler: [easy]}\nreplications: 0\n",
        ":3: replications: replications must be greater",
    ),
    ("base: b.yaml\naxes: {scheduler: [easy]}\nwarmup: soon\n", ":3: warmup: duration must be a number"),
    ("base: b.yaml\naxes: {scheduler: [easy]}\ncells: [{}]\n", ":3: cells: sweep must have either axes"),
    ("base: b.yaml\nset:\n  horizon: -1\naxes: {scheduler: [easy]}\n", ":3: set.horizon: duration must be"),
    ("base: missing.yaml\naxes: {scheduler: [easy]}\n", ":1: base: base scenario file must exist"),
    (
        "base:\n  name: x\n  cluster: {pods: [{name: p, nodes: 0, gpus_per_node: 1, gpu_type: G}]}\n"
        "axes: {scheduler: [easy]}\n",
        ":3: base.cluster.pods.0.nodes: nodes must be greater than 0",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES, ids=[m[1].split(": ")[1] for m in MISTAKES])
def test_sweep_mistakes_are_one_line_exit_2_before_anything_runs(
    tmp_path: Path, capsys: Any, text: str, expected: str
) -> None:
    write_sweep(tmp_path, pool(), "b.yaml")
    path = write_sweep(tmp_path, text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"gpusim: {path}:"), err
    assert expected in err, err
    assert not (tmp_path / "out").exists()


OVERLAP = "paths must be unique and none inside another, or one overrides the other"
SAME = "cells must run different scenarios, or a label names a setting that did not run"
REFUSED_CELLS = [
    # (sweep file text, "line: field: message" after the file name)
    (
        "base: b.yaml\naxes:\n  pricing.params.price: [1, 2]\n  pricing: [flat]\n",
        f"4: axes.pricing: axis {OVERLAP} (got 'pricing.params.price' and 'pricing')",
    ),
    (  # refused by the YAML reader, which refuses a repeated key in any mapping
        "base: b.yaml\naxes:\n  horizon: [1d, 2d]\n  scheduler: [easy]\n  horizon: [3d]\n",
        "5: axes.horizon: keys must be unique in a mapping; YAML keeps only the last value "
        "(got 'horizon' again, first at line 3)",
    ),
    (
        "base: b.yaml\ncells:\n  - {scheduler: easy}\n  - {pricing: flat, pricing.params.price: 2}\n",
        f"4: cells.1.pricing.params.price: a cell's {OVERLAP} (got 'pricing' and 'pricing.params.price')",
    ),
    (
        "base: b.yaml\naxes:\n  scheduler: [fifo, easy]\n  horizon: [1h, 3600]\n",
        f"4: axes.horizon: {SAME} (got 'scheduler=fifo, horizon=1h' and 'scheduler=fifo, horizon=3600', "
        "one scenario)",
    ),
    (
        "base: b.yaml\ncells:\n  - {scheduler: fifo}\n  - {scheduler: easy}\n  - {horizon: 1d}\n",
        f"5: cells.2: {SAME} (got 'scheduler=fifo' and 'horizon=1d', one scenario)",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), REFUSED_CELLS, ids=["inside", "twice", "inside-a-cell", "same-grid", "same-cells"]
)
def test_cells_whose_labels_would_name_settings_that_did_not_run_are_refused(
    tmp_path: Path, capsys: Any, text: str, expected: str
) -> None:
    """An axis another overrides, or two cells (labels) for one scenario, is one line, exit 2,
    before any run; the base pool runs fifo for a day."""
    write_sweep(tmp_path, pool(), "b.yaml")
    path = write_sweep(tmp_path, text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert capsys.readouterr().err == f"gpusim: {path}:{expected}\n"
    assert not (tmp_path / "out").exists()


def test_a_base_default_stays_a_default_in_the_cells(tmp_path: Path) -> None:
    """A 1 h horizon with the default 1 h sample interval is a valid base, so its cells run: a
    worker validates what was given, not the defaults written out (which it refused before)."""
    write_sweep(tmp_path, pool(horizon="1h"), "b.yaml")
    sweep = write_sweep(tmp_path, "base: b.yaml\naxes:\n  scheduler: [fifo, easy]\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 0
    assert [row["scheduler"] for row in rows(tmp_path / "out")] == ["fifo", "easy"]


def test_one_cell_listed_twice_is_still_one_run(tmp_path: Path) -> None:
    """The same point written twice has the same label: allowed, and run once (one key)."""
    sweep = "base: b.yaml\ncells:\n  - {scheduler: easy}\n  - {scheduler: easy}\n"
    write_sweep(tmp_path, pool(), "b.yaml")
    plan = make_plan(read_sweep(write_sweep(tmp_path, sweep)))
    assert len(plan.runs) == 2 and len({run.key for run in plan.runs}) == 1


def test_plot_draws_a_sweep_directory(tmp_path: Path, capsys: Any) -> None:
    """`gpusim plot SWEEP_DIR`: one PNG per axis; a directory that is no results is refused."""
    sweep = write_sweep(tmp_path, grid(replications=2))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "--quiet", "--workers", "2"]) == 0
    pngs = sorted(p.name for p in (tmp_path / "out" / "plots").iterdir())
    assert pngs == ["sweep_scheduler.png", "sweep_workload.synthetic.streams.0.load.png"]
    for png in pngs:
        (tmp_path / "out" / "plots" / png).unlink()
    assert main(["plot", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.count(".png") == 2
    assert main(["plot", str(tmp_path / "out"), str(tmp_path)]) == 2
    assert "must be a gpusim results directory" in capsys.readouterr().err


def test_parquet_matches_the_csv(tmp_path: Path) -> None:
    """With pyarrow, sweep.parquet holds the rows of sweep.csv, typed."""
    parquet = pytest.importorskip("pyarrow.parquet")
    run_sweep(make_plan(read_sweep(write_sweep(tmp_path, grid()))), tmp_path / "out", workers=1)
    table = parquet.read_table(tmp_path / "out" / "sweep.parquet").to_pylist()
    text = rows(tmp_path / "out")
    assert [r["cell"] for r in table] == [r["cell"] for r in text]
    assert [r["workload.synthetic.streams.0.load"] for r in table] == [0.5] * 4 + [0.9] * 4
    assert [r["wait_mean"] for r in table] == [float(r["wait_mean"]) for r in text]


@dataclass
class DaskCluster:
    address: str
    workers: list[subprocess.Popen[bytes]]


SCHEDULER_ARGS = ("--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--idle-timeout", "300")
# No nanny: the process we start is the worker, so killing it kills the worker (a nanny would
# restart it). A worker whose scheduler is gone exits after the death timeout.
WORKER_ARGS = ("--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard", "--death-timeout", "60")


@pytest.fixture
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A scheduler and two workers (one thread each, no nanny) in their own processes."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []

    def start(module: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(folder / f"{module.rsplit('.', 1)[-1]}-{len(processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=folder, stdout=log, stderr=log)
        log.close()
        processes.append(process)
        return process

    try:
        start("distributed.cli.dask_scheduler", *SCHEDULER_ARGS, "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 30
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        workers = [
            start("distributed.cli.dask_worker", *WORKER_ARGS, "--scheduler-file", str(scheduler_file))
            for _ in range(2)
        ]
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield DaskCluster(address, workers)
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_dask_cluster_gives_the_local_executors_table(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    """The same sweep on two local processes and on a Dask cluster: identical sweep.csv and sweep.json."""
    sweep = str(write_sweep(tmp_path, grid()))
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert main(["sweep", sweep, "--out", str(local), "--quiet", "--workers", "2"]) == 0
    assert main(["sweep", sweep, "--out", str(dask), "--quiet", "--dask", dask_cluster.address]) == 0
    for name in ("sweep.csv", "sweep.json"):
        assert (dask / name).read_bytes() == (local / name).read_bytes(), name
    assert cell_dirs(dask) == cell_dirs(local)


def test_a_worker_killed_mid_sweep_loses_no_cell(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    """Kill one of two workers once a cell has finished: the sweep still completes, with one
    directory and one row per run, and no temporary directory left behind."""
    distributed = pytest.importorskip("distributed")
    sweep = grid(base=pool(128, 120, "2d"), replications=1)
    sweep["axes"]["workload.synthetic.streams.0.load"] = [0.5, 0.7, 0.9]
    path = write_sweep(tmp_path, sweep)
    plan = make_plan(read_sweep(path))
    out, address = tmp_path / "out", dask_cluster.address
    driver = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--quiet", "--dask", address],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        finished: list[Path] = []
        while not finished and time.monotonic() < deadline and driver.poll() is None:
            time.sleep(0.05)
            finished = [d for d in (out / "cells").glob("[0-9a-f]*")] if (out / "cells").is_dir() else []
        assert finished and driver.poll() is None, "no cell finished while the sweep ran"
        victim = dask_cluster.workers[0]
        with distributed.Client(address, timeout="30s") as client:
            worker = next(a for a, pid in client.run(os.getpid).items() if pid == victim.pid)
            in_flight = [key.split("-")[2] for key in client.processing()[worker]]
        assert in_flight, "the worker to kill must be running a cell"
        victim.kill()
        victim.wait()
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, err.decode()
    assert cell_dirs(out) == sorted(run.key for run in plan.runs)  # no ".tmp-" leftovers either
    assert all(is_complete(out / "cells" / run.key) for run in plan.runs)
    assert [r["cell"] for r in rows(out)] == [run.key for run in plan.runs]
    assert set(in_flight) <= {run.key for run in plan.runs}  # its cell was run again elsewhere
