"""The ``gpusim`` command line, run as a real process: exit status, stdout, stderr, files.

A user error must give exit status 2 and exactly one line on stderr, ``gpusim: <file>:<line>:
<field>: <rule>``, never a traceback. Each test writes a small scenario into its temporary
folder and runs ``python -m sim`` there, so file names in messages are relative.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.policies import SCHEDULERS

# Line numbers matter: the bad-input cases below edit these lines by number.
SCENARIO_LINES = [
    "name: cli-test",  # 1
    "cluster:",  # 2
    "  pods:",  # 3
    "    - name: pool",  # 4
    "      nodes: 4",  # 5
    "      gpus_per_node: 1",  # 6
    "      gpu_type: g",  # 7
    "workload:",  # 8
    "  trace: {path: trace.csv}",  # 9
    "scheduler: easy",  # 10
]
TRACE = "job_id,submit_time,gpus,duration\na,0,1,10\nb,5,2,20\n"


def gpusim(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS`` in ``cwd``; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def project(tmp_path: Path, lines: list[str] | None = None, trace: str = TRACE, name: str = "s.yaml") -> Path:
    """Write a scenario (``SCENARIO_LINES`` unless given) and ``trace.csv`` into ``tmp_path``."""
    (tmp_path / "trace.csv").write_text(trace)
    path = tmp_path / name
    path.write_text("\n".join(SCENARIO_LINES if lines is None else lines) + "\n")
    return path


def edited(line: int, text: str | None = None, insert: str | None = None) -> list[str]:
    """SCENARIO_LINES with 1-based ``line`` replaced by ``text``, or ``insert`` put after it."""
    lines = list(SCENARIO_LINES)
    if text is not None:
        lines[line - 1] = text
    if insert is not None:
        lines.insert(line, insert)
    return lines


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a user error (exit 2, nothing on stdout, no traceback)."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gpusim: ")
    return lines[0]


# --- user errors: one line, exit 2 ---------------------------------------------------------------


def test_unknown_yaml_key(tmp_path: Path) -> None:
    """An unknown key names the file, its line, its dotted path, and the keys that are valid there."""
    project(tmp_path, edited(7, insert="      colour: blue"))  # becomes line 8
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    assert line.startswith("gpusim: s.yaml:8: cluster.pods.0.colour: unknown key; valid keys here: ")
    assert "nodes" in line and "gpus_per_node" in line


def test_negative_gpus_per_node(tmp_path: Path) -> None:
    """``gpus_per_node: -8`` names line 6, the field, the rule and the value."""
    project(tmp_path, edited(6, "      gpus_per_node: -8"))
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    assert (
        line
        == "gpusim: s.yaml:6: cluster.pods.0.gpus_per_node: gpus_per_node must be greater than 0 (got -8)"
    )


def test_bad_duration(tmp_path: Path) -> None:
    """``horizon: 3 fortnights`` names line 11 and the accepted duration forms."""
    project(tmp_path, [*SCENARIO_LINES, "horizon: 3 fortnights"])
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    assert line == (
        "gpusim: s.yaml:11: horizon: duration must be a number of seconds or a string like "
        "'90s', '15m', '2h', '7d' (got '3 fortnights')"
    )


def test_missing_trace_file(tmp_path: Path) -> None:
    """A trace path that does not exist is located at its line in the scenario."""
    project(tmp_path, edited(9, "  trace: {path: missing.csv}"))
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    assert line == "gpusim: s.yaml:9: workload.trace.path: trace file must exist (got 'missing.csv')"


def test_unknown_scheduler_lists_the_valid_names(tmp_path: Path) -> None:
    """An unknown scheduler names its line and every registered scheduler."""
    project(tmp_path, edited(10, "scheduler: magic"))
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    valid = ", ".join(SCHEDULERS.names())
    assert line == f"gpusim: s.yaml:10: scheduler: scheduler must be one of {valid} (got 'magic')"
    assert "easy" in valid and "fifo" in valid


@pytest.mark.parametrize(
    ("trace", "message"),
    [
        (TRACE + "c,9,-2,10\n", "trace.csv:4: gpus: gpus must be a positive integer (got '-2')"),
        (
            "job_id,submit_time,gpus,duration\na,0,1\n",
            "trace.csv:2: row must have 4 fields like the header (got 3)",
        ),
        (
            "job_id,submit_time,gpus,duration\na,0,1,10\nb,soon,1,10\n",
            "trace.csv:3: submit_time: submit_time must be a number of seconds >= 0 (got 'soon')",
        ),
    ],
    ids=["negative-gpus", "wrong-field-count", "non-number-submit-time"],
)
def test_bad_trace_row(tmp_path: Path, trace: str, message: str) -> None:
    """A malformed trace row stops ``run`` with the trace file, its line and column; nothing is written."""
    project(tmp_path, trace=trace)
    line = one_error_line(gpusim(tmp_path, "run", "s.yaml", "--out", "out", "--quiet"))
    assert line == f"gpusim: {message}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("cluster.pods.0.nodes=-1", "--set: cluster.pods.0.nodes: nodes must be greater than 0 (got -1)"),
        ("nonsense", "--set: override must look like dotted.path=value (got 'nonsense')"),
        ("scheduler=magic", "--set: scheduler: scheduler must be one of {valid} (got 'magic')"),
    ],
)
def test_bad_set_override(tmp_path: Path, setting: str, message: str) -> None:
    """A bad ``--set`` is blamed on ``--set`` (not the file), with the path and the rule."""
    project(tmp_path)
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml", "--set", setting))
    assert line == "gpusim: " + message.format(valid=", ".join(SCHEDULERS.names()))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (("horizon=2d", "horizon=3d"), "--set: horizon: {rule} (given again) (got 'horizon=3d')"),
        (
            ("scheduler.params.x=1", "scheduler=fifo"),
            "--set: scheduler: {rule} (replaces all of the earlier 'scheduler.params.x') "
            "(got 'scheduler=fifo')",
        ),
    ],
    ids=["same-path", "earlier-inside"],
)
def test_a_set_that_would_lose_an_earlier_one_is_refused(
    tmp_path: Path, settings: tuple[str, ...], message: str
) -> None:
    """Two ``--set`` of one path, or a later one replacing all of an earlier: one line, nothing run."""
    project(tmp_path)
    args = [part for setting in settings for part in ("--set", setting)]
    line = one_error_line(gpusim(tmp_path, "run", "s.yaml", "--out", "out", "--quiet", *args))
    rule = "override must not replace an earlier --set, whose value would be lost"
    assert line == "gpusim: " + message.format(rule=rule)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "word"),
    [(("frobnicate",), "frobnicate"), (("run", "--frob"), "--frob"), ((), "command")],
    ids=["unknown-subcommand", "unknown-option", "no-subcommand"],
)
def test_usage_mistake_is_one_line(tmp_path: Path, args: tuple[str, ...], word: str) -> None:
    """argparse mistakes are one line naming the culprit, exit 2, no usage block."""
    line = one_error_line(gpusim(tmp_path, *args))
    assert word in line


# --- commands that work ----------------------------------------------------------------------------


def test_validate_ok(tmp_path: Path) -> None:
    """``validate`` on a good file exits 0 and says ok on stdout, nothing on stderr."""
    project(tmp_path)
    done = gpusim(tmp_path, "validate", "s.yaml")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "s.yaml: ok (scenario 'cli-test', 1 pods, 4 GPUs, 2 jobs, scheduler easy)\n"


def test_validate_reads_trace_rows(tmp_path: Path) -> None:
    """``validate`` reads every trace row: a bad row fails it as it would fail ``run``."""
    project(tmp_path, trace="job_id,submit_time,gpus,duration\na,0,1,10\nb,5,0,20\n")
    line = one_error_line(gpusim(tmp_path, "validate", "s.yaml"))
    assert line == "gpusim: trace.csv:3: gpus: gpus must be a positive integer (got '0')"


def test_zero_horizon_is_a_user_error(tmp_path: Path) -> None:
    """``horizon: 0`` is refused with its rule, not a SimPy traceback."""
    project(tmp_path)
    line = one_error_line(gpusim(tmp_path, "run", "s.yaml", "--set", "horizon=0", "--quiet"))
    assert line == "gpusim: --set: horizon: horizon must be > 0 (got 0)"


def test_schema_prints_json(tmp_path: Path) -> None:
    """``schema`` prints a JSON schema whose properties include cluster, workload and scheduler."""
    done = gpusim(tmp_path, "schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert {"cluster", "workload", "scheduler"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"name", "cluster", "workload"}


def test_policies_lists_fifo_easy_pack(tmp_path: Path) -> None:
    """``policies`` lists the schedulers fifo and easy and the placement pack, each on its own line."""
    done = gpusim(tmp_path, "policies")
    assert done.returncode == 0
    names = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")}
    assert {"fifo", "easy", "pack"} <= names
    assert "schedulers:" in done.stdout and "placements:" in done.stdout


def test_run_quiet_writes_every_result_file_and_prints_nothing(tmp_path: Path) -> None:
    """``run --out DIR --quiet`` writes the result files and plots, prints nothing, exits 0.

    4 GPUs, easy: a (1 GPU) [0, 10), b (2 GPUs) [5, 25): neither waits.
    """
    project(tmp_path)
    done = gpusim(tmp_path, "run", "s.yaml", "--out", "out", "--quiet")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    out = tmp_path / "out"
    for name in ("manifest.json", "jobs.csv", "timeseries.csv", "summary.json"):
        assert (out / name).is_file(), name
    assert list((out / "plots").glob("*.png"))
    with open(out / "jobs.csv", newline="") as handle:
        rows = {row["job_id"]: row for row in csv.DictReader(handle)}
    assert [(rows[j]["start_time"], rows[j]["end_time"], rows[j]["status"]) for j in "ab"] == [
        ("0.0", "10.0", "completed"),
        ("5.0", "25.0", "completed"),
    ]
    assert json.loads((out / "manifest.json").read_text())["scenario"]["name"] == "cli-test"


def test_run_prints_summary_and_results_path(tmp_path: Path) -> None:
    """Without --quiet, ``run`` prints the summary table and where the results went.

    Utilisation: busy GPU-seconds 1 x 10 + 2 x 20 = 50 over 4 GPUs x 25 s = 100 -> 50.0%.
    """
    project(tmp_path)
    done = gpusim(tmp_path, "run", "s.yaml", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert "utilisation" in done.stdout
    assert "50.0%" in done.stdout
    assert done.stdout.splitlines()[-1] == "results: out"


def test_run_into_non_empty_out_dir_is_refused(tmp_path: Path) -> None:
    """``run --out DIR`` with DIR holding files exits 2 with one line and leaves DIR alone."""
    project(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    one_error_line(gpusim(tmp_path, "run", "s.yaml", "--out", "out", "--quiet"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_non_empty_out_dir_error_names_the_directory(tmp_path: Path) -> None:
    """The refusal names the directory the user gave, not ``None``."""
    project(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    line = one_error_line(gpusim(tmp_path, "run", "s.yaml", "--out", "out", "--quiet"))
    assert line.startswith("gpusim: out: ")
