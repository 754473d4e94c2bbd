"""Rows written by one plain INSERT, for the hot paths where the ORM's per-row work costs more than the write.

A host change's event and deliveries are written on the host's request path, and a worker writes
thousands of attempts a second; `Model.save()` and `bulk_create()` spend more Python on each than
the database spends storing it. No signals are sent for these rows (none are listened for), and the
model's defaults and `auto_now_add` are applied as `save()` would apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models

# Field classes whose conversion of a value of these exact types is the value itself. Exact classes only:
# a subclass may convert in a way of its own, and then goes through `get_db_prep_save` like any other field.
_TEXT: frozenset[type] = frozenset({str, type(None)})
_WHOLE: frozenset[type] = frozenset({int, type(None)})  # not bool: PostgreSQL refuses a boolean in an integer column
_PLAIN: dict[type[models.Field[Any, Any]], frozenset[type]] = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.URLField: _TEXT,
    models.BooleanField: frozenset[type]({bool, type(None)}),
    **{
        kind: _WHOLE
        for kind in (
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.PositiveBigIntegerField,
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
        )
    },
}


def _plain_types(field: models.Field[Any, Any]) -> frozenset[type]:
    """The value types this field stores as they are (none: every value is converted)."""
    if type(field) is models.ForeignKey:
        return _plain_types(field.target_field)
    return _PLAIN.get(type(field), frozenset())


@cache
def _insert_plan(
    model: type[models.Model], vendor: str
) -> tuple[str, tuple[tuple[models.Field[Any, Any], frozenset[type]], ...]]:
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.auto_field)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    return sql, tuple((field, _plain_types(field)) for field in fields)


def _row(instance: models.Model, fields: tuple[tuple[models.Field[Any, Any], frozenset[type]], ...]) -> list[Any]:
    row = []
    for field, plain in fields:
        value = field.pre_save(instance, True)
        row.append(value if type(value) in plain else field.get_db_prep_save(value, connection))
    return row


def rows_insert(instances: Sequence[models.Model]) -> None:
    """INSERT these instances (all of one model) in one statement; an auto-incremented id is not read back."""
    if not instances:
        return
    sql, fields = _insert_plan(type(instances[0]), connection.vendor)
    rows = [_row(instance, fields) for instance in instances]
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)
    for instance in instances:  # saved: a later save() updates the row instead of inserting it again
        instance._state.adding = False
        instance._state.db = connection.alias
