"""What every view of the details API shares, the host's included: keys, rate, JSON, cursor pages, ETags."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import conditional_page
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from ..conf import conf
from . import (
    API_PREFIX,
    schema,  # noqa: F401 -- registers the API key's security scheme with drf-spectacular
)
from .auth import AccountAPIKeyAuthentication, APIKeyRateThrottle, HasAccountAPIKey, request_api_key
from .docs import api_docs_url

Row = TypeVar("Row", bound=Model)


class NewestFirstPagination(CursorPagination):
    """Cursor pages, newest first: stable while new items arrive, unlike page numbers."""

    ordering = ("-created_at", "-pk")
    page_size_query_param = "limit"
    max_page_size = 200

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters

    def get_page_size(self, request: Request) -> int | None:
        self.page_size = conf.API_PAGE_SIZE
        asked = request.query_params.get(self.page_size_query_param or "limit")
        if asked is not None and not (
            asked.isascii() and asked.isdigit() and len(asked) <= 3 and 0 < int(asked) <= self.max_page_size
        ):
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return super().get_page_size(request)


@method_decorator(conditional_page, name="dispatch")  # ETag on every GET; If-None-Match answers 304
class AccountAPIView(GenericAPIView[Any]):
    """A view of the details API: an account's key, its rate, JSON in and out, the account's rows only."""

    authentication_classes = [AccountAPIKeyAuthentication]
    permission_classes = [HasAccountAPIKey]
    throttle_classes = [APIKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
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


@csrf_exempt  # the API takes no cookies; whatever the method, the answer is this JSON 404
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a JSON 404, never an HTML page."""
    docs = api_docs_url()
    listed = f" The endpoints are listed at {docs}." if docs else ""
    return JsonResponse({"detail": f"There is no such API endpoint.{listed}"}, status=404)


def api_server_error(request: HttpRequest) -> JsonResponse | None:
    """For a host's handler500: under the API, an unexpected error is JSON too (None elsewhere)."""
    if not request.path.startswith(API_PREFIX):
        return None
    return JsonResponse({"detail": "Something went wrong on our side; it was logged. Try again later."}, status=500)
