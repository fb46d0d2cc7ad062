"""Registries of policies by name, one per kind, filled by a decorator.

    @SCHEDULERS.register("fifo")
    class Fifo(Scheduler): ...

A duplicate name is an error; an unknown name says "did you mean" and lists the valid
ones. A policy's parameters are its ``__init__`` keyword arguments; ``create`` rejects any
it does not take.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sim.errors import PolicyError, show

T = TypeVar("T")


class Registry(Generic[T]):
    """Policies of one kind (``scheduler``, ``placement``, ...) by registered name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def add(cls: type[T]) -> type[T]:
            if name in self._classes:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._classes[name] = cls
            cls.name = name  # type: ignore[attr-defined]
            return cls

        return add

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``; PolicyError naming the valid ones otherwise."""
        if name in self._classes:
            return self._classes[name]
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PolicyError(
            f"{self.kind} must be one of {', '.join(self.names())} (got {show(name)}){hint}",
            field=self.kind,
        )

    def params(self, name: str) -> dict[str, Any]:
        """Parameter names of a policy with their defaults (``inspect.Parameter.empty`` if none)."""
        signature = inspect.signature(self.get(name).__init__)
        return {
            p.name: p.default
            for p in signature.parameters.values()
            if p.name != "self" and p.kind is p.KEYWORD_ONLY
        }

    def check(self, name: str, params: Mapping[str, Any]) -> None:
        """Raise PolicyError if ``name`` is unknown, or ``params`` has a key it does not take or
        a value it refuses (the policy is built once to check)."""
        self.create(name, params)

    def _check_names(self, name: str, params: Mapping[str, Any]) -> None:
        known = self.params(name)
        for key in params:
            if key not in known:
                valid = ", ".join(known) or "none"
                raise PolicyError(
                    f"{self.kind} {name!r} has parameters {valid} (got {show(key)})",
                    field=f"{self.kind}.params.{key}",
                )
        for key, default in known.items():
            if default is inspect.Parameter.empty and key not in params:
                raise PolicyError(
                    f"{self.kind} {name!r} needs parameter {key!r}", field=f"{self.kind}.params"
                )

    def create(self, name: str, params: Mapping[str, Any] | None = None) -> T:
        """An instance of policy ``name`` with ``params`` (names checked first)."""
        params = dict(params or {})
        self._check_names(name, params)
        try:
            return self.get(name)(**params)
        except (TypeError, ValueError) as error:
            raise PolicyError(f"{self.kind} {name!r}: {error}", field=f"{self.kind}.params") from None

    def describe(self, name: str) -> str:
        """The first line of the policy's docstring."""
        doc = inspect.getdoc(self.get(name)) or ""
        return doc.splitlines()[0] if doc else ""
