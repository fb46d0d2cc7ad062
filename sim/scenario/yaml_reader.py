"""Read a YAML file safely: the document and its node tree (for line numbers), or one located
ScenarioError.

Composed with PyYAML's safe loader, so no Python object is ever constructed and a scenario
cannot run code. Refused before the document is built: nesting deeper than ``MAX_DEPTH``
levels, aliases that expand it beyond ``MAX_NODES`` values, an alias inside its own anchor,
and a mapping that repeats a key (YAML would silently keep only the last value). Scenario
and sweep files are both read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError, show

MAX_DEPTH = 50
"""Deepest nesting of a YAML document read here (shipped scenarios nest 8 levels deep)."""
MAX_NODES = 100_000
"""Most values (keys, scalars, lists, mappings) a YAML document may hold with its aliases expanded."""


def read_yaml(path: str | Path, kind: str) -> tuple[Any, yaml.Node | None]:
    """The document in YAML file ``path`` and its node tree (for line numbers), composed with
    the safe loader (no Python object is ever constructed). A file that cannot be read, or
    is not well-formed YAML, is a ScenarioError naming it; ``kind`` says what it is
    ("scenario file", "sweep file")."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name, or not UTF-8
        rule = "be UTF-8 text" if isinstance(error, UnicodeDecodeError) else "exist"
        raise ScenarioError(f"{kind} must {rule} (got {source!r})", source=source) from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _check_expansion(node)
            _check_unique_keys(node, source)
            return loader.construct_document(node), node
        finally:
            loader.dispose()
    except _Refused as error:
        line = error.mark.line + 1 if error.mark is not None else None
        raise ScenarioError(f"YAML must {error.rule}", source=source, line=line) from None
    except yaml.reader.ReaderError as error:  # a control character: no marks, a position
        line = text.count("\n", 0, error.position) + 1
        problem = f"{error.reason} (got character #x{error.character:04x})"
        raise ScenarioError(f"YAML must be well-formed: {problem}", source=source, line=line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context
        raise ScenarioError(f"YAML must be well-formed: {problem}", source=source, line=line) from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"YAML must be well-formed: {error}", source=source) from None


class _Refused(yaml.YAMLError):
    """A well-formed document too deep or too big to build: ``rule`` it breaks, at ``mark``."""

    def __init__(self, rule: str, mark: yaml.Mark | None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH while composing (which recurses)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nest at most {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's own constructors fail on some tagged values with plain exceptions:
        # `!!timestamp 2001-12-14t21` (AttributeError), `!!bool maybe` (KeyError), `!!int x`.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError):
            got = f" (got {show(node.value)})" if isinstance(node, yaml.ScalarNode) else ""
            problem = f"found a value that its tag {node.tag!r} cannot hold{got}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _check_expansion(root: yaml.Node) -> None:
    """Raise _Refused for an alias inside its own anchor, or a document whose aliases expand it
    beyond MAX_NODES values or MAX_DEPTH levels (a "billion laughs"). Iterative, and linear in
    the distinct nodes: an alias is the node it names, measured once."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once expanded
    open_: set[int] = set()  # the nodes being expanded: the current node's ancestors
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        children = _children(node)
        if closing:
            open_.discard(id(node))
            size = 1 + sum(measured[id(child)][0] for child in children)
            depth = 1 + max((measured[id(child)][1] for child in children), default=0)
            if size > MAX_NODES:
                rule = f"hold at most {MAX_NODES:,} values, aliases expanded (got more under this line)"
                raise _Refused(rule, node.start_mark)
            if depth > MAX_DEPTH:
                raise _Refused(
                    f"nest at most {MAX_DEPTH} levels deep with its aliases expanded", node.start_mark
                )
            measured[id(node)] = (size, depth)
        elif id(node) in open_:
            raise _Refused(
                "not use an alias inside the node its anchor names (a recursive alias)", node.start_mark
            )
        elif id(node) not in measured:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)


def _check_unique_keys(root: yaml.Node, source: str) -> None:
    """Raise a ScenarioError at the second of two equal keys in one mapping: PyYAML keeps the
    last, so the first value would be dropped without a word. Keys that ``<<: *anchor`` merges
    in are not the mapping's own (its own override them, as YAML says). Walks the tree with
    aliases expanded (``_check_expansion`` has bounded it), so the error names a path."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, _joined(path, str(i))) for i, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first_line: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key, yaml.ScalarNode):
                stack.append((value, path))
                continue
            line = key.start_mark.line + 1
            earlier = first_line.get((key.tag, key.value))
            if earlier is not None:
                raise ScenarioError(
                    f"keys must be unique in a mapping; YAML keeps only the last value "
                    f"(got {show(key.value)} again, first at line {earlier})",
                    source=source,
                    line=line,
                    field=_joined(path, key.value),
                )
            first_line[key.tag, key.value] = line
            stack.append((value, _joined(path, key.value)))


def _joined(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
