"""Fuzzing every trace reader: a job table (with its drops counted) or one ``file:line: column``.

Each format gets valid-looking rows with mutated fields (empty, text in numbers, negative,
NaN, inf, huge, a comma or a quote), missing or extra fields, duplicate ids, unsorted times,
header mistakes, a BOM, CRLF or CR line ends, quoting, gzip, and sometimes random bytes. A
read must give a TraceResult whose jobs obey the canonical rules (and, when the rows are
known, account for every row: kept or dropped), or a TraceError whose message is one line
naming the file, the line inside it and a column of the format. ``slow`` runs 10,000
examples per reader (``pytest -m slow``).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies import fuzz_settings

from sim.errors import TraceError, UserError
from sim.workload.jobs import TIERS
from sim.workload.readers import FORMATS, read_trace
from sim.workload.readers.azure_llm import MAX_BINS
from sim.workload.readers.openb import NODE_COLUMNS, POD_COLUMNS
from sim.workload.readers.swf import FIELDS, INTEGER_KEYS
from sim.workload.trace_csv import MAX_GPUS, MAX_SECONDS, OPTIONAL, REQUIRED

FAST = fuzz_settings(200)
SLOW = settings(FAST, max_examples=10_000)
# What a message must not hold: control characters (a tab aside) and line breaks of any kind.
CONTROL = [code for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029] if code != 0x09]
LINE_BREAKS = "".join(map(chr, CONTROL))
COLUMNS = {
    "csv": set(REQUIRED + OPTIONAL),
    "swf": {*FIELDS, *INTEGER_KEYS, "job_number"},
    "philly": {"timestamp", "duration", "num_gpus", "cluster"},
    "openb": {*POD_COLUMNS, *NODE_COLUMNS},
    "azure-llm": {"TIMESTAMP", "ContextTokens", "GeneratedTokens"},
}
NOISE = st.sampled_from(
    ["", " ", "nan", "NaN", "inf", "-inf", "-1", "-0", "0", "1e400", "-1e400", "1e308", "5e-324", "1e-400"]
    + ["99999999999999999999999", "1.5", "0x10", "1_000", "\u0663", "abc", "1,5", '"', "'", "\x00", " 7 "]
    + ["+3", ".5", "5.", "\ufeff1", "2017-10-09 07:01:55", "True", "None", "|", "a|b"]
)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)


def noisy(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Mostly ``valid`` (as text), else noise or random text."""
    return st.one_of(valid.map(str), valid.map(str), valid.map(str), valid.map(str), NOISE, TEXT)


def text_of(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return valid.map(str)


ROW_ID = st.just("")  # replaced by a unique id per row: duplicates come from the edits
# (row, column, text) edits of a file's rows: most files get none or one, so that most reads
# meet a single mistake, or none, rather than several at once.
FIELD_EDITS = st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3]).flatmap(
    lambda n: st.lists(
        st.tuples(st.integers(0, 99), st.integers(0, 99), NOISE | TEXT), min_size=n, max_size=n
    )
)

SECONDS = st.integers(0, 10_000) | st.floats(0, 1e6, allow_nan=False)
WORDS = st.sampled_from(["a", "b", "sme", "default", "B200", "g", "6214e9", "x y", ""])
# Mostly a week in 2023 (an Azure series in 60 s bins spans at most 1,000,000 bins), in any
# zone; some from any year.
STAMPS = st.one_of(
    st.datetimes(dt.datetime(2023, 11, 13), dt.datetime(2023, 11, 20), timezones=st.none() | st.timezones()),
    st.datetimes(dt.datetime(2023, 11, 13), dt.datetime(2023, 11, 20)),
    st.datetimes(timezones=st.none() | st.timezones()),
).map(lambda moment: moment.isoformat(sep=" ")) | st.sampled_from(
    ["2017-10-09 07:01:55", "2023-11-16 18:15:46.6805900", "0001-01-01 00:00:00+01:00"]
)
ONE_IN = {n: st.sampled_from([False] * (n - 1) + [True]) for n in (4, 8, 10, 20)}


@dataclass
class Case:
    """One trace file: its bytes, the data rows in it when known, and the reader's options."""

    data: bytes
    rows: int | None
    options: dict[str, Any] = field(default_factory=dict)
    nodes: bytes | None = None


def _row_values(fmt: str) -> dict[str, st.SearchStrategy[str]]:
    """Each column of ``fmt``: valid values as text (the id: ROW_ID, filled in per row)."""
    if fmt == "csv":
        return {
            "job_id": ROW_ID,
            "submit_time": text_of(SECONDS),
            "gpus": text_of(st.integers(1, 16)),
            "duration": text_of(SECONDS.filter(bool)),
            "requested_time": text_of(SECONDS.filter(bool)) | st.just(""),
            "tenant": text_of(WORDS),
            "job_class": text_of(WORDS),
            "gpu_type": text_of(WORDS | st.just("B200|g")),
            "priority": text_of(st.integers(-5, 5)) | st.just(""),
            "tier": text_of(st.sampled_from([*TIERS, ""])),
        }
    if fmt == "philly":
        return {
            "timestamp": text_of(STAMPS),
            "duration": text_of(SECONDS),
            "num_gpus": text_of(st.integers(0, 16)),
            "gpu_time": text_of(SECONDS),
            "cluster": text_of(WORDS),
        }
    if fmt == "openb":
        return {
            "name": ROW_ID,
            "num_gpu": text_of(st.integers(0, 8)),
            "gpu_milli": text_of(st.sampled_from([1000, 1000, 1000, 500, 0, 1001])),
            "creation_time": text_of(SECONDS),
            "deletion_time": text_of(SECONDS) | st.just(""),
            "scheduled_time": text_of(SECONDS) | st.just(""),
            "gpu_spec": text_of(st.sampled_from(["", "nan", "V100M16", "V100M16|V100M32", "|", "A10|"])),
            "qos": text_of(st.sampled_from(["LS", "BE", "Burstable", ""])),
        }
    if fmt == "azure-llm":
        return {
            "TIMESTAMP": text_of(STAMPS),
            "ContextTokens": text_of(st.integers(0, 10_000)),
            "GeneratedTokens": text_of(st.integers(0, 1000)),
        }
    raise AssertionError(fmt)


ROWS = {fmt: _row_values(fmt) for fmt in ("csv", "philly", "openb", "azure-llm")}
# Built once: a strategy made inside a draw costs more to set up than to draw from.
HEADER_EDITS = st.sampled_from(["none"] * 18 + ["drop", "duplicate", "unknown", "spaces", "upper", "empty"])
ROW_CUTS = st.sampled_from(["none"] * 18 + ["short", "long"])
TERMINATORS = st.sampled_from(["\n", "\r\n", "\r"])
QUOTING = st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
BOMS = st.sampled_from(["", "", "", "\ufeff"])
BYTE_EDITS = st.sampled_from(["plain"] * 12 + ["gzip", "gzip", "salt", "cut", "random"])
SWF_KEYS = st.lists(st.sampled_from([*INTEGER_KEYS, "Computer", "Note", "Max Procs"]), max_size=4)
SWF_LINES = st.sampled_from(["row"] * 16 + ["short", "long", "comment", "blank"])
SWF_SPACES = st.sampled_from([" ", "\t", "  "])
BINS = st.sampled_from([60, 60, 60, 1, 0.5, 3600, 1e-300, 1e300, 0, -1, math.nan, True, "60"])
CLUSTERS = WORDS | st.lists(WORDS, max_size=3) | st.integers(-1, 5)
NODE_ROWS = st.lists(
    st.tuples(noisy(st.sampled_from(["n1", "n2", "n3"])), noisy(st.integers(0, 8)), noisy(WORDS)), max_size=5
)
OPTION_NAMES = st.sampled_from(["colour", "cluster", "bin", "nodes"])
EXTRA_COLUMN = TEXT | st.just("extra")


def pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of ``items`` (a strategy over a list made during a draw would cost more)."""
    return items[draw(st.integers(0, len(items) - 1))]


REQUIRED_COLUMNS = {
    "csv": list(REQUIRED),
    "philly": ["timestamp", "duration", "num_gpus"],
    "openb": list(POD_COLUMNS),
    "azure-llm": ["TIMESTAMP", "ContextTokens", "GeneratedTokens"],
}
OPTIONAL_COLUMNS = {
    fmt: st.lists(st.sampled_from(columns), unique=True)
    for fmt, columns in {
        "csv": OPTIONAL,
        "philly": ("gpu_time", "cluster"),
        "openb": ("gpu_spec", "qos"),
    }.items()
}


@st.composite
def csv_case(draw: st.DrawFn, fmt: str) -> Case:
    """A CSV trace of ``fmt``: a header (perhaps wrong), rows, a dialect, perhaps gzip or bytes salt."""
    header = list(REQUIRED_COLUMNS[fmt])
    if fmt in OPTIONAL_COLUMNS:
        header += draw(OPTIONAL_COLUMNS[fmt])
    for i in range(len(header) - 1, 0, -1):  # shuffled
        j = draw(st.integers(0, i))
        header[i], header[j] = header[j], header[i]
    edit = draw(HEADER_EDITS)
    if edit == "drop":
        header.pop(draw(st.integers(0, len(header) - 1)))
    elif edit == "duplicate":
        header.append(pick(draw, header))
    elif edit == "unknown":
        header.insert(draw(st.integers(0, len(header))), draw(EXTRA_COLUMN))
    elif edit == "spaces":
        header = [f" {name} " for name in header]
    elif edit == "upper":
        header = [name.upper() for name in header]
    elif edit == "empty":
        header = []
    rows = []
    columns = ROWS[fmt]
    for index in range(draw(st.integers(0, 6))):
        row = [draw(columns.get(name.strip(), NOISE)) for name in header]
        row = [
            f"j{index}" if columns.get(name.strip()) is ROW_ID else text
            for name, text in zip(header, row, strict=True)
        ]
        cut = draw(ROW_CUTS)
        if cut == "short" and row:
            row.pop()
        elif cut == "long":
            row.append(draw(NOISE))
        rows.append(row)
    for at, column, text in draw(FIELD_EDITS):
        if rows and rows[at % len(rows)]:
            rows[at % len(rows)][column % len(rows[at % len(rows)])] = text
    if rows and draw(ONE_IN[8]):
        rows.insert(draw(st.integers(0, len(rows))), list(pick(draw, rows)))  # a duplicate id
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        lineterminator=draw(TERMINATORS),
        quoting=draw(QUOTING),
    )
    writer.writerow(header)
    counted = 0
    for row in rows:
        if draw(ONE_IN[10]):
            buffer.write("\n")  # a blank line: skipped, not a row
        writer.writerow(row)
        counted += row != [] and row != [""]
    text = buffer.getvalue()
    return finish(draw, text, counted if edit == "none" else None)


def finish(draw: st.DrawFn, text: str, rows: int | None) -> Case:
    """``text`` as bytes: perhaps with a BOM, gzip-compressed, or salted with random bytes."""
    data = (draw(BOMS) + text).encode("utf-8")
    how = draw(BYTE_EDITS)
    if how == "gzip":
        data = gzip.compress(data, mtime=0)
    elif how == "salt":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
        rows = None
    elif how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
        data = gzip.compress(data, mtime=0)[: draw(st.integers(0, 40))] if draw(st.booleans()) else data
        rows = None
    elif how == "random":
        data, rows = draw(st.binary(max_size=120)), None
    return Case(data, rows)


SWF_HEADER_VALUES = noisy(st.integers(0, 512))
SWF_VALUES = [
    st.integers(1, 99),  # job number
    SECONDS,  # submit
    SECONDS,  # wait
    SECONDS | st.just(-1),  # run time
    st.integers(-1, 64),  # allocated processors
    st.just(-1),
    st.just(-1),
    st.integers(-1, 64),  # requested processors
    SECONDS | st.just(-1),  # requested time
    st.just(-1),
    st.integers(-1, 5),  # status
    st.integers(-1, 20),  # user
    *[st.integers(-1, 5)] * 6,
]
SWF_ROW = st.tuples(*SWF_VALUES).map(lambda values: [str(v) for v in values])


@st.composite
def swf_case(draw: st.DrawFn) -> Case:
    """An SWF log: header comments (perhaps with bad integers), data lines, stray lines."""
    lines: list[str | list[str]] = [f"; {key}: {draw(SWF_HEADER_VALUES)}" for key in draw(SWF_KEYS)]
    for number in range(1, draw(st.integers(0, 6)) + 1):
        fields = [str(number), *draw(SWF_ROW)[1:]]
        kind = draw(SWF_LINES)
        if kind == "short":
            fields.pop(draw(st.integers(0, len(fields) - 1)))
        elif kind == "long":
            fields.append("0")
        lines.append(";" + " ".join(fields) if kind == "comment" else "   " if kind == "blank" else fields)
    data = [line for line in lines if isinstance(line, list)]
    for at, column, text in draw(FIELD_EDITS):
        if data:
            data[at % len(data)][column % len(data[at % len(data)])] = text
    # The reader splits Latin-1 text at whitespace: an empty field, or one with a space (or a
    # byte like 0x85 or 0xa0 in its UTF-8), changes the count; a leading ';' makes a comment.
    read_as = [[f.encode().decode("latin-1") for f in fields] for fields in data]
    known = all(f and not any(c.isspace() for c in f) for fields in read_as for f in fields)
    known &= not any(fields[0].startswith(";") for fields in read_as)
    spaces = draw(SWF_SPACES)
    text = "\n".join(line if isinstance(line, str) else spaces.join(line) for line in lines) + "\n"
    return finish(draw, text, len(data) if known else None)


FILES = {fmt: swf_case() if fmt == "swf" else csv_case(fmt) for fmt in FORMATS}


@st.composite
def trace_cases(draw: st.DrawFn, fmt: str) -> Case:
    """A trace file of ``fmt`` and reader options (mostly none, sometimes wrong)."""
    case = draw(FILES[fmt])
    if fmt == "philly" and draw(st.booleans()):
        case.options["cluster"] = draw(CLUSTERS)
    elif fmt == "azure-llm" and draw(st.booleans()):
        case.options["bin"] = draw(BINS)
    elif fmt == "openb" and draw(st.booleans()):
        nodes = [("sn", "gpu", "model"), *draw(NODE_ROWS)]
        case.nodes = "\n".join(",".join(f'"{v}"' if "," in v else v for v in row) for row in nodes).encode()
    if draw(ONE_IN[20]):
        case.options[draw(OPTION_NAMES)] = draw(NOISE)
    return case


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_traces")


def check_read(folder: Path, fmt: str, case: Case) -> None:
    """Read ``case`` as ``fmt``: a result obeying the rules, or a one-line located TraceError."""
    path = folder / f"trace.{fmt}"
    path.write_bytes(case.data)
    options = dict(case.options)
    if case.nodes is not None:
        (folder / "nodes.csv").write_bytes(case.nodes)
        options["nodes"] = str(folder / "nodes.csv")
    try:
        result = read_trace(path, fmt, **options)
    except UserError as error:
        event("refused")
        check_error(error, fmt, path, case, str(options.get("nodes")))
        return
    event("read")
    jobs = result.jobs
    assert all(count > 0 for count in result.drops.values())
    if fmt == "azure-llm":
        series = result.notes["series"]
        assert len(jobs) == 0 and len(series) <= MAX_BINS
        assert sum(series.requests) == result.notes["requests"]
        assert case.rows is None or result.notes["requests"] == case.rows
        return
    assert case.rows is None or len(jobs) + result.dropped == case.rows, (len(jobs), result.drops)
    assert len(set(jobs.job_id)) == len(jobs) and all(jobs.job_id)
    assert jobs.submit == sorted(jobs.submit)
    assert all(0 <= s <= MAX_SECONDS for s in jobs.submit)
    assert all(isinstance(g, int) and 1 <= g <= MAX_GPUS for g in jobs.gpus)
    assert all(0 < d <= MAX_SECONDS for d in jobs.duration + jobs.requested)
    assert set(jobs.tier) <= set(TIERS)
    if fmt != "csv" and len(jobs):
        assert jobs.submit[0] == 0  # shifted to the first kept job


def check_error(error: UserError, fmt: str, path: Path, case: Case, nodes: str) -> None:
    assert isinstance(error, TraceError), repr(error)
    message = str(error)
    assert not any(c in message for c in LINE_BREAKS), message
    assert len(message) < 1000, message
    assert error.source in (str(path), nodes), message
    assert message.startswith(f"{error.source}:"), message
    if error.line is not None:
        assert message.startswith(f"{error.source}:{error.line}: "), message
        data = case.data if error.source == str(path) else case.nodes
        if data is not None and data[:2] != b"\x1f\x8b":
            assert 1 <= error.line <= data.count(b"\n") + data.count(b"\r") + 1, message
    if error.field is not None:
        assert error.field in COLUMNS[fmt], message
        assert f": {error.field}: " in message, message


CASES = {fmt: trace_cases(fmt) for fmt in FORMATS}


def _fuzz(folder: Path, fmt: str, data: st.DataObject) -> None:
    check_read(folder, fmt, data.draw(CASES[fmt], label="case"))


@pytest.mark.parametrize("fmt", list(FORMATS))
@FAST
@given(data=st.data())
def test_fuzz_trace_reader(folder: Path, fmt: str, data: st.DataObject) -> None:
    _fuzz(folder, fmt, data)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(FORMATS))
@SLOW
@given(data=st.data())
def test_fuzz_trace_reader_slow(folder: Path, fmt: str, data: st.DataObject) -> None:
    _fuzz(folder, fmt, data)


# --- Regressions: each a crash the fuzzer found, with its minimal input -------------------------


def read_error(folder: Path, fmt: str, text: str, **options: Any) -> str:
    """The one-line TraceError of reading ``text`` as ``fmt``; fails on success or another error."""
    path = folder / f"bad.{fmt}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TraceError) as caught:
        read_trace(path, fmt, **options)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


@pytest.mark.parametrize(
    ("fmt", "header", "row"),
    [
        ("philly", "timestamp,duration,num_gpus", "{},10,1"),
        ("azure-llm", "TIMESTAMP,ContextTokens,GeneratedTokens", "{},1,1"),
    ],
)
def test_regression_timestamp_outside_years_1_to_9999_in_utc(
    folder: Path, fmt: str, header: str, row: str
) -> None:
    """A zone offset moving an instant before year 1 (or past 9999) in UTC raised OverflowError."""
    column = header.split(",")[0]
    for stamp in ("0001-01-01 00:00:00+01:00", "9999-12-31 23:30:00-01:00"):
        message = read_error(folder, fmt, f"{header}\n2017-10-09 07:01:55,1,1\n{row.format(stamp)}\n")
        assert (
            message
            == f"3: {column}: {column} must be a date and time from year 1 to 9999 in UTC (got {stamp!r})"
        )


def test_regression_timestamp_with_offset_is_read_as_utc(folder: Path) -> None:
    path = folder / "zoned.philly"
    path.write_text("timestamp,duration,num_gpus\n2017-10-09 07:01:55+02:00,10,1\n2017-10-09 05:02:05,10,1\n")
    result = read_trace(path, "philly")
    assert result.notes["start"] == "2017-10-09 05:01:55"
    assert result.jobs.submit == [0.0, 10.0]


def test_regression_last_microsecond_of_year_9999(folder: Path) -> None:
    """9999-12-31 23:59:59.999999 is 253402300800.0 s as a float: the start note raised ValueError."""
    path = folder / "late.philly"
    path.write_text("timestamp,duration,num_gpus\n9999-12-31 23:59:59.999999,10,1\n")
    result = read_trace(path, "philly")
    assert result.notes["start"] == "253402300800.0 s after 1970-01-01"
    assert len(result.jobs) == 1 and result.jobs.submit == [0.0]


def test_regression_azure_requests_beyond_max_bins(folder: Path) -> None:
    """Requests 8,000 years apart in 60 s bins made 4e10 bins: MemoryError; 1e-300 s bins OverflowError."""
    header = "TIMESTAMP,ContextTokens,GeneratedTokens"
    text = f"{header}\n2000-01-01 00:00:00,1,1\n0001-01-01 00:00:00,1,1\n9999-12-31 00:00:00,1,1\n"
    message = read_error(folder, "azure-llm", text)
    assert message == (
        "2: TIMESTAMP: TIMESTAMP must fall within 1,000,000 bins of 60 s after the first request "
        "(0001-01-01 00:00:00) (got '2000-01-01 00:00:00')"
    )
    text = f"{header}\n2000-01-01 00:00:00,1,1\n2000-01-01 00:00:01,1,1\n"
    assert read_error(folder, "azure-llm", text, bin=1e-300).startswith(
        "3: TIMESTAMP: TIMESTAMP must fall within"
    )
    path = folder / "week.azure"
    path.write_text(f"{header}\n2000-01-01 00:00:00,1,1\n2000-01-08 00:00:00,2,3\n")
    series = read_trace(path, "azure-llm", bin=1).notes["series"]
    assert len(series) == 604_801 and series.requests[-1] == 1 and series.context_tokens[-1] == 2


def test_regression_swf_byte_order_mark(folder: Path) -> None:
    """A UTF-8 BOM hid the first line's ';': a comment was read as a data line (and a job kept)."""
    path = folder / "bom.swf"
    row = "1 0 0 10 1 -1 -1 1 20 -1 1 3 -1 -1 -1 -1 -1 -1"
    path.write_bytes(
        b"\xef\xbb\xbf; MaxProcs: 8\n;"
        + row.encode()
        + b"\n"
        + row.replace("1 0 0 10", "2 5 0 10", 1).encode()
    )
    result = read_trace(path, "swf")
    assert result.notes["max_procs"] == 8 and result.notes["header"] == {"MaxProcs": "8"}
    assert result.jobs.job_id == ["2"] and result.dropped == 0


def test_regression_openb_pod_without_a_name(folder: Path) -> None:
    """An empty pod name became job_id '': trace convert wrote a CSV that gpusim then refused."""
    header = "name,num_gpu,gpu_milli,creation_time,deletion_time,scheduled_time"
    message = read_error(folder, "openb", f"{header}\np1,1,1000,0,10,0\n,1,1000,0,10,0\n")
    assert message == "3: name: name must not be empty (got '')"


PAST = [("csv", ",".join(REQUIRED) + "\na,0,1e300,1e308", "2: gpus: gpus must be at most 1,000,000,000")]
PAST += [("philly", "timestamp,duration,num_gpus\n2017-01-01,1,1\n1900-01-01,1,1", "2: timestamp: timestamp")]


@pytest.mark.parametrize(("fmt", "text", "message"), PAST)
def test_regression_times_and_sizes_past_the_limits(folder: Path, fmt: str, text: str, message: str) -> None:
    """A job of 1e308 s made a run sample hourly until it ended (forever); 1e300 GPUs overflowed int64."""
    assert read_error(folder, fmt, text + "\n").startswith(message)
