"""The Standard Workload Format (SWF) of the Parallel Workloads Archive.

A data line has 18 whitespace-separated fields; lines starting with ``;`` are comments, and
``; Key: value`` comments form the header (``MaxProcs``, ``MaxNodes``, ``UnixStartTime``...).
Processors map to GPUs one to one, so a log replays on a flat pool of ``MaxProcs`` (else
``MaxNodes``) one-GPU nodes, given in ``notes["cluster"]``.

Mapping: job_id = field 1 (job number); submit_time = field 2 minus the first kept job's;
duration = field 4 (run time); gpus = field 8 (requested processors) if > 0, else field 5
(allocated); requested_time = field 9 if > 0, else the run time (a perfect estimate);
tenant = ``user<field 12>`` if the user id is >= 0. Dropped, counted by the first reason
that applies: submit time < 0, run time <= 0, processors <= 0. An error: a job number that
is not a whole number in digits, a value past the limits of ``common`` (times 100 years,
processors 1,000,000,000).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import BinaryIO

from sim.errors import show
from sim.workload.readers.common import Columns, Drops, TraceResult, fail, integer, number
from sim.workload.trace_csv import LIMITS, why

FIELDS = (
    "job_number",
    "submit_time",
    "wait_time",
    "run_time",
    "allocated_processors",
    "average_cpu_time",
    "used_memory",
    "requested_processors",
    "requested_time",
    "requested_memory",
    "status",
    "user_id",
    "group_id",
    "executable",
    "queue",
    "partition",
    "preceding_job",
    "think_time",
)
SUBMIT, RUN, ALLOCATED, REQUESTED, REQUESTED_TIME, USER = 1, 3, 4, 7, 8, 11
POOL_KEYS = ("MaxProcs", "MaxNodes")
INTEGER_KEYS = (*POOL_KEYS, "UnixStartTime")
UTF8_BOM = b"\xef\xbb\xbf"
SECONDS, GPUS = LIMITS["seconds"][0], LIMITS["gpus"][0]  # what number() and integer() hold fields to


def read_swf(path: str | Path) -> TraceResult:
    """The jobs of an SWF log (plain or gzip), with drops counted and the header in notes."""
    source = str(path)
    columns = Columns(source)
    drops = Drops()
    header: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for line, text in _lines(Path(path), source):
        if text.startswith(";"):
            key, colon, value = text[1:].partition(":")
            key, value = key.strip(), value.strip()
            if colon and key and " " not in key and key not in header:
                header[key] = value
                if key in INTEGER_KEYS:
                    sizes[key] = integer(value, key, source, line, limit="gpus" if key in POOL_KEYS else None)
            continue
        fields = text.split()
        if len(fields) != len(FIELDS):
            raise fail(
                f"row must have {len(FIELDS)} whitespace-separated fields (got {len(fields)})", source, line
            )
        job = fields[0]
        if not (job.isascii() and job.isdigit()):  # isdigit alone takes '²'
            raise fail(
                f"job_number must be a whole number in digits (got {show(job)})", source, line, "job_number"
            )
        try:  # all six at once; any doubt and the checks below redo them one by one
            submit, run, estimate = float(fields[SUBMIT]), float(fields[RUN]), float(fields[REQUESTED_TIME])
            procs, alloc, uid = float(fields[REQUESTED]), float(fields[ALLOCATED]), float(fields[USER])
        except ValueError:
            submit = math.nan
        if (
            -math.inf < submit <= SECONDS
            and -math.inf < run <= SECONDS
            and -math.inf < estimate <= SECONDS
            and procs.is_integer()  # False for inf and nan too
            and procs <= GPUS
            and alloc.is_integer()
            and alloc <= GPUS
            and uid.is_integer()
        ):
            requested, allocated, user = int(procs), int(alloc), int(uid)
        else:  # field by field, in order: the first bad one is the error, located and worded
            submit = number(fields[SUBMIT], "submit_time", source, line, limit="seconds")
            run = number(fields[RUN], "run_time", source, line, limit="seconds")
            requested = integer(fields[REQUESTED], "requested_processors", source, line, limit="gpus")
            allocated = integer(fields[ALLOCATED], "allocated_processors", source, line, limit="gpus")
            estimate = number(fields[REQUESTED_TIME], "requested_time", source, line, limit="seconds")
            user = integer(fields[USER], "user_id", source, line)
        gpus = requested if requested > 0 else allocated
        if submit < 0:
            drops.add("submit time < 0")
        elif run <= 0:
            drops.add("run time <= 0")
        elif gpus <= 0:
            drops.add("processors <= 0")
        else:
            columns.add(
                line,
                job,
                submit,
                gpus,
                run,
                requested=estimate if estimate > 0 else None,
                tenant=f"user{user}" if user >= 0 else "default",
                id_column="job_number",
            )
    jobs, offset = columns.table()
    notes: dict[str, object] = {
        "header": header,
        "max_procs": sizes["MaxProcs"] if sizes.get("MaxProcs", 0) > 0 else None,
        "max_nodes": sizes["MaxNodes"] if sizes.get("MaxNodes", 0) > 0 else None,
        "time_offset": offset,
    }
    if "UnixStartTime" in sizes:
        notes["unix_start_time"] = sizes["UnixStartTime"]
    pool_source = next((key for key in POOL_KEYS if sizes.get(key, 0) > 0), None)
    pool = sizes[pool_source] if pool_source else max(jobs.gpus, default=1)
    notes["pool_gpus"] = pool
    notes["pool_source"] = pool_source or "largest job"
    notes["cluster"] = {"pods": [{"name": "pool", "nodes": pool, "gpus_per_node": 1, "gpu_type": "generic"}]}
    return TraceResult(jobs, drops.counts, notes)


def _lines(path: Path, source: str):
    """``(line number, stripped text)`` of each non-blank line; gzip is read transparently.

    Bytes are decoded as Latin-1, which never fails: data lines are ASCII, and comments in
    old logs are not always UTF-8. A UTF-8 byte order mark starting the file is skipped.
    """
    try:
        handle = _open_binary(path)
    except (OSError, ValueError) as error:
        raise fail(f"trace file must be readable ({why(error)})", source) from None
    with handle:
        try:
            for number_, raw_line in enumerate(handle, 1):
                if number_ == 1:
                    raw_line = raw_line.removeprefix(UTF8_BOM)  # else a first comment is a data line
                text = raw_line.decode("latin-1").strip()
                if text:
                    yield number_, text
        except (EOFError, OSError) as error:
            raise fail(f"trace must be a readable SWF file ({error})", source) from None


def _open_binary(path: Path) -> BinaryIO:
    """``path`` opened for reading bytes, through gzip if it is compressed."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")
