"""The answer to a login that django-axes has locked out: its page, a 429, and when to try again."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """Every 429 says when to come back: here, when the cool-off ends (AXES_COOLOFF_TIME)."""
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
    cool_off = get_cool_off(request)
    if cool_off:
        response["Retry-After"] = str(max(1, int(cool_off.total_seconds())))
    return response
