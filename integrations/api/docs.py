"""Where the host serves the API's documentation, if it does (a URL named "api-docs")."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def api_docs_url() -> str | None:
    try:
        return reverse("api-docs")
    except NoReverseMatch:
        return None
