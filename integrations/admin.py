"""Django admin for webhooks and their delivery log."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from .adapter import every_type
from .models import Delivery, DeliveryAttempt, Event, Webhook

# Shown to the account's admins on the Integrations page, nowhere else.
# Never shown, nor filterable (a lookup would reveal them a character at a time): the signing secrets,
# and the custom headers' values (credentials for the receiver).
SECRET_FIELDS = frozenset({"secret", "retired_secrets", "custom_headers"})


def lookup_reaches_secret(model: type[models.Model], lookup: str) -> bool:
    """Whether an admin lookup (`?webhook__secret__startswith=…`) reaches a signing secret, through any relation."""
    for part in lookup.split(LOOKUP_SEP):
        if model is Webhook and part in SECRET_FIELDS:
            return True
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a lookup or transform (`startswith`): the path ends here
        if field.related_model is None or field.related_model == "self":
            return False
        model = field.related_model
    return False


_M = TypeVar("_M", bound=models.Model)

_P = TypeVar("_P", bound=models.Model)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
    _StackedInline = admin.StackedInline
    _Paginator = Paginator
else:
    # Django's classes take a type argument only in django-stubs, or once django_stubs_ext.monkeypatch() has run,
    # which a host need not call: plain generic subclasses at run time.
    class _ModelAdmin(admin.ModelAdmin, Generic[_M]):
        pass

    class _StackedInline(admin.StackedInline, Generic[_M, _P]):
        pass

    class _Paginator(Paginator, Generic[_M]):
        pass


class SecretLookupsRefusedAdmin(_ModelAdmin[_M]):
    """Refuses list filters on secrets: their result counts would reveal a secret a prefix at a time.

    Django admin applies any lookup on a model's own fields from the query string, hidden form
    field or not; a refused lookup answers 400.
    """

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup_reaches_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)


class CappedCountPaginator(_Paginator[models.Model]):
    """Counts a log's rows up to COUNT_CAP only: a count of millions of rows would cost every page seconds.

    The pages stop at the cap (the newest rows, 100 pages): older rows are reached by a filter or by id.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast("models.QuerySet[models.Model]", self.object_list)  # the admin's changelist: a queryset
        return rows[: self.COUNT_CAP].count()


class HistoryAdmin(SecretLookupsRefusedAdmin[_M]):
    """The log's tables: pages read from an index, never a count of the whole history."""

    paginator = CappedCountPaginator
    show_full_result_count = False


@admin.register(Webhook)
class WebhookAdmin(SecretLookupsRefusedAdmin[Webhook]):
    list_display = ["url", "account", "is_active", "created_at"]
    list_filter = ["is_active"]
    exclude = sorted(SECRET_FIELDS)
    readonly_fields = ["created_at", "updated_at"]


class EventTypeFilter(admin.SimpleListFilter):
    """The catalog's types: Django's own filter for a field without choices reads every row for its values."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        return [(event_type.name, event_type.name) for event_type in every_type()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Event]) -> models.QuerySet[Event]:
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(HistoryAdmin[Event]):
    list_display = ["id", "type", "account", "created_at"]
    list_filter = [EventTypeFilter]
    readonly_fields = ["id", "account", "type", "body", "created_at"]


class DeliveryAttemptInline(_StackedInline[DeliveryAttempt, Delivery]):
    """Each attempt one under the other: its headers and answer are too wide for a table's columns."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "attempted_at",
        "url",
        "succeeded",
        "status_code",
        "duration_ms",
        "request_headers",
        "response_headers",
        "response_body",
        "error",
    ]


@admin.register(Delivery)
class DeliveryAdmin(HistoryAdmin[Delivery]):
    list_display = ["id", "event", "webhook", "status", "attempt_count", "next_attempt_at"]
    list_select_related = ["event", "webhook"]
    ordering = ["-id"]  # the primary key's order: newest first without a sort of the whole table
    list_filter = ["status"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
