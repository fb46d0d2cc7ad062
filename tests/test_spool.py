"""Spooled columns (sim/spool.py) and the engine's spilling of records (sim/engine/spilling.py).

A spooled value must read back equal and of the same type as the value written (the
writer prints ``repr``s: an int read back as a float, or a numpy float, would change the
bytes of jobs.csv), in the order asked for, and the spool's files must not outlive it.
"""

from __future__ import annotations

import math
import pickle
from array import array
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.engine import dropping
from sim.engine.dropping import DropRule
from sim.metrics.columns import Columns
from sim.spool import FLOAT, INT, LABEL, TEXT, FloatColumn, LabelColumn, Spool, TextColumn, drop_pages

HERE = Path(__file__).resolve().parent
SMALL = HERE / "data" / "small-munich.yaml"
KINDS = {"name": TEXT, "size": INT, "colour": LABEL, "weight": FLOAT}
CHUNKS = [
    [["a", "ß-ü", ""], [1, -2, 2**40], ["red", "blue", "red"], array("d", [0.5, math.nan, -1e300])],
    [["x\ny", "\udc80"], [0, 7], ["green", "red"], [3.25, math.inf]],
]


def spooled(order: np.ndarray | None = None) -> list:
    spool = Spool(KINDS)
    for chunk in CHUNKS:
        assert spool.fits(chunk)
        spool.append(chunk)
    assert spool.size == 5
    return spool.seal(order)


def test_values_read_back_equal_and_of_their_type() -> None:
    name, size, colour, weight = spooled()
    assert name[:] == ["a", "ß-ü", "", "x\ny", "\udc80"]
    assert size[:] == [1, -2, 2**40, 0, 7] and {type(v) for v in size} == {int}
    assert list(colour) == ["red", "blue", "red", "green", "red"]
    assert weight[1] is math.nan  # the one NaN object, so records holding it compare equal
    assert weight[:2] == [0.5, math.nan] and weight[-1] == math.inf and weight[2] == -1e300
    assert {type(v) for v in weight} == {float}
    assert name[-1] == "\udc80" and size[1:4:2] == [-2, 0]
    with pytest.raises(IndexError):
        size[5]


def test_an_order_permutes_every_column() -> None:
    order = np.array([4, 0, 3, 1, 2])
    name, size, colour, weight = spooled(order)
    assert name[:] == ["\udc80", "a", "x\ny", "ß-ü", ""]
    assert size[:] == [7, 1, 0, -2, 2**40]
    assert colour[1:3] == ["red", "green"]
    assert np.asarray(weight).tolist()[:2] == [math.inf, 0.5]
    assert isinstance(colour, LabelColumn)
    assert [colour.labels[c] for c in colour.codes()] == colour[:]


@pytest.mark.parametrize(
    "rows",
    [[4, 0, 3, 1, 2, 6, 5], [2, 0, 2, 1, 0, 3, 1], [9, 3, 7, 3, 1, 8, 0], [0], []],
    ids=["permutation", "ties", "gaps", "one", "none"],
)
def test_order_by_is_a_stable_argsort_in_blocks(rows: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A permutation of 0..n-1 (a run's workload rows) is inverted a block at a time; any
    other values fall back to a sort; either way the order a stable argsort gives, and
    sealing in it permutes the numbers a block at a time too."""
    monkeypatch.setattr("sim.spool.SEAL_BLOCK", 2)
    spool = Spool({"row": INT, "weight": FLOAT, "name": TEXT})
    if rows:
        spool.append([rows, [r / 4 for r in rows], [f"j{r}" for r in rows]])
    order = spool.order_by("row")
    expected = np.argsort(np.array(rows, dtype=np.int64), kind="stable")
    assert order.tolist() == expected.tolist() and not order.flags.writeable
    row, weight, name = spool.seal(order)
    assert list(row) == sorted(rows) and list(weight) == [r / 4 for r in sorted(rows)]
    assert list(name) == [f"j{rows[k]}" for k in expected]


def file_pages_mb() -> float:
    """The pages of mapped files in this process's RSS (Linux)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("RssFile:")) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RssFile from /proc (Linux)")
def test_drop_pages_takes_read_columns_out_of_the_rss() -> None:
    """Reading a 64 MB spooled column puts its pages in the RSS; drop_pages takes them out,
    and the values read the same afterwards."""
    spool = Spool({"x": FLOAT})
    values = np.arange(1 << 23, dtype=np.float64)
    spool.append([array("d", values.tobytes())])
    (column,) = spool.seal()
    before = file_pages_mb()
    assert float(np.asarray(column).sum()) == float(values.sum())
    read = file_pages_mb()
    drop_pages()
    dropped = file_pages_mb()
    assert read - before > 48 and read - dropped > 48, (before, read, dropped)
    assert np.array_equal(np.asarray(column), values) and column[-1] == float(values[-1])


def test_numpy_reads_the_numbers_without_python_objects() -> None:
    _, size, _, weight = spooled()
    assert np.asarray(size).dtype == np.int64 and np.asarray(size).tolist() == [1, -2, 2**40, 0, 7]
    assert np.isnan(np.asarray(weight)[1]) and np.asarray(size, np.float64)[2] == 2.0**40


def test_a_pickled_column_is_plain_data() -> None:
    name, size, colour, weight = (pickle.loads(pickle.dumps(c)) for c in spooled())
    assert type(name) is list and type(size) is list and type(colour) is list
    assert isinstance(weight, array) and weight.typecode == "d" and weight.tolist()[0] == 0.5


def test_values_that_would_not_read_back_as_themselves_do_not_fit() -> None:
    spool = Spool(KINDS)
    good = [["a"], [1], ["red"], [1.0]]
    assert spool.fits(good)
    assert not spool.fits([["a"], [True], ["red"], [1.0]])  # a bool would come back as 1
    assert not spool.fits([["a"], [np.int64(1)], ["red"], [1.0]])
    assert not spool.fits([["a"], [1], ["red"], [1]])  # an int time would come back as 1.0
    assert not spool.fits([["a"], [1], [None], [1.0]])
    assert not spool.fits([[1], [1], ["red"], [1.0]])
    narrow = [["a"], [1], ["red"], array("f", [0.1])]  # yields floats: read back as those
    assert spool.fits(narrow)
    spool.append(narrow)
    assert spool.seal()[3][:] == [array("f", [0.1])[0]]


def test_the_folder_goes_at_seal_and_with_an_unsealed_spool() -> None:
    spool = Spool(KINDS)
    spool.append(CHUNKS[0])
    folder = spool.folder
    assert folder.is_dir()
    name, *_ = spool.seal()
    assert not folder.exists() and name[0] == "a"  # the mapping outlives the file
    spool = Spool(KINDS)
    folder = spool.folder
    del spool
    assert not folder.exists()


def test_an_empty_spool_seals_to_empty_columns() -> None:
    columns = Spool(KINDS).seal()
    assert [len(c) for c in columns] == [0, 0, 0, 0] and [list(c) for c in columns] == [[], [], [], []]
    assert np.asarray(columns[3]).dtype == np.float64


def test_a_run_that_drops_reads_its_records_from_the_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The records are spooled columns, in workload order, and the metrics join segments to
    jobs by the stored row (the same join the job ids give)."""
    monkeypatch.setattr(dropping, "FED", DropRule(min_jobs=40, share=0.0))  # (sim.run feeds the engine)
    result = sim.run(SMALL, plots=False, horizon="6h")
    jobs, segments = result.records.jobs, result.records.segments
    assert isinstance(jobs.column("job_id"), TextColumn) and isinstance(jobs.column("cost"), FloatColumn)
    assert isinstance(segments.column("nodes"), TextColumn)
    joined = Columns.of_records(result.records).seg_job()
    ids = jobs.column("job_id")
    assert [ids[k] for k in joined.tolist()] == list(segments.column("job_id"))
    monkeypatch.setattr(dropping, "FED", dropping.NEVER)
    whole = sim.run(SMALL, plots=False, horizon="6h")
    assert whole.records.jobs == jobs and whole.records.segments == segments
    assert whole.summary == result.summary


def test_a_table_with_integer_times_keeps_its_records_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Integer times would read back from the spool as floats (``3600.0`` for ``3600`` in
    jobs.csv): such a run keeps its records in memory, the same as never dropping."""
    from sim.api import resolve, run_workload
    from sim.cluster.state import ClusterLayout
    from sim.workload.build import build_workload

    scenario = resolve(SMALL, {"horizon": "4h"})
    layout = ClusterLayout.from_scenario(scenario.cluster)
    workload = build_workload(scenario, layout)
    table = workload.jobs
    for name in ("submit", "duration", "requested"):
        setattr(table, name, [int(t) for t in getattr(table, name)])
    whole = run_workload(scenario, layout, workload)
    monkeypatch.setattr(dropping, "DEFAULT", DropRule(min_jobs=40, share=0.0))
    dropped = run_workload(scenario, layout, workload)
    assert type(dropped.jobs.column("submit_time")) is list
    assert dropped.jobs == whole.jobs and dropped.segments == whole.segments
    assert {type(t) for t in dropped.jobs.column("submit_time")} == {int}


def test_a_chunk_that_does_not_fit_brings_the_spool_back_to_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records spooled at earlier drops come back into memory, in order, when a later
    chunk does not fit; the run's records are those of a run that never dropped."""
    calls: list[int] = []
    fits = Spool.fits

    def fits_thrice(spool: Spool, columns: list) -> bool:
        calls.append(1)
        return fits(spool, columns) and len(calls) <= 6  # jobs and segments of three drops, then no more

    monkeypatch.setattr(dropping, "FED", DropRule(min_jobs=40, share=0.0))
    monkeypatch.setattr(Spool, "fits", fits_thrice)
    result = sim.run(SMALL, plots=False, horizon="6h")
    assert len(calls) == 7 and type(result.records.jobs.column("job_id")) is list
    monkeypatch.setattr(dropping, "FED", dropping.NEVER)
    whole = sim.run(SMALL, plots=False, horizon="6h")
    assert whole.records.jobs == result.records.jobs and whole.records.segments == result.records.segments
