"""The API's error answers: always JSON `{"detail": …}`, documented once for every endpoint."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "What went wrong, for people."}},
}
# Each parameter or field that is not valid, with its errors (or `detail` for the request as a whole).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}


def _error(description: str, detail: str, schema: dict[str, Any] = ERROR_SCHEMA) -> OpenApiResponse:
    example = {"detail": detail} if schema is ERROR_SCHEMA else {"type": [detail]}
    return OpenApiResponse(schema, description=description, examples=[OpenApiExample(description, example)])


ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: _error("A parameter or field is not valid", '"sometype" is not a valid choice.', VALIDATION_ERROR_SCHEMA),
    401: _error("No key, or a key that is malformed, wrong, revoked or expired", "This API key has expired."),
    404: _error("Not found (or another account's: the same answer)", "No such event."),
    429: _error("Over the key's rate; wait as long as Retry-After says", "Request was throttled."),
}
