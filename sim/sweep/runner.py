"""Run a sweep's plan: skip finished runs, run the rest on an executor, write the tables.

Executors (the results are the same whichever runs them: every run writes its own
directory, and the tables are read back from those directories in plan order):

    local   a process pool over ``workers`` processes (default: the CPU count); one worker
            runs in this process. Needs nothing beyond gpusim.
    dask    ``dask="tcp://host:port"`` connects a ``distributed.Client`` to a running
            scheduler (its workers need gpusim installed and the sweep directory on a
            shared filesystem); ``dask="local"`` starts a ``LocalCluster`` of ``workers``
            single-threaded worker processes here. Dask re-runs the runs of a worker it
            loses; ``sim.sweep.cell`` makes a run that finishes twice leave one directory.

A sweep directory::

    cells/<key>/    one finished run each (``sim.sweep.cell``): gpusim run's files + metrics.json
    sweep.csv, sweep.json, sweep.parquet    the tables (``sim.sweep.output``)
    plots/          drawn by the command (``sim.report.sweep_plots``)

Rerunning a sweep into the same directory runs only what has no complete directory, so an
interrupted sweep resumes and a grown sweep runs only its new cells.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError
from sim.sweep.cell import CellTask, is_complete, remove_leftovers, run_cell
from sim.sweep.output import write_outputs
from sim.sweep.plan import Plan
from sim.workers import interruptible_pool

LOCAL_DASK = "local"

OnRun = Callable[[str], None]


@dataclass(frozen=True)
class SweepResult:
    """What one invocation did: the plan, the directory, the keys it ran and those it found done."""

    plan: Plan
    out: Path
    ran: list[str]
    done_before: list[str]
    files: list[Path]


def check_sweep_dir(out: Path) -> None:
    """Raise UserError unless ``out`` is absent, empty, or a sweep directory (to resume)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError("sweep directory must be a directory (it is a file)", source=str(out))
    if (out / "sweep.json").is_file() or (out / "cells").is_dir() or not any(out.iterdir()):
        return
    raise UserError(
        "sweep directory must be new, empty, or a sweep directory to resume (it holds other files)",
        source=str(out),
    )


def run_sweep(
    plan: Plan,
    out: Path,
    *,
    workers: int | None = None,
    dask: str | None = None,
    on_run: OnRun | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every run of ``plan`` that has no complete directory under ``out/cells``, then write
    the tables; return what was done.

    ``on_start(to_run, done_before)`` is called once before running, ``on_run(key)`` after
    each run finishes. ``workers`` caps the local pool or the size of ``dask="local"``.
    """
    out = Path(out)
    if dask not in (None, LOCAL_DASK) and workers is not None:
        raise UserError(
            f"--workers must not be given with a scheduler address: its cluster has its workers "
            f"(got --workers {workers})",
            field="--workers",
        )
    if dask is not None and importlib.util.find_spec("distributed") is None:
        raise UserError("--dask needs Dask: pip install 'gpusim[dask]'", field="--dask")
    check_sweep_dir(out)
    cells_dir = (out / "cells").resolve()
    cells_dir.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(run.key for run in plan.runs))
    done_before = [key for key in keys if is_complete(cells_dir / key)]
    finished = set(done_before)
    todo = [
        CellTask(run.key, run.scenario, plan.warmup, str(cells_dir))
        for run in {run.key: run for run in plan.runs if run.key not in finished}.values()
    ]
    if on_start is not None:
        on_start(len(todo), len(done_before))
    try:
        ran = _run_local(todo, workers, on_run) if dask is None else _run_dask(todo, dask, workers, on_run)
    finally:
        remove_leftovers(cells_dir)
    missing = [key for key in keys if not is_complete(cells_dir / key)]
    if missing:  # every task returned, yet its directory is not here: workers write elsewhere
        raise UserError(
            f"runs must be written where the sweep reads them: with --dask ADDRESS the workers must see "
            f"this directory at the same path, on a shared filesystem (got {len(missing)} missing, "
            f"e.g. {missing[0]})",
            source=str(cells_dir),
        )
    return SweepResult(plan, out, ran, done_before, write_outputs(plan, out))


def _collect(results: Iterable[tuple[str, bool]], on_run: OnRun | None) -> list[str]:
    ran = []
    for key, published in results:
        if published:
            ran.append(key)
        if on_run is not None:
            on_run(key)
    return ran


def _run_local(tasks: list[CellTask], workers: int | None, on_run: OnRun | None) -> list[str]:
    """Run ``tasks`` in a process pool (or here, with one worker); stop at the first error.

    Workers ignore SIGINT: Ctrl-C reaches this process, which terminates them at once
    (a run cut short leaves only a temporary directory, removed by ``run_sweep``) instead
    of letting each finish the run it holds.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    if workers == 1:
        return _collect((run_cell(task) for task in tasks), on_run)
    with interruptible_pool(workers) as pool:
        return _collect(pool.imap_unordered(run_cell, tasks), on_run)


def _run_dask(tasks: list[CellTask], address: str, workers: int | None, on_run: OnRun | None) -> list[str]:
    """Run ``tasks`` on a Dask cluster: the scheduler at ``address``, or a LocalCluster."""
    from distributed import Client, LocalCluster, as_completed

    if not tasks:
        return []
    cluster = None
    try:
        if address == LOCAL_DASK:
            cluster = LocalCluster(
                n_workers=max(1, min(workers or os.cpu_count() or 1, len(tasks))),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="20s")
            except (OSError, ValueError) as error:
                raise UserError(
                    f"--dask must be the address of a running Dask scheduler such as tcp://host:8786 "
                    f"({error}; got {address!r})",
                    field="--dask",
                ) from None
        with client:
            # A fresh key per submission: the scheduler must not hand this sweep the result of
            # another client's task for the same run (it may write into another directory).
            futures = [
                client.submit(run_cell, task, key=f"gpusim-cell-{task.key}-{uuid.uuid4().hex[:8]}")
                for task in tasks
            ]
            try:
                return _collect((future.result() for future in as_completed(futures)), on_run)
            finally:
                client.cancel(futures)
    finally:
        if cluster is not None:
            cluster.close()
