"""SWF trace reader: exact rows, exact errors, every drop counted.

A small generated log gives the canonical rows it must give, its malformed lines the exact
``file:line: column: problem``, and its drop counts; the real logs under /work/shared/traces
(skipped when absent) pin the numbers found in them. Line numbers count every physical line of
the file, the first comment as 1. The fixtures and helpers are shared with the other reader tests
(``tests/helpers.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import HEADER, SWF_GOOD, canonical, error_of, plain_and_gzipped, real, swf_line, write

from sim.workload.readers import read_trace


def test_swf_good_file(tmp_path: Path) -> None:
    """Requested processors else allocated; requested time else the run time; users become tenants."""
    result = read_trace(write(tmp_path, "t.swf", SWF_GOOD), "swf")
    assert canonical(result, tmp_path) == HEADER + (
        "1,0.0,8,50.0,120.0,user3,default,,0,on-demand\n"
        "4,30.0,1,20.0,20.0,user3,default,,0,on-demand\n"
        "2,60.0,2,30.0,30.0,default,default,,0,on-demand\n"
        "3,60.0,16,10.5,10.5,user7,default,,0,on-demand\n"
    )
    assert result.drops == {}
    notes = result.notes
    assert (notes["max_procs"], notes["max_nodes"], notes["unix_start_time"]) == (64, 32, 1000)
    assert (notes["pool_gpus"], notes["pool_source"], notes["time_offset"]) == (64, "MaxProcs", 100.0)
    assert notes["cluster"] == {
        "pods": [{"name": "pool", "nodes": 64, "gpus_per_node": 1, "gpu_type": "generic"}]
    }


def test_swf_without_pool_header_suggests_the_largest_job(tmp_path: Path) -> None:
    """With neither MaxProcs nor MaxNodes the pool is the largest job."""
    result = read_trace(write(tmp_path, "t.swf", swf_line(1, 0, 5, 12) + swf_line(2, 1, 5, 3)), "swf")
    assert (result.notes["pool_gpus"], result.notes["pool_source"]) == (12, "largest job")
    assert result.notes["max_procs"] is None and result.notes["max_nodes"] is None


def test_swf_drops_are_counted_by_first_reason(tmp_path: Path) -> None:
    """Non-positive run time or processors, and unknown submit times, are dropped and counted."""
    text = (
        "; MaxNodes: 8\n"
        + swf_line(1, 0, 10, 1)
        + swf_line(2, 5, 0, 1)
        + swf_line(3, 6, -1, 1)
        + swf_line(4, 7, 10, -1)
        + swf_line(5, -1, 10, 1)
        + swf_line(6, 8, 0, 0)  # both bad: counted once, as run time
    )
    result = read_trace(write(tmp_path, "t.swf", text), "swf")
    assert result.drops == {"run time <= 0": 3, "processors <= 0": 1, "submit time < 0": 1}
    assert result.dropped == 5
    assert result.jobs.job_id == ["1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            swf_line(1, 0, 10, 1) + "2 5 -1 10 1\n",
            "t.swf:2: row must have 18 whitespace-separated fields (got 5)",
        ),
        (
            swf_line(1, 0, 10, 1).replace(" 10 ", " x ", 1),
            "t.swf:1: run_time: run_time must be a number (got 'x')",
        ),
        (
            swf_line(1, 0, 10, 1, procs=2).replace(" 2 ", " 2.5 ", 1),
            "t.swf:1: requested_processors: requested_processors must be an integer (got '2.5')",
        ),
        (
            swf_line(1, "soon", 10, 1),
            "t.swf:1: submit_time: submit_time must be a number (got 'soon')",
        ),
        (
            "; MaxProcs: many\n" + swf_line(1, 0, 10, 1),
            "t.swf:1: MaxProcs: MaxProcs must be an integer (got 'many')",
        ),
        (
            swf_line(7, 0, 10, 1) + swf_line(7, 1, 10, 1),
            "t.swf:2: job_number: job_number must be unique (got '7' twice)",
        ),
        (
            swf_line("1.5", 0, 10, 1),  # type: ignore[arg-type]
            "t.swf:1: job_number: job_number must be a whole number in digits (got '1.5')",
        ),
        (
            swf_line(1, 0, 10, 1, procs="1e300"),  # type: ignore[arg-type]
            "t.swf:1: requested_processors: requested_processors must be at most 1,000,000,000 (got '1e300')",
        ),
        (
            swf_line(1, 0, 1e308, 1),
            "t.swf:1: run_time: run_time must be at most 3,155,760,000 s (100 years) (got '1e+308')",
        ),
        (
            "; MaxProcs: 1e300\n" + swf_line(1, 0, 10, 1),
            "t.swf:1: MaxProcs: MaxProcs must be at most 1,000,000,000 (got '1e300')",
        ),
    ],
    ids=[
        "field-count",
        "run-time",
        "processors",
        "submit",
        "header",
        "duplicate",
        "job-number-fraction",
        "processors-1e300",
        "run-time-1e308",
        "header-1e300",
    ],  # fmt: skip
)
def test_swf_malformed_rows(tmp_path: Path, text: str, message: str) -> None:
    """A malformed SWF line is ``file:line: column: problem`` (job numbers in digits; processors and
    times within the trace limits: 1.5 was taken as a job number, 1e300 processors overflowed)."""
    path = write(tmp_path, "t.swf", text)
    assert error_of(lambda: read_trace(path, "swf")) == str(tmp_path / message)


def test_swf_gzip_is_transparent(tmp_path: Path) -> None:
    """A gzip-compressed SWF reads as the plain file does."""
    plain, packed = plain_and_gzipped(tmp_path, "t.swf", SWF_GOOD, "swf")
    assert (packed.jobs, packed.drops, packed.notes) == (plain.jobs, plain.drops, plain.notes)


def test_real_lublin_swf() -> None:
    """Lublin's 256-node model log: 10,000 jobs, MaxNodes 256, nothing dropped, first at 0."""
    result = read_trace(real("swf", "lublin_256.swf"), "swf")
    assert len(result.jobs) == 10_000
    assert result.drops == {}
    assert (result.notes["max_nodes"], result.notes["max_procs"], result.notes["pool_gpus"]) == (
        256,
        None,
        256,
    )
    assert (result.jobs.submit[0], result.notes["time_offset"]) == (0.0, 5094.0)
    assert max(result.jobs.gpus) == 256


def test_real_nasa_swf_gz() -> None:
    """NASA iPSC (cleaned, gzip): 18,239 lines, 173 with run time 0 dropped, 128 processors."""
    result = read_trace(real("swf", "NASA-iPSC-1993-3.1-cln.swf.gz"), "swf")
    assert result.drops == {"run time <= 0": 173}
    assert len(result.jobs) == 18_239 - 173
    assert (result.notes["max_procs"], result.notes["max_nodes"], result.notes["pool_gpus"]) == (
        128,
        128,
        128,
    )
    assert result.notes["unix_start_time"] == 749458803
    assert len(set(result.jobs.tenant)) == 69
