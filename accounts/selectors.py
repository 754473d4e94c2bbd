"""Read-only queries about who belongs to which account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from .models import Account, Membership


def membership_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    """The membership a signed-in user works in: their first, admin roles first."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("role", "account_id")  # "admin" sorts before "member"
        .first()
    )


def membership_for_request(request: HttpRequest) -> Membership | None:
    """membership_for_user, asked once per request (the avatar menu and the view both need it)."""
    if not hasattr(request, "_membership"):
        request._membership = membership_for_user(user=request.user)  # type: ignore[attr-defined]
    return request._membership  # type: ignore[attr-defined,no-any-return]


def admin_account(membership: Membership | None) -> Account | None:
    # Admin memberships sort first, so the user administers an account exactly when this one is admin.
    return membership.account if membership and membership.role == Membership.Role.ADMIN else None
