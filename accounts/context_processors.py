"""Puts the signed-in user's account in every template (for the avatar menu)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import membership_for_request


def current_account(request: HttpRequest) -> dict[str, Any]:
    if getattr(request, "user", None) is None:
        return {"current_account": None}
    membership = membership_for_request(request)
    return {"current_account": membership.account if membership else None}
