"""The details API's chat endpoints: what a `completed`, `deleted` or `feedbackUpdated` notification is about.

Built on the integrations app's API base (keys, rate, JSON, cursor pages, ETags); every query is
scoped to the key's account, so another account's flow or chat is a 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response as APIResponse

from integrations.contrib.api.base import AccountAPIView, NewestFirstPagination
from integrations.contrib.api.errors import ERROR_RESPONSES
from integrations.contrib.api.ids import id_parameter

from .models import Chat, Feedback, Flow, Prompt, Response


class PromptSerializer(serializers.ModelSerializer[Prompt]):
    class Meta:
        model = Prompt
        fields = ["name", "text", "position"]


class FlowSerializer(serializers.ModelSerializer[Flow]):
    shareLink = serializers.SerializerMethodField(help_text="Where participants answer this flow.")  # noqa: N815
    prompts = PromptSerializer(many=True, read_only=True)

    class Meta:
        model = Flow
        fields = ["id", "name", "created_at", "shareLink", "prompts"]

    def get_shareLink(self, flow: Flow) -> str:  # noqa: N802
        return self.context["request"].build_absolute_uri(reverse("chats:participant", args=[flow.share_token]))


class FeedbackSerializer(serializers.ModelSerializer[Feedback]):
    class Meta:
        model = Feedback
        fields = ["text", "updated_at"]


class ResponseSerializer(serializers.ModelSerializer[Response]):
    promptName = serializers.CharField(source="prompt.name")  # noqa: N815 -- as in the notifications
    promptText = serializers.CharField(source="prompt.text")  # noqa: N815
    feedback = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = ["promptName", "promptText", "answer", "created_at", "feedback"]

    def get_feedback(self, response: Response) -> dict[str, Any] | None:
        feedback = getattr(response, "feedback", None)
        return None if feedback is None else dict(FeedbackSerializer(feedback).data)


class ChatSerializer(serializers.ModelSerializer[Chat]):
    flowId = serializers.IntegerField(source="flow_id")  # noqa: N815

    class Meta:
        model = Chat
        fields = ["flowId", "identifier", "status", "score", "started_at", "completed_at"]


class ChatDetailSerializer(ChatSerializer):
    responses = ResponseSerializer(many=True, read_only=True)

    class Meta(ChatSerializer.Meta):
        fields = [*ChatSerializer.Meta.fields, "responses"]


class ChatFilters(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=Chat.Status.choices, required=False)
    completedSince = serializers.DateTimeField(  # noqa: N815
        required=False, help_text="Only chats completed at or after this time."
    )


class ChatPages(NewestFirstPagination):
    ordering = ("-started_at", "-pk")


FLOW_ID = id_parameter("flow_id", "The notification's `flowId`.")
IDENTIFIER = OpenApiParameter("identifier", str, OpenApiParameter.PATH, description="The notification's `identifier`.")


CHAT_EXAMPLE = OpenApiExample(
    "A completed chat",
    response_only=True,
    value={
        "flowId": 2,
        "identifier": "alice",
        "status": "completed",
        "score": 1,
        "started_at": "2026-11-28T07:12:17.947589Z",
        "completed_at": "2026-11-28T13:21:38.607414Z",
        "responses": [
            {
                "promptName": "capital",
                "promptText": "What is the capital of France?",
                "answer": "Paris",
                "created_at": "2026-11-28T13:20:02.100000Z",
                "feedback": {"text": "Right!", "updated_at": "2026-11-28T13:25:45.240211Z"},
            }
        ],
    },
)
RESPONSE_EXAMPLE = OpenApiExample(
    "A response with feedback",
    response_only=True,
    value=CHAT_EXAMPLE.value["responses"][0],
)
FLOW_EXAMPLE = OpenApiExample(
    "A flow",
    response_only=True,
    value={
        "id": 2,
        "name": "Capitals quiz",
        "created_at": "2026-11-28T07:12:17.947589Z",
        "shareLink": "https://forms.example.com/c/tTsJcYa8UWBOb9gHDyqzsQ/",
        "prompts": [{"name": "capital", "text": "What is the capital of France?", "position": 0}],
    },
)


class FlowAPIView(AccountAPIView):
    def flow(self, flow_id: int) -> Flow:
        return self.first_or_404(Flow.objects.filter(pk=flow_id, account_id=self.account_id), "flow")

    def chat(self, flow_id: int, identifier: str) -> Chat:
        responses = Response.objects.select_related("prompt", "feedback").order_by("prompt__position", "prompt_id")
        chats = Chat.objects.filter(flow_id=flow_id, flow__account_id=self.account_id, identifier=identifier)
        return self.first_or_404(chats.prefetch_related(Prefetch("responses", queryset=responses)), "chat")


class FlowList(FlowAPIView):
    serializer_class = FlowSerializer

    def get_queryset(self) -> QuerySet[Flow]:
        prompts = Prefetch("prompts", queryset=Prompt.objects.order_by("position", "id"))
        return Flow.objects.filter(account_id=self.account_id).prefetch_related(prompts)

    @extend_schema(summary="List flows", responses={200: FlowSerializer(many=True), **ERROR_RESPONSES})
    def get(self, request: Request) -> APIResponse:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class FlowDetail(FlowAPIView):
    serializer_class = FlowSerializer

    @extend_schema(
        summary="Get a flow",
        parameters=[FLOW_ID],
        responses={200: FlowSerializer, **ERROR_RESPONSES},
        examples=[FLOW_EXAMPLE],
    )
    def get(self, request: Request, flow_id: int) -> APIResponse:
        return APIResponse(self.get_serializer(self.flow(flow_id)).data)


class ChatList(FlowAPIView):
    serializer_class = ChatSerializer
    pagination_class = ChatPages

    @extend_schema(
        summary="List a flow's chats",
        parameters=[FLOW_ID, ChatFilters],
        responses={200: ChatSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request, flow_id: int) -> APIResponse:
        flow = self.flow(flow_id)
        filters = ChatFilters(data=request.query_params.dict())  # an empty value is an error, not "absent"
        filters.is_valid(raise_exception=True)
        chats = Chat.objects.filter(flow=flow)
        if "status" in filters.validated_data:
            chats = chats.filter(status=filters.validated_data["status"])
        if "completedSince" in filters.validated_data:
            chats = chats.filter(completed_at__gte=filters.validated_data["completedSince"])
        page = self.paginate_queryset(chats)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ChatDetail(FlowAPIView):
    serializer_class = ChatDetailSerializer

    @extend_schema(
        summary="Get a chat",
        description="The `completed` follow-up: status, score, times, and the responses in prompt order.",
        parameters=[FLOW_ID, IDENTIFIER],
        responses={200: ChatDetailSerializer, **ERROR_RESPONSES},
        examples=[CHAT_EXAMPLE],
    )
    def get(self, request: Request, flow_id: int, identifier: str) -> APIResponse:
        return APIResponse(self.get_serializer(self.chat(flow_id, identifier)).data)


class ResponseDetail(FlowAPIView):
    serializer_class = ResponseSerializer

    @extend_schema(
        summary="Get a response",
        description="The `feedbackUpdated` follow-up: the prompt, the answer and its feedback.",
        parameters=[
            FLOW_ID,
            IDENTIFIER,
            OpenApiParameter("prompt_name", str, OpenApiParameter.PATH, description="The `promptName`."),
        ],
        responses={200: ResponseSerializer, **ERROR_RESPONSES},
        examples=[RESPONSE_EXAMPLE],
    )
    def get(self, request: Request, flow_id: int, identifier: str, prompt_name: str) -> APIResponse:
        chat = self.chat(flow_id, identifier)
        response = next((item for item in chat.responses.all() if item.prompt.name == prompt_name), None)
        if response is None:
            raise Http404("No such response.")
        return APIResponse(self.get_serializer(response).data)
