"""Schema changes that are safe on tables with millions of rows while the sender keeps writing to them."""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.migrations import AddIndex


class AddIndexWithoutLocking(AddIndex):
    """`AddIndex` that, on PostgreSQL, builds the index CONCURRENTLY: inserts and updates go on meanwhile.

    A plain CREATE INDEX blocks every write to the table until it is built (seconds to minutes on a
    big log). Its migration must say `atomic = False`. On other databases, a plain CREATE INDEX.
    A build interrupted earlier leaves an invalid index of the same name, which is dropped first.
    """

    atomic = False

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not self._concurrently(app_label, schema_editor, to_state, create=True):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if not self._concurrently(app_label, schema_editor, from_state, create=False):
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def _concurrently(self, app_label: str, schema_editor: Any, state: Any, *, create: bool) -> bool:
        """Build (or drop) the index CONCURRENTLY on PostgreSQL; False elsewhere, for the plain operation."""
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return False
        if connection.in_atomic_block:
            raise NotSupportedError("An index is built concurrently outside a transaction: set atomic = False.")
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(connection.alias, model):
            if not create or self._left_invalid(connection):
                schema_editor.remove_index(model, self.index, concurrently=True)
            if create:
                schema_editor.add_index(model, self.index, concurrently=True)
        return True

    def _left_invalid(self, connection: Any) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid "
                "WHERE pg_class.relname = %s AND NOT pg_index.indisvalid",
                [self.index.name],
            )
            return cursor.fetchone() is not None

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} without locking writes"
