"""Object ids in API paths: whole numbers a database can hold; anything longer is a 404, never an overflow."""

from __future__ import annotations

from typing import Any

from django.urls import register_converter
from drf_spectacular.utils import OpenApiParameter

from ...parameters import MAX_ID


class ObjectIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(value)


register_converter(ObjectIdConverter, "object_id")


def id_parameter(name: str, description: str = "") -> OpenApiParameter:
    """The path parameter as the schema shows it: an integer within what the path accepts."""
    schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    return OpenApiParameter(name, schema, OpenApiParameter.PATH, description=description)
