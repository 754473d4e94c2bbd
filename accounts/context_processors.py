"""Puts the signed-in user's account in every template (for the avatar menu)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import account_for_user


def current_account(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_account": None}
    return {"current_account": account_for_user(user=user)}
