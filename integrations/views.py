"""The Integrations page: the Webhook tab where an account admin sets the URL and reads the secret."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import host
from .forms import WebhookURLForm
from .webhooks import webhook_for_account, webhook_save_url


@login_required
@require_http_methods(["GET", "POST"])
def webhook_tab(request: HttpRequest) -> HttpResponse:
    account = host.admin_account_for(request.user)
    if account is None:
        # Not an admin of any account: the page does not exist for them.
        raise Http404("No account to manage.")
    webhook = webhook_for_account(account=account)
    form = WebhookURLForm(request.POST or None, initial={"url": webhook.url if webhook else ""})
    if request.method == "POST" and form.is_valid():
        try:
            webhook_save_url(account=account, url=form.cleaned_data["url"])
        except ValidationError as error:
            form.add_error("url", error.message_dict.get("url", error.messages))
        else:
            messages.success(request, "Webhook URL saved. Notifications will be sent to it.")
            return redirect("integrations:webhook")
    return render(
        request,
        "integrations/webhook_tab.html",
        {"form": form, "webhook": webhook, "account": account, "active_tab": "webhook"},
        status=400 if form.errors else 200,
    )
