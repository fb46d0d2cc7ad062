"""The workload part of the scenario schema: traces, tenants, job streams, inference services.

Defaults and their sources are documented in docs/workload.md; every field's default is on
the field. Job streams and inference service groups draw their tenants from
``workload.tenants`` (groups with a tier and a heavy-tailed activity).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.errors import show
from sim.scenario.base import Duration, Model, Name
from sim.workload.trace_csv import MAX_GPUS

Tier = Literal["reserved", "on-demand", "spot"]
GpuTypes = Name | Annotated[list[Name], Field(min_length=1)]


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False for a name the system refuses (too long, a NUL, a loop)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


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
                if not _is_file(path):
                    raise ValueError(f"options.{key}: file must exist (got {show(data['options'][key])})")
                options[key] = str(path)
        return {**data, "options": options}

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        path = Path(value) if base is None else Path(base) / value
        if not _is_file(path):
            raise ValueError(f"trace file must exist (got {show(value)})")
        return str(path)


class Lognormal(Model):
    """A lognormal law by its median and log-sigma, optionally capped: longer draws become ``max``."""

    median: Duration
    sigma: float = Field(ge=0, le=10)
    max: Duration | None = None

    @field_validator("median", "max")
    @classmethod
    def _positive(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"{info.field_name} must be > 0")
        return value


class Factor(Model):
    """A lognormal factor by its median and log-sigma (e.g. users' over-estimation of run time)."""

    median: float = Field(gt=0, le=1000)
    sigma: float = Field(ge=0, le=5)


class Levels(Model):
    """Relative arrival-rate levels per period of the week (docs/workload.md, "Calendar")."""

    business: float = Field(ge=0, le=1e6)
    shoulder: float = Field(ge=0, le=1e6)
    night: float = Field(ge=0, le=1e6)
    weekend: float = Field(ge=0, le=1e6)

    @model_validator(mode="after")
    def _some_level(self) -> Levels:
        if not any((self.business, self.shoulder, self.night, self.weekend)):
            raise ValueError("profile levels must not all be 0")
        return self


Profile = Name | Levels


def _check_profile(value: Profile) -> Profile:
    from sim.workload.calendar import PRESETS

    if isinstance(value, str) and value not in PRESETS:
        raise ValueError(
            f"profile must be one of {', '.join(sorted(PRESETS))} or a mapping of levels (got {value!r})"
        )
    return value


def _check_weights(what: str, weights: dict[Any, float]) -> None:
    for key, weight in weights.items():
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"{what} must map to weights > 0 (got {key}: {weight})")


def _check_counts(what: str, weights: dict[int, float]) -> None:
    _check_weights(what, weights)
    if any(count <= 0 or count > MAX_GPUS for count in weights):
        raise ValueError(f"{what} must map counts from 1 to {MAX_GPUS:,} to weights (got {sorted(weights)})")


def _check_tenants(tenants: int | dict[str, float]) -> None:
    """A number of anonymous tenants > 0, or a non-empty mapping of groups to weights > 0."""
    if isinstance(tenants, int) and tenants <= 0:
        raise ValueError(f"tenants must be a number > 0 or a mapping of groups (got {tenants})")
    if isinstance(tenants, dict):
        if not tenants:
            raise ValueError("tenants must name at least one tenant group")
        _check_weights("tenants", tenants)


class TenantGroup(Model):
    """``count`` tenants named ``<name>-<rank>``; the tenant of rank k has activity weight k^-skew."""

    name: Name
    count: int = Field(gt=0, le=1_000_000)
    tier: Tier = "on-demand"
    skew: float = Field(default=1.0, ge=0, le=10, description="Zipf exponent of activity within the group")


DEFAULT_TENANTS = (
    TenantGroup(name="sme", count=3000, tier="on-demand", skew=1.0),
    TenantGroup(name="industry", count=20, tier="reserved", skew=0.5),
    TenantGroup(name="research", count=10, tier="spot", skew=0.5),
)


class Stream(Model):
    """One synthetic job stream: (time-varying) Poisson arrivals of jobs or job arrays.

    Give the rate either as ``rate_per_hour`` (arrivals, i.e. arrays, per hour at the weekly
    mean) or as ``load``: the share of the stream's GPU type it would keep busy on average
    (whole-node rounding, array size and early ends of failed jobs included).
    ``estimate_factor`` multiplies each job's full duration to make the user's requested
    time: a number, ``[low, high]`` (uniform per job) or ``{median, sigma}`` (lognormal).
    ``tenants`` is a mapping of tenant groups to their share of the arrivals, or a number of
    anonymous tenants ``<stream>-tNN`` (tier on-demand).
    """

    name: Name
    job_class: Name = "batch"
    gpu_type: GpuTypes | None = Field(default=None, description="one GPU type or a list of acceptable ones")
    tenants: int | dict[Name, float] = Field(default=1)
    rate_per_hour: float | None = Field(default=None, gt=0)
    load: float | None = Field(default=None, gt=0, le=100)
    profile: Profile = Field(default="flat", description="arrival profile over the week (docs/workload.md)")
    gpus: dict[int, float] = Field(default_factory=lambda: {1: 1.0}, min_length=1)
    duration: Lognormal
    size_exponent: float = Field(
        default=0.0,
        ge=0,
        le=3,
        description="a job of g GPUs has median duration median * g^size_exponent (bigger jobs run longer)",
    )
    outcomes: dict[Literal["failed", "cancelled"], float] = Field(
        default_factory=dict, description="share of jobs that fail or are cancelled (end early)"
    )
    estimate_factor: float | tuple[float, float] | Factor = 1.0
    array_size: dict[int, float] = Field(
        default_factory=lambda: {1: 1.0}, min_length=1, description="jobs per arrival (job arrays)"
    )
    priority: int = 0

    @model_validator(mode="after")
    def _rate_and_laws(self) -> Stream:
        if (self.rate_per_hour is None) == (self.load is None):
            raise ValueError("a stream must give exactly one of rate_per_hour or load")
        _check_counts("gpus", self.gpus)
        _check_counts("array_size", self.array_size)
        _check_tenants(self.tenants)
        share = sum(self.outcomes.values())
        if any(not (0 <= v <= 1) for v in self.outcomes.values()) or share > 1:
            raise ValueError(f"outcomes must be shares in [0, 1] summing to <= 1 (got {dict(self.outcomes)})")
        factor = self.estimate_factor
        if not isinstance(factor, Factor):
            factors = factor if isinstance(factor, tuple) else (factor,)
            if any(not (math.isfinite(f) and f > 0) for f in factors) or factors[0] > factors[-1]:
                raise ValueError(
                    f"estimate_factor must be a number > 0, [low, high] with 0 < low <= high or "
                    f"{{median, sigma}} (got {factor})"
                )
        _check_profile(self.profile)
        return self


class Synthetic(Model):
    """Synthetic job streams whose arrivals fall in ``[0, arrivals_for)`` (default: the horizon)."""

    arrivals_for: Duration | None = Field(
        default=None, description="length of the arrival window (default: the scenario's horizon)"
    )
    streams: list[Stream] = Field(min_length=1)


class Noise(Model):
    """Multiplicative lognormal AR(1) bursts of a request rate, one step per autoscaler interval."""

    sigma: float = Field(ge=0, le=5, description="log-sigma of the stationary law")
    phi: float = Field(ge=0, lt=1, description="lag-1 autocorrelation of the log")


class Autoscaler(Model):
    """Horizontal autoscaling of a service's replicas (Kubernetes HPA-like, docs/workload.md)."""

    target_utilisation: float = Field(default=0.7, gt=0, le=1)
    min_replicas: int = Field(default=1, ge=0, le=10_000)
    max_replicas: int = Field(default=32, gt=0, le=10_000)
    interval: Duration = Field(default=300.0, description="seconds between decisions")
    scale_up_delay: Duration = Field(
        default=180.0, description="cold start: a replica serves this long after it starts"
    )
    scale_down_window: Duration = Field(default=600.0, description="stabilisation window before scaling down")

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaler:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas must be <= max_replicas (got {self.min_replicas} > {self.max_replicas})"
            )
        if self.interval <= 0:
            raise ValueError("interval must be > 0")
        return self


class Slo(Model):
    """A service's latency objective: ``target`` share of requests answered within ``latency``."""

    latency: Duration = Field(default=5.0)
    target: float = Field(default=0.95, gt=0, le=1)

    @field_validator("latency")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("latency must be > 0")
        return value


class ServiceGroup(Model):
    """``services`` inference services alike in law: each an SME's model behind an autoscaler.

    A service's mean request rate (requests/s over the week) is lognormal across services;
    its rate over time follows ``profile`` with AR(1) ``noise`` bursts; ``replica_gpus``
    is the model-size mix (a replica's GPU footprint); one replica serves
    ``replica_capacity`` requests/s. Replica requests are jobs (class ``inference``).
    ``noise`` defaults by profile: ``coding`` and ``chat`` are calibrated from the Azure LLM
    inference traces, any other profile gets the chat values.
    """

    name: Name
    services: int = Field(gt=0, le=1_000_000)
    tenants: int | dict[Name, float] = Field(default_factory=lambda: {"sme": 1.0})
    gpu_type: GpuTypes | None = None
    replica_gpus: dict[int, float] = Field(default_factory=lambda: {1: 0.6, 2: 0.25, 4: 0.1, 8: 0.05})
    rate: Factor = Field(
        default=Factor(median=1.0, sigma=1.0), description="requests/s, lognormal across services"
    )
    profile: Profile = "chat"
    noise: Noise | None = None
    replica_capacity: float = Field(default=2.0, gt=0, description="requests/s one replica serves")
    slo: Slo = Slo()
    autoscaler: Autoscaler = Autoscaler()
    priority: int = 100

    @model_validator(mode="after")
    def _laws(self) -> ServiceGroup:
        _check_counts("replica_gpus", self.replica_gpus)
        _check_tenants(self.tenants)
        _check_profile(self.profile)
        return self


class Workload(Model):
    """Where jobs come from: a trace, synthetic streams and inference services (merged by time).

    A job without a GPU type gets ``default_gpu_type``, or the first pod's GPU type.
    """

    trace: TraceSpec | None = None
    synthetic: Synthetic | None = None
    inference: list[ServiceGroup] = Field(default_factory=list)
    tenants: list[TenantGroup] = Field(default_factory=lambda: list(DEFAULT_TENANTS))
    default_gpu_type: Name | None = None

    @model_validator(mode="after")
    def _sources_and_groups(self) -> Workload:
        if self.trace is None and self.synthetic is None and not self.inference:
            raise ValueError("workload must give a trace, synthetic streams, inference services, or several")
        names = [group.name for group in self.tenants]
        if len(set(names)) != len(names):
            raise ValueError(f"tenants: group names must be unique (got {names})")
        users: list[tuple[str, Stream | ServiceGroup]] = [
            (f"synthetic.streams.{i}", s)
            for i, s in enumerate(self.synthetic.streams if self.synthetic else ())
        ]
        users += [(f"inference.{i}", group) for i, group in enumerate(self.inference)]
        for where, user in users:
            if isinstance(user.tenants, dict):
                for group in user.tenants:
                    if group not in names:
                        raise ValueError(
                            f"{where}.tenants must name groups of workload.tenants ({', '.join(names)}) "
                            f"(got {group!r})"
                        )
        streams = [name for name, _ in users]
        labels = [u.name for _, u in users]
        if len(set(labels)) != len(labels):
            raise ValueError(f"stream and service group names must be unique (got {labels} at {streams})")
        return self

    def possible_tenants(self) -> list[str]:
        """Every tenant a stream's or service's job can have, in their order (a tenant group's
        ``<group>-<rank>``, a stream's anonymous ``<stream>-tNN``); a trace's come on top."""
        from sim.workload.tenants import anonymous_names, tenant_names

        by_name = {group.name: group for group in self.tenants}
        names: dict[str, None] = {}
        for user in self.streams_and_services():
            if isinstance(user.tenants, int):
                names.update(dict.fromkeys(anonymous_names(user.name, user.tenants)))
            else:
                for group in user.tenants:
                    names.update(dict.fromkeys(tenant_names(by_name[group])))
        return list(names)

    def possible_job_classes(self) -> list[str]:
        """Every job class a stream's or service's job can have (replicas are ``inference``); a
        trace's come on top."""
        classes = [stream.job_class for stream in self.synthetic.streams] if self.synthetic else []
        return list(dict.fromkeys(classes + ["inference"] * bool(self.inference)))

    def possible_tiers(self) -> list[str]:
        """Every tier a stream's or service's job can have (its tenant groups' drawn with a
        weight above 0; anonymous tenants are on-demand), in their order; a trace's are its own."""
        from sim.workload.jobs import DEFAULT_TIER

        by_name = {group.name: group for group in self.tenants}
        tiers: dict[str, None] = {}
        for user in self.streams_and_services():
            if isinstance(user.tenants, int):
                tiers[DEFAULT_TIER] = None
            else:
                drawn = [group for group, weight in user.tenants.items() if weight > 0]
                tiers.update((by_name[group].tier, None) for group in drawn)
        return list(tiers)

    def streams_and_services(self) -> list[Stream | ServiceGroup]:
        """The job streams, then the inference service groups: what draws tenants and GPU types."""
        streams: list[Stream | ServiceGroup] = list(self.synthetic.streams) if self.synthetic else []
        return streams + list(self.inference)

    def gpu_type_fields(self) -> list[tuple[str, str]]:
        """(dotted path, GPU type) of every GPU type the workload names, for checking."""
        named: list[tuple[str, str | list[str] | None]] = [
            ("workload.default_gpu_type", self.default_gpu_type)
        ]
        if self.synthetic is not None:
            named += [
                (f"workload.synthetic.streams.{i}.gpu_type", s.gpu_type)
                for i, s in enumerate(self.synthetic.streams)
            ]
        named += [(f"workload.inference.{i}.gpu_type", g.gpu_type) for i, g in enumerate(self.inference)]
        out = []
        for where, value in named:
            for gpu_type in [value] if isinstance(value, str) else value or []:
                out.append((where, gpu_type))
        return out
