"""Read-only queries about who belongs to which account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Account, Membership


def account_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Account | None:
    """The account a signed-in user works in: their first membership (admin roles first)."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("role", "account_id")  # "admin" sorts before "member"
        .first()
    )
    return membership.account if membership else None


def admin_account_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Account | None:
    """The account the user administers (the first, by id), or None when they administer none."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.filter(user=user, role=Membership.Role.ADMIN)
        .select_related("account")
        .order_by("account_id")
        .first()
    )
    return membership.account if membership else None
