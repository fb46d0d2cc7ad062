"""The canonical trace CSV: what reads, in what order, and the exact error for each bad row.

Line numbers count the header as line 1, and every physical line after it (blank lines too).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sim.errors import TraceError
from sim.workload.trace_csv import read_trace_csv, write_trace_csv

HEADER = "job_id,submit_time,gpus,duration\n"


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def error_of(path: Path) -> str:
    """The message reading ``path`` fails with."""
    with pytest.raises(TraceError) as caught:
        read_trace_csv(path)
    return str(caught.value)


# --- good files -----------------------------------------------------------------------------------


def test_required_columns_only_get_defaults(tmp_path: Path) -> None:
    """Required columns only: requested = duration, tenant, job_class 'default', gpu_type '', priority 0."""
    table = read_trace_csv(write(tmp_path, HEADER + "j1,5,4,3600\nj2,7.5,1,60.25\n"))
    assert table.job_id == ["j1", "j2"]
    assert table.submit == [5.0, 7.5]
    assert table.gpus == [4, 1]
    assert table.duration == [3600.0, 60.25]
    assert table.requested == [3600.0, 60.25]
    assert table.tenant == ["default", "default"]
    assert table.job_class == ["default", "default"]
    assert table.gpu_type == ["", ""]  # the workload builder fills the scenario's default type
    assert table.priority == [0, 0]


def test_columns_in_any_order_with_optional_ones(tmp_path: Path) -> None:
    """Columns come in any order; optional ones are read, and an empty optional field takes its default."""
    text = (
        "priority,gpu_type,duration,tenant,gpus,requested_time,job_class,submit_time,job_id\n"
        "3,B200,100,acme,8,150,training,0,a\n"
        ",,20,,2,,,1,b\n"
    )
    table = read_trace_csv(write(tmp_path, text))
    assert table.job_id == ["a", "b"]
    assert table.submit == [0.0, 1.0]
    assert table.gpus == [8, 2]
    assert table.duration == [100.0, 20.0]
    assert table.requested == [150.0, 20.0]
    assert table.tenant == ["acme", "default"]
    assert table.job_class == ["training", "default"]
    assert table.gpu_type == ["B200", ""]
    assert table.priority == [3, 0]


def test_fields_and_names_are_stripped_of_spaces_and_crlf_reads(tmp_path: Path) -> None:
    """Spaces around names and fields are ignored, and CRLF line ends read like LF."""
    text = "job_id , submit_time,gpus ,duration\r\n x , 5 , 2 , 10 \r\n"
    table = read_trace_csv(write(tmp_path, text))
    assert (table.job_id, table.submit, table.gpus, table.duration) == (["x"], [5.0], [2], [10.0])


def test_gzip_file_reads_like_plain(tmp_path: Path) -> None:
    """A gzip-compressed trace reads transparently, by its .gz name or by its magic bytes alone."""
    text = HEADER + "a,0,1,10\nb,3,2,20\n"
    plain = read_trace_csv(write(tmp_path, text))
    for name in ("t.csv.gz", "compressed-but-named.csv"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(text.encode("utf-8")))
        table = read_trace_csv(path)
        assert (table.job_id, table.submit, table.gpus, table.duration) == (
            plain.job_id,
            plain.submit,
            plain.gpus,
            plain.duration,
        )


def test_rows_are_sorted_stably_by_submit_time(tmp_path: Path) -> None:
    """Rows come back in submit order; rows with equal submit times keep their file order.

    File order: a@5 b@0 c@5 d@0 e@2  ->  b@0 d@0 e@2 a@5 c@5.
    """
    text = HEADER + "a,5,1,1\nb,0,1,1\nc,5,1,1\nd,0,1,1\ne,2,1,1\n"
    table = read_trace_csv(write(tmp_path, text))
    assert table.job_id == ["b", "d", "e", "a", "c"]
    assert table.submit == [0.0, 0.0, 2.0, 5.0, 5.0]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    """Empty lines between rows are not jobs."""
    table = read_trace_csv(write(tmp_path, HEADER + "a,0,1,1\n\n\nb,1,1,1\n"))
    assert table.job_id == ["a", "b"]


def test_write_then_read_round_trips_exactly(tmp_path: Path) -> None:
    """write_trace_csv then read_trace_csv gives back every column, floats bit for bit."""
    text = (
        "job_id,submit_time,gpus,duration,requested_time,tenant,job_class,gpu_type,priority\n"
        "a,0.1,3,0.30000000000000004,7200,t1,c1,B200,-2\n"
        "b,1e-07,16,12345.678,12345.678,t2,c2,RTX,5\n"
    )
    table = read_trace_csv(write(tmp_path, text))
    write_trace_csv(table, tmp_path / "again.csv")
    again = read_trace_csv(tmp_path / "again.csv")
    for column in table.__slots__:
        assert getattr(again, column) == getattr(table, column), column
    assert again.submit == [1e-07, 0.1]  # sorted by submit time


# --- bad rows: exactly "file:line: column: rule (got value)" --------------------------------------


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("a,x,1,10\n", 2, "submit_time: submit_time must be a number of seconds >= 0 (got 'x')"),
        ("a,-1,1,10\n", 2, "submit_time: submit_time must be a number of seconds >= 0 (got '-1')"),
        ("a,nan,1,10\n", 2, "submit_time: submit_time must be a number of seconds >= 0 (got 'nan')"),
        ("a,inf,1,10\n", 2, "submit_time: submit_time must be a number of seconds >= 0 (got 'inf')"),
        ("a,,1,10\n", 2, "submit_time: submit_time must be a number of seconds >= 0 (got '')"),
        ("a,0,1,10\nb,0,-2,10\n", 3, "gpus: gpus must be a positive integer (got '-2')"),
        ("a,0,0,10\n", 2, "gpus: gpus must be a positive integer (got '0')"),
        ("a,0,1.5,10\n", 2, "gpus: gpus must be a positive integer (got '1.5')"),
        ("a,0,four,10\n", 2, "gpus: gpus must be a positive integer (got 'four')"),
        ("a,0,1,0\n", 2, "duration: duration must be a number of seconds > 0 (got '0')"),
        ("a,0,1,-3\n", 2, "duration: duration must be a number of seconds > 0 (got '-3')"),
        ("a,0,1,1h\n", 2, "duration: duration must be a number of seconds > 0 (got '1h')"),
        ("a,0,1,10\na,1,1,10\n", 3, "job_id: job_id must be unique (got 'a' twice)"),
        ("a,0,1,10\n\n\nb,0,x,10\n", 5, "gpus: gpus must be a positive integer (got 'x')"),
    ],
)
def test_bad_required_field_names_line_column_rule_and_value(
    tmp_path: Path, rows: str, line: int, message: str
) -> None:
    """A bad field in a row gives ``file:line: column: column must <rule> (got <text>)``."""
    path = write(tmp_path, HEADER + rows)
    assert error_of(path) == f"{path}:{line}: {message}"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("requested_time", "0", "requested_time: requested_time must be a number of seconds > 0 (got '0')"),
        (
            "requested_time",
            "soon",
            "requested_time: requested_time must be a number of seconds > 0 (got 'soon')",
        ),
        ("priority", "high", "priority: priority must be an integer (got 'high')"),
        ("priority", "1.5", "priority: priority must be an integer (got '1.5')"),
    ],
)
def test_bad_optional_field_names_line_column_rule_and_value(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    """An optional column, when given, is checked like a required one (here on line 3)."""
    text = f"job_id,submit_time,gpus,duration,{column}\nok,0,1,10,\nbad,0,1,10,{value}\n"
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:3: {message}"


def test_row_with_wrong_field_count_names_line_and_counts(tmp_path: Path) -> None:
    """A row with more or fewer fields than the header names its line and both counts."""
    path = write(tmp_path, HEADER + "a,0,1,10\nb,0,1\n")
    assert error_of(path) == f"{path}:3: row must have 4 fields like the header (got 3)"
    path = write(tmp_path, HEADER + "a,0,1,10,extra\n")
    assert error_of(path) == f"{path}:2: row must have 4 fields like the header (got 5)"


def test_empty_job_id_says_what_it_got(tmp_path: Path) -> None:
    """An empty job_id is reported like every other bad field, with ``(got '')``."""
    path = write(tmp_path, HEADER + "a,0,1,10\n,0,1,10\n")
    assert error_of(path) == f"{path}:3: job_id: job_id must not be empty (got '')"


def test_empty_job_id_is_refused_on_its_line(tmp_path: Path) -> None:
    """An empty job_id is an error on its own line and column."""
    path = write(tmp_path, HEADER + "a,0,1,10\n,0,1,10\n")
    assert error_of(path).startswith(f"{path}:3: job_id: job_id must not be empty")


# --- bad headers and files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "1: trace must start with a header row"),
        (
            "job_id,submit_time,gpus,duration,walltime\n",
            "1: column must be one of job_id, submit_time, gpus, duration, requested_time, tenant, "
            "job_class, gpu_type, priority, tier (got 'walltime')",
        ),
        ("job_id,submit_time,gpus\n", "1: header must have column 'duration'"),
        ("job_id,submit_time,gpus,duration,gpus\n", "1: column names must be unique"),
    ],
)
def test_bad_header_is_an_error_on_line_one(tmp_path: Path, text: str, message: str) -> None:
    """An empty file, an unknown, missing or repeated column: an error on line 1."""
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{message}"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    """A trace that does not exist is a TraceError naming it, not an OSError."""
    path = tmp_path / "nope.csv"
    assert error_of(path) == f"{path}: trace file must be readable (No such file or directory)"


def test_undecodable_and_truncated_files_are_trace_errors(tmp_path: Path) -> None:
    """Bytes that are not UTF-8, or a gzip stream cut short, give a TraceError naming the file."""
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"job_id,submit_time\xff\xfe,gpus,duration\n")
    assert error_of(binary) == f"{binary}: trace must be UTF-8 text or gzip-compressed UTF-8"
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress((HEADER + "a,0,1,10\n" * 200).encode())[:40])
    assert error_of(truncated).startswith(f"{truncated}: trace must be a readable CSV file (")


def test_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    """A CSV saved with a UTF-8 byte-order mark (Excel's 'CSV UTF-8') reads like one without."""
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + "a,0,1,10\n").encode("utf-8"))
    assert read_trace_csv(path).job_id == ["a"]
