"""Webhooks as code: the same services and validation as the Integrations page (the SSRF guard included)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Delivery, Webhook
from ..outbox import delivery_resend, webhook_send_test
from ..ratelimits import action_refusal
from ..webhooks import webhook_retired_secrets, webhook_rotate_secret, webhook_set_url
from .auth import request_api_key
from .base import AccountAPIView
from .errors import ERROR_RESPONSES
from .ids import id_parameter


class WebhookSerializer(serializers.ModelSerializer[Webhook]):
    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "is_active",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "failing_since",
            "breaker_open_until",
            "disabled_at",
            "disabled_reason",
        ]
        read_only_fields = [name for name in fields if name != "url"]


class WebhookWithSecretSerializer(WebhookSerializer):
    """Answers that hand out a signing secret: creating a webhook, rotating its secret."""

    secret = serializers.CharField(read_only=True, help_text="Verify signatures with it. Shown here only.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]


URL_BODY = inline_serializer(
    "WebhookURL",
    fields={"url": serializers.URLField(help_text="An http(s) URL with a public address; checked like the page's.")},
)
ACCEPTED = inline_serializer("Accepted", fields={"detail": serializers.CharField(), "eventId": serializers.CharField()})
WEBHOOK_ID = id_parameter("webhook_id")


def _save_url(webhook: Webhook, data: Any) -> Webhook:
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        raise ValidationError({"url": ["Send the URL as a string."]})
    try:
        return webhook_set_url(webhook=webhook, url=url)
    except DjangoValidationError as error:
        raise ValidationError({"url": error.message_dict.get("url", error.messages)}) from error


def _refuse_if_limited(request: Request, action: str) -> None:
    """The page's limit on tests and resends, counted per API key."""
    who = f"api-key:{request_api_key(request).prefix}"
    refusal = action_refusal(request, action=action, key=lambda group, req: who)
    if refusal:
        raise Throttled(detail=refusal)


@method_decorator(never_cache, name="dispatch")  # a created webhook's answer carries its secret
class WebhookList(AccountAPIView):
    serializer_class = WebhookSerializer

    def get_queryset(self) -> QuerySet[Webhook]:
        return Webhook.objects.filter(account_id=self.account_id)

    @extend_schema(summary="List webhooks", responses={200: WebhookSerializer(many=True), **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a webhook",
        description="Checked like the page's URL field: http(s), a public address, no credentials in it.",
        request=URL_BODY,
        responses={201: WebhookWithSecretSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        webhook = _save_url(Webhook(account_id=self.account_id), request.data)
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookAPIView(AccountAPIView):
    def webhook(self, webhook_id: int) -> Webhook:
        return self.first_or_404(Webhook.objects.filter(pk=webhook_id, account_id=self.account_id), "webhook")


class WebhookDetail(WebhookAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(
        summary="Get a webhook", parameters=[WEBHOOK_ID], responses={200: WebhookSerializer, **ERROR_RESPONSES}
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(self.get_serializer(self.webhook(webhook_id)).data)

    @extend_schema(
        summary="Change a webhook's URL",
        parameters=[WEBHOOK_ID],
        request=URL_BODY,
        responses={200: WebhookSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        return Response(self.get_serializer(_save_url(self.webhook(webhook_id), request.data)).data)

    @extend_schema(
        summary="Delete a webhook",
        description="Deliveries still on their way are cancelled; the log keeps them.",
        parameters=[WEBHOOK_ID],
        responses={204: None, **ERROR_RESPONSES},
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        self.webhook(webhook_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(never_cache, name="dispatch")
class WebhookRotateSecret(WebhookAPIView):
    serializer_class = WebhookWithSecretSerializer

    @extend_schema(
        summary="Rotate a webhook's signing secret",
        description="The previous secret keeps signing beside the new one for a while (previousSecretsExpire).",
        request=None,
        parameters=[WEBHOOK_ID],
        responses={200: WebhookWithSecretSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        webhook_rotate_secret(webhook=webhook)
        data = dict(self.get_serializer(webhook).data)
        data["previousSecretsExpire"] = [entry.expires_at for entry in webhook_retired_secrets(webhook=webhook)]
        return Response(data)


class WebhookSendTest(WebhookAPIView):
    @extend_schema(
        summary="Send a test notification",
        description="A signed `test` notification to this webhook, through the normal delivery path.",
        request=None,
        parameters=[WEBHOOK_ID],
        responses={202: ACCEPTED, **ERROR_RESPONSES},
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        if not webhook.is_active:
            raise ValidationError({"webhook": ["Re-enable the webhook before sending a test."]})
        _refuse_if_limited(request, "send_test")
        event = webhook_send_test(webhook=webhook)
        return Response({"detail": "Test notification queued.", "eventId": event.msg_id}, status=202)


class DeliveryResend(AccountAPIView):
    @extend_schema(
        summary="Resend a delivery",
        description="Sends it again with the same `webhook-id` and a fresh retry schedule.",
        request=None,
        parameters=[id_parameter("delivery_id")],
        responses={202: ACCEPTED, **ERROR_RESPONSES},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        deliveries = Delivery.objects.filter(pk=delivery_id, event__account_id=self.account_id)
        delivery = self.first_or_404(deliveries.select_related("event", "webhook"), "delivery")
        if delivery.webhook is None or not delivery.webhook.is_active:
            raise ValidationError({"delivery": ["Its webhook is deleted or disabled; re-enable it first."]})
        _refuse_if_limited(request, "resend")
        delivery_resend(delivery=delivery)
        return Response({"detail": "Resending.", "eventId": delivery.event.msg_id}, status=202)
