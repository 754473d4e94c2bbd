"""The API keys tab's form."""

from django import forms

from ...forms import FocusFirstError

EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class APIKeyForm(FocusFirstError):
    name = forms.CharField(
        label="Name", max_length=50, help_text="What the key is for, e.g. “CRM sync”. Only you see it."
    )
    expires_in_days = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, required=False)
