"""How imports turn rows into values, and how a restore reads dump lines back: refusals that name
the line, and the one row shape the mapping cannot join."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import orjson
import pytest

from schema_registry.definitions import AttributeDefinition, AttributeTypeName, ObjectDefinition, ObjectType
from tessera.errors import BadRequest
from tessera.settings import Settings
from tessera.transfer.imports import plan_import
from tessera.transfer.restore import DumpLine, restore_dump

PRICE = AttributeDefinition(id=1, object_id=1, slug="price", name="Price", type=AttributeTypeName.CURRENCY)
DEAL = ObjectDefinition(id=1, workspace_id=1, slug="deal", name="Deal", type=ObjectType.CUSTOM, attributes=(PRICE,))


def test_member_columns_build_one_composite_value() -> None:
    plan = plan_import(DEAL, ["Amount", "Currency"], {"Amount": "price.amount", "Currency": "price.currency_code"},
                       None, "csv")
    assert plan.row_values({"Amount": "12.5", "Currency": "EUR"}) == {
        "price": {"amount": 12.5, "currency_code": "EUR"}}
    assert plan.row_values({"Amount": "", "Currency": "EUR"}) == {"price": {"currency_code": "EUR"}}


def test_a_member_column_leaves_alone_a_whole_cell_that_is_not_an_object() -> None:
    """A column mapped to the whole attribute and one mapped to a member of it: the member joins
    the whole cell's value only when that is an object (a text value is validated as it is)."""
    plan = plan_import(DEAL, ["Price", "Currency"], {"Price": "price", "Currency": "price.currency_code"}, None,
                       "csv")
    assert plan.row_values({"Price": "lots", "Currency": "EUR"}) == {"price": "lots"}
    assert plan.row_values({"Price": "", "Currency": "EUR"}) == {"price": {"currency_code": "EUR"}}


def test_a_dump_line_is_read_field_by_field() -> None:
    line = DumpLine(7, {"kind": "task", "title": "Call", "priority": None, "is_completed": True,
                        "assignee_ids": ["u1", 2], "options": {"is_unique": "yes"}, "type": "sphere"})
    assert line.text("title") == "Call" and line.optional_text("priority") is None
    assert line.optional_text("missing") is None and line.flag("is_completed") is True
    for read, message in ((lambda: line.text("priority"), "Line 7: 'priority' must be a string"),
                          (lambda: line.texts("assignee_ids"), "Line 7: 'assignee_ids' must be a list of strings"),
                          (lambda: line.member("type", ObjectType), "Line 7: 'type' must be one of person, "),
                          (lambda: line.lines("options"), "Line 7: 'options' must be a list of objects")):
        with pytest.raises(BadRequest, match=message):
            read()
    options = line.optional_line("options")
    assert options is not None
    with pytest.raises(BadRequest, match="Line 7: 'is_unique' must be a boolean"):
        options.flag("is_unique")


async def test_restore_refuses_a_line_that_is_not_in_the_dump_format(app: Any, settings: Settings,
                                                                      db: asyncpg.Connection) -> None:
    pepper = settings.key_pepper.get_secret_value().encode()
    header = orjson.dumps({"kind": "tessera_dump", "version": 1})
    for bad, message in ((b"[1, 2]", "Line 3: not a JSON object"),
                         (orjson.dumps({"kind": "record", "id": "1", "object": "person", "values": {"name": "Ann"}}),
                          "Line 3: 'values' must be an object of lists"),
                         (orjson.dumps({"kind": "poem"}), "Line 3: unknown kind 'poem'")):
        with pytest.raises(BadRequest, match=message):
            await restore_dump(app.state.tessera.engine, [header, b"", bad], name="broken", pepper=pepper,
                               clock=time.time)
    # Nothing of the refused lines was written (the workspaces themselves are made first).
    assert await db.fetchval("SELECT count(*) FROM records r JOIN workspaces w ON w.id = r.workspace_id "
                             "WHERE w.name = 'broken'") == 0
