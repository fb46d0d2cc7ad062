"""Behaviour shared by all trace readers: the format registry, reader options, ``trace convert``
and traces in scenarios (options passed through, paths resolved, drops reported).

Errors are exact: ``file:line: column: problem``. The fixtures and helpers are shared with the
per-format reader tests (``tests/helpers.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from helpers import AZURE, HEADER, NODES, OPENB, PHILLY, SWF_GOOD, error_of, swf_line, write

import sim
from sim.cli_trace import FORMAT_NAMES
from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError, TraceError
from sim.scenario import load_scenario
from sim.scenario.schema import Cluster, TraceSpec
from sim.workload.build import build_jobs
from sim.workload.readers import FORMATS, read_trace


def test_every_format_is_in_the_schema_and_the_cli() -> None:
    """The readers registry, TraceSpec.format and ``trace convert --format`` name the same formats."""
    literal = typing.get_args(TraceSpec.model_fields["format"].annotation)
    assert tuple(FORMATS) == literal == FORMAT_NAMES == ("csv", "swf", "philly", "openb", "azure-llm")


# --- options -------------------------------------------------------------------------------------


def test_unknown_format_and_option(tmp_path: Path) -> None:
    """An unknown format lists the valid ones; an option the format lacks lists its options."""
    path = write(tmp_path, "p.csv", PHILLY)
    assert error_of(lambda: read_trace(path, "pbs")) == (
        f"{path}: format: format must be one of csv, swf, philly, openb, azure-llm (got 'pbs')"
    )
    assert error_of(lambda: read_trace(path, "philly", nodes="x")) == (
        f"{path}: options.nodes: option must be one of cluster for format 'philly' (got 'nodes')"
    )
    assert error_of(lambda: read_trace(path, "azure-llm", bin=0)) == (
        f"{path}: options.bin must be a number of seconds > 0 (got 0)"
    )


# --- the command line ----------------------------------------------------------------------------


def gpusim(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_convert_writes_csv_and_reports_drops(tmp_path: Path) -> None:
    """``trace convert`` writes the canonical CSV and one stderr line per drop reason, then a summary."""
    text = "; MaxNodes: 8\n" + swf_line(1, 3, 10, 2) + swf_line(2, 5, 0, 1) + swf_line(3, 6, 10, -1)
    text += swf_line(4, -1, 10, 1) + swf_line(5, 7, -1, 1) + swf_line(6, 9, 5, 4, estimate=60)
    write(tmp_path, "t.swf", text)
    done = gpusim(tmp_path, "trace", "convert", "t.swf", "--format", "swf", "--out", "out.csv")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.splitlines() == [
        "dropped 2 jobs: run time <= 0",
        "dropped 1 job: processors <= 0",
        "dropped 1 job: submit time < 0",
        "wrote out.csv: 2 jobs from t.swf (swf, 4 dropped, time 0 = original time 3); "
        "pool: 8 GPUs (MaxNodes)",
    ]
    assert (tmp_path / "out.csv").read_text() == HEADER + (
        "1,0.0,2,10.0,10.0,default,default,,0,on-demand\n6,6.0,4,5.0,60.0,default,default,,0,on-demand\n"
    )


def test_cli_convert_bad_row_is_one_line_exit_2(tmp_path: Path) -> None:
    """A malformed row: exit 2, one stderr line ``gpusim: file:line: column: problem``, no output file."""
    write(tmp_path, "t.swf", swf_line(1, 0, 10, 1) + swf_line(2, 0, 10, 1).replace(" 10 ", " x ", 1))
    done = gpusim(tmp_path, "trace", "convert", "t.swf", "--format", "swf", "--out", "out.csv")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "gpusim: t.swf:2: run_time: run_time must be a number (got 'x')\n"
    assert not (tmp_path / "out.csv").exists()


def test_cli_convert_openb_with_cluster_out(tmp_path: Path) -> None:
    """openb with ``--nodes`` and ``--cluster-out`` writes a ``cluster:`` snippet the schema accepts."""
    write(tmp_path, "pods.csv", OPENB)
    write(tmp_path, "nodes.csv", NODES)
    done = gpusim(
        tmp_path, "trace", "convert", "pods.csv", "--format", "openb", "--nodes", "nodes.csv",
        "--out", "out.csv", "--cluster-out", "cluster.yaml",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "dropped 1 job: no GPU",
        "dropped 1 job: never scheduled",
        "dropped 1 job: run time <= 0",
        "rounded up 1 fractional GPU request (gpu_milli < 1000) to whole GPUs",
        "kept the first of several GPU models in gpu_spec for 1 job",
        "ran 1 never-deleted pod to the end of the trace (400 s)",
        "wrote out.csv: 3 jobs from pods.csv (openb, 3 dropped, time 0 = original time 10)",
        "wrote cluster.yaml: 3 pods, 4 nodes, 22 GPUs",
    ]
    cluster = Cluster.model_validate(yaml.safe_load((tmp_path / "cluster.yaml").read_text())["cluster"])
    assert [pod.name for pod in cluster.pods] == ["V100M16-8", "V100M16-4", "T4"]


def test_cli_convert_azure_llm_writes_a_rate_series(tmp_path: Path) -> None:
    """azure-llm converts to ``time,requests,context_tokens,generated_tokens`` per ``--bin`` seconds."""
    write(tmp_path, "a.csv", AZURE)
    done = gpusim(
        tmp_path, "trace", "convert", "a.csv", "--format", "azure-llm", "--bin", "100", "--out", "r.csv"
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stderr == "wrote r.csv: 2 bins of 100 s, 4 requests from a.csv "
        "(azure-llm, time 0 = 2023-11-16 18:00:00.500000)\n"
    )
    assert (
        tmp_path / "r.csv"
    ).read_text() == "time,requests,context_tokens,generated_tokens\n0,3,600,60\n100,1,400,40\n"


def test_cli_convert_option_of_another_format(tmp_path: Path) -> None:
    """A flag of another format is a one-line usage error naming the flag."""
    write(tmp_path, "t.swf", SWF_GOOD)
    done = gpusim(
        tmp_path, "trace", "convert", "t.swf", "--format", "swf", "--cluster", "aa", "--out", "o.csv"
    )
    assert (done.returncode, done.stderr) == (
        2,
        "gpusim: --cluster: cluster must go with --format philly (got --format swf)\n",
    )


# --- scenarios -----------------------------------------------------------------------------------


def test_scenario_runs_an_swf_trace(tmp_path: Path) -> None:
    """``workload.trace: {path, format: swf}`` runs on a flat pool: every job completes on time."""
    path = write(tmp_path, "t.swf", SWF_GOOD)
    result = sim.run(
        {
            "name": "swf-replay",
            "cluster": {"pods": [{"name": "pool", "nodes": 16, "gpus_per_node": 1, "gpu_type": "generic"}]},
            "workload": {"trace": {"path": str(path), "format": "swf"}},
            "scheduler": "fifo",
        }
    )
    jobs = {job.job_id: job for job in result.jobs}
    assert set(jobs) == {"1", "2", "3", "4"}
    assert {job.status for job in jobs.values()} == {"completed"}
    # fifo on 16 GPUs: job 3 (16 GPUs, submitted at 60) waits for job 2 (2 GPUs, 60..90)
    assert {i: job.start_time for i, job in jobs.items()} == {"1": 0.0, "4": 30.0, "2": 60.0, "3": 90.0}


SCENARIO = """\
name: philly-one
cluster:
  pods:
    - {name: pool, nodes: 8, gpus_per_node: 1, gpu_type: g}
workload:
  trace:
    path: p.csv
    format: philly
    options: {cluster: aa}
"""


def test_scenario_trace_options_are_passed_to_the_reader(tmp_path: Path) -> None:
    """A scenario's ``workload.trace.options`` reach the reader: only cluster aa's jobs are built."""
    write(tmp_path, "p.csv", PHILLY)
    scenario = load_scenario(write(tmp_path, "s.yaml", SCENARIO))
    jobs = build_jobs(scenario, ClusterLayout.from_scenario(scenario.cluster))
    assert (jobs.job_id, jobs.tenant, jobs.gpu_type) == (["3", "1"], ["aa", "aa"], ["g", "g"])


def test_scenario_openb_nodes_path_is_relative_to_the_file(tmp_path: Path) -> None:
    """openb's ``nodes`` option is a path relative to the scenario file, and must exist."""
    write(tmp_path, "p.csv", OPENB)
    write(tmp_path, "nodes.csv", NODES)
    text = SCENARIO.replace("philly", "openb").replace("{cluster: aa}", "{nodes: nodes.csv}")
    scenario = load_scenario(write(tmp_path, "s.yaml", text))
    assert scenario.workload.trace is not None
    assert scenario.workload.trace.options == {"nodes": str(tmp_path / "nodes.csv")}
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, "s.yaml", text.replace("nodes.csv", "missing.csv")))
    assert str(caught.value) == (
        f"{tmp_path / 's.yaml'}:9: workload.trace.options.nodes: file must exist (got 'missing.csv')"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            "{colour: red}",
            "9: workload.trace.options.colour: option must be one of cluster for format 'philly' "
            "(got 'colour')",
        ),
        (
            "{cluster: []}",
            "9: workload.trace.options.cluster: cluster must be a virtual cluster name "
            "or a non-empty list of names (got [])",
        ),
    ],
    ids=["unknown", "empty-list"],
)
def test_scenario_bad_trace_options_are_located(tmp_path: Path, options: str, message: str) -> None:
    """A bad reader option in a scenario names the file, its line and its dotted path."""
    write(tmp_path, "p.csv", PHILLY)
    path = write(tmp_path, "s.yaml", SCENARIO.replace("{cluster: aa}", options))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:{message}"


def test_scenario_azure_llm_is_not_a_job_trace(tmp_path: Path) -> None:
    """An azure-llm trace as the workload's job trace is refused: it is a rate series."""
    write(tmp_path, "a.csv", AZURE)
    text = SCENARIO.replace("p.csv", "a.csv").replace("philly", "azure-llm").replace("{cluster: aa}", "{}")
    scenario = load_scenario(write(tmp_path, "s.yaml", text))
    with pytest.raises(TraceError) as caught:
        build_jobs(scenario, ClusterLayout.from_scenario(scenario.cluster))
    assert "'azure-llm' is a request-rate series" in str(caught.value)


def test_run_reports_dropped_rows_in_manifest_and_on_stderr(tmp_path: Path) -> None:
    """An SWF replay with a zero-run-time job: the drop is in manifest.json and on stderr."""
    swf = tmp_path / "log.swf"
    swf.write_text(
        "; MaxProcs: 4\n"
        "1 0 -1 10 2 -1 -1 2 20 -1 1 1 -1 -1 -1 -1 -1 -1\n"
        "2 5 -1 0 1 -1 -1 1 20 -1 1 1 -1 -1 -1 -1 -1 -1\n"
    )
    (tmp_path / "s.yaml").write_text(
        "name: s\ncluster:\n  pods:\n    - {name: pool, nodes: 4, gpus_per_node: 1, gpu_type: g}\n"
        "workload:\n  trace: {path: log.swf, format: swf}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "s.yaml", "--out", "out", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "gpusim: dropped 1 trace row: run time <= 0\n"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["dropped_trace_rows"] == {"run time <= 0": 1}
