"""The Webhook tab's form; the URL rules themselves live on the model (Webhook.full_clean)."""

from __future__ import annotations

from django import forms


class WebhookURLForm(forms.Form):
    url = forms.CharField(
        label="Webhook URL",
        # Whitespace is an error to show, not something to strip silently.
        strip=False,
        help_text="Include the protocol. DialogForm sends notifications as HTTP POST requests to this URL.",
        widget=forms.TextInput(attrs={"placeholder": "https://example.com/dialogform-webhook", "size": 60}),
    )
