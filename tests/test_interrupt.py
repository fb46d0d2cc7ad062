"""Ctrl-C and SIGTERM: a run stops between instants and writes consistent partial results;
a second signal aborts; nothing is ever left half written.

The signalled runs are ``python -m sim run scenarios/munich.yaml --set horizon=3d`` (about
4 s of simulation on 2 cores) with stderr on a pseudo-terminal, so the progress bar in
simulated days tells the test that the run is simulating before it sends the signal.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.api import resolve, stop_on_signals
from sim.cli import sim_clock
from sim.cluster.state import ClusterLayout
from sim.engine import stopping
from sim.records import JOB_COLUMNS, SEGMENT_COLUMNS, STATUSES
from sim.report import writer
from sim.workload.build import build_workload

REPO = Path(__file__).resolve().parent.parent
MUNICH = REPO / "scenarios" / "munich.yaml"
HORIZON = 3 * 86400.0
FILES = ("bills.csv", "jobs.csv", "manifest.json", "plots", "segments.csv", "summary.json", "timeseries.csv")
FRAME = re.compile(rb"(\d+(?:\.\d+)?)/\d+(?:\.\d+)? \[")  # tqdm: " 12%|##   | 0.36/3.0 [00:01<..."
TINY = {
    "name": "tiny",
    "seed": 3,
    "horizon": "6h",
    "cluster": {"pods": [{"name": "p", "nodes": 4, "gpus_per_node": 4, "gpu_type": "b200"}]},
    "workload": {
        "synthetic": {
            "streams": [{"name": "s", "rate_per_hour": 30, "duration": {"median": "20m", "sigma": 1}}]
        }
    },
}

# gpusim with every small result file taking 2 s more to write: a signal sent once the
# temporary directory exists always lands mid-write (the real writing takes ~0.1 s: a race).
SLOW_WRITES = """
import sys, time
from sim.report import writer
from sim.cli import main
write = writer._write
writer._write = lambda path, text: (write(path, text), time.sleep(2.0))
sys.exit(main(sys.argv[1:]))
"""


class Run:
    """``python -m sim run`` in a subprocess, stderr on a pseudo-terminal read by a thread."""

    def __init__(self, *args: str, new_session: bool = False, slow_writes: bool = False) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # tqdm needs a width
        command = ["-c", SLOW_WRITES, *args] if slow_writes else ["-m", "sim", *args]
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            start_new_session=new_session,
        )
        os.close(slave)
        self.master = master
        self.output = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child has closed the terminal
                return
            if not data:
                return
            self.output += data

    def wait_until(self, ready: Callable[[], bool], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.process.poll() is None, f"exited early: {self.output[-2000:]!r}"
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)

    def simulated_days(self) -> float:
        frames = FRAME.findall(self.output)
        return float(frames[-1]) if frames else 0.0

    def finish(self, timeout: float = 180.0) -> tuple[int, list[str]]:
        """Exit status and the stderr lines as a terminal would finally show them."""
        try:
            self.process.communicate(timeout=timeout)
        finally:
            self.process.kill()
        self.reader.join(timeout=10)
        os.close(self.master)
        text = self.output.decode("utf-8", "replace").replace("\r\n", "\n")
        shown = [line.split("\r")[-1].strip() for line in text.split("\n")]  # \r: the bar redraws
        return self.process.returncode, [line for line in shown if line]


@pytest.fixture(scope="module")
def munich_3d_jobs() -> list[str]:
    """The job ids of munich.yaml over 3 days, in order: what the workload holds, run or not."""
    scenario = resolve(MUNICH, {"horizon": "3d"})
    return build_workload(scenario, ClusterLayout.from_scenario(scenario.cluster)).jobs.job_id


def leftovers(out: Path) -> list[str]:
    """Entries beside ``out`` other than ``out`` (its temporary directory would be one)."""
    return sorted(p.name for p in out.parent.iterdir() if p != out)


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == columns
    assert all(len(row) == len(columns) for row in rows[1:])
    return [dict(zip(columns, row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_stops_the_run_with_partial_results(
    tmp_path: Path, munich_3d_jobs: list[str], sig: signal.Signals, status: int
) -> None:
    """A signal while simulating: exit 128 + signal, one stderr line, every job once in jobs.csv."""
    out = tmp_path / "run"
    run = Run("run", str(MUNICH), "--set", "horizon=3d", "--out", str(out))
    run.wait_until(lambda: run.simulated_days() >= 0.25)
    run.process.send_signal(sig)
    code, lines = run.finish()
    assert code == status, lines
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stopped_at = manifest["stopped_at"]
    assert lines == [
        f"gpusim: stopped by {sig.name} at simulated time {sim_clock(stopped_at)}; "
        f"partial results (complete: false) in {out}"
    ]
    assert manifest["complete"] is False and manifest["stopped_by"] == sig.name
    assert 0.2 * 86400 <= stopped_at < HORIZON  # the bar showed >= 0.25 d (rounded)
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "services.csv"])
    assert leftovers(out) == []

    jobs = read_csv(out / "jobs.csv", JOB_COLUMNS)
    assert [job["job_id"] for job in jobs] == munich_3d_jobs  # every job exactly once, in order
    assert manifest["jobs"] == len(jobs)
    assert {job["status"] for job in jobs} <= set(STATUSES)
    reasons = {job["reason"] for job in jobs if job["status"] == "unfinished"}
    assert {"running when the run was stopped", "not submitted before the run was stopped"} <= reasons
    assert not any("horizon" in reason for reason in reasons)
    assert all(float(job["end_time"]) <= stopped_at for job in jobs if job["end_time"])
    assert all(float(job["submit_time"]) > stopped_at for job in jobs if "not submitted" in job["reason"])
    segments = read_csv(out / "segments.csv", SEGMENT_COLUMNS)
    assert "stopped" in {segment["reason"] for segment in segments}
    assert max(float(segment["end_time"]) for segment in segments) == stopped_at
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["jobs"]["total"] == len(jobs)


def test_a_second_signal_aborts_and_leaves_no_directory(tmp_path: Path) -> None:
    """A second SIGINT while the partial results are written: exit 130, no traceback, and the
    directory is absent, and no temporary one is left."""
    out = tmp_path / "run"
    run = Run("run", str(MUNICH), "--set", "horizon=3d", "--out", str(out), slow_writes=True)
    run.wait_until(lambda: run.simulated_days() >= 0.25)
    run.process.send_signal(signal.SIGINT)
    run.wait_until(lambda: any(p.name.startswith(".run.tmp-") for p in tmp_path.iterdir()))
    run.process.send_signal(signal.SIGINT)
    code, lines = run.finish()
    assert code == 130
    assert lines == ["gpusim: interrupted"]
    assert not out.exists()
    assert leftovers(out) == []


def test_a_run_to_the_end_is_complete(tmp_path: Path) -> None:
    """Without a signal: exit 0, nothing on stderr, complete true and no stop fields."""
    out = tmp_path / "run"
    args = ["run", str(MUNICH), "--set", "horizon=6h", "--quiet", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0 and completed.stderr == "" and completed.stdout == ""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True
    assert "stopped_at" not in manifest and "stopped_by" not in manifest


def compare_writing(tmp_path: Path, horizon: str) -> Run:
    """``gpusim compare`` (easy and fifo, 2 replications, 2 workers) on munich.yaml over
    ``horizon``, in a session of its own, once its runs have begun writing."""
    run = Run(
        "compare", str(MUNICH), "--schedulers", "easy,fifo", "--replications", "2", "--set",
        f"horizon={horizon}", "--workers", "2", "--quiet", "--out", str(tmp_path / "cmp"), new_session=True,
    )  # fmt: skip
    run.wait_until(lambda: any(tmp_path.glob(".cmp.tmp-*/runs/*")), timeout=120)
    return run


def assert_compare_gone(run: Run, tmp_path: Path, code: int, lines: list[str]) -> None:
    """Exit 143, one line, no results or temporary directory, no process of the group left."""
    assert code == 143
    assert lines == ["gpusim: interrupted (SIGTERM)"]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ProcessLookupError):
        os.killpg(run.process.pid, 0)  # the group is empty: every worker has gone


def test_sigterm_during_compare_removes_its_directory(tmp_path: Path) -> None:
    """gpusim compare, SIGTERM to its whole process group while its runs write: exit 143,
    one line, no results directory, no temporary directory, no worker left behind."""
    run = compare_writing(tmp_path, "1d")
    os.killpg(run.process.pid, signal.SIGTERM)
    assert_compare_gone(run, tmp_path, *run.finish())


def test_sigterm_to_compare_alone_stops_its_workers_at_once(tmp_path: Path) -> None:
    """SIGTERM to the compare process only (as a job scheduler's kill does): its workers are
    terminated rather than left to finish their runs and the queued ones (which took minutes
    with a ProcessPoolExecutor): exit 143 within seconds, nothing left behind."""
    run = compare_writing(tmp_path, "7d")
    signalled = time.monotonic()
    run.process.send_signal(signal.SIGTERM)
    code, lines = run.finish(timeout=60)
    assert time.monotonic() - signalled < 5  # one 7-day munich run alone takes ~15 s
    assert_compare_gone(run, tmp_path, code, lines)


def small_run(tmp_path: Path, **kwargs: Any) -> sim.Result:
    return sim.run(TINY, out=tmp_path / "run", **kwargs)


def test_keyboard_interrupt_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """KeyboardInterrupt at the third file: neither the directory nor its temporary sibling remains."""
    calls: list[str] = []
    write = writer._write

    def interrupted(path: Path, text: str) -> None:
        calls.append(path.name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        write(path, text)

    monkeypatch.setattr(writer, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_run(tmp_path)
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_while_plotting_leaves_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """The plots are written inside the temporary directory too: an interrupt there removes it all."""
    import sim.report.plots as plots

    seen: list[Path] = []

    def interrupted(records: Any, plots_dir: Path) -> list[Path]:
        plots_dir.mkdir(parents=True)
        (plots_dir / "half.png").write_bytes(b"\x89PNG")
        seen.append(plots_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_run(tmp_path)
    assert seen and seen[0].parent.name.startswith(".run.tmp-")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signals", [1, 2])
def test_signals_while_writing(tmp_path: Path, monkeypatch: Any, signals: int) -> None:
    """Under stop_on_signals, one SIGINT while writing lets the writing finish (a complete
    directory); a second raises KeyboardInterrupt and nothing is left. Handlers are restored."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    write = writer._write
    calls: list[str] = []

    def signalled(path: Path, text: str) -> None:
        calls.append(path.name)
        if len(calls) <= signals:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs in the main thread at the next bytecode
        write(path, text)

    monkeypatch.setattr(writer, "_write", signalled)
    if signals == 1:
        with stop_on_signals() as stop:
            result = small_run(tmp_path)
        assert stop.signal == "SIGINT" and stop.exit_status == 130
        assert result.records.stopped_at is None  # the simulation had ended: complete results
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
        assert json.loads((tmp_path / "run" / "manifest.json").read_text())["complete"] is True
        assert len(list((tmp_path / "run" / "plots").iterdir())) == 3
    else:
        with pytest.raises(KeyboardInterrupt), stop_on_signals():
            small_run(tmp_path)
        assert list(tmp_path.iterdir()) == []
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert stopping.requested is False


def test_a_stop_request_through_the_api(tmp_path: Path) -> None:
    """stopping.request_stop() mid-run (here from the progress callback): a partial Result and
    a manifest with complete false, stopped_at and stopped_by "request"."""

    def stop_after_an_hour(now: float) -> None:
        if now >= 3600:
            stopping.request_stop()

    try:
        result = small_run(tmp_path, on_progress=stop_after_an_hour, plots=False)
    finally:
        stopping.clear()
    stopped_at = result.records.stopped_at
    assert stopped_at is not None and 3600 <= stopped_at < 6 * 3600
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["complete"] is False
    assert (manifest["stopped_at"], manifest["stopped_by"]) == (stopped_at, "request")
    full = sim.run(TINY)
    assert len(result.jobs) == len(full.jobs) and full.records.stopped_at is None


def test_sim_clock() -> None:
    assert sim_clock(2 * 86400 + 3 * 3600 + 14 * 60 + 0.9) == "2d 03:14:00"
    assert sim_clock(59.5) == "0d 00:00:59"
