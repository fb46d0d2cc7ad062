"""Columns spooled to disk: appended in chunks as a run goes, read back memory-mapped.

Why: a long run's records (a year of the Munich scenario: ten million jobs and more
segments) would otherwise stay in memory as Python lists until the results are written.
A ``Spool`` writes each chunk of columns to one file per field as it comes; ``seal`` maps
the files back and gives each field as a read-only ``Sequence`` that makes a value only
when asked for one. Nothing is kept per row in memory but what a reader asks for.

Each field has a kind, the form its file takes:

    FLOAT   float64 values (NaN read back as the one ``math.nan``, as records made from lists)
    INT     int64 values (Python ints only: a bool or a numpy int would not read back as itself)
    LABEL   int32 codes into the field's distinct values, kept in memory (few: tenants, statuses)
    TEXT    UTF-8 bytes with an index of their ends (many distinct: job ids, node lists)

``fits(columns)`` says whether a chunk's values are of those kinds exactly (so that every
value reads back equal and of the same type; the caller keeps the ones that do not in
memory). ``seal(order)`` gives the columns in ``order`` (positions in append order; None:
append order) and removes the folder: on POSIX the mapped files live on until unmapped.
The folder is a new temporary directory (``TMPDIR``); it is removed also if the spool is
never sealed (at garbage collection or at exit).
"""

from __future__ import annotations

import math
import mmap
import shutil
import tempfile
import threading
import weakref
from abc import abstractmethod
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FLOAT, INT, LABEL, TEXT = "float", "int", "label", "text"
BLOCK = 1 << 16  # rows made at a time while iterating
DROP_EVERY = 16 * BLOCK  # values read by iteration between two drop_pages
SEAL_BLOCK = 1 << 20  # values ordered at a time while sealing (8 MB of int64)


class Spool:
    """Columns of the kinds ``kinds`` (field name -> kind, in column order), appended in chunks."""

    def __init__(self, kinds: Mapping[str, str]) -> None:
        self.kinds = dict(kinds)
        self.folder = Path(tempfile.mkdtemp(prefix="gpusim-spool-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self.size = 0
        self._labels: dict[str, dict[Any, int]] = {f: {} for f, kind in self.kinds.items() if kind == LABEL}
        self._text_end = dict.fromkeys((f for f, kind in self.kinds.items() if kind == TEXT), 0)

    def fits(self, columns: Sequence[Sequence[Any]]) -> bool:
        """Whether every value of ``columns`` (one per field) is of its field's kind exactly."""
        return all(map(_fits, self.kinds.values(), columns))

    def append(self, columns: Sequence[Sequence[Any]]) -> None:
        """Write one chunk: a column per field, of equal lengths, that ``fits``."""
        n = len(columns[0])
        for (field, kind), column in zip(self.kinds.items(), columns, strict=True):
            path = self.folder / field
            if kind == FLOAT:
                data = np.array(column, dtype=np.float64)
            elif kind == INT:
                data = np.fromiter(column, np.int64, n)
            elif kind == LABEL:
                codes = self._labels[field]
                data = np.fromiter((codes.setdefault(v, len(codes)) for v in column), np.int32, n)
            else:
                encoded = [value.encode("utf-8", "surrogatepass") for value in column]
                ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, n)) + self._text_end[field]
                self._text_end[field] = int(ends[-1]) if n else self._text_end[field]
                with open(path.with_suffix(".text"), "ab") as handle:
                    handle.write(b"".join(encoded))
                data = ends
            with open(path, "ab") as handle:
                handle.write(data.tobytes())
        self.size += n

    def read(self, field: str) -> np.ndarray:
        """A FLOAT or INT field's values in append order, memory-mapped (readable after ``seal`` too)."""
        return _mapped(self.folder / field, np.float64 if self.kinds[field] == FLOAT else np.int64)

    def order_by(self, field: str) -> np.ndarray:
        """Positions in append order sorted by an INT field's values (ties in append order),
        memory-mapped. For values that are a permutation of ``0 .. size - 1`` (a run's workload
        rows), the inverse permutation, written a block at a time: no sort and no array of
        the whole column in memory; otherwise a stable argsort."""
        values = self.read(field)
        path = self.folder / f"{field}.order"
        n = len(values)
        if n and values.min() == 0 and values.max() == n - 1:
            order = np.memmap(path, np.int64, "w+", shape=(n,))
            order[:] = -1
            for first in range(0, n, SEAL_BLOCK):
                block = values[first : first + SEAL_BLOCK]
                order[block] = np.arange(first, first + len(block))
            complete = all(order[first : first + SEAL_BLOCK].min() >= 0 for first in range(0, n, SEAL_BLOCK))
            order.flush()
            del order
            if complete:
                return _mapped(path, np.int64)
        path.write_bytes(np.argsort(values, kind="stable").tobytes())
        return _mapped(path, np.int64)

    def seal(self, order: np.ndarray | None = None) -> list[Sequence[Any]]:
        """Every field as a read-only column in ``order``; the folder is removed (module docstring).

        The numbers and codes are written anew in ``order`` (one field at a time in memory),
        so that ``np.asarray`` of a column is its mapped file, not a copy; text is read
        through ``order``.
        """
        columns: list[Sequence[Any]] = []
        for field, kind in self.kinds.items():
            path = self.folder / field
            if kind == TEXT:
                columns.append(TextColumn(_mapped(path, np.int64), _bytes(path.with_suffix(".text")), order))
                continue
            dtype = {FLOAT: np.float64, INT: np.int64, LABEL: np.int32}[kind]
            data = _mapped(path, dtype) if order is None else self._permuted(path, dtype, order)
            if kind == LABEL:
                columns.append(LabelColumn(data, list(self._labels[field])))
            else:
                columns.append((FloatColumn if kind == FLOAT else NumberColumn)(data))
        self._remove()
        return columns

    def _permuted(self, path: Path, dtype: type, order: np.ndarray) -> np.ndarray:
        """The values of a field's file in ``order``, written a block at a time to a new file
        and memory-mapped back."""
        drop_pages()  # the fields permuted before this one leave the RSS
        values, n = _mapped(path, dtype), len(order)
        target = path.with_suffix(".ordered")
        if n:  # (mmap refuses an empty file)
            out = np.memmap(target, dtype, "w+", shape=(n,))
            for first in range(0, n, SEAL_BLOCK):
                out[first : first + SEAL_BLOCK] = values[order[first : first + SEAL_BLOCK]]
            out.flush()
            del out
        return _mapped(target, dtype)


def _fits(kind: str, column: Sequence[Any]) -> bool:
    if kind == FLOAT:
        return (isinstance(column, array) and column.typecode == "d") or set(map(type, column)) <= {float}
    return set(map(type, column)) <= ({int} if kind == INT else {str})


def drop_pages() -> None:
    """Take the pages of every spooled file read so far out of this process's RSS.

    A mapped page, once read, counts in the RSS until the map goes, though it is the
    kernel's to drop: reading a year's records would show gigabytes that no allocation
    holds. The metrics call this before they read a new column, the writer every few
    chunks, an iteration every ``DROP_EVERY`` values and ``seal`` before each field it
    permutes. The values stay readable: a later read maps the page again from the page cache
    (or the file, which lives on while mapped)."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    with _MAPS_LOCK:  # runs in threads (a Dask worker's) may add maps meanwhile
        mappings = list(_MAPS)
    for mapping in mappings:
        if not mapping.closed:
            mapping.madvise(mmap.MADV_DONTNEED)


_MAPS: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()  # every live read-only map, for drop_pages
_MAPS_LOCK = threading.Lock()


def _mapped(path: Path, dtype: type) -> np.ndarray:
    """The file's values, memory-mapped read-only (an empty array for an empty file: mmap refuses it)."""
    mapping = _bytes(path)
    values = np.frombuffer(mapping, dtype)
    values.flags.writeable = False
    return values


def _bytes(path: Path) -> mmap.mmap | bytes:
    if not path.exists() or not path.stat().st_size:
        return b""
    with open(path, "rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    with _MAPS_LOCK:
        _MAPS.add(mapping)
    return mapping


def _itself(values: Any) -> Any:
    return values


class SpooledColumn(Sequence[Any]):
    """One field of a sealed spool: values made when read.

    Indexing gives one value, a slice a list, iteration makes values a block at a time,
    ``take(rows)`` a list of the values at those rows. Pickled as a plain list (or array).
    """

    __slots__ = ("_size",)

    def __init__(self, size: int) -> None:
        self._size = size

    @abstractmethod
    def take(self, rows: np.ndarray) -> list[Any]:
        """The values at ``rows`` (indices into this column), as a list."""

    def materialized(self) -> Sequence[Any]:
        """The values in memory: a list (an ``array("d")`` of a FLOAT field)."""
        return self[:]

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            rows = range(self._size)[index]  # (not np.arange(size)[index]: a chunk would cost the whole)
            return self.take(np.arange(rows.start, rows.stop, rows.step, dtype=np.int64))
        return self.take(np.array([range(self._size)[index]]))[0]

    def __iter__(self) -> Iterator[Any]:
        for first in range(0, self._size, BLOCK):
            if first % DROP_EVERY == 0:
                drop_pages()  # a whole column read through leaves no more than this many values' pages
            yield from self.take(np.arange(first, min(first + BLOCK, self._size)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_itself, (self.materialized(),))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size} values)"


class NumberColumn(SpooledColumn):
    """An INT field (and the base of FLOAT's): Python ints; ``np.asarray`` gives the mapped
    values themselves (int64), not a copy."""

    __slots__ = ("_data",)

    def __init__(self, data: np.ndarray) -> None:
        super().__init__(len(data))
        self._data = data

    def take(self, rows: np.ndarray) -> list[Any]:
        return self._data[rows].tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = np.asarray(self._data)
        return values if dtype is None else values.astype(dtype, copy=False)


class FloatColumn(NumberColumn):
    """A FLOAT field: Python floats, every NaN the one ``math.nan``; ``np.asarray`` gives float64."""

    __slots__ = ()

    def take(self, rows: np.ndarray) -> list[Any]:
        values = self._data[rows]
        listed = values.tolist()
        for k in np.flatnonzero(np.isnan(values)).tolist():
            listed[k] = math.nan
        return listed

    def materialized(self) -> Sequence[Any]:
        from sim.workload.jobs import floats

        return floats(np.asarray(self))


class LabelColumn(SpooledColumn):
    """A LABEL field: each value one of ``labels`` (in order of first appearance in the spool)."""

    __slots__ = ("_codes", "labels", "_objects")

    def __init__(self, codes: np.ndarray, labels: list[Any]) -> None:
        super().__init__(len(codes))
        self._codes = codes
        self.labels = labels
        self._objects = np.empty(len(labels), dtype=object)
        self._objects[:] = labels

    def take(self, rows: np.ndarray) -> list[Any]:
        return self._objects[self._codes[rows]].tolist()

    def codes(self) -> np.ndarray:
        """Each row's index into ``labels`` (int32)."""
        return np.asarray(self._codes)


class TextColumn(SpooledColumn):
    """A TEXT field: strings decoded from their bytes when read, through ``order`` (positions
    in append order; None: append order) if given."""

    __slots__ = ("_ends", "_text", "_order", "job_rows", "job_ids")

    def __init__(self, ends: np.ndarray, text: mmap.mmap | bytes, order: np.ndarray | None = None) -> None:
        if order is not None and len(order) != len(ends):
            raise ValueError(f"an order of {len(order)} positions for {len(ends)} values")
        super().__init__(len(ends))
        self._ends = ends
        self._text = text
        self._order = order
        # Set by a caller whose rows each name a row of another column (a segment's job):
        # ``job_ids[job_rows[i]] == self[i]`` (``sim.metrics.columns`` joins by it).
        self.job_rows: np.ndarray | None = None
        self.job_ids: Sequence[str] | None = None

    def take(self, rows: np.ndarray) -> list[Any]:
        positions = rows if self._order is None else self._order[rows]
        ends, text = self._ends, self._text
        stops = ends[positions].tolist()
        starts = np.where(positions > 0, ends[np.maximum(positions - 1, 0)], 0).tolist()
        return [text[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, stops, strict=True)]
