"""Puts the signed-in user's account in every template (for the avatar menu and its account switcher)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import Membership
from .selectors import membership_for_request, memberships_of_user


def current_account(request: HttpRequest) -> dict[str, Any]:
    """The account the pages show, and the ones the user administers (the avatar menu's switcher)."""
    if getattr(request, "user", None) is None:
        return {"current_account": None, "switchable_accounts": []}
    membership = membership_for_request(request)
    admin_of = [m.account for m in memberships_of_user(user=request.user) if m.role == Membership.Role.ADMIN]
    return {
        "current_account": membership.account if membership else None,
        "switchable_accounts": admin_of if len(admin_of) > 1 else [],
    }
