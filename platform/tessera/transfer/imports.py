"""Running an import: rows in, records out, in batches of 1,000, each batch one transaction that
also records progress, so an interrupted import resumes at the first unfinished batch. With a
``matching_attribute`` rows upsert (re-running an import creates no duplicates); without one
they create. Every refused row lands in the error report with its row number and column."""

from __future__ import annotations

import codecs
import csv
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.types import attribute_type
from tessera.changes import Actor, Changes, Stamp
from tessera.db.ids import IdAllocator
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError
from tessera.records.service import RecordService
from tessera.registry.cache import SchemaCache
from tessera.transfer.cells import coerce_cell, coerce_member
from tessera.wire import JsonObject, JsonValue

BATCH = 1000
MAX_ERRORS = 10_000
MAX_RECORD_CHARS = 1_000_000
"""Default cap of one logical CSV record or JSON line (``Settings.import_max_record_chars``)."""


@dataclass(frozen=True)
class Column:
    name: str
    attribute: AttributeDefinition
    member: str | None


@dataclass
class ImportPlan:
    """How a file's columns become attribute values."""

    obj: ObjectDefinition
    columns: list[Column]
    matching_attribute: str | None
    format: str

    def row_values(self, row: JsonObject) -> JsonObject:
        """A row's attribute values in write form (JSON lines carry them as they are; CSV cells are
        coerced by the attribute's type)."""
        if self.format == "jsonl":
            return {c.attribute.slug: row[c.name] for c in self.columns if c.name in row and row[c.name] is not None}
        values: JsonObject = {}
        for column in self.columns:
            text = row.get(column.name)
            if not isinstance(text, str):  # a CSV cell is text; a short record lacks the last columns
                continue
            if column.member is None:
                value = coerce_cell(column.attribute, text)
                if value is not None:
                    values[column.attribute.slug] = value
            else:
                value = coerce_member(column.attribute, column.member, text)
                members = values.setdefault(column.attribute.slug, {}) if value is not None else None
                if isinstance(members, dict):  # not when a whole-attribute column gave it a scalar
                    members[column.member] = value
        return values

    def columns_of(self, path: str) -> str:
        """The column(s) behind an error path like ``attributes.price.amount``."""
        slug = path.removeprefix("attributes.").split(".", 1)[0].split("[", 1)[0]
        return ", ".join(c.name for c in self.columns if c.attribute.slug == slug) or path


def plan_import(obj: ObjectDefinition, header: list[str], mapping: dict[str, str] | None,
                matching_attribute: str | None, fmt: str) -> ImportPlan:
    """Resolve the column -> attribute mapping (by default, columns named like attribute slugs).
    ``BadRequest`` for targets that do not exist."""
    if mapping:
        targets = mapping
    elif fmt == "jsonl":  # JSON lines carry attribute slugs as keys
        targets = {a.slug: a.slug for a in obj.attributes}
    else:
        targets = {name: name for name in header if obj.attribute(name.split(".", 1)[0])}
    columns = []
    for name, target in targets.items():
        slug, _, member = target.partition(".")
        attribute = obj.attribute(slug)
        if attribute is None:
            raise BadRequest(f"Column '{name[:80]}' maps to unknown attribute '{slug[:80]}'",
                             errors=[FieldError(f"mapping.{name[:80]}", "unknown attribute")])
        if member and member not in attribute_type(attribute.type).members:
            raise BadRequest(f"'{target[:80]}': {attribute.type.value} has no member '{member[:40]}'",
                             errors=[FieldError(f"mapping.{name[:80]}", "unknown member")])
        columns.append(Column(name, attribute, member or None))
    if not columns:
        raise BadRequest("No column maps to an attribute: give a mapping such as {\"Email\": \"email_addresses\"}")
    if matching_attribute is not None:
        attribute = obj.attribute(matching_attribute)
        if attribute is None or not attribute.is_unique:
            raise BadRequest(f"matching_attribute '{matching_attribute[:80]}' must be a unique attribute",
                             errors=[FieldError("matching_attribute", "not a unique attribute")])
    return ImportPlan(obj, columns, matching_attribute, fmt)


async def text_lines(chunks: AsyncIterator[bytes], max_chars: int = MAX_RECORD_CHARS) -> AsyncIterator[str]:
    """Decode UTF-8 (a BOM is dropped) incrementally and yield lines with their endings.
    ``BadRequest`` for a line longer than ``max_chars``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    carry = ""
    async for chunk in chunks:
        carry += decoder.decode(chunk)
        lines = carry.splitlines(keepends=True)
        carry = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        for line in lines:
            yield line
        if len(carry) > max_chars:
            raise BadRequest(f"A line of the file is longer than {max_chars} characters")
    carry += decoder.decode(b"", final=True)
    if carry:
        yield carry


class RowReader:
    """Lines of a file in, ``(header, row)`` pairs out. CSV rows map header -> cell text (a quoted
    field may span lines); JSON-lines rows are objects.

    Every step is linear in the input: the quote parity of a pending CSV record is updated with
    each line instead of recounted over the whole record (a record of many short lines made that
    quadratic), and a record longer than ``max_record_chars`` is refused before it is joined and
    parsed. Errors are ``BadRequest`` naming the line, never ``csv.Error``."""

    def __init__(self, fmt: str, max_record_chars: int = MAX_RECORD_CHARS) -> None:
        self.fmt = fmt
        self.max_record_chars = max_record_chars
        self.header: list[str] = []
        self._parts: list[str] = []
        self._size = 0
        self._quoted = False
        self._line = 0
        self._record_line = 1

    def feed(self, line: str) -> tuple[list[str], JsonObject] | None:
        """The row this line completes, or None (a blank line, the header, an open quoted field)."""
        self._line += 1
        if not self._parts:
            self._record_line = self._line
        self._size += len(line)
        if self._size > self.max_record_chars:
            raise BadRequest(f"The record starting on line {self._record_line} is longer than "
                             f"{self.max_record_chars} characters")
        if self.fmt == "jsonl":
            return self._json_row(line)
        self._parts.append(line)
        if line.count('"') % 2:
            self._quoted = not self._quoted
        if self._quoted:  # inside a quoted field that spans lines
            return None
        record = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        if not record.strip():
            return None
        cells = self._cells(record)
        if not self.header:
            self.header = [h.strip() for h in cells]
            return None
        row: JsonObject = dict(zip(self.header, cells, strict=False))
        return self.header, row

    def finish(self) -> None:
        """``BadRequest`` when the file ended inside a quoted field."""
        if self._quoted and "".join(self._parts).strip():
            raise BadRequest("The file ends inside a quoted field")

    def _json_row(self, line: str) -> tuple[list[str], JsonObject] | None:
        self._size = 0
        if not line.strip():
            return None
        try:
            value: JsonValue = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = {"__invalid__": line[:200]}
        return self.header, value if isinstance(value, dict) else {"__invalid__": line[:200]}

    def _cells(self, record: str) -> list[str]:
        try:
            return next(csv.reader([record]))
        except csv.Error as err:
            if "field limit" in str(err):
                raise BadRequest(f"The record starting on line {self._record_line} has a field longer than "
                                 f"{csv.field_size_limit()} characters") from err
            raise BadRequest(f"The record starting on line {self._record_line} is not valid CSV: {err}") from err


async def iter_rows(chunks: AsyncIterator[bytes], fmt: str, max_record_chars: int = MAX_RECORD_CHARS,
                    ) -> AsyncIterator[tuple[list[str], JsonObject]]:
    """``(header, row)`` pairs of a stored file, read chunk by chunk (see ``RowReader``)."""
    reader = RowReader(fmt, max_record_chars)
    async for line in text_lines(chunks, max_record_chars):
        row = reader.feed(line)
        if row is not None:
            yield row
    reader.finish()


@dataclass
class Progress:
    processed: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


async def import_batch(tenant: Tenant, schemas: SchemaCache, ids: IdAllocator, plan: ImportPlan,
                       rows: list[tuple[int, JsonObject]], actor: Actor, now: datetime) -> Progress:
    """Write one batch of (row number, row) and report what happened to each row."""
    schema = await schemas.for_write(tenant)
    obj = schema.object(plan.obj.slug)
    if obj is None:
        raise BadRequest("The object was deleted during the import")
    writer = RecordService(tenant, schema, Changes(ids, Stamp(actor, now)))
    progress = Progress(processed=len(rows))
    items: list[JsonObject | None] = []
    for number, row in rows:
        if "__invalid__" in row:
            progress.errors.append((number, "", "not a JSON object"))
            items.append(None)
        else:
            items.append(plan.row_values(row))
    valid = [(n, values) for (n, _), values in zip(rows, items, strict=True) if values is not None]
    payloads = [values for _, values in valid]
    results = (await writer.upsert_batch(obj, payloads, plan.matching_attribute) if plan.matching_attribute
               else await writer.create_batch(obj, payloads)) if payloads else []
    for (number, _values), result in zip(valid, results, strict=True):
        if result.status == "created":
            progress.created += 1
        elif result.status == "updated":
            progress.updated += 1
        else:
            error = result.error
            details = (error.errors or [FieldError("", error.message)]) if error else [FieldError("", "refused")]
            for detail in details:
                progress.errors.append((number, plan.columns_of(detail.path) if detail.path else "",
                                        detail.message))
    progress.failed = len(rows) - progress.created - progress.updated
    return progress


async def run_import(db: AsyncEngine, workspace_id: int, plan: ImportPlan,
                     rows: AsyncIterator[tuple[list[str], JsonObject]], *, schemas: SchemaCache, ids: IdAllocator,
                     actor: Actor, now: Callable[[], datetime], skip: int = 0,
                     checkpoint: Callable[[Tenant, Progress], Awaitable[None]] | None = None,
                     on_batch: Callable[[Progress], None] | None = None) -> Progress:
    """Feed rows through in batches; ``skip`` rows already done; ``checkpoint`` runs inside each
    batch's transaction (to store progress atomically with the records)."""
    total = Progress()
    batch: list[tuple[int, JsonObject]] = []
    number = 0

    async def flush() -> None:
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            done = await import_batch(tenant, schemas, ids, plan, batch, actor, now())
            total.processed += done.processed
            total.created += done.created
            total.updated += done.updated
            total.failed += done.failed
            if checkpoint is not None:
                await checkpoint(tenant, done)
            if on_batch is not None:
                on_batch(done)
        batch.clear()

    async for _header, row in rows:
        number += 1
        if number <= skip:
            continue
        batch.append((number, row))
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()
    return total
