"""What people do to chats: answer a prompt through a share link, give feedback, delete a chat.

Webhooks follow from the model signals these saves and deletes send; nothing here calls them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Chat, Feedback, Flow, Prompt, Response
from .scoring import chat_score


class ChatClosed(Exception):
    """The chat is completed; it takes no more answers."""


def chat_start(*, flow: Flow, identifier: str) -> Chat:
    """The participant's chat in this flow: resumed when the identifier has one, else a new one."""
    chat, _ = Chat.objects.get_or_create(flow=flow, identifier=identifier)
    return chat


def chat_next_prompt(*, chat: Chat) -> Prompt | None:
    """The first prompt of the flow the chat has not answered, or None when all are."""
    return chat.flow.prompts.exclude(responses__chat=chat).order_by("position", "id").first()


def chat_answer(*, chat: Chat, prompt: Prompt, answer: str) -> Chat:
    """Store the answer to the prompt the chat is at; after the last prompt the chat completes.

    Idempotent: answering a prompt already answered (a double submit, a resent form) changes
    nothing. Answering out of order changes nothing either.
    """
    with transaction.atomic():
        chat = Chat.objects.select_for_update().select_related("flow").get(pk=chat.pk)
        if chat.status == Chat.Status.COMPLETED:
            raise ChatClosed
        if chat_next_prompt(chat=chat) != prompt:
            return chat
        try:
            with transaction.atomic():
                Response.objects.create(chat=chat, prompt=prompt, answer=answer)
        except IntegrityError:
            return chat  # the same prompt answered twice at once: the first answer stands
        if chat_next_prompt(chat=chat) is None:
            chat_complete(chat=chat)
    return chat


def chat_complete(*, chat: Chat) -> None:
    """Score and complete the chat; the save sends `completed`."""
    prompts = list(chat.flow.prompts.all())
    answers = [(response.prompt, response.answer) for response in chat.responses.select_related("prompt")]
    chat.score = chat_score(answers, prompts)
    chat.status = Chat.Status.COMPLETED
    chat.completed_at = timezone.now()
    chat.save()


def feedback_save(*, response: Response, text: str) -> Feedback:
    """Create, edit or clear (empty text) the admin's feedback on a response; a change sends `feedbackUpdated`."""
    feedback = Feedback.objects.filter(response=response).first() or Feedback(response=response)
    if feedback.pk is None and not text:
        return feedback  # clearing feedback that was never given: nothing happened
    if feedback.pk is None or feedback.text != text:
        feedback.text = text
        feedback.save()
    return feedback


def chat_delete(*, chat: Chat) -> None:
    """Delete the chat with its answers and feedback; the delete sends `deleted`."""
    chat.delete()
