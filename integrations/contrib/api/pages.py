"""The Integrations page's API keys tab: admins create (shown once), list and revoke their account's keys.

Its URLs join the Integrations page's (namespace "integrations") when this part is installed.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ...conf import conf
from ...views import admin_account, render_page
from .fallbacks import api_docs_url
from .forms import APIKeyForm
from .keys import APIKeyRefused, api_key_create, api_key_of_account, api_key_revoke, api_key_rows


@login_required
@never_cache  # a new key is shown once, in this answer: no browser or proxy may keep a copy
@require_http_methods(["GET", "POST"])
def api_keys_tab(request: HttpRequest) -> HttpResponse:
    account = admin_account(request)
    form = APIKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            _, new_key = api_key_create(
                account_id=account.pk, name=form.cleaned_data["name"], expires_at=expires_at, created_by=request.user
            )
        except APIKeyRefused as error:
            form.add_error(None, str(error))
        else:
            form = APIKeyForm()
    rows = api_key_rows(account_id=account.pk)
    return render_page(
        request,
        "integrations/api_keys_tab.html",
        {
            "form": form,
            "new_key": new_key,
            "api_keys": rows,
            "keys_of_people_who_left": any(row.creator_left for row in rows),
            "api_docs_url": api_docs_url(),
            "api_prefix": conf.API_PREFIX,
            "active_tab": "api_keys",
            "account": account,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke_view(request: HttpRequest, prefix: str) -> HttpResponse:
    """GET: asks first, naming the key and when it was last used (it cannot be undone); POST: revokes it."""
    account = admin_account(request)
    api_key = api_key_of_account(account_id=account.pk, prefix=prefix)
    if api_key is None:
        raise Http404("No such key.")
    if request.method == "POST":
        api_key_revoke(account_id=account.pk, prefix=prefix)
        messages.success(request, f"API key “{api_key.name}” revoked: requests with it are refused from now on.")
        return redirect("integrations:api_keys")
    return render_page(
        request, "integrations/api_key_revoke.html", {"api_key": api_key, "account": account, "active_tab": "api_keys"}
    )
