"""Write one run's results directory, atomically and byte-for-byte reproducibly.

``write_results`` fills a hidden sibling ``.<name>.tmp-<pid>`` (every file, plots too) and
renames it to the target at the end, so a results directory either holds every file or does
not exist; an error or a KeyboardInterrupt while writing removes the temporary directory::

    manifest.json    the caller's manifest + "scenario" (resolved) + "complete": true, or false
                     for a run stopped early (its records then end at ``RunRecords.stopped_at``)
    jobs.csv         one row per job, columns sim.records.JOB_COLUMNS
    segments.csv     one row per run segment, columns sim.records.SEGMENT_COLUMNS
    timeseries.csv   "time", then the other sampled columns sorted by name
    summary.json     sim.metrics.summarize output
    services.csv     one row per inference service (sim.metrics.slo), if the run has any
    bills.csv        one row per tenant (sim.metrics.billing.BILL_COLUMNS)
    plots/           PNGs from sim.report.plots (unless plots=False)

CSV floats are written with ``repr`` (shortest text that reads back to the same float), NaN
as an empty field, lines end in ``\\n``. JSON has sorted keys, indent 2, NaN as null. Nothing
here adds a timestamp, so identical inputs give identical bytes.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from sim.cluster.state import ClusterLayout
from sim.errors import UserError
from sim.metrics import json_ready
from sim.metrics.billing import BILL_COLUMNS, bill_rows, sla_credits
from sim.metrics.energy import energy_by_tenant
from sim.metrics.slo import SERVICE_COLUMNS, GroupResult, evaluate, service_rows
from sim.records import JOB_COLUMNS, SEGMENT_COLUMNS, JobRecord, JobRecords, Rows, RunRecords, Segment
from sim.scenario.schema import Scenario
from sim.spool import drop_pages


def format_value(value: object) -> str:
    """One CSV field: floats by ``repr`` (NaN -> empty), integers by ``str``, text as is."""
    kind = type(value)  # the common exact types first: this runs once per cell of jobs.csv
    if kind is float:
        return repr(value) if value == value else ""
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        number = float(value)
        return "" if math.isnan(number) else repr(number)
    return str(value)


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([format_value(value) for value in row] for row in rows)
    return buffer.getvalue()


# Rows formatted per chunk: a million-row file never exists as one string in memory. A chunk's
# strings take ~1.4 kB a row: 8,192 rows hold ~12 MB (65,536 held 93 MB, and wrote no faster).
CHUNK_ROWS = 8_192
DROP_ROWS = 64 * CHUNK_ROWS  # spooled columns' pages leave the RSS this often (sim.spool.drop_pages)


def format_column(values: Sequence[object]) -> list[str]:
    """``format_value`` of every value, with whole-column shortcuts for plain floats, ints, text."""
    kinds = set(map(type, values))
    if kinds == {float}:
        text = list(map(repr, values))
        return ["" if t == "nan" else t for t in text] if "nan" in text else text
    if kinds == {str}:
        return list(values)  # type: ignore[arg-type]
    if kinds == {int}:
        return list(map(str, values))
    return list(map(format_value, values))


def _needs_quotes(text: str) -> bool:
    """Whether csv would quote a field containing ``text``'s characters (four ``in`` scans:
    each a C search, ~15x faster than a regex over a column of long node lists)."""
    return "," in text or '"' in text or "\n" in text or "\r" in text


def _quoted(text: str) -> str:
    """One field exactly as the csv module writes it inside a row (it decides the quoting)."""
    if not _needs_quotes(text):
        return text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow((text, ""))
    return buffer.getvalue()[:-2]  # the row less its "," + "" + "\n"


def write_table(handle: Any, header: Sequence[str], chunks: Iterable[Sequence[Sequence[object]]]) -> None:
    """CSV rows to ``handle``: each chunk is a list of columns, formatted as ``format_value`` does.

    The same bytes as ``csv.writer`` (``lineterminator="\\n"``, minimal quoting) for rows of
    two or more fields, but joined without a per-field step: a text column is searched for
    characters that need quotes once, as one string, and only then field by field.
    """
    if len(header) < 2:  # a lone empty field is quoted by csv: leave such files to it
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for columns in chunks:
            writer.writerows(zip(*map(format_column, columns), strict=True))
        return
    handle.write(",".join(map(_quoted, header)) + "\n")
    for columns in chunks:
        texts = []
        for column in map(format_column, columns):
            if _needs_quotes("\x00".join(column)):
                column = list(map(_quoted, column))
            texts.append(column)
        if texts and texts[0]:
            handle.write("\n".join(map(",".join, zip(*texts, strict=True))) + "\n")


def _chunk_starts(rows: int) -> Iterator[int]:
    """The first row of each chunk; every DROP_ROWS rows the spooled pages read so far leave
    the RSS (``sim.spool.drop_pages``)."""
    for first in range(0, rows, CHUNK_ROWS):
        if first % DROP_ROWS == 0:
            drop_pages()
        yield first


def _job_chunks(jobs: Sequence[JobRecord]) -> Iterator[list[Sequence[object]]]:
    """jobs.csv columns (JOB_COLUMNS order, wait_time computed), CHUNK_ROWS jobs at a time."""
    index = {name: k for k, name in enumerate(JobRecord._fields)}
    stored = [jobs.column(name) for name in JobRecord._fields] if isinstance(jobs, JobRecords) else None
    for first in _chunk_starts(len(jobs)):
        if stored is not None:
            fields = [column[first : first + CHUNK_ROWS] for column in stored]
        else:
            fields = list(zip(*jobs[first : first + CHUNK_ROWS], strict=True))
        start, submit = fields[index["start_time"]], fields[index["submit_time"]]
        wait = [b - a for a, b in zip(submit, start, strict=True)]
        yield [wait if name == "wait_time" else fields[index[name]] for name in JOB_COLUMNS]


def _segment_chunks(segments: Sequence[Segment]) -> Iterator[list[Sequence[object]]]:
    stored = [segments.column(name) for name in SEGMENT_COLUMNS] if isinstance(segments, Rows) else None
    for first in _chunk_starts(len(segments)):
        if stored is not None:
            yield [column[first : first + CHUNK_ROWS] for column in stored]
        else:
            yield list(zip(*segments[first : first + CHUNK_ROWS], strict=True))


def jobs_csv(jobs: Sequence[JobRecord]) -> str:
    """jobs.csv text: header JOB_COLUMNS, one row per job in input order (wait_time computed)."""
    buffer = io.StringIO()
    write_table(buffer, JOB_COLUMNS, _job_chunks(jobs))
    return buffer.getvalue()


def segments_csv(segments: Sequence[Segment]) -> str:
    """segments.csv text: header SEGMENT_COLUMNS, one row per run segment in the order they ended."""
    buffer = io.StringIO()
    write_table(buffer, SEGMENT_COLUMNS, _segment_chunks(segments))
    return buffer.getvalue()


def timeseries_csv(timeseries: Mapping[str, Sequence[float]]) -> str:
    """timeseries.csv text: ``time`` first, then every other column sorted by name.

    Raises ValueError when the columns do not all have the same length.
    """
    columns = (["time"] if "time" in timeseries else []) + sorted(c for c in timeseries if c != "time")
    lengths = {len(timeseries[column]) for column in columns}
    if len(lengths) > 1:
        sizes = ", ".join(f"{column}={len(timeseries[column])}" for column in columns)
        raise ValueError(f"timeseries columns must have equal lengths (got {sizes})")
    count = lengths.pop() if lengths else 0
    return _csv_text(columns, ([timeseries[column][i] for column in columns] for i in range(count)))


def json_text(value: object) -> str:
    """Canonical JSON: ``json_ready`` values, sorted keys, indent 2, a final newline."""
    return json.dumps(json_ready(value), sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def check_target(out_dir: Path) -> None:
    """Raise FileExistsError unless ``out_dir`` is absent or an empty directory, and UserError
    unless it can be written: its parents are made and a sibling named like the temporary
    one ``atomic_directory`` fills (a little longer) is made and removed (so a long run never
    ends in a refusal: a name too long, a NUL, a place without write permission)."""
    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise FileExistsError(errno.EEXIST, "results directory must be new or empty", str(out_dir))
        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a file where a parent folder should be
            blocker = next((p for p in reversed(out_dir.parents) if p.exists() and not p.is_dir()), None)
            from sim.errors import show

            got = show(str(blocker or out_dir.parent))
            raise UserError(
                f"results directory's parent must be a directory (got {got}, not a directory)",
                source=str(out_dir),
            ) from None
        probe = _temporary(out_dir)
        probe = probe.with_name(probe.name + ".probe")  # longer than the real one, not it
        probe.mkdir()
        probe.rmdir()
    except FileExistsError:
        raise
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise UserError(
            f"results directory must be one gpusim can create ({reason})", source=str(out_dir)
        ) from None


def _temporary(out_dir: Path) -> Path:
    """The hidden sibling a results directory is written in before its rename."""
    return out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"


@contextlib.contextmanager
def atomic_directory(out_dir: Path) -> Iterator[Path]:
    """A hidden temporary sibling of ``out_dir`` to fill, renamed to ``out_dir`` when the block
    ends without error and removed otherwise: ``out_dir`` then holds everything or nothing.

    ``out_dir`` must be new or empty (FileExistsError, checked before and again at the end);
    its parents are created.
    """
    check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(out_dir)
    try:  # from here on, an exception or KeyboardInterrupt anywhere removes tmp
        shutil.rmtree(tmp, ignore_errors=True)  # a leftover of a killed process with this pid
        tmp.mkdir()
        yield tmp
        check_target(out_dir)
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def bills(scenario: Scenario, records: RunRecords, services: list[GroupResult]) -> list[tuple[Any, ...]]:
    """bills.csv rows: one per tenant, charges less SLA credits, with the tenant's energy."""
    layout = ClusterLayout.from_scenario(scenario.cluster)
    credits = sla_credits(records, services, scenario.billing)
    return bill_rows(records, credits, energy_by_tenant(records, scenario.energy, layout))


def write_results(
    out_dir: Path,
    *,
    scenario: Scenario,
    records: RunRecords,
    summary: dict[str, Any],
    manifest: dict[str, Any],
    plots: bool = True,
    services: list[GroupResult] | None = None,
    complete: bool | None = None,
) -> Path:
    """Write a run's results into ``out_dir`` (see the module docstring) and return it.

    ``complete`` goes to the manifest; None means "unless the run was stopped early"
    (``records.stopped_at is None``). ``out_dir`` may exist only if empty (it is replaced);
    otherwise FileExistsError is raised before anything is written. Parents are created. On
    any error, KeyboardInterrupt included, the temporary directory is removed and
    ``out_dir`` is left as it was.
    """
    out_dir = Path(out_dir)
    if complete is None:
        complete = records.stopped_at is None
    with atomic_directory(out_dir) as tmp:
        full_manifest = {**manifest, "scenario": scenario.model_dump(mode="json"), "complete": complete}
        _write(tmp / "manifest.json", json_text(full_manifest))
        with open(tmp / "jobs.csv", "w", encoding="utf-8", newline="") as handle:
            write_table(handle, JOB_COLUMNS, _job_chunks(records.jobs))
        _write(tmp / "timeseries.csv", timeseries_csv(records.timeseries))
        with open(tmp / "segments.csv", "w", encoding="utf-8", newline="") as handle:
            write_table(handle, SEGMENT_COLUMNS, _segment_chunks(records.segments))
        _write(tmp / "summary.json", json_text(summary))
        results = evaluate(records) if services is None else services
        if records.services:
            _write(tmp / "services.csv", _csv_text(SERVICE_COLUMNS, service_rows(results)))
        _write(tmp / "bills.csv", _csv_text(BILL_COLUMNS, bills(scenario, records, results)))
        if plots:
            from sim.report.plots import plot_all

            plot_all(records, tmp / "plots")
    return out_dir
