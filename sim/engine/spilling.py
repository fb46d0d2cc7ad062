"""Spilling: the records of dropped jobs, and the segments ended so far, go to disk at each drop.

Why: dropping (``dropping``) keeps the engine's working state to the jobs still live, but
the records of the dropped jobs and every ended segment would still grow with the run and
stay in memory until the results are written. The first drop opens a ``RecordSpool``
(``sim.spool``); each drop writes its jobs' records and the segment log to it and empties
the log. ``collect`` adds the last jobs and segments and seals it: the run's ``JobRecords``
and ``SegmentRows`` are then memory-mapped columns (jobs in workload order, segments in the
order they ended), which the metrics and the writer read like any others.

A chunk whose values would not read back as themselves (``Spool.fits``: a table given
with integer times, say) sends everything spooled back to memory, and the run keeps its
records there from then on (``engine.finished``, as without a spool).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_type_hints

import numpy as np

from sim.engine.feeding import appended
from sim.records import JobRecord, JobRecords, Segment, SegmentRows
from sim.spool import FLOAT, INT, LABEL, TEXT, Spool, TextColumn

if TYPE_CHECKING:
    from sim.engine.core import Engine

TEXTS = ("job_id", "nodes")  # the string fields with a value per job or segment; the others have few


def _kinds(row: type) -> dict[str, str]:
    """Each field's spool kind, by its type."""
    kind = {str: LABEL, int: INT, float: FLOAT}
    return {f: TEXT if f in TEXTS else kind[t] for f, t in get_type_hints(row).items()}


# Record fields, then the workload row of the job (its index in the run's records).
JOB_KINDS = {**_kinds(JobRecord), "row": INT}
SEGMENT_KINDS = {**_kinds(Segment), "job_row": INT}


class RecordSpool:
    """The spooled job records and segments of one run."""

    def __init__(self) -> None:
        self.jobs = Spool(JOB_KINDS)
        self.segments = Spool(SEGMENT_KINDS)


def spill(engine: Engine, rows: np.ndarray, columns: Sequence[Sequence[Any]]) -> None:
    """Keep the records ``columns`` of jobs just dropped (workload ``rows``), and the segment log."""
    if engine.spool is None and not engine.finished:
        engine.spool = RecordSpool()
    if engine.spool is None or not _spooled(engine, engine.spool, rows, columns):
        engine.finished.append((rows, columns))


def _spooled(engine: Engine, spool: RecordSpool, rows: np.ndarray, columns: Sequence[Sequence[Any]]) -> bool:
    """Write the jobs' records and the segment log (emptied) to the spool if both fit; else
    bring everything spooled back to memory (False)."""
    log = engine.segment_log
    row_of = dict(zip(engine.jobs.job_id, engine.rows.tolist(), strict=True))  # every logged job is here
    jobs = [*columns, rows.tolist()]
    segments = [*log.columns, [row_of[job_id] for job_id in log.columns[0]]]
    if not (spool.jobs.fits(jobs) and spool.segments.fits(segments)):
        _back_to_memory(engine, spool)
        return False
    spool.jobs.append(jobs)
    spool.segments.append(segments)
    log.columns = log.empty_columns()
    return True


def _back_to_memory(engine: Engine, spool: RecordSpool) -> None:
    """Everything spooled back into ``engine.finished`` and the segment log; no spool from now on."""
    engine.spool = None
    if spool.jobs.size:
        *columns, rows = spool.jobs.seal()
        engine.finished = [(np.asarray(rows), [column.materialized() for column in columns])]
    *segments, _ = spool.segments.seal()
    log = engine.segment_log
    log.columns = tuple(appended(a.materialized(), b) for a, b in zip(segments, log.columns, strict=True))


def sealed_records(engine: Engine, last: Sequence[Sequence[Any]]) -> tuple[JobRecords, SegmentRows] | None:
    """The run's records from its spool, with the table's jobs' ``last`` records and the
    segment log added; None if the run has no spool (or went back to memory)."""
    spool = engine.spool
    if spool is None or not _spooled(engine, spool, engine.rows, last):
        return None
    engine.spool = None
    order = spool.jobs.order_by("row")
    job_rows = spool.segments.read("job_row")
    *columns, _ = spool.jobs.seal(order)
    *segments, _ = spool.segments.seal()
    ids = segments[0]
    assert isinstance(ids, TextColumn)
    ids.job_rows, ids.job_ids = job_rows, columns[0]  # jobs in workload order: the row is the index
    return JobRecords(columns), SegmentRows(segments)
