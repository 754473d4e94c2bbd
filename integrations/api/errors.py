"""The API's error answers: always JSON `{"detail": …}`, documented once for every endpoint."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(help_text="What went wrong, for people."),
    },
)
ValidationErrorSerializer = inline_serializer(
    name="ValidationError",
    fields={
        "field": serializers.ListField(child=serializers.CharField(), help_text="Each parameter's or field's errors."),
    },
)


def _error(description: str, detail: str, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    example = {"detail": detail} if serializer is ErrorSerializer else {"type": [detail]}
    return OpenApiResponse(serializer, description=description, examples=[OpenApiExample(description, example)])


ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: _error("A parameter or field is not valid", '"sometype" is not a valid choice.', ValidationErrorSerializer),
    401: _error("No key, or a key that is malformed, wrong, revoked or expired", "This API key has expired."),
    404: _error("Not found (or another account's: the same answer)", "No such event."),
    429: _error("Over the key's rate; wait as long as Retry-After says", "Request was throttled."),
}
