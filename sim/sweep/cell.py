"""One run of a sweep, as a worker does it: run, write, publish atomically, at most once.

A run's directory ``cells/<key>/`` holds what ``gpusim run`` writes (without plots) plus
``metrics.json``. It is filled under a hidden temporary name (``.tmp-<key>-<random>``,
unique per attempt even across machines) and then renamed to ``<key>``; a rename is
atomic, so ``cells/<key>/`` either is complete or does not exist, and a worker killed
mid-run leaves only a hidden temporary directory (removed by the driver at the end).

A run may be attempted twice at once: Dask re-runs the tasks of a worker it lost, and that
worker may have been slow rather than dead. Renaming a directory onto a non-empty one
fails, so the second attempt to finish finds the first's directory, keeps it and discards
its own; exactly one directory remains and nothing is overwritten.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.api import run
from sim.report.writer import json_text
from sim.scenario import scenario_from_data
from sim.sweep.output import CELL_METRICS, run_metrics

TMP_PREFIX = ".tmp-"
STALE_PREFIX = ".stale-"
_PUBLISH_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class CellTask:
    """What a worker gets: the run's key, its resolved scenario, the warm-up and the absolute
    path of the sweep's cells/ directory (a worker's working directory may be elsewhere)."""

    key: str
    scenario: dict[str, Any]
    warmup: float
    cells_dir: str


def is_complete(cell_dir: Path) -> bool:
    """Whether ``cell_dir`` is a finished run: its manifest says complete and it has metrics."""
    try:
        manifest = json.loads((cell_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("complete") is True and (cell_dir / CELL_METRICS).is_file()


def run_cell(task: CellTask) -> tuple[str, bool]:
    """Run ``task`` unless its directory is complete; return (key, whether this call published it)."""
    final = Path(task.cells_dir) / task.key
    if is_complete(final):
        return task.key, False
    tmp = final.parent / f"{TMP_PREFIX}{task.key}-{uuid.uuid4().hex[:12]}"
    try:
        scenario = scenario_from_data(task.scenario, source=f"cells/{task.key}")
        result = run(scenario, out=tmp, plots=False)
        metrics = run_metrics(result.records, result.summary, task.warmup)
        document = {"key": task.key, "seed": scenario.seed, "warmup_s": task.warmup, "metrics": metrics}
        (tmp / CELL_METRICS).write_text(json_text(document), encoding="utf-8")
        return task.key, publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already if published


def publish(tmp: Path, final: Path) -> bool:
    """Rename the filled ``tmp`` to ``final``; False (``tmp`` left to the caller) if a complete
    ``final`` exists already. An incomplete ``final`` (not written by a sweep: cells are
    renamed into place whole) is moved aside and replaced."""
    for _ in range(_PUBLISH_ATTEMPTS):
        try:
            os.rename(tmp, final)
            return True
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        if is_complete(final):
            return False
        stale = final.parent / f"{STALE_PREFIX}{final.name}-{uuid.uuid4().hex[:12]}"
        try:
            os.rename(final, stale)
        except FileNotFoundError:
            continue  # another attempt moved it first; try again
        shutil.rmtree(stale, ignore_errors=True)
    raise OSError(errno.EEXIST, "cell directory kept reappearing while publishing", str(final))


def remove_leftovers(cells_dir: Path) -> int:
    """Remove the temporary and stale directories of attempts that died; return how many."""
    count = 0
    if cells_dir.is_dir():
        for entry in cells_dir.iterdir():
            if entry.name.startswith("."):
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                count += 1
    return count
