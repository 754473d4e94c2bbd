"""The Webhook tab's form; the URL rules themselves live on the model (Webhook.full_clean)."""

from __future__ import annotations

from typing import Any

from django import forms

from .conf import conf


class WebhookURLForm(forms.Form):
    url = forms.CharField(
        label="Webhook URL",
        # Whitespace is an error to show, not something to strip silently.
        strip=False,
        widget=forms.TextInput(attrs={"placeholder": "https://example.com/webhooks", "size": 60}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "url"
        ].help_text = (
            f"Include the protocol. {conf.PRODUCT_NAME} sends notifications as HTTP POST requests to this URL."
        )


EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=50, help_text="What the key is for, e.g. “CRM sync”. Only you see it."
    )
    expires_in_days = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, required=False)
