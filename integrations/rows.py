"""Rows written by one plain INSERT, for the hot paths where the ORM's per-row work costs more than the write.

A completed chat's event and deliveries are written on the host's request path, and a worker writes
thousands of attempts a second; `Model.save()` and `bulk_create()` spend more Python on each than
the database spends storing it. No signals are sent for these rows (none are listened for), and the
model's defaults and `auto_now_add` are applied as `save()` would apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models


@cache
def _insert_plan(model: type[models.Model], vendor: str) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.auto_field)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})", fields  # noqa: S608


def rows_insert(instances: Sequence[models.Model]) -> None:
    """INSERT these instances (all of one model) in one statement; an auto-incremented id is not read back."""
    if not instances:
        return
    sql, fields = _insert_plan(type(instances[0]), connection.vendor)
    rows = [
        [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
        for instance in instances
    ]
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)
    for instance in instances:  # saved: a later save() updates the row instead of inserting it again
        instance._state.adding = False
        instance._state.db = connection.alias
