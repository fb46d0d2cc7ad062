"""What every trace reader shares: the result type, located value parsing, CSV rows by column.

Every reader returns a ``TraceResult``: the jobs as a ``JobTable`` in submit order with the
first job shifted to time 0 (the subtracted offset is ``notes["time_offset"]``), every dropped
job counted under a one-line reason in ``drops``, and what else the file says in ``notes``.
A malformed row raises ``TraceError`` located as ``file:line: column: problem``. Every
reader keeps the canonical format's limits: submit times (from the first job's), durations and
estimates at most ``MAX_SECONDS`` (100 years), GPU counts at most ``MAX_GPUS``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sim.errors import TraceError, show
from sim.workload.jobs import JobTable
from sim.workload.trace_csv import LIMITS, MAX_SECONDS, check_limit, open_text, why

EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class TraceResult:
    """One read trace: ``jobs`` (submit order, first at 0), ``drops`` (reason -> count), ``notes``."""

    jobs: JobTable
    drops: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        """How many jobs were dropped, for every reason."""
        return sum(self.drops.values())


class Drops:
    """Counts dropped jobs by reason, in the order reasons first occur."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1


class Columns:
    """Jobs being collected row by row; ``table()`` sorts them and shifts the first to 0."""

    def __init__(self, source: str, submit_column: str = "submit_time") -> None:
        self.source = source
        self.submit_column = submit_column
        self.jobs = JobTable()
        self.seen: set[str] = set()
        self.lines: list[int] = []

    def add(
        self,
        line: int,
        job_id: str,
        submit: float,
        gpus: int,
        duration: float,
        requested: float | None = None,
        tenant: str = "default",
        job_class: str = "default",
        gpu_type: str = "",
        id_column: str = "job_id",
    ) -> None:
        if not job_id:  # the canonical CSV refuses an empty job_id: a converted trace must read back
            raise TraceError(
                f"{id_column} must not be empty (got '')", source=self.source, line=line, field=id_column
            )
        if job_id in self.seen:
            raise TraceError(
                f"{id_column} must be unique (got {show(job_id)} twice)",
                source=self.source,
                line=line,
                field=id_column,
            )
        self.seen.add(job_id)
        self.lines.append(line)
        jobs = self.jobs
        jobs.job_id.append(job_id)
        jobs.submit.append(submit)
        jobs.gpus.append(gpus)
        jobs.duration.append(duration)
        jobs.requested.append(duration if requested is None else requested)
        jobs.tenant.append(tenant or "default")
        jobs.job_class.append(job_class or "default")
        jobs.gpu_type.append(gpu_type)
        jobs.priority.append(0)
        jobs.append_defaults()

    def table(self) -> tuple[JobTable, float]:
        """The jobs in submit order (stable), shifted so the first is at 0, and the shift.

        A job submitted more than ``MAX_SECONDS`` after the first is an error at its line.
        """
        submits = self.jobs.submit
        first = min(submits, default=0.0)
        if submits and max(submits) - first > MAX_SECONDS:
            late = next(i for i, submit in enumerate(submits) if submit - first > MAX_SECONDS)
            raise fail(
                f"{self.submit_column} must fall within {LIMITS['seconds'][1]} of the first job's "
                f"({iso(first)}) (got {iso(submits[late])})",
                self.source,
                self.lines[late],
                self.submit_column,
            )
        table = self.jobs.sorted_by_submit()
        offset = table.submit[0] if len(table) else 0.0
        if offset:
            table.submit = [submit - offset for submit in table.submit]
        return table, offset


def fail(message: str, source: str, line: int | None = None, column: str | None = None) -> TraceError:
    """A located TraceError (raise it)."""
    return TraceError(message, source=source, line=line, field=column)


def number(
    text: str,
    column: str,
    source: str,
    line: int,
    rule: str = "a number",
    ok: Callable[[float], bool] | None = None,
    limit: str | None = None,
) -> float:
    """``text`` as a finite float that passes ``ok``, else ``file:line: column: column must be rule``.

    ``limit`` (``"seconds"`` or ``"gpus"``): also at most that limit (``LIMITS``).
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (ok is not None and not ok(value)):
        raise fail(f"{column} must be {rule} (got {show(text)})", source, line, column)
    if limit is not None:
        check_limit(value, limit, text, column, source, line)
    return value


def integer(
    text: str,
    column: str,
    source: str,
    line: int,
    rule: str = "an integer",
    ok: Callable[[int], bool] | None = None,
    limit: str | None = None,
) -> int:
    """``text`` as an int (``4`` or ``4.0``) that passes ``ok`` (and ``limit``), else a located TraceError."""
    value = number(text, column, source, line, rule, lambda v: v == int(v))
    if ok is not None and not ok(int(value)):
        raise fail(f"{column} must be {rule} (got {show(text)})", source, line, column)
    if limit is not None:
        check_limit(value, limit, text, column, source, line)
    return int(value)


def timestamp(text: str, column: str, source: str, line: int) -> float:
    """Seconds since 1970 of a date and time like ``2017-10-09 07:01:55`` (naive = UTC)."""
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        raise fail(
            f"{column} must be a date and time like 2017-10-09 07:01:55 (got {show(text)})",
            source,
            line,
            column,
        ) from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise fail(
            f"{column} must be a date and time from year 1 to 9999 in UTC (got {show(text)})",
            source,
            line,
            column,
        ) from None
    return (moment - EPOCH).total_seconds()


def iso(seconds: float) -> str:
    """The date and time (UTC, no zone) of ``seconds`` since 1970; seconds if past year 9999."""
    try:
        return (EPOCH + timedelta(seconds=seconds)).isoformat(sep=" ")
    except OverflowError:  # 9999-12-31 23:59:59.9999999 rounds up to year 10000
        return f"{seconds!r} s after 1970-01-01"


def csv_rows(
    path: str | Path, required: Sequence[str], source: str | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, {column: stripped text})`` for each non-blank row of a CSV file with a header.

    The header must name every ``required`` column (others are kept, unchecked); every row
    must have as many fields as the header. gzip input is decompressed transparently.
    """
    source = source or str(path)
    try:
        handle = open_text(Path(path))
    except (OSError, ValueError) as error:
        raise fail(f"trace file must be readable ({why(error)})", source) from None
    with handle:
        try:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise fail("trace must start with a header row", source, 1)
            header = [name.strip() for name in header]
            if len(set(header)) != len(header):
                raise fail("column names must be unique", source, 1)
            for name in required:
                if name not in header:
                    raise fail(f"header must have column {name!r} (got {', '.join(header)})", source, 1)
            width = len(header)
            for row in rows:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != width:
                    raise fail(
                        f"row must have {width} fields like the header (got {len(row)})",
                        source,
                        rows.line_num,
                    )
                yield rows.line_num, {name: text.strip() for name, text in zip(header, row, strict=True)}
        except UnicodeDecodeError:
            raise fail("trace must be UTF-8 text or gzip-compressed UTF-8", source) from None
        except (csv.Error, EOFError, OSError) as error:
            raise fail(f"trace must be a readable CSV file ({error})", source) from None
