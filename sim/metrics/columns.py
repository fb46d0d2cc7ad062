"""Numpy columns of a run's job records and segments, for the metrics' vectorised passes.

A big run leaves a million job records and a million ``Segment`` tuples; a metric that
loops over them in Python costs a second or more. ``Columns`` turns each field a metric
needs into a numpy array, once (on first use), and the metrics compute on the arrays.
Jobs stored as columns (``JobRecords``, as the engine leaves them) are read column by
column, without making a ``JobRecord`` per job; a plain list of records works as well.

    Columns.of_records(records), .of_jobs(jobs), .of_segments(segments)
                       the columns of ``records`` (or of a bare list); inside
                       ``shared(records)`` every call for ``records``, ``records.jobs`` or
                       ``records.segments`` returns the same ``Columns`` (``summarize``
                       runs inside one), elsewhere a fresh one
    job(field)         a job field as float64; ``job_int`` as int64
    job_codes(field)   (codes, labels): labels = the sorted distinct ``str(value)``,
                       codes[i] = index of job i's label; ``seg_codes`` likewise
    seg(field)         a segment field as float64; ``seg_gpus()`` = gpus_per_node x nodes
    seg_job()          per segment, the index of its job in ``jobs`` (see ``seg_job``)
    seg_job_known()    the same, KeyError for a segment whose job has no record

Values are bit-for-bit those of a loop over the records: the arithmetic is the same float64
operations elementwise. Where a metric adds values up, it keeps the order of its formula's
loop: ``np.bincount(codes, weights)`` adds each bin's values in input order (as a dict
accumulating ``d[k] = d.get(k, 0.0) + x`` does), ``sequential_sum(a)`` adds them one by
one in order (as a Python loop or 3.11's ``sum`` does), and ``np.sum`` / ``np.mean`` of the
same values in the same order as before give the same result.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import count, repeat
from operator import attrgetter, itemgetter
from typing import Any, cast

import numpy as np

from sim.records import JobRecord, Rows, RunRecords, Segment
from sim.spool import LabelColumn, NumberColumn, TextColumn, drop_pages

JOB_CATEGORIES = ("tenant", "job_class", "gpu_type", "status", "tier")
SEGMENT_CATEGORIES = ("gpu_type", "pods")

_SHARED: ContextVar[Columns | None] = ContextVar("sim_metrics_shared_columns", default=None)


class Columns:
    """Columns of ``jobs`` and ``segments``, each built on first use and kept (module docstring)."""

    def __init__(
        self,
        jobs: Sequence[JobRecord] = (),
        segments: Sequence[Segment] = (),
        records: RunRecords | None = None,
    ) -> None:
        self.jobs = jobs
        self.segments = segments
        self.records = records
        self._cache: dict[tuple[str, str], Any] = {}

    @staticmethod
    def of_records(records: RunRecords) -> Columns:
        shared = _SHARED.get()
        if shared is not None and shared.records is records:
            return shared
        return Columns(records.jobs, records.segments, records)

    @staticmethod
    def of_jobs(jobs: Sequence[JobRecord]) -> Columns:
        shared = _SHARED.get()
        return shared if shared is not None and shared.jobs is jobs else Columns(jobs=jobs)

    @staticmethod
    def of_segments(segments: Sequence[Segment]) -> Columns:
        shared = _SHARED.get()
        return shared if shared is not None and shared.segments is segments else Columns(segments=segments)

    def _cached(self, key: tuple[str, str], build: Callable[[], Any]) -> Any:
        found = self._cache.get(key)
        if found is None:
            drop_pages()  # the spooled columns read so far leave the RSS (they stay readable)
            found = self._cache[key] = build()
        return found

    # Jobs.

    def job(self, field: str) -> np.ndarray:
        """Job field ``field`` as a float64 array (NaN kept)."""
        return self._cached(("job", field), lambda: _array(self.jobs, field, np.float64))

    def job_values(self, field: str) -> Sequence[Any]:
        """Job field ``field`` as a sequence of the records' own values (no copy when stored as a column)."""
        return _values(self.jobs, (field,), sequence=True)

    def job_int(self, field: str) -> np.ndarray:
        """Job field ``field`` (an int field: gpus, preemptions, ...) as an int64 array."""
        return self._cached(("job_int", field), lambda: _array(self.jobs, field, np.int64))

    def job_codes(self, field: str) -> tuple[np.ndarray, list[str]]:
        """(codes, labels) of job field ``field``: labels sorted, ``labels[codes[i]] == str(value_i)``.

        The fields in ``JOB_CATEGORIES`` are coded together, in one pass over the jobs.
        """
        fields = JOB_CATEGORIES if field in JOB_CATEGORIES else (field,)
        return self._coded("job_codes", self.jobs, fields)[field]

    def started(self) -> np.ndarray:
        """Bool per job: it started (start_time is not NaN)."""
        return self._cached(("started", ""), lambda: ~np.isnan(self.job("start_time")))

    def status_is(self, *statuses: str) -> np.ndarray:
        """Bool per job: its status is one of ``statuses``."""
        codes, labels = self.job_codes("status")
        wanted = [k for k, label in enumerate(labels) if label in statuses]
        if len(wanted) == 1:
            return codes == wanted[0]
        return np.isin(codes, wanted)

    # Segments.

    def seg(self, field: str) -> np.ndarray:
        """Segment field ``field`` as a float64 array."""
        return self._cached(("seg", field), lambda: _array(self.segments, field, np.float64))

    def seg_codes(self, field: str) -> tuple[np.ndarray, list[str]]:
        """(codes, labels) of segment field ``field``, as ``job_codes`` (``SEGMENT_CATEGORIES`` together)."""
        fields = SEGMENT_CATEGORIES if field in SEGMENT_CATEGORIES else (field,)
        return self._coded("seg_codes", self.segments, fields)[field]

    def seg_gpus(self) -> np.ndarray:
        """``Segment.gpus`` as float64: gpus_per_node x (number of ``;`` in nodes + 1)."""

        def build() -> np.ndarray:
            nodes = _values(self.segments, ("nodes",))
            count = np.fromiter(map(str.count, nodes, repeat(";")), np.int64, len(self.segments))
            return _array(self.segments, "gpus_per_node", np.float64) * (count + 1)

        return self._cached(("seg_gpus", ""), build)

    def seg_job(self) -> np.ndarray:
        """Per segment (int64): the index in ``jobs`` of the job record with the segment's job_id.

        Job ids are unique in a run (the readers and generators see to it); with a repeated
        id, the last record holding that very string object wins, else the last with an
        equal id (as a dict ``{job_id: index}`` would). A job_id no record has gets an
        index >= ``len(jobs)``: ``len(jobs) + k`` for the k-th distinct such id, in order of
        first appearance.
        """
        return self._cached(("seg_job", ""), lambda: _join(self.jobs, self.segments))

    def seg_job_known(self) -> np.ndarray:
        """``seg_job``, but KeyError (the job_id) for a segment whose job has no record, as a
        dict lookup by job_id would raise."""
        job = self.seg_job()
        unknown = np.flatnonzero(job >= len(self.jobs))
        if unknown.size:
            raise KeyError(self.segments[int(unknown[0])].job_id)
        return job

    def _coded(
        self, kind: str, rows: Sequence[Any], fields: tuple[str, ...]
    ) -> dict[str, tuple[np.ndarray, list[str]]]:
        key = (kind, ",".join(fields))
        return cast(dict[str, tuple[np.ndarray, list[str]]], self._cached(key, lambda: _codes(rows, fields)))


@contextmanager
def shared(records: RunRecords) -> Iterator[Columns]:
    """Inside, metrics called with ``records`` (or its jobs or segments) share one ``Columns``."""
    columns = Columns.of_records(records)
    token = _SHARED.set(columns)
    try:
        yield columns
    finally:
        _SHARED.reset(token)


def sequential_sum(values: np.ndarray) -> float:
    """``values`` added up in order from 0 (the int 0 when empty), as a loop adding them does:
    the last of their running sums (``np.cumsum``), e.g. Python 3.11's ``sum``."""
    return float(np.cumsum(values)[-1]) if values.size else 0


def split(codes: np.ndarray, count: int) -> list[np.ndarray]:
    """Indices of each code 0 .. count-1 in ``codes``, each in increasing order."""
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.cumsum(np.bincount(codes, minlength=count))[:-1])


def first_appearance(codes: np.ndarray) -> np.ndarray:
    """The distinct values of ``codes`` (ints >= 0) in order of their first occurrence."""
    if not codes.size:
        return codes
    at = np.arange(codes.size)
    first = np.full(int(codes.max()) + 1, codes.size)
    np.minimum.at(first, codes, at)
    return codes[first[codes] == at]


def _values(rows: Sequence[Any], fields: tuple[str, ...], sequence: bool = False) -> Any:
    """The values of ``fields`` of each row (a tuple per row if several), in row order: the
    stored columns of ``Rows`` (``JobRecords``, ``SegmentRows``), else read from each row
    (by index from named tuples). An iterator unless ``sequence``."""
    if isinstance(rows, Rows) and all(field in rows.row._fields for field in fields):  # type: ignore[attr-defined]
        columns = [rows.column(field) for field in fields]
        if len(columns) == 1:
            return columns[0]
        values = zip(*columns, strict=True)
    else:
        names = getattr(type(rows[0]), "_fields", ()) if len(rows) else ()
        if all(field in names for field in fields):
            values = map(itemgetter(*(names.index(field) for field in fields)), rows)
        else:
            values = map(attrgetter(*fields), rows)
    return list(values) if sequence else values


def values_of(rows: Sequence[Any], field: str) -> Iterable[Any]:
    """One field of every row, in row order: a stored column where the rows keep columns
    (no row tuple is made), else read from each row."""
    return _values(rows, (field,))


def _array(rows: Sequence[Any], field: str, dtype: type) -> np.ndarray:
    values = _values(rows, (field,))
    if isinstance(values, array) and values.typecode == "d" and dtype is np.float64:
        view = np.frombuffer(values, np.float64)  # the stored column itself (see results.compact),
        view.flags.writeable = False  # which a metric must not change
        return view
    if isinstance(values, NumberColumn):  # spooled: numpy reads the mapped file
        return np.asarray(values, dtype)
    return np.fromiter(values, dtype, len(rows))


def _codes(rows: Sequence[Any], fields: tuple[str, ...]) -> dict[str, tuple[np.ndarray, list[str]]]:
    """``job_codes`` of each of ``fields``: each distinct combination of their values numbered
    in one pass (by its first row), then each field's code looked up per combination."""
    columns = [rows.column(field) for field in fields] if isinstance(rows, Rows) else []
    if columns and all(isinstance(column, LabelColumn) for column in columns):  # spooled: coded already
        return {f: _numbered(c.labels, c.codes()) for f, c in zip(fields, columns, strict=True)}
    seen: dict[Any, int] = {}
    first = np.fromiter(map(seen.setdefault, _values(rows, fields), count()), np.int64, len(rows))
    combination = np.searchsorted(np.fromiter(seen.values(), np.int64, len(seen)), first)
    coded = {}
    for k, field in enumerate(fields):
        values = list(seen) if len(fields) == 1 else [combo[k] for combo in seen]
        coded[field] = _numbered(values, combination)
    return coded


def _numbered(values: list[Any], combination: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(codes, labels): labels the sorted distinct ``str`` of ``values``, and for each row the
    code of ``values[combination[row]]``'s label."""
    name = {value: str(value) for value in set(values)}
    labels = sorted(set(name.values()))
    number = {label: code for code, label in enumerate(labels)}
    dtype = np.uint8 if len(labels) <= 256 else np.int64
    table = np.array([number[name[value]] for value in values], dtype=dtype)
    return table[combination], labels


def _join(jobs: Sequence[JobRecord], segments: Sequence[Segment]) -> np.ndarray:
    """``Columns.seg_job``: by the identity of the id strings (the engine's segments share their
    job's), sorted addresses and a binary search; by value, through a dict, for the rest."""
    n, m = len(jobs), len(segments)
    spooled = segments.column("job_id") if isinstance(segments, Rows) else None
    if (
        isinstance(spooled, TextColumn)
        and spooled.job_rows is not None
        and isinstance(jobs, Rows)
        and spooled.job_ids is jobs.column("job_id")
    ):  # a run's spooled records: the job row is the index
        return np.asarray(spooled.job_rows, dtype=np.int64)
    result = np.full(m, -1, dtype=np.int64)
    if n and m:
        address = np.fromiter(map(id, _values(jobs, ("job_id",))), np.uint64, n)
        order = np.argsort(address, kind="stable")
        address = address[order]
        wanted = np.fromiter(map(id, _values(segments, ("job_id",))), np.uint64, m)
        at = np.searchsorted(address, wanted, side="right") - 1
        np.maximum(at, 0, out=at)
        hit = address[at] == wanted
        result[hit] = order[at[hit]]
    missing = np.flatnonzero(result < 0)
    if missing.size:
        index = dict(zip(_values(jobs, ("job_id",)), range(n), strict=True))
        unknown: dict[str, int] = {}
        for k in missing.tolist():
            job_id = segments[k].job_id
            found = index.get(job_id)
            result[k] = found if found is not None else unknown.setdefault(job_id, n + len(unknown))
    return result
