"""The job table: every submitted job, as columns (Python lists, or arrays of floats).

Columns rather than objects because the engine's hot loop indexes them by job number
(a list or array index beats attribute access and numpy scalars there), and a million
jobs stay small. Row ``i`` is job ``i``; rows are in queue order: submit time, ties in input order.

A float column (``FLOAT_COLUMNS``) holding only floats is kept as an ``array("d")`` once
the workload is built (``JobTable.compact``; streams and service groups make them so):
8 bytes a value instead of a list slot and a float object (a year of the Munich scenario
has ten million jobs). One holding any int (a table built by hand through the API) stays
a list, so its values are written as given.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TIERS = ("reserved", "on-demand", "spot")
ANY_GPU_TYPE = "*"  # a job that runs on any GPU type of the cluster
DEFAULT_TIER = "on-demand"
OPTIONAL_DEFAULTS: dict[str, object] = {"tier": DEFAULT_TIER, "outcome": "completed", "end_by": math.inf}
FLOAT_COLUMNS = ("submit", "duration", "requested", "end_by")


def compact(column: Sequence[Any]) -> Sequence[Any]:
    """A column of floats as ``array("d")``; any other column (one holding an int) as it is.

    The values read back are the same floats (``repr`` and every sum unchanged).
    """
    if isinstance(column, array):
        return column
    if column and list(map(type, column)).count(float) == len(column):  # (a set of types: 1.6x slower)
        return array("d", column)
    return column


def filled(value: float, n: int, like: Sequence[Any]) -> list[float] | array:
    """``n`` times ``value``: an ``array("d")`` if ``like`` (a table's float column) is one, else a
    list (so a table given with integer times keeps integer results, written as given)."""
    return array("d", [value]) * n if isinstance(like, array) else [value] * n


def floats(values: np.ndarray) -> array:
    """A numpy array of floats as an ``array("d")`` column (one copy, no float objects)."""
    column = array("d")
    column.frombytes(memoryview(np.ascontiguousarray(values, dtype=np.float64)).cast("B"))
    return column


@dataclass(slots=True)
class JobTable:
    """Jobs as parallel columns. ``requested`` is the user's estimate (the true duration if none).

    ``gpu_type`` is one type, acceptable types joined by ``|`` in order of preference, or
    ``*`` for any type (the engine binds such a job to one at submission). ``outcome`` is how the job ends
    when it runs its ``duration`` out: ``completed``, ``failed`` or ``cancelled``.
    ``end_by`` is an instant the job must be gone by (an inference replica the autoscaler
    removes then): running, it ends there; queued, it is withdrawn. ``inf`` for other jobs.
    """

    job_id: list[str] = field(default_factory=list)
    submit: list[float] | array = field(default_factory=list)
    gpus: list[int] = field(default_factory=list)
    duration: list[float] | array = field(default_factory=list)
    requested: list[float] | array = field(default_factory=list)
    gpu_type: list[str] = field(default_factory=list)
    tenant: list[str] = field(default_factory=list)
    job_class: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)
    end_by: list[float] | array = field(default_factory=list)

    def __post_init__(self) -> None:
        """Fill the optional columns of a table built whole, so callers may leave them out."""
        n = len(self.job_id)
        for name, default in OPTIONAL_DEFAULTS.items():
            column = getattr(self, name)
            if not column and n:
                column.extend([default] * n)

    def append_defaults(self) -> None:
        """Append the optional columns' defaults for one row (readers that build row by row)."""
        for name, default in OPTIONAL_DEFAULTS.items():
            getattr(self, name).append(default)

    def __len__(self) -> int:
        return len(self.job_id)

    @classmethod
    def merge(cls, tables: Sequence[JobTable]) -> JobTable:
        """All rows of ``tables`` in submit order; ties keep table order, then row order.

        The tables are emptied as their rows move over, column by column, so a workload of
        millions of jobs never exists twice (or, as a concatenation sorted afterwards, three times).
        """
        merged = cls()
        order = _submit_order(np.concatenate([np.asarray(t.submit, dtype=float) for t in tables]))
        for name in cls.__slots__:
            columns = [getattr(table, name) for table in tables]
            for table in tables:
                setattr(table, name, [])
            setattr(merged, name, _concatenated(columns, order))
            del columns
        return merged

    @classmethod
    def concat(cls, tables: Sequence[JobTable]) -> JobTable:
        """The rows of ``tables`` one after another, for tables already in order among themselves
        (a stream's weeks, a workload's windows), so no sort (``merge`` sorts and goes through
        object arrays: 10% slower on a month of munich.yaml). Column by column, each table's
        column dropped once copied, so the rows never exist twice; a column is an
        ``array("d")`` if every table's is one, else a list filled at its exact size.
        """
        joined = cls()
        total = sum(map(len, tables))
        for name in cls.__slots__:
            parts = [getattr(table, name) for table in tables]
            column: list[Any] | array
            if parts and all(isinstance(part, array) for part in parts):
                column = array("d", [0.0]) * total
                into: Any = memoryview(column)  # slices copy the floats' bytes, no float objects
            else:
                column = into = [None] * total
            at = 0
            for part in parts:
                into[at : at + len(part)] = part
                at += len(part)
            del parts
            for table in tables:
                setattr(table, name, [])
            setattr(joined, name, column)
        return joined

    def rows(self, lo: int, hi: int) -> JobTable:
        """A new table of rows ``lo`` to ``hi - 1`` (each column's slice, of the same kind)."""
        return JobTable(*(getattr(self, name)[lo:hi] for name in self.__slots__))

    def sorted_by_submit(self) -> JobTable:
        """This table in submit order (a stable sort keeps input order among equal submit
        times), sorted in place column by column, so its rows never exist twice; returns it."""
        order = _submit_order(np.asarray(self.submit, dtype=float))
        if order is not None:
            for name in self.__slots__:
                setattr(self, name, _concatenated([getattr(self, name)], order))
        return self

    def compact(self) -> JobTable:
        """Keep each float column holding only floats as ``array("d")`` (module docstring); returns self."""
        for name in FLOAT_COLUMNS:
            setattr(self, name, compact(getattr(self, name)))
        return self


def _concatenated(columns: list[Sequence[Any]], order: np.ndarray | None) -> Sequence[Any]:
    """The columns one after another, permuted by ``order`` (None: as they are): an
    ``array("d")`` if every part is one (no float objects made), else a list."""
    if all(isinstance(column, array) for column in columns):
        values = np.concatenate([np.frombuffer(column, np.float64) for column in columns])
        return floats(values if order is None else values[order])
    values = np.concatenate([np.fromiter(c, object, len(c)) for c in columns])
    return (values if order is None else values[order]).tolist()


def _submit_order(submit: np.ndarray) -> np.ndarray | None:
    """The stable order of ``submit``, or None if it is already in order."""
    order = np.argsort(submit, kind="stable")
    return None if np.all(order[1:] > order[:-1]) else order
