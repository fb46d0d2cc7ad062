"""Load a scenario from YAML (or plain data), apply ``--set`` overrides, and validate it.

Every mistake becomes a one-line ScenarioError or PolicyError located as
``<file>:<line>: <dotted.path>: <what> must <rule> (got <value>)``; a mistake made by an
override is located as ``--set: <dotted.path>: ...`` instead. Line numbers come from the
YAML node tree that ``sim.scenario.yaml_reader`` composes safely (no Python object is
ever constructed; oversized, recursive and repeated-key documents are refused there).
"""

from __future__ import annotations

import copy
import functools
import re
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError, located, show
from sim.scenario.base import OVERRIDE_SOURCE
from sim.scenario.no_effect import settings_without_effect
from sim.scenario.policy_checks import accepted_as_written, check_policies
from sim.scenario.schema import Scenario
from sim.scenario.yaml_reader import read_yaml

_override_error = functools.partial(ScenarioError, source=OVERRIDE_SOURCE)
# A policy given as a bare name can still be reached by ``--set scheduler.params.x=1``.
_POLICY_KEYS = ("scheduler", "placement", "pricing", "quota")
# A model validator may name a deeper field first: "pods.0.name: ..." or "a.b must ...";
# below the first, a part may be a name with a dash ("node_types.dgx-b200.power_w").
_PATH_IN_MESSAGE = re.compile(r"^([A-Za-z_]\w*(?:\.[\w\-]+)+)(?::\s+|\s+(?=must\b))")
_SHOULD = re.compile(r"^[A-Z]\w* should ")
_MISSING = object()


def load_scenario(
    path: str | Path, overrides: Sequence[str] = (), warnings: list[str] | None = None
) -> Scenario:
    """The validated Scenario in YAML file ``path`` (trace paths relative to its folder), overridden.

    ``warnings``, if given, gets one located line per setting that cannot act on the run
    (``sim.scenario.no_effect``): ``<file>:<line>: <dotted.path>: has no effect: <why>``.
    """
    source = str(path)
    data, node = read_yaml(path, "scenario file")
    lines: dict[str, int] = {}
    if node is not None:
        _record_lines(node, "", lines)
    return _build(data, source, lines, Path(path).parent, overrides, warnings)


def scenario_from_data(
    data: Mapping[str, Any],
    source: str = "<data>",
    base_dir: str | Path | None = None,
    overrides: Sequence[str] = (),
) -> Scenario:
    """The validated Scenario in ``data`` (as YAML would give it); errors name ``source``."""
    return _build(data, source, {}, base_dir, overrides)


def given_data(scenario: Scenario) -> dict[str, Any]:
    """``scenario`` as data for ``scenario_from_data``: what its file and overrides gave, defaults
    left out, so that rules about given values (a given ``sample_interval`` must be shorter
    than the horizon; the default need not) judge the copy as they judged the original."""
    return scenario.model_dump(mode="json", exclude_unset=True)


def parse_override(text: str) -> tuple[str, Any]:
    """``(dotted path, value)`` of ``"a.b.c=value"``; the value is read as a YAML flow value."""
    path, sep, raw = text.partition("=")
    parts = path_parts(path)
    path = ".".join(parts)
    if not sep:
        raise _override_error(f"override must look like dotted.path=value (got {show(text)})")
    if not all(parts):
        raise _override_error(
            f"override path must be dotted keys like cluster.pods.0.nodes (got {show(path)})", field=path
        )
    try:
        value = yaml.load(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise _override_error(f"override value must be a YAML value (got {show(raw)})", field=path) from None
    return path, value


def check_set_once(overrides: Sequence[str]) -> None:
    """Refuse a ``--set`` that replaces an earlier one whole (the same path, or one the earlier
    lies inside): the earlier value would be lost without a word. A later path inside an
    earlier one refines it (``pricing=flat`` then ``pricing.params.price=2``) and is allowed."""
    earlier: list[tuple[str, tuple[str, ...]]] = []
    for text in overrides:
        path, _ = parse_override(text)
        parts = path_parts(path)
        for before, before_parts in earlier:
            if before_parts[: len(parts)] == parts:
                lost = "given again" if before_parts == parts else f"replaces all of the earlier {before!r}"
                raise _override_error(
                    f"override must not replace an earlier --set, whose value would be lost "
                    f"({lost}) (got {show(text)})",
                    field=path,
                )
        earlier.append((path, parts))


def path_parts(path: str) -> tuple[str, ...]:
    """The keys of dotted ``path`` as an override reads them (``a . b`` is ``a.b``)."""
    return tuple(part.strip() for part in path.split("."))


def _build(
    data: Any,
    source: str,
    lines: Mapping[str, int],
    base_dir: str | Path | None,
    overrides: Sequence[str],
    warnings: list[str] | None = None,
) -> Scenario:
    if not isinstance(data, dict):
        got = "an empty document" if data is None else type(data).__name__
        raise ScenarioError(f"scenario must be a mapping of keys to values (got {got})", source=source)
    if "cluster" not in data and "base" in data and ("axes" in data or "cells" in data):
        grid = "axes" if "axes" in data else "cells"
        raise ScenarioError(
            f"a scenario has no base: this file is a sweep (base and {grid}); run it with"
            f" 'gpusim sweep' (got {show(data['base'])})",
            source=source,
            line=_line_of("base", lines),
            field="base",
        )
    original, data = data, copy.deepcopy(data)
    overridden = []
    for text in overrides:
        path, value = parse_override(text)
        _apply(data, path, value)
        overridden.append(path)

    def locate(field: str) -> tuple[str, int | None]:
        if any(_caused_by(field, o, original) for o in overridden):
            return OVERRIDE_SOURCE, None
        return source, _line_of(field, lines)

    def blamed_on_set(key: str) -> bool:
        """Whether ``--set`` changed the policy at ``key`` and the file's own one is accepted: then
        an error there (located only at its params) is the override's."""
        changed = any(o == key or o.startswith(key + ".") for o in overridden)
        return changed and accepted_as_written(original, key)

    context = {"base_dir": str(base_dir)} if base_dir is not None else {}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as error:
        field, message = _explain(error.errors()[0], data)
        where, line = locate(field)
        raise ScenarioError(message, source=where, line=line, field=field or None) from None
    check_policies(scenario, lines, locate, blamed_on_set)
    if warnings is not None:
        for inert in settings_without_effect(scenario):
            where, line = locate(inert.path)
            warnings.append(located(f"has no effect: {inert.why}", where, line, inert.path))
    return scenario


def _caused_by(field: str, override: str, original: Mapping[str, Any]) -> bool:
    """Whether an error at ``field`` lies in what ``override`` set or created."""
    if field == override or field.startswith(override + "."):
        return True
    node: Any = original
    # A level the override created counts too: `placement` made by placement.params={}.
    for mine, theirs in zip(field.split("."), override.split("."), strict=False):
        if mine != theirs:
            return False
        node = _child(node, mine)
        if node is _MISSING:
            return True
    return False


def _apply(data: dict[Any, Any], path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path`` in ``data``, creating missing mapping levels."""
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            # YAML reads a key like `8:` as an int, so "gpus.8" means that key.
            key: Any = int(part) if part not in node and _is_index(part) else part
            if last:
                node[key] = value
                return
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif isinstance(child, str) and depth == 0 and part in _POLICY_KEYS:
                child = node[key] = {"name": child}
            node = child
        elif isinstance(node, list):
            if not _is_index(part) or int(part) >= len(node):
                raise _override_error(
                    f"list index must be an integer from 0 to {len(node) - 1} (got {show(part)})", field=path
                )
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
        else:
            here = ".".join(parts[:depth])
            raise _override_error(
                f"override path must go through mappings and lists ({here} is {show(node)})", field=path
            )


def _record_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """Fill ``lines`` with the 1-based line of every key path under ``node``.

    A key YAML reads as another type (``null``, ``yes``, ``0x10``, ``1.5``) is also recorded
    as pydantic names it in an error's location (``None``, ``1``, ``16``, ``1.5``).
    """
    lines.setdefault(path, node.start_mark.line + 1)
    prefix = f"{path}." if path else ""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            lines[prefix + str(key_node.value)] = line
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:str":
                try:
                    key = yaml.constructor.SafeConstructor().construct_object(key_node)
                except (yaml.YAMLError, ValueError, TypeError, AttributeError, KeyError, OverflowError):
                    key = key_node.value
                lines.setdefault(prefix + _loc_name(key), line)
            _record_lines(value_node, prefix + str(key_node.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, f"{prefix}{index}", lines)


def _line_of(field: str, lines: Mapping[str, int]) -> int | None:
    """The line of ``field``, or of its deepest prefix present in the file."""
    parts = field.split(".") if field else []
    prefixes = (".".join(parts[:end]) for end in range(len(parts), -1, -1))
    return next((lines[prefix] for prefix in prefixes if prefix in lines), None)


def _explain(error: Mapping[str, Any], data: Any) -> tuple[str, str]:
    """(dotted path, one-line message) for one pydantic error on the raw ``data``."""
    parts: list[str] = []
    node = data
    loc = error["loc"]
    for index, part in enumerate(loc):
        child = _child(node, part)
        if isinstance(part, int) or child is not _MISSING:
            parts.append(str(part))
            node = child
        elif index == len(loc) - 1 and error["type"] == "missing":
            parts.append(part)
        # anything else is a union branch or '[key]' tag that the user never wrote
    field = ".".join(parts)
    subject = _tail(field)
    if "[key]" in loc and len(parts) > 1:
        subject = f"{parts[-2]} key"  # a mapping's key is wrong, not its value
    kind, msg = error["type"], error["msg"]
    if kind == "value_error":
        message = msg.removeprefix("Value error, ")
        if match := _PATH_IN_MESSAGE.match(message):
            field = f"{field}.{match.group(1)}" if field else match.group(1)
            rest = message[match.end() :]
            message = rest if match.group(0).rstrip().endswith(":") else f"{_tail(field)} {rest}"
    elif kind == "missing":
        return field, f"{subject} is required"
    elif kind == "extra_forbidden":
        model = _model_at(parts[:-1])
        keys = ", ".join(model.model_fields) if model is not None else ""
        return field, f"unknown key; valid keys here: {keys}" if keys else "unknown key (not in the schema)"
    elif kind == "invalid_key":  # a key YAML read as a number, null or a boolean
        message = f"key must be a string (got {show(error.get('input'))})"
    elif kind in ("model_type", "dict_type"):
        message = f"{subject} must be a mapping of keys to values"
    elif _SHOULD.match(msg):
        message = f"{subject} {_SHOULD.sub('must ', msg)}"
    else:
        message = f"{subject}: {msg}"
    if "(got" not in message:
        message += f" (got {show(error.get('input'))})"
    return field, " ".join(message.split())


def _loc_name(key: Any) -> str:
    """How pydantic names mapping key ``key`` in an error's location: True as 1, None as 'None'."""
    return str(int(key)) if isinstance(key, int) else key if isinstance(key, str) else repr(key)


def _child(node: Any, part: str | int) -> Any:
    """The value at key or index ``part`` of a mapping or list, else _MISSING; '8' finds key 8,
    'None' key None (a key YAML read as null), 1 key True."""
    if isinstance(node, dict):
        if part in node:
            return node[part]
        if isinstance(part, str) and _is_index(part) and int(part) in node:
            return node[int(part)]
        if isinstance(part, str):
            for key, value in node.items():
                if not isinstance(key, str) and _loc_name(key) == part:
                    return value
    elif isinstance(node, list) and _is_index(str(part)) and int(part) < len(node):
        return node[int(part)]
    return _MISSING


def _is_index(part: str) -> bool:
    """Whether ``part`` is a list index (or an integer key): ASCII digits ('²'.isdigit() is true)."""
    return part.isascii() and part.isdigit()


def _tail(field: str) -> str:
    """The name a message starts with: the last key, with a trailing list index kept."""
    parts = field.split(".") if field else ["scenario"]
    if _is_index(parts[-1]) and len(parts) > 1:
        return f"{parts[-2]}.{parts[-1]}"
    return parts[-1]


def _model_at(parts: Sequence[str]) -> type[BaseModel] | None:
    """The schema model at dotted ``parts`` under Scenario, through lists, dicts and Optionals."""
    annotation: Any = Scenario
    for part in parts:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field is not None else None
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]  # the item type, or the value type
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and ``X | None``; unions of several kinds stay as they are."""
    while get_origin(annotation) in (Annotated, Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is not Annotated and len(args) != 1:
            break
        annotation = args[0]
    return annotation
