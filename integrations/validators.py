"""Validation of webhook URLs, shared by the form, Django admin and the API (via full_clean)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from .adapter import subscribable_names
from .destinations import DestinationRefused, check_host

# Longer URLs are refused (the field's max_length): no receiver needs more, and browsers cut near here.
URL_MAX_LENGTH = 2000


# A start typed for "http(s)://" (htps://, https//, http:/, HTTPS:): its letters, then a colon or slashes.
_HTTPISH_START = re.compile(r"^(?P<letters>[htps]{3,7})(?::/*|;/*|/+)", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)(//)?", re.IGNORECASE)


def url_suggestion(value: str) -> str:
    """What to say of a URL without an http(s):// start: the protocols allowed, and a guess when there is one."""
    start = _HTTPISH_START.match(value)
    httpish = start is not None and {"h", "t", "p"} <= set(start["letters"].lower())
    if not httpish and (scheme := _SCHEME.match(value)) and "." not in scheme.group():
        return (
            f"Only http:// and https:// URLs are allowed ({scheme.group()[:20]} is not): "
            "we send notifications as HTTP POST requests."
        )
    rest = value[start.end() :] if httpish and start else value
    if rest and "." in rest.split("/")[0] and not _SCHEME.match(rest) and "@" not in rest.split("/")[0]:
        return f"Enter a URL that starts with https:// or http://. Did you mean https://{rest[:200]}?"
    return "Enter a URL that starts with http:// or https:// (the protocol is required)."


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
    if parts.scheme not in {"http", "https"} or not value.lower().startswith(("http://", "https://")):
        raise ValidationError(url_suggestion(value), code="scheme")
    if not parts.hostname:
        raise ValidationError("Enter a URL with a host name, like https://example.com/hooks.", code="no_host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("The URL cannot contain a user name or password.", code="userinfo")
    try:
        check_host(parts.hostname)
    except DestinationRefused as error:
        raise ValidationError(str(error), code="destination") from error


# Deliveries per second an admin may set as an endpoint's maximum rate.
MAX_RATE_LIMIT = 1000
CUSTOM_HEADERS_MAX = 5
CUSTOM_HEADER_VALUE_MAX = 1000
# A header name: an HTTP token (RFC 9110), of a sensible length.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
# Headers a custom one cannot replace: our signature, what frames the body, the hop-by-hop ones, and those
# proxies write about the client (a receiver behind one may believe them about who sent the request).
RESERVED_HEADERS = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "cookie",
        "expect",
        "forwarded",
        "host",
        "keep-alive",
        "max-forwards",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "true-client-ip",
        "user-agent",
        "via",
        "x-client-ip",
        "x-real-ip",
    }
)
RESERVED_HEADER_PREFIXES = ("webhook-", "x-forwarded-", "sec-", "proxy-")


def validate_single_line(value: str) -> None:
    if not str(value).isprintable():
        raise ValidationError(
            "Remove the line breaks, control or invisible characters: they cannot be shown safely.",
            code="unprintable",
        )


def validate_event_types(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Event types are a list of names.", code="invalid")
    known = subscribable_names()
    if len(value) > len(known) or len(set(value)) != len(value):
        raise ValidationError(
            "Name each event type at most once (there are %(count)s).",
            code="too_many",
            params={"count": len(known)},
        )
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError(
            "Unknown event type %(unknown)s; choose among %(known)s.",
            code="unknown_event_type",
            params={"unknown": ", ".join(unknown)[:200], "known": ", ".join(known)},
        )


def header_refusal(name: str, value: str) -> str | None:
    """Why this custom header cannot be sent; None when it can."""
    if not _HEADER_NAME.fullmatch(name):
        return "A header name is 1 to 64 letters, digits or -, like X-Api-Token."
    lowered = name.lower()
    if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_HEADER_PREFIXES):
        return f"{name} is set by us (signature, content or connection headers cannot be replaced)."
    if not value or len(value) > CUSTOM_HEADER_VALUE_MAX:
        return f"The value of {name} must be 1 to {CUSTOM_HEADER_VALUE_MAX} characters."
    # Visible ASCII and spaces only: no line break can start another header, nothing invisible hides.
    if not all(" " <= char <= "~" for char in value) or value != value.strip():
        return f"The value of {name} can hold visible ASCII characters and inner spaces only."
    return None


def validate_custom_headers(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and set(item) == {"name", "value"} and all(isinstance(v, str) for v in item.values())
        for item in value
    ):
        raise ValidationError("Custom headers are a list of {name, value} pairs.", code="invalid")
    if len(value) > CUSTOM_HEADERS_MAX:
        raise ValidationError(f"At most {CUSTOM_HEADERS_MAX} custom headers.", code="too_many")
    names = [item["name"].lower() for item in value]
    if len(set(names)) != len(names):
        raise ValidationError("Each custom header can appear once.", code="duplicate")
    for item in value:
        refusal = header_refusal(item["name"], item["value"])
        if refusal:
            raise ValidationError(refusal, code="header")
