"""Fuzzing the scenario loader: any file gives a Scenario or one located line, nothing else.

Inputs: scenarios mutated from small valid ones (values of other types at real paths, keys
deleted or added, extreme numbers, bad durations), random YAML documents, YAML edited as
text (Python tags that would run ``touch PWNED``, anchors and aliases, directives, control
characters), mangled bytes and ``--set`` overrides. The outcome must be a ``Scenario``, or a
ScenarioError / PolicyError whose message is one line naming the file (with the line, when
the error has one, inside the file). Any other exception is a bug. The ``slow`` variants run
10,000 examples each (``pytest -m slow``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from strategies import (
    FUZZ_TRACE,
    PWNED,
    YAML_VALUES,
    fuzz_settings,
    mangled_bytes,
    minimal_scenario,
    mutated_data,
    rich_scenario,
    yaml_texts,
)

from sim.errors import PolicyError, ScenarioError, UserError
from sim.scenario import Scenario
from sim.scenario.loader import load_scenario, scenario_from_data
from sim.scenario.yaml_reader import MAX_DEPTH
from sim.sweep.plan import make_plan
from sim.sweep.spec import read_sweep

FAST = fuzz_settings(200)
SLOW = settings(FAST, max_examples=10_000)
TRACE = "job_id,submit_time,gpus,duration\na,0,1,10\nb,5,2,20\n"
# What a message must not hold: control characters (a tab aside) and line breaks of any kind.
CONTROL = [code for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029] if code != 0x09]
LINE_BREAKS = "".join(map(chr, CONTROL))
ESCAPED = {code: repr(chr(code))[1:-1] for code in CONTROL}  # how a message shows them
OVERRIDE_PATHS = st.sampled_from(
    ["name", "seed", "horizon", "cluster.pods.0.nodes", "cluster.pods.0", "cluster.pods.5.nodes"]
    + ["workload.trace.path", "workload.trace.format", "scheduler", "scheduler.params.x", "placement"]
    + ["metrics.sample_interval", "start", "timezone", "cluster.speed.g", "a..b", "", ".", "pods.x"]
    + ["\u00b2", "cluster.pods.\u00b2.nodes", "cluster.pods.\u0663", "cluster.speed.\u00b2"]
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz_scenario")
    (path / FUZZ_TRACE).write_text(TRACE)
    PWNED.unlink(missing_ok=True)
    return path


def check_error(error: UserError, source: str, text: str | None = None) -> None:
    """``error`` reads as one line naming ``source``, at a line inside ``text`` if it has one."""
    assert isinstance(error, ScenarioError | PolicyError), repr(error)
    message = str(error)
    assert message == error.render()
    assert not any(c in message for c in LINE_BREAKS), message
    assert len(message) < 2000, message
    assert message.startswith(f"{source}:"), message
    if error.line is not None:
        assert message.startswith(f"{source}:{error.line}: "), message
        if text is not None:
            # YAML breaks lines at \r too; splitlines() at a few more characters: an upper bound.
            assert 1 <= error.line <= len(text.splitlines()) + 1, message
    if error.field:
        assert f": {error.field.translate(ESCAPED)}: " in message, message


def check_load(path: Path, data: bytes, overrides: tuple[str, ...] = ()) -> Scenario | None:
    """Write ``data`` to ``path`` and load it: a Scenario, or a checked one-line error (None)."""
    path.write_bytes(data)
    text = data.decode("utf-8", errors="replace")
    try:
        scenario = load_scenario(path, overrides)
    except UserError as error:
        if currently_in_test_context():
            event("refused")
        check_error(error, "--set" if error.source == "--set" else str(path), text)
        return None
    if currently_in_test_context():
        event("loaded")
    assert isinstance(scenario, Scenario)
    assert scenario.workload.trace is None or Path(scenario.workload.trace.path).is_file()
    return scenario


def dump(data: Any, flow: bool | None = False) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=flow, allow_unicode=True).encode()


def test_minimal_scenarios_load(folder: Path) -> None:
    """The bases the fuzzer mutates are valid: a mutation, not the base, makes an error."""
    for base in (minimal_scenario(), rich_scenario()):
        for flow in (None, True, False):
            assert check_load(folder / "base.yaml", dump(base, flow)) is not None


# --- Mutated scenarios -------------------------------------------------------------------------


def _mutated(folder: Path, data: Any, flow: bool | None) -> None:
    scenario = check_load(folder / "mutated.yaml", dump(data, flow))
    if scenario is None:
        return
    # It loaded: it is the same scenario from plain data, and dumps and reloads as itself.
    assert scenario_from_data(data, base_dir=folder) == scenario
    assert scenario_from_data(scenario.model_dump(mode="json")) == scenario


MUTATED = st.tuples(
    mutated_data(minimal_scenario()) | mutated_data(rich_scenario()), st.sampled_from([None, True, False])
)


@FAST
@given(MUTATED)
def test_fuzz_mutated_scenarios(folder: Path, case: tuple[Any, bool | None]) -> None:
    _mutated(folder, *case)


# --- Plain data, random documents, text and bytes ---------------------------------------------


def _from_data(folder: Path, data: Any) -> None:
    try:
        scenario = scenario_from_data(data, source="inline", base_dir=folder)
    except UserError as error:
        check_error(error, "inline")
    else:
        assert isinstance(scenario, Scenario)


PLAIN_DATA = mutated_data(minimal_scenario()) | YAML_VALUES | st.builds(dict, st.just({}))


@FAST
@given(PLAIN_DATA)
def test_fuzz_scenario_from_data(folder: Path, data: Any) -> None:
    _from_data(folder, data)


def _text(folder: Path, data: bytes) -> None:
    check_load(folder / "text.yaml", data)
    # The same file as a sweep file: read_yaml is shared, and the sweep reader places errors too.
    try:
        read_sweep(folder / "text.yaml")
    except UserError as error:
        check_error(error, str(folder / "text.yaml"), data.decode("utf-8", errors="replace"))
    assert not PWNED.exists(), "a YAML tag ran a command"


@st.composite
def _texts_and_bytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["text", "text", "mangled", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    text = draw(YAML_TEXTS)
    return mangled_bytes(draw, text) if kind == "mangled" else text.encode()


TEXTS_AND_BYTES = _texts_and_bytes()
YAML_TEXTS = yaml_texts()


@FAST
@given(st.data())
def test_fuzz_yaml_text_and_bytes(folder: Path, data: st.DataObject) -> None:
    _text(folder, data.draw(TEXTS_AND_BYTES))


def _overrides(folder: Path, overrides: list[str]) -> None:
    check_load(folder / "overridden.yaml", dump(minimal_scenario()), tuple(overrides))


OVERRIDES = st.lists(
    st.builds(
        lambda path, value, raw: f"{path}={raw if raw is not None else yaml.safe_dump(value).strip()}",
        OVERRIDE_PATHS | st.text(max_size=10),
        YAML_VALUES,
        st.none() | st.text(max_size=8) | st.sampled_from(["[", "{a: 1", "!!python/name:os.system", "*x"]),
    )
    | st.text(max_size=12),
    max_size=3,
)


@FAST
@given(OVERRIDES)
def test_fuzz_set_overrides(folder: Path, overrides: list[str]) -> None:
    _overrides(folder, overrides)


# --- Regressions: each a crash (or hang) the fuzzer found, with its minimal input --------------


def load_error(folder: Path, text: str, name: str = "bad.yaml") -> str:
    """The one-line error of loading ``text``; fails if it loads or raises anything else."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    check_error(caught.value, str(path), text)
    return str(caught.value)


def test_regression_python_tag_is_refused_and_not_run(folder: Path) -> None:
    pwned = folder / "PWNED-tag"
    message = load_error(folder, f"name: !!python/object/apply:os.system ['touch {pwned}']\n")
    assert message.startswith(f"{folder / 'bad.yaml'}:1: YAML must be well-formed: could not determine")
    assert "python/object/apply:os.system" in message
    assert not pwned.exists()


def test_regression_alias_bomb_is_refused_quickly(folder: Path) -> None:
    """A billion laughs (9^9 strings from 10 lines) used to eat all memory building line numbers."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    began = time.perf_counter()
    message = load_error(folder, "\n".join(lines) + "\n")
    assert time.perf_counter() - began < 5
    # f (9^5 + ... values) is the first mapping value past 100,000: line 6.
    rule = "YAML must hold at most 100,000 values, aliases expanded (got more under this line)"
    assert message == f"{folder / 'bad.yaml'}:6: {rule}"


def test_regression_recursive_alias(folder: Path) -> None:
    """An alias inside its own anchor used to recurse until RecursionError."""
    for text in ("a: &a [1, *a]\n", "a: &a {b: *a}\n", "a: &a {<<: *a}\n"):
        message = load_error(folder, text)
        assert message.endswith(
            "YAML must not use an alias inside the node its anchor names (a recursive alias)"
        )
        assert ":1: " in message


def test_regression_deep_nesting(folder: Path) -> None:
    """3,000 nested lists used to raise RecursionError in PyYAML's composer."""
    for text in (
        "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "a:\n" + "".join(f"{' ' * i}- \n" for i in range(60)),
    ):
        assert load_error(folder, text).endswith(f"YAML must nest at most {MAX_DEPTH} levels deep")
    # Deep through aliases: 40 levels under an alias nested 30 deep is 70 levels once expanded.
    text = "a: &a " + "[" * 40 + "1" + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    message = load_error(folder, text)
    rule = f"YAML must nest at most {MAX_DEPTH} levels deep with its aliases expanded"
    assert message == f"{folder / 'bad.yaml'}:2: {rule}"


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!timestamp 2001-12-14t21:59:43.10-05:00 x", "timestamp"),  # AttributeError in PyYAML
        ("2001-13-45", "timestamp"),  # an implicit date: ValueError (month must be in 1..12)
        ("!!bool maybe", "bool"),  # KeyError
        ("!!int x", "int"),  # ValueError
        ("!!float x", "float"),
    ],
)
def test_regression_value_its_tag_cannot_hold(folder: Path, value: str, tag: str) -> None:
    message = load_error(folder, f"name: x\nstart: {value}\n")
    assert message.startswith(
        f"{folder / 'bad.yaml'}:2: YAML must be well-formed: found a value that its tag "
    )
    assert f"'tag:yaml.org,2002:{tag}' cannot hold (got " in message


def line_of(text: str, snippet: str) -> int:
    """The 1-based number of the first line of ``text`` holding ``snippet``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if snippet in line)


def test_regression_trace_path_too_long(folder: Path) -> None:
    """A 5,000-character trace path used to raise OSError (File name too long) in is_file()."""
    scenario = minimal_scenario()
    scenario["workload"]["trace"]["path"] = "a" * 5000
    text = dump(scenario).decode()
    message = load_error(folder, text)
    where = f"{folder / 'bad.yaml'}:{line_of(text, 'path:')}"
    assert message == f"{where}: workload.trace.path: trace file must exist (got '{'a' * 56}...)"
    scenario["workload"]["trace"] = {"path": FUZZ_TRACE, "format": "openb", "options": {"nodes": "n" * 5000}}
    text = dump(scenario).decode()
    message = load_error(folder, text)
    where = f"{folder / 'bad.yaml'}:{line_of(text, 'nodes: nnn')}"
    assert message == f"{where}: workload.trace.options.nodes: file must exist (got '{'n' * 56}...)"


def test_regression_line_break_in_a_key_stays_on_one_line(folder: Path) -> None:
    text = dump(minimal_scenario() | {"a\nb\u2028c": 1}).decode()
    message = load_error(folder, text)
    line = line_of(text, "? 'a")  # a complex key, over three lines
    where = f"{folder / 'bad.yaml'}:{line}"
    assert message.startswith(f"{where}: a\\nb\\u2028c: unknown key; valid keys here: name, description,")


@pytest.mark.parametrize("key", ["null", "~", "yes", "No", "0x10", ".inf"])
def test_regression_key_read_as_null_or_bool_is_located_at_its_own_line(folder: Path, key: str) -> None:
    """A key YAML reads as null, a bool or a number was located at its parent's line (line 1 at the top)."""
    text = (
        dump(minimal_scenario())
        .decode()
        .replace("  gpus_per_node: 1\n", f"  gpus_per_node: 1\n    {key}: 1\n")
    )
    message = load_error(folder, text)
    assert message.startswith(f"{folder / 'bad.yaml'}:{line_of(text, f'{key}: 1')}: cluster.pods.0.")
    text = dump(minimal_scenario()).decode() + f"{key}: 1\n"
    message = load_error(folder, text)
    assert message.startswith(f"{folder / 'bad.yaml'}:{len(text.splitlines())}: ")


def test_regression_tiny_sample_interval(folder: Path) -> None:
    """1e-6 s samples made a 25-second trace eat 6 GB (a sample per microsecond until the end)."""
    text = dump(minimal_scenario() | {"metrics": {"sample_interval": 1e-6}}).decode()
    message = load_error(folder, text)
    where = f"{folder / 'bad.yaml'}:{line_of(text, 'sample_interval')}"
    assert message == f"{where}: metrics.sample_interval: sample_interval must be >= 1 s (got 1e-06)"
    assert check_load(folder / "ok.yaml", dump(minimal_scenario() | {"metrics": {"sample_interval": "1s"}}))


def test_regression_durations_and_samples_past_the_limits(folder: Path) -> None:
    """A horizon or job duration of 1e300 s, or 100 years sampled each second, made a run that never ended."""
    stream = {"name": "s", "rate_per_hour": 1, "duration": {"median": "1e300", "sigma": 0}}
    synthetic = {"synthetic": {"arrivals_for": "1h", "streams": [stream]}}
    for extra, snippet, field in [
        ({"horizon": "1e300"}, "horizon", "horizon"),
        ({"workload": synthetic}, "median", "workload.synthetic.streams.0.duration.median"),
    ]:
        text = dump(minimal_scenario() | extra).decode()
        where = f"{folder / 'bad.yaml'}:{line_of(text, snippet)}"
        rule = "duration must be at most 3,155,760,000 s (100 years) (got '1e300')"
        assert load_error(folder, text) == f"{where}: {field}: {rule}"
    text = dump(minimal_scenario() | {"horizon": "5200w", "metrics": {"sample_interval": 1}}).decode()
    where = f"{folder / 'bad.yaml'}:{line_of(text, 'sample_interval')}"
    rule = "sample_interval must be at least horizon / 1,000,000 = 3144.96 s (got 1 s for a horizon of"
    assert load_error(folder, text).startswith(f"{where}: metrics.sample_interval: {rule}")


# --- Sweep files: read_sweep and make_plan share read_yaml and the loader ----------------------


def minimal_sweep() -> dict[str, Any]:
    return {
        "name": "fuzz-sweep",
        "base": "base.yaml",
        "set": {"horizon": "1d"},
        "axes": {"scheduler": ["easy", "fifo"], "cluster.pods.0.nodes": [2, 4]},
        "replications": 2,
        "warmup": "1h",
    }


def _sweep(folder: Path, data: Any) -> None:
    (folder / "base.yaml").write_bytes(dump(minimal_scenario()))
    path = folder / "sweep.yaml"
    path.write_bytes(dump(data))
    text = path.read_text(encoding="utf-8")
    try:
        plan = make_plan(read_sweep(path))
    except UserError as error:
        check_error(error, str(path), text)  # never --set: a sweep's overrides are its own lines
    else:
        assert len(plan.runs) == len(plan.values) * plan.replications
        assert len({run.key for run in plan.runs}) <= len(plan.runs)


SWEEPS = mutated_data(minimal_sweep()) | mutated_data(minimal_sweep() | {"base": minimal_scenario()})


@FAST
@given(SWEEPS)
def test_fuzz_sweep_files(folder: Path, data: Any) -> None:
    _sweep(folder, data)


def test_regression_sweep_grid_too_big(folder: Path) -> None:
    """Eight axes of ten values (10^8 cells) made make_plan raise MemoryError."""
    axes = {f"a{i}": list(range(10)) for i in range(8)}
    (folder / "base.yaml").write_bytes(dump(minimal_scenario()))
    path = folder / "grid.yaml"
    path.write_bytes(dump({"base": "base.yaml", "axes": axes}))
    with pytest.raises(ScenarioError) as caught:
        read_sweep(path)
    rule = "sweep must have at most 100,000 runs, cells x replications (got 100,000,000 cells x 1)"
    assert str(caught.value) == f"{path}:2: axes: {rule}"


def test_regression_sweep_base_name_too_long(folder: Path) -> None:
    """A 300-character base file name made make_plan raise OSError (File name too long)."""
    path = folder / "long.yaml"
    path.write_bytes(dump({"base": "b" * 300, "axes": {"scheduler": ["easy"]}}))
    with pytest.raises(ScenarioError) as caught:
        make_plan(read_sweep(path))
    rule = "base must be a scenario file path or an inline scenario mapping"
    assert str(caught.value) == f"{path}:1: base: {rule} (got '{'b' * 56}...)"


def test_regression_sweep_base_under_a_folder_without_permission(folder: Path) -> None:
    """A base scenario under a folder without search permission made is_file() raise PermissionError."""
    locked = folder / "locked"
    locked.mkdir(exist_ok=True)
    (locked / "base.yaml").write_bytes(dump(minimal_scenario()))
    path = folder / "locked-sweep.yaml"
    path.write_bytes(dump({"base": "locked/base.yaml", "axes": {"scheduler": ["easy"]}}))
    locked.chmod(0)
    try:
        if os.access(locked / "base.yaml", os.F_OK):  # root: permissions do not apply
            pytest.skip("folder permissions are not enforced for this user (root?)")
        with pytest.raises(ScenarioError) as caught:
            make_plan(read_sweep(path))
    finally:
        locked.chmod(0o755)
    rule = "base scenario file must be reachable (Permission denied) (got 'locked/base.yaml')"
    assert str(caught.value) == f"{path}:1: base: {rule}"


def test_regression_set_path_with_a_superscript_digit(folder: Path) -> None:
    """'\u00b2'.isdigit() is true but int('\u00b2') fails: --set \u00b2=1 raised ValueError."""
    path = folder / "base.yaml"
    path.write_bytes(dump(minimal_scenario()))
    for override, message in [
        ("\u00b2=1", "--set: \u00b2: unknown key; valid keys here: name, description,"),
        (
            "cluster.pods.\u00b2.nodes=1",
            "--set: cluster.pods.\u00b2.nodes: list index must be an integer from 0 to 0",
        ),
    ]:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path, [override])
        assert str(caught.value).startswith(message)


@pytest.mark.slow
@SLOW
@given(st.data())
def test_fuzz_scenario_loader_slow(folder: Path, data: st.DataObject) -> None:
    """10,000 inputs for the loader, of every kind above in turn."""
    kind = data.draw(st.sampled_from(["mutated", "data", "text", "overrides", "sweep"]))
    if kind == "mutated":
        _mutated(folder, *data.draw(MUTATED))
    elif kind == "data":
        _from_data(folder, data.draw(PLAIN_DATA))
    elif kind == "text":
        _text(folder, data.draw(TEXTS_AND_BYTES))
    elif kind == "overrides":
        _overrides(folder, data.draw(OVERRIDES))
    else:
        _sweep(folder, data.draw(SWEEPS))
