"""Hypothesis strategies: small random job traces for a flat pool (one GPU per node), and
random user input for the fuzz tests (YAML values, mutated scenarios, mangled text)."""

from __future__ import annotations

import copy
import datetime as dt
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


@dataclass(frozen=True)
class FlatTrace:
    """Jobs in row order (not sorted by submit time) and the pool's GPU count."""

    capacity: int
    submit: list[float]
    gpus: list[int]
    duration: list[float]
    requested: list[float]


@st.composite
def flat_traces(draw: st.DrawFn, max_capacity: int = 12, max_jobs: int = 25) -> FlatTrace:
    """A pool of 1..max_capacity GPUs and up to ``max_jobs`` jobs.

    Integer times from small ranges, so submissions, completions and estimated ends often
    coincide; GPU counts up to capacity + 2, so some jobs are rejected; requested times
    drawn apart from durations, so estimates are both too short and too long (or, for
    some jobs, exact).
    """
    capacity = draw(st.integers(1, max_capacity))
    job = st.tuples(
        st.integers(0, 40),  # submit
        st.integers(1, capacity + 2),  # gpus
        st.integers(1, 30),  # duration
        st.none() | st.integers(1, 60),  # requested; None: a perfect estimate
    )
    jobs = draw(st.lists(job, min_size=1, max_size=max_jobs))
    return FlatTrace(
        capacity=capacity,
        submit=[float(j[0]) for j in jobs],
        gpus=[j[1] for j in jobs],
        duration=[float(j[2]) for j in jobs],
        requested=[float(j[2] if j[3] is None else j[3]) for j in jobs],
    )


# --- Fuzzing user input (tests/test_fuzz_*.py) ------------------------------------------------
#
# Values of every YAML type, odd keys, and scenarios mutated from a small valid one. The fuzz
# tests hold each input to one rule: it loads, or it is refused with one located line.

FUZZ_TRACE = "trace.csv"
"""The trace file every fuzzed scenario names; the tests write it beside the scenario."""
PWNED = Path(tempfile.gettempdir()) / "gpusim-fuzz-PWNED"
"""The file the Python tags in fuzzed YAML would create if a loader ran them."""

EXTREME_NUMBERS = st.sampled_from(
    [0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**30, -(10**30), 1_000_000, 10_001]
    + [0.5, -0.0, 1e-300, 5e-324, 1e300, 1e308, -1e308, math.nan, math.inf, -math.inf]
)
DURATION_TEXTS = st.sampled_from(
    ["5x", "-3h", "1e400d", "1e-400s", "90s", "15m", "2h", "7d", "1w", "1.5h", ".5d", "1e3", "0s", "0"]
    + ["", " ", "h", "nan", "inf", "-inf", "1_000s", "\u0661h", "3 h", "--1s", "+1s", "1e+3m", "1.2.3s"]
)
SCHEMA_WORDS = st.sampled_from(
    ["easy", "fifo", "pack", "spread", "flat", "none", "g", "pool", "csv", "swf", "philly", "openb"]
    + ["azure-llm", "trace.csv", "batch", "spot", "reserved", "on-demand", "chat", "Europe/Berlin", "x"]
)
# Any text but surrogates (not UTF-8): control characters, line breaks of every kind, quotes,
# YAML indicators. (Not codec="utf-8": Hypothesis would cache a table under .hypothesis/.)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
YAML_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20),
    st.integers(),
    st.floats(),
    EXTREME_NUMBERS,
    TEXT,
    DURATION_TEXTS,
    SCHEMA_WORDS,
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
)
YAML_KEYS = st.one_of(SCHEMA_WORDS, TEXT, st.integers(-3, 10), st.booleans(), st.none(), st.floats())
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(YAML_KEYS, inner, max_size=4),
    max_leaves=16,
)


def minimal_scenario() -> dict[str, Any]:
    """README's minimal flat-pool scenario replaying FUZZ_TRACE (valid beside that file)."""
    return {
        "name": "fuzz",
        "cluster": {"pods": [{"name": "pool", "nodes": 4, "gpus_per_node": 1, "gpu_type": "g"}]},
        "workload": {"trace": {"path": FUZZ_TRACE, "format": "csv"}},
        "scheduler": "easy",
    }


def rich_scenario() -> dict[str, Any]:
    """A valid scenario using most of the schema: node types, streams, services, policies."""
    stream = {
        "name": "train",
        "gpu_type": ["g", "h"],
        "tenants": {"sme": 1.0},
        "load": 0.5,
        "profile": "flat",
        "gpus": {1: 0.5, 2: 0.5},
        "duration": {"median": "1h", "sigma": 1.0, "max": "1d"},
        "outcomes": {"failed": 0.1},
        "estimate_factor": [1.0, 2.0],
        "array_size": {1: 1.0},
    }
    return {
        "name": "rich",
        "seed": 3,
        "start": dt.datetime(2026, 3, 2, 8, 0),
        "horizon": "2d",
        "cluster": {
            "node_types": {"big": {"gpu_type": "g", "gpus_per_node": 8, "power_w": 6000}},
            "pods": [
                {"name": "a", "nodes": 2, "node_type": "big", "count": 2},
                {"name": "b", "nodes": 3, "gpus_per_node": 1, "gpu_type": "h"},
            ],
            "speed": {"h": 0.5},
        },
        "workload": {
            "trace": {"path": FUZZ_TRACE},
            "synthetic": {"streams": [stream]},
            "inference": [{"name": "chat", "services": 2, "autoscaler": {"interval": "5m"}}],
            "tenants": [{"name": "sme", "count": 10, "tier": "spot"}],
        },
        "scheduler": {"name": "easy", "params": {}},
        "placement": "pack",
        "demand": {"rules": [{"tier": "spot", "elasticity": 1.5, "deferrable": 0.2}]},
        "billing": {"sla_credits": [[0.0, 0.1]]},
        "energy": {"pue": 1.3},
        "metrics": {"sample_interval": "15m"},
        "preemption": {"restart_overhead": 30},
    }


def paths_in(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in nested dicts and lists, containers included, the root first."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_in(value, (*prefix, index))
    return found


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


EDITS = st.sampled_from(["replace", "replace", "extreme", "delete", "add", "wrap"])
FLOW_STYLES = st.sampled_from([None, True, False])
LINE_STARTS = st.sampled_from(["", "x: ", "- ", "  "])
LINE_ENDS = st.sampled_from(["\n", "", "\r\n", "\n\n"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "utf-8-sig"])


@st.composite
def mutated_data(draw: st.DrawFn, base: Any) -> Any:
    """``base`` (copied) after 1 to 4 random edits: a value replaced by one of another type,
    a key or item deleted, an unknown key added, a value wrapped in a list or a mapping."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = paths_in(data)
        path = paths[draw(st.integers(0, len(paths) - 1))]
        edit = draw(EDITS)
        if not path or edit == "add":
            parent = _at(data, path)
            if isinstance(parent, dict):
                parent[draw(YAML_KEYS)] = draw(YAML_VALUES)
            elif isinstance(parent, list):
                parent.insert(draw(st.integers(0, len(parent))), draw(YAML_VALUES))
            continue
        parent, last = _at(data, path[:-1]), path[-1]
        if edit == "delete":
            del parent[last]
        elif edit == "wrap":
            parent[last] = [parent[last]] if draw(st.booleans()) else {"name": parent[last]}
        else:
            parent[last] = draw(EXTREME_NUMBERS | DURATION_TEXTS if edit == "extreme" else YAML_VALUES)
    return data


YAML_TRICKS = st.sampled_from(
    [
        "!!python/object/apply:os.system ['touch {pwned}']",
        "!!python/object/new:os.system ['touch {pwned}']",
        "!!python/name:os.system",
        "!!python/object/apply:subprocess.check_call [[touch, {pwned}]]",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!timestamp 2001-12-14t21:59:43.10-05:00",
        "!!float nan",
        "!!int '0x1f'",
        "!custom 3",
        "&anchor [1, 2]",
        "*anchor",
        "*undefined",
        "{<<: *anchor}",
        "&self [*self]",
        "? [complex, key]",
        "[",
        "{",
        "'unterminated",
        "\t",
        "---",
        "...",
        "%YAML 1.1",
        "%TAG ! tag:example.com,2000:",
        "|",
        ">-",
        "- - -",
        "\ufeff",
        "\x00",
        "\x07",
        "\u2028",
        "key: value: other",
        "1e400",
        "~",
    ]
)


_DOCUMENTS = mutated_data(minimal_scenario()) | YAML_VALUES


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """YAML text: a dumped document (mutated scenario or random value) edited as text: tricks
    (Python tags that would create PWNED, anchors, directives, control characters) spliced in."""
    data = draw(_DOCUMENTS)
    flow = draw(FLOW_STYLES)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=flow, allow_unicode=draw(st.booleans()))
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        trick = draw(YAML_TRICKS).replace("{pwned}", str(PWNED))
        if at < len(lines) and draw(st.booleans()):
            key, sep, _ = lines[at].partition(": ")
            lines[at] = f"{key}: {trick}" if sep else lines[at] + " " + trick
        else:
            lines.insert(at, draw(LINE_STARTS) + trick)
    return "\n".join(lines) + draw(LINE_ENDS)


def mangled_bytes(draw: st.DrawFn, text: str) -> bytes:
    """``text`` encoded, then perhaps re-encoded, given a BOM, CRLF line ends, cut short or
    salted with random bytes (invalid UTF-8 among them)."""
    encoding = draw(ENCODINGS)
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=6)) + data[cut + draw(st.integers(0, 3)) :]
    return data


def fuzz_settings(examples: int) -> settings:
    """The fuzz tests' settings: ``examples`` per target, reproducible (derandomized), no
    example database written, no deadline, and no health check for slow or big draws."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
