"""Philly, Alibaba openb and Azure LLM trace readers: exact rows, exact errors, every drop counted.

Each format has a small generated fixture with the canonical rows (or series) it must give, its
malformed rows with the exact ``file:line: column: problem``, and its drop counts; the real
traces under /work/shared/traces (skipped when absent) pin the numbers found in them. Line
numbers count every physical line of the file, the header as 1. The fixtures and helpers are
shared with the other reader tests (``tests/helpers.py``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import (
    AZURE,
    HEADER,
    NODES,
    OPENB,
    OPENB_HEADER,
    PHILLY,
    canonical,
    error_of,
    plain_and_gzipped,
    real,
    write,
)

from sim.cli_trace import cluster_yaml
from sim.scenario.schema import Cluster
from sim.workload.readers import read_trace, write_rate_series

# --- Philly --------------------------------------------------------------------------------------


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
    plain, packed = plain_and_gzipped(tmp_path, "p.csv", PHILLY, "philly")
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
    plain, packed = plain_and_gzipped(tmp_path, "o.csv", OPENB, "openb")
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
    plain, packed = plain_and_gzipped(tmp_path, "a.csv", AZURE, "azure-llm")
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
