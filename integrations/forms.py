"""The Integrations page's forms; the rules themselves live on the model (Webhook.full_clean)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .adapter import subscribable, subscribable_names
from .conf import conf
from .parameters import whole_number
from .validators import CUSTOM_HEADERS_MAX, MAX_RATE_LIMIT, URL_MAX_LENGTH, header_refusal


def event_type_choices() -> list[tuple[str, str]]:
    """The host's event types (read when a form is made: the adapter is a setting)."""
    return [(event_type.name, event_type.name) for event_type in subscribable()]


# How every field of the app's forms is laid out (label, error, input, help below it).
FIELD_TEMPLATE = "integrations/includes/form_field.html"


class FocusFirstError(forms.Form):
    """After a refused submit, the fields in error say so, and the first has the focus (no script needed).

    Every field is laid out one way (FIELD_TEMPLATE), its label without a colon.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.template_name = FIELD_TEMPLATE  # type: ignore[attr-defined]  # Django 5.0's; not in the stubs yet

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_errors()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self._mark_errors()

    def _mark_errors(self) -> None:
        focused = False
        for name, field in self.fields.items():
            field.widget.attrs.pop("autofocus", None)
            if name in (getattr(self, "_errors", None) or {}):
                field.widget.attrs["aria-invalid"] = "true"
                if not focused:
                    field.widget.attrs["autofocus"] = True
                    focused = True


class ASCIIIntegerField(forms.IntegerField):
    """Digits 0-9 only (integrations.parameters): int() also reads "٣" and "1_000", which no one means here."""

    def to_python(self, value: Any) -> int | None:
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        number = whole_number(text)
        if number is None:
            raise ValidationError("Enter a whole number with the digits 0-9.", code="invalid")
        return number


class EndpointForm(FocusFirstError):
    """Add or edit an endpoint. Custom header values are write-only: left empty, the saved ones stay."""

    url = forms.CharField(
        label="Endpoint URL",
        max_length=URL_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"placeholder": "https://example.com/webhooks", "inputmode": "url", "autocomplete": "url"}
        ),
    )
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="What it is for, e.g. “CRM sync”."
    )
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=event_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="All of them when every box is ticked, including event types added later.",
    )
    is_active = forms.BooleanField(
        label="Enabled", required=False, initial=True, help_text="While off, notifications wait and are sent on."
    )
    max_rate = ASCIIIntegerField(
        label="Maximum rate (deliveries per second)",
        required=False,
        min_value=1,
        max_value=MAX_RATE_LIMIT,
        help_text="Empty: as fast as your endpoint answers.",
    )
    custom_headers = forms.CharField(
        label="Custom headers",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Authorization: Bearer …", "autocomplete": "off"}),
        help_text=(
            f"One “Name: value” per line, at most {CUSTOM_HEADERS_MAX}, e.g. for a receiver that cannot verify "
            "signatures. Values are never shown again in full."
        ),
    )
    clear_custom_headers = forms.BooleanField(label="Remove the saved custom headers", required=False)

    def __init__(self, *args: Any, has_headers: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "url"
        ].help_text = f"Include the protocol. {conf.PRODUCT_NAME} sends notifications as HTTP POST requests to it."
        if has_headers:
            self.fields["custom_headers"].help_text += " Leave empty to keep the saved ones; lines here replace them."
        else:
            del self.fields["clear_custom_headers"]

    def clean_url(self) -> str:
        # Spaces around a pasted URL are trimmed; the model's validator says what else is wrong.
        url: str = self.cleaned_data["url"].strip()
        return url

    def clean_event_types(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["event_types"]
        if not chosen:
            raise ValidationError("Choose at least one event, or pause the endpoint instead.", code="none")
        # Every box ticked: every type, also those added later (stored as an empty list).
        return [] if set(chosen) == set(subscribable_names()) else chosen

    def clean_custom_headers(self) -> list[dict[str, str]] | None:
        text: str = self.cleaned_data["custom_headers"]
        if not text.strip():
            return None  # keep what is saved
        headers = []
        for number, line in enumerate(text.strip().splitlines(), start=1):
            name, colon, value = line.partition(":")
            if not colon:
                raise ValidationError(f"Line {number}: write “Name: value”.", code="format")
            refusal = header_refusal(name.strip(), value.strip())
            if refusal:
                raise ValidationError(f"Line {number}: {refusal}", code="header")
            headers.append({"name": name.strip(), "value": value.strip()})
        if len(headers) > CUSTOM_HEADERS_MAX:
            raise ValidationError(f"At most {CUSTOM_HEADERS_MAX} custom headers.", code="too_many")
        return headers

    def endpoint_fields(self, *, saved_headers: list[dict[str, str]]) -> dict[str, Any]:
        """What to save: the cleaned fields, custom headers kept unless replaced or removed."""
        data = self.cleaned_data
        headers = data["custom_headers"]
        if headers is None:
            headers = [] if data.get("clear_custom_headers") else saved_headers
        return {
            "url": data["url"],
            "description": data["description"],
            "event_types": data["event_types"],
            "is_active": data["is_active"],
            "max_rate": data["max_rate"],
            "custom_headers": headers,
        }


def overlap_choices() -> list[tuple[str, str]]:
    """How long the current secret keeps signing after a rotation, up to SECRET_OVERLAP_MAX_HOURS."""
    hours = sorted({0.0, 1.0, 24.0, 72.0, 168.0, conf.SECRET_OVERLAP_HOURS})
    words = {0.0: "Stop signing with it now", 1.0: "1 hour", 24.0: "24 hours", 72.0: "3 days", 168.0: "7 days"}
    return [
        (f"{value:g}", words.get(value, f"{value:g} hours"))
        for value in hours
        if value <= conf.SECRET_OVERLAP_MAX_HOURS
    ]


class RotateSecretForm(FocusFirstError):
    overlap_hours = forms.TypedChoiceField(
        label="The current secret keeps signing for", coerce=float, choices=overlap_choices
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["overlap_hours"].initial = f"{conf.SECRET_OVERLAP_HOURS:g}"


class RecoverForm(FocusFirstError):
    since = forms.DateTimeField(
        label="Resend everything that failed since (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def clean_since(self) -> Any:
        since = self.cleaned_data["since"]
        earliest = timezone.now() - timedelta(days=conf.RETENTION_DAYS)
        if since > timezone.now():
            raise ValidationError("Choose a time in the past.", code="future")
        # Older deliveries are pruned from the log: there is nothing before this to resend.
        return max(since, earliest)


class SendExampleForm(FocusFirstError):
    event_type = forms.ChoiceField(label="Event", choices=event_type_choices)
