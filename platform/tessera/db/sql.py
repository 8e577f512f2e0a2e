"""The one builder of SQL parameters: every ``$n`` of a statement comes from ``Params.add``, never
from a literal, so a statement's pieces (CTEs, predicates) compose in any order and one more
column cannot shift another piece's numbers. ``$1`` is always the workspace id, bound by
``Tenant.fetch``; ``Params`` hands out ``$2`` onwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

WORKSPACE: Final = "$1"
"""The placeholder of the workspace id in every tenant statement (bound by ``Tenant.fetch``)."""


@dataclass
class Params:
    """Positional parameters after ``$1`` (the workspace id, which ``Tenant.fetch`` binds)."""

    values: list[Any] = field(default_factory=list)
    """Driver values of any type asyncpg encodes (ints, text, arrays, datetimes, Decimals...)."""

    def add(self, value: Any, cast: str | None = None) -> str:
        """Bind ``value``; returns its placeholder (``$n`` or ``$n::cast``) to splice into the SQL."""
        self.values.append(value)
        placeholder = f"${len(self.values) + 1}"  # after WORKSPACE
        return f"{placeholder}::{cast}" if cast else placeholder

    def copy(self) -> Params:
        """Another builder holding the same values: for statements that share their first
        parameters and go on differently (a page and its count)."""
        return Params(list(self.values))

    def unnest(self, columns: Sequence[tuple[Sequence[Any], str]]) -> str:
        """``unnest($a::t1[], $b::t2[], ...)`` over column-wise arrays (each with its element type):
        one parameter per column, however many rows."""
        return "unnest(" + ", ".join(self.add(values, f"{cast}[]") for values, cast in columns) + ")"
