"""The admin panel (flow pages, chat histories) and the participant's chat through a share link."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import admin_account, membership_for_request
from accounts.validators import validate_single_line
from integrations.parameters import whole_number
from integrations.webhooks import webhooks_receiving

from . import selectors, services
from .forms import AnswerForm, FeedbackForm
from .integrations import DELETED
from .models import Chat, Response
from .scoring import is_weighted, max_score

CHATS_PER_PAGE = 25
IDENTIFIER_MAX_LENGTH = 200


def _admin_account(request: HttpRequest) -> Any:
    account = admin_account(membership_for_request(request))
    if account is None:
        raise Http404("No account to manage.")
    return account


def _chat(request: HttpRequest, chat_id: int) -> Chat:
    chat = selectors.chat_for_account(account=_admin_account(request), chat_id=chat_id)
    if chat is None:
        raise Http404("No such chat.")
    return chat


@login_required
@require_http_methods(["GET"])
def flow_page(request: HttpRequest, flow_id: int) -> HttpResponse:
    flow = selectors.flow_for_account(account=_admin_account(request), flow_id=flow_id)
    if flow is None:
        raise Http404("No such flow.")
    status = request.GET.get("status", "")
    if status not in {"", *Chat.Status.values}:
        status = ""
    page = Paginator(selectors.chats_for_flow(flow=flow, status=status), CHATS_PER_PAGE).get_page(
        whole_number(request.GET.get("page"), minimum=1)
    )
    share_link = request.build_absolute_uri(reverse("chats:participant", args=[flow.share_token]))
    return render(
        request,
        "chats/flow.html",
        {"flow": flow, "page": page, "status": status, "statuses": Chat.Status.choices, "share_link": share_link},
    )


@login_required
@require_http_methods(["GET"])
def chat_history(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _chat(request, chat_id)
    conversation = [
        (prompt, response, FeedbackForm(initial={"text": _feedback_text(response)}, prefix=f"r{response.pk}"))
        if response
        else (prompt, None, None)
        for prompt, response in selectors.chat_conversation(chat=chat)
    ]
    prompts = [prompt for prompt, _, _ in conversation]
    return render(
        request,
        "chats/chat_history.html",
        {"chat": chat, "conversation": conversation, "max_score": max_score(prompts), "weighted": is_weighted(prompts)},
    )


def _feedback_text(response: Response) -> str:
    feedback = getattr(response, "feedback", None)
    return feedback.text if feedback is not None else ""


@login_required
@require_POST
def feedback_save_view(request: HttpRequest, chat_id: int, response_id: int) -> HttpResponse:
    chat = _chat(request, chat_id)
    response = Response.objects.filter(pk=response_id, chat=chat).first()
    if response is None:
        raise Http404("No such response.")
    form = FeedbackForm(request.POST, prefix=f"r{response.pk}")
    if form.is_valid():
        services.feedback_save(response=response, text=form.cleaned_data["text"])
        message, level = ("Feedback saved." if form.cleaned_data["text"] else "Feedback cleared."), messages.SUCCESS
    else:
        message, level = " ".join(form.errors["text"]), messages.ERROR
    if request.headers.get("HX-Request"):
        # Saved in place (htmx): the text typed in the other boxes stays, and so does the scroll position.
        return render(
            request,
            "chats/feedback_status.html",
            {"message": message, "ok": level == messages.SUCCESS},
            status=200 if level == messages.SUCCESS else 400,
        )
    messages.add_message(request, level, message)
    return redirect(f"{reverse('chats:chat', args=[chat.pk])}#response-{response.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def chat_delete_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _chat(request, chat_id)
    if request.method == "POST":
        flow_id = chat.flow_id
        services.chat_delete(chat=chat)
        messages.success(request, f"Chat “{chat.identifier}” deleted.")
        return redirect("chats:flow", flow_id=flow_id)
    receiving = webhooks_receiving(account=chat.flow.account_id, event_type=DELETED.name)
    return render(request, "chats/chat_delete.html", {"chat": chat, "receiving": receiving})


def _identifier_problem(identifier: str) -> str:
    """What is wrong with the share link's identifier, in words that finish "The identifier …"; "" when nothing."""
    if not identifier:
        return "is missing"
    if len(identifier) > IDENTIFIER_MAX_LENGTH:
        return f"is longer than {IDENTIFIER_MAX_LENGTH} characters"
    try:
        validate_single_line(identifier)
    except ValidationError as error:
        return f"cannot be used: {error.messages[0]}"
    return ""


@require_http_methods(["GET", "POST"])
def participant_chat(request: HttpRequest, token: str) -> HttpResponse:
    """The chat a participant completes through the flow's share link; no login."""
    flow = selectors.flow_by_share_token(token=token)
    if flow is None:
        raise Http404("This link does not lead to a chat.")
    identifier = request.GET.get("identifier", "").strip()
    problem = _identifier_problem(identifier)
    if problem:
        return render(request, "chats/participant.html", {"flow": flow, "problem": problem}, status=400)
    chat = services.chat_start(flow=flow, identifier=identifier)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if chat.status == Chat.Status.COMPLETED:
            return redirect(request.get_full_path())
        if form.is_valid():
            prompt = flow.prompts.filter(pk=form.cleaned_data["prompt"]).first()
            if prompt is not None:
                # Completed meanwhile (another tab)? Then the end screen follows.
                with contextlib.suppress(services.ChatClosed):
                    services.chat_answer(chat=chat, prompt=prompt, answer=form.cleaned_data["answer"])
            return redirect(request.get_full_path())  # answered (or already was): show the next prompt
    conversation = selectors.chat_conversation(chat=chat)
    # The first prompt without an answer is the one to ask (none once the chat is completed).
    next_prompt = next((prompt for prompt, response in conversation if response is None), None)
    if chat.status == Chat.Status.COMPLETED:
        next_prompt = None
    if next_prompt is not None and not form.is_bound:
        form = AnswerForm(initial={"prompt": next_prompt.pk})
    prompts = [prompt for prompt, _ in conversation]
    return render(
        request,
        "chats/participant.html",
        {
            "flow": flow,
            "chat": chat,
            "question_number": prompts.index(next_prompt) + 1 if next_prompt in prompts else None,
            "question_count": len(prompts),
            "max_score": max_score(prompts),
            "weighted": is_weighted(prompts),
            "conversation": [(prompt, response) for prompt, response in conversation if response is not None],
            "next_prompt": next_prompt,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
