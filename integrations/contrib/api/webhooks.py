"""Webhooks as code: the same services and validation as the Integrations page (the SSRF guard included)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ...adapter import get_adapter, subscribable_names
from ...models import Delivery, Webhook
from ...outbox import (
    deliveries_to_recover,
    delivery_resend,
    webhook_recover,
    webhook_send_example,
    webhook_send_test,
)
from ...ratelimits import action_refusal
from ...validators import CUSTOM_HEADERS_MAX
from ...webhooks import (
    EDITABLE_FIELDS,
    EndpointsFull,
    webhook_create,
    webhook_retired_secrets,
    webhook_rotate_secret,
    webhook_update,
)
from .auth import request_api_key
from .base import AccountAPIView, WholeNumberField
from .errors import ACTION_ERROR_RESPONSES, ERROR_RESPONSES, ActionRefused, flat_errors
from .ids import id_parameter


class CustomHeaderSerializer(serializers.Serializer[dict[str, str]]):
    name = serializers.CharField(max_length=64)
    value = serializers.CharField(max_length=1000, write_only=True, trim_whitespace=False)


class WebhookSerializer(serializers.ModelSerializer[Webhook]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.PositiveIntegerField: WholeNumberField,
        models.IntegerField: WholeNumberField,
    }
    event_types = serializers.ListField(required=False)  # made in get_fields: the host's types are a setting
    custom_headers = CustomHeaderSerializer(  # type: ignore[call-arg]  # DRF takes max_length with many=True
        many=True,
        max_length=CUSTOM_HEADERS_MAX,
        required=False,
        help_text="Sent with every request; values are write-only (answers list the names).",
    )
    state = serializers.CharField(read_only=True, help_text="active, failing, waiting, paused or disabled.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        names = list(subscribable_names())  # the host's, read when the fields are first used (not on import)
        fields["event_types"] = serializers.ListField(
            child=serializers.ChoiceField(choices=names),
            max_length=len(names),  # each type once at most (a repeated one is kept once)
            required=False,
            help_text="The event types it receives; empty: every type, including ones added later.",
        )
        return fields

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "max_rate",
            "custom_headers",
            "state",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "failing_since",
            "breaker_open_until",
            "disabled_at",
            "disabled_reason",
        ]
        read_only_fields = [name for name in fields if name not in EDITABLE_FIELDS]
        extra_kwargs = {"url": {"required": True}}


class WebhookWithSecretSerializer(WebhookSerializer):
    """Answers that hand out a signing secret: creating a webhook, rotating its secret."""

    secret = serializers.CharField(read_only=True, help_text="Verify signatures with it. Shown here only.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]


ACCEPTED = inline_serializer("Accepted", fields={"detail": serializers.CharField(), "eventId": serializers.CharField()})
WEBHOOK_ID = id_parameter("webhook_id")


def _save(request: Request, webhook: Webhook | None, *, account_id: int) -> Webhook:
    """Validate the body with the serializer, then save through the page's services and model rules."""
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    serializer = WebhookSerializer(data=request.data, partial=webhook is not None)
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    changes = {name: value for name, value in serializer.validated_data.items() if name in EDITABLE_FIELDS}
    if "custom_headers" in changes:
        changes["custom_headers"] = [dict(header) for header in changes["custom_headers"]]
    try:
        if webhook is None:
            account = get_adapter().get_account_model()._default_manager.get(pk=account_id)
            return webhook_create(account=account, **changes)
        return webhook_update(webhook=webhook, **changes)
    except EndpointsFull as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error
    except DjangoValidationError as error:
        raise ValidationError(getattr(error, "message_dict", {"non_field_errors": error.messages})) from error


def _refuse_if_limited(request: Request, action: str) -> None:
    """The page's limit on tests, examples, resends and recoveries, counted per API key.

    Over it: a 429; when the limiter cannot count (Redis is down): a 503. Both with Retry-After.
    """
    who = f"api-key:{request_api_key(request).prefix}"
    refusal = action_refusal(request, action=action, key=lambda group, req: who)
    if refusal is not None:
        raise ActionRefused(refusal.message, wait=refusal.retry_after, limiter_down=refusal.limiter_down)


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
        summary="Create a webhook endpoint",
        description=(
            "Checked like the page's form: an http(s) URL with a public address and no credentials in it; "
            "at most INTEGRATIONS_ENDPOINTS_MAX endpoints per account."
        ),
        request=WebhookSerializer,
        responses={201: WebhookWithSecretSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        webhook = _save(request, None, account_id=self.account_id)
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
        summary="Change a webhook endpoint",
        description="Only the fields sent change. `is_active: false` pauses it; `true` resumes or re-enables it.",
        parameters=[WEBHOOK_ID],
        request=WebhookSerializer,
        responses={200: WebhookSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        return Response(self.get_serializer(_save(request, self.webhook(webhook_id), account_id=self.account_id)).data)

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
        responses={202: ACCEPTED, **ACTION_ERROR_RESPONSES},
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        if not webhook.is_active:
            raise ValidationError({"webhook": ["Re-enable the webhook before sending a test."]})
        _refuse_if_limited(request, "send_test")
        delivery = webhook_send_test(webhook=webhook)
        return Response({"detail": "Test notification queued.", "eventId": delivery.event.msg_id}, status=202)


class ExampleRequest(serializers.Serializer[dict[str, Any]]):
    eventType = serializers.ChoiceField(choices=[])  # noqa: N815 -- camelCase like the bodies

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["eventType"] = serializers.ChoiceField(choices=list(subscribable_names()))  # the host's, read now
        return fields


class WebhookSendExample(WebhookAPIView):
    @extend_schema(
        summary="Send an example of an event",
        description=(
            "The event catalog's example of `eventType`, signed and logged like a real notification "
            "(the catalog says how a receiver tells an example from a real one)."
        ),
        request=ExampleRequest,
        parameters=[WEBHOOK_ID],
        responses={202: ACCEPTED, **ACTION_ERROR_RESPONSES},
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        body = ExampleRequest(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        if not webhook.is_active:
            raise ValidationError({"webhook": ["Enable the webhook before sending an example."]})
        _refuse_if_limited(request, "send_test")
        delivery = webhook_send_example(webhook=webhook, event_type=body.validated_data["eventType"])
        return Response({"detail": "Example queued.", "eventId": delivery.event.msg_id}, status=202)


class RecoverRequest(serializers.Serializer[dict[str, Any]]):
    since = serializers.DateTimeField(help_text="Resend what failed for good since then (ISO 8601).")
    dryRun = serializers.BooleanField(  # noqa: N815 -- the API's names are camelCase like the bodies'
        default=False, help_text="Only count what would be resent."
    )


RECOVERED = inline_serializer(
    "Recovery",
    fields={
        "since": serializers.DateTimeField(),
        "dryRun": serializers.BooleanField(),
        "count": serializers.IntegerField(help_text="Deliveries resent (or that would be, on a dry run)."),
    },
)


class WebhookRecover(WebhookAPIView):
    @extend_schema(
        summary="Recover after an outage",
        description=(
            "Resends every delivery of this endpoint that failed for good since `since`, each with its own "
            "`webhook-id`. With `dryRun` only counts them. Rate-limited like resends (a dry run is not)."
        ),
        request=RecoverRequest,
        parameters=[WEBHOOK_ID],
        responses={200: RECOVERED, 202: RECOVERED, **ACTION_ERROR_RESPONSES},
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = self.webhook(webhook_id)
        body = RecoverRequest(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        since = body.validated_data["since"]
        if since > timezone.now():
            raise ValidationError({"since": ["Choose a time in the past."]})
        if body.validated_data["dryRun"]:
            count = deliveries_to_recover(webhook=webhook, since=since).count()
            return Response({"since": since, "dryRun": True, "count": count})
        if not webhook.is_active:
            raise ValidationError({"webhook": ["Enable the webhook before recovering."]})
        _refuse_if_limited(request, "recover")
        count = webhook_recover(webhook=webhook, since=since)
        return Response({"since": since, "dryRun": False, "count": count}, status=202)


class DeliveryResend(AccountAPIView):
    @extend_schema(
        summary="Resend a delivery",
        description="Sends it again with the same `webhook-id` and a fresh retry schedule.",
        request=None,
        parameters=[id_parameter("delivery_id")],
        responses={202: ACCEPTED, **ACTION_ERROR_RESPONSES},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        deliveries = Delivery.objects.filter(pk=delivery_id, account_id=self.account_id)
        delivery = self.first_or_404(deliveries.select_related("event", "webhook"), "delivery")
        if delivery.webhook is None or not delivery.webhook.is_active:
            raise ValidationError({"delivery": ["Its webhook is deleted or disabled; re-enable it first."]})
        _refuse_if_limited(request, "resend")
        delivery_resend(delivery=delivery)
        return Response({"detail": "Resending.", "eventId": delivery.event.msg_id}, status=202)
