"""Fuzzing the command line: ``sim.cli.main(argv)`` exits 0 or 2, and 2 with one line.

Random argument lists for every subcommand (run, validate, schema, policies, compare, sweep,
plot, trace convert) and random tokens: flags, ``--set`` with real and random dotted paths
and values of every YAML type, missing files, directories given as files, non-empty output
directories. The outcome must be exit status 0 or 2 (argparse's SystemExit(2) included),
no traceback on stderr, and for 2 exactly one stderr line ``gpusim: ...`` (the project's
parser makes usage mistakes one line too). Everything runs in a temporary folder, the
current directory included, so nothing is written into the repository. Valid runs use a
four-GPU pool and three jobs. ``slow`` runs 10,000 examples (``pytest -m slow``).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies import DURATION_TEXTS, EXTREME_NUMBERS, SCHEMA_WORDS, TEXT, fuzz_settings

from sim.cli import main
from sim.errors import one_line

FAST = fuzz_settings(300)
SLOW = settings(FAST, max_examples=10_000)
TINY = """name: tiny
cluster:
  pods:
    - {name: pool, nodes: 4, gpus_per_node: 1, gpu_type: g}
workload:
  trace: {path: trace.csv}
scheduler: easy
"""
TRACE = "job_id,submit_time,gpus,duration\na,0,1,10\nb,5,2,20\nc,6,4,5\n"
FILES = {
    "tiny.yaml": TINY,
    "bad.yaml": TINY.replace("nodes: 4", "nodes: -4"),
    "trace.csv": TRACE,
    "sweep.yaml": "base: tiny.yaml\naxes: {scheduler: [easy, fifo]}\n",
    "bad-sweep.yaml": "base: tiny.yaml\naxes: {scheduler: []}\n",
    "notes.txt": "not yaml: [\n",
    "log.swf": "; MaxProcs: 4\n1 0 0 10 1 -1 -1 1 20 -1 1 3 -1 -1 -1 -1 -1 -1\n",
    "philly.csv": "timestamp,duration,num_gpus,cluster\n2017-10-09 07:01:55,100,2,6214e9\n",
    "pods.csv": "name,num_gpu,gpu_milli,creation_time,deletion_time,scheduled_time\np,1,500,0,10,1\n",
    "nodes.csv": "sn,gpu,model\nn1,8,V100M16\n",
    "azure.csv": "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,10,2\n",
}
LONG = "a" * 300  # a name the system refuses: File name too long
REFUSED = [LONG, "x\x00y", "/proc/gpusim-out", "notes.txt/x"]  # outputs the system will not create
FILE_ARGS = st.sampled_from(
    [*FILES, "missing.yaml", "adir", "ran", "full", "", "-", "/dev/null", "x\x00y", LONG]
)
SET_PATHS = st.sampled_from(
    [
        "name",
        "seed",
        "horizon",
        "cluster.pods.0.nodes",
        "cluster.pods.0.count",
        "cluster.pods.0",
        "cluster.pods.3",
    ]
    + ["workload.trace.path", "workload.trace.format", "workload.trace.options.cluster", "scheduler"]
    + ["scheduler.params.preempt_spot", "placement", "pricing", "quota", "metrics.sample_interval", "start"]
    + ["timezone", "preemption.restart_overhead", "energy.pue", "demand", "a..b", "", "."]
)
# Scalars small enough that a valid override never makes a big run (no million-node pods).
SET_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    EXTREME_NUMBERS.filter(lambda v: v not in (1_000_000, 10_001)),
    DURATION_TEXTS,
    SCHEMA_WORDS,
    TEXT,
    st.lists(st.integers(0, 3) | SCHEMA_WORDS, max_size=2),
    st.dictionaries(SCHEMA_WORDS, st.integers(0, 3), max_size=2),
)
SCHEDULERS = st.sampled_from(["easy", "fifo", "conservative", "sjf", "nope", "", " ", "easy,,fifo"])
FORMATS = st.sampled_from(["csv", "swf", "philly", "openb", "azure-llm", "nope", ""])
CONVERTIBLE = {
    "csv": "trace.csv",
    "swf": "log.swf",
    "philly": "philly.csv",
    "openb": "pods.csv",
    "azure-llm": "azure.csv",
}
OWN_FLAGS = {
    "swf": ["--cluster-out"],
    "philly": ["--cluster"],
    "openb": ["--nodes", "--cluster-out"],
    "azure-llm": ["--bin"],
}
JUNK = st.sampled_from(
    ["--nope", "-x", "--", "--out", "--set", "--quiet", "-h", "--help", "run", "=", "--set="]
)


def _set(path: str, value: object, raw: str | None) -> str:
    text = raw if raw is not None else yaml.safe_dump(value, default_flow_style=True).strip()
    return f"{path}={text.removesuffix('...').strip()}"


SETS = st.builds(_set, SET_PATHS | TEXT, SET_VALUES, st.none() | TEXT | st.just("[1, {a"))


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """An argument list for one subcommand (or random tokens); ``{out}`` marks a fresh directory."""
    command = draw(st.sampled_from(["run", "validate", "schema", "policies", "compare", "sweep", "plot"]
                                   + ["trace", "junk"]))  # fmt: skip
    out = draw(
        st.sampled_from(["{out}"] * 8 + ["ran", "full", "adir", "notes.txt", "tiny.yaml", ""] + REFUSED)
    )
    options: list[list[str]] = []
    if command in ("run", "validate", "compare"):
        argv = [command, draw(st.sampled_from(["tiny.yaml"] * 3 + ["bad.yaml"]) | FILE_ARGS)]
        if argv[1] == "" and command == "run":
            argv[1] = "bad.yaml"  # `gpusim run ""` runs scenarios/munich.yaml: 50 s, not a fuzz case
        options += [["--set", draw(SETS)] for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3])))]
        if command != "validate":
            options += [["--out", out], ["--quiet"]]
        if command == "compare":
            options += [
                ["--schedulers", draw(st.lists(SCHEDULERS, min_size=1, max_size=3).map(",".join))],
                ["--schedulers", "easy,fifo"],
                ["--replications", draw(st.sampled_from(["1", "2", "1", "2", "0", "-1", "x", "1e3"]))],
                ["--warmup", draw(st.sampled_from(["0", "1s", "1h"]) | DURATION_TEXTS)],
                [
                    "--vary",
                    draw(
                        st.builds("{}={}".format, SET_PATHS, st.sampled_from(["easy,fifo", "1,2", "", ","]))
                    ),
                ],
            ]
    elif command == "sweep":
        argv = [command, draw(st.sampled_from(["sweep.yaml", "bad-sweep.yaml"]) | FILE_ARGS)]
        options += [["--out", out], ["--quiet"]]
        if draw(st.integers(0, 3)) == 0:  # an address and --workers: refused before connecting
            options.append(["--dask", draw(st.sampled_from(["tcp://127.0.0.1:9", "nowhere", ""]))])
    elif command == "plot":
        argv = [command, *draw(st.lists(FILE_ARGS, min_size=draw(st.integers(0, 1)), max_size=3)), "--quiet"]
    elif command == "trace":
        fmt = draw(FORMATS)
        argv = [command, draw(st.sampled_from(["convert"] * 8 + ["", "nope"]))]
        argv += [draw(st.sampled_from([CONVERTIBLE.get(fmt, "trace.csv")] * 3) | FILE_ARGS)]
        argv += ["--format", fmt] if draw(st.integers(0, 9)) else []
        argv += ["--out", draw(st.sampled_from(["{out}.csv"] * 6 + ["adir", "", "ran"]))]
        flags = {
            "--cluster": st.sampled_from(["6214e9", "6214e9", "nope", ""]),
            "--nodes": st.sampled_from(["nodes.csv", "nodes.csv", "missing.csv", "adir", "pods.csv"]),
            "--bin": st.sampled_from(["60", "60", "0", "-1", "nan", "inf", "1e-300", "x"]),
            "--cluster-out": st.sampled_from(["{out}.yaml", "{out}.yaml", "adir"]),
        }
        for flag, values in flags.items():
            if draw(st.integers(0, 4)) == 0 or (flag in OWN_FLAGS.get(fmt, ()) and draw(st.booleans())):
                options.append([flag, draw(values)])
    elif command == "junk":
        return draw(st.lists(TEXT | JUNK, max_size=4).filter(lambda argv: argv[:1] != ["run"]))
    else:
        argv = [command]
    # Most options, in any order; sometimes junk too. compare and sweep always get --workers
    # (0, -1 or 1): without it they would start a process pool per example.
    chosen = [opt for opt in options if draw(st.integers(0, 5))]
    if command in ("compare", "sweep"):
        chosen.append(["--workers", draw(st.sampled_from(["1", "1", "1", "1", "0", "-1", "x"]))])
    argv += list(itertools.chain.from_iterable(draw(st.permutations(chosen))))
    if draw(st.integers(0, 9)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(JUNK | TEXT))
    return argv


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The fuzz's working directory (also the current one): input files and results."""
    path = tmp_path_factory.mktemp("fuzz_cli")
    for name, text in FILES.items():
        (path / name).write_text(text)
    (path / "adir").mkdir()
    before = Path.cwd()
    os.chdir(path)
    try:
        assert cli(["run", "tiny.yaml", "--out", "ran", "--quiet"])[0] == 0
        assert cli(["run", "tiny.yaml", "--out", "full", "--quiet"])[0] == 0
        yield path
    finally:
        os.chdir(before)


def cli(argv: list[str]) -> tuple[object, str, str]:
    """(exit status, stdout, stderr) of ``main(argv)``; SystemExit counts as its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


counter = itertools.count()


def check_cli(folder: Path, argv: list[str]) -> None:
    """Run ``argv`` (``{out}`` made a fresh path): exit 0 or 2, no traceback, 2 with one line."""
    fresh = f"out/{next(counter)}"
    argv = [arg.replace("{out}", fresh) for arg in argv]
    code, out, err = cli(argv)
    event(f"{argv[0] if argv else None} exit {code}")
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gpusim: "), (argv, err)
        assert not _has_control(lines[0]), (argv, err)
    elif argv[:1] in (["run"], ["compare"]) and not {"--quiet", "-h", "--help"} & set(argv):
        assert "results: " in out, (argv, out)
    assert not (folder / "PWNED").exists()


def _has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (a tab aside) or a line break."""
    return any((c < " " and c != "\t") or "\x7f" <= c < "\xa0" or c in "\u2028\u2029" for c in text)


@FAST
@given(argvs())
def test_fuzz_cli(folder: Path, argv: list[str]) -> None:
    check_cli(folder, argv)


@pytest.mark.slow
@SLOW
@given(argvs())
def test_fuzz_cli_slow(folder: Path, argv: list[str]) -> None:
    check_cli(folder, argv)


# --- Regressions: each a crash the fuzzer found, with its minimal input -------------------------


def test_regression_nul_in_a_scenario_path(folder: Path) -> None:
    """main(["validate", "x\\x00y"]) raised ValueError (embedded null byte) reading the file."""
    code, _, err = cli(["validate", "x\x00y"])
    assert code == 2
    assert err == "gpusim: x\\x00y: scenario file must exist (got 'x\\x00y')\n"


def test_regression_sweep_grid_too_big(folder: Path) -> None:
    """Eight axes of ten values: MemoryError building 10^8 cells, now one line before any run."""
    axes = "".join(f"  a{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(8))
    Path("grid.yaml").write_text(f"base: tiny.yaml\naxes:\n{axes}")
    code, _, err = cli(["sweep", "grid.yaml", "--workers", "1", "--out", "out/grid"])
    assert code == 2
    assert err == (
        "gpusim: grid.yaml:2: axes: sweep must have at most 100,000 runs, cells x replications "
        "(got 100,000,000 cells x 1)\n"
    )
    assert not Path("out/grid").exists()


def test_regression_plot_a_name_the_system_refuses(folder: Path) -> None:
    """gpusim plot with a 300-character name raised OSError (File name too long) in is_file()."""
    for name in (LONG, "x\x00y"):
        code, _, err = cli(["plot", name, "ran"])
        assert code == 2
        shown = name.replace("\x00", "\\x00")
        assert (
            err == f"gpusim: {shown}: must be a gpusim results directory (written by gpusim run, compare or "
            "sweep: with jobs.csv, comparison.json or sweep.json)\n"
        )


def test_regression_trace_convert_nul_in_a_path(folder: Path) -> None:
    """A NUL in IN or --out raised ValueError (embedded null byte) opening the file."""
    code, _, err = cli(["trace", "convert", "x\x00y", "--format", "swf", "--out", "out/n.csv"])
    assert (code, err) == (2, "gpusim: x\\x00y: trace file must be readable (embedded null byte)\n")
    code, _, err = cli(["trace", "convert", "log.swf", "--format", "swf", "--out", "n\x00.csv"])
    assert (code, err) == (2, "gpusim: n\\x00.csv: output file must be writable (embedded null byte)\n")


# Crashes the fuzzer found in sim/report/writer.py and sim/cli.py, fixed there.


@pytest.mark.parametrize("out", [LONG, "x\x00y", "/proc/gpusim-out"], ids=["long", "nul", "proc"])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_regression_out_the_system_refuses(folder: Path, command: str, out: str) -> None:
    code, _, err = cli([command, "tiny.yaml", "--out", out, "--workers", "1"][: 4 if command == "run" else 6])
    assert code == 2 and err.startswith("gpusim: ") and err.count("\n") == 1


@pytest.mark.parametrize("command", ["run", "compare"])
def test_regression_out_under_a_file(folder: Path, command: str) -> None:
    """--out notes.txt/x (notes.txt a file) said the results directory "must be new or empty"."""
    code, _, err = cli(
        [command, "tiny.yaml", "--out", "notes.txt/x", "--workers", "1"][: 4 if command == "run" else 6]
    )
    rule = "results directory's parent must be a directory (got 'notes.txt', not a directory)"
    assert (code, err) == (2, f"gpusim: notes.txt/x: {rule}\n")


@pytest.mark.parametrize("arg", ["a\nb", "\x1e", "\x1f"])
def test_regression_usage_error_echoes_a_line_break(folder: Path, arg: str) -> None:
    code, _, err = cli(["run", "tiny.yaml", arg])
    assert code == 2
    assert err == f"gpusim: unrecognized arguments: {repr(arg)[1:-1]} (see --help)\n"


@pytest.mark.parametrize(
    "out", [LONG, "x\x00y", "/proc/gpusim-out", "notes.txt/x"], ids=["long", "nul", "proc", "file"]
)
def test_regression_sweep_out_the_system_refuses(folder: Path, out: str) -> None:
    """sweep --out with a 300-character name raised OSError in check_sweep_dir; /proc/... later,
    making cells/ after planning. Now one line before anything runs."""
    code, _, err = cli(["sweep", "sweep.yaml", "--workers", "1", "--out", out])
    assert code == 2 and err.count("\n") == 1
    shown = one_line(out)  # the NUL as \\x00
    assert err.startswith(f"gpusim: {shown}: sweep directory must be one gpusim can create (")


def test_regression_trace_job_of_1e308_seconds_is_refused_quickly(folder: Path) -> None:
    """A trace job of 1e308 s made a run without a horizon sample the cluster hourly until it ended."""
    (folder / "long.csv").write_text(TRACE + "d,7,1,1e308\n")
    (folder / "long.yaml").write_text(TINY.replace("trace.csv", "long.csv"))
    began = time.perf_counter()
    code, _, err = cli(["run", "long.yaml", "--out", "long-out", "--quiet"])
    assert time.perf_counter() - began < 5
    rule = "duration must be at most 3,155,760,000 s (100 years) (got '1e308')"
    assert (code, err) == (2, f"gpusim: long.csv:5: duration: {rule}\n")
