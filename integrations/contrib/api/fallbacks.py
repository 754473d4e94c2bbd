"""The API's answers that need no Django REST framework, for the host's URLconf and handler500 (they load
even while integrations.E021 says the API's base apps are missing): where its docs are, a JSON 404 for
any other path under it, a JSON 500."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt

from ...conf import conf


def api_docs_url() -> str | None:
    """Where the host serves the API's documentation, if it does (a URL named "api-docs")."""
    try:
        return reverse("api-docs")
    except NoReverseMatch:
        return None


@csrf_exempt  # the API takes no cookies; whatever the method, the answer is this JSON 404
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a JSON 404, never an HTML page."""
    docs = api_docs_url()
    listed = f" The endpoints are listed at {docs}." if docs else ""
    return JsonResponse({"detail": f"There is no such API endpoint.{listed}"}, status=404)


def api_server_error(request: HttpRequest) -> JsonResponse | None:
    """For a host's handler500: under the API, an unexpected error is JSON too (None elsewhere)."""
    if not request.path.startswith(conf.API_PREFIX):
        return None
    return JsonResponse({"detail": "Something went wrong on our side; it was logged. Try again later."}, status=500)
