"""Read-only queries about who belongs to which account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from integrations.parameters import whole_number

from .models import Account, Membership

# The account a member of several chose in the avatar menu's switcher (the Integrations app's setting).
ACCOUNT_SESSION_KEY = "account_id"


def membership_for_user(*, user: AbstractBaseUser | AnonymousUser, account_id: object = None) -> Membership | None:
    """The membership a signed-in user works in: the chosen account's, else their first, admin roles first."""
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("account")
    chosen_id = whole_number(account_id)
    chosen = memberships.filter(account_id=chosen_id).first() if chosen_id is not None else None
    return chosen or memberships.order_by("role", "account_id").first()  # "admin" sorts before "member"


def memberships_of_user(*, user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    """Every account the user belongs to, for the avatar menu's switcher."""
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("account").order_by("account__name", "id"))


def membership_for_request(request: HttpRequest) -> Membership | None:
    """membership_for_user, asked once per request (the avatar menu and the view both need it)."""
    if not hasattr(request, "_membership"):
        account_id = request.session.get(ACCOUNT_SESSION_KEY) if hasattr(request, "session") else None
        request._membership = membership_for_user(user=request.user, account_id=account_id)  # type: ignore[attr-defined]
    return request._membership  # type: ignore[attr-defined,no-any-return]


def admin_account(membership: Membership | None) -> Account | None:
    # Admin memberships sort first, so the user administers an account exactly when this one is admin.
    return membership.account if membership and membership.role == Membership.Role.ADMIN else None
