"""Every page of DialogForm that shows a signing secret forbids caching (the walk covers every URL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.models import Webhook

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_page_that_shows_a_secret_forbids_caching(client: Client, admin_user: Any, account: Account) -> None:
    from integrations.contrib.api.keys import api_key_create
    from integrations.webhooks import webhook_rotate_secret
    from tests.host.test_isolation import every_url

    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    flow = Flow.objects.create(account=account, name="Mine")
    chat = Chat.objects.create(flow=flow, identifier="own", status=Chat.Status.COMPLETED)
    prompt = flow.prompts.create(name="q", text="?", position=0)
    own = {
        "delivery": webhook.deliveries.get(),
        "flow": flow,
        "chat": chat,
        "response": chat.responses.create(prompt=prompt, answer="a"),
        "api_key": api_key_create(account_id=account.pk, name="mine")[0],
        "retired": webhook_rotate_secret(webhook=webhook).replaced,  # its page names a previous secret
    }
    client.force_login(admin_user)
    showing = []
    for name, url in every_url(own):
        response = client.get(url, follow=True)
        if webhook.secret in response.content.decode():
            showing.append(name)
            # Browsers and proxies must keep no copy: a shared computer's back button, a cache on the way.
            assert "no-store" in response.get("Cache-Control", ""), name
    assert "integrations:endpoint" in showing  # the walk did reach the page with the secret
