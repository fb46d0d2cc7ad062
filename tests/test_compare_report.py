"""Comparison plots, ``gpusim plot`` re-drawing from files, and the self-contained report.html.

One small comparison (3 schedulers x 2 replications, 6 h on an 18-node cluster, so the
Gantt chart is drawn) is built once for the module. The last test opens the report in a
real headless Chromium. Without Chromium it is skipped, saying what to install, so the
README's test command works on a machine with only Python; ``.ci/run`` installs Chromium
and sets GPUSIM_REQUIRE_BROWSER=1, which turns that skip into a failure (CI cannot pass
without having looked at the page).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sim
from sim.compare.output import write_comparison
from sim.compare.runner import compare, make_variants
from sim.errors import UserError
from sim.report import compare_plots
from sim.report.compare_plots import WAIT_FLOOR, plot_comparison, plot_results
from sim.report.html import ROWS, write_report
from sim.report.plots import CDF_POINTS, ecdf_steps
from sim.report.results_files import read_job_table, read_jobs, read_segments, read_timeseries
from sim.report.writer import jobs_csv, segments_csv
from sim.scenario import load_scenario

SCENARIO = Path(__file__).parent / "data" / "small-munich.yaml"
SMALL = ["horizon=6h", "cluster.pods.0.nodes=6", "cluster.pods.1.nodes=6"]  # 18 nodes of 8 GPUs
WARMUP = 3600.0
PLOTS = [
    "queue_delay_cdf.png",
    "wait_percentiles_by_class.png",
    "utilisation_heatmap.png",
    "queue_over_time.png",
    "wait_by_tier.png",
    "occupancy_gantt.png",
]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A comparison directory as ``gpusim compare`` leaves it: numbers, runs, plots, report."""
    out = tmp_path_factory.mktemp("compare")
    scenario = load_scenario(SCENARIO, SMALL)
    result = compare(
        scenario, make_variants(["fifo", "easy", "sjf"], []), 2, warmup=WARMUP, workers=2, out=out
    )
    write_comparison(result, out)
    plot_comparison(out)
    write_report(out)
    return out


def runs_table(compared: Path) -> list[dict[str, str]]:
    with open(compared / "runs.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_comparison_plot_is_a_png_of_sensible_size(compared: Path) -> None:
    """Each plot exists, decodes as a PNG, is between 500x300 and 2000x3000 pixels and not tiny."""
    for name in PLOTS:
        path = compared / "plots" / name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            width, height = image.size
        assert 500 <= width <= 2000 and 300 <= height <= 3000, (name, image.size)
        assert path.stat().st_size > 15_000, name


def test_plots_and_report_are_byte_identical_when_redrawn(compared: Path) -> None:
    """Drawing again from the same files gives the same bytes (no timestamps, no Software tag)."""
    before = {name: (compared / "plots" / name).read_bytes() for name in PLOTS}
    report = (compared / "report.html").read_bytes()
    written = plot_results([compared])
    assert [p.name for p in written] == PLOTS
    assert {name: (compared / "plots" / name).read_bytes() for name in PLOTS} == before
    assert write_report(compared).read_bytes() == report


def test_gantt_is_skipped_for_large_runs(compared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above GANTT_MAX_NODES nodes or GANTT_MAX_SEGMENTS segments the Gantt chart is not drawn
    (None), since it would be a smear; at the limits it is."""
    cmp = compare_plots.CompareDir.read(compared)
    segments = len(read_segments(compared / "runs" / "fifo" / "rep-0" / "segments.csv"))
    for nodes, most in ((17, segments), (18, segments - 1), (18, segments)):
        monkeypatch.setattr(compare_plots, "GANTT_MAX_NODES", nodes)
        monkeypatch.setattr(compare_plots, "GANTT_MAX_SEGMENTS", most)
        drawn = compare_plots.occupancy_gantt(cmp, compared / "gantt.png")
        assert (drawn is not None) == (nodes == 18 and most == segments)
        assert (compared / "gantt.png").exists() == (drawn is not None)


def test_job_table_selects_the_jobs_the_metrics_count(compared: Path) -> None:
    """The CDF's population (submitted at/after the warm-up) is the metrics' window: same count,
    and the mean of its started jobs' waits is runs.csv's wait_mean."""
    for row in runs_table(compared):
        slug = row["variant"]  # plain scheduler names: the label is the slug
        jobs = read_job_table(compared / "runs" / slug / f"rep-{row['replication']}" / "jobs.csv")
        window = jobs.submitted & (jobs.submit_time >= WARMUP)
        assert window.sum() == float(row["jobs"])
        waits = jobs.wait_time[window & jobs.started]
        assert float(np.mean(waits)) == pytest.approx(float(row["wait_mean"]), rel=1e-12, abs=1e-12)


def test_ecdf_points_lie_on_the_exact_empirical_cdf() -> None:
    """Every drawn step of a thinned CDF is at (x, share of values <= x), ties kept vertical."""
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(3000), np.round(rng.lognormal(4.0, 2.0, 7000))])
    xs, ys = ecdf_steps(values, values.size)
    assert xs.size <= CDF_POINTS + 1
    floored = np.maximum(values, WAIT_FLOOR)
    assert ys[0] == 0.0 and ys[-1] == 1.0
    for x, y in zip(xs[1:], ys[1:], strict=True):
        assert y == np.mean(floored <= x)
    assert ys[1] == pytest.approx(0.3 + np.mean(values[3000:] <= WAIT_FLOOR) * 0.7)


def test_results_files_read_back_what_the_writer_wrote(compared: Path) -> None:
    """jobs.csv and segments.csv read back to records that write out to the same bytes."""
    run = compared / "runs" / "easy" / "rep-1"
    assert jobs_csv(read_jobs(run / "jobs.csv")) == (run / "jobs.csv").read_text(encoding="utf-8")
    assert segments_csv(read_segments(run / "segments.csv")) == (run / "segments.csv").read_text(
        encoding="utf-8"
    )
    series = read_timeseries(run / "timeseries.csv")
    assert next(iter(series)) == "time" and "queue_jobs" in series
    assert all(len(v) == len(series["time"]) for v in series.values())


def test_plot_results_redraws_a_single_run_from_its_files(tmp_path: Path) -> None:
    """``gpusim plot RUN`` writes the same three PNGs, byte for byte, that the run itself drew."""
    run = tmp_path / "run"
    sim.run(SCENARIO, out=run, horizon="6h")
    original = {p.name: p.read_bytes() for p in (run / "plots").iterdir()}
    shutil.rmtree(run / "plots")
    written = plot_results([run])
    assert (
        sorted(p.name for p in written)
        == sorted(original)
        == sorted(["queue_delay_cdf.png", "wait_by_class.png", "utilisation_heatmap.png"])
    )
    assert {p.name: p.read_bytes() for p in written} == original


def test_plot_results_rejects_a_directory_that_is_not_results(tmp_path: Path, compared: Path) -> None:
    """A directory without jobs.csv or comparison.json is a UserError naming it, raised before
    any other directory is drawn."""
    (tmp_path / "notes").mkdir()
    drawn = {p.name: p.stat().st_mtime_ns for p in (compared / "plots").iterdir()}
    with pytest.raises(UserError, match="must be a gpusim results directory") as error:
        plot_results([compared, tmp_path / "notes"])
    assert error.value.source == str(tmp_path / "notes")
    assert {p.name: p.stat().st_mtime_ns for p in (compared / "plots").iterdir()} == drawn
    with pytest.raises(UserError):
        plot_results([tmp_path / "missing"])


def test_report_is_self_contained_with_every_plot_and_row(compared: Path) -> None:
    """No URL but data: URIs, every plot inline, every variant and headline metric in the table."""
    page = (compared / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:") for s in sources)
    for name in PLOTS:
        encoded = base64.b64encode((compared / "plots" / name).read_bytes()).decode()
        assert f"data:image/png;base64,{encoded}" in page, name
    assert page.count("<img ") == len(PLOTS)
    for label in ("fifo (baseline)", ">easy<", ">sjf<", "scheduler=easy"):
        assert label in page
    for row in ROWS:
        assert f"<code>{row.metric}</code>" in page
    assert "<details><summary>Resolved scenario" in page and "name: munich-small" in page
    assert "<script" not in page


def test_report_marks_and_escapes(compared: Path, tmp_path: Path) -> None:
    """A Δ interval excluding 0 is bold and called better/worse by the metric's direction;
    labels from files are escaped."""
    target = tmp_path / "cmp"
    shutil.copytree(compared / "plots", target / "plots")
    data = json.loads((compared / "comparison.json").read_text(encoding="utf-8"))
    data["metrics"]["easy"]["wait_mean"].update(diff_mean=-60.0, diff_low=-90.0, diff_high=-30.0)
    data["metrics"]["easy"]["utilisation"].update(diff_mean=-0.05, diff_low=-0.08, diff_high=-0.02)
    data["metrics"]["sjf"]["wait_mean"].update(diff_mean=10.0, diff_low=-5.0, diff_high=25.0)
    data["variants"][2]["label"] = "<b>sjf & co</b>"
    data["metrics"]["<b>sjf & co</b>"] = data["metrics"].pop("sjf")
    (target / "comparison.json").write_text(json.dumps(data), encoding="utf-8")
    page = write_report(target).read_text(encoding="utf-8")
    rows = {m: r for m, r in re.findall(r"<code>([^<]+)</code></td>(.*?)</tr>", page)}
    assert 'class="diff sig better">Δ −1m ± 30s<span class="tag">better</span>' in rows["wait_mean"]
    assert 'class="diff sig worse">Δ −5.0 pp ± 3.0 pp<span class="tag">worse</span>' in rows["utilisation"]
    assert rows["wait_mean"].count("sig") == 1  # sjf's interval includes 0: not marked
    assert "&lt;b&gt;sjf &amp; co&lt;/b&gt;" in page and "<b>sjf" not in page


def _which(program: str) -> str | None:
    """``program`` on PATH, else where Debian's package puts it, else None."""
    debian = Path("/usr/bin") / program
    return shutil.which(program) or (str(debian) if debian.exists() else None)


def _browser() -> tuple[str, str]:
    """Paths of Chromium and chromedriver; skips without them (fails with GPUSIM_REQUIRE_BROWSER=1)."""
    browser, driver = _which("chromium"), _which("chromedriver")
    missing = "" if browser and driver else "Chromium and chromedriver are missing"
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing = "selenium is missing: pip install -e '.[dev]'"
    if missing:
        advice = f"{missing}. The report test needs a real browser: apt-get install chromium chromium-driver"
        if os.environ.get("GPUSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{advice} (GPUSIM_REQUIRE_BROWSER=1)")
        pytest.skip(advice)
    assert browser and driver
    return browser, driver


def test_report_renders_in_headless_chromium(compared: Path) -> None:
    """Chromium shows the report with no console error, the metrics table, every image decoded,
    and a screenshot that is not blank."""
    browser, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="gpusim-chromium-")
    # The network is closed on CI machines: without these Chromium waits on connections.
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,2400", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get((compared / "report.html").as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        table = driver.find_element(By.CSS_SELECTOR, "table.metrics")
        assert table.is_displayed()
        names = [row.text.splitlines()[0] for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert names == [row.label for row in ROWS]
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        assert len(images) == len(PLOTS)
        assert all(done and width > 0 and height > 0 for done, width, height in images)
        shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.size[0] >= 1000 and shot.size[1] >= 1000
    pixels = np.asarray(shot).reshape(-1, 3)
    colours = np.unique(pixels, axis=0).shape[0]
    assert colours > 500, f"the screenshot looks blank ({colours} distinct colours)"
    assert not math.isclose(float(pixels.std()), 0.0)
