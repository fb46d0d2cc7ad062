"""What a run leaves behind: one flat record per job and the sampled timeseries.

The engine appends these; metrics are pure functions of them; only ``cli`` and ``report``
write them to files. Instants end in ``_time``; durations are seconds.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np

STATUSES = ("completed", "failed", "cancelled", "rejected", "balked", "unfinished")


class JobRecord(NamedTuple):
    """One job's fate. Every submitted job ends as exactly one record.

    A named tuple rather than a frozen dataclass: a run makes one per job, and a tuple is
    built four times faster (measured: 0.3 us vs 1.3 us).

    ``start_time``/``end_time`` are NaN when the job never started / never ended.
    ``status`` is ``completed``, ``failed`` or ``cancelled`` for a job that ended (how the
    workload says it ends; a replica withdrawn while queued is ``cancelled`` too),
    ``rejected``, ``balked`` (the quoted price was above what it would pay; ``end_time``
    is when it gave up) or ``unfinished``. ``gpu_type`` is the type the job was bound to.
    ``allocated_gpus`` counts whole nodes for multi-node jobs (a 12-GPU job on 8-GPU nodes
    holds 16). ``reason`` says why a job was rejected or left unfinished.
    """

    job_id: str
    tenant: str
    job_class: str
    gpu_type: str
    gpus: int
    submit_time: float
    duration: float
    requested_time: float
    priority: int
    start_time: float
    end_time: float
    status: str
    reason: str = ""
    preemptions: int = 0
    pods: str = ""
    allocated_gpus: int = 0
    cost: float = 0.0
    tier: str = "on-demand"
    price: float = math.nan

    @property
    def started(self) -> bool:
        return not math.isnan(self.start_time)

    @property
    def wait_time(self) -> float:
        """start_time - submit_time, NaN if the job never started."""
        return self.start_time - self.submit_time


class Rows(Sequence[Any]):
    """Records of one named-tuple type stored as columns; a record is made when asked for.

    A million records as named tuples cost ~130-210 MB and the time to build them; as
    columns they cost one list slot per field. It reads like a list of records (length,
    index, slice, iteration, equality with a list); ``column(name)`` gives a field's values
    without making records (what metrics and the writer use). Subclasses name the type.
    """

    __slots__ = ("_columns", "_nan")
    row: type[tuple] = tuple

    def __init__(self, columns: Sequence[Sequence[Any]]) -> None:
        fields = self.row._fields  # type: ignore[attr-defined]
        if len(columns) != len(fields) or len({len(c) for c in columns}) > 1:
            raise ValueError(f"{type(self).__name__} needs {len(fields)} columns of one length")
        self._columns = tuple(columns)
        # A float column may be an ``array("d")`` (8 bytes a value), which makes a new float
        # at each read: its NaNs are read as the one ``math.nan``, so that records compare
        # equal as they do when made from lists (where NaN is that one object).
        self._nan = tuple(map(_has_nan, self._columns))

    def column(self, name: str) -> Sequence[Any]:
        """One field of every record, in order: the stored list, or ``array("d")`` of a float
        column (do not modify it)."""
        return self._columns[self.row._fields.index(name)]  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self._columns[0])

    def __getitem__(self, index: int | slice) -> Any:
        make = partial(tuple.__new__, self.row)
        pairs = zip(self._columns, self._nan, strict=True)
        if isinstance(index, slice):
            columns = (map(_one_nan, c[index]) if nan else c[index] for c, nan in pairs)
            return list(map(make, zip(*columns, strict=True)))
        return make(tuple(_one_nan(c[index]) if nan else c[index] for c, nan in pairs))

    def __iter__(self) -> Iterator[Any]:
        columns = (map(_one_nan, c) if nan else c for c, nan in zip(self._columns, self._nan, strict=True))
        return map(partial(tuple.__new__, self.row), zip(*columns, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} rows)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._columns,))


def _has_nan(column: Sequence[Any]) -> bool:
    """Whether ``column`` is a float array holding a NaN."""
    return (
        isinstance(column, array) and column.typecode == "d" and bool(np.isnan(np.frombuffer(column)).any())
    )


def _one_nan(value: float) -> float:
    return value if value == value else math.nan


class JobRecords(Rows):
    """A run's ``JobRecord``s as columns (``Rows``)."""

    __slots__ = ()
    row = JobRecord


JOB_COLUMNS = (
    "job_id",
    "tenant",
    "tier",
    "job_class",
    "gpu_type",
    "gpus",
    "submit_time",
    "start_time",
    "end_time",
    "wait_time",
    "status",
    "preemptions",
    "pods",
    "cost",
    "price",
    "duration",
    "requested_time",
    "priority",
    "allocated_gpus",
    "reason",
)


class Segment(NamedTuple):
    """One uninterrupted run of a job on one placement.

    ``nodes`` names each node as ``<pod>/<index in pod>``; the job held ``gpus_per_node``
    GPUs on each. ``reason`` says why the segment ended: ``completed``, ``preempted``
    (or another reason a scheduler gave) or ``horizon``. ``restart_overhead`` is the
    extra run time at the segment's start for restarting from a checkpoint (0 for a
    job's first segment).
    """

    job_id: str
    start_time: float
    end_time: float
    gpu_type: str
    gpus_per_node: int
    nodes: str
    pods: str
    reason: str
    restart_overhead: float

    @property
    def gpus(self) -> int:
        return self.gpus_per_node * (self.nodes.count(";") + 1)


SEGMENT_COLUMNS = Segment._fields


class SegmentRows(Rows):
    """A run's ``Segment``s as columns (``Rows``), in the order they ended."""

    __slots__ = ()
    row = Segment


@dataclass(frozen=True, slots=True)
class RunRecords:
    """Everything one simulation produced, before any metric.

    ``timeseries`` maps column names to equal-length lists; ``time`` is the sample instant and
    every other column the state just before the events at that instant (see the README).
    Columns: ``busy_gpus``, ``utilisation``, ``utilisation.<gpu_type>``, ``utilisation.pod.<pod>``,
    ``queue_jobs``, ``queue_gpus``, ``queue_gpus.<job_class>``.
    """

    jobs: Sequence[JobRecord]  # a list, or JobRecords (columns) from the engine
    timeseries: dict[str, list[float]]
    capacity_gpus: int
    capacity_by_type: dict[str, int]
    capacity_by_pod: dict[str, int]
    end_time: float
    horizon: float | None
    events: int
    segments: Sequence[Segment] = field(default_factory=list)  # a list, or SegmentRows
    dropped: dict[str, int] = field(default_factory=dict)  # trace rows the reader dropped, by reason
    extra: dict[str, float] = field(default_factory=dict)
    services: tuple[Any, ...] = ()  # the inference service plans (sim.workload.inference.ServicePlan)
    stopped_at: float | None = None  # set when a stop request (Ctrl-C, SIGTERM) ended the run here
