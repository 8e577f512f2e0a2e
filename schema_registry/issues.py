"""Validation issues: what a refused record body reports, one entry per problem, each at a
path into the request body (``attributes.email_addresses[0]``, ``attributes.price.amount``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schema_registry.types.storable import member_path

ROOT = "attributes"
"""The body member that holds a record's attribute values; every path starts here."""

PathSegment = str | int


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem: ``path`` into the request body and a message fit for an API client."""

    path: str
    message: str


class RecordValidationError(Exception):
    """A record body refused as a whole; ``issues`` lists every problem found, not the first."""

    def __init__(self, issues: Sequence[ValidationIssue]) -> None:
        self.issues: list[ValidationIssue] = list(issues)
        shown = "; ".join(f"{issue.path}: {issue.message}" for issue in self.issues[:3])
        more = f" (and {len(self.issues) - 3} more)" if len(self.issues) > 3 else ""
        super().__init__(f"invalid attributes: {shown}{more}")


def format_path(segments: Sequence[PathSegment]) -> str:
    """``["price", "amount"]`` -> ``attributes.price.amount``; ``["emails", 0]`` ->
    ``attributes.emails[0]``; odd keys are quoted: ``attributes["first name"]``."""
    return ROOT + "".join(f"[{segment}]" if isinstance(segment, int) else member_path(segment) for segment in segments)
