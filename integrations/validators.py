"""Validation of webhook URLs, shared by the form, Django admin and the API (via full_clean)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from .destinations import DestinationRefused, check_host

# Longer URLs are refused (the field's max_length): no receiver needs more, and browsers cut near here.
URL_MAX_LENGTH = 2000


def validate_webhook_url(value: str) -> None:
    if len(value) > URL_MAX_LENGTH:
        # The field's own max_length check reports this one.
        return
    if any(char.isspace() for char in value):
        raise ValidationError("The URL cannot contain spaces or other whitespace.", code="whitespace")
    if not value.isprintable():
        # NUL cannot be stored; control and invisible characters (zero-width, bidi overrides) hide
        # what the URL really is from whoever reads it next.
        raise ValidationError(
            "The URL cannot contain control or invisible characters; type it again or paste it as plain text.",
            code="unprintable",
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError as error:
        raise ValidationError("Enter a valid URL.", code="invalid") from error
    if parts.scheme not in {"http", "https"}:
        raise ValidationError(
            "Enter a URL that starts with http:// or https:// (the protocol is required).", code="scheme"
        )
    if not parts.hostname:
        raise ValidationError("Enter a URL with a host name, like https://example.com/hooks.", code="no_host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("The URL cannot contain a user name or password.", code="userinfo")
    try:
        check_host(parts.hostname)
    except DestinationRefused as error:
        raise ValidationError(str(error), code="destination") from error
