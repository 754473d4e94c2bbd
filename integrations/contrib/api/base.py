"""What every view of the details API shares, the host's included: keys, rate, JSON, cursor pages, ETags."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.http import conditional_page
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from ...conf import conf
from ...parameters import whole_number
from . import schema  # noqa: F401 -- registers the API key's security scheme with drf-spectacular
from .auth import AccountAPIKeyAuthentication, APIKeyRateThrottle, HasAccountAPIKey, request_api_key
from .parsers import BoundedJSONParser

Row = TypeVar("Row", bound=Model)


class NewestFirstPagination(CursorPagination):
    """Cursor pages, newest first: stable while new items arrive, unlike page numbers.

    A cursor is read strictly (`decode_cursor`): anything but one this API wrote, or could have
    written, is a 400 that says to start again, never a database error.
    """

    ordering = ("-created_at", "-pk")
    page_size_query_param = "limit"
    max_page_size = 200
    invalid_cursor_message = "This cursor is not one of ours: start again from the first page (no cursor)."

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any] | None:
        self.position_field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """The cursor of `?cursor=`: base64 of `o=<offset>&r=<0|1>&p=<position>`, each part checked."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse_qs(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:  # binascii.Error and UnicodeError are ValueErrors
            raise self._invalid() from None
        if not set(tokens) <= {"o", "r", "p"} or any(len(values) != 1 for values in tokens.values()):
            raise self._invalid()
        offset = whole_number(tokens.get("o", ["0"])[0])
        reverse = tokens.get("r", ["0"])[0]
        if offset is None or reverse not in {"0", "1"}:
            raise self._invalid()
        position = tokens.get("p", [None])[0]
        return Cursor(
            offset=min(offset, self.offset_cutoff),
            reverse=reverse == "1",
            position=None if position is None else self._position(position),
        )

    def _position(self, text: str) -> Any:
        """The ordering field's value the cursor starts after, as the database can compare it."""
        field = self.position_field
        if isinstance(field, models.IntegerField):  # AutoField and BigAutoField are IntegerFields too
            number = whole_number(text)
            if number is None:
                raise self._invalid()
            return number
        try:
            value = field.to_python(text)
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    raise self._invalid()  # ours always say their offset
                value = value.astimezone(UTC)  # 9999-12-31T23:59:59-14:00 is past year 9999
        except (DjangoValidationError, OverflowError, ValueError):
            raise self._invalid() from None
        return value

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            if parameter["name"] == self.cursor_query_param:
                # Opaque: the value of a page's `next` or `previous` link. Any other is a 400.
                parameter["schema"] = {"type": "string", "format": "cursor"}
                parameter["description"] = "From a page's `next` or `previous` link; any other value is a 400."
        return parameters

    def get_page_size(self, request: Request) -> int | None:
        self.page_size = conf.API_PAGE_SIZE
        asked = request.query_params.get(self.page_size_query_param or "limit")
        if asked is not None and whole_number(asked, minimum=1, maximum=self.max_page_size) is None:
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return super().get_page_size(request)


# Twenty digits: past any 64-bit column, and short enough that no text costs a long conversion.
WHOLE_NUMBER_TEXT_MAX = 10**20 - 1


class WholeNumberField(serializers.IntegerField):
    """A whole number as a JSON number or as text in the digits 0-9: DRF's own would read "٣", " 1" and "1.0"."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        # Bounded only in length here: the field's own min_value and max_value say what is out of range.
        if isinstance(data, str) and whole_number(data, maximum=WHOLE_NUMBER_TEXT_MAX) is None:
            self.fail("invalid")
        number: int = super().to_internal_value(data)
        return number


@method_decorator(conditional_page, name="dispatch")  # ETag on every GET; If-None-Match answers 304
class AccountAPIView(GenericAPIView[Any]):
    """A view of the details API: an account's key, its rate, JSON in and out, the account's rows only."""

    authentication_classes = [AccountAPIKeyAuthentication]
    permission_classes = [HasAccountAPIKey]
    throttle_classes = [APIKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [BoundedJSONParser]
    pagination_class = NewestFirstPagination

    @property
    def account_id(self) -> int:
        """The account the request's key belongs to: every query of the API is scoped to it."""
        return int(request_api_key(self.request).account_id)

    def first_or_404(self, rows: QuerySet[Row], what: str) -> Row:
        """The first of `rows` (already filtered to the key's account), or a 404 that names what is missing."""
        found = rows.first()
        if found is None:
            raise Http404(f"No such {what}.")
        return found
