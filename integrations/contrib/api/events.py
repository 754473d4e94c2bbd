"""`GET events/` and `GET events/{msg_id}/`: what was sent, when, to which endpoints, and how each attempt went."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ...adapter import every_type, get_adapter
from ...models import Delivery, DeliveryAttempt, Event
from .base import AccountAPIView, WholeNumberField
from .errors import ERROR_RESPONSES

MSG_ID_PREFIX = "msg_"


class AttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ["attempted_at", "succeeded", "status_code", "duration_ms", "error", "response_body"]


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    endpoint = serializers.IntegerField(source="webhook_id", allow_null=True, help_text="The webhook endpoint's id.")
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "endpoint", "status", "attempt_count", "next_attempt_at", "last_attempt_at", "attempts"]


class EventSerializer(serializers.ModelSerializer[Event]):
    id = serializers.CharField(source="msg_id", help_text="The `webhook-id` header every attempt carried.")
    body = serializers.CharField(help_text="The exact body POSTed, byte for byte (UTF-8).")
    data = serializers.SerializerMethodField(help_text="The body's `data`, parsed.")  # type: ignore[assignment]

    class Meta:
        model = Event
        fields = ["id", "type", "created_at", "body", "data"]

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """With what the event is about, under the names of the host's `subject_fields`, after its time."""
        fields = super().get_fields()
        subject = get_adapter().subject_fields
        if not subject:
            return fields
        named: dict[str, serializers.Field[Any, Any, Any, Any]] = {
            subject[0]: serializers.IntegerField(source="subject_id", allow_null=True, read_only=True),
            subject[1]: serializers.CharField(source="subject_key", read_only=True),
        }
        every = {**fields, **named}
        names = list(fields)
        at = names.index("created_at") + 1
        return {name: every[name] for name in [*names[:at], *named, *names[at:]]}

    def get_data(self, event: Event) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(event.body).get("data", {})
        return data


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


class EventFilters(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=[], required=False)
    since = serializers.DateTimeField(required=False, help_text="Only events recorded at or after this time.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # The host's types and `test`, read when first used (not on import).
        fields["type"] = serializers.ChoiceField(
            choices=[event_type.name for event_type in every_type()], required=False
        )
        subject = get_adapter().subject_fields
        if subject:  # what the events are about, under the names the bodies give them
            fields[subject[0]] = WholeNumberField(required=False, min_value=0, max_value=2**63 - 1)
            fields[subject[1]] = serializers.CharField(required=False, max_length=1000, trim_whitespace=False)
        return fields


EVENT_EXAMPLE = OpenApiExample(
    "An event (a test notification)",
    response_only=True,
    value={
        "id": "msg_353fc48a95a8461ea017e4fd5a27bbe1",
        "type": "test",
        "created_at": "2026-11-28T13:21:56.868362Z",
        "body": '{"type":"test","data":{"message":"A test notification: your endpoint is set up."}}',
        "data": {"message": "A test notification: your endpoint is set up."},
        "deliveries": [
            {
                "id": 3,
                "endpoint": 1,
                "status": "succeeded",
                "attempt_count": 1,
                "next_attempt_at": None,
                "last_attempt_at": "2026-11-28T13:21:56.901000Z",
                "attempts": [
                    {
                        "attempted_at": "2026-11-28T13:21:56.901000Z",
                        "succeeded": True,
                        "status_code": 200,
                        "duration_ms": 18,
                        "error": "",
                        "response_body": "",
                    }
                ],
            }
        ],
    },
)


class EventList(AccountAPIView):
    serializer_class = EventSerializer

    def get_queryset(self) -> QuerySet[Event]:
        filters = EventFilters(data=self.request.query_params.dict())  # an empty value is an error, not "absent"
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        events = Event.objects.filter(account_id=self.account_id)
        if "type" in wanted:
            events = events.filter(type=wanted["type"])
        subject = get_adapter().subject_fields or ("", "")
        if subject[0] in wanted:
            events = events.filter(subject_id=wanted[subject[0]])
        if subject[1] in wanted:
            events = events.filter(subject_key=wanted[subject[1]])
        if "since" in wanted:
            events = events.filter(created_at__gte=wanted["since"])
        return events

    @extend_schema(
        summary="List events",
        description="The account's notifications, newest first, in cursor pages.",
        parameters=[EventFilters],
        responses={200: EventSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class EventDetail(AccountAPIView):
    serializer_class = EventDetailSerializer

    @extend_schema(
        summary="Get an event",
        description=(
            "One notification by the `webhook-id` a receiver got (`msg_…`): its type, the exact body sent, "
            "and each delivery with its attempts. For a deletion, this is what was deleted."
        ),
        parameters=[OpenApiParameter("msg_id", str, OpenApiParameter.PATH, description="The `webhook-id`.")],
        responses={200: EventDetailSerializer, **ERROR_RESPONSES},
        examples=[EVENT_EXAMPLE],
    )
    def get(self, request: Request, msg_id: str) -> Response:
        try:
            event_id = uuid.UUID(hex=msg_id.removeprefix(MSG_ID_PREFIX)) if msg_id.startswith(MSG_ID_PREFIX) else None
        except ValueError:
            event_id = None
        attempts = Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("attempted_at", "id"))
        deliveries = Prefetch("deliveries", queryset=Delivery.objects.order_by("id").prefetch_related(attempts))
        events = Event.objects.filter(pk=event_id, account_id=self.account_id) if event_id else Event.objects.none()
        event = self.first_or_404(events.prefetch_related(deliveries), "event")
        return Response(self.get_serializer(event).data)
