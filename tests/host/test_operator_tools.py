"""Operators' tools reveal no secret and hand no power beyond the operator's permissions.

Django admin once filtered webhooks by `?secret__startswith=…` for any staff user who could view
them: the result count disclosed another account's whole signing secret in a few hundred
requests. The queue dashboard let any staff user empty the webhook queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.admin import SECRET_FIELDS, lookup_reaches_secret
from integrations.models import Webhook
from integrations.queue import wakes_sent, webhooks_queue
from integrations.webhooks import webhook_rotate_secret

pytestmark = pytest.mark.django_db


def secret_paths(model: type[models.Model], depth: int = 3, prefix: str = "") -> Iterator[str]:
    """Every lookup path from `model` to a signing secret, through relations in either direction."""
    if model is Webhook:
        for name in SECRET_FIELDS:
            yield prefix + name
    if depth == 0:
        return
    for field in model._meta.get_fields():
        if field.is_relation and field.related_model is not None:
            yield from secret_paths(field.related_model, depth - 1, f"{prefix}{field.name}__")  # type: ignore[arg-type]


@pytest.fixture
def viewer(django_user_model: Any) -> Client:
    """A staff user who may view everything in Django admin, and change nothing."""
    user = django_user_model.objects.create_user(username="viewer", password="x" * 20, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def targets(account: Account) -> list[Webhook]:
    """Two accounts' webhooks, one rotated, with deliveries: something for every admin list to show."""
    other = Account.objects.create(name="Other")
    webhooks = [
        Webhook.objects.create(account=owner, url=f"http://127.0.0.1:9/{owner.pk}") for owner in (account, other)
    ]
    webhook_rotate_secret(webhook=webhooks[1])
    for owner in (account, other):
        Chat.objects.create(flow=Flow.objects.create(account=owner, name="F"), identifier="c", status="completed")
    return webhooks


def count(client: Client, url: str, query: dict[str, str]) -> tuple[int, int | None]:
    """What a prober learns: the status, and the number of rows listed."""
    response = client.get(url, query)
    return response.status_code, (response.context["cl"].result_count if response.status_code == 200 else None)


def changelists() -> Iterator[tuple[type[models.Model], str]]:
    for model in admin.site._registry:
        yield model, reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_no_admin_list_narrows_on_a_secret(viewer: Client, targets: list[Webhook]) -> None:
    secret = targets[1].secret
    retired = targets[1].retired_secrets[0]["secret"]
    probes = 0
    for model, url in changelists():
        for path in secret_paths(model):
            for lookup in ("startswith", "regex", "gte"):
                for value in (secret, retired):
                    hit = count(viewer, url, {f"{path}__{lookup}": value[:12]})
                    miss = count(viewer, url, {f"{path}__{lookup}": "whsec_ZZZZZZ"})
                    assert hit == miss, (url, path, lookup)
                    assert hit[0] == 400, (url, path, lookup)  # refused outright, as Django refuses bad lookups
                    probes += 1
        # Search and ordering cannot reach a secret either, whatever is typed.
        assert count(viewer, url, {"q": secret[:12]}) == count(viewer, url, {"q": "whsec_ZZZZZZ"}), url
    assert probes > 50  # the walk found the paths (Webhook's own, Delivery's, Account's …)


def test_no_admin_option_names_a_secret() -> None:
    for model, model_admin in admin.site._registry.items():
        options = [
            *model_admin.list_display,
            *model_admin.search_fields,
            *(name for name in model_admin.list_filter if isinstance(name, str)),
            *(model_admin.ordering or ()),
            *(model_admin.sortable_by or ()),
            *([model_admin.date_hierarchy] if model_admin.date_hierarchy else []),
        ]
        for option in options:
            if isinstance(option, str):
                assert not lookup_reaches_secret(model, option.lstrip("-^=@")), (model, option)
        if any(secret_paths(model)):
            # The only bulk action is deleting: no export that could carry a secret out.
            assert set(model_admin.get_actions(_request_as_superuser())) <= {"delete_selected"}, model


def _request_as_superuser() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_staff=True, is_superuser=True, is_active=True)
    return request


def test_no_admin_page_shows_a_secret(client: Client, targets: list[Webhook], django_user_model: Any) -> None:
    superuser = django_user_model.objects.create_superuser(username="root", password="x" * 20)
    client.force_login(superuser)
    Webhook.objects.update(custom_headers=[{"name": "Authorization", "value": "Bearer receivers-credential"}])
    secrets = [w.secret.removeprefix("whsec_") for w in Webhook.objects.all()]
    secrets += [entry["secret"].removeprefix("whsec_") for w in Webhook.objects.all() for entry in w.retired_secrets]
    secrets.append("receivers-credential")  # a custom header's value is a secret of the receiver's
    for model, url in changelists():
        pages = [url] + [
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
            for pk in model._default_manager.values_list("pk", flat=True)[:3]
        ]
        for page in pages:
            html = client.get(page).content.decode()
            for secret in secrets:
                assert secret not in html, page


def test_lookup_paths_to_secrets_are_recognised() -> None:
    assert lookup_reaches_secret(Webhook, "secret__startswith")
    assert lookup_reaches_secret(Webhook, "retired_secrets__0__secret__startswith")
    assert lookup_reaches_secret(Webhook, "custom_headers__0__value__startswith")
    assert lookup_reaches_secret(Account, "webhooks__secret")
    assert not lookup_reaches_secret(Webhook, "url__startswith")
    assert not lookup_reaches_secret(Account, "name__secret")


# The queue dashboard: all its pages, its JSON and its actions.
DASHBOARD = "/admin/django-rq/"


def dashboard_urls() -> list[str]:
    return [
        DASHBOARD,
        f"{DASHBOARD}queues/0/",
        f"{DASHBOARD}queues/0/failed/",
        f"{DASHBOARD}workers/0/",
        f"{DASHBOARD}stats.json",
    ]


@pytest.mark.django_db(transaction=True)  # the job is queued when the chat's save commits
def test_staff_without_the_permission_cannot_use_the_queue_dashboard(
    django_user_model: Any, account: Account, flow: Flow
) -> None:
    Webhook.objects.create(account=account, url="http://127.0.0.1:9/hook")
    Chat.objects.create(flow=flow, identifier="queued", status=Chat.Status.COMPLETED)
    assert wakes_sent(10)
    waiting = len(webhooks_queue())
    assert waiting == 1
    staff = django_user_model.objects.create_user(username="staff", password="x" * 20, is_staff=True)
    staff.user_permissions.set(Permission.objects.all().exclude(codename="admin", content_type__app_label="django_rq"))
    client = Client()
    client.force_login(staff)
    for url in dashboard_urls():
        assert client.get(url).status_code == 403, url
    assert client.post(f"{DASHBOARD}queues/0/empty/").status_code == 403
    assert len(webhooks_queue()) == waiting  # nothing was emptied
    # django-rq's own entry in Django admin, which lets any staff user in, is not there.
    assert client.get("/admin/django_rq/dashboard/").status_code == 404


@pytest.mark.parametrize("who", ["superuser", "staff with the permission"])
def test_superusers_and_holders_of_the_permission_use_the_dashboard(django_user_model: Any, who: str) -> None:
    if who == "superuser":
        user = django_user_model.objects.create_superuser(username="root", password="x" * 20)
    else:
        user = django_user_model.objects.create_user(username="ops", password="x" * 20, is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="admin", content_type__app_label="django_rq"))
    client = Client()
    client.force_login(user)
    for url in dashboard_urls():
        assert client.get(url).status_code == 200, url


def test_other_admin_filters_still_work(viewer: Client, targets: list[Webhook]) -> None:
    Webhook.objects.filter(pk=targets[0].pk).update(is_active=False)
    url = reverse("admin:integrations_webhook_changelist")
    assert count(viewer, url, {"is_active__exact": "1"}) == (200, 1)
    assert count(viewer, url, {"url__startswith": "http://127.0.0.1:9/"}) == (200, 2)


def test_the_admin_counts_the_log_only_up_to_its_cap(
    client: Client, django_user_model: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.admin import CappedCountPaginator, DeliveryAdmin
    from integrations.models import Delivery, Event

    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 3)
    monkeypatch.setattr(DeliveryAdmin, "list_per_page", 2)
    event = Event.objects.create(account=account, type="test", body="{}")
    for _ in range(5):
        Delivery.objects.create(event=event, status="succeeded")
    client.force_login(django_user_model.objects.create_superuser(username="root", password="x" * 20))
    page = client.get(reverse("admin:integrations_delivery_changelist"))
    assert page.status_code == 200
    assert page.context["cl"].result_count == 3  # not 5: the count stops at the cap
    newest = list(Delivery.objects.order_by("-id").values_list("id", flat=True))
    assert [row.pk for row in page.context["cl"].result_list] == newest[:2]
    second = client.get(reverse("admin:integrations_delivery_changelist"), {"p": "2"})
    assert [row.pk for row in second.context["cl"].result_list] == newest[2:3]
