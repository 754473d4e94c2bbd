"""Schema changes that are safe on tables with millions of rows while the sender keeps writing to them,
and the database side of handing a model's table from one app to another (rows and all)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as installed_apps
from django.db import NotSupportedError
from django.db.migrations import AddIndex, CreateModel, DeleteModel


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


def _table_exists(schema_editor: Any, table: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        return table in schema_editor.connection.introspection.table_names(cursor)


class ReleaseTable(DeleteModel):
    """A model leaves its app for `taken_by`, whose first migration takes its table over (`AdoptTable`).

    Django's state forgets the model; the table stays, unless `taken_by` is not installed and the table
    is empty: then it is dropped, so that a project without that part keeps no table it never uses. Rows
    are never dropped: a project that has some and has not installed `taken_by` keeps them for when it does.
    """

    def __init__(self, name: str, taken_by: str) -> None:
        super().__init__(name)
        self.taken_by = taken_by

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__name__, [self.name], {"taken_by": self.taken_by}

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = from_state.apps.get_model(app_label, self.name)
        table = model._meta.db_table
        if installed_apps.is_installed(self.taken_by) or not _table_exists(schema_editor, table):
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {schema_editor.quote_name(table)} LIMIT 1")  # noqa: S608 -- a name
            empty = cursor.fetchone() is None
        if empty:
            schema_editor.delete_model(model)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not _table_exists(schema_editor, model._meta.db_table):
            schema_editor.create_model(model)

    def describe(self) -> str:
        return f"Hand the table of {self.name} over to {self.taken_by}"


class AdoptTable(CreateModel):
    """A model arriving from another app (`ReleaseTable`): its table, named in `options["db_table"]`, is
    taken as it is when it exists, and created when it does not (a new project, or one without rows)."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not _table_exists(schema_editor, model._meta.db_table):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        pass  # the table goes back to the app it came from, whose ReleaseTable keeps or drops it

    def describe(self) -> str:
        return f"Adopt the table of {self.name}, or create it"
