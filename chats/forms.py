"""Forms of the chat pages: a participant's answer, an admin's feedback."""

from __future__ import annotations

from django import forms

from accounts.validators import validate_multiline
from integrations.forms import ASCIIIntegerField

from .models import ANSWER_MAX_LENGTH

FEEDBACK_MAX_LENGTH = 5000


class AnswerForm(forms.Form):
    prompt = ASCIIIntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(
        max_length=ANSWER_MAX_LENGTH,
        validators=[validate_multiline],
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Type your answer", "autofocus": True}),
        error_messages={"required": "Type an answer before sending."},
    )


class FeedbackForm(forms.Form):
    text = forms.CharField(
        label="Feedback",
        max_length=FEEDBACK_MAX_LENGTH,
        validators=[validate_multiline],
        required=False,  # empty clears the feedback
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Feedback on this answer (leave empty to clear)"}),
    )
