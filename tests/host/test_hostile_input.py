"""Nothing a user types can crash a page or reach a receiver: every form and query parameter is tried.

The walk opens the product's pages as the people who use them, finds every form on them and every
query parameter they read, and sends each field NUL and other control characters, and numbers in
other scripts' digits, too long or signed. Each answer is a clear 400 or a form error (a number no
one means is ignored or refused), never a 500, on SQLite and on PostgreSQL; afterwards no text of
ours in the database holds a control character.
"""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from accounts.validators import validate_multiline, validate_single_line
from chats.models import Chat, Feedback, Flow, Prompt, Response
from integrations.models import Webhook

pytestmark = pytest.mark.django_db

BAD_VALUES = ["a\x00b", "a\x01b", "\x1b[31mred", "tab\x0bvertical", "del\x7f", "next\x85line"]
# Query parameters the product's views read.
QUERY_PARAMETERS = ["status", "page", "identifier", "q", "o", "p", "next", "test", "endpoint", "since", "cursor"]
# Numbers as no one means them: other scripts' digits ("²".isdigit() is True, int("²") raises), too long, signed.
ODD_NUMBERS = ["²", "٣", "߁", "9" * 40, "-1", "1_000", " 1", "0x1"]


class Forms(HTMLParser):
    """The forms of a page: (method, action, [(field name, default value)])."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("method", "get").lower(), attributes.get("action", ""), []))
        elif self.forms and tag in {"input", "button", "select"} and attributes.get("name"):
            self.forms[-1][2].append((attributes["name"], attributes.get("value", "")))
        elif self.forms and tag == "textarea" and attributes.get("name"):
            self._textarea = attributes["name"]
            self.forms[-1][2].append((self._textarea, ""))


def forms_of(html: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def product(account: Account, admin_user: Any, flow: Flow, webhook: Webhook) -> dict[str, Any]:
    """An account with a flow, a completed chat with an answer and feedback, a webhook with a delivery."""
    chat = Chat.objects.create(flow=flow, identifier="walker")
    prompt = Prompt.objects.get(flow=flow, name="capital")
    response = Response.objects.create(chat=chat, prompt=prompt, answer="Paris")
    Feedback.objects.create(response=response, text="Right")
    chat.status = Chat.Status.COMPLETED
    chat.save()
    delivery = webhook.deliveries.first()
    return {"flow": flow, "chat": chat, "delivery": delivery}


def pages(product: dict[str, Any]) -> list[tuple[str, bool]]:
    """(URL, signed in) of every page with a form or a query parameter."""
    flow, chat, delivery = product["flow"], product["chat"], product["delivery"]
    return [
        (reverse("login"), False),
        (reverse("chats:participant", args=[flow.share_token]) + "?identifier=walker-2", False),
        (reverse("home"), True),
        (reverse("chats:flow", args=[flow.pk]), True),
        (reverse("chats:chat", args=[chat.pk]), True),
        (reverse("chats:chat_delete", args=[chat.pk]), True),
        (reverse("integrations:webhook"), True),
        (reverse("integrations:endpoint", args=[delivery.webhook_id]), True),
        (reverse("integrations:endpoint_rotate_secret", args=[delivery.webhook_id]), True),
        (reverse("integrations:endpoint_recover", args=[delivery.webhook_id]), True),
        (reverse("integrations:deliveries"), True),
        (reverse("integrations:events"), True),
        (reverse("integrations:delivery", args=[delivery.pk]), True),
    ]


def text_of_ours_with_controls() -> list[str]:
    """Every stored text of the product's own models that holds a control character (tab and line breaks aside)."""
    found = []
    for app in ("accounts", "chats", "integrations"):
        for model in apps.get_app_config(app).get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, models.CharField | models.TextField)]
            for row in model._default_manager.values_list("pk", *fields):
                for value in row[1:]:
                    if any(c not in "\t\n\r" and unicodedata.category(c) == "Cc" for c in value or ""):
                        found.append(f"{model.__name__} {row[0]}: {value!r}")
    return found


def test_every_form_field_and_query_parameter_refuses_control_characters(
    client: Client, admin_user: Any, product: dict[str, Any]
) -> None:
    tried = 0
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for url, signed_in in pages(product):
        if signed_in:
            client.force_login(admin_user)
        else:
            client.logout()
        page = client.get(url)
        assert page.status_code == 200, url
        separator = "&" if "?" in url else "?"
        for parameter in QUERY_PARAMETERS:
            for bad in BAD_VALUES:
                answer = client.get(url + separator + f"{parameter}={bad}")
                assert answer.status_code < 500, (url, parameter, bad)
                tried += 1
        for method, action, fields in forms_of(page.content.decode()):
            target = action or url
            form_id = (method, target, tuple(name for name, _ in fields))
            if form_id in seen:
                continue  # the same form on another page (the avatar menu's, say): tried once is enough
            seen.add(form_id)
            for name, _ in fields:
                for bad in [*BAD_VALUES, *ODD_NUMBERS[:3]]:  # every field, numbers in other digits too
                    data = dict(fields)
                    data[name] = bad
                    answer = client.post(target, data) if method == "post" else client.get(target, data)
                    assert answer.status_code < 500, (target, name, bad)
                    if "\x00" in bad:
                        assert answer.status_code == 400, (target, name)
                        assert "NUL character" in answer.content.decode()
                    tried += 1
                    if signed_in:
                        client.force_login(admin_user)  # a logout form must not end the walk
    assert tried > 300  # the walk found the forms
    assert text_of_ours_with_controls() == []


def test_every_query_parameter_takes_numbers_in_any_digits_without_an_error(
    client: Client, admin_user: Any, product: dict[str, Any]
) -> None:
    tried = 0
    for url, signed_in in pages(product):
        if signed_in:
            client.force_login(admin_user)
        else:
            client.logout()
        separator = "&" if "?" in url else "?"
        for parameter in QUERY_PARAMETERS:
            for odd in ODD_NUMBERS:
                answer = client.get(url + separator + urlencode({parameter: odd}))
                assert answer.status_code < 500, (url, parameter, odd)
                tried += 1
    assert tried > 1000


@pytest.mark.parametrize("odd", ODD_NUMBERS)
def test_the_endpoint_page_ignores_a_test_result_that_is_not_a_number(
    client: Client, admin_user: Any, product: dict[str, Any], odd: str
) -> None:
    client.force_login(admin_user)
    url = reverse("integrations:endpoint", args=[product["delivery"].webhook_id])
    answer = client.get(url, {"test": odd})
    assert answer.status_code == 200
    assert 'id="test-result"' not in answer.content.decode()


def test_a_nul_in_the_identifier_is_a_clear_400_not_a_500(client: Client, flow: Flow) -> None:
    # PostgreSQL raised DataError on this, for an anonymous visitor.
    answer = client.get(reverse("chats:participant", args=[flow.share_token]), {"identifier": "a\x00b"})
    assert answer.status_code == 400
    assert "NUL character (in the query, field “identifier”)" in answer.content.decode()
    assert not Chat.objects.exists()


@pytest.mark.parametrize("identifier", ["a\x01b", "\x1b[2J", "x\x7f", "new\nline", "tab\tbed", "n\x85el"])
def test_an_identifier_with_a_control_character_is_refused_on_the_page(
    client: Client, flow: Flow, identifier: str
) -> None:
    answer = client.get(reverse("chats:participant", args=[flow.share_token]), {"identifier": identifier})
    assert answer.status_code == 400
    assert "Remove the invisible control character U+" in answer.content.decode()
    assert not Chat.objects.exists()


def test_answers_and_feedback_keep_line_breaks(client: Client, admin_user: Any, product: dict[str, Any]) -> None:
    chat = product["chat"]
    response = chat.responses.get()
    client.force_login(admin_user)
    url = reverse("chats:feedback", args=[chat.pk, response.pk])
    client.post(url, {f"r{response.pk}-text": "Line one\r\n\tLine two"})
    assert Feedback.objects.get(response=response).text == "Line one\r\n\tLine two"
    client.post(url, {f"r{response.pk}-text": "bell\x07"})
    assert Feedback.objects.get(response=response).text == "Line one\r\n\tLine two"


@pytest.mark.parametrize(
    "url",
    ["/c/a%00b/", "/admin/chats/chat/?q=a%00b", "/login/?next=/a%00b", "/integrations/deliveries/?status=%00"],
)
def test_a_nul_anywhere_in_the_address_is_a_400(client: Client, admin_user: Any, url: str) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(url).status_code == 400


def test_a_nul_in_a_cookie_is_a_400(client: Client) -> None:
    # A session key with a NUL would reach the session table's query.
    client.cookies["sessionid"] = "abcdefgh\x00ijk"
    assert client.get(reverse("login")).status_code == 400


def test_every_admin_changelist_survives_control_characters(client: Client, django_user_model: Any) -> None:
    from django.contrib import admin

    superuser = django_user_model.objects.create_superuser(username="root", password="x" * 20)
    client.force_login(superuser)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for parameter in ("q", "o", "p", "all", "_to_field"):
            for bad in BAD_VALUES:
                assert client.get(url, {parameter: bad}).status_code < 500, (url, parameter, bad)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Account, {"name": "Acme\x1b"}),
        (Flow, {"name": "Quiz\x00"}),
        (Prompt, {"name": "q\x01", "text": "What?", "position": 0}),
        (Prompt, {"name": "q", "text": "What\x02?", "position": 0}),
        (Chat, {"identifier": "p\x03", "status": "in_progress"}),
    ],
)
def test_django_admin_forms_refuse_control_characters(
    model: type[models.Model], values: dict[str, Any], account: Account, flow: Flow
) -> None:
    related: dict[str, Any] = {"account": account} if model is Flow else {"flow": flow} if model != Account else {}
    instance = model(**related, **values)
    with pytest.raises(ValidationError, match="control character"):
        instance.full_clean()


def test_form_data_that_cannot_be_read_is_a_400(client: Client) -> None:
    answer = client.post(reverse("login"), data=b"--x\r\n", content_type="multipart/form-data; boundary=")
    assert answer.status_code == 400
    assert "The form data could not be read" in answer.content.decode()


any_text = st.text(st.characters(codec="utf-8", exclude_categories=()), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(identifier=any_text, answer=any_text)
def test_whatever_a_participant_types_the_page_answers_without_an_error(
    client: Client, flow: Flow, identifier: str, answer: str
) -> None:
    url = reverse("chats:participant", args=[flow.share_token])
    page = client.get(url, {"identifier": identifier})
    assert page.status_code in {200, 400}
    if page.status_code == 200:
        prompt = flow.prompts.order_by("position").first()
        assert prompt is not None
        posted = client.post(f"{url}?{urlencode({'identifier': identifier})}", {"prompt": prompt.pk, "answer": answer})
        assert posted.status_code in {302, 400}
    assert text_of_ours_with_controls() == []


@settings(max_examples=300, deadline=None)
@given(value=st.text(st.characters(codec=None, exclude_categories=()), max_size=50), multiline=st.booleans())
def test_the_text_check_refuses_exactly_the_control_characters(value: str, multiline: bool) -> None:
    allowed = "\t\n\r" if multiline else ""
    bad = [c for c in value if c not in allowed and unicodedata.category(c) in {"Cc", "Cs"}]
    check = validate_multiline if multiline else validate_single_line
    if bad:
        with pytest.raises(ValidationError, match=f"U\\+{ord(bad[0]):04X}"):
            check(value)
    else:
        check(value)
