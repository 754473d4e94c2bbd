"""The signed-in home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chats.selectors import flows_for_account

from .selectors import account_for_user, admin_account_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    account = account_for_user(user=request.user)
    flows = flows_for_account(account=account) if account else []
    is_admin = account is not None and admin_account_for_user(user=request.user) == account
    return render(request, "home.html", {"flows": flows, "is_admin": is_admin})
