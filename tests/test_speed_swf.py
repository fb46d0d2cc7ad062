"""The SWF reader's numeric fields: what it keeps, drops or refuses equals the field-by-field
rules of ``common.number`` and ``common.integer`` (in field order: the first bad field is the
error, with its message), whatever shortcut it takes for well-formed lines.
"""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given
from hypothesis import strategies as st
from strategies import fuzz_settings

from sim.errors import TraceError
from sim.workload.readers.common import integer, number
from sim.workload.readers.swf import read_swf

ODD = st.sampled_from(
    ["0", "-0", "-1", "1", "2.0", "1.5", "-2.5", "nan", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400"]
    + ["3155760000", "3155760000.5", "3155760001", "1000000000", "1000000001", "1e9", "1e10", "1_0"]
    + ["0x10", "abc", "5e-324", "+7", ".5", "5.", "99999999999999999999"]
)
SMALL = st.integers(-5, 300).map(str)
VALUE = st.one_of(SMALL, SMALL, SMALL, SMALL, ODD, st.floats(allow_nan=True).map(repr))  # mostly valid
# A well-formed data line.
LINE = ("7", "100", "5", "60", "4", "-1", "-1", "4", "120",
        "-1", "1", "3", "1", "1", "1", "-1", "-1", "-1")  # fmt: skip
# Fields 2, 4, 5, 8, 9 and 12 (1-based) are read; the others are passed over.
READ = {1: ("submit_time", "seconds", False), 3: ("run_time", "seconds", False),
        7: ("requested_processors", "gpus", True), 4: ("allocated_processors", "gpus", True),
        8: ("requested_time", "seconds", False), 11: ("user_id", None, True)}  # fmt: skip


def expected(fields: list[str]) -> tuple[str, object]:
    """What the field-by-field rules make of one data line: ('error', message), ('drop', reason)
    or ('job', (submit, gpus, run, requested, tenant))."""
    values = {}
    try:
        for index in (1, 3, 7, 4, 8, 11):  # the reader's order
            column, limit, whole = READ[index]
            read = integer if whole else number
            values[index] = read(fields[index], column, "f.swf", 1, limit=limit)
    except TraceError as error:
        return "error", str(error).split(": ", 1)[1]
    submit, run, estimate, user = values[1], values[3], values[8], values[11]
    gpus = values[7] if values[7] > 0 else values[4]
    if submit < 0:
        return "drop", "submit time < 0"
    if run <= 0:
        return "drop", "run time <= 0"
    if gpus <= 0:
        return "drop", "processors <= 0"
    tenant = f"user{user}" if user >= 0 else "default"
    return "job", (0.0, gpus, run, estimate if estimate > 0 else run, tenant)


def outcome(fields: list[str]) -> tuple[str, object]:
    """What ``read_swf`` makes of a file holding that one line."""
    with TemporaryDirectory() as folder:
        path = Path(folder) / "f.swf"
        path.write_text(" ".join(fields) + "\n", encoding="ascii")
        try:
            result = read_swf(path)
        except TraceError as error:
            return "error", str(error).split(": ", 1)[1]
    if result.drops:
        (reason,) = result.drops
        return "drop", reason
    jobs = result.jobs
    return "job", (jobs.submit[0], jobs.gpus[0], jobs.duration[0], jobs.requested[0], jobs.tenant[0])


@fuzz_settings(1000)
@given(st.lists(VALUE, min_size=6, max_size=6), st.integers(0, 5), ODD)
def test_swf_numbers_follow_the_field_rules(values: list[str], odd_one: int, odd: str) -> None:
    """A data line with any mix of odd numbers (and one for sure) reads as the field rules say."""
    fields = list(LINE)
    values[odd_one] = odd
    for index, value in zip((1, 3, 7, 4, 8, 11), values, strict=True):
        fields[index] = value
    got = outcome(fields)
    assert got == expected(fields)
    if got[0] == "job":  # same types too: ints stay ints
        assert [type(v) for v in got[1]] == [type(v) for v in expected(fields)[1]]  # type: ignore[union-attr]
