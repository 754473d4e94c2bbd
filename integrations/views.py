"""The Integrations page: the Webhook tab where an account admin sets the URL and reads the secret."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .adapter import get_adapter
from .api.docs import api_docs_url
from .apikeys import APIKeyRefused, api_key_create, api_key_revoke, api_keys_for_account
from .conf import conf
from .forms import APIKeyForm, WebhookURLForm
from .health import deliveries_failed_since_failing, webhook_enable
from .models import Delivery, Webhook
from .outbox import delivery_resend, webhook_send_test
from .ratelimits import action_refusal, rate_in_words
from .selectors import deliveries_for_webhook, delivery_for_account
from .webhooks import webhook_for_account, webhook_retired_secrets, webhook_rotate_secret, webhook_save_url


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Render an Integrations page: the base template it extends and the figures it shows come from settings."""
    figures = {
        "product_name": conf.PRODUCT_NAME,
        "secret_overlap_hours": f"{conf.SECRET_OVERLAP_HOURS:g}",
        "retired_secrets_max": conf.RETIRED_SECRETS_MAX,
        "action_rate": rate_in_words(conf.ACTION_RATE),
        "retention_days": f"{conf.RETENTION_DAYS:g}",
    }
    return render(
        request,
        template,
        {**context, "integrations_base_template": conf.BASE_TEMPLATE, "integrations_settings": figures},
        status=status,
    )


def _admin_account(request: HttpRequest) -> Any:
    account = get_adapter().account_for_admin(request.user)
    if account is None:
        # Not an admin of any account: the page does not exist for them.
        raise Http404("No account to manage.")
    return account


def _account_webhook(request: HttpRequest) -> Webhook:
    webhook = webhook_for_account(account=_admin_account(request))
    if webhook is None:
        raise Http404("No webhook yet.")
    return webhook


@login_required
@require_http_methods(["GET"])
def integrations_index(request: HttpRequest) -> HttpResponse:
    _admin_account(request)
    return redirect("integrations:webhook")


@login_required
@never_cache  # it shows the signing secret: no browser or proxy may keep a copy
@require_http_methods(["GET", "POST"])
def webhook_tab(request: HttpRequest) -> HttpResponse:
    account = _admin_account(request)
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
    return _render(
        request,
        "integrations/webhook_tab.html",
        {
            "form": form,
            "webhook": webhook,
            "failed_since_count": _failed_since_count(webhook),
            "retired_secrets": webhook_retired_secrets(webhook=webhook) if webhook else [],
            "account": account,
            "active_tab": "webhook",
        },
        status=400 if form.errors else 200,
    )


def _failed_since_count(webhook: Webhook | None) -> int:
    if webhook is None or webhook.is_active:
        return 0
    return deliveries_failed_since_failing(webhook=webhook).count()


@login_required
@require_POST
def webhook_enable_view(request: HttpRequest) -> HttpResponse:
    webhook = _account_webhook(request)
    if webhook.is_active:
        messages.info(request, "The webhook is already enabled.")
        return redirect("integrations:webhook")
    resent = webhook_enable(webhook=webhook, resend_failed=request.POST.get("resend") == "1")
    message = "Webhook re-enabled."
    if resent:
        message += f" Resending {resent} notification{'s' if resent != 1 else ''} that failed meanwhile."
    messages.success(request, message)
    return redirect("integrations:webhook")


@login_required
@require_POST
def webhook_rotate_secret_view(request: HttpRequest) -> HttpResponse:
    webhook = _account_webhook(request)
    dropped = webhook_rotate_secret(webhook=webhook)
    retired = webhook_retired_secrets(webhook=webhook)
    message = "New signing secret created."
    if retired:
        message += (
            f" Until {retired[-1].expires_at:%d %b %Y, %H:%M} UTC requests also carry a signature with the "
            "previous secret: switch your endpoint to the new one before then."
        )
    if dropped:
        message += (
            f" {len(dropped)} older secret{pluralize(len(dropped))} stopped signing now, since at most "
            f"{conf.RETIRED_SECRETS_MAX} previous secrets sign at once."
        )
    messages.success(request, message)
    return redirect("integrations:webhook")


DELIVERIES_PER_PAGE = 50


@login_required
@require_http_methods(["GET"])
def delivery_log(request: HttpRequest) -> HttpResponse:
    webhook = _account_webhook(request)
    status = request.GET.get("status", "")
    if status not in {"", *Delivery.Status.values}:
        status = ""
    page = Paginator(deliveries_for_webhook(webhook=webhook, status=status), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return _render(
        request,
        "integrations/delivery_log.html",
        {
            "webhook": webhook,
            "page": page,
            "status": status,
            "statuses": Delivery.Status.choices,
            "active_tab": "deliveries",
        },
    )


@login_required
@require_http_methods(["GET"])
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_for_account(account=_admin_account(request), delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    return _render(
        request,
        "integrations/delivery_detail.html",
        {"delivery": delivery, "attempts": delivery.attempts.all(), "active_tab": "deliveries"},
    )


@login_required
@require_POST
def delivery_resend_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_for_account(account=_admin_account(request), delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    if delivery.webhook is None or not delivery.webhook.is_active:
        messages.error(request, "Re-enable the webhook before resending.")
    elif refusal := action_refusal(request, action="resend"):
        messages.error(request, refusal)
    else:
        delivery_resend(delivery=delivery)
        messages.success(request, "Resending the notification (same webhook-id, so your endpoint can deduplicate).")
    return redirect("integrations:delivery", delivery_id=delivery.pk)


@login_required
@require_POST
def webhook_send_test_view(request: HttpRequest) -> HttpResponse:
    webhook = _account_webhook(request)
    if not webhook.is_active:
        messages.error(request, "Re-enable the webhook before sending a test.")
    elif refusal := action_refusal(request, action="send_test"):
        messages.error(request, refusal)
    else:
        webhook_send_test(webhook=webhook)
        messages.success(request, "Test notification sent. Its delivery appears in the log below.")
        return redirect("integrations:deliveries")
    return redirect("integrations:webhook")


@login_required
@never_cache  # a new key is shown once, in this answer: no browser or proxy may keep a copy
@require_http_methods(["GET", "POST"])
def api_keys_tab(request: HttpRequest) -> HttpResponse:
    account = _admin_account(request)
    form = APIKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            _, new_key = api_key_create(account_id=account.pk, name=form.cleaned_data["name"], expires_at=expires_at)
        except APIKeyRefused as error:
            form.add_error(None, str(error))
        else:
            form = APIKeyForm()
    return _render(
        request,
        "integrations/api_keys_tab.html",
        {
            "form": form,
            "new_key": new_key,
            "api_keys": api_keys_for_account(account_id=account.pk),
            "api_docs_url": api_docs_url(),
            "active_tab": "api_keys",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, prefix: str) -> HttpResponse:
    account = _admin_account(request)
    if not api_key_revoke(account_id=account.pk, prefix=prefix):
        raise Http404("No such key.")
    messages.success(request, "API key revoked: requests with it are refused from now on.")
    return redirect("integrations:api_keys")
