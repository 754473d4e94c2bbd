"""The Integrations page: the Webhook tab (endpoints), each endpoint's page, the delivery log and the event
catalog (the API keys tab is the API part's). Thin views: the services (webhooks, outbox, health) do the work."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import events
from .adapter import admin_accounts, get_adapter, subscribable, subscribable_names
from .conf import conf
from .forms import EndpointForm, RecoverForm, RotateSecretForm, SendExampleForm
from .health import deliveries_failed_since_failing, webhook_enable, webhook_retry_now
from .models import Delivery, Webhook
from .outbox import deliveries_to_recover, delivery_resend, webhook_recover, webhook_send_example, webhook_send_test
from .parameters import whole_number
from .ratelimits import action_refusal, rate_in_words
from .selectors import (
    LOG_FILTERS,
    deliveries_for_account,
    delivery_for_account,
    endpoint_rows,
    log_page,
    troubled_endpoints,
    waiting_for,
)
from .stats import webhook_charts, webhook_summary
from .webhooks import (
    EndpointsFull,
    RetiredSecret,
    Rotation,
    webhook_create,
    webhook_end_retired_secret,
    webhook_of_account,
    webhook_pending_count,
    webhook_retired_secret,
    webhook_retired_secrets,
    webhook_rotate_secret,
    webhook_update,
    webhooks_for_account,
)


def _in_words(items: list[str]) -> str:
    """ "a, b and c"."""
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def render_page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Render an Integrations page (an optional part's tab too): the account it shows, its endpoints in
    trouble, and the figures from settings."""
    account = context.get("account") or admin_account(request)
    figures = {
        "product_name": conf.PRODUCT_NAME,
        "secret_overlap_hours": f"{conf.SECRET_OVERLAP_HOURS:g}",
        "retired_secrets_max": conf.RETIRED_SECRETS_MAX,
        "action_rate": rate_in_words(conf.ACTION_RATE),
        "retention_days": f"{conf.RETENTION_DAYS:g}",
        "endpoints_max": conf.ENDPOINTS_MAX,
        "alert_after_failures": conf.ALERT_AFTER_FAILURES,
        "event_titles": _in_words([event_type.title.lower() for event_type in subscribable()]),
        "example_note": get_adapter().example_note,
    }
    troubled = list(troubled_endpoints(account=account))
    return render(
        request,
        template,
        {
            **context,
            "account": account,
            "accounts": admin_accounts(request),
            "troubled_endpoints": troubled,
            "integrations_base_template": conf.BASE_TEMPLATE,
            "integrations_settings": figures,
        },
        status=status,
    )


def admin_account(request: HttpRequest) -> Any:
    """The account the signed-in admin manages on these pages; a 404 for anyone else."""
    account = get_adapter().account_for_request(request)
    if account is None:
        # Not an admin of any account: the page does not exist for them.
        raise Http404("No account to manage.")
    return account


def _endpoint(request: HttpRequest, webhook_id: object) -> Webhook:
    """The endpoint, if it is the shown account's; a 404 otherwise (never a 403: ids are not disclosed)."""
    webhook = webhook_of_account(account=admin_account(request), webhook_id=webhook_id)
    if webhook is None:
        raise Http404("No such endpoint.")
    return webhook


def _endpoint_initial(webhook: Webhook) -> dict[str, Any]:
    return {
        "url": webhook.url,
        "description": webhook.description,
        "event_types": webhook.event_types or list(subscribable_names()),
        "is_active": webhook.is_active,
        "max_rate": webhook.max_rate,
    }


def _field_errors(form: Any, error: ValidationError) -> None:
    """A model's ValidationError on the form's fields (the URL's SSRF guard, the header rules)."""
    for field, field_messages in getattr(error, "message_dict", {"__all__": error.messages}).items():
        form.add_error(field if field in form.fields else None, field_messages)


@login_required
@require_http_methods(["GET"])
def integrations_index(request: HttpRequest) -> HttpResponse:
    admin_account(request)
    return redirect("integrations:webhook")


@login_required
@require_POST
def account_switch(request: HttpRequest) -> HttpResponse:
    """Show another account the user administers; back to where they were (a page of this site only)."""
    chosen = request.POST.get("account", "")
    accounts = {str(account.pk): account for account in admin_accounts(request)}
    if chosen not in accounts:
        raise Http404("No such account.")
    request.session[conf.ACCOUNT_SESSION_KEY] = accounts[chosen].pk
    messages.success(request, f"Now showing {accounts[chosen]}.")
    return redirect(_list_page_or_tab(request.POST.get("next", ""), request))


def _list_page_or_tab(next_url: str, request: HttpRequest) -> str:
    """Back to the page the switch came from when it is a list (an object's page is the old account's)."""
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        try:
            match = resolve(urlsplit(next_url).path)
        except Http404:
            match = None
        if match is not None and not match.kwargs:
            return next_url
    return reverse("integrations:webhook")


@login_required
@require_http_methods(["GET", "POST"])
def webhook_tab(request: HttpRequest) -> HttpResponse:
    """The Webhook tab: the account's endpoints, with their health, and the form to add one."""
    account = admin_account(request)
    form = EndpointForm(request.POST or None, initial={"event_types": list(subscribable_names()), "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhook_create(account=account, **form.endpoint_fields(saved_headers=[]))
        except EndpointsFull as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            _field_errors(form, error)
        else:
            messages.success(request, "Endpoint added. Notifications will be sent to it; its signing secret is below.")
            return redirect("integrations:endpoint", webhook_id=webhook.pk)
    return render_page(
        request,
        "integrations/webhook_tab.html",
        {"form": form, "endpoints": endpoint_rows(account=account), "active_tab": "webhook", "account": account},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache  # it shows the signing secret: no browser or proxy may keep a copy
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = _endpoint(request, webhook_id)
    form = EndpointForm(
        request.POST or None, initial=_endpoint_initial(webhook), has_headers=bool(webhook.custom_headers)
    )
    if request.method == "POST" and form.is_valid():
        try:
            webhook_update(webhook=webhook, **form.endpoint_fields(saved_headers=webhook.custom_headers))
        except ValidationError as error:
            webhook.refresh_from_db()
            _field_errors(form, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("integrations:endpoint", webhook_id=webhook.pk)
    test_delivery = None
    test_id = whole_number(request.GET.get("test"))  # the delivery "Send test" made; anything else is ignored
    if test_id is not None:
        test_delivery = delivery_for_account(account=webhook.account_id, delivery_id=test_id)
    summary = webhook_summary(webhook=webhook)
    recent = list(deliveries_for_account(account=webhook.account_id, webhook=webhook)[:10])
    return render_page(
        request,
        "integrations/endpoint.html",
        {
            "webhook": webhook,
            "form": form,
            "summary": summary,
            "charts": webhook_charts(webhook=webhook),
            "recent": recent,
            "any_pending": any(delivery.status == Delivery.Status.PENDING for delivery in recent),
            "retired_secrets": webhook_retired_secrets(webhook=webhook),
            "failed_since_count": _failed_since_count(webhook),
            "recover_form": RecoverForm(initial={"since": _recover_default_since(webhook)}),
            "waiting": waiting_for(webhook=webhook),
            "example_form": SendExampleForm(),
            "test_delivery": test_delivery,
            "test_refused": request.session.pop(INLINE_REFUSAL_KEY, None),
            "active_tab": "webhook",
        },
        status=400 if form.errors else 200,
    )


def _failed_since_count(webhook: Webhook) -> int:
    if webhook.is_active or webhook.disabled_at is None:
        return 0
    return deliveries_failed_since_failing(webhook=webhook).count()


def _recover_default_since(webhook: Webhook) -> Any:
    return webhook.failing_since or timezone.now() - timedelta(hours=24)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = _endpoint(request, webhook_id)
    if request.method == "POST":
        url = webhook.url
        webhook.delete()  # its pending deliveries are cancelled first (receivers.webhook_pre_delete)
        messages.success(request, f"Endpoint {url} deleted.")
        return redirect("integrations:webhook")
    return render_page(
        request,
        "integrations/endpoint_delete.html",
        {"webhook": webhook, "pending": webhook_pending_count(webhook=webhook), "active_tab": "webhook"},
    )


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = _endpoint(request, webhook_id)
    if webhook.is_active:
        messages.info(request, "The endpoint is already enabled.")
        return redirect("integrations:endpoint", webhook_id=webhook.pk)
    if webhook.disabled_at is None:
        webhook_update(webhook=webhook, is_active=True)
        messages.success(request, "Endpoint resumed: the notifications that waited are being sent.")
        return redirect("integrations:endpoint", webhook_id=webhook.pk)
    resent = webhook_enable(webhook=webhook, resend_failed=request.POST.get("resend") == "1")
    message = "Endpoint re-enabled."
    if resent:
        message += f" Resending {resent} notification{pluralize(resent)} that failed meanwhile."
    messages.success(request, message)
    return redirect("integrations:endpoint", webhook_id=webhook.pk)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def endpoint_rotate_secret(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """GET: what rotating does, and the overlap to choose; POST: rotate."""
    webhook = _endpoint(request, webhook_id)
    form = RotateSecretForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rotation = webhook_rotate_secret(webhook=webhook, overlap_hours=form.cleaned_data["overlap_hours"])
        messages.success(request, _rotation_message(rotation, webhook_retired_secrets(webhook=webhook)))
        return redirect("integrations:endpoint", webhook_id=webhook.pk)
    return render_page(
        request,
        "integrations/endpoint_rotate.html",
        {
            "webhook": webhook,
            "form": form,
            "retired_secrets": webhook_retired_secrets(webhook=webhook),
            "active_tab": "webhook",
        },
        status=400 if form.errors else 200,
    )


def _when(moment: datetime) -> str:
    return f"{moment:%-d %b %Y, %H:%M} UTC"


def _rotation_message(rotation: Rotation, still_signing: list[RetiredSecret]) -> str:
    """What the admin must do, and by when: the secret just replaced first (their receiver holds it)."""
    message = "New signing secret created."
    if rotation.replaced is None:
        message += f" The secret it replaced ({rotation.replaced_prefix}…) stopped signing now."
    else:
        message += (
            f" The secret it replaced ({rotation.replaced.prefix}…) also signs every request until "
            f"{_when(rotation.replaced.expires_at)}: switch your endpoint to the new one before then."
        )
    others = [entry for entry in still_signing if entry != rotation.replaced]
    if others:
        listed = ", ".join(f"{entry.prefix}… until {_when(entry.expires_at)}" for entry in others)
        message += f" Older secrets still signing: {listed}."
    if rotation.dropped:
        listed = ", ".join(f"{entry.prefix}…" for entry in rotation.dropped)
        message += (
            f" {listed} stopped signing now, since at most {conf.RETIRED_SECRETS_MAX} previous secrets sign at once."
        )
    return message


@login_required
@never_cache  # the page names the secret's first characters
@require_http_methods(["GET", "POST"])
def endpoint_end_secret(request: HttpRequest, webhook_id: int, secret_prefix: str) -> HttpResponse:
    """GET: asks first (it cannot be undone); POST: the previous secret stops signing now."""
    webhook = _endpoint(request, webhook_id)
    retired = webhook_retired_secret(webhook=webhook, prefix=secret_prefix)
    if retired is None:
        messages.info(request, "That previous secret no longer signs: nothing to end.")
        return redirect("integrations:endpoint", webhook_id=webhook.pk)
    if request.method == "POST":
        webhook_end_retired_secret(webhook=webhook, ended=retired)
        messages.success(request, f"The previous secret {retired.prefix}… stopped signing now.")
        return redirect("integrations:endpoint", webhook_id=webhook.pk)
    return render_page(
        request,
        "integrations/endpoint_end_secret.html",
        {"webhook": webhook, "retired": retired, "active_tab": "webhook"},
    )


def _first_outcome(delivery: Delivery) -> Delivery:
    """Wait briefly (TEST_WAIT_SECONDS) for the first attempt, so that the page can say how it went."""
    deadline = time.monotonic() + conf.TEST_WAIT_SECONDS
    while time.monotonic() < deadline:
        if delivery.attempts.exists():
            break
        time.sleep(0.1)
    return delivery


# Where a refused test or example says why: beside the button that was clicked, not in a flash at the top.
INLINE_REFUSAL_KEY = "integrations_test_refused"


def _refused(request: HttpRequest, webhook: Webhook, action: str, *, inline: bool = False) -> bool:
    """Say why an action that sends cannot run now; False when it can."""
    message = "Enable the endpoint first: it is paused or disabled." if not webhook.is_active else None
    if message is None:
        refusal = action_refusal(request, action=action)
        message = refusal.message if refusal else None
    if message is None:
        return False
    if inline:
        request.session[INLINE_REFUSAL_KEY] = message
    else:
        messages.error(request, message)
    return True


def _test_section(webhook: Webhook, request: HttpRequest, delivery: Delivery | None = None) -> str:
    """The endpoint's page at its test section, showing `delivery`'s result, or the one shown before."""
    shown = delivery.pk if delivery is not None else whole_number(request.POST.get("shown_test"))
    query = f"?test={shown}" if shown is not None else ""
    return reverse("integrations:endpoint", args=[webhook.pk]) + query + "#test"


@login_required
@require_POST
def endpoint_send_test(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = _endpoint(request, webhook_id)
    if _refused(request, webhook, "send_test", inline=True):
        return redirect(_test_section(webhook, request))
    return redirect(_test_section(webhook, request, _first_outcome(webhook_send_test(webhook=webhook))))


@login_required
@require_POST
def endpoint_send_example(request: HttpRequest, webhook_id: int) -> HttpResponse:
    return _send_example(request, _endpoint(request, webhook_id))


@login_required
@require_POST
def event_send_example(request: HttpRequest) -> HttpResponse:
    """The event catalog's "Send example", to the endpoint chosen there."""
    return _send_example(request, _endpoint(request, request.POST.get("endpoint", "")))


def _send_example(request: HttpRequest, webhook: Webhook) -> HttpResponse:
    form = SendExampleForm(request.POST)
    if not form.is_valid():
        request.session[INLINE_REFUSAL_KEY] = "Choose one of the event types to send an example of."
    elif not _refused(request, webhook, "send_test", inline=True):
        delivery = _first_outcome(webhook_send_example(webhook=webhook, event_type=form.cleaned_data["event_type"]))
        return redirect(_test_section(webhook, request, delivery))
    return redirect(_test_section(webhook, request))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_recover(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """GET: how many deliveries a recovery since a time would resend (a dry run); POST: resend them."""
    webhook = _endpoint(request, webhook_id)
    form = RecoverForm(request.POST if request.method == "POST" else request.GET or None)
    count = None
    if form.is_bound and form.is_valid():
        since = form.cleaned_data["since"]
        if request.method == "POST" and not _refused(request, webhook, "recover"):
            resent = webhook_recover(webhook=webhook, since=since)
            messages.success(
                request,
                f"Resending {resent} notification{pluralize(resent)} that failed since {_when(since)}, "
                "each with its own webhook-id, so your endpoint can deduplicate.",
            )
            return redirect("integrations:endpoint", webhook_id=webhook.pk)
        count = deliveries_to_recover(webhook=webhook, since=since).count()
    return render_page(
        request,
        "integrations/endpoint_recover.html",
        {
            "webhook": webhook,
            "form": form,
            "count": count,
            "waiting": waiting_for(webhook=webhook),
            "active_tab": "webhook",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def endpoint_retry_now(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """What waits (retries, and what the breaker holds) is sent now, through the normal path."""
    webhook = _endpoint(request, webhook_id)
    if not _refused(request, webhook, "retry_now"):
        made_due = webhook_retry_now(webhook=webhook)
        if made_due:
            messages.success(
                request,
                f"Sending {made_due} waiting notification{pluralize(made_due)} now to {webhook.url}. "
                "Their results show below as they come in.",
            )
        else:
            messages.info(request, "Nothing is waiting for this endpoint any more.")
    return redirect(reverse("integrations:endpoint", args=[webhook.pk]) + "#recent")


DELIVERIES_PER_PAGE = 50


@login_required
@require_http_methods(["GET"])
def delivery_log(request: HttpRequest) -> HttpResponse:
    account = admin_account(request)
    status = request.GET.get("status", "")
    if status not in {"", *(value for value, _ in LOG_FILTERS)}:
        status = ""
    endpoint = webhook_of_account(account=account, webhook_id=request.GET.get("endpoint", ""))
    deliveries = deliveries_for_account(account=account, webhook=endpoint, status=status)
    page = log_page(
        deliveries,
        older=whole_number(request.GET.get("older")),
        newer=whole_number(request.GET.get("newer")),
        size=DELIVERIES_PER_PAGE,
    )
    return render_page(
        request,
        "integrations/delivery_log.html",
        {
            "endpoint": endpoint,
            "endpoints": webhooks_for_account(account=account),
            "page": page,
            "status": status,
            "statuses": LOG_FILTERS,
            "any_pending": any(delivery.status == Delivery.Status.PENDING for delivery in page.deliveries),
            "active_tab": "deliveries",
            "account": account,
        },
    )


@login_required
@require_http_methods(["GET"])
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_for_account(account=admin_account(request), delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        body = json.dumps(json.loads(delivery.event.body), indent=2, ensure_ascii=False)
    except ValueError:
        body = delivery.event.body
    return render_page(
        request,
        "integrations/delivery_detail.html",
        {"delivery": delivery, "body": body, "attempts": delivery.attempts.all(), "active_tab": "deliveries"},
    )


@login_required
@require_POST
def delivery_resend_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_for_account(account=admin_account(request), delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    if delivery.webhook is None:
        messages.error(request, "Its endpoint was deleted: there is nowhere to resend it.")
    elif not _refused(request, delivery.webhook, "resend"):
        delivery_resend(delivery=delivery)
        messages.success(request, "Resending the notification (same webhook-id, so your endpoint can deduplicate).")
    return redirect("integrations:delivery", delivery_id=delivery.pk)


@login_required
@require_http_methods(["GET"])
def event_catalog(request: HttpRequest) -> HttpResponse:
    """Every event type: what it means, its JSON Schema and the example "Send example" sends."""
    account = admin_account(request)
    types = [
        {
            "type": event_type.name,
            "title": event_type.title,
            "description": event_type.description,
            "schema": json.dumps(event_type.body_schema, indent=2),
            "example": json.dumps(
                json.loads(events.example(account_id=account.pk, event_type=event_type.name).body), indent=2
            ),
        }
        for event_type in subscribable()
    ]
    return render_page(
        request,
        "integrations/event_catalog.html",
        {
            "catalog": types,
            "endpoints": webhooks_for_account(account=account).filter(is_active=True),
            "active_tab": "events",
            "account": account,
        },
    )
