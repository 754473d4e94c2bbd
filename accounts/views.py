"""The signed-in home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chats.selectors import flows_for_account

from .selectors import admin_account, membership_for_request


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_for_request(request)
    flows = flows_for_account(account=membership.account) if membership else []
    is_admin = admin_account(membership) is not None
    return render(request, "home.html", {"flows": flows, "is_admin": is_admin})
