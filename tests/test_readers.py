"""Trace readers (SWF, Philly, openb, Azure LLM): exact rows, exact errors, every drop counted.

Each format has a small generated fixture with the canonical rows it must give, its
malformed rows with the exact ``file:line: column: problem``, and its drop counts; the real
traces under /work/shared/traces (skipped when absent) pin the numbers found in them.
Line numbers count every physical line of the file, the header (or first comment) as 1.
"""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli_trace import FORMAT_NAMES, cluster_yaml
from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError, TraceError
from sim.scenario import load_scenario
from sim.scenario.schema import Cluster, TraceSpec
from sim.workload.build import build_jobs
from sim.workload.readers import FORMATS, TraceResult, read_trace, write_rate_series
from sim.workload.trace_csv import write_trace_csv

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
HEADER = "job_id,submit_time,gpus,duration,requested_time,tenant,job_class,gpu_type,priority,tier\n"


def write(tmp_path: Path, name: str, text: str, compress: bool = False) -> Path:
    """``text`` as file ``name`` in ``tmp_path``, gzip-compressed if asked."""
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def canonical(result: TraceResult, tmp_path: Path) -> str:
    """The canonical trace CSV text of ``result``'s jobs."""
    out = tmp_path / "canonical.csv"
    write_trace_csv(result.jobs, out)
    return out.read_text()


def error_of(read: Callable[[], Any]) -> str:
    """The message ``read()`` fails with."""
    with pytest.raises(TraceError) as caught:
        read()
    return str(caught.value)


def real(*parts: str) -> Path:
    """A real trace file, or skip the test."""
    path = TRACES.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real trace {path} not present (see /work/shared/traces/MANIFEST.tsv)")
    return path


def test_every_format_is_in_the_schema_and_the_cli() -> None:
    """The readers registry, TraceSpec.format and ``trace convert --format`` name the same formats."""
    literal = typing.get_args(TraceSpec.model_fields["format"].annotation)
    assert tuple(FORMATS) == literal == FORMAT_NAMES == ("csv", "swf", "philly", "openb", "azure-llm")


# --- SWF -----------------------------------------------------------------------------------------


def swf_line(
    job: int, submit: object, run: float, alloc: int, procs: int = -1, estimate: float = -1, user: int = -1
) -> str:
    """One 18-field SWF data line."""
    fields = [job, submit, -1, run, alloc, -1, -1, procs, estimate, -1, 1, user, -1, -1, 0, -1, -1, -1]
    return " ".join(str(f) for f in fields) + "\n"


SWF_GOOD = (
    "; Version: 2.2\n"
    "; MaxNodes: 32\n"
    "; MaxProcs: 64\n"
    "; UnixStartTime: 1000\n"
    ";\n"
    + swf_line(1, 100, 50, 8, estimate=120, user=3)
    + swf_line(2, 160, 30, 4, procs=2)
    + swf_line(3, 160, 10.5, 16, user=7)
    + swf_line(4, 130, 20, 1, user=3)
)


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
    plain = read_trace(write(tmp_path, "t.swf", SWF_GOOD), "swf")
    packed = read_trace(write(tmp_path, "t.swf.gz", SWF_GOOD, compress=True), "swf")
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


# --- Philly --------------------------------------------------------------------------------------

PHILLY = (
    "timestamp,duration,num_gpus,gpu_time,cluster\n"
    "2017-10-09 07:01:55,66.0,1,66.0,aa\n"
    "2017-10-09 06:13:03,100,2,200,bb\n"
    "2017-10-09 06:13:03,50.5,4,202,aa\n"
    "2017-10-09 08:00:00,0,1,0,aa\n"
    "2017-10-09 08:00:00,10,0,0,bb\n"
)


def test_philly_good_file(tmp_path: Path) -> None:
    """Rows sorted by timestamp (ties in file order) from 0; the virtual cluster is the tenant."""
    result = read_trace(write(tmp_path, "p.csv", PHILLY), "philly")
    assert canonical(result, tmp_path) == HEADER + (
        "2,0.0,2,100.0,100.0,bb,default,,0,on-demand\n3,0.0,4,50.5,50.5,aa,default,,0,on-demand\n1,2932.0,1,66.0,66.0,aa,default,,0,on-demand\n"
    )
    assert result.drops == {"run time <= 0": 1, "no GPU": 1}
    assert result.notes["start"] == "2017-10-09 06:13:03"
    assert result.notes["clusters"] == {
        "aa": {"jobs": 2, "max_gpus": 4, "gpu_hours": 0.074, "peak_demand_gpus": 4},
        "bb": {"jobs": 1, "max_gpus": 2, "gpu_hours": 0.056, "peak_demand_gpus": 2},
    }


@pytest.mark.parametrize("cluster", ["aa", ["aa"]])
def test_philly_cluster_option_replays_one_virtual_cluster(tmp_path: Path, cluster: Any) -> None:
    """``cluster`` keeps one virtual cluster; the others' jobs are counted as not selected."""
    result = read_trace(write(tmp_path, "p.csv", PHILLY), "philly", cluster=cluster)
    assert result.jobs.job_id == ["3", "1"]
    assert result.jobs.tenant == ["aa", "aa"]
    assert result.jobs.submit == [0.0, 2932.0]
    assert result.drops == {"virtual cluster not selected": 1, "run time <= 0": 1, "no GPU": 1}
    assert result.notes["selected"] == ["aa"]


def test_philly_all_digit_cluster_from_yaml_is_a_name(tmp_path: Path) -> None:
    """A hash like ``103959`` that YAML reads as an int still names a virtual cluster."""
    path = write(tmp_path, "p.csv", PHILLY.replace(",bb", ",103959"))
    assert read_trace(path, "philly", cluster=103959).jobs.job_id == ["2"]


def test_philly_unknown_cluster_lists_the_valid_ones(tmp_path: Path) -> None:
    """A ``cluster`` the trace does not have names the trace's virtual clusters."""
    path = write(tmp_path, "p.csv", PHILLY)
    message = error_of(lambda: read_trace(path, "philly", cluster="zz"))
    assert message == f"{path}: cluster: cluster must name virtual clusters of the trace (aa, bb) (got 'zz')"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "2017-13-09 07:01:55,66,1,66,aa",
            "timestamp: timestamp must be a date and time like 2017-10-09 07:01:55 "
            "(got '2017-13-09 07:01:55')",
        ),
        ("2017-10-09 07:01:55,abc,1,66,aa", "duration: duration must be a number (got 'abc')"),
        ("2017-10-09 07:01:55,66,-1,66,aa", "num_gpus: num_gpus must be an integer >= 0 (got '-1')"),
        ("2017-10-09 07:01:55,66,1.5,66,aa", "num_gpus: num_gpus must be an integer >= 0 (got '1.5')"),
        ("2017-10-09 07:01:55,66,1,aa", "row must have 5 fields like the header (got 4)"),
        (
            "2017-10-09 07:01:55,1e308,1,66,aa",
            "duration: duration must be at most 3,155,760,000 s (100 years) (got '1e308')",
        ),
        (
            "2017-10-09 07:01:55,66,1e300,66,aa",
            "num_gpus: num_gpus must be at most 1,000,000,000 (got '1e300')",
        ),
    ],
    ids=["timestamp", "duration", "negative-gpus", "fractional-gpus", "field-count", "1e308-s", "1e300-gpus"],
)
def test_philly_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    """A malformed Philly row is ``file:line: column: problem`` (here line 3)."""
    path = write(
        tmp_path, "p.csv", PHILLY.splitlines(keepends=True)[0] + "2017-10-09 07:00:00,1,1,1,aa\n" + row
    )
    assert error_of(lambda: read_trace(path, "philly")) == f"{path}:3: {message}"


def test_philly_missing_column(tmp_path: Path) -> None:
    """A header without ``num_gpus`` is refused at line 1."""
    path = write(tmp_path, "p.csv", "timestamp,duration,cluster\n2017-10-09 07:01:55,66,aa\n")
    message = error_of(lambda: read_trace(path, "philly"))
    assert message == f"{path}:1: header must have column 'num_gpus' (got timestamp, duration, cluster)"


def test_philly_gzip_is_transparent(tmp_path: Path) -> None:
    """A gzip-compressed job list reads as the plain file does."""
    plain = read_trace(write(tmp_path, "p.csv", PHILLY), "philly")
    packed = read_trace(write(tmp_path, "p.csv.gz", PHILLY, compress=True), "philly")
    assert (packed.jobs, packed.drops, packed.notes) == (plain.jobs, plain.drops, plain.notes)


def test_real_philly() -> None:
    """The Pollux Philly list: 82,247 jobs in 15 virtual clusters; 6214e9 alone has 41,226."""
    path = real("philly", "pollux_philly_jobs.csv")
    result = read_trace(path, "philly")
    assert len(result.jobs) == 82_247
    assert result.drops == {}
    assert len(result.notes["clusters"]) == 15
    assert result.notes["start"] == "2017-09-04 10:30:41"
    assert result.notes["clusters"]["ee9e8c"]["max_gpus"] == 128
    one = read_trace(path, "philly", cluster="6214e9")
    assert len(one.jobs) == 41_226
    assert set(one.jobs.tenant) == {"6214e9"}
    assert one.drops == {"virtual cluster not selected": 82_247 - 41_226}


# --- openb ---------------------------------------------------------------------------------------

OPENB_HEADER = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
    "creation_time,deletion_time,scheduled_time\n"
)
OPENB = OPENB_HEADER + (
    "p0,1000,1,0,0,,BE,Running,5,50,5\n"
    "p1,1000,1,1,460,,LS,Running,10,110,12\n"
    "p2,1000,1,8,1000,V100M16|V100M32,Burstable,Succeeded,20,400,30\n"
    "p3,1000,1,1,1000,,LS,Pending,25,60,\n"
    "p4,1000,1,2,1000,T4,BE,Running,30,,40\n"
    "p5,1000,1,1,500,,LS,Failed,35,45,45\n"
)
NODES = (
    "sn,cpu_milli,memory_mib,gpu,model\n"
    "n0,1,1,8,V100M16\nn1,1,1,8,V100M16\nn2,1,1,4,V100M16\nn3,1,1,0,\nn4,1,1,2,T4\n"
)


def test_openb_good_file(tmp_path: Path) -> None:
    """GPU pods from creation, for deletion - scheduled; fractions round up; qos is the class."""
    result = read_trace(write(tmp_path, "o.csv", OPENB), "openb")
    assert canonical(result, tmp_path) == HEADER + (
        "p1,0.0,1,98.0,98.0,default,LS,*,0,on-demand\n"
        "p2,10.0,8,370.0,370.0,default,Burstable,V100M16|V100M32,0,on-demand\n"
        "p4,20.0,2,360.0,360.0,default,BE,T4,0,on-demand\n"  # never deleted: runs to the trace end, 400
    )
    assert result.drops == {"no GPU": 1, "never scheduled": 1, "run time <= 0": 1}
    notes = result.notes
    assert (notes["rounded_fractional"], notes["gpu_spec_alternatives"], notes["never_deleted"]) == (1, 1, 1)
    assert (notes["trace_end"], notes["time_offset"]) == (400.0, 10.0)
    assert "cluster" not in notes


def test_openb_node_list_defines_the_cluster(tmp_path: Path) -> None:
    """Nodes group per (model, GPUs); a model with two counts becomes two types; CPU nodes skipped."""
    nodes = write(tmp_path, "nodes.csv", NODES)
    result = read_trace(write(tmp_path, "o.csv", OPENB), "openb", nodes=str(nodes))
    notes = result.notes
    assert (notes["nodes"], notes["node_gpus"], notes["cpu_only_nodes"]) == (4, 22, 1)
    assert notes["cluster"]["pods"] == [
        {"name": "V100M16-8", "nodes": 2, "gpus_per_node": 8, "gpu_type": "V100M16-8"},
        {"name": "V100M16-4", "nodes": 1, "gpus_per_node": 4, "gpu_type": "V100M16-4"},
        {"name": "T4", "nodes": 1, "gpus_per_node": 2, "gpu_type": "T4"},
    ]
    snippet = yaml.safe_load(cluster_yaml(notes["cluster"], str(nodes)))
    assert Cluster.model_validate(snippet["cluster"]).pods[0].gpus_per_node == 8


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "p9,1,1,1,0,,LS,Running,1,9,1",
            "gpu_milli: gpu_milli must be an integer from 1 to 1000 for a GPU pod (got '0')",
        ),
        ("p9,1,1,x,1000,,LS,Running,1,9,1", "num_gpu: num_gpu must be an integer >= 0 (got 'x')"),
        (
            "p9,1,1,1,1000,,LS,Running,-5,9,1",
            "creation_time: creation_time must be a number of seconds >= 0 (got '-5')",
        ),
        ("p1,1,1,1,1000,,LS,Running,1,9,1", "name: name must be unique (got 'p1' twice)"),
        (
            "p9,1,1,1,1000,,LS,Running,1,1e300,1",
            "deletion_time: deletion_time must be at most 3,155,760,000 s (100 years) (got '1e300')",
        ),
    ],
    ids=["gpu-milli", "num-gpu", "creation", "duplicate", "deletion-1e300"],
)
def test_openb_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    """A malformed pod row is ``file:line: column: problem`` (here line 3)."""
    path = write(tmp_path, "o.csv", OPENB_HEADER + "p1,1,1,1,1000,,LS,Running,1,9,1\n" + row + "\n")
    assert error_of(lambda: read_trace(path, "openb")) == f"{path}:3: {message}"


def test_openb_malformed_node(tmp_path: Path) -> None:
    """A GPU node without a model is ``nodes.csv:3: model: ...``."""
    nodes = write(tmp_path, "nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,8,G2\nn1,1,1,4,\n")
    pods = write(tmp_path, "o.csv", OPENB)
    message = error_of(lambda: read_trace(pods, "openb", nodes=str(nodes)))
    assert message == f"{nodes}:3: model: model must name the GPU model of a GPU node (got '')"


def test_openb_gzip_is_transparent(tmp_path: Path) -> None:
    """A gzip-compressed pod list reads as the plain file does."""
    plain = read_trace(write(tmp_path, "o.csv", OPENB), "openb")
    packed = read_trace(write(tmp_path, "o.csv.gz", OPENB, compress=True), "openb")
    assert (packed.jobs, packed.drops, packed.notes) == (plain.jobs, plain.drops, plain.notes)


def test_real_openb() -> None:
    """openb default: 8,152 pods; 1,088 CPU-only and 861 never scheduled dropped; 2,573 fractions rounded."""
    folder = ("alibaba-gpu-v2023",)
    pods = real(*folder, "openb_pod_list_default.csv")
    nodes = real(*folder, "openb_node_list_gpu_node.csv")
    result = read_trace(pods, "openb", nodes=str(nodes))
    assert result.drops == {"no GPU": 1088, "never scheduled": 861}
    assert len(result.jobs) == 8152 - 1088 - 861 == 6203
    assert result.notes["rounded_fractional"] == 2573
    assert (result.notes["never_deleted"], result.notes["gpu_spec_alternatives"]) == (0, 0)
    assert (result.notes["nodes"], result.notes["node_gpus"], result.notes["cpu_only_nodes"]) == (
        1213,
        6212,
        0,
    )
    names = [pod["name"] for pod in result.notes["cluster"]["pods"]]
    assert names[:2] == ["G2", "T4-2"] and len(names) == 12
    assert {"V100M16-1", "V100M16-4", "V100M16-8", "P100-1", "P100-2", "A10", "G3"} <= set(names)


# --- Azure LLM -----------------------------------------------------------------------------------

AZURE = (
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:00:00.5000000,100,10\n"
    "2023-11-16 18:00:59.9000000,200,20\n"
    "2023-11-16 18:01:00.5000000,300,30\n"
    "2023-11-16 18:03:10.0000000,400,40\n"
)


def test_azure_llm_rate_series(tmp_path: Path) -> None:
    """Requests and tokens per 60 s bin from the first request; the empty bin is a zero row; no jobs."""
    result = read_trace(write(tmp_path, "a.csv", AZURE), "azure-llm")
    assert len(result.jobs) == 0 and result.drops == {}
    series = result.notes["series"]
    assert series.time == (0.0, 60.0, 120.0, 180.0)
    assert series.requests == (2, 1, 0, 1)
    assert series.context_tokens == (300, 300, 0, 400)
    assert series.generated_tokens == (30, 30, 0, 40)
    assert (result.notes["requests"], result.notes["context_tokens"], result.notes["generated_tokens"]) == (
        4,
        1000,
        100,
    )
    assert result.notes["start"] == "2023-11-16 18:00:00.500000"
    out = tmp_path / "rate.csv"
    write_rate_series(series, out)
    assert out.read_text() == (
        "time,requests,context_tokens,generated_tokens\n0,2,300,30\n60,1,300,30\n120,0,0,0\n180,1,400,40\n"
    )


def test_azure_llm_bin_option(tmp_path: Path) -> None:
    """``bin`` sets the bin width."""
    series = read_trace(write(tmp_path, "a.csv", AZURE), "azure-llm", bin=100).notes["series"]
    assert (series.time, series.requests) == ((0.0, 100.0), (3, 1))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "yesterday,1,1",
            "TIMESTAMP: TIMESTAMP must be a date and time like 2017-10-09 07:01:55 (got 'yesterday')",
        ),
        ("2023-11-16 18:00:00,-1,1", "ContextTokens: ContextTokens must be an integer >= 0 (got '-1')"),
        (
            "2023-11-16 18:00:00,1,many",
            "GeneratedTokens: GeneratedTokens must be an integer >= 0 (got 'many')",
        ),
    ],
    ids=["timestamp", "context", "generated"],
)
def test_azure_llm_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    """A malformed request row is ``file:line: column: problem`` (here line 3)."""
    path = write(
        tmp_path, "a.csv", AZURE.splitlines(keepends=True)[0] + "2023-11-16 18:00:00,1,1\n" + row + "\n"
    )
    assert error_of(lambda: read_trace(path, "azure-llm")) == f"{path}:3: {message}"


def test_azure_llm_gzip_is_transparent(tmp_path: Path) -> None:
    """A gzip-compressed request list gives the same series."""
    plain = read_trace(write(tmp_path, "a.csv", AZURE), "azure-llm")
    packed = read_trace(write(tmp_path, "a.csv.gz", AZURE, compress=True), "azure-llm")
    assert packed.notes == plain.notes


@pytest.mark.parametrize(("name", "rows"), [("code", 8819), ("conv", 19366)])
def test_real_azure_llm_series_totals_equal_the_rows(name: str, rows: int) -> None:
    """The series counts every request and every token of the file, in hour-long traces."""
    path = real("azure-llm", f"AzureLLMInferenceTrace_{name}.csv")
    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))
    notes = read_trace(path, "azure-llm").notes
    series = notes["series"]
    assert sum(series.requests) == notes["requests"] == len(table) == rows
    assert sum(series.context_tokens) == sum(int(r["ContextTokens"]) for r in table)
    assert sum(series.generated_tokens) == sum(int(r["GeneratedTokens"]) for r in table)
    assert len(series) == int(notes["span"] // 60) + 1 in (58, 59)


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
