"""The scenario schema: pydantic v2 models, frozen, unknown keys rejected.

A scenario is what a user writes in YAML: the cluster, the workload, the policies and the
run settings. ``Scenario.model_validate(data, context={"base_dir": dir})`` resolves file
paths relative to ``dir`` (the YAML file's folder). Durations accept seconds or strings with
units (see ``sim.units``). Every default is documented on its field; ``gpusim schema``
prints the JSON schema with these descriptions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.units import parse_duration

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*[0-9.]+([eE][-+]?[0-9]+)?\s*[smhdw]?\s*$"},
            ],
            "description": "seconds, or a number with a unit: 90s, 15m, 2h, 7d, 1w",
        }
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class Model(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyRef(Model):
    """A policy by registered name, with optional parameters. A bare string means no params."""

    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class NodeType(Model):
    """A kind of server: its GPU type, GPUs per node and (optional) power at full load."""

    gpu_type: Name
    gpus_per_node: int = Field(gt=0, le=1024)
    power_w: float | None = Field(default=None, ge=0, description="node power at full load, watts")


class Pod(Model):
    """A group of identical nodes: name a node type, or give gpus_per_node and gpu_type inline.

    ``count`` repeats the pod; repeated pods are named ``<name>-01``, ``<name>-02``, ...
    """

    name: Name
    nodes: int = Field(gt=0, le=1_000_000)
    node_type: str | None = None
    gpus_per_node: int | None = Field(default=None, gt=0, le=1024)
    gpu_type: Name | None = None
    count: int = Field(default=1, gt=0, le=10_000)

    @model_validator(mode="after")
    def _node_type_or_inline(self) -> Pod:
        inline = self.gpus_per_node is not None or self.gpu_type is not None
        if self.node_type is not None and inline:
            raise ValueError("a pod must give either node_type or gpus_per_node + gpu_type, not both")
        if self.node_type is None and (self.gpus_per_node is None or self.gpu_type is None):
            raise ValueError("a pod must give node_type, or both gpus_per_node and gpu_type")
        return self

    def pod_names(self) -> list[str]:
        """Names of the pods this spec expands to."""
        if self.count == 1:
            return [self.name]
        width = max(2, len(str(self.count)))
        return [f"{self.name}-{i:0{width}d}" for i in range(1, self.count + 1)]


class Cluster(Model):
    """Node types and pods. One GPU type has one gpus_per_node across the cluster."""

    node_types: dict[Name, NodeType] = Field(default_factory=dict)
    pods: list[Pod] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Cluster:
        per_type: dict[str, int] = {}
        seen: set[str] = set()
        for index, pod in enumerate(self.pods):
            if pod.node_type is not None and pod.node_type not in self.node_types:
                valid = ", ".join(sorted(self.node_types)) or "none defined"
                raise ValueError(
                    f"pods.{index}.node_type must name a node type in cluster.node_types "
                    f"({valid}) (got {pod.node_type!r})"
                )
            gpu_type, gpn = self.pod_hardware(pod)
            if per_type.setdefault(gpu_type, gpn) != gpn:
                raise ValueError(
                    f"pods.{index}: GPU type {gpu_type!r} must have one gpus_per_node across the "
                    f"cluster (got {gpn} and {per_type[gpu_type]})"
                )
            for name in pod.pod_names():
                if name in seen:
                    raise ValueError(f"pods.{index}.name: pod names must be unique (got {name!r} twice)")
                seen.add(name)
        return self

    def pod_hardware(self, pod: Pod) -> tuple[str, int]:
        """(gpu_type, gpus_per_node) of a pod, inline or through its node type."""
        if pod.node_type is not None:
            node_type = self.node_types[pod.node_type]
            return node_type.gpu_type, node_type.gpus_per_node
        assert pod.gpu_type is not None and pod.gpus_per_node is not None
        return pod.gpu_type, pod.gpus_per_node


class TraceSpec(Model):
    """A job trace file. ``path`` is relative to the scenario file; ``.gz`` is read transparently.

    ``format`` names the reader (docs/traces.md): ``csv`` (canonical), ``swf``, ``philly``,
    ``openb`` or ``azure-llm``; ``options`` are that reader's options, e.g. philly
    ``{cluster: 6214e9}`` or openb ``{nodes: node_list.csv}`` (a path, relative to the file).
    """

    path: str
    format: Literal["csv", "swf", "philly", "openb", "azure-llm"] = "csv"
    options: dict[str, Any] = Field(default_factory=dict, description="options of the format's reader")

    @model_validator(mode="before")
    @classmethod
    def _check_options(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("options"), dict) or not data["options"]:
            return data
        from sim.workload.readers import FORMATS, check_options

        name = data.get("format", "csv")
        if not isinstance(name, str) or name not in FORMATS:
            return data  # the format field reports it
        options = check_options(name, data["options"])
        base = (info.context or {}).get("base_dir")
        for key in FORMATS[name].path_options:
            if key in options:
                path = Path(options[key]) if base is None else Path(base) / options[key]
                if not path.is_file():
                    raise ValueError(f"options.{key}: file must exist (got {data['options'][key]!r})")
                options[key] = str(path)
        return {**data, "options": options}

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        path = Path(value) if base is None else Path(base) / value
        if not path.is_file():
            raise ValueError(f"trace file must exist (got {value!r})")
        return str(path)


class Lognormal(Model):
    """A lognormal law by its median and log-sigma, optionally capped: longer draws become ``max``."""

    median: Duration
    sigma: float = Field(ge=0, le=10)
    max: Duration | None = None

    @field_validator("median")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("median must be > 0")
        return value


class Stream(Model):
    """One synthetic job stream: Poisson arrivals, a GPU-count law, lognormal durations.

    Give the arrival rate either as ``rate_per_hour`` or as ``load``: the share of the
    stream's GPU type that the stream would keep busy on average (whole-node rounding
    included). ``estimate_factor`` multiplies each true duration to make the user's
    requested time: one number, or ``[low, high]`` for a uniform factor per job.
    """

    name: Name
    job_class: Name = "batch"
    gpu_type: Name | None = None
    tenants: int = Field(default=1, gt=0, le=1_000_000)
    rate_per_hour: float | None = Field(default=None, gt=0)
    load: float | None = Field(default=None, gt=0, le=100)
    gpus: dict[int, float] = Field(default_factory=lambda: {1: 1.0}, min_length=1)
    duration: Lognormal
    estimate_factor: float | tuple[float, float] = 1.0
    priority: int = 0

    @model_validator(mode="after")
    def _rate_and_laws(self) -> Stream:
        if (self.rate_per_hour is None) == (self.load is None):
            raise ValueError("a stream must give exactly one of rate_per_hour or load")
        for gpus, weight in self.gpus.items():
            if gpus <= 0 or not (math.isfinite(weight) and weight > 0):
                raise ValueError(f"gpus must map GPU counts > 0 to weights > 0 (got {gpus}: {weight})")
        factors = self.estimate_factor if isinstance(self.estimate_factor, tuple) else (self.estimate_factor,)
        if any(not (math.isfinite(f) and f > 0) for f in factors) or factors[0] > factors[-1]:
            raise ValueError(
                f"estimate_factor must be a number > 0 or [low, high] with 0 < low <= high "
                f"(got {self.estimate_factor})"
            )
        return self


class Synthetic(Model):
    """Synthetic job streams whose arrivals fall in ``[0, arrivals_for)``."""

    arrivals_for: Duration = Field(description="length of the arrival window")
    streams: list[Stream] = Field(min_length=1)


class Workload(Model):
    """Where jobs come from: a trace, synthetic streams, or both (merged by submit time).

    A job without a GPU type gets ``default_gpu_type``, or the first pod's GPU type.
    """

    trace: TraceSpec | None = None
    synthetic: Synthetic | None = None
    default_gpu_type: Name | None = None

    @model_validator(mode="after")
    def _some_source(self) -> Workload:
        if self.trace is None and self.synthetic is None:
            raise ValueError("workload must give a trace, synthetic streams, or both")
        return self


class Metrics(Model):
    """Metric settings: how often timeseries.csv samples the cluster."""

    sample_interval: Duration = Field(default=3600.0, description="seconds between samples")

    @field_validator("sample_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("sample_interval must be > 0")
        return value


class Preemption(Model):
    """What a preempted job pays: it restarts from a checkpoint taken when it was stopped,
    after ``restart_overhead`` of extra run time (checkpoint write, restart, reload).
    """

    restart_overhead: Duration = Field(default=60.0, description="extra run time per restart")


class Scenario(Model):
    """A whole what-if: cluster, workload, policies, horizon and seed."""

    name: Name
    description: str = ""
    seed: int = Field(default=0, ge=0, lt=2**63)
    horizon: Duration | None = Field(
        default=None, description="stop here; jobs queued or running then are 'unfinished'"
    )
    cluster: Cluster
    workload: Workload
    scheduler: PolicyRef = PolicyRef(name="easy")
    placement: PolicyRef = PolicyRef(name="pack")
    metrics: Metrics = Metrics()
    preemption: Preemption = Preemption()

    @field_validator("horizon")
    @classmethod
    def _positive_horizon(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("horizon must be > 0")
        return value

    @model_validator(mode="after")
    def _gpu_types_exist(self) -> Scenario:
        types = {self.cluster.pod_hardware(pod)[0] for pod in self.cluster.pods}
        named = [("workload.default_gpu_type", self.workload.default_gpu_type)]
        if self.workload.synthetic is not None:
            named += [
                (f"workload.synthetic.streams.{i}.gpu_type", stream.gpu_type)
                for i, stream in enumerate(self.workload.synthetic.streams)
            ]
        for where, gpu_type in named:
            if gpu_type is not None and gpu_type not in types:
                raise ValueError(
                    f"{where} must be a GPU type of the cluster ({', '.join(sorted(types))}) "
                    f"(got {gpu_type!r})"
                )
        return self
