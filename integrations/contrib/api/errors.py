"""The API's error answers: always JSON `{"detail": …}`, documented once for every endpoint."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException

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
# The actions that make us send (test, example, resend, recover) are refused while their limiter cannot count.
ACTION_ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    **ERROR_RESPONSES,
    503: _error(
        "The rate limiter is unavailable (our cache is down): nothing was done; wait as long as Retry-After says",
        "Nothing was sent: our rate limiter is unavailable right now, so tests and examples are paused. "
        "Try again in 30 seconds.",
    ),
}


class ActionRefused(APIException):
    """An action over its rate limit (429), or refused because the limit cannot be counted (503).

    Its message says when to try again already; `wait` becomes the Retry-After header (DRF's handler).
    """

    status_code: int = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"

    def __init__(self, detail: str, *, wait: int, limiter_down: bool) -> None:
        super().__init__(detail, code="limiter_down" if limiter_down else "throttled")
        if limiter_down:
            self.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        self.wait = wait


def flat_errors(errors: Any) -> dict[str, list[str]]:
    """A serializer's errors in the documented shape, {field: [message]}: a nested item's path leads its message."""
    if not isinstance(errors, dict):
        return {"non_field_errors": [message for _, message in _messages(errors, "")]}
    return {
        str(field): [f"{path}: {message}" if path else message for path, message in _messages(inner, "")]
        for field, inner in errors.items()
    }


def _messages(errors: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        items = [(f"{path}.{key}" if key != "non_field_errors" else path, inner) for key, inner in errors.items()]
    elif isinstance(errors, list) and any(isinstance(item, (dict, list)) for item in errors):
        items = [(f"{path}[{index}]", inner) for index, inner in enumerate(errors)]
    else:
        return [(path.lstrip("."), str(message)) for message in (errors if isinstance(errors, list) else [errors])]
    return [found for inner_path, inner in items for found in _messages(inner, inner_path)]
