"""The canonical job trace CSV, the format every trace reader converts to.

Columns (header required, any order): ``job_id,submit_time,gpus,duration`` required;
``requested_time,tenant,job_class,gpu_type,priority,tier`` optional (``gpu_type`` may list
acceptable types as ``B200|RTXPRO6000``; ``tier`` is reserved, on-demand (default) or spot).
Times in seconds. A file
ending in ``.gz`` (or starting with the gzip magic bytes) is decompressed transparently.
A bad row raises TraceError ``file:line: column: problem``; nothing is skipped silently.
Limits (every reader's): times at most ``MAX_SECONDS`` (100 years), GPUs at most ``MAX_GPUS``.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path

from sim.errors import TraceError, show
from sim.workload.jobs import DEFAULT_TIER, TIERS, JobTable

REQUIRED = ("job_id", "submit_time", "gpus", "duration")
OPTIONAL = ("requested_time", "tenant", "job_class", "gpu_type", "priority", "tier")
DEFAULT_TENANT = "default"
DEFAULT_CLASS = "default"
MAX_SECONDS = 3_155_760_000.0
"""Latest submit time, longest duration and estimate of a trace job: 100 years of 365.25 days
(a run samples the cluster until its last job ends: a job of 1e308 s made that forever)."""
MAX_GPUS = 1_000_000_000
"""Most GPUs a trace job may ask for (more than its cluster has is a rejection at run time)."""
LIMITS = {"seconds": (MAX_SECONDS, "3,155,760,000 s (100 years)"), "gpus": (MAX_GPUS, "1,000,000,000")}


def open_text(path: Path) -> io.TextIOBase:
    """Open ``path`` for reading text, through gzip if it is compressed."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def why(error: OSError | ValueError) -> str:
    """The system's reason a file could not be opened ("embedded null byte" for a NUL in its name)."""
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def _number(text: str, column: str, rule: str, ok, source: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and ok(value)):
        raise TraceError(
            f"{column} must be {rule} (got {show(text)})", source=source, line=line, field=column
        )
    return value


def check_limit(value: float, kind: str, text: str, column: str, source: str, line: int) -> None:
    """Raise ``column must be at most <limit> (got text)`` if ``value`` exceeds ``LIMITS[kind]``."""
    limit, shown = LIMITS[kind]
    if value > limit:
        raise TraceError(
            f"{column} must be at most {shown} (got {show(text)})", source=source, line=line, field=column
        )


def read_trace_csv(path: str | Path) -> JobTable:
    """Jobs of a canonical trace CSV, in submit order (ties keep row order)."""
    path = Path(path)
    source = str(path)
    try:
        handle = open_text(path)
    except (OSError, ValueError) as error:
        raise TraceError(f"trace file must be readable ({why(error)})", source=source) from None
    table = JobTable()
    seen: set[str] = set()
    with handle:
        try:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise TraceError("trace must start with a header row", source=source, line=1)
            header = [name.strip() for name in header]
            _check_header(header, source)
            column = {name: i for i, name in enumerate(header)}
            for row in rows:
                line = rows.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise TraceError(
                        f"row must have {len(header)} fields like the header (got {len(row)})",
                        source=source,
                        line=line,
                    )
                _append_row(table, row, column, seen, source, line)
        except UnicodeDecodeError:
            raise TraceError("trace must be UTF-8 text or gzip-compressed UTF-8", source=source) from None
        except (csv.Error, EOFError, OSError) as error:
            raise TraceError(f"trace must be a readable CSV file ({error})", source=source) from None
    return table.sorted_by_submit()


def _check_header(header: list[str], source: str) -> None:
    known = REQUIRED + OPTIONAL
    for name in header:
        if name not in known:
            raise TraceError(
                f"column must be one of {', '.join(known)} (got {show(name)})", source=source, line=1
            )
    if len(set(header)) != len(header):
        raise TraceError("column names must be unique", source=source, line=1)
    for name in REQUIRED:
        if name not in header:
            raise TraceError(f"header must have column {name!r}", source=source, line=1)


def _append_row(
    table: JobTable, row: list[str], column: dict[str, int], seen: set[str], source: str, line: int
) -> None:
    def text(name: str) -> str:
        index = column.get(name)
        return "" if index is None else row[index].strip()

    job_id = text("job_id")
    if not job_id:
        raise TraceError("job_id must not be empty (got '')", source=source, line=line, field="job_id")
    if job_id in seen:
        raise TraceError(
            f"job_id must be unique (got {show(job_id)} twice)", source=source, line=line, field="job_id"
        )
    seen.add(job_id)
    submit = _number(
        text("submit_time"), "submit_time", "a number of seconds >= 0", lambda v: v >= 0, source, line
    )
    gpus = _number(text("gpus"), "gpus", "a positive integer", lambda v: v >= 1 and v == int(v), source, line)
    duration = _number(text("duration"), "duration", "a number of seconds > 0", lambda v: v > 0, source, line)
    requested = duration
    if text("requested_time"):
        requested = _number(
            text("requested_time"), "requested_time", "a number of seconds > 0", lambda v: v > 0, source, line
        )
    if max(submit, duration, requested) > MAX_SECONDS or gpus > MAX_GPUS:
        for name, value, kind in (
            ("submit_time", submit, "seconds"),
            ("gpus", gpus, "gpus"),
            ("duration", duration, "seconds"),
            ("requested_time", requested, "seconds"),
        ):
            check_limit(value, kind, text(name), name, source, line)
    priority = 0
    if text("priority"):
        priority = int(
            _number(text("priority"), "priority", "an integer", lambda v: v == int(v), source, line)
        )
    table.job_id.append(job_id)
    table.submit.append(submit)
    table.gpus.append(int(gpus))
    table.duration.append(duration)
    table.requested.append(requested)
    table.gpu_type.append(text("gpu_type"))
    table.tenant.append(text("tenant") or DEFAULT_TENANT)
    table.job_class.append(text("job_class") or DEFAULT_CLASS)
    table.priority.append(priority)
    tier = text("tier") or DEFAULT_TIER
    if tier not in TIERS:
        raise TraceError(
            f"tier must be one of {', '.join(TIERS)} (got {show(tier)})",
            source=source,
            line=line,
            field="tier",
        )
    table.tier.append(tier)
    table.outcome.append("completed")
    table.end_by.append(math.inf)


def write_trace_csv(table: JobTable, path: str | Path) -> None:
    """Write ``table`` as a canonical trace CSV (floats as repr, exact round trip)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(REQUIRED + OPTIONAL)
        for i in range(len(table)):
            writer.writerow(
                (
                    table.job_id[i],
                    repr(table.submit[i]),
                    table.gpus[i],
                    repr(table.duration[i]),
                    repr(table.requested[i]),
                    table.tenant[i],
                    table.job_class[i],
                    table.gpu_type[i],
                    table.priority[i],
                    table.tier[i],
                )
            )
