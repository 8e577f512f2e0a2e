"""A compiled document as sections of markdown lines: rendering, the hash of what it was built from,
and what changed between two versions. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypedDict

import orjson

from tessera.wire import JsonObject, JsonValue

RENDERER: Final = "tessera-briefs/1"
"""Part of every input hash: a change in how documents are written makes every one new once."""


@dataclass(frozen=True, slots=True)
class Section:
    """A ``## heading`` and its lines (each a markdown paragraph or list item)."""

    key: str
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lead: str
    """The line under the title (what the document is about)."""
    sections: tuple[Section, ...]


class SectionDigest(TypedDict):
    key: str
    heading: str
    hash: str
    lines: int


class SectionChanges(TypedDict):
    added: list[str]
    removed: list[str]
    changed: list[str]


def to_markdown(doc: Document) -> str:
    """The document as markdown: title, lead, then each section."""
    parts = [f"# {doc.title}", "", doc.lead]
    for section in doc.sections:
        parts += ["", f"## {section.heading}", "", *section.lines]
    return "\n".join(parts).rstrip() + "\n"


def hash_inputs(doc: Document) -> str:
    """``sha256:<hex>`` over the document's inputs as rendered: title, lead, every section's
    lines, and the renderer's version. Equal inputs give equal hashes (no timestamps in it)."""
    payload = orjson.dumps([RENDERER, doc.title, doc.lead,
                            [[s.key, s.heading, list(s.lines)] for s in doc.sections]])
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def digest_sections(doc: Document) -> list[SectionDigest]:
    """What a version keeps of each section to compare the next version with."""
    return [{"key": s.key, "heading": s.heading, "lines": len(s.lines),
             "hash": hashlib.sha256(orjson.dumps([s.heading, list(s.lines)])).hexdigest()[:16]}
            for s in doc.sections]


def parse_digests(stored: JsonValue) -> list[SectionDigest]:
    """Digests as stored in ``briefs.sections`` (anything malformed is skipped)."""
    out: list[SectionDigest] = []
    for item in stored if isinstance(stored, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            lines = item.get("lines")
            out.append({"key": str(item["key"]), "heading": str(item.get("heading", item["key"])),
                        "hash": str(item.get("hash", "")), "lines": lines if isinstance(lines, int) else 0})
    return out


def diff_sections(old: Sequence[SectionDigest], new: Sequence[SectionDigest]) -> SectionChanges:
    """Sections (by heading) added, removed and changed from ``old`` to ``new``, in document order."""
    before = {d["key"]: d for d in old}
    after = {d["key"]: d for d in new}
    return {"added": [d["heading"] for d in new if d["key"] not in before],
            "removed": [d["heading"] for d in old if d["key"] not in after],
            "changed": [d["heading"] for d in new if d["key"] in before and before[d["key"]]["hash"] != d["hash"]]}


def summarize_changes(changes: SectionChanges, *, first: bool) -> str:
    """One sentence: ``First version.``, or ``Added Notes; changed Recent insights.``"""
    if first:
        return "First version."
    parts = []
    for verb, names in (("added", changes["added"]), ("removed", changes["removed"]),
                        ("changed", changes["changed"])):
        if names:
            parts.append(f"{verb} {', '.join(names)}")
    if not parts:
        return "Recompiled (the wording changed, no section did)."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def changes_json(changes: SectionChanges) -> JsonObject:
    return {"added": list(changes["added"]), "removed": list(changes["removed"]),
            "changed": list(changes["changed"])}


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (whitespace folded), cut at ``limit`` characters with an ellipsis."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


def slugify(text: str, limit: int = 60) -> str:
    """``Security review: send SOC 2`` -> ``security-review-send-soc-2`` (``[a-z0-9-]``, at most
    ``limit`` characters, never empty)."""
    out = []
    dash = False
    for char in text.lower():
        if char.isascii() and char.isalnum():
            out.append(char)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    slug = "".join(out)[:limit].strip("-")
    return slug or "untitled"
