"""Refuses requests carrying text no database can store, before any view or middleware reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape

from integrations.conf import conf

# PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) bytes"): a NUL in a share token, an
# identifier, a search box or a session cookie would otherwise reach a query and raise a 500.
UNSTORABLE = "\x00"


def _first_unstorable(pairs: Iterable[tuple[str, str]]) -> str | None:
    for name, value in pairs:
        if UNSTORABLE in name or UNSTORABLE in value:
            return name.replace(UNSTORABLE, "")
    return None


class UnstorableTextRefusedMiddleware:
    """A NUL anywhere in the path, the query, the form or the cookies is a clear 400, never a 500.

    Other control characters can be stored; the forms and views refuse those where a receiver
    could not take them, with a message on the field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            where = self._where_unstorable(request)
        except MultiPartParserError:
            return _bad_request(request, "The form data could not be read. Reload the page and try again.")
        if where is not None:
            return _bad_request(
                request,
                f"The request contains a NUL character (in {where}), which cannot be stored. Remove it and try again.",
            )
        return self.get_response(request)

    @staticmethod
    def _where_unstorable(request: HttpRequest) -> str | None:
        if UNSTORABLE in request.path:
            return "the address"
        for kind, data in (("the query", request.GET), ("the form", request.POST)):
            name = _first_unstorable((key, value) for key in data for value in data.getlist(key))
            if name is not None:
                return f"{kind}, field “{name}”"
        if _first_unstorable(request.COOKIES.items()) is not None:
            return "a cookie; clear this site's cookies"
        return None


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith(conf.API_PREFIX):  # the API answers in JSON, errors included
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(
        f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(message)}</p>",
        content_type="text/html; charset=utf-8",
    )
