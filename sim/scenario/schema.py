"""The scenario schema: pydantic v2 models, frozen, unknown keys rejected.

A scenario is what a user writes in YAML: the cluster, the workload, the policies and the
run settings. ``Scenario.model_validate(data, context={"base_dir": dir})`` resolves file
paths relative to ``dir`` (the YAML file's folder). Durations accept seconds or strings with
units (see ``sim.units``). Every default is documented on its field; ``gpusim schema``
prints the JSON schema with these descriptions.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import Duration, Model, Name
from sim.scenario.market import Billing, Demand, Energy
from sim.scenario.workload import (  # noqa: F401  (re-exported: the scenario's models live in two files)
    Lognormal,
    ServiceGroup,
    Stream,
    Synthetic,
    TenantGroup,
    TraceSpec,
    Workload,
)


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
    speed: dict[Name, float] = Field(
        default_factory=dict,
        description="relative throughput per GPU type (default 1): a job accepting several types runs "
        "its duration (given for its first type) scaled by speed[first] / speed[chosen]",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Cluster:
        per_type: dict[str, int] = {}
        seen: set[str] = set()
        for gpu_type, speed in self.speed.items():
            if not (math.isfinite(speed) and speed > 0):
                raise ValueError(f"speed.{gpu_type} must be a number > 0 (got {speed})")
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

    def gpu_types(self) -> list[str]:
        """The cluster's GPU types, sorted."""
        return sorted({self.pod_hardware(pod)[0] for pod in self.pods})

    def pod_hardware(self, pod: Pod) -> tuple[str, int]:
        """(gpu_type, gpus_per_node) of a pod, inline or through its node type."""
        if pod.node_type is not None:
            node_type = self.node_types[pod.node_type]
            return node_type.gpu_type, node_type.gpus_per_node
        assert pod.gpu_type is not None and pod.gpus_per_node is not None
        return pod.gpu_type, pod.gpus_per_node


MIN_SAMPLE_INTERVAL = 1.0
"""Shortest sample interval, seconds."""
MAX_SAMPLES = 1_000_000
"""Most samples a run with a horizon may take (horizon / sample_interval): a year every 31.5 s."""
MAX_JOBS = 50_000_000
"""Most jobs the synthetic streams may bring, by their peak rate (about 23 GB at 0.46 KB a job)."""


class Metrics(Model):
    """Metric settings: how often timeseries.csv samples the cluster."""

    sample_interval: Duration = Field(
        default=3600.0,
        description="seconds between samples, at least 1 (a run samples until its last job ends)",
    )

    @field_validator("sample_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        # A run samples until its last job ends: 1e-6 s made 25 s of a tiny trace eat 6 GB.
        if value < MIN_SAMPLE_INTERVAL:
            raise ValueError(f"sample_interval must be >= {MIN_SAMPLE_INTERVAL:g} s (got {value:g})")
        return value


class Preemption(Model):
    """What a preempted job pays: it restarts from a checkpoint taken when it was stopped,
    after ``restart_overhead`` of extra run time (checkpoint write, restart, reload).
    """

    restart_overhead: Duration = Field(default=60.0, description="extra run time per restart")
    spot_notice: Duration = Field(
        default=0.0,
        description="warning a preempted spot job gets: it keeps running this long, then stops "
        "(with its work saved: no restart overhead)",
    )


class Scenario(Model):
    """A whole what-if: cluster, workload, policies, horizon and seed."""

    name: Name
    description: str = ""
    seed: int = Field(default=0, ge=0, lt=2**63)
    start: dt.datetime = Field(
        default=dt.datetime(2026, 1, 5), description="local wall-clock time of t = 0 (default a Monday)"
    )
    timezone: str = Field(default="Europe/Berlin", description="IANA zone of start and the arrival profiles")
    horizon: Duration | None = Field(
        default=None, description="stop here; jobs queued or running then are 'unfinished'"
    )
    cluster: Cluster
    workload: Workload
    scheduler: PolicyRef = PolicyRef(name="easy")
    placement: PolicyRef = PolicyRef(name="pack")
    pricing: PolicyRef = PolicyRef(name="flat")
    quota: PolicyRef = PolicyRef(name="none")
    demand: Demand | None = Field(default=None, description="demand response to price (default: none)")
    billing: Billing = Billing()
    energy: Energy = Energy()
    metrics: Metrics = Metrics()
    preemption: Preemption = Preemption()

    @field_validator("horizon")
    @classmethod
    def _positive_horizon(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("horizon must be > 0")
        return value

    def arrival_window(self) -> float | None:
        """Synthetic arrivals fall in [0, this): ``workload.synthetic.arrivals_for``, else the horizon."""
        synthetic = self.workload.synthetic
        return (synthetic.arrivals_for if synthetic else None) or self.horizon

    def service_window(self) -> float | None:
        """Inference services run over [0, this): the horizon, else the synthetic arrival window."""
        return self.horizon or self.arrival_window()

    @field_validator("start")
    @classmethod
    def _naive_start(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            raise ValueError(f"start must be a local time without a zone; set timezone instead (got {value})")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone must be an IANA time zone such as Europe/Berlin (got {value!r})"
            ) from None
        return value

    @model_validator(mode="after")
    def _start_exists(self) -> Scenario:
        from sim.workload.calendar import Calendar

        try:
            Calendar(self.start, self.timezone)
        except ValueError as error:
            raise ValueError(
                f"start must be a local time that exists in {self.timezone}: {error} "
                f"(got {self.start.isoformat()})"
            ) from None
        return self

    @model_validator(mode="after")
    def _gpu_types_exist(self) -> Scenario:
        types = self.cluster.gpu_types()
        named = self.workload.gpu_type_fields() + [(f"cluster.speed.{t}", t) for t in self.cluster.speed]
        named += [(f"energy.power.{t}", t) for t in self.energy.power]
        if self.demand is not None:
            named += [(f"demand.reference_price.{t}", t) for t in self.demand.reference_price]
        synthetic = self.workload.synthetic
        if synthetic is not None and synthetic.arrivals_for is None and self.horizon is None:
            raise ValueError("horizon must be set when workload.synthetic.arrivals_for is not (got neither)")
        if self.workload.inference and self.service_window() is None:
            raise ValueError(
                "horizon must be set when workload.inference is given: services run until it (got none)"
            )
        interval, given = self.metrics.sample_interval, "sample_interval" in self.metrics.model_fields_set
        # A given interval only: the default hour is no mistake of a short run's.
        if self.horizon is not None and given and interval >= self.horizon:
            raise ValueError(
                f"metrics.sample_interval must be shorter than the horizon, or the run samples only t = 0 "
                f"(got {interval:g} s for a horizon of {self.horizon:g} s)"
            )
        if self.horizon is not None and self.horizon / interval > MAX_SAMPLES:
            raise ValueError(
                f"metrics.sample_interval must be at least horizon / {MAX_SAMPLES:,} = "
                f"{self.horizon / MAX_SAMPLES:g} s (got {interval:g} s for a horizon of {self.horizon:g} s)"
            )
        for where, gpu_type in named:
            if gpu_type not in types:
                raise ValueError(
                    f"{where} must be a GPU type of the cluster ({', '.join(types)}) (got {gpu_type!r})"
                )
        return self

    @model_validator(mode="after")
    def _workload_fits(self) -> Scenario:
        """Refuse streams that would bring more than MAX_JOBS jobs (a duration's unit left out
        of ``median`` under ``load`` makes 60x as many) and services whose autoscaler would take
        more than MAX_SAMPLES steps: they would exhaust memory instead of running."""
        from sim.cluster.state import ClusterLayout
        from sim.workload.synthetic import WINDOW, arrival_rate, mean_array_size, profile_array
        from sim.workload.windows import default_gpu_type, gpu_type_text

        window = self.arrival_window()
        synthetic = self.workload.synthetic
        if synthetic is not None and window:
            # Arrivals are drawn a whole week at a time (synthetic.WINDOW), the last week's
            # beyond the window then dropped: count what is drawn.
            window = math.ceil(window / WINDOW) * WINDOW
            layout = ClusterLayout.from_scenario(self.cluster)
            fallback = default_gpu_type(self, layout)
            jobs = []
            for spec in synthetic.streams:
                # The type the stream's load is sized on, as the generator takes it.
                first_type = gpu_type_text(spec.gpu_type, fallback).split("|")[0]
                rate = arrival_rate(spec, layout, first_type)
                peak = float(profile_array(spec.profile).max())
                jobs.append(rate * peak * window * mean_array_size(spec))
            if sum(jobs) > MAX_JOBS:
                worst = max(range(len(jobs)), key=jobs.__getitem__)
                raise ValueError(
                    f"workload.synthetic.streams.{worst}: the streams must draw at most {MAX_JOBS:,} jobs "
                    f"at their peak rate over whole weeks (got about {sum(jobs):.3g}, {jobs[worst]:.3g} "
                    "from this one)"
                )
        service_window = self.service_window()
        for index, group in enumerate(self.workload.inference):
            steps = (service_window or 0.0) / group.autoscaler.interval
            if steps > MAX_SAMPLES:
                where = f"workload.inference.{index}.autoscaler.interval"
                raise ValueError(
                    f"{where}: interval must be at least the services' window / {MAX_SAMPLES:,} = "
                    f"{service_window / MAX_SAMPLES:g} s "
                    f"(got {group.autoscaler.interval:g} s for {service_window:g} s)"
                )
        return self

    @model_validator(mode="after")
    def _node_power_covers_gpus(self) -> Scenario:
        """A node type's power_w is the whole node at full load: below its GPUs at busy power
        (14.3, kW written as W) the rest of the node would draw less than nothing."""
        used = {pod.node_type for pod in self.cluster.pods}
        for name, node_type in self.cluster.node_types.items():
            given = self.energy.power.get(node_type.gpu_type)
            if node_type.power_w is None or name not in used or (given and given.node_w is not None):
                continue  # energy.power.<type>.node_w replaces power_w
            busy = self.energy.gpu_power(node_type.gpu_type)[0]
            gpus = node_type.gpus_per_node * busy
            if node_type.power_w < gpus:
                raise ValueError(
                    f"cluster.node_types.{name}.power_w: power_w must be the whole node's watts at full "
                    f"load, at least gpus_per_node x busy_w = {node_type.gpus_per_node} x {busy:g} = "
                    f"{gpus:g} W (got {node_type.power_w:g})"
                )
        return self

    @model_validator(mode="after")
    def _job_classes_exist(self) -> Scenario:
        if self.demand is None or self.workload.trace is not None:
            return self  # a trace's classes are known only once it is read
        classes = self.workload.possible_job_classes()
        for index, rule in enumerate(self.demand.rules):
            if rule.job_class is not None and rule.job_class not in classes:
                raise ValueError(
                    f"demand.rules.{index}.job_class must be a job class of the workload "
                    f"({', '.join(classes)}) (got {rule.job_class!r})"
                )
        return self
