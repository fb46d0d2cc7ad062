"""``gpusim trace convert``: a trace in any supported format to the canonical trace CSV.

    gpusim trace convert IN --format swf|philly|openb|azure-llm|csv --out OUT.csv
        [--cluster NAME]... (philly: replay only these virtual clusters)
        [--nodes NODES.csv] (openb: the node list)
        [--cluster-out CLUSTER.yaml] (swf; openb with --nodes: a ``cluster:`` snippet)
        [--bin SECONDS] (azure-llm: bin width of the rate series, default 60)

Writes OUT (for azure-llm a request-rate series ``time,requests,context_tokens,
generated_tokens`` instead of jobs) and prints on stderr one line per drop reason
(``dropped 173 jobs: run time <= 0``), what was adjusted, and a summary line. Exit 0; a
malformed row is ``gpusim: file:line: column: problem`` and exit 2. IN may be gzip-compressed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError

FORMAT_NAMES = ("csv", "swf", "philly", "openb", "azure-llm")  # = sim.workload.readers.FORMATS
FLAG_OPTIONS = {"cluster": "philly", "nodes": "openb", "bin": "azure-llm"}


def add_trace_parser(commands: Any) -> None:
    """Add ``trace convert`` to the ``gpusim`` subcommands."""
    trace = commands.add_parser("trace", help="convert job traces to the canonical trace CSV")
    actions = trace.add_subparsers(dest="trace_command", required=True, parser_class=type(trace))
    convert = actions.add_parser(
        "convert",
        help="convert a trace (swf, philly, openb, azure-llm) to the canonical CSV",
        description="Convert a trace to the canonical trace CSV; drops are counted on stderr.",
    )
    convert.add_argument("input", metavar="IN", help="the trace file (.gz is read transparently)")
    convert.add_argument("--format", required=True, choices=FORMAT_NAMES, help="the input's format")
    convert.add_argument("--out", required=True, metavar="OUT.csv", help="the CSV to write")
    convert.add_argument(
        "--cluster", action="append", metavar="NAME", help="philly: keep this virtual cluster (repeatable)"
    )
    convert.add_argument("--nodes", metavar="NODES.csv", help="openb: the node list")
    convert.add_argument("--bin", type=float, metavar="SECONDS", help="azure-llm: bin width (default 60)")
    convert.add_argument(
        "--cluster-out", metavar="CLUSTER.yaml", help="swf, openb with --nodes: write a cluster: snippet"
    )
    convert.set_defaults(handler=cmd_trace_convert)


def cmd_trace_convert(args: argparse.Namespace) -> int:
    """Read IN, write OUT (and the cluster snippet), report drops and adjustments on stderr."""
    from sim.workload.readers import FORMATS, check_options, read_trace, write_rate_series
    from sim.workload.trace_csv import why, write_trace_csv

    options: dict[str, Any] = {}
    for flag, owner in FLAG_OPTIONS.items():
        value = getattr(args, flag)
        if value is None:
            continue
        if args.format != owner:
            raise UserError(
                f"{flag} must go with --format {owner} (got --format {args.format})", source=f"--{flag}"
            )
        try:
            options.update(check_options(args.format, {flag: value}))
        except ValueError as error:
            raise UserError(str(error).removeprefix("options."), source=f"--{flag}") from None
    if args.cluster_out and not (args.format == "swf" or (args.format == "openb" and args.nodes)):
        raise UserError(
            f"cluster-out must go with --format swf, or openb with --nodes (got --format {args.format})",
            source="--cluster-out",
        )
    result = read_trace(args.input, args.format, **options)
    notes = result.notes
    try:
        if FORMATS[args.format].gives_jobs:
            write_trace_csv(result.jobs, args.out)
        else:
            write_rate_series(notes["series"], args.out)
        if args.cluster_out:
            Path(args.cluster_out).write_text(
                cluster_yaml(notes["cluster"], args.nodes or args.input), encoding="utf-8"
            )
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        where = (error.filename if isinstance(error, OSError) else None) or args.out
        raise UserError(f"output file must be writable ({why(error)})", source=str(where)) from None
    for line in report_lines(args.format, args.input, args.out, result):
        print(line, file=sys.stderr)
    if args.cluster_out:
        pods = notes["cluster"]["pods"]
        gpus = sum(pod["nodes"] * pod["gpus_per_node"] for pod in pods)
        nodes = sum(pod["nodes"] for pod in pods)
        print(f"wrote {args.cluster_out}: {len(pods)} pods, {nodes} nodes, {gpus} GPUs", file=sys.stderr)
    return 0


def report_lines(format: str, source: str, out: str, result: Any) -> list[str]:
    """The stderr lines of a conversion: drops by reason, adjustments, then the summary."""
    notes = result.notes
    lines = [f"dropped {count} {_jobs(count)}: {reason}" for reason, count in result.drops.items()]
    if notes.get("rounded_fractional"):
        n = notes["rounded_fractional"]
        lines.append(
            f"rounded up {n} fractional GPU {_plural(n, 'request')} (gpu_milli < 1000) to whole GPUs"
        )
    if notes.get("gpu_spec_alternatives"):
        n = notes["gpu_spec_alternatives"]
        lines.append(f"kept the first of several GPU models in gpu_spec for {n} {_jobs(n)}")
    if notes.get("never_deleted"):
        n = notes["never_deleted"]
        lines.append(
            f"ran {n} never-deleted {_plural(n, 'pod')} to the end of the trace ({notes['trace_end']:g} s)"
        )
    if format == "azure-llm":
        series = notes["series"]
        lines.append(
            f"wrote {out}: {len(series)} bins of {series.bin:g} s, {notes['requests']} requests "
            f"from {source} (azure-llm, time 0 = {notes['start']})"
        )
        return lines
    zero = notes.get("start") or f"original time {_number(notes.get('time_offset', 0.0))}"
    summary = (
        f"wrote {out}: {len(result.jobs)} {_jobs(len(result.jobs))} from {source} ({format}, "
        f"{result.dropped} dropped, time 0 = {zero})"
    )
    if format == "swf":
        summary += f"; pool: {notes['pool_gpus']} GPUs ({notes['pool_source']})"
    if format == "philly":
        summary += f"; {len(notes['clusters'])} virtual clusters"
    lines.append(summary)
    return lines


def cluster_yaml(cluster: dict[str, Any], source: str) -> str:
    """A ``cluster:`` snippet for a scenario, one flow-style line a pod."""
    pods = cluster["pods"]
    gpus = sum(pod["nodes"] * pod["gpus_per_node"] for pod in pods)
    lines = [
        f"# The cluster of {source}: {sum(p['nodes'] for p in pods)} nodes, {gpus} GPUs "
        "(written by gpusim trace convert).",
        "cluster:",
        "  pods:",
    ]
    for pod in pods:
        lines.append(
            f"    - {{name: {pod['name']}, nodes: {pod['nodes']}, gpus_per_node: {pod['gpus_per_node']}, "
            f"gpu_type: {pod['gpu_type']}}}"
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _jobs(n: int) -> str:
    return _plural(n, "job")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
