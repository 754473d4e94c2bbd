"""Creates the demo account, its admin, a demo flow and a webhook pointing at webhooks_listen."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse

from accounts.models import Account, Membership
from chats.models import Chat, Flow, Prompt
from integrations.contrib.api.keys import api_key_create, api_key_revoke, api_keys_for_account
from integrations.webhooks import webhook_create, webhooks_for_account

DEMO_KEY_NAME = "Demo key (make run)"

# (name, text, expected answer, points): a scored quiz and an unscored survey.
DEMO_FLOWS = {
    "Capitals quiz": [
        ("france", "What is the capital of France?", "Paris", 1),
        ("japan", "And the capital of Japan?", "Tokyo", 1),
        ("australia", "Last one: the capital of Australia?", "Canberra", 2),
    ],
    "Welcome survey": [
        ("name", "Hi! What should we call you?", "", 0),
        ("favourite_colour", "What is your favourite colour?", "", 0),
        ("feedback", "Anything else you would like to tell us?", "", 0),
    ],
}


class Command(BaseCommand):
    help = "Create (or refresh) demo data and print the admin login and an API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--webhook-url", default="http://127.0.0.1:9000/")
        parser.add_argument("--password", help="Admin password (default: a new random one each run).")
        parser.add_argument("--site", default="http://127.0.0.1:8000", help="Where the web server answers.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        account, _ = Account.objects.get_or_create(name="Demo Company")
        user, _ = get_user_model().objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        password = options["password"] or secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        Membership.objects.update_or_create(account=account, user=user, defaults={"role": Membership.Role.ADMIN})

        share_links = []
        for flow_name, prompts in DEMO_FLOWS.items():
            flow, created = Flow.objects.get_or_create(account=account, name=flow_name)
            if created:
                for position, (name, text, expected, points) in enumerate(prompts):
                    Prompt.objects.create(
                        flow=flow, name=name, text=text, position=position, expected_answer=expected, points=points
                    )
            link = options["site"] + reverse("chats:participant", args=[flow.share_token])
            share_links.append(f"{flow_name}: {link}")
        Chat.objects.get_or_create(flow=flow, identifier="demo-participant")

        if not webhooks_for_account(account=account).exists():
            webhook_create(account=account, url=options["webhook_url"], description="webhooks_listen on this machine")
        # A fresh demo key each run (the last run's is revoked): keys are shown once, only here.
        for old in api_keys_for_account(account_id=account.pk).filter(name=DEMO_KEY_NAME):
            api_key_revoke(account_id=account.pk, prefix=old.prefix)
        _, key = api_key_create(account_id=account.pk, name=DEMO_KEY_NAME, created_by=user)

        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo data ready.\n"
                f"  Open {options['site']}/ and log in as\n"
                f"    username: {user.get_username()}\n"
                f"    password: {password}\n"
                f"  Webhook of '{account.name}': {options['webhook_url']} (printed by webhooks_listen)\n"
                "  Complete a chat through a share link (any identifier), then watch `listen` print 'completed':\n"
                + "\n".join(f"    {link}?identifier=alice" for link in share_links)
                + "\n  Then ask the API what happened (a new key each run; the API is described at "
                + f"{options['site']}/api/docs/):\n"
                + f'    curl -H "Authorization: Api-Key {key}" {options["site"]}/api/v1/events/\n'
                + f'    curl -H "Authorization: Api-Key {key}" {options["site"]}/api/v1/flows/\n'
            )
        )
